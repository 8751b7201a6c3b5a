//! Contract checks for group administration and deleting a channel.

use super::super::{HistoryAnchor, MembershipChange, Role, Store, StoreError};
use super::{FENCE, edit, member_ids, msg, two_users_and_a_group, user};

/// Roles, a new owner and a removal apply together; a new owner must be a
/// member; names change in place.
pub async fn roles_owners_and_names_change_atomically<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.create_user(user(3, "cy")).await.expect("cy");
    s.add_member(FENCE, 10, 3, 7).await.expect("add");
    let change = MembershipChange {
        remove: Some(1),
        owner: Some(2),
        roles: vec![(3, Role::Admin)],
    };
    s.update_membership(FENCE, 10, change)
        .await
        .expect("change");
    let members = s.members(10).await.expect("members");
    assert_eq!(member_ids(&members), vec![2, 3]);
    assert_eq!(members[1].role, Role::Admin);
    let channel = s.channel(10).await.expect("q").expect("group");
    assert_eq!(channel.owner_id, 2);
    let outsider = MembershipChange {
        owner: Some(1),
        roles: vec![(3, Role::Member)],
        ..Default::default()
    };
    let refused = s.update_membership(FENCE, 10, outsider).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let members = s.members(10).await.expect("members");
    assert_eq!(
        members[1].role,
        Role::Admin,
        "nothing of a refused change applies"
    );
    assert!(
        s.rename_channel(FENCE, 10, "renamed".into())
            .await
            .expect("rename")
    );
    assert_eq!(s.channel(10).await.expect("q").expect("g").name, "renamed");
    assert!(
        !s.rename_channel(FENCE, 99, "x".into())
            .await
            .expect("missing")
    );
}

/// A deleted channel has no members, messages or read positions and cannot
/// be found; the ids it held still count for the id floors.
pub async fn a_deleted_channel_is_gone_but_its_ids_stay_counted<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.append(FENCE, vec![msg(5_000, 10, 1, "a")])
        .await
        .expect("append");
    s.update_message(FENCE, 10, 5_000, edit("b"), 1, 6_000)
        .await
        .expect("edit");
    s.mark_read(2, 10, 5_000).await.expect("read");
    assert!(s.delete_channel(FENCE, 10, 9).await.expect("delete"));
    assert!(!s.delete_channel(FENCE, 10, 9).await.expect("again"));
    assert_eq!(s.channel(10).await.expect("q"), None);
    assert!(s.members(10).await.expect("m").is_empty());
    assert!(s.channels_of(1).await.expect("of").is_empty());
    assert!(s.read_states(2).await.expect("reads").is_empty());
    let page = s.history(10, HistoryAnchor::Latest, 10).await.expect("h");
    assert!(page.messages.is_empty());
    assert!(s.versions(10, 5_000).await.expect("v").is_empty());
    assert_eq!(s.last_message_id(10).await.expect("last"), 6_000);
    assert!(s.max_channel_id().await.expect("channels") >= 10);
}
