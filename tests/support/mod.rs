//! Helpers for end-to-end tests: the real `chat` binary, a REST client and
//! a WebSocket client, all over loopback sockets.

#![allow(dead_code, unused_imports)]

pub mod api;
pub mod bot_receiver;
pub mod cluster;
pub mod cores;
pub mod proxy;
pub mod push_apis;
pub mod push_service;
pub mod server;
pub mod udp_relay;
pub mod ws;
pub mod wt;

pub use api::{Account, Api, Reply};
pub use cluster::Cluster;
pub use proxy::Proxy;
pub use server::{DataDir, Server};
pub use ws::{Closed, Cursors, Transport, Ws};

use std::time::Duration;

/// How long any single step of a test may wait before it fails.
pub const STEP: Duration = Duration::from_secs(15);
