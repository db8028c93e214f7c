//! The commercetools query languages: `where` predicates, `sort` and `expand`.
//!
//! Pure: parse (with spans and a depth limit), type-check against a field schema, compile to
//! SQL for SQLite and PostgreSQL with bound parameters, and evaluate in memory (the test oracle).
//! No IO, no database driver.
//!
//! PUBLIC INTERFACE CONTRACT (used by `clientele-store` and `clientele-server`; keep these names):
//! - [`Dialect`], [`SqlFragment`], [`SqlParam`]
//! - [`schema::Schema`] with [`schema::customer_schema`] and [`schema::message_schema`]
//! - [`Predicate`]: a parsed *and* checked predicate, built by [`parse_where`]
//! - [`SortKey`] built by [`parse_sort`]
//! - [`compile_where`], [`compile_order_by`], [`evaluate`]
//! - [`QueryError`] with `message()` (commercetools wording) and a `kind`

pub mod schema;

use std::collections::HashMap;

/// The SQL dialect to compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 with the JSON1 functions; the document column holds JSON text.
    Sqlite,
    /// PostgreSQL; the document column is `jsonb`.
    Postgres,
}

/// A bound SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// Boolean.
    Bool(bool),
}

/// A piece of SQL with its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlFragment {
    /// The SQL text. Placeholders are `?` for SQLite and `$N` for PostgreSQL, numbered from the
    /// `first_param` passed to the compiler.
    pub sql: String,
    /// Parameters, in order.
    pub params: Vec<SqlParam>,
}

/// Why a query parameter was rejected (always a 400 `InvalidInput` or
/// `QueryComplexityLimitExceeded` at the HTTP layer).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The commercetools-style message, e.g. `Malformed parameter: where: Syntax error while parsing 'where'. ...`.
    pub message: String,
    /// True when the complexity/length limit was hit (`QueryComplexityLimitExceeded`).
    pub complexity: bool,
}

/// A parsed and type-checked predicate (all `where` parameters ANDed, variables bound).
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    _private: (),
}

/// One parsed and checked `sort` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    _private: (),
}

/// Parses every `where` parameter, binds `var.*` values and checks the result against `schema`.
pub fn parse_where(
    wheres: &[String],
    vars: &HashMap<String, Vec<String>>,
    schema: &schema::Schema,
) -> Result<Predicate, QueryError> {
    let _ = (vars, schema);
    Err(QueryError {
        message: format!(
            "Malformed parameter: where: query predicates are not supported yet ({} given).",
            wheres.len()
        ),
        complexity: false,
    })
}

/// Parses every `sort` parameter (`field asc|desc`) against `schema`.
pub fn parse_sort(sorts: &[String], schema: &schema::Schema) -> Result<Vec<SortKey>, QueryError> {
    let _ = schema;
    if sorts.is_empty() {
        return Ok(Vec::new());
    }
    Err(QueryError {
        message: "Malformed parameter: sort: sorting is not supported yet.".to_owned(),
        complexity: false,
    })
}

/// Compiles a predicate to a boolean SQL expression over the schema's table.
pub fn compile_where(p: &Predicate, dialect: Dialect, first_param: usize) -> SqlFragment {
    let _ = (p, dialect, first_param);
    SqlFragment {
        sql: "1=1".to_owned(),
        params: Vec::new(),
    }
}

/// Compiles sort keys to an `ORDER BY` list (without the keywords), always ending in a unique
/// tie-breaker so paging is stable.
pub fn compile_order_by(keys: &[SortKey], dialect: Dialect, schema: &schema::Schema) -> String {
    let _ = (keys, dialect);
    schema.default_order_by.to_owned()
}

/// Evaluates a predicate against a resource's JSON representation (the test oracle).
pub fn evaluate(p: &Predicate, doc: &serde_json::Value) -> bool {
    let _ = (p, doc);
    true
}
