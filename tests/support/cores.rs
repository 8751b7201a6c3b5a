//! Several `chat-core` processes sharing ZooKeeper (`TEST_ZOOKEEPER`) and
//! one PostgreSQL schema (`TEST_POSTGRES_URL`), under a chroot of the
//! test's own, with raw gRPC clients, and `chat-edge`s that find the cores
//! in ZooKeeper.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_discovery::{Members, NodeKind, ZkConfig, watch_members};
use chat_proto::v1::chat_core_client::ChatCoreClient;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;
use tonic::transport::Channel;

use super::server::launch;
use super::{DataDir, STEP, Server};

/// The session timeout the test cores ask for (the test ZooKeeper allows
/// down to 1 s).
pub const SESSION_TIMEOUT_MS: u64 = 2_000;

/// ZooKeeper and PostgreSQL for a cluster test, or `None` (said on stderr)
/// when either is not given.
pub fn services() -> Option<String> {
    let zk = std::env::var("TEST_ZOOKEEPER").ok();
    let pg = std::env::var("TEST_POSTGRES_URL").ok();
    match (zk, pg) {
        (Some(zk), Some(_)) => Some(zk),
        _ => {
            eprintln!(
                "skipped: TEST_ZOOKEEPER and TEST_POSTGRES_URL must both be set \
                 (scripts/test.sh starts ZooKeeper and PostgreSQL and sets them)"
            );
            None
        }
    }
}

/// One running core.
pub struct Core {
    /// Its process, `None` once killed.
    pub child: Option<Child>,
    /// Its gRPC address.
    pub addr: SocketAddr,
}

impl Core {
    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        if let Some(id) = self.child.as_ref().and_then(Child::id) {
            kill(Pid::from_raw(id as i32), signal).expect("signal the core");
        }
    }

    /// SIGSTOP, then waits until every thread of the process is stopped:
    /// the signal is delivered asynchronously, and on a busy machine a
    /// thread may still run for a while after `kill` returns.
    pub async fn pause(&self) {
        self.signal(Signal::SIGSTOP);
        let Some(id) = self.child.as_ref().and_then(Child::id) else {
            return;
        };
        let deadline = tokio::time::Instant::now() + super::STEP;
        while !all_threads_stopped(id) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "core {id} never stopped"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// A gRPC client of it.
    pub async fn client(&self) -> ChatCoreClient<Channel> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect_timeout(Duration::from_secs(2))
            .connect()
            .await
            .expect("connect to the core");
        ChatCoreClient::new(channel)
    }
}

/// Cores of one test, and the ZooKeeper view of them.
pub struct Cores {
    /// The cores, in start order.
    pub nodes: Vec<Core>,
    /// The edges, in start order.
    pub edges: Vec<Server>,
    /// Where they register.
    pub zk: ZkConfig,
    env: Vec<(String, String)>,
    data: DataDir,
    log: Arc<Mutex<Vec<String>>>,
}

