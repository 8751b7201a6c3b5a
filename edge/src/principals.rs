//! The edge's cache of REST principals: which user a bearer token belongs
//! to, so a REST call need not ask the core's `Authenticate` first. A call
//! that reaches the core has its token checked there too; a read the
//! metadata cache answers (`crate::cache`) trusts this entry alone, so a
//! revocation made through this edge drops the user's entries at once,
//! and one made elsewhere as soon as its event arrives.
//!
//! Bounded in entries and age (`edge.principal_cache_size`,
//! `edge.principal_cache_ttl_ms`); an entry is also dropped when its
//! token's `TokenRevoked` event reaches this edge, and is not used past
//! the token's expiry. A load that raced a revocation (it asked the core
//! before the token was revoked and would insert after the event dropped
//! it) drops what it inserted, as the revocation counter tells it.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use moka::future::Cache;

use crate::clock::wall_ms as now_ms;
use crate::error::ApiError;

/// Who a token belongs to, as the core said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The token's user.
    pub user_id: u64,
    /// The token's id, which revocations name.
    pub token_id: u64,
    /// When the token expires unless used, Unix ms (0: not said).
    pub expires_at_ms: i64,
}

/// Principals by bearer token.
pub struct Principals {
    cache: Cache<String, Principal>,
    revocations: AtomicU64,
}

/// Every cache of this process. The event stream's handler reaches them
/// through [`revoked`]; token ids are unique everywhere, so telling every
/// edge of the process (tests run several) is right.
static LIVE: Mutex<Vec<Weak<Principals>>> = Mutex::new(Vec::new());

/// Drops the tokens `token_ids` from every principal cache of the process.
pub fn revoked(token_ids: &[u64]) {
    let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    live.retain(|cache| match cache.upgrade() {
        Some(cache) => {
            cache.revoke(token_ids);
            true
        }
        None => false,
    });
}

/// Drops every token of `user_id` from every principal cache of the
/// process: they were just revoked through this edge, and cached reads make
/// no core call that would refuse them.
pub fn user_revoked(user_id: u64) {
    let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    live.retain(|cache| match cache.upgrade() {
        Some(cache) => {
            cache.forget_user(user_id);
            true
        }
        None => false,
    });
}

impl Principals {
    /// A cache of at most `size` principals, each kept at most `ttl`,
    /// listed for [`revoked`].
    pub fn start(size: u64, ttl: Duration) -> Arc<Self> {
        let principals = Arc::new(Self {
            cache: Cache::builder()
                .max_capacity(size)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            revocations: AtomicU64::new(0),
        });
        LIVE.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&principals));
        principals
    }

    /// The principal of `token`: cached, or from `load` (the core's
    /// `Authenticate`) and then cached.
    pub async fn resolve<F, Fut>(&self, token: &str, load: F) -> Result<Principal, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Principal, ApiError>>,
    {
        if let Some(hit) = self.cache.get(token).await
            && (hit.expires_at_ms == 0 || hit.expires_at_ms > now_ms())
        {
            metrics::counter!("chat_edge_principal_cache_hits_total").increment(1);
            return Ok(hit);
        }
        metrics::counter!("chat_edge_principal_cache_misses_total").increment(1);
        let before = self.revocations.load(Ordering::SeqCst);
        let principal = load().await?;
        if self.revocations.load(Ordering::SeqCst) == before {
            self.cache.insert(token.to_owned(), principal).await;
            // A revocation between the check and the insert may have
            // passed this entry by.
            if self.revocations.load(Ordering::SeqCst) != before {
                self.cache.invalidate(token).await;
            }
        }
        Ok(principal)
    }

    /// Drops the entries of `user_id`'s tokens.
    pub fn forget_user(&self, user_id: u64) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        let dropped = self
            .cache
            .invalidate_entries_if(move |_, p| p.user_id == user_id);
        if dropped.is_err() {
            self.cache.invalidate_all();
        }
    }

    /// Drops the entries of `token_ids`.
    pub fn revoke(&self, token_ids: &[u64]) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        let ids = token_ids.to_vec();
        let dropped = self
            .cache
            .invalidate_entries_if(move |_, p| ids.contains(&p.token_id));
        if dropped.is_err() {
            // Only if the cache were built without closures: forget all.
            self.cache.invalidate_all();
        }
        metrics::counter!("chat_edge_principal_cache_revocations_total").increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(token_id: u64) -> Principal {
        Principal {
            user_id: 7,
            token_id,
            expires_at_ms: 0,
        }
    }

    async fn resolve(cache: &Principals, token: &str, id: u64, loads: &AtomicU64) -> Principal {
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(principal(id))
        };
        cache.resolve(token, load).await.expect("loads")
    }

    #[tokio::test]
    async fn a_token_is_loaded_once_until_it_is_revoked() {
        let cache = Principals::start(10, Duration::from_secs(60));
        let loads = AtomicU64::new(0);
        resolve(&cache, "a", 1, &loads).await;
        resolve(&cache, "a", 1, &loads).await;
        resolve(&cache, "b", 2, &loads).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        revoked(&[1]);
        resolve(&cache, "a", 1, &loads).await;
        resolve(&cache, "b", 2, &loads).await;
        assert_eq!(loads.load(Ordering::SeqCst), 3, "only a was dropped");
    }

    #[tokio::test]
    async fn a_load_that_raced_a_revocation_is_not_kept() {
        let cache = Principals::start(10, Duration::from_secs(60));
        let racing = cache.resolve("a", || async {
            cache.revoke(&[1]);
            Ok(principal(1))
        });
        assert_eq!(racing.await.expect("loads").token_id, 1);
        let loads = AtomicU64::new(0);
        resolve(&cache, "a", 1, &loads).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1, "not cached");
    }

    #[tokio::test]
    async fn an_expired_token_is_asked_about_again() {
        let cache = Principals::start(10, Duration::from_secs(60));
        let expired = Principal {
            expires_at_ms: 1,
            ..principal(1)
        };
        cache
            .resolve("a", || async { Ok(expired) })
            .await
            .expect("loads");
        let loads = AtomicU64::new(0);
        resolve(&cache, "a", 1, &loads).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }
}
