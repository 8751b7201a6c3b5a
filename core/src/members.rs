//! A bounded cache of channel membership, loaded from storage on first use
//! and replaced by the core whenever it changes membership.

use std::sync::Arc;

use moka::future::Cache;

use crate::error::CoreError;
use crate::store::{Id, Store};

/// Member ids of channels, ascending.
pub struct MemberCache<S> {
    store: Arc<S>,
    cache: Cache<Id, Arc<Vec<Id>>>,
}

impl<S: Store> MemberCache<S> {
    /// A cache over `store` holding up to `capacity` channels.
    pub fn new(store: Arc<S>, capacity: u64) -> Self {
        Self {
            store,
            cache: Cache::new(capacity),
        }
    }

    /// The members of `channel`.
    pub async fn get(&self, channel: Id) -> Result<Arc<Vec<Id>>, CoreError> {
        let store = self.store.clone();
        self.cache
            .try_get_with(channel, async move {
                store.members(channel).await.map(Arc::new)
            })
            .await
            .map_err(|e| CoreError::Storage(crate::store::StoreError::Backend(e.to_string())))
    }

    /// Reloads `channel` after its membership changed.
    pub async fn refresh(&self, channel: Id) -> Result<Arc<Vec<Id>>, CoreError> {
        self.cache.invalidate(&channel).await;
        let members = Arc::new(self.store.members(channel).await?);
        self.cache.insert(channel, members.clone()).await;
        Ok(members)
    }
}
