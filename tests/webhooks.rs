//! Bots on a real server beyond the WebSocket: outgoing webhooks posted to
//! a local receiver (`support::bot_receiver`) that verifies each delivery
//! as docs/protocol.md says, retried until taken and kept through a kill;
//! slash commands and answers only their caller sees; the bots' send rate.
//! (The same bodies run against the cluster topologies: scripts/test.sh.)

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use chat_edge::protocol::webhook::{self, Refused};
use serde_json::{Value, json};
use support::api::str_of;
use support::bot_receiver::{BotReceiver, Delivery};
use support::{Account, Api, DataDir, Server, Ws};

const BOTS: &str = "/api/v1/bots";

/// A server whose webhooks may reach loopback, with short retries.
async fn server_in(data: DataDir, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("CHAT_CORE__WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true"),
        ("CHAT_CORE__PUSH__RETRY_BASE_MS", "100"),
        ("CHAT_CORE__PUSH__RETRY_MAX_MS", "1000"),
        ("CHAT_CORE__PUSH__POLL_MS", "200"),
        ("CHAT_CORE__PUSH__CLAIM_MS", "3000"),
        ("CHAT_CORE__PUSH__REQUEST_TIMEOUT_MS", "2000"),
    ];
    env.extend_from_slice(extra);
    Server::start_with(data, &[], &env).await
}

async fn server() -> Server {
    server_in(DataDir::new(), &[]).await
}

/// Creates bot `username` for `owner`, in `channel` if given.
async fn bot(api: &Api, owner: &Account, username: &str, channel: Option<&str>) -> Account {
    let reply = api
        .post(BOTS, &owner.token, json!({"username": username}))
        .await
        .expect(201);
    let bot = Account {
        id: str_of(&reply["user"]["id"]),
        username: username.to_owned(),
        token: str_of(&reply["token"]),
    };
    if let Some(channel) = channel {
        let path = format!("/api/v1/channels/{channel}/members/{}", bot.id);
        api.put(&path, &owner.token, json!({})).await.expect(200);
    }
    bot
}

/// Points `bot`'s webhook at `receiver` and gives it the secret.
async fn hook(api: &Api, owner: &Account, bot: &Account, receiver: &BotReceiver) -> Value {
    let path = format!("{BOTS}/{}/webhook", bot.id);
    let set = api
        .put(&path, &owner.token, json!({"url": receiver.url}))
        .await
        .expect(200);
    receiver.set_secret(&str_of(&set["secret"]));
    set
}

async fn send(api: &Api, who: &Account, channel: &str, text: &str) -> String {
    let path = format!("/api/v1/channels/{channel}/messages");
    let body = json!({"client_msg_id": format!("{}-{text}", who.username), "text": text});
    let sent = api.post(&path, &who.token, body).await.expect(201);
    str_of(&sent["message"]["id"])
}

fn texts(taken: &[Delivery]) -> Vec<String> {
    taken
        .iter()
        .map(|d| str_of(&d.json["message"]["text"]))
        .collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test]
