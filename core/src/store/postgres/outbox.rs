//! [`OutboxStore`] on PostgreSQL: the push outbox.

use tokio_postgres::Row;

use super::PgStore;
use super::convert::{self, backend, sql};
use super::push::target;
use crate::store::{
    DeadLetter, Id, NEVER, OutboxKey, OutboxRecord, OutboxStore, OutboxTiming, QueuedPush,
    StoreResult,
};

/// The target's columns (as `push::target` reads them), then the row's.
const COLUMNS: &str = "t.id, t.user_id, t.kind, t.address, t.p256dh, t.auth, t.app_id,
    t.platform, t.created_at_ms, o.channel_id, o.messages, o.mentions, o.sent_messages,
    o.last_message_id, o.last_sender_id, o.pending_since_ms, o.due_at_ms, o.attempts";

fn count(row: &Row, idx: usize) -> StoreResult<u32> {
    Ok(u32::try_from(convert::get::<i32>(row, idx)?).unwrap_or(0))
}

fn outbox(row: &Row) -> StoreResult<OutboxRecord> {
    Ok(OutboxRecord {
        target: target(row)?,
        channel_id: convert::id_at(row, 9)?,
        messages: count(row, 10)?,
        mentions: count(row, 11)?,
        sent_messages: count(row, 12)?,
        last_message_id: convert::id_at(row, 13)?,
        last_sender_id: convert::id_at(row, 14)?,
        pending_since_ms: convert::get(row, 15)?,
        due_at_ms: convert::get(row, 16)?,
        attempts: count(row, 17)?,
    })
}

fn letter(row: &Row) -> StoreResult<DeadLetter> {
    Ok(DeadLetter {
        id: convert::id_at(row, 0)?,
        target_id: convert::id_at(row, 1)?,
        user_id: convert::id_at(row, 2)?,
        channel_id: convert::id_at(row, 3)?,
        messages: count(row, 4)?,
        last_message_id: convert::id_at(row, 5)?,
        attempts: count(row, 6)?,
        error: convert::get(row, 7)?,
        pending_since_ms: convert::get(row, 8)?,
        dead_at_ms: convert::get(row, 9)?,
    })
}

