//! 1:1 and group chat over real sockets: delivery to every member and device,
//! in one order for everyone.

mod support;

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server, Ws};

fn ids(messages: &[Value]) -> Vec<String> {
    messages.iter().map(|m| str_of(&m["id"])).collect()
}

#[tokio::test]
async fn two_users_chat_one_to_one() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&ann, &bob).await;
    assert_eq!(
        api.direct(&bob, &ann).await,
        channel,
        "asking twice gives the same channel"
    );

    let (mut ann_ws, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["user"]["username"], "ann");
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;

    let ack = ann_ws.send_message(&channel, "a-1", "hi bob").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["duplicate"], false);
    let sent = &ack["message"];
    assert_eq!(sent["text"], "hi bob");
    assert_eq!(sent["sender_id"], ann.id.as_str());
    assert_eq!(sent["channel_id"], channel.as_str());

    let got = bob_ws.messages(1).await;
    assert_eq!(&got[0], sent, "bob receives exactly the stored message");
    let echo = ann_ws.messages(1).await;
    assert_eq!(
        &echo[0], sent,
        "the sender's own sessions get the message too"
    );

    let reply = bob_ws.send_message(&channel, "b-1", "hello ann").await;
    assert_eq!(ann_ws.messages(1).await[0], reply["message"]);
    assert!(
        str_of(&reply["message"]["id"]).parse::<u64>().expect("id")
            > str_of(&sent["id"]).parse::<u64>().expect("id"),
        "ids grow within a channel"
    );

    let listed = api.get("/api/v1/channels", &bob.token).await.expect(200);
    let channels = listed["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["kind"], "direct");
    assert_eq!(channels[0]["id"], channel.as_str());
}

#[tokio::test]
async fn group_reaches_every_member_on_every_device() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cid = api.signup("cid").await;
    let group = api.group(&ann, "team", &[&bob, &cid]).await;

    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_laptop, _) = Ws::connect(&server, &bob.token).await;
    let (mut bob_phone, _) = Ws::connect(&server, &bob.token).await;
    let (mut cid_ws, _) = Ws::connect(&server, &cid.token).await;

    let from_ann = ann_ws.send_message(&group, "a1", "standup?").await["message"].clone();
    let from_phone = bob_phone.send_message(&group, "b1", "in 5").await["message"].clone();
    let from_cid = cid_ws.send_message(&group, "c1", "ok").await["message"].clone();
    let expected = vec![from_ann, from_phone, from_cid];

    for ws in [&mut ann_ws, &mut bob_laptop, &mut bob_phone, &mut cid_ws] {
        assert_eq!(ws.messages(3).await, expected);
    }
}

#[tokio::test]
async fn every_member_sees_the_same_order() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let mut members = Vec::new();
    for name in ["mem0", "mem1", "mem2", "mem3"] {
        members.push(api.signup(name).await);
    }
    let others: Vec<_> = members[1..].iter().collect();
    let group = api.group(&members[0], "race", &others).await;

    let per_sender = 25;
    let mut readers = Vec::new();
    for m in &members {
        readers.push(Ws::connect(&server, &m.token).await.0);
    }
    // Every member sends concurrently from its own connection.
    let mut senders = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let (mut ws, _) = Ws::connect(&server, &m.token).await;
        let group = group.clone();
        senders.push(tokio::spawn(async move {
            for n in 0..per_sender {
                ws.send_text(&group, &format!("{i}-{n}"), &format!("from {i} #{n}"))
                    .await;
            }
            for n in 0..per_sender {
                let ack = ws.reply_to(&format!("{i}-{n}")).await;
                assert_eq!(ack["type"], "ack", "{ack}");
            }
        }));
    }
    for s in senders {
        s.await.expect("sender task");
    }
    let total = per_sender * members.len();
    let mut orders = Vec::new();
    for mut ws in readers {
        orders.push(ids(&ws.messages(total).await));
    }
    let history = ids(&api.all_messages(&members[2], &group).await);
    assert_eq!(history.len(), total);
    assert_eq!(
        history.iter().collect::<HashSet<_>>().len(),
        total,
        "no duplicates"
    );
    let mut sorted = history.clone();
    sorted.sort_by_key(|id| id.parse::<u64>().expect("numeric id"));
    assert_eq!(history, sorted, "history is in id order");
    for order in orders {
        assert_eq!(
            order, history,
            "live order equals history order for every member"
        );
    }
}

