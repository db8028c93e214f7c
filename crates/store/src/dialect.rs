//! What differs between the SQL of the two databases, side by side: one [`Dialect`] per
//! database ([`SQLITE`], [`POSTGRES`]) with its snippets and reference checks, and the table of
//! which unique constraint stands for which API field ([`SQLITE_UNIQUES`], [`POSTGRES_UNIQUES`]).
//!
//! Data only: must not run a statement or know a connection; the SQL of the operations lives in
//! `store`, `customers` and `resources`, connecting and the query deadline in the backend
//! modules.

/// What differs between the two SQL dialects, besides connecting and the query deadline.
pub(crate) struct Dialect {
    /// How the query compiler writes predicates for this database.
    pub(crate) query: clientele_query::Dialect,
    /// The statement that opens a write transaction.
    pub(crate) begin_write: &'static str,
    /// How a multi-row `INSERT` of a batch begins when any error it raises is undone by its
    /// caller as a whole (the batch's savepoint), so that the statement needs no undo of its
    /// own: SQLite otherwise keeps a statement journal, a copy of every page the statement
    /// changes that the transaction had already changed, and frees it at the statement's end.
    pub(crate) batch_insert: &'static str,
    /// `doc_in(n)`: placeholder `$n`, bound to JSON text, as a document value.
    pub(crate) doc_in: fn(usize) -> String,
    /// `doc_out(column)`: a document column read back as JSON text.
    pub(crate) doc_out: fn(&str) -> String,
    /// Whether `doc_out` gives back the text that was stored (SQLite's JSONB keeps the text's
    /// key order and spelling; PostgreSQL's reorders keys and respaces them).
    pub(crate) doc_text_kept: bool,
    /// Appended to a `SELECT` that must keep the rows it finds from being deleted until
    /// commit (empty where writers are serialized anyway).
    pub(crate) share_lock: &'static str,
    /// Appended to a `SELECT` that must keep the rows it finds from any other writer.
    pub(crate) update_lock: &'static str,
    /// Serializes the writers that name one lock (`$1`, e.g. project and lowercase email) until
    /// commit, where writers are not serialized anyway.
    pub(crate) advisory_lock: Option<&'static str>,
    /// Refreshes the planner's statistics of the customer tables, where the planner needs
    /// them to use their indexes (see `Store::analyze_customers`).
    pub(crate) analyze_customers: Option<&'static str>,
    /// The queries that find something still referencing resource `$2` of project `$1`, per
    /// referenced `typeId`: `(referencing typeId, SQL)`; an empty typeId means the SQL selects
    /// the referencing resource's `type_id`.
    pub(crate) reference_checks: fn(&str) -> &'static [(&'static str, &'static str)],
    /// `wildcard(column, n)`: whether `column` matches the Customer Search wildcard pattern
    /// bound to `$n` after [`Dialect::wildcard_pattern`] translated it.
    pub(crate) wildcard: fn(&str, usize) -> String,
    /// Translates a search wildcard pattern (`*` any run, `?` one character, everything else
    /// literal) into the pattern language of [`Dialect::wildcard`].
    pub(crate) wildcard_pattern: fn(&str) -> String,
    /// `text_in(column, n)`: whether `column` is one of the texts of the JSON array of strings
    /// bound to `$n`, so that a list of any length takes one bind parameter (PostgreSQL accepts
    /// at most 65,535). On PostgreSQL the test is wrapped (`COALESCE(…, FALSE)`, the same truth
    /// in a `WHERE`) so that it stays a hashed subplan, one hash probe per entry read: as a
    /// bare `IN` it becomes a semi-join, which the planner ran as a nested loop re-reading the
    /// whole list for every entry while the table's statistics (before its first `ANALYZE`)
    /// said one row (66,000 × 66,000 in a test: past the query deadline).
    pub(crate) text_in: fn(&str, usize) -> String,
    /// The current UTC time as `2022-09-19T14:34:35.843Z` text (only where a write carries no
    /// time of its own: deletions of generic resources in change notifications).
    pub(crate) now_text: &'static str,
    /// Tells other processes, after a commit, that the transaction queued Subscription
    /// notifications (`None` where no other process delivers: SQLite is one process's).
    pub(crate) outbox_notify: Option<&'static str>,
}

/// SQLite reports a unique violation by its columns, not by an index name: each list and the
/// API field it stands for.
pub(crate) const SQLITE_UNIQUES: &[(&str, &str)] = &[
    ("customers.id", "id"),
    ("customers.project, customers.key", "key"),
    (
        "customers.project, customers.customer_number",
        "customerNumber",
    ),
    (
        "customer_emails.project, customer_emails.lowercase_email, customer_emails.scope",
        "email",
    ),
    ("projects.key", "key"),
    ("api_clients.client_id", "clientId"),
    ("oauth_tokens.token_hash", "tokenHash"),
    ("messages.id", "id"),
    ("resources.project, resources.type_id, resources.key", "key"),
    ("resources.id", "id"),
    (
        "anonymous_ids.project_key, anonymous_ids.anonymous_id",
        "anonymousId",
    ),
];

/// SQLite's dialect: documents are JSONB, bound as text through `jsonb()` and read back
/// through `json()`; no lock clauses (writers are serialized).
pub(crate) static SQLITE: Dialect = Dialect {
    query: clientele_query::Dialect::Sqlite,
    begin_write: "BEGIN IMMEDIATE",
    batch_insert: "INSERT OR FAIL",
    doc_in: |n| format!("jsonb(${n})"),
    doc_out: |column| format!("json({column})"),
    doc_text_kept: true,
    share_lock: "",
    update_lock: "",
    advisory_lock: None,
    analyze_customers: None,
    reference_checks: sqlite_reference_checks,
    // GLOB is case-sensitive and already speaks `*` and `?`; only `[` needs quoting.
    wildcard: |column, n| format!("{column} GLOB ${n}"),
    wildcard_pattern: |p| p.replace('[', "[[]"),
    text_in: |column, n| format!("{column} IN (SELECT value FROM json_each(${n}))"),
    now_text: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    outbox_notify: None,
};

