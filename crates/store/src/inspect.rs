//! Test support: the exact statements a page query runs, so tests can `EXPLAIN` them.
//!
//! Built by the same [`PageSql::build`] and [`PageTarget`] constructors the backends call in
//! `query_customers` / `query_messages`, so what the plan tests look at cannot drift from what
//! production runs. Not part of the supported API (hidden from the docs).

use clientele_query::schema::{customer_schema, message_schema};
use clientele_query::{Dialect, SqlParam};

use crate::rows::{PageSql, PageTarget};
use crate::{ResourceQuery, StoreError};

/// Which listing a page query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `query_customers`.
    Customers,
    /// `query_messages`.
    Messages,
}

/// The statements `query_customers` (or `query_messages`) runs for `query` in `project` on a
/// backend of `dialect`, in order: the page `SELECT`, then the count when `with_total` is set.
/// Each comes with its parameters in placeholder order.
pub fn page_statements(
    dialect: Dialect,
    listing: Listing,
    project: &str,
    query: &ResourceQuery,
) -> Result<Vec<(String, Vec<SqlParam>)>, StoreError> {
    let sql = match listing {
        Listing::Customers => {
            let schema = customer_schema();
            PageSql::build(&PageTarget::customers(dialect, &schema), project, query)?
        }
        Listing::Messages => {
            let schema = message_schema();
            PageSql::build(&PageTarget::messages(dialect, &schema), project, query)?
        }
    };
    let mut out = vec![(sql.select, sql.select_params)];
    out.extend(sql.count);
    Ok(out)
}
