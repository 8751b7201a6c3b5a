//! Push targets over REST on a real server: each device registers where
//! its notifications go, lists and removes them; bad registrations are
//! refused with the reason and store nothing. (The same bodies run against
//! the cluster topologies: scripts/test.sh.)

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::api::str_of;
use support::{Account, Api, DataDir, Server};

const TARGETS: &str = "/api/v1/users/me/push-targets";
/// A browser's P-256 subscription key (RFC 8291's example).
const P256DH: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
const ENDPOINT: &str = "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91b";

/// A subscription as `PushSubscription.toJSON()` writes it, with its kind.
fn subscription(endpoint: &str) -> Value {
    json!({
        "kind": "web_push",
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {"p256dh": P256DH, "auth": AUTH},
    })
}

fn fcm(token: &str) -> Value {
    json!({"kind": "fcm", "token": token, "app_id": "chat-app-1234"})
}

async fn targets(api: &Api, who: &Account) -> Vec<Value> {
    let list = api.get(TARGETS, &who.token).await.expect(200);
    list["targets"].as_array().cloned().unwrap_or_default()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter().map(|t| str_of(&t["id"])).collect()
}

#[tokio::test]
async fn push_targets_are_registered_listed_moved_and_removed() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;

    // The key browsers subscribe with: an uncompressed P-256 point, the
    // same at every ask.
    let config = api.get("/api/v1/push/config", &ann.token).await.expect(200);
    let key = config["web_push_public_key"].as_str().expect("a key");
    let point = URL_SAFE_NO_PAD.decode(key).expect("base64url");
    assert_eq!(
        (point.len(), point[0]),
        (65, 4),
        "uncompressed P-256: {key}"
    );
    let again = api.get("/api/v1/push/config", &bob.token).await.expect(200);
    assert_eq!(again["web_push_public_key"], key);

    let web = api
        .post(TARGETS, &ann.token, subscription(ENDPOINT))
        .await
        .expect(201);
    assert_eq!(web["kind"], "web_push");
    assert_eq!(web["endpoint"], ENDPOINT);
    assert_eq!(web["platform"], "web");
    assert!(
        web.get("keys").is_none() && web.get("token").is_none(),
        "{web}"
    );
    // Subscribing again (a browser renews) keeps the target and its id.
    let renewed = api
        .post(TARGETS, &ann.token, subscription(ENDPOINT))
        .await
        .expect(201);
    assert_eq!(renewed["id"], web["id"]);
    let phone = api
        .post(TARGETS, &ann.token, fcm("fXk2:APA91bH-phone_1"))
        .await
        .expect(201);
    assert_eq!(
        (phone["token"].as_str(), phone["platform"].as_str()),
        (Some("fXk2:APA91bH-phone_1"), Some("android"))
    );
    let ipad = json!({"kind": "apns", "token": "AB".repeat(32), "app_id": "com.example.chat", "platform": "ipados"});
    let ipad = api.post(TARGETS, &ann.token, ipad).await.expect(201);
    assert_eq!(
        ipad["token"],
        "ab".repeat(32),
        "device tokens are kept in lowercase"
    );
    let all = targets(&api, &ann).await;
    assert_eq!(ids(&all), ids(&[web.clone(), phone.clone(), ipad.clone()]));
    assert!(
        targets(&api, &bob).await.is_empty(),
        "bob sees none of ann's"
    );

    // The phone changes hands: registered by bob, it notifies ann no more.
    let moved = api
        .post(TARGETS, &bob.token, fcm("fXk2:APA91bH-phone_1"))
        .await
        .expect(201);
    assert_eq!(moved["id"], phone["id"]);
    assert_eq!(
        ids(&targets(&api, &ann).await),
        ids(&[web.clone(), ipad.clone()])
    );
    assert_eq!(ids(&targets(&api, &bob).await), ids(&[phone]));

    // Only their own user removes a target, once.
    let ipad_path = format!("{TARGETS}/{}", str_of(&ipad["id"]));
    api.delete(&ipad_path, &bob.token)
        .await
        .expect_error(404, "push_target_not_found");
    api.delete(&ipad_path, &ann.token).await.expect(204);
    api.delete(&ipad_path, &ann.token)
        .await
        .expect_error(404, "push_target_not_found");
    assert_eq!(ids(&targets(&api, &ann).await), ids(&[web]));
    api.get(TARGETS, "not-a-token")
        .await
        .expect_error(401, "invalid_token");
}

