//! Statements on a rusqlite connection used where it is, without sqlx's worker thread: binding a
//! [`Sql`]'s arguments, reading rows ([`FromLocalRow`], [`LocalRow`]) and rusqlite's errors in
//! the shape sqlx gives SQLite's ([`LocalError`]), so that the store's error translation
//! (`error`) treats both alike.
//!
//! Used by the readers (`readers`) and by the single writer's thread (`db`); owns no connection
//! and decides nothing about when a statement runs.

use std::borrow::Cow;
use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, Value, ValueRef};
use rusqlite::{Batch, Connection, Statement};

use crate::statement::{Arg, Sql};

/// Statements with more arguments than this are prepared without the statement cache: a
/// multi-row `INSERT`'s text is long and rarely repeats, and would only push the hot shapes out.
const CACHED_ARGS_AT_MOST: usize = 32;

/// A row read out of its statement, its values owned.
#[derive(Debug, Clone)]
pub(crate) struct LocalRow(Vec<Value>);

/// The columns of a row, whether still in its statement or read out of it.
pub(crate) trait LocalColumns {
    /// Column `i` as `T`, as strict as sqlx's decoding (text is not a number, NULL only into an
    /// `Option`).
    fn column<T: FromSql>(&self, i: usize) -> rusqlite::Result<T>;
}

impl LocalColumns for rusqlite::Row<'_> {
    fn column<T: FromSql>(&self, i: usize) -> rusqlite::Result<T> {
        self.get(i)
    }
}

impl LocalColumns for LocalRow {
    fn column<T: FromSql>(&self, i: usize) -> rusqlite::Result<T> {
        let value = self
            .0
            .get(i)
            .ok_or(rusqlite::Error::InvalidColumnIndex(i))?;
        T::column_result(ValueRef::from(value)).map_err(|e| match e {
            FromSqlError::InvalidType => {
                rusqlite::Error::InvalidColumnType(i, String::new(), value.data_type())
            }
            FromSqlError::OutOfRange(n) => rusqlite::Error::IntegralValueOutOfRange(i, n),
            other => {
                rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(other))
            }
        })
    }
}

/// A tuple a row can be read as, column by column, by rusqlite's `FromSql`.
pub(crate) trait FromLocalRow: Sized {
    /// `row` as `Self`, or why not.
    fn from_local_row<R: LocalColumns>(row: &R) -> rusqlite::Result<Self>;
}

macro_rules! tuple_from_local_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSql),+> FromLocalRow for ($($t,)+) {
            fn from_local_row<R: LocalColumns>(row: &R) -> rusqlite::Result<Self> {
                Ok(($(row.column::<$t>($i)?,)+))
            }
        }
    };
}

tuple_from_local_row!(A 0);
tuple_from_local_row!(A 0, B 1);
tuple_from_local_row!(A 0, B 1, C 2);
tuple_from_local_row!(A 0, B 1, C 2, D 3);
tuple_from_local_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_local_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_local_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_local_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// `sql` prepared (from the connection's cache) with its arguments bound. A `$n` placeholder
/// takes argument `n`, wherever it stands and however often, as in sqlx.
pub(crate) fn prepared<'c>(
    conn: &'c Connection,
    sql: &Sql,
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql.text())?;
    bind(&mut stmt, sql.args())?;
    Ok(stmt)
}

/// Binds `args` to `stmt`'s parameters: `$n` (or `?n`) takes argument `n`, an anonymous `?`
/// the argument of its position.
fn bind(stmt: &mut Statement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix(['$', '?']))
            .and_then(|digits| digits.parse::<usize>().ok())
            .unwrap_or(i);
        let arg = n
            .checked_sub(1)
            .and_then(|k| args.get(k))
            .ok_or(rusqlite::Error::InvalidParameterCount(n, args.len()))?;
        match arg {
            Arg::Text(Some(s)) => stmt.raw_bind_parameter(i, s.as_str())?,
            Arg::Text(None) => stmt.raw_bind_parameter(i, rusqlite::types::Null)?,
            Arg::Int(v) => stmt.raw_bind_parameter(i, *v)?,
            Arg::Float(v) => stmt.raw_bind_parameter(i, *v)?,
            Arg::Bool(v) => stmt.raw_bind_parameter(i, i64::from(*v))?,
        }
    }
    Ok(())
}

/// Whether `text` holds more than one statement: something other than blanks after a `;` that
/// is not quoted.
fn has_tail(text: &str) -> bool {
    let mut quote = None::<char>;
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == ';' => {
                return !text[i + 1..]
                    .trim_matches([';', ' ', '\n', '\t', '\r'])
                    .is_empty()
            }
            None => {}
        }
    }
    false
}

/// Runs `sql` (every statement of its text, as sqlx does) and hands each row to `each` until it
/// says stop; the rows the statements changed.
fn run(
    conn: &Connection,
    sql: Sql,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<bool>,
) -> rusqlite::Result<u64> {
    if has_tail(sql.text()) {
        // Only the group commit's savepoint statements travel together; they are rare enough
        // per statement that the cache does not matter.
        let before = conn.total_changes();
        let mut batch = Batch::new(conn, sql.text());
        while let Some(mut stmt) = batch.next()? {
            bind(&mut stmt, sql.args())?;
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next()? {
                if !each(row)? {
                    break;
                }
            }
        }
        return Ok(conn.total_changes().saturating_sub(before));
    }
    let sql = sql.anonymous();
    let mut uncached;
    let mut cached;
    let stmt: &mut Statement<'_> = if sql.args().len() > CACHED_ARGS_AT_MOST {
        uncached = conn.prepare(sql.text())?;
        &mut uncached
    } else {
        cached = conn.prepare_cached(sql.text())?;
        &mut cached
    };
    bind(stmt, sql.args())?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        if !each(row)? {
            break;
        }
    }
    drop(rows);
    Ok(if stmt.readonly() { 0 } else { conn.changes() })
}

