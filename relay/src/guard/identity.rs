//! Who is asking. The relay sits behind an SSO proxy; it trusts either a
//! plain identity header the proxy sets (oauth2-proxy's X-Forwarded-Email),
//! or, better, a signed assertion it verifies itself (Cloudflare Access,
//! Google IAP, Pomerium), so that a request that bypassed the proxy carries
//! no identity at all.
//!
//! Beside the person, their roles (groups), for what only some may do:
//! from a header the proxy sets beside the identity header, or from a claim
//! of the verified assertion.
//!
//! One rule names a person, whether the identity header or the token's
//! `email` (or `sub`) claim says who they are (`Actor::normalized`):
//! - spaces and tabs at either end are dropped;
//! - refused (401) when what is left is empty, longer than 320 bytes, or
//!   holds a character that is not plain visible text: a control
//!   character, a format or other invisible one (zero-width, bidi
//!   controls, soft hyphen, variation selectors, fillers, tags), any
//!   whitespace but the plain space, a private-use or non-character code
//!   point. Two identities that look alike must not be two strings that
//!   differ only where nobody can see;
//! - with an `@`, letters A–Z become a–z, in the local part and the domain
//!   alike (so `Ann@X.com` is `ann@x.com`); without one it is kept as
//!   given (a subject ID may be case-sensitive);
//! - every other character, non-ASCII included, is kept exactly as given:
//!   never Unicode case folding or normalisation, which would make the
//!   Kelvin sign `\u{212A}im@x.com` the person `kim@x.com`. A full-width
//!   or look-alike letter is another person, audited as what it is.
//!
//! A header value is read as ASCII text (anything else is refused, 401);
//! a value with a comma is refused too, since a proxy may have joined two
//! values into one, as a header given twice is.
//!
//! Roles: a header's value, or a claim that is a string, is a
//! comma-separated list (`support, leads`); a claim that is an array lists
//! its roles as they are, each element one role, never split. A role is
//! matched exactly, case included.

use super::{AccessConfig, JwtConfig};
use crate::error::RelayError;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
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
/// them, by the module's one rule: trimmed, plain visible text only, and
/// an email address with ASCII letters in lower case, so that `Ann@X.com`
/// and `ann@x.com` are one person (and `\u{212A}im@x.com` is not `kim@x.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(pub String);

/// Why a name cannot name anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unusable {
    Empty,
    TooLong,
    /// A character nobody reading the log could see, or see right.
    Hidden(char),
}

impl Unusable {
    /// Said of `what` (the header, or the claim).
    fn explain(self, what: &str) -> String {
        match self {
            Unusable::Empty => format!("{what} is empty"),
            Unusable::TooLong => format!("{what} is longer than {MAX_ACTOR_LENGTH} bytes"),
            Unusable::Hidden(c) => format!(
                "{what} holds U+{:04X}, a control, invisible or format character: an identity \
                 must be plain visible text",
                u32::from(c)
            ),
        }
    }
}

impl Actor {
    /// The module's one rule (see its comment).
    fn normalized(name: &str) -> Result<Actor, Unusable> {
        let name = name.trim_matches([' ', '\t']);
        if name.is_empty() {
            return Err(Unusable::Empty);
        }
        if name.len() > MAX_ACTOR_LENGTH {
            return Err(Unusable::TooLong);
        }
        if let Some(hidden) = name.chars().find(|&c| is_hidden(c)) {
            return Err(Unusable::Hidden(hidden));
        }
        Ok(Actor(if name.contains('@') {
            name.to_ascii_lowercase()
        } else {
            name.to_owned()
        }))
    }
}

