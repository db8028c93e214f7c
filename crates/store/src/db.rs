//! The thin layer every store operation runs SQL through, whatever the database: a statement
//! ([`Sql`]: one text with `$n` placeholders, which both SQLite and PostgreSQL accept, and its
//! [`Arg`]s), a pooled connection of either backend ([`Conn`]), the rows it returns ([`Row`]),
//! which [`Dialect`] (from `dialect`) a connection speaks, the pools of the open database
//! ([`Backend`]), the page runner ([`page_on`]) and the write runner ([`Backend::write`]).
//!
//! Writes are cancellation-safe by construction: the transaction runs on a task of its own that
//! the caller only awaits, so a request dropped at any point (a client hanging up) cannot stop
//! it half-way; it commits or rolls back completely. A connection whose transaction state is
//! unknown after a failure (failed `COMMIT` or `ROLLBACK`, an error of the database itself) is
//! closed instead of going back to the pool, so the next writer gets a fresh one.
//!
//! A write transaction that queued Subscription notifications says so ([`queued_notifications`]);
//! once it committed, [`OUTBOX`] wakes this process's delivery worker, and on PostgreSQL the
//! dialect's `NOTIFY`, sent after the commit and outside it, wakes the other processes' workers.
//!
//! On SQLite, writes are group-committed ([`WriteQueue`]): the bodies queued while the single
//! writer is busy run one after another in one transaction, each under a savepoint of its own,
//! and are answered only after the one `COMMIT` (one fsync) made them all durable. For a
//! database file the groups run on a thread of their own ([`WriterThread`]) over a rusqlite
//! connection used in place ([`Conn::Local`]), so a statement costs no thread hand-off; only an
//! in-memory database keeps its writes on its one sqlx connection.
//!
//! Must not know any table: the SQL of the operations lives in `store`, `customers` and
//! `resources`; connection settings, migrations and the query deadline in the backend modules.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::PgRow;
use sqlx::query::Query;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Database, Decode, Encode, Postgres, Row as _, Sqlite, Type};
use tokio::sync::{oneshot, Notify};

use crate::dialect::{self, Dialect};
use crate::error::{backend, joined, SqlxResultExt};
use crate::local::{self, FromLocalRow, LocalError, LocalRow};
use crate::pool_stats::Waiting;
use crate::readers::Readers;
use crate::rows::PageSql;
use crate::StoreError;

/// Woken after every commit of this process that queued Subscription notifications. One per
/// process, not per store: several stores in one process (tests) only wake each other's
/// workers for a read that finds nothing.
pub(crate) static OUTBOX: Notify = Notify::const_new();

tokio::task_local! {
    /// Whether the write transaction running on this task queued notifications.
    static QUEUED: std::cell::Cell<bool>;
}

/// Records that the running write transaction queued notifications, so that its commit wakes
/// this process's delivery worker and, on PostgreSQL, tells the other processes
/// ([`crate::announce::Announcer`]).
pub(crate) fn queued_notifications() {
    let _ = QUEUED.try_with(|q| q.set(true));
}

/// A boxed, sendable future borrowing for `'a`.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub(crate) use crate::rows::PageRows;
pub(crate) use crate::statement::{Arg, Sql};

/// `sql` as a sqlx query of `DB` with its arguments bound.
fn bound<'q, DB>(sql: &'q Sql) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    let mut q = sqlx::query(sql.text());
    for a in sql.args() {
        q = match a {
            Arg::Text(s) => q.bind(s.as_deref()),
            Arg::Int(i) => q.bind(*i),
            Arg::Float(f) => q.bind(*f),
            Arg::Bool(b) => q.bind(*b),
        };
    }
    q
}

/// One value of a row of a multi-row `INSERT` ([`insert_rows`]).
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// A bound value.
    Arg(Arg),
    /// JSON text bound as a document (through the dialect's `doc_in`).
    Doc(String),
}

impl<T: Into<Arg>> From<T> for Cell {
    fn from(v: T) -> Self {
        Cell::Arg(v.into())
    }
}

