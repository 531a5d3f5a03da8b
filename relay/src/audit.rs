//! The audit log: one JSON line per lookup, who asked for whom and what came
//! of it. Lines are written whole under a lock, so concurrent lookups never
//! interleave or lose a line.

use crate::config::{ApiKey, AuditConfig};
use hmac::{Hmac, Mac};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

pub struct AuditLog {
    sink: Mutex<Box<dyn Write + Send>>,
    /// When set, IDs are written as a keyed hash: records of the same customer
    /// still match each other, but the log alone does not name anyone.
    id_hash_key: Option<[u8; 32]>,
}

/// One lookup, as the log records it.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub time: String,
    pub request_id: &'a str,
    pub actor: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub id: Option<String>,
    pub outcome: &'a str,
    pub status: u16,
    pub upstream_status: Option<u16>,
    pub latency_ms: u64,
}

impl AuditLog {
    pub fn open(config: &AuditConfig, key: &ApiKey) -> std::io::Result<AuditLog> {
        let sink: Box<dyn Write + Send> = match &config.path {
            Some(path) => Box::new(open_append(path)?),
            None => Box::new(std::io::stdout()),
        };
        Ok(AuditLog {
            sink: Mutex::new(sink),
            id_hash_key: config
                .hash_ids
                .then(|| key.derive("adapty-lookup audit id hash v1")),
        })
    }

    /// The ID as the log shows it: verbatim, or `hmac-sha256:<hex>`.
    pub fn id(&self, id: &str) -> String {
        match &self.id_hash_key {
            None => id.to_owned(),
            Some(key) => {
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
                mac.update(id.as_bytes());
                let digest = mac.finalize().into_bytes();
                let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                format!("hmac-sha256:{hex}")
            }
        }
    }

    pub fn record(&self, entry: &Entry<'_>) {
        // serde_json escapes every value: an ID cannot forge a line.
        let mut line = serde_json::to_vec(entry).expect("an entry always serializes");
        line.push(b'\n');
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = sink.write_all(&line).and_then(|()| sink.flush()) {
            tracing::error!(%error, "cannot write the audit log");
        }
    }
}

fn open_append(path: &std::path::Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_ids_are_stable_keyed_and_not_the_id() {
        let key = ApiKey::new("secret_live_audit").unwrap();
        let hashed = AuditLog::open(
            &AuditConfig {
                path: None,
                hash_ids: true,
            },
            &key,
        )
        .unwrap();
        let plain = AuditLog::open(
            &AuditConfig {
                path: None,
                hash_ids: false,
            },
            &key,
        )
        .unwrap();
        assert_eq!(plain.id("user-1"), "user-1");
        let once = hashed.id("user-1");
        assert_eq!(
            once,
            hashed.id("user-1"),
            "the same customer hashes the same"
        );
        assert_ne!(once, hashed.id("user-2"));
        assert!(once.starts_with("hmac-sha256:") && !once.contains("user-1"));
        let other_key = AuditLog::open(
            &AuditConfig {
                path: None,
                hash_ids: true,
            },
            &ApiKey::new("k2").unwrap(),
        )
        .unwrap();
        assert_ne!(
            once,
            other_key.id("user-1"),
            "keyed: no rainbow table of IDs works"
        );
    }
}
