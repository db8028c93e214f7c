//! The Customer Search index in the database: keeping it (the flattened entries of
//! `clientele_query::search::index_entries` in `customer_search_values`, a marker per indexed
//! customer in `customer_search_docs`) inside the caller's write transaction, and answering a
//! checked [`SearchRequest`] with a page and a count statement written once for both databases.
//!
//! A search reads the index only, never the customer documents: its customers are those of
//! `customer_search_docs` (every customer, once search is activated). Each entry sits in one
//! lookup index `(project, field, lower_value, customer_id)` (numbers also in a numeric one) and
//! in its customer's key (SQLite clusters the table on it; PostgreSQL indexes it), so a part's
//! customers come out of the lookup index: case-sensitive tests narrow by `lower_value` and
//! compare `text_value` in what that finds (inside the index on SQLite, whose lookup index
//! carries the table's key; in the row on PostgreSQL), and the standard non-text fields keep
//! their text as `lower_value` (`lower_is_text`). Parts of an `and`
//! are intersected from the most selective one, found by a capped probe; a query that is one
//! index range (or an `and` driven by one) searches that range's customers only.
//!
//! This module is the one search interface of the store: an external engine would replace
//! [`index_customer`], [`index_customers`], [`search`] and [`index_missing`], nothing else. Must not open or end
//! transactions; must not decide who may search or when (the server does).

use clientele_query::search::{
    derived, edit_distance, index_entries, indexed, lower_is_text, term_fields, IndexEntry, Leaf,
    LeafTest, SearchHit, SearchQuery, SearchRequest, SearchValue, SortMode, SortTarget, ValueKind,
};

use clientele_domain::project_settings::ProjectSettings;

use crate::db::{insert_rows, Arg, Cell, Conn, Sql};
use crate::dialect::Dialect;
use crate::error::SqlxResultExt;
use crate::rows::to_u64;
use crate::StoreError;

/// Rows per `INSERT` of index entries: at most 6 arguments each, far below the bind limits
/// (SQLite 32,766, PostgreSQL 65,535), and few statements per activation batch.
const ROWS_PER_INSERT: usize = 1000;

/// Whether `project` has Customer Search switched on (activated or indexing), so that its
/// customer writes maintain the index. Read by the writes *after* they wrote the customer row:
/// on PostgreSQL a write that reads "off" committed its row lock before an activation's batch
/// could lock the customer, so the batch waits for it and indexes the document it wrote; a
/// write that reads "on" indexes and marks the customer itself. On SQLite writers are
/// serialized. Off, writes skip the index entirely (it costs SQLite most of its create
/// throughput, see docs/performance.md), and the next activation rebuilds it from scratch.
pub(crate) async fn enabled(conn: &mut Conn, project: &str) -> Result<bool, StoreError> {
    let sql = Sql::new("SELECT settings FROM projects WHERE key = $1").bind(project);
    let settings = conn.first::<(String,)>(sql, "read search status").await?;
    enabled_in(settings.as_ref().map(|(s,)| s.as_str()))
}

/// [`enabled`] from a `projects.settings` value read by the caller (`None`: no such project),
/// for writes that read it together with other things in one statement (the same rule about
/// when to read it applies).
pub(crate) fn enabled_in(settings: Option<&str>) -> Result<bool, StoreError> {
    let Some(settings) = settings else {
        return Ok(false);
    };
    let settings: ProjectSettings = serde_json::from_str(settings)
        .map_err(|e| StoreError::Backend(format!("project settings: {e}")))?;
    Ok(settings.customer_search_on())
}

