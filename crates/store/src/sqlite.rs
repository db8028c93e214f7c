//! The SQLite seam: the embedded default.
//!
//! Owns what only SQLite needs: the connection settings (WAL, `synchronous=FULL` so an
//! acknowledged write survives a crash, foreign keys, busy timeout), the single writer
//! connection, the migrations (`migrations/sqlite`) and the query deadline (a progress
//! handler); its dialect snippets and the names it gives unique violations are in `dialect`,
//! beside PostgreSQL's. Every write runs in a
//! `BEGIN IMMEDIATE` transaction (shared by the writes of one group, each under its own
//! savepoint: `db::WriteQueue`), which takes the database write lock up front: writers are
//! serialized, so no check-then-write can race and no lock clause is needed. The operations
//! themselves are written once, in `store`, `customers` and `resources`; nothing here may
//! decide behaviour. An exclusive store (`StoreOptions::exclusive`, `clientele import
//! --exclusive`) is one connection in `locking_mode=EXCLUSIVE` for reads and writes alike;
//! every opening first re-creates the indexes an interrupted exclusive load left suspended
//! (`suspended`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::ConnectOptions;

use rusqlite::OpenFlags;

use crate::db::{
    ping_when_idle, Backend, Conn, Connect, Pools, Sql, WriteQueue, Writer, WriterThread,
};
use crate::error::{backend, SqlxResultExt};
use crate::pool_stats::Waiting;
use crate::readers::Readers;
use crate::suspended;
use crate::{StoreError, StoreOptions};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a writer waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pool size when the options do not say.
const DEFAULT_POOL_SIZE: u32 = 8;
/// The single writer's page cache (`PRAGMA cache_size`, negative: KiB): 64 MiB instead of
/// SQLite's 2 MiB keeps the upper levels of every index a write touches in memory, where the
/// default cache re-read them from the OS for each statement (perf: search-index activation and
/// imports spent most of their time copying pages in and out of the kernel). For a bulk writer
/// (`StoreOptions::bulk_writes`) `temp_store=MEMORY` keeps the statement journals of the group
/// commit's savepoints in memory too (they are discarded at commit; the database file and its
/// WAL are what make it durable): in a temporary file, a batch of imported customers wrote a
/// copy of every page it changed there, a third of the import's writes (100k customers: 3.37 GB
/// written in all before, 2.31 GB after; the journal in memory costs about 14 MB per 1,000
/// customers). The server leaves it off: activating Customer Search over 100k customers took
/// 53 s with it but 666 MiB of RSS, 67 s and 141 MiB without (docs/performance.md).
const WRITER_CACHE: &str = "-65536";
/// WAL pages after which the server's writer copies the WAL into the database file
/// (`PRAGMA wal_autocheckpoint`) instead of SQLite's default 1,000 pages (4 MiB). The
/// checkpoint runs on the writer thread right after a `COMMIT`, and every write queued behind
/// it waits for it: at about 80 KiB of WAL per API create (100k customers) the default
/// checkpointed every ~50 creates, each time writing the pages and syncing the database file.
/// With 10,000 pages (a WAL of about 40 MiB, reused, not truncated) a checkpoint comes ten times
/// less often and copies a page that many commits changed (the tail of an index, a table's last
/// page) once: creates took 10–20 % less server CPU and went 1.3–1.6× faster on the same loaded
/// machine (docs/performance.md, "creates"). Durability is unchanged: a commit is durable
/// once its WAL frames are synced; recovery after a crash reads at most this much WAL.
const SERVER_CHECKPOINT_PAGES: u32 = 10_000;
/// WAL pages after which a bulk writer's commit copies the WAL into the database file.
/// A batch of an import commits tens of MiB, so with the default every commit was followed by
/// a checkpoint that wrote each of its pages a second time; a page that several batches change
/// is now copied once per 200 MiB of WAL (300k customers: 5.45 GB written in all before,
/// 4.09 GB after, docs/performance.md). Durability is unchanged: a commit is durable in the
/// WAL. The import closes the store when it finishes: the last connection's close copies what
/// is left in the WAL.
const BULK_CHECKPOINT_PAGES: u32 = 50_000;
/// Prepared statements the writer thread's connection keeps: the statements of every kind of
/// write, and the group commit's own.
const WRITER_STATEMENTS: usize = 128;
/// How long a statement of an exclusive store waits for its one connection.
const EXCLUSIVE_WAIT: Duration = Duration::from_secs(600);
/// VM instructions between two checks of the query deadline.
const PROGRESS_STEPS: i32 = 1000;

