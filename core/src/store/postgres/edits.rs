//! Single messages: reading one, editing or deleting it (keeping earlier
//! texts as versions), and the changes a device missed.

use deadpool_postgres::GenericClient;

use super::append::insert_mention_rows;
use super::convert::{self, MESSAGE_COLUMNS, backend, sql};
use super::{PgStore, fences};
use crate::store::mention_text;
use crate::store::{Fence, Id, MessageChange, MessageRecord, StoreResult, VersionRecord};

/// The message, locked for the rest of the transaction if `lock`.
async fn read(
    c: &impl GenericClient,
    channel: Id,
    id: Id,
    lock: bool,
) -> StoreResult<Option<MessageRecord>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let st = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel_id = $1 AND id = $2{lock}"
        ))
        .await
        .map_err(backend)?;
    let row = c
        .query_opt(&st, &[&sql(channel), &sql(id)])
        .await
        .map_err(backend)?;
    row.as_ref().map(convert::message).transpose()
}

pub(super) async fn message(
    s: &PgStore,
    channel: Id,
    id: Id,
) -> StoreResult<Option<MessageRecord>> {
    read(&s.client().await?, channel, id, false).await
}

/// When the message's current text was written.
fn current_since(m: &MessageRecord) -> i64 {
    if m.edited_at_ms > 0 {
        m.edited_at_ms
    } else {
        m.created_at_ms
    }
}

/// Edits keep the replaced text as a version and replace the mentions;
/// deletes drop the text, every version and the mentions. The message row
/// is locked first, so concurrent changes of one message take turns.
pub(super) async fn update_message(
    s: &PgStore,
    fence: Fence,
    channel: Id,
    id: Id,
    change: &MessageChange,
    at_ms: i64,
    version: Id,
) -> StoreResult<Option<MessageRecord>> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    fences::check(&tx, fence, &[channel]).await?;
    let Some(current) = read(&tx, channel, id, true).await? else {
        return Ok(None);
    };
    let (ch, mid) = (sql(channel), sql(id));
    match change {
        MessageChange::Edit { text, mentions } => {
            tx.execute(
                "INSERT INTO message_versions
                 (channel_id, message_id, version_id, text, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[
                    &ch,
                    &mid,
                    &sql(current.version_id),
                    &current.text,
                    &current_since(&current),
                ],
            )
            .await
            .map_err(backend)?;
            tx.execute(
                "UPDATE messages SET text = $3, mentions = $4, edited_at_ms = $5, version_id = $6
                 WHERE channel_id = $1 AND id = $2",
                &[
                    &ch,
                    &mid,
                    text,
                    &mention_text::encode(mentions),
                    &at_ms,
                    &sql(version),
                ],
            )
            .await
            .map_err(backend)?;
            delete_mentions(&tx, ch, mid).await?;
            let users: Vec<i64> = mentions
                .iter()
                .filter(|m| m.user_id != current.sender_id)
                .map(|m| sql(m.user_id))
                .collect();
            if !users.is_empty() {
                let channels = vec![ch; users.len()];
                let messages = vec![mid; users.len()];
                insert_mention_rows(&tx, &users, &channels, &messages).await?;
            }
        }
        MessageChange::Delete { by } => {
            let deleted_by = if *by == current.sender_id { 0 } else { *by };
            tx.execute(
                "UPDATE messages SET text = '', mentions = '', deleted = TRUE, deleted_by = $3,
                 edited_at_ms = $4, version_id = $5 WHERE channel_id = $1 AND id = $2",
                &[&ch, &mid, &sql(deleted_by), &at_ms, &sql(version)],
            )
            .await
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM message_versions WHERE channel_id = $1 AND message_id = $2",
                &[&ch, &mid],
            )
            .await
            .map_err(backend)?;
            delete_mentions(&tx, ch, mid).await?;
        }
    }
    let stored = read(&tx, channel, id, false).await?;
    tx.commit().await.map_err(backend)?;
    Ok(stored)
}

async fn delete_mentions(tx: &impl GenericClient, channel: i64, message: i64) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM mentions WHERE channel_id = $1 AND message_id = $2",
        &[&channel, &message],
    )
    .await
    .map(drop)
    .map_err(backend)
}

pub(super) async fn versions(s: &PgStore, channel: Id, id: Id) -> StoreResult<Vec<VersionRecord>> {
    let c = s.client().await?;
    let Some(current) = read(&c, channel, id, false).await?.filter(|m| !m.deleted) else {
        return Ok(Vec::new());
    };
    let st = c
        .prepare_cached(
            "SELECT version_id, text, created_at_ms FROM message_versions
             WHERE channel_id = $1 AND message_id = $2 ORDER BY version_id",
        )
        .await
        .map_err(backend)?;
    let rows = c
        .query(&st, &[&sql(channel), &sql(id)])
        .await
        .map_err(backend)?;
    let mut out = convert::all(&rows, |r| {
        Ok(VersionRecord {
            version_id: convert::id_at(r, 0)?,
            text: convert::get(r, 1)?,
            created_at_ms: convert::get(r, 2)?,
        })
    })?;
    out.push(VersionRecord {
        version_id: current.version_id,
        created_at_ms: current_since(&current),
        text: current.text,
    });
    Ok(out)
}

pub(super) async fn changes(
    s: &PgStore,
    channel: Id,
    after_version: Id,
    limit: usize,
) -> StoreResult<Vec<MessageRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE channel_id = $1 AND version_id > $2 ORDER BY version_id LIMIT $3"
        ))
        .await
        .map_err(backend)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = c
        .query(&st, &[&sql(channel), &sql(after_version), &limit])
        .await
        .map_err(backend)?;
    convert::all(&rows, convert::message)
}
