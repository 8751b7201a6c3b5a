//! A bounded cache of the principals behind bearer tokens, so a call made
//! on behalf of a user costs no storage read for its token. Keyed by the
//! token's SHA-256 (what storage keys), never the token itself.
//!
//! Entries live at most the TTL and are dropped when their token is
//! revoked in this process. A load that raced a revocation (it read the
//! token before the revocation deleted it, and would insert it after the
//! revocation dropped the cache's copy) is caught by the revocation
//! counter: a loader notes it before reading, and drops what it inserted
//! if the counter moved meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;

use crate::store::Id;

/// Who a live token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The token's user.
    pub user_id: Id,
    /// The token's id.
    pub token_id: Id,
    /// When the token expires unless used again, Unix ms (0: never), as
    /// of when it was loaded.
    pub expires_at_ms: i64,
}

/// The SHA-256 of a token.
pub type TokenHash = [u8; 32];

/// Principals by token hash, bounded in size and age.
pub struct PrincipalCache {
    cache: Cache<TokenHash, Principal>,
    revocations: AtomicU64,
}

/// Where a load started: pass it back to [`PrincipalCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct LoadTicket(u64);

impl PrincipalCache {
    /// A cache of at most `size` principals, each kept at most `ttl`.
    pub fn new(size: u64, ttl: Duration) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(size)
                .time_to_live(ttl)
                .build(),
            revocations: AtomicU64::new(0),
        }
    }

    /// The cached principal of `hash`, if any.
    pub async fn get(&self, hash: &TokenHash) -> Option<Principal> {
        let hit = self.cache.get(hash).await;
        if hit.is_some() {
            metrics::counter!("chat_core_principal_cache_hits_total").increment(1);
        } else {
            metrics::counter!("chat_core_principal_cache_misses_total").increment(1);
        }
        hit
    }

    /// Call before reading a token from storage.
    pub fn ticket(&self) -> LoadTicket {
        LoadTicket(self.revocations.load(Ordering::SeqCst))
    }

    /// Caches what a load that began at `ticket` read, unless a revocation
    /// happened since (then the read may be of a token already gone).
    pub async fn insert(&self, hash: TokenHash, principal: Principal, ticket: LoadTicket) {
        if self.revocations.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        self.cache.insert(hash, principal).await;
        // A revocation between the check and the insert may have dropped
        // the cache's copy before this one went in.
        if self.revocations.load(Ordering::SeqCst) != ticket.0 {
            self.cache.invalidate(&hash).await;
        }
    }

    /// Forgets every cached token of `user`: another node revoked some of
    /// them, and which it does not say. They load again on their next use.
    pub async fn forget_user(&self, user: Id) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        let theirs: Vec<TokenHash> = self
            .cache
            .iter()
            .filter(|(_, p)| p.user_id == user)
            .map(|(hash, _)| *hash)
            .collect();
        for hash in theirs {
            self.cache.invalidate(&hash).await;
        }
    }

    /// Forgets revoked tokens; call after storage deleted them.
    pub async fn revoke(&self, hashes: &[TokenHash]) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        for hash in hashes {
            self.cache.invalidate(hash).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Principal = Principal {
        user_id: 7,
        token_id: 9,
        expires_at_ms: 0,
    };

    #[tokio::test]
    async fn a_revoked_token_is_forgotten() {
        let cache = PrincipalCache::new(10, Duration::from_secs(60));
        let ticket = cache.ticket();
        cache.insert([1; 32], P, ticket).await;
        assert_eq!(cache.get(&[1; 32]).await, Some(P));
        cache.revoke(&[[1; 32]]).await;
        assert_eq!(cache.get(&[1; 32]).await, None);
    }

    #[tokio::test]
    async fn forgetting_a_user_drops_their_tokens_alone() {
        let cache = PrincipalCache::new(10, Duration::from_secs(60));
        let other = Principal { user_id: 8, ..P };
        cache.insert([1; 32], P, cache.ticket()).await;
        cache.insert([2; 32], P, cache.ticket()).await;
        cache.insert([3; 32], other, cache.ticket()).await;
        let ticket = cache.ticket();
        cache.forget_user(7).await;
        assert_eq!(cache.get(&[1; 32]).await, None);
        assert_eq!(cache.get(&[2; 32]).await, None);
        assert_eq!(cache.get(&[3; 32]).await, Some(other));
        cache.insert([1; 32], P, ticket).await;
        assert_eq!(
            cache.get(&[1; 32]).await,
            None,
            "a load from before is stale"
        );
    }

    #[tokio::test]
    async fn a_load_that_raced_a_revocation_is_not_cached() {
        let cache = PrincipalCache::new(10, Duration::from_secs(60));
        let ticket = cache.ticket();
        // The token was read, then revoked before the load inserted it.
        cache.revoke(&[[2; 32]]).await;
        cache.insert([2; 32], P, ticket).await;
        assert_eq!(cache.get(&[2; 32]).await, None);
        // A load that began after the revocation caches as usual.
        let ticket = cache.ticket();
        cache.insert([3; 32], P, ticket).await;
        assert_eq!(cache.get(&[3; 32]).await, Some(P));
    }

    #[tokio::test]
    async fn entries_expire_after_the_ttl() {
        let cache = PrincipalCache::new(10, Duration::from_millis(50));
        let ticket = cache.ticket();
        cache.insert([4; 32], P, ticket).await;
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(cache.get(&[4; 32]).await, None);
    }
}
