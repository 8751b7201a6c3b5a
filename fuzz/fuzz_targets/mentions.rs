//! The `@username` finder of `chat_core::mentions`, which reads every
//! message text a client sends, on any UTF-8 text.
//!
//! Every candidate must point at an `@` that starts a word, in text order;
//! each of its forms must be a valid username written right after that
//! `@`, longest first; and the bounds on names and mentions must hold.

#![no_main]

use chat_core::accounts::{USERNAME_MAX, USERNAME_MIN};
use chat_core::mentions::{MAX_CANDIDATES, MAX_MENTIONS, candidates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let chars: Vec<char> = text.chars().collect();
    let found = candidates(text);
    assert!(found.len() <= MAX_MENTIONS);
    let mut distinct: Vec<String> = Vec::new();
    let mut last = None;
    for c in &found {
        let at = c.offset as usize;
        assert_eq!(chars.get(at), Some(&'@'), "{text:?} at {at}");
        assert!(last < Some(at), "in text order, apart");
        last = Some(at);
        assert!(!c.forms.is_empty());
        let after: String = chars[at + 1..].iter().collect();
        for pair in c.forms.windows(2) {
            assert!(pair[0].len() > pair[1].len(), "longest first");
        }
        for form in &c.forms {
            assert!(
                (USERNAME_MIN..=USERNAME_MAX).contains(&form.len()),
                "{form:?}"
            );
            assert!(
                after.starts_with(form.as_str()),
                "{form:?} is written there"
            );
            assert!(form.starts_with(|ch: char| ch.is_ascii_alphanumeric()));
        }
        let key = c.forms[0].to_lowercase();
        if !distinct.contains(&key) {
            distinct.push(key);
        }
    }
    assert!(distinct.len() <= MAX_CANDIDATES);
});
