//! 1:1 chat: users in pairs, each pair in its own direct channel, sending
//! at a fixed total offered rate; send→ack and send→deliver latency.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::member::{self, ChannelTally, Plan};
use crate::run::Run;
use crate::stats::Report;

/// 1:1 chat options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Users, in pairs (rounded down to even).
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    /// Messages per second offered, across all users.
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Seconds allowed after sending for the last deliveries.
    #[arg(long, default_value_t = 10)]
    pub drain_seconds: u64,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 200)]
    pub parallel: usize,
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let users = (args.users / 2 * 2).max(2);
    let mut report = run.report("chat");
    report.param("users", users);
    report.param("offered_messages_per_sec", args.rate);
    report.param("seconds", args.seconds);
    let accounts = run.users(users, "c").await?;
    let bar = run.progress(users / 2, "channels");
    let channels: Vec<u64> = futures::stream::iter(accounts.chunks(2))
        .map(|pair| run.rest.direct(&pair[0], &pair[1]))
        .buffered(32)
        .inspect(|_| bar.inc(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    bar.finish_and_clear();
    let period = Duration::from_secs_f64(users as f64 / args.rate.max(0.001));
    let members = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let plan = Plan {
                user_id: account.id,
                channel: channels[i / 2],
                period: Some(period),
                phase: period.mul_f64(i as f64 / users as f64),
                send_for: Duration::from_secs(args.seconds),
                drain_for: Duration::from_secs(args.drain_seconds),
                heartbeat: Duration::from_secs(10),
            };
            let tally = Arc::new(ChannelTally {
                senders: 2,
                ..ChannelTally::default()
            });
            (account.clone(), plan, tally)
        })
        .collect::<Vec<_>>();
    // Both members of a pair share one tally.
    let members = members
        .chunks(2)
        .flat_map(|pair| {
            let tally = pair[0].2.clone();
            pair.iter()
                .map(move |(a, p, _)| (a.clone(), p.clone(), tally.clone()))
        })
        .collect();
    let (started, tasks) = member::start_all(run, members, args.parallel).await?;
    let bar = run.progress(args.seconds as usize, "send (s)");
    let ticker = tokio::spawn({
        let bar = bar.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        }
    });
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await?);
    }
    ticker.abort();
    bar.finish_and_clear();
    let last = outcomes.iter().filter_map(|o| o.last_delivery).max();
    let window = last.map_or(Duration::from_secs(args.seconds), |l| l - started);
    member::tally_into(&mut report, outcomes, window);
    Ok(report)
}