/// Replaces the index entries of customer `id` with those of its API JSON `doc`, when the
/// project's search is on (`enabled`, read by the caller as [`enabled`] says). `previous` is
/// the document this write replaces, when the caller has it.
///
/// A customer's entries are always those of its stored document, written in the transaction
/// that wrote the document (or by [`index_missing`] under the customer's lock), and a customer
/// without a marker has none. So when the marker was already there and the previous document
/// is known, only the entries that differ between the two documents are deleted and inserted:
/// an update of one name touches a handful of index rows instead of all of them (each row is a
/// page of the lookup index written at a random place).
pub(crate) async fn index_customer(
    conn: &mut Conn,
    project: &str,
    id: &str,
    doc: &str,
    previous: Option<&str>,
    enabled: bool,
) -> Result<(), StoreError> {
    if !enabled {
        return Ok(());
    }
    let entries = entries_of(doc)?;
    let mark = Sql::new(
        "INSERT INTO customer_search_docs (customer_id, project) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(id)
    .bind(project);
    let newly_marked = conn.run(mark, "mark customer indexed").await? > 0;
    if newly_marked {
        // No marker, no entries: nothing to delete.
        return insert_entries(conn, project, &with_id(id, &entries)).await;
    }
    let old = previous.map(entries_of).transpose()?;
    // Past a few hundred changed pairs (a customer's many addresses replaced) the pairs'
    // `DELETE` would bind more arguments than the databases take, and saves nothing anyway.
    let changed = old
        .as_deref()
        .map(|old| changed_values(old, &entries))
        .filter(|changed| changed.len() <= CHANGED_PAIRS_AT_MOST);
    let Some(changed) = changed else {
        let sql = Sql::new("DELETE FROM customer_search_values WHERE customer_id = $1").bind(id);
        conn.run(sql, "delete search entries").await?;
        return insert_entries(conn, project, &with_id(id, &entries)).await;
    };
    if changed.is_empty() {
        return Ok(());
    }
    let mut text = String::from("DELETE FROM customer_search_values WHERE customer_id = $1 AND (");
    let mut sql_args: Vec<Arg> = vec![id.into()];
    for (i, (field, value)) in changed.iter().enumerate() {
        if i > 0 {
            text.push_str(" OR ");
        }
        sql_args.push((*field).into());
        sql_args.push((*value).into());
        text.push_str(&format!(
            "(field = ${} AND text_value = ${})",
            sql_args.len() - 1,
            sql_args.len()
        ));
    }
    text.push(')');
    conn.run(Sql::new(text).bind_all(sql_args), "delete search entries")
        .await?;
    let rows: Vec<(&str, &Keyed)> = entries
        .iter()
        .filter(|k| changed.contains(&(k.entry.field.as_str(), k.entry.text.as_str())))
        .map(|k| (id, k))
        .collect();
    insert_entries(conn, project, &rows).await
}

/// `entries` as rows of customer `id`.
fn with_id<'a>(id: &'a str, entries: &'a [Keyed]) -> Vec<(&'a str, &'a Keyed)> {
    entries.iter().map(|k| (id, k)).collect()
}

/// The most `(field, value)` pairs an update deletes one by one; more, and all of the
/// customer's entries are replaced.
const CHANGED_PAIRS_AT_MOST: usize = 200;

/// The `(field, value)` pairs whose number of entries differs between `old` and `new`: all
/// rows of such a pair are deleted and the new ones inserted (within one field, the value
/// decides the lowercase and numeric forms, so the pair identifies identical entries).
fn changed_values<'a>(
    old: &'a [Keyed],
    new: &'a [Keyed],
) -> std::collections::BTreeSet<(&'a str, &'a str)> {
    let mut counts: std::collections::BTreeMap<(&str, &str), i64> = Default::default();
    for k in old {
        *counts
            .entry((k.entry.field.as_str(), k.entry.text.as_str()))
            .or_default() -= 1;
    }
    for k in new {
        *counts
            .entry((k.entry.field.as_str(), k.entry.text.as_str()))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(pair, _)| pair)
        .collect()
}

/// [`index_customer`] for many customers of one write at once (the import's batches): their
/// old entries go in one statement and the new ones in a few multi-row statements, instead of
/// three or more statements per customer. `customers` are `(id, API JSON)`.
pub(crate) async fn index_customers(
    conn: &mut Conn,
    project: &str,
    customers: &[(&str, &str)],
) -> Result<(), StoreError> {
    if !enabled(conn, project).await? {
        return Ok(());
    }
    let mut entries = Vec::with_capacity(customers.len());
    for (id, doc) in customers {
        entries.push((*id, entries_of(doc)?));
    }
    for chunk in customers.chunks(ROWS_PER_INSERT * 10) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut sql = Sql::new(format!(
            "DELETE FROM customer_search_values WHERE customer_id IN ({})",
            list.join(", ")
        ));
        for (id, _) in chunk {
            sql = sql.bind(*id);
        }
        conn.run(sql, "delete search entries").await?;
    }
    let rows: Vec<(&str, &Keyed)> = entries
        .iter()
        .flat_map(|(id, es)| es.iter().map(move |k| (*id, k)))
        .collect();
    insert_entries(conn, project, &rows).await?;
    let marks: Vec<Vec<Cell>> = customers
        .iter()
        .map(|(id, _)| vec![(*id).into(), project.into()])
        .collect();
    insert_rows(
        conn,
        "INSERT INTO customer_search_docs (customer_id, project)",
        "ON CONFLICT (customer_id) DO NOTHING",
        marks,
    )
    .await
    .or_backend("mark customers indexed")?;
    Ok(())
}

/// An index entry with the ordinal that keeps its row's key `(customer_id, field, text_value,
/// dup)` unique.
struct Keyed {
    entry: IndexEntry,
    dup: i64,
}

