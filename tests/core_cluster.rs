//! Core nodes sharing the channels through ZooKeeper: each channel is
//! served by its owner alone, another core answers `not_owner` naming it,
//! and an owner paused past its session timeout commits nothing once its
//! channels moved, and a token revoked at one core is refused at all
//! (real `chat-core` processes, ZooKeeper and PostgreSQL).

mod support;

use std::time::Duration;

use chat_discovery::ownership::owner;
use chat_proto::v1 as pb;
use chat_proto::v1::chat_core_client::ChatCoreClient;
use chat_proto::{AUTHORIZATION_KEY, ERROR_CODE_KEY, OWNER_KEY};
use nix::sys::signal::Signal;
use support::STEP;
use support::api::Api;
use support::cores::{Cores, services};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

type Client = ChatCoreClient<Channel>;

fn with<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value = format!("Bearer {token}").parse().expect("ascii token");
    request.metadata_mut().insert(AUTHORIZATION_KEY, value);
    request
}

fn meta<'a>(status: &'a Status, key: &str) -> &'a str {
    status
        .metadata()
        .get(key)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn signup(client: &mut Client, username: &str) -> (u64, String) {
    let reply = client
        .signup(pb::Credentials {
            username: username.into(),
            password: "correct horse battery".into(),
            ..Default::default()
        })
        .await
        .expect("signup")
        .into_inner();
    (reply.user.expect("user").id, reply.token)
}

fn send(actor_id: u64, channel_id: u64, text: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        actor_id,
        channel_id,
        text: text.into(),
        client_msg_id: text.into(),
        origin_session: 0,
    }
}

/// The texts of `channel_id` at its owner `client`, checking ids increase.
async fn texts(client: &mut Client, token: &str, actor_id: u64, channel_id: u64) -> Vec<String> {
    let page = client
        .history(with(
            pb::HistoryRequest {
                actor_id,
                channel_id,
                limit: 100,
                anchor: None,
            },
            token,
        ))
        .await
        .expect("history at the owner")
        .into_inner();
    let ids: Vec<u64> = page.messages.iter().map(|m| m.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    page.messages.into_iter().map(|m| m.text).collect()
}

/// A user and a 1:1 channel with another, made through `client`.
async fn direct(client: &mut Client) -> (u64, String, u64) {
    let (ann, token) = signup(client, "ann").await;
    let (bob, _) = signup(client, "bob").await;
    let channel = client
        .open_direct(with(
            pb::OpenDirectRequest {
                actor_id: ann,
                peer_id: bob,
            },
            &token,
        ))
        .await
        .expect("open a 1:1 at any core")
        .into_inner()
        .id;
    (ann, token, channel)
}

/// The JSON body of the 503 with which the edge at `url` refuses a
/// WebSocket upgrade.
async fn refused_upgrade(url: &str) -> serde_json::Value {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(refused)) => {
            assert_eq!(refused.status(), 503, "{refused:?}");
            serde_json::from_slice(refused.body().as_deref().unwrap_or_default())
                .expect("a JSON body")
        }
        other => panic!("an upgrade at {url} was not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_channel_is_served_by_its_owner_alone() {
    let Some(zk) = services() else { return };
    let cores = Cores::start(&zk, 2).await;
    let members = cores.members_until("two cores", |m| m.len() == 2).await;
    let mut any = cores.nodes[0].client().await;
    let (ann, token, channel) = direct(&mut any).await;
    let owner_id = owner(channel, &members.ids()).expect("an owner");
    let at_owner = cores.index_of(&members, owner_id);
    let mut owner_client = cores.nodes[at_owner].client().await;
    let mut other = cores.nodes[1 - at_owner].client().await;

    let status = other
        .send_message(with(send(ann, channel, "elsewhere"), &token))
        .await
        .expect_err("not the owner");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(meta(&status, ERROR_CODE_KEY), "not_owner", "{status:?}");
    assert_eq!(meta(&status, OWNER_KEY), owner_id.to_string(), "{status:?}");
    let read = other
        .history(with(
            pb::HistoryRequest {
                actor_id: ann,
                channel_id: channel,
                limit: 10,
                anchor: None,
            },
            &token,
        ))
        .await
        .expect_err("reads are the owner's too");
    assert_eq!(meta(&read, ERROR_CODE_KEY), "not_owner", "{read:?}");

    owner_client
        .send_message(with(send(ann, channel, "here"), &token))
        .await
        .expect("the owner writes");
    assert_eq!(
        texts(&mut owner_client, &token, ann, channel).await,
        ["here"]
    );
}

/// Sends at `client` until one is written (the core's view of the
/// membership may lag the test's), within the step bound.
async fn send_until_written(client: &mut Client, token: &str, req: pb::SendMessageRequest) {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match client.send_message(with(req.clone(), token)).await {
            Ok(_) => return,
            Err(status) if meta(&status, ERROR_CODE_KEY) == "not_owner" => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never became the owner: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("send failed: {status:?}"),
        }
    }
}

