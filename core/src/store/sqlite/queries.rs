//! Synchronous queries on one SQLite connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::mentions;
use crate::store::{
    Appended, ChannelKind, ChannelRecord, HistoryAnchor, HistoryPage, Id, MemberRecord,
    MessageRecord, NewMessage, Role, StoreError, StoreResult, UserRecord,
};

/// Ids are below 2^63 by construction, so they fit SQLite's INTEGER.
pub fn sql_id(id: Id) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

pub fn row_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<Id> {
    Ok(row.get::<_, i64>(idx)? as u64)
}

pub fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

pub fn create_user(conn: &Connection, u: &UserRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO users (id, username, username_key, password_hash, created_at_ms,
            bot_owner_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            sql_id(u.id),
            u.username,
            u.username.to_lowercase(),
            u.password_hash,
            u.created_at_ms,
            sql_id(u.bot_owner_id)
        ])
    })
    .map(|_| ())
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("username taken")
        } else {
            backend(e)
        }
    })
}

/// The columns [`user_row`] reads.
pub const USER_COLUMNS: &str = "id, username, password_hash, created_at_ms, display_name,
    status_text, avatar_url, last_active_at_ms, bot_owner_id";

pub fn user_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row_id(row, 0)?,
        username: row.get(1)?,
        password_hash: row.get(2)?,
        created_at_ms: row.get(3)?,
        display_name: row.get(4)?,
        status_text: row.get(5)?,
        avatar_url: row.get(6)?,
        last_active_at_ms: row.get(7)?,
        bot_owner_id: row_id(row, 8)?,
    })
}

pub fn user_by_id(conn: &Connection, id: Id) -> StoreResult<Option<UserRecord>> {
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))
        .and_then(|mut st| st.query_row([sql_id(id)], user_row).optional())
        .map_err(backend)
}

pub fn user_by_name(conn: &Connection, name: &str) -> StoreResult<Option<UserRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username_key = ?1"
    ))
    .and_then(|mut st| st.query_row([name.to_lowercase()], user_row).optional())
    .map_err(backend)
}

const CHANNEL_COLUMNS: &str = "c.id, c.kind, c.name, c.owner_id, c.direct_key, c.created_at_ms,
    COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.channel_id = c.id), 0)";

fn channel_row(row: &Row<'_>) -> rusqlite::Result<ChannelRecord> {
    Ok(ChannelRecord {
        id: row_id(row, 0)?,
        kind: if row.get::<_, i64>(1)? == 1 {
            ChannelKind::Direct
        } else {
            ChannelKind::Group
        },
        name: row.get(2)?,
        owner_id: row_id(row, 3)?,
        direct_key: row.get(4)?,
        created_at_ms: row.get(5)?,
        last_message_id: row_id(row, 6)?,
    })
}

fn kind_code(kind: ChannelKind) -> i64 {
    match kind {
        ChannelKind::Direct => 1,
        ChannelKind::Group => 2,
    }
}

pub fn channel(conn: &Connection, id: Id) -> StoreResult<Option<ChannelRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = ?1 AND c.deleted_at_ms = 0"
    ))
    .and_then(|mut st| st.query_row([sql_id(id)], channel_row).optional())
    .map_err(backend)
}

fn channel_by_direct_key(conn: &Connection, key: &str) -> StoreResult<Option<ChannelRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.direct_key = ?1"
    ))
    .and_then(|mut st| st.query_row([key], channel_row).optional())
    .map_err(backend)
}

pub fn create_channel(
    conn: &mut Connection,
    ch: &ChannelRecord,
    members: &[Id],
) -> StoreResult<ChannelRecord> {
    let tx = conn.transaction().map_err(backend)?;
    if let Some(key) = &ch.direct_key
        && let Some(existing) = channel_by_direct_key(&tx, key)?
    {
        return Ok(existing);
    }
    tx.execute(
        "INSERT INTO channels (id, kind, name, owner_id, direct_key, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            sql_id(ch.id),
            kind_code(ch.kind),
            ch.name,
            sql_id(ch.owner_id),
            ch.direct_key,
            ch.created_at_ms
        ],
    )
    .map_err(backend)?;
    {
        let mut st = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO members (channel_id, user_id, joined_at_ms) VALUES (?1, ?2, ?3)",
            )
            .map_err(backend)?;
        for m in members {
            st.execute(params![sql_id(ch.id), sql_id(*m), ch.created_at_ms])
                .map_err(backend)?;
        }
    }
    tx.commit().map_err(backend)?;
    let mut stored = ch.clone();
    stored.last_message_id = 0;
    Ok(stored)
}

