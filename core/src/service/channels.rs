//! Direct and group channels and their members.

use std::collections::BTreeSet;

use chat_proto::v1 as pb;
use chat_proto::v1::event;

use super::{CoreService, now_ms};
use crate::convert;
use crate::error::CoreError;
use crate::members::Members;
use crate::store::{ChannelKind, ChannelRecord, Id, Store};

/// Longest group name, in characters.
pub const GROUP_NAME_MAX: usize = 100;

/// A group name, trimmed: 1 to [`GROUP_NAME_MAX`] characters, no control characters.
pub(super) fn group_name(name: &str) -> Result<String, CoreError> {
    chat_proto::rules::check_name(name, GROUP_NAME_MAX)
        .map_err(|fault| CoreError::invalid("invalid_channel_name", fault.describe("name")))?;
    Ok(name.trim().to_owned())
}

/// Member lists one channel listing reads from storage at once.
const MEMBER_READS: usize = 8;
/// Most channels one `GetChannels` call reads.
pub const GET_CHANNELS_MAX: usize = 1000;

/// Who a channel change is about and who made it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Change {
    /// The member added, removed, given a role, or the new owner; 0 if none.
    pub user: Id,
    /// Who made the change; 0 if nobody did.
    pub actor: Id,
}

impl<S: Store> CoreService<S> {
    async fn require_user(&self, id: Id) -> Result<(), CoreError> {
        match self.store.user_by_id(id).await? {
            Some(_) => Ok(()),
            None => Err(CoreError::UserNotFound),
        }
    }

    /// Tells the channel's members (and `extra` users) what changed.
    pub(super) async fn announce(
        &self,
        channel: &pb::Channel,
        change: pb::ChannelChange,
        who: Change,
        extra: &[Id],
    ) {
        let mut recipients = channel.member_ids.clone();
        recipients.extend_from_slice(extra);
        let kind = event::Kind::Channel(pb::ChannelChanged {
            channel: Some(channel.clone()),
            change: change as i32,
            user_id: who.user,
            actor_id: who.actor,
        });
        self.hub.publish(&recipients, kind).await;
        // Nobody can have cached a channel just made.
        if change != pb::ChannelChange::Created {
            self.metadata_changed(Vec::new(), vec![channel.id]).await;
        }
    }

    /// Tells every edge that what it caches of `users` and `channels` is
    /// stale.
    pub(super) async fn metadata_changed(&self, users: Vec<pb::User>, channel_ids: Vec<Id>) {
        let kind = event::Kind::Metadata(pb::MetadataChanged { users, channel_ids });
        self.hub.publish(&[], kind).await;
    }

    /// The 1:1 channel of `actor` and `peer`, created on first use. With
    /// `peer == actor` it is the user's notes-to-self channel.
    pub async fn open_direct(&self, actor: Id, peer: Id) -> Result<pb::Channel, CoreError> {
        self.require_user(peer).await?;
        let (low, high) = (actor.min(peer), actor.max(peer));
        let record = ChannelRecord {
            id: self.next_id(),
            kind: ChannelKind::Direct,
            name: String::new(),
            owner_id: actor,
            direct_key: Some(format!("{low}:{high}")),
            created_at_ms: now_ms(),
            last_message_id: 0,
        };
        let new_id = record.id;
        let ids: Vec<Id> = BTreeSet::from([low, high]).into_iter().collect();
        let stored = self.store.create_channel(record, ids.clone()).await?;
        let channel = convert::channel(&stored, &Members::plain(ids));
        if stored.id == new_id {
            self.announce(&channel, pb::ChannelChange::Created, Change::default(), &[])
                .await;
        }
        Ok(channel)
    }

