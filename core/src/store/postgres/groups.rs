//! Group administration: names, roles, owners, and deleting a channel.

use super::convert::{backend, role_code, sql};
use super::{PgStore, fences};
use crate::store::{Fence, Id, MembershipChange, StoreError, StoreResult};

pub(super) async fn rename_channel(
    s: &PgStore,
    fence: Fence,
    channel: Id,
    name: &str,
) -> StoreResult<bool> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    fences::check(&tx, fence, &[channel]).await?;
    let n = tx
        .execute(
            "UPDATE channels SET name = $2 WHERE id = $1 AND deleted_at_ms = 0",
            &[&sql(channel), &name],
        )
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(n == 1)
}

/// All of `change` or, if the new owner is not a member, none of it: the
/// transaction is dropped uncommitted, which rolls it back.
pub(super) async fn update_membership(
    s: &PgStore,
    fence: Fence,
    channel: Id,
    change: &MembershipChange,
) -> StoreResult<()> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    fences::check(&tx, fence, &[channel]).await?;
    let ch = sql(channel);
    if let Some(user) = change.remove {
        tx.execute(
            "DELETE FROM members WHERE channel_id = $1 AND user_id = $2",
            &[&ch, &sql(user)],
        )
        .await
        .map_err(backend)?;
    }
    if let Some(owner) = change.owner {
        let made_owner = tx
            .execute(
                "UPDATE channels SET owner_id = $2 WHERE id = $1 AND EXISTS
                 (SELECT 1 FROM members WHERE channel_id = $1 AND user_id = $2)",
                &[&ch, &sql(owner)],
            )
            .await
            .map_err(backend)?;
        if made_owner == 0 {
            return Err(StoreError::Conflict("a new owner must be a member"));
        }
    }
    for (user, role) in &change.roles {
        tx.execute(
            "UPDATE members SET role = $3 WHERE channel_id = $1 AND user_id = $2",
            &[&ch, &sql(*user), &role_code(*role)],
        )
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

/// The tables that hold a channel's rows, by the column naming it.
const CHANNEL_ROWS: [(&str, &str); 6] = [
    ("members", "channel_id"),
    ("read_states", "channel_id"),
    ("channel_mutes", "channel_id"),
    ("mentions", "channel_id"),
    ("message_versions", "channel_id"),
    ("messages", "channel_id"),
];

/// Marks the channel deleted, keeping the largest id its messages held in
/// `id_floor`, and deletes every row of it.
pub(super) async fn delete_channel(
    s: &PgStore,
    fence: Fence,
    channel: Id,
    at_ms: i64,
) -> StoreResult<bool> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    fences::check(&tx, fence, &[channel]).await?;
    let ch = sql(channel);
    let marked = tx
        .execute(
            "UPDATE channels SET deleted_at_ms = $2, id_floor = GREATEST(id_floor,
                 COALESCE((SELECT GREATEST(MAX(id), MAX(version_id)) FROM messages
                           WHERE channel_id = $1), 0))
             WHERE id = $1 AND deleted_at_ms = 0",
            &[&ch, &at_ms],
        )
        .await
        .map_err(backend)?;
    if marked == 0 {
        return Ok(false);
    }
    for (table, column) in CHANNEL_ROWS {
        tx.execute(&format!("DELETE FROM {table} WHERE {column} = $1"), &[&ch])
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(true)
}
