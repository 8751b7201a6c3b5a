//! One connected member of a channel: sends at a fixed rate if it is a
//! sender, reads everything, times acks and deliveries, and checks order.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{FutureExt, SinkExt, Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::order::OrderCheck;
use crate::client::{self, Frame};
use crate::latency::Latency;
use crate::pause::Pause;
use crate::timeline::Timeline;

/// Frames handled per wake-up at most, so the timers still get their turn.
const DRAIN: usize = 32;

/// Timing and pacing shared by the scenarios built on members.
#[derive(Debug, clap::Args)]
pub struct Sending {
    /// Seconds of sending.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Seconds allowed after sending for the last deliveries.
    #[arg(long, default_value_t = 10)]
    pub drain_seconds: u64,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 200)]
    pub parallel: usize,
    /// A server stopped for a while during sending.
    #[command(flatten)]
    pub pause: crate::pause::PauseArgs,
}

/// What all members of one channel share.
#[derive(Debug, Default)]
pub struct ChannelTally {
    /// Messages acknowledged in the channel so far.
    pub acked: AtomicU64,
    /// Senders that have sent their last message and got every ack.
    pub senders_done: AtomicU64,
    /// How many senders the channel has.
    pub senders: u64,
}

impl ChannelTally {
    /// A fresh tally for each of `channels` channels of `senders` senders.
    pub fn each(channels: usize, senders: u64) -> Vec<Arc<ChannelTally>> {
        (0..channels)
            .map(|_| {
                Arc::new(ChannelTally {
                    senders,
                    ..ChannelTally::default()
                })
            })
            .collect()
    }
}

/// How one member behaves.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The member's user id.
    pub user_id: u64,
    /// The channel.
    pub channel: u64,
    /// Time between sends, if it sends.
    pub period: Option<Duration>,
    /// Delay after the start before the first send, to spread senders out.
    pub phase: Duration,
    /// How long to send for, from the start.
    pub send_for: Duration,
    /// How long after sending to wait at most for the last deliveries.
    pub drain_for: Duration,
    /// How often to heartbeat.
    pub heartbeat: Duration,
}

/// The start signal: `None` until every member is connected.
pub type Go = watch::Receiver<Option<Instant>>;

/// What one member saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `send` frames written.
    pub sent: u64,
    /// Acks received.
    pub acked: u64,
    /// `message` frames received (its own included).
    pub received: u64,
    /// Send → ack.
    pub ack: Latency,
    /// Error frames.
    pub errors: u64,
    /// Wrong answers.
    pub violations: Vec<String>,
    /// When the last message frame arrived.
    pub last_delivery: Option<Instant>,
    /// Deliveries per second, with send → deliver for others' messages
    /// (the only record of those latencies).
    pub timeline: Timeline,
}

/// Members that have finished, so that none hangs up while others still
/// wait for messages: a burst of disconnects is not part of the steady
/// state the scenarios measure.
#[derive(Debug)]
pub struct Finish {
    arrived: AtomicUsize,
    all: watch::Sender<bool>,
    total: usize,
}

impl Finish {
    /// A tally for `total` members.
    pub fn new(total: usize) -> Arc<Self> {
        Arc::new(Self {
            arrived: AtomicUsize::new(0),
            all: watch::channel(total == 0).0,
            total,
        })
    }

    /// Counts this member finished and waits, at most `limit`, for the rest.
    /// Only the last arrival wakes the waiters: waking every waiter at each
    /// arrival cost 10,000 members about 50 million wake-ups, which stalled
    /// the deliveries still in flight at the end of a run.
    async fn arrive_and_wait(&self, limit: Duration) {
        let mut all = self.all.subscribe();
        if self.arrived.fetch_add(1, Ordering::SeqCst) + 1 >= self.total {
            self.all.send_replace(true);
        }
        let _ = tokio::time::timeout(limit, all.wait_for(|&done| done)).await;
    }
}

/// Runs one member (see [`run_member`]); once every member has finished,
/// or `plan.drain_for` after this one did, closes its connection.
pub async fn member(
    mut sink: client::Sink,
    source: client::Source,
    plan: Plan,
    tally: Arc<ChannelTally>,
    go: Go,
    finish: Arc<Finish>,
) -> Outcome {
    let limit = plan.drain_for;
    let out = run_member(&mut sink, source, plan, tally, go).await;
    finish.arrive_and_wait(limit).await;
    let _ = sink.close().await;
    out
}