#[tokio::test]
async fn membership_changes_are_live_and_enforced() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cid = api.signup("cid").await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let (mut cid_ws, _) = Ws::connect(&server, &cid.token).await;

    let group = api.group(&ann, "team", &[&bob]).await;
    let created = bob_ws.wait_type("channel").await;
    assert_eq!(created["change"], "created");
    assert_eq!(created["channel"]["name"], "team");

    // Any member may add; the new member hears about it and gets messages.
    let path = format!("/api/v1/channels/{group}/members/{}", cid.id);
    let added = api
        .call(Method::PUT, &path, Some(&bob.token), None)
        .await
        .expect(200);
    assert_eq!(added["member_ids"].as_array().map(Vec::len), Some(3));
    let event = cid_ws.wait_type("channel").await;
    assert_eq!(event["change"], "member_added");
    assert_eq!(event["user_id"], cid.id.as_str());
    let sent = cid_ws
        .send_message(&group, "c1", "thanks for adding me")
        .await;
    assert_eq!(sent["type"], "ack");
    assert_eq!(bob_ws.messages(1).await[0]["text"], "thanks for adding me");
    assert_eq!(cid_ws.messages(1).await[0]["text"], "thanks for adding me");

    // Only the owner (or an admin) removes others.
    api.call(Method::DELETE, &path, Some(&bob.token), None)
        .await
        .expect_error(403, "not_channel_admin");
    api.call(Method::DELETE, &path, Some(&ann.token), None)
        .await
        .expect(200);
    let removed = cid_ws.wait_type("channel").await;
    assert_eq!(removed["change"], "member_removed");
    let refused = cid_ws.send_message(&group, "c2", "still here?").await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "channel_not_found");

    // Removed members no longer receive the channel's messages.
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    ann_ws.send_message(&group, "a1", "cid is gone").await;
    bob_ws.messages(1).await;
    cid_ws
        .send_json(json!({"type": "ping", "nonce": "after"}))
        .await;
    let next = cid_ws
        .wait_for(|f| f["type"] == "pong" || f["type"] == "message")
        .await;
    assert_eq!(next["type"], "pong", "removed member got {next}");

    // Members may leave on their own; direct channels never change.
    let leave = format!("/api/v1/channels/{group}/members/{}", bob.id);
    api.call(Method::DELETE, &leave, Some(&bob.token), None)
        .await
        .expect(200);
    let direct = api.direct(&ann, &bob).await;
    let path = format!("/api/v1/channels/{direct}/members/{}", cid.id);
    api.call(Method::PUT, &path, Some(&ann.token), None)
        .await
        .expect_error(409, "direct_channel_fixed");
}

#[tokio::test]
async fn group_size_is_limited() {
    let server = Server::start_with(
        support::DataDir::new(),
        &[],
        &[("CHAT_CORE__MAX_GROUP_MEMBERS", "3")],
    )
    .await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cid = api.signup("cid").await;
    let dan = api.signup("dan").await;
    let ids = [&bob.id, &cid.id, &dan.id];
    api.post(
        "/api/v1/channels",
        &ann.token,
        json!({"name": "big", "member_ids": ids}),
    )
    .await
    .expect_error(400, "too_many_members");
    let group = api.group(&ann, "full", &[&bob, &cid]).await;
    let path = format!("/api/v1/channels/{group}/members/{}", dan.id);
    api.call(Method::PUT, &path, Some(&ann.token), None)
        .await
        .expect_error(409, "channel_full");
}