/// Most arguments in one multi-row statement: well below SQLite's 32,766 and PostgreSQL's
/// 65,535, and large enough that a batch of a thousand customers takes a handful of statements.
const ARGS_PER_STATEMENT: usize = 6000;

/// Runs `{head} VALUES (…), (…) {tail}` for `rows` in as few statements as
/// [`ARGS_PER_STATEMENT`] allows (one round trip each instead of one per row); the rows changed.
pub(crate) async fn insert_rows(
    conn: &mut Conn,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Cell>>,
) -> Result<u64, sqlx::Error> {
    let doc_in = conn.dialect().doc_in;
    let mut changed = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut text = format!("{head} VALUES ");
        let mut args: Vec<Arg> = Vec::new();
        let mut first = true;
        while let Some(row) = rows.next_if(|r| first || args.len() + r.len() <= ARGS_PER_STATEMENT)
        {
            text.push_str(if first { "(" } else { ", (" });
            first = false;
            for (i, cell) in row.into_iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                match cell {
                    Cell::Arg(a) => {
                        args.push(a);
                        // Writing to a String cannot fail.
                        let _ = write!(text, "${}", args.len());
                    }
                    Cell::Doc(d) => {
                        args.push(Arg::Text(Some(d)));
                        text.push_str(&doc_in(args.len()));
                    }
                }
            }
            text.push(')');
        }
        text.push(' ');
        text.push_str(tail);
        changed += conn.execute(Sql::new(text).bind_all(args)).await?;
    }
    Ok(changed)
}

/// A row of either database.
pub(crate) enum Row {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Postgres(PgRow),
    /// From the SQLite writer's own connection, read out of its statement.
    Local(LocalRow),
}

/// What a whole [`Row`] can be read as: a tuple of its columns in order.
pub(crate) trait Columns:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + FromLocalRow
{
}

impl<T> Columns for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + FromLocalRow
{
}

impl Row {
    /// The whole row as `T`, a tuple of its columns in order.
    pub(crate) fn decode<T: Columns>(&self) -> Result<T, sqlx::Error> {
        match self {
            Row::Sqlite(r) => T::from_row(r),
            Row::Postgres(r) => T::from_row(r),
            Row::Local(r) => T::from_local_row(r).map_err(|e| LocalError::from(e).into()),
        }
    }

    /// Column `i` as `T`.
    pub(crate) fn get<T>(&self, i: usize) -> Result<T, sqlx::Error>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>
            + rusqlite::types::FromSql,
    {
        use crate::local::LocalColumns;
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
            Row::Local(r) => r.column(i).map_err(|e| LocalError::from(e).into()),
        }
    }
}

/// A connection of either database: pooled, or the SQLite writer thread's own.
pub(crate) enum Conn {
    /// To SQLite.
    Sqlite(PoolConnection<Sqlite>),
    /// To PostgreSQL.
    Postgres(PoolConnection<Postgres>),
    /// To SQLite, used in place on the writer thread ([`WriterThread`]): each statement runs
    /// synchronously on that thread, without sqlx's hand-off to a worker of its own.
    Local(rusqlite::Connection),
}

