//! SQLite backend: one writer connection, a few readers (WAL lets them run
//! beside the writer), each on a thread of its own.

mod checkpoint;
mod coalesce;
mod edits;
mod groups;
mod mentions;
mod queries;
mod reads;
mod schema;
mod social;
mod threads;
mod tokens;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

use super::{
    Appended, ChannelRecord, HistoryAnchor, HistoryPage, Id, MemberRecord, MembershipChange,
    MessageChange, MessageRecord, NewMessage, ProfileChange, ReadState, RelationChange,
    RelationRecord, SettingsRecord, Store, StoreError, StoreResult, TokenFilter, TokenRecord,
    UserRecord, VersionRecord,
};

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
    async fn create_user(&self, user: UserRecord) -> StoreResult<()> {
        self.write(move |c| queries::create_user(c, &user)).await
    }

    async fn user_by_id(&self, id: Id) -> StoreResult<Option<UserRecord>> {
        self.read(move |c| queries::user_by_id(c, id)).await
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |c| queries::user_by_name(c, &username))
            .await
    }

    async fn insert_token(&self, token: TokenRecord) -> StoreResult<()> {
        self.write(move |c| tokens::insert_token(c, &token)).await
    }

    async fn token_by_hash(&self, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
        self.read(move |c| tokens::token_by_hash(c, hash)).await
    }

    async fn delete_token(&self, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
        self.write(move |c| tokens::delete_token(c, hash)).await
    }

    async fn tokens_of(&self, user: Id) -> StoreResult<Vec<TokenRecord>> {
        self.read(move |c| tokens::tokens_of(c, user)).await
    }

    async fn touch_token(
        &self,
        id: Id,
        last_used_at_ms: i64,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        self.write(move |c| tokens::touch_token(c, id, last_used_at_ms, expires_at_ms))
            .await
    }

    async fn delete_tokens(&self, user: Id, filter: TokenFilter) -> StoreResult<Vec<TokenRecord>> {
        self.write(move |c| tokens::delete_tokens(c, user, filter))
            .await
    }

    async fn change_password(
        &self,
        user: Id,
        password_hash: String,
        keep: Option<Id>,
    ) -> StoreResult<Vec<TokenRecord>> {
        self.write(move |c| tokens::change_password(c, user, &password_hash, keep))
            .await
    }

    async fn create_channel(
        &self,
        channel: ChannelRecord,
        members: Vec<Id>,
    ) -> StoreResult<ChannelRecord> {
        self.write(move |c| queries::create_channel(c, &channel, &members))
            .await
    }

    async fn channel(&self, id: Id) -> StoreResult<Option<ChannelRecord>> {
        self.read(move |c| queries::channel(c, id)).await
    }

    async fn members(&self, channel: Id) -> StoreResult<Vec<MemberRecord>> {
        self.read(move |c| queries::members(c, channel)).await
    }

    async fn rename_channel(&self, channel: Id, name: String) -> StoreResult<bool> {
        self.write(move |c| groups::rename_channel(c, channel, &name))
            .await
    }

    async fn update_membership(&self, channel: Id, change: MembershipChange) -> StoreResult<()> {
        self.write(move |c| groups::update_membership(c, channel, &change))
            .await
    }

    async fn delete_channel(&self, channel: Id, at_ms: i64) -> StoreResult<bool> {
        self.write(move |c| groups::delete_channel(c, channel, at_ms))
            .await
    }

    async fn add_member(&self, channel: Id, user: Id, at_ms: i64) -> StoreResult<bool> {
        self.write(move |c| queries::add_member(c, channel, user, at_ms))
            .await
    }

    async fn remove_member(&self, channel: Id, user: Id) -> StoreResult<bool> {
        self.write(move |c| queries::remove_member(c, channel, user))
            .await
    }

    async fn channels_of(&self, user: Id) -> StoreResult<Vec<ChannelRecord>> {
        self.read(move |c| queries::channels_of(c, user)).await
    }

    async fn max_id(&self) -> StoreResult<Id> {
        self.read(queries::max_id).await
    }

    async fn append(&self, batch: Vec<NewMessage>) -> StoreResult<Vec<Appended>> {
        // Messages go before other writes: people are waiting on them.
        self.threads
            .write_urgent(move |c| queries::append(c, &batch))
            .await
    }

    async fn history(
        &self,
        channel: Id,
        anchor: HistoryAnchor,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        self.read(move |c| queries::history(c, channel, anchor, limit))
            .await
    }

    async fn update_profile(
        &self,
        user: Id,
        change: ProfileChange,
    ) -> StoreResult<Option<UserRecord>> {
        self.write(move |c| social::update_profile(c, user, &change))
            .await
    }

    async fn set_last_active(&self, user: Id, at_ms: i64) -> StoreResult<()> {
        self.last_active.write(&self.threads, (user, at_ms)).await
    }

    async fn mark_read(&self, user: Id, channel: Id, message_id: Id) -> StoreResult<ReadState> {
        self.write(move |c| reads::mark_read(c, user, channel, message_id))
            .await
    }

    async fn read_states(&self, user: Id) -> StoreResult<Vec<ReadState>> {
        self.read(move |c| reads::read_states(c, user)).await
    }

    async fn message(&self, channel: Id, id: Id) -> StoreResult<Option<MessageRecord>> {
        self.read(move |c| edits::message(c, channel, id)).await
    }

    async fn update_message(
        &self,
        channel: Id,
        id: Id,
        change: MessageChange,
        at_ms: i64,
        version: Id,
    ) -> StoreResult<Option<MessageRecord>> {
        self.write(move |c| edits::update_message(c, channel, id, &change, at_ms, version))
            .await
    }

    async fn versions(&self, channel: Id, id: Id) -> StoreResult<Vec<VersionRecord>> {
        self.read(move |c| edits::versions(c, channel, id)).await
    }

    async fn changes(
        &self,
        channel: Id,
        after_version: Id,
        limit: usize,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.read(move |c| edits::changes(c, channel, after_version, limit))
            .await
    }

    async fn settings(&self, user: Id) -> StoreResult<SettingsRecord> {
        self.read(move |c| social::settings(c, user)).await
    }

    async fn put_settings(&self, user: Id, settings: SettingsRecord) -> StoreResult<()> {
        self.write(move |c| social::put_settings(c, user, &settings))
            .await
    }

    async fn relations(&self, user: Id) -> StoreResult<Vec<RelationRecord>> {
        self.read(move |c| social::relations(c, user)).await
    }

    async fn blocked_by(&self, user: Id) -> StoreResult<Vec<Id>> {
        self.read(move |c| social::blocked_by(c, user)).await
    }

    async fn relation(&self, user: Id, other: Id) -> StoreResult<Option<RelationRecord>> {
        self.read(move |c| social::relation(c, user, other)).await
    }

    async fn change_relations(&self, changes: Vec<RelationChange>, at_ms: i64) -> StoreResult<()> {
        self.write(move |c| social::change_relations(c, &changes, at_ms))
            .await
    }

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
        crate::store_contract_tests!(super::Fresh::new());
    }

    /// Keeps the directory alive as long as the store.
    pub struct Fresh {
        store: SqliteStore,
        _dir: tempfile::TempDir,
    }

    impl Fresh {
        fn new() -> Self {
            let (store, _dir) = fresh();
            Self { store, _dir }
        }
    }

    impl std::ops::Deref for Fresh {
        type Target = SqliteStore;
        fn deref(&self) -> &SqliteStore {
            &self.store
        }
    }

    #[tokio::test]
    async fn messages_survive_reopening_the_database() {
        use crate::store::{HistoryAnchor, Store};
        let dir = tempfile::tempdir().expect("dir");
        {
            let store = SqliteStore::open(dir.path()).expect("open");
            crate::store::contract::data_survives_reopen_or_flush(&store).await;
        }
        let reopened = SqliteStore::open(dir.path()).expect("reopen");
        let page = reopened
            .history(10, HistoryAnchor::Latest, 10)
            .await
            .expect("h");
        assert_eq!(page.messages.len(), 1);
    }

    /// SQLite does not wait for a lock a deferred transaction needs when
    /// it turns from reading to writing: with readers busy beside it, such
    /// a write failed at once with "database is locked" (seen as a 503
    /// from `POST /api/v1/channels/direct` in a benchmark).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_read_first_wait_for_busy_readers() {
        use crate::store::{ChannelKind, ChannelRecord, Store, UserRecord};
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