#[tokio::test]
async fn bad_push_targets_are_refused_with_their_reason_and_store_nothing() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let keys = |p256dh: &str, auth: &str| json!({"p256dh": p256dh, "auth": auth});
    let with = |mut body: Value, field: &str, value: Value| {
        body[field] = value;
        body
    };
    let sub = subscription(ENDPOINT);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(
                sub.clone(),
                "endpoint",
                json!("https://collector.example/steal"),
            ),
            "invalid_push_target",
            "not a push service",
        ),
        (
            with(
                sub.clone(),
                "endpoint",
                json!("http://fcm.googleapis.com/x"),
            ),
            "invalid_push_target",
            "https",
        ),
        (
            with(
                sub.clone(),
                "endpoint",
                json!("https://user:pw@fcm.googleapis.com/x"),
            ),
            "invalid_push_target",
            "credentials",
        ),
        (
            with(sub.clone(), "endpoint", json!("")),
            "invalid_push_target",
            "endpoint is required",
        ),
        (
            with(
                sub.clone(),
                "endpoint",
                json!(format!("https://fcm.googleapis.com/{}", "x".repeat(2100))),
            ),
            "invalid_push_target",
            "longer than",
        ),
        (
            with(sub.clone(), "keys", keys("BCVx", AUTH)),
            "invalid_push_target",
            "p256dh",
        ),
        (
            with(
                sub.clone(),
                "keys",
                keys(&P256DH.replace("BCVxsr7N", "BAAAAAAA"), AUTH),
            ),
            "invalid_push_target",
            "p256dh",
        ),
        (
            with(sub.clone(), "keys", keys(P256DH, "short")),
            "invalid_push_target",
            "keys.auth",
        ),
        (
            with(sub.clone(), "keys", keys(P256DH, "no base64 here!")),
            "invalid_push_target",
            "keys.auth",
        ),
        (
            with(sub.clone(), "platform", json!("Web Browser")),
            "invalid_push_target",
            "platform",
        ),
        (
            with(sub.clone(), "kind", json!("carrier_pigeon")),
            "invalid_body",
            "kind",
        ),
        (
            with(sub.clone(), "colour", json!("blue")),
            "invalid_body",
            "colour",
        ),
        (
            json!({"kind": "fcm", "token": "fXk2:APA91b"}),
            "invalid_push_target",
            "app_id",
        ),
        (
            json!({"kind": "fcm", "token": "has spaces", "app_id": "p"}),
            "invalid_push_target",
            "FCM token",
        ),
        (
            json!({"kind": "apns", "token": "abc", "app_id": "com.example.chat"}),
            "invalid_push_target",
            "APNs",
        ),
        (
            json!({"kind": "apns", "token": "ab".repeat(32), "app_id": "com example"}),
            "invalid_push_target",
            "app_id",
        ),
    ];
    for (body, code, says) in cases {
        let message = api
            .post(TARGETS, &ann.token, body.clone())
            .await
            .expect_error(400, code);
        assert!(
            message.contains(says),
            "{body}: {message:?} should name {says:?}"
        );
    }
    assert!(targets(&api, &ann).await.is_empty(), "nothing was stored");
    let message = api
        .delete(&format!("{TARGETS}/abc"), &ann.token)
        .await
        .expect_error(400, "invalid_path");
    assert!(!message.is_empty());
}

#[tokio::test]
async fn a_user_has_at_most_the_configured_number_of_push_targets() {
    let server = Server::start_with(
        DataDir::new(),
        &[],
        &[("CHAT_CORE__PUSH__MAX_TARGETS_PER_USER", "2")],
    )
    .await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let first = api
        .post(TARGETS, &ann.token, fcm("device-1"))
        .await
        .expect(201);
    api.post(TARGETS, &ann.token, fcm("device-2"))
        .await
        .expect(201);
    let message = api
        .post(TARGETS, &ann.token, fcm("device-3"))
        .await
        .expect_error(409, "too_many_push_targets");
    assert!(message.contains("at most 2"), "{message}");
    // At the limit a device still renews its own registration.
    let renewed = api
        .post(TARGETS, &ann.token, fcm("device-1"))
        .await
        .expect(201);
    assert_eq!(renewed["id"], first["id"]);
    api.delete(&format!("{TARGETS}/{}", str_of(&first["id"])), &ann.token)
        .await
        .expect(204);
    api.post(TARGETS, &ann.token, fcm("device-3"))
        .await
        .expect(201);
    assert_eq!(targets(&api, &ann).await.len(), 2);
}
