//! Channel ownership claims and the check every append makes against them
//! (see [`Fence`]): `channel_owners` holds, per channel, the owner and
//! epoch of the last claim.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;

use super::PgStore;
use super::convert::{self, backend, sql};
use super::history::last_message_id_in;
use crate::store::{Fence, Id, StoreError, StoreResult};

/// Claims `channel` for `fence` unless a newer claim holds it, then reads
/// its last id in the same transaction: the claim row's lock orders the
/// claim after every append that checked the old claim and committed.
pub(super) async fn claim_channel(s: &PgStore, channel: Id, fence: Fence) -> StoreResult<Id> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    let st = tx
        .prepare_cached(
            "INSERT INTO channel_owners AS o (channel_id, owner, epoch) VALUES ($1, $2, $3)
             ON CONFLICT (channel_id) DO UPDATE SET owner = EXCLUDED.owner, epoch = EXCLUDED.epoch
             WHERE o.epoch < EXCLUDED.epoch OR (o.epoch = EXCLUDED.epoch AND o.owner = EXCLUDED.owner)
             RETURNING channel_id",
        )
        .await
        .map_err(backend)?;
    let claimed = tx
        .query_opt(&st, &[&sql(channel), &sql(fence.owner), &sql(fence.epoch)])
        .await
        .map_err(backend)?;
    if claimed.is_none() {
        return Err(holder(&tx, channel).await?);
    }
    let last = last_message_id_in(&tx, channel).await?;
    tx.commit().await.map_err(backend)?;
    Ok(last)
}

/// Checks that `fence` is the last claim of each of `channels`, holding
/// those claim rows (`FOR SHARE`) until the caller's transaction ends, so
/// a newer claim waits for it and then sees what it wrote. A channel nobody
/// has claimed is claimed for `fence` on the way: nobody else can have
/// written it, and a concurrent claim waits on the new row the same way.
pub(super) async fn check(
    tx: &impl GenericClient,
    fence: Fence,
    channels: &[Id],
) -> StoreResult<()> {
    let wanted: BTreeSet<Id> = channels.iter().copied().collect();
    let ids: Vec<i64> = wanted.iter().map(|&c| sql(c)).collect();
    let st = tx
        .prepare_cached(
            "SELECT channel_id, owner, epoch FROM channel_owners
             WHERE channel_id = ANY($1) FOR SHARE",
        )
        .await
        .map_err(backend)?;
    let rows = tx.query(&st, &[&ids]).await.map_err(backend)?;
    let mut unclaimed = wanted;
    for row in &rows {
        let channel = convert::id_at(row, 0)?;
        let (owner, epoch) = (convert::id_at(row, 1)?, convert::id_at(row, 2)?);
        if (owner, epoch) != (fence.owner, fence.epoch) {
            return Err(StoreError::Fenced {
                channel,
                owner,
                epoch,
            });
        }
        unclaimed.remove(&channel);
    }
    if unclaimed.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = unclaimed.iter().map(|&c| sql(c)).collect();
    let st = tx
        .prepare_cached(
            "INSERT INTO channel_owners (channel_id, owner, epoch)
             SELECT c, $2, $3 FROM unnest($1::BIGINT[]) AS c
             ON CONFLICT (channel_id) DO NOTHING RETURNING channel_id",
        )
        .await
        .map_err(backend)?;
    let rows = tx
        .query(&st, &[&ids, &sql(fence.owner), &sql(fence.epoch)])
        .await
        .map_err(backend)?;
    for row in &rows {
        unclaimed.remove(&convert::id_at(row, 0)?);
    }
    match unclaimed.first() {
        None => Ok(()),
        // Claimed by another writer since the first statement.
        Some(&lost) => Err(holder(tx, lost).await?),
    }
}

/// The [`StoreError::Fenced`] naming who holds `channel`: owner 0 at epoch
/// 0 if nobody claimed it.
async fn holder(c: &impl GenericClient, channel: Id) -> StoreResult<StoreError> {
    let row = c
        .query_opt(
            "SELECT owner, epoch FROM channel_owners WHERE channel_id = $1",
            &[&sql(channel)],
        )
        .await
        .map_err(backend)?;
    let (owner, epoch) = match row {
        Some(r) => (convert::id_at(&r, 0)?, convert::id_at(&r, 1)?),
        None => (0, 0),
    };
    Ok(StoreError::Fenced {
        channel,
        owner,
        epoch,
    })
}
