//! A cluster of real processes on loopback: one `chat-core` and several
//! `chat-edge`s, each edge reaching the core through a [`Proxy`] of its
//! own, so a test can cut one edge's link, stop an edge, or kill and
//! restart the core. Every edge is a [`Server`], so the REST and
//! WebSocket helpers work on it as on the single node.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;

use super::proxy::Proxy;
use super::server::launch;
use super::{DataDir, STEP, Server};

/// A core and its edges.
pub struct Cluster {
    /// The edges, in start order.
    pub edges: Vec<Server>,
    /// Each edge's link to the core, by edge index.
    pub links: Vec<Proxy>,
    core: Option<Child>,
    /// Where the core listens now.
    pub core_addr: SocketAddr,
    core_env: Vec<(String, String)>,
    edge_env: Vec<(String, String)>,
    data: DataDir,
    log: Arc<Mutex<Vec<String>>>,
}

impl Cluster {
    /// Starts a core (with `core_env` besides its storage) and `edges`
    /// edges (with `edge_env`).
    pub async fn start(edges: usize, core_env: &[(&str, &str)], edge_env: &[(&str, &str)]) -> Self {
        let data = DataDir::new();
        let mut env: Vec<(String, String)> = data
            .core_storage()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let dir = data.path().to_str().expect("utf-8 temp path").to_owned();
        env.push(("CHAT_DATA_DIR".into(), dir));
        // Concurrent tests each need their own admin port.
        env.push(("CHAT_ADMIN__LISTEN".into(), "127.0.0.1:0".into()));
        env.extend(owned(core_env));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (core, core_addr) = start_core(&env, &log).await;
        let mut cluster = Self {
            edges: Vec::new(),
            links: Vec::new(),
            core: Some(core),
            core_addr,
            core_env: env,
            edge_env: owned(edge_env),
            data,
            log,
        };
        for _ in 0..edges {
            cluster.add_edge().await;
        }
        cluster
    }

    /// Starts one more edge, with a link of its own to the core.
    pub async fn add_edge(&mut self) -> &Server {
        let link = Proxy::start(self.core_addr).await;
        let core = format!("http://{}", link.addr);
        let args = ["--listen", "127.0.0.1:0", "--core", core.as_str()];
        let env: Vec<(&str, &str)> = self
            .edge_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (child, at, reader) =
            launch(env!("CARGO_BIN_EXE_chat-edge"), &args, &env, &self.log).await;
        let addr = at.addr;
        self.links.push(link);
        self.edges.push(Server::of_process(
            child,
            addr,
            self.data.clone(),
            self.log.clone(),
            reader,
        ));
        self.edges.last().expect("just pushed")
    }

    /// SIGKILLs the core: nothing is flushed, every edge loses its link.
    pub async fn kill_core(&mut self) {
        if let Some(mut core) = self.core.take() {
            let id = core.id().expect("the core is running");
            kill(Pid::from_raw(id as i32), Signal::SIGKILL).expect("SIGKILL the core");
            tokio::time::timeout(STEP, core.wait())
                .await
                .expect("the core dies in time")
                .expect("wait for the core");
        }
    }

    /// Starts the core again on the same storage; the links lead to it.
    pub async fn restart_core(&mut self) {
        let (core, addr) = start_core(&self.core_env, &self.log).await;
        self.core = Some(core);
        self.core_addr = addr;
        for link in &self.links {
            link.retarget(addr);
        }
    }

    /// Everything the processes logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

async fn start_core(
    env: &[(String, String)],
    log: &Arc<Mutex<Vec<String>>>,
) -> (Child, SocketAddr) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = ["--listen", "127.0.0.1:0"];
    let (core, at, reader) = launch(env!("CARGO_BIN_EXE_chat-core"), &args, &env, log).await;
    // The log reader ends when the core exits.
    drop(reader);
    (core, at.addr)
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
