//! The frames the server sends, and their encoding.

use std::sync::Arc;

use serde::Serialize;

use crate::wire::{Channel, ChannelState, Message, Presence, Relationship, Settings, User, id_str};

/// Limits a client should respect, announced in `ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Largest frame the server accepts, in bytes.
    pub max_frame_bytes: usize,
    /// Channels of at most this many members have read receipts.
    pub receipts_max_members: u32,
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Authentication succeeded; live events follow.
    Ready {
        /// This connection's id.
        #[serde(with = "id_str")]
        session_id: u64,
        /// Who is connected.
        user: User,
        /// How often to send `ping`.
        heartbeat_interval_ms: u64,
        /// Limits to respect.
        limits: Limits,
        /// The user's settings.
        settings: Settings,
        /// Every channel of the user with their read position.
        channels: Vec<ChannelState>,
        /// The profiles the channel list shows: each 1:1 channel's peer and
        /// each last message's author. Later profiles come in `profile`
        /// frames just before the first message that needs them.
        users: Vec<User>,
    },
    /// A `send` is durable.
    Ack {
        /// The key from the `send`.
        client_msg_id: String,
        /// True when this key was used before: the stored message is returned.
        duplicate: bool,
        /// The stored message.
        message: Message,
    },
    /// A new message in one of the user's channels (their own included).
    Message {
        /// The message.
        message: Message,
    },
    /// A channel the user is in was created, changed or deleted.
    Channel {
        /// `created`, `member_added`, `member_removed`, `renamed`,
        /// `role_changed`, `owner_changed` or `deleted`.
        change: &'static str,
        /// The channel as it is now (as it was, for `deleted`).
        channel: Channel,
        /// The member added, removed or given a role, or the new owner.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_id")]
        user_id: Option<u64>,
        /// Who made the change; absent when nobody did (ownership passed
        /// on because the owner left).
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_id")]
        actor_id: Option<u64>,
    },
    /// A frame was refused; the connection stays open.
    Error {
        /// Stable machine-readable code.
        code: String,
        /// Human explanation.
        message: String,
        /// The `client_msg_id` of the refused `send`, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
        /// The channel the refused frame named, if any.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_id")]
        channel_id: Option<u64>,
        /// The message the refused frame named, if any.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_id")]
        message_id: Option<u64>,
    },
    /// A message was edited.
    MessageEdited {
        /// The message as it is now.
        message: Message,
    },
    /// A message was deleted; `message` is its tombstone.
    MessageDeleted {
        /// The tombstone: empty text, `deleted: true`.
        message: Message,
    },
    /// A member's read position moved.
    Read {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// The reader.
        #[serde(with = "id_str")]
        user_id: u64,
        /// Their newest message read.
        #[serde(with = "id_str")]
        last_read_id: u64,
        /// The user's own unread count; only in frames about oneself.
        #[serde(skip_serializing_if = "Option::is_none")]
        unread_count: Option<u32>,
        /// The user's own unread mentions; only in frames about oneself.
        #[serde(skip_serializing_if = "Option::is_none")]
        mention_count: Option<u32>,
    },
    /// A member is typing.
    Typing {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// Who types.
        #[serde(with = "id_str")]
        user_id: u64,
        /// Show it this long unless renewed.
        expires_in_ms: u32,
    },
    /// The presence of a watched channel's members, answering `watch_presence`.
    PresenceList {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// Each member's presence.
        presence: Vec<Presence>,
    },
    /// A friend or watched user came online or went offline.
    Presence(Presence),
    /// A user's profile: sent just before the first message from or
    /// mentioning them that the client gets, and again when it changed
    /// (one's own, a friend's, or a watched user's).
    Profile {
        /// The user as they are now.
        user: User,
    },
    /// The user's settings changed.
    Settings {
        /// The settings as they are now.
        settings: Settings,
    },
    /// A relationship of the user changed.
    Relationship {
        /// The relationship as it is now.
        relationship: Relationship,
    },
    /// To a bot: a member ran `/command args` in a channel the bot is in.
    /// Answer with a message, or with `POST /api/v1/channels/{id}/ephemeral`
    /// for the caller alone.
    Command {
        /// The command's id (a webhook delivery's `webhook-id`).
        #[serde(with = "id_str")]
        command_id: u64,
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// Who ran it.
        #[serde(with = "id_str")]
        caller_id: u64,
        /// The bot it is for.
        #[serde(with = "id_str")]
        bot_id: u64,
        /// The command: the bot's username.
        command: String,
        /// Everything after it, trimmed; may be empty.
        args: String,
        /// Unix milliseconds.
        created_at_ms: i64,
    },
    /// A bot's message for this user alone: not stored, not in history.
    Ephemeral {
        /// Its id.
        #[serde(with = "id_str")]
        id: u64,
        /// The channel it belongs with.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// The bot.
        #[serde(with = "id_str")]
        sender_id: u64,
        /// The text.
        text: String,
        /// Unix milliseconds.
        created_at_ms: i64,
        /// The command it answers; absent if none.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_id")]
        command_id: Option<u64>,
    },
    /// Catch-up from the `hello` cursors is complete; delivery is live.
    Synced {
        /// Messages sent during catch-up.
        messages: u64,
        /// Edited or deleted messages sent during catch-up.
        changes: u64,
    },
    /// Some of a channel's messages may not have reached this session
    /// (the server could not replay them after a fault): page the
    /// channel's history after your cursor. Live messages continue.
    Resync {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// Messages after this id may be missing.
        #[serde(with = "id_str")]
        after_message_id: u64,
    },
    /// This edge is going away (a deploy): connect to one of
    /// `alternatives` (WebSocket URLs, best first) and resume there with
    /// your cursors. The edge closes the connection with 1001 if the client
    /// stays past `edge.drain_timeout_ms`.
    Reconnect {
        /// Other edges to connect to, best first; empty when this edge knows
        /// none (ask `GET /api/v1/discover`).
        alternatives: Vec<String>,
        /// Why: `draining`.
        reason: String,
    },
    /// The answer to `ping`.
    Pong {
        /// The ping's nonce.
        #[serde(skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
}

mod opt_id {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(id: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.collect_str(id),
            None => s.serialize_none(),
        }
    }
}

impl ServerFrame {
    /// The frame as JSON text.
    pub fn encode(&self) -> Arc<str> {
        // Serialising these types cannot fail: no maps with non-string keys.
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!(r#"{{"type":"error","code":"internal","message":"{e}"}}"#))
            .into()
    }
}
