//! A TCP proxy on loopback that a test can cut and restore, to break a
//! link between two processes the way a network fault does: every open
//! connection is dropped at once (no clean close of the protocol above),
//! and new ones are refused until the link is restored.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy: connections to `addr` are forwarded to the target.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    target: Mutex<SocketAddr>,
    /// Bumped by every cut; connections of older generations end.
    generation: watch::Sender<(u64, bool)>,
}

impl Proxy {
    /// Starts forwarding a fresh loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (generation, _) = watch::channel((0, true));
        let shared = Arc::new(Shared {
            target: Mutex::new(target),
            generation,
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Self { addr, shared, task }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.shared.generation.send_modify(|(generation, open)| {
            *generation += 1;
            *open = false;
        });
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.shared.generation.send_modify(|(_, open)| *open = true);
    }

    /// Forwards new connections to `target` from now on.
    pub fn retarget(&self, target: SocketAddr) {
        *self.shared.target.lock().expect("lock") = target;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let (generation, open) = *shared.generation.borrow();
        if !open {
            drop(client);
            continue;
        }
        let target = *shared.target.lock().expect("lock");
        let mut cut = shared.generation.subscribe();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(target).await else {
                return;
            };
            let mut client = client;
            let ended = cut.wait_for(|(g, _)| *g != generation);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = ended => {}
            }
            // Both sockets drop here, mid-stream for the protocol above.
        });
    }
}