async fn a_bot_gets_channel_messages_by_a_signed_webhook_and_answers() {
    let server = server().await;
    let api = Api::new(&server);
    let receiver = BotReceiver::start().await;
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let team = api.group(&ann, "team", &[&bob]).await;
    let relay = bot(&api, &ann, "relay", Some(&team)).await;
    let set = hook(&api, &ann, &relay, &receiver).await;
    assert!(str_of(&set["secret"]).starts_with("whsec_"), "{set}");
    let path = format!("{BOTS}/{}/webhook", relay.id);
    let shown = api.get(&path, &ann.token).await.expect(200);
    assert_eq!(shown["url"], json!(receiver.url));
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown once: {shown}"
    );

    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let hello = send(&api, &bob, &team, "hello relay").await;
    let taken = receiver
        .wait_until("bob's message", |d| !d.is_empty())
        .await;
    let first = &taken[0];
    assert_eq!(
        first.json["type"], "message",
        "the WebSocket's frame: {}",
        first.json
    );
    assert_eq!(
        (
            &first.json["message"]["id"],
            &first.json["message"]["sender_id"]
        ),
        (&json!(hello), &json!(bob.id))
    );
    assert_eq!(
        (first.id.as_str(), first.bot_id.as_str()),
        (hello.as_str(), relay.id.as_str())
    );

    // It answers with its token, as any client; its own message is not
    // posted back to it.
    let answer = send(&api, &relay, &team, "relayed").await;
    let seen = bob_ws
        .wait_for(|f| f["type"] == "message" && f["message"]["id"] == answer.as_str())
        .await;
    assert_eq!(seen["message"]["sender_id"], json!(relay.id));
    send(&api, &ann, &team, "and another").await;
    let taken = receiver.wait_until("ann's message", |d| d.len() >= 2).await;
    assert_eq!(texts(&taken), ["hello relay", "and another"]);

    // The documented checks refuse a captured delivery sent again: at
    // once it repeats an id taken, later its timestamp is stale, and it
    // cannot be re-signed without the secret.
    assert_eq!(receiver.replay(first).await, 401);
    let (_, status, why) = receiver.answered().pop().expect("the replay");
    assert_eq!(status, 401);
    assert!(why.contains("already received"), "{why}");
    let secret = str_of(&set["secret"]);
    let later = now_secs() + webhook::TOLERANCE_SECS + 60;
    let stale = webhook::verify(
        &secret,
        &first.id,
        &first.timestamp,
        &first.signature,
        &first.body,
        later,
    );
    assert!(matches!(stale, Err(Refused::Stale { .. })), "{stale:?}");
    let moved = Delivery {
        timestamp: now_secs().to_string(),
        id: format!("{}9", first.id),
        ..first.clone()
    };
    assert_eq!(
        receiver.replay(&moved).await,
        401,
        "a new id or time breaks the signature"
    );
    assert!(
        receiver
            .answered()
            .last()
            .expect("answered")
            .2
            .contains("no signature matches")
    );
    assert_eq!(receiver.taken().len(), 2, "nothing replayed was taken");
}

#[tokio::test]
async fn a_failing_webhook_is_retried_with_one_id_and_a_refusing_one_given_up() {
    let server = server().await;
    let api = Api::new(&server);
    let receiver = BotReceiver::start().await;
    let ann = api.signup("ann").await;
    let team = api.group(&ann, "team", &[]).await;
    let relay = bot(&api, &ann, "relay", Some(&team)).await;
    hook(&api, &ann, &relay, &receiver).await;

    receiver.fail_next(1, 503, None);
    receiver.fail_next(1, 429, Some(1));
    let id = send(&api, &ann, &team, "through failures").await;
    receiver
        .wait_until("the retried delivery", |d| !d.is_empty())
        .await;
    let tries: Vec<(String, u16)> = receiver
        .answered()
        .into_iter()
        .map(|(d, status, _)| (d.id, status))
        .collect();
    assert_eq!(
        tries,
        [(id.clone(), 503), (id.clone(), 429), (id.clone(), 200)],
        "the same delivery, until taken"
    );

    // A 4xx other than 408 and 429 is the receiver's final answer.
    receiver.fail_next(1, 400, None);
    let refused = send(&api, &ann, &team, "refused").await;
    send(&api, &ann, &team, "after it").await;
    let taken = receiver
        .wait_until("the next message", |d| d.len() >= 2)
        .await;
    assert_eq!(texts(&taken), ["through failures", "after it"]);
    let refused_tries = receiver
        .answered()
        .iter()
        .filter(|(d, _, _)| d.id == refused)
        .count();
    assert_eq!(refused_tries, 1, "given up, not retried");
}

