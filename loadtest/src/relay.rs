//! A UDP relay on loopback for one client, which can be cut (from then on
//! nothing passes either way, as when a phone loses its network: a QUIC
//! connection through it sees silence, not a close) or moved to a new
//! network (its packets then reach the server from another address, as a
//! phone's do when it leaves Wi-Fi for mobile data: NAT rebinding, which
//! QUIC connection migration survives).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Largest datagram relayed (QUIC's are far smaller).
const DATAGRAM: usize = 65_536;

/// A running relay: datagrams to `addr` go to the target, answers back.
/// Dropping it stops its task.
pub struct UdpRelay {
    /// Where clients send.
    pub addr: SocketAddr,
    target: SocketAddr,
    cut: Arc<AtomicBool>,
    moves: mpsc::UnboundedSender<UdpSocket>,
    task: tokio::task::JoinHandle<()>,
}

async fn socket_to(target: SocketAddr) -> std::io::Result<UdpSocket> {
    let back = UdpSocket::bind((target.ip(), 0)).await?;
    back.connect(target).await?;
    Ok(back)
}

impl UdpRelay {
    /// Relays a fresh loopback port to `target` (a loopback address).
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let front = UdpSocket::bind((target.ip(), 0)).await?;
        let back = socket_to(target).await?;
        let addr = front.local_addr()?;
        let cut = Arc::new(AtomicBool::new(false));
        let (moves, moved) = mpsc::unbounded_channel();
        let task = tokio::spawn(relay(front, back, cut.clone(), moved));
        Ok(Self {
            addr,
            target,
            cut,
            moves,
            task,
        })
    }

    /// Stops forwarding, both ways, for good.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
    }

    /// From now on relays from a new address (a new port); what the server
    /// sends to the old one goes nowhere. Returns the new address.
    pub async fn move_network(&self) -> std::io::Result<SocketAddr> {
        let back = socket_to(self.target).await?;
        let from = back.local_addr()?;
        self.moves
            .send(back)
            .map_err(|_| std::io::Error::other("the relay has stopped"))?;
        Ok(from)
    }
}

impl Drop for UdpRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    front: UdpSocket,
    mut back: UdpSocket,
    cut: Arc<AtomicBool>,
    mut moved: mpsc::UnboundedReceiver<UdpSocket>,
) {
    let (mut up, mut down) = (vec![0u8; DATAGRAM], vec![0u8; DATAGRAM]);
    let mut client = None;
    loop {
        tokio::select! {
            Some(next) = moved.recv() => back = next,
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
