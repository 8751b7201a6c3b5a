//! WAL checkpoints off the write path. SQLite's automatic checkpoint runs
//! inside the commit that crosses its threshold, so about one message batch
//! in a hundred waited (usually 1–5 ms, up to 34 ms) for pages of earlier
//! batches to be copied into the database and synced. Here the writer only
//! notes how long the log has grown; a thread of its own copies it back,
//! beside the writer (WAL allows that). The log restarts only at a write
//! that begins after a complete checkpoint, which a checkpointer racing
//! steady commits never leaves behind; so once the log reaches
//! [`Wal::inline_at`] the writer checkpoints itself, copying the little the
//! checkpointer has not, and the log restarts. That also bounds the log if
//! the checkpointer falls behind.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rusqlite::Connection;
use rusqlite::hooks::Wal as WalHandle;

thread_local! {
    /// Frames in the log after the last commit on this thread's connection.
    static LOG_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

/// Runs inside every commit on the writer; may not capture, so it leaves
/// the log's length where the writer thread will look.
fn note_frames(_: &WalHandle, frames: c_int) -> rusqlite::Result<()> {
    LOG_FRAMES.with(|f| f.set(frames));
    Ok(())
}

/// When to checkpoint, in log frames (pages).
#[derive(Debug, Clone, Copy)]
pub struct Wal {
    /// The checkpointer starts at this length (SQLite's own default: 1,000).
    pub background_at: c_int,
    /// The writer checkpoints itself at this length, so the log restarts.
    pub inline_at: c_int,
}

impl Default for Wal {
    fn default() -> Self {
        Self {
            background_at: 1_000,
            inline_at: 8_000,
        }
    }
}

/// Checkpoints done, by where they ran.
#[derive(Debug, Default)]
pub struct Counts {
    /// On the checkpointer thread.
    pub background: AtomicU64,
    /// On the writer, because the log grew past `inline_at`.
    pub inline: AtomicU64,
}

/// The writer's side: call [`Trigger::after_write`] after each write job.
pub struct Trigger {
    wal: Wal,
    wake: Sender<()>,
    counts: Arc<Counts>,
    /// The log's length when the checkpointer was last woken.
    woken_at: Cell<c_int>,
}

/// Turns off SQLite's automatic checkpoint on `writer` and returns the
/// writer's trigger and the checkpointer's loop (to run on its own thread,
/// with its own connection).
pub fn split(
    writer: &Connection,
    wal: Wal,
    counts: Arc<Counts>,
) -> (Trigger, impl FnOnce(Connection) + Send + 'static) {
    // Registering the hook replaces SQLite's automatic checkpoint.
    writer.wal_hook(Some(note_frames));
    let (wake, woken) = crossbeam_channel::bounded(1);
    let background = counts.clone();
    let run = move |conn: Connection| serve(&conn, &woken, &background);
    let trigger = Trigger {
        wal,
        wake,
        counts,
        woken_at: Cell::new(0),
    };
    (trigger, run)
}

impl Trigger {
    /// Wakes the checkpointer each time the log has grown by
    /// `background_at` frames, or checkpoints here if it is too long.
    ///
    /// The log's length is not what to compare: a passive checkpoint
    /// copies pages back but the log restarts only at a later write with
    /// no reader in it, so under steady traffic it can stay past
    /// `background_at` for many commits. Waking on length alone ran a
    /// checkpoint, with its two fsyncs, after nearly every commit.
    pub fn after_write(&self, writer: &Connection) {
        let frames = LOG_FRAMES.with(|f| f.replace(0));
        if frames == 0 {
            return; // nothing was committed
        }
        if frames < self.woken_at.get() {
            self.woken_at.set(0); // the log restarted
        }
        if frames >= self.wal.inline_at {
            if run_one(writer, "inline") {
                self.counts.inline.fetch_add(1, Ordering::Relaxed);
            }
        } else if frames - self.woken_at.get() >= self.wal.background_at {
            self.woken_at.set(frames);
            // Full means a wake-up is already waiting: one is enough.
            if let Err(TrySendError::Disconnected(())) = self.wake.try_send(()) {
                tracing::warn!("checkpointer stopped");
            }
        }
    }
}

/// Checkpoints once per wake-up until the writer is gone.
fn serve(conn: &Connection, woken: &Receiver<()>, counts: &Counts) {
    while woken.recv().is_ok() {
        if run_one(conn, "background") {
            counts.background.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A passive checkpoint: copies what it can without waiting for readers
/// or the writer. `true` if it ran.
fn run_one(conn: &Connection, place: &'static str) -> bool {
    let started = Instant::now();
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    metrics::histogram!("chat_storage_checkpoint_seconds", "place" => place)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, place, "WAL checkpoint failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Wal;
    use crate::store::sqlite::{DB_FILE, SqliteStore};

    /// Appends 150 batches of 20 messages of 1,000 characters: about 1,500
    /// pages of log, and one commit per batch.
    async fn fill(store: &SqliteStore) {
        use crate::store::{
            AccountStore, ChannelKind, ChannelRecord, ChannelStore, Fence, MessageStore,
            NewMessage, UserRecord,
        };
        let user = UserRecord::new(1, "ann".into(), "$argon2id$fake".into(), 1);
        store.create_user(user).await.expect("user");
        let channel = ChannelRecord {
            id: 10,
            kind: ChannelKind::Group,
            name: "g".into(),
            owner_id: 1,
            direct_key: None,
            created_at_ms: 2,
            last_message_id: 0,
        };
        store
            .create_channel(channel, vec![1])
            .await
            .expect("channel");
        for batch in 0..150u64 {
            let messages = (0..20u64)
                .map(|i| NewMessage {
                    id: 100 + batch * 20 + i,
                    channel_id: 10,
                    sender_id: 1,
                    client_msg_id: format!("{batch}-{i}"),
                    text: "x".repeat(1_000),
                    created_at_ms: 3,
                    edited_at_ms: 0,
                    deleted: false,
                    version_id: 0,
                    mentions: Vec::new(),
                    deleted_by: 0,
                })
                .collect();
            store
                .append(Fence::single_node(1), messages)
                .await
                .expect("append");
        }
    }

    fn wal_bytes(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join(format!("{DB_FILE}-wal")))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn the_log_is_checkpointed_beside_the_writer() {
        use std::sync::atomic::Ordering::Relaxed;
        let dir = tempfile::tempdir().expect("dir");
        let wal = Wal {
            background_at: 50,
            inline_at: 1_000_000,
        };
        let store = SqliteStore::open_with(dir.path(), wal).expect("open");
        fill(&store).await;
        let counts = store.threads.checkpoints();
        // Closing the store joins its threads; a wake-up already sent is
        // still served before the checkpointer ends.
        drop(store);
        let background = counts.background.load(Relaxed);
        assert!(background > 0, "no background checkpoint");
        // About 1,500 pages at one wake-up per 50: not one per commit.
        assert!(background <= 45, "{background} checkpoints for 150 commits");
        assert_eq!(counts.inline.load(Relaxed), 0, "the writer checkpointed");
    }

    #[tokio::test]
    async fn a_log_the_checkpointer_cannot_keep_up_with_stays_bounded() {
        use std::sync::atomic::Ordering::Relaxed;
        let dir = tempfile::tempdir().expect("dir");
        // The checkpointer is never woken; only the writer checkpoints.
        let inline_at = 100;
        let wal = Wal {
            background_at: 1_000_000,
            inline_at,
        };
        let store = SqliteStore::open_with(dir.path(), wal).expect("open");
        fill(&store).await;
        let counts = store.threads.checkpoints();
        assert!(
            counts.inline.load(Relaxed) > 0,
            "the writer never checkpointed"
        );
        assert_eq!(counts.background.load(Relaxed), 0);
        // The log restarts after each checkpoint: it never holds much more
        // than `inline_at` frames (page plus 24-byte header each) and the
        // commit that crossed it, against about 1,500 pages written.
        let bound = 2 * inline_at as u64 * (4_096 + 24) + 32;
        assert!(
            wal_bytes(dir.path()) < bound,
            "log of {} bytes",
            wal_bytes(dir.path())
        );
    }
}
