//! Mentions: kept with the message as a compact column (to return them with
//! it) and as rows by mentioned user (to count a user's unread mentions).

use rusqlite::{Connection, params};

use super::queries::{backend, sql_id};
pub(crate) use crate::store::mention_text::{decode, encode};
use crate::store::{Id, Mention, StoreResult};

/// Records who `message` mentions; the sender's mentions of themself do not count.
pub fn insert(
    conn: &Connection,
    channel: Id,
    message: Id,
    sender: Id,
    mentions: &[Mention],
) -> StoreResult<()> {
    if mentions.is_empty() {
        return Ok(());
    }
    let mut st = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO mentions (user_id, channel_id, message_id) VALUES (?1, ?2, ?3)",
        )
        .map_err(backend)?;
    for m in mentions.iter().filter(|m| m.user_id != sender) {
        st.execute(params![sql_id(m.user_id), sql_id(channel), sql_id(message)])
            .map_err(backend)?;
    }
    Ok(())
}

/// Forgets who `message` mentions.
pub fn delete(conn: &Connection, channel: Id, message: Id) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM mentions WHERE channel_id = ?1 AND message_id = ?2")
        .and_then(|mut st| st.execute(params![sql_id(channel), sql_id(message)]))
        .map(drop)
        .map_err(backend)
}
