//! The behaviour every [`Store`] must show. A backend runs the whole suite
//! with [`store_contract_tests!`](crate::store_contract_tests), naming a
//! type that implements [`ContractBackend`]: it makes each test a fresh,
//! empty store of its own and can close and reopen it.

use super::{
    Appended, ChannelKind, ChannelRecord, Fence, HistoryAnchor, MessageChange, NewMessage, Role,
    Store, StoreError, TokenRecord, UNREAD_CAP, UserRecord,
};

mod browse;
mod edits;
mod groups;
mod history;
mod outbox;
mod push;
mod reopen;
mod social;
mod tokens;
mod webhooks;

pub use browse::{
    latest_messages_skip_tombstones_and_cut_long_text, member_read_positions_list_who_read_what,
    users_are_found_by_username_prefix,
};
pub use edits::{
    edits_keep_versions_and_deletes_drop_them, mentions_are_stored_and_counted_until_read,
};
pub use groups::{
    a_deleted_channel_is_gone_but_its_ids_stay_counted, roles_owners_and_names_change_atomically,
};
pub use history::{history_around_a_message, history_pages_both_ways};
pub use outbox::{
    pushes_are_claimed_delivered_cleared_and_dead_lettered, pushes_coalesce_per_target_and_channel,
};
pub use push::{a_server_secret_is_stored_once, push_targets_are_replaced_by_address_and_limited};
pub use reopen::{ContractBackend, data_survives_reopening};
pub use social::{
    bots_are_accounts_listed_by_their_owner, last_active_written_at_once_is_all_stored,
    profiles_and_last_active_are_stored, relations_change_atomically_per_side,
    settings_default_and_replace,
};
pub use tokens::{
    a_password_change_ends_the_other_tokens_at_once, tokens_are_listed_touched_and_revoked,
};
pub use webhooks::{
    webhook_deliveries_are_claimed_retried_and_dead_lettered,
    webhooks_are_queued_for_member_bots_once,
};

/// Expands to one `#[tokio::test]` per contract check for the
/// [`ContractBackend`] `$backend`, each on a fresh store of its own; a
/// backend that cannot run here (its `fresh` returns `None`) passes each
/// test after saying why.
#[macro_export]
macro_rules! store_contract_tests {
    ($backend:ty) => {
        $crate::store_contract_tests!(@each $backend;
            users_are_unique_case_insensitively,
            tokens_are_found_and_deleted,
            direct_channels_are_created_once,
            members_are_added_and_removed,
            append_is_idempotent_on_client_msg_id,
            duplicates_inside_one_batch_are_detected,
            history_pages_both_ways,
            history_around_a_message,
            id_floors_cover_what_each_part_holds,
            read_positions_only_move_forward_and_count_unread,
            edits_and_deletes_keep_the_message_in_place,
            profiles_and_last_active_are_stored,
            last_active_written_at_once_is_all_stored,
            settings_default_and_replace,
            relations_change_atomically_per_side,
            tokens_are_listed_touched_and_revoked,
            a_password_change_ends_the_other_tokens_at_once,
            roles_owners_and_names_change_atomically,
            a_deleted_channel_is_gone_but_its_ids_stay_counted,
            edits_keep_versions_and_deletes_drop_them,
            mentions_are_stored_and_counted_until_read,
            users_are_found_by_username_prefix,
            latest_messages_skip_tombstones_and_cut_long_text,
            member_read_positions_list_who_read_what,
            push_targets_are_replaced_by_address_and_limited,
            a_server_secret_is_stored_once,
            pushes_coalesce_per_target_and_channel,
            pushes_are_claimed_delivered_cleared_and_dead_lettered,
            bots_are_accounts_listed_by_their_owner,
            webhooks_are_queued_for_member_bots_once,
            webhook_deliveries_are_claimed_retried_and_dead_lettered,
        );

        #[tokio::test]
        async fn data_survives_reopening() {
            use $crate::store::contract::ContractBackend as _;
            let Some(backend) = <$backend>::fresh().await else {
                return;
            };
            $crate::store::contract::data_survives_reopening(backend)
                .await
                .finish()
                .await;
        }
    };
    (@each $backend:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                use $crate::store::contract::ContractBackend as _;
                let Some(backend) = <$backend>::fresh().await else {
                    return;
                };
                $crate::store::contract::$name(backend.store()).await;
                backend.finish().await;
            }
        )*
    };
}