/// The index rows of a customer's API JSON document: its index entries but the [`derived`] ones
/// (the terms of `all` and `fullName`, which a search reads from the fields they are made of:
/// about a quarter of a customer's entries, each a random page of the lookup index to write),
/// a repeated text entry once (no test, and no text sort, can tell two equal texts from one), a
/// repeated number once per occurrence (sorting by its sum or average counts each), numbered by
/// `dup`. The migration that introduced `dup` numbers existing rows by the same rule.
fn entries_of(doc: &str) -> Result<Vec<Keyed>, StoreError> {
    let doc: serde_json::Value = serde_json::from_str(doc)
        .map_err(|e| StoreError::Backend(format!("customer document: {e}")))?;
    let mut entries = index_entries(&doc);
    entries.retain(|e| !derived(&e.field));
    let mut seen: std::collections::HashMap<(&str, &str), i64> = Default::default();
    let mut dups = Vec::with_capacity(entries.len());
    for e in &entries {
        let n = seen.entry((e.field.as_str(), e.text.as_str())).or_default();
        dups.push((e.num.is_some() || *n == 0).then_some(*n));
        *n += 1;
    }
    Ok(entries
        .into_iter()
        .zip(dups)
        .filter_map(|(entry, dup)| dup.map(|dup| Keyed { entry, dup }))
        .collect())
}

/// Inserts `(customer id, entry)` rows, [`ROWS_PER_INSERT`] per statement.
async fn insert_entries(
    conn: &mut Conn,
    project: &str,
    rows: &[(&str, &Keyed)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        // Any error fails the caller's write, whose savepoint undoes it as a whole.
        let mut text = format!(
            "{} INTO customer_search_values \
             (project, customer_id, field, text_value, dup, lower_value, num_value) VALUES ",
            conn.dialect().batch_insert
        );
        let mut sql_args: Vec<Arg> = vec![project.into()];
        let mut arg = |a: Arg| {
            sql_args.push(a);
            format!("${}", sql_args.len())
        };
        for (i, (id, k)) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            let e = &k.entry;
            // Nearly every entry is the first of its key: a literal costs no argument.
            let dup = match k.dup {
                0 => "0".to_owned(),
                n => arg(Arg::Int(n)),
            };
            let id = arg((*id).into());
            let field = arg((&e.field).into());
            let value = arg((&e.text).into());
            // Most values are lowercase already: bind them once.
            let lower = if e.lower == e.text {
                value.clone()
            } else {
                arg((&e.lower).into())
            };
            // A typed NULL would have to be a float on PostgreSQL; a literal NULL needs no type.
            let num = match e.num {
                Some(v) => arg(Arg::Float(v)),
                None => "NULL".to_owned(),
            };
            text.push_str(&format!(
                "($1, {id}, {field}, {value}, {dup}, {lower}, {num})"
            ));
        }
        let mut sql = Sql::new(text);
        for a in sql_args {
            sql = sql.bind(a);
        }
        conn.run(sql, "insert search entries").await?;
    }
    Ok(())
}

/// Empties the index of `project`, in the transaction that switches its search on: entries
/// left from before a deactivation may be stale (writes skip the index while it is off).
pub(crate) async fn clear(conn: &mut Conn, project: &str) -> Result<(), StoreError> {
    for table in ["customer_search_values", "customer_search_docs"] {
        let sql = Sql::new(format!("DELETE FROM {table} WHERE project = $1")).bind(project);
        conn.run(sql, "clear search index").await?;
    }
    Ok(())
}

/// Indexes up to `batch` customers of `project` that have no entries yet (written before the
/// index existed) in one go, the first in id order above `after` (from the first when `None`):
/// their entries are computed in Rust and written by multi-row `INSERT`s, many customers per
/// statement. Returns how many customers it read and the id of the last one (`None`: no
/// unindexed customer above `after`).
///
/// An activation walks the customers once in id order (`after` = the last id of the previous
/// batch) instead of searching from the first customer again each time, which read every
/// already indexed customer again per batch (quadratic in the number of customers); the
/// customers' entries then arrive in the order of the SQLite table's key (`customer_id` first),
/// appended rather than inserted at random places. A customer created or written behind the
/// walk is indexed by its own write (search is on while indexing) or by the final pass from
/// the start (`after` = `None`), which finds nothing left in the common case.
///
/// A write to one of these customers concurrent with this batch is not lost: the customers
/// read are locked (`update_lock`; SQLite serializes writers anyway), so a writer waits and
/// then rewrites the entries itself, and a writer that committed first has marked its customer
/// indexed, which the marker insert (`ON CONFLICT DO NOTHING RETURNING`) reports, so this batch
/// skips it instead of adding the entries of the document it read. A customer without a marker
/// has no entries (both are written in one transaction), so nothing needs deleting first.
pub(crate) async fn index_missing(
    conn: &mut Conn,
    project: &str,
    after: Option<&str>,
    batch: u32,
) -> Result<(u64, Option<String>), StoreError> {
    let dialect = conn.dialect();
    let doc = (dialect.doc_out)("c.doc");
    let above = if after.is_some() {
        "AND c.id > $3 "
    } else {
        ""
    };
    let mut sql = Sql::new(format!(
        "SELECT c.id, {doc} FROM customers c WHERE c.project = $1 {above}AND NOT EXISTS \
         (SELECT 1 FROM customer_search_docs d WHERE d.customer_id = c.id) \
         ORDER BY c.id LIMIT $2{}",
        dialect.update_lock
    ))
    .bind(project)
    .bind(i64::from(batch));
    if let Some(after) = after {
        sql = sql.bind(after);
    }
    let found: Vec<(String, String)> = conn.rows(sql, "find unindexed customers").await?;
    let mut marked = std::collections::HashSet::new();
    for chunk in found.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (2..chunk.len() + 2)
            .map(|n| format!("(${n}, $1)"))
            .collect();
        let sql = Sql::new(format!(
            "INSERT INTO customer_search_docs (customer_id, project) VALUES {} \
             ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id",
            values.join(", ")
        ))
        .bind(project)
        .bind_all(chunk.iter().map(|(id, _)| id));
        let rows = conn
            .rows::<(String,)>(sql, "mark customers indexed")
            .await?;
        marked.extend(rows.into_iter().map(|(id,)| id));
    }
    let mut entries = Vec::new();
    for (id, doc) in found.iter().filter(|(id, _)| marked.contains(id)) {
        entries.push((id.as_str(), entries_of(doc)?));
    }
    let rows: Vec<(&str, &Keyed)> = entries
        .iter()
        .flat_map(|(id, es)| es.iter().map(move |k| (*id, k)))
        .collect();
    insert_entries(conn, project, &rows).await?;
    let last = found.last().map(|(id, _)| id.clone());
    Ok((u64::try_from(found.len()).unwrap_or(u64::MAX), last))
}