    /// A new group owned by `actor` with `actor` and `member_ids` in it.
    pub async fn create_group(
        &self,
        actor: Id,
        name: &str,
        member_ids: &[Id],
    ) -> Result<pb::Channel, CoreError> {
        let name = group_name(name)?;
        let members: BTreeSet<Id> = member_ids.iter().copied().chain([actor]).collect();
        let limit = self.config.max_group_members;
        if members.len() > limit {
            return Err(CoreError::invalid(
                "too_many_members",
                format!("a group may have at most {limit} members"),
            ));
        }
        for member in &members {
            self.require_user(*member).await?;
        }
        let record = ChannelRecord {
            id: self.next_id(),
            kind: ChannelKind::Group,
            name,
            owner_id: actor,
            direct_key: None,
            created_at_ms: now_ms(),
            last_message_id: 0,
        };
        let ids: Vec<Id> = members.into_iter().collect();
        let stored = self.store.create_channel(record, ids.clone()).await?;
        let channel = convert::channel(&stored, &Members::plain(ids));
        self.announce(&channel, pb::ChannelChange::Created, Change::default(), &[])
            .await;
        Ok(channel)
    }

    /// One channel, for a member.
    pub async fn get_channel(&self, actor: Id, channel: Id) -> Result<pb::Channel, CoreError> {
        let members = self.members_at_owner(actor, channel).await?;
        let record = self
            .store
            .channel(channel)
            .await?
            .ok_or(CoreError::ChannelNotFound)?;
        Ok(convert::channel(&record, &members))
    }

    /// The channels of `ids` that `actor` is a member of, in `actor`'s
    /// channel order: one read of their channels, and member lists only of
    /// those asked for.
    pub async fn get_channels(&self, actor: Id, ids: &[Id]) -> Result<Vec<pb::Channel>, CoreError> {
        if ids.len() > GET_CHANNELS_MAX {
            return Err(CoreError::invalid(
                "too_many_ids",
                format!("at most {GET_CHANNELS_MAX} channels at once"),
            ));
        }
        let wanted: std::collections::HashSet<Id> = ids.iter().copied().collect();
        let mut records = self.store.channels_of(actor).await?;
        records.retain(|r| wanted.contains(&r.id));
        self.with_members(records).await
    }

    /// Every channel of `actor`.
    pub async fn list_channels(&self, actor: Id) -> Result<Vec<pb::Channel>, CoreError> {
        let records = self.store.channels_of(actor).await?;
        self.with_members(records).await
    }

    /// `records` with their member lists.
    async fn with_members(
        &self,
        records: Vec<ChannelRecord>,
    ) -> Result<Vec<pb::Channel>, CoreError> {
        // In a cluster the channels other cores own are read from storage:
        // a few at a time rather than one after another.
        let mut members = Vec::with_capacity(records.len());
        for chunk in records.chunks(MEMBER_READS) {
            let reads: Vec<_> = chunk.iter().map(|r| self.members_anywhere(r.id)).collect();
            members.extend(futures::future::try_join_all(reads).await?);
        }
        Ok(records
            .iter()
            .zip(members)
            .map(|(record, members)| convert::channel(record, &members))
            .collect())
    }

    /// A group `actor` is a member of, with its members, for a change.
    pub(super) async fn group_for_change(
        &self,
        actor: Id,
        channel: Id,
    ) -> Result<(ChannelRecord, std::sync::Arc<Members>), CoreError> {
        let members = self.members_at_owner(actor, channel).await?;
        let record = self
            .store
            .channel(channel)
            .await?
            .ok_or(CoreError::ChannelNotFound)?;
        if record.kind == ChannelKind::Direct {
            return Err(CoreError::DirectChannelFixed);
        }
        Ok((record, members))
    }

    /// Adds `user` to a group; any member may add.
    pub async fn add_member(
        &self,
        actor: Id,
        channel: Id,
        user: Id,
    ) -> Result<pb::Channel, CoreError> {
        let _guard = self.membership.lock().await;
        let (record, current) = self.group_for_change(actor, channel).await?;
        self.require_user(user).await?;
        if current.contains(user) {
            return Ok(convert::channel(&record, &current));
        }
        let limit = self.config.max_group_members;
        if current.len() >= limit {
            return Err(CoreError::ChannelFull { limit });
        }
        let fence = self.fence(channel)?;
        self.store
            .add_member(fence, channel, user, now_ms())
            .await?;
        let members = self.members.refresh(channel).await?;
        self.presence().member_added(channel, user);
        let out = convert::channel(&record, &members);
        let who = Change { user, actor };
        self.announce(&out, pb::ChannelChange::MemberAdded, who, &[])
            .await;
        Ok(out)
    }
}
