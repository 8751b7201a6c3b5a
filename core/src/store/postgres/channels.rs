//! [`ChannelStore`] on PostgreSQL: channels and members here, group
//! administration in `groups`, read positions in `reads`.

use deadpool_postgres::GenericClient;

use super::convert::{self, CHANNEL_COLUMNS, backend, kind_code, sql};
use super::{PgStore, browse, fences, groups, reads};
use crate::store::{
    ChannelRecord, ChannelStore, Fence, Id, MemberRecord, MembershipChange, StoreResult,
};

/// The stored direct channel with `key`, deleted or not.
async fn by_direct_key(c: &impl GenericClient, key: &str) -> StoreResult<Option<ChannelRecord>> {
    let st = c
        .prepare_cached(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.direct_key = $1"
        ))
        .await
        .map_err(backend)?;
    let row = c.query_opt(&st, &[&key]).await.map_err(backend)?;
    row.as_ref().map(convert::channel).transpose()
}

/// Adds `users` to `channel`; those already members stay as they are.
/// Returns how many were added.
async fn insert_members(
    c: &impl GenericClient,
    channel: Id,
    users: &[Id],
    at_ms: i64,
) -> StoreResult<u64> {
    let users: Vec<i64> = users.iter().map(|&u| sql(u)).collect();
    let st = c
        .prepare_cached(
            "INSERT INTO members (channel_id, user_id, joined_at_ms)
             SELECT $1, u, $3 FROM unnest($2::BIGINT[]) AS u
             ON CONFLICT (channel_id, user_id) DO NOTHING",
        )
        .await
        .map_err(backend)?;
    c.execute(&st, &[&sql(channel), &users, &at_ms])
        .await
        .map_err(backend)
}

impl ChannelStore for PgStore {
    /// Two creations of one direct channel at once both get the one that
    /// committed first: the loser's insert waits on the unique `direct_key`
    /// and then inserts nothing.
    async fn create_channel(
        &self,
        ch: ChannelRecord,
        members: Vec<Id>,
    ) -> StoreResult<ChannelRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        if let Some(key) = &ch.direct_key
            && let Some(existing) = by_direct_key(&tx, key).await?
        {
            return Ok(existing);
        }
        let inserted = tx
            .execute(
                "INSERT INTO channels (id, kind, name, owner_id, direct_key, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (direct_key) DO NOTHING",
                &[
                    &sql(ch.id),
                    &kind_code(ch.kind),
                    &ch.name,
                    &sql(ch.owner_id),
                    &ch.direct_key,
                    &ch.created_at_ms,
                ],
            )
            .await
            .map_err(backend)?;
        if inserted == 0
            && let Some(key) = &ch.direct_key
            && let Some(existing) = by_direct_key(&tx, key).await?
        {
            return Ok(existing);
        }
        insert_members(&tx, ch.id, &members, ch.created_at_ms).await?;
        tx.commit().await.map_err(backend)?;
        Ok(ChannelRecord {
            last_message_id: 0,
            ..ch
        })
    }

    async fn channel(&self, id: Id) -> StoreResult<Option<ChannelRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1 AND c.deleted_at_ms = 0"
            ))
            .await
            .map_err(backend)?;
        let row = c.query_opt(&st, &[&sql(id)]).await.map_err(backend)?;
        row.as_ref().map(convert::channel).transpose()
    }

    async fn members(&self, channel: Id) -> StoreResult<Vec<MemberRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT user_id, role, joined_at_ms FROM members
                 WHERE channel_id = $1 ORDER BY user_id",
            )
            .await
            .map_err(backend)?;
        let rows = c.query(&st, &[&sql(channel)]).await.map_err(backend)?;
        convert::all(&rows, |r| {
            Ok(MemberRecord {
                user_id: convert::id_at(r, 0)?,
                role: convert::role(convert::get(r, 1)?),
                joined_at_ms: convert::get(r, 2)?,
            })
        })
    }

    async fn add_member(
        &self,
        fence: Fence,
        channel: Id,
        user: Id,
        at_ms: i64,
    ) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        fences::check(&tx, fence, &[channel]).await?;
        let added = insert_members(&tx, channel, &[user], at_ms).await? == 1;
        tx.commit().await.map_err(backend)?;
        Ok(added)
    }

    async fn remove_member(&self, fence: Fence, channel: Id, user: Id) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        fences::check(&tx, fence, &[channel]).await?;
        let st = tx
            .prepare_cached("DELETE FROM members WHERE channel_id = $1 AND user_id = $2")
            .await
            .map_err(backend)?;
        let n = tx
            .execute(&st, &[&sql(channel), &sql(user)])
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(n == 1)
    }

    async fn rename_channel(&self, fence: Fence, channel: Id, name: String) -> StoreResult<bool> {
        groups::rename_channel(self, fence, channel, &name).await
    }

    async fn update_membership(
        &self,
        fence: Fence,
        channel: Id,
        change: MembershipChange,
    ) -> StoreResult<()> {
        groups::update_membership(self, fence, channel, &change).await
    }

    async fn delete_channel(&self, fence: Fence, channel: Id, at_ms: i64) -> StoreResult<bool> {
        groups::delete_channel(self, fence, channel, at_ms).await
    }

    async fn channels_of(&self, user: Id) -> StoreResult<Vec<ChannelRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {CHANNEL_COLUMNS} FROM members mb JOIN channels c ON c.id = mb.channel_id
                 WHERE mb.user_id = $1 AND c.deleted_at_ms = 0 ORDER BY c.id"
            ))
            .await
            .map_err(backend)?;
        let rows = c.query(&st, &[&sql(user)]).await.map_err(backend)?;
        convert::all(&rows, convert::channel)
    }

    /// Deleted channels keep their rows, so their ids are counted.
    async fn max_channel_id(&self) -> StoreResult<Id> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT COALESCE(MAX(id), 0) FROM channels", &[])
            .await
            .map_err(backend)?;
        convert::id_at(&row, 0)
    }

    async fn advance_read(&self, user: Id, channel: Id, message_id: Id) -> StoreResult<Id> {
        reads::advance_read(self, user, channel, message_id).await
    }

    async fn read_positions(&self, user: Id) -> StoreResult<Vec<(Id, Id)>> {
        reads::read_positions(self, user).await
    }

    async fn member_read_positions(&self, channel: Id) -> StoreResult<Vec<(Id, Id)>> {
        browse::member_read_positions(self, channel).await
    }
}
