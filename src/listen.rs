//! The server's listening socket and the options each accepted connection
//! gets.

use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};

/// Connections the kernel may queue before they are accepted (it caps this
/// at `net.core.somaxconn`). Clients reconnecting all at once after an
/// outage overflow tokio's default of 1,024.
const LISTEN_BACKLOG: u32 = 65_535;

/// What [`listen`] returns: a listener that sets up every connection it
/// accepts.
pub type Listener = TapIo<TcpListener, fn(&mut TcpStream)>;

/// Binds `addr` and listens with a deep backlog.
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<Listener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(LISTEN_BACKLOG)?;
    Ok(listener.tap_io(no_delay as fn(&mut TcpStream)))
}

/// Sends each frame as soon as it is written. With Nagle's algorithm a
/// small frame written while an earlier one is unacknowledged waits for
/// the peer's delayed ACK, up to 40 ms on Linux: that was the fan-out
/// benchmark's p99 of about 45 ms. The WebSocket layer already gathers
/// the frames it has into one write.
fn no_delay(tcp: &mut TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener as _;

    #[tokio::test]
    async fn accepted_connections_send_without_delay() {
        let addr = "127.0.0.1:0".parse().expect("addr");
        let mut listener = super::listen(addr).expect("listen");
        let local = listener.local_addr().expect("local addr");
        let client = tokio::net::TcpStream::connect(local)
            .await
            .expect("connect");
        let (accepted, peer) = listener.accept().await;
        assert_eq!(peer, client.local_addr().expect("client addr"));
        assert!(accepted.nodelay().expect("nodelay"), "Nagle left on");
    }
}