/// The writer every contract check appends as; no backend checks it yet.
const FENCE: Fence = Fence { owner: 1, epoch: 0 };

fn user(id: u64, name: &str) -> UserRecord {
    UserRecord::new(id, name.to_owned(), "$argon2id$fake".to_owned(), 1)
}

fn group(id: u64, owner: u64) -> ChannelRecord {
    ChannelRecord {
        id,
        kind: ChannelKind::Group,
        name: format!("group {id}"),
        owner_id: owner,
        direct_key: None,
        created_at_ms: 2,
        last_message_id: 0,
    }
}

fn msg(id: u64, channel: u64, sender: u64, key: &str) -> NewMessage {
    NewMessage {
        id,
        channel_id: channel,
        sender_id: sender,
        client_msg_id: key.to_owned(),
        text: format!("text {id}"),
        created_at_ms: 3,
        edited_at_ms: 0,
        deleted: false,
        version_id: 0,
        mentions: Vec::new(),
        deleted_by: 0,
    }
}

fn token(id: u64, user: u64, expires_at_ms: i64) -> TokenRecord {
    TokenRecord {
        id,
        hash: [id as u8; 32],
        user_id: user,
        created_at_ms: 9,
        device: format!("device {id}"),
        last_used_at_ms: 9,
        expires_at_ms,
    }
}

fn member_ids(members: &[super::MemberRecord]) -> Vec<u64> {
    members.iter().map(|m| m.user_id).collect()
}

fn edit(text: &str) -> MessageChange {
    MessageChange::Edit {
        text: text.to_owned(),
        mentions: Vec::new(),
    }
}

async fn two_users_and_a_group<S: Store>(s: &S) {
    s.create_user(user(1, "ann")).await.expect("ann");
    s.create_user(user(2, "bob")).await.expect("bob");
    s.create_channel(group(10, 1), vec![1, 2])
        .await
        .expect("group");
}

/// Usernames are unique regardless of case, and users are found both ways.
pub async fn users_are_unique_case_insensitively<S: Store>(s: &S) {
    s.create_user(user(1, "Ann")).await.expect("create");
    let err = s.create_user(user(2, "aNN")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    let found = s.user_by_name("ANN").await.expect("query").expect("found");
    assert_eq!(found, user(1, "Ann"));
    assert_eq!(s.user_by_id(1).await.expect("query"), Some(user(1, "Ann")));
    assert_eq!(s.user_by_id(2).await.expect("query"), None);
}

/// A token is found by its hash until deleted.
pub async fn tokens_are_found_and_deleted<S: Store>(s: &S) {
    s.create_user(user(1, "ann")).await.expect("user");
    let token = token(7, 1, 1_000);
    s.insert_token(token.clone()).await.expect("insert");
    assert_eq!(
        s.token_by_hash([7; 32]).await.expect("q"),
        Some(token.clone())
    );
    assert_eq!(s.delete_token([7; 32]).await.expect("d"), Some(token));
    assert_eq!(s.token_by_hash([7; 32]).await.expect("q"), None);
    assert_eq!(s.delete_token([7; 32]).await.expect("d"), None);
}

/// Creating a direct channel twice gives back the first one.
pub async fn direct_channels_are_created_once<S: Store>(s: &S) {
    s.create_user(user(1, "ann")).await.expect("ann");
    s.create_user(user(2, "bob")).await.expect("bob");
    let mut dm = group(20, 1);
    dm.kind = ChannelKind::Direct;
    dm.name = String::new();
    dm.direct_key = Some("1:2".to_owned());
    let first = s
        .create_channel(dm.clone(), vec![1, 2])
        .await
        .expect("first");
    dm.id = 21;
    let second = s.create_channel(dm, vec![1, 2]).await.expect("second");
    assert_eq!(first.id, 20);
    assert_eq!(second.id, 20);
    assert_eq!(
        member_ids(&s.members(20).await.expect("members")),
        vec![1, 2]
    );
    assert_eq!(s.channel(21).await.expect("q"), None);
}

/// Membership changes are reported and visible in both directions.
pub async fn members_are_added_and_removed<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    s.create_user(user(3, "cy")).await.expect("cy");
    assert!(s.add_member(FENCE, 10, 3, 5).await.expect("add"));
    assert!(!s.add_member(FENCE, 10, 3, 5).await.expect("again"));
    let members = s.members(10).await.expect("m");
    assert_eq!(member_ids(&members), vec![1, 2, 3]);
    assert_eq!(members[2].joined_at_ms, 5);
    assert!(members.iter().all(|m| m.role == Role::Member));
    assert_eq!(s.channels_of(3).await.expect("of").len(), 1);
    assert!(s.remove_member(FENCE, 10, 2).await.expect("remove"));
    assert!(!s.remove_member(FENCE, 10, 2).await.expect("again"));
    assert_eq!(member_ids(&s.members(10).await.expect("m")), vec![1, 3]);
    assert!(s.channels_of(2).await.expect("of").is_empty());
}