/// Heartbeats until the start, then runs one member until its channel is
/// drained or the deadline passes.
async fn run_member(
    sink: &mut client::Sink,
    mut source: client::Source,
    plan: Plan,
    tally: Arc<ChannelTally>,
    mut go: Go,
) -> Outcome {
    let mut out = Outcome::default();
    let mut beat = tokio::time::interval(plan.heartbeat);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let started = loop {
        tokio::select! {
            changed = go.changed() => {
                match (changed, *go.borrow()) {
                    (_, Some(at)) => break at,
                    (Err(_), None) => return out,
                    (Ok(()), None) => {}
                }
            }
            _ = beat.tick() => {
                if sink.send(client::ping_frame()).await.is_err() {
                    out.violations.push(format!("user {}: connection lost before the start", plan.user_id));
                    return out;
                }
            }
            frame = source.next() => {
                if !matches!(frame, Some(Ok(_))) {
                    out.violations.push(format!("user {}: connection closed before the start: {frame:?}", plan.user_id));
                    return out;
                }
            }
        }
    };
    let send_until = started + plan.send_for;
    let mut order = OrderCheck::default();
    let mut pending: HashMap<String, Instant> = HashMap::new();
    let period = plan.period.unwrap_or(Duration::from_secs(3600));
    let first = tokio::time::Instant::from_std(started + plan.phase);
    let mut ticks = tokio::time::interval_at(first, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sending = plan.period.is_some();
    // Made once: a timer made on every turn of the loop costs the load
    // generator more per frame than reading the frame does.
    let deadline =
        tokio::time::sleep_until(tokio::time::Instant::from_std(send_until + plan.drain_for));
    tokio::pin!(deadline);
    let mut recheck = tokio::time::interval(Duration::from_millis(100));
    recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
    'run: loop {
        if sending && Instant::now() >= send_until && pending.is_empty() {
            sending = false;
            tally.senders_done.fetch_add(1, Ordering::SeqCst);
        }
        let all_sent = tally.senders_done.load(Ordering::SeqCst) >= tally.senders;
        if !sending && all_sent && out.received >= tally.acked.load(Ordering::SeqCst) {
            break;
        }
        tokio::select! {
            _ = &mut deadline => break,
            _ = beat.tick() => {
                if sink.send(client::ping_frame()).await.is_err() {
                    out.violations.push(format!("user {}: connection lost", plan.user_id));
                    break;
                }
            }
            _ = ticks.tick(), if sending && Instant::now() < send_until => {
                let key = format!("{}-{}", plan.user_id, out.sent);
                pending.insert(key.clone(), Instant::now());
                if sink.send(client::send_frame(plan.channel, &key)).await.is_err() {
                    out.violations.push(format!("user {}: connection lost while sending", plan.user_id));
                    break;
                }
                out.sent += 1;
            }
            // Checks the exit condition again now and then.
            _ = recheck.tick() => {}
            frame = source.next() => {
                // Frames already read from the socket are handled now,
                // without polling every timer again for each one.
                let open = take_ready(frame, &mut source, DRAIN, |frame| {
                    receive(&plan, &tally, &mut out, &mut order, &mut pending, frame)
                });
                if !open {
                    break 'run;
                }
            }
        }
    }
    if sending {
        tally.senders_done.fetch_add(1, Ordering::SeqCst);
    }
    let expected = tally.acked.load(Ordering::SeqCst);
    if out.received != expected {
        out.violations.push(format!(
            "user {} in channel {}: received {} of {expected} acknowledged messages",
            plan.user_id, plan.channel, out.received
        ));
    }
    out
}

/// Hands `first` (what `stream.next()` gave), then up to `limit - 1` more
/// results that `stream` has ready now, to `take`, stopping when it
/// returns `false` (which this returns). `None` is the stream's end.
/// Nothing is taken off the stream that is not handed on.
fn take_ready<S: Stream + Unpin>(
    first: Option<S::Item>,
    stream: &mut S,
    limit: usize,
    mut take: impl FnMut(Option<S::Item>) -> bool,
) -> bool {
    let mut item = first;
    for taken in 1..=limit {
        let ended = item.is_none();
        if !take(item) {
            return false;
        }
        if ended || taken == limit {
            break;
        }
        match stream.next().now_or_never() {
            Some(more) => item = more,
            None => break,
        }
    }
    true
}

