//! The JSON frames of the WebSocket protocol and their codec.

use serde::Deserialize;

use super::json_error;
use crate::wire::{self, id_str};

mod recover;
mod server;
mod tag;

pub use server::{Limits, ServerFrame};

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
mod tests;
