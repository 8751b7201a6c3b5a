//! The `[zookeeper]` section of a node's configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where ZooKeeper is and how this node's session with it behaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZkConfig {
    /// Comma-separated `host:port` list of the ensemble, e.g. `127.0.0.1:2181`.
    pub connect: String,
    /// Session timeout asked of ZooKeeper, in milliseconds. A node that
    /// cannot reach ZooKeeper for this long loses its registration (and so
    /// its channels); the server clamps it to its `minSessionTimeout`..
    /// `maxSessionTimeout` (2 and 20 ticks by default).
    pub session_timeout_ms: u64,
    /// The znode under which this cluster keeps everything, e.g. `/chat`;
    /// clusters sharing one ensemble use different chroots.
    pub chroot: String,
}

impl Default for ZkConfig {
    fn default() -> Self {
        Self {
            connect: "127.0.0.1:2181".into(),
            session_timeout_ms: 6000,
            chroot: "/chat".into(),
        }
    }
}

impl ZkConfig {
    /// Checks the values that ZooKeeper would otherwise refuse later.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Err(Error::Config(why));
        if self.connect.trim().is_empty() {
            return bad("zookeeper.connect is empty".into());
        }
        if self.connect.contains('/') {
            return bad(format!(
                "zookeeper.connect {:?} has a path: set zookeeper.chroot instead",
                self.connect
            ));
        }
        if !(100..=600_000).contains(&self.session_timeout_ms) {
            return bad(format!(
                "zookeeper.session_timeout_ms {} is outside 100..=600000",
                self.session_timeout_ms
            ));
        }
        let c = &self.chroot;
        if !c.starts_with('/') || c.len() < 2 || c.ends_with('/') || c.contains("//") {
            return bad(format!(
                "zookeeper.chroot {c:?} must be an absolute znode path other than /, like /chat"
            ));
        }
        if c.split('/').any(|part| part == "." || part == "..") || c.contains('\0') {
            return bad(format!(
                "zookeeper.chroot {c:?} has a . or .. segment or a NUL"
            ));
        }
        Ok(())
    }

    /// The session timeout as a [`Duration`].
    pub fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.session_timeout_ms)
    }

    /// The znode that holds the registrations of `kind`: `{chroot}/nodes/{kind}`.
    pub fn nodes_path(&self, kind: crate::NodeKind) -> String {
        format!("{}/nodes/{}", self.chroot, kind.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let c: ZkConfig = serde_json::from_str("{}").expect("empty section");
        assert_eq!(c, ZkConfig::default());
        c.validate().expect("defaults are valid");
        let c: ZkConfig =
            serde_json::from_str(r#"{"connect":"zk1:2181,zk2:2181","chroot":"/prod"}"#)
                .expect("partial section");
        assert_eq!(c.session_timeout_ms, 6000);
        assert_eq!(c.nodes_path(crate::NodeKind::Edge), "/prod/nodes/edge");
        let err = serde_json::from_str::<ZkConfig>(r#"{"sesion_timeout_ms":1}"#).expect_err("typo");
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn bad_values_are_refused() {
        for (connect, timeout, chroot) in [
            ("", 6000, "/chat"),
            ("zk:2181/chat", 6000, "/chat"),
            ("zk:2181", 10, "/chat"),
            ("zk:2181", 6000, "/"),
            ("zk:2181", 6000, "chat"),
            ("zk:2181", 6000, "/chat/"),
            ("zk:2181", 6000, "/a//b"),
            ("zk:2181", 6000, "/a/../b"),
        ] {
            let c = ZkConfig {
                connect: connect.into(),
                session_timeout_ms: timeout,
                chroot: chroot.into(),
            };
            assert!(c.validate().is_err(), "{c:?} passed");
        }
    }
}
