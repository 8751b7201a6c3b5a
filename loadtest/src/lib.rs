//! What `loadtest` shares with the cluster and WebTransport tests: the
//! checker for ordering and loss, and a UDP relay that can be cut or moved.

pub mod checker;
pub mod relay;
