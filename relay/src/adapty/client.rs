//! How Adapty is asked: a request built from scratch for every call, and
//! every answer sorted into a profile or a `RelayError`.
//!
//! A lookup is a read: repeated on transient failures. A change is not:
//! repeated only when its connection failed before anything was sent, and
//! once it may have reached Adapty, an answer that does not arrive whole
//! leaves its outcome unknown (never guessed either way).

use crate::budget::{Budget, Reservation};
use crate::change::Change;
use crate::config::UpstreamConfig;
use crate::error::RelayError;
use crate::lookup::Lookup;
use crate::metrics::Metrics;
use axum::http::{header, HeaderMap, StatusCode};
use bytes::{Bytes, BytesMut};
use rand::Rng;
use reqwest::{redirect, Client, Url};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

pub const PROFILE_PATH: &str = "api/v2/server-side-api/profile/";
/// Tries of one lookup, the first included, all within the deadline.
const MAX_ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait passed on to the panel: whatever Adapty says beyond
/// this is a fault, not advice an admin can follow.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

pub struct Upstream {
    http: Client,
    /// For changes: a fresh connection every time, so that a connection
    /// Adapty closed while idle cannot cut a change off after it was sent.
    fresh: Client,
    base: Url,
    profile_url: Url,
    config: UpstreamConfig,
    metrics: Arc<Metrics>,
    budget: Budget,
}

/// What one lookup came to, with Adapty's last status for the audit log.
pub struct Fetched {
    pub result: Result<Profile, RelayError>,
    pub upstream_status: Option<u16>,
}

/// A profile envelope as Adapty sent it, with the room it takes in the budget.
pub struct Profile {
    pub bytes: Bytes,
    pub reservation: Reservation,
}

/// Whether a failed try may be repeated: the read is idempotent, but only
/// transient failures are worth it.
enum Retry {
    No,
    After(Option<Duration>),
}

/// What is asked of Adapty, which decides what may be repeated and what an
/// answer means.
#[derive(Clone, Copy)]
enum Call<'a> {
    Read,
    Change(&'a Change),
}

struct Attempt {
    result: Result<Profile, RelayError>,
    status: Option<StatusCode>,
    retry: Retry,
}

impl Upstream {
    pub fn new(config: UpstreamConfig, metrics: Arc<Metrics>, budget: Budget) -> Upstream {
        let client = || {
            Client::builder()
                // A redirect could carry the key to another host: treat it as a fault.
                .redirect(redirect::Policy::none())
                .connect_timeout(Duration::from_secs(3).min(config.timeout))
                .user_agent(concat!("adapty-lookup-relay/", env!("CARGO_PKG_VERSION")))
        };
        let http = client().build().expect("the TLS backend is compiled in");
        let fresh = client()
            .pool_max_idle_per_host(0)
            .build()
            .expect("the TLS backend is compiled in");
        let profile_url = join(&config.base, PROFILE_PATH);
        Upstream {
            http,
            fresh,
            base: config.base.clone(),
            profile_url,
            config,
            metrics,
            budget,
        }
    }

    /// The profile envelope exactly as Adapty sent it, after a shape check.
    /// Transient failures are retried with jittered exponential backoff,
    /// honouring Retry-After, all within the one total deadline.
    pub async fn fetch_profile(&self, lookup: &Lookup) -> Fetched {
        let (name, value) = lookup.header();
        let request = || {
            self.http
                .get(self.profile_url.clone())
                .header(name.clone(), value.clone())
        };
        self.call(Call::Read, request).await
    }

