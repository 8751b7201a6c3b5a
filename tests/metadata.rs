//! Metadata a client browses — profiles, autocomplete, a channel's members
//! — as the edge caches it: each answer changes as soon as the change is
//! made through the same edge (read your writes), and again after it.

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server};

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
    api.patch(
        &format!("/api/v1/channels/{group}"),
        &ann.token,
        json!({"name": "crew"}),
    )
    .await
    .expect(200);
    let list = api.get(&path, &cat.token).await.expect(200);
    assert_eq!(list["name"], "crew");
    assert_eq!(list["members"][1]["role"], "admin");
    api.patch(
        "/api/v1/users/me",
        &ann.token,
        json!({"display_name": "Ann A."}),
    )
    .await
    .expect(200);
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

    api.patch(
        "/api/v1/users/me",
        &ann.token,
        json!({"display_name": "Ann"}),
    )
    .await
    .expect(200);
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
