//! [`PushStore`] on PostgreSQL: push targets.

use tokio_postgres::Row;

use super::PgStore;
use super::convert::{self, backend, sql};
use crate::store::{Id, PushKind, PushStore, PushTargetRecord, StoreError, StoreResult};

pub(super) const COLUMNS: &str =
    "id, user_id, kind, address, p256dh, auth, app_id, platform, created_at_ms";

pub(super) fn target(row: &Row) -> StoreResult<PushTargetRecord> {
    let kind: i16 = convert::get(row, 2)?;
    Ok(PushTargetRecord {
        id: convert::id(convert::get(row, 0)?),
        user_id: convert::id(convert::get(row, 1)?),
        kind: PushKind::from_code(kind)
            .ok_or_else(|| StoreError::Backend(format!("unknown push kind {kind}")))?,
        address: convert::get(row, 3)?,
        p256dh: convert::get(row, 4)?,
        auth: convert::get(row, 5)?,
        app_id: convert::get(row, 6)?,
        platform: convert::get(row, 7)?,
        created_at_ms: convert::get(row, 8)?,
    })
}

impl PushStore for PgStore {
    async fn put_push_target(
        &self,
        t: PushTargetRecord,
        max_per_user: usize,
    ) -> StoreResult<PushTargetRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        // One registration of a user at a time, so the count holds.
        tx.execute(
            "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
            &[&sql(t.user_id)],
        )
        .await
        .map_err(backend)?;
        let existing = tx
            .query_opt(
                "SELECT id FROM push_targets WHERE kind = $1 AND address = $2",
                &[&t.kind.code(), &t.address],
            )
            .await
            .map_err(backend)?;
        let id = match existing {
            Some(row) => convert::get(&row, 0)?,
            None => sql(t.id),
        };
        let others: i64 = convert::get(
            &tx.query_one(
                "SELECT COUNT(*) FROM push_targets WHERE user_id = $1 AND id <> $2",
                &[&sql(t.user_id), &id],
            )
            .await
            .map_err(backend)?,
            0,
        )?;
        if usize::try_from(others).unwrap_or(usize::MAX) >= max_per_user {
            return Err(StoreError::Conflict("push_targets_full"));
        }
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO push_targets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (kind, address) DO UPDATE SET user_id = EXCLUDED.user_id,
                        p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, app_id = EXCLUDED.app_id,
                        platform = EXCLUDED.platform, created_at_ms = EXCLUDED.created_at_ms
                     RETURNING {COLUMNS}"
                ),
                &[
                    &id,
                    &sql(t.user_id),
                    &t.kind.code(),
                    &t.address,
                    &t.p256dh,
                    &t.auth,
                    &t.app_id,
                    &t.platform,
                    &t.created_at_ms,
                ],
            )
            .await
            .map_err(backend)?;
        let stored = target(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn push_targets_of(&self, user: Id) -> StoreResult<Vec<PushTargetRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM push_targets WHERE user_id = $1 ORDER BY id"),
                &[&sql(user)],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(target).collect()
    }

    async fn delete_push_target(&self, user: Id, id: Id) -> StoreResult<bool> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM push_targets WHERE user_id = $1 AND id = $2",
            &[&sql(user), &sql(id)],
        )
        .await
        .map(|n| n > 0)
        .map_err(backend)
    }

    async fn server_secret(&self, name: &'static str, candidate: Vec<u8>) -> StoreResult<Vec<u8>> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &candidate],
        )
        .await
        .map_err(backend)?;
        let row = c
            .query_one("SELECT value FROM server_secrets WHERE name = $1", &[&name])
            .await
            .map_err(backend)?;
        convert::get(&row, 0)
    }

    async fn delete_push_address(&self, kind: PushKind, address: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM push_targets WHERE kind = $1 AND address = $2",
            &[&kind.code(), &address],
        )
        .await
        .map(|n| n > 0)
        .map_err(backend)
    }
}