    /// Grants or revokes, and Adapty's answer: the whole profile as it is
    /// now. Never repeated once it may have reached Adapty.
    pub async fn change_access(&self, change: &Change) -> Fetched {
        let (name, value) = change.customer.header();
        let url = join(&self.base, change.action().adapty_path());
        let body = change.adapty_body();
        let request = || {
            self.fresh
                .post(url.clone())
                .header(name.clone(), value.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        };
        self.call(Call::Change(change), request).await
    }

    /// Tries `request` until it succeeds, fails for good, or may not be
    /// repeated, all within one deadline.
    async fn call(&self, call: Call<'_>, request: impl Fn() -> reqwest::RequestBuilder) -> Fetched {
        // The timeout is bounded by its flag's range, so this cannot overflow.
        let deadline = Instant::now() + self.config.timeout;
        let mut tries = 0;
        loop {
            tries += 1;
            let started = Instant::now();
            let timed_out = match call {
                Call::Read => RelayError::UpstreamTimeout,
                Call::Change(_) => {
                    RelayError::OutcomeUnknown("Adapty did not answer in time".into())
                }
            };
            let attempt = tokio::time::timeout_at(deadline, self.attempt(call, request()))
                .await
                .unwrap_or(Attempt {
                    result: Err(timed_out),
                    status: None,
                    retry: Retry::No,
                });
            self.metrics.upstream_request(started.elapsed());
            let fetched = Fetched {
                result: attempt.result,
                upstream_status: attempt.status.map(|status| status.as_u16()),
            };
            let Retry::After(asked) = attempt.retry else {
                return fetched;
            };
            // Adapty's wish may be any size: compared, never added to an instant.
            let wait = backoff(tries).max(asked.unwrap_or_default());
            if tries >= MAX_ATTEMPTS || wait >= deadline.saturating_duration_since(Instant::now()) {
                return fetched;
            }
            tracing::warn!(
                tries,
                wait_ms = wait.as_millis() as u64,
                "retrying Adapty after a transient failure"
            );
            self.metrics.retry();
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: Call<'_>, request: reqwest::RequestBuilder) -> Attempt {
        // A relay full of answers no one takes asks Adapty for nothing more.
        let reservation = match self.budget.reserve().await {
            Ok(reservation) => reservation,
            Err(busy) => {
                return Attempt {
                    result: Err(busy),
                    status: None,
                    retry: Retry::No,
                }
            }
        };
        let sent = request
            .header(
                header::AUTHORIZATION,
                self.config.key.authorization().clone(),
            )
            .header(header::ACCEPT, "application/json")
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let (result, retry) = match call {
                    // A timeout has used the deadline up; anything else may pass on a new connection.
                    Call::Read if error.is_timeout() => (Err(transport_error(error)), Retry::No),
                    Call::Read => (Err(transport_error(error)), Retry::After(None)),
                    // Not connected: nothing was sent, so nothing was changed.
                    Call::Change(_) if error.is_connect() => {
                        tracing::warn!(error = %error, "cannot connect to Adapty for a change");
                        let nothing_sent =
                            "the relay could not connect to Adapty, so nothing was changed";
                        (
                            Err(RelayError::Upstream(nothing_sent.into())),
                            Retry::After(None),
                        )
                    }
                    Call::Change(_) => {
                        tracing::warn!(error = %error, "a change sent to Adapty got no answer");
                        let cause = if error.is_timeout() {
                            "Adapty did not answer in time"
                        } else {
                            "the connection to Adapty failed after the change was sent"
                        };
                        (Err(RelayError::OutcomeUnknown(cause.into())), Retry::No)
                    }
                };
                return Attempt {
                    result,
                    status: None,
                    retry,
                };
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers(), SystemTime::now());
        let retry = match (call, status) {
            (
                Call::Read,
                StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT,
            ) => Retry::After(retry_after),
            _ => Retry::No,
        };
        let read = self.read_capped(response, reservation).await;
        let result = match (call, read) {
            (Call::Read, Ok((bytes, reservation))) => {
                interpret(status, retry_after, bytes).map(|bytes| Profile { bytes, reservation })
            }
            (Call::Change(change), Ok((bytes, reservation))) => {
                interpret_change(change, status, retry_after, bytes)
                    .map(|bytes| Profile { bytes, reservation })
            }
            (Call::Read, Err(BodyError::TooLarge)) => Err(RelayError::UpstreamTooLarge),
            (Call::Read, Err(BodyError::NoRoom(busy))) => {
                return Attempt {
                    result: Err(busy),
                    status: Some(status),
                    retry: Retry::No,
                }
            }
            // A body cut off mid-way is a connection failure: worth another try.
            (Call::Read, Err(BodyError::BrokeOff)) => {
                return Attempt {
                    result: Err(RelayError::Upstream(
                        "Adapty's answer broke off before it was complete".into(),
                    )),
                    status: Some(status),
                    retry: Retry::After(None),
                }
            }
            // Adapty answered, but what it said cannot be read whole.
            (Call::Change(_), Err(why)) => Err(RelayError::OutcomeUnknown(
                match why {
                    BodyError::TooLarge => "Adapty's answer is larger than the relay accepts",
                    BodyError::NoRoom(_) => "the relay had no room for Adapty's answer",
                    BodyError::BrokeOff => "Adapty's answer broke off before it was complete",
                }
                .into(),
            )),
        };
        Attempt {
            result,
            status: Some(status),
            retry,
        }
    }
}

/// Full jitter over an exponential ceiling: 0–100 ms, then 0–200 ms, …
fn backoff(tries: u32) -> Duration {
    let ceiling = FIRST_BACKOFF * 2u32.pow(tries.saturating_sub(1).min(6));
    ceiling.mul_f64(rand::rng().random_range(0.0..=1.0))
}

/// Appends the endpoint path to the base, keeping any path prefix the operator gave.
fn join(base: &Url, path: &str) -> Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(path).expect("a constant relative path")
}