/// Opens (creating if missing) the database at `url` and migrates it.
pub(crate) async fn open(url: &str, opts: &StoreOptions) -> Result<Backend, StoreError> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let connect = SqliteConnectOptions::from_str(url)
        .or_backend("parse SQLite URL")?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let connect = if opts.exclusive {
        // Set before the first access in WAL mode, so the connection keeps the WAL index in
        // its own memory and holds an EXCLUSIVE lock on the file from its first read until it
        // closes: no other connection, of this process or another, can read or write meanwhile.
        // Its statements are a bulk load's (a batch, an index build): slow by design, and the
        // import reports its own timings, so sqlx's slow-statement warnings would only be noise.
        connect
            .disable_statement_logging()
            .locking_mode(SqliteLockingMode::Exclusive)
            .pragma("cache_size", WRITER_CACHE)
            .pragma(
                "temp_store",
                if opts.bulk_writes {
                    "MEMORY"
                } else {
                    "DEFAULT"
                },
            )
            .pragma(
                "wal_autocheckpoint",
                if opts.bulk_writes {
                    BULK_CHECKPOINT_PAGES
                } else {
                    1000
                }
                .to_string(),
            )
    } else {
        connect
    };
    let read = if in_memory || opts.exclusive {
        // An in-memory database lives as long as one connection does, and its shared-cache
        // locks ignore busy_timeout, so it gets exactly one connection that never closes; an
        // exclusive one too, as a second connection could not read and a closing one would
        // let another process take the file.
        let one = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        if opts.exclusive {
            // Reads share the connection with the bulk writes: one waits for a whole batch's
            // transaction, which on a loaded machine can outlast sqlx's 30 s default, and
            // waiting seconds for it is the normal case, not worth sqlx's warning.
            one.acquire_timeout(EXCLUSIVE_WAIT)
                .acquire_slow_threshold(EXCLUSIVE_WAIT)
        } else {
            one
        }
    } else {
        ping_when_idle(SqlitePoolOptions::new())
            .max_connections(opts.pool_size.unwrap_or(DEFAULT_POOL_SIZE))
    };
    let read = read
        .connect_with(connect.clone())
        .await
        .or_backend("open SQLite database")?;
    // Before the migrations: they were written for a database with every index.
    suspended::restore_on_open(&read).await?;
    MIGRATOR.run(&read).await.map_err(|e| {
        tracing::error!(error = %e, "SQLite migrations failed");
        StoreError::Backend(format!("SQLite migrations: {e}"))
    })?;
    let waiting = Waiting::default();
    let queue = WriteQueue::default();
    let path = if in_memory || opts.exclusive {
        None
    } else {
        reader_path(&read).await?
    };
    let (write, readers) = match path {
        Some(path) => {
            let max = opts.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
            let readers = Arc::new(Readers::new(path.clone(), max, waiting.clone()));
            let bulk = opts.bulk_writes;
            let connect: Connect = Arc::new(move || open_writer(&path, bulk));
            let first = connect()?;
            let thread = WriterThread::start(queue.clone(), first, connect)?;
            (Writer::Thread(thread), Some(readers))
        }
        // Only its one connection sees an in-memory database; a temporary file has no path
        // for another connection to open.
        None if in_memory || opts.exclusive => (Writer::Pool(read.clone()), None),
        None => {
            let pool = ping_when_idle(SqlitePoolOptions::new())
                .max_connections(1)
                .connect_with(connect.pragma("cache_size", WRITER_CACHE))
                .await
                .or_backend("open SQLite write connection")?;
            (Writer::Pool(pool), None)
        }
    };
    Ok(Backend::Sqlite(Pools {
        read,
        write,
        waiting,
        queue,
        readers,
    }))
}