/// A count as the INTEGER columns hold it.
fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl OutboxStore for PgStore {
    async fn queue_pushes(
        &self,
        mut pushes: Vec<QueuedPush>,
        t: OutboxTiming,
    ) -> StoreResult<usize> {
        if pushes.is_empty() {
            return Ok(0);
        }
        // Rows locked in one order (user, channel, then target id), so two
        // writers never wait on each other in a cycle. The sort is stable:
        // each row still sees its messages in the order given.
        pushes.sort_by_key(|p| (p.user_id, p.channel_id));
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        // In DO UPDATE, `push_outbox.col` is the row as it was and
        // `EXCLUDED.col` the one proposed.
        let stmt = tx
            .prepare(
                "INSERT INTO push_outbox (target_id, channel_id, user_id, messages, mentions,
                    sent_messages, last_message_id, last_sender_id, pending_since_ms, due_at_ms,
                    attempts, last_sent_ms)
                 SELECT id, $1::BIGINT, user_id, 1, $2::INTEGER, 0, $3::BIGINT, $4::BIGINT, $5::BIGINT,
                    $5::BIGINT + $6::BIGINT, 0, 0
                 FROM push_targets WHERE user_id = $7 ORDER BY id
                 ON CONFLICT (target_id, channel_id) DO UPDATE SET
                    messages = push_outbox.messages + 1,
                    mentions = push_outbox.mentions + EXCLUDED.mentions,
                    last_message_id = EXCLUDED.last_message_id,
                    last_sender_id = EXCLUDED.last_sender_id,
                    pending_since_ms = CASE WHEN push_outbox.messages = push_outbox.sent_messages
                        THEN EXCLUDED.pending_since_ms ELSE push_outbox.pending_since_ms END,
                    due_at_ms = CASE WHEN push_outbox.messages = push_outbox.sent_messages
                        THEN GREATEST(EXCLUDED.due_at_ms, push_outbox.last_sent_ms + $8::BIGINT)
                        ELSE push_outbox.due_at_ms END,
                    attempts = CASE WHEN push_outbox.messages = push_outbox.sent_messages
                        THEN 0 ELSE push_outbox.attempts END
                 WHERE EXCLUDED.last_message_id > push_outbox.last_message_id",
            )
            .await
            .map_err(backend)?;
        let mut touched = 0;
        for p in &pushes {
            touched += tx
                .execute(
                    &stmt,
                    &[
                        &sql(p.channel_id),
                        &i32::from(p.mentioned),
                        &sql(p.message_id),
                        &sql(p.sender_id),
                        &t.now_ms,
                        &t.coalesce_ms,
                        &sql(p.user_id),
                        &t.min_interval_ms,
                    ],
                )
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(usize::try_from(touched).unwrap_or(usize::MAX))
    }

    async fn due_pushes(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM push_outbox o JOIN push_targets t ON t.id = o.target_id
                     WHERE o.due_at_ms <= $1 ORDER BY o.due_at_ms LIMIT $2"
                ),
                &[&now_ms, &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(outbox).collect()
    }

    async fn next_push_due(&self) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT MIN(due_at_ms) FROM push_outbox WHERE due_at_ms < $1",
                &[&NEVER],
            )
            .await
            .map_err(backend)?;
        convert::get(&row, 0)
    }

    async fn claim_push(
        &self,
        key: OutboxKey,
        seen_due_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        c.execute(
            "UPDATE push_outbox SET due_at_ms = $4, attempts = attempts + 1
             WHERE target_id = $1 AND channel_id = $2 AND due_at_ms = $3",
            &[
                &sql(key.target_id),
                &sql(key.channel_id),
                &seen_due_ms,
                &until_ms,
            ],
        )
        .await
        .map(|n| n > 0)
        .map_err(backend)
    }

    async fn push_delivered(
        &self,
        key: OutboxKey,
        sent_messages: u32,
        now_ms: i64,
        next_due_ms: i64,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let (target, channel) = (sql(key.target_id), sql(key.channel_id));
        tx.execute(
            "UPDATE push_outbox SET sent_messages = $3::INTEGER, attempts = 0,
                last_sent_ms = $4::BIGINT, pending_since_ms = $4::BIGINT,
                due_at_ms = CASE WHEN messages = $3::INTEGER THEN $6::BIGINT
                    WHEN messages = 0 THEN $4::BIGINT ELSE $5::BIGINT END
             WHERE target_id = $1 AND channel_id = $2",
            &[
                &target,
                &channel,
                &int(sent_messages),
                &now_ms,
                &next_due_ms,
                &NEVER,
            ],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM push_outbox WHERE target_id = $1 AND channel_id = $2
                AND messages = 0 AND sent_messages = 0",
            &[&target, &channel],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn push_retry(&self, key: OutboxKey, due_ms: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE push_outbox SET due_at_ms = $3
             WHERE target_id = $1 AND channel_id = $2 AND messages <> sent_messages",
            &[&sql(key.target_id), &sql(key.channel_id), &due_ms],
        )
        .await
        .map(drop)
        .map_err(backend)
    }

    async fn push_dead(
        &self,
        key: OutboxKey,
        tried: u32,
        letter_id: Id,
        error: String,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let (target, channel) = (sql(key.target_id), sql(key.channel_id));
        tx.execute(
            "INSERT INTO push_dead_letters (id, target_id, user_id, channel_id, messages,
                last_message_id, attempts, error, pending_since_ms, dead_at_ms)
             SELECT $3, target_id, user_id, channel_id, $6::INTEGER, last_message_id, attempts,
                $4, pending_since_ms, $5
             FROM push_outbox WHERE target_id = $1 AND channel_id = $2",
            &[
                &target,
                &channel,
                &sql(letter_id),
                &error,
                &now_ms,
                &int(tried),
            ],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM push_outbox WHERE target_id = $1 AND channel_id = $2 AND messages = $3",
            &[&target, &channel, &int(tried)],
        )
        .await
        .map_err(backend)?;
        // Messages came during the last try: they are notified afresh.
        tx.execute(
            "UPDATE push_outbox SET attempts = 0, pending_since_ms = $3, due_at_ms = $3
             WHERE target_id = $1 AND channel_id = $2",
            &[&target, &channel, &now_ms],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn clear_pushes(&self, user: Id, channel: Id, upto: Id, now_ms: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let (user, channel, upto) = (sql(user), sql(channel), sql(upto));
        // Nothing delivered: nothing to clear on the device.
        tx.execute(
            "DELETE FROM push_outbox WHERE user_id = $1 AND channel_id = $2
                AND last_message_id <= $3 AND sent_messages = 0",
            &[&user, &channel, &upto],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "UPDATE push_outbox SET messages = 0, mentions = 0, pending_since_ms = $4,
                due_at_ms = $4, attempts = 0
             WHERE user_id = $1 AND channel_id = $2 AND last_message_id <= $3
                AND messages > 0",
            &[&user, &channel, &upto, &now_ms],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, target_id, user_id, channel_id, messages, last_message_id,
                    attempts, error, pending_since_ms, dead_at_ms
                 FROM push_dead_letters ORDER BY id DESC LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(letter).collect()
    }
}
