//! Rules for text that clients send, shared by the edge (which refuses early,
//! without a round trip) and the core (which trusts no edge), so the two can
//! never disagree about what is allowed.

/// Longest `client_msg_id`, in characters.
pub const CLIENT_MSG_ID_MAX: usize = 64;

/// Why a piece of client text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    /// Nothing but whitespace, or nothing at all.
    Empty,
    /// More characters than allowed.
    TooLong {
        /// Characters given.
        chars: usize,
        /// Characters allowed.
        max: usize,
    },
    /// A control character that is not allowed here.
    Control {
        /// The character.
        ch: char,
        /// Its position, in characters from the start.
        at: usize,
    },
}

/// What may appear in a piece of text besides printable characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controls {
    /// Line feed and tab (message bodies).
    LineFeedAndTab,
    /// None (names, keys).
    None,
}

/// Counts the characters of `text`, refusing a control character that
/// `controls` does not allow.
fn scan(text: &str, controls: Controls) -> Result<usize, TextFault> {
    let mut chars = 0;
    for (at, ch) in text.chars().enumerate() {
        chars += 1;
        let allowed = matches!((controls, ch), (Controls::LineFeedAndTab, '\n' | '\t'));
        if ch.is_control() && !allowed {
            return Err(TextFault::Control { ch, at });
        }
    }
    Ok(chars)
}

/// At most `max` characters.
fn within(chars: usize, max: usize) -> Result<(), TextFault> {
    if chars > max {
        return Err(TextFault::TooLong { chars, max });
    }
    Ok(())
}

/// `text` passes [`scan`], is not blank, and is at most `max` characters.
fn check(text: &str, max: usize, controls: Controls) -> Result<(), TextFault> {
    let chars = scan(text, controls)?;
    if text.trim().is_empty() {
        return Err(TextFault::Empty);
    }
    within(chars, max)
}

/// A message body: 1 to `max` characters, not only whitespace, no control
/// characters but line feed and tab.
pub fn check_message_text(text: &str, max: usize) -> Result<(), TextFault> {
    check(text, max, Controls::LineFeedAndTab)
}

/// A name (such as a group's): 1 to `max` characters once trimmed, no
/// control characters at all.
pub fn check_name(name: &str, max: usize) -> Result<(), TextFault> {
    check(name.trim(), max, Controls::None)
}

/// An idempotency key: 1 to [`CLIENT_MSG_ID_MAX`] characters, no control
/// characters. Whitespace counts: a key is compared byte for byte.
pub fn check_client_msg_id(key: &str) -> Result<(), TextFault> {
    if key.is_empty() {
        return Err(TextFault::Empty);
    }
    within(scan(key, Controls::None)?, CLIENT_MSG_ID_MAX)
}

impl TextFault {
    /// The error code for a message body with this fault.
    pub fn text_code(self) -> &'static str {
        match self {
            TextFault::Empty => "text_empty",
            TextFault::TooLong { .. } => "text_too_long",
            TextFault::Control { .. } => "invalid_text",
        }
    }

    /// A sentence about `what` (e.g. "text") with this fault.
    pub fn describe(self, what: &str) -> String {
        match self {
            TextFault::Empty => format!("{what} must not be empty or only whitespace"),
            TextFault::TooLong { chars, max } => {
                format!("{what} has {chars} characters; at most {max} are allowed")
            }
            TextFault::Control { ch, at } => format!(
                "{what} contains the control character U+{:04X} at character {at}; \
                 only line feed and tab are allowed in message text, none in names and keys",
                u32::from(ch)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_allows_line_feed_and_tab_only() {
        assert_eq!(check_message_text("hi\n\tthere", 10), Ok(()));
        assert_eq!(check_message_text(" \n\t ", 10), Err(TextFault::Empty));
        assert_eq!(check_message_text("", 10), Err(TextFault::Empty));
        assert_eq!(
            check_message_text("a\0b", 10),
            Err(TextFault::Control { ch: '\0', at: 1 })
        );
        assert_eq!(
            check_message_text("ab\r\n", 10),
            Err(TextFault::Control { ch: '\r', at: 2 })
        );
        assert_eq!(
            check_message_text("\u{85}x", 10),
            Err(TextFault::Control {
                ch: '\u{85}',
                at: 0
            })
        );
        assert_eq!(
            check_message_text("ééé", 2),
            Err(TextFault::TooLong { chars: 3, max: 2 })
        );
        assert_eq!(check_message_text("ééé", 3), Ok(()));
    }

    #[test]
    fn names_and_keys_allow_no_control_characters() {
        assert_eq!(check_name("  team  ", 4), Ok(()));
        assert_eq!(check_name("   ", 4), Err(TextFault::Empty));
        assert_eq!(
            check_name("a\nb", 4),
            Err(TextFault::Control { ch: '\n', at: 1 })
        );
        assert_eq!(check_client_msg_id(" k "), Ok(()));
        assert_eq!(check_client_msg_id(""), Err(TextFault::Empty));
        assert_eq!(
            check_client_msg_id("k\tk"),
            Err(TextFault::Control { ch: '\t', at: 1 })
        );
        assert_eq!(
            check_client_msg_id(&"k".repeat(65)),
            Err(TextFault::TooLong { chars: 65, max: 64 })
        );
    }

    #[test]
    fn faults_read_as_sentences() {
        let control = TextFault::Control { ch: '\0', at: 3 };
        assert_eq!(control.text_code(), "invalid_text");
        assert!(control.describe("text").contains("U+0000 at character 3"));
        assert_eq!(
            TextFault::Empty.describe("text"),
            "text must not be empty or only whitespace"
        );
    }
}
