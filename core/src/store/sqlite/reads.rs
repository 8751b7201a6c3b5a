//! Read positions, unread counts, and edits of stored messages.

use rusqlite::{Connection, OptionalExtension, params};

use super::queries::{MESSAGE_COLUMNS, backend, message_row, row_id, sql_id};
use crate::store::{Id, MessageChange, MessageRecord, ReadState, StoreResult, UNREAD_CAP};

/// Counts messages from others after the read position, up to the cap.
const UNREAD: &str = "(SELECT COUNT(*) FROM (SELECT 1 FROM messages m
    WHERE m.channel_id = ?2 AND m.id > ?3 AND m.sender_id != ?1 AND m.deleted = 0
    LIMIT ?4))";

fn unread(conn: &Connection, user: Id, channel: Id, after: Id) -> StoreResult<u32> {
    conn.prepare_cached(&format!("SELECT {UNREAD}"))
        .and_then(|mut st| {
            st.query_row(
                params![sql_id(user), sql_id(channel), sql_id(after), UNREAD_CAP],
                |r| r.get(0),
            )
        })
        .map_err(backend)
}

pub fn mark_read(
    conn: &Connection,
    user: Id,
    channel: Id,
    message_id: Id,
) -> StoreResult<ReadState> {
    let last_read_id = conn
        .prepare_cached(
            "INSERT INTO read_states (user_id, channel_id, last_read_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, channel_id)
             DO UPDATE SET last_read_id = MAX(last_read_id, excluded.last_read_id)
             RETURNING last_read_id",
        )
        .and_then(|mut st| {
            st.query_row(
                params![sql_id(user), sql_id(channel), sql_id(message_id)],
                |r| row_id(r, 0),
            )
        })
        .map_err(backend)?;
    Ok(ReadState {
        channel_id: channel,
        last_read_id,
        unread_count: unread(conn, user, channel, last_read_id)?,
    })
}

pub fn read_states(conn: &Connection, user: Id) -> StoreResult<Vec<ReadState>> {
    let mut st = conn
        .prepare_cached(
            "SELECT mb.channel_id, COALESCE(r.last_read_id, 0) FROM members mb
             LEFT JOIN read_states r ON r.user_id = mb.user_id AND r.channel_id = mb.channel_id
             WHERE mb.user_id = ?1 ORDER BY mb.channel_id",
        )
        .map_err(backend)?;
    let positions = st
        .query_map([sql_id(user)], |r| Ok((row_id(r, 0)?, row_id(r, 1)?)))
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)?;
    positions
        .into_iter()
        .map(|(channel_id, last_read_id)| {
            Ok(ReadState {
                channel_id,
                last_read_id,
                unread_count: unread(conn, user, channel_id, last_read_id)?,
            })
        })
        .collect()
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

pub fn update_message(
    conn: &Connection,
    channel: Id,
    id: Id,
    change: &MessageChange,
    at_ms: i64,
    version: Id,
) -> StoreResult<Option<MessageRecord>> {
    let (sql, text) = match change {
        MessageChange::Edit(text) => (
            "UPDATE messages SET text = ?3, edited_at_ms = ?4, version_id = ?5
             WHERE id = ?1 AND channel_id = ?2",
            text.as_str(),
        ),
        MessageChange::Delete => (
            "UPDATE messages SET text = ?3, deleted = 1, edited_at_ms = ?4, version_id = ?5
             WHERE id = ?1 AND channel_id = ?2",
            "",
        ),
    };
    let changed = conn
        .prepare_cached(sql)
        .and_then(|mut st| {
            st.execute(params![
                sql_id(id),
                sql_id(channel),
                text,
                at_ms,
                sql_id(version)
            ])
        })
        .map_err(backend)?;
    if changed == 0 {
        return Ok(None);
    }
    message(conn, channel, id)
}
