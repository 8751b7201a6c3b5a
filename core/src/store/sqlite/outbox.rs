//! The push outbox on SQLite.

use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use super::push::target_row;
use super::queries::{backend, row_id, sql_id};
use crate::store::{
    DeadLetter, Id, NEVER, OutboxKey, OutboxRecord, OutboxStore, OutboxTiming, QueuedPush,
    StoreResult,
};

/// The target's columns (as `push::target_row` reads them), then the row's.
const COLUMNS: &str = "t.id, t.user_id, t.kind, t.address, t.p256dh, t.auth, t.app_id,
    t.platform, t.created_at_ms, o.channel_id, o.messages, o.mentions, o.sent_messages,
    o.last_message_id, o.last_sender_id, o.pending_since_ms, o.due_at_ms, o.attempts";

fn outbox_row(row: &Row<'_>) -> rusqlite::Result<OutboxRecord> {
    Ok(OutboxRecord {
        target: target_row(row)?,
        channel_id: row_id(row, 9)?,
        messages: row.get(10)?,
        mentions: row.get(11)?,
        sent_messages: row.get(12)?,
        last_message_id: row_id(row, 13)?,
        last_sender_id: row_id(row, 14)?,
        pending_since_ms: row.get(15)?,
        due_at_ms: row.get(16)?,
        attempts: row.get(17)?,
    })
}

fn letter_row(row: &Row<'_>) -> rusqlite::Result<DeadLetter> {
    Ok(DeadLetter {
        id: row_id(row, 0)?,
        target_id: row_id(row, 1)?,
        user_id: row_id(row, 2)?,
        channel_id: row_id(row, 3)?,
        messages: row.get(4)?,
        last_message_id: row_id(row, 5)?,
        attempts: row.get(6)?,
        error: row.get(7)?,
        pending_since_ms: row.get(8)?,
        dead_at_ms: row.get(9)?,
    })
}

fn queue(conn: &mut Connection, pushes: &[QueuedPush], t: OutboxTiming) -> StoreResult<usize> {
    let tx = conn.transaction().map_err(backend)?;
    let mut touched = 0;
    {
        // `WHERE true`: SQLite's parser needs it before an upsert's ON
        // CONFLICT after a SELECT. In DO UPDATE, bare columns are the row
        // as it was.
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO push_outbox (target_id, channel_id, user_id, messages, mentions,
                    sent_messages, last_message_id, last_sender_id, pending_since_ms, due_at_ms,
                    attempts, last_sent_ms)
                 SELECT id, ?1, user_id, 1, ?2, 0, ?3, ?4, ?5, ?5 + ?6, 0, 0
                 FROM push_targets WHERE user_id = ?7 AND true
                 ON CONFLICT (target_id, channel_id) DO UPDATE SET
                    messages = messages + 1,
                    mentions = mentions + excluded.mentions,
                    last_message_id = excluded.last_message_id,
                    last_sender_id = excluded.last_sender_id,
                    pending_since_ms = CASE WHEN messages = sent_messages
                        THEN excluded.pending_since_ms ELSE pending_since_ms END,
                    due_at_ms = CASE WHEN messages = sent_messages
                        THEN max(excluded.due_at_ms, last_sent_ms + ?8) ELSE due_at_ms END,
                    attempts = CASE WHEN messages = sent_messages THEN 0 ELSE attempts END
                 WHERE excluded.last_message_id > last_message_id",
            )
            .map_err(backend)?;
        for p in pushes {
            touched += stmt
                .execute(params![
                    sql_id(p.channel_id),
                    i64::from(p.mentioned),
                    sql_id(p.message_id),
                    sql_id(p.sender_id),
                    t.now_ms,
                    t.coalesce_ms,
                    sql_id(p.user_id),
                    t.min_interval_ms,
                ])
                .map_err(backend)?;
        }
    }
    tx.commit().map_err(backend)?;
    Ok(touched)
}

fn due(conn: &Connection, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxRecord>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM push_outbox o JOIN push_targets t ON t.id = o.target_id
             WHERE o.due_at_ms <= ?1 ORDER BY o.due_at_ms LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![now_ms, limit as i64], outbox_row)
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn key_params(key: OutboxKey) -> [i64; 2] {
    [sql_id(key.target_id), sql_id(key.channel_id)]
}

fn delivered(
    conn: &mut Connection,
    key: OutboxKey,
    sent: u32,
    now: i64,
    next: i64,
) -> StoreResult<()> {
    let [target, channel] = key_params(key);
    let tx = conn.transaction().map_err(backend)?;
    tx.execute(
        "UPDATE push_outbox SET sent_messages = ?3, attempts = 0, last_sent_ms = ?4,
            pending_since_ms = ?4,
            due_at_ms = CASE WHEN messages = ?3 THEN ?6 WHEN messages = 0 THEN ?4 ELSE ?5 END
         WHERE target_id = ?1 AND channel_id = ?2",
        params![target, channel, sent, now, next, NEVER],
    )
    .map_err(backend)?;
    tx.execute(
        "DELETE FROM push_outbox WHERE target_id = ?1 AND channel_id = ?2
            AND messages = 0 AND sent_messages = 0",
        params![target, channel],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)
}

