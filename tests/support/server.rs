//! Starts the real `chat` binary on a free loopback port and stops it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use super::STEP;

/// A data directory that outlives server restarts and is removed at the
/// end; in the cluster topology with `TEST_POSTGRES_URL` set, also the
/// PostgreSQL schema the core stores in, dropped at the end.
#[derive(Clone)]
pub struct DataDir(Arc<Storage>);

struct Storage {
    dir: tempfile::TempDir,
    /// The schema's name, unique among concurrent tests (one process each).
    schema: String,
    /// The server URL, once the schema was created.
    postgres: Mutex<Option<String>>,
}

impl DataDir {
    /// A fresh, empty directory.
    pub fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(Arc::new(Storage {
            dir: tempfile::tempdir().expect("create temp dir"),
            schema: format!("chat_test_{}_{n}", std::process::id()),
            postgres: Mutex::new(None),
        }))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.0.dir.path()
    }

    /// The core's storage settings for the cluster topology: a schema of
    /// its own on `TEST_POSTGRES_URL`, or SQLite in this directory when
    /// that is unset (said on stderr). A `--data-dir` given to
    /// [`Server::spawn`] comes later and wins.
    pub fn core_storage(&self) -> Vec<(&'static str, String)> {
        let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
            eprintln!("TEST_POSTGRES_URL is not set: the core stores in SQLite");
            let dir = self.path().to_str().expect("utf-8 temp path").to_owned();
            return vec![("CHAT_STORAGE", "sqlite".into()), ("CHAT_DATA_DIR", dir)];
        };
        psql(
            &url,
            &format!("CREATE SCHEMA IF NOT EXISTS {}", self.0.schema),
        );
        *self.0.postgres.lock().expect("lock") = Some(url.clone());
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}options=-csearch_path%3D{}", self.0.schema);
        vec![
            ("CHAT_STORAGE", "postgres".into()),
            ("CHAT_POSTGRES__URL", url),
        ]
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Ok(Some(url)) = self.postgres.lock().map(|u| u.clone()) {
            psql(
                &url,
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
            );
        }
    }
}

