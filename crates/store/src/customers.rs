//! The statements of customer writes, written once for both databases: the email rows and their
//! cross-scope uniqueness, the customer row and its address rows, its Messages and their numbering, the conditional
//! update, the customer's Customer Search entries, and customer tokens. Each runs inside the caller's write transaction.
//!
//! Lock order, shared with every customer writer (it matters on PostgreSQL, where writers run in
//! parallel): the customer row, then — only when the write adds an email row — the email's
//! advisory lock, then share locks on referenced resources, then token rows (customer deletion
//! cascades to tokens in that order too). A new customer takes the email lock first but holds no
//! other customer's row. Must not open or end transactions.

use clientele_domain::{Message, Version};

use std::borrow::Cow;
use std::collections::HashMap;

use crate::db::{insert_rows, Arg, Cell, Conn, Sql};
use crate::error::SqlxResultExt;
use crate::resources;
use crate::rows::{to_i64, to_u64, AddressRow, CustomerRow, MessageRow, GLOBAL_SCOPE};
use crate::search;
use crate::statement::placeholders;
use crate::subscriptions::{fan_out_change, fan_out_message, Change, ModifiedAt};
use crate::tokens::{kind_column, token_record, TOKEN_COLUMNS};
use crate::{CustomerTokenRecord, StoreError, TokenKind};

/// The `typeId` of customers.
const CUSTOMER: &str = "customer";

/// Serializes writers of one email in one project (see [`Conn::advisory_lock`]).
pub(crate) async fn lock_email(
    conn: &mut Conn,
    project: &str,
    lowercase_email: &str,
) -> Result<(), StoreError> {
    let name = format!("{project}:{lowercase_email}");
    conn.advisory_lock(&name, "lock email").await
}

/// Fails with `DuplicateField{email}` when another customer holds `row`'s email in an
/// overlapping scope. A global customer overlaps every store, so a global row conflicts with
/// any row and a store row conflicts with the global row and the same store.
pub(crate) async fn check_email_free(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let mut text = "SELECT customer_id FROM customer_emails \
                    WHERE project = $1 AND lowercase_email = $2 AND customer_id <> $3"
        .to_owned();
    let store_scoped = row.scopes.iter().any(|s| s != GLOBAL_SCOPE);
    if store_scoped {
        let list = placeholders(5, row.scopes.len());
        text.push_str(&format!(" AND (scope = $4 OR scope IN ({list}))"));
    }
    text.push_str(" LIMIT 1");
    let mut sql = Sql::new(text)
        .bind(project)
        .bind(&row.lowercase_email)
        .bind(&row.id);
    if store_scoped {
        sql = sql.bind(GLOBAL_SCOPE).bind_all(&row.scopes);
    }
    if conn.exists(sql, "check email").await? {
        return Err(StoreError::DuplicateField {
            field: "email".to_owned(),
            value: row.email.clone(),
        });
    }
    Ok(())
}