/// How many customers of `project` are indexed, and how many there are.
pub(crate) async fn progress(conn: &mut Conn, project: &str) -> Result<(u64, u64), StoreError> {
    let sql = Sql::new("SELECT COUNT(*) FROM customer_search_docs WHERE project = $1");
    let indexed = conn
        .int(sql.bind(project), "count indexed customers")
        .await?;
    let sql = Sql::new("SELECT COUNT(*) FROM customers WHERE project = $1");
    let total = conn.int(sql.bind(project), "count customers").await?;
    Ok((
        to_u64(indexed, "indexed customers")?,
        to_u64(total, "customers")?,
    ))
}

/// Most index entries a selectivity probe reads; an `and` part below it drives the search.
const PROBE_CAP: i64 = 1000;

/// How [`Builder::having`] tests a customer's entries.
#[derive(Clone, Copy, PartialEq)]
enum Lookup {
    /// `c.customer_id IN (…)`: the matching customers as one set, built once from the index.
    Set,
    /// `EXISTS (…)` on the customer's own entries: cheap when few customers are tested.
    PerCustomer,
    /// The bare `SELECT customer_id …` (for a selectivity probe).
    Bare,
    /// The customers searched: a `SELECT DISTINCT customer_id …` kept as the builder's
    /// `source`, the test itself then always holds.
    Source,
}

/// Builds one statement's text and arguments; `$1` is always the project.
struct Builder {
    args: Vec<Arg>,
    dialect: &'static Dialect,
    lookup: Lookup,
    /// How many entries each probed leaf (by address) matched, capped at `PROBE_CAP + 1`.
    estimates: Vec<(usize, i64)>,
    /// Whether the next query built is the request's whole query.
    root: bool,
    /// The customers to search when a part of the query gives them (see `Lookup::Source`);
    /// otherwise every indexed customer of the project.
    source: Option<String>,
}

impl Builder {
    /// A builder of a statement over `project`'s entries that tests customers by `lookup`.
    fn new(project: &str, dialect: &'static Dialect, lookup: Lookup) -> Self {
        Builder {
            args: vec![project.into()],
            dialect,
            lookup,
            estimates: Vec::new(),
            root: false,
            source: None,
        }
    }

    /// Binds `a`; its placeholder.
    fn arg(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }

    fn value(&mut self, v: &SearchValue) -> String {
        match v {
            SearchValue::Text(s) => self.arg(s.as_str()),
            SearchValue::Number(n) => self.arg(Arg::Float(*n)),
        }
    }

    /// Customers with an entry of `field` satisfying `test` (SQL over the entry's columns).
    fn having(&mut self, field: &str, test: &str) -> String {
        self.having_any(&[field.to_owned()], test)
    }

    /// Customers with an entry of one of `fields` satisfying `test`: the terms of a derived
    /// field are those of the fields it is made of (`term_fields`). One field keeps the plain
    /// `field = $n` of every other test.
    fn having_any(&mut self, fields: &[String], test: &str) -> String {
        let f = match fields {
            [one] => format!("= {}", self.arg(one.as_str())),
            many => {
                let list: Vec<String> = many.iter().map(|f| self.arg(f.as_str())).collect();
                format!("IN ({})", list.join(", "))
            }
        };
        let test = if test.is_empty() {
            String::new()
        } else {
            format!(" AND {test}")
        };
        match self.lookup {
            Lookup::Set => format!(
                "c.customer_id IN (SELECT customer_id FROM customer_search_values \
                 WHERE project = $1 AND field {f}{test})"
            ),
            Lookup::PerCustomer => format!(
                "EXISTS (SELECT 1 FROM customer_search_values s \
                 WHERE s.customer_id = c.customer_id AND s.field {f}{test})"
            ),
            Lookup::Bare => format!(
                "SELECT customer_id FROM customer_search_values \
                 WHERE project = $1 AND field {f}{test}"
            ),
            Lookup::Source => {
                self.source = Some(format!(
                    "SELECT DISTINCT customer_id FROM customer_search_values \
                     WHERE project = $1 AND field {f}{test}"
                ));
                "1 = 1".to_owned()
            }
        }
    }

