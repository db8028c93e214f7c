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
//! Must not know any table: the SQL of the operations lives in `store`, `customers` and
//! `resources`; connection settings, migrations and the query deadline in the backend modules.

use std::future::Future;
use std::pin::Pin;

use clientele_query::SqlParam;
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::PgRow;
use sqlx::query::Query;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Database, Decode, Encode, Postgres, Row as _, Sqlite, Type};

use crate::dialect::{self, Dialect};
use crate::error::{backend, SqlxResultExt};
use crate::pool_stats::Waiting;
use crate::rows::PageSql;
use crate::StoreError;

/// A boxed, sendable future borrowing for `'a`.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The rows of one page (document text and, for customers, the password hash) and the count.
pub(crate) type PageRows = (Vec<(String, Option<String>)>, Option<i64>);

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// Text or NULL.
    Text(Option<String>),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<&SqlParam> for Arg {
    fn from(p: &SqlParam) -> Self {
        match p {
            SqlParam::Text(s) => Arg::Text(Some(s.clone())),
            SqlParam::Int(i) => Arg::Int(*i),
            SqlParam::Float(f) => Arg::Float(*f),
            SqlParam::Bool(b) => Arg::Bool(*b),
        }
    }
}

/// One statement: SQL text with `$n` placeholders and its arguments in placeholder order.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// A statement without arguments yet.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Binds the next placeholders, in order.
    pub(crate) fn bind_all<'a>(mut self, args: impl IntoIterator<Item = &'a SqlParam>) -> Self {
        self.args.extend(args.into_iter().map(Arg::from));
        self
    }
}

/// `sql` as a sqlx query of `DB` with its arguments bound.
fn bound<'q, DB>(sql: &'q Sql) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    let mut q = sqlx::query(&sql.text);
    for a in &sql.args {
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
    /// A literal `NULL`, which needs no type (a bound one would on PostgreSQL).
    Null,
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
                        text.push_str(&format!("${}", args.len()));
                    }
                    Cell::Doc(d) => {
                        args.push(Arg::Text(Some(d)));
                        text.push_str(&doc_in(args.len()));
                    }
                    Cell::Null => text.push_str("NULL"),
                }
            }
            text.push(')');
        }
        text.push(' ');
        text.push_str(tail);
        let mut sql = Sql::new(text);
        sql.args = args;
        changed += conn.execute(sql).await?;
    }
    Ok(changed)
}

/// A row of either database.
pub(crate) enum Row {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Postgres(PgRow),
}

impl Row {
    /// Column `i` as `T`.
    pub(crate) fn get<T>(&self, i: usize) -> Result<T, sqlx::Error>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
    }
}

/// A pooled connection of either database.
pub(crate) enum Conn {
    /// To SQLite.
    Sqlite(PoolConnection<Sqlite>),
    /// To PostgreSQL.
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    /// The dialect of this connection's database.
    pub(crate) fn dialect(&self) -> &'static Dialect {
        match self {
            Conn::Sqlite(_) => &dialect::SQLITE,
            Conn::Postgres(_) => &dialect::POSTGRES,
        }
    }

    /// Runs `sql`; the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => bound(&sql).execute(&mut **c).await?.rows_affected(),
            Conn::Postgres(c) => bound(&sql).execute(&mut **c).await?.rows_affected(),
        })
    }

    /// Runs `sql`; its first row, if any.
    pub(crate) async fn optional(&mut self, sql: Sql) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => bound(&sql).fetch_optional(&mut **c).await?.map(Row::Sqlite),
            Conn::Postgres(c) => bound(&sql)
                .fetch_optional(&mut **c)
                .await?
                .map(Row::Postgres),
        })
    }

    /// Runs `sql`; every row.
    pub(crate) async fn all(&mut self, sql: Sql) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => bound(&sql)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Conn::Postgres(c) => bound(&sql)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    /// Runs `sql`, which yields one integer (a count, a number).
    pub(crate) async fn int(&mut self, sql: Sql) -> Result<i64, sqlx::Error> {
        match self.optional(sql).await? {
            Some(row) => row.get(0),
            None => Err(sqlx::Error::RowNotFound),
        }
    }

    /// Closes this connection when it is dropped instead of returning it to the pool.
    pub(crate) fn close_on_drop(&mut self) {
        match self {
            Conn::Sqlite(c) => c.close_on_drop(),
            Conn::Postgres(c) => c.close_on_drop(),
        }
    }
}

/// The two pools of one SQLite database.
#[derive(Clone)]
pub(crate) struct Pools {
    /// For reads.
    pub(crate) read: SqlitePool,
    /// One connection for write transactions: SQLite has one writer at a time anyway, and
    /// queueing writers on this pool (FIFO, async) instead of on the file lock avoids the busy
    /// handler's sleep-and-retry, which otherwise puts 100 ms spikes into write latency.
    pub(crate) write: SqlitePool,
    /// Tasks waiting for a connection of either pool.
    pub(crate) waiting: Waiting,
}

/// The pools of the open database.
#[derive(Clone)]
pub(crate) enum Backend {
    /// SQLite.
    Sqlite(Pools),
    /// PostgreSQL, and the tasks waiting for one of its connections.
    Postgres(sqlx::PgPool, Waiting),
}

impl Backend {
    /// A connection for reads.
    pub(crate) async fn read(&self) -> Result<Conn, StoreError> {
        match self {
            Backend::Sqlite(p) => p.waiting.on(p.read.acquire()).await.map(Conn::Sqlite),
            Backend::Postgres(p, w) => w.on(p.acquire()).await.map(Conn::Postgres),
        }
        .or_backend("acquire connection")
    }

    /// A connection for a write transaction (SQLite's single writer).
    async fn writer(&self) -> Result<Conn, StoreError> {
        match self {
            Backend::Sqlite(p) => p.waiting.on(p.write.acquire()).await.map(Conn::Sqlite),
            Backend::Postgres(p, w) => w.on(p.acquire()).await.map(Conn::Postgres),
        }
        .or_backend("acquire write connection")
    }

    /// Runs `body` in one write transaction on a task of its own and returns what it returns:
    /// committed when it is `Ok`, rolled back otherwise. Dropping the returned future does not
    /// stop the transaction.
    pub(crate) async fn write<T, F>(&self, what: &'static str, body: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let pools = self.clone();
        tokio::spawn(async move {
            let mut conn = pools.writer().await?;
            let begin = conn.dialect().begin_write;
            if let Err(e) = conn.execute(Sql::new(begin)).await {
                // BEGIN may have started a transaction without answering.
                conn.close_on_drop();
                return Err(backend("begin write transaction", &e));
            }
            let result = body(&mut conn).await;
            finish(conn, result, what).await
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "write task failed");
            StoreError::Backend(format!("write task: {e}"))
        })?
    }

    /// Closes the pools, waiting for checked-out connections.
    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(p) => {
                p.read.close().await;
                p.write.close().await;
            }
            Backend::Postgres(p, _) => p.close().await,
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
    let rows = conn
        .all(Sql::new(sql.select.as_str()).bind_all(&sql.select_params))
        .await
        .or_backend("page query")?;
    let rows = rows
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .or_backend("read page row")?;
    // A page that ends the matches gives the total; counting again would only cost a
    // statement.
    let from_page = sql.total_from_page(rows.len());
    let total = match &sql.count {
        Some(_) if from_page.is_some() => from_page,
        Some((count_sql, params)) => Some(
            conn.int(Sql::new(count_sql.as_str()).bind_all(params))
                .await
                .or_backend("count query")?,
        ),
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
