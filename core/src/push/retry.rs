//! When a failed delivery is tried again: exponential backoff with jitter,
//! never sooner than a push service's `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::Rng as _;

/// The delay before try `attempt + 1` (1 = after the first failure):
/// `base · 2^(attempt-1)` capped at `max`, of which a random half to all
/// ("equal jitter": retries of many devices spread out, none comes back
/// at once), and at least `retry_after`.
pub fn delay(
    attempt: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(max);
    let half = exp / 2;
    let jittered = half + rand::rng().random_range(Duration::ZERO..=half);
    jittered.max(retry_after.unwrap_or_default())
}

/// When a delivery that failed its try number `attempts + 1` at `now_ms`
/// is tried next, or `None` when that would be more than
/// `config.max_age_ms` after `since_ms` (it became pending): too old, so
/// given up.
pub fn next_try(
    config: &super::PushConfig,
    attempts: u32,
    since_ms: i64,
    now_ms: i64,
    retry_after: Option<Duration>,
) -> Option<i64> {
    let pause = delay(
        attempts + 1,
        Duration::from_millis(config.retry_base_ms),
        Duration::from_millis(config.retry_max_ms),
        retry_after,
    );
    let due = now_ms.saturating_add(pause.as_millis() as i64);
    (due - since_ms <= config.max_age_ms as i64).then_some(due)
}

/// A `Retry-After` value (RFC 9110): seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(1), Duration::from_secs(60));
        for attempt in 1..12 {
            let exp = Duration::from_secs(1 << (attempt - 1)).min(max);
            for _ in 0..50 {
                let d = delay(attempt, base, max, None);
                assert!(d >= exp / 2 && d <= exp, "try {attempt}: {d:?} vs {exp:?}");
            }
        }
        let d = delay(1, base, max, Some(Duration::from_secs(30)));
        assert_eq!(d, Duration::from_secs(30), "Retry-After wins when later");
    }

    #[test]
    fn a_retry_past_the_max_age_is_given_up() {
        let config = crate::push::PushConfig {
            retry_base_ms: 1_000,
            retry_max_ms: 1_000,
            max_age_ms: 10_000,
            ..Default::default()
        };
        let due = next_try(&config, 0, 0, 5_000, None).expect("within the age");
        assert!((5_500..=6_000).contains(&due), "{due}");
        assert_eq!(
            next_try(&config, 0, 0, 9_600, None),
            None,
            "past 10 s after pending"
        );
        assert_eq!(
            next_try(&config, 0, 0, 1_000, Some(Duration::from_secs(20))),
            None,
            "a Retry-After beyond the age gives up too"
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("date");
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
