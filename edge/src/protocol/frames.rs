//! The JSON frames of the WebSocket protocol and their codec.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::wire::{
    self, Channel, ChannelState, Message, Presence, Relationship, Settings, User, id_str,
};

/// A frame from a client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Authenticates the connection; must be the first frame.
    Hello {
        /// Bearer token from signup or login.
        token: String,
        /// Per channel, the largest message id this device holds; the
        /// server sends everything newer before going live.
        #[serde(default, with = "wire::id_map")]
        cursors: Vec<(u64, u64)>,
    },
    /// Sends a message to a channel.
    Send {
        /// Target channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// Idempotency key chosen by the client, 1 to 64 characters.
        client_msg_id: String,
        /// Body, 1 to 100,000 characters.
        text: String,
    },
    /// Moves the user's read position in a channel forward.
    Read {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// The newest message read.
        #[serde(with = "id_str")]
        message_id: u64,
    },
    /// The user is typing in a channel.
    Typing {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
    },
    /// Replaces the text of one of the user's messages.
    Edit {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// The message.
        #[serde(with = "id_str")]
        message_id: u64,
        /// The new text.
        text: String,
    },
    /// Deletes one of the user's messages.
    Delete {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
        /// The message.
        #[serde(with = "id_str")]
        message_id: u64,
    },
    /// Starts receiving presence of the channel's members (open it in view).
    WatchPresence {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
    },
    /// Stops receiving presence of the channel's members.
    UnwatchPresence {
        /// The channel.
        #[serde(with = "id_str")]
        channel_id: u64,
    },
    /// Heartbeat; answered with `pong`.
    Ping {
        /// Echoed back in the pong.
        #[serde(default)]
        nonce: Option<String>,
    },
}

/// Limits a client should respect, announced in `ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Largest frame the server accepts, in bytes.
    pub max_frame_bytes: usize,
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
    /// A channel the user is in was created or changed members.
    Channel {
        /// `created`, `member_added` or `member_removed`.
        change: &'static str,
        /// The channel as it is now.
        channel: Channel,
        /// The member added or removed.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_id")]
        user_id: Option<u64>,
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
    /// A user's profile changed (one's own, a friend's, or a watched user's).
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
    /// Catch-up from the `hello` cursors is complete; delivery is live.
    Synced {
        /// Messages sent during catch-up.
        messages: u64,
        /// Edited or deleted messages sent during catch-up.
        changes: u64,
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

/// Why a client frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `malformed_json`, `unknown_type`, `missing_field` or `invalid_field`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
    /// The frame's `client_msg_id`, if it had a readable one.
    pub client_msg_id: Option<String>,
}

#[derive(Deserialize)]
struct Lenient {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    client_msg_id: Option<serde_json::Value>,
}

const KNOWN_TYPES: [&str; 9] = [
    "hello",
    "send",
    "read",
    "typing",
    "edit",
    "delete",
    "watch_presence",
    "unwatch_presence",
    "ping",
];

/// Decodes one client frame, classifying failures.
pub fn decode(text: &str) -> Result<ClientFrame, DecodeError> {
    serde_json::from_str(text).map_err(|err| classify(text, err))
}

fn classify(text: &str, err: serde_json::Error) -> DecodeError {
    // Only a JSON object is a frame; serde would also read a struct from an array.
    let lenient = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(serde_json::Value::is_object)
        .and_then(|v| serde_json::from_value::<Lenient>(v).ok());
    let client_msg_id = lenient
        .as_ref()
        .and_then(|l| l.client_msg_id.as_ref())
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let fail = |code, message: String| DecodeError {
        code,
        message,
        client_msg_id: client_msg_id.clone(),
    };
    let Some(lenient) = lenient else {
        return fail(
            "malformed_json",
            format!("frame is not a JSON object: {err}"),
        );
    };
    match lenient.kind {
        None => fail("missing_field", "missing field `type`".to_owned()),
        Some(serde_json::Value::String(t)) if !KNOWN_TYPES.contains(&t.as_str()) => fail(
            "unknown_type",
            format!("unknown frame type {t:?}; expected one of {KNOWN_TYPES:?}"),
        ),
        Some(serde_json::Value::String(_)) => {
            let message = err.to_string();
            let code = if message.starts_with("missing field") {
                "missing_field"
            } else {
                "invalid_field"
            };
            fail(code, message)
        }
        Some(_) => fail("invalid_field", "field `type` must be a string".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_frame_type() {
        assert_eq!(
            decode(r#"{"type":"hello","token":"t"}"#),
            Ok(ClientFrame::Hello {
                token: "t".into(),
                cursors: vec![]
            })
        );
        assert_eq!(
            decode(r#"{"type":"send","channel_id":"42","client_msg_id":"c1","text":"hi"}"#),
            Ok(ClientFrame::Send {
                channel_id: 42,
                client_msg_id: "c1".into(),
                text: "hi".into()
            })
        );
        assert_eq!(
            decode(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping { nonce: None })
        );
    }

    #[test]
    fn classifies_bad_frames() {
        let code = |t: &str| decode(t).map_err(|e| e.code);
        assert_eq!(code("{nope"), Err("malformed_json"));
        assert_eq!(code("[1,2]"), Err("malformed_json"));
        assert_eq!(code(r#"{"token":"x"}"#), Err("missing_field"));
        assert_eq!(code(r#"{"type":"shout"}"#), Err("unknown_type"));
        assert_eq!(
            code(r#"{"type":"send","text":"x","client_msg_id":"a"}"#),
            Err("missing_field")
        );
        assert_eq!(
            code(r#"{"type":"send","channel_id":"x1","text":"x","client_msg_id":"a"}"#),
            Err("invalid_field")
        );
        assert_eq!(code(r#"{"type":7}"#), Err("invalid_field"));
    }

    #[test]
    fn refused_sends_keep_their_client_msg_id() {
        let err = decode(r#"{"type":"send","client_msg_id":"k9"}"#).expect_err("missing fields");
        assert_eq!(err.client_msg_id.as_deref(), Some("k9"));
    }

    #[test]
    fn ids_are_strings_on_the_wire() {
        let frame = ServerFrame::Pong { nonce: None }.encode();
        assert_eq!(&*frame, r#"{"type":"pong"}"#);
        let user = User {
            id: u64::MAX,
            username: "a".into(),
            created_at_ms: 1,
            ..Default::default()
        };
        let json = serde_json::to_string(&user).expect("json");
        assert!(json.contains(r#""id":"18446744073709551615""#), "{json}");
    }
}
