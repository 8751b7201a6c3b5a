//! Push targets on SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::queries::{backend, row_id, sql_id};
use crate::store::{Id, PushKind, PushStore, PushTargetRecord, StoreError, StoreResult};

pub(super) const COLUMNS: &str =
    "id, user_id, kind, address, p256dh, auth, app_id, platform, created_at_ms";

pub(super) fn target_row(row: &Row<'_>) -> rusqlite::Result<PushTargetRecord> {
    let kind: i16 = row.get(2)?;
    Ok(PushTargetRecord {
        id: row_id(row, 0)?,
        user_id: row_id(row, 1)?,
        kind: PushKind::from_code(kind)
            .ok_or(rusqlite::Error::IntegralValueOutOfRange(2, i64::from(kind)))?,
        address: row.get(3)?,
        p256dh: row.get(4)?,
        auth: row.get(5)?,
        app_id: row.get(6)?,
        platform: row.get(7)?,
        created_at_ms: row.get(8)?,
    })
}

fn put(conn: &mut Connection, t: &PushTargetRecord, max: usize) -> StoreResult<PushTargetRecord> {
    let tx = conn.transaction().map_err(backend)?;
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM push_targets WHERE kind = ?1 AND address = ?2",
            params![t.kind.code(), t.address],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let id = existing.map_or(t.id, |id| id as Id);
    let others: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM push_targets WHERE user_id = ?1 AND id <> ?2",
            params![sql_id(t.user_id), sql_id(id)],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if others as usize >= max {
        return Err(StoreError::Conflict("push_targets_full"));
    }
    let stored = tx
        .query_row(
            &format!(
                "INSERT INTO push_targets ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (kind, address) DO UPDATE SET user_id = excluded.user_id,
                    p256dh = excluded.p256dh, auth = excluded.auth, app_id = excluded.app_id,
                    platform = excluded.platform, created_at_ms = excluded.created_at_ms
                 RETURNING {COLUMNS}"
            ),
            params![
                sql_id(id),
                sql_id(t.user_id),
                t.kind.code(),
                t.address,
                t.p256dh,
                t.auth,
                t.app_id,
                t.platform,
                t.created_at_ms
            ],
            target_row,
        )
        .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(stored)
}

fn of(conn: &Connection, user: Id) -> StoreResult<Vec<PushTargetRecord>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM push_targets WHERE user_id = ?1 ORDER BY id"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map([sql_id(user)], target_row)
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

impl PushStore for SqliteStore {
    async fn put_push_target(
        &self,
        target: PushTargetRecord,
        max_per_user: usize,
    ) -> StoreResult<PushTargetRecord> {
        self.write(move |c| put(c, &target, max_per_user)).await
    }

    async fn push_targets_of(&self, user: Id) -> StoreResult<Vec<PushTargetRecord>> {
        self.read(move |c| of(c, user)).await
    }

    async fn delete_push_target(&self, user: Id, id: Id) -> StoreResult<bool> {
        self.write(move |c| {
            c.execute(
                "DELETE FROM push_targets WHERE user_id = ?1 AND id = ?2",
                params![sql_id(user), sql_id(id)],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
        .await
    }

    async fn server_secret(&self, name: &'static str, candidate: Vec<u8>) -> StoreResult<Vec<u8>> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO server_secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, candidate],
            )
            .map_err(backend)?;
            c.query_row(
                "SELECT value FROM server_secrets WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn delete_push_address(&self, kind: PushKind, address: &str) -> StoreResult<bool> {
        let address = address.to_owned();
        self.write(move |c| {
            c.execute(
                "DELETE FROM push_targets WHERE kind = ?1 AND address = ?2",
                params![kind.code(), address],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
        .await
    }
}
