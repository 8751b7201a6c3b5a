//! The backend side of the suite, and the one check that needs it: data
//! written before the store is closed is there when it is opened again.

use std::future::Future;

use super::super::{
    AccountStore, Appended, ChannelKind, ChannelStore, HistoryAnchor, MembershipChange,
    MessageChange, MessageStore, NotificationLevel, ProfileChange, RelationKind, Role,
    SettingsRecord, Store,
};
use super::{FENCE, edit, group, member_ids, msg, token, two_users_and_a_group, user};

/// A backend under test: how to make a fresh, empty store, and how to close
/// it and open the same data again.
pub trait ContractBackend: Sized {
    /// The store it makes.
    type Store: Store;
    /// A fresh, empty store of its own (nothing another test can see); or
    /// `None`, after printing why, where this backend cannot run.
    fn fresh() -> impl Future<Output = Option<Self>>;
    /// The store.
    fn store(&self) -> &Self::Store;
    /// Closes the store, letting go of everything it holds in memory
    /// (connections, threads, caches), and opens the same data again.
    fn reopen(self) -> impl Future<Output = Self>;
    /// Removes what [`ContractBackend::fresh`] made, best effort.
    fn finish(self) -> impl Future<Output = ()> {
        async {}
    }
}

/// Everything written before closing is there after opening again: users
/// with profiles and last activity, tokens, channels with members and roles,
/// messages with edits, versions and deletes, read positions, settings and
/// relationships. Nothing is flushed first: a write that returned is durable.
pub async fn data_survives_reopening<B: ContractBackend>(backend: B) -> B {
    let s = backend.store();
    two_users_and_a_group(s).await;
    s.create_user(user(3, "Cy")).await.expect("cy");
    s.insert_token(token(7, 1, 1_000)).await.expect("token");
    s.touch_token(7, 40, 2_000).await.expect("touch");
    let profile = ProfileChange {
        display_name: Some("Ann A.".into()),
        ..Default::default()
    };
    s.update_profile(1, profile).await.expect("profile");
    s.set_last_active(2, 77).await.expect("active");
    s.add_member(FENCE, 10, 3, 5).await.expect("add");
    let roles = MembershipChange {
        roles: vec![(3, Role::Admin)],
        ..Default::default()
    };
    s.update_membership(FENCE, 10, roles).await.expect("roles");
    let mut dm = group(20, 1);
    dm.kind = ChannelKind::Direct;
    dm.name = String::new();
    dm.direct_key = Some("1:2".into());
    s.create_channel(dm, vec![1, 2]).await.expect("dm");
    let batch = vec![
        msg(100, 10, 1, "a"),
        msg(101, 10, 2, "b"),
        msg(102, 10, 2, "c"),
    ];
    s.append(FENCE, batch).await.expect("append");
    s.update_message(FENCE, 10, 100, edit("edited"), 8, 200)
        .await
        .expect("edit");
    s.update_message(FENCE, 10, 102, MessageChange::Delete { by: 2 }, 9, 201)
        .await
        .expect("delete");
    s.mark_read(1, 10, 101).await.expect("read");
    let settings = SettingsRecord {
        notifications: NotificationLevel::Mentions,
        muted_channel_ids: vec![20],
        invisible: true,
    };
    s.put_settings(1, settings.clone()).await.expect("settings");
    s.change_relations(vec![(1, 3, Some(RelationKind::Blocked))], 6)
        .await
        .expect("block");

    let backend = backend.reopen().await;
    let s = backend.store();
    let ann = s.user_by_name("ANN").await.expect("q").expect("ann");
    assert_eq!((ann.id, ann.display_name.as_str()), (1, "Ann A."));
    let bob = s.user_by_id(2).await.expect("q").expect("bob");
    assert_eq!(bob.last_active_at_ms, 77);
    assert!(
        s.create_user(user(4, "cy")).await.is_err(),
        "names stay taken"
    );
    let stored = s.token_by_hash([7; 32]).await.expect("q").expect("token");
    assert_eq!((stored.last_used_at_ms, stored.expires_at_ms), (40, 2_000));
    let channel = s.channel(10).await.expect("q").expect("group");
    assert_eq!((channel.name.as_str(), channel.owner_id), ("group 10", 1));
    assert_eq!(channel.last_message_id, 102);
    let members = s.members(10).await.expect("members");
    assert_eq!(member_ids(&members), vec![1, 2, 3]);
    assert_eq!(members[2].role, Role::Admin);
    let dm = s.channels_of(2).await.expect("of");
    assert_eq!(dm.iter().map(|c| c.id).collect::<Vec<_>>(), vec![10, 20]);
    let page = s.history(10, HistoryAnchor::Latest, 10).await.expect("h");
    let seen: Vec<_> = page
        .messages
        .iter()
        .map(|m| (m.id, m.text.as_str(), m.version_id, m.deleted))
        .collect();
    assert_eq!(
        seen,
        vec![
            (100, "edited", 200, false),
            (101, "text 101", 0, false),
            (102, "", 201, true)
        ]
    );
    assert_eq!(s.versions(10, 100).await.expect("versions").len(), 2);
    assert_eq!(s.changes(10, 0, 10).await.expect("changes").len(), 2);
    assert_eq!(s.last_message_id(10).await.expect("last"), 201);
    let retry = s
        .append(FENCE, vec![msg(103, 10, 1, "a")])
        .await
        .expect("retry");
    assert!(matches!(retry[0], Appended::Duplicate(_)), "keys stay used");
    let reads = s.read_states(1).await.expect("reads");
    let ten = reads.iter().find(|r| r.channel_id == 10).expect("group");
    assert_eq!((ten.last_read_id, ten.unread_count), (101, 0));
    assert_eq!(s.settings(1).await.expect("settings"), settings);
    let block = s.relation(1, 3).await.expect("q").expect("block");
    assert_eq!((block.kind, block.since_ms), (RelationKind::Blocked, 6));
    assert!(s.id_floor().await.expect("floor") >= 20);
    backend
}
