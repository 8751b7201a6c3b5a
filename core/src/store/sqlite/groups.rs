//! Group administration: names, roles, owners, and deleting a group.

use rusqlite::{Connection, params};

use super::queries::{backend, role_code, sql_id};
use crate::store::{Id, MembershipChange, StoreError, StoreResult};

pub fn rename_channel(conn: &Connection, channel: Id, name: &str) -> StoreResult<bool> {
    conn.prepare_cached("UPDATE channels SET name = ?2 WHERE id = ?1 AND deleted_at_ms = 0")
        .and_then(|mut st| st.execute(params![sql_id(channel), name]))
        .map(|n| n == 1)
        .map_err(backend)
}

pub fn update_membership(
    conn: &mut Connection,
    channel: Id,
    change: &MembershipChange,
) -> StoreResult<()> {
    let tx = conn.transaction().map_err(backend)?;
    if let Some(user) = change.remove {
        tx.execute(
            "DELETE FROM members WHERE channel_id = ?1 AND user_id = ?2",
            params![sql_id(channel), sql_id(user)],
        )
        .map_err(backend)?;
    }
    if let Some(owner) = change.owner {
        let is_member: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM members WHERE channel_id = ?1 AND user_id = ?2)",
                params![sql_id(channel), sql_id(owner)],
                |r| r.get(0),
            )
            .map_err(backend)?;
        if !is_member {
            return Err(StoreError::Conflict("a new owner must be a member"));
        }
        tx.execute(
            "UPDATE channels SET owner_id = ?2 WHERE id = ?1",
            params![sql_id(channel), sql_id(owner)],
        )
        .map_err(backend)?;
    }
    for (user, role) in &change.roles {
        tx.execute(
            "UPDATE members SET role = ?3 WHERE channel_id = ?1 AND user_id = ?2",
            params![sql_id(channel), sql_id(*user), role_code(*role)],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

/// The tables that hold a channel's rows, by the column naming it.
const CHANNEL_ROWS: [(&str, &str); 6] = [
    ("members", "channel_id"),
    ("read_states", "channel_id"),
    ("channel_mutes", "channel_id"),
    ("mentions", "channel_id"),
    ("message_versions", "channel_id"),
    ("messages", "channel_id"),
];

pub fn delete_channel(conn: &mut Connection, channel: Id, at_ms: i64) -> StoreResult<bool> {
    let tx = conn.transaction().map_err(backend)?;
    // Ids the channel held stay counted, so none is ever issued again.
    let marked = tx
        .execute(
            "UPDATE channels SET deleted_at_ms = ?2, id_floor = MAX(id_floor,
                 COALESCE((SELECT MAX(MAX(id), MAX(version_id)) FROM messages
                           WHERE channel_id = ?1), 0))
             WHERE id = ?1 AND deleted_at_ms = 0",
            params![sql_id(channel), at_ms],
        )
        .map_err(backend)?;
    if marked == 0 {
        return Ok(false);
    }
    for (table, column) in CHANNEL_ROWS {
        tx.execute(
            &format!("DELETE FROM {table} WHERE {column} = ?1"),
            [sql_id(channel)],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    Ok(true)
}
