//! The PostgreSQL schema and its migrations, which run when a store
//! connects.
//!
//! Each migration runs once, in order, and is recorded by its version in
//! `schema_migrations`. A run is one transaction holding a
//! transaction-scoped advisory lock, so processes that start at once take
//! turns: the first applies what is missing, the others then find nothing
//! to do. A failed migration rolls the run back, records and all, and the
//! next start tries again.
//!
//! Keys: the history is `messages PRIMARY KEY (channel_id, id)`, so a page
//! of a channel's history (and its last id) is one range of that index;
//! idempotency is a unique index on `(channel_id, sender_id, client_msg_id)`;
//! usernames are unique by `username_key` (the name lowercased by the core,
//! as SQLite does, so both backends agree on what counts as the same name).

use deadpool_postgres::Client;

use super::convert::backend;
use crate::store::StoreResult;

/// The advisory lock key of migrations (any constant the app owns; this
/// one is "chat" in ASCII).
const MIGRATION_LOCK: i64 = 0x6368_6174;

/// Migrations in order: `(version, name, sql)`. Never edit one that has
/// shipped; add another.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "initial schema",
        r#"
CREATE TABLE users (
    id                BIGINT PRIMARY KEY,
    username          TEXT NOT NULL,
    username_key      TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    status_text       TEXT NOT NULL DEFAULT '',
    avatar_url        TEXT NOT NULL DEFAULT '',
    last_active_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE tokens (
    hash            BYTEA PRIMARY KEY,
    id              BIGINT NOT NULL UNIQUE,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    created_at_ms   BIGINT NOT NULL,
    device          TEXT NOT NULL DEFAULT '',
    last_used_at_ms BIGINT NOT NULL DEFAULT 0,
    expires_at_ms   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_by_user ON tokens (user_id, id);
CREATE TABLE settings (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id),
    notifications SMALLINT NOT NULL,
    invisible     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE channel_mutes (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    channel_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
CREATE TABLE relations (
    user_id  BIGINT NOT NULL REFERENCES users (id),
    other_id BIGINT NOT NULL REFERENCES users (id),
    kind     SMALLINT NOT NULL,
    since_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, other_id)
);
CREATE INDEX relations_by_other ON relations (other_id, kind);
CREATE TABLE channels (
    id            BIGINT PRIMARY KEY,
    kind          SMALLINT NOT NULL,
    name          TEXT NOT NULL,
    owner_id      BIGINT NOT NULL REFERENCES users (id),
    direct_key    TEXT UNIQUE,
    created_at_ms BIGINT NOT NULL,
    deleted_at_ms BIGINT NOT NULL DEFAULT 0,
    -- The largest message or version id the channel held when deleted.
    id_floor      BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE members (
    channel_id   BIGINT NOT NULL REFERENCES channels (id),
    user_id      BIGINT NOT NULL REFERENCES users (id),
    role         SMALLINT NOT NULL DEFAULT 0,
    joined_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, channel_id);
CREATE TABLE read_states (
    user_id      BIGINT NOT NULL REFERENCES users (id),
    channel_id   BIGINT NOT NULL REFERENCES channels (id),
    last_read_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
CREATE TABLE messages (
    channel_id    BIGINT NOT NULL REFERENCES channels (id),
    id            BIGINT NOT NULL,
    sender_id     BIGINT NOT NULL REFERENCES users (id),
    client_msg_id TEXT NOT NULL,
    text          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    edited_at_ms  BIGINT NOT NULL DEFAULT 0,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    version_id    BIGINT NOT NULL DEFAULT 0,
    -- `user:offset:length` entries joined by `,` (see mention_text).
    mentions      TEXT NOT NULL DEFAULT '',
    deleted_by    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, id)
);
CREATE UNIQUE INDEX messages_dedup ON messages (channel_id, sender_id, client_msg_id);
CREATE INDEX messages_changes ON messages (channel_id, version_id) WHERE version_id > 0;
CREATE TABLE message_versions (
    channel_id    BIGINT NOT NULL,
    message_id    BIGINT NOT NULL,
    version_id    BIGINT NOT NULL,
    text          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel_id, message_id, version_id)
);
-- Who a message mentions, the sender aside: counted as unread mentions.
CREATE TABLE mentions (
    user_id    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id, message_id)
);
CREATE INDEX mentions_by_message ON mentions (channel_id, message_id);
"#,
    ),
    (
        2,
        "username prefix index",
        r#"
-- Username autocomplete reads a range of keys in byte order, whatever the
-- database's collation.
CREATE INDEX users_by_key_c ON users (username_key COLLATE "C");
"#,
    ),
    (
        3,
        "channel owners",
        r#"
-- The last claim of each channel's writer (store::Fence): appends check it.
CREATE TABLE channel_owners (
    channel_id BIGINT PRIMARY KEY,
    owner      BIGINT NOT NULL,
    epoch      BIGINT NOT NULL
);
"#,
    ),
    (
        4,
        "push targets and their outbox",
        r#"
CREATE TABLE push_targets (
    id            BIGINT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    kind          SMALLINT NOT NULL,
    address       TEXT NOT NULL,
    p256dh        BYTEA NOT NULL,
    auth          BYTEA NOT NULL,
    app_id        TEXT NOT NULL,
    platform      TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (kind, address)
);
CREATE INDEX push_targets_by_user ON push_targets (user_id, id);
-- The server's own secrets (its generated VAPID key), one value per name.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
-- The push outbox (store/outbox.rs): one row per target and channel.
CREATE TABLE push_outbox (
    target_id        BIGINT NOT NULL REFERENCES push_targets (id) ON DELETE CASCADE,
    channel_id       BIGINT NOT NULL,
    user_id          BIGINT NOT NULL,
    messages         INTEGER NOT NULL,
    mentions         INTEGER NOT NULL,
    sent_messages    INTEGER NOT NULL,
    last_message_id  BIGINT NOT NULL,
    last_sender_id   BIGINT NOT NULL,
    pending_since_ms BIGINT NOT NULL,
    due_at_ms        BIGINT NOT NULL,
    attempts         INTEGER NOT NULL,
    last_sent_ms     BIGINT NOT NULL,
    PRIMARY KEY (target_id, channel_id)
);
CREATE INDEX push_outbox_by_due ON push_outbox (due_at_ms);
CREATE INDEX push_outbox_by_reader ON push_outbox (user_id, channel_id);
-- Notifications given up on, for operators.
CREATE TABLE push_dead_letters (
    id               BIGINT PRIMARY KEY,
    target_id        BIGINT NOT NULL,
    user_id          BIGINT NOT NULL,
    channel_id       BIGINT NOT NULL,
    messages         INTEGER NOT NULL,
    last_message_id  BIGINT NOT NULL,
    attempts         INTEGER NOT NULL,
    error            TEXT NOT NULL,
    pending_since_ms BIGINT NOT NULL,
    dead_at_ms       BIGINT NOT NULL
);
"#,
    ),
    (
        5,
        "bot accounts",
        r#"
-- Bot accounts: users owned by another user (0: a person).
ALTER TABLE users ADD COLUMN bot_owner_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX users_by_bot_owner ON users (bot_owner_id, id) WHERE bot_owner_id <> 0;
"#,
    ),
    (
        6,
        "bot webhooks",
        r#"
-- Bots' outgoing webhooks, and their deliveries: pending (dead_at_ms 0)
-- or given up (dead letters, kept for operators).
CREATE TABLE bot_webhooks (
    bot_id        BIGINT PRIMARY KEY REFERENCES users (id),
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE TABLE webhook_outbox (
    bot_id        BIGINT NOT NULL,
    event_id      BIGINT NOT NULL,
    channel_id    BIGINT NOT NULL,
    kind          SMALLINT NOT NULL,
    body          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    due_at_ms     BIGINT NOT NULL,
    attempts      INTEGER NOT NULL,
    error         TEXT NOT NULL,
    dead_at_ms    BIGINT NOT NULL,
    PRIMARY KEY (bot_id, event_id)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (due_at_ms) WHERE dead_at_ms = 0;
CREATE INDEX webhook_outbox_dead ON webhook_outbox (dead_at_ms) WHERE dead_at_ms <> 0;
"#,
    ),
];

/// Brings the schema (of the connection's `search_path`) up to date and
/// returns how many migrations this call applied.
pub(super) async fn migrate(client: &mut Client) -> StoreResult<usize> {
    let tx = client.transaction().await.map_err(backend)?;
    // Migrations may take longer than a request may, and may wait for
    // another process's run to finish.
    tx.batch_execute("SET LOCAL statement_timeout = 0")
        .await
        .map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(backend)?;
    let done: Vec<i32> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .await
        .map_err(backend)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        if done.contains(&version) {
            continue;
        }
        tx.batch_execute(sql).await.map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await
        .map_err(backend)?;
        applied += 1;
    }
    tx.commit().await.map_err(backend)?;
    Ok(applied)
}

/// The newest version this build knows.
#[cfg(test)]
pub(super) fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}
