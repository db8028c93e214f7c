//! The Customer Search index in the database: keeping it (the flattened entries of
//! `clientele_query::search::index_entries` in `customer_search_values`, a marker per indexed
//! customer in `customer_search_docs`) inside the caller's write transaction, and answering a
//! checked [`SearchRequest`] with one SQL statement written once for both databases.
//!
//! This module is the one search interface of the store: an external engine would replace
//! [`index_customer`], [`search`] and [`index_missing`], nothing else. Must not open or end
//! transactions; must not decide who may search or when (the server does).

use clientele_query::search::{
    edit_distance, index_entries, IndexEntry, Leaf, LeafTest, SearchHit, SearchQuery,
    SearchRequest, SearchValue, SortMode, SortTarget, ValueKind, TOKEN_PREFIX,
};

use crate::db::{Arg, Conn, Sql};
use crate::error::SqlxResultExt;
use crate::StoreError;

/// Rows per `INSERT` when writing a customer's entries.
const ROWS_PER_INSERT: usize = 100;

/// Replaces the index entries of customer `id` with those of its API JSON `doc`.
pub(crate) async fn index_customer(
    conn: &mut Conn,
    project: &str,
    id: &str,
    doc: &str,
) -> Result<(), StoreError> {
    let doc: serde_json::Value = serde_json::from_str(doc)
        .map_err(|e| StoreError::Backend(format!("customer document: {e}")))?;
    conn.execute(Sql::new("DELETE FROM customer_search_values WHERE customer_id = $1").bind(id))
        .await
        .or_backend("delete search entries")?;
    let entries = index_entries(&doc);
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        insert_entries(conn, project, id, chunk).await?;
    }
    conn.execute(
        Sql::new(
            "INSERT INTO customer_search_docs (customer_id, project) VALUES ($1, $2) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(id)
        .bind(project),
    )
    .await
    .or_backend("mark customer indexed")?;
    Ok(())
}

async fn insert_entries(
    conn: &mut Conn,
    project: &str,
    id: &str,
    entries: &[IndexEntry],
) -> Result<(), StoreError> {
    let mut text = String::from(
        "INSERT INTO customer_search_values \
         (project, customer_id, field, text_value, lower_value, num_value) VALUES ",
    );
    let mut sql_args: Vec<Arg> = vec![project.into(), id.into()];
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let n = sql_args.len();
        sql_args.push((&e.field).into());
        sql_args.push((&e.text).into());
        sql_args.push((&e.lower).into());
        // A typed NULL would have to be a float on PostgreSQL; a literal NULL needs no type.
        let num = match e.num {
            Some(v) => {
                sql_args.push(Arg::Float(v));
                format!("${}", n + 4)
            }
            None => "NULL".to_owned(),
        };
        text.push_str(&format!(
            "($1, $2, ${}, ${}, ${}, {num})",
            n + 1,
            n + 2,
            n + 3
        ));
    }
    let mut sql = Sql::new(text);
    for a in sql_args {
        sql = sql.bind(a);
    }
    conn.execute(sql)
        .await
        .or_backend("insert search entries")?;
    Ok(())
}

/// Indexes up to `batch` customers of `project` that have no entries yet (written before the
/// index existed); how many it indexed.
pub(crate) async fn index_missing(
    conn: &mut Conn,
    project: &str,
    batch: u32,
) -> Result<u64, StoreError> {
    let doc = (conn.dialect().doc_out)("c.doc");
    let rows = conn
        .all(
            Sql::new(format!(
                "SELECT c.id, {doc} FROM customers c WHERE c.project = $1 AND NOT EXISTS \
                 (SELECT 1 FROM customer_search_docs d WHERE d.customer_id = c.id) \
                 ORDER BY c.id LIMIT $2"
            ))
            .bind(project)
            .bind(i64::from(batch)),
        )
        .await
        .or_backend("find unindexed customers")?;
    let mut done = 0;
    for r in rows {
        let (id, doc): (String, String) = (|| Ok::<_, sqlx::Error>((r.get(0)?, r.get(1)?)))()
            .or_backend("read unindexed customer")?;
        index_customer(conn, project, &id, &doc).await?;
        done += 1;
    }
    Ok(done)
}

/// How many customers of `project` are indexed, and how many there are.
pub(crate) async fn progress(conn: &mut Conn, project: &str) -> Result<(u64, u64), StoreError> {
    let indexed = conn
        .int(Sql::new("SELECT COUNT(*) FROM customer_search_docs WHERE project = $1").bind(project))
        .await
        .or_backend("count indexed customers")?;
    let total = conn
        .int(Sql::new("SELECT COUNT(*) FROM customers WHERE project = $1").bind(project))
        .await
        .or_backend("count customers")?;
    Ok((
        u64::try_from(indexed).unwrap_or_default(),
        u64::try_from(total).unwrap_or_default(),
    ))
}

/// Builds one statement's text and arguments; `$1` is always the project.
struct Builder {
    args: Vec<Arg>,
    wildcard: fn(&str, usize) -> String,
    wildcard_pattern: fn(&str) -> String,
}

