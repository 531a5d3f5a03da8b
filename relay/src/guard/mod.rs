//! Who may ask, checked on every request before anything else: only the
//! host names the operator expects (`host`, against DNS rebinding), under
//! the base path (`base_path`), only the panel's own script (`csrf`), and
//! who is asking, in which roles (`identity`).

pub mod base_path;
pub mod csrf;
pub mod host;
pub mod identity;

use axum::http::uri::Authority;
use axum::http::HeaderName;
use identity::Caller;
use std::time::Duration;
use url::Url;

/// Who may ask: the SSO identity, the cross-site rules and the hosts served.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    pub identity_header: Option<HeaderName>,
    /// The roles beside `identity_header` (never with `jwt`: a plain header
    /// next to a verified token would be the weaker of the two).
    pub roles_header: Option<HeaderName>,
    pub jwt: Option<JwtConfig>,
    /// Demo mode without an identity setting: every caller is this one.
    pub demo_caller: Option<Caller>,
    pub public_origins: Vec<Url>,
    pub allowed_hosts: Vec<Authority>,
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub header: HeaderName,
    pub jwks_url: Url,
    pub audience: String,
    pub issuer: String,
    /// The claim that lists the person's roles.
    pub roles_claim: String,
    /// How soon an unknown key ID may make the relay fetch the JWKS again
    /// (a minute; not a flag, the tests shorten it).
    pub refetch_after: Duration,
    /// How long a fetched set is trusted before it is fetched again (ten
    /// minutes; not a flag, the tests shorten it).
    pub max_age: Duration,
}
