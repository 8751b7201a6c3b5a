//! The crate's one error type.

use std::time::Duration;

/// What can go wrong talking to ZooKeeper or reading what is there.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `[zookeeper]` configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// No session could be established with the ensemble.
    #[error("cannot connect to ZooKeeper at {connect}: {source}")]
    Connect {
        /// The connect string tried.
        connect: String,
        /// What the client library said.
        #[source]
        source: zookeeper_client::Error,
    },
    /// A ZooKeeper operation failed.
    #[error("ZooKeeper {op} {path}: {source}")]
    Zk {
        /// The operation, e.g. `create`.
        op: &'static str,
        /// The znode it was on.
        path: String,
        /// What the client library (or the server) said.
        #[source]
        source: zookeeper_client::Error,
    },
    /// An operation did not finish in time.
    #[error("ZooKeeper {op} did not finish within {after:?}")]
    Timeout {
        /// What was waited for.
        op: &'static str,
        /// How long.
        after: Duration,
    },
    /// A node's info could not be encoded or decoded as JSON.
    #[error("node info at {path}: {source}")]
    Json {
        /// The znode.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// ZooKeeper answered something this code does not expect.
    #[error("unexpected answer from ZooKeeper: {0}")]
    Unexpected(String),
}

pub(crate) fn zk(op: &'static str, path: &str) -> impl FnOnce(zookeeper_client::Error) -> Error {
    move |source| Error::Zk {
        op,
        path: path.to_owned(),
        source,
    }
}
