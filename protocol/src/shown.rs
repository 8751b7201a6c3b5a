//! Which profiles a session has sent its client, so that the edge sends a
//! user's profile just before the first message from or mentioning them
//! (and again once the profile changed), and the client never has to ask.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::wire::User;

/// Most profiles one session remembers; past that it starts afresh, and
/// a profile sent twice costs a frame, nothing more.
const REMEMBERED: usize = 4096;

/// A fingerprint of a profile as sent: a changed profile has another.
pub fn fingerprint(user: &User) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (
        &user.username,
        &user.display_name,
        &user.status_text,
        &user.avatar_url,
    )
        .hash(&mut h);
    h.finish()
}

/// The profiles sent, by user id: their fingerprint then. Boxed so that a
/// session that was sent none carries one word, not a map's six.
#[derive(Debug, Default)]
#[allow(clippy::box_collection)]
pub struct Shown(Option<Box<HashMap<u64, u64>>>);

impl Shown {
    /// Records that the client has `user`'s profile with `print`; true if
    /// it did not have that one yet (so it must be sent).
    pub fn note(&mut self, user: u64, print: u64) -> bool {
        let sent = self.0.get_or_insert_with(Box::default);
        if sent.get(&user) == Some(&print) {
            return false;
        }
        if sent.len() >= REMEMBERED {
            sent.clear();
        }
        sent.insert(user, print);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_sent_once_and_again_when_it_changed() {
        let mut shown = Shown::default();
        let ann = User {
            id: 1,
            username: "ann".into(),
            ..Default::default()
        };
        let renamed = User {
            display_name: "Ann".into(),
            ..ann.clone()
        };
        assert!(shown.note(1, fingerprint(&ann)));
        assert!(!shown.note(1, fingerprint(&ann)));
        assert!(shown.note(1, fingerprint(&renamed)));
        assert!(!shown.note(1, fingerprint(&renamed)));
        assert!(shown.note(2, fingerprint(&ann)), "another user");
    }

    #[test]
    fn past_the_bound_it_starts_afresh() {
        let mut shown = Shown::default();
        for id in 0..REMEMBERED as u64 {
            assert!(shown.note(id, 7));
        }
        assert!(!shown.note(0, 7));
        assert!(shown.note(u64::MAX, 7), "full: cleared");
        assert!(shown.note(0, 7), "forgotten, so sent again");
    }
}