#[tokio::test]
async fn webhook_deliveries_queued_when_the_server_is_killed_all_arrive_after_restart() {
    const N: usize = 20;
    let data = DataDir::new();
    let slow = [
        ("CHAT_CORE__PUSH__RETRY_BASE_MS", "5000"),
        ("CHAT_CORE__PUSH__RETRY_MAX_MS", "10000"),
    ];
    let server = server_in(data, &slow).await;
    let api = Api::new(&server);
    let receiver = BotReceiver::start().await;
    let ann = api.signup("ann").await;
    let team = api.group(&ann, "team", &[]).await;
    let relay = bot(&api, &ann, "relay", Some(&team)).await;
    hook(&api, &ann, &relay, &receiver).await;
    receiver.fail_next(N, 503, None);
    for n in 0..N {
        send(&api, &ann, &team, &format!("m{n}")).await;
    }
    // Every one was tried once and waits seconds for its retry.
    let deadline = tokio::time::Instant::now() + support::STEP;
    while receiver.answered().len() < N {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            receiver.answered().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let data = server.kill().await;
    let _server = server_in(data, &[]).await;
    let taken = receiver
        .wait_until("every delivery", |d| d.len() >= N)
        .await;
    let mut got = texts(&taken);
    got.sort();
    let mut want: Vec<String> = (0..N).map(|n| format!("m{n}")).collect();
    want.sort();
    assert_eq!(got, want, "each once: the receiver refuses a repeat");
    // And none was sent again after it was taken: every try before the kill
    // was answered 503, so a request refused as already received would be a
    // delivery the restarted server repeated (allowed by at-least-once, but
    // not what a clean restart does).
    let repeats: Vec<_> = receiver
        .answered()
        .into_iter()
        .filter(|(_, _, why)| why.contains("already received"))
        .map(|(d, status, _)| (d.id, status))
        .collect();
    assert!(
        repeats.is_empty(),
        "deliveries sent again after they were taken: {repeats:?}"
    );
}

#[tokio::test]
async fn a_slash_command_reaches_its_bot_and_the_answer_only_the_caller() {
    let server = server().await;
    let api = Api::new(&server);
    let receiver = BotReceiver::start().await;
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let team = api.group(&ann, "team", &[&bob]).await;
    let weather = bot(&api, &ann, "weather", Some(&team)).await;
    let relay = bot(&api, &ann, "relay", Some(&team)).await;
    hook(&api, &ann, &relay, &receiver).await;
    let (mut weather_ws, _) = Ws::connect(&server, &weather.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;

    let commands = format!("/api/v1/channels/{team}/commands");
    let ran = api
        .post(
            &commands,
            &bob.token,
            json!({"command": "/Weather", "args": "  paris  "}),
        )
        .await
        .expect(202);
    assert_eq!(
        (&ran["bot_id"], &ran["command"], &ran["args"]),
        (&json!(weather.id), &json!("weather"), &json!("paris"))
    );
    let got = weather_ws.wait_type("command").await;
    assert_eq!(
        (
            &got["command_id"],
            &got["caller_id"],
            &got["channel_id"],
            &got["args"]
        ),
        (
            &ran["command_id"],
            &json!(bob.id),
            &json!(team),
            &json!("paris")
        )
    );
    let ephemeral = format!("/api/v1/channels/{team}/ephemeral");
    let answer =
        json!({"user_id": bob.id, "text": "Paris: 14 °C", "command_id": got["command_id"]});
    let sent = api
        .post(&ephemeral, &weather.token, answer)
        .await
        .expect(202);
    let shown = bob_ws.wait_type("ephemeral").await;
    assert_eq!(
        (
            &shown["id"],
            &shown["text"],
            &shown["sender_id"],
            &shown["command_id"]
        ),
        (
            &sent["id"],
            &json!("Paris: 14 °C"),
            &json!(weather.id),
            &ran["command_id"]
        )
    );
    // Ann saw neither: the next thing she gets is a public message.
    let public = send(&api, &weather, &team, "public forecast").await;
    let next = ann_ws
        .wait_for(|f| f["type"] == "message" || f["type"] == "ephemeral")
        .await;
    assert_eq!(
        (&next["type"], &next["message"]["id"]),
        (&json!("message"), &json!(public))
    );
    assert!(ann_ws.pending_of("ephemeral").is_empty());
    let history = api
        .get(&format!("/api/v1/channels/{team}/messages"), &ann.token)
        .await
        .expect(200);
    assert_eq!(
        history["messages"].as_array().map(Vec::len),
        Some(1),
        "neither is stored: {history}"
    );

    // A webhook bot gets its commands there.
    let ping = api
        .post(
            &commands,
            &ann.token,
            json!({"command": "relay", "args": "ping"}),
        )
        .await
        .expect(202);
    let is_command = |d: &Delivery| d.json["type"] == "command";
    let taken = receiver
        .wait_until("the command", |d| d.iter().any(is_command))
        .await;
    let command = taken.iter().find(|d| is_command(d)).expect("the command");
    assert_eq!(
        (&command.json["args"], command.id.as_str()),
        (&json!("ping"), str_of(&ping["command_id"]).as_str())
    );

    // What cannot be, said so.
    bot(&api, &ann, "outsider", None).await;
    for (who, body, status, code) in [
        (&bob, json!({"command": "nobody"}), 404, "unknown_command"),
        (&bob, json!({"command": "outsider"}), 404, "unknown_command"),
        (&bob, json!({"command": "ann"}), 404, "unknown_command"),
        (
            &bob,
            json!({"command": "two words"}),
            400,
            "invalid_command",
        ),
        (
            &bob,
            json!({"command": "weather", "args": "x".repeat(4_001)}),
            400,
            "invalid_args",
        ),
        (
            &cat,
            json!({"command": "weather"}),
            404,
            "channel_not_found",
        ),
    ] {
        api.post(&commands, &who.token, body)
            .await
            .expect_error(status, code);
    }
    let to_bob = json!({"user_id": bob.id, "text": "psst"});
    api.post(&ephemeral, &ann.token, to_bob)
        .await
        .expect_error(403, "bots_only");
    let to_cat = json!({"user_id": cat.id, "text": "psst"});
    api.post(&ephemeral, &weather.token, to_cat)
        .await
        .expect_error(409, "not_a_member");
    let blank = json!({"user_id": bob.id, "text": "  "});
    api.post(&ephemeral, &weather.token, blank)
        .await
        .expect_error(400, "text_empty");
}

#[tokio::test]
async fn a_bot_sending_too_fast_is_told_when_to_retry_and_loses_nothing() {
    let limits = [
        ("CHAT_CORE__BOT_MESSAGES_PER_SECOND", "1"),
        ("CHAT_CORE__BOT_MESSAGES_BURST", "3"),
    ];
    let server = server_in(DataDir::new(), &limits).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let team = api.group(&ann, "team", &[]).await;
    let chatty = bot(&api, &ann, "chatty", Some(&team)).await;
    let path = format!("/api/v1/channels/{team}/messages");
    let mut stored = 0;
    let mut limited = None;
    for n in 0..10 {
        let body = json!({"client_msg_id": format!("c-{n}"), "text": format!("tick {n}")});
        let reply = api.post(&path, &chatty.token, body).await;
        match reply.status {
            201 => stored += 1,
            _ => limited = Some(reply),
        }
    }
    let limited = limited.expect("a bot past its burst is limited");
    let wait: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After");
    assert!((1..=2).contains(&wait), "{wait}");
    let message = limited.expect_error(429, "rate_limited");
    assert!(message.contains("retry in"), "{message}");
    assert!((3..10).contains(&stored), "{stored}");
    // A person is not held to the bots' rate.
    for n in 0..10 {
        send(&api, &ann, &team, &format!("person {n}")).await;
    }
    let history = api
        .get(&format!("{path}?limit=100"), &ann.token)
        .await
        .expect(200);
    assert_eq!(
        history["messages"].as_array().map(Vec::len),
        Some(stored + 10),
        "every accepted message is stored, no refused one"
    );
}

#[tokio::test]
async fn a_webhook_url_must_be_public_http_and_the_bot_the_callers() {
    // The default settings: no private addresses.
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let relay = bot(&api, &ann, "relay", None).await;
    let path = format!("{BOTS}/{}/webhook", relay.id);
    let long = format!("https://example.com/{}", "a".repeat(2_048));
    for (url, code) in [
        ("ftp://example.com/hook", "invalid_webhook_url"),
        ("not a url", "invalid_webhook_url"),
        ("https://", "invalid_webhook_url"),
        (long.as_str(), "invalid_webhook_url"),
        ("http://127.0.0.1:9/hook", "webhook_url_not_public"),
        ("http://[::1]/hook", "webhook_url_not_public"),
        (
            "http://169.254.169.254/latest/meta-data",
            "webhook_url_not_public",
        ),
        ("http://10.0.0.8/hook", "webhook_url_not_public"),
    ] {
        api.put(&path, &ann.token, json!({"url": url}))
            .await
            .expect_error(400, code);
    }
    api.get(&path, &ann.token)
        .await
        .expect_error(404, "webhook_not_found");
    api.put(
        &path,
        &bob.token,
        json!({"url": "https://example.com/hook"}),
    )
    .await
    .expect_error(404, "bot_not_found");
    api.put(
        &path,
        &ann.token,
        json!({"url": "https://example.com/hook", "x": 1}),
    )
    .await
    .expect_error(400, "invalid_body");
    let set = api
        .put(
            &path,
            &ann.token,
            json!({"url": "https://example.com/hook"}),
        )
        .await
        .expect(200);
    let again = api
        .put(
            &path,
            &ann.token,
            json!({"url": "https://example.com/hook"}),
        )
        .await
        .expect(200);
    assert_ne!(
        set["secret"], again["secret"],
        "setting it again makes a new secret"
    );
    api.delete(&path, &bob.token)
        .await
        .expect_error(404, "bot_not_found");
    api.delete(&path, &ann.token).await.expect(204);
    api.delete(&path, &ann.token)
        .await
        .expect_error(404, "webhook_not_found");
}
