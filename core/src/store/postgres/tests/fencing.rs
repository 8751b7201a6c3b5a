//! Channel ownership fences on PostgreSQL: a newer claim shuts the old
//! writer out, and an append in flight holds a newer claim off until it
//! commits, so the new owner's last id covers it.

use std::time::{Duration, Instant};

use super::{Fresh, admin, server_url};
use crate::store::contract::ContractBackend;
use crate::store::{
    AccountStore, ChannelKind, ChannelRecord, ChannelStore, Fence, HistoryAnchor, MembershipChange,
    MessageChange, MessageStore, NewMessage, StoreError, UserRecord,
};

const OLD: Fence = Fence { owner: 1, epoch: 5 };
const NEW: Fence = Fence { owner: 2, epoch: 7 };

async fn seeded() -> Option<Fresh> {
    let fresh = Fresh::fresh().await?;
    let s = fresh.store();
    let user = UserRecord::new(1, "ann".into(), "$argon2id$fake".into(), 1);
    s.create_user(user).await.expect("user");
    for id in [10, 11] {
        let channel = ChannelRecord {
            id,
            kind: ChannelKind::Group,
            name: "g".into(),
            owner_id: 1,
            direct_key: None,
            created_at_ms: 2,
            last_message_id: 0,
        };
        s.create_channel(channel, vec![1]).await.expect("group");
    }
    Some(fresh)
}

fn msg(id: u64, channel: u64) -> NewMessage {
    NewMessage {
        id,
        channel_id: channel,
        sender_id: 1,
        client_msg_id: format!("k{id}"),
        text: format!("text {id}"),
        created_at_ms: 3,
        ..Default::default()
    }
}

fn fenced(result: Result<impl std::fmt::Debug, StoreError>) -> (u64, u64, u64) {
    match result {
        Err(StoreError::Fenced {
            channel,
            owner,
            epoch,
        }) => (channel, owner, epoch),
        other => panic!("expected a fence error, got {other:?}"),
    }
}

