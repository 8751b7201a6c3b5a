//! Small helpers over `zookeeper-client` shared by registration and membership.

use std::time::Duration;

use zookeeper_client::{Acls, Client, CreateMode, CreateOptions};

use crate::error::zk;
use crate::{Error, ZkConfig};

/// Extra time, beyond the session timeout, that a connect may take.
const CONNECT_SLACK: Duration = Duration::from_secs(2);

/// Opens a new session with the ensemble.
pub(crate) async fn connect(config: &ZkConfig) -> Result<Client, Error> {
    config.validate()?;
    let timeout = config.session_timeout();
    let connect = Client::connector()
        .with_session_timeout(timeout)
        .connect(&config.connect);
    match tokio::time::timeout(timeout + CONNECT_SLACK, connect).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(source)) => Err(Error::Connect {
            connect: config.connect.clone(),
            source,
        }),
        Err(_) => Err(Error::Timeout {
            op: "connect",
            after: timeout + CONNECT_SLACK,
        }),
    }
}

/// Options of the persistent directories (open ACL: the ensemble is
/// assumed reachable by the cluster's nodes only).
pub(crate) fn directory() -> CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

/// Options of a registration znode.
pub(crate) fn registration() -> CreateOptions<'static> {
    CreateMode::EphemeralSequential.with_acls(Acls::anyone_all())
}

/// Creates `path` and its missing parents (persistent), like `mkdir -p`.
pub(crate) async fn ensure_dir(client: &Client, path: &str) -> Result<(), Error> {
    client
        .mkdir(path, &directory())
        .await
        .map_err(zk("mkdir", path))
}

/// The prefix of registration znode names; ZooKeeper appends the sequence.
pub(crate) const NAME_PREFIX: &str = "n-";

/// The node id in a registration znode's name (`n-0000000042` → 42).
pub(crate) fn parse_id(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(NAME_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A creation zxid as an epoch (zxids are positive).
pub(crate) fn epoch(czxid: i64) -> Result<u64, Error> {
    u64::try_from(czxid)
        .ok()
        .filter(|&e| e > 0)
        .ok_or_else(|| Error::Unexpected(format!("zxid {czxid} is not positive")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_names() {
        assert_eq!(parse_id("n-0000000042"), Some(42));
        assert_eq!(parse_id("n-0000000000"), Some(0));
        assert_eq!(parse_id("n-2147483648"), Some(2_147_483_648));
        for bad in ["n-", "x-0000000001", "n-+1", "n--1", "0000000001", "n-12a"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
        assert!(epoch(0).is_err());
        assert_eq!(epoch(0x1_0000_0005).ok(), Some(0x1_0000_0005));
    }
}
