//! Slows down password guessing: failed logins are counted per account and
//! per client address, and past a free allowance each further failure makes
//! the next attempt wait twice as long as the one before, up to a ceiling.
//! While a key waits, every attempt with it is refused without checking the
//! password, so guessing costs the guesser time and the server nothing.
//!
//! The counts live in bounded caches that forget a key after a quiet
//! window; time is an argument, so the rule is tested without a clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;

/// How failures turn into delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardRule {
    /// Failures allowed before the first delay.
    pub free: u32,
    /// The first delay; each further failure doubles it.
    pub base_ms: u64,
    /// The longest delay.
    pub max_ms: u64,
}

/// Failures of one key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    count: u32,
    /// No attempt before this time, Unix milliseconds.
    until_ms: i64,
}

impl Failures {
    /// How long an attempt at `now_ms` must still wait, if at all.
    pub fn wait(&self, now_ms: i64) -> Option<Duration> {
        let left = self.until_ms.saturating_sub(now_ms);
        (left > 0).then(|| Duration::from_millis(left as u64))
    }

    /// Counts a failure at `now_ms` and sets the next allowed time.
    pub fn fail(&mut self, rule: GuardRule, now_ms: i64) {
        self.count = self.count.saturating_add(1);
        if self.count > rule.free {
            let doublings = (self.count - rule.free - 1).min(40);
            let delay = rule.base_ms.saturating_mul(1 << doublings).min(rule.max_ms);
            self.until_ms = now_ms.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
        }
    }
}

type Counts = Cache<String, Arc<Mutex<Failures>>>;

/// Login failures per account and per client address.
pub struct LoginGuard {
    accounts: Counts,
    addresses: Counts,
    account_rule: GuardRule,
    address_rule: GuardRule,
}

/// Most accounts and addresses remembered at once, each.
const KEYS: u64 = 100_000;

fn counts(window: Duration) -> Counts {
    Cache::builder()
        .max_capacity(KEYS)
        .time_to_idle(window)
        .build()
}

fn lock(f: &Mutex<Failures>) -> std::sync::MutexGuard<'_, Failures> {
    f.lock().unwrap_or_else(|p| p.into_inner())
}

impl LoginGuard {
    /// A guard with these rules; a key is forgotten after `window` without a failure.
    pub fn new(account_rule: GuardRule, address_rule: GuardRule, window: Duration) -> Self {
        Self {
            accounts: counts(window),
            addresses: counts(window),
            account_rule,
            address_rule,
        }
    }

    /// How long an attempt on `account` from `address` must wait, if at all.
    pub async fn wait(&self, account: &str, address: &str, now_ms: i64) -> Option<Duration> {
        let mut longest = None;
        for (cache, key) in [(&self.accounts, account), (&self.addresses, address)] {
            if key.is_empty() {
                continue;
            }
            if let Some(f) = cache.get(key).await {
                longest = longest.max(lock(&f).wait(now_ms));
            }
        }
        longest
    }

    /// Counts a failed attempt.
    pub async fn failed(&self, account: &str, address: &str, now_ms: i64) {
        let pairs = [
            (&self.accounts, account, self.account_rule),
            (&self.addresses, address, self.address_rule),
        ];
        for (cache, key, rule) in pairs {
            if key.is_empty() {
                continue;
            }
            let entry = cache
                .get_with(key.to_owned(), async { Arc::default() })
                .await;
            lock(&entry).fail(rule, now_ms);
        }
    }

    /// A correct password clears the account's failures (not the address's:
    /// one good account must not launder guesses at others).
    pub async fn succeeded(&self, account: &str) {
        self.accounts.invalidate(account).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: GuardRule = GuardRule {
        free: 3,
        base_ms: 1_000,
        max_ms: 5_000,
    };

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_ceiling() {
        let mut f = Failures::default();
        for _ in 0..3 {
            f.fail(RULE, 0);
            assert_eq!(f.wait(0), None);
        }
        let mut delays = Vec::new();
        for _ in 0..5 {
            f.fail(RULE, 100);
            delays.push(f.wait(100).map(|d| d.as_millis()));
        }
        assert_eq!(
            delays,
            [
                Some(1_000),
                Some(2_000),
                Some(4_000),
                Some(5_000),
                Some(5_000)
            ]
        );
        assert_eq!(f.wait(100 + 4_999).map(|d| d.as_millis()), Some(1));
        assert_eq!(f.wait(100 + 5_000), None);
    }

    #[tokio::test]
    async fn accounts_and_addresses_are_counted_apart() {
        let guard = LoginGuard::new(RULE, GuardRule { free: 5, ..RULE }, Duration::from_secs(60));
        for _ in 0..4 {
            guard.failed("ann", "10.0.0.1", 0).await;
        }
        assert!(
            guard.wait("ann", "10.0.0.9", 0).await.is_some(),
            "the account waits"
        );
        assert!(
            guard.wait("bob", "10.0.0.1", 0).await.is_none(),
            "4 of 5 free"
        );
        guard.failed("bob", "10.0.0.1", 0).await;
        guard.failed("cyd", "10.0.0.1", 0).await;
        assert!(
            guard.wait("dan", "10.0.0.1", 0).await.is_some(),
            "the address waits"
        );
        guard.succeeded("ann").await;
        assert!(guard.wait("ann", "10.0.0.9", 0).await.is_none());
        assert!(guard.wait("ann", "10.0.0.1", 0).await.is_some());
    }
}
