//! Session tokens: issue, look up, touch, revoke, and the password change
//! that revokes them.

use super::PgStore;
use super::convert::{self, TOKEN_COLUMNS, backend, conflict_if_unique, sql};
use crate::store::{Id, StoreError, StoreResult, TokenFilter, TokenRecord};

/// The condition and argument that select a filter's tokens (with the
/// user as `$1`).
fn condition(filter: TokenFilter) -> (&'static str, Option<i64>) {
    match filter {
        TokenFilter::Id(id) => ("id = $2", Some(sql(id))),
        // `IS DISTINCT FROM NULL` holds for every token.
        TokenFilter::AllExcept(keep) => ("id IS DISTINCT FROM $2", keep.map(sql)),
        // 0 is a token from before expiry existed: it expires at its next use.
        TokenFilter::ExpiredBy(now) => ("expires_at_ms > 0 AND expires_at_ms <= $2", Some(now)),
    }
}

/// Deletes the user's tokens that `filter` selects, on `c`, by id.
async fn delete_where(
    c: &impl deadpool_postgres::GenericClient,
    user: Id,
    filter: TokenFilter,
) -> StoreResult<Vec<TokenRecord>> {
    let (condition, arg) = condition(filter);
    let st = c
        .prepare_cached(&format!(
            "DELETE FROM tokens WHERE user_id = $1 AND {condition} RETURNING {TOKEN_COLUMNS}"
        ))
        .await
        .map_err(backend)?;
    let rows = c.query(&st, &[&sql(user), &arg]).await.map_err(backend)?;
    let mut deleted = convert::all(&rows, convert::token)?;
    deleted.sort_by_key(|t| t.id);
    Ok(deleted)
}

pub(super) async fn insert_token(s: &PgStore, t: &TokenRecord) -> StoreResult<()> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .await
        .map_err(backend)?;
    c.execute(
        &st,
        &[
            &&t.hash[..],
            &sql(t.id),
            &sql(t.user_id),
            &t.created_at_ms,
            &t.device,
            &t.last_used_at_ms,
            &t.expires_at_ms,
        ],
    )
    .await
    .map(drop)
    .map_err(conflict_if_unique("token exists"))
}

/// Runs `statement` (with the hash as `$1`) and reads the token it returns.
async fn token_by(
    s: &PgStore,
    statement: &str,
    hash: [u8; 32],
) -> StoreResult<Option<TokenRecord>> {
    let c = s.client().await?;
    let st = c.prepare_cached(statement).await.map_err(backend)?;
    let row = c.query_opt(&st, &[&&hash[..]]).await.map_err(backend)?;
    row.as_ref().map(convert::token).transpose()
}

pub(super) async fn token_by_hash(s: &PgStore, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
    let statement = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1");
    token_by(s, &statement, hash).await
}

pub(super) async fn delete_token(s: &PgStore, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
    let statement = format!("DELETE FROM tokens WHERE hash = $1 RETURNING {TOKEN_COLUMNS}");
    token_by(s, &statement, hash).await
}

pub(super) async fn tokens_of(s: &PgStore, user: Id) -> StoreResult<Vec<TokenRecord>> {
    let c = s.client().await?;
    let st = c
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 ORDER BY id"
        ))
        .await
        .map_err(backend)?;
    let rows = c.query(&st, &[&sql(user)]).await.map_err(backend)?;
    convert::all(&rows, convert::token)
}

pub(super) async fn touch_token(
    s: &PgStore,
    id: Id,
    used_ms: i64,
    expires_ms: i64,
) -> StoreResult<()> {
    let c = s.client().await?;
    let st = c
        .prepare_cached("UPDATE tokens SET last_used_at_ms = $2, expires_at_ms = $3 WHERE id = $1")
        .await
        .map_err(backend)?;
    c.execute(&st, &[&sql(id), &used_ms, &expires_ms])
        .await
        .map(drop)
        .map_err(backend)
}

pub(super) async fn delete_tokens(
    s: &PgStore,
    user: Id,
    filter: TokenFilter,
) -> StoreResult<Vec<TokenRecord>> {
    delete_where(&s.client().await?, user, filter).await
}

pub(super) async fn change_password(
    s: &PgStore,
    user: Id,
    password_hash: &str,
    keep: Option<Id>,
) -> StoreResult<Vec<TokenRecord>> {
    let mut c = s.client().await?;
    let tx = c.transaction().await.map_err(backend)?;
    let changed = tx
        .execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&sql(user), &password_hash],
        )
        .await
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::Conflict("no such user"));
    }
    let deleted = delete_where(&tx, user, TokenFilter::AllExcept(keep)).await?;
    tx.commit().await.map_err(backend)?;
    Ok(deleted)
}