fn dead(
    conn: &mut Connection,
    key: OutboxKey,
    tried: u32,
    letter: Id,
    error: &str,
    now: i64,
) -> StoreResult<()> {
    let [target, channel] = key_params(key);
    let tx = conn.transaction().map_err(backend)?;
    tx.execute(
        "INSERT INTO push_dead_letters (id, target_id, user_id, channel_id, messages,
            last_message_id, attempts, error, pending_since_ms, dead_at_ms)
         SELECT ?3, target_id, user_id, channel_id, ?6, last_message_id, attempts, ?4,
            pending_since_ms, ?5
         FROM push_outbox WHERE target_id = ?1 AND channel_id = ?2",
        params![target, channel, sql_id(letter), error, now, tried],
    )
    .map_err(backend)?;
    tx.execute(
        "DELETE FROM push_outbox WHERE target_id = ?1 AND channel_id = ?2 AND messages = ?3",
        params![target, channel, tried],
    )
    .map_err(backend)?;
    // Messages came during the last try: they are notified afresh.
    tx.execute(
        "UPDATE push_outbox SET attempts = 0, pending_since_ms = ?3, due_at_ms = ?3
         WHERE target_id = ?1 AND channel_id = ?2",
        params![target, channel, now],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)
}

fn clear(conn: &mut Connection, user: Id, channel: Id, upto: Id, now: i64) -> StoreResult<()> {
    let tx = conn.transaction().map_err(backend)?;
    let (user, channel, upto) = (sql_id(user), sql_id(channel), sql_id(upto));
    // Nothing delivered: nothing to clear on the device.
    tx.execute(
        "DELETE FROM push_outbox WHERE user_id = ?1 AND channel_id = ?2
            AND last_message_id <= ?3 AND sent_messages = 0",
        params![user, channel, upto],
    )
    .map_err(backend)?;
    tx.execute(
        "UPDATE push_outbox SET messages = 0, mentions = 0, pending_since_ms = ?4,
            due_at_ms = ?4, attempts = 0
         WHERE user_id = ?1 AND channel_id = ?2 AND last_message_id <= ?3
            AND messages > 0",
        params![user, channel, upto, now],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)
}

impl OutboxStore for SqliteStore {
    async fn queue_pushes(
        &self,
        pushes: Vec<QueuedPush>,
        timing: OutboxTiming,
    ) -> StoreResult<usize> {
        if pushes.is_empty() {
            return Ok(0);
        }
        self.write(move |c| queue(c, &pushes, timing)).await
    }

    async fn due_pushes(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxRecord>> {
        self.read(move |c| due(c, now_ms, limit)).await
    }

    async fn next_push_due(&self) -> StoreResult<Option<i64>> {
        self.read(|c| {
            c.query_row(
                "SELECT MIN(due_at_ms) FROM push_outbox WHERE due_at_ms < ?1",
                [NEVER],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn claim_push(
        &self,
        key: OutboxKey,
        seen_due_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        let [target, channel] = key_params(key);
        self.write(move |c| {
            c.execute(
                "UPDATE push_outbox SET due_at_ms = ?4, attempts = attempts + 1
                 WHERE target_id = ?1 AND channel_id = ?2 AND due_at_ms = ?3",
                params![target, channel, seen_due_ms, until_ms],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
        .await
    }

    async fn push_delivered(
        &self,
        key: OutboxKey,
        sent_messages: u32,
        now_ms: i64,
        next_due_ms: i64,
    ) -> StoreResult<()> {
        self.write(move |c| delivered(c, key, sent_messages, now_ms, next_due_ms))
            .await
    }

    async fn push_retry(&self, key: OutboxKey, due_ms: i64) -> StoreResult<()> {
        let [target, channel] = key_params(key);
        self.write(move |c| {
            c.execute(
                "UPDATE push_outbox SET due_at_ms = ?3
                 WHERE target_id = ?1 AND channel_id = ?2 AND messages <> sent_messages",
                params![target, channel, due_ms],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    async fn push_dead(
        &self,
        key: OutboxKey,
        tried: u32,
        letter_id: Id,
        error: String,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.write(move |c| dead(c, key, tried, letter_id, &error, now_ms))
            .await
    }

    async fn clear_pushes(&self, user: Id, channel: Id, upto: Id, now_ms: i64) -> StoreResult<()> {
        self.write(move |c| clear(c, user, channel, upto, now_ms))
            .await
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, target_id, user_id, channel_id, messages, last_message_id,
                        attempts, error, pending_since_ms, dead_at_ms
                     FROM push_dead_letters ORDER BY id DESC LIMIT ?1",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([limit as i64], letter_row)
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }
}
