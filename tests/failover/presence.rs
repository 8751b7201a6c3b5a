//! Presence across cores: a user's presence lives at their home core
//! whatever edges their devices use, and moves with it when it dies.

use chat_discovery::Members;
use chat_discovery::ownership::owner;
use serde_json::Value;

use crate::support::cores::three_cores_two_edges;
use crate::support::{Account, Api, Ws};

/// Whether `frame` tells that `user` is `status`: a presence event, or a
/// presence list of `channel` that shows them so.
fn shows(frame: &Value, channel: &str, user: &Account, status: &str) -> bool {
    let is = |p: &Value| p["user_id"] == user.id.as_str() && p["status"] == status;
    match frame["type"].as_str() {
        Some("presence") => is(frame),
        Some("presence_list") => {
            frame["channel_id"] == channel
                && frame["presence"]
                    .as_array()
                    .is_some_and(|all| all.iter().any(is))
        }
        _ => false,
    }
}

/// Watches the presence of `channel`'s members and waits for the list.
async fn watch(ws: &mut Ws, channel: &str) {
    ws.send_json(serde_json::json!({"type": "watch_presence", "channel_id": channel}))
        .await;
    ws.wait_for(|f| f["type"] == "presence_list" && f["channel_id"] == channel)
        .await;
}

/// Signs up `name`, then `name1`, `name2`… until the account's presence
/// home among `members` is not `avoid` (at most 30 tries).
async fn homed_away_from(api: &Api, members: &Members, name: &str, avoid: u64) -> Account {
    for n in 0..30 {
        let account = api.signup(&format!("{name}{n}")).await;
        if owner(account.user_id(), &members.ids()) != Some(avoid) {
            return account;
        }
    }
    panic!("30 accounts, all homed at core {avoid}");
}

#[tokio::test]
async fn a_users_presence_lives_at_their_home_core_whatever_edge_their_devices_use() {
    let Some((cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let api = Api::new(&cores.edges[0]);
    let ann = api.signup("ann").await;
    let ann_home = owner(ann.user_id(), &members.ids()).expect("a home");
    let bob = homed_away_from(&api, &members, "bob", ann_home).await;
    let cat = api.signup("cat").await;
    let group = api.group(&cat, "team", &[&ann, &bob]).await;
    let (mut cat_ws, _) = Ws::connect(&cores.edges[1], &cat.token).await;
    watch(&mut cat_ws, &group).await;

    // Only ann's home takes her sessions; every other core names it.
    for node in members.ids().into_iter().filter(|n| *n != ann_home) {
        let mut client = cores.nodes[cores.index_of(&members, node)].client().await;
        let session = chat_proto::v1::SessionRef {
            edge_id: 1,
            session_id: 1,
            user_id: ann.user_id(),
        };
        let refused = client
            .session_opened(session)
            .await
            .expect_err("not her home");
        let named = refused.metadata().get(chat_proto::OWNER_KEY);
        assert_eq!(
            named.and_then(|v| v.to_str().ok()),
            Some(ann_home.to_string().as_str()),
            "core {node}: {refused:?}"
        );
    }

    // Ann's devices on both edges make one presence at her home, bob's
    // another at his: cat, on one edge, sees both come and go.
    let (ann_a, _) = Ws::connect(&cores.edges[0], &ann.token).await;
    cat_ws.wait_for(|f| shows(f, &group, &ann, "online")).await;
    let (ann_b, _) = Ws::connect(&cores.edges[1], &ann.token).await;
    let (bob_ws, _) = Ws::connect(&cores.edges[0], &bob.token).await;
    cat_ws.wait_for(|f| shows(f, &group, &bob, "online")).await;
    ann_a.close().await;
    ann_b.close().await;
    cat_ws.wait_for(|f| shows(f, &group, &ann, "offline")).await;
    bob_ws.close().await;
    cat_ws.wait_for(|f| shows(f, &group, &bob, "offline")).await;
    let flaps: Vec<Value> = cat_ws
        .pending()
        .into_iter()
        .filter(|f| shows(f, &group, &ann, "offline"))
        .collect();
    assert!(
        flaps.is_empty(),
        "ann went offline once, when her last device left: {flaps:?}"
    );

    // Relationship changes are made at the owner of GLOBAL_KEY; a new
    // friend homed elsewhere is shown online by her own home.
    let orderer = owner(chat_proto::GLOBAL_KEY, &members.ids()).expect("a core");
    let dan = homed_away_from(&api, &members, "dan", orderer).await;
    let (_dan_ws, _) = Ws::connect(&cores.edges[0], &dan.token).await;
    let befriend = |who: &Account, other: &Account, action: &'static str| {
        let path = format!("/api/v1/relationships/{}", other.id);
        let body = serde_json::json!({ "action": action });
        let token = who.token.clone();
        let api = &api;
        async move { api.post(&path, &token, body).await.expect(200) }
    };
    befriend(&cat, &dan, "request").await;
    befriend(&dan, &cat, "accept").await;
    cat_ws
        .wait_for(|f| {
            f["type"] == "presence" && f["user_id"] == dan.id.as_str() && f["status"] == "online"
        })
        .await;
}

#[tokio::test]
async fn presence_follows_its_core_when_that_core_dies() {
    let Some((mut cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let api = Api::new(&cores.edges[0]);
    let ann = api.signup("ann").await;
    let ann_home = owner(ann.user_id(), &members.ids()).expect("a home");
    // Bob watches from a core that stays.
    let bob = homed_away_from(&api, &members, "bob", ann_home).await;
    let group = api.group(&ann, "team", &[&bob]).await;
    let (mut bob_ws, _) = Ws::connect(&cores.edges[1], &bob.token).await;
    watch(&mut bob_ws, &group).await;
    let (ann_ws, _) = Ws::connect(&cores.edges[0], &ann.token).await;
    bob_ws.wait_for(|f| shows(f, &group, &ann, "online")).await;

    // Ann's home dies: her edge announces her session to her next home and
    // bob's session watches the group again, so it is sent the list afresh,
    // with ann online (now, or once her edge told her new home).
    let at = cores.index_of(&members, ann_home);
    cores.kill(at).await;
    let list = bob_ws
        .wait_for(|f| f["type"] == "presence_list" && f["channel_id"] == group.as_str())
        .await;
    if !shows(&list, &group, &ann, "online") {
        bob_ws.wait_for(|f| shows(f, &group, &ann, "online")).await;
    }

    // The new home knows her: ann leaving is news to bob.
    ann_ws.close().await;
    bob_ws.wait_for(|f| shows(f, &group, &ann, "offline")).await;
}
