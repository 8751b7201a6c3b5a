//! A UDP relay on loopback for one client, which a test can cut: from then
//! on nothing passes either way, as when a phone loses its network. A QUIC
//! connection through it sees silence, not a close.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::UdpSocket;

/// Largest datagram relayed (QUIC's are far smaller).
const DATAGRAM: usize = 65_536;

/// A running relay: datagrams to `addr` go to the target, answers back.
pub struct UdpRelay {
    /// Where clients send.
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl UdpRelay {
    /// Relays a fresh loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let front = UdpSocket::bind("127.0.0.1:0").await.expect("bind relay");
        let back = UdpSocket::bind("127.0.0.1:0").await.expect("bind relay");
        back.connect(target).await.expect("relay target");
        let addr = front.local_addr().expect("relay address");
        let cut = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(relay(front, back, cut.clone()));
        Self { addr, cut, task }
    }

    /// Stops forwarding, both ways, for good.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
    }
}

impl Drop for UdpRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(front: UdpSocket, back: UdpSocket, cut: Arc<AtomicBool>) {
    let (mut up, mut down) = (vec![0u8; DATAGRAM], vec![0u8; DATAGRAM]);
    let mut client = None;
    loop {
        tokio::select! {
            Ok((n, from)) = front.recv_from(&mut up) => {
                client = Some(from);
                if !cut.load(Ordering::Acquire) {
                    let _ = back.send(&up[..n]).await;
                }
            }
            Ok(n) = back.recv(&mut down) => {
                if let (Some(to), false) = (client, cut.load(Ordering::Acquire)) {
                    let _ = front.send_to(&down[..n], to).await;
                }
            }
            else => return,
        }
    }
}