    /// The part of an `and` (or `filter`) to build as a set: a leaf a probe found to match
    /// few entries (the fewest). The others are then tested per customer of that set instead
    /// of being built as sets of their own, which may be large.
    fn driver(&self, qs: &[SearchQuery]) -> Option<usize> {
        qs.iter()
            .enumerate()
            .filter_map(|(i, q)| match q {
                SearchQuery::Leaf(leaf) => self
                    .estimates
                    .iter()
                    .find(|(l, _)| *l == leaf_address(leaf))
                    .map(|(_, n)| (i, *n)),
                _ => None,
            })
            .filter(|(_, n)| *n <= PROBE_CAP)
            .min_by_key(|(_, n)| *n)
            .map(|(i, _)| i)
    }

    /// The parts of an `and` (or `filter`): the driver as a set (as the searched customers
    /// when the `and` is the whole query), the rest per customer.
    fn all_of(
        &mut self,
        qs: &[SearchQuery],
        root: bool,
        fuzzy: &mut dyn FnMut(&str, &str, u8) -> Vec<String>,
    ) -> Vec<(String, String)> {
        let driver = if self.lookup == Lookup::Set {
            self.driver(qs)
        } else {
            None
        };
        let mut parts = Vec::with_capacity(qs.len());
        for (i, q) in qs.iter().enumerate() {
            let outer = self.lookup;
            match driver {
                Some(d) if d != i => self.lookup = Lookup::PerCustomer,
                Some(_) if root => self.lookup = Lookup::Source,
                _ => {}
            }
            parts.push(self.query(q, fuzzy));
            self.lookup = outer;
        }
        parts
    }

    /// `column` starts with `value`: a range the index serves, made exact by `substr`.
    fn starts_with(&mut self, column: &str, value: &str) -> String {
        let v = self.arg(value);
        let len = value.chars().count();
        let upper = match prefix_bound(value) {
            Some(bound) => format!(" AND {column} < {}", self.arg(bound.as_str())),
            None => String::new(),
        };
        format!("({column} >= {v}{upper} AND substr({column}, 1, {len}) = {v})")
    }

    /// `(condition, score)` of a query: the score is meaningful where the condition holds.
    fn query(
        &mut self,
        q: &SearchQuery,
        fuzzy: &mut dyn FnMut(&str, &str, u8) -> Vec<String>,
    ) -> (String, String) {
        let mut parts = |qs: &[SearchQuery], b: &mut Builder| -> Vec<(String, String)> {
            qs.iter().map(|q| b.query(q, fuzzy)).collect()
        };
        let root = std::mem::replace(&mut self.root, false);
        match q {
            SearchQuery::And(qs) => {
                let p = self.all_of(qs, root, fuzzy);
                (join(&p, " AND ", |x| &x.0), join(&p, " + ", |x| &x.1))
            }
            SearchQuery::Or(qs) => {
                let p = parts(qs, self);
                let score = p
                    .iter()
                    .map(|(c, s)| format!("CASE WHEN {c} THEN {s} ELSE 0.0 END"))
                    .collect::<Vec<_>>()
                    .join(" + ");
                (join(&p, " OR ", |x| &x.0), format!("({score})"))
            }
            SearchQuery::Not(qs) => {
                let p = parts(qs, self);
                (
                    format!("NOT {}", join(&p, " OR ", |x| &x.0)),
                    "0.0".to_owned(),
                )
            }
            SearchQuery::Filter(qs) => {
                let p = self.all_of(qs, root, fuzzy);
                (join(&p, " AND ", |x| &x.0), "0.0".to_owned())
            }
            SearchQuery::Leaf(leaf) => {
                // A whole query of one index range gives the searched customers itself.
                let one_range = !matches!(
                    leaf.test,
                    LeafTest::FullText { .. } | LeafTest::Fuzzy { .. }
                );
                if root && one_range && self.lookup == Lookup::Set {
                    self.lookup = Lookup::Source;
                    let built = self.leaf(leaf, fuzzy);
                    self.lookup = Lookup::Set;
                    built
                } else {
                    self.leaf(leaf, fuzzy)
                }
            }
        }
    }

