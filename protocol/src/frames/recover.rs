//! What can still be read of a frame that is not valid JSON: its top-level
//! `client_msg_id`, so that the error frame names the `send` it refuses.
//!
//! The frame is read as an object, entry by entry, up to where it breaks;
//! the values of other fields are skipped the lenient way, which lets
//! through what made the frame invalid there (a lone surrogate, a number
//! out of range), and whatever follows the object is never looked at.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, Visitor};

/// The frame's top-level `client_msg_id`, if the frame is an object and
/// that field's value, a string, could be read before the frame broke.
/// As when a frame is read whole, the last one wins.
pub(super) fn client_msg_id(text: &str) -> Option<String> {
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    // The error is the one the frame is refused for, already reported;
    // what was read before it is in `found`.
    let _ = de.deserialize_map(Fields { found: &mut found });
    found
}

/// Reads an object's entries, noting each `client_msg_id` as it goes.
struct Fields<'a> {
    found: &'a mut Option<String>,
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(is_id) = map.next_key_seed(IsClientMsgId)? {
            if is_id {
                let value = map.next_value::<serde_json::Value>()?;
                *self.found = value.as_str().map(str::to_owned);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A key, read as whether it is `client_msg_id`.
struct IsClientMsgId;

impl<'de> DeserializeSeed<'de> for IsClientMsgId {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for IsClientMsgId {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == "client_msg_id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_id_wherever_the_frame_breaks() {
        let cases = [
            r#"{"type":"send","client_msg_id":"k1","text":"\ud800"}"#,
            r#"{"text":"\ud800","client_msg_id":"k1"}"#,
            r#"{"junk":1e400,"client_msg_id":"k1"}"#,
            r#"{"client_msg_id":"k1","junk":[1e400]}"#,
            r#"{"client_msg_id":"k1"} trailing"#,
            r#"{"client_msg_id":"k1"}{"client_msg_id":"k2"}"#,
            r#"{"client_msg_id":"k1","text":"cut off"#,
            r#"{"client_msg_id":"k1",}"#,
            r#"{"client_msg_id":"k0","client_msg_id":"k1","a":"\udc00"}"#,
            r#" {"client_msg_\u0069d":"k\u0031","a":"\x"}"#,
            r#"{"nested":{"client_msg_id":"no"},"client_msg_id":"k1","x":"\ud800"}"#,
        ];
        for text in cases {
            assert_eq!(client_msg_id(text).as_deref(), Some("k1"), "{text}");
        }
    }

    #[test]
    fn only_a_readable_top_level_string_counts() {
        let cases = [
            r#"["client_msg_id","k1"]"#,
            r#""client_msg_id""#,
            r#"{"client_msg_id":5,"text":"\ud800"}"#,
            r#"{"client_msg_id":"k\ud800"}"#,
            r#"{"client_msg_id":"k1","client_msg_id":null,"x":1e400}"#,
            r#"{"a":{"client_msg_id":"k1"},"x":"\ud800"}"#,
            r#"{"text":"\ud800" "client_msg_id":"k1"}"#,
            r#"{"client_msg_id":"k1"#,
            "",
        ];
        for text in cases {
            assert_eq!(client_msg_id(text), None, "{text}");
        }
    }
}