impl Conn {
    /// The dialect of this connection's database.
    pub(crate) fn dialect(&self) -> &'static Dialect {
        match self {
            Conn::Sqlite(_) | Conn::Local(_) => &dialect::SQLITE,
            Conn::Postgres(_) => &dialect::POSTGRES,
        }
    }

    /// Runs `sql`; the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let sql = sql.anonymous();
                bound(&sql).execute(&mut **c).await?.rows_affected()
            }
            Conn::Postgres(c) => bound(&sql).execute(&mut **c).await?.rows_affected(),
            Conn::Local(c) => local::execute(c, sql)?,
        })
    }

    /// Runs `sql`; its first row, if any.
    pub(crate) async fn optional(&mut self, sql: Sql) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let sql = sql.anonymous();
                bound(&sql).fetch_optional(&mut **c).await?.map(Row::Sqlite)
            }
            Conn::Postgres(c) => bound(&sql)
                .fetch_optional(&mut **c)
                .await?
                .map(Row::Postgres),
            Conn::Local(c) => local::optional(c, sql)?.map(Row::Local),
        })
    }

    /// Runs `sql`; every row.
    pub(crate) async fn all(&mut self, sql: Sql) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let sql = sql.anonymous();
                let rows = bound(&sql).fetch_all(&mut **c).await?;
                rows.into_iter().map(Row::Sqlite).collect()
            }
            Conn::Postgres(c) => {
                let rows = bound(&sql).fetch_all(&mut **c).await?;
                rows.into_iter().map(Row::Postgres).collect()
            }
            Conn::Local(c) => local::all(c, sql)?.into_iter().map(Row::Local).collect(),
        })
    }

    /// Runs `sql`, which yields one integer (a count, a number).
    pub(crate) async fn int(&mut self, sql: Sql, what: &'static str) -> Result<i64, StoreError> {
        match self.optional(sql).await.or_backend(what)? {
            Some(row) => row.get(0).or_backend(what),
            None => Err(sqlx::Error::RowNotFound).or_backend(what),
        }
    }

    /// Runs `sql`; the number of rows it changed. Failures are logged as `what`.
    pub(crate) async fn run(&mut self, sql: Sql, what: &'static str) -> Result<u64, StoreError> {
        self.execute(sql).await.or_backend(what)
    }

    /// Serializes the writers that take the lock `name` until the transaction ends, where the
    /// database does not serialize writers anyway.
    pub(crate) async fn advisory_lock(
        &mut self,
        name: &str,
        what: &'static str,
    ) -> Result<(), StoreError> {
        if let Some(lock) = self.dialect().advisory_lock {
            self.run(Sql::new(lock).bind(name), what).await?;
        }
        Ok(())
    }

    /// Runs `sql`; whether it found a row.
    pub(crate) async fn exists(
        &mut self,
        sql: Sql,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        Ok(self.optional(sql).await.or_backend(what)?.is_some())
    }

    /// Runs `sql`; its first row as `T`, if any.
    pub(crate) async fn first<T: Columns>(
        &mut self,
        sql: Sql,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        if let Conn::Local(c) = self {
            // Straight from the statement into `T`, without owned values in between.
            return local::first(c, sql)
                .map_err(sqlx::Error::from)
                .or_backend(what);
        }
        match self.optional(sql).await.or_backend(what)? {
            Some(row) => row.decode().map(Some).or_backend(what),
            None => Ok(None),
        }
    }

    /// Runs `sql`; every row as `T`.
    pub(crate) async fn rows<T: Columns>(
        &mut self,
        sql: Sql,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        if let Conn::Local(c) = self {
            return local::rows(c, sql)
                .map_err(sqlx::Error::from)
                .or_backend(what);
        }
        let rows = self.all(sql).await.or_backend(what)?;
        rows.iter()
            .map(Row::decode)
            .collect::<Result<_, _>>()
            .or_backend(what)
    }

    /// Closes this connection when it is dropped instead of returning it to the pool (the
    /// writer thread's own connection is never returned anywhere: its drainer drops it).
    pub(crate) fn close_on_drop(&mut self) {
        match self {
            Conn::Sqlite(c) => c.close_on_drop(),
            Conn::Postgres(c) => c.close_on_drop(),
            Conn::Local(_) => {}
        }
    }
}

/// The two pools of one SQLite database.
#[derive(Clone)]
pub(crate) struct Pools {
    /// For reads.
    pub(crate) read: SqlitePool,
    /// Where write transactions run: SQLite has one writer at a time anyway, and queueing
    /// writers on one connection (FIFO, async) instead of on the file lock avoids the busy
    /// handler's sleep-and-retry, which otherwise puts 100 ms spikes into write latency.
    pub(crate) write: Writer,
    /// Tasks waiting for a connection of either pool.
    pub(crate) waiting: Waiting,
    /// The write bodies waiting for the writer, committed in groups.
    pub(crate) queue: WriteQueue,
    /// The point lookups' and page queries' connections, used without a thread hand-off
    /// (`readers`); none for an in-memory database, which only its one sqlx connection sees.
    pub(crate) readers: Option<Arc<Readers>>,
}

