//! SQLite reads without a hand-off: a small pool of rusqlite connections to the database file,
//! used on the calling task's own thread.
//!
//! sqlx runs every SQLite connection on a worker thread of its own and passes each statement
//! and each row over channels, so a read that takes SQLite a few microseconds costs two thread
//! wake-ups per statement (issue 12's profile: about a third of a GET's CPU). Here a read takes
//! an idle connection, runs its statements where it is, and puts the connection back.
//!
//! What may run here: the point lookups of the read path ([`Readers::row`]: one row, read
//! straight into a tuple through [`FromLocalRow`]; by a unique index, so bounded) and the page
//! queries ([`Readers::page`]), which run on the calling thread for at most [`INLINE_BUDGET`]
//! and, when they need longer, start again on a blocking thread under the query deadline, so a
//! long query never holds a runtime thread. Writes never run here:
//! they stay on the single writer (`db::WriteQueue`). A read sees every write committed
//! before it started (each statement, or each page's `BEGIN`, opens a fresh WAL snapshot), so
//! nothing here can serve a stale customer.
//!
//! Owns only the connections and the statement runner; the SQL comes from `store` (written
//! once for both databases, `$n` placeholders bound by number as sqlx does).

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{joined, local};
use crate::local::{prepared, FromLocalRow};
use crate::pool_stats::Waiting;
use crate::rows::{PageRows, PageSql};
use crate::statement::Sql;
use crate::StoreError;

/// How long a page query may run on the calling (runtime) thread before it is interrupted and
/// started again on a blocking thread: an indexed page takes well under this, a scan more.
const INLINE_BUDGET: Duration = Duration::from_millis(2);
/// VM instructions between two looks at the clock.
const PROGRESS_STEPS: i32 = 1000;
/// How long a reader waits for a lock (only a WAL checkpoint's or recovery's) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection (a handful of shapes are hot).
const STATEMENT_CACHE: usize = 64;
/// How much of the database file a reader maps into memory (`PRAGMA mmap_size`; SQLite caps it
/// at its compiled maximum, 2 GiB by default). A mapped page is read in place instead of being
/// copied from the kernel into the connection's own 2 MiB page cache, which a GET by id missed
/// for most pages it touched (`perf`: `pcache1Fetch` and the copy were ~10 % of the server's
/// samples); measured: ~15 % less CPU per GET by id (docs/performance.md, session 7). Mapped
/// pages are the kernel's page cache (file-backed, reclaimable), shared by every reader; they
/// show as `RssFile`, not `RssAnon`. The writer keeps its copying cache: it changes pages.
const READER_MMAP: i64 = 1 << 30;

/// The reader connections of one SQLite database file.
pub(crate) struct Readers {
    /// The database file.
    path: PathBuf,
    /// Connections not in use.
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection that may be in use at once (the pool size).
    permits: Arc<Semaphore>,
    /// Tasks waiting for a permit, shared with the sqlx pools' count.
    waiting: Waiting,
    /// The pool size.
    max: u32,
}

/// A connection lent out of [`Readers`] (borrowed, or shared when it may leave the calling
/// thread for a blocking one) under its permit `P`, put back when dropped.
struct Lent<R: Deref<Target = Readers>, P> {
    readers: R,
    conn: Option<Connection>,
    _permit: P,
}

impl<R: Deref<Target = Readers>, P> Lent<R, P> {
    /// The connection (always there until the drop).
    fn conn(&self) -> Result<&Connection, StoreError> {
        self.conn.as_ref().ok_or(StoreError::Unavailable)
    }
}

impl<R: Deref<Target = Readers>, P> Drop for Lent<R, P> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.lock().push(conn);
        }
    }
}

/// Why a page query stopped before its end.
enum Stopped {
    /// It ran past the inline budget but not past the deadline: run it again elsewhere.
    Budget,
    /// It failed (or ran past the deadline).
    Failed(StoreError),
}

