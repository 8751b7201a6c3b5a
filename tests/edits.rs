//! Editing and deleting one's own messages: live events for every member,
//! history that keeps a tombstone in order, and refused changes.

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server, Ws};

fn edit(channel: &str, id: &str, text: &str) -> Value {
    json!({"type": "edit", "channel_id": channel, "message_id": id, "text": text})
}

#[tokio::test]
async fn edits_and_deletes_reach_every_member_and_history() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let ack = ann_ws
            .send_message(&dm, &format!("a-{n}"), &format!("draft {n}"))
            .await;
        ids.push(str_of(&ack["message"]["id"]));
    }
    bob_ws.messages(3).await;

    ann_ws.send_json(edit(&dm, &ids[0], "fixed")).await;
    let edited = bob_ws.wait_type("message_edited").await["message"].clone();
    assert_eq!(
        (&edited["id"], &edited["text"]),
        (&json!(ids[0]), &json!("fixed"))
    );
    assert!(edited["edited_at_ms"].as_i64().unwrap_or(0) > 0, "{edited}");
    assert_eq!(ann_ws.wait_type("message_edited").await["message"], edited);

    let path = format!("/api/v1/channels/{dm}/messages/{}", ids[1]);
    let tombstone = api.delete(&path, &ann.token).await.expect(200);
    assert_eq!(
        (&tombstone["deleted"], &tombstone["text"]),
        (&json!(true), &json!(""))
    );
    let deleted = bob_ws.wait_type("message_deleted").await["message"].clone();
    assert_eq!(deleted, tombstone);

    let history = api.all_messages(&bob, &dm).await;
    let got: Vec<_> = history.iter().map(|m| str_of(&m["id"])).collect();
    assert_eq!(got, ids, "the tombstone keeps its place");
    assert_eq!(history[0]["text"], "fixed");
    assert_eq!(history[1]["deleted"], true);
    assert_eq!(history[1]["text"], "");
    assert_eq!(history[2]["text"], "draft 3");
    assert!(history[2].get("deleted").is_none() && history[2].get("edited_at_ms").is_none());

    let path = format!("/api/v1/channels/{dm}/messages/{}", ids[2]);
    let rest = api
        .patch(&path, &ann.token, json!({"text": "over REST"}))
        .await
        .expect(200);
    assert_eq!(rest["text"], "over REST");
    assert_eq!(bob_ws.wait_type("message_edited").await["message"], rest);
}

#[tokio::test]
async fn changes_to_others_or_missing_messages_are_refused() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cyd = api.signup("cyd").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let mine = str_of(&ann_ws.send_message(&dm, "a-1", "ann's").await["message"]["id"]);
    let gone = str_of(&ann_ws.send_message(&dm, "a-2", "to delete").await["message"]["id"]);
    let path = |id: &str| format!("/api/v1/channels/{dm}/messages/{id}");
    api.delete(&path(&gone), &ann.token).await.expect(200);

    bob_ws.send_json(edit(&dm, &mine, "bob was here")).await;
    let err = bob_ws.wait_type("error").await;
    assert_eq!(err["code"], "not_your_message");
    assert_eq!(
        (&err["channel_id"], &err["message_id"]),
        (&json!(dm), &json!(mine))
    );
    bob_ws
        .send_json(json!({"type": "delete", "channel_id": dm, "message_id": mine}))
        .await;
    assert_eq!(bob_ws.wait_type("error").await["code"], "not_your_message");

    let body = json!({"text": "x"});
    api.patch(&path(&mine), &bob.token, body.clone())
        .await
        .expect_error(403, "not_your_message");
    api.patch(&path(&gone), &ann.token, body.clone())
        .await
        .expect_error(404, "message_not_found");
    api.delete(&path(&gone), &ann.token)
        .await
        .expect_error(404, "message_not_found");
    api.patch(&path("12345"), &ann.token, body.clone())
        .await
        .expect_error(404, "message_not_found");
    api.patch(&path(&mine), &cyd.token, body.clone())
        .await
        .expect_error(404, "channel_not_found");
    api.patch(&path(&mine), &ann.token, json!({"text": ""}))
        .await
        .expect_error(400, "text_empty");
    let long = "x".repeat(100_001);
    api.patch(&path(&mine), &ann.token, json!({"text": long}))
        .await
        .expect_error(400, "text_too_long");
    api.patch(&path(&mine), &ann.token, json!({"txt": "x"}))
        .await
        .expect_error(400, "invalid_body");
    ann_ws
        .send_json(json!({"type": "edit", "channel_id": dm, "message_id": mine}))
        .await;
    assert_eq!(ann_ws.wait_type("error").await["code"], "missing_field");

    let history = api.all_messages(&ann, &dm).await;
    assert_eq!(history[0]["text"], "ann's", "nothing changed");
    assert!(history[0].get("edited_at_ms").is_none());
}