/// SQLite's single writer.
#[derive(Clone)]
pub(crate) enum Writer {
    /// A one-connection sqlx pool (an in-memory database: the read pool itself).
    Pool(SqlitePool),
    /// A thread of its own with its own connection (a database file).
    Thread(Arc<WriterThread>),
}

/// The pools of the open database.
#[derive(Clone)]
pub(crate) enum Backend {
    /// SQLite.
    Sqlite(Pools),
    /// PostgreSQL, the tasks waiting for one of its connections, and the signal to the other
    /// processes after commits that queued notifications.
    Postgres(sqlx::PgPool, Waiting, crate::announce::Announcer),
}

impl Backend {
    /// A connection for reads.
    pub(crate) async fn read(&self) -> Result<Conn, StoreError> {
        match self {
            Backend::Sqlite(p) => p.waiting.on(p.read.acquire()).await.map(Conn::Sqlite),
            Backend::Postgres(p, w, _) => w.on(p.acquire()).await.map(Conn::Postgres),
        }
        .or_backend("acquire connection")
    }

    /// The first row of `sql` as `T`, a lookup bounded by a unique index (or otherwise tiny):
    /// on SQLite through the [`Readers`], without a thread hand-off.
    pub(crate) async fn read_one<T: Columns>(
        &self,
        sql: Sql,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        if let Backend::Sqlite(Pools {
            readers: Some(readers),
            ..
        }) = self
        {
            return readers.row(&sql, what).await;
        }
        self.read().await?.first(sql, what).await
    }

    /// Runs `body` in one write transaction on a task of its own and returns what it returns:
    /// committed when it is `Ok`, rolled back otherwise. Dropping the returned future does not
    /// stop the transaction.
    ///
    /// On SQLite the transaction may be shared with other writes (group commit, see
    /// [`WriteQueue`]); `body` still sees only its own effects undone when it fails.
    pub(crate) async fn write<T, F>(&self, what: &'static str, body: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (pool, waiting, announcer) = match self {
            Backend::Sqlite(pools) => return pools.queue.write(pools, body).await,
            Backend::Postgres(pool, waiting, announcer) => {
                (pool.clone(), waiting.clone(), announcer.clone())
            }
        };
        let transaction = async move {
            let mut conn = waiting
                .on(pool.acquire())
                .await
                .map(Conn::Postgres)
                .or_backend("acquire write connection")?;
            let begin = conn.dialect().begin_write;
            if let Err(e) = conn.execute(Sql::new(begin)).await {
                // BEGIN may have started a transaction without answering.
                conn.close_on_drop();
                return Err(backend("begin write transaction", &e));
            }
            let result = body(&mut conn).await;
            let committed = finish(conn, result, what).await;
            if committed.is_ok() && QUEUED.with(std::cell::Cell::get) {
                OUTBOX.notify_waiters();
                announcer.announce(&pool);
            }
            committed
        };
        let task = tokio::spawn(QUEUED.scope(std::cell::Cell::new(false), transaction));
        joined(task.await, "write task")
    }

    /// Closes the pools, waiting for checked-out connections.
    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(p) => {
                p.read.close().await;
                match &p.write {
                    Writer::Pool(pool) => pool.close().await,
                    Writer::Thread(thread) => thread.stop().await,
                }
            }
            Backend::Postgres(p, _, _) => p.close().await,
        }
    }
}

