//! The signals that stop the server. They are installed before the server
//! says it listens, so from then on a SIGTERM or Ctrl-C always means a
//! graceful shutdown, never the signal's default action.

use std::future::Future;

/// Installs the handlers now; the future resolves at the first SIGTERM or
/// SIGINT.
#[cfg(unix)]
pub fn install() -> std::io::Result<impl Future<Output = ()> + Send> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Waits for Ctrl-C (installed when first polled on this platform).
#[cfg(not(unix))]
pub fn install() -> std::io::Result<impl Future<Output = ()> + Send> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
