//! A change of network: receivers on WebTransport, each through a UDP relay
//! of its own, while their partners send steadily; then every relay moves
//! to a new port at once (phones leaving Wi-Fi for mobile data: the server
//! sees their packets come from a new address). QUIC connection migration
//! should carry each session on, with no new handshake or `hello`. Reports,
//! per receiver, the time from the move to the arrival of the first
//! message sent after it, and checks that each receiver got every message
//! its partner's acks name, once, in order.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use loadtest::relay::UdpRelay;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Frame};
use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;
use crate::wt;

/// Network-change options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Receivers, each with a sender of its own in a 1:1 channel.
    #[arg(long, default_value_t = 50)]
    pub pairs: usize,
    /// Messages each sender posts per second.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Seconds of sending before the move, and again after it.
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Receivers send nothing at the move (a NAT rebinding the client does
    /// not notice): the server learns the new address only from the
    /// client's next packet, a QUIC keep-alive within 10 s. Without it each
    /// receiver sends a `ping` at the move, as a client told of a network
    /// change by its system does.
    #[arg(long)]
    pub silent: bool,
}

/// How long a receiver may wait for the messages after the senders stop.
const DRAIN: Duration = Duration::from_secs(15);

/// What one sender did: the ids its acks named, in order.
async fn send(
    mut sink: client::Sink,
    mut source: client::Source,
    channel: u64,
    period: Duration,
    count: usize,
) -> anyhow::Result<Vec<u64>> {
    let mut ticks = tokio::time::interval(period);
    let mut acked = Vec::with_capacity(count);
    let mut sent = 0;
    let deadline = tokio::time::sleep(period * count as u32 + DRAIN);
    tokio::pin!(deadline);
    while acked.len() < count {
        tokio::select! {
            _ = &mut deadline => anyhow::bail!("{} of {count} sends acked in time", acked.len()),
            _ = ticks.tick(), if sent < count => {
                sink.send(client::send_frame(channel, &format!("m-{sent}"))).await?;
                sent += 1;
            }
            next = source.next() => {
                let Some(Ok(Message::Text(text))) = next else {
                    anyhow::bail!("sender connection ended: {next:?}");
                };
                let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
                match (frame.kind.as_ref(), frame.message()) {
                    ("ack", Some(m)) => acked.push(m.id),
                    ("error", _) => anyhow::bail!("send refused: {text}"),
                    _ => {}
                }
            }
        }
    }
    let _ = sink.close().await;
    Ok(acked)
}

/// What one receiver saw: message ids in arrival order, and how long after
/// the move the first message sent after it arrived.
async fn receive(
    mut sink: client::Sink,
    mut source: client::Source,
    heartbeat: Duration,
    expect: usize,
    mut moved: watch::Receiver<Option<Duration>>,
    nudge: bool,
) -> anyhow::Result<(Vec<u64>, Option<Duration>)> {
    let mut ids = Vec::with_capacity(expect);
    let mut resumed = None;
    let mut beat = client::heartbeat(heartbeat);
    let mut nudged = !nudge;
    while ids.len() < expect {
        let next = tokio::select! {
            changed = moved.changed(), if !nudged => {
                changed?;
                nudged = true;
                sink.send(client::ping_frame()).await?;
                continue;
            }
            next = client::next_beating(&mut sink, &mut source, &mut beat, DRAIN) => next?,
        };
        let Some(Message::Text(text)) = next else {
            anyhow::bail!("receiver connection ended: {next:?}");
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        let Some(m) = frame.message().filter(|_| frame.kind == "message") else {
            continue;
        };
        ids.push(m.id);
        let moved_at = *moved.borrow();
        if let (None, Some(at), Some(age)) = (resumed, moved_at, client::age(&m.text)) {
            let now = client::since_start();
            if now.saturating_sub(age) >= at {
                resumed = Some(now.saturating_sub(at));
            }
        }
    }
    let _ = sink.close().await;
    Ok((ids, resumed))
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let pairs = args.pairs.max(1);
    let rate = args.rate.clamp(0.1, 1000.0);
    let period = Duration::from_secs_f64(1.0 / rate);
    let count = ((args.seconds.max(1) * 2) as f64 * rate).ceil() as usize;
    let mut report = run.report("migrate");
    report.param("pairs", pairs);
    report.param("messages_per_sec_per_sender", rate);
    report.param("messages_per_sender", count);
    report.param("receivers_ping_at_the_move", !args.silent);
    let accounts = run.users(pairs * 2, "g").await?;
    let directs = accounts
        .chunks(2)
        .map(|pair| run.rest.direct(&pair[0], &pair[1]));
    let channels = run.in_order("channels", 32, directs).await?;
    let udp = wt::udp_addr(run.target.rest_addr()).await?;

    let (moved_tx, moved_rx) = watch::channel(None);
    let mut relays = Vec::with_capacity(pairs);
    let mut receivers = Vec::with_capacity(pairs);
    let mut sides = Vec::with_capacity(pairs);
    for (pair, channel) in accounts.chunks(2).zip(&channels) {
        let relay = UdpRelay::start(udp).await?;
        let (sink, source, beat) =
            client::connect_wt_through(&run.target, relay.addr, &pair[1].token).await?;
        relays.push(relay);
        receivers.push(tokio::spawn(receive(
            sink,
            source,
            beat,
            count,
            moved_rx.clone(),
            !args.silent,
        )));
        sides.push((pair[0].token.clone(), *channel));
    }
    let mut senders = Vec::with_capacity(pairs);
    for (token, channel) in sides {
        let (sink, source, _) = client::connect(&run.target, &token, &[]).await?;
        senders.push(tokio::spawn(send(sink, source, channel, period, count)));
    }

    tokio::time::sleep(Duration::from_secs(args.seconds.max(1))).await;
    moved_tx.send_replace(Some(client::since_start()));
    for relay in &relays {
        relay.move_network().await?;
    }

    let mut resume = Latency::default();
    let mut lost = 0usize;
    for (sender, receiver) in senders.into_iter().zip(receivers) {
        let acked = sender.await??;
        let (ids, resumed) = receiver.await??;
        if ids != acked {
            report.violation(format!(
                "a receiver got {} messages, its partner's acks name {}, not the same in order",
                ids.len(),
                acked.len()
            ));
        }
        match resumed {
            Some(d) => resume.record(d),
            None => lost += 1,
        }
    }
    if lost > 0 {
        report.violation(format!(
            "{lost} receivers got no message sent after the move"
        ));
    }
    report.figure("receivers_resumed", (pairs - lost) as f64);
    report.latency("resume_after_network_change", &resume);
    drop(relays);
    Ok(report)
}
