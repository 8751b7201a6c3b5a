//! Storage records to protobuf messages.

use chat_proto::v1 as pb;

use crate::members::Members;
use crate::store::{
    ChannelKind, ChannelRecord, MessageRecord, NotificationLevel, RelationKind, SettingsRecord,
    TokenRecord, UserRecord, VersionRecord,
};

/// A user as the API shows it.
pub fn user(u: &UserRecord) -> pb::User {
    pb::User {
        id: u.id,
        username: u.username.clone(),
        created_at_ms: u.created_at_ms,
        display_name: u.display_name.clone(),
        status_text: u.status_text.clone(),
        avatar_url: u.avatar_url.clone(),
        bot_owner_id: u.bot_owner_id,
    }
}

/// A message as the API shows it.
pub fn message(m: &MessageRecord) -> pb::Message {
    pb::Message {
        id: m.id,
        channel_id: m.channel_id,
        sender_id: m.sender_id,
        text: m.text.clone(),
        client_msg_id: m.client_msg_id.clone(),
        created_at_ms: m.created_at_ms,
        edited_at_ms: m.edited_at_ms,
        deleted: m.deleted,
        version_id: m.version_id,
        mentions: m
            .mentions
            .iter()
            .map(|m| pb::Mention {
                user_id: m.user_id,
                offset: m.offset,
                length: m.length,
            })
            .collect(),
        deleted_by: m.deleted_by,
    }
}

/// A version of a message's text as the API shows it.
pub fn version(v: &VersionRecord) -> pb::MessageVersion {
    pb::MessageVersion {
        version_id: v.version_id,
        text: v.text.clone(),
        created_at_ms: v.created_at_ms,
    }
}

/// A token as its owner sees it.
pub fn token(t: &TokenRecord) -> pb::TokenInfo {
    pb::TokenInfo {
        id: t.id,
        device: t.device.clone(),
        created_at_ms: t.created_at_ms,
        last_used_at_ms: t.last_used_at_ms,
        expires_at_ms: t.expires_at_ms,
    }
}

/// A channel with its members as the API shows it.
pub fn channel(c: &ChannelRecord, members: &Members) -> pb::Channel {
    pb::Channel {
        id: c.id,
        kind: match c.kind {
            ChannelKind::Direct => pb::ChannelKind::Direct,
            ChannelKind::Group => pb::ChannelKind::Group,
        } as i32,
        name: c.name.clone(),
        owner_id: c.owner_id,
        member_ids: members.to_vec(),
        created_at_ms: c.created_at_ms,
        last_message_id: c.last_message_id,
        admin_ids: members.admins().to_vec(),
    }
}

/// Settings as the API shows them.
pub fn settings(s: &SettingsRecord) -> pb::Settings {
    pb::Settings {
        notifications: match s.notifications {
            NotificationLevel::All => pb::NotificationLevel::All,
            NotificationLevel::Mentions => pb::NotificationLevel::Mentions,
            NotificationLevel::Nothing => pb::NotificationLevel::None,
        } as i32,
        muted_channel_ids: s.muted_channel_ids.clone(),
        invisible: s.invisible,
    }
}

/// A notification level from the API; `None` for unspecified.
pub fn notification_level(level: pb::NotificationLevel) -> Option<NotificationLevel> {
    match level {
        pb::NotificationLevel::Unspecified => None,
        pb::NotificationLevel::All => Some(NotificationLevel::All),
        pb::NotificationLevel::Mentions => Some(NotificationLevel::Mentions),
        pb::NotificationLevel::None => Some(NotificationLevel::Nothing),
    }
}

/// A relationship kind as the API shows it.
pub fn relation_kind(kind: Option<RelationKind>) -> pb::RelationshipKind {
    match kind {
        None => pb::RelationshipKind::None,
        Some(RelationKind::Friend) => pb::RelationshipKind::Friend,
        Some(RelationKind::Incoming) => pb::RelationshipKind::Incoming,
        Some(RelationKind::Outgoing) => pb::RelationshipKind::Outgoing,
        Some(RelationKind::Blocked) => pb::RelationshipKind::Blocked,
    }
}
