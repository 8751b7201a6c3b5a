//! A small REST client for the server's JSON API.

use reqwest::Method;
use serde_json::{Value, json};

use super::Server;

/// A REST client bound to one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// A signed-up user and their token.
#[derive(Debug, Clone)]
pub struct Account {
    /// User id (decimal string, as on the wire).
    pub id: String,
    /// Username.
    pub username: String,
    /// Bearer token.
    pub token: String,
}

impl Account {
    /// The user id as a number.
    pub fn user_id(&self) -> u64 {
        self.id.parse().expect("numeric user id")
    }
}

/// An HTTP answer: status and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body as JSON.
    pub body: Value,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The body, after checking the status.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Checks an error answer's status and code.
    pub fn expect_error(self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        let message = self.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty(),
            "error without a message: {}",
            self.body
        );
        message.to_owned()
    }
}

/// The password of every test account.
pub const PASSWORD: &str = "correct horse battery";

impl Api {
    /// A client for `server`.
    pub fn new(server: &Server) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: server.url(""),
        }
    }

    /// Sends one request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("HTTP request");
        Self::reply(resp).await
    }

    /// Sends a raw body with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        Self::reply(req.send().await.expect("HTTP request")).await
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("HTTP body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// PATCH JSON with a token.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// PUT JSON with a token.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// DELETE with a token.
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Ends every session of the holder of `token`.
    pub async fn logout_all(&self, token: &str) -> Reply {
        self.call(Method::POST, "/api/v1/auth/logout-all", Some(token), None)
            .await
    }

    /// Signs up `username` with a fixed good password.
    pub async fn signup(&self, username: &str) -> Account {
        let body = json!({"username": username, "password": PASSWORD});
        let reply = self
            .call(Method::POST, "/api/v1/auth/signup", None, Some(body))
            .await
            .expect(201);
        Account {
            id: str_of(&reply["user"]["id"]),
            username: username.to_owned(),
            token: str_of(&reply["token"]),
        }
    }

    /// Logs in as `username` with `password`, naming the device if given.
    pub async fn login(&self, username: &str, password: &str, device: Option<&str>) -> Reply {
        let mut body = json!({"username": username, "password": password});
        if let Some(device) = device {
            body["device"] = json!(device);
        }
        self.call(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
    }

    /// Logs in as `account` again with the test password: a second device.
    pub async fn device(&self, account: &Account, device: &str) -> Account {
        let reply = self
            .login(&account.username, PASSWORD, Some(device))
            .await
            .expect(200);
        Account {
            token: str_of(&reply["token"]),
            ..account.clone()
        }
    }

    /// Opens (or finds) the 1:1 channel between `a` and `b`; returns its id.
    pub async fn direct(&self, a: &Account, b: &Account) -> String {
        let reply = self
            .post(
                "/api/v1/channels/direct",
                &a.token,
                json!({"user_id": b.id}),
            )
            .await
            .expect(200);
        str_of(&reply["id"])
    }

    /// Creates a group owned by `owner` with `members`; returns its id.
    pub async fn group(&self, owner: &Account, name: &str, members: &[&Account]) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let reply = self
            .post(
                "/api/v1/channels",
                &owner.token,
                json!({"name": name, "member_ids": ids}),
            )
            .await
            .expect(201);
        str_of(&reply["id"])
    }

    /// One page of history; `query` is e.g. `"limit=10&before=123"`.
    pub async fn history(&self, who: &Account, channel: &str, query: &str) -> Value {
        self.get(
            &format!("/api/v1/channels/{channel}/messages?{query}"),
            &who.token,
        )
        .await
        .expect(200)
    }

    /// Every message of a channel, oldest first, read backwards page by page.
    pub async fn all_messages(&self, who: &Account, channel: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut query = "limit=100".to_owned();
        loop {
            let page = self.history(who, channel, &query).await;
            let messages = page["messages"].as_array().cloned().unwrap_or_default();
            let Some(first) = messages.first() else { break };
            query = format!("limit=100&before={}", str_of(&first["id"]));
            let more = page["has_more_before"] == true;
            all.splice(0..0, messages);
            if !more {
                break;
            }
        }
        all
    }
}

/// A JSON string field as an owned string (panics when it is not a string).
pub fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_owned()
}
