//! Whether a 1:1 message is allowed: neither user may block the other.
//!
//! Sends read two caches instead of storage. A block or unblock bumps a
//! generation after it is stored; a cached answer loaded under an older
//! generation is read again, so a lookup that raced a block can never keep
//! a stale "not blocked" in the cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::future::Cache;

use crate::error::CoreError;
use crate::store::{Id, RelationKind, Store, StoreError};

/// Cached block and channel-kind lookups for the send path.
pub struct BlockCache<S> {
    store: Arc<S>,
    /// Whether a channel is 1:1 (never changes).
    direct: Cache<Id, bool>,
    /// Per user pair (low, high): the generation read and whether either blocks.
    blocked: Cache<(Id, Id), (u64, bool)>,
    generation: AtomicU64,
    /// Whether pair answers are kept: only where every block is stored
    /// through this node.
    keep_pairs: bool,
}

fn backend(e: Arc<StoreError>) -> CoreError {
    CoreError::Storage(StoreError::Backend(e.to_string()))
}

impl<S: Store> BlockCache<S> {
    /// Caches over `store`, each holding up to `capacity` entries; pair
    /// answers are kept only if `keep_pairs` (this node stores every block).
    pub fn new(store: Arc<S>, capacity: u64, keep_pairs: bool) -> Self {
        Self {
            store,
            direct: Cache::new(capacity),
            blocked: Cache::new(capacity),
            generation: AtomicU64::new(0),
            keep_pairs,
        }
    }

    /// Call after storing a block or unblock.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// `Blocked` if `channel` is 1:1 between `members` and either blocks the other.
    pub async fn check(&self, channel: Id, members: &[Id]) -> Result<(), CoreError> {
        let [a, b] = members else {
            return Ok(());
        };
        let store = self.store.clone();
        let direct = self
            .direct
            .try_get_with(channel, async move {
                let found = store.channel(channel).await?;
                Ok::<_, StoreError>(found.is_some_and(|c| c.direct_key.is_some()))
            })
            .await
            .map_err(backend)?;
        if !direct {
            return Ok(());
        }
        let key = ((*a).min(*b), (*a).max(*b));
        if !self.keep_pairs {
            if self.load(key).await?.1 {
                return Err(CoreError::Blocked);
            }
            return Ok(());
        }
        let now = self.generation.load(Ordering::SeqCst);
        let (seen, blocked) = self
            .blocked
            .try_get_with(key, self.load(key))
            .await
            .map_err(backend)?;
        let blocked = if seen < now {
            let fresh = self.load(key).await?;
            self.blocked.insert(key, fresh).await;
            fresh.1
        } else {
            blocked
        };
        if blocked {
            return Err(CoreError::Blocked);
        }
        Ok(())
    }

    /// Reads the generation, then storage: the answer is at least that new.
    fn load(
        &self,
        (a, b): (Id, Id),
    ) -> impl Future<Output = Result<(u64, bool), StoreError>> + Send + 'static {
        let generation = self.generation.load(Ordering::SeqCst);
        let store = self.store.clone();
        async move {
            let one = store.relation(a, b).await?;
            let other = store.relation(b, a).await?;
            let blocked = [one, other]
                .iter()
                .flatten()
                .any(|r| r.kind == RelationKind::Blocked);
            Ok((generation, blocked))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AccountStore, ChannelKind, ChannelRecord, ChannelStore, UserRecord};

    /// Users 1 and 2 and their 1:1 channel 10.
    async fn two_users_and_their_dm() -> (Arc<SqliteStore>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(SqliteStore::open(dir.path()).expect("open"));
        for (id, name) in [(1, "ann"), (2, "bob")] {
            let user = UserRecord::new(id, name.into(), "x".into(), 0);
            store.create_user(user).await.expect("user");
        }
        let direct = ChannelRecord {
            id: 10,
            kind: ChannelKind::Direct,
            name: String::new(),
            owner_id: 1,
            direct_key: Some("1:2".into()),
            created_at_ms: 0,
            last_message_id: 0,
        };
        store.create_channel(direct, vec![1, 2]).await.expect("dm");
        (store, dir)
    }

    #[tokio::test]
    async fn a_block_after_a_cached_answer_takes_effect_at_once() {
        let (store, _dir) = two_users_and_their_dm().await;
        let cache = BlockCache::new(store.clone(), 10, true);
        cache.check(10, &[1, 2]).await.expect("not blocked yet");
        let block = vec![(2, 1, Some(RelationKind::Blocked))];
        store.change_relations(block, 1).await.expect("block");
        cache.changed();
        assert!(matches!(
            cache.check(10, &[1, 2]).await,
            Err(CoreError::Blocked)
        ));
        cache.check(10, &[1, 3]).await.expect("not a 1:1 of theirs");
        store
            .change_relations(vec![(2, 1, None)], 2)
            .await
            .expect("unblock");
        cache.changed();
        cache.check(10, &[1, 2]).await.expect("unblocked");
    }

    #[tokio::test]
    async fn without_kept_pairs_a_block_stored_elsewhere_counts_at_once() {
        let (store, _dir) = two_users_and_their_dm().await;
        let cache = BlockCache::new(store.clone(), 10, false);
        cache.check(10, &[1, 2]).await.expect("not blocked yet");
        // Stored by another node: this cache is never told.
        let block = vec![(2, 1, Some(RelationKind::Blocked))];
        store.change_relations(block, 1).await.expect("block");
        assert!(matches!(
            cache.check(10, &[1, 2]).await,
            Err(CoreError::Blocked)
        ));
    }
}
