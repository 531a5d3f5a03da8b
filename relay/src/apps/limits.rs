//! Rate limits. Lookups: per person, so one agent cannot starve the
//! others, and for the whole app, to protect its shared Adapty quota.
//! Changes: per person and by the hour, in all apps together (a person in
//! two apps has one allowance, not two); a change also spends one call of
//! its app's quota. A lookup spends none of a person's changes, and a
//! change none of their lookups. Reads of the relay's store (a search, an
//! events page) ask nothing of Adapty: they spend none of the app's quota
//! or of a person's lookups, only an allowance of their own per person
//! (a lookup in the panel brings an events page, a search one more call).

use crate::error::{Power, RelayError};
use crate::guard::identity::Actor;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// Actors remembered before those whose allowance is full again are
/// forgotten, so memory stays bounded.
const FORGET_ABOVE: usize = 10_000;

/// A person's store reads a minute for each lookup they may make.
pub const STORE_READS_PER_LOOKUP: u32 = 4;

/// One app's limits.
pub struct RateLimits {
    per_actor: DefaultKeyedRateLimiter<Actor>,
    global: DefaultDirectRateLimiter,
    /// Bulk runs' share of `global`, all runs of the app together: half,
    /// so that interactive lookups keep the other half.
    bulk: DefaultDirectRateLimiter,
    bulk_per_minute: NonZeroU32,
    store_reads: DefaultKeyedRateLimiter<Actor>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(per_person_per_minute: NonZeroU32, global_per_minute: NonZeroU32) -> RateLimits {
        let bulk_per_minute =
            NonZeroU32::new(global_per_minute.get() / 2).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            per_actor: RateLimiter::keyed(Quota::per_minute(per_person_per_minute)),
            global: RateLimiter::direct(Quota::per_minute(global_per_minute)),
            // One at a time: a run's checks are spread over the minute.
            bulk: RateLimiter::direct(
                Quota::with_period(Duration::from_secs(60) / bulk_per_minute.get())
                    .expect("a minute over a positive count is not zero"),
            ),
            bulk_per_minute,
            store_reads: RateLimiter::keyed(Quota::per_minute(
                per_person_per_minute
                    .saturating_mul(NonZeroU32::new(STORE_READS_PER_LOOKUP).expect("not zero")),
            )),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one lookup from the actor's and the app's allowance.
    pub fn check(&self, actor: &Actor) -> Result<(), RelayError> {
        self.per_actor
            .check_key(actor)
            .map_err(|not_until| rate_limited(&self.clock, not_until))?;
        self.check_quota()?;
        if self.per_actor.len() > FORGET_ABOVE {
            self.per_actor.retain_recent();
        }
        Ok(())
    }

    /// Takes one store read from the actor's allowance.
    pub fn check_store_read(&self, actor: &Actor) -> Result<(), RelayError> {
        self.store_reads
            .check_key(actor)
            .map_err(|not_until| rate_limited(&self.clock, not_until))?;
        if self.store_reads.len() > FORGET_ABOVE {
            self.store_reads.retain_recent();
        }
        Ok(())
    }

    /// Checks a minute the app's bulk runs may make together.
    pub fn bulk_per_minute(&self) -> u32 {
        self.bulk_per_minute.get()
    }

    /// Waits for the next bulk check's turn: within the runs' half of the
    /// app's budget, and then for room in the whole of it (which lookups
    /// may have used meanwhile).
    pub async fn bulk_turn(&self) {
        self.bulk.until_ready().await;
        while let Err(not_until) = self.global.check() {
            tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
        }
    }

    /// Takes one call from the app's allowance (Adapty's quota is the same
    /// for lookups and changes).
    pub fn check_quota(&self) -> Result<(), RelayError> {
        self.global
            .check()
            .map_err(|not_until| rate_limited(&self.clock, not_until))
    }
}

fn rate_limited(
    clock: &DefaultClock,
    not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>,
) -> RelayError {
    RelayError::RateLimited {
        retry_after_secs: Some(not_until.wait_time_from(clock.now()).as_secs() + 1),
    }
}

/// Each person's uses of one power an hour (changes, corrections or
/// erasures), in every app together.
pub struct HourlyAllowance {
    power: Power,
    per_hour: NonZeroU32,
    per_actor: DefaultKeyedRateLimiter<Actor>,
    clock: DefaultClock,
}

impl HourlyAllowance {
    pub fn new(power: Power, per_hour: NonZeroU32) -> HourlyAllowance {
        HourlyAllowance {
            power,
            per_hour,
            per_actor: RateLimiter::keyed(Quota::per_hour(per_hour)),
            clock: DefaultClock::default(),
        }
    }

    pub fn power(&self) -> Power {
        self.power
    }

    /// Takes one use from the actor's allowance.
    pub fn take(&self, actor: &Actor) -> Result<(), RelayError> {
        self.per_actor.check_key(actor).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            RelayError::ChangesRateLimited {
                power: self.power,
                per_hour: self.per_hour.get(),
                retry_after_secs: wait.as_secs() + 1,
            }
        })?;
        if self.per_actor.len() > FORGET_ABOVE {
            self.per_actor.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per(count: u32) -> NonZeroU32 {
        NonZeroU32::new(count).unwrap()
    }

    #[test]
    fn each_actor_has_an_allowance_and_the_app_has_one_for_all() {
        let limits = RateLimits::new(per(2), per(3));
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
        assert!(limits.check(&bob).is_err(), "but the app's is spent");
    }

    #[test]
    fn changes_have_their_own_allowance_by_the_hour() {
        let lookups = RateLimits::new(per(1), per(600));
        let changes = HourlyAllowance::new(Power::Change, per(2));
        let ann = Actor("ann@example.com".into());
        assert!(lookups.check(&ann).is_ok(), "a lookup");
        assert!(changes.take(&ann).is_ok(), "lookups spend none of it");
        assert!(changes.take(&ann).is_ok());
        let Err(RelayError::ChangesRateLimited {
            power: Power::Change,
            per_hour: 2,
            retry_after_secs,
        }) = changes.take(&ann)
        else {
            panic!("ann's third change in an hour must be limited");
        };
        assert!((1..=1801).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(changes.take(&Actor("bob@example.com".into())).is_ok());
    }
}
