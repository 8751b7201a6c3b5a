//! Contract checks for the push outbox.

use super::super::{NEVER, OutboxKey, OutboxRecord, OutboxTiming, PushKind, QueuedPush, Store};
use super::push::target;
use super::two_users_and_a_group;

const CHANNEL: u64 = 10;

fn push(user: u64, message: u64, mentioned: bool) -> QueuedPush {
    QueuedPush {
        user_id: user,
        channel_id: CHANNEL,
        message_id: message,
        sender_id: 1,
        mentioned,
    }
}

fn at(now_ms: i64) -> OutboxTiming {
    OutboxTiming {
        now_ms,
        coalesce_ms: 100,
        min_interval_ms: 1_000,
    }
}

fn key(target_id: u64) -> OutboxKey {
    OutboxKey {
        target_id,
        channel_id: CHANNEL,
    }
}

/// Bob's rows, by target.
async fn rows<S: Store>(s: &S) -> Vec<OutboxRecord> {
    let mut all = s.due_pushes(NEVER - 1, 100).await.expect("due");
    all.sort_by_key(|r| r.target.id);
    all
}

/// Messages count into one row per target and channel, due after the
/// coalescing delay; a message counted once is not counted again; only
/// users with targets get rows.
pub async fn pushes_coalesce_per_target_and_channel<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    for (id, address) in [
        (20, "https://push.example/a"),
        (21, "https://push.example/b"),
    ] {
        s.put_push_target(target(id, 2, PushKind::WebPush, address), 5)
            .await
            .expect("target");
    }
    let touched = s
        .queue_pushes(vec![push(2, 100, false), push(1, 100, false)], at(1_000))
        .await
        .expect("queue");
    assert_eq!(touched, 2, "ann has no targets: bob's two rows only");
    s.queue_pushes(
        vec![push(2, 101, true), push(2, 101, true), push(2, 100, false)],
        at(1_050),
    )
    .await
    .expect("queue again");
    assert_eq!(s.due_pushes(1_099, 10).await.expect("due"), vec![]);
    assert_eq!(s.next_push_due().await.expect("next"), Some(1_100));
    let due = rows(s).await;
    assert_eq!(due.len(), 2);
    for row in &due {
        assert_eq!(row.target.user_id, 2);
        assert_eq!(
            (
                row.messages,
                row.mentions,
                row.sent_messages,
                row.last_message_id
            ),
            (2, 1, 0, 101),
            "each message once: {row:?}"
        );
        assert_eq!(
            (row.pending_since_ms, row.due_at_ms, row.attempts),
            (1_000, 1_100, 0)
        );
    }
    assert_eq!(s.due_pushes(1_100, 1).await.expect("limit").len(), 1);
}