/// Inserts one email row per scope of `row`.
pub(crate) async fn insert_email_rows(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    for scope in &row.scopes {
        let sql = Sql::new(
            "INSERT INTO customer_emails (project, scope, lowercase_email, customer_id) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(project)
        .bind(scope)
        .bind(&row.lowercase_email)
        .bind(&row.id);
        conn.execute(sql)
            .await
            .on_unique("insert customer email", &[("email", &row.email)])?;
    }
    Ok(())
}

/// Brings the customer's email rows in line with `row` when they are not already
/// (`current`, from [`after_write`]), checking the new scopes first (under the email lock).
async fn sync_email_rows(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
    current: bool,
) -> Result<(), StoreError> {
    if current {
        return Ok(());
    }
    lock_email(conn, project, &row.lowercase_email).await?;
    check_email_free(conn, project, row).await?;
    let sql = Sql::new("DELETE FROM customer_emails WHERE customer_id = $1").bind(&row.id);
    conn.run(sql, "delete customer emails").await?;
    insert_email_rows(conn, project, row).await
}

/// What a customer write reads about its surroundings once it has written the customer row,
/// all in one statement ([`after_write`]) rather than one statement each.
struct AfterWrite {
    /// Whether Customer Search is on. Read after the row was written, as `search::enabled`
    /// explains; a separate statement, so on PostgreSQL it sees what committed meanwhile.
    search: bool,
    /// Whether the project has any Subscription filter: without one, fanning out a Message or
    /// a change would insert nothing, so those statements are skipped.
    filtered: bool,
    /// The next `sequenceNumber` of the customer's Messages (same statement and moment as
    /// the `next_sequence_number` read it replaces: after the row lock was taken).
    next_sequence: i64,
    /// Whether the customer's stored email rows are exactly `row`'s email in `row`'s scopes
    /// (always false when not asked for).
    emails_current: bool,
}

/// Reads [`AfterWrite`] for `row` in one statement; with `emails`, also whether its email
/// rows are current (they are a set keyed by `(project, email, scope)`, so equal counts of
/// all and of matching rows mean equal sets).
async fn after_write(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
    emails: bool,
) -> Result<AfterWrite, StoreError> {
    let mut text = "SELECT (SELECT settings FROM projects WHERE key = $1), \
         (SELECT COUNT(*) FROM (SELECT 1 FROM subscription_filters WHERE project = $1 LIMIT 1) f), \
         (SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM messages WHERE resource_id = $2)"
        .to_owned();
    if emails {
        text.push_str(&format!(
            ", (SELECT COUNT(*) FROM customer_emails WHERE customer_id = $2), \
             (SELECT COUNT(*) FROM customer_emails WHERE customer_id = $2 \
             AND lowercase_email = $3 AND scope IN ({}))",
            placeholders(4, row.scopes.len())
        ));
    }
    let mut sql = Sql::new(text).bind(project).bind(&row.id);
    if emails {
        sql = sql.bind(&row.lowercase_email).bind_all(&row.scopes);
    }
    let what = "read write context";
    let r = conn
        .optional(sql)
        .await
        .or_backend(what)?
        .ok_or_else(|| StoreError::Backend("write context: no row".to_owned()))?;
    let settings: Option<String> = r.get(0).or_backend(what)?;
    let filtered: i64 = r.get(1).or_backend(what)?;
    let next_sequence: i64 = r.get(2).or_backend(what)?;
    let emails_current = if emails {
        let all: i64 = r.get(3).or_backend(what)?;
        let matching: i64 = r.get(4).or_backend(what)?;
        let wanted = i64::try_from(row.scopes.len())
            .map_err(|_| StoreError::Backend("too many scopes".to_owned()))?;
        all == wanted && matching == wanted
    } else {
        false
    };
    Ok(AfterWrite {
        search: search::enabled_in(settings.as_deref())?,
        filtered: filtered > 0,
        next_sequence,
        emails_current,
    })
}

/// The unique fields a customer row may violate, with `row`'s values.
fn customer_uniques(row: &CustomerRow) -> [(&'static str, &str); 3] {
    [
        ("key", row.key.as_deref().unwrap_or_default()),
        (
            "customerNumber",
            row.customer_number.as_deref().unwrap_or_default(),
        ),
        ("id", &row.id),
    ]
}

/// Inserts the customer row itself.
pub(crate) async fn insert_customer_row(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let doc = (conn.dialect().doc_in)(14);
    let sql = Sql::new(format!(
        "INSERT INTO {CUSTOMER_COLUMNS} \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, {doc}, $15, $16, $17, \
         $18)"
    ))
    .bind(&row.id)
    .bind(project)
    .bind(row.version)
    .bind(&row.key)
    .bind(&row.email)
    .bind(&row.lowercase_email)
    .bind(&row.customer_number)
    .bind(&row.external_id)
    .bind(&row.first_name)
    .bind(&row.last_name)
    .bind(&row.created_at)
    .bind(&row.last_modified_at)
    .bind(&row.password_hash)
    .bind(&row.doc)
    .bind(&row.company_name)
    .bind(&row.customer_group_id)
    .bind(row.is_email_verified)
    .bind(row.doc_form);
    conn.execute(sql)
        .await
        .on_unique("insert customer", &customer_uniques(row))?;
    insert_address_rows(conn, project, &[row]).await?;
    Ok(())
}

/// `customers (…)`: the columns every insert of a customer row writes, in bind order.
const CUSTOMER_COLUMNS: &str = "customers (id, project, version, key, email, lowercase_email, \
     customer_number, external_id, first_name, last_name, created_at, last_modified_at, \
     password_hash, doc, company_name, customer_group_id, is_email_verified, doc_form)";

/// Inserts the `customer_addresses` rows of `rows` (customers of `project`).
async fn insert_address_rows(
    conn: &mut Conn,
    project: &str,
    rows: &[&CustomerRow],
) -> Result<(), StoreError> {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .flat_map(|r| {
            r.addresses.iter().map(|a| {
                vec![
                    Cell::from(&r.id),
                    a.position.into(),
                    project.into(),
                    (&a.country).into(),
                    (&a.city).into(),
                    (&a.postal_code).into(),
                ]
            })
        })
        .collect();
    if cells.is_empty() {
        return Ok(());
    }
    insert_rows(
        conn,
        "INSERT INTO customer_addresses (customer_id, position, project, country, city, \
         postal_code)",
        "",
        cells,
    )
    .await
    .or_backend("insert customer addresses")?;
    Ok(())
}

/// Brings the `customer_addresses` rows of `row` in line with its addresses. Most updates do not
/// touch the addresses, and a read of a customer's few rows costs less than rewriting them and
/// their four indexes.
async fn sync_address_rows(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let sql = Sql::new(
        "SELECT position, country, city, postal_code FROM customer_addresses \
         WHERE customer_id = $1 ORDER BY position",
    )
    .bind(&row.id);
    let current: Vec<(i64, _, _, _)> = conn.rows(sql, "read customer addresses").await?;
    let current = current
        .into_iter()
        .map(|(position, country, city, postal_code)| AddressRow {
            position,
            country,
            city,
            postal_code,
        });
    if current.eq(row.addresses.iter().cloned()) {
        return Ok(());
    }
    replace_address_rows(conn, project, row).await
}

/// Replaces the `customer_addresses` rows of `row` with its addresses.
async fn replace_address_rows(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let sql = Sql::new("DELETE FROM customer_addresses WHERE customer_id = $1").bind(&row.id);
    conn.run(sql, "delete customer addresses").await?;
    insert_address_rows(conn, project, &[row]).await
}

/// Stores `messages`, numbering each one after the last message of its resource.
pub(crate) async fn insert_messages(
    conn: &mut Conn,
    project: &str,
    messages: &[Message],
) -> Result<(), StoreError> {
    for m in messages {
        let next = next_sequence_number(conn, &m.resource.id).await?;
        insert_message(conn, project, m, next, true).await?;
    }
    Ok(())
}

/// Stores a customer write's `messages` (normally all of the customer itself, numbered from
/// `after.next_sequence` on; any other resource's are numbered as [`insert_messages`] does)
/// and queues the write's change notification, fanning out only when `after.filtered`.
async fn insert_customer_messages(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
    messages: &[Message],
    after: &AfterWrite,
    notification: &'static str,
    old_version: i64,
) -> Result<(), StoreError> {
    let mut next = after.next_sequence;
    for m in messages {
        let n = if m.resource.id == row.id {
            next += 1;
            next - 1
        } else {
            next_sequence_number(conn, &m.resource.id).await?
        };
        insert_message(conn, project, m, n, after.filtered).await?;
    }
    if after.filtered {
        customer_changed(conn, project, row, notification, old_version).await?;
    }
    Ok(())
}

/// Inserts one Message as number `sequence_number` of its resource and, when `fan_out`, queues
/// it for the Subscriptions that want it.
async fn insert_message(
    conn: &mut Conn,
    project: &str,
    m: &Message,
    sequence_number: i64,
    fan_out: bool,
) -> Result<(), StoreError> {
    let row = MessageRow::of(m, sequence_number)?;
    let doc = (conn.dialect().doc_in)(9);
    let sql = Sql::new(format!(
        "INSERT INTO messages (id, project, resource_id, resource_type_id, \
         sequence_number, resource_version, type, created_at, doc) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {doc})"
    ))
    .bind(&row.id)
    .bind(project)
    .bind(&row.resource_id)
    .bind(&row.resource_type_id)
    .bind(row.sequence_number)
    .bind(row.resource_version)
    .bind(&row.type_)
    .bind(&row.created_at)
    .bind(&row.doc);
    conn.execute(sql)
        .await
        .on_unique("insert message", &[("id", &row.id)])?;
    if fan_out {
        fan_out_message(conn, project, &row).await?;
    }
    Ok(())
}

/// `resourceUserProvidedIdentifiers` of a customer (`key`, `externalId`, `customerNumber`).
pub(crate) fn customer_identifiers(
    key: &Option<String>,
    external_id: &Option<String>,
    customer_number: &Option<String>,
) -> Option<String> {
    let mut ids = serde_json::Map::new();
    for (name, v) in [
        ("key", key),
        ("externalId", external_id),
        ("customerNumber", customer_number),
    ] {
        if let Some(v) = v {
            ids.insert(name.to_owned(), serde_json::Value::String(v.clone()));
        }
    }
    (!ids.is_empty()).then(|| serde_json::Value::Object(ids).to_string())
}

/// Queues the change notification of a customer write.
pub(crate) async fn customer_changed(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
    notification: &'static str,
    old_version: i64,
) -> Result<(), StoreError> {
    let change = Change {
        notification,
        type_id: CUSTOMER,
        id: &row.id,
        version: row.version,
        old_version,
        modified_at: ModifiedAt::At(&row.last_modified_at),
        identifiers: customer_identifiers(&row.key, &row.external_id, &row.customer_number),
        data_erasure: false,
    };
    fan_out_change(conn, project, &change).await
}

/// The next `sequenceNumber` of resource `resource_id`'s Messages.
pub(crate) async fn next_sequence_number(
    conn: &mut Conn,
    resource_id: &str,
) -> Result<i64, StoreError> {
    let sql = Sql::new(
        "SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM messages WHERE resource_id = $1",
    )
    .bind(resource_id);
    conn.int(sql, "next sequence number").await
}

/// After a conditional write touched no row: why not?
pub(crate) async fn missed_write(
    conn: &mut Conn,
    project: &str,
    id: &str,
) -> Result<StoreError, StoreError> {
    let sql = Sql::new("SELECT version FROM customers WHERE id = $1 AND project = $2")
        .bind(id)
        .bind(project);
    Ok(match conn.first(sql, "read customer version").await? {
        None => StoreError::NotFound,
        Some((current,)) => StoreError::ConcurrentModification {
            current: to_u64(current, "customer version")?,
        },
    })
}

/// The columns of a customer row an update may change (besides `version`, `last_modified_at`
/// and `doc`, which every update sets), with `row`'s values.
fn updatable_columns(row: &CustomerRow) -> [(&'static str, Arg); 13] {
    [
        ("email", (&row.email).into()),
        ("lowercase_email", (&row.lowercase_email).into()),
        ("created_at", (&row.created_at).into()),
        ("key", (&row.key).into()),
        ("customer_number", (&row.customer_number).into()),
        ("external_id", (&row.external_id).into()),
        ("first_name", (&row.first_name).into()),
        ("last_name", (&row.last_name).into()),
        ("password_hash", (&row.password_hash).into()),
        ("company_name", (&row.company_name).into()),
        ("customer_group_id", (&row.customer_group_id).into()),
        ("is_email_verified", row.is_email_verified.into()),
        ("doc_form", row.doc_form.into()),
    ]
}

/// Replaces a customer if its stored version is `expected` and stores its Messages, inside the
/// caller's write transaction (shared by `update_customer` and token redemption).
///
/// With `previous` (the row as stored at `expected`, as the caller read it), only the columns
/// whose values differ from it are set, besides `version`, `last_modified_at` and `doc`:
/// SQLite rewrites the index entries of every column an `UPDATE` sets, changed or not, so
/// setting all of them rewrote ten index entries per update (about five times the WAL bytes
/// and three times the SQLite CPU of setting only the changed ones). A stale `previous` is
/// harmless: its version is `expected`, so the `UPDATE` matches no row unless it is current.
pub(crate) async fn update_customer_on(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
    previous: Option<&CustomerRow>,
    expected: Version,
    messages: &[Message],
) -> Result<(), StoreError> {
    // The conditional UPDATE comes first: it takes the row lock, and a writer whose version is
    // stale either finds no row at once or, waiting for the lock, re-checks after the holder
    // commits and touches no row (409) — it never queues for any other lock.
    let mut sets: Vec<(&str, Arg)> = vec![
        ("version", row.version.into()),
        ("last_modified_at", (&row.last_modified_at).into()),
    ];
    let old = previous.map(updatable_columns);
    for (i, (column, value)) in updatable_columns(row).into_iter().enumerate() {
        if old.as_ref().is_none_or(|old| old[i].1 != value) {
            sets.push((column, value));
        }
    }
    let mut text = String::from("UPDATE customers SET ");
    let mut args: Vec<Arg> = Vec::with_capacity(sets.len() + 4);
    for (column, arg) in sets {
        args.push(arg);
        text.push_str(&format!("{column} = ${}, ", args.len()));
    }
    args.push((&row.doc).into());
    text.push_str(&format!("doc = {}", (conn.dialect().doc_in)(args.len())));
    text.push_str(&format!(
        " WHERE id = ${} AND project = ${} AND version = ${}",
        args.len() + 1,
        args.len() + 2,
        args.len() + 3
    ));
    let sql = Sql::new(text)
        .bind_all(args)
        .bind(&row.id)
        .bind(project)
        .bind(to_i64(expected.get())?);
    let done = conn
        .execute(sql)
        .await
        .on_unique("update customer", &customer_uniques(row))?;
    if done == 0 {
        return Err(missed_write(conn, project, &row.id).await?);
    }
    // The stored address rows are `previous`'s (the UPDATE matched its version), so only a
    // caller that did not read the customer needs them read back.
    match previous {
        Some(p) if p.addresses == row.addresses => {}
        Some(_) => replace_address_rows(conn, project, row).await?,
        None => sync_address_rows(conn, project, row).await?,
    }
    let after = after_write(conn, project, row, true).await?;
    let previous_doc = previous.map(|p| p.doc.as_str());
    search::index_customer(conn, project, &row.id, &row.doc, previous_doc, after.search).await?;
    sync_email_rows(conn, project, row, after.emails_current).await?;
    // What the customer references must exist at commit: under SQLite's write lock a plain
    // probe is enough; PostgreSQL share-locks the rows, so no delete of them can commit before
    // this transaction does, and one that committed earlier makes this write fail. Only delete
    // and update of those resources conflict with the locks, and neither waits for customer
    // rows or email locks, so taking them last cannot deadlock.
    resources::check_exist(conn, project, &row.references).await?;
    let old = to_i64(expected.get())?;
    insert_customer_messages(conn, project, row, messages, &after, "ResourceUpdated", old).await
}

/// Inserts a new customer, its email rows and its Messages inside the caller's write
/// transaction, after checking its email and references (shared by `insert_customer` and the
/// batch write).
pub(crate) async fn insert_customer_on(
    conn: &mut Conn,
    project: &str,
    row: &CustomerRow,
    messages: &[Message],
) -> Result<(), StoreError> {
    lock_email(conn, project, &row.lowercase_email).await?;
    resources::check_exist(conn, project, &row.references).await?;
    check_email_free(conn, project, row).await?;
    insert_customer_row(conn, project, row).await?;
    let after = after_write(conn, project, row, false).await?;
    search::index_customer(conn, project, &row.id, &row.doc, None, after.search).await?;
    insert_email_rows(conn, project, row).await?;
    insert_customer_messages(conn, project, row, messages, &after, "ResourceCreated", 0).await
}

/// One write of a batch, with its row already built.
pub(crate) struct BatchItem {
    /// The customer's row.
    pub(crate) row: CustomerRow,
    /// `None` for an insert; the version an update was computed from.
    pub(crate) expected: Option<Version>,
    /// The write's Messages.
    pub(crate) messages: Vec<Message>,
    /// An insert's Messages as rows numbered from 1, built before the batch reaches the
    /// writer (empty for an update): a new customer's id has no Messages yet, so these are
    /// almost always its rows, and the writer, which every batch waits for, does not build
    /// them. An id that has Messages already gets its rows built again, numbered after them.
    pub(crate) numbered: Vec<MessageRow>,
}

impl BatchItem {
    /// An item for `row`, with its insert's Messages numbered ([`BatchItem::numbered`]).
    pub(crate) fn new(
        row: CustomerRow,
        expected: Option<Version>,
        messages: Vec<Message>,
    ) -> Result<Self, StoreError> {
        let numbered = match expected {
            Some(_) => Vec::new(),
            None => (1..)
                .zip(&messages)
                .map(|(n, m)| MessageRow::of(m, n))
                .collect::<Result<_, _>>()?,
        };
        Ok(BatchItem {
            row,
            expected,
            messages,
            numbered,
        })
    }
}

/// Runs `items` in order inside the caller's write transaction. Unguarded, the first refusal
/// ends the batch (the caller rolls back and retries guarded) and each run of consecutive
/// inserts is written together ([`insert_customers_on`]); guarded, each item runs alone under a
/// savepoint, so a refused item is undone alone and reported at its index.
pub(crate) async fn write_batch_on(
    conn: &mut Conn,
    project: &str,
    items: &[BatchItem],
    guarded: bool,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    if !guarded {
        let mut run: Vec<&BatchItem> = Vec::new();
        for item in items {
            match item.expected {
                None => run.push(item),
                Some(expected) => {
                    insert_customers_on(conn, project, &std::mem::take(&mut run)).await?;
                    update_customer_on(conn, project, &item.row, None, expected, &item.messages)
                        .await?;
                }
            }
        }
        insert_customers_on(conn, project, &run).await?;
        return Ok(items.iter().map(|_| Ok(())).collect());
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        conn.execute(Sql::new("SAVEPOINT customer_write"))
            .await
            .or_backend("savepoint")?;
        let result = match item.expected {
            None => insert_customer_on(conn, project, &item.row, &item.messages).await,
            Some(expected) => {
                update_customer_on(conn, project, &item.row, None, expected, &item.messages).await
            }
        };
        match result {
            Err(e) if !e.is_refusal() => return Err(e),
            Err(e) => {
                conn.execute(Sql::new("ROLLBACK TO SAVEPOINT customer_write"))
                    .await
                    .or_backend("rollback to savepoint")?;
                out.push(Err(e));
            }
            Ok(()) => out.push(Ok(())),
        }
        conn.execute(Sql::new("RELEASE SAVEPOINT customer_write"))
            .await
            .or_backend("release savepoint")?;
    }
    Ok(out)
}

/// Ids per `IN (…)` list of the batch reads.
const IDS_PER_LIST: usize = 1000;

/// Who holds each of `emails` (lowercase) in `project`: email → `(scope, customer id)`s.
async fn email_holders(
    conn: &mut Conn,
    project: &str,
    emails: &[&str],
) -> Result<HashMap<String, Vec<(String, String)>>, StoreError> {
    let mut holders: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for chunk in emails.chunks(IDS_PER_LIST) {
        let sql = Sql::new(format!(
            "SELECT lowercase_email, scope, customer_id FROM customer_emails \
             WHERE project = $1 AND lowercase_email IN ({})",
            placeholders(2, chunk.len())
        ))
        .bind(project)
        .bind_all(chunk.iter().copied());
        for (email, scope, id) in conn
            .rows::<(String, String, String)>(sql, "check emails")
            .await?
        {
            holders.entry(email).or_default().push((scope, id));
        }
    }
    Ok(holders)
}

/// The next `sequenceNumber` of each of `ids`' Messages (ids without Messages are absent).
async fn next_sequence_numbers(
    conn: &mut Conn,
    ids: &[&str],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut next = HashMap::new();
    for chunk in ids.chunks(IDS_PER_LIST) {
        let sql = Sql::new(format!(
            "SELECT resource_id, MAX(sequence_number) + 1 FROM messages \
             WHERE resource_id IN ({}) GROUP BY resource_id",
            placeholders(1, chunk.len())
        ))
        .bind_all(chunk.iter().copied());
        next.extend(
            conn.rows::<(String, i64)>(sql, "next sequence numbers")
                .await?,
        );
    }
    Ok(next)
}

/// [`insert_customer_on`] for a run of new customers of one batch, with the same checks and
/// rows (email lock and uniqueness, references, customer rows, search entries, email rows,
/// Messages numbered after any existing ones, outbox rows) in a few statements per run instead
/// of about ten per customer. Any refusal fails the whole run without saying which customer it
/// was: the caller rolls the batch back and writes it again item by item (`guarded`), which
/// names it. Unique violations are therefore reported without their value here.
pub(crate) async fn insert_customers_on(
    conn: &mut Conn,
    project: &str,
    items: &[&BatchItem],
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut emails: Vec<&str> = items
        .iter()
        .map(|i| i.row.lowercase_email.as_str())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    // Sorted, so two batches that share emails take their locks in one order.
    for email in &emails {
        lock_email(conn, project, email).await?;
    }
    let mut references = Vec::new();
    for r in items.iter().flat_map(|i| &i.row.references) {
        if !references.contains(r) {
            references.push(r.clone());
        }
    }
    resources::check_exist(conn, project, &references).await?;
    // The cross-scope rule of `check_email_free`, against the stored rows and the batch's own.
    let mut holders = email_holders(conn, project, &emails).await?;
    for item in items {
        let row = &item.row;
        let store_scoped = row.scopes.iter().any(|s| s != GLOBAL_SCOPE);
        let held = holders.entry(row.lowercase_email.clone()).or_default();
        let taken = held.iter().any(|(scope, id)| {
            id != &row.id && (!store_scoped || scope == GLOBAL_SCOPE || row.scopes.contains(scope))
        });
        if taken {
            return Err(StoreError::DuplicateField {
                field: "email".to_owned(),
                value: row.email.clone(),
            });
        }
        held.extend(row.scopes.iter().map(|s| (s.clone(), row.id.clone())));
    }
    let customers = items
        .iter()
        .map(|i| {
            let r = &i.row;
            vec![
                Cell::from(&r.id),
                project.into(),
                r.version.into(),
                (&r.key).into(),
                (&r.email).into(),
                (&r.lowercase_email).into(),
                (&r.customer_number).into(),
                (&r.external_id).into(),
                (&r.first_name).into(),
                (&r.last_name).into(),
                (&r.created_at).into(),
                (&r.last_modified_at).into(),
                (&r.password_hash).into(),
                Cell::Doc(r.doc.clone()),
                (&r.company_name).into(),
                (&r.customer_group_id).into(),
                r.is_email_verified.into(),
                r.doc_form.into(),
            ]
        })
        .collect();
    let unnamed = [("key", ""), ("customerNumber", ""), ("id", "")];
    // Any error fails the whole run, and the caller rolls the batch back.
    let verb = conn.dialect().batch_insert;
    insert_rows(
        conn,
        &format!("{verb} INTO {CUSTOMER_COLUMNS}"),
        "",
        customers,
    )
    .await
    .on_unique("insert customers", &unnamed)?;
    let rows: Vec<&CustomerRow> = items.iter().map(|i| &i.row).collect();
    insert_address_rows(conn, project, &rows).await?;
    let docs: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i.row.id.as_str(), i.row.doc.as_str()))
        .collect();
    search::index_customers(conn, project, &docs).await?;
    let email_rows = items
        .iter()
        .flat_map(|i| {
            i.row.scopes.iter().map(|scope| {
                vec![
                    Cell::from(project),
                    scope.into(),
                    (&i.row.lowercase_email).into(),
                    (&i.row.id).into(),
                ]
            })
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO customer_emails (project, scope, lowercase_email, customer_id)",
        "",
        email_rows,
    )
    .await
    .on_unique("insert customer emails", &[("email", "")])?;
    let mut ids: Vec<&str> = items
        .iter()
        .flat_map(|i| i.messages.iter().map(|m| m.resource.id.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut next = next_sequence_numbers(conn, &ids).await?;
    let mut messages: Vec<Vec<Cow<'_, MessageRow>>> = Vec::with_capacity(items.len());
    for item in items {
        let mut rows = Vec::with_capacity(item.messages.len());
        for (k, m) in item.messages.iter().enumerate() {
            let n = next.entry(m.resource.id.clone()).or_insert(1);
            rows.push(match item.numbered.get(k) {
                Some(row) if row.sequence_number == *n => Cow::Borrowed(row),
                _ => Cow::Owned(MessageRow::of(m, *n)?),
            });
            *n += 1;
        }
        messages.push(rows);
    }
    let message_rows = messages
        .iter()
        .flatten()
        .map(|row| {
            vec![
                Cell::from(&row.id),
                project.into(),
                (&row.resource_id).into(),
                (&row.resource_type_id).into(),
                row.sequence_number.into(),
                row.resource_version.into(),
                (&row.type_).into(),
                (&row.created_at).into(),
                Cell::Doc(row.doc.clone()),
            ]
        })
        .collect();
    insert_rows(
        conn,
        &format!(
            "{verb} INTO messages (id, project, resource_id, resource_type_id, \
             sequence_number, resource_version, type, created_at, doc)"
        ),
        "",
        message_rows,
    )
    .await
    .on_unique("insert messages", &[("id", "")])?;
    // Outbox rows exist only for Subscriptions' filters; without any, the per-customer
    // statements below would insert nothing, so one probe saves them all.
    let filtered = conn
        .optional(
            Sql::new("SELECT 1 FROM subscription_filters WHERE project = $1 LIMIT 1").bind(project),
        )
        .await
        .or_backend("probe subscription filters")?
        .is_some();
    if filtered {
        for (item, rows) in items.iter().zip(&messages) {
            for row in rows {
                fan_out_message(conn, project, row.as_ref()).await?;
            }
            customer_changed(conn, project, &item.row, "ResourceCreated", 0).await?;
        }
    }
    Ok(())
}

/// Marks every unused token of `kind` of `customer_id` used (invalidation).
pub(crate) async fn invalidate_customer_tokens(
    conn: &mut Conn,
    project: &str,
    customer_id: &str,
    kind: TokenKind,
) -> Result<(), StoreError> {
    let sql = Sql::new(
        "UPDATE customer_tokens SET used = true \
         WHERE project = $1 AND customer_id = $2 AND kind = $3 AND used = false",
    )
    .bind(project)
    .bind(customer_id)
    .bind(kind_column(kind));
    conn.run(sql, "invalidate customer tokens").await?;
    Ok(())
}

/// Reads a customer token by the hash of its value and its kind.
pub(crate) async fn find_token_on(
    conn: &mut Conn,
    project: &str,
    value_hash: &str,
    kind: TokenKind,
) -> Result<Option<CustomerTokenRecord>, StoreError> {
    let sql = Sql::new(format!(
        "SELECT {TOKEN_COLUMNS} FROM customer_tokens \
         WHERE project = $1 AND value_hash = $2 AND kind = $3"
    ))
    .bind(project)
    .bind(value_hash)
    .bind(kind_column(kind));
    let row = conn.first(sql, "find customer token").await?;
    row.map(token_record).transpose()
}
