//! Read positions and unread counts: the ready state, sharing between a
//! user's devices, receipts for other members, and refused receipts.

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server, Ws};

/// The entry of `channel` in a `ready` frame.
fn entry<'a>(ready: &'a Value, channel: &str) -> &'a Value {
    ready["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .find(|c| c["channel"]["id"] == channel)
        .unwrap_or_else(|| panic!("channel {channel} not in {ready}"))
}

fn read(channel: &str, message_id: &str) -> Value {
    json!({"type": "read", "channel_id": channel, "message_id": message_id})
}

#[tokio::test]
async fn ready_lists_every_channel_with_read_position_and_unread_count() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let group = api.group(&ann, "room", &[&bob]).await;
    let mut last = String::new();
    for n in 0..3 {
        let path = format!("/api/v1/channels/{dm}/messages");
        let sent = api
            .post(&path, &bob.token, json!({"text": format!("b{n}")}))
            .await;
        last = str_of(&sent.expect(201)["message"]["id"]);
    }
    let path = format!("/api/v1/channels/{group}/messages");
    api.post(&path, &ann.token, json!({"text": "mine"}))
        .await
        .expect(201);

    let (_ws, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["channels"].as_array().expect("channels").len(), 2);
    let direct = entry(&ready, &dm);
    assert_eq!(direct["unread_count"], 3);
    assert_eq!(direct["last_read_id"], "0");
    assert_eq!(direct["channel"]["last_message_id"], last.as_str());
    assert_eq!(
        direct["channel"]["member_ids"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        entry(&ready, &group)["unread_count"],
        0,
        "one's own messages are not unread"
    );
    assert_eq!(entry(&ready, &group)["channel"]["name"], "room");
    assert_eq!(ready["settings"]["notifications"], "all");
}

#[tokio::test]
async fn two_devices_share_messages_and_reading_clears_the_other_badge() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut phone, _) = Ws::connect(&server, &ann.token).await;
    let (mut laptop, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;

    let ack = phone.send_message(&dm, "p-1", "from the phone").await;
    assert_eq!(
        laptop.messages(1).await[0],
        ack["message"],
        "the other device sees it"
    );

    let first = bob_ws.send_message(&dm, "b-1", "one").await["message"]["id"].clone();
    let second = bob_ws.send_message(&dm, "b-2", "two").await["message"]["id"].clone();
    laptop.messages(2).await;
    phone.messages(3).await;

    phone.send_json(read(&dm, &str_of(&first))).await;
    let seen = laptop.wait_type("read").await;
    assert_eq!(seen["user_id"], ann.id.as_str());
    assert_eq!(
        (&seen["last_read_id"], &seen["unread_count"]),
        (&first, &json!(1))
    );
    phone.send_json(read(&dm, &str_of(&second))).await;
    let seen = laptop
        .wait_for(|f| f["type"] == "read" && f["last_read_id"] == second)
        .await;
    assert_eq!(seen["unread_count"], 0, "the badge clears on the laptop");
    let on_phone = phone
        .wait_for(|f| f["type"] == "read" && f["last_read_id"] == second)
        .await;
    assert_eq!(on_phone["unread_count"], 0);

    let receipt = bob_ws
        .wait_for(|f| f["type"] == "read" && f["last_read_id"] == second)
        .await;
    assert_eq!(
        receipt["user_id"],
        ann.id.as_str(),
        "bob sees how far ann read"
    );
    assert!(
        receipt.get("unread_count").is_none(),
        "ann's count is hers: {receipt}"
    );

    let (_tablet, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(entry(&ready, &dm)["last_read_id"], second);
    assert_eq!(entry(&ready, &dm)["unread_count"], 0);
}

#[tokio::test]
async fn bad_receipts_are_refused_and_move_nothing() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cy = api.signup("cyd").await;
    let dm = api.direct(&ann, &bob).await;
    let other = api.direct(&bob, &cy).await;
    let (mut ws, _) = Ws::connect(&server, &ann.token).await;
    let id = str_of(&ws.send_message(&dm, "a-1", "hi").await["message"]["id"]);
    let beyond = (id.parse::<u64>().expect("id") + 1).to_string();

    ws.send_json(read(&dm, &beyond)).await;
    let err = ws.wait_type("error").await;
    assert_eq!(err["code"], "read_beyond_last");
    assert_eq!(
        (&err["channel_id"], &err["message_id"]),
        (&json!(dm), &json!(beyond))
    );
    ws.send_json(read(&other, "1")).await;
    let err = ws.wait_type("error").await;
    assert_eq!(
        (&err["code"], &err["channel_id"]),
        (&json!("channel_not_found"), &json!(other))
    );
    ws.send_json(json!({"type": "read", "channel_id": dm, "message_id": "x"}))
        .await;
    assert_eq!(ws.wait_type("error").await["code"], "invalid_field");

    let path = format!("/api/v1/channels/{dm}/read");
    api.put(&path, &ann.token, json!({"message_id": beyond}))
        .await
        .expect_error(400, "read_beyond_last");
    api.put(&path, &ann.token, json!({}))
        .await
        .expect_error(400, "invalid_body");
    let state = api
        .put(&path, &ann.token, json!({"message_id": id}))
        .await
        .expect(200);
    assert_eq!(state["last_read_id"], id.as_str());
    let back = api
        .put(&path, &ann.token, json!({"message_id": "0"}))
        .await
        .expect(200);
    assert_eq!(
        back["last_read_id"],
        id.as_str(),
        "a read position never moves back"
    );

    let ack = ws.send_message(&dm, "a-2", "still here").await;
    assert_eq!(ack["type"], "ack", "the connection survived: {ack}");
}

#[tokio::test]
async fn read_positions_in_big_channels_stay_private() {
    let env = [("CHAT_CORE__RECEIPTS_MAX_MEMBERS", "2")];
    let server = Server::start_with(support::DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cy = api.signup("cyd").await;
    let group = api.group(&ann, "three", &[&bob, &cy]).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let id = ann_ws.send_message(&group, "a-1", "hi").await["message"]["id"].clone();
    bob_ws.messages(1).await;
    bob_ws.send_json(read(&group, &str_of(&id))).await;
    assert_eq!(bob_ws.wait_type("read").await["unread_count"], 0);
    // Events reach ann in the order they happened: the message after the
    // receipt arrives after it would have.
    let later = bob_ws.send_message(&group, "b-1", "after reading").await;
    ann_ws.wait_message(&later["message"]).await;
    let receipts: Vec<_> = ann_ws.pending_of("read");
    assert!(
        receipts.is_empty(),
        "no receipts in a channel over the limit: {receipts:?}"
    );
}