/// Runs `sql`; the number of rows it changed.
pub(crate) fn execute(conn: &Connection, sql: Sql) -> Result<u64, LocalError> {
    run(conn, sql, |_| Ok(true)).map_err(LocalError::from)
}

/// Runs `sql`; its first row, if any.
pub(crate) fn optional(conn: &Connection, sql: Sql) -> Result<Option<LocalRow>, LocalError> {
    let mut first = None;
    run(conn, sql, |row| {
        first = Some(owned(row)?);
        Ok(false)
    })?;
    Ok(first)
}

/// Runs `sql`; every row.
pub(crate) fn all(conn: &Connection, sql: Sql) -> Result<Vec<LocalRow>, LocalError> {
    let mut out = Vec::new();
    run(conn, sql, |row| {
        out.push(owned(row)?);
        Ok(true)
    })?;
    Ok(out)
}

/// Runs `sql`; its first row as `T`, if any.
pub(crate) fn first<T: FromLocalRow>(conn: &Connection, sql: Sql) -> Result<Option<T>, LocalError> {
    let mut first = None;
    run(conn, sql, |row| {
        first = Some(T::from_local_row(row)?);
        Ok(false)
    })?;
    Ok(first)
}

/// Runs `sql`; every row as `T`.
pub(crate) fn rows<T: FromLocalRow>(conn: &Connection, sql: Sql) -> Result<Vec<T>, LocalError> {
    let mut out = Vec::new();
    run(conn, sql, |row| {
        out.push(T::from_local_row(row)?);
        Ok(true)
    })?;
    Ok(out)
}

/// `row`'s values, read out of its statement.
fn owned(row: &rusqlite::Row<'_>) -> rusqlite::Result<LocalRow> {
    let n = row.as_ref().column_count();
    (0..n)
        .map(|i| row.get_ref(i).map(Value::from))
        .collect::<rusqlite::Result<_>>()
        .map(LocalRow)
}

/// A rusqlite error as sqlx shows SQLite's: the extended result code as the code, the kind of
/// constraint violated, SQLite's own message (which names a unique index's columns).
#[derive(Debug)]
pub(crate) struct LocalError {
    /// The error.
    error: rusqlite::Error,
    /// SQLite's message, or the error's text when SQLite gave none.
    message: String,
}

impl From<rusqlite::Error> for LocalError {
    fn from(error: rusqlite::Error) -> Self {
        let message = match &error {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            other => other.to_string(),
        };
        LocalError { error, message }
    }
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LocalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl LocalError {
    /// SQLite's extended result code, when SQLite failed (not the binding or the decoding).
    fn extended_code(&self) -> Option<i32> {
        match &self.error {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.extended_code),
            _ => None,
        }
    }
}

impl sqlx::error::DatabaseError for LocalError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.extended_code().map(|c| Cow::Owned(c.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.extended_code() {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unquoted_semicolons_followed_by_a_statement_make_a_tail() {
        assert!(!has_tail("COMMIT"));
        assert!(!has_tail("COMMIT; "));
        assert!(!has_tail("SELECT 'a; b', \"c;d\""));
        assert!(has_tail("BEGIN IMMEDIATE; SAVEPOINT g"));
    }

    #[test]
    fn a_unique_violation_reads_as_sqlx_reads_sqlite_s() {
        let conn = Connection::open_in_memory().unwrap();
        execute(
            &conn,
            Sql::new("CREATE TABLE t (a TEXT, b TEXT, UNIQUE (a, b))"),
        )
        .unwrap();
        let insert = || {
            Sql::new("INSERT INTO t VALUES ($1, $2)")
                .bind("x")
                .bind("y")
        };
        assert_eq!(execute(&conn, insert()).unwrap(), 1);
        let err = sqlx::Error::from(execute(&conn, insert()).unwrap_err());
        let sqlx::Error::Database(db) = err else {
            panic!("not a database error")
        };
        assert!(db.is_unique_violation());
        assert_eq!(db.message(), "UNIQUE constraint failed: t.a, t.b");
        assert_eq!(db.code().as_deref(), Some("2067"));
    }

    #[test]
    fn several_statements_run_together_and_rows_decode_strictly() {
        let conn = Connection::open_in_memory().unwrap();
        execute(
            &conn,
            Sql::new("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'one')"),
        )
        .unwrap();
        let row = optional(&conn, Sql::new("SELECT a, b FROM t"))
            .unwrap()
            .unwrap();
        assert_eq!(
            <(i64, String)>::from_local_row(&row).unwrap(),
            (1, "one".to_owned())
        );
        assert!(<(String,)>::from_local_row(&row).is_err());
        assert!(<(i64, i64)>::from_local_row(&row).is_err());
        let n: Vec<(i64,)> =
            rows(&conn, Sql::new("SELECT a FROM t WHERE b = $1").bind("one")).unwrap();
        assert_eq!(n, vec![(1,)]);
    }
}
