//! Between Rust records and PostgreSQL rows: ids, enum codes, rows and
//! errors.

use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use crate::store::mention_text;
use crate::store::{
    ChannelKind, ChannelRecord, Id, MessageRecord, RelationKind, RelationRecord, Role, StoreError,
    StoreResult, TokenRecord, UserRecord,
};

/// An id as PostgreSQL stores it: `BIGINT` is signed, ids are `u64`. The
/// bits are kept as they are (`as` between same-sized integers is a
/// bit-cast), so every id round-trips exactly. Order is kept too because
/// ids never set the top bit: a Snowflake id's first bit is unused and its
/// 41 bits of milliseconds last until 2094 (see [`crate::ids`]), so every
/// id is below 2^63 and casts to the same non-negative number. An id at or
/// above 2^63 would come back intact but sort below 0.
pub(super) fn sql(id: Id) -> i64 {
    id as i64
}

/// An id from a `BIGINT` column: the inverse of [`sql`].
pub(super) fn id(value: i64) -> Id {
    value as u64
}

/// Reads column `idx` as an id.
pub(super) fn id_at(row: &Row, idx: usize) -> StoreResult<Id> {
    row.try_get::<_, i64>(idx).map(id).map_err(backend)
}

/// Reads column `idx` as `T`, or fails as the backend.
pub(super) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    idx: usize,
) -> StoreResult<T> {
    row.try_get(idx).map_err(backend)
}

/// A failure of the server or the connection, with the server's message.
pub(super) fn backend(e: tokio_postgres::Error) -> StoreError {
    use std::error::Error as _;
    let text = match (e.as_db_error(), e.source()) {
        (Some(db), _) => format!("postgres: {} ({})", db.message(), db.code().code()),
        (None, Some(cause)) => format!("postgres: {e}: {cause}"),
        (None, None) => format!("postgres: {e}"),
    };
    StoreError::Backend(text)
}

/// A unique violation becomes `Conflict(what)`; anything else, a backend failure.
pub(super) fn conflict_if_unique(
    what: &'static str,
) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict(what)
        } else {
            backend(e)
        }
    }
}

/// The columns [`user`] reads.
pub(super) const USER_COLUMNS: &str = "id, username, password_hash, created_at_ms, display_name,
    status_text, avatar_url, last_active_at_ms, bot_owner_id";

/// A row of [`USER_COLUMNS`].
pub(super) fn user(row: &Row) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: id_at(row, 0)?,
        username: get(row, 1)?,
        password_hash: get(row, 2)?,
        created_at_ms: get(row, 3)?,
        display_name: get(row, 4)?,
        status_text: get(row, 5)?,
        avatar_url: get(row, 6)?,
        last_active_at_ms: get(row, 7)?,
        bot_owner_id: id_at(row, 8)?,
    })
}

/// The columns [`token`] reads.
pub(super) const TOKEN_COLUMNS: &str =
    "hash, id, user_id, created_at_ms, device, last_used_at_ms, expires_at_ms";

/// A row of [`TOKEN_COLUMNS`].
pub(super) fn token(row: &Row) -> StoreResult<TokenRecord> {
    let bytes: &[u8] = get(row, 0)?;
    let hash = <[u8; 32]>::try_from(bytes)
        .map_err(|_| StoreError::Backend(format!("a token hash of {} bytes", bytes.len())))?;
    Ok(TokenRecord {
        hash,
        id: id_at(row, 1)?,
        user_id: id_at(row, 2)?,
        created_at_ms: get(row, 3)?,
        device: get(row, 4)?,
        last_used_at_ms: get(row, 5)?,
        expires_at_ms: get(row, 6)?,
    })
}

/// The columns [`channel`] reads, of `channels c`; the last message id is
/// the end of the channel's range of the messages' primary key.
pub(super) const CHANNEL_COLUMNS: &str = "c.id, c.kind, c.name, c.owner_id, c.direct_key,
    c.created_at_ms,
    COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.channel_id = c.id), 0)";

