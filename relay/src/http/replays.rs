//! Changes sent again: a change whose request ID (the client's, or its
//! proxy's) was sent by the same person in the last ten minutes is refused
//! without asking Adapty, so a replayed or resubmitted request never makes
//! a second change. Lookups may repeat; only changes are remembered.

use crate::error::RelayError;
use crate::guard::identity::Actor;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a change's request ID is remembered.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Request IDs remembered at most: beyond, the oldest are forgotten first
/// (far more than the changes per hour a team can make).
const MOST: usize = 100_000;

#[derive(Default)]
pub struct Replays {
    sent: Mutex<HashMap<(Actor, String), Instant>>,
}

/// A request ID held for a change about to be sent; dropped unsent (the
/// audit log refused its line), it is given back.
pub struct Claim<'a> {
    replays: &'a Replays,
    key: Option<(Actor, String)>,
}

impl Replays {
    /// Holds `request_id` for `actor`'s change, or says it was sent already.
    pub fn claim(&self, actor: &Actor, request_id: &str) -> Result<Claim<'_>, RelayError> {
        let now = Instant::now();
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (actor.clone(), request_id.to_owned());
        if let Some(at) = sent
            .get(&key)
            .filter(|at| now.duration_since(**at) < WINDOW)
        {
            return Err(RelayError::DuplicateChange(format!(
                "a change with this request ID ({request_id}) was sent {} seconds ago; nothing \
                 was sent again: look the customer up to see what it did",
                now.duration_since(*at).as_secs()
            )));
        }
        if sent.len() >= MOST {
            sent.retain(|_, at| now.duration_since(*at) < WINDOW);
            if sent.len() >= MOST {
                let oldest = sent
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(key, _)| key.clone());
                oldest.map(|key| sent.remove(&key));
            }
        }
        sent.insert(key.clone(), now);
        Ok(Claim {
            replays: self,
            key: Some(key),
        })
    }
}

impl Claim<'_> {
    /// The change was sent (or may have been): the ID stays held.
    pub fn keep(mut self) {
        self.key = None;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut sent = self
                .replays
                .sent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            sent.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_sent_once_is_refused_again_and_given_back_if_unsent() {
        let replays = Replays::default();
        let ann = Actor("ann@example.com".into());
        let bob = Actor("bob@example.com".into());
        replays.claim(&ann, "r-1").unwrap().keep();
        let again = replays.claim(&ann, "r-1").err().unwrap();
        assert!(matches!(again, RelayError::DuplicateChange(ref m) if m.contains("r-1")));
        assert!(replays.claim(&bob, "r-1").is_ok(), "another person's ID");
        drop(replays.claim(&ann, "r-2").unwrap());
        assert!(replays.claim(&ann, "r-2").is_ok(), "unsent: given back");
    }
}