#[tokio::test]
async fn a_paused_owner_commits_nothing_for_channels_it_lost() {
    let Some(zk) = services() else { return };
    let cores = Cores::start(&zk, 2).await;
    let members = cores.members_until("two cores", |m| m.len() == 2).await;
    let mut any = cores.nodes[0].client().await;
    let (ann, token, channel) = direct(&mut any).await;
    let old_id = owner(channel, &members.ids()).expect("an owner");
    let old = cores.index_of(&members, old_id);
    let mut old_client = cores.nodes[old].client().await;
    let mut new_client = cores.nodes[1 - old].client().await;
    old_client
        .send_message(with(send(ann, channel, "before"), &token))
        .await
        .expect("the owner writes");

    cores.nodes[old].pause().await;
    // A send the paused owner holds: it reads it only after SIGCONT.
    let late = {
        let (mut client, token) = (old_client.clone(), token.clone());
        tokio::spawn(async move {
            client
                .send_message(with(send(ann, channel, "late"), &token))
                .await
        })
    };
    cores
        .members_until("the paused core's session to expire", |m| {
            m.get(old_id).is_none()
        })
        .await;
    send_until_written(&mut new_client, &token, send(ann, channel, "after")).await;

    cores.nodes[old].signal(Signal::SIGCONT);
    let status = tokio::time::timeout(STEP, late)
        .await
        .expect("the resumed core answers")
        .expect("task")
        .expect_err("the old owner commits nothing");
    assert_eq!(meta(&status, ERROR_CODE_KEY), "not_owner", "{status:?}");
    // The resumed core registers again, with a new id, and may win the
    // channel back: read it where it is owned now.
    let now = cores
        .members_until("the resumed core to register again", |m| {
            m.len() == 2 && m.get(old_id).is_none()
        })
        .await;
    let owner_now = owner(channel, &now.ids()).expect("an owner");
    let mut reader = cores.nodes[cores.index_of(&now, owner_now)].client().await;
    let deadline = tokio::time::Instant::now() + STEP;
    let history = loop {
        let page = reader
            .history(with(
                pb::HistoryRequest {
                    actor_id: ann,
                    channel_id: channel,
                    limit: 100,
                    anchor: None,
                },
                &token,
            ))
            .await;
        match page {
            Ok(page) => break page.into_inner().messages,
            Err(status) if meta(&status, ERROR_CODE_KEY) == "not_owner" => {
                assert!(tokio::time::Instant::now() < deadline, "{status:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("history: {status:?}"),
        }
    };
    let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["before", "after"],
        "nothing of the old owner after the move"
    );
}

/// The phone's token, asked of every core: each answers with the settings
/// (and caches the principal) or refuses it.
async fn settings_everywhere(cores: &Cores, actor_id: u64, token: &str) -> Vec<Result<(), Code>> {
    let mut answers = Vec::new();
    for core in &cores.nodes {
        let mut client = core.client().await;
        let answer = client
            .get_settings(with(pb::UserRequest { actor_id }, token))
            .await;
        answers.push(answer.map(drop).map_err(|s| s.code()));
    }
    answers
}

#[tokio::test]
async fn a_token_revoked_through_an_edge_is_refused_at_every_core_at_once() {
    let Some(zk) = services() else { return };
    let mut cores = Cores::start(&zk, 3).await;
    cores.members_until("three cores", |m| m.len() == 3).await;
    let edge = cores.add_edge(&[]).await;
    let api = Api::new(&cores.edges[edge]);
    let ann = api.signup("ann").await;
    let phone = api.device(&ann, "phone").await;
    let ann_id: u64 = ann.id.parse().expect("numeric id");
    // Every core has the phone's principal in its cache now.
    assert_eq!(
        settings_everywhere(&cores, ann_id, &phone.token).await,
        vec![Ok(()); 3]
    );

    // Revoked at one core, which the edge chose: the edge tells the others
    // before it answers, so none passes a cached copy afterwards.
    api.logout_all(&ann.token).await.expect(204);
    assert_eq!(
        settings_everywhere(&cores, ann_id, &phone.token).await,
        vec![Err(Code::Unauthenticated); 3]
    );
}

/// `GET /api/v1/discover?region=…` at `api`'s edge, asked again until
/// `done` holds for the regions and URLs listed, best first (registrations
/// and published loads reach the edge within a ZooKeeper notification and
/// a load interval). At most 60 tries, one every 100 ms.
async fn discover_until(api: &Api, region: &str, what: &str, done: impl Fn(&[String]) -> bool) {
    let path = format!("/api/v1/discover?region={region}");
    let mut urls = Vec::new();
    for _ in 0..60 {
        let reply = api
            .call(reqwest::Method::GET, &path, None, None)
            .await
            .expect(200);
        urls = reply["edges"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e["region"].as_str().unwrap_or(""),
                    e["websocket_url"].as_str().unwrap_or("")
                )
            })
            .collect();
        if done(&urls) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: discovery still lists {urls:?}");
}

