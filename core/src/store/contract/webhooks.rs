//! Contract checks for bots' webhooks and their outbox.

use super::super::{HookEvent, HookKey, HookKind, NEVER, Store, Webhook};
use super::{group, user};

const CHANNEL: u64 = 10;

fn hook(bot_id: u64, url: &str) -> Webhook {
    Webhook {
        bot_id,
        url: url.to_owned(),
        secret: format!("secret of {bot_id}"),
        updated_at_ms: 5,
    }
}

fn message(event_id: u64, sender_id: u64) -> HookEvent {
    HookEvent {
        event_id,
        channel_id: CHANNEL,
        sender_id,
        kind: HookKind::Message,
        to: 0,
        body: String::new(),
    }
}

/// Ann and bob in a group with bots 3 and 4 (webhooks at a and b); bot 5
/// has a webhook but is not a member.
async fn bots_in_a_group<S: Store>(s: &S) {
    s.create_user(user(1, "ann")).await.expect("ann");
    s.create_user(user(2, "bob")).await.expect("bob");
    for (id, name) in [(3, "echo"), (4, "relay"), (5, "outsider")] {
        let mut bot = user(id, name);
        bot.bot_owner_id = 1;
        s.create_user(bot).await.expect("bot");
    }
    s.create_channel(group(CHANNEL, 1), vec![1, 2, 3, 4])
        .await
        .expect("group");
    for (bot, url) in [
        (3, "https://a.example/h"),
        (4, "https://b.example/h"),
        (5, "https://c.example/h"),
    ] {
        s.set_webhook(bot, Some(hook(bot, url))).await.expect("set");
    }
}

/// A message is queued for each member bot with a webhook but its sender,
/// once; a command for its one bot; they come due at once, with their
/// webhook, and removing a webhook drops its pending rows.
pub async fn webhooks_are_queued_for_member_bots_once<S: Store>(s: &S) {
    bots_in_a_group(s).await;
    assert_eq!(
        s.webhook(3).await.expect("get"),
        Some(hook(3, "https://a.example/h"))
    );
    assert_eq!(s.webhook(2).await.expect("get"), None, "bob has none");
    let mut replaced = hook(3, "https://a.example/v2");
    replaced.secret = "rotated".to_owned();
    s.set_webhook(3, Some(replaced.clone()))
        .await
        .expect("replace");
    assert_eq!(s.webhook(3).await.expect("get"), Some(replaced));

    let command = HookEvent {
        event_id: 101,
        kind: HookKind::Command,
        to: 4,
        body: r#"{"type":"command"}"#.to_owned(),
        ..message(101, 1)
    };
    let written = s
        .queue_hooks(
            vec![message(100, 1), message(100, 1), command, message(102, 3)],
            1_000,
        )
        .await
        .expect("queue");
    assert_eq!(
        written, 4,
        "100 to bots 3 and 4, once; 101 to bot 4; 102 to bot 4 only"
    );
    assert_eq!(s.next_hook_due().await.expect("next"), Some(1_000));
    assert_eq!(s.due_hooks(999, 10).await.expect("due"), vec![]);
    let mut due = s.due_hooks(1_000, 10).await.expect("due");
    due.sort_by_key(|r| (r.key.event_id, r.key.bot_id));
    let keys: Vec<(u64, u64)> = due.iter().map(|r| (r.key.event_id, r.key.bot_id)).collect();
    assert_eq!(keys, vec![(100, 3), (100, 4), (101, 4), (102, 4)]);
    assert_eq!(
        (due[0].url.as_str(), due[0].secret.as_str()),
        ("https://a.example/v2", "rotated")
    );
    assert_eq!(
        (due[2].kind, due[2].body.as_str()),
        (HookKind::Command, r#"{"type":"command"}"#)
    );
    assert!(
        due.iter()
            .all(|r| r.attempts == 0 && r.created_at_ms == 1_000 && r.dead_at_ms == 0)
    );

    s.set_webhook(4, None).await.expect("remove");
    assert_eq!(s.webhook(4).await.expect("get"), None);
    let left = s.due_hooks(NEVER - 1, 10).await.expect("due");
    assert_eq!(
        left.len(),
        1,
        "bot 4's rows went with its webhook: {left:?}"
    );
    assert_eq!(
        left[0].key,
        HookKey {
            bot_id: 3,
            event_id: 100
        }
    );
}

/// A row is claimed once per due time, retried with its error, delivered
/// (gone), or dead-lettered (kept, listed newest first, never due again).
pub async fn webhook_deliveries_are_claimed_retried_and_dead_lettered<S: Store>(s: &S) {
    bots_in_a_group(s).await;
    s.queue_hooks(vec![message(100, 1), message(101, 1)], 1_000)
        .await
        .expect("queue");
    let key = HookKey {
        bot_id: 3,
        event_id: 100,
    };
    assert!(s.claim_hook(key, 1_000, 31_000).await.expect("claim"));
    assert!(
        !s.claim_hook(key, 1_000, 31_000).await.expect("claim"),
        "taken once"
    );
    s.hook_retry(key, 2_000, "503 from the receiver".to_owned())
        .await
        .expect("retry");
    let row = s
        .due_hooks(2_000, 10)
        .await
        .expect("due")
        .into_iter()
        .find(|r| r.key == key)
        .expect("due again");
    assert_eq!(
        (row.attempts, row.error.as_str(), row.due_at_ms),
        (1, "503 from the receiver", 2_000)
    );
    assert!(s.claim_hook(key, 2_000, 32_000).await.expect("claim"));
    s.hook_delivered(key).await.expect("delivered");
    assert!(
        s.due_hooks(NEVER - 1, 10)
            .await
            .expect("due")
            .iter()
            .all(|r| r.key != key),
        "a delivered row is gone"
    );

    let other = HookKey {
        bot_id: 4,
        event_id: 100,
    };
    let last = HookKey {
        bot_id: 3,
        event_id: 101,
    };
    s.hook_dead(other, "refused: 401".to_owned(), 3_000)
        .await
        .expect("dead");
    s.hook_dead(last, "too old".to_owned(), 4_000)
        .await
        .expect("dead");
    let dead = s.dead_hooks(10).await.expect("dead letters");
    let keys: Vec<HookKey> = dead.iter().map(|r| r.key).collect();
    assert_eq!(keys, vec![last, other], "newest first");
    assert_eq!(
        (dead[1].error.as_str(), dead[1].dead_at_ms),
        ("refused: 401", 3_000)
    );
    assert_eq!(s.dead_hooks(1).await.expect("dead letters").len(), 1);
    assert!(
        !s.claim_hook(other, NEVER, NEVER).await.expect("claim"),
        "the dead stay dead"
    );
    let pending = s.due_hooks(NEVER - 1, 10).await.expect("due");
    assert_eq!(
        pending.iter().map(|r| r.key).collect::<Vec<_>>(),
        vec![HookKey {
            bot_id: 4,
            event_id: 101
        }]
    );
    s.set_webhook(4, None).await.expect("remove");
    assert_eq!(
        s.dead_hooks(10).await.expect("kept").len(),
        2,
        "dead letters outlive the webhook"
    );
    assert_eq!(s.next_hook_due().await.expect("next"), None);
}
