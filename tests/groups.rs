//! Group administration over real sockets: roles, moderation, handing a
//! group on, deleting it, and the notes-to-self channel.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::api::str_of;
use support::{Account, Api, Cursors, Server, Ws};

fn role_path(group: &str, user: &Account) -> String {
    format!("/api/v1/channels/{group}/members/{}/role", user.id)
}

fn member_path(group: &str, user: &Account) -> String {
    format!("/api/v1/channels/{group}/members/{}", user.id)
}

/// The next `channel` frame with `change`.
async fn change(ws: &mut Ws, change: &str) -> Value {
    ws.wait_for(|f| f["type"] == "channel" && f["change"] == change)
        .await
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(str_of).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn admins_moderate_and_only_the_owner_sets_roles() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob, cyd, dan] = [
        api.signup("ann").await,
        api.signup("bob").await,
        api.signup("cyd").await,
        api.signup("dan").await,
    ];
    let group = api.group(&ann, "team", &[&bob, &cyd, &dan]).await;
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;
    let (mut dan_ws, _) = Ws::connect(&server, &dan.token).await;
    let rename = |name: &str| json!({"name": name});
    let path = format!("/api/v1/channels/{group}");

    // A plain member may do none of it.
    api.patch(&path, &bob.token, rename("bob's"))
        .await
        .expect_error(403, "not_channel_admin");
    api.put(
        &role_path(&group, &cyd),
        &bob.token,
        json!({"role": "admin"}),
    )
    .await
    .expect_error(403, "not_channel_owner");
    api.delete(&member_path(&group, &cyd), &bob.token)
        .await
        .expect_error(403, "not_channel_admin");

    // The owner makes bob an admin; every member hears it.
    let made = api
        .put(
            &role_path(&group, &bob),
            &ann.token,
            json!({"role": "admin"}),
        )
        .await
        .expect(200);
    assert_eq!(ids(&made["admin_ids"]), vec![bob.id.clone()]);
    let told = change(&mut cyd_ws, "role_changed").await;
    assert_eq!(
        (&told["user_id"], &told["actor_id"]),
        (&json!(bob.id), &json!(ann.id))
    );
    assert_eq!(ids(&told["channel"]["admin_ids"]), vec![bob.id.clone()]);

    // The admin renames the group.
    api.patch(&path, &bob.token, rename("  renamed  "))
        .await
        .expect(200);
    let renamed = change(&mut dan_ws, "renamed").await;
    assert_eq!(renamed["channel"]["name"], "renamed", "trimmed");
    assert_eq!(renamed["actor_id"], bob.id.as_str());
    api.patch(&path, &bob.token, rename("bad\u{7}name"))
        .await
        .expect_error(400, "invalid_channel_name");

    // The admin deletes dan's message; the tombstone says who did.
    let sent = dan_ws.send_message(&group, "d-1", "spam").await;
    let message_id = str_of(&sent["message"]["id"]);
    let message_path = format!("/api/v1/channels/{group}/messages/{message_id}");
    api.patch(&message_path, &bob.token, json!({"text": "edited by bob"}))
        .await
        .expect_error(403, "not_your_message");
    api.delete(&message_path, &cyd.token)
        .await
        .expect_error(403, "not_your_message");
    let tombstone = api.delete(&message_path, &bob.token).await.expect(200);
    assert_eq!(
        (&tombstone["deleted"], &tombstone["deleted_by"]),
        (&json!(true), &json!(bob.id))
    );
    let seen = cyd_ws.wait_type("message_deleted").await;
    assert_eq!(seen["message"]["deleted_by"], bob.id.as_str());
    let history = api.all_messages(&cyd, &group).await;
    assert_eq!(history[0]["deleted_by"], bob.id.as_str());

    // An admin removes a plain member, but not the owner or another admin.
    api.put(
        &role_path(&group, &cyd),
        &ann.token,
        json!({"role": "admin"}),
    )
    .await
    .expect(200);
    api.delete(&member_path(&group, &cyd), &bob.token)
        .await
        .expect_error(403, "not_channel_owner");
    api.delete(&member_path(&group, &ann), &bob.token)
        .await
        .expect_error(403, "not_channel_owner");
    api.delete(&member_path(&group, &dan), &bob.token)
        .await
        .expect(200);
    let removed = change(&mut dan_ws, "member_removed").await;
    assert_eq!(
        (&removed["user_id"], &removed["actor_id"]),
        (&json!(dan.id), &json!(bob.id))
    );
    api.put(
        &role_path(&group, &cyd),
        &ann.token,
        json!({"role": "member"}),
    )
    .await
    .expect(200);
    api.put(
        &role_path(&group, &ann),
        &ann.token,
        json!({"role": "member"}),
    )
    .await
    .expect_error(400, "invalid_user");
    api.put(
        &role_path(&group, &dan),
        &ann.token,
        json!({"role": "admin"}),
    )
    .await
    .expect_error(404, "user_not_found");
    api.put(
        &role_path(&group, &cyd),
        &ann.token,
        json!({"role": "boss"}),
    )
    .await
    .expect_error(400, "invalid_body");
}

