//! How to reach the PostgreSQL server: the `[postgres]` settings.

use serde::{Deserialize, Serialize};

/// Settings of the PostgreSQL backend. Unknown keys are rejected; every
/// field has a default, so a config names only what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    /// Connection URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    /// with libpq's query parameters (e.g. `?options=-csearch_path%3Dchat`
    /// to keep the tables in schema `chat`, which must exist).
    pub url: String,
    /// Most connections the pool holds open at once (at least 1).
    pub pool_size: usize,
    /// Longest one statement may run before the server cancels it, in ms
    /// (set on every pooled connection; 0 means no limit). A caller also
    /// waits at most this long for a free connection from the pool.
    pub statement_timeout_ms: u64,
    /// Longest to wait for a new connection to the server, in ms (at least 1).
    pub connect_timeout_ms: u64,
    /// Longest a transaction may sit idle between two statements before
    /// the server ends its session, in ms (0 means no limit). Bounds how
    /// long a writer that was paused inside a transaction (SIGSTOP, a
    /// frozen VM) can hold its locks: a new owner's claim of a channel
    /// waits at most this long for the old owner's unfinished append,
    /// which then fails. Our transactions never idle between statements.
    pub idle_in_transaction_timeout_ms: u64,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            url: "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
            pool_size: 16,
            statement_timeout_ms: 5_000,
            connect_timeout_ms: 5_000,
            idle_in_transaction_timeout_ms: 2_000,
        }
    }
}

impl PostgresConfig {
    /// Checks the settings that have a range; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.url.trim().is_empty() {
            return Err("postgres.url must be set".into());
        }
        if self.pool_size == 0 {
            return Err("postgres.pool_size must be at least 1".into());
        }
        if self.connect_timeout_ms == 0 {
            return Err("postgres.connect_timeout_ms must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::PostgresConfig;

    #[test]
    fn defaults_fill_what_a_config_leaves_out_and_unknown_keys_are_refused() {
        let parsed: PostgresConfig =
            serde_json::from_str(r#"{"pool_size": 4}"#).expect("partial config");
        assert_eq!(parsed.pool_size, 4);
        assert_eq!(parsed.url, PostgresConfig::default().url);
        assert!(parsed.validate().is_ok());
        let unknown = serde_json::from_str::<PostgresConfig>(r#"{"pool": 4}"#);
        assert!(unknown.is_err(), "a misspelt key is an error");
        let empty = PostgresConfig {
            pool_size: 0,
            ..Default::default()
        };
        assert!(empty.validate().is_err());
    }
}