/// A character that does not show as itself: controls, whitespace other
/// than the space, format characters (Unicode's Cf) and the other
/// default-ignorable code points (the reason's tables, `protocol::reason`),
/// private use and non-characters.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || (u32::from(c) & 0xFFFE) == 0xFFFE
        || protocol::reason::is_format_or_ignorable(c)
        || matches!(
            u32::from(c),
            0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFDD0..=0xFDEF
        )
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
        let value = single(headers, name)?.ok_or_else(|| missing(name))?;
        let refused =
            |why: String| RelayError::Unauthenticated(format!("no signed-in user: {why}"));
        let value = value
            .to_str()
            .map_err(|_| refused(format!("the {name} header is not plain ASCII text")))?;
        if value.contains(',') {
            return Err(refused(format!(
                "the {name} header holds a comma: two identities joined into one names no one \
                 for sure"
            )));
        }
        let actor = match Actor::normalized(value) {
            Ok(actor) => actor,
            Err(Unusable::Empty) => return Err(missing(name)),
            Err(unusable) => return Err(refused(unusable.explain(&format!("the {name} header")))),
        };
        let roles = match &self.roles_header {
            // Given twice, the header grants no role: which one the proxy set is unknown.
            Some(name) => single(headers, name)
                .ok()
                .flatten()
                .and_then(|value| value.to_str().ok())
                .map(roles_in)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Caller { actor, roles })
    }
}

/// `support, billing` as `["support", "billing"]`: comma-separated, as
/// oauth2-proxy and mod_auth_openidc pass a list (a header, or a claim
/// that is a string; never an array's element).
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
fn single<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a HeaderValue>, RelayError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(RelayError::Unauthenticated(format!(
            "the {name} header is given more than once"
        )));
    }
    Ok(first)
}

/// The claims the relay reads; `exp`, `nbf`, `aud` and `iss` are checked by
/// `jsonwebtoken` (`exp`, `aud` and `iss` required), `iat` here.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    email: Option<String>,
    /// Anything but `true` (or `"true"`, as some providers write it, in any
    /// case) means the email is only what the person typed: the subject
    /// names them instead. Absent, the email is taken as the provider's.
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
        let value = value
            .to_str()
            .map_err(|_| unauthenticated("not plain ASCII text"))?;
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
        // Verified when the token says nothing, or `true` (a string in any
        // case too); any other word (`false`, `"False"`, `0`, `"no"`) is not
        // a yes, and a deny-list of spellings would miss one.
        let unverified = match &claims.email_verified {
            None | Some(serde_json::Value::Bool(true)) => false,
            Some(serde_json::Value::String(word)) => !word.trim().eq_ignore_ascii_case("true"),
            Some(_) => true,
        };
        let email = claims.email.as_deref().filter(|_| !unverified);
        let (claim, name) = match (email, claims.sub.as_deref()) {
            (Some(email), _) => ("email", email),
            (None, Some(sub)) => ("sub", sub),
            (None, None) => return Err(unauthenticated("no email or subject")),
        };
        let actor = match Actor::normalized(name) {
            Ok(actor) => actor,
            Err(Unusable::Empty) => return Err(unauthenticated("no email or subject")),
            Err(unusable) => {
                return Err(unauthenticated(
                    &unusable.explain(&format!("the {claim} claim")),
                ))
            }
        };
        let roles = roles_of(claims.other.get(&self.config.roles_claim));
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

