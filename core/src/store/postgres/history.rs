//! Pages of a channel's history: each is a range of the messages' primary
//! key `(channel_id, id)`, read in key order from one end.

use deadpool_postgres::GenericClient;

use super::PgStore;
use super::convert::{self, MESSAGE_COLUMNS, backend, sql};
use crate::store::{HistoryAnchor, HistoryPage, Id, MessageRecord, StoreResult};

/// Up to `n` messages with ids below `below` (newest first), or from
/// `from` on (oldest first).
enum Range {
    Older { below: Id, n: usize },
    Newer { from: Id, n: usize },
}

async fn range(s: &PgStore, channel: Id, range: Range) -> StoreResult<Vec<MessageRecord>> {
    let (statement, bound, n) = match range {
        Range::Older { below, n } => (
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE channel_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            ),
            below,
            n,
        ),
        Range::Newer { from, n } => (
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE channel_id = $1 AND id >= $2 ORDER BY id ASC LIMIT $3"
            ),
            from,
            n,
        ),
    };
    let c = s.client().await?;
    let st = c.prepare_cached(&statement).await.map_err(backend)?;
    let limit = i64::try_from(n).unwrap_or(i64::MAX);
    let rows = c
        .query(&st, &[&sql(channel), &sql(bound), &limit])
        .await
        .map_err(backend)?;
    convert::all(&rows, convert::message)
}

/// Keeps the first `n` of `v` and says whether there were more.
fn take(mut v: Vec<MessageRecord>, n: usize) -> (Vec<MessageRecord>, bool) {
    let more = v.len() > n;
    v.truncate(n);
    (v, more)
}

pub(super) async fn history(
    s: &PgStore,
    channel: Id,
    anchor: HistoryAnchor,
    limit: usize,
) -> StoreResult<HistoryPage> {
    use Range::{Newer, Older};
    // Ids are below 2^63 (see `convert::sql`): this is above all of them.
    let top = i64::MAX as u64;
    let (before, has_more_before, after, has_more_after) = match anchor {
        HistoryAnchor::Latest => {
            let (b, more) = take(
                range(
                    s,
                    channel,
                    Older {
                        below: top,
                        n: limit + 1,
                    },
                )
                .await?,
                limit,
            );
            (b, more, Vec::new(), false)
        }
        HistoryAnchor::Before(x) => {
            let (b, more) = take(
                range(
                    s,
                    channel,
                    Older {
                        below: x,
                        n: limit + 1,
                    },
                )
                .await?,
                limit,
            );
            let later = !range(s, channel, Newer { from: x, n: 1 }).await?.is_empty();
            (b, more, Vec::new(), later)
        }
        HistoryAnchor::After(x) => {
            let from = x.saturating_add(1);
            let (a, more) = take(
                range(s, channel, Newer { from, n: limit + 1 }).await?,
                limit,
            );
            let earlier = !range(s, channel, Older { below: from, n: 1 })
                .await?
                .is_empty();
            (Vec::new(), earlier, a, more)
        }
        HistoryAnchor::Around(x) => {
            let n_before = limit / 2;
            let n_after = limit - n_before;
            let older = range(
                s,
                channel,
                Older {
                    below: x,
                    n: n_before + 1,
                },
            )
            .await?;
            let newer = range(
                s,
                channel,
                Newer {
                    from: x,
                    n: n_after + 1,
                },
            )
            .await?;
            let (b, more_b) = take(older, n_before);
            let (a, more_a) = take(newer, n_after);
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

/// The largest message or version id the channel holds or, if it was
/// deleted, held: three index lookups (the primary key's end, the end of
/// the partial index of changes, the channel's row).
pub(super) async fn last_message_id(s: &PgStore, channel: Id) -> StoreResult<Id> {
    last_message_id_in(&s.client().await?, channel).await
}

/// [`last_message_id`] on a given connection or transaction.
pub(super) async fn last_message_id_in(c: &impl GenericClient, channel: Id) -> StoreResult<Id> {
    let st = c
        .prepare_cached(
            "SELECT GREATEST(
                COALESCE((SELECT MAX(id) FROM messages WHERE channel_id = $1), 0),
                COALESCE((SELECT MAX(version_id) FROM messages
                          WHERE channel_id = $1 AND version_id > 0), 0),
                COALESCE((SELECT id_floor FROM channels WHERE id = $1), 0))",
        )
        .await
        .map_err(backend)?;
    let row = c.query_one(&st, &[&sql(channel)]).await.map_err(backend)?;
    convert::id_at(&row, 0)
}