impl Cores {
    /// Starts `n` cores registering at `zk` under a fresh chroot.
    pub async fn start(zk: &str, n: usize) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let zk = ZkConfig {
            connect: zk.to_owned(),
            session_timeout_ms: SESSION_TIMEOUT_MS,
            chroot: format!("/test-cores-{}-{k}", std::process::id()),
        };
        let data = DataDir::new();
        let mut env: Vec<(String, String)> = data
            .core_storage()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        env.extend([
            ("CHAT_ADMIN__LISTEN".into(), "127.0.0.1:0".into()),
            ("CHAT_ZOOKEEPER__CONNECT".into(), zk.connect.clone()),
            ("CHAT_ZOOKEEPER__CHROOT".into(), zk.chroot.clone()),
            (
                "CHAT_ZOOKEEPER__SESSION_TIMEOUT_MS".into(),
                zk.session_timeout_ms.to_string(),
            ),
            ("CHAT_CORE__PASSWORD_MEMORY_KIB".into(), "8".into()),
            ("CHAT_CORE__PASSWORD_ITERATIONS".into(), "1".into()),
        ]);
        let mut cores = Self {
            nodes: Vec::new(),
            edges: Vec::new(),
            zk,
            env,
            data,
            log: Arc::new(Mutex::new(Vec::new())),
        };
        for _ in 0..n {
            cores.add().await;
        }
        cores
    }

    /// Starts one more core; its index.
    pub async fn add(&mut self) -> usize {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let args = ["--listen", "127.0.0.1:0"];
        let (child, at, reader) =
            launch(env!("CARGO_BIN_EXE_chat-core"), &args, &env, &self.log).await;
        drop(reader);
        self.nodes.push(Core {
            child: Some(child),
            addr: at.addr,
        });
        self.nodes.len() - 1
    }

    /// Starts an edge that finds the cores in ZooKeeper, with `env` too;
    /// its index.
    pub async fn add_edge(&mut self, env: &[(&str, &str)]) -> usize {
        let mut all: Vec<(&str, &str)> = self
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("CHAT_ZOOKEEPER__"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(env);
        let args = ["--listen", "127.0.0.1:0"];
        let (child, at, reader) =
            launch(env!("CARGO_BIN_EXE_chat-edge"), &args, &all, &self.log).await;
        self.edges.push(Server::of_process(
            child,
            at.addr,
            self.data.clone(),
            self.log.clone(),
            reader,
        ));
        self.edges.len() - 1
    }

    /// SIGKILLs core `i` and waits for it to die.
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.start_kill().expect("SIGKILL the core");
            tokio::time::timeout(STEP, child.wait())
                .await
                .expect("the core dies in time")
                .expect("wait for the core");
        }
    }

    /// SIGTERMs core `i` and waits for it to exit cleanly.
    pub async fn terminate(&mut self, i: usize) {
        self.nodes[i].signal(Signal::SIGTERM);
        if let Some(mut child) = self.nodes[i].child.take() {
            let status = tokio::time::timeout(STEP, child.wait())
                .await
                .expect("the core exits in time")
                .expect("wait for the core");
            assert!(status.success(), "the core exits cleanly: {status:?}");
        }
    }

    /// The live cores as ZooKeeper lists them, once `pred` holds.
    pub async fn members_until(&self, what: &str, pred: impl Fn(&Members) -> bool) -> Members {
        let watch = watch_members(&self.zk, NodeKind::Core)
            .await
            .expect("watch the cores");
        let mut rx = watch.subscribe();
        let found = tokio::time::timeout(STEP, rx.wait_for(|m| pred(m)))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("membership watch")
            .clone();
        watch.shutdown().await;
        found
    }

    /// The index of the core whose registration is `id` in `members`.
    pub fn index_of(&self, members: &Members, id: u64) -> usize {
        let grpc = members
            .get(id)
            .and_then(|m| m.info.addr("grpc"))
            .unwrap_or_else(|| panic!("core {id} is not listed"))
            .to_owned();
        self.nodes
            .iter()
            .position(|c| c.addr.to_string() == grpc)
            .unwrap_or_else(|| panic!("no core of this test listens on {grpc}"))
    }

    /// Everything the cores logged.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

/// Edge frame limits high enough for a burst.
pub const FAST_FRAMES: [(&str, &str); 2] = [
    ("CHAT_EDGE__FRAMES_BURST", "100000"),
    ("CHAT_EDGE__FRAMES_PER_SEC", "100000"),
];

/// Starts 3 cores and 2 edges with [`FAST_FRAMES`]; `None` (said on
/// stderr) when the services are not given.
pub async fn three_cores_two_edges() -> Option<(Cores, Members)> {
    let zk = services()?;
    let mut cores = Cores::start(&zk, 3).await;
    let members = cores.members_until("three cores", |m| m.len() == 3).await;
    cores.add_edge(&FAST_FRAMES).await;
    cores.add_edge(&FAST_FRAMES).await;
    Some((cores, members))
}

/// Whether every thread of process `pid` is in the stopped state (`T`).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(Result::ok).all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            // The state follows the parenthesised command name.
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
        })
    })
}