/// The roles a claim names: a string is a comma-separated list; an array
/// names one role in each string element, as it is (`["x,leads"]` is the
/// role `x,leads`, never `leads`); anything else is no role.
fn roles_of(claim: Option<&serde_json::Value>) -> Vec<String> {
    match claim {
        Some(serde_json::Value::String(list)) => roles_in(list),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .filter(|role| !role.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
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
        let name = |raw: &str| Actor::normalized(raw).ok().map(|actor| actor.0);
        assert_eq!(name("  Ann@X.com "), Some("ann@x.com".into()));
        assert_eq!(name("\tAnn@X.com\t"), Some("ann@x.com".into()));
        assert_eq!(
            name("User-123"),
            Some("User-123".into()),
            "not an email: as it is"
        );
        assert_eq!(name("   "), None);
        assert_eq!(name(&"a".repeat(321)), None);
    }

    /// Only A–Z fold: every character that Unicode folds or normalises to
    /// an ASCII letter stays what it is, another person.
    #[test]
    fn only_ascii_letters_fold() {
        let name = |raw: &str| Actor::normalized(raw).map(|actor| actor.0);
        for (raw, kept) in [
            ("\u{212A}im@x.com", "\u{212A}im@x.com"),   // Kelvin sign
            ("\u{212B}nn@X.com", "\u{212B}nn@x.com"),   // Angstrom sign
            ("\u{FF2B}im@x.com", "\u{FF2B}im@x.com"),   // full-width K
            ("kim@\u{FF38}.com", "kim@\u{FF38}.com"),   // full-width X
            ("\u{0130}van@x.com", "\u{0130}van@x.com"), // I with a dot
            ("STRA\u{1E9E}E@X.COM", "stra\u{1E9E}e@x.com"), // capital sharp s
            ("\u{0410}nn@x.com", "\u{0410}nn@x.com"),   // Cyrillic A
            ("kim\u{FF20}X.com", "kim\u{FF20}X.com"),   // full-width @: not an email
            ("J\u{00D6}RG@X.COM", "j\u{00D6}rg@x.com"),
        ] {
            assert_eq!(name(raw), Ok(kept.to_owned()), "{raw:?}");
            assert_ne!(name(raw).unwrap(), raw.to_lowercase(), "{raw:?}");
        }
    }

    #[test]
    fn identities_with_hidden_characters_are_refused() {
        for raw in [
            "ann@x.com\u{0}",
            "ann\u{7}@x.com",
            "ann@x.com\n",
            "ann@x.com\r\nbob@x.com",
            "ann\t@x.com",
            "ann@x.com\u{85}",
            "ann@x.com\u{A0}",    // no-break space
            "\u{3000}ann@x.com",  // ideographic space
            "ann@x\u{2028}.com",  // line separator
            "an\u{200B}n@x.com",  // zero-width space
            "an\u{200D}n@x.com",  // zero-width joiner
            "ann@x.com\u{200E}",  // left-to-right mark
            "\u{202E}moc.x@nna",  // right-to-left override
            "\u{2066}ann@x.com",  // isolate
            "\u{FEFF}ann@x.com",  // byte order mark
            "an\u{AD}n@x.com",    // soft hyphen
            "ann\u{34F}@x.com",   // combining grapheme joiner
            "ann\u{FE0F}@x.com",  // variation selector
            "\u{3164}ann@x.com",  // Hangul filler
            "ann@x.com\u{E0041}", // tag letter
            "ann@x.com\u{E000}",  // private use
            "ann@x.com\u{FFFF}",  // non-character
            "ann@x.com\u{1FFFE}", // non-character
        ] {
            assert!(
                matches!(Actor::normalized(raw), Err(Unusable::Hidden(_))),
                "{raw:?}"
            );
        }
        let message = Unusable::Hidden('\u{200B}').explain("the x-email header");
        assert!(message.contains("U+200B"), "{message}");
        assert_eq!(
            Actor::normalized("Ann Smith").unwrap().0,
            "Ann Smith",
            "a space inside is plain text"
        );
    }

    #[test]
    fn an_arrays_roles_are_taken_whole_and_only_a_string_is_split() {
        let roles = |claim: serde_json::Value| roles_of(Some(&claim));
        assert_eq!(
            roles(serde_json::json!(["x,leads"])),
            ["x,leads"],
            "one role"
        );
        assert_eq!(roles(serde_json::json!([" leads"])), [" leads"]);
        assert_eq!(
            roles(serde_json::json!(["support", "leads", "", 7])),
            ["support", "leads"]
        );
        assert_eq!(roles(serde_json::json!("x,leads")), ["x", "leads"]);
        assert!(roles(serde_json::json!({"leads": true})).is_empty());
        assert!(roles_of(None).is_empty());
    }
}