#[tokio::test]
async fn ownership_is_handed_on_or_passes_when_the_owner_leaves() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob, cyd, dan] = [
        api.signup("ann").await,
        api.signup("bob").await,
        api.signup("cyd").await,
        api.signup("dan").await,
    ];
    let group = api.group(&ann, "team", &[&bob]).await;
    // Joined in this order: cyd before dan.
    for user in [&cyd, &dan] {
        api.call(
            Method::PUT,
            &member_path(&group, user),
            Some(&bob.token),
            None,
        )
        .await
        .expect(200);
    }
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;
    let owner = format!("/api/v1/channels/{group}/owner");
    api.put(&owner, &bob.token, json!({"user_id": cyd.id}))
        .await
        .expect_error(403, "not_channel_owner");
    let outsider = api.signup("eve").await;
    api.put(&owner, &ann.token, json!({"user_id": outsider.id}))
        .await
        .expect_error(404, "user_not_found");

    // Ann hands the group to bob and stays as an admin.
    let handed = api
        .put(&owner, &ann.token, json!({"user_id": bob.id}))
        .await
        .expect(200);
    assert_eq!(handed["owner_id"], bob.id.as_str());
    assert_eq!(ids(&handed["admin_ids"]), vec![ann.id.clone()]);
    let told = change(&mut cyd_ws, "owner_changed").await;
    assert_eq!(
        (&told["user_id"], &told["actor_id"]),
        (&json!(bob.id), &json!(ann.id))
    );

    // Bob makes dan an admin, then ann stops being one; bob leaves: dan, the
    // only admin, takes over though cyd joined earlier.
    api.put(
        &role_path(&group, &dan),
        &bob.token,
        json!({"role": "admin"}),
    )
    .await
    .expect(200);
    api.put(
        &role_path(&group, &ann),
        &bob.token,
        json!({"role": "member"}),
    )
    .await
    .expect(200);
    let left = api
        .delete(&member_path(&group, &bob), &bob.token)
        .await
        .expect(200);
    assert_eq!(left["owner_id"], dan.id.as_str());
    let passed = change(&mut cyd_ws, "owner_changed").await;
    assert_eq!(passed["user_id"], dan.id.as_str());
    assert!(
        passed.get("actor_id").is_none(),
        "nobody chose it: {passed}"
    );

    // With no admin left, the longest-standing member takes over: ann.
    let left = api
        .delete(&member_path(&group, &dan), &dan.token)
        .await
        .expect(200);
    assert_eq!(left["owner_id"], ann.id.as_str());
    api.delete(&member_path(&group, &cyd), &cyd.token)
        .await
        .expect(200);

    // The last one out deletes the group.
    api.delete(&member_path(&group, &ann), &ann.token)
        .await
        .expect(200);
    api.get(&format!("/api/v1/channels/{group}"), &ann.token)
        .await
        .expect_error(404, "channel_not_found");
}

#[tokio::test]
async fn a_deleted_group_is_gone_for_everyone_at_once() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob] = [api.signup("ann").await, api.signup("bob").await];
    let group = api.group(&ann, "doomed", &[&bob]).await;
    let dm = api.direct(&ann, &bob).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let sent = bob_ws.send_message(&group, "b-1", "soon gone").await;
    let message_id = str_of(&sent["message"]["id"]);
    bob_ws
        .send_json(json!({"type": "watch_presence", "channel_id": group}))
        .await;
    bob_ws.wait_type("presence_list").await;
    let path = format!("/api/v1/channels/{group}");

    api.delete(&path, &bob.token)
        .await
        .expect_error(403, "not_channel_owner");
    api.delete(&format!("/api/v1/channels/{dm}"), &ann.token)
        .await
        .expect_error(409, "direct_channel_fixed");
    let gone = api
        .call(Method::DELETE, &path, Some(&ann.token), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.body);

    let told = change(&mut bob_ws, "deleted").await;
    assert_eq!(
        (&told["channel"]["id"], &told["actor_id"]),
        (&json!(group), &json!(ann.id))
    );
    let refused = bob_ws.send_message(&group, "b-2", "hello?").await;
    assert_eq!(refused["code"], "channel_not_found");
    for path in [
        path.clone(),
        format!("{path}/messages"),
        format!("{path}/messages/{message_id}/versions"),
    ] {
        api.get(&path, &bob.token)
            .await
            .expect_error(404, "channel_not_found");
    }
    let listed = api.get("/api/v1/channels", &bob.token).await.expect(200);
    assert!(!listed.to_string().contains(&group), "{listed}");

    // A device that held its messages is told when it comes back.
    let id: u64 = group.parse().expect("numeric id");
    let cursors = Cursors::from([(id, message_id.parse().expect("numeric"))]);
    let (mut back, ready) = Ws::resume(&server, &bob.token, &cursors).await;
    assert!(!ready.to_string().contains(&group), "{ready}");
    let err = back.wait_type("error").await;
    assert_eq!(
        (&err["code"], &err["channel_id"]),
        (&json!("channel_not_found"), &json!(group))
    );
    assert_eq!(back.wait_type("synced").await["messages"], 0);
}

#[tokio::test]
async fn a_direct_channel_with_oneself_holds_notes_to_self() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let notes = api.direct(&ann, &ann).await;
    assert_eq!(api.direct(&ann, &ann).await, notes, "always the same one");
    let channel = api
        .get(&format!("/api/v1/channels/{notes}"), &ann.token)
        .await
        .expect(200);
    assert_eq!(
        (&channel["kind"], ids(&channel["member_ids"])),
        (&json!("direct"), vec![ann.id.clone()])
    );
    let (mut phone, _) = Ws::connect(&server, &ann.token).await;
    let (mut laptop, _) = Ws::connect(&server, &ann.token).await;
    let ack = phone.send_message(&notes, "n-1", "buy milk").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(laptop.messages(1).await[0], ack["message"]);
    let path = format!("/api/v1/channels/{notes}/members/{}", ann.id);
    api.delete(&path, &ann.token)
        .await
        .expect_error(409, "direct_channel_fixed");
}
