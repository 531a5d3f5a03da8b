//! Where the store is: `--store` (`RELAY_STORE`), checked at start.

use std::fmt;
use std::path::PathBuf;
use url::Url;

/// `sqlite:PATH`, or `postgres://user:password@host/db` (also
/// `postgresql://`). Shown (`Display`, `Debug`) as scheme, user, host,
/// port and database only: never a password, wherever it was written.
#[derive(Clone, PartialEq)]
pub enum StoreAddress {
    Sqlite(PathBuf),
    Postgres(Url),
}

/// The URL options a PostgreSQL store may have.
const POSTGRES_OPTIONS: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "password",
];

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
            // Only what this relay knows: sqlx logs the value of a key it
            // does not, and a mistyped `passwd=` would be printed.
            let mut sslmode = None;
            for (key, value) in url.query_pairs() {
                if !POSTGRES_OPTIONS.contains(&key.as_ref()) {
                    return Err(format!(
                        "--store: the PostgreSQL URL's option {key:?} is not one of {}",
                        POSTGRES_OPTIONS.join(", ")
                    ));
                }
                if key == "sslmode" {
                    sslmode = Some(value.into_owned());
                }
            }
            // Customers' emails and what support did travel this wire:
            // beyond this machine, only over TLS with the server verified.
            let local = url.host_str().is_some_and(|host| {
                host == "localhost"
                    || host
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            });
            let verified = matches!(sslmode.as_deref(), Some("verify-full" | "verify-ca"));
            if !local && !verified {
                return Err(
                    "--store: a PostgreSQL beyond this machine needs sslmode=verify-full (and \
                     sslrootcert=PATH for a private CA): customers' data must not travel in \
                     the clear or to a server that is not verified"
                        .into(),
                );
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
                write!(f, "{}://", url.scheme())?;
                if !url.username().is_empty() {
                    write!(f, "{}@", url.username())?;
                }
                write!(f, "{}", url.host_str().unwrap_or_default())?;
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                write!(f, "{}", url.path())
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
    fn a_postgres_password_is_never_shown_wherever_it_is_written() {
        for url in [
            "postgres://relay:s3cret@db.internal:5433/lookup?sslmode=verify-full",
            "postgres://relay@db.internal:5433/lookup?password=s3cret&sslmode=verify-full",
        ] {
            let address = StoreAddress::parse(url).unwrap();
            assert_eq!(
                address.to_string(),
                "postgres://relay@db.internal:5433/lookup"
            );
            assert!(!format!("{address:?}").contains("s3cret"));
            assert!(address.connect_url().contains("s3cret"));
        }
    }

    #[test]
    fn beyond_this_machine_postgres_needs_a_verified_tls_server_and_known_options() {
        for plain in [
            "postgres://relay@db.internal/lookup",
            "postgres://relay@db.internal/lookup?sslmode=require",
            "postgres://relay@10.0.0.5/lookup?sslmode=prefer",
        ] {
            let error = StoreAddress::parse(plain).unwrap_err();
            assert!(error.contains("sslmode=verify-full"), "{plain}: {error}");
        }
        for fine in [
            "postgres://relay@127.0.0.1:5432/lookup",
            "postgres://relay@localhost/lookup",
            "postgres://relay@[::1]/lookup",
            "postgresql://relay@db.internal/lookup?sslmode=verify-ca&sslrootcert=/etc/ca.pem",
        ] {
            assert!(StoreAddress::parse(fine).is_ok(), "{fine}");
        }
        let error = StoreAddress::parse("postgres://relay@localhost/x?passwd=oops").unwrap_err();
        assert!(
            error.contains("\"passwd\"") && !error.contains("oops"),
            "{error}"
        );
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
