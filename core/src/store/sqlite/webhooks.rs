//! Bots' webhooks and their outbox on SQLite.

use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::SqliteStore;
use super::queries::{backend, row_id, sql_id};
use crate::store::{
    HookEvent, HookKey, HookKind, HookRecord, Id, NEVER, StoreResult, Webhook, WebhookStore,
};

/// The row's columns, then its webhook's (empty once the webhook is gone).
const COLUMNS: &str = "o.bot_id, o.event_id, o.channel_id, o.kind, o.body,
    COALESCE(w.url, ''), COALESCE(w.secret, ''), o.created_at_ms, o.due_at_ms, o.attempts,
    o.error, o.dead_at_ms";

fn hook_row(row: &Row<'_>) -> rusqlite::Result<HookRecord> {
    Ok(HookRecord {
        key: HookKey {
            bot_id: row_id(row, 0)?,
            event_id: row_id(row, 1)?,
        },
        channel_id: row_id(row, 2)?,
        kind: HookKind::from_code(row.get(3)?),
        body: row.get(4)?,
        url: row.get(5)?,
        secret: row.get(6)?,
        created_at_ms: row.get(7)?,
        due_at_ms: row.get(8)?,
        attempts: row.get(9)?,
        error: row.get(10)?,
        dead_at_ms: row.get(11)?,
    })
}

fn set(conn: &mut Connection, bot: Id, hook: Option<Webhook>) -> StoreResult<()> {
    let tx = conn.transaction().map_err(backend)?;
    match hook {
        Some(h) => tx.execute(
            "INSERT INTO bot_webhooks (bot_id, url, secret, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (bot_id) DO UPDATE SET url = excluded.url,
                secret = excluded.secret, updated_at_ms = excluded.updated_at_ms",
            params![sql_id(bot), h.url, h.secret, h.updated_at_ms],
        ),
        None => {
            tx.execute(
                "DELETE FROM webhook_outbox WHERE bot_id = ?1 AND dead_at_ms = 0",
                [sql_id(bot)],
            )
            .map_err(backend)?;
            tx.execute("DELETE FROM bot_webhooks WHERE bot_id = ?1", [sql_id(bot)])
        }
    }
    .map_err(backend)?;
    tx.commit().map_err(backend)
}

fn queue(conn: &mut Connection, events: &[HookEvent], now: i64) -> StoreResult<usize> {
    let tx = conn.transaction().map_err(backend)?;
    let mut written = 0;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO webhook_outbox (bot_id, event_id, channel_id, kind, body,
                    created_at_ms, due_at_ms, attempts, error, dead_at_ms)
                 SELECT w.bot_id, ?1, ?2, ?3, ?4, ?5, ?5, 0, '', 0
                 FROM bot_webhooks w
                 JOIN members m ON m.channel_id = ?2 AND m.user_id = w.bot_id
                 WHERE w.bot_id <> ?6 AND (?7 = 0 OR w.bot_id = ?7)",
            )
            .map_err(backend)?;
        for e in events {
            written += stmt
                .execute(params![
                    sql_id(e.event_id),
                    sql_id(e.channel_id),
                    e.kind.code(),
                    e.body,
                    now,
                    sql_id(e.sender_id),
                    sql_id(e.to),
                ])
                .map_err(backend)?;
        }
    }
    tx.commit().map_err(backend)?;
    Ok(written)
}

fn select(conn: &Connection, filter: &str, args: [i64; 2]) -> StoreResult<Vec<HookRecord>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_outbox o
             LEFT JOIN bot_webhooks w ON w.bot_id = o.bot_id {filter}"
        ))
        .map_err(backend)?;
    let rows = stmt.query_map(args, hook_row).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn key_params(key: HookKey) -> [i64; 2] {
    [sql_id(key.bot_id), sql_id(key.event_id)]
}

impl WebhookStore for SqliteStore {
    async fn set_webhook(&self, bot: Id, hook: Option<Webhook>) -> StoreResult<()> {
        self.write(move |c| set(c, bot, hook)).await
    }

    async fn webhook(&self, bot: Id) -> StoreResult<Option<Webhook>> {
        self.read(move |c| {
            c.query_row(
                "SELECT bot_id, url, secret, updated_at_ms FROM bot_webhooks WHERE bot_id = ?1",
                [sql_id(bot)],
                |r| {
                    Ok(Webhook {
                        bot_id: row_id(r, 0)?,
                        url: r.get(1)?,
                        secret: r.get(2)?,
                        updated_at_ms: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn queue_hooks(&self, events: Vec<HookEvent>, now_ms: i64) -> StoreResult<usize> {
        if events.is_empty() {
            return Ok(0);
        }
        self.write(move |c| queue(c, &events, now_ms)).await
    }

    async fn due_hooks(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<HookRecord>> {
        self.read(move |c| {
            select(
                c,
                "WHERE o.dead_at_ms = 0 AND o.due_at_ms <= ?1 ORDER BY o.due_at_ms LIMIT ?2",
                [now_ms, limit as i64],
            )
        })
        .await
    }

    async fn next_hook_due(&self) -> StoreResult<Option<i64>> {
        self.read(|c| {
            c.query_row(
                "SELECT MIN(due_at_ms) FROM webhook_outbox WHERE dead_at_ms = 0",
                [],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn claim_hook(&self, key: HookKey, seen_due_ms: i64, until_ms: i64) -> StoreResult<bool> {
        let [bot, event] = key_params(key);
        self.write(move |c| {
            c.execute(
                "UPDATE webhook_outbox SET due_at_ms = ?4, attempts = attempts + 1
                 WHERE bot_id = ?1 AND event_id = ?2 AND due_at_ms = ?3 AND dead_at_ms = 0",
                params![bot, event, seen_due_ms, until_ms],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
        .await
    }

    async fn hook_delivered(&self, key: HookKey) -> StoreResult<()> {
        let [bot, event] = key_params(key);
        self.write(move |c| {
            c.execute(
                "DELETE FROM webhook_outbox WHERE bot_id = ?1 AND event_id = ?2",
                [bot, event],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    async fn hook_retry(&self, key: HookKey, due_ms: i64, error: String) -> StoreResult<()> {
        let [bot, event] = key_params(key);
        self.write(move |c| {
            c.execute(
                "UPDATE webhook_outbox SET due_at_ms = ?3, error = ?4
                 WHERE bot_id = ?1 AND event_id = ?2 AND dead_at_ms = 0",
                params![bot, event, due_ms, error],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    async fn hook_dead(&self, key: HookKey, error: String, now_ms: i64) -> StoreResult<()> {
        let [bot, event] = key_params(key);
        self.write(move |c| {
            c.execute(
                "UPDATE webhook_outbox SET due_at_ms = ?3, error = ?4, dead_at_ms = ?5
                 WHERE bot_id = ?1 AND event_id = ?2 AND dead_at_ms = 0",
                params![bot, event, NEVER, error, now_ms],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    async fn dead_hooks(&self, limit: usize) -> StoreResult<Vec<HookRecord>> {
        self.read(move |c| {
            select(
                c,
                "WHERE o.dead_at_ms <> 0 AND ?1 = ?1 ORDER BY o.dead_at_ms DESC LIMIT ?2",
                [0, limit as i64],
            )
        })
        .await
    }
}
