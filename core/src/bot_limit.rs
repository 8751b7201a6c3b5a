//! How fast each bot may send: a GCRA bucket per bot (governor), refilling
//! at a steady rate with room for a burst. Persons are not limited here;
//! the edges limit everyone's calls.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::CoreError;
use crate::store::Id;

/// Checks between two sweeps of idle bots.
const SWEEP_EVERY: u32 = 4_096;

/// Sends per bot.
pub struct BotLimiter {
    limiter: DefaultKeyedRateLimiter<Id>,
    clock: DefaultClock,
    checks: AtomicU32,
}

impl BotLimiter {
    /// `per_sec` sends a second sustained, bursts of `burst` (both at least 1).
    pub fn new(per_sec: u32, burst: u32) -> Self {
        let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)),
            clock: DefaultClock::default(),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one send of `bot`'s allowance, or says how long to wait.
    pub fn check(&self, bot: Id) -> Result<(), CoreError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Bots whose bucket is full again are forgotten.
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&bot).map_err(|not_until| {
            metrics::counter!("chat_bot_rate_limited_total").increment(1);
            let wait = not_until.wait_time_from(self.clock.now());
            CoreError::RateLimited {
                retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bot_past_its_burst_waits_and_others_do_not() {
        let limiter = BotLimiter::new(1, 2);
        assert!(limiter.check(7).is_ok() && limiter.check(7).is_ok());
        match limiter.check(7) {
            Err(CoreError::RateLimited { retry_after_ms }) => {
                assert!((1..=1_000).contains(&retry_after_ms), "{retry_after_ms}")
            }
            other => panic!("expected a wait, got {other:?}"),
        }
        assert!(limiter.check(8).is_ok(), "another bot is not affected");
    }
}
