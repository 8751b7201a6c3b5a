//! The ready state, read positions, edits and deletes, and typing.

use chat_proto::v1 as pb;
use chat_proto::v1::event;

use super::{CoreService, now_ms};
use crate::convert;
use crate::error::CoreError;
use crate::members::Members;
use crate::store::{
    ChannelKind, ChannelRecord, Id, MessageChange, MessageRecord, ReadState, Store,
};

/// How many characters of a channel's last message `ready` carries.
pub const PREVIEW_CHARS: usize = 200;

/// A channel's last message as `ready` shows it, and whether its text was
/// cut to [`PREVIEW_CHARS`].
fn preview(m: &MessageRecord) -> (pb::Message, bool) {
    let mut message = convert::message(m);
    let cut = message
        .text
        .char_indices()
        .nth(PREVIEW_CHARS)
        .map(|(at, _)| at);
    if let Some(at) = cut {
        message.text.truncate(at);
    }
    (message, cut.is_some())
}

/// The other member of a 1:1 channel (from its `"{low}:{high}"` key), 0
/// for a group.
fn peer(channel: &ChannelRecord, actor: Id) -> Id {
    let Some((low, high)) = channel
        .direct_key
        .as_deref()
        .and_then(|k| k.split_once(':'))
    else {
        return 0;
    };
    let (low, high) = (low.parse().unwrap_or(0), high.parse().unwrap_or(0));
    if low == actor { high } else { low }
}

impl<S: Store> CoreService<S> {
    /// The actor's settings and, per channel, where it ends, their read
    /// position in it and its last message: `ready` less what the edge
    /// caches. No channel's member list is read.
    pub async fn user_state(&self, actor: Id) -> Result<pb::UserState, CoreError> {
        // Asked together, so a session waits for one turn of the storage
        // readers' queue rather than three: in a reconnect storm that queue
        // holds thousands of other sessions' reads.
        let (settings, reads, channels) = tokio::try_join!(
            async { Ok::<_, CoreError>(self.store.settings(actor).await?) },
            async { Ok(self.store.read_states(actor).await?) },
            async { Ok(self.store.channels_of(actor).await?) },
        )?;
        let with_messages = channels
            .iter()
            .filter(|c| c.last_message_id > 0)
            .map(|c| c.id)
            .collect();
        let mut latest = self
            .store
            .latest_messages(with_messages, PREVIEW_CHARS)
            .await?;
        latest.sort_unstable_by_key(|m| m.channel_id);
        let channels = channels
            .iter()
            .map(|channel| {
                let read = reads
                    .binary_search_by_key(&channel.id, |r| r.channel_id)
                    .ok()
                    .map(|i| reads[i]);
                let last = latest
                    .binary_search_by_key(&channel.id, |m| m.channel_id)
                    .ok()
                    .map(|i| preview(&latest[i]));
                pb::ChannelPosition {
                    channel_id: channel.id,
                    last_message_id: channel.last_message_id,
                    last_read_id: read.map_or(0, |r| r.last_read_id),
                    unread_count: read.map_or(0, |r| r.unread_count),
                    mention_count: read.map_or(0, |r| r.mention_count),
                    last_message_truncated: last.as_ref().is_some_and(|(_, cut)| *cut),
                    last_message: last.map(|(m, _)| m),
                    peer_id: peer(channel, actor),
                }
            })
            .collect();
        Ok(pb::UserState {
            settings: Some(convert::settings(&settings)),
            channels,
            receipts_max_members: u32::try_from(self.config.receipts_max_members)
                .unwrap_or(u32::MAX),
        })
    }

    /// The read positions of the members of `channel` who have one, if it
    /// is small enough for read receipts.
    pub async fn channel_reads(
        &self,
        actor: Id,
        channel: Id,
    ) -> Result<pb::ChannelReadList, CoreError> {
        let members = self.members_at_owner(actor, channel).await?;
        let limit = self.config.receipts_max_members;
        if members.len() > limit {
            return Err(CoreError::conflict(
                "receipts_off",
                format!("read receipts are kept for channels of at most {limit} members"),
            ));
        }
        let reads = self.store.member_read_positions(channel).await?;
        Ok(pb::ChannelReadList {
            reads: reads
                .into_iter()
                .map(|(user_id, last_read_id)| pb::ReadPosition {
                    user_id,
                    last_read_id,
                })
                .collect(),
        })
    }

    /// Moves `actor`'s read position in `channel` forward to `message_id`.
    /// The reader's sessions get the new position and unread count; in small
    /// channels the other members get the position.
    pub async fn mark_read(
        &self,
        actor: Id,
        channel: Id,
        message_id: Id,
    ) -> Result<pb::ReadState, CoreError> {
        let members = self.members_at_owner(actor, channel).await?;
        let last = self
            .store
            .channel(channel)
            .await?
            .map_or(0, |c| c.last_message_id);
        if message_id > last {
            return Err(CoreError::invalid(
                "read_beyond_last",
                format!("message {message_id} is beyond the channel's last message {last}"),
            ));
        }
        let state = self.store.mark_read(actor, channel, message_id).await?;
        // Notifications of what is now read are cleared on the devices.
        match self
            .store
            .clear_pushes(actor, channel, state.last_read_id, now_ms())
            .await
        {
            Ok(()) => self.push_wake.notify_one(),
            Err(e) => tracing::warn!(error = %e, channel, "push notifications not cleared"),
        }
        let event = |counts: Option<(u32, u32)>| {
            event::Kind::Read(pb::ReadUpdated {
                channel_id: channel,
                user_id: actor,
                last_read_id: state.last_read_id,
                unread_count: counts.map(|c| c.0),
                mention_count: counts.map(|c| c.1),
            })
        };
        let own = (state.unread_count, state.mention_count);
        self.hub.publish(&[actor], event(Some(own))).await;
        if members.len() <= self.config.receipts_max_members {
            let others: Vec<Id> = members.iter().copied().filter(|m| *m != actor).collect();
            self.hub.publish(&others, event(None)).await;
        }
        Ok(read_state(&state))
    }

