//! The commercetools query languages: `where` predicates, `sort` and `expand`.
//!
//! Pure: parse (with spans and a depth limit), type-check against a field schema, compile to
//! SQL for SQLite and PostgreSQL with bound parameters, and evaluate in memory (the test oracle).
//! No IO, no database driver. This module owns the public API and error wording; it must not
//! hold parsing or compilation logic itself.
//!
//! PUBLIC INTERFACE CONTRACT (used by `clientele-store` and `clientele-server`; keep these names):
//! - [`Dialect`], [`SqlFragment`], [`SqlParam`]
//! - [`schema::Schema`] with [`schema::customer_schema`] and [`schema::message_schema`]
//! - [`Predicate`]: a parsed *and* checked predicate, built by [`parse_where`] (or
//!   [`parse_where_with`] to type custom fields)
//! - [`SortKey`] built by [`parse_sort`] (or [`parse_sort_with`]); [`ExpandPath`] built by
//!   [`parse_expand`]
//! - [`CustomFieldTypes`] / [`CustomFieldType`]: the custom field types a caller declares
//! - [`compile_where`], [`compile_order_by`], [`evaluate`]
//! - [`QueryError`] with the commercetools-style `message` and `complexity`
//!
//! # Predicate grammar (EBNF)
//!
//! ```text
//! predicate  = orExpr ;
//! orExpr     = andExpr , { "or" , andExpr } ;
//! andExpr    = unary , { "and" , unary } ;
//! unary      = "not" , "(" , predicate , ")"
//!            | "(" , predicate , ")"
//!            | condition ;
//! condition  = field , "(" , predicate , ")"             (* object / some array element *)
//!            | field , cmpOp , value
//!            | field , [ "not" ] , "in" , list
//!            | field , "contains" , ( "any" | "all" ) , list
//!            | field , "is" , [ "not" ] , ( "defined" | "empty" )
//!            | field , "within" , "circle" , "(" , number , "," , number , "," , number , ")" ;
//! cmpOp      = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;
//! list       = "(" , value , { "," , value } , ")" | var ;
//! value      = string | number | "true" | "false" | var ;
//! var        = ":" , alnum , { alnum } ;                  (* bound from var.<name> *)
//! field      = word - number ;                            (* word not starting with "-" *)
//! word       = wordChar , { wordChar } ;  wordChar = letter | digit | "_" | "-" ;
//! number     = [ "-" ] , digit , { digit } , [ "." , digit , { digit } ] ;
//! string     = '"' , { char - ( '"' | "\" ) | escape } , '"' ;
//! escape     = "\" , ( '"' | "\" | "/" | "b" | "f" | "n" | "r" | "t" | "u" , 4 * hexDigit ) ;
//! ```
//!
//! Keywords (`and`, `or`, `not`, `in`, `contains`, `any`, `all`, `is`, `defined`, `empty`,
//! `within`, `circle`, `true`, `false`) match in any letter case and only where the grammar
//! expects them, so a custom field may be called `and`. Precedence: `not` > `and` > `or`.
//! Whitespace separates tokens and is otherwise ignored. Several `where` parameters are ANDed.
//! The whole input must be consumed. Limits: [`MAX_PREDICATE_BYTES`] per predicate,
//! [`MAX_TOTAL_PREDICATE_BYTES`] and [`MAX_CONDITIONS`] over all `where` parameters of a
//! request, and [`MAX_NESTING`] nested groups; exceeding any is a [`QueryError`] with
//! `complexity`.
//!
//! # Semantics
//!
//! Field names follow the API JSON; nested objects and arrays of objects are entered with
//! `field(…)`, which holds if the object (or *some* array element) satisfies the inner
//! predicate. Tests on arrays of values hold if some element does. A test on an absent (or
//! null) field is false for every operator, including `!=` and `not in`; `not(…)` negates.
//! Dates and datetimes are strings; datetime literals are normalised to the stored
//! `YYYY-MM-DDTHH:MM:SS.mmmZ` form and compared as text (= as time).
//!
//! # Custom fields
//!
//! `custom(fields(name …))` queries the resource's custom fields. Their types are not in the
//! static schema: the caller declares them with [`CustomFieldTypes`] (the server collects every
//! field of every Type for the resource type) and passes them to [`parse_where_with`] /
//! [`parse_sort_with`].
//! - A **declared** name is typed like any schema field: literals must fit (`Type mismatch: field
//!   'custom.fields.x' expects a number, got a string`), `var.*` values are converted to the type,
//!   the SQL compares with that JSON type, and operators must suit it. Enum and LocalizedEnum
//!   values are their keys (strings); Time literals are normalised to `hh:mm:ss.sss` and
//!   DateTime literals to the stored form; LocalizedString is `name(en = "…")`, Money is
//!   `price(centAmount > 100 and currencyCode = "EUR")`, Reference is `ref(id = "…")`; a Set
//!   has any-element semantics (`=`, `in`, `contains any|all`, `is [not] empty`, and `field(…)`
//!   for sets of objects).
//! - An **undeclared** name (no Type defines it, or two Types define it differently) stays
//!   untyped, as commercetools lets a query name fields of any type and an unknown field simply
//!   matches nothing: any literal is accepted and compared only with JSON values of its own type,
//!   arrays have any-element semantics, `field(…)` enters an object or some object element, and
//!   `var.*` values stay strings. It is never an error.
//! - Only the resource's own `custom.fields` are typed; custom fields nested deeper (an
//!   address's `custom`) belong to Types of other resource types and stay untyped.
//! - Either way a test on an absent field is false, and the SQL and the evaluator agree, also on
//!   values that do not fit the declared type (each comparison is guarded by the JSON type).
//!
//! # Error messages
//!
//! Positions are 0-based character offsets into the offending parameter value.
//! - syntax: `Malformed parameter: where: Syntax error while parsing 'where'. <detail> at position N.`
//! - everything else: `Malformed parameter: where: <detail> at position N.`, e.g.
//!   `Malformed parameter: where: Unknown field 'foo' at position 0.`
//! - `sort` and `expand` use the same shapes with their own parameter name.

