//! How Adapty is asked: a request built from scratch for every call, and
//! every answer sorted into a profile or a `RelayError`.
//!
//! A lookup is a read: repeated on transient failures. A change is not:
//! repeated only when its connection failed before anything was sent, and
//! once it may have reached Adapty, an answer that does not arrive whole
//! leaves its outcome unknown (never guessed either way).

use super::answer::{self, Asked};
use super::budget::{Budget, Reservation};
use super::key::ApiKey;
use super::paths;
use crate::error::RelayError;
use crate::metrics::Metrics;
use crate::rules::change::Change;
use crate::rules::correction::Correction;
use crate::rules::lookup::Lookup;
use axum::http::{header, StatusCode};
use bytes::{Bytes, BytesMut};
use rand::Rng;
use reqwest::{redirect, Client, Url};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Tries of one lookup, the first included, all within the deadline.
const MAX_ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

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

impl Fetched {
    /// Whether it failed before anything was sent: no connection could be
    /// made, or no room for Adapty's answer. Anything else may have reached
    /// Adapty.
    pub fn nothing_sent(&self) -> bool {
        matches!(
            self.result,
            Err(RelayError::Upstream(_) | RelayError::Busy { .. })
        )
    }
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
        let profile_url = join(&config.base, paths::PROFILE);
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
        self.read_profile(lookup, MAX_ATTEMPTS).await
    }

    /// The profile, tried once: for a bulk run, whose every call to Adapty
    /// must have taken its turn in the app's budget.
    pub async fn fetch_profile_once(&self, lookup: &Lookup) -> Fetched {
        self.read_profile(lookup, 1).await
    }

    async fn read_profile(&self, lookup: &Lookup, attempts: u32) -> Fetched {
        let (name, value) = lookup.header();
        let request = || {
            self.http
                .get(self.profile_url.clone())
                .header(name.clone(), value.clone())
        };
        self.call(Asked::Read, request, attempts).await
    }

    /// Grants or revokes, and Adapty's answer: the whole profile as it is
    /// now. Never repeated once it may have reached Adapty.
    pub async fn change_access(&self, change: &Change) -> Fetched {
        let (name, value) = change.customer.header();
        let url = join(&self.base, paths::of_change(change.action()));
        let body = change.adapty_body();
        let request = || {
            self.fresh
                .post(url.clone())
                .header(name.clone(), value.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        };
        let asked = Asked::Change {
            access_level_id: &change.access_level_id,
            revoke: change.action() == crate::rules::change::Action::Revoke,
        };
        self.call(asked, request, MAX_ATTEMPTS).await
    }

    /// Corrects the profile's contact details and custom attributes, and
    /// Adapty's answer: the whole profile as it is now. Never repeated once
    /// it may have reached Adapty.
    pub async fn correct_profile(&self, correction: &Correction, customer: &Lookup) -> Fetched {
        let (name, value) = customer.header();
        let body = correction.adapty_body();
        let request = || {
            self.fresh
                .patch(self.profile_url.clone())
                .header(name.clone(), value.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        };
        self.call(Asked::Correct, request, MAX_ATTEMPTS).await
    }

    /// Erases the profile from Adapty for good; `Ok` holds no bytes (Adapty
    /// answers 204). Never repeated once it may have reached Adapty.
    pub async fn erase_profile(&self, customer: &Lookup) -> Fetched {
        let (name, value) = customer.header();
        let request = || {
            self.fresh
                .delete(self.profile_url.clone())
                .header(name.clone(), value.clone())
        };
        self.call(Asked::Erase, request, MAX_ATTEMPTS).await
    }

    /// Tries `request` (at most `attempts` times) until it succeeds, fails
    /// for good, or may not be repeated, all within one deadline.
    async fn call(
        &self,
        asked: Asked<'_>,
        request: impl Fn() -> reqwest::RequestBuilder,
        attempts: u32,
    ) -> Fetched {
        // The timeout is bounded by its flag's range, so this cannot overflow.
        let deadline = Instant::now() + self.config.timeout;
        let mut tries = 0;
        loop {
            tries += 1;
            let started = Instant::now();
            let timed_out = match asked.writes() {
                false => RelayError::UpstreamTimeout,
                true => RelayError::OutcomeUnknown("Adapty did not answer in time".into()),
            };
            let attempt = tokio::time::timeout_at(deadline, self.attempt(asked, request()))
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
            if tries >= attempts || wait >= deadline.saturating_duration_since(Instant::now()) {
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

    async fn attempt(&self, asked: Asked<'_>, request: reqwest::RequestBuilder) -> Attempt {
        // A relay full of answers no one takes asks Adapty for nothing more.
        let reservation = match self.budget.reserve().await {
            Ok(reservation) => reservation,
            Err(busy) => return Attempt::failed(busy, None, Retry::No),
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
            Err(error) => return not_answered(asked, error),
        };
        let status = response.status();
        let retry_after = answer::retry_after(response.headers(), SystemTime::now());
        let retry = match (asked, status) {
            (
                Asked::Read,
                StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT,
            ) => Retry::After(retry_after),
            _ => Retry::No,
        };
        match self.read_capped(response, reservation).await {
            Ok((bytes, reservation)) => Attempt {
                result: answer::interpret(asked, status, retry_after, bytes)
                    .map(|bytes| Profile { bytes, reservation }),
                status: Some(status),
                retry,
            },
            Err(why) => unread(asked, status, why),
        }
    }
}

impl Attempt {
    fn failed(error: RelayError, status: Option<StatusCode>, retry: Retry) -> Attempt {
        Attempt {
            result: Err(error),
            status,
            retry,
        }
    }
}

/// No answer came: what that means, and whether another try may follow.
fn not_answered(asked: Asked<'_>, error: reqwest::Error) -> Attempt {
    let (error, retry) = match asked {
        // A timeout has used the deadline up; anything else may pass on a new connection.
        Asked::Read if error.is_timeout() => (transport_error(error), Retry::No),
        Asked::Read => (transport_error(error), Retry::After(None)),
        // Not connected: nothing was sent, so nothing was changed.
        _ if error.is_connect() => {
            tracing::warn!(error = %error, "cannot connect to Adapty for a change");
            let nothing_sent = "the relay could not connect to Adapty, so nothing was changed";
            (
                RelayError::Upstream(nothing_sent.into()),
                Retry::After(None),
            )
        }
        _ => {
            tracing::warn!(error = %error, "a change sent to Adapty got no answer");
            let cause = if error.is_timeout() {
                "Adapty did not answer in time"
            } else {
                "the connection to Adapty failed after the change was sent"
            };
            (RelayError::OutcomeUnknown(cause.into()), Retry::No)
        }
    };
    Attempt::failed(error, None, retry)
}

/// Adapty answered, but its answer could not be read whole.
fn unread(asked: Asked<'_>, status: StatusCode, why: BodyError) -> Attempt {
    let status = Some(status);
    match (asked, why) {
        (Asked::Read, BodyError::TooLarge) => {
            Attempt::failed(RelayError::UpstreamTooLarge, status, Retry::No)
        }
        (Asked::Read, BodyError::NoRoom(busy)) => Attempt::failed(busy, status, Retry::No),
        // A body cut off mid-way is a connection failure: worth another try.
        (Asked::Read, BodyError::BrokeOff) => Attempt::failed(
            RelayError::Upstream("Adapty's answer broke off before it was complete".into()),
            status,
            Retry::After(None),
        ),
        // What Adapty said of a change cannot be read: it may have been made.
        (_, why) => Attempt::failed(
            RelayError::OutcomeUnknown(
                match why {
                    BodyError::TooLarge => "Adapty's answer is larger than the relay accepts",
                    BodyError::NoRoom(_) => "the relay had no room for Adapty's answer",
                    BodyError::BrokeOff => "Adapty's answer broke off before it was complete",
                }
                .into(),
            ),
            status,
            Retry::No,
        ),
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

/// How one app's Adapty is asked.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub base: Url,
    pub key: ApiKey,
    pub timeout: Duration,
    pub max_body_bytes: NonZeroUsize,
}

/// How every app's Adapty is asked, from the flags.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub timeout: Duration,
    pub max_body_bytes: NonZeroUsize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_a_path_prefix() {
        let base = Url::parse("http://127.0.0.1:9/prefix").unwrap();
        assert_eq!(
            join(&base, paths::PROFILE).path(),
            "/prefix/api/v2/server-side-api/profile/"
        );
        let root = Url::parse("https://api.adapty.io").unwrap();
        assert_eq!(
            join(&root, paths::PROFILE).as_str(),
            "https://api.adapty.io/api/v2/server-side-api/profile/"
        );
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let config = UpstreamConfig {
            base: Url::parse("https://api.adapty.io").unwrap(),
            key: ApiKey::new("secret_live_abc123").unwrap(),
            timeout: Duration::from_secs(1),
            max_body_bytes: NonZeroUsize::MIN,
        };
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("abc123") && debug.contains("redacted"),
            "{debug}"
        );
    }
}