/// Takes one frame off the connection; `false` when it closed instead.
fn receive(
    plan: &Plan,
    tally: &ChannelTally,
    out: &mut Outcome,
    order: &mut OrderCheck,
    pending: &mut HashMap<String, Instant>,
    frame: Option<Result<Message, WsError>>,
) -> bool {
    let text = match frame {
        Some(Ok(Message::Text(text))) => text,
        Some(Ok(_)) => return true,
        other => {
            let user = plan.user_id;
            out.violations
                .push(format!("user {user}: connection closed: {other:?}"));
            return false;
        }
    };
    match serde_json::from_str::<Frame<'_>>(text.as_str()) {
        Ok(frame) => handle(plan, tally, out, order, pending, frame),
        Err(_) => out.violations.push(format!("unreadable frame: {text}")),
    }
    true
}

fn handle(
    plan: &Plan,
    tally: &ChannelTally,
    out: &mut Outcome,
    order: &mut OrderCheck,
    pending: &mut HashMap<String, Instant>,
    frame: Frame<'_>,
) {
    match frame.kind.as_ref() {
        "ack" => {
            if let Some(sent) = frame.client_msg_id.and_then(|k| pending.remove(k.as_ref())) {
                out.ack.record(sent.elapsed());
                out.acked += 1;
                tally.acked.fetch_add(1, Ordering::SeqCst);
            }
        }
        "message" => {
            let Some(m) = frame.message() else { return };
            let now = Instant::now();
            out.received += 1;
            out.last_delivery = Some(now);
            if let Err(e) = order.see(m.channel_id, m.id) {
                out.violations.push(format!("user {}: {e}", plan.user_id));
            }
            let age = (m.sender_id != plan.user_id)
                .then(|| client::age(&m.text))
                .flatten();
            // The timeline keeps every send → deliver sample.
            out.timeline.event(now, age);
        }
        "error" => {
            out.errors += 1;
            if let Some(key) = frame.client_msg_id {
                pending.remove(key.as_ref());
            }
            if out.errors <= 3 {
                eprintln!("user {}: error {:?}", plan.user_id, frame.code);
            }
        }
        _ => {}
    }
}

/// Sums the outcomes, each with the index of the server its member was
/// connected to, into the report; with several servers, send → deliver is
/// also reported per server (`send_to_deliver_via_N`, N from 0).
fn tally_into(
    report: &mut crate::stats::Report,
    outcomes: Vec<(usize, Outcome)>,
    servers: usize,
    window: Duration,
) {
    let mut ack = Latency::default();
    let mut timeline = Timeline::default();
    let mut per_server = vec![Latency::default(); if servers > 1 { servers } else { 0 }];
    let (mut sent, mut acked, mut received) = (0, 0, 0);
    for (via, o) in outcomes {
        ack.merge(&o.ack);
        if let Some(l) = per_server.get_mut(via) {
            l.merge(&o.timeline.latency());
        }
        timeline.merge(o.timeline);
        sent += o.sent;
        acked += o.acked;
        received += o.received;
        report.errors += o.errors;
        for v in o.violations {
            report.violation(v);
        }
    }
    let secs = window.as_secs_f64().max(0.001);
    report.figure("messages_sent", sent as f64);
    report.figure("messages_acked", acked as f64);
    report.figure("deliveries", received as f64);
    report.figure("achieved_messages_per_sec", acked as f64 / secs);
    report.figure("deliveries_per_sec", received as f64 / secs);
    report.latency("send_to_ack", &ack);
    report.latency("send_to_deliver", &timeline.latency());
    for (via, latency) in per_server.iter().enumerate() {
        report.latency(&format!("send_to_deliver_via_{via}"), latency);
    }
    report.timeline("send_to_deliver", "deliveries", timeline);
}

/// The server member `i` connects to: `i` modulo their number, so every
/// channel spans them all; a sender skips the server that will be paused,
/// so what the pause delays is delivery, not sending.
fn via_for(i: usize, sends: bool, servers: usize, paused: Option<usize>) -> usize {
    let via = i % servers;
    match paused {
        Some(p) if sends && via == p => (via + 1) % servers,
        _ => via,
    }
}

