//! The PostgreSQL backend under the store contract, and what is its own:
//! migrations, timeouts, connection errors. Each test gets a schema of its
//! own (named at random, reached through `search_path`), so tests running
//! in parallel never see each other's rows; it is dropped at the end,
//! passed or failed.
//!
//! The server comes from `TEST_POSTGRES_URL`; without it these tests
//! say they are skipped and pass (`scripts/test.sh` always sets it). The
//! name stays outside `CHAT_`: the servers read every `CHAT_*` variable as
//! configuration and refuse unknown ones, and the REST and WebSocket tests
//! start them with this environment.

use tokio_postgres::NoTls;

use super::{PgStore, PostgresConfig, schema};
use crate::store::StoreError;
use crate::store::contract::ContractBackend;

const URL_VAR: &str = "TEST_POSTGRES_URL";

mod contract {
    crate::store_contract_tests!(super::Fresh);
}

mod fencing;

/// The server to test against, or `None` after saying the test is skipped.
fn server_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped: {URL_VAR} is not set");
            None
        }
    }
}

/// `url` with `schema` first in the search path of every connection.
fn in_schema(url: &str, schema: &str) -> String {
    let glue = if url.contains('?') { '&' } else { '?' };
    format!("{url}{glue}options=-csearch_path%3D{schema}")
}

/// A plain connection for setting up and tearing down.
async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("the test server accepts a connection");
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("admin connection: {e}");
        }
    });
    client
}

/// A new, empty schema and a config whose connections use it.
async fn new_schema(url: &str) -> (String, PostgresConfig) {
    let schema = format!("chat_test_{:016x}", rand::random::<u64>());
    admin(url)
        .await
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let config = PostgresConfig {
        url: in_schema(url, &schema),
        pool_size: 4,
        ..PostgresConfig::default()
    };
    (schema, config)
}

async fn drop_schema(url: &str, schema: &str) {
    let dropped = admin(url)
        .await
        // A failed test may leave a transaction of its own open (its
        // connection's task no longer runs): give up rather than wait.
        .batch_execute(&format!(
            "SET lock_timeout = '3s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
        ))
        .await;
    if let Err(e) = dropped {
        eprintln!(
            "schema {schema} left behind: {}",
            super::convert::backend(e)
        );
    }
}

/// Drops its schema when it goes, however the test ends (a failed
/// assertion too): on a thread and runtime of its own, since `Drop` cannot
/// wait for the test's runtime. A test that gets to its end calls
/// [`SchemaGuard::drop_now`] instead, on its own runtime, which also lets
/// the connections it closed end first.
struct SchemaGuard {
    url: String,
    schema: String,
    dropped: bool,
}

impl SchemaGuard {
    fn new(url: &str, schema: &str) -> Self {
        Self {
            url: url.to_owned(),
            schema: schema.to_owned(),
            dropped: false,
        }
    }

    async fn drop_now(mut self) {
        drop_schema(&self.url, &self.schema).await;
        self.dropped = true;
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (url, schema) = (self.url.clone(), self.schema.clone());
        let cleanup =
            std::thread::spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(drop_schema(&url, &schema)),
                    Err(e) => eprintln!("schema {schema} left behind: {e}"),
                }
            });
        let _ = cleanup.join();
    }
}

/// A store in a schema of its own, dropped with it.
pub struct Fresh {
    store: PgStore,
    config: PostgresConfig,
    _schema: SchemaGuard,
}

impl Fresh {
    /// The schema the store's connections use.
    fn schema(&self) -> &str {
        &self._schema.schema
    }
}

impl ContractBackend for Fresh {
    type Store = PgStore;

    async fn fresh() -> Option<Self> {
        let url = server_url()?;
        let (schema, config) = new_schema(&url).await;
        let guard = SchemaGuard::new(&url, &schema);
        let store = PgStore::connect(&config).await.expect("connect");
        Some(Self {
            store,
            config,
            _schema: guard,
        })
    }

    fn store(&self) -> &PgStore {
        &self.store
    }

    /// Closes the pool and every connection in it, then connects anew
    /// (migrating again, which finds nothing to do).
    async fn reopen(self) -> Self {
        let Self {
            store,
            config,
            _schema,
        } = self;
        store.pool.close();
        drop(store);
        let store = PgStore::connect(&config).await.expect("reconnect");
        Self {
            store,
            config,
            _schema,
        }
    }

    async fn finish(self) {
        self.store.pool.close();
        drop(self.store);
        self._schema.drop_now().await;
    }
}

#[tokio::test]
async fn migrations_run_once_when_stores_start_at_once() {
    let Some(url) = server_url() else { return };
    let (schema, config) = new_schema(&url).await;
    let guard = SchemaGuard::new(&url, &schema);
    let (a, b, c) = tokio::join!(
        PgStore::connect(&config),
        PgStore::connect(&config),
        PgStore::connect(&config)
    );
    for store in [a, b, c] {
        store.expect("every start succeeds");
    }
    let counts = admin(&url)
        .await
        .query(
            &format!("SELECT version, COUNT(*) FROM {schema}.schema_migrations GROUP BY version"),
            &[],
        )
        .await
        .expect("migrations table");
    let versions: Vec<(i32, i64)> = counts.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        versions.len(),
        usize::try_from(schema::latest()).expect("n")
    );
    assert!(versions.iter().all(|&(_, n)| n == 1), "{versions:?}");
    let again = PgStore::connect(&config).await.expect("start again");
    let mut client = again.client().await.expect("client");
    assert_eq!(schema::migrate(&mut client).await.expect("migrate"), 0);
    drop(client);
    again.pool.close();
    guard.drop_now().await;
}

#[tokio::test]
async fn every_pooled_connection_has_the_statement_timeout() {
    let Some(url) = server_url() else { return };
    let (schema, mut config) = new_schema(&url).await;
    let guard = SchemaGuard::new(&url, &schema);
    config.statement_timeout_ms = 300;
    config.pool_size = 2;
    let store = PgStore::connect(&config).await.expect("connect");
    let (a, b) = (store.client().await, store.client().await);
    for client in [a.expect("first"), b.expect("second")] {
        let row = client
            .query_one("SHOW statement_timeout", &[])
            .await
            .expect("show");
        assert_eq!(row.get::<_, String>(0), "300ms");
        let slow = client.query_one("SELECT pg_sleep(2)", &[]).await;
        let e = slow.expect_err("cancelled by the server");
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
        );
    }
    store.pool.close();
    guard.drop_now().await;
}

/// Needs no server: what cannot be reached or parsed is an error.
#[tokio::test]
async fn a_bad_url_or_an_absent_server_is_an_error() {
    let bad = PostgresConfig {
        url: "not a url".into(),
        ..PostgresConfig::default()
    };
    assert!(matches!(
        PgStore::connect(&bad).await,
        Err(StoreError::Backend(_))
    ));
    let absent = PostgresConfig {
        url: "postgres://postgres@127.0.0.1:1/postgres".into(),
        connect_timeout_ms: 500,
        ..PostgresConfig::default()
    };
    let started = std::time::Instant::now();
    let refused = PgStore::connect(&absent).await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
