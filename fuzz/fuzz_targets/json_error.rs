//! The describer of JSON syntax errors (`protocol::json_error`), which
//! scans the escapes of whatever bytes a client sent: frames, REST bodies.
//!
//! For every input serde_json refuses, both forms of the message must be
//! non-empty, and when a lone surrogate is named, the named escape must be
//! in the input at the line and column the message gives.

#![no_main]

use chat_protocol::json_error::{describe, describe_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Err(err) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let blind = describe(&err, None);
    assert!(!blind.is_empty());
    assert_eq!(describe_source(&err).as_deref(), Some(blind.as_str()));
    let message = describe(&err, Some(data));
    assert!(!message.is_empty());
    if let Some(rest) = message.strip_prefix("lone surrogate \\u") {
        check_named(data, rest, &message);
    } else {
        assert_eq!(message, blind, "the text only changes a named surrogate");
    }
});

/// `rest` is `XXXX in a string at line L column C: ...`: the escape
/// `\uXXXX` must start at line L, column C of `data`, and be a surrogate.
fn check_named(data: &[u8], rest: &str, message: &str) {
    let (digits, rest) = rest.split_at(4);
    let unit = u16::from_str_radix(digits, 16).expect("four hex digits");
    assert!((0xD800..=0xDFFF).contains(&unit), "{message}");
    let rest = rest.strip_prefix(" in a string at line ").expect("a place");
    let (line, rest) = rest.split_once(" column ").expect("a column");
    let (column, _) = rest.split_once(':').expect("a hint");
    let line: usize = line.parse().expect("a line number");
    let column: usize = column.parse().expect("a column number");
    let line_start = match line {
        1 => 0,
        _ => {
            data.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .nth(line - 2)
                .expect("the line exists")
                .0
                + 1
        }
    };
    let at = line_start + column - 1;
    let escape = data.get(at..at + 6).expect("the escape is in the input");
    assert!(
        escape[..2] == *b"\\u" && escape[2..].eq_ignore_ascii_case(digits.as_bytes()),
        "{message}: found {:?}",
        String::from_utf8_lossy(escape)
    );
}
