//! Who is asking. The relay sits behind an SSO proxy; it trusts either a
//! plain identity header the proxy sets (oauth2-proxy's X-Forwarded-Email),
//! or, better, a signed assertion it verifies itself (Cloudflare Access,
//! Google IAP, Pomerium), so that a request that bypassed the proxy carries
//! no identity at all.

use crate::config::{AccessConfig, JwtConfig};
use crate::error::RelayError;
use axum::http::HeaderMap;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Unknown keys trigger a JWKS refetch at most this often, so a stream of
/// forged `kid`s cannot turn the relay into a load generator.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Identities longer than this are refused rather than logged.
const MAX_ACTOR_LENGTH: usize = 320;

/// The person behind a request, as the audit log and the rate limit name them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(pub String);

pub struct Identity {
    header: Option<axum::http::HeaderName>,
    jwt: Option<JwtVerifier>,
}

impl Identity {
    pub fn new(config: &AccessConfig) -> Identity {
        Identity {
            header: config.identity_header.clone(),
            jwt: config.jwt.clone().map(JwtVerifier::new),
        }
    }

    /// Whether anything identifies callers; without it every caller is "anonymous".
    pub fn is_configured(&self) -> bool {
        self.header.is_some() || self.jwt.is_some()
    }

    pub async fn actor(&self, headers: &HeaderMap) -> Result<Actor, RelayError> {
        // A verified assertion names the actor; a plain header only when it is the only source.
        if let Some(jwt) = &self.jwt {
            return jwt.verify(headers).await;
        }
        let Some(name) = &self.header else {
            return Ok(Actor("anonymous".into()));
        };
        let value = headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty() && value.len() <= MAX_ACTOR_LENGTH)
            .ok_or_else(|| {
                RelayError::Unauthenticated(format!(
                    "no signed-in user: the {name} header is missing"
                ))
            })?;
        Ok(Actor(value.to_owned()))
    }
}

/// The claims the relay reads; `exp`, `aud` and `iss` are checked by
/// `jsonwebtoken` and required to be present.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    sub: Option<String>,
}

struct JwtVerifier {
    config: JwtConfig,
    http: reqwest::Client,
    keys: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    set: Option<JwkSet>,
    fetched_at: Option<Instant>,
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
            keys: Mutex::new(KeyCache::default()),
        }
    }

    async fn verify(&self, headers: &HeaderMap) -> Result<Actor, RelayError> {
        let name = &self.config.header;
        let token = headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                RelayError::Unauthenticated(format!(
                    "no signed-in user: the {name} header is missing"
                ))
            })?;
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
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|error| unauthenticated(&describe(&error)))?
            .claims;
        claims
            .email
            .or(claims.sub)
            .filter(|actor| !actor.is_empty() && actor.len() <= MAX_ACTOR_LENGTH)
            .map(Actor)
            .ok_or_else(|| unauthenticated("no email or subject"))
    }

    /// The key with this ID, refetching the set when it is unknown (rate-limited).
    async fn key(&self, kid: &str) -> Result<Jwk, RelayError> {
        let mut cache = self.keys.lock().await;
        if let Some(jwk) = cache.set.as_ref().and_then(|set| set.find(kid)) {
            return Ok(jwk.clone());
        }
        let may_fetch = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= JWKS_REFETCH_INTERVAL);
        if may_fetch {
            cache.fetched_at = Some(Instant::now());
            match self.fetch().await {
                Ok(set) => cache.set = Some(set),
                Err(reason) => {
                    tracing::error!(url = %self.config.jwks_url, %reason, "cannot fetch the JWKS")
                }
            }
        }
        cache
            .set
            .as_ref()
            .and_then(|set| set.find(kid))
            .cloned()
            .ok_or_else(|| unauthenticated("unknown signing key"))
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let response = self
            .http
            .get(self.config.jwks_url.clone())
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let body = response.bytes().await.map_err(|error| error.to_string())?;
        serde_json::from_slice(&body).map_err(|error| error.to_string())
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