#[tokio::test]
async fn a_client_is_sent_to_its_regions_edges_first_and_elsewhere_when_they_are_gone_or_full() {
    let Some(zk) = services() else { return };
    let mut cores = Cores::start(&zk, 1).await;
    cores.members_until("one core", |m| m.len() == 1).await;
    let a = cores.add_edge(&[("CHAT_REGION", "a")]).await;
    cores.add_edge(&[("CHAT_REGION", "a")]).await;
    // Region b's edge takes one connection at most.
    let b = cores
        .add_edge(&[("CHAT_REGION", "b"), ("CHAT_EDGE__MAX_CONNECTIONS", "1")])
        .await;
    let api = Api::new(&cores.edges[a]);
    let b_url = format!("b:{}", cores.edges[b].ws_url());
    discover_until(&api, "b", "b's edge first", |urls| {
        urls.len() == 3 && urls[0] == b_url && urls[1..].iter().all(|u| u.starts_with("a:"))
    })
    .await;
    discover_until(&api, "a", "a's edges first", |urls| {
        urls.len() == 3 && urls[2] == b_url
    })
    .await;

    // Full: b's edge refuses another connection, and discovery leaves it out.
    let ann = api.signup("ann").await;
    let (_held, _) = support::Ws::connect(&cores.edges[b], &ann.token).await;
    let body = refused_upgrade(&cores.edges[b].ws_url()).await;
    assert_eq!(body["error"]["code"], "too_many_connections");
    let named = body["error"]["alternatives"]
        .as_array()
        .expect("alternatives");
    let a_urls: Vec<String> = [0, 1].iter().map(|i| cores.edges[*i].ws_url()).collect();
    assert_eq!(named.len(), 2, "{body}");
    assert!(
        named.iter().all(|u| a_urls.iter().any(|a| u == a.as_str())),
        "{body}"
    );
    discover_until(&api, "b", "b's full edge left out", |urls| {
        urls.len() == 2 && urls.iter().all(|u| u.starts_with("a:"))
    })
    .await;

    // Gone: its registration ends with it.
    cores.edges.remove(b).kill().await;
    discover_until(&api, "b", "b's dead edge left out", |urls| {
        urls.len() == 2 && urls.iter().all(|u| u.starts_with("a:"))
    })
    .await;
    let bad = api
        .call(
            reqwest::Method::GET,
            "/api/v1/discover?region=no%20spaces",
            None,
            None,
        )
        .await;
    bad.expect_error(400, "invalid_region");
}

#[tokio::test]
async fn a_draining_edge_sends_its_clients_to_another_and_they_lose_nothing() {
    let Some(zk) = services() else { return };
    let mut cores = Cores::start(&zk, 1).await;
    cores.members_until("one core", |m| m.len() == 1).await;
    let a = cores.add_edge(&[]).await;
    let b = cores.add_edge(&[]).await;
    let b_url = cores.edges[b].ws_url();
    let at_a = Api::new(&cores.edges[a]);
    discover_until(&at_a, "", "edge a knows edge b", |urls| urls.len() == 2).await;
    let api = Api::new(&cores.edges[b]);
    let (ann, bob) = (api.signup("ann").await, api.signup("bob").await);
    let dm = api.direct(&ann, &bob).await;
    let (mut ann_ws, _) = support::Ws::connect(&cores.edges[a], &ann.token).await;
    let (mut bob_ws, _) = support::Ws::connect(&cores.edges[b], &bob.token).await;
    let before = ann_ws.send_message(&dm, "before", "before").await;
    let seen: u64 = before["message"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("an acked id");

    // SIGTERM: a tells its sessions where to go, and waits for them.
    cores.edges[a].signal(Signal::SIGTERM);
    let told = ann_ws.wait_type("reconnect").await;
    assert_eq!(told["alternatives"], serde_json::json!([b_url]), "{told}");
    assert_eq!(told["reason"], "draining");
    // Meanwhile a newcomer is turned away, and told where to go too.
    let body = refused_upgrade(&cores.edges[a].ws_url()).await;
    assert_eq!(body["error"]["code"], "shutting_down");
    assert_eq!(body["error"]["alternatives"], serde_json::json!([b_url]));
    let during = bob_ws.send_message(&dm, "during", "during").await;

    // Ann resumes at b from what she saw: the message sent while she moved
    // comes once, and nothing she had comes again.
    ann_ws.close().await;
    let cursors = support::Cursors::from([(dm.parse().expect("numeric id"), seen)]);
    let (mut ann_b, _) = support::Ws::resume(&cores.edges[b], &ann.token, &cursors).await;
    let after = bob_ws.send_message(&dm, "after", "after").await;
    let got = ann_b.messages(2).await;
    assert_eq!(
        got,
        vec![during["message"].clone(), after["message"].clone()]
    );

    // With its one session gone, a stops waiting and exits cleanly.
    let (status, log) = cores.edges.remove(a).terminate().await;
    assert!(status.success(), "{log}");
    assert!(
        log.contains("drained: every session left"),
        "the drain ended when ann left, not at its timeout: {log}"
    );
}