/// The stored form of a role.
pub fn role_code(role: Role) -> i64 {
    match role {
        Role::Member => 0,
        Role::Admin => 1,
    }
}

pub fn members(conn: &Connection, channel: Id) -> StoreResult<Vec<MemberRecord>> {
    let mut st = conn
        .prepare_cached(
            "SELECT user_id, role, joined_at_ms FROM members WHERE channel_id = ?1 ORDER BY user_id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([sql_id(channel)], |r| {
            Ok(MemberRecord {
                user_id: row_id(r, 0)?,
                role: if r.get::<_, i64>(1)? == 1 {
                    Role::Admin
                } else {
                    Role::Member
                },
                joined_at_ms: r.get(2)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
}

pub fn add_member(conn: &Connection, channel: Id, user: Id, at_ms: i64) -> StoreResult<bool> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO members (channel_id, user_id, joined_at_ms) VALUES (?1, ?2, ?3)",
    )
    .and_then(|mut st| st.execute(params![sql_id(channel), sql_id(user), at_ms]))
    .map(|n| n == 1)
    .map_err(backend)
}

pub fn remove_member(conn: &Connection, channel: Id, user: Id) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM members WHERE channel_id = ?1 AND user_id = ?2")
        .and_then(|mut st| st.execute(params![sql_id(channel), sql_id(user)]))
        .map(|n| n == 1)
        .map_err(backend)
}

pub fn channels_of(conn: &Connection, user: Id) -> StoreResult<Vec<ChannelRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM members mb JOIN channels c ON c.id = mb.channel_id
             WHERE mb.user_id = ?1 AND c.deleted_at_ms = 0 ORDER BY c.id"
        ))
        .map_err(backend)?;
    let rows = st.query_map([sql_id(user)], channel_row).map_err(backend)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
}

pub fn max_account_id(conn: &Connection) -> StoreResult<Id> {
    conn.query_row(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM users), 0),
                    COALESCE((SELECT MAX(id) FROM tokens), 0))",
        [],
        |r| row_id(r, 0),
    )
    .map_err(backend)
}

/// Deleted channels keep their rows, so their ids are counted.
pub fn max_channel_id(conn: &Connection) -> StoreResult<Id> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM channels", [], |r| {
        row_id(r, 0)
    })
    .map_err(backend)
}

/// Message and version ids the channel holds, and what it held when it
/// was deleted (`id_floor`); each part is one index lookup.
pub fn last_message_id(conn: &Connection, channel: Id) -> StoreResult<Id> {
    conn.prepare_cached(
        "SELECT MAX(
            COALESCE((SELECT MAX(id) FROM messages WHERE channel_id = ?1), 0),
            COALESCE((SELECT MAX(version_id) FROM messages
                      WHERE channel_id = ?1 AND version_id > 0), 0),
            COALESCE((SELECT id_floor FROM channels WHERE id = ?1), 0))",
    )
    .and_then(|mut st| st.query_row([sql_id(channel)], |r| row_id(r, 0)))
    .map_err(backend)
}

/// The messages table keys `id` alone: the largest is one step down its
/// b-tree.
pub fn max_message_id(conn: &Connection) -> StoreResult<Id> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |r| {
        row_id(r, 0)
    })
    .map_err(backend)
}

/// The columns [`message_row`] reads.
pub const MESSAGE_COLUMNS: &str = "id, channel_id, sender_id, client_msg_id, text, created_at_ms,
    edited_at_ms, deleted, version_id, mentions, deleted_by";

/// [`MESSAGE_COLUMNS`] with the text cut to its first `?2` characters.
pub const MESSAGE_COLUMNS_CUT: &str = "id, channel_id, sender_id, client_msg_id,
    substr(text, 1, ?2), created_at_ms, edited_at_ms, deleted, version_id, mentions, deleted_by";

pub fn message_row(row: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: row_id(row, 0)?,
        channel_id: row_id(row, 1)?,
        sender_id: row_id(row, 2)?,
        client_msg_id: row.get(3)?,
        text: row.get(4)?,
        created_at_ms: row.get(5)?,
        edited_at_ms: row.get(6)?,
        deleted: row.get(7)?,
        version_id: row_id(row, 8)?,
        mentions: mentions::decode(&row.get::<_, String>(9)?),
        deleted_by: row_id(row, 10)?,
    })
}

