//! Every scenario, small, against the real server binary: the tool runs,
//! stops by itself, finds nothing wrong with a correct server, and writes
//! its JSON report.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A binary of the workspace next to this package's `loadtest` binary.
fn binary(name: &str) -> PathBuf {
    let loadtest = Path::new(env!("CARGO_BIN_EXE_loadtest"));
    let bin = loadtest.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build the workspace (`cargo build --workspace`) first",
        bin.display()
    );
    bin
}

/// Starts `bin` with `args` and `env`, logging JSON, and waits for its
/// "listening" line; the child and the address it logged.
fn spawn(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(binary(bin))
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{bin} exited before listening"))
            .expect("read the log");
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "listening" {
            break entry["fields"]["addr"].as_str().expect("addr").to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

/// Cheap password hashing: sign-up is not what these runs test.
const CHEAP: [(&str, &str); 2] = [
    ("CHAT_CORE__PASSWORD_MEMORY_KIB", "64"),
    ("CHAT_CORE__PASSWORD_ITERATIONS", "1"),
];

/// A single node, or a core with its edges, on free loopback ports; killed
/// on drop.
struct Server {
    /// Edges (or the single node) first, then the core.
    children: Vec<Child>,
    /// The addresses clients connect to, comma-separated.
    target: String,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("data dir");
        let dir = data.path().to_str().expect("a UTF-8 temp path");
        let mut env = CHEAP.to_vec();
        env.push(("CHAT_EDGE__FRAMES_PER_SEC", "1000"));
        let (child, target) = spawn("chat", &["--data-dir", dir], &env);
        Self {
            children: vec![child],
            target,
            _data: data,
        }
    }

    /// A `chat-core` on SQLite and `edges` `chat-edge` processes.
    fn cluster(edges: usize) -> Self {
        let data = tempfile::tempdir().expect("data dir");
        let dir = data.path().to_str().expect("a UTF-8 temp path");
        let mut env = CHEAP.to_vec();
        env.extend([
            ("CHAT_STORAGE", "sqlite"),
            ("CHAT_DATA_DIR", dir),
            ("CHAT_ADMIN__LISTEN", "127.0.0.1:0"),
        ]);
        let (core, grpc) = spawn("chat-core", &[], &env);
        let url = format!("http://{grpc}");
        let (mut children, mut addrs) = (Vec::new(), Vec::new());
        for _ in 0..edges {
            let (edge, addr) = spawn("chat-edge", &["--core", &url], &[]);
            children.push(edge);
            addrs.push(addr);
        }
        children.push(core);
        Self {
            children,
            target: addrs.join(","),
            _data: data,
        }
    }

    /// Runs one scenario; returns its JSON report.
    fn run(&self, args: &[&str]) -> serde_json::Value {
        let report = tempfile::NamedTempFile::new().expect("report file");
        let pids: Vec<String> = self.children.iter().map(|c| c.id().to_string()).collect();
        let output = Command::new(env!("CARGO_BIN_EXE_loadtest"))
            .args(["--target", &self.target, "--max-seconds", "60", "--json"])
            .arg(report.path())
            .arg("--server-pid")
            .arg(pids.join(","))
            .args(args)
            .output()
            .expect("run loadtest");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?} failed:\n{stdout}\n{stderr}"
        );
        let text = std::fs::read_to_string(report.path()).expect("read report");
        serde_json::from_str(&text).expect("report is JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn figure(report: &serde_json::Value, name: &str) -> f64 {
    report["figures"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("no figure {name} in {report}"))
}

/// The events of the report's timeline, added up over its seconds.
fn timeline_events(report: &serde_json::Value) -> f64 {
    let windows = report["timeline"]["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("no timeline in {report}"));
    windows.iter().filter_map(|w| w["count"].as_f64()).sum()
}

/// A small reconnect storm (40 clients in groups of 10, 3 messages each
/// phase) run by `run`, its delivery count checked; the report.
fn storm(run: impl Fn(&[&str]) -> serde_json::Value) -> serde_json::Value {
    let storm = run(&[
        "reconnect",
        "--clients",
        "40",
        "--group-size",
        "10",
        "--messages",
        "3",
    ]);
    // Each client gets the 3 sent while it was away, 3 during the storm and
    // the marker, and the first message too if the cut came before it.
    let delivered = figure(&storm, "messages_delivered_after_resume");
    assert!((40.0 * 7.0..=40.0 * 8.0).contains(&delivered), "{storm}");
    storm
}

#[test]
fn every_scenario_runs_small_and_finds_nothing_wrong() {
    let server = Server::start();

    let idle = server.run(&["idle", "--connections", "60", "--hold-seconds", "1"]);
    assert_eq!(figure(&idle, "connections_open"), 60.0);
    assert!(figure(&idle, "server_rss_after_mib") > 0.0);

    let pictures = tempfile::tempdir().expect("plot dir");
    let plot = pictures.path().join("chat.svg");
    let plot_arg = plot.to_str().expect("a UTF-8 temp path");
    let chat = server.run(&[
        "--plot",
        plot_arg,
        "chat",
        "--users",
        "20",
        "--rate",
        "100",
        "--seconds",
        "2",
    ]);
    assert!(figure(&chat, "messages_acked") > 100.0, "{chat}");
    assert_eq!(
        figure(&chat, "deliveries"),
        2.0 * figure(&chat, "messages_acked")
    );
    assert!(chat["latency"]["send_to_deliver"]["count"].as_u64() > Some(0));
    assert_eq!(timeline_events(&chat), figure(&chat, "deliveries"));
    let svg = std::fs::read_to_string(&plot).expect("the --plot picture");
    assert!(svg.contains("<svg"), "not an SVG: {svg:.200}");
    assert!(
        svg.contains("<polyline") || svg.contains("<path"),
        "no series drawn"
    );

    let fanout = server.run(&[
        "fanout",
        "--groups",
        "2",
        "--members",
        "10",
        "--senders",
        "2",
        "--rate",
        "40",
        "--seconds",
        "2",
    ]);
    assert_eq!(
        figure(&fanout, "deliveries"),
        10.0 * figure(&fanout, "messages_acked")
    );

    let storm = storm(|args| server.run(args));
    assert_eq!(timeline_events(&storm), 40.0, "one resume per client");

    let history = server.run(&["history", "--messages", "500", "--passes", "1"]);
    assert_eq!(figure(&history, "pages"), 5.0);
    assert_eq!(timeline_events(&history), 5.0);
    for report in [&idle, &chat, &fanout, &storm, &history] {
        assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    }
}

/// The same scenarios with every session over WebTransport: the same
/// counts, and nothing wrong.
#[test]
fn the_session_scenarios_run_over_webtransport_too() {
    let server = Server::start();
    let wt = |args: &[&str]| {
        let mut all = vec!["--transport", "webtransport"];
        all.extend_from_slice(args);
        server.run(&all)
    };
    let idle = wt(&["idle", "--connections", "60", "--hold-seconds", "1"]);
    assert_eq!(figure(&idle, "connections_open"), 60.0);
    let chat = wt(&["chat", "--users", "20", "--rate", "100", "--seconds", "2"]);
    assert!(figure(&chat, "messages_acked") > 100.0, "{chat}");
    assert_eq!(
        figure(&chat, "deliveries"),
        2.0 * figure(&chat, "messages_acked")
    );
    let storm = storm(wt);
    let moved = wt(&["migrate", "--pairs", "4", "--rate", "20", "--seconds", "1"]);
    assert_eq!(figure(&moved, "receivers_resumed"), 4.0, "{moved}");
    for report in [&idle, &chat, &storm, &moved] {
        assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    }
}

#[test]
fn a_cluster_s_edges_share_the_members_and_a_paused_edge_catches_up() {
    let cluster = Server::cluster(2);
    let fanout = cluster.run(&[
        "fanout",
        "--groups",
        "2",
        "--members",
        "10",
        "--senders",
        "2",
        "--rate",
        "40",
        "--seconds",
        "3",
        "--pause-server",
        "1",
        "--pause-after",
        "1",
        "--pause-seconds",
        "1",
    ]);
    // Every member got every message once and in order, those of the
    // stopped edge too (the report would list any violation).
    assert_eq!(fanout["violations"], serde_json::json!([]), "{fanout}");
    assert_eq!(
        figure(&fanout, "deliveries"),
        10.0 * figure(&fanout, "messages_acked")
    );
    let via = |n: usize| &fanout["latency"][format!("send_to_deliver_via_{n}")];
    // Members alternate between the edges (the senders avoid the paused
    // one), so both delivered.
    assert!(via(0)["count"].as_u64() > Some(0), "{fanout}");
    assert!(via(1)["count"].as_u64() > Some(0), "{fanout}");
    // Messages sent while it was stopped reached its members late.
    assert!(
        via(1)["max_ms"].as_f64() > Some(500.0),
        "the paused edge delivered late: {fanout}"
    );
    assert_eq!(fanout["params"]["paused_server"], 1, "{fanout}");
}
