//! Profiles, settings and relationships between users.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::queries::{USER_COLUMNS, backend, row_id, sql_id, user_row};
use crate::store::{
    Id, NotificationLevel, ProfileChange, RelationChange, RelationKind, RelationRecord,
    SettingsRecord, StoreError, StoreResult, UserRecord,
};

pub fn update_profile(
    conn: &Connection,
    user: Id,
    change: &ProfileChange,
) -> StoreResult<Option<UserRecord>> {
    conn.prepare_cached(&format!(
        "UPDATE users SET display_name = COALESCE(?2, display_name),
            status_text = COALESCE(?3, status_text), avatar_url = COALESCE(?4, avatar_url)
         WHERE id = ?1 RETURNING {USER_COLUMNS}"
    ))
    .and_then(|mut st| {
        st.query_row(
            params![
                sql_id(user),
                change.display_name,
                change.status_text,
                change.avatar_url
            ],
            user_row,
        )
        .optional()
    })
    .map_err(backend)
}

/// Stores each user's last-active time in one transaction, never moving
/// one back.
pub fn set_last_active_all(conn: &mut Connection, entries: &[(Id, i64)]) -> StoreResult<()> {
    let tx = conn.transaction().map_err(backend)?;
    {
        let mut st = tx
            .prepare_cached(
                "UPDATE users SET last_active_at_ms = MAX(last_active_at_ms, ?2) WHERE id = ?1",
            )
            .map_err(backend)?;
        for &(user, at_ms) in entries {
            st.execute(params![sql_id(user), at_ms]).map_err(backend)?;
        }
    }
    tx.commit().map_err(backend)
}

fn level_code(level: NotificationLevel) -> i64 {
    match level {
        NotificationLevel::All => 1,
        NotificationLevel::Mentions => 2,
        NotificationLevel::Nothing => 3,
    }
}

fn level_of(code: i64) -> NotificationLevel {
    match code {
        2 => NotificationLevel::Mentions,
        3 => NotificationLevel::Nothing,
        _ => NotificationLevel::All,
    }
}

pub fn settings(conn: &Connection, user: Id) -> StoreResult<SettingsRecord> {
    let (notifications, invisible) = conn
        .prepare_cached("SELECT notifications, invisible FROM settings WHERE user_id = ?1")
        .and_then(|mut st| {
            st.query_row([sql_id(user)], |r| Ok((level_of(r.get(0)?), r.get(1)?)))
                .optional()
        })
        .map_err(backend)?
        .unwrap_or_default();
    let mut st = conn
        .prepare_cached(
            "SELECT channel_id FROM channel_mutes WHERE user_id = ?1 ORDER BY channel_id",
        )
        .map_err(backend)?;
    let muted_channel_ids = st
        .query_map([sql_id(user)], |r| row_id(r, 0))
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)?;
    Ok(SettingsRecord {
        notifications,
        muted_channel_ids,
        invisible,
    })
}

pub fn put_settings(conn: &mut Connection, user: Id, s: &SettingsRecord) -> StoreResult<()> {
    let tx = conn.transaction().map_err(backend)?;
    tx.execute(
        "INSERT INTO settings (user_id, notifications, invisible) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE
         SET notifications = excluded.notifications, invisible = excluded.invisible",
        params![sql_id(user), level_code(s.notifications), s.invisible],
    )
    .map_err(backend)?;
    tx.execute(
        "DELETE FROM channel_mutes WHERE user_id = ?1",
        [sql_id(user)],
    )
    .map_err(backend)?;
    for channel in &s.muted_channel_ids {
        tx.execute(
            "INSERT INTO channel_mutes (user_id, channel_id) VALUES (?1, ?2)",
            params![sql_id(user), sql_id(*channel)],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

fn kind_code(kind: RelationKind) -> i64 {
    match kind {
        RelationKind::Friend => 1,
        RelationKind::Incoming => 2,
        RelationKind::Outgoing => 3,
        RelationKind::Blocked => 4,
    }
}

fn relation_row(row: &Row<'_>) -> rusqlite::Result<RelationRecord> {
    let kind = match row.get::<_, i64>(1)? {
        1 => RelationKind::Friend,
        2 => RelationKind::Incoming,
        3 => RelationKind::Outgoing,
        _ => RelationKind::Blocked,
    };
    Ok(RelationRecord {
        other_id: row_id(row, 0)?,
        kind,
        since_ms: row.get(2)?,
    })
}

pub fn relations(conn: &Connection, user: Id) -> StoreResult<Vec<RelationRecord>> {
    let mut st = conn
        .prepare_cached(
            "SELECT other_id, kind, since_ms FROM relations WHERE user_id = ?1 ORDER BY other_id",
        )
        .map_err(backend)?;
    st.query_map([sql_id(user)], relation_row)
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)
}

pub fn blocked_by(conn: &Connection, user: Id) -> StoreResult<Vec<Id>> {
    let mut st = conn
        .prepare_cached(
            "SELECT user_id FROM relations WHERE other_id = ?1 AND kind = ?2 ORDER BY user_id",
        )
        .map_err(backend)?;
    st.query_map(
        params![sql_id(user), kind_code(RelationKind::Blocked)],
        |r| row_id(r, 0),
    )
    .map_err(backend)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend)
}

pub fn relation(conn: &Connection, user: Id, other: Id) -> StoreResult<Option<RelationRecord>> {
    conn.prepare_cached(
        "SELECT other_id, kind, since_ms FROM relations WHERE user_id = ?1 AND other_id = ?2",
    )
    .and_then(|mut st| {
        st.query_row(params![sql_id(user), sql_id(other)], relation_row)
            .optional()
    })
    .map_err(backend)
}

pub fn change_relations(
    conn: &mut Connection,
    changes: &[RelationChange],
    at_ms: i64,
) -> StoreResult<()> {
    let tx = conn.transaction().map_err(backend)?;
    for (user, other, kind) in changes {
        if user == other {
            return Err(StoreError::Conflict(
                "a user has no relationship with themself",
            ));
        }
        match kind {
            Some(kind) => tx.execute(
                "INSERT INTO relations (user_id, other_id, kind, since_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, other_id)
                 DO UPDATE SET kind = excluded.kind, since_ms = excluded.since_ms",
                params![sql_id(*user), sql_id(*other), kind_code(*kind), at_ms],
            ),
            None => tx.execute(
                "DELETE FROM relations WHERE user_id = ?1 AND other_id = ?2",
                params![sql_id(*user), sql_id(*other)],
            ),
        }
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}
