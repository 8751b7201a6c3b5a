//! Friends, blocks, profiles and settings: REST calls whose outcome reaches
//! every party's devices live, and every refused request.

mod support;

use serde_json::{Value, json};
use support::{Account, Api, Server, Ws};

async fn act(api: &Api, who: &Account, other: &Account, action: &str) -> support::Reply {
    let path = format!("/api/v1/relationships/{}", other.id);
    api.post(&path, &who.token, json!({"action": action})).await
}

/// The next `relationship` frame about `user`.
async fn relationship(ws: &mut Ws, user: &Account) -> Value {
    let frame = ws
        .wait_for(|f| {
            f["type"] == "relationship" && f["relationship"]["user"]["id"] == user.id.as_str()
        })
        .await;
    frame["relationship"].clone()
}

#[tokio::test]
async fn friend_requests_are_sent_accepted_listed_and_removed() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;

    let sent = act(&api, &ann, &bob, "request").await.expect(200);
    assert_eq!(sent["kind"], "outgoing");
    assert_eq!(relationship(&mut bob_ws, &ann).await["kind"], "incoming");
    assert_eq!(relationship(&mut ann_ws, &bob).await["kind"], "outgoing");
    let again = act(&api, &ann, &bob, "request").await.expect(200);
    assert_eq!(again["kind"], "outgoing", "asking twice changes nothing");

    let accepted = act(&api, &bob, &ann, "accept").await.expect(200);
    assert_eq!(accepted["kind"], "friend");
    let now_friends = relationship(&mut ann_ws, &bob).await;
    assert_eq!(now_friends["kind"], "friend");
    // A new friend's presence shows as it is: in the frame, or (in a
    // cluster, from bob's own core) in a `presence` frame right after.
    if now_friends["presence"]["status"] != "online" {
        ann_ws
            .wait_for(|f| {
                f["type"] == "presence"
                    && f["user_id"] == bob.id.as_str()
                    && f["status"] == "online"
            })
            .await;
    }

    let list = api
        .get("/api/v1/relationships", &ann.token)
        .await
        .expect(200);
    let friends = list["relationships"].as_array().expect("list");
    assert_eq!(friends.len(), 1);
    assert_eq!(friends[0]["user"]["username"], "bob");
    assert_eq!(
        friends[0]["presence"]["status"], "online",
        "bob is connected"
    );

    // Friends see each other's presence without sharing a channel (in a
    // cluster bob's home may first repeat that he is online: it, not the
    // core that made them friends, knows).
    bob_ws.close().await;
    ann_ws
        .wait_for(|f| {
            f["type"] == "presence" && f["user_id"] == bob.id.as_str() && f["status"] == "offline"
        })
        .await;

    act(&api, &ann, &bob, "remove").await.expect(200);
    let list = api
        .get("/api/v1/relationships", &bob.token)
        .await
        .expect(200);
    assert_eq!(list["relationships"], json!([]));
    act(&api, &ann, &bob, "remove")
        .await
        .expect_error(409, "not_friends");
}

#[tokio::test]
async fn requests_can_be_declined_and_bad_ones_are_refused() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    act(&api, &bob, &ann, "accept")
        .await
        .expect_error(409, "no_friend_request");
    act(&api, &ann, &bob, "request").await.expect(200);
    act(&api, &ann, &bob, "accept")
        .await
        .expect_error(409, "no_friend_request");
    let declined = act(&api, &bob, &ann, "decline").await.expect(200);
    assert_eq!(declined["kind"], "none");
    assert_eq!(
        api.get("/api/v1/relationships", &ann.token)
            .await
            .expect(200)["relationships"],
        json!([])
    );
    act(&api, &ann, &ann, "request")
        .await
        .expect_error(400, "invalid_user");
    let ghost = "/api/v1/relationships/123456789";
    api.post(ghost, &ann.token, json!({"action": "request"}))
        .await
        .expect_error(404, "user_not_found");
    let path = format!("/api/v1/relationships/{}", bob.id);
    api.post(&path, &ann.token, json!({"action": "hug"}))
        .await
        .expect_error(400, "invalid_body");
    api.post(
        "/api/v1/relationships/abc",
        &ann.token,
        json!({"action": "request"}),
    )
    .await
    .expect_error(400, "invalid_path");
    act(&api, &ann, &bob, "request").await.expect(200);
    act(&api, &bob, &ann, "request").await.expect(200);
    act(&api, &ann, &bob, "request")
        .await
        .expect_error(409, "already_friends");
}

