//! Opening many connections at once, with a progress bar.

use std::time::Duration;

use crate::client::{self, Account};
use crate::run::Run;

/// Connects every account once, `parallel` at a time, in account order.
pub async fn connect_all(
    run: &Run,
    accounts: &[Account],
    parallel: usize,
) -> anyhow::Result<Vec<(client::Sink, client::Source, Duration)>> {
    let connects = accounts
        .iter()
        .map(|a| client::spawn_connect(&run.target, &a.token, &[]));
    run.in_order("connect", parallel, connects).await
}
