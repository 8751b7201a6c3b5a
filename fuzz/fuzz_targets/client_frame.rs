//! The client frame decoder: any text a WebSocket client can send.
//!
//! Besides "never panics", checks what must hold of every answer: a frame
//! that decodes comes back the same from its canonical JSON, and a refusal
//! carries a documented code, a message, and the frame's `client_msg_id`
//! whenever the frame is a JSON object with a string one.

#![no_main]

use chat_protocol::ClientFrame;
use chat_protocol::frames::decode;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// The codes `docs/protocol.md` lists for frames that do not decode.
const CODES: [&str; 4] = [
    "malformed_json",
    "unknown_type",
    "missing_field",
    "invalid_field",
];

fuzz_target!(|data: &[u8]| {
    // The driver closes the connection on a text frame that is not UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode(text) {
        Ok(frame) => {
            let frame = normalise(frame);
            let canonical = encode(&frame).to_string();
            let again = decode(&canonical).expect("a frame's canonical JSON decodes");
            assert_eq!(normalise(again), frame, "{canonical}");
        }
        Err(err) => {
            assert!(CODES.contains(&err.code), "undocumented code {err:?}");
            assert!(!err.message.is_empty(), "{err:?}");
            let readable = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("client_msg_id")?.as_str().map(str::to_owned));
            if readable.is_some() {
                assert_eq!(err.client_msg_id, readable, "{err:?}");
            }
        }
    }
});

/// The frame as a client would write it, ids as decimal strings.
fn encode(frame: &ClientFrame) -> Value {
    let id = |id: &u64| Value::String(id.to_string());
    match frame {
        ClientFrame::Hello { token, cursors } => {
            let cursors: serde_json::Map<String, Value> = cursors
                .iter()
                .map(|(c, m)| (c.to_string(), id(m)))
                .collect();
            json!({"type": "hello", "token": token, "cursors": cursors})
        }
        ClientFrame::Send {
            channel_id,
            client_msg_id,
            text,
        } => json!({"type": "send", "channel_id": id(channel_id),
                    "client_msg_id": client_msg_id, "text": text}),
        ClientFrame::Read {
            channel_id,
            message_id,
        } => json!({"type": "read", "channel_id": id(channel_id), "message_id": id(message_id)}),
        ClientFrame::Typing { channel_id } => {
            json!({"type": "typing", "channel_id": id(channel_id)})
        }
        ClientFrame::Edit {
            channel_id,
            message_id,
            text,
        } => json!({"type": "edit", "channel_id": id(channel_id),
                    "message_id": id(message_id), "text": text}),
        ClientFrame::Delete {
            channel_id,
            message_id,
        } => json!({"type": "delete", "channel_id": id(channel_id), "message_id": id(message_id)}),
        ClientFrame::WatchPresence { channel_id } => {
            json!({"type": "watch_presence", "channel_id": id(channel_id)})
        }
        ClientFrame::UnwatchPresence { channel_id } => {
            json!({"type": "unwatch_presence", "channel_id": id(channel_id)})
        }
        ClientFrame::Ping { nonce } => match nonce {
            Some(nonce) => json!({"type": "ping", "nonce": nonce}),
            None => json!({"type": "ping"}),
        },
    }
}

/// Cursors as catch-up uses them: by channel, the first one of a channel
/// winning. Keys like `"5"` and `"05"` name the same channel but are
/// different JSON keys, so both survive decoding; the canonical form has one.
fn normalise(frame: ClientFrame) -> ClientFrame {
    match frame {
        ClientFrame::Hello { token, mut cursors } => {
            cursors.sort_by_key(|(channel, _)| *channel);
            cursors.dedup_by_key(|(channel, _)| *channel);
            ClientFrame::Hello { token, cursors }
        }
        other => other,
    }
}