impl Readers {
    /// Readers of the database file at `path`, at most `max` in use at once, waiters counted
    /// in `waiting`. Connections are opened when first needed.
    pub(crate) fn new(path: PathBuf, max: u32, waiting: Waiting) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(usize::try_from(max).unwrap_or(1))),
            waiting,
            max,
        }
    }

    /// The pool size.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// Connections open and not in use, and connections in use.
    pub(crate) fn occupancy(&self) -> (u32, u32) {
        let idle = u32::try_from(self.lock().len()).unwrap_or(u32::MAX);
        let in_use = self
            .max
            .saturating_sub(u32::try_from(self.permits.available_permits()).unwrap_or(0));
        (idle, in_use)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle connection, or a new one.
    fn connection(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.lock().pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| local("open SQLite reader", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| conn.pragma_update(None, "query_only", true))
            .and_then(|()| {
                conn.pragma_update_and_check(None, "mmap_size", READER_MMAP, |r| r.get::<_, i64>(0))
            })
            .map(|_mapped| ())
            .map_err(|e| local("set up SQLite reader", e))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Takes a connection for use on this thread, waiting (counted) for a permit.
    async fn take(&self) -> Result<Lent<&Self, SemaphorePermit<'_>>, StoreError> {
        let permit = self
            .waiting
            .on(self.permits.acquire())
            .await
            .map_err(|_| StoreError::Unavailable)?;
        Ok(Lent {
            readers: self,
            conn: Some(self.connection()?),
            _permit: permit,
        })
    }

    /// The first row of `sql` as `T`. For statements bounded by a unique index (or otherwise
    /// tiny): it runs on the calling thread.
    pub(crate) async fn row<T: FromLocalRow>(
        &self,
        sql: &Sql,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        first_row(self.take().await?.conn()?, sql).map_err(|e| local(what, e))
    }

    /// Runs a page query (and its count) under the deadline `timeout` from now: on this thread
    /// while it takes at most [`INLINE_BUDGET`], else again on a blocking thread.
    pub(crate) async fn page(
        self: &Arc<Self>,
        sql: PageSql,
        timeout: Duration,
    ) -> Result<PageRows, StoreError> {
        let started = Instant::now();
        let deadline = started + timeout;
        {
            let taken = tokio::time::timeout(timeout, self.take())
                .await
                .map_err(|_| StoreError::QueryTimedOut)??;
            let budget = (Instant::now() + INLINE_BUDGET).min(deadline);
            match page_until(taken.conn()?, &sql, budget, deadline) {
                Ok(rows) => return Ok(rows),
                Err(Stopped::Failed(e)) => return Err(e),
                Err(Stopped::Budget) => {}
            }
        }
        let permit = tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            self.waiting.on(self.permits.clone().acquire_owned()),
        )
        .await
        .map_err(|_| StoreError::QueryTimedOut)?
        .map_err(|_| StoreError::Unavailable)?;
        let owned = Lent {
            readers: self.clone(),
            conn: Some(self.connection()?),
            _permit: permit,
        };
        let task = tokio::task::spawn_blocking(move || {
            page_until(owned.conn()?, &sql, deadline, deadline).map_err(|stopped| match stopped {
                Stopped::Failed(e) => e,
                Stopped::Budget => StoreError::QueryTimedOut,
            })
        });
        joined(task.await, "query task")
    }

    /// Holds every connection permit until the returned guard drops (tests: a read must wait).
    #[cfg(test)]
    pub(crate) async fn hold_all(&self) -> tokio::sync::SemaphorePermit<'_> {
        #[allow(clippy::unwrap_used)]
        self.permits.acquire_many(self.max).await.unwrap()
    }
}

/// Runs `sql`'s page (and count) in one read transaction on `conn`, interrupted at `stop`;
/// past `stop` but before `deadline` it is `Budget`, past `deadline` `QueryTimedOut`.
fn page_until(
    conn: &Connection,
    sql: &PageSql,
    stop: Instant,
    deadline: Instant,
) -> Result<PageRows, Stopped> {
    conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() >= stop));
    let result = (|| {
        conn.prepare_cached("BEGIN")?.execute([])?;
        let rows = page_rows(conn, sql);
        conn.prepare_cached("ROLLBACK")?.execute([])?;
        rows
    })();
    conn.progress_handler(0, None::<fn() -> bool>);
    match result {
        Ok(rows) => Ok(rows),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) => {
            // An interrupted statement may leave the read transaction open.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            if Instant::now() < deadline {
                Err(Stopped::Budget)
            } else {
                tracing::warn!(operation = "page query", "query cancelled by the timeout");
                Err(Stopped::Failed(StoreError::QueryTimedOut))
            }
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(Stopped::Failed(local("page query", e)))
        }
    }
}

/// The page's rows and its total (from the page when it ends the matches, else counted).
fn page_rows(conn: &Connection, sql: &PageSql) -> rusqlite::Result<PageRows> {
    let select = Sql::new(sql.select.as_str()).bind_all(&sql.select_params);
    let mut stmt = prepared(conn, &select)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push((row.get(0)?, row.get(1)?));
    }
    drop(rows);
    drop(stmt);
    let from_page = sql.total_from_page(out.len());
    let total = match &sql.count {
        Some(_) if from_page.is_some() => from_page,
        Some((count_sql, params)) => {
            let count = Sql::new(count_sql.as_str()).bind_all(params);
            let mut stmt = prepared(conn, &count)?;
            let mut rows = stmt.raw_query();
            match rows.next()? {
                Some(row) => Some(row.get(0)?),
                None => return Err(rusqlite::Error::QueryReturnedNoRows),
            }
        }
        None => None,
    };
    Ok((out, total))
}

/// The first row of `sql` as `T`.
fn first_row<T: FromLocalRow>(conn: &Connection, sql: &Sql) -> rusqlite::Result<Option<T>> {
    let mut stmt = prepared(conn, sql)?;
    let mut rows = stmt.raw_query();
    rows.next()?.map(T::from_local_row).transpose()
}
