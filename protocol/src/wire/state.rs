//! JSON shapes of read state, settings, presence and relationships.

use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Channel, Id, User, id_list, id_str};

/// A channel with the user's read position in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelState {
    /// The channel.
    pub channel: Channel,
    /// Largest message id the user has read, "0" if none.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub last_read_id: u64,
    /// Messages from others after it, at most 1000.
    pub unread_count: u32,
    /// Of those, the ones that mention the user, at most 1000.
    pub mention_count: u32,
    /// The newest message that is not deleted; absent if there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_message: Option<MessagePreview>,
}

impl ChannelState {
    /// `channel` (as cached: metadata) at `position` (from the core now,
    /// whose `last_message_id` is the one shown).
    pub fn new(channel: &pb::Channel, position: pb::ChannelPosition) -> Self {
        let truncated = position.last_message_truncated;
        let mut channel = Channel::from(channel.clone());
        channel.last_message_id = position.last_message_id;
        Self {
            channel,
            last_read_id: position.last_read_id,
            unread_count: position.unread_count,
            mention_count: position.mention_count,
            last_message: position.last_message.map(|m| MessagePreview {
                id: m.id,
                sender_id: m.sender_id,
                text: m.text,
                text_truncated: truncated,
                created_at_ms: m.created_at_ms,
                edited_at_ms: m.edited_at_ms,
            }),
        }
    }
}

/// A channel's last message as the channel list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessagePreview {
    /// Message id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// Author's user id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub sender_id: u64,
    /// The text's first 200 characters.
    pub text: String,
    /// Present and true when the text is longer than `text`.
    #[serde(default, skip_serializing_if = "super::is_false")]
    pub text_truncated: bool,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// When last edited (Unix milliseconds); absent if never.
    #[serde(default, skip_serializing_if = "super::is_zero")]
    pub edited_at_ms: i64,
}

/// The user's read position in one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadState {
    /// The channel.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub channel_id: u64,
    /// Largest message id read.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub last_read_id: u64,
    /// Messages from others after it, at most 1000.
    pub unread_count: u32,
    /// Of those, the ones that mention the user, at most 1000.
    pub mention_count: u32,
}

impl From<pb::ReadState> for ReadState {
    fn from(r: pb::ReadState) -> Self {
        Self {
            channel_id: r.channel_id,
            last_read_id: r.last_read_id,
            unread_count: r.unread_count,
            mention_count: r.mention_count,
        }
    }
}

/// Which messages notify the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Notifications {
    /// Every message.
    All,
    /// Only mentions.
    Mentions,
    /// None.
    None,
}

impl Notifications {
    /// The protobuf level.
    pub fn to_pb(self) -> pb::NotificationLevel {
        match self {
            Notifications::All => pb::NotificationLevel::All,
            Notifications::Mentions => pb::NotificationLevel::Mentions,
            Notifications::None => pb::NotificationLevel::None,
        }
    }
}

/// The user's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Settings {
    /// Which messages notify.
    pub notifications: Notifications,
    /// Channels that never notify.
    #[serde(with = "id_list")]
    #[schema(value_type = Vec<Id>)]
    pub muted_channel_ids: Vec<u64>,
    /// Appear offline to everyone else while still chatting.
    pub invisible: bool,
}

impl From<pb::Settings> for Settings {
    fn from(s: pb::Settings) -> Self {
        let notifications = match s.notifications() {
            pb::NotificationLevel::Mentions => Notifications::Mentions,
            pb::NotificationLevel::None => Notifications::None,
            _ => Notifications::All,
        };
        Self {
            notifications,
            muted_channel_ids: s.muted_channel_ids,
            invisible: s.invisible,
        }
    }
}

/// Online or offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// At least one device is connected.
    Online,
    /// No device is connected.
    Offline,
}

/// A user's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Presence {
    /// The user.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub user_id: u64,
    /// Online or offline.
    pub status: PresenceStatus,
    /// When last seen active, Unix milliseconds; 0 if never.
    pub last_active_at_ms: i64,
}

impl From<pb::Presence> for Presence {
    fn from(p: pb::Presence) -> Self {
        Self {
            user_id: p.user_id,
            status: if p.status() == pb::PresenceStatus::Online {
                PresenceStatus::Online
            } else {
                PresenceStatus::Offline
            },
            last_active_at_ms: p.last_active_at_ms,
        }
    }
}

/// How the user stands with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipKind {
    /// Nothing (any more).
    None,
    /// Friends.
    Friend,
    /// They asked to be friends.
    Incoming,
    /// The user asked to be friends.
    Outgoing,
    /// The user blocks them.
    Blocked,
}

/// The user's relationship with another user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Relationship {
    /// The other user.
    pub user: User,
    /// How the user stands with them.
    pub kind: RelationshipKind,
    /// Since when, Unix milliseconds.
    pub since_ms: i64,
    /// Their presence, for friends; absent for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub presence: Option<Presence>,
}

impl From<pb::Relationship> for Relationship {
    fn from(r: pb::Relationship) -> Self {
        let kind = match r.kind() {
            pb::RelationshipKind::Friend => RelationshipKind::Friend,
            pb::RelationshipKind::Incoming => RelationshipKind::Incoming,
            pb::RelationshipKind::Outgoing => RelationshipKind::Outgoing,
            pb::RelationshipKind::Blocked => RelationshipKind::Blocked,
            pb::RelationshipKind::None => RelationshipKind::None,
        };
        Self {
            user: r.user.unwrap_or_default().into(),
            kind,
            since_ms: r.since_ms,
            presence: r.presence.map(Into::into),
        }
    }
}
