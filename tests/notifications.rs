//! Push notifications end to end: a real server delivers to a local Web
//! Push service (`support::push_service`) that checks each push's VAPID
//! token and decrypts its payload with the subscription's private key, as a
//! browser's push service and the browser would. (The same bodies run
//! against the cluster topologies: scripts/test.sh.)

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::api::str_of;
use support::push_apis::{APNS_KEY_ID, APNS_TEAM, APNS_TOPIC, ApnsApi, FCM_PROJECT, FcmApi};
use support::push_service::{Push, PushService, Subscription};
use support::{Account, Api, DataDir, Server, Ws};

const TARGETS: &str = "/api/v1/users/me/push-targets";

/// A server that pushes to `push`, with short delays: a burst gathers for
/// `coalesce_ms`, retries start at 200 ms.
async fn server(push: &PushService, coalesce_ms: u64, extra: &[(&str, &str)]) -> Server {
    server_in(DataDir::new(), push, coalesce_ms, extra).await
}

async fn server_in(
    data: DataDir,
    push: &PushService,
    coalesce_ms: u64,
    extra: &[(&str, &str)],
) -> Server {
    let coalesce = coalesce_ms.to_string();
    let mut env: Vec<(&str, String)> = push.server_env();
    env.extend([
        ("CHAT_CORE__PUSH__COALESCE_MS", coalesce),
        ("CHAT_CORE__PUSH__MIN_INTERVAL_MS", "0".to_owned()),
        ("CHAT_CORE__PUSH__RETRY_BASE_MS", "200".to_owned()),
        ("CHAT_CORE__PUSH__RETRY_MAX_MS", "2000".to_owned()),
        ("CHAT_CORE__PUSH__POLL_MS", "200".to_owned()),
        ("CHAT_CORE__PUSH__CLAIM_MS", "3000".to_owned()),
        ("CHAT_CORE__PUSH__REQUEST_TIMEOUT_MS", "2000".to_owned()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(data, &[], &env).await
}

async fn subscribe(api: &Api, who: &Account, sub: &Subscription) -> Value {
    api.post(TARGETS, &who.token, sub.json.clone())
        .await
        .expect(201)
}

async fn send(api: &Api, who: &Account, channel: &str, n: usize, text: &str) -> String {
    let path = format!("/api/v1/channels/{channel}/messages");
    let body = json!({"client_msg_id": format!("{}-{n}", who.username), "text": text});
    let sent = api.post(&path, &who.token, body).await.expect(201);
    str_of(&sent["message"]["id"])
}

async fn read(api: &Api, who: &Account, channel: &str, message: &str) {
    let path = format!("/api/v1/channels/{channel}/read");
    api.put(&path, &who.token, json!({"message_id": message}))
        .await
        .expect(200);
}

fn types(pushes: &[Push]) -> Vec<String> {
    pushes.iter().map(|p| str_of(&p.payload["type"])).collect()
}

#[tokio::test]
async fn an_offline_member_gets_one_notification_per_burst_and_an_online_one_none() {
    let push = PushService::start().await;
    // Long enough for the whole burst to land inside it.
    let server = server(&push, 2_000, &[]).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let team = api.group(&ann, "team", &[&bob, &cat]).await;
    let (bob_sub, cat_sub) = (push.subscribe(&[]), push.subscribe(&[]));
    subscribe(&api, &bob, &bob_sub).await;
    subscribe(&api, &cat, &cat_sub).await;
    // Cat is online; bob is not.
    let (_cat_ws, _) = Ws::connect(&server, &cat.token).await;

    let mut last = String::new();
    for n in 0..5 {
        last = send(&api, &ann, &team, n, &format!("message {n}")).await;
    }
    push.wait_until(Duration::ZERO, "bob's notification", |p| {
        p.iter().any(|p| p.subscription == bob_sub.id)
    })
    .await;
    // Reading it on any device clears it: the next push says so.
    read(&api, &bob, &team, &last).await;
    push.wait_until(Duration::ZERO, "bob's clear", |p| {
        types(&push_of(p, bob_sub.id)) == ["message", "read"]
    })
    .await;

    let pushes = push.delivered(bob_sub.id);
    let note = &pushes[0];
    let key = api.get("/api/v1/push/config", &bob.token).await.expect(200);
    assert_eq!(note.vapid_key, str_of(&key["web_push_public_key"]));
    assert_eq!(
        note.payload,
        json!({"type": "message", "channel_id": team, "channel_name": "team",
            "message_id": last, "sender": "ann", "count": 5, "mentions": 0,
            "text": "message 4"}),
        "one notification for the burst, with its count"
    );
    assert_eq!(note.topic, format!("c{team}"), "a newer one replaces it");
    assert_eq!(note.urgency, "normal");
    assert!(note.ttl >= 60, "{}", note.ttl);
    assert_eq!(
        pushes[1].payload,
        json!({"type": "read", "channel_id": team})
    );
    assert_eq!(pushes[1].topic, note.topic, "the clear replaces it");
    assert!(
        push.pushes().iter().all(|p| p.subscription != cat_sub.id),
        "an online member gets none: {:?}",
        push.pushes()
    );
    assert_eq!(push.refused(), Vec::<String>::new());
}

fn push_of(pushes: &[Push], sub: usize) -> Vec<Push> {
    pushes
        .iter()
        .filter(|p| p.subscription == sub)
        .cloned()
        .collect()
}

#[tokio::test]
async fn muted_and_mentions_only_members_get_what_they_asked_for() {
    let push = PushService::start().await;
    let server = server(&push, 1_000, &[]).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dan = api.signup("dan").await;
    let team = api.group(&ann, "team", &[&bob, &dan]).await;
    let dm = api.direct(&ann, &dan).await;
    let (bob_sub, dan_sub) = (push.subscribe(&[]), push.subscribe(&[]));
    subscribe(&api, &bob, &bob_sub).await;
    subscribe(&api, &dan, &dan_sub).await;
    let settings = "/api/v1/users/me/settings";
    api.patch(settings, &bob.token, json!({"mute": [team]}))
        .await
        .expect(200);
    api.patch(settings, &dan.token, json!({"notifications": "mentions"}))
        .await
        .expect(200);

    send(&api, &ann, &team, 0, "hello all").await;
    let mention = send(&api, &ann, &team, 1, "@dan see this").await;
    push.wait_until(Duration::ZERO, "dan's mention", |p| {
        !push_of(p, dan_sub.id).is_empty()
    })
    .await;
    let dan_got = push.delivered(dan_sub.id);
    assert_eq!(dan_got[0].payload["message_id"], json!(mention));
    assert_eq!(
        (
            &dan_got[0].payload["count"],
            &dan_got[0].payload["mentions"]
        ),
        (&json!(2), &json!(1))
    );
    assert_eq!(dan_got[0].urgency, "high", "a mention is urgent");

    // Mentions only still means direct messages.
    let direct = send(&api, &ann, &dm, 2, "just us").await;
    push.wait_until(Duration::ZERO, "dan's direct message", |p| {
        push_of(p, dan_sub.id).len() == 2
    })
    .await;
    let dan_got = push.delivered(dan_sub.id);
    assert_eq!(
        (
            &dan_got[1].payload["message_id"],
            &dan_got[1].payload["channel_name"]
        ),
        (&json!(direct), &json!("ann")),
        "a direct channel is named for the other member"
    );
    assert_eq!(dan_got[1].urgency, "high");

    // Bob's first push comes once he unmutes: nothing came while muted.
    api.patch(settings, &bob.token, json!({"unmute": [team]}))
        .await
        .expect(200);
    let after = send(&api, &ann, &team, 3, "welcome back").await;
    push.wait_until(Duration::ZERO, "bob's first push", |p| {
        !push_of(p, bob_sub.id).is_empty()
    })
    .await;
    let bob_got = push.delivered(bob_sub.id);
    assert_eq!(bob_got.len(), 1);
    assert_eq!(bob_got[0].payload["message_id"], json!(after));
}

#[tokio::test]
async fn a_failing_push_service_is_retried_until_it_takes_the_push_once() {
    let push = PushService::start().await;
    let server = server(&push, 100, &[]).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    // Three failures, the first asking for a second's pause.
    let sub = push.subscribe(&[(503, Some(1)), (500, None), (429, None)]);
    subscribe(&api, &bob, &sub).await;

    let id = send(&api, &ann, &dm, 0, "are you there?").await;
    push.wait_until(Duration::from_secs(20), "the fourth try", |p| {
        push_of(p, sub.id).len() == 4
    })
    .await;
    read(&api, &bob, &dm, &id).await;
    push.wait_until(Duration::ZERO, "the clear", |p| {
        push_of(p, sub.id).len() == 5
    })
    .await;

    let tries = push_of(&push.pushes(), sub.id);
    let statuses: Vec<u16> = tries.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [503, 500, 429, 201, 201]);
    assert_eq!(
        types(&tries),
        ["message", "message", "message", "message", "read"]
    );
    assert!(
        tries[..4].iter().all(|p| p.payload == tries[0].payload),
        "the same notification each try"
    );
    let paused = tries[1].at - tries[0].at;
    assert!(
        paused >= Duration::from_millis(950),
        "Retry-After: 1 honoured: {paused:?}"
    );
}

#[tokio::test]
async fn a_refused_or_too_old_notification_is_given_up_and_the_next_one_goes() {
    let push = PushService::start().await;
    let age = [("CHAT_CORE__PUSH__MAX_AGE_MS", "1000")];
    let server = server(&push, 100, &age).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let team = api.group(&ann, "team", &[&bob, &cat]).await;
    // Bob's service refuses the first push for good; cat's asks for a
    // pause longer than a notification may wait.
    let refused = push.subscribe(&[(400, None)]);
    let too_old = push.subscribe(&[(503, Some(3))]);
    subscribe(&api, &bob, &refused).await;
    subscribe(&api, &cat, &too_old).await;

    let first = send(&api, &ann, &team, 0, "first").await;
    push.wait_until(Duration::ZERO, "both first tries", |p| {
        !push_of(p, refused.id).is_empty() && !push_of(p, too_old.id).is_empty()
    })
    .await;
    let second = send(&api, &ann, &team, 1, "second").await;
    push.wait_until(Duration::ZERO, "both deliveries", |p| {
        push_of(p, refused.id).len() == 2 && push_of(p, too_old.id).len() == 2
    })
    .await;
    for sub in [&refused, &too_old] {
        let tries = push_of(&push.pushes(), sub.id);
        assert_eq!(tries[0].payload["message_id"], json!(first));
        assert_eq!(
            (tries[1].status, &tries[1].payload["message_id"]),
            (201, &json!(second)),
            "the given-up notification is not tried again; the next goes: {tries:?}"
        );
    }
}

#[tokio::test]
async fn a_subscription_its_service_says_is_gone_is_removed() {
    let push = PushService::start().await;
    let server = server(&push, 100, &[]).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let gone = push.subscribe(&[(410, None)]);
    let kept = push.subscribe(&[]);
    subscribe(&api, &bob, &gone).await;
    let kept_target = subscribe(&api, &bob, &kept).await;

    send(&api, &ann, &dm, 0, "hello?").await;
    push.wait_until(Duration::ZERO, "both pushes", |p| {
        !push_of(p, gone.id).is_empty() && !push_of(p, kept.id).is_empty()
    })
    .await;
    let deadline = tokio::time::Instant::now() + support::STEP;
    loop {
        let list = api.get(TARGETS, &bob.token).await.expect(200);
        let ids: Vec<String> = list["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| str_of(&t["id"]))
            .collect();
        if ids == [str_of(&kept_target["id"])] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gone target stays: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(push.delivered(kept.id).len(), 1);
}

#[tokio::test]
async fn queued_notifications_survive_a_sigkill_and_go_once() {
    const TARGETS_N: usize = 100;
    let push = PushService::start().await;
    let limit = [("CHAT_CORE__PUSH__MAX_TARGETS_PER_USER", "100")];
    let server = server(&push, 100, &limit).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    // Each of bob's 100 devices first answers 503 with a pause of 2 s.
    let subs: Vec<Subscription> = (0..TARGETS_N)
        .map(|_| push.subscribe(&[(503, Some(2))]))
        .collect();
    for sub in &subs {
        subscribe(&api, &bob, sub).await;
    }
    let id = send(&api, &ann, &dm, 0, "one for each").await;
    push.wait_until(Duration::ZERO, "every first try", |p| {
        p.iter().filter(|p| p.status == 503).count() == TARGETS_N
    })
    .await;
    // All 100 are queued for a retry: the server dies with them.
    let data = server.kill().await;
    let server = server_in(data, &push, 100, &limit).await;
    push.wait_until(Duration::from_secs(30), "every delivery", |p| {
        p.iter().filter(|p| p.status == 201).count() == TARGETS_N
    })
    .await;
    // A read clears each: the pushes after the clears prove none went twice.
    let api = Api::new(&server);
    read(&api, &bob, &dm, &id).await;
    push.wait_until(Duration::ZERO, "every clear", |p| {
        p.iter().filter(|p| p.payload["type"] == "read").count() == TARGETS_N
    })
    .await;
    for sub in &subs {
        assert_eq!(
            types(&push.delivered(sub.id)),
            ["message", "read"],
            "subscription {}: once, then cleared",
            sub.id
        );
    }
}

/// A server that pushes to the local FCM and APNs, with their keys in `keys`.
async fn mobile_server(fcm: &FcmApi, apns: &ApnsApi, keys: &std::path::Path) -> Server {
    let account = fcm.service_account_file(keys);
    let key = apns.key_file(keys);
    let env = [
        (
            "CHAT_CORE__PUSH__FCM__SERVICE_ACCOUNT_FILE",
            account.as_str(),
        ),
        ("CHAT_CORE__PUSH__FCM__URL", fcm.url.as_str()),
        ("CHAT_CORE__PUSH__APNS__KEY_FILE", key.as_str()),
        ("CHAT_CORE__PUSH__APNS__KEY_ID", APNS_KEY_ID),
        ("CHAT_CORE__PUSH__APNS__TEAM_ID", APNS_TEAM),
        ("CHAT_CORE__PUSH__APNS__URL", apns.url.as_str()),
    ];
    let unused = PushService::start().await;
    server(&unused, 100, &env).await
}

async fn targets_of(api: &Api, who: &Account) -> Vec<String> {
    let list = api.get(TARGETS, &who.token).await.expect(200);
    list["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| str_of(&t["id"]))
        .collect()
}

/// Waits until `who` has exactly the targets `ids`.
async fn wait_for_targets(api: &Api, who: &Account, ids: &[String]) {
    let deadline = tokio::time::Instant::now() + support::STEP;
    while targets_of(api, who).await != ids {
        assert!(
            tokio::time::Instant::now() < deadline,
            "targets stay {:?}, want {ids:?}",
            targets_of(api, who).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn fcm_gets_an_oauth2_token_once_and_its_errors_are_honoured() {
    let (fcm, apns) = (FcmApi::start().await, ApnsApi::start().await);
    let keys = tempfile::tempdir().expect("dir");
    let server = mobile_server(&fcm, &apns, keys.path()).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (phone, old_phone, bad) = ("phone-1:APA91bX", "phone-0:APA91bY", "phone-2:APA91bZ");
    fcm.recorder.script(
        phone,
        &[(503, "UNAVAILABLE", None), (429, "QUOTA_EXCEEDED", Some(1))],
    );
    fcm.recorder
        .script(old_phone, &[(404, "UNREGISTERED", None)]);
    fcm.recorder.script(bad, &[(400, "INVALID_ARGUMENT", None)]);
    let mut kept = Vec::new();
    for token in [phone, old_phone, bad] {
        let body = json!({"kind": "fcm", "token": token, "app_id": FCM_PROJECT});
        let target = api.post(TARGETS, &bob.token, body).await.expect(201);
        assert_eq!(target["platform"], "android");
        if token == phone {
            kept.push(str_of(&target["id"]));
        }
    }

    let id = send(&api, &ann, &dm, 0, "ping").await;
    fcm.recorder
        .wait_until(Duration::from_secs(20), "the phone's third try", |s| {
            s.iter().filter(|s| s.device == phone).count() == 3
        })
        .await;
    wait_for_targets(&api, &bob, &kept).await;
    let tries = fcm.recorder.sent_to(phone);
    assert_eq!(
        tries.iter().map(|s| s.status).collect::<Vec<_>>(),
        [503, 429, 200]
    );
    let message = &tries[2].body["message"];
    assert_eq!(message["token"], phone);
    assert_eq!(
        message["data"],
        json!({"type": "message", "channel_id": dm, "channel_name": "ann", "message_id": id,
            "sender": "ann", "count": "1", "mentions": "0", "text": "ping"}),
        "data carries the notification as strings"
    );
    assert_eq!(
        message["notification"],
        json!({"title": "ann", "body": "ann: ping"})
    );
    assert_eq!(message["android"]["collapse_key"], format!("c{dm}"));
    assert_eq!(message["android"]["priority"], "HIGH", "a direct message");
    assert_eq!(
        fcm.recorder.tokens_issued(),
        1,
        "one OAuth2 token for every send"
    );

    // A read sends a data-only clear.
    read(&api, &bob, &dm, &id).await;
    fcm.recorder
        .wait_until(Duration::ZERO, "the clear", |s| {
            s.iter().filter(|s| s.device == phone).count() == 4
        })
        .await;
    let clear = &fcm.recorder.sent_to(phone)[3].body["message"];
    assert_eq!(clear["data"], json!({"type": "read", "channel_id": dm}));
    assert!(clear.get("notification").is_none(), "{clear}");
    assert_eq!(fcm.recorder.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn apns_takes_a_provider_token_over_http2_and_its_errors_are_honoured() {
    let (fcm, apns) = (FcmApi::start().await, ApnsApi::start().await);
    let keys = tempfile::tempdir().expect("dir");
    let server = mobile_server(&fcm, &apns, keys.path()).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let team = api.group(&ann, "team", &[&bob]).await;
    let (phone, gone, bad) = ("aa".repeat(32), "bb".repeat(32), "cc".repeat(32));
    apns.recorder.script(
        &phone,
        &[
            (503, "ServiceUnavailable", None),
            (429, "TooManyRequests", None),
        ],
    );
    apns.recorder.script(&gone, &[(410, "Unregistered", None)]);
    apns.recorder.script(&bad, &[(400, "BadDeviceToken", None)]);
    let mut kept = Vec::new();
    for token in [&phone, &gone, &bad] {
        let body = json!({"kind": "apns", "token": token, "app_id": APNS_TOPIC});
        let target = api.post(TARGETS, &bob.token, body).await.expect(201);
        if *token == phone {
            kept.push(str_of(&target["id"]));
        }
    }

    let id = send(&api, &ann, &team, 0, "@bob standup?").await;
    apns.recorder
        .wait_until(Duration::from_secs(20), "the phone's third try", |s| {
            s.iter().filter(|s| s.device == phone).count() == 3
        })
        .await;
    wait_for_targets(&api, &bob, &kept).await;
    let tries = apns.recorder.sent_to(&phone);
    assert_eq!(
        tries.iter().map(|s| s.status).collect::<Vec<_>>(),
        [503, 429, 200]
    );
    let sent = &tries[2];
    assert_eq!(
        sent.body["aps"],
        json!({"alert": {"title": "team", "body": "ann: @bob standup?"}, "sound": "default",
            "thread-id": format!("c{team}")})
    );
    assert_eq!(sent.body["chat"]["message_id"], json!(id));
    assert_eq!(sent.body["chat"]["mentions"], json!(1));
    assert_eq!(sent.headers["apns-push-type"], "alert");
    assert_eq!(sent.headers["apns-priority"], "10", "a mention");
    assert_eq!(sent.headers["apns-collapse-id"], format!("c{team}"));
    assert!(sent.headers["apns-expiration"].parse::<u64>().is_ok());

    read(&api, &bob, &team, &id).await;
    apns.recorder
        .wait_until(Duration::ZERO, "the clear", |s| {
            s.iter().filter(|s| s.device == phone).count() == 4
        })
        .await;
    let clear = &apns.recorder.sent_to(&phone)[3];
    assert_eq!(clear.headers["apns-push-type"], "background");
    assert_eq!(clear.headers["apns-priority"], "5");
    assert_eq!(clear.body["aps"], json!({"content-available": 1}));
    assert_eq!(
        clear.body["chat"],
        json!({"type": "read", "channel_id": team})
    );
    assert_eq!(apns.recorder.refused(), Vec::<String>::new());
}
