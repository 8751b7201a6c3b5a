//! What one notification says, and the JSON every provider carries it as.

use std::time::Duration;

use serde::Serialize;

use crate::store::Id;

/// Longest preview of the newest message, in characters: push services
/// cap payloads (Web Push at 4,096 bytes after encryption).
pub const PREVIEW_CHARS: usize = 200;

/// A notification for one device about one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The channel.
    pub channel_id: Id,
    /// Its name; for a direct channel, the other member's name.
    pub channel_name: String,
    /// Messages since the member last read the channel; 0: clear the
    /// channel's notification (it was read).
    pub messages: u32,
    /// How many of them mention the member.
    pub mentions: u32,
    /// The newest message.
    pub message_id: Id,
    /// Its author's name.
    pub sender: String,
    /// Its text, cut to [`PREVIEW_CHARS`].
    pub preview: String,
    /// Whether it is a direct message or mentions the member: high urgency.
    pub urgent: bool,
    /// How long a push service may hold it for an unreachable device.
    pub ttl: Duration,
}

/// The JSON body (Web Push payload, FCM and APNs data).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Body<'a> {
    /// New messages in a channel.
    Message {
        channel_id: String,
        channel_name: &'a str,
        message_id: String,
        sender: &'a str,
        count: u32,
        mentions: u32,
        text: &'a str,
    },
    /// The channel was read: remove its notification.
    Read { channel_id: String },
}

impl Notification {
    /// Whether it only clears the channel's earlier notification.
    pub fn is_clear(&self) -> bool {
        self.messages == 0
    }

    /// One key per channel, so a newer notification replaces the older
    /// (Web Push `Topic`, FCM `collapse_key`/tag, `apns-collapse-id`):
    /// at most 32 characters of the URL-safe base64 alphabet.
    pub fn collapse_key(&self) -> String {
        format!("c{}", self.channel_id)
    }

    /// The title a device shows.
    pub fn title(&self) -> String {
        if self.messages > 1 {
            format!("{} ({} new)", self.channel_name, self.messages)
        } else {
            self.channel_name.clone()
        }
    }

    /// The line a device shows under the title.
    pub fn text(&self) -> String {
        format!("{}: {}", self.sender, self.preview)
    }

    /// The JSON every provider carries (ids as strings, as in the API).
    pub fn json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body()).unwrap_or_default()
    }

    /// The same JSON as a value, for providers that nest it.
    pub fn body(&self) -> serde_json::Value {
        let channel_id = self.channel_id.to_string();
        let body = if self.is_clear() {
            Body::Read { channel_id }
        } else {
            Body::Message {
                channel_id,
                channel_name: &self.channel_name,
                message_id: self.message_id.to_string(),
                sender: &self.sender,
                count: self.messages,
                mentions: self.mentions,
                text: &self.preview,
            }
        };
        serde_json::to_value(&body).unwrap_or_default()
    }
}

/// `text` cut to [`PREVIEW_CHARS`] characters, with an ellipsis if cut.
pub fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(messages: u32) -> Notification {
        Notification {
            channel_id: 42,
            channel_name: "general".into(),
            messages,
            mentions: 1,
            message_id: 7,
            sender: "ann".into(),
            preview: "hi".into(),
            urgent: false,
            ttl: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_body_names_the_channel_count_and_newest_message() {
        let body: serde_json::Value = serde_json::from_slice(&note(3).json()).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"type": "message", "channel_id": "42", "channel_name": "general",
                "message_id": "7", "sender": "ann", "count": 3, "mentions": 1, "text": "hi"})
        );
        let clear: serde_json::Value = serde_json::from_slice(&note(0).json()).expect("json");
        assert_eq!(
            clear,
            serde_json::json!({"type": "read", "channel_id": "42"})
        );
        assert_eq!(note(3).title(), "general (3 new)");
        assert_eq!(note(1).title(), "general");
    }

    #[test]
    fn previews_are_cut_on_a_character_boundary() {
        let long = "é".repeat(PREVIEW_CHARS + 5);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(preview("short"), "short");
    }
}