    fn leaf(
        &mut self,
        leaf: &Leaf,
        fuzzy: &mut dyn FnMut(&str, &str, u8) -> Vec<String>,
    ) -> (String, String) {
        let name = leaf.field.name.as_str();
        let terms_fields = term_fields(name);
        // Standard non-text fields keep their text as `lower_value` (`lower_is_text`).
        let verbatim = lower_is_text(&leaf.field);
        let column = |ci: bool| {
            if ci || verbatim {
                "lower_value"
            } else {
                "text_value"
            }
        };
        let value_column = if leaf.field.kind == ValueKind::Number {
            "num_value"
        } else {
            column(false)
        };
        // A literal, not a parameter: scores of `not` and `filter` parts are dropped, and a
        // parameter no statement text names is refused by SQLite.
        let boost = format!("CAST({:?} AS DOUBLE PRECISION)", leaf.boost);
        let one = |cond: String| (cond, boost.clone());
        match &leaf.test {
            LeafTest::Exact {
                values,
                case_insensitive,
            } => {
                let col = if leaf.field.kind == ValueKind::Number {
                    "num_value"
                } else {
                    column(*case_insensitive)
                };
                let list: Vec<String> = values.iter().map(|v| self.value(v)).collect();
                let mut test = format!("{col} IN ({})", list.join(", "));
                if col == "text_value" {
                    // The lookup index orders `lower_value`: an entry whose text is one of
                    // the values has that value's lowercase form (values are far shorter than
                    // the indexed cut).
                    let lowered: Vec<String> = values
                        .iter()
                        .map(|v| match v {
                            SearchValue::Text(t) => self.arg(indexed(&t.to_lowercase())),
                            SearchValue::Number(n) => self.arg(Arg::Float(*n)),
                        })
                        .collect();
                    test = format!("lower_value IN ({}) AND {test}", lowered.join(", "));
                }
                one(self.having(name, &test))
            }
            LeafTest::Prefix {
                value,
                case_insensitive,
            } => {
                let col = column(*case_insensitive);
                let mut test = self.starts_with(col, value);
                if col == "text_value" {
                    // Narrowed by the lookup index: the lowercase form of a text starting
                    // with `value` starts with `value`'s lowercase form up to its first 'Σ'
                    // (the one character lowercased by what follows it).
                    let lowered = lower_prefix(value);
                    if !lowered.is_empty() {
                        test = format!("{} AND {test}", self.starts_with("lower_value", &lowered));
                    }
                }
                one(self.having(name, &test))
            }
            LeafTest::Wildcard {
                pattern,
                case_insensitive,
            } => {
                let translated = (self.dialect.wildcard_pattern)(pattern);
                self.arg(&translated);
                let n = self.args.len();
                let test = (self.dialect.wildcard)(column(*case_insensitive), n);
                one(self.having(name, &test))
            }
            LeafTest::Exists => one(self.having(name, "")),
            LeafTest::Range { gt, gte, lt, lte } => {
                let mut tests = Vec::new();
                for (bound, op) in [(gt, ">"), (gte, ">="), (lt, "<"), (lte, "<=")] {
                    if let Some(v) = bound {
                        let v = self.value(v);
                        tests.push(format!("{value_column} {op} {v}"));
                    }
                }
                one(self.having(name, &tests.join(" AND ")))
            }
            LeafTest::FullText {
                terms,
                all,
                last_is_prefix,
            } => {
                let last = terms.len().saturating_sub(1);
                let conds: Vec<String> = terms
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let test = if *last_is_prefix && i == last {
                            self.starts_with("lower_value", t)
                        } else {
                            let v = self.arg(t.as_str());
                            format!("lower_value = {v}")
                        };
                        self.having_any(&terms_fields, &test)
                    })
                    .collect();
                terms_score(&conds, *all, &boost)
            }
            LeafTest::Fuzzy { terms, all } => {
                let conds: Vec<String> = terms
                    .iter()
                    .map(|(t, level)| {
                        let candidates = if *level == 0 {
                            vec![t.clone()]
                        } else {
                            fuzzy(name, t, *level)
                        };
                        if candidates.is_empty() {
                            return "1 = 0".to_owned();
                        }
                        // One JSON array argument, however many candidates (tens of
                        // thousands at level 2 over a large index).
                        let list = serde_json::Value::from(candidates).to_string();
                        self.arg(list.as_str());
                        let test = (self.dialect.text_in)("lower_value", self.args.len());
                        self.having_any(&terms_fields, &test)
                    })
                    .collect();
                terms_score(&conds, *all, &boost)
            }
        }
    }

    /// The sort key expression of a field (`NULL` when the customer has no value).
    fn sort_key(&mut self, field: &str, kind: ValueKind, mode: SortMode) -> String {
        let f = self.arg(field);
        let (agg, col) = match (kind, mode) {
            (ValueKind::Number, SortMode::Min) => ("MIN", "num_value"),
            (ValueKind::Number, SortMode::Max) => ("MAX", "num_value"),
            (ValueKind::Number, SortMode::Avg) => ("AVG", "num_value"),
            (ValueKind::Number, SortMode::Sum) => ("SUM", "num_value"),
            (_, SortMode::Max) => ("MAX", "text_value"),
            _ => ("MIN", "text_value"),
        };
        format!(
            "(SELECT {agg}({col}) FROM customer_search_values s \
             WHERE s.customer_id = c.customer_id AND s.field = {f})"
        )
    }
}

