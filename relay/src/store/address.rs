//! Where the store is: `--store` (`RELAY_STORE`), checked at start.

use std::fmt;
use std::path::PathBuf;
use url::Url;

/// `sqlite:PATH`, or `postgres://user:password@host/db` (also
/// `postgresql://`). Shown (`Display`, `Debug`) without the password.
#[derive(Clone, PartialEq)]
pub enum StoreAddress {
    Sqlite(PathBuf),
    Postgres(Url),
}

impl StoreAddress {
    pub fn parse(text: &str) -> Result<StoreAddress, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() || path.contains('?') || path == ":memory:" {
                return Err(
                    "--store sqlite:PATH needs the path of a file (it is created if missing)"
                        .into(),
                );
            }
            return Ok(StoreAddress::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let url = Url::parse(text).map_err(|error| {
                format!("--store is not a PostgreSQL URL ({error}): postgres://USER@HOST/DATABASE")
            })?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("--store postgres:// needs a host".into());
            }
            return Ok(StoreAddress::Postgres(url));
        }
        Err("--store takes sqlite:PATH or postgres://USER@HOST/DATABASE".into())
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, StoreAddress::Sqlite(_))
    }

    /// What sqlx connects to: the SQLite file is created when missing.
    pub(super) fn connect_url(&self) -> String {
        match self {
            StoreAddress::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            StoreAddress::Postgres(url) => url.to_string(),
        }
    }
}

impl fmt::Display for StoreAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreAddress::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreAddress::Postgres(url) => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("***"));
                }
                write!(f, "{shown}")
            }
        }
    }
}

impl fmt::Debug for StoreAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreAddress({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_is_never_shown() {
        let address = StoreAddress::parse("postgres://relay:s3cret@db.internal/lookup").unwrap();
        assert_eq!(
            address.to_string(),
            "postgres://relay:***@db.internal/lookup"
        );
        assert!(!format!("{address:?}").contains("s3cret"));
        assert!(address.connect_url().contains("s3cret"));
    }

    #[test]
    fn what_is_not_a_store_says_what_would_be() {
        for bad in [
            "",
            "mysql://x/y",
            "sqlite:",
            "sqlite::memory:",
            "postgres://",
            "/tmp/x.db",
        ] {
            let error = StoreAddress::parse(bad).unwrap_err();
            assert!(error.contains("--store"), "{bad}: {error}");
        }
        assert_eq!(
            StoreAddress::parse("sqlite:/var/lib/relay/store.db").unwrap(),
            StoreAddress::Sqlite("/var/lib/relay/store.db".into())
        );
    }
}
