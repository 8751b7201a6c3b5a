//! Finds `@username` in message text. Pure and total over any string, so it
//! is fuzzed; resolving a name to a member happens in the service.
//!
//! A mention is an `@` at the start of the text or after a character that
//! is not a letter, digit, `_`, `.` or `-` of any script (so
//! `ann@example.com` and `é@cyd` are none), followed by
//! a run of username characters (`a-z A-Z 0-9 _ . -`) starting with a
//! letter or digit. Trailing `.`, `-` and `_` may be punctuation ("thanks
//! @ann."), so each candidate also offers its shorter forms without them.

use crate::accounts::{USERNAME_MAX, USERNAME_MIN};

/// Most distinct names looked up per message; later ones are plain text.
pub const MAX_CANDIDATES: usize = 20;
/// Most mentions kept per message, repeats included.
pub const MAX_MENTIONS: usize = 100;

/// One `@name` in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where the `@` is, in Unicode scalar values.
    pub offset: u32,
    /// The name as written, without `@`, longest form first: the name with
    /// trailing punctuation removed one character at a time follows.
    pub forms: Vec<String>,
}

fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A character that glues an `@` to the word before it (as in an address).
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The `@name` candidates in `text`, in text order: at most
/// [`MAX_CANDIDATES`] distinct names and [`MAX_MENTIONS`] in all.
pub fn candidates(text: &str) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    if !text.contains('@') {
        return out;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut distinct = 0;
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '@' && (i == 0 || !word_char(chars[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let run: String = chars[i + 1..]
            .iter()
            .take_while(|c| username_char(**c))
            .take(USERNAME_MAX + 1)
            .collect();
        let ran = run.chars().count();
        let mut forms = Vec::new();
        let mut name = run.as_str();
        loop {
            let len = name.len();
            let valid = (USERNAME_MIN..=USERNAME_MAX).contains(&len)
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            if valid {
                forms.push(name.to_owned());
            }
            match name.strip_suffix(['.', '-', '_']) {
                Some(shorter) => name = shorter,
                None => break,
            }
        }
        if !forms.is_empty() {
            let seen = out
                .iter()
                .any(|c| c.forms[0].eq_ignore_ascii_case(&forms[0]));
            if !seen {
                distinct += 1;
            }
            if distinct > MAX_CANDIDATES || out.len() >= MAX_MENTIONS {
                break;
            }
            out.push(Candidate {
                offset: u32::try_from(i).unwrap_or(u32::MAX),
                forms,
            });
        }
        i += 1 + ran;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(u32, Vec<&'static str>)> {
        candidates(text)
            .into_iter()
            .map(|c| {
                let forms = c
                    .forms
                    .into_iter()
                    .map(|f| &*Box::leak(f.into_boxed_str()))
                    .collect();
                (c.offset, forms)
            })
            .collect()
    }

    #[test]
    fn finds_mentions_where_they_start_a_word() {
        assert_eq!(names("@ann hi"), vec![(0, vec!["ann"])]);
        assert_eq!(
            names("hi @bob, and @cyd!"),
            vec![(3, vec!["bob"]), (13, vec!["cyd"])]
        );
        assert_eq!(names("mail ann@example.com"), vec![]);
        assert_eq!(names("é@ann 名@ann"), vec![]);
        assert_eq!(names("(@ann)"), vec![(1, vec!["ann"])]);
        assert_eq!(names("@@ann"), vec![(1, vec!["ann"])]);
        assert_eq!(names("@ab @_ann @"), vec![]);
    }

    #[test]
    fn trailing_punctuation_is_offered_both_ways() {
        assert_eq!(names("thanks @ann."), vec![(7, vec!["ann.", "ann"])]);
        assert_eq!(names("@a.b-_"), vec![(0, vec!["a.b-_", "a.b-", "a.b"])]);
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        assert_eq!(names("héllo 🎉 @ann"), vec![(8, vec!["ann"])]);
    }

    #[test]
    fn long_runs_and_many_names_are_bounded() {
        assert_eq!(names(&format!("@{}", "a".repeat(40))), vec![]);
        let many: String = (0..50).map(|i| format!("@user{i:02} ")).collect();
        assert_eq!(candidates(&many).len(), MAX_CANDIDATES);
        let repeated = "@ann ".repeat(100);
        assert_eq!(
            candidates(&repeated).len(),
            MAX_MENTIONS,
            "one name, many times"
        );
    }
}
