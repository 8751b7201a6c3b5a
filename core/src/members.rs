//! A bounded cache of channel membership, loaded from storage on first use
//! and replaced by the core whenever it changes membership.

use std::sync::Arc;

use moka::future::Cache;

use crate::error::CoreError;
use crate::store::{Id, MemberRecord, Role, Store};

/// The members of one channel: ids ascending (what the hot paths read, as
/// a slice through `Deref`) and the admins among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    ids: Vec<Id>,
    admins: Vec<Id>,
}

impl Members {
    /// From storage's records, which come ascending by user id.
    pub fn from_records(records: &[MemberRecord]) -> Self {
        Self {
            ids: records.iter().map(|m| m.user_id).collect(),
            admins: records
                .iter()
                .filter(|m| m.role == Role::Admin)
                .map(|m| m.user_id)
                .collect(),
        }
    }

    /// Members with no admins among them, from ids ascending.
    pub fn plain(ids: Vec<Id>) -> Self {
        Self {
            ids,
            admins: Vec::new(),
        }
    }

    /// Whether `user` is a member.
    pub fn contains(&self, user: Id) -> bool {
        self.ids.binary_search(&user).is_ok()
    }

    /// Whether `user` is an admin.
    pub fn is_admin(&self, user: Id) -> bool {
        self.admins.binary_search(&user).is_ok()
    }

    /// The admins, ascending.
    pub fn admins(&self) -> &[Id] {
        &self.admins
    }
}

impl std::ops::Deref for Members {
    type Target = [Id];

    fn deref(&self) -> &[Id] {
        &self.ids
    }
}

/// Members of channels.
pub struct MemberCache<S> {
    store: Arc<S>,
    cache: Cache<Id, Arc<Members>>,
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
    pub async fn get(&self, channel: Id) -> Result<Arc<Members>, CoreError> {
        let store = self.store.clone();
        self.cache
            .try_get_with(channel, async move {
                let records = store.members(channel).await?;
                Ok::<_, crate::store::StoreError>(Arc::new(Members::from_records(&records)))
            })
            .await
            .map_err(|e| CoreError::Storage(crate::store::StoreError::Backend(e.to_string())))
    }

    /// The members of `channel` from storage, leaving the cache alone.
    pub async fn read(&self, channel: Id) -> Result<Arc<Members>, CoreError> {
        let records = self.store.members(channel).await?;
        Ok(Arc::new(Members::from_records(&records)))
    }

    /// Forgets every channel.
    pub fn clear(&self) {
        self.cache.invalidate_all();
    }

    /// Reloads `channel` after its membership changed.
    pub async fn refresh(&self, channel: Id) -> Result<Arc<Members>, CoreError> {
        self.cache.invalidate(&channel).await;
        let records = self.store.members(channel).await?;
        let members = Arc::new(Members::from_records(&records));
        self.cache.insert(channel, members.clone()).await;
        Ok(members)
    }
}