/// Runs one SQL statement with `psql`, which the test script installs
/// with the server.
fn psql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([url, "-Atqc", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Which processes serve a test: set `TEST_CHAT_TOPOLOGY=cluster` to run
/// every test against a `chat-core` and a `chat-edge` instead of `chat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The single-node `chat` binary.
    Single,
    /// One `chat-core` and one `chat-edge`, over gRPC on loopback.
    Cluster,
    /// Three `chat-core`s sharing the channels through ZooKeeper
    /// (`TEST_ZOOKEEPER`) and one `chat-edge` that finds them there:
    /// `TEST_CHAT_TOPOLOGY=cores`.
    Cores,
}

/// The cores of the [`Topology::Cores`] topology.
pub const CORES: usize = 3;

impl Topology {
    /// The topology this test run uses.
    pub fn current() -> Self {
        match std::env::var("TEST_CHAT_TOPOLOGY").as_deref() {
            Ok("cluster") => Topology::Cluster,
            Ok("cores") => Topology::Cores,
            _ => Topology::Single,
        }
    }
}

/// A running server: the `chat` process, or a core and an edge.
pub struct Server {
    /// The process clients talk to (`chat`, or the edge).
    child: Child,
    /// The core, in the cluster topology (the first of them).
    core: Option<Child>,
    /// The other cores, in the cores topology.
    more_cores: Vec<Child>,
    /// The core's gRPC and admin addresses, in the cluster topology.
    core_addrs: Option<Listening>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data: DataDir,
    log: Arc<Mutex<Vec<String>>>,
    /// Reads the log until the process closes its stderr.
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on an empty data directory.
    pub async fn start() -> Self {
        Self::start_with(DataDir::new(), &[], &[]).await
    }

    /// Starts a server on `data` (which may hold an earlier run's data).
    pub async fn start_in(data: DataDir) -> Self {
        Self::start_with(data, &[], &[]).await
    }

    /// Starts a server with extra arguments and environment variables.
    pub async fn start_with(data: DataDir, args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = data.path().to_str().expect("utf-8 temp path").to_owned();
        let mut all = vec!["--listen", "127.0.0.1:0", "--data-dir", &dir];
        all.extend_from_slice(args);
        Self::spawn(data.clone(), &all, env).await
    }

    /// Starts the server with exactly `args` (plus JSON logs); `data` is
    /// only kept alive, so `args` or `env` must name the data directory.
    /// In the cluster topology, `--data-dir` and `CHAT_CORE__*` go to the
    /// core, `--listen` and `CHAT_EDGE__*` to the edge, the rest to both.
    pub async fn spawn(data: DataDir, args: &[&str], env: &[(&str, &str)]) -> Self {
        if Topology::current() == Topology::Single {
            let log = Arc::new(Mutex::new(Vec::new()));
            let (child, at, reader) = launch(env!("CARGO_BIN_EXE_chat"), args, env, &log).await;
            return Self {
                child,
                core: None,
                more_cores: Vec::new(),
                core_addrs: None,
                addr: at.addr,
                data,
                log,
                reader: Some(reader),
            };
        }
        let (mut core_env, mut edge_args) = (vec![], vec![]);
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let value = rest.next().copied().unwrap_or_default();
            match *arg {
                "--data-dir" => core_env.push(("CHAT_DATA_DIR", value)),
                "--listen" => edge_args.extend(["--listen", value]),
                other => panic!("{other} has no meaning in the cluster topology"),
            }
        }
        let is_core = |k: &str| k.starts_with("CHAT_CORE__") || k == "CHAT_DATA_DIR";
        core_env.extend(env.iter().filter(|(k, _)| !k.starts_with("CHAT_EDGE__")));
        let edge_env: Vec<_> = env.iter().filter(|(k, _)| !is_core(k)).copied().collect();
        Self::launch_cluster(data, "http", &core_env, &edge_args, &edge_env).await
    }

    /// A core and an edge, whatever the topology of the run: `core_env`
    /// goes to the core only, `edge_env` to the edge only, and the edge
    /// reaches the core at `scheme://127.0.0.1:PORT`.
    pub async fn cluster(
        data: DataDir,
        scheme: &str,
        core_env: &[(&str, &str)],
        edge_env: &[(&str, &str)],
    ) -> Self {
        let edge_args = ["--listen", "127.0.0.1:0"];
        Self::launch_cluster(data, scheme, core_env, &edge_args, edge_env).await
    }

    async fn launch_cluster(
        data: DataDir,
        scheme: &str,
        env: &[(&str, &str)],
        edge_args: &[&str],
        edge_env: &[(&str, &str)],
    ) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let storage = data.core_storage();
        let mut core_env: Vec<(&str, &str)> =
            storage.iter().map(|(k, v)| (*k, v.as_str())).collect();
        core_env.push(("CHAT_ADMIN__LISTEN", "127.0.0.1:0"));
        core_env.extend_from_slice(env);
        let zk = zookeeper_env();
        let zk_env: Vec<(&str, &str)> = zk.iter().map(|(k, v)| (*k, v.as_str())).collect();
        core_env.extend_from_slice(&zk_env);
        let bin = env!("CARGO_BIN_EXE_chat-core");
        let core_args = ["--listen", "127.0.0.1:0"];
        let (core, core_addrs, core_reader) = launch(bin, &core_args, &core_env, &log).await;
        // A core's log reader ends when the core exits; the edge's is awaited.
        drop(core_reader);
        let mut more_cores = Vec::new();
        if !zk.is_empty() {
            for _ in 1..CORES {
                let (more, _, reader) = launch(bin, &core_args, &core_env, &log).await;
                drop(reader);
                more_cores.push(more);
            }
        }
        let url = format!("{scheme}://{}", core_addrs.addr);
        let mut args = edge_args.to_vec();
        if zk.is_empty() {
            args.extend(["--core", url.as_str()]);
        }
        let mut edge_env = edge_env.to_vec();
        edge_env.extend_from_slice(&zk_env);
        let bin = env!("CARGO_BIN_EXE_chat-edge");
        let (child, at, reader) = launch(bin, &args, &edge_env, &log).await;
        Self {
            child,
            more_cores,
            core: Some(core),
            core_addrs: Some(core_addrs),
            addr: at.addr,
            data,
            log,
            reader: Some(reader),
        }
    }

    /// Runs another edge against this server's (first) core, at
    /// `scheme://127.0.0.1:PORT` with `env`, expecting it to exit (within
    /// [`STEP`]) rather than serve; returns how it exited and its log.
    pub async fn edge_that_exits(
        &self,
        scheme: &str,
        env: &[(&str, &str)],
    ) -> (ExitStatus, String) {
        let core = self.core_addrs.as_ref().expect("a cluster has a core");
        let url = format!("{scheme}://{}", core.addr);
        let args = ["--listen", "127.0.0.1:0", "--core", url.as_str()];
        let child = command(env!("CARGO_BIN_EXE_chat-edge"), &args, env)
            .spawn()
            .expect("spawn chat-edge");
        let out = tokio::time::timeout(STEP, child.wait_with_output())
            .await
            .expect("the edge exits in time instead of hanging")
            .expect("wait for the edge");
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        eprintln!("[edge that exits] {log}");
        (out.status, log)
    }

    /// A server of one process only (an edge of a cluster whose other
    /// processes someone else owns).
    pub(super) fn of_process(
        child: Child,
        addr: SocketAddr,
        data: DataDir,
        log: Arc<Mutex<Vec<String>>>,
        reader: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self {
            child,
            core: None,
            more_cores: Vec::new(),
            core_addrs: None,
            addr,
            data,
            log,
            reader: Some(reader),
        }
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the process clients talk to.
    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("send a signal");
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `path` on every HTTP listener with health and metrics: the one of
    /// `chat` or the edge first, then, in the cluster topology, the core's
    /// admin listener (`admin.listen`).
    pub fn ops_urls(&self, path: &str) -> Vec<String> {
        let mut urls = vec![self.url(path)];
        if let Some(admin) = self.core_addrs.as_ref().and_then(|c| c.admin) {
            urls.push(format!("http://{admin}{path}"));
        }
        urls
    }

    /// The `/metrics` pages: the edge's (or `chat`'s) first, then in the
    /// cluster topology the core's. The last one holds the core's metrics.
    pub fn metrics_urls(&self) -> Vec<String> {
        self.ops_urls("/metrics")
    }

    /// The `/metrics` page.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// The value of an unlabelled metric, if the server exports it.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        self.metrics().await.lines().find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.parse().ok()).flatten()
        })
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// How many of the server's threads are named `name`.
    pub fn threads_named(&self, name: &str) -> usize {
        let tasks = format!("/proc/{}/task", self.pid());
        std::fs::read_dir(tasks)
            .expect("the server's threads")
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim_end() == name)
            .count()
    }

    fn pid(&self) -> Pid {
        let id = self.child.id().expect("server is still running");
        Pid::from_raw(i32::try_from(id).expect("pid fits i32"))
    }

    /// SIGKILL (of every process): no chance to flush anything.
    pub async fn kill(mut self) -> DataDir {
        kill(self.pid(), Signal::SIGKILL).expect("send SIGKILL");
        self.wait().await;
        let cores = self
            .core
            .take()
            .into_iter()
            .chain(self.more_cores.drain(..));
        for mut core in cores {
            let _ = core.start_kill();
            let _ = tokio::time::timeout(STEP, core.wait()).await;
        }
        self.data.clone()
    }

    /// SIGTERM, then waits for the exit and for every line it logged: the
    /// last lines may still be in the pipe when the process is gone.
    pub async fn terminate(mut self) -> (ExitStatus, String) {
        kill(self.pid(), Signal::SIGTERM).expect("send SIGTERM");
        let status = self.wait().await;
        let cores: Vec<Child> = self
            .core
            .take()
            .into_iter()
            .chain(self.more_cores.drain(..))
            .collect();
        for mut core in cores {
            let Some(id) = core.id() else { continue };
            let pid = Pid::from_raw(i32::try_from(id).expect("pid fits i32"));
            kill(pid, Signal::SIGTERM).expect("send SIGTERM to the core");
            let core_status = tokio::time::timeout(STEP, core.wait())
                .await
                .expect("core exits in time")
                .expect("wait for the core");
            assert!(
                core_status.success(),
                "the core exits cleanly: {core_status:?}"
            );
        }
        if let Some(reader) = self.reader.take() {
            let _ = tokio::time::timeout(STEP, reader).await;
        }
        (status, self.log())
    }

    async fn wait(&mut self) -> ExitStatus {
        tokio::time::timeout(STEP, self.child.wait())
            .await
            .expect("server exits in time")
            .expect("wait for the server")
    }
}

