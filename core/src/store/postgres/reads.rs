//! Read positions (the channels part) and their unread and mention
//! counts (the messages part).

use super::PgStore;
use super::convert::{self, backend, sql};
use crate::store::{Id, ReadState, StoreResult, UNREAD_CAP};

pub(super) async fn advance_read(
    s: &PgStore,
    user: Id,
    channel: Id,
    message_id: Id,
) -> StoreResult<Id> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "INSERT INTO read_states (user_id, channel_id, last_read_id) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, channel_id) DO UPDATE
             SET last_read_id = GREATEST(read_states.last_read_id, EXCLUDED.last_read_id)
             RETURNING last_read_id",
        )
        .await
        .map_err(backend)?;
    let row = c
        .query_one(&st, &[&sql(user), &sql(channel), &sql(message_id)])
        .await
        .map_err(backend)?;
    convert::id_at(&row, 0)
}

pub(super) async fn read_positions(s: &PgStore, user: Id) -> StoreResult<Vec<(Id, Id)>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "SELECT mb.channel_id, COALESCE(r.last_read_id, 0) FROM members mb
             LEFT JOIN read_states r ON r.user_id = mb.user_id AND r.channel_id = mb.channel_id
             WHERE mb.user_id = $1 ORDER BY mb.channel_id",
        )
        .await
        .map_err(backend)?;
    let rows = c.query(&st, &[&sql(user)]).await.map_err(backend)?;
    convert::all(&rows, |r| {
        Ok((convert::id_at(r, 0)?, convert::id_at(r, 1)?))
    })
}

/// One statement for every position: each count is a range of an index
/// (`messages`' key, `mentions`' key) that stops at the cap.
pub(super) async fn unread_counts(
    s: &PgStore,
    user: Id,
    positions: &[(Id, Id)],
) -> StoreResult<Vec<ReadState>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let channels: Vec<i64> = positions.iter().map(|p| sql(p.0)).collect();
    let after: Vec<i64> = positions.iter().map(|p| sql(p.1)).collect();
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "SELECT p.channel_id, p.after_id,
                (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
                  WHERE m.channel_id = p.channel_id AND m.id > p.after_id
                    AND m.sender_id <> $1 AND NOT m.deleted LIMIT $4) AS u),
                (SELECT COUNT(*) FROM (SELECT 1 FROM mentions n
                  WHERE n.user_id = $1 AND n.channel_id = p.channel_id
                    AND n.message_id > p.after_id LIMIT $4) AS x)
             FROM unnest($2::BIGINT[], $3::BIGINT[]) WITH ORDINALITY AS p(channel_id, after_id, n)
             ORDER BY p.n",
        )
        .await
        .map_err(backend)?;
    let cap = i64::from(UNREAD_CAP);
    let rows = c
        .query(&st, &[&sql(user), &channels, &after, &cap])
        .await
        .map_err(backend)?;
    convert::all(&rows, |r| {
        let count =
            |idx| convert::get::<i64>(r, idx).map(|n| u32::try_from(n).unwrap_or(UNREAD_CAP));
        Ok(ReadState {
            channel_id: convert::id_at(r, 0)?,
            last_read_id: convert::id_at(r, 1)?,
            unread_count: count(2)?,
            mention_count: count(3)?,
        })
    })
}
