//! The PostgreSQL seam.
//!
//! Owns what only PostgreSQL needs: the pool, the migrations (`migrations/postgres`), the
//! query deadline (`SET LOCAL statement_timeout`); its dialect snippets (`$n::jsonb`,
//! `doc::text`, row-lock clauses, the advisory email lock) and unique-constraint names are in
//! `dialect`, beside SQLite's. Also the listener that relays other processes' "notifications
//! queued" signals (`LISTEN clientele_outbox`, sent by `announce`) to this process's delivery
//! worker.
//! Writers run at READ COMMITTED in parallel; those that add an email row take a
//! transaction-scoped advisory lock on (project, lowercase email), so the cross-scope email
//! check-then-insert is serialized per email. The operations themselves are written once, in
//! `store`, `customers` and `resources`; nothing here may decide behaviour.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::announce::Announcer;
use crate::db::{ping_when_idle, Backend, Conn, Sql, OUTBOX};
use crate::error::{backend, SqlxResultExt};
use crate::pool_stats::Waiting;
use crate::{StoreError, StoreOptions};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Pool size when the options do not say.
const DEFAULT_POOL_SIZE: u32 = 10;
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` and migrates the database.
pub(crate) async fn open(url: &str, opts: &StoreOptions) -> Result<Backend, StoreError> {
    if opts.exclusive {
        // No equivalent as safe is implemented: a database-wide lock would have to block
        // other servers' reads too, and PostgreSQL's `CREATE INDEX` after a load is not what
        // bounds its import (the server's CPU per customer is, docs/performance.md).
        return Err(StoreError::Backend(
            "exclusive access is implemented for SQLite only; import into PostgreSQL \
             without --exclusive"
                .to_owned(),
        ));
    }
    let pool = pool_options(opts)
        .connect(url)
        .await
        .or_backend("connect to PostgreSQL")?;
    MIGRATOR.run(&pool).await.map_err(|e| {
        tracing::error!(error = %e, "PostgreSQL migrations failed");
        StoreError::Backend(format!("PostgreSQL migrations: {e}"))
    })?;
    Ok(Backend::Postgres(
        pool,
        Waiting::default(),
        Announcer::default(),
    ))
}

/// The pool settings `opts` ask for: `pool_size` connections at most (each Clientele process
/// opens its own pool, so PostgreSQL's `max_connections` must cover all processes).
fn pool_options(opts: &StoreOptions) -> PgPoolOptions {
    ping_when_idle(PgPoolOptions::new())
        .max_connections(opts.pool_size.unwrap_or(DEFAULT_POOL_SIZE))
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

/// A connection in a read-only transaction under `statement_timeout`, which the server
/// enforces per statement and reports as `query_canceled` (so `QueryTimedOut`), and whether
/// setting it worked. One snapshot for a page and its count (READ COMMITTED would give each
/// statement its own), so `total` never counts a write that committed between the two. The
/// caller must end it with `ROLLBACK` on the same task (see `SqlStore::run_read`).
pub(crate) async fn begin_read(
    pool: &PgPool,
    waiting: &Waiting,
    timeout: Duration,
) -> Result<(Conn, Result<(), StoreError>), StoreError> {
    let conn = waiting.on(pool.acquire()).await;
    let mut conn = Conn::Postgres(conn.or_backend("acquire connection")?);
    let begin = Sql::new("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    if let Err(e) = conn.execute(begin).await {
        // BEGIN may have started a transaction without answering: never pool that.
        conn.close_on_drop();
        return Err(backend("begin query", &e));
    }
    // SET takes no bind parameters; the value is an integer we format ourselves.
    let ms = timeout.as_millis().max(1);
    let set = conn.execute(Sql::new(format!("SET LOCAL statement_timeout = {ms}")));
    let set = set
        .await
        .map(|_| ())
        .map_err(|e| backend("set statement_timeout", &e));
    Ok((conn, set))
}

/// Listens on the channel the dialect's `outbox_notify` signals and wakes this process's
/// delivery worker on each signal, until the connection fails (sqlx reconnects once on its
/// own; a signal sent while no one listens is caught by the worker's poll).
pub(crate) async fn relay_outbox_signals(pool: &PgPool) -> Result<(), StoreError> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool)
        .await
        .or_backend("connect outbox listener")?;
    listener
        .listen("clientele_outbox")
        .await
        .or_backend("listen for queued notifications")?;
    loop {
        listener
            .recv()
            .await
            .or_backend("receive queued-notifications signal")?;
        OUTBOX.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::PageSql;
    use crate::store::SqlStore;
    use crate::Store;

    #[test]
    fn the_pool_is_sized_by_the_options_with_a_default() {
        let sized = StoreOptions {
            pool_size: Some(3),
            ..StoreOptions::default()
        };
        assert_eq!(pool_options(&sized).get_max_connections(), 3);
        assert_eq!(
            pool_options(&StoreOptions::default()).get_max_connections(),
            DEFAULT_POOL_SIZE
        );
    }

    /// Uses the server named by the conformance env var, without migrating it: the statement
    /// below touches no table.
    #[tokio::test]
    async fn a_runaway_query_is_cancelled_by_statement_timeout() {
        let Ok(url) = std::env::var("CLIENTELE_TEST_POSTGRES_URL") else {
            eprintln!("skipping PostgreSQL timeout test: CLIENTELE_TEST_POSTGRES_URL not set");
            return;
        };
        let opts = StoreOptions {
            query_timeout: Duration::from_millis(100),
            ..StoreOptions::default()
        };
        let store = SqlStore::new(
            Backend::Postgres(
                PgPool::connect(&url).await.unwrap(),
                Waiting::default(),
                Announcer::default(),
            ),
            &opts,
        );
        let slow = PageSql {
            select: "SELECT pg_sleep(5)::text, NULL::text".to_owned(),
            select_params: Vec::new(),
            count: None,
            limit: 1,
            offset: 0,
        };
        let result = store.run_page(slow).await;
        assert!(
            matches!(result, Err(StoreError::QueryTimedOut)),
            "{result:?}"
        );
        store.health().await.unwrap();
        store.close().await;
    }
}
