//! A core served by tonic on a loopback TCP port, a raw gRPC client for
//! it, and the calls the core tests share.

#![allow(dead_code)]

use std::sync::Arc;

use chat_core::ownership::{Ownership, SoleOwner};
use chat_core::{CoreConfig, CoreService, SqliteStore};
use chat_proto::v1 as pb;
use chat_proto::v1::chat_core_client::ChatCoreClient;
use chat_proto::v1::chat_core_server::ChatCoreServer;
use chat_proto::{AUTHORIZATION_KEY, ERROR_CODE_KEY};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Request, Status};

/// A raw client of the core.
pub type Client = ChatCoreClient<Channel>;

/// A core on a loopback port, its client, and the data it lives in.
pub async fn start() -> (Client, tempfile::TempDir) {
    start_owning(Arc::new(SoleOwner::new(1))).await
}

/// A core that writes the channels `ownership` gives it.
pub async fn start_owning(ownership: Arc<dyn Ownership>) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open store");
    let config = CoreConfig {
        password_memory_kib: 8,
        password_iterations: 1,
        ..CoreConfig::default()
    };
    let core = CoreService::start_owning(store, config, ownership)
        .await
        .expect("start core");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let server = Server::builder()
        .add_service(ChatCoreServer::from_arc(core))
        .serve_with_incoming(TcpListenerStream::new(listener));
    tokio::spawn(server);
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect to the core");
    let client = ChatCoreClient::new(channel);
    (client, dir)
}

/// `message`, carrying `token` as the edge would.
pub fn with<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("ascii token");
        request.metadata_mut().insert(AUTHORIZATION_KEY, value);
    }
    request
}

pub fn code(status: &Status) -> &str {
    status
        .metadata()
        .get(ERROR_CODE_KEY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub fn refused(result: Result<impl std::fmt::Debug, Status>, grpc: Code, expected: &str) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), grpc, "{status:?}");
    assert_eq!(code(&status), expected, "{status:?}");
}

pub async fn signup(client: &mut Client, username: &str) -> (u64, String) {
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

pub async fn login(client: &mut Client, username: &str) -> String {
    let reply = client
        .login(pb::Credentials {
            username: username.into(),
            password: "correct horse battery".into(),
            ..Default::default()
        })
        .await
        .expect("login")
        .into_inner();
    reply.token
}

pub fn send(actor_id: u64, channel_id: u64, client_msg_id: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        actor_id,
        channel_id,
        text: "hi".into(),
        client_msg_id: client_msg_id.into(),
        origin_session: 0,
    }
}
