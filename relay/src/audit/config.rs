//! What the operator sets for the audit log.

use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub path: Option<PathBuf>,
    /// One file a day in this folder (never with `path`).
    pub dir: Option<PathBuf>,
    /// Keys the chain of lines (see `audit::chain`).
    pub chain_key: ChainSecret,
    pub hash_ids: bool,
    pub refused_per_minute: NonZeroU32,
    pub refused_total_per_minute: NonZeroU32,
}

/// The audit chain's secret, with a `Debug` that shows nothing of it.
#[derive(Clone)]
pub struct ChainSecret(pub [u8; 32]);

impl fmt::Debug for ChainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainSecret(redacted)")
    }
}