/// A retried message comes back as the stored one, never twice.
pub async fn append_is_idempotent_on_client_msg_id<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let first = s
        .append(FENCE, vec![msg(100, 10, 1, "a")])
        .await
        .expect("append");
    assert_eq!(first, vec![Appended::Inserted(msg(100, 10, 1, "a"))]);
    let retry = s
        .append(FENCE, vec![msg(101, 10, 1, "a")])
        .await
        .expect("retry");
    assert_eq!(retry, vec![Appended::Duplicate(msg(100, 10, 1, "a"))]);
    // The same key from another sender is another message.
    let other = s
        .append(FENCE, vec![msg(102, 10, 2, "a")])
        .await
        .expect("other");
    assert!(matches!(other[0], Appended::Inserted(_)));
    let page = s.history(10, HistoryAnchor::Latest, 10).await.expect("h");
    assert_eq!(
        page.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![100, 102]
    );
    let ch = s.channel(10).await.expect("q").expect("channel");
    assert_eq!(ch.last_message_id, 102);
}

/// Two messages with one key in the same batch store the first only.
pub async fn duplicates_inside_one_batch_are_detected<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let out = s
        .append(
            FENCE,
            vec![
                msg(100, 10, 1, "k"),
                msg(101, 10, 1, "k"),
                msg(102, 10, 1, "j"),
            ],
        )
        .await
        .expect("append");
    assert!(matches!(out[0], Appended::Inserted(_)));
    assert_eq!(out[1], Appended::Duplicate(msg(100, 10, 1, "k")));
    assert!(matches!(out[2], Appended::Inserted(_)));
}

/// The node floor covers users, tokens and channels; a channel's last id
/// covers its messages and versions, and no other channel's.
pub async fn id_floors_cover_what_each_part_holds<S: Store>(s: &S) {
    assert_eq!(s.max_account_id().await.expect("empty"), 0);
    assert_eq!(s.max_channel_id().await.expect("empty"), 0);
    assert_eq!(s.last_message_id(10).await.expect("empty"), 0);
    two_users_and_a_group(s).await;
    assert_eq!(s.max_account_id().await.expect("users"), 2);
    assert_eq!(s.max_channel_id().await.expect("channels"), 10);
    s.insert_token(token(30, 1, 0)).await.expect("token");
    assert_eq!(s.max_account_id().await.expect("tokens"), 30);
    s.create_channel(group(11, 1), vec![1])
        .await
        .expect("group");
    assert_eq!(s.max_channel_id().await.expect("channels"), 11);
    s.append(FENCE, vec![msg(500, 10, 1, "x"), msg(600, 11, 1, "y")])
        .await
        .expect("append");
    assert_eq!(s.last_message_id(10).await.expect("last"), 500);
    assert_eq!(s.last_message_id(11).await.expect("last"), 600);
    assert_eq!(s.last_message_id(12).await.expect("none"), 0);
    s.update_message(FENCE, 10, 500, edit("later"), 4, 700)
        .await
        .expect("edit");
    assert_eq!(s.last_message_id(10).await.expect("versions"), 700);
    s.update_message(FENCE, 11, 600, MessageChange::Delete { by: 1 }, 4, 800)
        .await
        .expect("delete");
    assert_eq!(s.last_message_id(11).await.expect("tombstones"), 800);
    let floor = s.id_floor().await.expect("node floor");
    assert!(floor >= 30, "{floor} covers accounts and channels");
    assert_eq!(
        s.max_account_id().await.expect("messages"),
        30,
        "not messages"
    );
}