/// Connects every member as planned and starts its task at once (so it
/// heartbeats while the others connect), starts them all together, waits
/// for all, and adds what they saw to `report`.
pub async fn run_all(
    run: &crate::run::Run,
    members: Vec<(crate::client::Account, Plan, Arc<ChannelTally>)>,
    sending: &Sending,
    report: &mut crate::stats::Report,
) -> anyhow::Result<()> {
    report.param("seconds", sending.seconds);
    let servers = run.target.addrs.len();
    let pause = Pause::plan(&sending.pause, &run.server_pids, servers, sending.seconds)?;
    if let Some(p) = &pause {
        report.param("paused_server", p.server);
        report.param("pause_after_seconds", sending.pause.pause_after);
        report.param("pause_seconds", sending.pause.pause_seconds);
    }
    let (go_tx, go) = watch::channel(None);
    let finish = Finish::new(members.len());
    // Member i connects to server i (mod their number), so with several
    // edges every channel spans them all.
    let connects = members
        .into_iter()
        .enumerate()
        .map(|(i, (account, mut plan, tally))| {
            let (go, finish) = (go.clone(), finish.clone());
            let via = via_for(i, plan.period.is_some(), servers, pause.map(|p| p.server));
            async move {
                let (sink, source, heartbeat) =
                    client::spawn_connect_via(&run.target, via, &account.token, &[]).await?;
                plan.heartbeat = heartbeat;
                let task = tokio::spawn(member(sink, source, plan, tally, go, finish));
                anyhow::Ok((via, task))
            }
        });
    let tasks = run.in_order("connect", sending.parallel, connects).await?;
    let started = Instant::now() + Duration::from_millis(500);
    go_tx.send_replace(Some(started));
    let cpu = crate::stats::CpuMark::now(&run.server_pids);
    let pausing = pause.map(|p| tokio::spawn(p.run(started)));

    let bar = run.progress(sending.seconds as usize, "send (s)");
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
    for (via, task) in tasks {
        outcomes.push((via, task.await?));
    }
    ticker.abort();
    bar.finish_and_clear();
    if let Some(pausing) = pausing {
        pausing.await??;
    }
    cpu.report_since(&run.server_pids, "sending", report);
    let last = outcomes.iter().filter_map(|(_, o)| o.last_delivery).max();
    let window = last.map_or(Duration::from_secs(sending.seconds), |l| l - started);
    tally_into(report, outcomes, run.target.addrs.len(), window);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_spread_over_servers_and_senders_avoid_the_paused_one() {
        let vias: Vec<usize> = (0..6).map(|i| via_for(i, false, 3, None)).collect();
        assert_eq!(vias, [0, 1, 2, 0, 1, 2]);
        assert_eq!(via_for(2, false, 3, Some(2)), 2, "a reader stays");
        assert_eq!(via_for(2, true, 3, Some(2)), 0, "a sender moves");
        assert_eq!(via_for(1, true, 3, Some(2)), 1);
        assert_eq!(via_for(5, true, 1, None), 0);
    }

    #[test]
    fn take_ready_hands_on_at_most_limit_and_loses_none() {
        let mut stream = futures::stream::iter(1..=100);
        let mut got = Vec::new();
        assert!(take_ready(Some(0), &mut stream, 32, |i| {
            got.extend(i);
            true
        }));
        assert_eq!(got, (0..32).collect::<Vec<_>>());
        // The 33rd item is still there for the next call.
        assert_eq!(stream.next().now_or_never(), Some(Some(32)));
    }

    #[test]
    fn take_ready_stops_when_told_or_when_nothing_is_ready() {
        let mut stream = futures::stream::iter(1..=10);
        let mut seen = 0;
        assert!(!take_ready(Some(0), &mut stream, 32, |i| {
            seen += 1;
            i.is_some_and(|i| i < 3)
        }));
        assert_eq!(seen, 4);
        assert_eq!(stream.next().now_or_never(), Some(Some(4)));

        let mut pending = futures::stream::pending::<u32>();
        let mut seen = 0;
        assert!(take_ready(Some(7), &mut pending, 32, |_| {
            seen += 1;
            true
        }));
        assert_eq!(seen, 1);

        // The end of the stream is handed on too.
        let mut ended = futures::stream::iter([1]);
        let mut got = Vec::new();
        take_ready(Some(0), &mut ended, 32, |i| {
            got.push(i);
            true
        });
        assert_eq!(got, [Some(0), Some(1), None]);
    }

    #[tokio::test]
    async fn finish_releases_every_member_only_when_the_last_arrives() {
        let finish = Finish::new(3);
        let hour = Duration::from_secs(3600);
        let early: Vec<_> = (0..2)
            .map(|_| {
                let finish = finish.clone();
                tokio::spawn(async move { finish.arrive_and_wait(hour).await })
            })
            .collect();
        // Both have arrived, and still wait for the third.
        while finish.arrived.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        tokio::task::yield_now().await;
        assert!(early.iter().all(|task| !task.is_finished()));
        tokio::time::timeout(Duration::from_secs(10), finish.arrive_and_wait(hour))
            .await
            .expect("the last arrival does not wait");
        for task in early {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("released by the last arrival")
                .expect("did not panic");
        }
    }
}