/// The ZooKeeper settings of a cores-topology run (a chroot of its own per
/// server), empty in the other topologies; said on stderr when the cores
/// topology lacks `TEST_ZOOKEEPER` and falls back to one core.
fn zookeeper_env() -> Vec<(&'static str, String)> {
    if Topology::current() != Topology::Cores {
        return Vec::new();
    }
    let Ok(connect) = std::env::var("TEST_ZOOKEEPER") else {
        eprintln!("TEST_ZOOKEEPER is not set: the cores topology runs one core");
        return Vec::new();
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    vec![
        ("CHAT_ZOOKEEPER__CONNECT", connect),
        (
            "CHAT_ZOOKEEPER__CHROOT",
            format!("/test-{}-{n}", std::process::id()),
        ),
        ("CHAT_ZOOKEEPER__SESSION_TIMEOUT_MS", "2000".into()),
    ]
}

/// The addresses a process logs in its `listening` line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listening {
    /// Where clients (or edges) connect.
    pub(super) addr: SocketAddr,
    /// The admin listener (`chat-core`).
    pub(super) admin: Option<SocketAddr>,
}

/// `bin` with `args`, `env` and JSON logs on a piped stderr, killed when dropped.
fn command(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(["--log-format", "json"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Starts `bin` with `args` and JSON logs, and waits for its address.
pub(super) async fn launch(
    bin: &str,
    args: &[&str],
    env: &[(&str, &str)],
    log: &Arc<Mutex<Vec<String>>>,
) -> (Child, Listening, tokio::task::JoinHandle<()>) {
    let mut child = command(bin, args, env)
        .spawn()
        .expect("spawn the server binary");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = oneshot::channel();
    let reader = tokio::spawn(read_log(stderr, log.clone(), tx));
    let addr = match tokio::time::timeout(STEP, rx).await {
        Ok(Ok(addr)) => addr,
        _ => {
            let status = child.try_wait().ok().flatten();
            panic!(
                "{bin} did not report its address (exit: {status:?}); log:\n{}",
                log.lock().map(|l| l.join("\n")).unwrap_or_default()
            );
        }
    };
    (child, addr, reader)
}

async fn read_log(
    stderr: tokio::process::ChildStderr,
    log: Arc<Mutex<Vec<String>>>,
    tx: oneshot::Sender<Listening>,
) {
    let mut tx = Some(tx);
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("[server] {line}");
        if let Some(addr) = listening_addr(&line)
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(addr);
        }
        if let Ok(mut log) = log.lock() {
            log.push(line);
        }
    }
}

fn listening_addr(line: &str) -> Option<Listening> {
    let entry: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = entry.get("fields")?;
    if fields.get("message")?.as_str()? != "listening" {
        return None;
    }
    let addr = |key: &str| fields.get(key)?.as_str()?.parse().ok();
    Some(Listening {
        addr: addr("addr")?,
        admin: addr("admin"),
    })
}

/// Runs the binary to completion with `args`, for flags that make it exit.
pub fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chat"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the chat binary");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A path inside `data` for files a test writes.
pub fn file_in(data: &DataDir, name: &str) -> PathBuf {
    data.path().join(name)
}