fn transport_error(error: reqwest::Error) -> RelayError {
    // The error's text names the URL, which is harmless, but it is kept to the
    // log: the admin is told what happened, not how reqwest phrased it.
    tracing::warn!(error = %error, "request to Adapty failed");
    if error.is_timeout() {
        RelayError::UpstreamTimeout
    } else if error.is_connect() {
        RelayError::Upstream("the relay could not connect to Adapty".into())
    } else {
        RelayError::Upstream("the connection to Adapty failed".into())
    }
}

/// Adapty's `Retry-After`: delta-seconds of any size (saturating) or an
/// HTTP-date, one in the past meaning now; anything else is no advice.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // All digits, so the parse fails only by being too large.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// Whole seconds for the panel, rounded up, at most a day.
fn retry_after_secs(wait: Duration) -> u64 {
    let wait = wait.min(MAX_RETRY_AFTER);
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Why a body could not be read; the caller decides what each means.
enum BodyError {
    TooLarge,
    BrokeOff,
    /// The budget for answers held in memory is spent.
    NoRoom(RelayError),
}

impl Upstream {
    /// Reads the body, refusing to hold more than the size cap, and only in
    /// room reserved in the budget: for the Content-Length before reading,
    /// or as the buffer grows when Adapty does not say.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        reservation: Reservation,
    ) -> Result<(Bytes, Reservation), BodyError> {
        let cap = self.config.max_body_bytes.get();
        let announced = response.content_length().unwrap_or(0);
        if announced > cap as u64 {
            return Err(BodyError::TooLarge);
        }
        // Room first, then the buffer; no waiting now that Adapty is answering.
        let mut reservation = reservation;
        self.budget
            .grow(&mut reservation, announced as usize)
            .map_err(BodyError::NoRoom)?;
        let mut body = BytesMut::with_capacity(announced as usize);
        while let Some(chunk) = response.chunk().await.map_err(|error| {
            tracing::warn!(error = %error, "reading Adapty's answer failed");
            BodyError::BrokeOff
        })? {
            if body.len() + chunk.len() > cap {
                return Err(BodyError::TooLarge);
            }
            body.reserve(chunk.len());
            self.budget
                .grow(&mut reservation, body.capacity())
                .map_err(BodyError::NoRoom)?;
            body.extend_from_slice(&chunk);
        }
        reservation.shrink_to(body.capacity());
        Ok((body.freeze(), reservation))
    }
}

