//! Membership and discovery of the cluster's nodes in ZooKeeper, and which
//! core node owns a channel.
//!
//! Every core and edge node [registers](Registration::register) itself;
//! anyone can [watch the live nodes](watch_members) of a kind; channels (and
//! user-scoped state, by user id) map to live core nodes by rendezvous
//! hashing ([`ownership`]). The client is the pure-Rust `zookeeper-client`
//! crate on tokio.
//!
//! # Configuration (`[zookeeper]` of a node's config file)
//!
//! | key | default | meaning |
//! | --- | --- | --- |
//! | `connect` | `127.0.0.1:2181` | the ensemble, `host:port[,host:port…]` (no path: use `chroot`) |
//! | `session_timeout_ms` | `6000` | the session timeout asked; the server clamps it to its `minSessionTimeout`..`maxSessionTimeout` (by default 2 and 20 `tickTime`s, 4–40 s at `tickTime=2000`: set those for shorter sessions) |
//! | `chroot` | `/chat` | the znode that holds this cluster; clusters sharing an ensemble use different chroots |
//!
//! The session timeout is the bound on how long a dead or paused node keeps
//! its registration (and so its channels) before the others take over, and
//! also how long a node may be cut off from ZooKeeper before it gives its
//! registration up.
//!
//! # Znode layout
//!
//! ```text
//! {chroot}                          persistent, created when missing
//! {chroot}/nodes                    persistent
//! {chroot}/nodes/core               persistent
//! {chroot}/nodes/core/n-0000000007  EPHEMERAL_SEQUENTIAL, one per live core node
//! {chroot}/nodes/edge               persistent
//! {chroot}/nodes/edge/n-0000000003  EPHEMERAL_SEQUENTIAL, one per live edge node
//! ```
//!
//! A registration's data is JSON ([`NodeInfo`]):
//!
//! ```json
//! {"kind":"core","region":"eu-west",
//!  "addrs":{"grpc":"10.0.0.5:7001","admin":"10.0.0.5:9101"},
//!  "load":{"connections":1200,"cpu_percent":37.5}}
//! ```
//!
//! `load` is rewritten at most once per second ([`LOAD_WRITE_INTERVAL`]).
//! Readers ignore unknown fields and default missing ones, so neighbouring
//! releases read each other; a znode whose data does not parse is left out
//! of the member list (and logged). The parents are persistent and never
//! deleted by the nodes; removing the chroot of a running cluster removes
//! every registration's parent, and is not supported.
//!
//! # Node ids
//!
//! A node's id is the sequence number ZooKeeper appends to its znode's name
//! (`n-0000000007` → 7), never configured. ZooKeeper increments the parent's
//! counter at every child created, so an id is never given twice to nodes
//! of one kind under one chroot (for 2³¹ registrations; a core and an edge
//! may have the same number). A node that registers again (after its
//! session was lost) gets a new id. The directories are therefore plain
//! persistent znodes, not containers: a container would vanish when the
//! last node left, and its counter with it.
//!
//! # Epochs (for fencing)
//!
//! A registration's epoch is the zxid of the transaction that created its
//! znode (`czxid`); a member list's [version](Members::version) is the zxid
//! of the last registration made or ended among nodes of its kind (the
//! directory's `pzxid`). ZooKeeper orders all its transactions by zxid, so
//! both **strictly increase**: a later registration has a higher epoch, and
//! a later set of live nodes a higher version. Core nodes fence their
//! writes with the version of the core list that made them owner: every
//! node holding one version computes the same owner for every channel (the
//! set decides, [`ownership`]), and a write carrying a lower version than
//! a channel's last claim comes from an owner that was replaced (see
//! `docs/architecture.md`, "Fence"). The version, not the owner's own
//! registration epoch, is the fence, because an old node can regain a
//! channel after a younger owner left, and must then outrank the younger
//! one's claim. This holds for the lifetime of the ensemble's data: zxids
//! restart from zero only if ZooKeeper's data directory is wiped, and then
//! the claims kept in storage must be reset as well (a new chroot does not
//! help: zxids are ensemble-wide).
//!
//! # Sessions
//!
//! A [`Registration`] holds one session. While the connection is broken the
//! client library reconnects, and the registration is
//! [`Suspended`](RegistrationState::Suspended), then
//! [`Registered`](RegistrationState::Registered) again with the same id and
//! epoch if the session survived. It is [`Lost`](RegistrationState::Lost)
//! when ZooKeeper expired the session, when the node could not reach
//! ZooKeeper for a whole session timeout (the session is then closed here,
//! so it cannot come back), when the znode was deleted, or on close. A lost
//! registration is never revived: [`Registration::reregister`] makes a new
//! one (new session, new id, higher epoch). A [`MemberWatch`] holds a
//! session of its own and re-reads everything (re-arming its watches) after
//! a reconnect or with a new session after an expiry; while ZooKeeper is
//! unreachable it keeps the last list it read.
//!
//! # Local ZooKeeper
//!
//! `scripts/zookeeper.sh start|stop|restart|status [DIR]` runs a standalone
//! ZooKeeper 3.8 (Debian's `zookeeperd` jars) on a free loopback port with
//! its data in `DIR` (`target/zookeeper` by default); `scripts/test.sh` uses
//! it and exports `TEST_ZOOKEEPER`. The `chat-discovery` binary lists the
//! members (`chat-discovery --connect HOST:PORT members core`).

mod config;
mod error;
mod membership;
mod node;
pub mod ownership;
mod registration;
mod zk;

pub use config::ZkConfig;
pub use error::Error;
pub use membership::{MemberWatch, watch_members};
pub use node::{Load, Member, Members, NodeInfo, NodeKind};
pub use registration::{LOAD_WRITE_INTERVAL, LostReason, Registration, RegistrationState};
