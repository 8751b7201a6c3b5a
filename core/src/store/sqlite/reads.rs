//! Read positions (the channels part) and their unread and mention
//! counts (the messages part).

use rusqlite::{Connection, params};

use super::queries::{backend, row_id, sql_id};
use crate::store::{Id, ReadState, StoreResult, UNREAD_CAP};

/// Counts messages from others after the read position, up to the cap.
const UNREAD: &str = "(SELECT COUNT(*) FROM (SELECT 1 FROM messages m
    WHERE m.channel_id = ?2 AND m.id > ?3 AND m.sender_id != ?1 AND m.deleted = 0
    LIMIT ?4))";

/// Counts mentions of the user after the read position, up to the cap.
/// Mention rows go with their message when it is deleted or re-edited.
const MENTIONS: &str = "(SELECT COUNT(*) FROM (SELECT 1 FROM mentions n
    WHERE n.user_id = ?1 AND n.channel_id = ?2 AND n.message_id > ?3 LIMIT ?4))";

/// The read state of `user` in `channel` at position `after`.
fn state(conn: &Connection, user: Id, channel: Id, after: Id) -> StoreResult<ReadState> {
    conn.prepare_cached(&format!("SELECT {UNREAD}, {MENTIONS}"))
        .and_then(|mut st| {
            st.query_row(
                params![sql_id(user), sql_id(channel), sql_id(after), UNREAD_CAP],
                |r| {
                    Ok(ReadState {
                        channel_id: channel,
                        last_read_id: after,
                        unread_count: r.get(0)?,
                        mention_count: r.get(1)?,
                    })
                },
            )
        })
        .map_err(backend)
}

pub fn advance_read(conn: &Connection, user: Id, channel: Id, message_id: Id) -> StoreResult<Id> {
    conn.prepare_cached(
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
    .map_err(backend)
}

pub fn read_positions(conn: &Connection, user: Id) -> StoreResult<Vec<(Id, Id)>> {
    let mut st = conn
        .prepare_cached(
            "SELECT mb.channel_id, COALESCE(r.last_read_id, 0) FROM members mb
             LEFT JOIN read_states r ON r.user_id = mb.user_id AND r.channel_id = mb.channel_id
             WHERE mb.user_id = ?1 ORDER BY mb.channel_id",
        )
        .map_err(backend)?;
    st.query_map([sql_id(user)], |r| Ok((row_id(r, 0)?, row_id(r, 1)?)))
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)
}

pub fn unread_counts(
    conn: &Connection,
    user: Id,
    positions: &[(Id, Id)],
) -> StoreResult<Vec<ReadState>> {
    positions
        .iter()
        .map(|&(channel, last_read_id)| state(conn, user, channel, last_read_id))
        .collect()
}
