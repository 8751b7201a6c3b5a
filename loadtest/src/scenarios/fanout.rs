//! Group fan-out: G groups of M members; a few senders per group post at a
//! fixed total rate and every member receives every message.

use std::time::Duration;

use super::member::{self, ChannelTally, Plan, Sending};
use crate::run::Run;
use crate::stats::Report;

/// Fan-out options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Groups.
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// Members per group (at most the server's group limit, 100 by default).
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Senders per group.
    #[arg(long, default_value_t = 5)]
    pub senders: usize,
    /// Messages per second offered, across all groups.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Timing and pacing.
    #[command(flatten)]
    pub sending: Sending,
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let (groups, members) = (args.groups.max(1), args.members.max(2));
    let senders = args.senders.clamp(1, members);
    let mut report = run.report("fanout");
    report.param("groups", groups);
    report.param("members", members);
    report.param("senders_per_group", senders);
    report.param("offered_messages_per_sec", args.rate);
    let accounts = run.users(groups * members, "f").await?;
    let creates = accounts.chunks(members).enumerate().map(|(g, group)| {
        let ids: Vec<u64> = group[1..].iter().map(|a| a.id).collect();
        let name = format!("load group {g}");
        async move { run.rest.group(&group[0], &name, &ids).await }
    });
    let channels = run.in_order("groups", 8, creates).await?;
    let all_senders = (groups * senders) as f64;
    let period = Duration::from_secs_f64(all_senders / args.rate.max(0.001));
    let tallies = ChannelTally::each(groups, senders as u64);
    let members = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let (group, rank) = (i / members, i % members);
            let sends = rank < senders;
            let slot = group * senders + rank;
            let plan = Plan {
                user_id: account.id,
                channel: channels[group],
                period: sends.then_some(period),
                phase: period.mul_f64(slot as f64 / all_senders),
                send_for: Duration::from_secs(args.sending.seconds),
                drain_for: Duration::from_secs(args.sending.drain_seconds),
                heartbeat: Duration::from_secs(10),
            };
            (account.clone(), plan, tallies[group].clone())
        })
        .collect();
    member::run_all(run, members, &args.sending, &mut report).await?;
    Ok(report)
}
