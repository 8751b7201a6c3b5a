//! Appending a batch of messages: a few statements per batch, whatever its
//! size, in one transaction.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;

use super::convert::{self, MESSAGE_COLUMNS, backend, sql};
use super::{PgStore, fences};
use crate::store::mention_text;
use crate::store::{Appended, Fence, Id, MessageRecord, NewMessage, StoreError, StoreResult};

/// A message's idempotency key.
type Key<'a> = (Id, Id, &'a str);

fn key(m: &NewMessage) -> Key<'_> {
    (m.channel_id, m.sender_id, m.client_msg_id.as_str())
}

/// Writes `batch` in one transaction: the first message of each key goes
/// into one multi-row insert that skips keys already stored, then one read
/// fetches the stored messages of the skipped keys and one insert records
/// the new messages' mentions. A later message of a key that appears
/// earlier in the batch is a duplicate of whatever that key stores.
///
/// First of all, the fence must be the last claim of every channel of the
/// batch (see [`fences::check`]).
pub(super) async fn append(
    s: &PgStore,
    fence: Fence,
    batch: &[NewMessage],
) -> StoreResult<Vec<Appended>> {
    let mut first: HashMap<Key<'_>, usize> = HashMap::with_capacity(batch.len());
    let candidates: Vec<&NewMessage> = batch
        .iter()
        .enumerate()
        .filter(|&(i, m)| *first.entry(key(m)).or_insert(i) == i)
        .map(|(_, m)| m)
        .collect();
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    let channels: Vec<Id> = candidates.iter().map(|m| m.channel_id).collect();
    fences::check(&tx, fence, &channels).await?;
    let inserted = insert_new(&tx, &candidates).await?;
    let skipped: Vec<&NewMessage> = candidates
        .iter()
        .copied()
        .filter(|m| !inserted.contains(&(m.channel_id, m.id)))
        .collect();
    let stored = stored_by_key(&tx, &skipped).await?;
    let new: Vec<&NewMessage> = candidates
        .iter()
        .copied()
        .filter(|m| inserted.contains(&(m.channel_id, m.id)))
        .collect();
    insert_mentions(&tx, &new).await?;
    tx.commit().await.map_err(backend)?;

    batch
        .iter()
        .map(|m| {
            let lead = first.get(&key(m)).map_or(m, |&j| &batch[j]);
            if !inserted.contains(&(lead.channel_id, lead.id)) {
                let stored = stored.get(&(m.channel_id, m.sender_id, m.client_msg_id.clone()));
                return stored.cloned().map(Appended::Duplicate).ok_or_else(|| {
                    StoreError::Backend("a duplicate's stored message was not found".into())
                });
            }
            Ok(if std::ptr::eq(lead, m) {
                Appended::Inserted(m.clone())
            } else {
                Appended::Duplicate(lead.clone())
            })
        })
        .collect()
}

/// Inserts the messages whose key is not stored yet; returns the
/// `(channel, id)` of those inserted.
async fn insert_new(
    tx: &impl GenericClient,
    batch: &[&NewMessage],
) -> StoreResult<HashSet<(Id, Id)>> {
    if batch.is_empty() {
        return Ok(HashSet::new());
    }
    let col = |f: fn(&NewMessage) -> i64| batch.iter().map(|m| f(m)).collect::<Vec<i64>>();
    let ids = col(|m| sql(m.id));
    let channels = col(|m| sql(m.channel_id));
    let senders = col(|m| sql(m.sender_id));
    let created = col(|m| m.created_at_ms);
    let edited = col(|m| m.edited_at_ms);
    let versions = col(|m| sql(m.version_id));
    let deleted_by = col(|m| sql(m.deleted_by));
    let keys: Vec<&str> = batch.iter().map(|m| m.client_msg_id.as_str()).collect();
    let texts: Vec<&str> = batch.iter().map(|m| m.text.as_str()).collect();
    let deleted: Vec<bool> = batch.iter().map(|m| m.deleted).collect();
    let mentions: Vec<String> = batch
        .iter()
        .map(|m| mention_text::encode(&m.mentions))
        .collect();
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS})
             SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[],
                 $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::BOOLEAN[], $9::BIGINT[],
                 $10::TEXT[], $11::BIGINT[])
             ON CONFLICT (channel_id, sender_id, client_msg_id) DO NOTHING
             RETURNING channel_id, id"
        ))
        .await
        .map_err(backend)?;
    let rows = tx
        .query(
            &st,
            &[
                &ids,
                &channels,
                &senders,
                &keys,
                &texts,
                &created,
                &edited,
                &deleted,
                &versions,
                &mentions,
                &deleted_by,
            ],
        )
        .await
        .map_err(backend)?;
    rows.iter()
        .map(|r| Ok((convert::id_at(r, 0)?, convert::id_at(r, 1)?)))
        .collect()
}

/// The stored messages with the keys of `batch`, by key.
async fn stored_by_key(
    tx: &impl GenericClient,
    batch: &[&NewMessage],
) -> StoreResult<HashMap<(Id, Id, String), MessageRecord>> {
    if batch.is_empty() {
        return Ok(HashMap::new());
    }
    let channels: Vec<i64> = batch.iter().map(|m| sql(m.channel_id)).collect();
    let senders: Vec<i64> = batch.iter().map(|m| sql(m.sender_id)).collect();
    let keys: Vec<&str> = batch.iter().map(|m| m.client_msg_id.as_str()).collect();
    let st = tx
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE (channel_id, sender_id, client_msg_id) IN
                 (SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[]))"
        ))
        .await
        .map_err(backend)?;
    let rows = tx
        .query(&st, &[&channels, &senders, &keys])
        .await
        .map_err(backend)?;
    let stored = convert::all(&rows, convert::message)?;
    Ok(stored
        .into_iter()
        .map(|m| ((m.channel_id, m.sender_id, m.client_msg_id.clone()), m))
        .collect())
}

/// Records who each new message mentions; the sender's mentions of
/// themself do not count.
async fn insert_mentions(tx: &impl GenericClient, batch: &[&NewMessage]) -> StoreResult<()> {
    let rows: Vec<(i64, i64, i64)> = batch
        .iter()
        .flat_map(|m| {
            m.mentions
                .iter()
                .filter(|n| n.user_id != m.sender_id)
                .map(|n| (sql(n.user_id), sql(m.channel_id), sql(m.id)))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let users: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let channels: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let messages: Vec<i64> = rows.iter().map(|r| r.2).collect();
    insert_mention_rows(tx, &users, &channels, &messages).await
}

/// Inserts `(user, channel, message)` mention rows, skipping those stored.
pub(super) async fn insert_mention_rows(
    tx: &impl GenericClient,
    users: &[i64],
    channels: &[i64],
    messages: &[i64],
) -> StoreResult<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO mentions (user_id, channel_id, message_id)
             SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[])
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(backend)?;
    tx.execute(&st, &[&users, &channels, &messages])
        .await
        .map(drop)
        .map_err(backend)
}
