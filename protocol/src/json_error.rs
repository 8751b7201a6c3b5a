//! JSON syntax errors in words that name the client's fault, for frames and
//! REST bodies alike.
//!
//! serde_json reports a lone UTF-16 surrogate escape (`"\ud800"` without
//! its pair) as "unexpected end of hex escape" or "lone leading surrogate
//! in hex escape", which describes nothing the client did. Everything else
//! it says is kept as it is.

use serde_path_to_error::Segment;

/// What a client must change, after the lone surrogate is named.
const UNICODE: &str = "JSON strings must be valid Unicode";

/// The message for `err`, a failure to read `text` as JSON. With the text
/// at hand, a lone surrogate is named and placed at its escape; without it
/// (`None`), the message places it where serde_json noticed it.
pub fn describe(err: &serde_json::Error, text: Option<&[u8]>) -> String {
    if !is_lone_surrogate(err) {
        return err.to_string();
    }
    let found = text.and_then(|text| {
        let (escape, unit) = lone_surrogate_before(text, offset(text, err.line(), err.column()))?;
        Some((position(text, escape), unit))
    });
    match found {
        Some(((line, column), unit)) => format!(
            "lone surrogate \\u{unit:04x} in a string at line {line} column {column}: {UNICODE}"
        ),
        None => format!(
            "lone surrogate in a string at line {} column {}: {UNICODE}",
            err.line(),
            err.column()
        ),
    }
}

/// The message for the JSON error somewhere in `err`'s chain of sources,
/// as a rejected REST body carries it: the path of the field it was in
/// (`text: ...`), then [`describe`]. `None` when no JSON error is there.
pub fn describe_source(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    std::iter::successors(Some(err), |e| e.source()).find_map(|e| {
        if let Some(err) = e.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let path = err.path();
            let known = path.iter().any(|s| !matches!(s, Segment::Unknown));
            let prefix = if known {
                format!("{path}: ")
            } else {
                String::new()
            };
            return Some(format!("{prefix}{}", describe(err.inner(), None)));
        }
        e.downcast_ref::<serde_json::Error>()
            .map(|err| describe(err, None))
    })
}

/// Whether serde_json refused a lone surrogate escape. It has no public
/// error code for it, so its two messages are matched; a unit test pins them.
fn is_lone_surrogate(err: &serde_json::Error) -> bool {
    let message = err.to_string();
    err.is_syntax()
        && (message.starts_with("unexpected end of hex escape")
            || message.starts_with("lone leading surrogate in hex escape"))
}

/// The byte offset of serde_json's (1-based) line and column: the column
/// counts the bytes of the line read so far.
fn offset(text: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        // Line L starts after the (L-1)th newline.
        _ => text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1),
    };
    line_start.saturating_add(column).min(text.len())
}

/// The 1-based line and column of the byte at `index`.
fn position(text: &[u8], index: usize) -> (usize, usize) {
    let before = text.get(..index).unwrap_or(text);
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    (line, index - line_start + 1)
}

/// Where the last `\u` escape of an unpaired surrogate starting before
/// `end` begins, and its code unit. Escapes are read as escapes (`\\ud800` is a backslash and
/// text, not a surrogate); only text serde_json read as valid, which puts
/// every backslash inside a string, comes before `end`.
fn lone_surrogate_before(text: &[u8], end: usize) -> Option<(usize, u16)> {
    let mut found = None;
    let mut i = 0;
    while i < end {
        if text.get(i) != Some(&b'\\') {
            i += 1;
            continue;
        }
        let Some(unit) = unicode_escape(text, i) else {
            // `\\`, `\n` and the like, or a broken escape.
            i += 2;
            continue;
        };
        let paired = is_high(unit) && unicode_escape(text, i + 6).is_some_and(is_low);
        if paired {
            i += 12;
            continue;
        }
        if is_high(unit) || is_low(unit) {
            found = Some((i, unit));
        }
        i += 6;
    }
    found
}

/// The code unit of the `\uXXXX` escape at `at`, if one is there.
fn unicode_escape(text: &[u8], at: usize) -> Option<u16> {
    let escape = text.get(at..at.checked_add(6)?)?;
    let (prefix, digits) = escape.split_at(2);
    if prefix != b"\\u" {
        return None;
    }
    digits.iter().try_fold(0u16, |unit, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(unit << 4 | digit as u16)
    })
}

