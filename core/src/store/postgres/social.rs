//! Settings and relationships between users.

use super::PgStore;
use super::convert::{self, backend, relation_code, sql};
use crate::store::{
    Id, NotificationLevel, RelationChange, RelationKind, RelationRecord, SettingsRecord,
    StoreError, StoreResult,
};

fn level_code(level: NotificationLevel) -> i16 {
    match level {
        NotificationLevel::All => 1,
        NotificationLevel::Mentions => 2,
        NotificationLevel::Nothing => 3,
    }
}

fn level(code: i16) -> NotificationLevel {
    match code {
        2 => NotificationLevel::Mentions,
        3 => NotificationLevel::Nothing,
        _ => NotificationLevel::All,
    }
}

const RELATION_COLUMNS: &str = "other_id, kind, since_ms";

pub(super) async fn settings(s: &PgStore, user: Id) -> StoreResult<SettingsRecord> {
    let c = s.client().await?;
    let row = c
        .query_opt(
            "SELECT notifications, invisible FROM settings WHERE user_id = $1",
            &[&sql(user)],
        )
        .await
        .map_err(backend)?;
    let (notifications, invisible) = match row {
        Some(row) => (level(convert::get(&row, 0)?), convert::get(&row, 1)?),
        None => Default::default(),
    };
    let rows = c
        .query(
            "SELECT channel_id FROM channel_mutes WHERE user_id = $1 ORDER BY channel_id",
            &[&sql(user)],
        )
        .await
        .map_err(backend)?;
    Ok(SettingsRecord {
        notifications,
        muted_channel_ids: convert::all(&rows, |r| convert::id_at(r, 0))?,
        invisible,
    })
}

pub(super) async fn put_settings(
    s: &PgStore,
    user: Id,
    settings: &SettingsRecord,
) -> StoreResult<()> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    tx.execute(
        "INSERT INTO settings (user_id, notifications, invisible) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE
         SET notifications = EXCLUDED.notifications, invisible = EXCLUDED.invisible",
        &[
            &sql(user),
            &level_code(settings.notifications),
            &settings.invisible,
        ],
    )
    .await
    .map_err(backend)?;
    tx.execute(
        "DELETE FROM channel_mutes WHERE user_id = $1",
        &[&sql(user)],
    )
    .await
    .map_err(backend)?;
    let muted: Vec<i64> = settings.muted_channel_ids.iter().map(|&c| sql(c)).collect();
    tx.execute(
        "INSERT INTO channel_mutes (user_id, channel_id)
         SELECT $1, m FROM unnest($2::BIGINT[]) AS m ON CONFLICT DO NOTHING",
        &[&sql(user), &muted],
    )
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)
}

pub(super) async fn relations(s: &PgStore, user: Id) -> StoreResult<Vec<RelationRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "SELECT {RELATION_COLUMNS} FROM relations WHERE user_id = $1 ORDER BY other_id"
        ))
        .await
        .map_err(backend)?;
    let rows = c.query(&st, &[&sql(user)]).await.map_err(backend)?;
    convert::all(&rows, convert::relation)
}

pub(super) async fn blocked_by(s: &PgStore, user: Id) -> StoreResult<Vec<Id>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "SELECT user_id FROM relations WHERE other_id = $1 AND kind = $2 ORDER BY user_id",
        )
        .await
        .map_err(backend)?;
    let blocked = relation_code(RelationKind::Blocked);
    let rows = c
        .query(&st, &[&sql(user), &blocked])
        .await
        .map_err(backend)?;
    convert::all(&rows, |r| convert::id_at(r, 0))
}

pub(super) async fn relation(
    s: &PgStore,
    user: Id,
    other: Id,
) -> StoreResult<Option<RelationRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "SELECT {RELATION_COLUMNS} FROM relations WHERE user_id = $1 AND other_id = $2"
        ))
        .await
        .map_err(backend)?;
    let row = c
        .query_opt(&st, &[&sql(user), &sql(other)])
        .await
        .map_err(backend)?;
    row.as_ref().map(convert::relation).transpose()
}

pub(super) async fn change_relations(
    s: &PgStore,
    changes: &[RelationChange],
    at_ms: i64,
) -> StoreResult<()> {
    if changes.iter().any(|(user, other, _)| user == other) {
        return Err(StoreError::Conflict(
            "a user has no relationship with themself",
        ));
    }
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    for (user, other, kind) in changes {
        let (user, other) = (sql(*user), sql(*other));
        match kind {
            Some(kind) => {
                let code = relation_code(*kind);
                tx.execute(
                    "INSERT INTO relations (user_id, other_id, kind, since_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (user_id, other_id)
                     DO UPDATE SET kind = EXCLUDED.kind, since_ms = EXCLUDED.since_ms",
                    &[&user, &other, &code, &at_ms],
                )
                .await
            }
            None => {
                tx.execute(
                    "DELETE FROM relations WHERE user_id = $1 AND other_id = $2",
                    &[&user, &other],
                )
                .await
            }
        }
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}