    /// Replaces the text of one of `actor`'s messages.
    pub async fn edit_message(
        &self,
        actor: Id,
        channel: Id,
        message_id: Id,
        text: String,
    ) -> Result<pb::Message, CoreError> {
        self.check_text(&text)?;
        self.change_message(actor, channel, message_id, Some(text))
            .await
    }

    /// Deletes a message, leaving a tombstone: one of `actor`'s own, or
    /// anyone's in a group `actor` owns or administers (the tombstone then
    /// names them as `deleted_by`).
    pub async fn delete_message(
        &self,
        actor: Id,
        channel: Id,
        message_id: Id,
    ) -> Result<pb::Message, CoreError> {
        self.change_message(actor, channel, message_id, None).await
    }

    /// Whether `actor` may delete others' messages in `channel`.
    async fn moderates(
        &self,
        actor: Id,
        channel: Id,
        members: &Members,
    ) -> Result<bool, CoreError> {
        if members.is_admin(actor) {
            return Ok(true);
        }
        let record = self.store.channel(channel).await?;
        Ok(record.is_some_and(|c| c.kind == ChannelKind::Group && c.owner_id == actor))
    }

    /// Edits (`Some(text)`) or deletes (`None`) a message.
    async fn change_message(
        &self,
        actor: Id,
        channel: Id,
        message_id: Id,
        text: Option<String>,
    ) -> Result<pb::Message, CoreError> {
        let members = self.members_at_owner(actor, channel).await?;
        // One change at a time, so events go out in the order they were stored.
        let _order = self.edits.lock().await;
        let current = self
            .store
            .message(channel, message_id)
            .await?
            .filter(|m| !m.deleted)
            .ok_or(CoreError::MessageNotFound)?;
        let change = match text {
            Some(_) if current.sender_id != actor => return Err(CoreError::NotYourMessage),
            Some(text) => MessageChange::Edit {
                mentions: self.resolve_mentions(&text, &members).await?,
                text,
            },
            None if current.sender_id == actor
                || self.moderates(actor, channel, &members).await? =>
            {
                MessageChange::Delete { by: actor }
            }
            None => return Err(CoreError::NotYourMessage),
        };
        // Versions order a channel's changes: above every id it held.
        let version = self.next_id_above(self.store.last_message_id(channel).await?);
        let stored = self
            .store
            .update_message(
                self.fence(channel)?,
                channel,
                message_id,
                change,
                now_ms(),
                version,
            )
            .await?
            .ok_or(CoreError::MessageNotFound)?;
        let message = convert::message(&stored);
        let kind = event::Kind::MessageUpdated(pb::MessageUpdated {
            message: Some(message.clone()),
        });
        self.hub.publish(&members, kind).await;
        Ok(message)
    }

    /// Every text a message has had, oldest first, for a member.
    pub async fn message_versions(
        &self,
        actor: Id,
        channel: Id,
        message_id: Id,
    ) -> Result<pb::MessageVersionList, CoreError> {
        self.members_at_owner(actor, channel).await?;
        let versions = self.store.versions(channel, message_id).await?;
        if versions.is_empty() {
            return Err(CoreError::MessageNotFound);
        }
        Ok(pb::MessageVersionList {
            versions: versions.iter().map(convert::version).collect(),
        })
    }

    /// Up to `limit` messages of `channel` changed after `after_version`,
    /// in version order, for a member catching up.
    pub async fn changes(
        &self,
        actor: Id,
        channel: Id,
        after_version: Id,
        limit: u32,
    ) -> Result<pb::HistoryPage, CoreError> {
        let limit = self.check_limit(limit)?;
        self.members_at_owner(actor, channel).await?;
        let mut changed = self
            .store
            .changes(channel, after_version, limit + 1)
            .await?;
        let has_more_after = changed.len() > limit;
        changed.truncate(limit);
        Ok(pb::HistoryPage {
            messages: changed.iter().map(convert::message).collect(),
            has_more_before: false,
            has_more_after,
        })
    }

    /// Tells the other members of `channel` that `actor` is typing.
    pub async fn typing(&self, actor: Id, channel: Id) -> Result<(), CoreError> {
        let members = self.members_at_owner(actor, channel).await?;
        let others: Vec<Id> = members.iter().copied().filter(|m| *m != actor).collect();
        let kind = event::Kind::Typing(pb::TypingStarted {
            channel_id: channel,
            user_id: actor,
            expires_in_ms: self.config.typing_expiry_ms,
        });
        self.hub.publish(&others, kind).await;
        Ok(())
    }
}

fn read_state(s: &ReadState) -> pb::ReadState {
    pb::ReadState {
        channel_id: s.channel_id,
        last_read_id: s.last_read_id,
        unread_count: s.unread_count,
        mention_count: s.mention_count,
    }
}
