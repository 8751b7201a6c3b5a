//! Lookups for browsing without opening a channel: users by a prefix of
//! their username, each channel's latest message, and a channel's read
//! positions.

use super::PgStore;
use super::convert::{self, USER_COLUMNS, backend, sql};
use crate::store::{Id, MessageRecord, StoreResult, UserRecord};

/// Above every character a username key holds (they are ASCII), so
/// `[prefix, prefix + BOUND)` in byte order is exactly the keys starting
/// with `prefix`: one range of the `"C"`-collated index `users_by_key_c`
/// (the database's own collation need not order by bytes).
const BOUND: char = '\u{7f}';

/// The bots `owner` owns, by id.
pub(super) async fn bots_of(s: &PgStore, owner: Id) -> StoreResult<Vec<UserRecord>> {
    let c = s.client().await?;
    let rows = c
        .query(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE bot_owner_id = $1 ORDER BY id"),
            &[&sql(owner)],
        )
        .await
        .map_err(backend)?;
    convert::all(&rows, convert::user)
}

pub(super) async fn users_by_prefix(
    s: &PgStore,
    prefix: &str,
    limit: usize,
) -> StoreResult<Vec<UserRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE username_key COLLATE \"C\" >= $1 AND username_key COLLATE \"C\" < $2
             ORDER BY username_key COLLATE \"C\" LIMIT $3"
        ))
        .await
        .map_err(backend)?;
    let upper = format!("{prefix}{BOUND}");
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = c
        .query(&st, &[&prefix, &upper, &limit])
        .await
        .map_err(backend)?;
    convert::all(&rows, convert::user)
}

/// One statement: per channel, one step down the messages' key from its
/// end, past any tombstones, reading only the start of the text.
pub(super) async fn latest_messages(
    s: &PgStore,
    channels: &[Id],
    chars: usize,
) -> StoreResult<Vec<MessageRecord>> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = channels.iter().map(|&c| sql(c)).collect();
    let cut = i32::try_from(chars.saturating_add(1)).unwrap_or(i32::MAX);
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "SELECT m.id, m.channel_id, m.sender_id, m.client_msg_id, left(m.text, $2),
                m.created_at_ms, m.edited_at_ms, m.deleted, m.version_id, m.mentions,
                m.deleted_by
             FROM unnest($1::BIGINT[]) WITH ORDINALITY AS c(id, n)
             CROSS JOIN LATERAL (SELECT * FROM messages
                 WHERE channel_id = c.id AND NOT deleted ORDER BY id DESC LIMIT 1) m
             ORDER BY c.n",
        )
        .await
        .map_err(backend)?;
    let rows = c.query(&st, &[&ids, &cut]).await.map_err(backend)?;
    convert::all(&rows, convert::message)
}

pub(super) async fn member_read_positions(s: &PgStore, channel: Id) -> StoreResult<Vec<(Id, Id)>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "SELECT mb.user_id, r.last_read_id FROM members mb
             JOIN read_states r ON r.user_id = mb.user_id AND r.channel_id = mb.channel_id
             WHERE mb.channel_id = $1 AND r.last_read_id > 0 ORDER BY mb.user_id",
        )
        .await
        .map_err(backend)?;
    let rows = c.query(&st, &[&sql(channel)]).await.map_err(backend)?;
    convert::all(&rows, |r| {
        Ok((convert::id_at(r, 0)?, convert::id_at(r, 1)?))
    })
}
