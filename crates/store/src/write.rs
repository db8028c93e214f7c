//! The one way a write transaction holds a connection: [`WriteTx`], a guard that gives the
//! connection back to its pool only after the transaction ended cleanly (`COMMIT` or
//! `ROLLBACK` answered), and closes it in every other case.
//!
//! A request future can be dropped at any `.await` (a client hangs up, a timeout fires), and a
//! statement or `COMMIT` can fail half-way (full disk, I/O error). Either way the connection's
//! transaction state is unknown, so it must never be reused: closing it rolls back whatever the
//! database had not committed, and the pool opens a fresh one for the next writer. Must not
//! know any SQL besides `COMMIT` / `ROLLBACK`.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

use crate::error::{backend, SqlxResultExt};
use crate::StoreError;

/// A boxed, sendable future.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs one transaction-control statement on a pooled connection. Implemented per database
/// because sqlx's executor bound, used generically, defeats the `Send` check of every caller's
/// future (rust-lang/rust#100013).
pub(crate) trait Control: Database {
    /// Runs `sql` (`BEGIN …`, `COMMIT`, `ROLLBACK`).
    fn control<'c>(
        conn: &'c mut PoolConnection<Self>,
        sql: &'static str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>>;
}

impl Control for sqlx::Sqlite {
    fn control<'c>(
        conn: &'c mut PoolConnection<Self>,
        sql: &'static str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move { sqlx::query(sql).execute(&mut **conn).await.map(drop) })
    }
}

impl Control for sqlx::Postgres {
    fn control<'c>(
        conn: &'c mut PoolConnection<Self>,
        sql: &'static str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move { sqlx::query(sql).execute(&mut **conn).await.map(drop) })
    }
}

/// A connection inside a write transaction, closed on drop unless [`WriteTx::finish`] ended
/// the transaction cleanly.
pub(crate) struct WriteTx<DB: Database> {
    conn: PoolConnection<DB>,
    /// Set once `COMMIT` / `ROLLBACK` answered on a healthy connection.
    clean: bool,
}

impl<DB: Control> WriteTx<DB> {
    /// Takes a connection of `pool` and starts a transaction with `begin` (the backend's
    /// `BEGIN …`).
    pub(crate) async fn begin(pool: &Pool<DB>, begin: &'static str) -> Result<Self, StoreError> {
        let conn = pool
            .acquire()
            .await
            .or_backend("acquire write connection")?;
        // From here on, a drop closes the connection: BEGIN may have run without an answer.
        let mut tx = WriteTx { conn, clean: false };
        DB::control(&mut tx.conn, begin)
            .await
            .or_backend("begin write transaction")?;
        Ok(tx)
    }

    /// Commits when `result` is `Ok`, rolls back otherwise, and returns `result` (or the
    /// failure of the commit). The connection goes back to the pool only when that worked and
    /// the body did not fail inside the database.
    pub(crate) async fn finish<T>(
        mut self,
        result: Result<T, StoreError>,
        what: &'static str,
    ) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                let committed = DB::control(&mut self.conn, "COMMIT").await;
                self.clean = committed.is_ok();
                committed.map(|()| value).map_err(|e| backend(what, &e))
            }
            Err(error) => {
                let rolled_back = DB::control(&mut self.conn, "ROLLBACK").await;
                // A refusal (version, duplicate, not found) leaves a healthy connection; a
                // database failure may have left anything.
                self.clean = rolled_back.is_ok()
                    && !matches!(
                        error,
                        StoreError::Backend(_)
                            | StoreError::Unavailable
                            | StoreError::QueryTimedOut
                    );
                Err(error)
            }
        }
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

impl<DB: Database> Drop for WriteTx<DB> {
    fn drop(&mut self) {
        if !self.clean {
            // Cancelled mid-transaction, or the database failed: closing the connection rolls
            // back whatever was not committed, and the pool opens a fresh one.
            tracing::warn!("closing a write connection whose transaction state is unknown");
            self.conn.close_on_drop();
        }
    }
}