/// The writer thread's connection to the database file at `path`, with the settings the sqlx
/// connections get (WAL, `synchronous=FULL`, foreign keys, busy timeout) and the writer's
/// page cache.
fn open_writer(path: &Path, bulk: bool) -> Result<rusqlite::Connection, StoreError> {
    let failed = |e: rusqlite::Error| {
        tracing::error!(error = %e, "opening the SQLite writer failed");
        StoreError::Unavailable
    };
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = {WRITER_CACHE}; PRAGMA temp_store = {}; \
         PRAGMA wal_autocheckpoint = {};",
        if bulk { "MEMORY" } else { "DEFAULT" },
        if bulk {
            BULK_CHECKPOINT_PAGES
        } else {
            SERVER_CHECKPOINT_PAGES
        }
    ))
    .map_err(failed)?;
    conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
    Ok(conn)
}

/// The file of the open database, for the [`Readers`] to open; none for a temporary one.
async fn reader_path(pool: &SqlitePool) -> Result<Option<PathBuf>, StoreError> {
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(pool)
            .await
            .or_backend("find SQLite database file")?;
    Ok((!file.is_empty()).then(|| PathBuf::from(file)))
}

/// A read connection under the query deadline `timeout` (past it, the running statement is
/// interrupted and its reads see `QueryTimedOut`), and whether its read transaction began:
/// the reads share one snapshot (a WAL read transaction), so a page's `total` never counts a
/// write that committed between the two statements. The caller must end it with
/// [`deadline_removed`] and `ROLLBACK` on the same task (see `SqlStore::run_read`).
pub(crate) async fn begin_read(
    pools: &Pools,
    timeout: Duration,
) -> Result<(Conn, Result<(), StoreError>), StoreError> {
    let mut conn = tokio::time::timeout(timeout, pools.waiting.on(pools.read.acquire()))
        .await
        .map_err(|_| StoreError::QueryTimedOut)?
        .or_backend("acquire connection")?;
    let deadline = Instant::now() + timeout;
    conn.lock_handle()
        .await
        .or_backend("install query deadline")?
        // Returning false interrupts the statement with SQLITE_INTERRUPT, which error.rs
        // maps to QueryTimedOut; unlike dropping a future, this really stops SQLite from
        // working on.
        .set_progress_handler(PROGRESS_STEPS, move || Instant::now() < deadline);
    let mut conn = Conn::Sqlite(conn);
    let begun = conn.execute(Sql::new("BEGIN")).await;
    let begun = begun.map(|_| ()).map_err(|e| backend("begin query", &e));
    Ok((conn, begun))
}

