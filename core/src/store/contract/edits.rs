//! Contract checks for message versions and mentions.

use super::super::{Mention, MessageChange, Store, VersionRecord};
use super::{FENCE, edit, msg, two_users_and_a_group};

/// An edit keeps the text it replaces; a delete removes every version.
pub async fn edits_keep_versions_and_deletes_drop_them<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.append(FENCE, vec![msg(100, 10, 1, "a")])
        .await
        .expect("append");
    assert_eq!(
        s.versions(10, 100).await.expect("v"),
        vec![VersionRecord {
            version_id: 0,
            text: "text 100".into(),
            created_at_ms: 3
        }]
    );
    s.update_message(FENCE, 10, 100, edit("second"), 50, 200)
        .await
        .expect("edit");
    s.update_message(FENCE, 10, 100, edit("third"), 60, 300)
        .await
        .expect("edit");
    let versions = s.versions(10, 100).await.expect("v");
    let seen: Vec<_> = versions
        .iter()
        .map(|v| (v.version_id, v.text.as_str(), v.created_at_ms))
        .collect();
    assert_eq!(
        seen,
        vec![(0, "text 100", 3), (200, "second", 50), (300, "third", 60)]
    );
    let gone = s
        .update_message(FENCE, 10, 100, MessageChange::Delete { by: 2 }, 70, 400)
        .await
        .expect("delete")
        .expect("exists");
    assert_eq!(gone.deleted_by, 2, "a moderator is named");
    assert!(s.versions(10, 100).await.expect("v").is_empty());
    assert!(s.versions(10, 999).await.expect("none").is_empty());
}

/// Mentions come back with the message and count as unread mentions of
/// the member until read, edited away or deleted; one's own do not count.
pub async fn mentions_are_stored_and_counted_until_read<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let at = |user_id, offset| Mention {
        user_id,
        offset,
        length: 4,
    };
    let mut first = msg(100, 10, 1, "a");
    first.mentions = vec![at(2, 0), at(1, 5), at(2, 9)];
    let mut second = msg(101, 10, 1, "b");
    second.mentions = vec![at(2, 0)];
    s.append(FENCE, vec![first.clone(), second])
        .await
        .expect("append");
    let stored = s.message(10, 100).await.expect("q").expect("found");
    assert_eq!(stored.mentions, first.mentions);
    let count = |states: Vec<super::super::ReadState>| states[0].mention_count;
    assert_eq!(count(s.read_states(2).await.expect("bob")), 2);
    assert_eq!(
        count(s.read_states(1).await.expect("ann")),
        0,
        "not one's own"
    );
    let state = s.mark_read(2, 10, 100).await.expect("read");
    assert_eq!(state.mention_count, 1);
    s.update_message(FENCE, 10, 101, edit("nobody"), 5, 200)
        .await
        .expect("edit");
    assert_eq!(count(s.read_states(2).await.expect("bob")), 0);
    let mut third = msg(102, 10, 1, "c");
    third.mentions = vec![at(2, 0)];
    s.append(FENCE, vec![third]).await.expect("append");
    assert_eq!(count(s.read_states(2).await.expect("bob")), 1);
    s.update_message(FENCE, 10, 102, MessageChange::Delete { by: 1 }, 6, 201)
        .await
        .expect("delete");
    assert_eq!(count(s.read_states(2).await.expect("bob")), 0);
    let deleted = s.message(10, 102).await.expect("q").expect("tombstone");
    assert!(deleted.mentions.is_empty());
}
