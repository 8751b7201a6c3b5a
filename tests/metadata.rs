//! Metadata a client browses — profiles, autocomplete, a channel's members
//! — as the edge caches it: each answer changes as soon as the change is
//! made through the same edge (read your writes), and again after it.

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server, Ws};

/// The user ids of a members list, in its order.
fn member_ids(list: &Value) -> Vec<String> {
    items(list, "members")
        .map(|m| str_of(&m["user"]["id"]))
        .collect()
}

/// The ids of a list of users, in its order.
fn user_ids(list: &Value) -> Vec<String> {
    items(list, "users").map(|u| str_of(&u["id"])).collect()
}

fn items<'a>(list: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    list[field].as_array().expect("a list").iter()
}

#[tokio::test]
async fn a_channels_members_come_with_profiles_and_roles_and_follow_each_change() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let group = api.group(&ann, "team", &[&bob]).await;
    let path = format!("/api/v1/channels/{group}/members");
    let list = api.get(&path, &bob.token).await.expect(200);
    assert_eq!(list["name"], "team");
    assert_eq!(member_ids(&list), [ann.id.clone(), bob.id.clone()]);
    assert_eq!(list["members"][0]["role"], "owner");
    assert_eq!(list["members"][0]["user"]["username"], "ann");
    assert_eq!(list["members"][1]["role"], "member");

    // Each change shows at once, for whoever asks.
    let member = |who: &support::Account| format!("/api/v1/channels/{group}/members/{}", who.id);
    api.put(&member(&cat), &ann.token, json!({}))
        .await
        .expect(200);
    let list = api.get(&path, &bob.token).await.expect(200);
    assert_eq!(member_ids(&list).len(), 3, "{list}");
    api.put(
        &format!("/api/v1/channels/{group}/members/{}/role", bob.id),
        &ann.token,
        json!({"role": "admin"}),
    )
    .await
    .expect(200);
    rename(&api, &ann, &group, "crew").await;
    let list = api.get(&path, &cat.token).await.expect(200);
    assert_eq!(list["name"], "crew");
    assert_eq!(list["members"][1]["role"], "admin");
    display_name(&api, &ann, "Ann A.").await;
    let list = api.get(&path, &cat.token).await.expect(200);
    assert_eq!(list["members"][0]["user"]["display_name"], "Ann A.");

    // Someone removed is refused as a stranger is.
    api.delete(&member(&cat), &ann.token).await.expect(200);
    api.get(&path, &cat.token)
        .await
        .expect_error(404, "channel_not_found");
    let stranger = api.signup("dan").await;
    api.get(&path, &stranger.token)
        .await
        .expect_error(404, "channel_not_found");
    let list = api.get(&path, &bob.token).await.expect(200);
    assert_eq!(member_ids(&list), [ann.id.clone(), bob.id.clone()]);
    api.get("/api/v1/channels/12345/members", &bob.token)
        .await
        .expect_error(404, "channel_not_found");
    api.get("/api/v1/channels/not-a-number/members", &bob.token)
        .await
        .expect_error(400, "invalid_path");
}

#[tokio::test]
async fn autocomplete_and_profiles_show_a_signup_and_an_edit_at_once() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let search = "/api/v1/users?prefix=an";
    assert_eq!(
        user_ids(&api.get(search, &ann.token).await.expect(200)),
        [ann.id.as_str()]
    );
    let me = format!("/api/v1/users/{}", ann.id);
    assert_eq!(
        api.get(&me, &ann.token).await.expect(200)["display_name"],
        ""
    );
    let by_name = api
        .get("/api/v1/users/by-name/ANN", &ann.token)
        .await
        .expect(200);
    assert_eq!(by_name["id"], ann.id.as_str());

    let anna = api.signup("anna").await;
    let found = api.get(search, &ann.token).await.expect(200);
    assert_eq!(user_ids(&found), [ann.id.clone(), anna.id.clone()]);
    let one = api
        .get("/api/v1/users?prefix=AN&limit=1", &ann.token)
        .await
        .expect(200);
    assert_eq!(user_ids(&one), [ann.id.as_str()]);
    api.get("/api/v1/users?prefix=an&limit=51", &ann.token)
        .await
        .expect_error(400, "invalid_limit");

    display_name(&api, &ann, "Ann").await;
    assert_eq!(
        api.get(&me, &anna.token).await.expect(200)["display_name"],
        "Ann"
    );
    let found = api.get(search, &anna.token).await.expect(200);
    assert_eq!(found["users"][0]["display_name"], "Ann");
    let by_name = api
        .get("/api/v1/users/by-name/ann", &anna.token)
        .await
        .expect(200);
    assert_eq!(by_name["display_name"], "Ann");
}

/// Sends `text` to `channel` over REST (no session: no `ready` warms the
/// edge's cache).
async fn post(api: &Api, who: &support::Account, channel: &str, key: &str, text: &str) {
    let path = format!("/api/v1/channels/{channel}/messages");
    api.post(
        &path,
        &who.token,
        json!({"text": text, "client_msg_id": key}),
    )
    .await
    .expect(201);
}

/// `who` sets their display name to `name`.
async fn display_name(api: &Api, who: &support::Account, name: &str) {
    let body = json!({ "display_name": name });
    api.patch("/api/v1/users/me", &who.token, body)
        .await
        .expect(200);
}

