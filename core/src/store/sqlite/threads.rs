//! Storage threads: one writer and a few readers, each owning its SQLite
//! connection and taking jobs from a queue. Writes never wait behind reads,
//! and no call parks a thread of tokio's blocking pool on a connection lock
//! (a reconnect storm used to queue thousands of reads there, with every
//! message append behind them).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
type WriteJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// The threads and the queues that feed them.
pub struct Threads {
    reads: Option<Sender<ReadJob>>,
    writes: Option<Sender<WriteJob>>,
    handles: Vec<JoinHandle<()>>,
}

impl Threads {
    /// Starts a writer thread on `writer` and one reader thread per reader.
    pub fn start(writer: Connection, readers: Vec<Connection>) -> StoreResult<Self> {
        let (reads, read_queue) = crossbeam_channel::unbounded::<ReadJob>();
        let (writes, write_queue) = crossbeam_channel::unbounded::<WriteJob>();
        let mut handles = Vec::with_capacity(readers.len() + 1);
        let mut writer = writer;
        handles.push(spawn("sqlite-writer", move || {
            serve(&write_queue, |job| job(&mut writer));
        })?);
        for (i, conn) in readers.into_iter().enumerate() {
            let queue: Receiver<ReadJob> = read_queue.clone();
            handles.push(spawn(&format!("sqlite-reader-{i}"), move || {
                serve(&queue, |job| job(&conn));
            })?);
        }
        Ok(Self {
            reads: Some(reads),
            writes: Some(writes),
            handles,
        })
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

    /// Runs `f` on the writer, after the writes queued before it.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: WriteJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.writes
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| failed())?
    }
}

impl Drop for Threads {
    /// Lets the queued jobs finish and closes the connections.
    fn drop(&mut self) {
        self.reads.take();
        self.writes.take();
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

/// Runs jobs until the queue closes. A job that panics loses only itself:
/// its caller sees the storage task fail, and rusqlite rolls back any
/// transaction it left open.
fn serve<J>(queue: &Receiver<J>, mut run: impl FnMut(J)) {
    while let Ok(job) = queue.recv() {
        if catch_unwind(AssertUnwindSafe(|| run(job))).is_err() {
            tracing::error!("a storage job panicked");
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("storage is shut down".into())
}

fn failed() -> StoreError {
    StoreError::Backend("storage task failed".into())
}
