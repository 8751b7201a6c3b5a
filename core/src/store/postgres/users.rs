//! Users: accounts, profiles and last activity.

use super::PgStore;
use super::convert::{self, USER_COLUMNS, backend, conflict_if_unique, sql};
use crate::store::{Id, ProfileChange, StoreResult, UserRecord};

pub(super) async fn create_user(s: &PgStore, u: &UserRecord) -> StoreResult<()> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "INSERT INTO users (id, username, username_key, password_hash, created_at_ms,
                bot_owner_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(backend)?;
    let key = u.username.to_lowercase();
    c.execute(
        &st,
        &[
            &sql(u.id),
            &u.username,
            &key,
            &u.password_hash,
            &u.created_at_ms,
            &sql(u.bot_owner_id),
        ],
    )
    .await
    .map(drop)
    .map_err(conflict_if_unique("username taken"))
}

pub(super) async fn user_where(
    s: &PgStore,
    condition: &str,
    arg: &(dyn tokio_postgres::types::ToSql + Sync),
) -> StoreResult<Option<UserRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {condition}"
        ))
        .await
        .map_err(backend)?;
    let row = c.query_opt(&st, &[arg]).await.map_err(backend)?;
    row.as_ref().map(convert::user).transpose()
}

pub(super) async fn user_by_id(s: &PgStore, id: Id) -> StoreResult<Option<UserRecord>> {
    user_where(s, "id = $1", &sql(id)).await
}

pub(super) async fn user_by_name(s: &PgStore, name: &str) -> StoreResult<Option<UserRecord>> {
    user_where(s, "username_key = $1", &name.to_lowercase()).await
}

pub(super) async fn update_profile(
    s: &PgStore,
    user: Id,
    change: &ProfileChange,
) -> StoreResult<Option<UserRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "UPDATE users SET display_name = COALESCE($2, display_name),
                status_text = COALESCE($3, status_text),
                avatar_url = COALESCE($4, avatar_url)
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .await
        .map_err(backend)?;
    let row = c
        .query_opt(
            &st,
            &[
                &sql(user),
                &change.display_name,
                &change.status_text,
                &change.avatar_url,
            ],
        )
        .await
        .map_err(backend)?;
    row.as_ref().map(convert::user).transpose()
}

/// One statement: concurrent calls for one user serialise on its row,
/// and `GREATEST` keeps the latest whatever their order.
pub(super) async fn set_last_active(s: &PgStore, user: Id, at_ms: i64) -> StoreResult<()> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(
            "UPDATE users SET last_active_at_ms = GREATEST(last_active_at_ms, $2)
             WHERE id = $1",
        )
        .await
        .map_err(backend)?;
    c.execute(&st, &[&sql(user), &at_ms])
        .await
        .map(drop)
        .map_err(backend)
}

/// Both are primary or unique keys: each maximum is one index step.
pub(super) async fn max_account_id(s: &PgStore) -> StoreResult<Id> {
    let c = s.client().await?;
    let row = c
        .query_one(
            "SELECT GREATEST(COALESCE((SELECT MAX(id) FROM users), 0),
                             COALESCE((SELECT MAX(id) FROM tokens), 0))",
            &[],
        )
        .await
        .map_err(backend)?;
    convert::id_at(&row, 0)
}
