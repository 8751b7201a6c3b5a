//! History: pages through a long channel over REST, timing each page and
//! checking that the pages hold every message once, in order.

use std::time::Instant;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Frame};
use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;
use crate::timeline::Timeline;

/// History options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages in the channel.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Messages per page (at most the server's limit, 100 by default).
    #[arg(long, default_value_t = 100)]
    pub page: u32,
    /// Times to page through the whole channel.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
}

/// Sends not yet acknowledged while seeding.
const WINDOW: usize = 256;

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let mut report = run.report("history");
    report.param("messages", args.messages);
    report.param("page", args.page);
    report.param("passes", args.passes);
    let users = run.users(2, "h").await?;
    let channel = run.rest.direct(&users[0], &users[1]).await?;
    let (mut sink, mut source, _) = client::connect(&run.target, &users[0].token, &[]).await?;
    let bar = run.progress(args.messages, "seed");
    let (mut next_key, mut acked) = (0, 0);
    let mut retry: Vec<String> = Vec::new();
    let mut in_flight = 0;
    while acked < args.messages {
        // Within the server's frame rate limit: refused sends are retried.
        while in_flight < WINDOW && (next_key < args.messages || !retry.is_empty()) {
            let key = retry.pop().unwrap_or_else(|| {
                next_key += 1;
                format!("h{}", next_key - 1)
            });
            sink.send(client::send_frame(channel, &key)).await?;
            in_flight += 1;
        }
        let next = tokio::time::timeout(client::STEP, source.next()).await?;
        let Some(Ok(Message::Text(text))) = next else {
            anyhow::bail!("seeding connection ended: {next:?}");
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        match (
            frame.kind.as_ref(),
            frame.code.as_deref(),
            frame.client_msg_id,
        ) {
            ("ack", _, _) => {
                acked += 1;
                in_flight -= 1;
                bar.inc(1);
            }
            ("error", Some("rate_limited"), Some(key)) => {
                in_flight -= 1;
                retry.push(key.into_owned());
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            ("error", _, _) => anyhow::bail!("seeding refused: {text}"),
            _ => {}
        }
    }
    bar.finish_and_clear();

    let mut latency = Latency::default();
    let mut timeline = Timeline::default();
    let started = Instant::now();
    let mut pages = 0u64;
    for pass in 0..args.passes {
        let (mut after, mut count) = (0, 0);
        loop {
            let began = Instant::now();
            let (ids, more) = run
                .rest
                .history_after(&users[1], channel, after, args.page)
                .await?;
            let took = began.elapsed();
            latency.record(took);
            timeline.event(began + took, Some(took));
            pages += 1;
            for id in &ids {
                if *id <= after {
                    report.violation(format!("pass {pass}: id {id} after {after}"));
                }
                after = *id;
            }
            count += ids.len();
            if !more {
                break;
            }
        }
        if count != args.messages {
            report.violation(format!(
                "pass {pass}: {count} of {} messages",
                args.messages
            ));
        }
    }
    report.figure("pages", pages as f64);
    report.figure(
        "pages_per_sec",
        pages as f64 / started.elapsed().as_secs_f64(),
    );
    report.latency("page", &latency);
    report.timeline("page", "pages", timeline);
    Ok(report)
}