/// Takes [`begin_read`]'s deadline off `conn` again (true for a connection that carries
/// none); whether that worked, else the connection must not be reused.
pub(crate) async fn deadline_removed(conn: &mut Conn) -> bool {
    match conn {
        Conn::Sqlite(c) => match c.lock_handle().await {
            Ok(mut handle) => {
                handle.remove_progress_handler();
                true
            }
            Err(_) => false,
        },
        Conn::Postgres(_) | Conn::Local(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::BoxFuture;
    use crate::rows::PageSql;
    use crate::store::SqlStore;
    use crate::{ResourceLookup, ResourceRecord, Store};
    use clientele_domain::Version;
    use sqlx::Row;
    use time::OffsetDateTime;

    async fn temp_store(query_timeout: Duration) -> (SqlStore, Pools, std::path::PathBuf) {
        temp_store_with(StoreOptions {
            pool_size: Some(1),
            query_timeout,
            bulk_writes: false,
            exclusive: false,
        })
        .await
    }

    async fn temp_store_with(opts: StoreOptions) -> (SqlStore, Pools, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "clientele-store-unit-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let backend = open(&format!("sqlite:{}", path.display()), &opts)
            .await
            .unwrap();
        let Backend::Sqlite(pools) = backend.clone() else {
            unreachable!()
        };
        (SqlStore::new(backend, &opts), pools, path)
    }

    fn remove(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.to_path_buf().into_os_string();
            p.push(suffix);
            std::fs::remove_file(p).ok();
        }
    }

    #[tokio::test]
    async fn a_read_waiting_for_the_only_connection_is_counted_until_it_gets_one() {
        let (store, pools, path) = temp_store(Duration::from_secs(5)).await;
        assert_eq!(store.pool_stats().waiting, 0);
        // Both ways a read may take: a sqlx connection and the rusqlite readers' permits.
        let held = pools.read.acquire().await.unwrap();
        let held_readers = pools.readers.as_ref().unwrap().hold_all().await;
        let reader = {
            let store = std::sync::Arc::new(store);
            let s = store.clone();
            let task = tokio::spawn(async move {
                s.get_customer("proj", &crate::CustomerLookup::Key("nobody".to_owned()))
                    .await
            });
            let started = Instant::now();
            while store.pool_stats().waiting != 1 {
                assert!(started.elapsed() < Duration::from_secs(5), "never counted");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Still waiting: it cannot get the connection this test holds.
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(store.pool_stats().waiting, 1);
            assert!(!task.is_finished());
            drop(held);
            drop(held_readers);
            assert!(task.await.unwrap().unwrap().is_none());
            store
        };
        assert_eq!(reader.pool_stats().waiting, 0);
        reader.close().await;
        remove(&path);
    }

    #[tokio::test]
    async fn a_runaway_query_is_interrupted_and_the_connection_stays_usable() {
        let (store, pools, path) = temp_store(Duration::from_millis(100)).await;
        let endless = PageSql {
            select: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) \
                     SELECT CAST(MAX(n) AS TEXT), NULL FROM r"
                .to_owned(),
            select_params: Vec::new(),
            count: None,
            limit: 1,
            offset: 0,
        };
        let started = Instant::now();
        let result = store.run_page(endless).await;
        assert!(
            matches!(result, Err(StoreError::QueryTimedOut)),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // The single pooled connection must have lost its deadline handler: a query of many
        // VM steps, run past the old deadline outside run_page, completes.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let n: i64 = sqlx::query(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000) \
             SELECT COUNT(*) FROM r",
        )
        .fetch_one(&pools.read)
        .await
        .and_then(|r| r.try_get(0))
        .unwrap();
        assert_eq!(n, 100_000);
        store.close().await;
        remove(&path);
    }

    fn pragma_sql(name: &str) -> String {
        format!("SELECT CAST((SELECT * FROM pragma_{name}) AS TEXT)")
    }

    /// A pragma of the writer connection as an integer, asked from inside a write (`PRAGMA
    /// name` itself: not every pragma has a table function).
    async fn writer_pragma(pools: &Pools, name: &'static str) -> i64 {
        Backend::Sqlite(pools.clone())
            .write("read pragma", move |c| {
                Box::pin(async move {
                    let sql = Sql::new(format!("PRAGMA {name}"));
                    let (v,): (i64,) = c.first(sql, "pragma").await?.ok_or(StoreError::NotFound)?;
                    Ok(v)
                })
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_bulk_writer_keeps_its_statement_journals_in_memory() {
        let (store, pools, path) = temp_store_with(StoreOptions {
            bulk_writes: true,
            ..StoreOptions::default()
        })
        .await;
        // 2 = MEMORY.
        assert_eq!(writer_pragma(&pools, "temp_store").await, 2);
        store.close().await;
        remove(&path);
    }

    #[tokio::test]
    async fn writers_checkpoint_later_than_sqlites_default_a_bulk_one_latest() {
        let (store, pools, path) = temp_store_with(StoreOptions {
            bulk_writes: true,
            ..StoreOptions::default()
        })
        .await;
        let bulk = writer_pragma(&pools, "wal_autocheckpoint").await;
        assert_eq!(bulk, i64::from(BULK_CHECKPOINT_PAGES));
        store.close().await;
        remove(&path);
        let (store, pools, path) = temp_store(Duration::from_secs(10)).await;
        let server = writer_pragma(&pools, "wal_autocheckpoint").await;
        assert_eq!(server, i64::from(SERVER_CHECKPOINT_PAGES));
        assert!(server > 1000, "later than SQLite's default");
        assert!(bulk > server);
        store.close().await;
        remove(&path);
    }

    const DURABLE: [(&str, &str); 4] = [
        ("journal_mode", "wal"),
        // 2 = FULL: the WAL is synced on every commit, so an acknowledged write survives a
        // crash.
        ("synchronous", "2"),
        ("foreign_keys", "1"),
        ("busy_timeout", "5000"),
    ];

    #[tokio::test]
    async fn connections_are_durable_wal_with_foreign_keys() {
        let (store, pools, path) = temp_store(Duration::from_secs(10)).await;
        assert!(matches!(pools.write, Writer::Thread(_)));
        for (name, expected) in DURABLE {
            let read: String = sqlx::query(&pragma_sql(name))
                .fetch_one(&pools.read)
                .await
                .and_then(|r| r.try_get::<String, _>(0))
                .unwrap();
            assert_eq!(read, expected, "reader's {name}");
        }
        // The writer thread's connection, asked from inside a write.
        let backend = Backend::Sqlite(pools.clone());
        let writer = backend
            .write("read pragmas", |c| {
                Box::pin(async move {
                    let mut values = Vec::new();
                    for (name, _) in DURABLE {
                        let (v,): (String,) = c
                            .first(Sql::new(pragma_sql(name)), "pragma")
                            .await?
                            .ok_or(StoreError::NotFound)?;
                        values.push(v);
                    }
                    Ok(values)
                })
            })
            .await
            .unwrap();
        let expected: Vec<&str> = DURABLE.iter().map(|(_, v)| *v).collect();
        assert_eq!(writer, expected);
        // 0 = DEFAULT: a server's statement journals (the group commit's savepoints) go to
        // temporary files, not to memory (only a bulk writer keeps them in memory).
        assert_eq!(writer_pragma(&pools, "temp_store").await, 0);
        store.close().await;
        remove(&path);
    }

    #[tokio::test]
    async fn readers_map_the_database_file() {
        let (store, pools, path) = temp_store(Duration::from_secs(10)).await;
        let readers = pools.readers.as_ref().unwrap();
        let (mapped,): (i64,) = readers
            .row(&Sql::new("PRAGMA mmap_size"), "read mmap_size")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mapped, 1 << 30);
        store.close().await;
        remove(&path);
    }

    /// Holds the single writer with a write that waits for the returned sender (or its drop):
    /// writes queued meanwhile wait for it.
    async fn hold_writer(backend: &Backend) -> tokio::sync::oneshot::Sender<()> {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let b = backend.clone();
        tokio::spawn(async move {
            b.write("hold the writer", move |_| {
                Box::pin(async move {
                    let _ = started.send(());
                    let _ = released.await;
                    Ok(())
                })
            })
            .await
        });
        running.await.unwrap();
        release
    }

    /// A full disk, simulated by capping the writer connection's database size: the write
    /// fails as `Unavailable` (503) and writes nothing, and the next write works.
    #[tokio::test]
    async fn a_full_disk_is_unavailable_and_the_next_write_works() {
        let (store, pools, path) = temp_store(Duration::from_secs(10)).await;
        let backend = Backend::Sqlite(pools.clone());
        for round in 0..3 {
            backend
                .write("cap the writer", |c| {
                    Box::pin(async move {
                        // The cap cannot go below the current size, so this forbids any growth.
                        c.run(Sql::new("PRAGMA max_page_count = 1"), "cap").await
                    })
                })
                .await
                .unwrap();
            let record = ResourceRecord {
                id: format!("big{round}"),
                key: Some(format!("big{round}")),
                version: Version::FIRST,
                created_at: OffsetDateTime::UNIX_EPOCH,
                last_modified_at: OffsetDateTime::UNIX_EPOCH,
                doc: serde_json::json!({"payload": "x".repeat(200_000)}),
            };
            let full = store.insert_resource("p", "store", &record).await;
            assert!(matches!(full, Err(StoreError::Unavailable)), "{full:?}");
            let lookup = ResourceLookup::Id(format!("big{round}"));
            let found = store.get_resource("p", "store", &lookup).await.unwrap();
            assert_eq!(found, None);
            // The cap lived on the connection the failed write discarded.
            store.insert_resource("p", "store", &record).await.unwrap();
        }
        store.close().await;
        remove(&path);
    }

    /// Four writes queued behind a busy writer run as one group: the refused one and the one
    /// failing inside the database leave nothing, the two others commit, and each caller gets
    /// its own outcome.
    #[tokio::test]
    async fn one_group_commits_its_good_writes_and_undoes_each_failed_one_alone() {
        let (store, pools, path) = temp_store(Duration::from_secs(10)).await;
        let backend = Backend::Sqlite(pools.clone());
        backend
            .write("create", |c| {
                Box::pin(async move {
                    c.execute(Sql::new("CREATE TABLE g (x INTEGER PRIMARY KEY)"))
                        .await
                        .or_backend("create")
                })
            })
            .await
            .unwrap();
        let held = hold_writer(&backend).await;
        let mut tasks = Vec::new();
        for x in 1..=4_i64 {
            let b = backend.clone();
            tasks.push(tokio::spawn(async move {
                b.write("insert", move |c| {
                    Box::pin(async move {
                        c.execute(Sql::new("INSERT INTO g (x) VALUES ($1)").bind(x))
                            .await
                            .or_backend("insert")?;
                        match x {
                            2 => Err(StoreError::ConcurrentModification { current: 1 }),
                            // Fails inside the database: no such table.
                            3 => c
                                .execute(Sql::new("INSERT INTO missing (x) VALUES (1)"))
                                .await
                                .or_backend("insert into missing")
                                .map(|_| x),
                            _ => Ok(x),
                        }
                    })
                })
                .await
            }));
        }
        let started = Instant::now();
        while pools.queue.waiting() < 4 {
            assert!(started.elapsed() < Duration::from_secs(5), "never queued");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        assert!(matches!(outcomes[0], Ok(1)), "{:?}", outcomes[0]);
        assert!(
            matches!(outcomes[1], Err(StoreError::ConcurrentModification { .. })),
            "{:?}",
            outcomes[1]
        );
        assert!(
            matches!(outcomes[2], Err(StoreError::Backend(_))),
            "{:?}",
            outcomes[2]
        );
        assert!(matches!(outcomes[3], Ok(4)), "{:?}", outcomes[3]);
        let rows: Vec<i64> = sqlx::query("SELECT x FROM g ORDER BY x")
            .fetch_all(&pools.read)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(rows, vec![1, 4]);
        assert_eq!(pools.queue.waiting(), 0);
        store.close().await;
        remove(&path);
    }

    /// A body that panics on the writer thread ends only its own drain: its caller and the
    /// writes queued behind it get an error, never a hang, and the next write works on a
    /// reopened connection. After `close`, a write is refused at once.
    #[tokio::test]
    async fn a_panicking_write_stops_nothing_else_and_close_ends_the_writer() {
        let (store, pools, path) = temp_store(Duration::from_secs(10)).await;
        let backend = Backend::Sqlite(pools.clone());
        let held = hold_writer(&backend).await;
        let b = backend.clone();
        let panicking = tokio::spawn(async move {
            b.write("panic", |_| -> BoxFuture<'_, Result<(), StoreError>> {
                Box::pin(async move { panic!("a body panicked") })
            })
            .await
        });
        let started = Instant::now();
        while pools.queue.waiting() < 1 {
            assert!(started.elapsed() < Duration::from_secs(5), "never queued");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        let outcome = tokio::time::timeout(Duration::from_secs(5), panicking)
            .await
            .expect("the panicking write was never answered")
            .unwrap();
        assert!(
            matches!(outcome, Err(StoreError::Backend(_))),
            "{outcome:?}"
        );
        let n = backend
            .write("after the panic", |c| {
                Box::pin(async move { c.int(Sql::new("SELECT 41 + 1"), "add").await })
            })
            .await
            .unwrap();
        assert_eq!(n, 42);
        store.close().await;
        let closed = backend
            .write("after close", |c| {
                Box::pin(async move { c.int(Sql::new("SELECT 1"), "one").await })
            })
            .await;
        assert!(matches!(closed, Err(StoreError::Unavailable)), "{closed:?}");
        remove(&path);
    }

    #[tokio::test]
    async fn in_memory_databases_work() {
        let opts = StoreOptions::default();
        let store = SqlStore::new(open("sqlite::memory:", &opts).await.unwrap(), &opts);
        store.health().await.unwrap();
        assert_eq!(store.count_projects().await.unwrap(), 0);
    }
}