#[tokio::test]
async fn a_block_ends_friendship_and_one_to_one_messages_both_ways() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let group = api.group(&ann, "room", &[&bob]).await;
    act(&api, &ann, &bob, "request").await.expect(200);
    act(&api, &bob, &ann, "accept").await.expect(200);
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;

    let blocked = act(&api, &ann, &bob, "block").await.expect(200);
    assert_eq!(blocked["kind"], "blocked");
    assert_eq!(relationship(&mut bob_ws, &ann).await["kind"], "none");

    let refused = bob_ws.send_message(&dm, "b-1", "hello?").await;
    assert_eq!(refused["code"], "blocked", "{refused}");
    let path = format!("/api/v1/channels/{dm}/messages");
    api.post(&path, &ann.token, json!({"text": "and not me either"}))
        .await
        .expect_error(403, "blocked");
    act(&api, &bob, &ann, "request")
        .await
        .expect_error(403, "blocked");
    let in_group = bob_ws
        .send_message(&group, "b-2", "groups still work")
        .await;
    assert_eq!(in_group["type"], "ack", "{in_group}");

    act(&api, &bob, &ann, "unblock")
        .await
        .expect_error(409, "not_blocked");
    act(&api, &ann, &bob, "unblock").await.expect(200);
    let after = bob_ws.send_message(&dm, "b-3", "hello again").await;
    assert_eq!(after["type"], "ack", "{after}");
    assert!(
        api.all_messages(&ann, &dm)
            .await
            .iter()
            .all(|m| m["text"] != "hello?")
    );
}

#[tokio::test]
async fn profile_changes_reach_own_devices_and_friends_live() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    act(&api, &ann, &bob, "request").await.expect(200);
    act(&api, &bob, &ann, "accept").await.expect(200);
    let (mut laptop, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;

    let change = json!({"display_name": "Ann A.", "status_text": "on a train",
        "avatar_url": "https://example.com/ann.png"});
    let me = api
        .patch("/api/v1/users/me", &ann.token, change)
        .await
        .expect(200);
    assert_eq!(me["display_name"], "Ann A.");
    for ws in [&mut laptop, &mut bob_ws] {
        let profile = ws.wait_type("profile").await;
        assert_eq!(profile["user"], me);
    }
    let path = format!("/api/v1/users/{}", ann.id);
    assert_eq!(api.get(&path, &bob.token).await.expect(200), me);

    let only_status = json!({"status_text": ""});
    let me = api
        .patch("/api/v1/users/me", &ann.token, only_status)
        .await
        .expect(200);
    assert_eq!(
        (&me["display_name"], &me["status_text"]),
        (&json!("Ann A."), &json!(""))
    );

    let long = "x".repeat(65);
    for (body, code) in [
        (json!({"display_name": long}), "invalid_display_name"),
        (json!({"status_text": "line\nbreak"}), "invalid_status_text"),
        (
            json!({"avatar_url": "javascript:alert(1)"}),
            "invalid_avatar_url",
        ),
        (json!({"nickname": "x"}), "invalid_body"),
    ] {
        api.patch("/api/v1/users/me", &ann.token, body)
            .await
            .expect_error(400, code);
    }
    assert_eq!(
        api.get(&path, &bob.token).await.expect(200),
        me,
        "nothing changed"
    );
}

#[tokio::test]
async fn settings_are_kept_and_reach_the_other_devices() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cyd = api.signup("cyd").await;
    let dm = api.direct(&ann, &bob).await;
    let theirs = api.direct(&bob, &cyd).await;
    let (mut phone, _) = Ws::connect(&server, &ann.token).await;
    let path = "/api/v1/users/me/settings";
    let defaults = api.get(path, &ann.token).await.expect(200);
    assert_eq!(
        defaults,
        json!({"notifications": "all", "muted_channel_ids": [], "invisible": false})
    );

    let changed = api
        .patch(
            path,
            &ann.token,
            json!({"notifications": "mentions", "mute": [dm]}),
        )
        .await
        .expect(200);
    assert_eq!(
        changed,
        json!({"notifications": "mentions", "muted_channel_ids": [dm], "invisible": false})
    );
    assert_eq!(phone.wait_type("settings").await["settings"], changed);
    let (_tablet, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["settings"], changed);

    api.patch(path, &ann.token, json!({"mute": [theirs]}))
        .await
        .expect_error(404, "channel_not_found");
    api.patch(path, &ann.token, json!({"notifications": "loud"}))
        .await
        .expect_error(400, "invalid_body");
    api.patch(path, &ann.token, json!({"mute": ["abc"]}))
        .await
        .expect_error(400, "invalid_body");
    let unmuted = api
        .patch(path, &ann.token, json!({"unmute": [dm]}))
        .await
        .expect(200);
    assert_eq!(
        unmuted,
        json!({"notifications": "mentions", "muted_channel_ids": [], "invisible": false})
    );
}