mod ast;
mod check;
mod custom;
mod error;
mod eval;
mod expand;
mod lexer;
mod parser;
pub mod schema;
pub mod search;
mod sort;
mod sql;

use std::collections::HashMap;

pub use custom::{CustomFieldType, CustomFieldTypes};
use error::char_pos;
pub use error::QueryError;
pub use expand::{ExpandPath, ExpandSegment};
pub use sort::SortKey;
pub use sql::{Dialect, SqlFragment, SqlParam};

/// Maximum length of one `where` parameter, in bytes.
pub const MAX_PREDICATE_BYTES: usize = 10_000;

/// Maximum number of nested groups (`(…)`, `not(…)`, `field(…)`) in one predicate.
pub const MAX_NESTING: usize = parser::MAX_DEPTH;

/// Most bytes all `where` parameters of one request may hold together; it bounds the values
/// one statement binds (SQLite allows 32,766).
pub const MAX_TOTAL_PREDICATE_BYTES: usize = 30_000;

/// Most conditions (tests and logical operators, counted over every `where` parameter of one
/// request) a query may hold. Flat chains compile to SQL expressions as deep as they are long,
/// and SQLite refuses expressions deeper than 1,000; past this limit the answer is
/// `QueryComplexityLimitExceeded` on both backends.
pub const MAX_CONDITIONS: usize = 500;

/// A parsed and type-checked predicate (all `where` parameters ANDed, variables bound).
///
/// Self-contained: it carries the resolved columns and JSON paths, so compiling it needs no
/// schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    cond: check::Cond,
    doc_column: &'static str,
}

fn where_error(input: &str, detail: &str, at: usize, syntax: bool, complexity: bool) -> QueryError {
    let prefix = if syntax {
        "Syntax error while parsing 'where'. "
    } else {
        ""
    };
    QueryError {
        message: format!(
            "Malformed parameter: where: {prefix}{detail} at position {}.",
            char_pos(input, at)
        ),
        complexity,
    }
}

/// Parses every `where` parameter, binds `var.*` values and checks the result against `schema`;
/// custom fields are untyped (see [`parse_where_with`]).
///
/// `vars` maps a variable name (without the `var.` prefix; keys with the prefix are accepted
/// too) to all values given for it. No `where` parameter means "match everything".
pub fn parse_where(
    wheres: &[String],
    vars: &HashMap<String, Vec<String>>,
    schema: &schema::Schema,
) -> Result<Predicate, QueryError> {
    parse_where_with(wheres, vars, schema, &CustomFieldTypes::new())
}

/// [`parse_where`] with the resource's custom fields typed by `custom` (names it does not
/// declare stay untyped; see the module documentation).
pub fn parse_where_with(
    wheres: &[String],
    vars: &HashMap<String, Vec<String>>,
    schema: &schema::Schema,
    custom: &CustomFieldTypes,
) -> Result<Predicate, QueryError> {
    let total: usize = wheres.iter().map(String::len).sum();
    if total > MAX_TOTAL_PREDICATE_BYTES {
        return Err(QueryError {
            message: format!(
                "Malformed parameter: where: Query too complex: the where parameters are {total} bytes long together, the limit is {MAX_TOTAL_PREDICATE_BYTES}."
            ),
            complexity: true,
        });
    }
    let mut conds = Vec::with_capacity(wheres.len());
    for input in wheres {
        if input.len() > MAX_PREDICATE_BYTES {
            return Err(QueryError {
                message: format!(
                    "Malformed parameter: where: Query too complex: the predicate is {} bytes long, the limit is {MAX_PREDICATE_BYTES}.",
                    input.len()
                ),
                complexity: true,
            });
        }
        let expr = parser::parse(input)
            .map_err(|e| where_error(input, &e.detail, e.at, !e.complexity, e.complexity))?;
        let cond = check::check(&expr, schema, custom, vars)
            .map_err(|e| where_error(input, &e.detail, e.at, false, false))?;
        conds.push(cond);
    }
    let size: usize = conds.iter().map(check::Cond::size).sum();
    if size > MAX_CONDITIONS {
        return Err(QueryError {
            message: format!(
                "Malformed parameter: where: Query too complex: the where parameters hold {size} conditions, the limit is {MAX_CONDITIONS}."
            ),
            complexity: true,
        });
    }
    let cond = if conds.len() == 1 {
        conds.pop().unwrap_or(check::Cond::And(Vec::new()))
    } else {
        check::Cond::And(conds)
    };
    Ok(Predicate {
        cond,
        doc_column: schema.doc_column,
    })
}

