//! Translation of driver errors into [`StoreError`] at the store boundary.
//!
//! Owns the one place where `sqlx::Error` is inspected: unique violations become
//! `DuplicateField` through [`SqlxResultExt::on_unique`] (the `on_constraint` idea from
//! realworld-axum-sqlx), cancelled statements become `QueryTimedOut`, I/O and capacity
//! failures (full disk, lost connection) become `Unavailable`, and everything else is logged and
//! flattened to `Backend(String)`. No sqlx type leaves this crate.

use crate::local::LocalError;
use crate::StoreError;

/// A unique field a statement may violate: the commercetools field name (`email`, `key`,
/// `customerNumber`, …) and the value as the client sent it, echoed in the error. Which
/// constraint stands for which field is each database's table in `dialect`.
pub(crate) type Unique<'a> = (&'static str, &'a str);

/// `sqlx::Result` helpers that end in a [`StoreError`].
pub(crate) trait SqlxResultExt<T> {
    /// Any error becomes `Backend` (or `QueryTimedOut`), logged with `what`.
    fn or_backend(self, what: &'static str) -> Result<T, StoreError>;
    /// A violation of one of `targets` becomes `DuplicateField`; anything else as [`Self::or_backend`].
    fn on_unique(self, what: &'static str, targets: &[Unique<'_>]) -> Result<T, StoreError>;
}

impl<T> SqlxResultExt<T> for Result<T, sqlx::Error> {
    fn or_backend(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| backend(what, &e))
    }

    fn on_unique(self, what: &'static str, targets: &[Unique<'_>]) -> Result<T, StoreError> {
        self.map_err(|e| {
            let field = violated_unique(&e).and_then(|name| {
                crate::dialect::SQLITE_UNIQUES
                    .iter()
                    .chain(crate::dialect::POSTGRES_UNIQUES)
                    .find(|(constraint, _)| *constraint == name)
                    .map(|(_, field)| *field)
            });
            if let Some((field, value)) = targets.iter().find(|(f, _)| Some(*f) == field) {
                return StoreError::DuplicateField {
                    field: (*field).to_owned(),
                    value: (*value).to_owned(),
                };
            }
            backend(what, &e)
        })
    }
}

/// The outcome of a task the store spawned (a transaction, a query under its deadline), or
/// `Backend` when the task itself failed (it panicked, or its runtime shut down).
pub(crate) fn joined<T>(
    outcome: Result<Result<T, StoreError>, tokio::task::JoinError>,
    what: &'static str,
) -> Result<T, StoreError> {
    outcome.unwrap_or_else(|e| {
        tracing::error!(task = what, error = %e, "store task failed");
        Err(StoreError::Backend(format!("{what}: {e}")))
    })
}

/// [`backend`] for an error of a rusqlite connection (the readers'), read as sqlx reads
/// SQLite's, so both kinds of connection map SQLite's codes alike.
pub(crate) fn local(what: &'static str, err: rusqlite::Error) -> StoreError {
    backend(what, &sqlx::Error::from(LocalError::from(err)))
}

/// Logs `err` and turns it into the opaque variant the caller may see.
pub(crate) fn backend(what: &'static str, err: &sqlx::Error) -> StoreError {
    if is_cancelled(err) {
        tracing::warn!(operation = what, error = %err, "query cancelled by the timeout");
        return StoreError::QueryTimedOut;
    }
    if is_unavailable(err) {
        tracing::error!(operation = what, error = %err, "database unavailable");
        return StoreError::Unavailable;
    }
    tracing::error!(operation = what, error = %err, "database error");
    StoreError::Backend(format!("{what}: {err}"))
}

/// Whether the statement was cancelled by our timeout: PostgreSQL `query_canceled` (57014,
/// raised by `statement_timeout`) or SQLite `SQLITE_INTERRUPT` (9, raised when the progress
/// handler gives up).
fn is_cancelled(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57014") | Some("9")),
        _ => false,
    }
}

/// Whether `err` says the database cannot work right now rather than that our statement is
/// wrong: connection and I/O failures, an exhausted or closed pool, SQLite's BUSY, LOCKED,
/// NOMEM, READONLY, IOERR, FULL and CANTOPEN (primary codes 5–8, 10, 13, 14), PostgreSQL's
/// classes 08 (connection), 53 (insufficient resources: disk full, out of memory, too many
/// connections), 57P (shutdown) and 58 (system / I/O error).
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else { return false };
            let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                || db.try_downcast_ref::<LocalError>().is_some();
            if sqlite {
                let primary = code.parse::<i32>().unwrap_or_default() & 0xff;
                matches!(primary, 5..=8 | 10 | 13 | 14)
            } else {
                ["08", "53", "57P", "58"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }
        }
        _ => false,
    }
}

/// The violated unique constraint's identity, if `err` is a unique violation.
fn violated_unique(err: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    if let Some(name) = db.constraint() {
        return Some(name.to_owned());
    }
    // SQLite does not name the index, only its columns.
    db.message()
        .strip_prefix("UNIQUE constraint failed: ")
        .map(str::to_owned)
}
