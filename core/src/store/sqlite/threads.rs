//! Storage threads: one writer and a few readers, each owning its SQLite
//! connection and taking jobs from a queue. Writes never wait behind reads,
//! and no call parks a thread of tokio's blocking pool on a connection lock
//! (a reconnect storm used to queue thousands of reads there, with every
//! message append behind them). The writer takes message appends before
//! any other write, so messages wait for one other write at most; writes
//! that thousands of callers make at once (last-active times) are
//! coalesced into one transaction (see `coalesce`). A checkpointer thread
//! copies the log back into the database beside the writer (see
//! `checkpoint`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;

use super::checkpoint::{self, Counts, Wal};
use crate::store::{StoreError, StoreResult};

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
type WriteJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// The threads and the queues that feed them.
pub struct Threads {
    reads: Option<Sender<ReadJob>>,
    writes: Option<Sender<WriteJob>>,
    urgent_writes: Option<Sender<WriteJob>>,
    handles: Vec<JoinHandle<()>>,
    /// Read by tests; operators see `chat_storage_checkpoint_seconds`.
    #[cfg_attr(not(test), allow(dead_code))]
    checkpoints: Arc<Counts>,
}

impl Threads {
    /// Starts a writer thread on `writer`, one reader thread per reader,
    /// and a checkpointer thread on `checkpointer`.
    pub fn start(
        writer: Connection,
        readers: Vec<Connection>,
        checkpointer: Connection,
        wal: Wal,
    ) -> StoreResult<Self> {
        let (reads, read_queue) = crossbeam_channel::unbounded::<ReadJob>();
        let (writes, write_queue) = crossbeam_channel::unbounded::<WriteJob>();
        let (urgent_writes, urgent_queue) = crossbeam_channel::unbounded::<WriteJob>();
        let mut handles = Vec::with_capacity(readers.len() + 2);
        let checkpoints = Arc::new(Counts::default());
        let (trigger, checkpointing) = checkpoint::split(&writer, wal, checkpoints.clone());
        let mut writer = writer;
        handles.push(spawn("sqlite-writer", move || {
            let next = || next_write(&urgent_queue, &write_queue);
            serve(next, |job| {
                job(&mut writer);
                trigger.after_write(&writer);
            });
        })?);
        for (i, conn) in readers.into_iter().enumerate() {
            let queue: Receiver<ReadJob> = read_queue.clone();
            handles.push(spawn(&format!("sqlite-reader-{i}"), move || {
                serve(|| queue.recv().ok(), |job| job(&conn));
            })?);
        }
        // Ends once the writer has ended and dropped its wake-up channel.
        handles.push(spawn("sqlite-checkpoint", move || {
            checkpointing(checkpointer)
        })?);
        Ok(Self {
            reads: Some(reads),
            writes: Some(writes),
            urgent_writes: Some(urgent_writes),
            handles,
            checkpoints,
        })
    }

    /// Checkpoints done so far, by where they ran.
    #[cfg(test)]
    pub fn checkpoints(&self) -> Arc<Counts> {
        self.checkpoints.clone()
    }

    /// Runs `f` on the next free reader.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: ReadJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.reads
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| failed())?
    }

    /// Runs `f` on the writer, after the writes queued before it and
    /// after every urgent write.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        write_on(self.writes.as_ref(), f).await
    }

    /// Queues `f` on the writer now, like [`Threads::write`], without
    /// waiting for it; `f` reports its outcome itself.
    pub fn queue_write<F>(&self, f: F) -> StoreResult<()>
    where
        F: FnOnce(&mut Connection) + Send + 'static,
    {
        self.writes
            .as_ref()
            .ok_or_else(stopped)?
            .send(Box::new(f))
            .map_err(|_| stopped())
    }

    /// Runs `f` on the writer before any write that is not urgent.
    pub async fn write_urgent<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        write_on(self.urgent_writes.as_ref(), f).await
    }
}

async fn write_on<T, F>(queue: Option<&Sender<WriteJob>>, f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: WriteJob = Box::new(move |c| {
        let _ = tx.send(f(c));
    });
    queue
        .ok_or_else(stopped)?
        .send(job)
        .map_err(|_| stopped())?;
    rx.await.map_err(|_| failed())?
}

impl Drop for Threads {
    /// Lets the queued jobs finish and closes the connections.
    fn drop(&mut self) {
        self.reads.take();
        self.writes.take();
        self.urgent_writes.take();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> StoreResult<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|e| StoreError::Backend(format!("cannot start {name}: {e}")))
}

/// The writer's next job: an urgent one if any is waiting. `None` once
/// both queues are closed and empty.
fn next_write(urgent: &Receiver<WriteJob>, normal: &Receiver<WriteJob>) -> Option<WriteJob> {
    if let Ok(job) = urgent.try_recv() {
        return Some(job);
    }
    let job = crossbeam_channel::select_biased! {
        recv(urgent) -> job => job,
        recv(normal) -> job => job,
    };
    // One queue closed (they close together, at shutdown): finish the rest.
    job.ok()
        .or_else(|| urgent.try_recv().ok())
        .or_else(|| normal.try_recv().ok())
}

/// Runs jobs until `next` has none. A job that panics loses only itself:
/// its caller sees the storage task fail, and rusqlite rolls back any
/// transaction it left open.
fn serve<J>(mut next: impl FnMut() -> Option<J>, mut run: impl FnMut(J)) {
    while let Some(job) = next() {
        if catch_unwind(AssertUnwindSafe(|| run(job))).is_err() {
            tracing::error!("a storage job panicked");
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("storage is shut down".into())
}

/// What a caller sees when its job ended without answering.
pub(super) fn failed() -> StoreError {
    StoreError::Backend("storage task failed".into())
}
