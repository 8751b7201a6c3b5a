//! 1:1 chat: users in pairs, each pair in its own direct channel, sending
//! at a fixed total offered rate; send→ack and send→deliver latency.

use std::time::Duration;

use super::member::{self, ChannelTally, Plan, Sending};
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
    /// Timing and pacing.
    #[command(flatten)]
    pub sending: Sending,
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let users = (args.users / 2 * 2).max(2);
    let mut report = run.report("chat");
    report.param("users", users);
    report.param("offered_messages_per_sec", args.rate);
    let accounts = run.users(users, "c").await?;
    let pairs = accounts
        .chunks(2)
        .map(|pair| run.rest.direct(&pair[0], &pair[1]));
    let channels = run.in_order("channels", 32, pairs).await?;
    let period = Duration::from_secs_f64(users as f64 / args.rate.max(0.001));
    // Both members of a pair share one tally.
    let tallies = ChannelTally::each(channels.len(), 2);
    let members = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let plan = Plan {
                user_id: account.id,
                channel: channels[i / 2],
                period: Some(period),
                phase: period.mul_f64(i as f64 / users as f64),
                send_for: Duration::from_secs(args.sending.seconds),
                drain_for: Duration::from_secs(args.sending.drain_seconds),
                heartbeat: Duration::from_secs(10),
            };
            (account.clone(), plan, tallies[i / 2].clone())
        })
        .collect();
    member::run_all(run, members, &args.sending, &mut report).await?;
    Ok(report)
}