/// What the lowercase form of every text starting with `prefix` starts with: `prefix` up to its
/// first 'Σ', lowercased character by character (`str::to_lowercase` lowercases each
/// character on its own but 'Σ', whose form depends on the characters after it), cut as
/// index entries are.
fn lower_prefix(prefix: &str) -> String {
    let lowered: String = prefix
        .chars()
        .take_while(|c| *c != 'Σ')
        .flat_map(char::to_lowercase)
        .collect();
    indexed(&lowered).to_owned()
}

/// The least text above every text starting with `prefix` in bytewise (code point) order:
/// `prefix` with its last character raised by one, so an index range ends there instead of
/// at the end of the field. `None` when there is no such character to raise.
fn prefix_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `(condition, score)` of a term test: every term (or any) must match; the score counts the
/// matched terms.
fn terms_score(conds: &[String], all: bool, boost: &str) -> (String, String) {
    if all {
        (
            format!("({})", conds.join(" AND ")),
            format!("({boost} * {})", conds.len()),
        )
    } else {
        let count = conds
            .iter()
            .map(|c| format!("CASE WHEN {c} THEN 1 ELSE 0 END"))
            .collect::<Vec<_>>()
            .join(" + ");
        (
            format!("({})", conds.join(" OR ")),
            format!("({boost} * ({count}))"),
        )
    }
}

fn join(parts: &[(String, String)], sep: &str, pick: fn(&(String, String)) -> &String) -> String {
    format!(
        "({})",
        parts
            .iter()
            .map(pick)
            .cloned()
            .collect::<Vec<_>>()
            .join(sep)
    )
}

/// Whether every customer `q` matches gets the same relevance: then ordering by relevance
/// orders nothing, and leaving it out lets the page come straight off an index in `id` order
/// instead of sorting every hit.
fn constant_score(q: &SearchQuery) -> bool {
    match q {
        SearchQuery::And(qs) => qs.iter().all(constant_score),
        SearchQuery::Or(_) => false,
        SearchQuery::Not(_) | SearchQuery::Filter(_) => true,
        SearchQuery::Leaf(leaf) => match &leaf.test {
            LeafTest::FullText { terms, all, .. } => *all || terms.len() == 1,
            LeafTest::Fuzzy { terms, all } => *all || terms.len() == 1,
            _ => true,
        },
    }
}

/// Every fuzzy term of `q` as (field, term, level), for resolving candidates first.
fn fuzzy_terms(q: &SearchQuery, out: &mut Vec<(String, String, u8)>) {
    match q {
        SearchQuery::And(qs)
        | SearchQuery::Or(qs)
        | SearchQuery::Not(qs)
        | SearchQuery::Filter(qs) => {
            for q in qs {
                fuzzy_terms(q, out);
            }
        }
        SearchQuery::Leaf(Leaf {
            field,
            test: LeafTest::Fuzzy { terms, .. },
            ..
        }) => {
            for (t, level) in terms {
                if *level > 0 {
                    out.push((field.name.clone(), t.clone(), *level));
                }
            }
        }
        SearchQuery::Leaf(_) => {}
    }
}

/// The indexed terms of the searchable field `field` within `level` edits of `term`.
async fn fuzzy_candidates(
    conn: &mut Conn,
    project: &str,
    field: &str,
    term: &str,
    level: u8,
) -> Result<Vec<String>, StoreError> {
    let len = term.chars().count() as i64;
    let level_i = i64::from(level);
    let fields = term_fields(field);
    let list: Vec<String> = (0..fields.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = Sql::new(format!(
        "SELECT DISTINCT lower_value FROM customer_search_values \
         WHERE project = $1 AND length(lower_value) BETWEEN $2 AND $3 AND field IN ({})",
        list.join(", ")
    ))
    .bind(project)
    .bind(len - level_i)
    .bind(len + level_i)
    .bind_all(&fields);
    let rows = conn.rows::<(String,)>(sql, "fuzzy candidates").await?;
    Ok(rows
        .into_iter()
        .map(|(t,)| t)
        .filter(|t| edit_distance(t, term) <= usize::from(level))
        .collect())
}

/// The leaves of `q` worth probing: simple ones (`exact`, `prefix`, `range`: one index range
/// each) that are direct parts of an `and` or `filter`.
fn probe_leaves<'q>(q: &'q SearchQuery, out: &mut Vec<&'q Leaf>) {
    match q {
        SearchQuery::And(qs) | SearchQuery::Filter(qs) => {
            for part in qs {
                if let SearchQuery::Leaf(leaf) = part {
                    if matches!(
                        leaf.test,
                        LeafTest::Exact { .. } | LeafTest::Prefix { .. } | LeafTest::Range { .. }
                    ) {
                        out.push(leaf);
                    }
                }
            }
            qs.iter().for_each(|q| probe_leaves(q, out));
        }
        SearchQuery::Or(qs) | SearchQuery::Not(qs) => {
            qs.iter().for_each(|q| probe_leaves(q, out));
        }
        SearchQuery::Leaf(_) => {}
    }
}

