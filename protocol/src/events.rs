//! Core events as frames, encoded once for every recipient session.

use std::sync::Arc;

use chat_proto::v1 as pb;
use chat_proto::v1::event::Kind;

use super::frames::ServerFrame;
use crate::wire;

/// A frame ready for sessions, and the (channel, message id) of the
/// message it carries, if it carries one.
pub type EventFrame = (Arc<str>, Option<(u64, u64)>);

/// The frame for a core event, or `None` for events that are not frames.
/// Takes the event by value so its strings move into the frame uncopied.
pub fn encode_event(kind: Kind) -> Option<EventFrame> {
    let position = match &kind {
        Kind::Message(created) => created.message.as_ref().map(|m| (m.channel_id, m.id)),
        _ => None,
    };
    Some((frame(kind)?.encode(), position))
}

fn frame(kind: Kind) -> Option<ServerFrame> {
    Some(match kind {
        Kind::Message(created) => ServerFrame::Message {
            message: created.message?.into(),
        },
        Kind::Channel(changed) => ServerFrame::Channel {
            change: match pb::ChannelChange::try_from(changed.change) {
                Ok(pb::ChannelChange::MemberAdded) => "member_added",
                Ok(pb::ChannelChange::MemberRemoved) => "member_removed",
                Ok(pb::ChannelChange::Renamed) => "renamed",
                Ok(pb::ChannelChange::RoleChanged) => "role_changed",
                Ok(pb::ChannelChange::OwnerChanged) => "owner_changed",
                Ok(pb::ChannelChange::Deleted) => "deleted",
                Ok(pb::ChannelChange::Created | pb::ChannelChange::Unspecified) | Err(_) => {
                    "created"
                }
            },
            channel: wire::Channel::from(changed.channel?),
            user_id: (changed.user_id != 0).then_some(changed.user_id),
            actor_id: (changed.actor_id != 0).then_some(changed.actor_id),
        },
        Kind::TokenRevoked(_) | Kind::Registered(_) | Kind::WatchRefused(_) | Kind::Metadata(_) => {
            return None;
        }
        Kind::Gap(gap) => ServerFrame::Resync {
            channel_id: gap.channel_id,
            after_message_id: gap.after_message_id,
        },
        Kind::MessageUpdated(updated) => {
            let message: wire::Message = updated.message?.into();
            if message.deleted {
                ServerFrame::MessageDeleted { message }
            } else {
                ServerFrame::MessageEdited { message }
            }
        }
        Kind::Read(read) => ServerFrame::Read {
            channel_id: read.channel_id,
            user_id: read.user_id,
            last_read_id: read.last_read_id,
            unread_count: read.unread_count,
            mention_count: read.mention_count,
        },
        Kind::Typing(typing) => ServerFrame::Typing {
            channel_id: typing.channel_id,
            user_id: typing.user_id,
            expires_in_ms: typing.expires_in_ms,
        },
        Kind::Presence(presence) => ServerFrame::Presence(presence.into()),
        Kind::Profile(user) => ServerFrame::Profile { user: user.into() },
        Kind::Settings(settings) => ServerFrame::Settings {
            settings: settings.into(),
        },
        Kind::Relationship(relationship) => ServerFrame::Relationship {
            relationship: relationship.into(),
        },
        Kind::Command(c) => command_frame(c),
        Kind::Ephemeral(e) => ServerFrame::Ephemeral {
            id: e.id,
            channel_id: e.channel_id,
            sender_id: e.sender_id,
            text: e.text,
            created_at_ms: e.created_at_ms,
            command_id: (e.command_id != 0).then_some(e.command_id),
        },
    })
}

/// The frame a bot gets for a slash command, by WebSocket or webhook.
pub fn command_frame(c: pb::BotCommand) -> ServerFrame {
    ServerFrame::Command {
        command_id: c.command_id,
        channel_id: c.channel_id,
        caller_id: c.caller_id,
        bot_id: c.bot_id,
        command: c.command,
        args: c.args,
        created_at_ms: c.created_at_ms,
    }
}