async fn ids(s: &impl MessageStore, channel: u64) -> Vec<u64> {
    let page = s
        .history(channel, HistoryAnchor::Latest, 10)
        .await
        .expect("history");
    page.messages.iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn a_newer_claim_fences_the_old_writer_out() {
    let Some(fresh) = seeded().await else { return };
    let s = fresh.store();
    assert_eq!(s.claim_channel(10, OLD).await.expect("claim"), 0);
    s.append(OLD, vec![msg(100, 10)])
        .await
        .expect("the owner writes");

    assert_eq!(
        s.claim_channel(10, NEW).await.expect("take over"),
        100,
        "sees the old owner's write"
    );
    assert_eq!(fenced(s.append(OLD, vec![msg(101, 10)]).await), (10, 2, 7));
    assert_eq!(ids(s, 10).await, [100], "the fenced append wrote nothing");
    let delete = MessageChange::Delete { by: 1 };
    assert_eq!(
        fenced(s.update_message(OLD, 10, 100, delete.clone(), 9, 300).await),
        (10, 2, 7)
    );
    let kept = s.message(10, 100).await.expect("read").expect("kept");
    assert!(!kept.deleted, "the fenced delete changed nothing");
    assert_eq!(
        fenced(s.claim_channel(10, OLD).await),
        (10, 2, 7),
        "an older epoch"
    );
    let rival = Fence { owner: 3, epoch: 7 };
    assert_eq!(
        fenced(s.claim_channel(10, rival).await),
        (10, 2, 7),
        "the same epoch, another owner"
    );
    assert_eq!(
        s.claim_channel(10, NEW).await.expect("again"),
        100,
        "a claim repeats"
    );
    s.append(NEW, vec![msg(101, 10)])
        .await
        .expect("the new owner writes");
    let deleted = s
        .update_message(NEW, 10, 100, delete, 9, 300)
        .await
        .expect("delete");
    assert!(deleted.expect("exists").deleted, "the new owner deletes");

    // A batch over a lost channel and an unclaimed one writes neither and
    // claims neither.
    assert_eq!(
        fenced(s.append(OLD, vec![msg(200, 11), msg(102, 10)]).await),
        (10, 2, 7)
    );
    assert!(ids(s, 11).await.is_empty());
    let other = Fence { owner: 3, epoch: 1 };
    assert_eq!(
        s.claim_channel(11, other).await.expect("still unclaimed"),
        0
    );
    // An append to a channel nobody claimed claims it.
    let fresh_channel = Fence { owner: 4, epoch: 1 };
    assert_eq!(
        fenced(s.append(fresh_channel, vec![msg(201, 11)]).await),
        (11, 3, 1)
    );
    fresh.finish().await;
}

/// The claim row an append holds (`FOR SHARE`) makes a newer claim wait
/// until the append commits; the claim then reads a last id that covers it.
#[tokio::test]
async fn an_append_in_flight_holds_off_a_newer_claim() {
    let Some(url) = server_url() else { return };
    let Some(fresh) = seeded().await else { return };
    let s = fresh.store();
    s.claim_channel(10, OLD).await.expect("claim");
    s.append(OLD, vec![msg(100, 10)]).await.expect("write");

    // The old owner's append, held open between its check and its commit.
    let schema = fresh.schema().to_owned();
    let old = admin(&url).await;
    old.batch_execute(&format!(
        "BEGIN; SET LOCAL search_path = {schema};
         SELECT channel_id FROM channel_owners WHERE channel_id = 10 AND owner = 1 AND epoch = 5 FOR SHARE;
         INSERT INTO messages (channel_id, id, sender_id, client_msg_id, text, created_at_ms)
             VALUES (10, 150, 1, 'late', 'late', 4);"
    ))
    .await
    .expect("the append's first half");

    let claim = tokio::spawn({
        let store = s.clone();
        async move { store.claim_channel(10, NEW).await }
    });
    let watcher = admin(&url).await;
    let started = Instant::now();
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND query LIKE '%channel_owners%'",
                &[],
            )
            .await
            .expect("activity")
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            !claim.is_finished(),
            "the claim went past the held row: {:?}",
            claim.await
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the claim never waited"
        );
        tokio::task::yield_now().await;
    }
    old.batch_execute("COMMIT")
        .await
        .expect("the append commits");
    let last = claim.await.expect("task").expect("the claim");
    assert_eq!(
        last, 150,
        "the new owner's floor covers the append it waited for"
    );
    assert_eq!(fenced(s.append(OLD, vec![msg(151, 10)]).await), (10, 2, 7));
    drop((old, watcher));
    fresh.finish().await;
}

#[tokio::test]
async fn membership_and_name_changes_are_fenced_too() {
    let Some(fresh) = seeded().await else { return };
    let s = fresh.store();
    let bob = UserRecord::new(2, "bob".into(), "$argon2id$fake".into(), 1);
    s.create_user(bob).await.expect("user");
    s.claim_channel(10, OLD).await.expect("claim");
    s.add_member(OLD, 10, 2, 4)
        .await
        .expect("the owner adds bob");
    s.claim_channel(10, NEW).await.expect("take over");

    // The old owner, paused and resumed, changes nothing any more.
    assert_eq!(fenced(s.add_member(OLD, 10, 3, 5).await), (10, 2, 7));
    assert_eq!(fenced(s.remove_member(OLD, 10, 2).await), (10, 2, 7));
    assert_eq!(
        fenced(s.rename_channel(OLD, 10, "stale".into()).await),
        (10, 2, 7)
    );
    let change = MembershipChange {
        remove: Some(2),
        ..Default::default()
    };
    assert_eq!(
        fenced(s.update_membership(OLD, 10, change).await),
        (10, 2, 7)
    );
    assert_eq!(fenced(s.delete_channel(OLD, 10, 6).await), (10, 2, 7));
    let members: Vec<u64> = s
        .members(10)
        .await
        .expect("members")
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(members, [1, 2], "nothing the old owner tried was written");
    let channel = s.channel(10).await.expect("read").expect("not deleted");
    assert_eq!(channel.name, "g");

    // The new owner's changes go in.
    assert!(
        s.rename_channel(NEW, 10, "fresh".into())
            .await
            .expect("rename")
    );
    assert!(s.remove_member(NEW, 10, 2).await.expect("remove"));
}
