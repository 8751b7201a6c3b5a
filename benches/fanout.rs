//! Micro-benchmark of fan-out to local sessions: `Registry::deliver` queues
//! one shared, already-encoded `message` frame (an `Arc<str>`) on every
//! session of its recipients, for 100 users with one session each and for
//! one user with 100 sessions.
//!
//! The registry talks to a real core (`CoreService` over `SqliteStore`, in
//! memory as `src/main.rs` wires it: gRPC over the in-memory link), which `register` calls; `deliver`
//! itself never leaves the edge.
//!
//! Run with `cargo bench -p chat --bench fanout`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_core::{CoreConfig, CoreService, SqliteStore};
use chat_edge::core_client::CoreClient;
use chat_edge::protocol::events::encode_event;
use chat_edge::protocol::{Delivery, SharedFrame};
use chat_edge::registry::{Entry, Kick, Registry};
use chat_proto::v1 as pb;
use chat_proto::v1::chat_core_server::ChatCoreServer;
use chat_proto::v1::event::Kind;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

/// Each session's outbound queue, as `edge.outbound_queue` defaults.
const QUEUE: usize = 1024;
/// Deliveries timed between two drains of the queues: far below [`QUEUE`],
/// so no session is ever kicked as too slow, and the queues stay as short
/// as those of sessions that keep up.
const DRAIN_EVERY: u64 = 16;

/// One registry and the receiving ends of its sessions' queues.
struct Scenario {
    registry: Registry,
    recipients: Vec<u64>,
    receivers: Vec<flume::Receiver<Delivery>>,
}

impl Scenario {
    /// Registers `per_user` sessions for each of `users` on a fresh
    /// registry of edge `edge_id`.
    fn new(rt: &Runtime, core: &CoreClient, edge_id: u64, users: &[u64], per_user: u64) -> Self {
        let registry = Registry::new(core.clone(), edge_id, Default::default());
        let mut receivers = Vec::new();
        rt.block_on(async {
            let mut session_id = 0;
            for &user in users {
                for _ in 0..per_user {
                    session_id += 1;
                    let (tx, rx) = flume::bounded(QUEUE);
                    let entry = Entry {
                        session_id,
                        token_id: user,
                        tx,
                        kick: Arc::new(Kick::default()),
                        ended: Arc::default(),
                    };
                    registry
                        .register(user, entry)
                        .await
                        .expect("the core accepts the session");
                    receivers.push(rx);
                }
            }
        });
        assert_eq!(registry.session_count(), receivers.len());
        Self {
            registry,
            recipients: users.to_vec(),
            receivers,
        }
    }

    /// Empties every queue and returns how many frames were in them.
    fn drain(&mut self) -> usize {
        let mut frames = 0;
        for rx in &mut self.receivers {
            while let Ok(delivery) = rx.try_recv() {
                assert!(
                    matches!(delivery, Delivery::Frame(_)),
                    "no session is told to close"
                );
                frames += 1;
            }
        }
        frames
    }
}

fn fanout(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temp dir for the store");
    let core: CoreClient = rt.block_on(async {
        let store = SqliteStore::open(dir.path()).expect("the store opens in a fresh dir");
        let core = CoreService::start(store, CoreConfig::default())
            .await
            .expect("the core starts");
        let stop = tokio_util::sync::CancellationToken::new();
        let (channel, link) = chat_proto::link::memory::link(ChatCoreServer::from_arc(core), stop);
        tokio::spawn(link);
        CoreClient::over(channel, Default::default())
    });

    let event = Kind::Message(pb::MessageCreated {
        message: Some(pb::Message {
            id: 368_934_881_474_195_456,
            channel_id: 368_934_881_474_191_032,
            sender_id: 1,
            text: "The quick brown fox jumps over the lazy dog. ".repeat(2),
            client_msg_id: "0b7f6c1e-5d2a-4f0e-9a43-2c1d8e7f6a5b".to_owned(),
            created_at_ms: 1_763_900_000_000,
            ..Default::default()
        }),
        origin_session: 0,
    });
    let (text, position) = encode_event(event).expect("a message event is a frame");
    let frame = Arc::new(SharedFrame {
        text,
        position,
        ahead: Box::default(),
    });

    let many_users: Vec<u64> = (1..=100).collect();
    let scenarios = [
        (
            "100_users_x_1_session",
            Scenario::new(&rt, &core, 1, &many_users, 1),
        ),
        (
            "1_user_x_100_sessions",
            Scenario::new(&rt, &core, 2, &[1_000], 100),
        ),
    ];

    let mut group = c.benchmark_group("fanout");
    for (name, mut scenario) in scenarios {
        let sessions = scenario.receivers.len();
        assert_eq!(sessions, 100);
        group.throughput(Throughput::Elements(sessions as u64));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let chunk = left.min(DRAIN_EVERY);
                    let start = Instant::now();
                    for _ in 0..chunk {
                        black_box(
                            scenario
                                .registry
                                .deliver(black_box(&scenario.recipients), &frame),
                        );
                    }
                    timed += start.elapsed();
                    // Outside the timing: the sessions' tasks would do this.
                    let frames = scenario.drain();
                    assert_eq!(
                        frames,
                        chunk as usize * sessions,
                        "every session got every frame"
                    );
                    left -= chunk;
                }
                timed
            });
        });
    }
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
