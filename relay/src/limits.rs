//! Rate limits: per person, so one agent cannot starve the others, and for
//! the whole relay, to protect the app's shared Adapty quota.

use crate::config::Limits;
use crate::error::RelayError;
use crate::identity::Actor;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct RateLimits {
    per_actor: DefaultKeyedRateLimiter<Actor>,
    global: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(limits: &Limits) -> RateLimits {
        RateLimits {
            per_actor: RateLimiter::keyed(Quota::per_minute(limits.per_actor_per_minute)),
            global: RateLimiter::direct(Quota::per_minute(limits.global_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one lookup from the actor's and the relay's allowance.
    pub fn check(&self, actor: &Actor) -> Result<(), RelayError> {
        let limited = |not_until: governor::NotUntil<_>| {
            let wait = not_until.wait_time_from(self.clock.now());
            RelayError::RateLimited {
                retry_after_secs: Some(wait.as_secs() + 1),
            }
        };
        self.per_actor.check_key(actor).map_err(limited)?;
        self.global.check().map_err(limited)?;
        // Forget actors whose allowance is full again, so memory stays bounded.
        if self.per_actor.len() > 10_000 {
            self.per_actor.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn each_actor_has_an_allowance_and_the_relay_has_one_for_all() {
        let args = crate::config::Args::try_parse_from([
            "relay",
            "--rate-limit-per-minute",
            "2",
            "--global-rate-limit-per-minute",
            "3",
        ])
        .unwrap();
        let key = crate::config::ApiKey::new("k").unwrap();
        let config = args.into_config_with("https://api.adapty.io", key).unwrap();
        let limits = RateLimits::new(&config.limits);
        let ann = Actor("ann@example.com".into());
        let bob = Actor("bob@example.com".into());
        assert!(limits.check(&ann).is_ok());
        assert!(limits.check(&ann).is_ok());
        let Err(RelayError::RateLimited {
            retry_after_secs: Some(wait),
        }) = limits.check(&ann)
        else {
            panic!("ann's third lookup in a minute must be limited");
        };
        assert!((1..=31).contains(&wait), "{wait}");
        assert!(limits.check(&bob).is_ok(), "bob has his own allowance");
        assert!(limits.check(&bob).is_err(), "but the relay's is spent");
    }
}
