//! Bot accounts on a real server: a user creates a bot, adds it to a
//! channel, and the bot takes part over the same WebSocket protocol with
//! its token alone; it reads nothing it was not added to, cannot do what
//! only a person may, and its tokens stop working at once when rotated or
//! revoked. (The same bodies run against the cluster topologies:
//! scripts/test.sh.)

mod support;

use serde_json::{Value, json};
use support::api::str_of;
use support::{Account, Api, Server, Ws};

const BOTS: &str = "/api/v1/bots";

/// Creates bot `username` for `owner`: the bot as an account, and the reply.
async fn bot(api: &Api, owner: &Account, username: &str) -> (Account, Value) {
    let body = json!({"username": username, "display_name": "Deploys"});
    let reply = api.post(BOTS, &owner.token, body).await.expect(201);
    let account = Account {
        id: str_of(&reply["user"]["id"]),
        username: username.to_owned(),
        token: str_of(&reply["token"]),
    };
    (account, reply)
}

async fn add(api: &Api, owner: &Account, channel: &str, who: &Account) {
    let path = format!("/api/v1/channels/{channel}/members/{}", who.id);
    api.put(&path, &owner.token, json!({})).await.expect(200);
}

#[tokio::test]
async fn a_bot_added_to_a_channel_reads_and_answers_over_the_websocket() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let (deploy, reply) = bot(&api, &ann, "deploy-bot").await;
    assert_eq!(reply["user"]["bot_owner_id"], json!(ann.id));
    assert_eq!(reply["user"]["display_name"], "Deploys");
    assert_eq!(reply["session"]["device"], "bot");
    // Everyone sees it is a bot, and whose; a person has no owner.
    let seen = api
        .get(&format!("/api/v1/users/{}", deploy.id), &bob.token)
        .await
        .expect(200);
    assert_eq!(seen["bot_owner_id"], json!(ann.id));
    let person = api.get("/api/v1/users/me", &bob.token).await.expect(200);
    assert!(person.get("bot_owner_id").is_none(), "{person}");
    let mine = api.get(BOTS, &ann.token).await.expect(200);
    assert_eq!(mine["bots"][0]["id"], json!(deploy.id));
    assert_eq!(
        api.get(BOTS, &bob.token).await.expect(200)["bots"],
        json!([])
    );

    let team = api.group(&ann, "team", &[&bob]).await;
    add(&api, &ann, &team, &deploy).await;
    let (mut bot_ws, ready) = Ws::connect(&server, &deploy.token).await;
    assert_eq!(ready["user"]["bot_owner_id"], json!(ann.id));
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    bob_ws.send_message(&team, "b-1", "/deploy main").await;
    let got = bot_ws.wait_type("message").await;
    assert_eq!(
        (&got["message"]["text"], &got["message"]["sender_id"]),
        (&json!("/deploy main"), &json!(bob.id))
    );
    let ack = bot_ws.send_message(&team, "d-1", "deploying main").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let answer = bob_ws
        .wait_for(|f| f["type"] == "message" && f["message"]["sender_id"] == deploy.id.as_str())
        .await;
    assert_eq!(
        (&answer["message"]["text"], &answer["message"]["sender_id"]),
        (&json!("deploying main"), &json!(deploy.id))
    );
}

#[tokio::test]
async fn a_bot_outside_a_channel_is_denied_and_cannot_act_as_a_person() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let (deploy, _) = bot(&api, &ann, "deploy-bot").await;
    let private = api.group(&bob, "private", &[&ann]).await;
    let history = format!("/api/v1/channels/{private}/messages");
    api.get(&history, &deploy.token)
        .await
        .expect_error(404, "channel_not_found");
    let send = json!({"text": "let me in"});
    api.post(&history, &deploy.token, send)
        .await
        .expect_error(404, "channel_not_found");

    api.post(BOTS, &deploy.token, json!({"username": "bot-of-bot"}))
        .await
        .expect_error(403, "bots_cannot");
    let befriend = format!("/api/v1/relationships/{}", ann.id);
    api.post(&befriend, &deploy.token, json!({"action": "request"}))
        .await
        .expect_error(403, "bots_cannot");
    let password = json!({"current_password": "x", "new_password": "a new password"});
    api.post("/api/v1/auth/password", &deploy.token, password)
        .await
        .expect_error(403, "bots_cannot");
    // A bot has no password: no login opens it.
    let login = api.login("deploy-bot", "", None).await;
    assert_eq!(login.status, 401, "{:?}", login.body);

    // Only its owner manages it; others are told there is no such bot.
    let rotate = format!("{BOTS}/{}/token", deploy.id);
    api.post(&rotate, &bob.token, json!({}))
        .await
        .expect_error(404, "bot_not_found");
    api.delete(&rotate, &bob.token)
        .await
        .expect_error(404, "bot_not_found");
    // Bad names and too many bots are refused with what to fix.
    api.post(BOTS, &ann.token, json!({"username": "no spaces"}))
        .await
        .expect_error(400, "invalid_username");
    api.post(BOTS, &ann.token, json!({"username": "bob"}))
        .await
        .expect_error(409, "username_taken");
    api.post(BOTS, &ann.token, json!({"username": "x-bot", "extra": 1}))
        .await
        .expect_error(400, "invalid_body");
}

#[tokio::test]
async fn a_rotated_or_revoked_bot_token_stops_working_at_once() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let (deploy, _) = bot(&api, &ann, "deploy-bot").await;
    let (mut live, _) = Ws::connect(&server, &deploy.token).await;

    let rotate = format!("{BOTS}/{}/token", deploy.id);
    let rotated = api.post(&rotate, &ann.token, json!({})).await.expect(200);
    let new_token = str_of(&rotated["token"]);
    let (closed, _) = live.closed().await;
    assert_eq!(closed.code, 4001, "the live session closes at once");
    api.get("/api/v1/users/me", &deploy.token)
        .await
        .expect_error(401, "invalid_token");
    let me = api.get("/api/v1/users/me", &new_token).await.expect(200);
    assert_eq!(me["id"], json!(deploy.id));

    let (mut again, _) = Ws::connect(&server, &new_token).await;
    api.delete(&rotate, &ann.token).await.expect(204);
    assert_eq!(again.closed().await.0.code, 4001);
    api.get("/api/v1/users/me", &new_token)
        .await
        .expect_error(401, "invalid_token");
}