/// The stored form of a channel kind.
pub(super) fn kind_code(kind: ChannelKind) -> i16 {
    match kind {
        ChannelKind::Direct => 1,
        ChannelKind::Group => 2,
    }
}

/// A row of [`CHANNEL_COLUMNS`].
pub(super) fn channel(row: &Row) -> StoreResult<ChannelRecord> {
    Ok(ChannelRecord {
        id: id_at(row, 0)?,
        kind: if get::<i16>(row, 1)? == 1 {
            ChannelKind::Direct
        } else {
            ChannelKind::Group
        },
        name: get(row, 2)?,
        owner_id: id_at(row, 3)?,
        direct_key: get(row, 4)?,
        created_at_ms: get(row, 5)?,
        last_message_id: id_at(row, 6)?,
    })
}

/// The stored form of a role.
pub(super) fn role_code(role: Role) -> i16 {
    match role {
        Role::Member => 0,
        Role::Admin => 1,
    }
}

/// A role from its stored form.
pub(super) fn role(code: i16) -> Role {
    if code == 1 { Role::Admin } else { Role::Member }
}

/// The columns [`message`] reads.
pub(super) const MESSAGE_COLUMNS: &str = "id, channel_id, sender_id, client_msg_id, text,
    created_at_ms, edited_at_ms, deleted, version_id, mentions, deleted_by";

/// A row of [`MESSAGE_COLUMNS`].
pub(super) fn message(row: &Row) -> StoreResult<MessageRecord> {
    Ok(MessageRecord {
        id: id_at(row, 0)?,
        channel_id: id_at(row, 1)?,
        sender_id: id_at(row, 2)?,
        client_msg_id: get(row, 3)?,
        text: get(row, 4)?,
        created_at_ms: get(row, 5)?,
        edited_at_ms: get(row, 6)?,
        deleted: get(row, 7)?,
        version_id: id_at(row, 8)?,
        mentions: mention_text::decode(get(row, 9)?),
        deleted_by: id_at(row, 10)?,
    })
}

/// Every row read with `read`.
pub(super) fn all<T>(rows: &[Row], read: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(read).collect()
}

/// The stored form of a relationship kind.
pub(super) fn relation_code(kind: RelationKind) -> i16 {
    match kind {
        RelationKind::Friend => 1,
        RelationKind::Incoming => 2,
        RelationKind::Outgoing => 3,
        RelationKind::Blocked => 4,
    }
}

/// A row of `other_id, kind, since_ms`.
pub(super) fn relation(row: &Row) -> StoreResult<RelationRecord> {
    let kind = match get::<i16>(row, 1)? {
        1 => RelationKind::Friend,
        2 => RelationKind::Incoming,
        3 => RelationKind::Outgoing,
        _ => RelationKind::Blocked,
    };
    Ok(RelationRecord {
        other_id: id_at(row, 0)?,
        kind,
        since_ms: get(row, 2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::{id, sql};
    use crate::ids::IdGenerator;

    #[test]
    fn ids_round_trip_and_keep_their_order_as_bigint() {
        let mut g = IdGenerator::new(1023, 0);
        let mut ids = vec![0, 1, 4_096, i64::MAX as u64];
        ids.extend((0..3).map(|i| g.next(crate::ids::EPOCH_MS + (1 << 41) - 3 + i)));
        ids.sort_unstable();
        let stored: Vec<i64> = ids.iter().map(|&i| sql(i)).collect();
        assert!(stored.windows(2).all(|w| w[0] < w[1]), "order kept");
        assert!(stored.iter().all(|&s| s >= 0));
        assert_eq!(stored.iter().map(|&s| id(s)).collect::<Vec<_>>(), ids);
        // Beyond the layout the bits still round-trip.
        assert_eq!(id(sql(u64::MAX)), u64::MAX);
    }
}
