//! Mentions and edit history over real sockets: `@username` of a member
//! becomes an entity in the message and counts as an unread mention until
//! read; an edit keeps the texts it replaced for every member to read.

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server, Ws};

fn mention(user: &str, offset: u32, length: u32) -> Value {
    json!({"user_id": user, "offset": offset, "length": length})
}

/// The mention count of `channel` in a `ready` frame.
fn ready_mentions(ready: &Value, channel: &str) -> Value {
    ready["channels"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["channel"]["id"] == channel))
        .map(|c| c["mention_count"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn members_named_with_at_are_mentioned_and_counted_until_read() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob, cyd, eve] = [
        api.signup("ann").await,
        api.signup("Bob.B").await,
        api.signup("cyd").await,
        api.signup("eve").await,
    ];
    let group = api.group(&ann, "team", &[&bob, &cyd]).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;

    // Case does not matter; a trailing dot is punctuation; an address, a
    // non-member and an unknown name are plain text.
    let text = "hi @bob.b. and @CYD, mail ann@example.com, @eve @nobody é@cyd";
    let ack = ann_ws.send_message(&group, "m-1", text).await;
    let expected = json!([mention(&bob.id, 3, 6), mention(&cyd.id, 15, 4),]);
    assert_eq!(ack["message"]["mentions"], expected, "{ack}");
    let live = bob_ws.messages(1).await.remove(0);
    assert_eq!(live["mentions"], expected);
    let stored = api.all_messages(&cyd, &group).await;
    assert_eq!(stored[0]["mentions"], expected);
    assert!(eve.id != bob.id);

    // Counted for the mentioned, not for others or the author.
    ann_ws.send_message(&group, "m-2", "no mention here").await;
    let second = ann_ws.send_message(&group, "m-3", "@bob.b again").await;
    let (_, ready) = Ws::connect(&server, &bob.token).await;
    assert_eq!(ready_mentions(&ready, &group), 2);
    let (_, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready_mentions(&ready, &group), 0);

    // Reading past the first clears it, on every device of the reader.
    let first_id = str_of(&ack["message"]["id"]);
    let read = api
        .put(
            &format!("/api/v1/channels/{group}/read"),
            &bob.token,
            json!({"message_id": first_id}),
        )
        .await
        .expect(200);
    assert_eq!(
        (&read["unread_count"], &read["mention_count"]),
        (&json!(2), &json!(1))
    );
    let own = bob_ws
        .wait_for(|f| f["type"] == "read" && f["user_id"] == bob.id.as_str())
        .await;
    assert_eq!(own["mention_count"], 1);
    let other = ann_ws
        .wait_for(|f| f["type"] == "read" && f["user_id"] == bob.id.as_str())
        .await;
    assert!(
        other.get("mention_count").is_none(),
        "only one's own: {other}"
    );

    // An edit that drops the mention drops its count; the event carries it.
    let second_id = str_of(&second["message"]["id"]);
    ann_ws
        .send_json(json!({"type": "edit", "channel_id": group, "message_id": second_id, "text": "again, @cyd"}))
        .await;
    let edited = bob_ws.wait_type("message_edited").await;
    assert_eq!(
        edited["message"]["mentions"],
        json!([mention(&cyd.id, 7, 4)])
    );
    let (_, ready) = Ws::connect(&server, &bob.token).await;
    assert_eq!(ready_mentions(&ready, &group), 0);
    let (_, ready) = Ws::connect(&server, &cyd.token).await;
    assert_eq!(ready_mentions(&ready, &group), 2);
}

#[tokio::test]
async fn an_edited_message_keeps_its_earlier_texts_for_members() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob, eve] = [
        api.signup("ann").await,
        api.signup("bob").await,
        api.signup("eve").await,
    ];
    let dm = api.direct(&ann, &bob).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let ack = ann_ws.send_message(&dm, "v-1", "first draft").await;
    let id = str_of(&ack["message"]["id"]);
    let path = format!("/api/v1/channels/{dm}/messages/{id}");
    let versions = format!("{path}/versions");
    let texts = |v: &Value| -> Vec<Value> {
        v["versions"]
            .as_array()
            .map(|all| all.iter().map(|x| x["text"].clone()).collect())
            .unwrap_or_default()
    };

    let untouched = api.get(&versions, &bob.token).await.expect(200);
    assert_eq!(texts(&untouched), [json!("first draft")]);
    assert_eq!(untouched["versions"][0]["version_id"], "0");
    let second = api
        .patch(&path, &ann.token, json!({"text": "second"}))
        .await
        .expect(200);
    api.patch(&path, &ann.token, json!({"text": "third"}))
        .await
        .expect(200);
    let all = api.get(&versions, &bob.token).await.expect(200);
    assert_eq!(
        texts(&all),
        [json!("first draft"), json!("second"), json!("third")]
    );
    assert_eq!(all["versions"][1]["version_id"], second["version_id"]);
    let times: Vec<i64> = all["versions"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|x| x["created_at_ms"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    api.get(&versions, &eve.token)
        .await
        .expect_error(404, "channel_not_found");
    api.get(
        &format!("/api/v1/channels/{dm}/messages/12345/versions"),
        &bob.token,
    )
    .await
    .expect_error(404, "message_not_found");
    api.delete(&path, &ann.token).await.expect(200);
    api.get(&versions, &bob.token)
        .await
        .expect_error(404, "message_not_found");
}
