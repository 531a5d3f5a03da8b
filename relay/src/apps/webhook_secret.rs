//! An app's webhook secrets: the `Authorization` values Adapty sends with
//! its production and its sandbox events, each typed into Adapty's
//! dashboard and kept here in a file (never on the command line).

use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;
use subtle::ConstantTimeEq;

/// Longer than any header value worth typing into a dashboard.
const MAX_SECRET_BYTES: usize = 1024;
/// Shorter is guessable.
const MIN_SECRET_BYTES: usize = 16;

/// One `Authorization` value, kept as its hash: compared in constant time,
/// of length too, and never printed.
#[derive(Clone, PartialEq)]
pub struct WebhookSecret([u8; 32]);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl WebhookSecret {
    pub fn new(value: &str) -> Result<WebhookSecret, String> {
        if value.len() < MIN_SECRET_BYTES || value.len() > MAX_SECRET_BYTES {
            return Err(format!(
                "a webhook secret must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} characters"
            ));
        }
        // What an HTTP header can carry, and Adapty's dashboard sends verbatim.
        if !value
            .bytes()
            .all(|byte| (0x21..0x7f).contains(&byte) || byte == b' ')
        {
            return Err(
                "a webhook secret may hold only printable ASCII (it travels as a header)".into(),
            );
        }
        Ok(WebhookSecret(Sha256::digest(value.as_bytes()).into()))
    }

    /// Reads a secret file: the value on its first line, surrounding
    /// whitespace ignored. Errors never quote the file.
    pub fn read(path: &Path) -> Result<WebhookSecret, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read it: {}", error.kind()))?;
        WebhookSecret::new(text.trim())
    }

    pub fn matches(&self, sent: &[u8]) -> bool {
        let sent: [u8; 32] = Sha256::digest(sent).into();
        self.0.ct_eq(&sent).into()
    }
}

/// What an app's webhook accepts: either value. No value: the app has no
/// webhook (its URL answers 404).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookSecrets {
    pub production: Option<WebhookSecret>,
    pub sandbox: Option<WebhookSecret>,
}

impl WebhookSecrets {
    pub fn is_set(&self) -> bool {
        self.production.is_some() || self.sandbox.is_some()
    }

    /// Whether `authorization` is one of the values.
    pub fn accepts(&self, authorization: &[u8]) -> bool {
        self.which(authorization).is_some()
    }

    /// Which value `authorization` is; both are compared, whichever
    /// matches, so the time taken says nothing.
    pub fn which(&self, authorization: &[u8]) -> Option<Environment> {
        let production = self
            .production
            .as_ref()
            .is_some_and(|secret| secret.matches(authorization));
        let sandbox = self
            .sandbox
            .as_ref()
            .is_some_and(|secret| secret.matches(authorization));
        match (production, sandbox) {
            (true, _) => Some(Environment::Production),
            (false, true) => Some(Environment::Sandbox),
            (false, false) => None,
        }
    }
}

/// Which of Adapty's two webhooks sent an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Sandbox,
}

impl Environment {
    /// As Adapty writes it in `environment`.
    pub fn name(self) -> &'static str {
        match self {
            Environment::Production => "Production",
            Environment::Sandbox => "Sandbox",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_value_is_accepted_and_nothing_else() {
        let secrets = WebhookSecrets {
            production: Some(WebhookSecret::new("prod-secret-0123456789").unwrap()),
            sandbox: Some(WebhookSecret::new("sandbox-secret-0123456789").unwrap()),
        };
        assert!(secrets.accepts(b"prod-secret-0123456789"));
        assert!(secrets.accepts(b"sandbox-secret-0123456789"));
        for wrong in [
            &b""[..],
            b"prod-secret-012345678",
            b"prod-secret-01234567890",
            b"PROD-SECRET-0123456789",
        ] {
            assert!(!secrets.accepts(wrong));
        }
        assert!(!WebhookSecrets::default().accepts(b""));
        assert!(!format!("{secrets:?}").contains("prod-secret"));
    }

    #[test]
    fn a_short_or_unprintable_secret_is_refused_without_being_quoted() {
        for bad in ["short", "with\nnewline-0123456789", "ünïcödé-0123456789"] {
            let error = WebhookSecret::new(bad).unwrap_err();
            assert!(!error.contains(bad), "{error}");
        }
    }
}
