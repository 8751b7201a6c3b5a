//! What text the server accepts, the same way on every surface: blank text,
//! control characters, names, keys, and fields it does not know.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::api::str_of;
use support::{Api, Server, Ws};

#[tokio::test]
async fn blank_text_and_control_characters_are_refused_everywhere() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut ws, _) = Ws::connect(&server, &ann.token).await;
    let texts = [
        (" \n\t ", "text_empty"),
        ("a\u{0}b", "invalid_text"),
        ("windows\r\nline", "invalid_text"),
        ("bell\u{7}", "invalid_text"),
        ("\u{9b}csi", "invalid_text"),
    ];
    let path = format!("/api/v1/channels/{dm}/messages");
    for (n, (text, code)) in texts.iter().enumerate() {
        let key = format!("t-{n}");
        let refused = ws.send_message(&dm, &key, text).await;
        assert_eq!(
            (&refused["type"], &refused["code"]),
            (&json!("error"), &json!(code)),
            "{text:?}"
        );
        assert!(!refused["message"].as_str().unwrap_or("").is_empty());
        api.post(&path, &ann.token, json!({"text": text}))
            .await
            .expect_error(400, code);
    }
    let bad_key = ws.send_message(&dm, "k\u{1b}", "x").await;
    assert_eq!(bad_key["code"], "invalid_client_msg_id");
    api.post(
        &path,
        &ann.token,
        json!({"text": "x", "client_msg_id": "a\nb"}),
    )
    .await
    .expect_error(400, "invalid_client_msg_id");

    // Line feeds and tabs are text; they arrive as sent.
    let ack = ws.send_message(&dm, "ok", "line one\n\tline two").await;
    assert_eq!(ack["message"]["text"], "line one\n\tline two");
    let sent = str_of(&ack["message"]["id"]);
    let edit = format!("{path}/{sent}");
    api.patch(&edit, &ann.token, json!({"text": "  "}))
        .await
        .expect_error(400, "text_empty");
    api.patch(&edit, &ann.token, json!({"text": "x\u{0}"}))
        .await
        .expect_error(400, "invalid_text");
    let history = api.all_messages(&ann, &dm).await;
    assert_eq!(history.len(), 1, "nothing refused was stored");

    // Names follow the profile fields' rule: no control characters at all.
    for name in ["  ", "two\nlines", "tab\there"] {
        api.post("/api/v1/channels", &ann.token, json!({"name": name}))
            .await
            .expect_error(400, "invalid_channel_name");
    }
    let group = api
        .post(
            "/api/v1/channels",
            &ann.token,
            json!({"name": "  spaced  "}),
        )
        .await
        .expect(201);
    assert_eq!(group["name"], "spaced");
    api.login("ann", support::api::PASSWORD, Some("phone\u{0}"))
        .await
        .expect_error(400, "invalid_device");
}

/// `{channel_id}`-style path parameters filled with real ids.
fn fill(path: &str, ids: &[(&str, &str)]) -> String {
    ids.iter().fold(path.to_owned(), |p, (name, id)| {
        p.replace(&format!("{{{name}}}"), id)
    })
}

#[tokio::test]
async fn unknown_fields_are_refused_by_every_endpoint_that_takes_a_body() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let group = api.group(&ann, "team", &[&bob]).await;
    let (mut ws, _) = Ws::connect(&server, &ann.token).await;
    let ack = ws.send_message(&group, "k", "x").await;
    let message = str_of(&ack["message"]["id"]);
    let session = str_of(
        &api.get("/api/v1/auth/sessions", &ann.token)
            .await
            .expect(200)["sessions"][0]["id"],
    );
    let ids = [
        ("channel_id", group.as_str()),
        ("user_id", bob.id.as_str()),
        ("message_id", message.as_str()),
        ("bot_id", bob.id.as_str()),
        ("session_id", session.as_str()),
    ];
    let doc: Value = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let mut checked = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            if op.get("requestBody").is_none() {
                continue;
            }
            let method: Method = method.to_uppercase().parse().expect("method");
            let url = fill(path, &ids);
            let reply = api
                .call(
                    method.clone(),
                    &url,
                    Some(&ann.token),
                    Some(json!({"zzz_unknown": 1})),
                )
                .await;
            let message = reply.expect_error(400, "invalid_body");
            assert!(
                message.contains("zzz_unknown"),
                "{method} {path}: {message}"
            );
            checked.push(format!("{method} {path}"));
        }
    }
    assert!(
        checked.len() >= 14,
        "every body-taking endpoint: {checked:?}"
    );
    api.get(
        &format!("/api/v1/channels/{dm}/messages?limit=5&limt=6"),
        &ann.token,
    )
    .await
    .expect_error(400, "invalid_query");
    // Nothing was changed by any of it.
    assert_eq!(
        api.get("/api/v1/users/me", &ann.token).await.expect(200)["display_name"],
        ""
    );
}
