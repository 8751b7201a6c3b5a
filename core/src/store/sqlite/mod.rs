//! SQLite backend: one writer connection, a few readers (WAL lets them run
//! beside the writer), each on a thread of its own.

mod accounts;
mod browse;
mod channels;
mod checkpoint;
mod coalesce;
mod edits;
mod groups;
mod mentions;
mod messages;
mod outbox;
mod push;
mod queries;
mod reads;
mod schema;
mod social;
mod threads;
mod tokens;
mod webhooks;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

use super::{Id, Store, StoreError, StoreResult};

const READERS: usize = 4;

/// The file name of the database inside the data directory.
pub const DB_FILE: &str = "chat.db";

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    threads: Arc<threads::Threads>,
    last_active: Arc<coalesce::Coalesce<(Id, i64)>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `dir` and migrates it.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        Self::open_with(dir, checkpoint::Wal::default())
    }

    /// [`SqliteStore::open`] with the log's checkpoint lengths given.
    fn open_with(dir: &Path, wal: checkpoint::Wal) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("create {}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let open = || -> StoreResult<Connection> {
            let conn = Connection::open(&path)
                .map_err(|e| StoreError::Backend(format!("open {}: {e}", path.display())))?;
            schema::configure(&conn).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok(conn)
        };
        let mut writer = open()?;
        // Every transaction on the writer writes: take the write lock at
        // `BEGIN`, where SQLite waits for it (busy_timeout), rather than at
        // the first write, where it gives up at once if a reader holds it.
        writer.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        schema::migrate(&mut writer).map_err(|e| StoreError::Backend(e.to_string()))?;
        let readers = (0..READERS).map(|_| open()).collect::<StoreResult<_>>()?;
        let checkpointer = open()?;
        Ok(Self {
            threads: Arc::new(threads::Threads::start(writer, readers, checkpointer, wal)?),
            last_active: Arc::new(coalesce::Coalesce::new(social::set_last_active_all)),
        })
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.threads.read(f).await
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.threads.write(f).await
    }
}

impl Store for SqliteStore {
    async fn flush(&self) -> StoreResult<()> {
        self.write(|c| {
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(|e| StoreError::Backend(e.to_string()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::{Arc, Connection, SqliteStore, queries};

    fn fresh() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        (store, dir)
    }

    mod contract {
        crate::store_contract_tests!(super::Fresh);
    }

    /// A store in a directory of its own, kept as long as the store.
    pub struct Fresh {
        store: SqliteStore,
        dir: tempfile::TempDir,
    }

    impl crate::store::contract::ContractBackend for Fresh {
        type Store = SqliteStore;

        async fn fresh() -> Option<Self> {
            let (store, dir) = fresh();
            Some(Self { store, dir })
        }

        fn store(&self) -> &SqliteStore {
            &self.store
        }

        /// Dropping the last handle joins the storage threads, which
        /// closes every connection.
        async fn reopen(self) -> Self {
            let Self { store, dir } = self;
            drop(store);
            let store = SqliteStore::open(dir.path()).expect("reopen");
            Self { store, dir }
        }
    }

    /// SQLite does not wait for a lock a deferred transaction needs when
    /// it turns from reading to writing: with readers busy beside it, such
    /// a write failed at once with "database is locked" (seen as a 503
    /// from `POST /api/v1/channels/direct` in a benchmark).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_read_first_wait_for_busy_readers() {
        use crate::store::{AccountStore, ChannelKind, ChannelRecord, ChannelStore, UserRecord};
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        let (store, _dir) = fresh();
        for (id, name) in [(1, "ann"), (2, "bob")] {
            let user = UserRecord::new(id, name.into(), "$argon2id$fake".into(), 1);
            store.create_user(user).await.expect("user");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..super::READERS)
            .map(|_| {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Relaxed) {
                        // Many short read transactions per job, as busy readers run.
                        let read = |c: &Connection| {
                            (0..1_000).try_for_each(|_| queries::channel(c, 10).map(drop))
                        };
                        store.read(read).await.expect("read");
                    }
                })
            })
            .collect();
        let mut failed = Vec::new();
        for id in 10..2_010 {
            let channel = ChannelRecord {
                id,
                kind: ChannelKind::Direct,
                name: String::new(),
                owner_id: 1,
                // A direct key makes the write look for an existing channel first.
                direct_key: Some(format!("1:2:{id}")),
                created_at_ms: 2,
                last_message_id: 0,
            };
            if let Err(e) = store.create_channel(channel, vec![1, 2]).await {
                failed.push((id, e));
            }
        }
        stop.store(true, Relaxed);
        for reader in readers {
            reader.await.expect("reader");
        }
        assert!(
            failed.is_empty(),
            "{} writes failed: {:?}",
            failed.len(),
            failed.first()
        );
    }
}