impl Builder {
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
        let f = self.arg(field);
        let test = if test.is_empty() {
            String::new()
        } else {
            format!(" AND {test}")
        };
        format!(
            "c.id IN (SELECT customer_id FROM customer_search_values \
             WHERE project = $1 AND field = {f}{test})"
        )
    }

    /// `column` starts with `value`: a range the index serves, made exact by `substr`.
    fn starts_with(&mut self, column: &str, value: &str) -> String {
        let v = self.arg(value);
        let len = value.chars().count();
        format!("({column} >= {v} AND substr({column}, 1, {len}) = {v})")
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
        match q {
            SearchQuery::And(qs) => {
                let p = parts(qs, self);
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
                let p = parts(qs, self);
                (join(&p, " AND ", |x| &x.0), "0.0".to_owned())
            }
            SearchQuery::Leaf(leaf) => self.leaf(leaf, fuzzy),
        }
    }

    fn leaf(
        &mut self,
        leaf: &Leaf,
        fuzzy: &mut dyn FnMut(&str, &str, u8) -> Vec<String>,
    ) -> (String, String) {
        let name = leaf.field.name.as_str();
        let terms_field = format!("{TOKEN_PREFIX}{name}");
        let column = |ci: bool| if ci { "lower_value" } else { "text_value" };
        let value_column = if leaf.field.kind == ValueKind::Number {
            "num_value"
        } else {
            "text_value"
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
                let cond = self.having(name, &format!("{col} IN ({})", list.join(", ")));
                one(cond)
            }
            LeafTest::Prefix {
                value,
                case_insensitive,
            } => {
                let test = self.starts_with(column(*case_insensitive), value);
                one(self.having(name, &test))
            }
            LeafTest::Wildcard {
                pattern,
                case_insensitive,
            } => {
                let translated = (self.wildcard_pattern)(pattern);
                self.arg(&translated);
                let n = self.args.len();
                let test = (self.wildcard)(column(*case_insensitive), n);
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
                        self.having(&terms_field, &test)
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
                            fuzzy(&terms_field, t, *level)
                        };
                        if candidates.is_empty() {
                            return "1 = 0".to_owned();
                        }
                        let list: Vec<String> =
                            candidates.iter().map(|c| self.arg(c.as_str())).collect();
                        self.having(
                            &terms_field,
                            &format!("lower_value IN ({})", list.join(", ")),
                        )
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
             WHERE s.customer_id = c.id AND s.field = {f})"
        )
    }
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

/// Every fuzzy term of `q` as (terms field, term, level), for resolving candidates first.
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
                    out.push((format!("{TOKEN_PREFIX}{}", field.name), t.clone(), *level));
                }
            }
        }
        SearchQuery::Leaf(_) => {}
    }
}

/// The indexed terms of `field` within `level` edits of `term`.
async fn fuzzy_candidates(
    conn: &mut Conn,
    project: &str,
    field: &str,
    term: &str,
    level: u8,
) -> Result<Vec<String>, StoreError> {
    let len = term.chars().count() as i64;
    let level_i = i64::from(level);
    let rows = conn
        .all(
            Sql::new(
                "SELECT DISTINCT lower_value FROM customer_search_values \
                 WHERE project = $1 AND field = $2 AND length(lower_value) BETWEEN $3 AND $4",
            )
            .bind(project)
            .bind(field)
            .bind(len - level_i)
            .bind(len + level_i),
        )
        .await
        .or_backend("fuzzy candidates")?;
    let mut out = Vec::new();
    for r in rows {
        let t: String = r.get(0).or_backend("read fuzzy candidate")?;
        if edit_distance(&t, term) <= usize::from(level) {
            out.push(t);
        }
    }
    Ok(out)
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
    let dialect = conn.dialect();
    let mut b = Builder {
        args: vec![project.into()],
        wildcard: dialect.wildcard,
        wildcard_pattern: dialect.wildcard_pattern,
    };
    let (cond, score) = match &request.query {
        Some(q) => b.query(q, &mut lookup),
        None => ("1 = 1".to_owned(), "1.0".to_owned()),
    };
    let count_args = b.args.clone();
    let mut keys = Vec::new();
    let mut order = Vec::new();
    if request.sort.is_empty() {
        order.push("score DESC".to_owned());
    }
    for s in &request.sort {
        let dir = if s.desc { "DESC" } else { "ASC" };
        match &s.target {
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
        "SELECT id, score FROM (SELECT c.id AS id, CAST({score} AS DOUBLE PRECISION) AS score{} \
         FROM customers c WHERE c.project = $1 AND {cond}) t ORDER BY {} LIMIT {} OFFSET {}",
        keys.concat(),
        order.join(", "),
        request.limit,
        request.offset
    );
    let mut sql = Sql::new(select);
    for a in b.args {
        sql = sql.bind(a);
    }
    let rows = conn.all(sql).await.or_backend("search customers")?;
    let hits = rows
        .iter()
        .map(|r| {
            Ok(SearchHit {
                id: r.get(0)?,
                relevance: r.get(1)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .or_backend("read search hit")?;
    // The same text as the page (minus sort keys), so every bound argument is named in it.
    let mut count = Sql::new(format!(
        "SELECT COUNT(*) FROM (SELECT {score} AS score FROM customers c \
         WHERE c.project = $1 AND {cond}) t"
    ));
    for a in count_args {
        count = count.bind(a);
    }
    let total = conn.int(count).await.or_backend("count search hits")?;
    Ok((u64::try_from(total).unwrap_or_default(), hits))
}
