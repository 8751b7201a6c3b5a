//! Small writes that many callers make at once, written together: the
//! first caller queues one job on the writer, and everyone who arrives
//! before that job runs joins it, so a thousand users going offline in the
//! same moment cost one transaction and one fsync instead of a thousand.
//! Each caller still returns only once its own entry is durable.

use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::threads::{Threads, failed};
use crate::store::{StoreError, StoreResult};

type Waiter = oneshot::Sender<StoreResult<()>>;
/// Writes a group in one transaction.
type WriteAll<T> = fn(&mut Connection, &[T]) -> StoreResult<()>;
/// The group the next job will write; `None` when no job is queued.
type Group<T> = Arc<Mutex<Option<Vec<(T, Waiter)>>>>;

/// Entries waiting for the writer, and the function that writes them.
pub struct Coalesce<T> {
    pending: Group<T>,
    write_all: WriteAll<T>,
}

impl<T: Send + 'static> Coalesce<T> {
    /// Coalesces entries that `write_all` writes in one transaction.
    pub fn new(write_all: WriteAll<T>) -> Self {
        Self {
            pending: Arc::new(Mutex::new(None)),
            write_all,
        }
    }

    /// Writes `entry` with whatever else is waiting; returns when it is durable.
    pub async fn write(&self, threads: &Threads, entry: T) -> StoreResult<()> {
        let (waiter, done) = oneshot::channel();
        let first = {
            let mut pending = lock(&self.pending);
            let first = pending.is_none();
            pending.get_or_insert_with(Vec::new).push((entry, waiter));
            first
        };
        if first {
            let (pending, write_all) = (self.pending.clone(), self.write_all);
            // Queued before this returns, so a caller that gives up waiting
            // cannot leave the others without a job.
            let queued = threads.queue_write(move |c| {
                let batch = lock(&pending).take().unwrap_or_default();
                let (entries, waiters): (Vec<T>, Vec<Waiter>) = batch.into_iter().unzip();
                let result = write_all(c, &entries);
                for waiter in waiters {
                    let _ = waiter.send(match &result {
                        Ok(()) => Ok(()),
                        Err(e) => Err(StoreError::Backend(e.to_string())),
                    });
                }
            });
            if let Err(e) = queued {
                // Nobody will write them: fail everyone who joined.
                let batch = lock(&self.pending).take().unwrap_or_default();
                for (_, waiter) in batch {
                    let _ = waiter.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
        done.await.map_err(|_| failed())?
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