/// What may still reference a Customer Group, Type or Store (see [`Dialect::reference_checks`]).
fn sqlite_reference_checks(type_id: &str) -> &'static [(&'static str, &'static str)] {
    match type_id {
        "customer-group" => &[(
            "customer",
            "SELECT 1 FROM customers WHERE project = $1 AND \
             (json_extract(doc, '$.customerGroup.id') = $2 OR EXISTS (SELECT 1 FROM \
             json_each(doc, '$.customerGroupAssignments') a \
             WHERE json_extract(a.value, '$.customerGroup.id') = $2)) LIMIT 1",
        )],
        "type" => &[
            (
                "customer",
                "SELECT 1 FROM customers WHERE project = $1 AND \
                 (json_extract(doc, '$.custom.type.id') = $2 OR EXISTS (SELECT 1 FROM \
                 json_each(doc, '$.addresses') a \
                 WHERE json_extract(a.value, '$.custom.type.id') = $2)) LIMIT 1",
            ),
            (
                "",
                "SELECT type_id FROM resources WHERE project = $1 AND \
                 json_extract(doc, '$.custom.type.id') = $2 LIMIT 1",
            ),
        ],
        "store" => STORE_REFERENCES,
        _ => &[],
    }
}

/// What may still reference a Store, the same on both databases: a customer of a store holds
/// one email row whose scope is the store's key (keys are immutable, so this is the only place
/// a customer can name it).
const STORE_REFERENCES: &[(&str, &str)] = &[(
    "customer",
    "SELECT 1 FROM customer_emails WHERE project = $1 AND scope = \
     (SELECT key FROM resources WHERE project = $1 AND type_id = 'store' AND id = $2) LIMIT 1",
)];

/// Unique constraints by name (indexes and primary keys from the migrations) and the API field
/// each stands for.
pub(crate) const POSTGRES_UNIQUES: &[(&str, &str)] = &[
    ("customers_pkey", "id"),
    ("customers_key_uidx", "key"),
    ("customers_customer_number_uidx", "customerNumber"),
    ("customer_emails_pkey", "email"),
    ("projects_pkey", "key"),
    ("api_clients_pkey", "clientId"),
    ("oauth_tokens_pkey", "tokenHash"),
    ("messages_pkey", "id"),
    ("resources_key_uidx", "key"),
    ("resources_pkey", "id"),
    ("anonymous_ids_pkey", "anonymousId"),
];

/// PostgreSQL's dialect.
///
/// Writes begin at READ COMMITTED, named in the `BEGIN` so that a database whose
/// `default_transaction_isolation` is stricter cannot change it (at no extra round trip, which
/// also works through a transaction-pooling proxy). The write paths depend on it: each
/// statement sees what committed before it, so the email check after the advisory lock sees
/// the previous holder's row, and a conditional `UPDATE … WHERE version = $n` that waited for a
/// concurrent writer re-checks its condition and touches no row (409) instead of failing with a
/// serialization error (500). Hash collisions of the email lock only serialize unrelated
/// writers a little more; they never let two writers through.
pub(crate) static POSTGRES: Dialect = Dialect {
    query: clientele_query::Dialect::Postgres,
    begin_write: "BEGIN ISOLATION LEVEL READ COMMITTED",
    batch_insert: "INSERT",
    doc_in: |n| format!("${n}::jsonb"),
    doc_out: |column| format!("{column}::text"),
    doc_text_kept: false,
    share_lock: " FOR SHARE",
    update_lock: " FOR UPDATE",
    advisory_lock: Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"),
    analyze_customers: Some("ANALYZE customers, customer_emails, customer_addresses, messages"),
    reference_checks: postgres_reference_checks,
    wildcard: |column, n| format!("{column} LIKE ${n} ESCAPE '\\'"),
    wildcard_pattern: postgres_like_pattern,
    text_in: |column, n| {
        format!(
            "COALESCE({column} IN (SELECT json_array_elements_text(CAST(${n} AS json))), FALSE)"
        )
    },
    now_text: "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
    outbox_notify: Some("NOTIFY clientele_outbox"),
};

/// A search wildcard pattern as a `LIKE` pattern (escape character `\`).
fn postgres_like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// What may still reference a Customer Group, Type or Store (see [`Dialect::reference_checks`]).
fn postgres_reference_checks(type_id: &str) -> &'static [(&'static str, &'static str)] {
    match type_id {
        "customer-group" => &[(
            "customer",
            "SELECT 1 FROM customers WHERE project = $1 AND \
             (doc->'customerGroup'->>'id' = $2 OR doc->'customerGroupAssignments' @> \
             jsonb_build_array(jsonb_build_object('customerGroup', \
             jsonb_build_object('id', $2::text)))) LIMIT 1",
        )],
        "type" => &[
            (
                "customer",
                "SELECT 1 FROM customers WHERE project = $1 AND \
                 (doc->'custom'->'type'->>'id' = $2 OR doc->'addresses' @> \
                 jsonb_build_array(jsonb_build_object('custom', jsonb_build_object('type', \
                 jsonb_build_object('id', $2::text))))) LIMIT 1",
            ),
            (
                "",
                "SELECT type_id FROM resources WHERE project = $1 AND \
                 doc->'custom'->'type'->>'id' = $2 LIMIT 1",
            ),
        ],
        "store" => STORE_REFERENCES,
        _ => &[],
    }
}
