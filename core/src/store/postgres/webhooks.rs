//! [`WebhookStore`] on PostgreSQL: bots' webhooks and their outbox.

use tokio_postgres::Row;

use super::PgStore;
use super::convert::{self, backend, sql};
use crate::store::{
    HookEvent, HookKey, HookKind, HookRecord, Id, NEVER, StoreResult, Webhook, WebhookStore,
};

/// The row's columns, then its webhook's (empty once the webhook is gone).
const COLUMNS: &str = "o.bot_id, o.event_id, o.channel_id, o.kind, o.body,
    COALESCE(w.url, ''), COALESCE(w.secret, ''), o.created_at_ms, o.due_at_ms, o.attempts,
    o.error, o.dead_at_ms";

fn hook(row: &Row) -> StoreResult<HookRecord> {
    Ok(HookRecord {
        key: HookKey {
            bot_id: convert::id_at(row, 0)?,
            event_id: convert::id_at(row, 1)?,
        },
        channel_id: convert::id_at(row, 2)?,
        kind: HookKind::from_code(i64::from(convert::get::<i16>(row, 3)?)),
        body: convert::get(row, 4)?,
        url: convert::get(row, 5)?,
        secret: convert::get(row, 6)?,
        created_at_ms: convert::get(row, 7)?,
        due_at_ms: convert::get(row, 8)?,
        attempts: u32::try_from(convert::get::<i32>(row, 9)?).unwrap_or(0),
        error: convert::get(row, 10)?,
        dead_at_ms: convert::get(row, 11)?,
    })
}

impl PgStore {
    async fn select_hooks(&self, filter: &str, args: [i64; 2]) -> StoreResult<Vec<HookRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM webhook_outbox o
                     LEFT JOIN bot_webhooks w ON w.bot_id = o.bot_id {filter}"
                ),
                &[&args[0], &args[1]],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(hook).collect()
    }

    /// Runs one statement over a row's key and `rest`.
    async fn on_hook(
        &self,
        statement: &str,
        key: HookKey,
        rest: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let c = self.client().await?;
        let (bot, event) = (sql(key.bot_id), sql(key.event_id));
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&bot, &event];
        params.extend_from_slice(rest);
        c.execute(statement, &params).await.map_err(backend)
    }
}

impl WebhookStore for PgStore {
    async fn set_webhook(&self, bot: Id, hook: Option<Webhook>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let bot = sql(bot);
        match hook {
            Some(h) => {
                tx.execute(
                    "INSERT INTO bot_webhooks (bot_id, url, secret, updated_at_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (bot_id) DO UPDATE SET url = EXCLUDED.url,
                        secret = EXCLUDED.secret, updated_at_ms = EXCLUDED.updated_at_ms",
                    &[&bot, &h.url, &h.secret, &h.updated_at_ms],
                )
                .await
            }
            None => {
                tx.execute(
                    "DELETE FROM webhook_outbox WHERE bot_id = $1 AND dead_at_ms = 0",
                    &[&bot],
                )
                .await
                .map_err(backend)?;
                tx.execute("DELETE FROM bot_webhooks WHERE bot_id = $1", &[&bot])
                    .await
            }
        }
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn webhook(&self, bot: Id) -> StoreResult<Option<Webhook>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT bot_id, url, secret, updated_at_ms FROM bot_webhooks WHERE bot_id = $1",
                &[&sql(bot)],
            )
            .await
            .map_err(backend)?;
        row.map(|r| {
            Ok(Webhook {
                bot_id: convert::id_at(&r, 0)?,
                url: convert::get(&r, 1)?,
                secret: convert::get(&r, 2)?,
                updated_at_ms: convert::get(&r, 3)?,
            })
        })
        .transpose()
    }

    async fn queue_hooks(&self, events: Vec<HookEvent>, now_ms: i64) -> StoreResult<usize> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let stmt = tx
            .prepare(
                "INSERT INTO webhook_outbox (bot_id, event_id, channel_id, kind, body,
                    created_at_ms, due_at_ms, attempts, error, dead_at_ms)
                 SELECT w.bot_id, $1::BIGINT, $2::BIGINT, $3::SMALLINT, $4::TEXT, $5::BIGINT,
                    $5::BIGINT, 0, '', 0
                 FROM bot_webhooks w
                 JOIN members m ON m.channel_id = $2::BIGINT AND m.user_id = w.bot_id
                 WHERE w.bot_id <> $6::BIGINT AND ($7::BIGINT = 0 OR w.bot_id = $7::BIGINT)
                 ORDER BY w.bot_id
                 ON CONFLICT (bot_id, event_id) DO NOTHING",
            )
            .await
            .map_err(backend)?;
        let mut written = 0;
        for e in &events {
            written += tx
                .execute(
                    &stmt,
                    &[
                        &sql(e.event_id),
                        &sql(e.channel_id),
                        &e.kind.code(),
                        &e.body,
                        &now_ms,
                        &sql(e.sender_id),
                        &sql(e.to),
                    ],
                )
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(usize::try_from(written).unwrap_or(usize::MAX))
    }

    async fn due_hooks(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<HookRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_hooks(
            "WHERE o.dead_at_ms = 0 AND o.due_at_ms <= $1 ORDER BY o.due_at_ms LIMIT $2",
            [now_ms, limit],
        )
        .await
    }

    async fn next_hook_due(&self) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT MIN(due_at_ms) FROM webhook_outbox WHERE dead_at_ms = 0",
                &[],
            )
            .await
            .map_err(backend)?;
        convert::get(&row, 0)
    }

    async fn claim_hook(&self, key: HookKey, seen_due_ms: i64, until_ms: i64) -> StoreResult<bool> {
        self.on_hook(
            "UPDATE webhook_outbox SET due_at_ms = $4, attempts = attempts + 1
             WHERE bot_id = $1 AND event_id = $2 AND due_at_ms = $3 AND dead_at_ms = 0",
            key,
            &[&seen_due_ms, &until_ms],
        )
        .await
        .map(|n| n > 0)
    }

    async fn hook_delivered(&self, key: HookKey) -> StoreResult<()> {
        self.on_hook(
            "DELETE FROM webhook_outbox WHERE bot_id = $1 AND event_id = $2",
            key,
            &[],
        )
        .await
        .map(drop)
    }

    async fn hook_retry(&self, key: HookKey, due_ms: i64, error: String) -> StoreResult<()> {
        self.on_hook(
            "UPDATE webhook_outbox SET due_at_ms = $3, error = $4
             WHERE bot_id = $1 AND event_id = $2 AND dead_at_ms = 0",
            key,
            &[&due_ms, &error],
        )
        .await
        .map(drop)
    }

    async fn hook_dead(&self, key: HookKey, error: String, now_ms: i64) -> StoreResult<()> {
        self.on_hook(
            "UPDATE webhook_outbox SET due_at_ms = $3, error = $4, dead_at_ms = $5
             WHERE bot_id = $1 AND event_id = $2 AND dead_at_ms = 0",
            key,
            &[&NEVER, &error, &now_ms],
        )
        .await
        .map(drop)
    }

    async fn dead_hooks(&self, limit: usize) -> StoreResult<Vec<HookRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_hooks(
            "WHERE o.dead_at_ms <> 0 AND $1::BIGINT = 0 ORDER BY o.dead_at_ms DESC LIMIT $2",
            [0, limit],
        )
        .await
    }
}
