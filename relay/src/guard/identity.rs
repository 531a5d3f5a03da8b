//! Who is asking. The relay sits behind an SSO proxy; it trusts either a
//! plain identity header the proxy sets (oauth2-proxy's X-Forwarded-Email),
//! or, better, a signed assertion it verifies itself (Cloudflare Access,
//! Google IAP, Pomerium), so that a request that bypassed the proxy carries
//! no identity at all.
//!
//! Beside the person, their roles (groups), for what only some may do:
//! from a header the proxy sets beside the identity header, or from a claim
//! of the verified assertion.

use super::{AccessConfig, JwtConfig};
use crate::error::RelayError;
use axum::http::{HeaderMap, HeaderName};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Identities longer than this are refused rather than logged.
const MAX_ACTOR_LENGTH: usize = 320;
/// Clock skew tolerated between the proxy and the relay, for `exp`, `nbf`
/// and `iat`.
pub const JWT_LEEWAY_SECS: u64 = 60;
/// A JWKS larger than this is refused: real ones are a few KB.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// The person behind a request, as the audit log and the rate limit name
/// them: trimmed, and an email address in lower case, so that `Ann@X.com`
/// and `ann@x.com` are one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(pub String);

impl Actor {
    fn normalized(name: &str) -> Option<Actor> {
        let name = name.trim();
        if name.is_empty() || name.len() > MAX_ACTOR_LENGTH {
            return None;
        }
        Some(Actor(if name.contains('@') {
            name.to_lowercase()
        } else {
            name.to_owned()
        }))
    }
}

/// Who is asking, and the roles they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub roles: Vec<String>,
}

impl Caller {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|own| own == role)
    }
}

pub struct Identity {
    header: Option<HeaderName>,
    roles_header: Option<HeaderName>,
    jwt: Option<JwtVerifier>,
    demo_caller: Option<Caller>,
}

impl Identity {
    pub fn new(config: &AccessConfig) -> Identity {
        Identity {
            header: config.identity_header.clone(),
            roles_header: config.roles_header.clone(),
            jwt: config.jwt.clone().map(JwtVerifier::new),
            demo_caller: config.demo_caller.clone(),
        }
    }

    /// Whether anything identifies callers; without it every caller is "anonymous".
    pub fn is_configured(&self) -> bool {
        self.header.is_some() || self.jwt.is_some() || self.demo_caller.is_some()
    }

    pub async fn actor(&self, headers: &HeaderMap) -> Result<Actor, RelayError> {
        self.caller(headers).await.map(|caller| caller.actor)
    }

    /// The person and their roles. A verified assertion names both; a plain
    /// header only when it is the only source.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Caller, RelayError> {
        if let Some(jwt) = &self.jwt {
            return jwt.verify(headers).await;
        }
        if let Some(demo) = &self.demo_caller {
            return Ok(demo.clone());
        }
        let Some(name) = &self.header else {
            return Ok(Caller {
                actor: Actor("anonymous".into()),
                roles: Vec::new(),
            });
        };
        let actor = single(headers, name)?
            .and_then(Actor::normalized)
            .ok_or_else(|| missing(name))?;
        let roles = match &self.roles_header {
            // Given twice, the header grants no role: which one the proxy set is unknown.
            Some(name) => single(headers, name)
                .ok()
                .flatten()
                .map(roles_in)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Caller { actor, roles })
    }
}

/// `support, billing` as `["support", "billing"]`: comma-separated, as
/// oauth2-proxy and mod_auth_openidc pass a list.
fn roles_in(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|role| !role.is_empty())
        .map(str::to_owned)
        .collect()
}

fn missing(name: &HeaderName) -> RelayError {
    RelayError::Unauthenticated(format!("no signed-in user: the {name} header is missing"))
}

/// The header's one value; a header given twice names no one for sure.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a str>, RelayError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(RelayError::Unauthenticated(format!(
            "the {name} header is given more than once"
        )));
    }
    Ok(first.and_then(|value| value.to_str().ok()))
}

/// The claims the relay reads; `exp`, `nbf`, `aud` and `iss` are checked by
/// `jsonwebtoken` (`exp`, `aud` and `iss` required), `iat` here.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    email: Option<String>,
    /// `false` (or `"false"`, as some providers write it) means the email is
    /// only what the person typed: the subject names them instead.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    iat: Option<u64>,
    /// The rest, among them the roles claim, whose name the operator sets.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