/// Names a leaf of the request being built (its address: the request outlives the build).
fn leaf_address(leaf: &Leaf) -> usize {
    std::ptr::from_ref(leaf) as usize
}

/// How many index entries `leaf` matches, read from its index range up to `PROBE_CAP + 1`.
async fn probe(conn: &mut Conn, project: &str, leaf: &Leaf) -> Result<i64, StoreError> {
    let mut b = Builder::new(project, conn.dialect(), Lookup::Bare);
    let (set, _) = b.leaf(leaf, &mut |_, _, _| Vec::new());
    let sql = format!("SELECT COUNT(*) FROM ({set} LIMIT {}) t", PROBE_CAP + 1);
    conn.int(Sql::new(sql).bind_all(b.args), "probe search part")
        .await
}

/// Answers `request` over `project`'s index: the total and one page of hits.
pub(crate) async fn search(
    conn: &mut Conn,
    project: &str,
    request: &SearchRequest,
) -> Result<(u64, Vec<SearchHit>), StoreError> {
    let mut wanted = Vec::new();
    if let Some(q) = &request.query {
        fuzzy_terms(q, &mut wanted);
    }
    // One lookup per distinct (field, term, level), however often the query repeats it.
    wanted.sort();
    wanted.dedup();
    let mut resolved: Vec<((String, String, u8), Vec<String>)> = Vec::new();
    for key in wanted {
        let found = fuzzy_candidates(conn, project, &key.0, &key.1, key.2).await?;
        resolved.push((key, found));
    }
    let mut lookup = |field: &str, term: &str, level: u8| {
        resolved
            .iter()
            .find(|(k, _)| k.0 == field && k.1 == term && k.2 == level)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut leaves = Vec::new();
    if let Some(q) = &request.query {
        probe_leaves(q, &mut leaves);
    }
    let mut b = Builder::new(project, conn.dialect(), Lookup::Set);
    b.root = true;
    for leaf in leaves {
        let n = probe(conn, project, leaf).await?;
        b.estimates.push((leaf_address(leaf), n));
    }
    let (cond, score) = match &request.query {
        Some(q) => b.query(q, &mut lookup),
        None => ("1 = 1".to_owned(), "1.0".to_owned()),
    };
    // Index rows exist only for indexed customers of their project, so a source needs no
    // project test.
    let from = match b.source.take() {
        Some(source) => format!("({source}) c WHERE {cond}"),
        None => format!("customer_search_docs c WHERE c.project = $1 AND {cond}"),
    };
    let count_args = b.args.clone();
    let mut keys = Vec::new();
    let mut order = Vec::new();
    let by_score = !request.query.as_ref().is_none_or(constant_score);
    if request.sort.is_empty() && by_score {
        order.push("score DESC".to_owned());
    }
    for s in &request.sort {
        let dir = if s.desc { "DESC" } else { "ASC" };
        match &s.target {
            SortTarget::Score if !by_score => {}
            SortTarget::Score => order.push(format!("score {dir}")),
            SortTarget::Field(field, mode) => {
                let k = format!("k{}", keys.len());
                keys.push(format!(
                    ", {} AS {k}",
                    b.sort_key(&field.name, field.kind, *mode)
                ));
                // Customers without a value come last in either direction.
                order.push(format!("({k} IS NULL), {k} {dir}"));
            }
        }
    }
    order.push("id ASC".to_owned());
    let select = format!(
        "SELECT id, score FROM (SELECT c.customer_id AS id, \
         CAST({score} AS DOUBLE PRECISION) AS score{} \
         FROM {from}) t ORDER BY {} LIMIT {} OFFSET {}",
        keys.concat(),
        order.join(", "),
        request.limit,
        request.offset
    );
    let sql = Sql::new(select).bind_all(b.args);
    let rows: Vec<(String, f64)> = conn.rows(sql, "search customers").await?;
    let hits = rows
        .into_iter()
        .map(|(id, relevance)| SearchHit { id, relevance })
        .collect();
    // `from` names every argument but the sort keys' (scores only repeat parts of its
    // condition), and counting needs no score.
    let count = Sql::new(format!("SELECT COUNT(*) FROM {from}")).bind_all(count_args);
    let total = conn.int(count, "count search hits").await?;
    Ok((to_u64(total, "search hits")?, hits))
}

#[cfg(test)]
mod tests {
    use super::prefix_bound;

    #[test]
    fn a_prefix_bound_is_above_every_text_with_the_prefix_and_below_the_rest() {
        assert_eq!(prefix_bound("seed-42").as_deref(), Some("seed-43"));
        assert_eq!(prefix_bound("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_bound(""), None);
        let bound = prefix_bound("ab").unwrap();
        for inside in ["ab", "ab\u{10FFFF}", "abz"] {
            assert!(inside < bound.as_str(), "{inside}");
        }
        assert!("ac" >= bound.as_str());
    }
}
