//! Browse: what a client reads while it looks around, one read at a time
//! over REST, each timed: a member's profile, a group's member list with
//! profiles, and an autocomplete search. Run against an edge with its
//! metadata cache on and off (`CHAT_EDGE__METADATA_CACHE_BYTES=0`) to see
//! what the cache saves. Each reader first reads every key once, untimed,
//! so the figures are of a warm edge (a cold read is a core round trip;
//! `startup` times cold and warm connects).

use std::time::Instant;

use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;

/// Browse options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Members of the group browsed (2 to 100).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(2..=100))]
    pub members: u64,
    /// Reads of each kind.
    #[arg(long, default_value_t = 1000)]
    pub reads: usize,
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let mut report = run.report("browse");
    report.param("members", args.members);
    report.param("reads", args.reads);
    let n = args.members as usize;
    let users = run.users(n, "b").await?;
    let ids: Vec<u64> = users[1..].iter().map(|u| u.id).collect();
    let group = run.rest.group(&users[0], "browse", &ids).await?;
    let prefix = format!("{}b", run.prefix());
    let paths = [
        ("profile", None),
        ("members", Some(format!("/api/v1/channels/{group}/members"))),
        (
            "search",
            Some(format!("/api/v1/users?prefix={prefix}&limit=10")),
        ),
    ];
    let warm_up = (n * paths.len()).min(args.reads * paths.len());
    let bar = run.progress(warm_up + args.reads * paths.len(), "read");
    // The `i`th read: who reads what (readers take turns, within the
    // per-user REST limit; a profile read asks for the next reader's).
    let read = |path: &Option<String>, i: usize| {
        let path = path
            .clone()
            .unwrap_or_else(|| format!("/api/v1/users/{}", users[(i + 1) % n].id));
        (&users[i % n], path)
    };
    for (_, path) in &paths {
        for i in 0..n.min(args.reads) {
            let (reader, path) = read(path, i);
            run.rest.get(reader, &path).await?;
            bar.inc(1);
        }
    }
    let started = Instant::now();
    for (kind, path) in &paths {
        let mut latency = Latency::default();
        for i in 0..args.reads {
            let (reader, path) = read(path, i);
            let began = Instant::now();
            let body = run.rest.get(reader, &path).await?;
            latency.record(began.elapsed());
            bar.inc(1);
            let ok = match *kind {
                "members" => body["members"].as_array().is_some_and(|m| m.len() == n),
                "search" => body["users"]
                    .as_array()
                    .is_some_and(|u| u.len() == n.min(10)),
                _ => body["id"].is_string(),
            };
            if !ok {
                report.violation(format!("{kind}: unexpected answer {body}"));
            }
        }
        report.latency(kind, &latency);
    }
    bar.finish_and_clear();
    let reads = (args.reads * paths.len()) as f64;
    report.figure("reads_per_sec", reads / started.elapsed().as_secs_f64());
    Ok(report)
}
