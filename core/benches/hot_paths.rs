//! Micro-benchmarks of the core's hot paths: issuing message ids with
//! [`IdGenerator::next`], and appending a batch of 1, 64 or 512 messages to
//! [`SqliteStore`] through the [`MessageStore`] trait (one durable transaction per
//! batch, as the append pipeline writes them).
//!
//! Run with `cargo bench -p chat-core --bench hot_paths`.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use chat_core::SqliteStore;
use chat_core::ids::{EPOCH_MS, IdGenerator};
use chat_core::store::{
    AccountStore, ChannelKind, ChannelRecord, ChannelStore, Fence, Id, MessageStore, NewMessage,
    UserRecord,
};
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use tokio::runtime::Runtime;

/// A fixed wall clock well inside the id layout's range.
const T0: u64 = EPOCH_MS + 1_000_000_000;

/// The wall clock in Unix milliseconds, read the way the service reads it.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn ids(c: &mut Criterion) {
    let mut group = c.benchmark_group("ids");
    group.throughput(Throughput::Elements(1));
    // Many ids in one millisecond: the sequence counts up, and every 4096
    // ids the generator borrows the next millisecond.
    group.bench_function("next/same_millisecond", |b| {
        let mut generator = IdGenerator::new(1, 0);
        b.iter(|| generator.next(black_box(T0)));
    });
    // The clock moves on at every call: the sequence restarts each time.
    group.bench_function("next/new_millisecond", |b| {
        let mut generator = IdGenerator::new(1, 0);
        let mut now = T0;
        b.iter(|| {
            now += 1;
            generator.next(black_box(now))
        });
    });
    // What the service pays per id, clock read included (but not its mutex).
    group.bench_function("next/wall_clock", |b| {
        let mut generator = IdGenerator::new(1, 0);
        b.iter(|| generator.next(now_ms()));
    });
    group.finish();
}

const SENDER: Id = 1;
const CHANNEL: Id = 10;

/// A store in a fresh directory with one user and one group channel, as the
/// contract tests set it up.
fn seeded_store(rt: &Runtime) -> (SqliteStore, tempfile::TempDir) {
    // Under the target directory rather than the system temp dir: /tmp may
    // be a tmpfs, where fsync costs nothing and the numbers would flatter.
    let dir = tempfile::Builder::new()
        .prefix("hot_paths-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temp dir under the target directory");
    let store = SqliteStore::open(dir.path()).expect("the store opens in a fresh dir");
    rt.block_on(async {
        store
            .create_user(UserRecord::new(
                SENDER,
                "ann".to_owned(),
                "$argon2id$fake".to_owned(),
                1,
            ))
            .await
            .expect("the sender is created");
        store
            .create_channel(
                ChannelRecord {
                    id: CHANNEL,
                    kind: ChannelKind::Group,
                    name: "bench".to_owned(),
                    owner_id: SENDER,
                    direct_key: None,
                    created_at_ms: 2,
                    last_message_id: 0,
                },
                vec![SENDER],
            )
            .await
            .expect("the channel is created");
    });
    (store, dir)
}

/// `n` new messages with ids from `*next_id` on: every id and every
/// `client_msg_id` is fresh, so each one is a real insert, not a duplicate.
fn batch(next_id: &mut Id, n: usize) -> Vec<NewMessage> {
    (0..n)
        .map(|_| {
            let id = *next_id;
            *next_id += 1;
            // 100 characters, a typical chat line.
            let head = format!("message {id} ");
            NewMessage {
                id,
                channel_id: CHANNEL,
                sender_id: SENDER,
                client_msg_id: format!("c-{id}"),
                text: format!("{head:-<100}"),
                created_at_ms: 3,
                ..Default::default()
            }
        })
        .collect()
}

fn append(c: &mut Criterion) {
    // `SqliteStore` runs each call on tokio's blocking pool, so it needs a
    // runtime; a current-thread one adds the least of its own.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (store, _dir) = seeded_store(&rt);
    let mut next_id: Id = 1_000;

    let mut group = c.benchmark_group("store_append");
    // Each iteration is one transaction committed with `synchronous = FULL`
    // in WAL mode: an fsync of the log per batch, which costs milliseconds
    // and dominates the small batches. Flat sampling with few samples keeps
    // a run short; the figures depend on the disk more than on the code.
    group.sampling_mode(SamplingMode::Flat);
    for n in [1_usize, 64, 512] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("sqlite", n), &n, |b, &n| {
            b.iter_batched(
                || batch(&mut next_id, n),
                |messages| {
                    let appended = rt
                        .block_on(store.append(Fence::single_node(1), messages))
                        .expect("the append succeeds");
                    debug_assert_eq!(appended.len(), n);
                    appended
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(id_benches, ids);
criterion_group! {
    name = store_benches;
    // Few samples: each is a series of fsync'd commits. `--sample-size`
    // on the command line still overrides this.
    config = Criterion::default().sample_size(10);
    targets = append
}
criterion_main!(id_benches, store_benches);
