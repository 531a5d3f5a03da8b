//! The Adapty secret key: only ever an `Authorization` value, marked
//! sensitive so that HTTP libraries never log it, with a `Debug` that shows
//! nothing of it, and errors that say what is wrong, never what it is.

use axum::http::HeaderValue;
use hmac::{Hmac, Mac};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub struct ApiKey(HeaderValue);

/// Why a key cannot be used; never its content.
#[derive(Debug)]
pub enum KeyError {
    Empty,
    NotPrintable,
    FileUnreadable { path: PathBuf, reason: String },
}

impl ApiKey {
    pub fn new(secret: &str) -> Result<ApiKey, KeyError> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut value = HeaderValue::from_str(&format!("Api-Key {secret}"))
            .map_err(|_| KeyError::NotPrintable)?;
        value.set_sensitive(true);
        Ok(ApiKey(value))
    }

    /// A key file's content as a key.
    pub fn read(path: &Path) -> Result<ApiKey, KeyError> {
        let secret = std::fs::read_to_string(path).map_err(|error| KeyError::FileUnreadable {
            path: path.to_owned(),
            reason: error.kind().to_string(),
        })?;
        ApiKey::new(&secret)
    }

    pub fn authorization(&self) -> &HeaderValue {
        &self.0
    }

    /// A secret derived from the key for another purpose (the audit log's
    /// ID hashes and chain): stable across restarts, useless for calling Adapty.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        derive(self.0.as_bytes(), purpose)
    }
}

/// HMAC-SHA256 of `purpose` under `secret`: one secret, many unrelated keys.
pub fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(redacted)")
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => f.write_str("the Adapty secret key is empty"),
            KeyError::NotPrintable => f.write_str(
                "the Adapty secret key contains characters that cannot go in an HTTP header",
            ),
            KeyError::FileUnreadable { path, reason } => {
                write!(f, "cannot read the key file {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for KeyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_checked() {
        assert!(ApiKey::new("  secret_live_x\n").is_ok());
        assert!(matches!(ApiKey::new(" \n"), Err(KeyError::Empty)));
        assert!(matches!(
            ApiKey::new("a\u{7}b"),
            Err(KeyError::NotPrintable)
        ));
    }

    #[test]
    fn the_key_never_shows_in_debug_output_or_errors() {
        let key = ApiKey::new("secret_live_abc123").unwrap();
        let debug = format!("{key:?}");
        assert!(
            !debug.contains("abc123") && debug.contains("redacted"),
            "{debug}"
        );
        let error = ApiKey::new("secret_live_abc123\u{7}")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("abc123"), "{error}");
    }
}