pub fn append(conn: &mut Connection, batch: &[NewMessage]) -> StoreResult<Vec<Appended>> {
    let tx = conn.transaction().map_err(backend)?;
    let mut out = Vec::with_capacity(batch.len());
    {
        let mut insert = tx
            .prepare_cached(&format!(
                "INSERT INTO messages ({MESSAGE_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (channel_id, sender_id, client_msg_id) DO NOTHING"
            ))
            .map_err(backend)?;
        let mut existing = tx
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE channel_id = ?1 AND sender_id = ?2 AND client_msg_id = ?3"
            ))
            .map_err(backend)?;
        for m in batch {
            let inserted = insert
                .execute(params![
                    sql_id(m.id),
                    sql_id(m.channel_id),
                    sql_id(m.sender_id),
                    m.client_msg_id,
                    m.text,
                    m.created_at_ms,
                    m.edited_at_ms,
                    m.deleted,
                    sql_id(m.version_id),
                    mentions::encode(&m.mentions),
                    sql_id(m.deleted_by)
                ])
                .map_err(backend)?;
            if inserted == 1 {
                mentions::insert(&tx, m.channel_id, m.id, m.sender_id, &m.mentions)?;
                out.push(Appended::Inserted(m.clone()));
            } else {
                let stored = existing
                    .query_row(
                        params![sql_id(m.channel_id), sql_id(m.sender_id), m.client_msg_id],
                        message_row,
                    )
                    .map_err(backend)?;
                out.push(Appended::Duplicate(stored));
            }
        }
    }
    tx.commit().map_err(backend)?;
    Ok(out)
}

/// Up to `n` messages with ids below `below`, newest first.
fn older(conn: &Connection, channel: Id, below: Id, n: usize) -> StoreResult<Vec<MessageRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE channel_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(
            params![sql_id(channel), sql_id(below), n as i64],
            message_row,
        )
        .map_err(backend)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
}

/// Up to `n` messages with ids from `from` on, oldest first.
fn newer(conn: &Connection, channel: Id, from: Id, n: usize) -> StoreResult<Vec<MessageRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE channel_id = ?1 AND id >= ?2 ORDER BY id ASC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(
            params![sql_id(channel), sql_id(from), n as i64],
            message_row,
        )
        .map_err(backend)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
}

/// Keeps the first `n` of `v` and says whether there were more.
fn take(mut v: Vec<MessageRecord>, n: usize) -> (Vec<MessageRecord>, bool) {
    let more = v.len() > n;
    v.truncate(n);
    (v, more)
}

pub fn history(
    conn: &Connection,
    channel: Id,
    anchor: HistoryAnchor,
    limit: usize,
) -> StoreResult<HistoryPage> {
    let top = i64::MAX as u64;
    let (before, has_more_before, after, has_more_after) = match anchor {
        HistoryAnchor::Latest => {
            let (b, more) = take(older(conn, channel, top, limit + 1)?, limit);
            (b, more, Vec::new(), false)
        }
        HistoryAnchor::Before(x) => {
            let (b, more) = take(older(conn, channel, x, limit + 1)?, limit);
            let later = !newer(conn, channel, x, 1)?.is_empty();
            (b, more, Vec::new(), later)
        }
        HistoryAnchor::After(x) => {
            let from = x.saturating_add(1);
            let (a, more) = take(newer(conn, channel, from, limit + 1)?, limit);
            let earlier = !older(conn, channel, from, 1)?.is_empty();
            (Vec::new(), earlier, a, more)
        }
        HistoryAnchor::Around(x) => {
            let n_before = limit / 2;
            let (b, more_b) = take(older(conn, channel, x, n_before + 1)?, n_before);
            let (a, more_a) = take(
                newer(conn, channel, x, limit - n_before + 1)?,
                limit - n_before,
            );
            (b, more_b, a, more_a)
        }
    };
    let mut messages = before;
    messages.reverse();
    messages.extend(after);
    Ok(HistoryPage {
        messages,
        has_more_before,
        has_more_after,
    })
}

#[cfg(test)]
mod tests {
    use super::{MESSAGE_COLUMNS, MESSAGE_COLUMNS_CUT};

    #[test]
    fn the_cut_columns_are_the_columns_with_the_text_cut() {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            words(&MESSAGE_COLUMNS_CUT.replace("substr(text, 1, ?2)", "text")),
            words(MESSAGE_COLUMNS)
        );
    }
}
