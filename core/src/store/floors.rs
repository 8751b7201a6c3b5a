//! The write path's per-channel id floors: for each channel it has written
//! to, an id at least as large as every id the channel held, so each new
//! message id can be issued strictly above it
//! ([`IdGenerator::next_above`]). A channel's floor is loaded by claiming
//! the channel for the writer's fence ([`MessageStore::claim_channel`],
//! which answers its last id) the first time the write path meets it, and
//! raised with every id issued after that. A floor is only good for the
//! fence that claimed it: a new fence starts from an empty cache.
//!
//! Within one process the generator alone keeps ids increasing; the floors
//! matter after a restart with a clock that stepped back, when the node
//! floor (accounts and channels) may lie below a busy channel's last id.

use std::collections::HashMap;

use super::{Fence, Id, MessageStore, StoreResult};
use crate::ids::IdGenerator;

/// Channels whose floors are kept; past this the cache starts again empty.
const CAPACITY: usize = 65_536;

/// The floors of the channels written to lately.
#[derive(Debug)]
pub(crate) struct ChannelFloors {
    floors: HashMap<Id, Id>,
    capacity: usize,
    /// The fence the floors were claimed for.
    fence: Option<Fence>,
}

impl Default for ChannelFloors {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl ChannelFloors {
    /// An empty cache holding at most `capacity` channels (at least one).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            floors: HashMap::new(),
            capacity: capacity.max(1),
            fence: None,
        }
    }

    /// Makes sure the floor of each of `channels` is held for `fence`,
    /// claiming the missing ones in `store`. If they would not fit, or the
    /// fence changed, the cache is emptied first: a floor claimed again is
    /// as good as one kept, and every channel of this call stays held until
    /// the next call. A channel whose claim fails is not held.
    pub(crate) async fn load<S: MessageStore>(
        &mut self,
        store: &S,
        fence: Fence,
        channels: &[Id],
    ) -> StoreResult<()> {
        if self.fence != Some(fence) {
            self.floors.clear();
            self.fence = Some(fence);
        }
        let mut missing: Vec<Id> = channels
            .iter()
            .copied()
            .filter(|c| !self.floors.contains_key(c))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if self.floors.len() + missing.len() > self.capacity {
            self.floors.clear();
            missing = channels.to_vec();
            missing.sort_unstable();
            missing.dedup();
        }
        for channel in missing {
            let floor = store.claim_channel(channel, fence).await?;
            self.floors.insert(channel, floor);
        }
        Ok(())
    }

    /// The next message id of `channel`, above its floor, which it becomes.
    /// The channel is expected to be [loaded](ChannelFloors::load); one that
    /// is not counts from 0, with only the generator's own order.
    pub(crate) fn issue(&mut self, ids: &mut IdGenerator, now_unix_ms: u64, channel: Id) -> Id {
        let floor = self.floors.entry(channel).or_insert(0);
        let id = ids.next_above(now_unix_ms, *floor);
        *floor = id;
        id
    }

    /// Channels held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.floors.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EPOCH_MS;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{
        AccountStore, ChannelKind, ChannelRecord, ChannelStore, Fence, NewMessage, UserRecord,
    };

    const T0: u64 = EPOCH_MS + 1_000_000;

    async fn seeded() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let user = UserRecord::new(1, "ann".into(), "$argon2id$fake".into(), 1);
        store.create_user(user).await.expect("user");
        for id in [10, 11] {
            let channel = ChannelRecord {
                id,
                kind: ChannelKind::Group,
                name: "g".into(),
                owner_id: 1,
                direct_key: None,
                created_at_ms: 2,
                last_message_id: 0,
            };
            store.create_channel(channel, vec![1]).await.expect("group");
        }
        (store, dir)
    }

    /// A restart whose clock is a minute behind the last message written:
    /// the next id of that channel still comes after it.
    #[tokio::test]
    async fn ids_after_a_restart_with_the_clock_behind_stay_above_the_channel() {
        let (store, _dir) = seeded().await;
        let late = IdGenerator::new(1, 0).next(T0 + 60_000);
        let message = NewMessage {
            id: late,
            channel_id: 10,
            sender_id: 1,
            client_msg_id: "a".into(),
            ..Default::default()
        };
        store
            .append(Fence::single_node(1), vec![message])
            .await
            .expect("append");
        // The node floor (users, channels) knows nothing of the message.
        let mut ids = IdGenerator::new(1, 11);
        let mut floors = ChannelFloors::default();
        floors
            .load(&store, Fence::single_node(1), &[10, 11, 10])
            .await
            .expect("load");
        assert_eq!(floors.len(), 2);
        let next = floors.issue(&mut ids, T0, 10);
        assert!(next > late, "{next} after {late}");
        assert!(floors.issue(&mut ids, T0, 10) > next);
        assert!(floors.issue(&mut ids, T0, 11) > next, "one generator");
    }

    #[tokio::test]
    async fn a_full_cache_starts_again_with_the_channels_at_hand() {
        let (store, _dir) = seeded().await;
        let mut floors = ChannelFloors::with_capacity(2);
        floors
            .load(&store, Fence::single_node(1), &[10, 11])
            .await
            .expect("load");
        floors
            .load(&store, Fence::single_node(1), &[12])
            .await
            .expect("load");
        assert_eq!(floors.len(), 1);
        floors
            .load(&store, Fence::single_node(1), &[10, 11, 12])
            .await
            .expect("load");
        assert_eq!(floors.len(), 3, "one call's channels all stay");
    }
}
