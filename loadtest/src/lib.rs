//! What `loadtest` shares with the cluster tests: the checker for
//! ordering and loss.

pub mod checker;
