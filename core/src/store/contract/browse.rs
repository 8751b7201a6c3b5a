//! Contract checks for browsing: users by prefix, each channel's latest
//! message, a channel's read positions.

use super::{FENCE, group, msg, two_users_and_a_group, user};
use crate::store::{MessageChange, Store};

/// A prefix matches the start of the username in any case, in byte order
/// of the lowercased names, up to the limit; `_`, `.` and `-` are literal.
pub async fn users_are_found_by_username_prefix<S: Store>(s: &S) {
    for (id, name) in [
        (1, "Alice"),
        (2, "alfred"),
        (3, "al_x"),
        (4, "alx"),
        (5, "bob"),
        (6, "ALBERT"),
        (7, "a.l"),
    ] {
        s.create_user(user(id, name)).await.expect("create");
    }
    let names = |users: Vec<crate::store::UserRecord>| -> Vec<String> {
        users.into_iter().map(|u| u.username).collect()
    };
    let found = s.users_by_prefix("al", 10).await.expect("search");
    assert_eq!(names(found), ["al_x", "ALBERT", "alfred", "Alice", "alx"]);
    let found = s.users_by_prefix("al", 2).await.expect("limited");
    assert_eq!(names(found), ["al_x", "ALBERT"]);
    let found = s.users_by_prefix("al_", 10).await.expect("underscore");
    assert_eq!(names(found), ["al_x"], "_ is not a wildcard");
    let found = s.users_by_prefix("alice", 10).await.expect("whole name");
    assert_eq!(names(found), ["Alice"]);
    assert!(
        s.users_by_prefix("alicia", 10)
            .await
            .expect("none")
            .is_empty()
    );
    assert!(s.users_by_prefix("c", 10).await.expect("none").is_empty());
    let found = s.users_by_prefix("a", 10).await.expect("a");
    assert_eq!(names(found)[0], "a.l", "'.' sorts before letters");
}

/// The newest message that is not deleted, per channel that has one, in
/// the order asked, its text cut to `chars + 1` characters.
pub async fn latest_messages_skip_tombstones_and_cut_long_text<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.create_channel(group(11, 1), vec![1, 2])
        .await
        .expect("second group");
    s.create_channel(group(12, 1), vec![1])
        .await
        .expect("empty group");
    let mut long = msg(202, 11, 2, "long");
    long.text = "é".repeat(500);
    s.append(
        FENCE,
        vec![
            msg(100, 10, 1, "a"),
            msg(101, 10, 2, "b"),
            msg(201, 11, 1, "c"),
            long,
        ],
    )
    .await
    .expect("append");
    s.update_message(FENCE, 10, 101, MessageChange::Delete { by: 2 }, 5, 300)
        .await
        .expect("delete");
    let latest = s
        .latest_messages(vec![11, 12, 10], 10)
        .await
        .expect("latest");
    let ids: Vec<_> = latest.iter().map(|m| (m.channel_id, m.id)).collect();
    assert_eq!(
        ids,
        [(11, 202), (10, 100)],
        "none for the empty channel; the tombstone skipped"
    );
    assert_eq!(
        latest[0].text,
        "é".repeat(11),
        "cut to chars + 1 characters"
    );
    assert_eq!(latest[1].text, "text 100", "short text whole");
    assert_eq!(latest[0].sender_id, 2);
    assert!(
        s.latest_messages(Vec::new(), 10)
            .await
            .expect("none")
            .is_empty()
    );
}

/// The members' read positions, only those above 0, by user; a member who
/// left takes theirs along.
pub async fn member_read_positions_list_who_read_what<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.create_user(user(3, "cy")).await.expect("cy");
    s.add_member(FENCE, 10, 3, 4).await.expect("add cy");
    s.append(FENCE, vec![msg(100, 10, 1, "a"), msg(101, 10, 2, "b")])
        .await
        .expect("append");
    assert!(s.member_read_positions(10).await.expect("none").is_empty());
    s.mark_read(2, 10, 100).await.expect("bob reads");
    s.mark_read(1, 10, 101).await.expect("ann reads");
    s.mark_read(3, 10, 101).await.expect("cy reads");
    let reads = s.member_read_positions(10).await.expect("reads");
    assert_eq!(reads, [(1, 101), (2, 100), (3, 101)]);
    s.remove_member(FENCE, 10, 3).await.expect("cy leaves");
    let reads = s.member_read_positions(10).await.expect("reads");
    assert_eq!(reads, [(1, 101), (2, 100)]);
    assert!(
        s.member_read_positions(999)
            .await
            .expect("no channel")
            .is_empty()
    );
}
