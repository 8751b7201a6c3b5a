//! gRPC definitions between edge and core.
//!
//! The Rust code in `src/gen` is generated from `proto/` and checked in, so
//! that builds need no `protoc`; `tests/codegen.rs` regenerates it and fails
//! when it differs.

/// Version 1 of the core service, package `chat.core.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    include!("gen/chat.core.v1.rs");
}

pub mod link;
pub mod rules;

use std::pin::Pin;

/// The gRPC metadata key that carries a stable error code (e.g. `channel_not_found`).
pub const ERROR_CODE_KEY: &str = "chat-error-code";

/// The gRPC metadata key of the caller's credential on calls made on behalf
/// of a user: `Bearer <token>`, as in HTTP.
pub const AUTHORIZATION_KEY: &str = "authorization";

/// The gRPC metadata key that names, with `not_owner`, the core node id
/// believed to own the channel.
pub const OWNER_KEY: &str = "chat-owner";

/// The key whose owner, in a cluster, keeps the login limits and orders
/// relationship changes: a core that does not own it answers those calls
/// `not_owner`. (Presence lives at each user's home, the owner of their id.)
pub const GLOBAL_KEY: u64 = 0;

/// The gRPC metadata key that says how long to wait before retrying, in ms.
pub const RETRY_AFTER_KEY: &str = "chat-retry-after-ms";

/// The stream of events a core sends to one edge.
pub type EventStream = Pin<
    Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<v1::Event, tonic::Status>> + Send>,
>;
