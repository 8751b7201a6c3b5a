//! Who may see whom, over real sockets: invisible users appear offline to
//! everyone, members who left a channel are no longer seen through it,
//! new members are, and blocked users do not get one's presence.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Account, Api, DataDir, Server, Ws};

fn watch(channel: &str) -> Value {
    json!({"type": "watch_presence", "channel_id": channel})
}

/// Watches `channel` and returns each member's status in the answer.
async fn watch_list(ws: &mut Ws, channel: &str) -> Vec<(String, String)> {
    ws.send_json(watch(channel)).await;
    let list = ws
        .wait_for(|f| f["type"] == "presence_list" && f["channel_id"] == channel)
        .await;
    list["presence"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|p| {
                    (
                        support::api::str_of(&p["user_id"]),
                        support::api::str_of(&p["status"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn status_of(list: &[(String, String)], user: &Account) -> String {
    list.iter()
        .find(|(id, _)| *id == user.id)
        .map(|(_, s)| s.clone())
        .unwrap_or_default()
}

/// `ws` got no `presence` about `user` before `marker` (sent by `by` in
/// `channel` now), which comes after anything already published.
async fn saw_nothing_of(ws: &mut Ws, by: &mut Ws, channel: &str, user: &Account) {
    let ack = by.send_message(channel, "marker", "marker").await;
    ws.wait_message(&ack["message"]).await;
    let stray: Vec<_> = ws
        .pending_of("presence")
        .into_iter()
        .filter(|p| p["user_id"] == user.id.as_str())
        .collect();
    assert!(stray.is_empty(), "saw {stray:?}");
}

async fn presence_of(ws: &mut Ws, user: &Account, status: &str) -> Value {
    ws.wait_for(|f| {
        f["type"] == "presence" && f["user_id"] == user.id.as_str() && f["status"] == status
    })
    .await
}

async fn befriend(api: &Api, a: &Account, b: &Account) {
    let to = |u: &Account| format!("/api/v1/relationships/{}", u.id);
    api.post(&to(b), &a.token, json!({"action": "request"}))
        .await
        .expect(200);
    api.post(&to(a), &b.token, json!({"action": "accept"}))
        .await
        .expect(200);
}

#[tokio::test]
async fn an_invisible_user_is_offline_to_everyone_yet_chats() {
    let env = [("CHAT_CORE__PRESENCE_GRACE_MS", "200")];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let [ann, bob, cyd] = [
        api.signup("ann").await,
        api.signup("bob").await,
        api.signup("cyd").await,
    ];
    befriend(&api, &ann, &bob).await;
    let group = api.group(&cyd, "team", &[&ann, &bob]).await;
    let settings = "/api/v1/users/me/settings";
    let hidden = api
        .patch(settings, &ann.token, json!({"invisible": true}))
        .await
        .expect(200);
    assert_eq!(hidden["invisible"], true);

    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;
    watch_list(&mut bob_ws, &group).await;
    let (mut ann_ws, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["settings"]["invisible"], true);
    // She chats as ever, and nobody learns she is online.
    let ack = ann_ws
        .send_message(&group, "a-1", "hello from nowhere")
        .await;
    bob_ws.wait_message(&ack["message"]).await;
    assert!(
        bob_ws.pending_of("presence").is_empty(),
        "{:?}",
        bob_ws.pending()
    );
    assert_eq!(
        status_of(&watch_list(&mut cyd_ws, &group).await, &ann),
        "offline"
    );
    let friends = api
        .get("/api/v1/relationships", &bob.token)
        .await
        .expect(200);
    assert_eq!(friends["relationships"][0]["presence"]["status"], "offline");

    // Showing herself is news; hiding again says offline, as of now.
    api.patch(settings, &ann.token, json!({"invisible": false}))
        .await
        .expect(200);
    presence_of(&mut bob_ws, &ann, "online").await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    api.patch(settings, &ann.token, json!({"invisible": true}))
        .await
        .expect(200);
    let gone = presence_of(&mut bob_ws, &ann, "offline").await;
    assert!(
        gone["last_active_at_ms"].as_i64() >= Some(before - 1_000),
        "{gone}"
    );
    let own: Vec<_> = [
        ann_ws.wait_type("settings").await,
        ann_ws.wait_type("settings").await,
    ]
    .iter()
    .map(|f| f["settings"]["invisible"].clone())
    .collect();
    assert_eq!(
        own,
        [json!(false), json!(true)],
        "her own devices see each change"
    );

    // Leaving while invisible is no news either, even after the grace period.
    ann_ws.abort();
    tokio::time::sleep(Duration::from_millis(500)).await;
    saw_nothing_of(&mut bob_ws, &mut cyd_ws, &group, &ann).await;
}

#[tokio::test]
async fn watchers_see_the_members_a_channel_has_now() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob, cyd, dan] = [
        api.signup("ann").await,
        api.signup("bob").await,
        api.signup("cyd").await,
        api.signup("dan").await,
    ];
    let group = api.group(&ann, "team", &[&bob, &cyd]).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;
    watch_list(&mut bob_ws, &group).await;
    watch_list(&mut cyd_ws, &group).await;
    let member = |u: &Account| format!("/api/v1/channels/{group}/members/{}", u.id);

    // Cyd leaves: bob no longer sees her, and her own watch has ended.
    api.delete(&member(&cyd), &cyd.token).await.expect(200);
    cyd_ws.close().await;
    let (cyd_back, _) = Ws::connect(&server, &cyd.token).await;
    saw_nothing_of(&mut bob_ws, &mut ann_ws, &group, &cyd).await;
    cyd_back.close().await;

    // Dan joins while bob watches: bob sees him from then on.
    api.put(&member(&dan), &ann.token, json!({}))
        .await
        .expect(200);
    let (_dan_ws, _) = Ws::connect(&server, &dan.token).await;
    presence_of(&mut bob_ws, &dan, "online").await;
}

#[tokio::test]
async fn a_user_one_blocks_does_not_get_ones_presence() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let [ann, bob, cyd] = [
        api.signup("ann").await,
        api.signup("bob").await,
        api.signup("cyd").await,
    ];
    let group = api.group(&cyd, "team", &[&ann, &bob]).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;
    watch_list(&mut bob_ws, &group).await;
    watch_list(&mut cyd_ws, &group).await;
    let block = format!("/api/v1/relationships/{}", bob.id);
    api.post(&block, &ann.token, json!({"action": "block"}))
        .await
        .expect(200);

    let (_ann_ws, _) = Ws::connect(&server, &ann.token).await;
    presence_of(&mut cyd_ws, &ann, "online").await;
    saw_nothing_of(&mut bob_ws, &mut cyd_ws, &group, &ann).await;
    // Asked outright, the list shows her as never seen.
    assert_eq!(
        status_of(&watch_list(&mut cyd_ws, &group).await, &ann),
        "online"
    );
    let (mut bob_phone, _) = Ws::connect(&server, &bob.token).await;
    assert_eq!(
        status_of(&watch_list(&mut bob_phone, &group).await, &ann),
        "offline"
    );
}