/// The least a 200 body must be to reach the panel: a JSON envelope with a
/// profile in it. Parsing it whole also proves the JSON is complete and valid;
/// the bytes themselves pass through unchanged.
#[derive(Deserialize)]
#[allow(dead_code)] // Only the shape is checked; the fields are never read.
struct ProfileShape<'a> {
    #[serde(borrow)]
    data: ProfileId<'a>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ProfileId<'a> {
    #[serde(borrow)]
    profile_id: std::borrow::Cow<'a, str>,
}

/// Adapty's error bodies vary; these two fields are the stable part.
#[derive(Deserialize, Default)]
struct AdaptyError {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    status_code: Option<u16>,
}

fn interpret(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Bytes,
) -> Result<Bytes, RelayError> {
    // A wait already over is no wait: the panel then just says "shortly".
    let retry_after = retry_after.map(retry_after_secs).filter(|&secs| secs > 0);
    if status == StatusCode::OK {
        return match serde_json::from_slice::<ProfileShape>(&body) {
            Ok(_) => Ok(body),
            Err(_) => Err(RelayError::Upstream(
                "Adapty answered with something that is not a profile".into(),
            )),
        };
    }
    // Key off `error_code`, then `status_code`, then the HTTP status, as the
    // reference says: the body is the most specific witness.
    let error: AdaptyError = serde_json::from_slice(&body).unwrap_or_default();
    match error.error_code.as_deref() {
        Some("profile_does_not_exist" | "profile_not_found") => {
            return Err(RelayError::ProfileNotFound)
        }
        Some("not_authenticated" | "unauthorized" | "authentication_failed") => {
            return Err(misconfigured(status))
        }
        Some("rate_limited") => {
            return Err(RelayError::RateLimited {
                retry_after_secs: retry_after,
            })
        }
        _ => {}
    }
    let effective = error
        .status_code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(status);
    Err(match effective {
        StatusCode::NOT_FOUND => RelayError::ProfileNotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => misconfigured(effective),
        StatusCode::TOO_MANY_REQUESTS => RelayError::RateLimited {
            retry_after_secs: retry_after,
        },
        StatusCode::BAD_REQUEST => {
            RelayError::InvalidRequest("Adapty rejected this ID as invalid".into())
        }
        code if code.is_redirection() => RelayError::Upstream(format!(
            "Adapty answered with a redirect (HTTP {})",
            code.as_u16()
        )),
        code => RelayError::Upstream(format!(
            "Adapty answered with an error (HTTP {})",
            code.as_u16()
        )),
    })
}

/// Adapty's answer to a change: the profile after it, or what the refusal means.
fn interpret_change(
    change: &Change,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Bytes,
) -> Result<Bytes, RelayError> {
    if status == StatusCode::OK {
        return match serde_json::from_slice::<ProfileShape>(&body) {
            Ok(_) => Ok(body),
            Err(_) => Err(RelayError::OutcomeUnknown(
                "Adapty answered with something that is not a profile".into(),
            )),
        };
    }
    Err(match crate::change::refusal(change, status, &body) {
        RelayError::RateLimited { .. } => RelayError::RateLimited {
            retry_after_secs: retry_after.map(retry_after_secs).filter(|&secs| secs > 0),
        },
        other => other,
    })
}

