//! Startup: `hello` → `ready` for users with many channels, each user timed
//! twice at one edge: cold (the first connect: nothing of theirs is cached
//! there) and warm (the second). Each user gets channels and peers of their
//! own, so one user's connect warms nothing for the next. Setup goes
//! through the first server of `--target` (REST), the connects to the
//! second (or the only one): a far edge is timed while setup goes through
//! a near one.

use std::time::Instant;

use crate::client::{Account, connect_via};
use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;

/// Group members besides the user.
const GROUP_PEERS: usize = 3;
/// REST calls of one user's setup in flight at once.
const PARALLEL: usize = 16;

/// Startup options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Users timed.
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    /// Channels per user (a fifth of them 1:1, the rest groups of four),
    /// each with one message from a peer.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=500))]
    pub channels: u64,
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let mut report = run.report("startup");
    report.param("users", args.users);
    report.param("channels", args.channels);
    let via = run.target.addrs.len().min(2) - 1;
    report.param("timed_at", run.target.addr(via).to_string());
    let channels = args.channels as usize;
    let direct = channels / 5;
    let (mut cold, mut warm) = (Latency::default(), Latency::default());
    for u in 0..args.users {
        let people = run
            .users(1 + direct.max(GROUP_PEERS), &format!("s{u}x"))
            .await?;
        let (me, peers) = (&people[0], &people[1..]);
        let made = channels_of(run, me, peers, direct, channels - direct).await?;
        let posts = made
            .iter()
            .enumerate()
            .map(|(i, (channel, who))| async move {
                let key = format!("s{u}-{i}");
                run.rest.send(who, *channel, &key, "hello there").await
            });
        run.in_order("messages", PARALLEL, posts).await?;
        for latency in [&mut cold, &mut warm] {
            let began = Instant::now();
            let (sink, source, _) = connect_via(&run.target, via, &me.token, &[]).await?;
            latency.record(began.elapsed());
            drop((sink, source));
        }
    }
    report.latency("ready_cold", &cold);
    report.latency("ready_warm", &warm);
    Ok(report)
}

/// `direct` 1:1 channels of `me` with a peer each, and `groups` groups of
/// `me` and the first peers; each with the peer who will post in it.
async fn channels_of<'a>(
    run: &Run,
    me: &Account,
    peers: &'a [Account],
    direct: usize,
    groups: usize,
) -> anyhow::Result<Vec<(u64, &'a Account)>> {
    let dms = peers[..direct].iter().map(|p| async move {
        let channel = run.rest.direct(me, p).await?;
        Ok((channel, p))
    });
    let mut made = run.in_order("1:1 channels", PARALLEL, dms).await?;
    let members: Vec<u64> = peers[..GROUP_PEERS].iter().map(|p| p.id).collect();
    let members = &members;
    let groups = (0..groups).map(|g| async move {
        let channel = run.rest.group(me, &format!("g{g}"), members).await?;
        Ok((channel, &peers[g % GROUP_PEERS]))
    });
    made.extend(run.in_order("groups", PARALLEL, groups).await?);
    Ok(made)
}
