//! Lookups for browsing without opening a channel: users by a prefix of
//! their username, each channel's latest message, and a channel's read
//! positions.

use rusqlite::{Connection, OptionalExtension, params};

use super::queries::{
    MESSAGE_COLUMNS_CUT, USER_COLUMNS, backend, message_row, row_id, sql_id, user_row,
};
use crate::store::{Id, MessageRecord, StoreResult, UserRecord};

/// Above every character a username key holds (they are ASCII), so
/// `[prefix, prefix + BOUND)` is exactly the keys starting with `prefix`:
/// one range of the unique index on `username_key`.
const BOUND: char = '\u{7f}';

pub fn users_by_prefix(
    conn: &Connection,
    prefix: &str,
    limit: usize,
) -> StoreResult<Vec<UserRecord>> {
    let upper = format!("{prefix}{BOUND}");
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE username_key >= ?1 AND username_key < ?2
             ORDER BY username_key LIMIT ?3"
        ))
        .map_err(backend)?;
    st.query_map(params![prefix, upper, limit as i64], user_row)
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)
}

/// The bots `owner` owns, by id.
pub fn bots_of(conn: &Connection, owner: Id) -> StoreResult<Vec<UserRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE bot_owner_id = ?1 ORDER BY id"
        ))
        .map_err(backend)?;
    st.query_map([sql_id(owner)], user_row)
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)
}

/// One step down `messages_by_channel` per channel, past any tombstones.
pub fn latest_messages(
    conn: &Connection,
    channels: &[Id],
    chars: usize,
) -> StoreResult<Vec<MessageRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS_CUT} FROM messages
             WHERE channel_id = ?1 AND deleted = 0 ORDER BY id DESC LIMIT 1"
        ))
        .map_err(backend)?;
    let cut = i64::try_from(chars.saturating_add(1)).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    for &channel in channels {
        if let Some(m) = st
            .query_row(params![sql_id(channel), cut], message_row)
            .optional()
            .map_err(backend)?
        {
            out.push(m);
        }
    }
    Ok(out)
}

pub fn member_read_positions(conn: &Connection, channel: Id) -> StoreResult<Vec<(Id, Id)>> {
    let mut st = conn
        .prepare_cached(
            "SELECT mb.user_id, r.last_read_id FROM members mb
             JOIN read_states r ON r.user_id = mb.user_id AND r.channel_id = mb.channel_id
             WHERE mb.channel_id = ?1 AND r.last_read_id > 0 ORDER BY mb.user_id",
        )
        .map_err(backend)?;
    st.query_map([sql_id(channel)], |r| Ok((row_id(r, 0)?, row_id(r, 1)?)))
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)
}
