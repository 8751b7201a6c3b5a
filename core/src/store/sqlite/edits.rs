//! Single messages: reading one, editing or deleting it (keeping earlier
//! texts as versions), and the changes a device missed.

use rusqlite::{Connection, OptionalExtension, params};

use super::mentions;
use super::queries::{MESSAGE_COLUMNS, backend, message_row, row_id, sql_id};
use crate::store::{Id, MessageChange, MessageRecord, StoreResult, VersionRecord};

pub fn message(conn: &Connection, channel: Id, id: Id) -> StoreResult<Option<MessageRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1 AND channel_id = ?2"
    ))
    .and_then(|mut st| {
        st.query_row(params![sql_id(id), sql_id(channel)], message_row)
            .optional()
    })
    .map_err(backend)
}

/// When the message's current text was written.
fn current_since(m: &MessageRecord) -> i64 {
    if m.edited_at_ms > 0 {
        m.edited_at_ms
    } else {
        m.created_at_ms
    }
}

pub fn update_message(
    conn: &mut Connection,
    channel: Id,
    id: Id,
    change: &MessageChange,
    at_ms: i64,
    version: Id,
) -> StoreResult<Option<MessageRecord>> {
    let tx = conn.transaction().map_err(backend)?;
    let Some(current) = message(&tx, channel, id)? else {
        return Ok(None);
    };
    let key = params![sql_id(channel), sql_id(id)];
    match change {
        MessageChange::Edit { text, mentions: m } => {
            tx.execute(
                "INSERT OR IGNORE INTO message_versions
                 (channel_id, message_id, version_id, text, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    sql_id(channel),
                    sql_id(id),
                    sql_id(current.version_id),
                    current.text,
                    current_since(&current)
                ],
            )
            .map_err(backend)?;
            tx.execute(
                "UPDATE messages SET text = ?3, mentions = ?4, edited_at_ms = ?5, version_id = ?6
                 WHERE channel_id = ?1 AND id = ?2",
                params![
                    sql_id(channel),
                    sql_id(id),
                    text,
                    mentions::encode(m),
                    at_ms,
                    sql_id(version)
                ],
            )
            .map_err(backend)?;
            mentions::delete(&tx, channel, id)?;
            mentions::insert(&tx, channel, id, current.sender_id, m)?;
        }
        MessageChange::Delete { by } => {
            let deleted_by = if *by == current.sender_id { 0 } else { *by };
            tx.execute(
                "UPDATE messages SET text = '', mentions = '', deleted = 1, deleted_by = ?3,
                 edited_at_ms = ?4, version_id = ?5 WHERE channel_id = ?1 AND id = ?2",
                params![
                    sql_id(channel),
                    sql_id(id),
                    sql_id(deleted_by),
                    at_ms,
                    sql_id(version)
                ],
            )
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM message_versions WHERE channel_id = ?1 AND message_id = ?2",
                key,
            )
            .map_err(backend)?;
            mentions::delete(&tx, channel, id)?;
        }
    }
    let stored = message(&tx, channel, id)?;
    tx.commit().map_err(backend)?;
    Ok(stored)
}

pub fn versions(conn: &Connection, channel: Id, id: Id) -> StoreResult<Vec<VersionRecord>> {
    let Some(current) = message(conn, channel, id)?.filter(|m| !m.deleted) else {
        return Ok(Vec::new());
    };
    let mut st = conn
        .prepare_cached(
            "SELECT version_id, text, created_at_ms FROM message_versions
             WHERE channel_id = ?1 AND message_id = ?2 ORDER BY version_id",
        )
        .map_err(backend)?;
    let mut out = st
        .query_map(params![sql_id(channel), sql_id(id)], |r| {
            Ok(VersionRecord {
                version_id: row_id(r, 0)?,
                text: r.get(1)?,
                created_at_ms: r.get(2)?,
            })
        })
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)?;
    out.push(VersionRecord {
        version_id: current.version_id,
        created_at_ms: current_since(&current),
        text: current.text,
    });
    Ok(out)
}

pub fn changes(
    conn: &Connection,
    channel: Id,
    after_version: Id,
    limit: usize,
) -> StoreResult<Vec<MessageRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE channel_id = ?1 AND version_id > ?2 ORDER BY version_id LIMIT ?3"
        ))
        .map_err(backend)?;
    st.query_map(
        params![sql_id(channel), sql_id(after_version), limit as i64],
        message_row,
    )
    .map_err(backend)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend)
}