/// How long a connection may sit idle in a pool before it is pinged on checkout.
const PING_WHEN_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// `options` with the liveness check on checkout limited to connections idle for a while:
/// sqlx's default pings every checkout, a full round trip per statement under load, while a
/// connection in use a moment ago is known to be alive.
pub(crate) fn ping_when_idle<DB: Database>(options: PoolOptions<DB>) -> PoolOptions<DB> {
    options
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Runs a page query and its count on `conn` (inside the backend's deadline).
pub(crate) async fn page_on(conn: &mut Conn, sql: &PageSql) -> Result<PageRows, StoreError> {
    let select = Sql::new(sql.select.as_str()).bind_all(&sql.select_params);
    let rows = conn.rows(select, "page query").await?;
    // A page that ends the matches gives the total; counting again would only cost a
    // statement.
    let from_page = sql.total_from_page(rows.len());
    let total = match &sql.count {
        Some(_) if from_page.is_some() => from_page,
        Some((count_sql, params)) => {
            let count = Sql::new(count_sql.as_str()).bind_all(params);
            Some(conn.int(count, "count query").await?)
        }
        None => None,
    };
    Ok((rows, total))
}

/// Commits when `result` is `Ok`, rolls back otherwise, and returns `result` (or the commit's
/// failure). The connection goes back to the pool only when that worked and the body did not
/// fail inside the database; otherwise it is closed, which rolls back anything uncommitted.
async fn finish<T>(
    mut conn: Conn,
    result: Result<T, StoreError>,
    what: &'static str,
) -> Result<T, StoreError> {
    match result {
        Ok(value) => match conn.execute(Sql::new("COMMIT")).await {
            Ok(_) => Ok(value),
            Err(e) => {
                conn.close_on_drop();
                Err(backend(what, &e))
            }
        },
        Err(error) => {
            let rolled_back = conn.execute(Sql::new("ROLLBACK")).await.is_ok();
            // A refusal (version, duplicate, not found) leaves a healthy connection; a failure
            // of the database may have left anything.
            if !rolled_back || !error.is_refusal() {
                tracing::warn!("closing a write connection whose transaction state is unknown");
                conn.close_on_drop();
            }
            Err(error)
        }
    }
}

/// What a queued body produced: its value (of the caller's type) or its error.
type Outcome = Result<Box<dyn Any + Send>, StoreError>;

/// A queued transaction body, its value boxed.
type Body = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Outcome> + Send>;

/// One queued write: the body and where its outcome goes once the group has committed.
struct Job {
    /// The caller's transaction body.
    body: Body,
    /// The caller, who may have gone (a dropped request); its write completes regardless.
    reply: oneshot::Sender<Outcome>,
}

/// The most bodies one group commits: bounds how long the first of them waits for the fsync
/// behind the others, and the work lost to a failed `COMMIT`.
const GROUP_MAX: usize = 64;

/// The savepoint each body of a group runs under (bodies may nest savepoints of their own).
const GROUP_SAVEPOINT: &str = "group_write";

/// SQLite's group commit. Every write is queued; one drainer at a time holds the single writer
/// connection and, until the queue is empty, takes up to [`GROUP_MAX`] queued bodies, runs them
/// in one `BEGIN IMMEDIATE` transaction, each under its own savepoint (released when the body
/// is `Ok`, rolled back to when it is `Err`, so one body's refusal or failure never undoes
/// another's), commits once and only then answers each caller. A group is whatever is queued
/// when the writer is free: nothing waits for a group to fill, so a lone write costs what it
/// cost before, and under load one fsync serves many writes. The drainer is the
/// [`WriterThread`] for a database file, else a task spawned by the write that found none.
#[derive(Clone, Default)]
pub(crate) struct WriteQueue(Arc<Mutex<Queued>>);

/// The queue and whether a drainer is running (then it will see every job queued before it
/// finds the queue empty, so no second one is started).
#[derive(Default)]
struct Queued {
    /// Bodies not yet taken into a group, oldest first.
    jobs: VecDeque<Job>,
    /// Whether a drainer is running.
    draining: bool,
    /// Whether the writer thread has stopped (the store was closed): no write is taken any more.
    closed: bool,
}

impl WriteQueue {
    /// Queues `body` and returns its outcome once its group has committed (or failed).
    async fn write<T, F>(&self, pools: &Pools, body: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            body: Box::new(move |c| {
                Box::pin(async move { body(c).await.map(|v| Box::new(v) as Box<dyn Any + Send>) })
            }),
            reply,
        };
        let start = {
            let mut queued = self.lock();
            if queued.closed {
                return Err(StoreError::Unavailable);
            }
            queued.jobs.push_back(job);
            !std::mem::replace(&mut queued.draining, true)
        };
        if start {
            match &pools.write {
                Writer::Thread(thread) => thread.wake.notify_one(),
                // Spawned, not awaited here: a caller that goes away cannot stop a group
                // half-way. Bodies record queued notifications in the drainer's task-local flag.
                Writer::Pool(pool) => {
                    let source = Source::Pool(pool.clone(), pools.waiting.clone());
                    tokio::spawn(QUEUED.scope(
                        std::cell::Cell::new(false),
                        drain(self.clone(), None, source),
                    ));
                }
            }
        }
        match answer.await {
            Ok(outcome) => outcome.and_then(|value| {
                value
                    .downcast::<T>()
                    .map(|v| *v)
                    .map_err(|_| StoreError::Backend("write result of another type".to_owned()))
            }),
            Err(_) => {
                tracing::error!("write group stopped before answering");
                Err(StoreError::Backend("write group stopped".to_owned()))
            }
        }
    }

    /// How many bodies wait for a group.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Whether a drainer is at work.
    pub(crate) fn busy(&self) -> bool {
        self.lock().draining
    }

    /// The queue, even if a thread panicked holding it (it holds only plain data).
    fn lock(&self) -> std::sync::MutexGuard<'_, Queued> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next group, or `None` (and no drainer any more) when the queue is empty.
    fn next_group(&self) -> Option<Vec<Job>> {
        let mut queued = self.lock();
        if queued.jobs.is_empty() {
            queued.draining = false;
            return None;
        }
        let n = queued.jobs.len().min(GROUP_MAX);
        Some(queued.jobs.drain(..n).collect())
    }

    /// Takes no write any more; the ones still queued are dropped, so their callers get an
    /// error instead of waiting for ever.
    fn close(&self) {
        let mut queued = self.lock();
        queued.closed = true;
        queued.draining = false;
        queued.jobs.clear();
    }
}

/// Ends a drainer task: if it stops early (its runtime shut down, a body panicked), the jobs
/// still queued are dropped, so their callers get an error instead of waiting for ever, and the
/// next write starts a new drainer. The writer thread instead keeps them: it drains again at
/// once (see [`serve`]), and a write queued meanwhile must not be dropped with them.
struct Draining {
    /// The queue drained.
    queue: WriteQueue,
    /// Set when the drainer found the queue empty (and cleared `draining` itself).
    finished: bool,
    /// Whether another drain follows an early stop (the writer thread's).
    resumed: bool,
}

impl Drop for Draining {
    fn drop(&mut self) {
        if !self.finished && !self.resumed {
            let mut queued = self.queue.lock();
            queued.draining = false;
            queued.jobs.clear();
        }
    }
}

/// Opens a new connection for the writer thread, with the backend's settings.
pub(crate) type Connect = Arc<dyn Fn() -> Result<rusqlite::Connection, StoreError> + Send + Sync>;

/// Where a drainer gets a writer connection when it has none (or dropped a broken one).
enum Source {
    /// From the one-connection sqlx pool, waiters counted.
    Pool(SqlitePool, Waiting),
    /// Opened in place, on the writer thread.
    Open(Connect),
}

impl Source {
    /// A writer connection.
    async fn connect(&self) -> Result<Conn, StoreError> {
        match self {
            Source::Pool(pool, waiting) => waiting
                .on(pool.acquire())
                .await
                .map(Conn::Sqlite)
                .or_backend("acquire write connection"),
            Source::Open(open) => open().map(Conn::Local),
        }
    }
}

/// Runs groups on the writer connection (`conn`, or one from `source`) until the queue is
/// empty; the connection, unless it had to go.
async fn drain(queue: WriteQueue, mut conn: Option<Conn>, source: Source) -> Option<Conn> {
    let mut guard = Draining {
        queue,
        finished: false,
        resumed: matches!(source, Source::Open(_)),
    };
    loop {
        // The connection first, then the group: everything queued while waiting for it joins.
        let writer = match conn.take() {
            Some(c) => Ok(c),
            None => source.connect().await,
        };
        let Some(jobs) = guard.queue.next_group() else {
            conn = writer.ok();
            break;
        };
        match writer {
            Ok(mut c) => {
                if commit_group(&mut c, jobs).await {
                    conn = Some(c);
                } else {
                    tracing::warn!("closing a write connection whose transaction state is unknown");
                    c.close_on_drop();
                }
            }
            Err(error) => {
                for job in jobs {
                    answer(job.reply, Err(error.clone()));
                }
            }
        }
    }
    guard.finished = true;
    conn
}

/// SQLite's single writer for a database file: a thread of its own, running a current-thread
/// runtime (the bodies are async and only await their connection, whose statements complete
/// at once) that drains the [`WriteQueue`] whenever a write finds no drainer at work.
///
/// sqlx runs each SQLite connection on a worker thread and hands every statement (and row)
/// over to it and back, two context switches each; a group runs a handful of statements per
/// body. Here a write costs one hand-off in (the wake-up) and one out (the answer), and the
/// fsync of `COMMIT` blocks only this thread.
pub(crate) struct WriterThread {
    /// Wakes the thread to drain the queue (a permit is kept when it is busy).
    wake: Arc<Notify>,
    /// Set to end the thread once the queue is drained.
    stop: Arc<AtomicBool>,
    /// Resolves when the thread has ended (taken by the first [`WriterThread::stop`]).
    ended: Mutex<Option<oneshot::Receiver<()>>>,
}

impl WriterThread {
    /// Starts the writer thread for `queue` on `first`, reopening through `connect` when a
    /// connection had to go.
    pub(crate) fn start(
        queue: WriteQueue,
        first: rusqlite::Connection,
        connect: Connect,
    ) -> Result<Arc<WriterThread>, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("start SQLite writer runtime: {e}")))?;
        let wake = Arc::new(Notify::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (ended, ended_rx) = oneshot::channel();
        let serving = serve(queue, first, connect, wake.clone(), stop.clone());
        std::thread::Builder::new()
            .name("clientele-writer".to_owned())
            .spawn(move || {
                runtime.block_on(serving);
                let _ = ended.send(());
            })
            .map_err(|e| StoreError::Backend(format!("start SQLite writer thread: {e}")))?;
        Ok(Arc::new(WriterThread {
            wake,
            stop,
            ended: Mutex::new(Some(ended_rx)),
        }))
    }

    /// Ends the thread once what is queued has committed, and waits for it to end.
    async fn stop(&self) {
        self.signal_stop();
        let ended = self
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(ended) = ended {
            let _ = ended.await;
        }
    }

    /// Tells the thread to end once the queue is drained.
    fn signal_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        // The last handle of a store that was not closed: the thread must not outlive it.
        self.signal_stop();
    }
}