/// Read positions never move back; unread counts skip one's own and deleted
/// messages and stop at the cap.
pub async fn read_positions_only_move_forward_and_count_unread<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let batch = vec![
        msg(100, 10, 1, "a"),
        msg(101, 10, 2, "b"),
        msg(102, 10, 2, "c"),
    ];
    s.append(FENCE, batch).await.expect("append");
    let states = s.read_states(1).await.expect("states");
    assert_eq!(states.len(), 1);
    assert_eq!((states[0].channel_id, states[0].last_read_id), (10, 0));
    assert_eq!(states[0].unread_count, 2, "ann's own message is not unread");
    let state = s.mark_read(1, 10, 101).await.expect("mark");
    assert_eq!((state.last_read_id, state.unread_count), (101, 1));
    let state = s.mark_read(1, 10, 100).await.expect("mark back");
    assert_eq!(state.last_read_id, 101, "a read position never moves back");
    s.update_message(FENCE, 10, 102, MessageChange::Delete { by: 2 }, 5, 2000)
        .await
        .expect("delete");
    assert_eq!(s.read_states(1).await.expect("states")[0].unread_count, 0);
    let many: Vec<_> = (0..UNREAD_CAP as u64 + 5)
        .map(|i| msg(1000 + i, 10, 2, &format!("m{i}")))
        .collect();
    s.append(FENCE, many).await.expect("append many");
    assert_eq!(
        s.read_states(1).await.expect("states")[0].unread_count,
        UNREAD_CAP
    );
    assert_eq!(s.read_states(2).await.expect("bob")[0].last_read_id, 0);
}

/// An edit replaces the text; a delete leaves an empty tombstone in order.
pub async fn edits_and_deletes_keep_the_message_in_place<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let batch = vec![
        msg(100, 10, 1, "a"),
        msg(101, 10, 1, "b"),
        msg(102, 10, 2, "c"),
    ];
    s.append(FENCE, batch).await.expect("append");
    let edited = s
        .update_message(FENCE, 10, 100, edit("new"), 7, 200)
        .await
        .expect("edit")
        .expect("exists");
    assert_eq!((edited.text.as_str(), edited.edited_at_ms), ("new", 7));
    let deleted = s
        .update_message(FENCE, 10, 101, MessageChange::Delete { by: 1 }, 8, 201)
        .await
        .expect("delete")
        .expect("exists");
    assert!(deleted.deleted && deleted.text.is_empty());
    assert_eq!(deleted.deleted_by, 0, "deleted by its author");
    assert_eq!(s.message(10, 101).await.expect("read"), Some(deleted));
    assert_eq!(s.message(11, 101).await.expect("other channel"), None);
    let missing = s
        .update_message(FENCE, 10, 999, MessageChange::Delete { by: 1 }, 9, 202)
        .await;
    assert_eq!(missing.expect("no error"), None);
    let page = s.history(10, HistoryAnchor::Latest, 10).await.expect("h");
    let ids: Vec<_> = page.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![100, 101, 102], "the tombstone keeps its place");
    assert_eq!(page.messages[0].text, "new");
    assert!(page.messages[1].deleted);
    assert_eq!(page.messages[2].version_id, 0, "never changed");
    let changed = s.changes(10, 0, 10).await.expect("changes");
    let versions: Vec<_> = changed.iter().map(|m| (m.id, m.version_id)).collect();
    assert_eq!(versions, vec![(100, 200), (101, 201)], "in version order");
    let later = s.changes(10, 200, 10).await.expect("changes");
    assert_eq!(later.iter().map(|m| m.id).collect::<Vec<_>>(), vec![101]);
    assert_eq!(s.changes(10, 0, 1).await.expect("limit").len(), 1);
    assert!(s.changes(11, 0, 10).await.expect("other").is_empty());
}
