//! The discovery crate against a real ZooKeeper (`TEST_ZOOKEEPER`, which
//! scripts/test.sh sets after starting one). Each test works under a chroot
//! of its own, so they run in parallel without seeing each other.

use std::future::Future;
use std::process::Stdio;
use std::time::Duration;

use chat_discovery::{
    Load, LostReason, Members, NodeInfo, NodeKind, Registration, RegistrationState, ZkConfig,
    watch_members,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::watch;
use tokio::time::timeout;

/// The bound of every wait for an event.
const WAIT: Duration = Duration::from_secs(20);

fn zookeeper() -> Option<String> {
    match std::env::var("TEST_ZOOKEEPER") {
        Ok(connect) if !connect.is_empty() => Some(connect),
        _ => {
            println!(
                "skipped: TEST_ZOOKEEPER is not set (scripts/test.sh starts ZooKeeper and sets it)"
            );
            None
        }
    }
}

fn config(connect: &str) -> ZkConfig {
    ZkConfig {
        connect: connect.to_owned(),
        session_timeout_ms: 4000,
        chroot: format!("/chat-test-{:016x}", rand::random::<u64>()),
    }
}

fn core(region: &str, grpc: &str) -> NodeInfo {
    NodeInfo::new(NodeKind::Core, region).with_addr("grpc", grpc)
}

/// Deletes a test's chroot and everything under it (best effort: the
/// ZooKeeper of scripts/test.sh keeps its data between runs).
async fn remove_tree(config: &ZkConfig) {
    let Ok(client) = zookeeper_client::Client::connect(&config.connect).await else {
        return;
    };
    let mut stack = vec![(config.chroot.clone(), false)];
    while let Some((path, listed)) = stack.pop() {
        if listed {
            let _ = client.delete(&path, None).await;
            continue;
        }
        let children = client.list_children(&path).await.unwrap_or_default();
        stack.push((path.clone(), true));
        stack.extend(children.into_iter().map(|c| (format!("{path}/{c}"), false)));
    }
}

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    match timeout(WAIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// Waits until the member list satisfies `pred`, and returns it.
async fn members_until(
    rx: &mut watch::Receiver<Members>,
    what: &str,
    pred: impl Fn(&Members) -> bool,
) -> Members {
    bounded(what, async {
        match rx.wait_for(|m| pred(m)).await {
            Ok(m) => m.clone(),
            Err(_) => panic!("membership watch ended while waiting for {what}"),
        }
    })
    .await
}

#[tokio::test]
async fn registrations_get_distinct_ids_and_increasing_epochs() {
    let Some(zk) = zookeeper() else { return };
    let config = config(&zk);
    let a = Registration::register(&config, core("eu", "127.0.0.1:1"))
        .await
        .expect("register a");
    let b = Registration::register(&config, core("eu", "127.0.0.1:2"))
        .await
        .expect("register b");
    assert_ne!(a.id(), b.id());
    assert!(
        b.id() > a.id(),
        "sequence numbers grow: {} then {}",
        a.id(),
        b.id()
    );
    assert!(
        b.epoch() > a.epoch(),
        "epochs grow: {} then {}",
        a.epoch(),
        b.epoch()
    );
    assert_eq!(
        a.path(),
        format!("{}/nodes/core/n-{:010}", config.chroot, a.id())
    );
    assert_eq!(
        a.current(),
        RegistrationState::Registered {
            id: a.id(),
            epoch: a.epoch()
        }
    );

    // An edge registers under its own directory, with its own counter.
    let e = Registration::register(&config, NodeInfo::new(NodeKind::Edge, "us"))
        .await
        .expect("register edge");
    assert!(
        e.path()
            .starts_with(&format!("{}/nodes/edge/n-", config.chroot))
    );
    assert!(e.epoch() > b.epoch());

    // Registering again: a new id and a higher epoch than everything before.
    let (old_id, old_epoch) = (a.id(), a.epoch());
    let a2 = a.reregister().await.expect("register a again");
    assert!(a2.id() > b.id() && a2.id() != old_id);
    assert!(a2.epoch() > e.epoch() && a2.epoch() > old_epoch);
    for r in [a2, b, e] {
        r.close().await;
    }
    remove_tree(&config).await;
}

#[tokio::test]
async fn a_member_watch_sees_joins_load_and_leaves() {
    let Some(zk) = zookeeper() else { return };
    let config = config(&zk);
    // Started before anything exists: it creates the directory and lists nobody.
    let watch = watch_members(&config, NodeKind::Core).await.expect("watch");
    assert!(watch.current().is_empty());
    let mut rx = watch.subscribe();

    let a = Registration::register(&config, core("eu", "127.0.0.1:7001"))
        .await
        .expect("register a");
    let seen = members_until(&mut rx, "a to join", |m| m.get(a.id()).is_some()).await;
    let member = seen.get(a.id()).expect("listed");
    assert_eq!(member.epoch, a.epoch());
    assert_eq!(member.info.addr("grpc"), Some("127.0.0.1:7001"));
    assert_eq!(member.info.region, "eu");

    let b = Registration::register(&config, core("us", "127.0.0.1:7002"))
        .await
        .expect("register b");
    let seen = members_until(&mut rx, "b to join", |m| m.len() == 2).await;
    assert_eq!(seen.ids(), vec![a.id(), b.id()], "sorted by id");
    // The list's version is the zxid of the last join: b's registration.
    assert_eq!(seen.version, b.epoch());
    let joined = seen.version;

    let load = Load {
        connections: 42,
        cpu_percent: 12.5,
        capacity: 0,
    };
    a.update_load(load);
    let seen = members_until(&mut rx, "a's load", |m| {
        m.get(a.id()).is_some_and(|x| x.info.load == load)
    })
    .await;
    assert_eq!(seen.get(b.id()).map(|x| x.info.load), Some(Load::default()));
    assert_eq!(
        seen.version, joined,
        "a load update is no change of the set"
    );

    // Updates faster than the write interval are coalesced: the last wins.
    for connections in 43..=50 {
        a.update_load(Load {
            connections,
            cpu_percent: 1.0,
            capacity: 0,
        });
    }
    members_until(&mut rx, "a's last load", |m| {
        m.get(a.id()).is_some_and(|x| x.info.load.connections == 50)
    })
    .await;

    // Closing the session deletes the ephemeral znode at once.
    let a_id = a.id();
    a.close().await;
    let seen = members_until(&mut rx, "a to leave", |m| m.get(a_id).is_none()).await;
    assert_eq!(seen.ids(), vec![b.id()]);
    assert!(seen.version > joined, "a leave makes a newer version");
    // So does dropping the registration.
    drop(b);
    members_until(&mut rx, "b to leave", Members::is_empty).await;
    watch.shutdown().await;
    remove_tree(&config).await;
}

/// Someone deleting a registration's znode (by hand) ends it at once: the
/// node must not go on believing it is a member when the others no longer
/// list it.
#[tokio::test]
async fn a_deleted_znode_ends_the_registration() {
    let Some(zk) = zookeeper() else { return };
    let config = config(&zk);
    let watch = watch_members(&config, NodeKind::Core).await.expect("watch");
    let mut rx = watch.subscribe();
    let a = Registration::register(&config, core("eu", "127.0.0.1:1"))
        .await
        .expect("register");
    members_until(&mut rx, "a to join", |m| m.get(a.id()).is_some()).await;
    // A load write fires the znode's data watch, which is then armed again.
    a.update_load(Load {
        connections: 1,
        cpu_percent: 0.0,
        capacity: 0,
    });
    members_until(&mut rx, "a's load", |m| {
        m.get(a.id()).is_some_and(|x| x.info.load.connections == 1)
    })
    .await;

    let operator = zookeeper_client::Client::connect(&zk)
        .await
        .expect("connect");
    operator
        .delete(a.path(), None)
        .await
        .expect("delete the znode");
    let lost = bounded("a to be lost", a.lost()).await;
    assert_eq!(
        lost,
        RegistrationState::Lost {
            id: a.id(),
            epoch: a.epoch(),
            reason: LostReason::Deleted
        }
    );
    members_until(&mut rx, "a to leave", Members::is_empty).await;
    watch.shutdown().await;
    remove_tree(&config).await;
}

/// The `chat-discovery register` child: its stdout lines.
struct Registrant {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Registrant {
    fn spawn(config: &ZkConfig) -> Registrant {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-discovery"))
            .args(["--connect", &config.connect, "--chroot", &config.chroot])
            .args([
                "--session-timeout-ms",
                &config.session_timeout_ms.to_string(),
            ])
            .args([
                "register",
                "core",
                "--region",
                "eu",
                "--addr",
                "grpc=127.0.0.1:9",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn chat-discovery");
        let stdout = child.stdout.take().expect("piped stdout");
        Registrant {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id().expect("running") as i32)
    }

    /// The next line, split into its word and its `key=value` fields.
    async fn next(&mut self, what: &str) -> (String, Vec<(String, String)>) {
        let line = bounded(what, self.lines.next_line())
            .await
            .expect("read stdout")
            .expect("child exited");
        let mut words = line.split_whitespace();
        let word = words.next().unwrap_or_default().to_owned();
        let fields = words
            .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        (word, fields)
    }
}

fn field(fields: &[(String, String)], key: &str) -> u64 {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key} in {fields:?}"))
}

fn text<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// A node paused (SIGSTOP) past its session timeout drops out of the member
/// list; resumed (SIGCONT), it learns that its registration is lost, and
/// registers again with a new id and a higher epoch.
#[tokio::test]
async fn a_paused_node_loses_its_registration_and_registers_anew() {
    let Some(zk) = zookeeper() else { return };
    let mut config = config(&zk);
    config.session_timeout_ms = 2000;
    let watch = watch_members(&config, NodeKind::Core).await.expect("watch");
    let mut rx = watch.subscribe();

    let mut child = Registrant::spawn(&config);
    let (word, fields) = child.next("the child to register").await;
    assert_eq!(word, "registered", "{fields:?}");
    let (id, epoch) = (field(&fields, "id"), field(&fields, "epoch"));
    members_until(&mut rx, "the child to join", |m| {
        m.get(id).is_some_and(|x| x.epoch == epoch)
    })
    .await;

    kill(child.pid(), Signal::SIGSTOP).expect("SIGSTOP");
    let stopped = tokio::time::Instant::now();
    members_until(&mut rx, "the paused child to leave", |m| {
        m.get(id).is_none()
    })
    .await;
    let gone_after = stopped.elapsed();
    // Not before its session timed out (minus a tick of the server's
    // session expiry, 500 ms at tickTime=500).
    assert!(
        gone_after >= Duration::from_millis(1500),
        "left after {gone_after:?}"
    );

    kill(child.pid(), Signal::SIGCONT).expect("SIGCONT");
    let (word, fields) = child.next("the child to report the loss").await;
    assert_eq!(word, "lost", "{fields:?}");
    assert_eq!((field(&fields, "id"), field(&fields, "epoch")), (id, epoch));
    assert!(
        ["Expired", "Unreachable"].contains(&text(&fields, "reason")),
        "lost for {:?}",
        text(&fields, "reason")
    );

    let (word, fields) = child.next("the child to register again").await;
    assert_eq!(word, "registered", "{fields:?}");
    let (id2, epoch2) = (field(&fields, "id"), field(&fields, "epoch"));
    assert!(
        id2 > id && epoch2 > epoch,
        "({id}, {epoch}) then ({id2}, {epoch2})"
    );
    let seen = members_until(&mut rx, "the new registration", |m| m.get(id2).is_some()).await;
    assert_eq!(seen.ids(), vec![id2]);

    drop(child);
    members_until(&mut rx, "the killed child to leave", Members::is_empty).await;
    watch.shutdown().await;
    remove_tree(&config).await;
}

/// A member watch whose own session expires (its process paused past the
/// timeout) starts a new session and reads everything again: changes made
/// meanwhile show, and it keeps following.
#[tokio::test]
async fn a_member_watch_recovers_from_its_session_expiring() {
    let Some(zk) = zookeeper() else { return };
    let mut config = config(&zk);
    config.session_timeout_ms = 2000;
    let a = Registration::register(&config, core("eu", "127.0.0.1:1"))
        .await
        .expect("register a");

    let mut child = Command::new(env!("CARGO_BIN_EXE_chat-discovery"))
        .args(["--connect", &config.connect, "--chroot", &config.chroot])
        .args([
            "--session-timeout-ms",
            &config.session_timeout_ms.to_string(),
        ])
        .args(["members", "core", "--follow"])
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn chat-discovery");
    let pid = Pid::from_raw(child.id().expect("running") as i32);
    let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut err = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let ids = |line: String| -> Vec<u64> {
        let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        v["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter_map(|n| n["id"].as_u64())
            .collect()
    };
    let first = bounded("the first list", out.next_line())
        .await
        .expect("read")
        .expect("a line");
    assert_eq!(ids(first), vec![a.id()]);

    kill(pid, Signal::SIGSTOP).expect("SIGSTOP");
    a.close().await;
    let b = Registration::register(&config, core("eu", "127.0.0.1:2"))
        .await
        .expect("register b");
    // Nothing to await here: the server expires the paused session within
    // the timeout plus a tick (500 ms); wait well past that.
    tokio::time::sleep(config.session_timeout() * 3).await;
    kill(pid, Signal::SIGCONT).expect("SIGCONT");

    bounded("the watch to say its session ended", async {
        loop {
            match err.next_line().await.expect("read stderr") {
                Some(line) if line.contains("session ended") => break,
                Some(line) => eprintln!("child: {line}"),
                None => panic!("child exited"),
            }
        }
    })
    .await;
    bounded("the new list", async {
        loop {
            let line = out.next_line().await.expect("read").expect("a line");
            if ids(line) == vec![b.id()] {
                break;
            }
        }
    })
    .await;
    // And it follows again.
    let c = Registration::register(&config, core("eu", "127.0.0.1:3"))
        .await
        .expect("register c");
    bounded("c in the list", async {
        loop {
            let line = out.next_line().await.expect("read").expect("a line");
            if ids(line) == vec![b.id(), c.id()] {
                break;
            }
        }
    })
    .await;
    b.close().await;
    c.close().await;
    remove_tree(&config).await;
}

/// A ZooKeeper server of this test's own, through scripts/zookeeper.sh.
struct OwnServer {
    dir: tempfile::TempDir,
}

impl OwnServer {
    fn script(&self, action: &str) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/zookeeper.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(action)
            .arg(self.dir.path())
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/zookeeper.sh");
        assert!(out.status.success(), "zookeeper.sh {action} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        // No assert here: a panic while unwinding would abort the test.
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/zookeeper.sh");
        let _ = std::process::Command::new("bash")
            .arg(script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// ZooKeeper restarted quickly: sessions survive (the server keeps them in
/// its data), so registrations come back Registered with the same id and
/// epoch, and the member watch still lists them. Down longer than the
/// session timeout: the registration is lost, and a new one gets a higher
/// epoch (zxids continue across restarts).
#[tokio::test]
async fn registrations_survive_a_zookeeper_restart_within_the_session_timeout() {
    let Some(_) = zookeeper() else { return };
    let server = OwnServer {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let connect = server.script("start");
    let mut config = config(&connect);
    config.session_timeout_ms = 6000;

    let watch = watch_members(&config, NodeKind::Core).await.expect("watch");
    let mut rx = watch.subscribe();
    let a = Registration::register(&config, core("eu", "127.0.0.1:1"))
        .await
        .expect("register");
    let (id, epoch) = (a.id(), a.epoch());
    members_until(&mut rx, "a to join", |m| m.get(id).is_some()).await;
    let mut state = a.state();

    server.script("stop");
    bounded(
        "a to be suspended",
        state.wait_for(|s| matches!(s, RegistrationState::Suspended { .. })),
    )
    .await
    .expect("state");
    assert_eq!(
        server.script("start"),
        connect,
        "same address after a restart"
    );
    bounded(
        "a to be registered again",
        state.wait_for(|s| matches!(s, RegistrationState::Registered { .. })),
    )
    .await
    .expect("state");
    assert_eq!(a.current(), RegistrationState::Registered { id, epoch });
    // The watch re-read after the reconnect: a is still there, and changes
    // are seen again.
    let load = Load {
        connections: 7,
        cpu_percent: 0.0,
        capacity: 0,
    };
    a.update_load(load);
    members_until(&mut rx, "a's load after the restart", |m| {
        m.get(id).is_some_and(|x| x.info.load == load)
    })
    .await;

    // Down for longer than the session timeout: lost, for good.
    server.script("stop");
    let lost = bounded("a to be lost", a.lost()).await;
    assert_eq!(
        lost,
        RegistrationState::Lost {
            id,
            epoch,
            reason: LostReason::Unreachable
        }
    );
    server.script("start");
    let b = Registration::register(&config, core("eu", "127.0.0.1:1"))
        .await
        .expect("register after the restart");
    assert!(b.id() > id && b.epoch() > epoch);
    // The server expires the old session a timeout after it came back; the
    // watch, on its own new session, then lists only b.
    let seen = members_until(&mut rx, "only b", |m| m.ids() == vec![b.id()]).await;
    assert_eq!(seen.get(b.id()).map(|m| m.epoch), Some(b.epoch()));
    drop(a);
    b.close().await;
    watch.shutdown().await;
}
