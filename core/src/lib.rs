//! The chat core: accounts, channels, message ordering and durable storage.
//!
//! Edges reach it only through the `ChatCore` gRPC trait of `chat-proto`,
//! which [`CoreService`] implements; single-node mode calls that trait in
//! memory.

pub mod accounts;
pub mod blocks;
pub mod bot_limit;
pub mod config;
mod convert;
pub mod error;
pub mod hub;
pub mod ids;
pub mod login_guard;
pub mod members;
pub mod mentions;
pub mod ownership;
pub mod pipeline;
pub mod presence;
pub mod principals;
pub mod push;
pub mod replay;
pub mod service;
pub mod store;
pub mod webhooks;

pub use config::CoreConfig;
pub use error::CoreError;
pub use service::CoreService;
pub use store::postgres::{PgStore, PostgresConfig};
pub use store::sqlite::SqliteStore;
