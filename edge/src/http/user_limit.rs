//! Per-user limits on REST calls, like the WebSocket's per-connection frame
//! limit: a GCRA bucket per user (governor), refilling at a steady rate with
//! room for a burst. Past it a call is refused with `429 rate_limited` and
//! told when to come back.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// REST calls per user.
pub struct UserLimiter {
    limiter: DefaultKeyedRateLimiter<u64>,
    clock: DefaultClock,
}

impl UserLimiter {
    /// `per_sec` calls a second sustained, bursts of `burst` (both at least 1).
    pub fn new(per_sec: u32, burst: u32) -> Self {
        let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_sec).allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one call of `user`'s allowance, or says how long to wait.
    pub fn check(&self, user: u64) -> Result<(), ApiError> {
        self.limiter.check_key(&user).map_err(|not_until| {
            metrics::counter!("chat_http_rate_limited_total").increment(1);
            let wait = not_until.wait_time_from(self.clock.now());
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            ApiError::new(
                429,
                "rate_limited",
                "too many requests; slow down and retry",
            )
            .retry_after(ms)
        })
    }

    /// Forgets users whose bucket is full again, so the map holds only the
    /// recently busy.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// How often idle users are forgotten.
pub const FORGET_EVERY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_past_the_burst_waits_and_others_do_not() {
        let limiter = UserLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(limiter.check(7).is_ok());
        }
        let refused = limiter.check(7).expect_err("over the burst");
        assert_eq!(
            (refused.status, refused.code.as_str()),
            (429, "rate_limited")
        );
        let wait = refused.retry_after_ms.expect("a wait");
        assert!((1..=1_000).contains(&wait), "{wait}");
        assert!(limiter.check(8).is_ok(), "another user is not affected");
        limiter.forget_idle();
        assert!(limiter.check(7).is_err(), "a busy user is remembered");
    }
}
