//! Storage records to protobuf messages.

use chat_proto::v1 as pb;

use crate::store::{ChannelKind, ChannelRecord, MessageRecord, UserRecord};

/// A user as the API shows it.
pub fn user(u: &UserRecord) -> pb::User {
    pb::User {
        id: u.id,
        username: u.username.clone(),
        created_at_ms: u.created_at_ms,
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
    }
}

/// A channel with its members as the API shows it.
pub fn channel(c: &ChannelRecord, members: &[u64]) -> pb::Channel {
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
    }
}