/// The writer thread's loop: each wake-up drains the queue on a task of its own, so that a
/// body that panics ends only that task (the callers of its group get an error, as on the
/// sqlx path) and the connection it held is replaced; the writes still queued are drained
/// right after.
async fn serve(
    queue: WriteQueue,
    first: rusqlite::Connection,
    connect: Connect,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
) {
    let mut conn = Some(Conn::Local(first));
    let mut resume = false;
    loop {
        if !resume {
            wake.notified().await;
        }
        let draining = drain(queue.clone(), conn.take(), Source::Open(connect.clone()));
        let task = tokio::spawn(QUEUED.scope(std::cell::Cell::new(false), draining));
        (conn, resume) = match task.await {
            Ok(conn) => (conn, false),
            Err(e) => {
                tracing::error!(error = %e, "SQLite writer task failed; reopening its connection");
                (None, true)
            }
        };
        if stop.load(Ordering::Acquire) {
            break;
        }
    }
    queue.close();
}

/// Runs `jobs` as one transaction on `conn` and answers each. Returns whether the connection
/// may be reused: not after a failure of the transaction itself, nor after a body failed inside
/// the database (not a refusal), which may have left the connection in any state.
///
/// On sqlx's connection each statement is a hand-off to SQLite's worker thread (two context
/// switches), which is most of what a small write costs; so the statements around the bodies
/// travel together: the first savepoint with `BEGIN`, and each body's end (`RELEASE`, or `ROLLBACK TO` and
/// `RELEASE`) with the next body's savepoint. When such a pair fails, which of its statements
/// ran is unknown, so the group is treated as broken (rolled back, every caller told), as
/// when a single savepoint statement failed before.
async fn commit_group(conn: &mut Conn, jobs: Vec<Job>) -> bool {
    let begin = conn.dialect().begin_write;
    let savepoint = format!("SAVEPOINT {GROUP_SAVEPOINT}");
    if let Err(e) = conn
        .execute(Sql::new(format!("{begin}; {savepoint}")))
        .await
    {
        // BEGIN may have started a transaction without answering.
        let error = backend("begin write transaction", &e);
        for job in jobs {
            answer(job.reply, Err(error.clone()));
        }
        return false;
    }
    let _ = QUEUED.try_with(|q| q.set(false));
    let mut reusable = true;
    let mut broken: Option<StoreError> = None;
    let mut ran = Vec::with_capacity(jobs.len());
    let last = jobs.len().saturating_sub(1);
    for (i, job) in jobs.into_iter().enumerate() {
        if let Some(error) = &broken {
            ran.push((job.reply, Err(error.clone())));
            continue;
        }
        // The body runs under the savepoint opened by the statement before it.
        let outcome = (job.body)(conn).await;
        let mut end = match &outcome {
            Ok(_) => format!("RELEASE SAVEPOINT {GROUP_SAVEPOINT}"),
            Err(error) => {
                // A refusal leaves a healthy connection; a failure of the database may have
                // left anything, so the connection goes once the group is done.
                reusable &= error.is_refusal();
                format!(
                    "ROLLBACK TO SAVEPOINT {GROUP_SAVEPOINT}; RELEASE SAVEPOINT {GROUP_SAVEPOINT}"
                )
            }
        };
        if i < last {
            end.push_str("; ");
            end.push_str(&savepoint);
        }
        if let Err(e) = conn.execute(Sql::new(end)).await {
            // Without its savepoint the body's effects cannot be told from the others'.
            broken = Some(backend("end savepoint", &e));
        }
        ran.push((job.reply, outcome));
    }
    if let Some(error) = broken {
        if conn.execute(Sql::new("ROLLBACK")).await.is_err() {
            tracing::warn!("rolling back a failed write group failed");
        }
        for (reply, outcome) in ran {
            // A body's own error stands; a body that worked was rolled back with the group.
            answer(reply, outcome.and_then(|_| Err(error.clone())));
        }
        return false;
    }
    match conn.execute(Sql::new("COMMIT")).await {
        Ok(_) => {
            // A body undone after queueing notifications only costs the worker a read.
            if QUEUED.try_with(|q| q.replace(false)).unwrap_or(false) {
                OUTBOX.notify_waiters();
            }
            for (reply, outcome) in ran {
                answer(reply, outcome);
            }
            reusable
        }
        Err(e) => {
            let error = backend("commit write group", &e);
            for (reply, outcome) in ran {
                answer(reply, outcome.and_then(|_| Err(error.clone())));
            }
            false
        }
    }
}

/// Sends `outcome` to a caller who may have gone (its write is done either way).
fn answer(reply: oneshot::Sender<Outcome>, outcome: Outcome) {
    if reply.send(outcome).is_err() {
        tracing::debug!("a write's caller went away before its answer");
    }
}