/// Parses every `sort` parameter (`field asc|desc`, direction optional, default `asc`) against
/// `schema`, in the given order; custom fields are untyped (see [`parse_sort_with`]).
pub fn parse_sort(sorts: &[String], schema: &schema::Schema) -> Result<Vec<SortKey>, QueryError> {
    parse_sort_with(sorts, schema, &CustomFieldTypes::new())
}

/// [`parse_sort`] with the resource's custom fields typed by `custom`: a declared
/// `custom.fields.x` sorts by its type (numbers numerically, strings, dates, times and datetimes
/// byte-wise as text; `custom.fields.price.centAmount`, `custom.fields.name.en` reach into
/// objects), and sets are not sortable. Undeclared names sort by their raw JSON value.
pub fn parse_sort_with(
    sorts: &[String],
    schema: &schema::Schema,
    custom: &CustomFieldTypes,
) -> Result<Vec<SortKey>, QueryError> {
    sorts
        .iter()
        .map(|s| sort::parse_one(s, schema, custom))
        .collect()
}

/// Parses every `expand` parameter into a path the server can walk over JSON.
pub fn parse_expand(expands: &[String]) -> Result<Vec<ExpandPath>, QueryError> {
    expands.iter().map(|e| expand::parse_one(e)).collect()
}

/// Compiles a predicate to a boolean SQL expression over the schema's table (the row's table
/// must be the only `FROM` item; columns are unqualified). The expression is never NULL.
///
/// Customer predicates of the form `stores(key = …)` / `stores(key in (…))` read the store's
/// `customer_emails (scope, customer_id)` table instead of the JSON, `addresses(…)` over the
/// country, city and postal code read `customer_addresses`, and on PostgreSQL
/// equality-only document predicates are prefixed with a `doc @> $n::jsonb` containment test
/// (a necessary condition the GIN index on `doc` can serve); neither changes the result.
pub fn compile_where(p: &Predicate, dialect: Dialect, first_param: usize) -> SqlFragment {
    sql::compile(&p.cond, p.doc_column, dialect, first_param)
}

/// A predicate that is exactly one lookup in an element side table (`addresses(country = …)`
/// and nothing else): the side table alone answers which rows match.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementLookup {
    /// The side table.
    pub table: &'static str,
    /// Its column holding the id of the matching row.
    pub owner_column: &'static str,
    /// Its column holding the project.
    pub project_column: &'static str,
    /// A boolean expression over the side table's columns: some row of the side table with
    /// this owner satisfies it exactly when the resource row satisfies the predicate.
    pub condition: SqlFragment,
}

/// The side-table form of `p` when `p` is one element-indexed lookup (see
/// [`ElementLookup`]); a capped count can then read the side table's index alone instead of
/// probing it once per resource row. Placeholders for PostgreSQL start at `$first_param`.
pub fn element_lookup(
    p: &Predicate,
    dialect: Dialect,
    first_param: usize,
) -> Option<ElementLookup> {
    let mut cond = &p.cond;
    while let check::Cond::And(items) = cond {
        match items.as_slice() {
            [one] => cond = one,
            _ => return None,
        }
    }
    match cond {
        check::Cond::Elements { index, inner, .. } => Some(ElementLookup {
            table: index.table,
            owner_column: index.owner_column,
            project_column: index.project_column,
            condition: sql::compile_columns(inner, dialect, first_param),
        }),
        _ => None,
    }
}

/// Compiles sort keys to an `ORDER BY` list (without the keywords), always ending in a unique
/// tie-breaker so paging is stable. No keys: the schema's `default_order_by`.
pub fn compile_order_by(keys: &[SortKey], dialect: Dialect, schema: &schema::Schema) -> String {
    sort::compile(keys, dialect, schema)
}

/// Evaluates a predicate against a resource's JSON representation (the test oracle).
pub fn evaluate(p: &Predicate, doc: &serde_json::Value) -> bool {
    eval::eval(&p.cond, doc)
}

#[cfg(test)]
mod tests;
