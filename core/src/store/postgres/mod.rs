//! PostgreSQL backend: a pool of connections (deadpool), every call one
//! statement or one transaction on a pooled connection. The schema is
//! migrated on connect (see `schema`).
//!
//! It implements all three parts of [`Store`]. Every write commits before
//! it returns, and PostgreSQL makes a commit durable (with its default
//! `synchronous_commit = on`), so `flush` has nothing left to do.

mod accounts;
mod append;
mod browse;
mod channels;
mod config;
mod convert;
mod edits;
mod fences;
mod groups;
mod history;
mod messages;
mod outbox;
mod push;
mod reads;
mod schema;
mod social;
#[cfg(test)]
mod tests;
mod tokens;
mod users;
mod webhooks;

use std::time::Duration;

use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

pub use config::PostgresConfig;

use super::{Store, StoreError, StoreResult};

/// The PostgreSQL implementation of [`Store`]; clones share one pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PgStore {
    /// Connects to the server `config` names, with a pool of
    /// `config.pool_size` connections, and migrates the schema.
    pub async fn connect(config: &PostgresConfig) -> StoreResult<Self> {
        config.validate().map_err(StoreError::Backend)?;
        let mut pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| StoreError::Backend(format!("postgres.url: {e}")))?;
        let connect_timeout = Duration::from_millis(config.connect_timeout_ms);
        pg.connect_timeout(connect_timeout);
        pg.application_name("chat-core");
        // Sent at connection start, so every pooled connection has it (and
        // keeps it: a session setting, not a transaction's).
        let timeout = format!(
            "-c statement_timeout={} -c idle_in_transaction_session_timeout={}",
            config.statement_timeout_ms, config.idle_in_transaction_timeout_ms
        );
        let options = match pg.get_options() {
            Some(given) if !given.trim().is_empty() => format!("{given} {timeout}"),
            _ => timeout,
        };
        pg.options(options);
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Waiting for a free connection counts against the same budget as
        // running a statement (0: wait as long as it takes).
        let wait = (config.statement_timeout_ms > 0)
            .then(|| Duration::from_millis(config.statement_timeout_ms));
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(connect_timeout))
            .wait_timeout(wait)
            .build()
            .map_err(|e| StoreError::Backend(format!("postgres pool: {e}")))?;
        let store = Self { pool };
        let applied = schema::migrate(&mut store.client().await?).await?;
        if applied > 0 {
            tracing::info!(applied, "postgres schema migrated");
        }
        Ok(store)
    }

    /// A connection from the pool.
    async fn client(&self) -> StoreResult<Client> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => convert::backend(e),
            other => StoreError::Backend(format!("postgres pool: {other}")),
        })
    }
}

impl Store for PgStore {
    /// Every write has committed already; nothing is buffered here.
    async fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}
