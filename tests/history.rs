//! History: latest, before, after and around a message, over REST.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::api::str_of;
use support::{Account, Api, DataDir, Server, Ws};

const COUNT: usize = 250;

fn ids(page: &Value) -> Vec<u64> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| str_of(&m["id"]).parse().expect("numeric id"))
        .collect()
}

/// A server with one channel holding `COUNT` messages; returns their ids in order.
async fn channel_with_history() -> (Server, Api, Account, String, Vec<u64>) {
    let env = [("CHAT_EDGE__FRAMES_BURST", "10000")];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&ann, &bob).await;
    let (mut ws, _) = Ws::connect(&server, &ann.token).await;
    for n in 0..COUNT {
        ws.send_text(&channel, &format!("k{n}"), &format!("message {n}"))
            .await;
    }
    let mut sent = Vec::new();
    for n in 0..COUNT {
        let ack = ws.reply_to(&format!("k{n}")).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        sent.push(str_of(&ack["message"]["id"]).parse().expect("numeric id"));
    }
    assert!(
        sent.windows(2).all(|w| w[0] < w[1]),
        "acks come in send order with growing ids"
    );
    (server, api, ann, channel, sent)
}

#[tokio::test]
async fn pages_backwards_and_forwards_and_around() {
    let (_server, api, ann, channel, sent) = channel_with_history().await;

    // Latest, then backwards until the start.
    let latest = api.history(&ann, &channel, "limit=100").await;
    assert_eq!(ids(&latest), sent[COUNT - 100..]);
    assert_eq!(
        (
            latest["has_more_before"].clone(),
            latest["has_more_after"].clone()
        ),
        (json!(true), json!(false))
    );
    let mut backwards = ids(&latest);
    let mut page = latest;
    while page["has_more_before"] == true {
        let first = backwards[0];
        page = api
            .history(&ann, &channel, &format!("limit=100&before={first}"))
            .await;
        assert_eq!(page["has_more_after"], true);
        backwards.splice(0..0, ids(&page));
    }
    assert_eq!(backwards, sent);

    // Forwards from the first message.
    let mut forwards = vec![sent[0]];
    loop {
        let last = forwards[forwards.len() - 1];
        let page = api
            .history(&ann, &channel, &format!("limit=100&after={last}"))
            .await;
        assert_eq!(page["has_more_before"], true);
        forwards.extend(ids(&page));
        if page["has_more_after"] == false {
            break;
        }
    }
    assert_eq!(forwards, sent);

    // Around a message: it sits in the middle of its neighbours.
    let target = sent[120];
    let around = api
        .history(&ann, &channel, &format!("limit=11&around={target}"))
        .await;
    assert_eq!(ids(&around), sent[115..126]);
    assert_eq!(around["messages"][5]["text"], "message 120");
    let near_start = api
        .history(&ann, &channel, &format!("limit=10&around={}", sent[1]))
        .await;
    assert_eq!(ids(&near_start), sent[0..6]);
    assert_eq!(near_start["has_more_before"], false);

    // The other member reads the same history.
    let bob_token = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "bob", "password": "correct horse battery"})),
        )
        .await
        .expect(200)["token"]
        .clone();
    let bob_page = api
        .get(
            &format!("/api/v1/channels/{channel}/messages?limit=5"),
            bob_token.as_str().expect("token"),
        )
        .await
        .expect(200);
    assert_eq!(ids(&bob_page), sent[COUNT - 5..]);
}

#[tokio::test]
async fn bad_history_queries_are_refused() {
    let (_server, api, ann, channel, sent) = channel_with_history().await;
    let base = format!("/api/v1/channels/{channel}/messages");
    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=-1", "invalid_query"),
        ("before=abc", "invalid_query"),
        (
            &format!("before={}&after={}", sent[3], sent[1]) as &str,
            "conflicting_anchors",
        ),
    ] {
        api.get(&format!("{base}?{query}"), &ann.token)
            .await
            .expect_error(400, code);
    }
    // An empty channel and anchors past either end give empty pages, not errors.
    let last = sent[COUNT - 1];
    let past = api.history(&ann, &channel, &format!("after={last}")).await;
    assert!(ids(&past).is_empty());
    assert_eq!(past["has_more_before"], true);
    let default_page = api.history(&ann, &channel, "").await;
    assert_eq!(ids(&default_page).len(), 50, "default page size");
}

#[tokio::test]
async fn rest_send_is_idempotent_and_live() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&ann, &bob).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let path = format!("/api/v1/channels/{channel}/messages");
    let body = json!({"text": "over REST", "client_msg_id": "r-1"});
    let first = api.post(&path, &ann.token, body.clone()).await.expect(201);
    assert_eq!(first["duplicate"], false);
    let again = api.post(&path, &ann.token, body).await.expect(200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message"], first["message"]);
    assert_eq!(bob_ws.messages(1).await[0], first["message"]);
    let page = api.history(&ann, &channel, "").await;
    assert_eq!(
        page["messages"].as_array().map(Vec::len),
        Some(1),
        "one copy only"
    );
}
