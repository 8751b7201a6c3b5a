//! Connection settings and schema migrations for the SQLite backend.

use rusqlite::Connection;

/// Migrations in order; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE tokens (
    hash          BLOB PRIMARY KEY,
    id            INTEGER NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE channels (
    id            INTEGER PRIMARY KEY,
    kind          INTEGER NOT NULL,
    name          TEXT NOT NULL,
    owner_id      INTEGER NOT NULL REFERENCES users(id),
    direct_key    TEXT UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE members (
    channel_id   INTEGER NOT NULL REFERENCES channels(id),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    joined_at_ms INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id, channel_id);
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    channel_id    INTEGER NOT NULL REFERENCES channels(id),
    sender_id     INTEGER NOT NULL REFERENCES users(id),
    client_msg_id TEXT NOT NULL,
    text          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX messages_by_channel ON messages(channel_id, id);
CREATE UNIQUE INDEX messages_dedup ON messages(channel_id, sender_id, client_msg_id);
"#,
    r#"
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN status_text TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN avatar_url TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_active_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE read_states (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    channel_id   INTEGER NOT NULL REFERENCES channels(id),
    last_read_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;
CREATE TABLE settings (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id),
    notifications INTEGER NOT NULL
);
CREATE TABLE channel_mutes (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;
CREATE TABLE relations (
    user_id  INTEGER NOT NULL REFERENCES users(id),
    other_id INTEGER NOT NULL REFERENCES users(id),
    kind     INTEGER NOT NULL,
    since_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, other_id)
) WITHOUT ROWID;
"#,
    r#"
ALTER TABLE messages ADD COLUMN version_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_changes ON messages(channel_id, version_id) WHERE version_id > 0;
"#,
    r#"
ALTER TABLE tokens ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN expires_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_by_user ON tokens(user_id, id);
ALTER TABLE members ADD COLUMN role INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN deleted_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN id_floor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN deleted_by INTEGER NOT NULL DEFAULT 0;
CREATE TABLE mentions (
    user_id    INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id, message_id)
) WITHOUT ROWID;
CREATE INDEX mentions_by_message ON mentions(channel_id, message_id);
CREATE TABLE message_versions (
    channel_id    INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    version_id    INTEGER NOT NULL,
    text          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id, version_id)
) WITHOUT ROWID;
ALTER TABLE settings ADD COLUMN invisible INTEGER NOT NULL DEFAULT 0;
CREATE INDEX relations_by_other ON relations(other_id, kind);
"#,
    r#"
CREATE TABLE push_targets (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    kind          INTEGER NOT NULL,
    address       TEXT NOT NULL,
    p256dh        BLOB NOT NULL,
    auth          BLOB NOT NULL,
    app_id        TEXT NOT NULL,
    platform      TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (kind, address)
);
CREATE INDEX push_targets_by_user ON push_targets(user_id, id);
-- The server's own secrets (its generated VAPID key), one value per name.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
-- The push outbox (store/outbox.rs): one row per target and channel.
CREATE TABLE push_outbox (
    target_id        INTEGER NOT NULL REFERENCES push_targets(id) ON DELETE CASCADE,
    channel_id       INTEGER NOT NULL,
    user_id          INTEGER NOT NULL,
    messages         INTEGER NOT NULL,
    mentions         INTEGER NOT NULL,
    sent_messages    INTEGER NOT NULL,
    last_message_id  INTEGER NOT NULL,
    last_sender_id   INTEGER NOT NULL,
    pending_since_ms INTEGER NOT NULL,
    due_at_ms        INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    last_sent_ms     INTEGER NOT NULL,
    PRIMARY KEY (target_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX push_outbox_by_due ON push_outbox(due_at_ms);
CREATE INDEX push_outbox_by_reader ON push_outbox(user_id, channel_id);
-- Notifications given up on, for operators.
CREATE TABLE push_dead_letters (
    id               INTEGER PRIMARY KEY,
    target_id        INTEGER NOT NULL,
    user_id          INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    messages         INTEGER NOT NULL,
    last_message_id  INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    error            TEXT NOT NULL,
    pending_since_ms INTEGER NOT NULL,
    dead_at_ms       INTEGER NOT NULL
);
"#,
    r#"
-- Bot accounts: users owned by another user (0: a person).
ALTER TABLE users ADD COLUMN bot_owner_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_by_bot_owner ON users(bot_owner_id, id) WHERE bot_owner_id <> 0;
"#,
    r#"
-- Bots' outgoing webhooks, and their deliveries: pending (dead_at_ms 0)
-- or given up (dead letters, kept for operators).
CREATE TABLE bot_webhooks (
    bot_id        INTEGER PRIMARY KEY REFERENCES users(id),
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE webhook_outbox (
    bot_id        INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    kind          INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    due_at_ms     INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    error         TEXT NOT NULL,
    dead_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (bot_id, event_id)
) WITHOUT ROWID;
CREATE INDEX webhook_outbox_due ON webhook_outbox(due_at_ms) WHERE dead_at_ms = 0;
CREATE INDEX webhook_outbox_dead ON webhook_outbox(dead_at_ms) WHERE dead_at_ms <> 0;
"#,
];

/// Applies the settings every connection needs. `synchronous = FULL` in WAL
/// mode fsyncs the log at every commit, so a committed write survives a
/// crash of the process or the machine.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -16000;",
    )
}

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}