fn is_high(unit: u16) -> bool {
    (0xD800..=0xDBFF).contains(&unit)
}

fn is_low(unit: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> serde_json::Error {
        serde_json::from_str::<serde_json::Value>(text).expect_err("not valid JSON")
    }

    fn described(text: &str) -> String {
        describe(&error(text), Some(text.as_bytes()))
    }

    #[test]
    fn serde_json_words_for_a_lone_surrogate_are_still_these() {
        // If serde_json rewords them, `is_lone_surrogate` must follow.
        assert_eq!(
            error(r#""\ud800""#).to_string(),
            "unexpected end of hex escape at line 1 column 8"
        );
        assert_eq!(
            error(r#""\udc00""#).to_string(),
            "lone leading surrogate in hex escape at line 1 column 7"
        );
        assert_eq!(
            error(r#""\ud800\u0041""#).to_string(),
            "lone leading surrogate in hex escape at line 1 column 13"
        );
    }

    #[test]
    fn a_lone_surrogate_is_named_at_its_escape() {
        let cases = [
            (r#""\ud800""#, "\\ud800", 1, 2),
            (r#""\uDBFF""#, "\\udbff", 1, 2),
            (r#""\udc00""#, "\\udc00", 1, 2),
            (r#"{"a":"x\ud800y"}"#, "\\ud800", 1, 8),
            (r#"["\ud800\u0041"]"#, "\\ud800", 1, 3),
            (r#"["\ud800\n"]"#, "\\ud800", 1, 3),
            (r#"["\ud800\\"]"#, "\\ud800", 1, 3),
            // A valid pair, then a high surrogate paired with nothing.
            (r#"["\ud83d\ude00\ud800"]"#, "\\ud800", 1, 15),
            // Two highs: the first is lone, the second pairs.
            (r#"["\ud800\ud801\udc00"]"#, "\\ud800", 1, 3),
            // An escaped backslash before a real surrogate escape, and
            // one that makes the escape plain text.
            (r#"["\\\ud800"]"#, "\\ud800", 1, 5),
            (r#"["\\ud800","\udc00"]"#, "\\udc00", 1, 13),
            // Keys are strings too, and lines count.
            ("{\n \"k\": 1,\n \"\\udfff\": 2}", "\\udfff", 3, 3),
        ];
        for (text, escape, line, column) in cases {
            assert_eq!(
                described(text),
                format!(
                    "lone surrogate {escape} in a string at line {line} column {column}: \
                     JSON strings must be valid Unicode"
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn escaped_backslashes_and_pairs_are_not_surrogates() {
        // `\\ud800` is a backslash and the text "ud800": valid JSON.
        assert!(serde_json::from_str::<serde_json::Value>(r#""\\ud800""#).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(r#""\ud83d\ude00""#).is_ok());
        // Other faults keep serde_json's words.
        assert_eq!(described(r#""\x""#), "invalid escape at line 1 column 3");
        assert_eq!(
            described("[1e400]"),
            "number out of range at line 1 column 6"
        );
        // A surrogate cut off by the end of the text is an early end.
        assert_eq!(
            described(r#""\ud800"#),
            "EOF while parsing a string at line 1 column 7"
        );
        assert_eq!(
            described(r#""\ud800\u"#),
            "EOF while parsing a string at line 1 column 9"
        );
    }

    #[test]
    fn without_the_text_the_place_is_serde_jsons() {
        assert_eq!(
            describe(&error(r#"{"text":"\ud800"}"#), None),
            "lone surrogate in a string at line 1 column 16: JSON strings must be valid Unicode"
        );
    }

    #[test]
    fn sources_carry_the_field_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[allow(dead_code)]
            text: String,
        }
        let read = |text: &str| {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize::<_, Body>(de).expect_err("refused")
        };
        let err = read(r#"{"text":"\ud800"}"#);
        assert_eq!(
            describe_source(&err).as_deref(),
            Some(
                "text: lone surrogate in a string at line 1 column 16: \
                 JSON strings must be valid Unicode"
            )
        );
        let err = read(r#"{"text":"a"#);
        assert_eq!(
            describe_source(&err).as_deref(),
            Some("text: EOF while parsing a string at line 1 column 10")
        );
        let err = error("[] x");
        assert_eq!(
            describe_source(&err).as_deref(),
            Some("trailing characters at line 1 column 4")
        );
        let other = std::io::Error::other("no JSON here");
        assert_eq!(describe_source(&other), None);
    }
}
