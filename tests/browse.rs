//! What a client browses without opening a channel: users by the start of
//! their username, each channel's last message in `ready`, and a small
//! channel's read positions.

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, DataDir, Server, Ws};

fn usernames(reply: &Value) -> Vec<String> {
    reply["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| str_of(&u["username"]))
        .collect()
}

#[tokio::test]
async fn users_are_found_by_the_start_of_their_username() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    for name in ["Annie", "anna", "an_x", "bob"] {
        api.signup(name).await;
    }
    let search = |query: &str| format!("/api/v1/users?{query}");
    let found = api.get(&search("prefix=an"), &ann.token).await.expect(200);
    assert_eq!(usernames(&found), ["an_x", "ann", "anna", "Annie"]);
    assert_eq!(
        found["users"][1]["id"],
        ann.id.as_str(),
        "whole user objects"
    );
    let found = api
        .get(&search("prefix=AN&limit=2"), &ann.token)
        .await
        .expect(200);
    assert_eq!(
        usernames(&found),
        ["an_x", "ann"],
        "any case, up to the limit"
    );
    let found = api.get(&search("prefix=an_"), &ann.token).await.expect(200);
    assert_eq!(usernames(&found), ["an_x"], "'_' is a plain character");
    for nobody in ["prefix=zed", "prefix=an%20n", "prefix=%C3%A9"] {
        let found = api.get(&search(nobody), &ann.token).await.expect(200);
        assert_eq!(usernames(&found), Vec::<String>::new(), "{nobody}");
    }

    let long = format!("prefix={}", "a".repeat(33));
    for (query, code) in [
        ("prefix=", "invalid_prefix"),
        (long.as_str(), "invalid_prefix"),
        ("prefix=a%07", "invalid_prefix"),
        ("prefix=an&limit=0", "invalid_limit"),
        ("prefix=an&limit=51", "invalid_limit"),
        ("prefix=an&limit=many", "invalid_query"),
        ("limit=5", "invalid_query"),
        ("prefix=an&sort=name", "invalid_query"),
    ] {
        api.get(&search(query), &ann.token)
            .await
            .expect_error(400, code);
    }
    api.get(&search("prefix=an"), "not-a-token")
        .await
        .expect_error(401, "invalid_token");
}

#[tokio::test]
async fn ready_carries_each_channels_last_message() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let long = api.group(&bob, "long", &[&ann]).await;
    let gone = api.group(&bob, "gone", &[&ann]).await;
    let quiet = api.group(&bob, "quiet", &[&ann]).await;
    let (mut ws, _) = Ws::connect(&server, &bob.token).await;
    ws.send_message(&dm, "1", "first").await;
    let second = ws.send_message(&dm, "2", "second").await;
    let text = "ü".repeat(300);
    ws.send_message(&long, "3", &text).await;
    let only = ws.send_message(&gone, "4", "soon deleted").await;
    let only_id = str_of(&only["message"]["id"]);
    api.delete(
        &format!("/api/v1/channels/{gone}/messages/{only_id}"),
        &bob.token,
    )
    .await
    .expect(200);

    let (_ann, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["limits"]["receipts_max_members"], 20);
    let state = |id: &str| -> Value {
        ready["channels"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["channel"]["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("channel {id} in ready: {ready}"))
    };
    let last = &state(&dm)["last_message"];
    assert_eq!(last["id"], second["message"]["id"]);
    assert_eq!(last["text"], "second");
    assert_eq!(last["sender_id"], bob.id.as_str());
    assert!(last.get("text_truncated").is_none(), "{last}");
    let last = &state(&long)["last_message"];
    assert_eq!(
        str_of(&last["text"]),
        "ü".repeat(200),
        "cut to 200 characters"
    );
    assert_eq!(last["text_truncated"], true);
    assert!(
        state(&gone).get("last_message").is_none(),
        "a tombstone is no preview"
    );
    assert!(state(&quiet).get("last_message").is_none());
}

#[tokio::test]
async fn a_small_channels_read_positions_are_listed() {
    let env = [("CHAT_CORE__RECEIPTS_MAX_MEMBERS", "2")];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cyd = api.signup("cyd").await;
    let dm = api.direct(&ann, &bob).await;
    let group = api.group(&ann, "three", &[&bob, &cyd]).await;
    let reads = |channel: &str| format!("/api/v1/channels/{channel}/reads");

    let none = api.get(&reads(&dm), &bob.token).await.expect(200);
    assert_eq!(none, json!({"reads": []}), "nobody has read anything");
    let (mut ws, _) = Ws::connect(&server, &bob.token).await;
    let first = str_of(&ws.send_message(&dm, "1", "one").await["message"]["id"]);
    let second = str_of(&ws.send_message(&dm, "2", "two").await["message"]["id"]);
    let read = |id: &str| json!({"message_id": id});
    api.put(
        &format!("/api/v1/channels/{dm}/read"),
        &ann.token,
        read(&first),
    )
    .await
    .expect(200);
    api.put(
        &format!("/api/v1/channels/{dm}/read"),
        &bob.token,
        read(&second),
    )
    .await
    .expect(200);
    let listed = api.get(&reads(&dm), &bob.token).await.expect(200);
    let mut expected = vec![
        json!({"user_id": ann.id, "last_read_id": first}),
        json!({"user_id": bob.id, "last_read_id": second}),
    ];
    expected.sort_by_key(|r| str_of(&r["user_id"]).parse::<u64>().unwrap_or(0));
    assert_eq!(listed["reads"], json!(expected));

    api.get(&reads(&dm), &cyd.token)
        .await
        .expect_error(404, "channel_not_found");
    api.get(&reads(&group), &ann.token)
        .await
        .expect_error(409, "receipts_off");
    api.get(&reads("12345"), &ann.token)
        .await
        .expect_error(404, "channel_not_found");
    api.get(&reads("not-an-id"), &ann.token)
        .await
        .expect_error(400, "invalid_path");
}
