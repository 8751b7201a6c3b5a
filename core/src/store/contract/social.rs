//! Contract checks for profiles, last activity, settings and relationships.

use super::super::{
    NotificationLevel, ProfileChange, RelationKind, SettingsRecord, Store, UserRecord,
};
use super::{two_users_and_a_group, user};

/// Profile fields change one at a time; last activity only moves forward.
pub async fn profiles_and_last_active_are_stored<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let change = ProfileChange {
        display_name: Some("Ann A.".into()),
        ..Default::default()
    };
    let ann = s
        .update_profile(1, change)
        .await
        .expect("update")
        .expect("ann");
    assert_eq!(
        (ann.display_name.as_str(), ann.status_text.as_str()),
        ("Ann A.", "")
    );
    let change = ProfileChange {
        status_text: Some("out".into()),
        avatar_url: Some("https://example.com/a.png".into()),
        ..Default::default()
    };
    let ann = s
        .update_profile(1, change)
        .await
        .expect("update")
        .expect("ann");
    assert_eq!(ann.display_name, "Ann A.", "absent fields stay");
    assert_eq!(ann.avatar_url, "https://example.com/a.png");
    let none = s.update_profile(99, ProfileChange::default()).await;
    assert_eq!(none.expect("no error"), None);
    s.set_last_active(1, 50).await.expect("active");
    s.set_last_active(1, 40).await.expect("older");
    let ann = s.user_by_id(1).await.expect("read").expect("ann");
    assert_eq!(ann.last_active_at_ms, 50);
    assert_eq!(ann.status_text, "out");
}

/// Many users going offline at once: every time is stored, none moves back.
pub async fn last_active_written_at_once_is_all_stored<S: Store>(s: &S) {
    let users: Vec<u64> = (1..=300).collect();
    for &id in &users {
        s.create_user(user(id, &format!("u{id}")))
            .await
            .expect("user");
    }
    let newer = users
        .iter()
        .map(|&id| s.set_last_active(id, 1_000 + id as i64));
    let older = users.iter().map(|&id| s.set_last_active(id, 5));
    let unknown = s.set_last_active(9_999, 7);
    let (newer, older, unknown) = futures::join!(
        futures::future::join_all(newer),
        futures::future::join_all(older),
        unknown
    );
    for result in newer.into_iter().chain(older) {
        result.expect("stored");
    }
    unknown.expect("an unknown user is no error");
    for &id in &users {
        let u = s.user_by_id(id).await.expect("read").expect("user");
        assert_eq!(u.last_active_at_ms, 1_000 + id as i64, "user {id}");
    }
}

/// Settings start at their defaults and are replaced whole.
pub async fn settings_default_and_replace<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    assert_eq!(
        s.settings(1).await.expect("read"),
        SettingsRecord::default()
    );
    let wanted = SettingsRecord {
        notifications: NotificationLevel::Mentions,
        muted_channel_ids: vec![10, 11],
        invisible: true,
    };
    s.put_settings(1, wanted.clone()).await.expect("put");
    assert_eq!(s.settings(1).await.expect("read"), wanted);
    let fewer = SettingsRecord {
        notifications: NotificationLevel::Nothing,
        muted_channel_ids: vec![11],
        invisible: false,
    };
    s.put_settings(1, fewer.clone()).await.expect("put");
    assert_eq!(s.settings(1).await.expect("read"), fewer);
    assert_eq!(s.settings(2).await.expect("bob"), SettingsRecord::default());
}

/// Both sides of a relationship change in one step, or neither does.
pub async fn relations_change_atomically_per_side<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.create_user(user(3, "cy")).await.expect("cy");
    let request = vec![
        (1, 2, Some(RelationKind::Outgoing)),
        (2, 1, Some(RelationKind::Incoming)),
    ];
    s.change_relations(request, 5).await.expect("request");
    let ann = s.relation(1, 2).await.expect("read").expect("exists");
    assert_eq!(
        (ann.other_id, ann.kind, ann.since_ms),
        (2, RelationKind::Outgoing, 5)
    );
    let accept = vec![
        (1, 2, Some(RelationKind::Friend)),
        (2, 1, Some(RelationKind::Friend)),
    ];
    s.change_relations(accept, 6).await.expect("accept");
    s.change_relations(vec![(1, 3, Some(RelationKind::Blocked))], 7)
        .await
        .expect("block");
    let all = s.relations(1).await.expect("list");
    let kinds: Vec<_> = all.iter().map(|r| (r.other_id, r.kind)).collect();
    assert_eq!(
        kinds,
        vec![(2, RelationKind::Friend), (3, RelationKind::Blocked)]
    );
    assert_eq!(
        s.relation(3, 1).await.expect("read"),
        None,
        "blocks are one-sided"
    );
    assert_eq!(s.blocked_by(3).await.expect("blockers"), vec![1]);
    assert!(s.blocked_by(1).await.expect("blockers").is_empty());
    let bad = vec![(1, 2, None), (2, 2, Some(RelationKind::Friend))];
    assert!(s.change_relations(bad, 8).await.is_err());
    assert!(
        s.relation(1, 2).await.expect("read").is_some(),
        "nothing applied"
    );
    s.change_relations(vec![(1, 2, None), (2, 1, None)], 9)
        .await
        .expect("remove");
    assert_eq!(s.relations(2).await.expect("list"), vec![]);
}

/// A bot is an account with an owner: stored and read back with it, and
/// listed by its owner; a person has none.
pub async fn bots_are_accounts_listed_by_their_owner<S: Store>(s: &S) {
    s.create_user(user(1, "ann")).await.expect("ann");
    let bot = |id: u64, name: &str| UserRecord {
        bot_owner_id: 1,
        ..user(id, name)
    };
    for (id, name) in [(3, "deploy-bot"), (2, "standup-bot")] {
        s.create_user(bot(id, name)).await.expect("bot");
    }
    s.create_user(user(4, "bob")).await.expect("bob");
    let mine: Vec<u64> = s
        .bots_of(1)
        .await
        .expect("bots")
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(mine, vec![2, 3]);
    assert_eq!(s.bots_of(4).await.expect("none"), vec![]);
    let read = s
        .user_by_name("Deploy-Bot")
        .await
        .expect("q")
        .expect("found");
    assert_eq!(read, bot(3, "deploy-bot"));
    assert!(read.is_bot());
    assert!(!s.user_by_id(4).await.expect("q").expect("bob").is_bot());
}