/// `who` renames `group` to `name`.
async fn rename(api: &Api, who: &support::Account, group: &str, name: &str) {
    let path = format!("/api/v1/channels/{group}");
    api.patch(&path, &who.token, json!({ "name": name }))
        .await
        .expect(200);
}

/// How many `ready` states the edge assembled and their core round trips.
async fn ready_trips(server: &Server) -> (f64, f64) {
    let of = |name: &str| {
        let name = format!("chat_edge_ready_core_round_trips_{name}");
        async move { server.metric(&name).await.unwrap_or(0.0) }
    };
    (of("count").await, of("sum").await)
}

#[tokio::test]
async fn ready_is_assembled_at_the_edge_in_one_core_round_trip_once_warm() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let dm = api.direct(&ann, &bob).await;
    let group = api.group(&ann, "team", &[&cat]).await;
    post(&api, &bob, &dm, "b1", "hi ann").await;
    post(&api, &cat, &group, "c1", "hi team").await;

    let before = ready_trips(&server).await;
    let (first, cold) = Ws::connect(&server, &ann.token).await;
    let after_cold = ready_trips(&server).await;
    assert_eq!(after_cold.0 - before.0, 1.0, "one ready");
    assert_eq!(
        after_cold.1 - before.1,
        2.0,
        "cold: the user's state, then channels and profiles side by side"
    );
    let channels = cold["channels"].as_array().expect("channels");
    let of = |id: &str| {
        channels
            .iter()
            .find(|c| c["channel"]["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {cold}"))
    };
    assert_eq!(of(&group)["channel"]["name"], "team");
    assert_eq!(
        of(&group)["channel"]["member_ids"],
        json!([ann.id, cat.id]),
        "from the cache, as the core has it"
    );
    assert_eq!(of(&dm)["unread_count"], 1);
    assert_eq!(of(&dm)["last_message"]["text"], "hi ann");
    assert_ne!(of(&dm)["channel"]["last_message_id"], "0");
    assert_eq!(user_ids(&cold), [bob.id.clone(), cat.id.clone()]);
    assert_eq!(cold["users"][0]["username"], "bob");

    // A second device: everything but the user's own state is cached.
    let (second, warm) = Ws::connect(&server, &ann.token).await;
    let after_warm = ready_trips(&server).await;
    assert_eq!(after_warm.0 - after_cold.0, 1.0);
    assert_eq!(after_warm.1 - after_cold.1, 1.0, "warm: one round trip");
    let same = |v: &Value| {
        let mut v = v.clone();
        v["session_id"] = Value::Null;
        v
    };
    assert_eq!(same(&warm), same(&cold));

    // What moved since is shown: a message (not metadata) and a rename.
    post(&api, &cat, &group, "c2", "later").await;
    rename(&api, &ann, &group, "crew").await;
    let (_third, now) = Ws::connect(&server, &ann.token).await;
    let group_now = now["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .find(|c| c["channel"]["id"] == group.as_str())
        .expect("the group")
        .clone();
    assert_eq!(group_now["channel"]["name"], "crew");
    assert_eq!(group_now["last_message"]["text"], "later");
    assert_eq!(
        group_now["channel"]["last_message_id"],
        group_now["last_message"]["id"]
    );
    drop((first, second));
}

/// The frames up to and including the next `message`.
async fn until_message(ws: &mut Ws) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = ws.next().await;
        let done = frame["type"] == "message";
        frames.push(frame);
        if done {
            return frames;
        }
    }
}

#[tokio::test]
async fn a_profile_comes_just_before_the_first_message_from_or_mentioning_someone_new() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let group = api.group(&ann, "team", &[&bob, &cat]).await;
    let (mut ws, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["users"], json!([]), "nobody shown yet");

    post(&api, &bob, &group, "b1", "hi @cat").await;
    let frames = until_message(&mut ws).await;
    let kinds: Vec<&str> = frames.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(kinds, ["profile", "profile", "message"], "{frames:?}");
    assert_eq!(frames[0]["user"]["username"], "bob", "the author first");
    assert_eq!(
        frames[1]["user"]["username"], "cat",
        "then who is mentioned"
    );

    post(&api, &bob, &group, "b2", "and again @cat").await;
    let frames = until_message(&mut ws).await;
    assert_eq!(frames.len(), 1, "ann has both: {frames:?}");

    // A changed profile is sent again before the next message needs it.
    display_name(&api, &bob, "Bob B.").await;
    post(&api, &bob, &group, "b3", "renamed").await;
    let frames = until_message(&mut ws).await;
    let before = &frames[frames.len() - 2];
    assert_eq!(before["type"], "profile", "{frames:?}");
    assert_eq!(before["user"]["display_name"], "Bob B.");

    // Ann's own messages need no profile.
    let ack = ws.send_message(&group, "a1", "mine").await;
    assert_eq!(ack["type"], "ack");
    post(&api, &cat, &group, "c1", "cat speaks").await;
    let frames = until_message(&mut ws).await;
    let profiles: Vec<&Value> = frames.iter().filter(|f| f["type"] == "profile").collect();
    assert!(
        profiles.iter().all(|p| p["user"]["username"] != "ann"),
        "{frames:?}"
    );
}