/// A claim takes a due row once; a delivery marks what it counted, and a
/// row with newer messages stays due; a retry moves it; a read clears it;
/// a dead letter keeps what was given up.
pub async fn pushes_are_claimed_delivered_cleared_and_dead_lettered<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    for (id, address) in [
        (20, "https://push.example/a"),
        (21, "https://push.example/b"),
    ] {
        s.put_push_target(target(id, 2, PushKind::WebPush, address), 5)
            .await
            .expect("target");
    }
    s.queue_pushes(vec![push(2, 100, false)], at(1_000))
        .await
        .expect("queue");
    assert!(s.claim_push(key(20), 1_100, 5_000).await.expect("claim"));
    assert!(
        !s.claim_push(key(20), 1_100, 5_000).await.expect("again"),
        "taken once"
    );
    // A message while the try is out: counted, the row stays claimed.
    s.queue_pushes(vec![push(2, 102, false)], at(1_200))
        .await
        .expect("queue");
    let claimed = &rows(s).await[0];
    assert_eq!(
        (claimed.messages, claimed.due_at_ms, claimed.attempts),
        (2, 5_000, 1)
    );
    s.push_delivered(key(20), 1, 1_300, 2_300)
        .await
        .expect("delivered");
    let row = &rows(s).await[0];
    assert_eq!(
        (row.messages, row.sent_messages, row.due_at_ms, row.attempts),
        (2, 1, 2_300, 0),
        "the newer message is still to notify"
    );
    s.push_delivered(key(20), 2, 2_400, 3_400)
        .await
        .expect("delivered");
    assert_eq!(
        s.next_push_due().await.expect("next"),
        Some(1_100),
        "target 21 only"
    );
    // A message after a delivery waits for the least interval.
    s.queue_pushes(vec![push(2, 103, false)], at(2_500))
        .await
        .expect("queue");
    let row = &rows(s).await[0];
    assert_eq!(
        (row.messages, row.due_at_ms, row.pending_since_ms),
        (3, 3_400, 2_500)
    );

    // Target 21 fails, is retried later, then given up.
    assert!(s.claim_push(key(21), 1_100, 9_000).await.expect("claim"));
    s.push_retry(key(21), 4_000).await.expect("retry");
    assert_eq!(rows(s).await[1].due_at_ms, 4_000);
    s.push_dead(key(21), 3, 77, "410 from nowhere".into(), 4_100)
        .await
        .expect("dead");
    let letters = s.dead_letters(10).await.expect("letters");
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(
        (
            letter.id,
            letter.target_id,
            letter.user_id,
            letter.channel_id
        ),
        (77, 21, 2, CHANNEL)
    );
    assert_eq!(
        (letter.messages, letter.last_message_id, letter.attempts),
        (3, 103, 1)
    );
    assert_eq!(
        (
            letter.error.as_str(),
            letter.pending_since_ms,
            letter.dead_at_ms
        ),
        ("410 from nowhere", 1_000, 4_100)
    );
    assert_eq!(rows(s).await.len(), 1, "the dead row left the outbox");

    // Reading up to 102 clears nothing newer; up to 103 it must clear
    // what was delivered: the row is due at once with a count of 0.
    s.clear_pushes(2, CHANNEL, 102, 5_000).await.expect("clear");
    assert_eq!(rows(s).await[0].messages, 3);
    s.clear_pushes(2, CHANNEL, 103, 5_000).await.expect("clear");
    let row = &rows(s).await[0];
    assert_eq!((row.messages, row.mentions, row.due_at_ms), (0, 0, 5_000));
    assert!(s.claim_push(key(20), 5_000, 9_000).await.expect("claim"));
    s.push_delivered(key(20), 0, 5_100, 6_100)
        .await
        .expect("cleared");
    assert_eq!(rows(s).await, vec![], "a delivered clear ends the row");
    assert_eq!(s.next_push_due().await.expect("next"), None);

    // A row never delivered is simply dropped by a read, and one whose
    // target is removed goes with it.
    s.queue_pushes(vec![push(2, 104, false)], at(6_000))
        .await
        .expect("queue");
    assert_eq!(rows(s).await.len(), 2, "a dead letter leaves its target be");
    s.clear_pushes(2, CHANNEL, 104, 6_050).await.expect("clear");
    assert_eq!(rows(s).await, vec![]);
    s.queue_pushes(vec![push(2, 105, false)], at(7_000))
        .await
        .expect("queue");
    // A message during a try that fails for good: it is notified afresh.
    assert!(s.claim_push(key(21), 7_100, 9_000).await.expect("claim"));
    s.queue_pushes(vec![push(2, 106, false)], at(7_200))
        .await
        .expect("queue");
    s.push_dead(key(21), 1, 78, "400 bad".into(), 7_300)
        .await
        .expect("dead");
    let row = &rows(s).await[1];
    assert_eq!(
        (
            row.messages,
            row.attempts,
            row.pending_since_ms,
            row.due_at_ms
        ),
        (2, 0, 7_300, 7_300),
        "the newer message stays to notify"
    );
    assert_eq!(s.dead_letters(10).await.expect("letters")[0].messages, 1);
    assert!(s.delete_push_target(2, 20).await.expect("delete"));
    let left: Vec<u64> = rows(s).await.iter().map(|r| r.target.id).collect();
    assert_eq!(left, vec![21], "no row outlives its target");
    let gone = s.delete_push_address(PushKind::WebPush, "https://push.example/b");
    assert!(gone.await.expect("delete"));
    assert_eq!(rows(s).await, vec![]);
}