pub(crate) fn misconfigured(status: StatusCode) -> RelayError {
    // Loud for the operator: every lookup fails until the key is fixed.
    tracing::error!(
        upstream_status = status.as_u16(),
        "Adapty rejected the relay's API key: check ADAPTY_API_KEY_FILE / ADAPTY_API_KEY"
    );
    RelayError::RelayMisconfigured
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<Bytes, RelayError> {
        interpret(
            StatusCode::from_u16(status).unwrap(),
            Some(Duration::from_secs(7)),
            Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn each_documented_error_body_has_its_meaning() {
        let not_found = r#"{"errors":[{"source":null,"errors":["Profile not found"]}],"error_code":"profile_does_not_exist","status_code":404}"#;
        assert_eq!(answer(404, not_found), Err(RelayError::ProfileNotFound));
        let no_key = r#"{"errors":[{"source":"non_field_errors","errors":["Authentication credentials were not provided."]}],"error_code":"not_authenticated","status_code":401}"#;
        assert_eq!(answer(401, no_key), Err(RelayError::RelayMisconfigured));
        let bad_key =
            r#"{"errors":["Invalid API key"],"error_code":"unauthorized","status_code":401}"#;
        assert_eq!(answer(401, bad_key), Err(RelayError::RelayMisconfigured));
        assert_eq!(
            answer(429, r#"{"error_code":"rate_limited","status_code":429}"#),
            Err(RelayError::RateLimited {
                retry_after_secs: Some(7)
            })
        );
        let bad_request =
            r#"{"errors":{"field":["message"]},"error_code":"base_error","status_code":400}"#;
        assert!(matches!(
            answer(400, bad_request),
            Err(RelayError::InvalidRequest(_))
        ));
    }

    #[test]
    fn bodies_without_adapty_json_fall_back_to_the_http_status() {
        assert_eq!(answer(404, ""), Err(RelayError::ProfileNotFound));
        assert!(
            matches!(answer(503, "<html>down</html>"), Err(RelayError::Upstream(m)) if m.contains("503"))
        );
        assert!(matches!(answer(302, ""), Err(RelayError::Upstream(m)) if m.contains("redirect")));
    }

    #[test]
    fn a_200_must_be_a_complete_profile_envelope() {
        let seed = include_str!("../../fixtures/seed.json");
        assert_eq!(answer(200, seed).unwrap(), Bytes::from(seed));
        for nonsense in ["<html>", "{}", r#"{"data":{}}"#, &seed[..seed.len() / 2]] {
            assert!(
                matches!(answer(200, nonsense), Err(RelayError::Upstream(_))),
                "{nonsense}"
            );
        }
    }

    #[test]
    fn retry_after_of_any_size_or_form_is_read_without_overflow() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let read = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::RETRY_AFTER, value.parse().unwrap());
            retry_after(&headers, now)
        };
        assert_eq!(read("7"), Some(Duration::from_secs(7)));
        assert_eq!(read(" 0 "), Some(Duration::ZERO));
        let huge = Some(Duration::from_secs(u64::MAX));
        assert_eq!(read("18446744073709551615"), huge);
        assert_eq!(read("99999999999999999999999999"), huge);
        assert_eq!(read("-5"), None);
        assert_eq!(read("1.5"), None);
        assert_eq!(read("soon"), None);
        assert_eq!(read(""), None);
        assert_eq!(read("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            read("Tue, 14 Nov 2023 22:13:30 GMT"),
            Some(Duration::from_secs(10))
        );
        assert!(read("Fri, 31 Dec 9999 23:59:59 GMT").unwrap() > MAX_RETRY_AFTER);
        assert_eq!(retry_after_secs(Duration::from_secs(u64::MAX)), 86_400);
        assert_eq!(retry_after_secs(Duration::from_millis(1_500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 0);
    }

    #[test]
    fn the_endpoint_keeps_a_path_prefix() {
        let base = Url::parse("http://127.0.0.1:9/prefix").unwrap();
        assert_eq!(
            join(&base, PROFILE_PATH).path(),
            "/prefix/api/v2/server-side-api/profile/"
        );
        let root = Url::parse("https://api.adapty.io").unwrap();
        assert_eq!(
            join(&root, PROFILE_PATH).as_str(),
            "https://api.adapty.io/api/v2/server-side-api/profile/"
        );
    }
}
