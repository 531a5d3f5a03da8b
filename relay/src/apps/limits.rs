//! Rate limits: per person, so one agent cannot starve the others, and for
//! the whole relay, to protect the app's shared Adapty quota. Changes have
//! their own allowance per person, counted by the hour (a lookup spends
//! none of it, and a change none of the person's lookups).

use crate::config::{ChangesConfig, Limits};
use crate::error::RelayError;
use crate::identity::Actor;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct RateLimits {
    per_actor: DefaultKeyedRateLimiter<Actor>,
    global: DefaultDirectRateLimiter,
    changes_per_actor: Option<(u32, DefaultKeyedRateLimiter<Actor>)>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(limits: &Limits, changes: Option<&ChangesConfig>) -> RateLimits {
        RateLimits {
            per_actor: RateLimiter::keyed(Quota::per_minute(limits.per_actor_per_minute)),
            global: RateLimiter::direct(Quota::per_minute(limits.global_per_minute)),
            changes_per_actor: changes.map(|changes| {
                let per_hour = changes.per_person_per_hour;
                (
                    per_hour.get(),
                    RateLimiter::keyed(Quota::per_hour(per_hour)),
                )
            }),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one change from the actor's hourly allowance and one call from
    /// the relay's (Adapty's quota is the same for both).
    pub fn check_change(&self, actor: &Actor) -> Result<(), RelayError> {
        let Some((per_hour, changes)) = &self.changes_per_actor else {
            return Err(RelayError::ChangesDisabled);
        };
        changes.check_key(actor).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            RelayError::ChangesRateLimited {
                per_hour: *per_hour,
                retry_after_secs: wait.as_secs() + 1,
            }
        })?;
        self.global
            .check()
            .map_err(|not_until| RelayError::RateLimited {
                retry_after_secs: Some(not_until.wait_time_from(self.clock.now()).as_secs() + 1),
            })?;
        if changes.len() > 10_000 {
            changes.retain_recent();
        }
        Ok(())
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
        let limits = RateLimits::new(&config.limits, config.changes.as_ref());
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

    #[test]
    fn changes_have_their_own_allowance_by_the_hour() {
        let args = crate::config::Args::try_parse_from([
            "relay",
            "--demo",
            "--changes-per-hour",
            "2",
            "--rate-limit-per-minute",
            "1",
        ])
        .unwrap();
        let key = crate::config::ApiKey::new("k").unwrap();
        let config = args.into_config_with("https://api.adapty.io", key).unwrap();
        let limits = RateLimits::new(&config.limits, config.changes.as_ref());
        let ann = Actor("ann@example.com".into());
        assert!(limits.check(&ann).is_ok(), "a lookup");
        assert!(
            limits.check_change(&ann).is_ok(),
            "lookups spend none of it"
        );
        assert!(limits.check_change(&ann).is_ok());
        let Err(RelayError::ChangesRateLimited {
            per_hour: 2,
            retry_after_secs,
        }) = limits.check_change(&ann)
        else {
            panic!("ann's third change in an hour must be limited");
        };
        assert!((1..=1801).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(limits
            .check_change(&Actor("bob@example.com".into()))
            .is_ok());
    }
}