struct JwtVerifier {
    config: JwtConfig,
    http: reqwest::Client,
    /// The last usable key set and when it came: read without waiting,
    /// replaced whole.
    keys: RwLock<Option<(Arc<JwkSet>, Instant)>>,
    /// Held only by the one fetch in flight; remembers when it last ended.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

fn unauthenticated(reason: &str) -> RelayError {
    RelayError::Unauthenticated(format!("the sign-in assertion is not valid: {reason}"))
}

impl JwtVerifier {
    fn new(config: JwtConfig) -> JwtVerifier {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .expect("the TLS backend is compiled in");
        JwtVerifier {
            config,
            http,
            keys: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    async fn verify(&self, headers: &HeaderMap) -> Result<Caller, RelayError> {
        let name = &self.config.header;
        let value = single(headers, name)?.ok_or_else(|| missing(name))?;
        // oauth2-proxy passes the assertion as `Authorization: Bearer …`.
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => value,
        };
        // `alg: none` and unknown algorithms fail here: jsonwebtoken knows neither.
        let header = decode_header(token).map_err(|_| unauthenticated("malformed"))?;
        let kid = header.kid.ok_or_else(|| unauthenticated("no key ID"))?;
        let jwk = self.key(&kid).await?;
        let algorithm = key_algorithm(&jwk).ok_or_else(|| unauthenticated("unsupported key"))?;
        // Pinned to the key's algorithm, never the token's word for it.
        if header.alg != algorithm {
            return Err(unauthenticated("algorithm does not match the key"));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| unauthenticated("unusable key"))?;
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = JWT_LEEWAY_SECS;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|error| unauthenticated(&describe(&error)))?
            .claims;
        // jsonwebtoken does not look at `iat`: one in the future is a forged
        // or mis-clocked token either way.
        let now = jsonwebtoken::get_current_timestamp();
        if claims
            .iat
            .is_some_and(|iat| iat > now.saturating_add(JWT_LEEWAY_SECS))
        {
            return Err(unauthenticated("issued in the future"));
        }
        let unverified = matches!(&claims.email_verified, Some(serde_json::Value::Bool(false)))
            || matches!(&claims.email_verified, Some(serde_json::Value::String(word)) if word == "false");
        let email = claims.email.as_deref().filter(|_| !unverified);
        let actor = email
            .or(claims.sub.as_deref())
            .and_then(Actor::normalized)
            .ok_or_else(|| unauthenticated("no email or subject"))?;
        // A string (comma-separated) or an array of strings; anything else is no role.
        let roles = match claims.other.get(&self.config.roles_claim) {
            Some(serde_json::Value::String(list)) => roles_in(list),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .flat_map(roles_in)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Caller { actor, roles })
    }

    /// The key with this ID in the set in hand, and whether that set is
    /// older than `max_age`.
    fn cached(&self, kid: &str) -> Option<(Jwk, bool)> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (set, fetched_at) = keys.as_ref()?;
        let stale = fetched_at.elapsed() >= self.config.max_age;
        set.find(kid).map(|jwk| (jwk.clone(), stale))
    }

    /// The key with this ID. A known one is read at once, never behind a
    /// fetch; an unknown one waits for the one fetch in flight, or starts
    /// one, at most once a refetch interval (so forged `kid`s cannot turn
    /// the relay into a load generator), or once a second while no set has
    /// ever been fetched (a provider down at start must not lock everyone
    /// out for the whole interval). A set older than `max_age` is fetched
    /// again by the first request that finds it so, the others going on
    /// with it meanwhile, so a key the provider withdrew stops working.
    async fn key(&self, kid: &str) -> Result<Jwk, RelayError> {
        let mut last_fetch = match self.cached(kid) {
            Some((jwk, false)) => return Ok(jwk),
            // Old: the first to notice fetches it again; the others go on with it.
            Some((jwk, true)) => match self.fetching.try_lock() {
                Ok(last_fetch) => last_fetch,
                Err(_) => return Ok(jwk),
            },
            None => {
                let last_fetch = self.fetching.lock().await;
                // The fetch just waited for may have brought it.
                if let Some((jwk, _)) = self.cached(kid) {
                    return Ok(jwk);
                }
                last_fetch
            }
        };
        let have_keys = self
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some();
        let interval = if have_keys {
            self.config.refetch_after
        } else {
            self.config.refetch_after.min(Duration::from_secs(1))
        };
        if last_fetch.is_none_or(|at| at.elapsed() >= interval) {
            let fetched = self.fetch().await;
            // Counted from its end: those that waited for it do not fetch again.
            let now = Instant::now();
            *last_fetch = Some(now);
            match fetched {
                Ok(set) => {
                    *self
                        .keys
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                        Some((Arc::new(set), now));
                }
                // The keys in hand stay: an empty or broken set would lock everyone out.
                Err(reason) => {
                    tracing::error!(url = %self.config.jwks_url, %reason, "cannot use the JWKS fetched; keeping the keys in hand")
                }
            }
        }
        drop(last_fetch);
        self.cached(kid)
            .map(|(jwk, _)| jwk)
            .ok_or_else(|| unauthenticated("unknown signing key"))
    }

    /// The key set, if it is small, readable and holds a key.
    async fn fetch(&self) -> Result<JwkSet, String> {
        let mut response = self
            .http
            .get(self.config.jwks_url.clone())
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let too_large = || format!("larger than {MAX_JWKS_BYTES} bytes");
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|error| error.to_string())?;
        if set.keys.is_empty() {
            return Err("the set holds no key".into());
        }
        Ok(set)
    }
}

/// The algorithm a key is for: its own `alg`, else what its type implies.
fn key_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return alg.to_string().parse().ok();
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        _ => None,
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("no {claim} claim"),
        ErrorKind::ImmatureSignature => "not yet valid".into(),
        _ => "could not be verified".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_a_comma_separated_list() {
        assert_eq!(roles_in(" support , billing,,"), ["support", "billing"]);
        assert!(roles_in("").is_empty());
        assert!(roles_in(" , ").is_empty());
    }

    #[test]
    fn actors_are_trimmed_and_emails_lowercased() {
        let name = |raw: &str| Actor::normalized(raw).map(|actor| actor.0);
        assert_eq!(name("  Ann@X.com "), Some("ann@x.com".into()));
        assert_eq!(
            name("User-123"),
            Some("User-123".into()),
            "not an email: as it is"
        );
        assert_eq!(name("   "), None);
        assert_eq!(name(&"a".repeat(321)), None);
    }
}
