//! Opening many connections at once, with a progress bar.

use std::time::Duration;

use futures::StreamExt;

use crate::client::{self, Account};
use crate::run::Run;

/// Connects every account once, `parallel` at a time, in account order.
pub async fn connect_all(
    run: &Run,
    accounts: &[Account],
    parallel: usize,
) -> anyhow::Result<Vec<(client::Sink, client::Source, Duration)>> {
    let bar = run.progress(accounts.len(), "connect");
    let conns: Vec<_> = futures::stream::iter(accounts.iter())
        .map(|a| client::spawn_connect(&run.target, &a.token, &[]))
        .buffered(parallel)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    bar.finish_and_clear();
    conns.into_iter().collect()
}
