//! The JSON frames of the WebSocket protocol and their codec.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::json_error;
use crate::wire::{
    self, Channel, ChannelState, Message, Presence, Relationship, Settings, User, id_str,
};

mod recover;
mod tag;

/// A frame from a client; read it with [`decode`].
///
/// On the wire the variant is the frame's `type` field. The derived
/// `Deserialize` is the externally tagged form: [`decode`] reads `type`
/// first and then hands the variant and the whole object to it, which avoids
/// serde buffering the frame as an internally tagged enum would.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// The `type` of each [`ClientFrame`] variant.
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
    // Two passes over the text, neither of which buffers: the first reads
    // `type` and checks the rest is well-formed JSON, the second reads the
    // variant's fields straight into the frame.
    let kind = tag::read(text)
        .map_err(|err| classify(text, json_error::describe(&err, Some(text.as_bytes()))))?;
    tag::frame(text, kind).map_err(|err| classify(text, tag::without_position(&err)))
}

fn classify(text: &str, detail: String) -> DecodeError {
    // Only a JSON object is a frame.
    let value = serde_json::from_str::<serde_json::Value>(text);
    let lenient = value
        .as_ref()
        .ok()
        .filter(|v| v.is_object())
        .and_then(|v| Lenient::deserialize(v).ok());
    let client_msg_id = match &lenient {
        Some(lenient) => lenient
            .client_msg_id
            .as_ref()
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        // Not JSON, but perhaps an object whose `client_msg_id` reads.
        None if value.is_err() => recover::client_msg_id(text),
        None => None,
    };
    let fail = |code, message: String| DecodeError {
        code,
        message,
        client_msg_id: client_msg_id.clone(),
    };
    let Some(lenient) = lenient else {
        return fail(
            "malformed_json",
            format!("frame is not a JSON object: {detail}"),
        );
    };
    match lenient.kind {
        None => fail("missing_field", "missing field `type`".to_owned()),
        Some(serde_json::Value::String(t)) if !KNOWN_TYPES.contains(&t.as_str()) => fail(
            "unknown_type",
            format!("unknown frame type {t:?}; expected one of {KNOWN_TYPES:?}"),
        ),
        Some(serde_json::Value::String(_)) => {
            let code = if detail.starts_with("missing field") {
                "missing_field"
            } else {
                "invalid_field"
            };
            fail(code, detail)
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

    fn error(text: &str) -> DecodeError {
        decode(text).expect_err("a bad frame")
    }

    #[test]
    fn decodes_every_known_type() {
        let frames = [
            r#"{"type":"hello","token":"t","cursors":{"5":"10","6":7}}"#,
            r#"{"type":"send","channel_id":1,"client_msg_id":"c","text":"x"}"#,
            r#"{"type":"read","channel_id":"1","message_id":"2"}"#,
            r#"{"type":"typing","channel_id":"1"}"#,
            r#"{"type":"edit","channel_id":"1","message_id":"2","text":"t"}"#,
            r#"{"type":"delete","channel_id":"1","message_id":"2"}"#,
            r#"{"type":"watch_presence","channel_id":"1"}"#,
            r#"{"type":"unwatch_presence","channel_id":"1"}"#,
            r#"{"type":"ping","nonce":"n"}"#,
        ];
        assert_eq!(frames.len(), KNOWN_TYPES.len());
        for (frame, kind) in frames.iter().zip(KNOWN_TYPES) {
            assert!(frame.contains(&format!(r#""type":"{kind}""#)));
            assert!(decode(frame).is_ok(), "{frame}: {:?}", decode(frame));
        }
        assert_eq!(
            decode(r#"{"type":"hello","token":"t","cursors":{"5":"10","6":7}}"#),
            Ok(ClientFrame::Hello {
                token: "t".into(),
                cursors: vec![(5, 10), (6, 7)]
            })
        );
    }

    #[test]
    fn type_may_come_anywhere_and_be_escaped() {
        let send = ClientFrame::Send {
            channel_id: 1,
            client_msg_id: "a".into(),
            text: "x".into(),
        };
        assert_eq!(
            decode(r#"{"client_msg_id":"a","channel_id":"1","text":"x","type":"send"}"#),
            Ok(send.clone())
        );
        assert_eq!(
            decode(r#"{"ty\u0070e":"s\u0065nd","channel_id":"1","client_msg_id":"a","text":"x"}"#),
            Ok(send)
        );
        assert_eq!(
            decode(" \n{\"type\":\"ping\",\"extra\":[1,{\"a\":null}]}\t"),
            Ok(ClientFrame::Ping { nonce: None })
        );
    }

    #[test]
    fn only_an_object_is_a_frame() {
        // Serde's internally tagged enums also read `["ping"]` as a ping.
        for text in [
            "",
            "null",
            "true",
            "5",
            r#""ping""#,
            "[]",
            r#"["ping"]"#,
            r#"["typing","5"]"#,
        ] {
            let err = error(text);
            assert_eq!(err.code, "malformed_json", "{text:?}");
            assert!(
                err.message.starts_with("frame is not a JSON object: "),
                "{text:?}: {err:?}"
            );
        }
        assert_eq!(
            error("null").message,
            "frame is not a JSON object: invalid type: null, \
             expected internally tagged enum ClientFrame at line 1 column 4"
        );
    }

    #[test]
    fn broken_json_is_malformed_wherever_it_is() {
        let cases = [
            (
                r#"{"type":"ping"} x"#,
                "trailing characters at line 1 column 17",
            ),
            (r#"{"type":"ping",}"#, "trailing comma at line 1 column 16"),
            (
                r#"{"type":"ping""#,
                "EOF while parsing an object at line 1 column 14",
            ),
            // In fields no variant reads: still checked, as before.
            (
                r#"{"type":"ping","junk":1e400}"#,
                "number out of range at line 1 column 27",
            ),
            (
                r#"{"type":"ping","a":[{"b":"\ud800"}]}"#,
                "lone surrogate \\ud800 in a string at line 1 column 27: \
                 JSON strings must be valid Unicode",
            ),
            (
                r#"{"type":"ping","junk":"\x"}"#,
                "invalid escape at line 1 column 25",
            ),
            // The first problem in the document wins over a bad field later on.
            (
                r#"{"type":"send","junk":1e400,"channel_id":"x"}"#,
                "number out of range at line 1 column 27",
            ),
        ];
        for (text, message) in cases {
            let err = error(text);
            assert_eq!(err.code, "malformed_json", "{text}");
            assert_eq!(
                err.message,
                format!("frame is not a JSON object: {message}"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_lone_surrogate_is_reported_as_such_and_the_send_named() {
        let err = error(r#"{"type":"send","channel_id":"1","client_msg_id":"k1","text":"\ud800"}"#);
        assert_eq!(err.code, "malformed_json");
        assert_eq!(
            err.message,
            "frame is not a JSON object: lone surrogate \\ud800 in a string at line 1 \
             column 62: JSON strings must be valid Unicode"
        );
        assert_eq!(err.client_msg_id.as_deref(), Some("k1"));
        // A valid pair is a character, and `\\ud800` is a backslash and text.
        let pair =
            r#"{"type":"send","channel_id":"1","client_msg_id":"k","text":"\ud83d\ude00\\ud800"}"#;
        assert_eq!(
            decode(pair),
            Ok(ClientFrame::Send {
                channel_id: 1,
                client_msg_id: "k".into(),
                text: "\u{1f600}\\ud800".into()
            })
        );
    }

    #[test]
    fn malformed_frames_keep_a_readable_client_msg_id() {
        let cases = [
            r#"{"type":"send","client_msg_id":"k2","junk":1e400}"#,
            r#"{"type":"send","junk":-1e999,"client_msg_id":"k2"}"#,
            r#"{"type":"send","channel_id":"1","client_msg_id":"k2","text":"x"} {}"#,
            r#"{"type":"send","client_msg_id":"k2","text":"no end"#,
            r#"{"type":"send","client_msg_id":"k2","text":"\udc00","more":1}"#,
        ];
        for text in cases {
            let err = error(text);
            assert_eq!(err.code, "malformed_json", "{text}");
            assert_eq!(err.client_msg_id.as_deref(), Some("k2"), "{text}: {err:?}");
        }
        for text in [
            r#"{"type":"send","client_msg_id":"k\ud800"}"#,
            r#"[{"client_msg_id":"k2"}, 1e400]"#,
            r#"{"type":"send","client_msg_id":7,"junk":1e400}"#,
        ] {
            assert_eq!(error(text).client_msg_id, None, "{text}");
        }
    }

    #[test]
    fn the_type_field_is_checked_like_before() {
        let missing = error(r#"{"type":null,"token":"t"}"#);
        assert_eq!(
            (missing.code, missing.message.as_str()),
            ("missing_field", "missing field `type`")
        );
        let unknown = error(r#"{"type":"SEND","client_msg_id":"k"}"#);
        assert_eq!(unknown.code, "unknown_type");
        assert!(
            unknown
                .message
                .starts_with(r#"unknown frame type "SEND"; expected one of ["hello""#)
        );
        assert_eq!(unknown.client_msg_id.as_deref(), Some("k"));
        for text in [r#"{"type":8}"#, r#"{"type":true}"#, r#"{"type":{}}"#] {
            let err = error(text);
            assert_eq!(
                (err.code, err.message.as_str()),
                ("invalid_field", "field `type` must be a string"),
                "{text}"
            );
        }
        let twice = error(r#"{"type":"send","type":"ping","client_msg_id":"k"}"#);
        assert_eq!(twice.code, "invalid_field");
        assert_eq!(twice.message, "duplicate field `type` at line 1 column 21");
        assert_eq!(twice.client_msg_id.as_deref(), Some("k"));
        // Last one wins for classifying, but an unknown first one is reported.
        assert_eq!(
            error(r#"{"type":"ping","type":"shout"}"#).code,
            "unknown_type"
        );
        let first_unknown = error(r#"{"type":"shout","type":"ping"}"#);
        assert_eq!(first_unknown.code, "invalid_field");
        assert!(first_unknown.message.starts_with("unknown variant `shout`"));
    }

    #[test]
    fn field_errors_read_as_before_without_a_position() {
        let cases = [
            (
                r#"{"type":"send","client_msg_id":"k9"}"#,
                "missing_field",
                "missing field `channel_id`",
            ),
            (
                r#"{"type":"hello"}"#,
                "missing_field",
                "missing field `token`",
            ),
            (
                r#"{"type":"edit","channel_id":"1","message_id":"2"}"#,
                "missing_field",
                "missing field `text`",
            ),
            (
                r#"{"type":"read","channel_id":"1","message_id":"z"}"#,
                "invalid_field",
                r#"invalid id "z": expected a decimal u64"#,
            ),
            (
                r#"{"type":"ping","nonce":5}"#,
                "invalid_field",
                "invalid type: integer `5`, expected a string",
            ),
            (
                r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":"x","text":"y"}"#,
                "invalid_field",
                "duplicate field `text`",
            ),
            (
                r#"{"type":"hello","token":"t","cursors":null}"#,
                "invalid_field",
                "invalid type: null, expected a map",
            ),
            (
                r#"{"type":"hello","token":"t","cursors":{"x":"1"}}"#,
                "invalid_field",
                r#"invalid id "x": expected a decimal u64"#,
            ),
            (
                r#"{"type":"delete","channel_id":"1","message_id":-2}"#,
                "invalid_field",
                "invalid value: integer `-2`, expected an id (a decimal u64, as a string or a number)",
            ),
            (
                r#"{"type":"typing","channel_id":1.5}"#,
                "invalid_field",
                "invalid type: floating point `1.5`, expected an id (a decimal u64, as a string or a number)",
            ),
        ];
        for (text, code, message) in cases {
            let err = error(text);
            assert_eq!((err.code, err.message.as_str()), (code, message), "{text}");
        }
        let err = error(r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":5}"#);
        assert_eq!(err.client_msg_id.as_deref(), Some("a"));
        let err = error(r#"{"type":"send","channel_id":"1","client_msg_id":5,"text":"x"}"#);
        assert_eq!(err.client_msg_id, None, "only a string is a client_msg_id");
    }
}
