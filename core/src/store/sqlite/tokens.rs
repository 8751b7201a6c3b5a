//! Session tokens: issue, look up, touch, revoke, and the password change
//! that revokes them.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::queries::{backend, is_unique_violation, row_id, sql_id};
use crate::store::{Id, StoreError, StoreResult, TokenFilter, TokenRecord};

const TOKEN_COLUMNS: &str =
    "hash, id, user_id, created_at_ms, device, last_used_at_ms, expires_at_ms";

fn token_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let bytes: Vec<u8> = row.get(0)?;
    let mut hash = [0u8; 32];
    if bytes.len() == hash.len() {
        hash.copy_from_slice(&bytes);
    }
    Ok(TokenRecord {
        hash,
        id: row_id(row, 1)?,
        user_id: row_id(row, 2)?,
        created_at_ms: row.get(3)?,
        device: row.get(4)?,
        last_used_at_ms: row.get(5)?,
        expires_at_ms: row.get(6)?,
    })
}

pub fn insert_token(conn: &Connection, t: &TokenRecord) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            &t.hash[..],
            sql_id(t.id),
            sql_id(t.user_id),
            t.created_at_ms,
            t.device,
            t.last_used_at_ms,
            t.expires_at_ms
        ])
    })
    .map(|_| ())
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("token exists")
        } else {
            backend(e)
        }
    })
}

pub fn token_by_hash(conn: &Connection, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1"
    ))
    .and_then(|mut st| st.query_row([&hash[..]], token_row).optional())
    .map_err(backend)
}

pub fn delete_token(conn: &Connection, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
    conn.prepare_cached(&format!(
        "DELETE FROM tokens WHERE hash = ?1 RETURNING {TOKEN_COLUMNS}"
    ))
    .and_then(|mut st| st.query_row([&hash[..]], token_row).optional())
    .map_err(backend)
}

pub fn tokens_of(conn: &Connection, user: Id) -> StoreResult<Vec<TokenRecord>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = ?1 ORDER BY id"
        ))
        .map_err(backend)?;
    st.query_map([sql_id(user)], token_row)
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)
}

pub fn touch_token(conn: &Connection, id: Id, used_ms: i64, expires_ms: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE tokens SET last_used_at_ms = ?2, expires_at_ms = ?3 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![sql_id(id), used_ms, expires_ms]))
        .map(drop)
        .map_err(backend)
}

pub fn delete_tokens(
    conn: &Connection,
    user: Id,
    filter: TokenFilter,
) -> StoreResult<Vec<TokenRecord>> {
    let (condition, arg) = match filter {
        TokenFilter::Id(id) => ("id = ?2", sql_id(id)),
        TokenFilter::AllExcept(keep) => ("id != ?2", keep.map_or(-1, sql_id)),
        // 0 is a token from before expiry existed: it expires at its next use.
        TokenFilter::ExpiredBy(now) => ("expires_at_ms > 0 AND expires_at_ms <= ?2", now),
    };
    let mut st = conn
        .prepare_cached(&format!(
            "DELETE FROM tokens WHERE user_id = ?1 AND {condition} RETURNING {TOKEN_COLUMNS}"
        ))
        .map_err(backend)?;
    let mut deleted = st
        .query_map(params![sql_id(user), arg], token_row)
        .map_err(backend)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend)?;
    deleted.sort_by_key(|t| t.id);
    Ok(deleted)
}

pub fn change_password(
    conn: &mut Connection,
    user: Id,
    password_hash: &str,
    keep: Option<Id>,
) -> StoreResult<Vec<TokenRecord>> {
    let tx = conn.transaction().map_err(backend)?;
    let changed = tx
        .execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![sql_id(user), password_hash],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::Conflict("no such user"));
    }
    let deleted = delete_tokens(&tx, user, TokenFilter::AllExcept(keep))?;
    tx.commit().map_err(backend)?;
    Ok(deleted)
}
