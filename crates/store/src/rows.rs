//! Backend-neutral row shapes: how a [`Customer`], a [`Message`] and the small records map to
//! column values and back, the email-scope rule, and the SQL text of page queries.
//!
//! Pure: nothing here runs SQL, so both backends store byte-identical values and page the same way.

use clientele_domain::resolve::{CUSTOMER_GROUP, STORE, TYPE};
use clientele_domain::serde_formats::{format_datetime, parse_datetime};
use clientele_domain::{Customer, Message, PasswordHash, Project};
use clientele_query::schema::Schema;
use clientele_query::{compile_order_by, compile_where, element_lookup, Dialect, SqlParam};
use time::OffsetDateTime;

use crate::{ResourceLookup, ResourceQuery, ResourceRecord, StoreError};

/// The rows of one page (document text and, for customers, the password hash) and the count.
pub(crate) type PageRows = (Vec<(String, Option<String>)>, Option<i64>);

/// Most matches `total` reports when a predicate is present (commercetools caps it, digest §7.4).
pub(crate) const TOTAL_CAP_WITH_PREDICATE: u64 = 10_000;

/// The `customer_emails.scope` of a global customer. Store keys are at least two characters
/// long, so it never collides with one.
pub(crate) const GLOBAL_SCOPE: &str = "";

/// `customers.doc_form` of a row whose `doc` is byte for byte the API's JSON of the customer
/// [`customer_from_row`] reads from it (the serialization of `Customer` as this build writes
/// it), so a plain GET may answer with the stored text. Rows with any other value are parsed.
/// Change it whenever `Customer`'s JSON changes (a field added, renamed, reordered or
/// formatted differently): rows written before then are no longer what the type writes.
/// `tests::customer_doc_form_pins_the_json` fails on such a change as a reminder.
pub(crate) const CUSTOMER_DOC_FORM: i64 = 1;

/// The second column of a [`PageTarget::customers_json`] row whose document is the API JSON: an
/// empty string, which no stored password hash (a PHC string) is.
pub(crate) const STORED_JSON: &str = "";

/// The column values of one `customers` row.
#[derive(Debug, Clone)]
pub(crate) struct CustomerRow {
    pub(crate) id: String,
    pub(crate) version: i64,
    pub(crate) key: Option<String>,
    pub(crate) email: String,
    pub(crate) lowercase_email: String,
    pub(crate) customer_number: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    /// `companyName`, a column only so that an index can serve predicates on it.
    pub(crate) company_name: Option<String>,
    /// `customerGroup.id`, a column only so that an index can serve predicates on it.
    pub(crate) customer_group_id: Option<String>,
    /// `isEmailVerified`, a column only so that an index can serve predicates on it.
    pub(crate) is_email_verified: bool,
    /// The `customer_addresses` rows: one per address, in document order.
    pub(crate) addresses: Vec<AddressRow>,
    pub(crate) created_at: String,
    pub(crate) last_modified_at: String,
    pub(crate) password_hash: Option<String>,
    /// The API JSON; its `password` is only the masked fingerprint.
    pub(crate) doc: String,
    /// [`CUSTOMER_DOC_FORM`] when `doc` is exactly what reading this row back as a `Customer`
    /// and serializing it gives, else 0.
    pub(crate) doc_form: i64,
    /// The `customer_emails` scopes this customer occupies (sorted, deduplicated).
    pub(crate) scopes: Vec<String>,
    /// The generic-table resources the customer names, which the write must find (see
    /// [`customer_references`]).
    pub(crate) references: Vec<ReferencedResource>,
}

/// The column values of one `customer_addresses` row: the address fields predicates are
/// indexed on (see `clientele_query::schema`), which the query compiler reads instead of the
/// document's `addresses` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressRow {
    /// The address's index in the document's `addresses` array.
    pub(crate) position: i64,
    pub(crate) country: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) postal_code: Option<String>,
}

/// A resource of the generic `resources` table that a customer document names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReferencedResource {
    /// `store`, `customer-group` or `type`.
    pub(crate) type_id: &'static str,
    /// How the document names it: Stores by key (`StoreKeyReference`), the others by id.
    pub(crate) lookup: ResourceLookup,
}

impl ReferencedResource {
    /// Where it sorts in the lock order: by kind (Stores, Groups, Types), then key or id.
    fn order_key(&self) -> (Option<usize>, &str) {
        let rank = [STORE, CUSTOMER_GROUP, TYPE]
            .iter()
            .position(|t| *t == self.type_id);
        let value = match &self.lookup {
            ResourceLookup::Id(v) | ResourceLookup::Key(v) => v.as_str(),
        };
        (rank, value)
    }
}

impl CustomerRow {
    /// Flattens `c` into columns.
    pub(crate) fn of(c: &Customer) -> Result<Self, StoreError> {
        Ok(CustomerRow {
            id: c.id.clone(),
            version: to_i64(c.version.get())?,
            key: c.key.clone(),
            email: c.email.clone(),
            lowercase_email: c.lowercase_email(),
            customer_number: c.customer_number.clone(),
            external_id: c.external_id.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            company_name: c.company_name.clone(),
            customer_group_id: c.customer_group.as_ref().map(|g| g.id.clone()),
            is_email_verified: c.is_email_verified,
            addresses: c
                .addresses
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    Ok(AddressRow {
                        position: i64::try_from(i)
                            .map_err(|_| StoreError::Backend("too many addresses".to_owned()))?,
                        country: Some(a.country.clone()),
                        city: a.city.clone(),
                        postal_code: a.postal_code.clone(),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            created_at: format_datetime(c.created_at),
            last_modified_at: format_datetime(c.last_modified_at),
            password_hash: c
                .password
                .as_ref()
                .filter(|h| !h.is_masked_only())
                .map(|h| h.as_phc().to_owned()),
            doc: to_json(c)?,
            // A masked-only password is written into `doc` but has no hash column, so reading
            // the row back gives no password: the text is not what a read returns.
            doc_form: if c.password.as_ref().is_some_and(|h| h.is_masked_only()) {
                0
            } else {
                CUSTOMER_DOC_FORM
            },
            scopes: email_scopes(c),
            references: customer_references(c),
        })
    }
}

/// The uniqueness scopes of a customer: the global scope when it has no stores, else one per
/// store key.
pub(crate) fn email_scopes(c: &Customer) -> Vec<String> {
    let mut keys = c.store_keys();
    if keys.is_empty() {
        return vec![GLOBAL_SCOPE.to_owned()];
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Every Store, Customer Group and Type `c` references (its `stores`, `customerGroup`,
/// `customerGroupAssignments`, `custom.type` and each address's `custom.type`), each once.
/// Empty for most customers, so their writes check nothing.
///
/// Sorted (Stores, then Groups, then Types, each by key or id), so that every customer writer
/// share-locks them in one global order on PostgreSQL: with a delete waiting for one of the
/// rows, two writers locking in opposite orders could otherwise deadlock through the lock queue.
pub(crate) fn customer_references(c: &Customer) -> Vec<ReferencedResource> {
    let stores = c
        .stores
        .iter()
        .map(|s| (STORE, ResourceLookup::Key(s.key.clone())));
    let groups = c
        .customer_group
        .iter()
        .chain(
            c.customer_group_assignments
                .iter()
                .map(|a| &a.customer_group),
        )
        .map(|g| (CUSTOMER_GROUP, ResourceLookup::Id(g.id.clone())));
    let types = c
        .custom
        .iter()
        .chain(c.addresses.iter().filter_map(|a| a.custom.as_ref()))
        .map(|f| (TYPE, ResourceLookup::Id(f.type_.id.clone())));
    let mut out: Vec<ReferencedResource> = Vec::new();
    for (type_id, lookup) in stores.chain(groups).chain(types) {
        let r = ReferencedResource { type_id, lookup };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    out
}

/// Rebuilds a customer from its document and the separately stored password hash.
pub(crate) fn customer_from_row(
    doc: &str,
    password_hash: Option<String>,
) -> Result<Customer, StoreError> {
    let mut c: Customer = from_json(doc, "customer")?;
    c.password = password_hash.map(PasswordHash::from_phc);
    Ok(c)
}

/// The column values of one `messages` row.
#[derive(Debug, Clone)]
pub(crate) struct MessageRow {
    pub(crate) id: String,
    pub(crate) resource_id: String,
    pub(crate) resource_type_id: String,
    pub(crate) sequence_number: i64,
    pub(crate) resource_version: i64,
    pub(crate) type_: String,
    pub(crate) created_at: String,
    pub(crate) doc: String,
}

impl MessageRow {
    /// Flattens `m` with the store-assigned `sequence_number`, which also goes into the doc.
    pub(crate) fn of(m: &Message, sequence_number: i64) -> Result<Self, StoreError> {
        let mut m = m.clone();
        m.sequence_number = u64::try_from(sequence_number)
            .map_err(|_| StoreError::Backend("negative sequence number".to_owned()))?;
        Ok(MessageRow {
            id: m.id.clone(),
            resource_id: m.resource.id.clone(),
            resource_type_id: m.resource.type_id.clone(),
            sequence_number,
            resource_version: to_i64(m.resource_version)?,
            type_: m.payload.type_name(),
            created_at: format_datetime(m.created_at),
            doc: to_json(&m)?,
        })
    }
}

/// Rebuilds a message from its document.
pub(crate) fn message_from_row(doc: &str) -> Result<Message, StoreError> {
    from_json(doc, "message")
}

/// The list columns of a `projects` row, as JSON arrays.
pub(crate) struct ProjectLists {
    pub(crate) languages: String,
    pub(crate) countries: String,
    pub(crate) currencies: String,
}

impl ProjectLists {
    /// Encodes `p`'s lists.
    pub(crate) fn of(p: &Project) -> Result<Self, StoreError> {
        Ok(ProjectLists {
            languages: to_json(&p.languages)?,
            countries: to_json(&p.countries)?,
            currencies: to_json(&p.currencies)?,
        })
    }

    /// Decodes a row back into a project.
    pub(crate) fn into_project(self, key: String, name: String) -> Result<Project, StoreError> {
        Ok(Project {
            key,
            name,
            languages: from_json(&self.languages, "project languages")?,
            countries: from_json(&self.countries, "project countries")?,
            currencies: from_json(&self.currencies, "project currencies")?,
        })
    }
}

/// Formats a timestamp column (millisecond precision, like the API).
pub(crate) fn ts(t: OffsetDateTime) -> String {
    format_datetime(t)
}

/// Parses a timestamp column.
pub(crate) fn parse_ts(s: &str, what: &str) -> Result<OffsetDateTime, StoreError> {
    parse_datetime(s).ok_or_else(|| corrupt(what, "bad timestamp"))
}

/// `u64` → `BIGINT`; versions and counters never get near `i64::MAX`, but never wrap silently.
pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("value {v} out of range")))
}

/// `BIGINT` → `u64`; a negative count or version means the row is corrupt.
pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| corrupt(what, "negative number"))
}

/// Applies the §7.4 cap to a count.
pub(crate) fn cap_total(count: i64, has_predicate: bool) -> Result<u64, StoreError> {
    let n = to_u64(count, "count")?;
    Ok(if has_predicate {
        n.min(TOTAL_CAP_WITH_PREDICATE)
    } else {
        n
    })
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| {
        tracing::error!(error = %e, "serializing a document failed");
        StoreError::Backend(format!("serialize: {e}"))
    })
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| corrupt(what, &e.to_string()))
}

fn corrupt(what: &str, why: &str) -> StoreError {
    tracing::error!(what, why, "stored row cannot be read back");
    StoreError::Backend(format!("corrupt {what}: {why}"))
}

/// The column values of one row of the generic `resources` table.
#[derive(Debug, Clone)]
pub(crate) struct ResourceRow {
    pub(crate) id: String,
    pub(crate) key: Option<String>,
    pub(crate) version: i64,
    pub(crate) created_at: String,
    pub(crate) last_modified_at: String,
    pub(crate) doc: String,
}

impl ResourceRow {
    /// Flattens `r` into columns.
    pub(crate) fn of(r: &ResourceRecord) -> Result<Self, StoreError> {
        Ok(ResourceRow {
            id: r.id.clone(),
            key: r.key.clone(),
            version: to_i64(r.version.get())?,
            created_at: format_datetime(r.created_at),
            last_modified_at: format_datetime(r.last_modified_at),
            doc: to_json(&r.doc)?,
        })
    }
}

/// Reads a resource document back.
pub(crate) fn resource_from_row(doc: &str) -> Result<serde_json::Value, StoreError> {
    from_json(doc, "resource")
}

/// The query schema of a resource type in the generic table. Types without their own schema
/// get the Customer Group one, whose default order (and columns) every resource shares.
pub(crate) fn resource_schema(type_id: &str) -> Schema {
    match type_id {
        "type" => clientele_query::schema::type_schema(),
        "store" => clientele_query::schema::store_schema(),
        "subscription" => clientele_query::schema::subscription_schema(),
        _ => clientele_query::schema::customer_group_schema(),
    }
}

/// The SQL of one page query and its optional count, with parameters in placeholder order.
#[derive(Debug, Clone)]
pub(crate) struct PageSql {
    /// `SELECT <cols> … ORDER BY … LIMIT … OFFSET …`.
    pub(crate) select: String,
    /// Parameters of `select`.
    pub(crate) select_params: Vec<SqlParam>,
    /// `SELECT COUNT(*) …` over the same `WHERE`, when the total was asked for.
    pub(crate) count: Option<(String, Vec<SqlParam>)>,
    /// The page's `LIMIT` and `OFFSET`: a page shorter than its limit ends the matches, so its
    /// total is known without the count.
    pub(crate) limit: u64,
    /// See `limit`.
    pub(crate) offset: u64,
}

impl PageSql {
    /// The total a page of `rows` rows implies, when it implies one: it is shorter than the
    /// limit (the matches end on it) and not an empty page past the end (which only says the
    /// total is at most the offset).
    pub(crate) fn total_from_page(&self, rows: usize) -> Option<i64> {
        let rows = rows as u64;
        let ends_here = rows < self.limit && (rows > 0 || self.offset == 0);
        ends_here
            .then(|| i64::try_from(self.offset + rows).ok())
            .flatten()
    }
}

/// What [`PageSql::build`] needs besides the query.
pub(crate) struct PageTarget<'a> {
    /// SQL dialect (placeholder style, predicate compilation).
    pub(crate) dialect: Dialect,
    /// `customers` or `messages`; the only FROM item, as the query compiler expects.
    pub(crate) table: &'static str,
    /// The select list, e.g. `json(doc), password_hash` (SQLite stores JSONB; this reads text).
    pub(crate) columns: &'static str,
    /// The schema the predicate and sort keys were checked against.
    pub(crate) schema: &'a Schema,
    /// Whether `query.store` restricts the rows (customers only).
    pub(crate) store_filter: bool,
    /// For the generic `resources` table: the `type_id` the rows must have.
    pub(crate) type_filter: Option<&'a str>,
}

impl<'a> PageTarget<'a> {
    /// The customer listing of `dialect` (the select list reads the document as text).
    pub(crate) fn customers(dialect: Dialect, schema: &'a Schema) -> Self {
        PageTarget {
            dialect,
            table: "customers",
            columns: match dialect {
                Dialect::Sqlite => "json(doc), password_hash",
                Dialect::Postgres => "doc::text, password_hash",
            },
            schema,
            store_filter: true,
            type_filter: None,
        }
    }

    /// [`PageTarget::customers`] on SQLite, with the second column [`STORED_JSON`] for a row
    /// marked [`CUSTOMER_DOC_FORM`] (its text is the API JSON and needs no hash: the masked
    /// password is in it) and the password hash otherwise.
    pub(crate) fn customers_json(schema: &'a Schema) -> Self {
        PageTarget {
            columns: "json(doc), CASE WHEN doc_form = 1 THEN '' ELSE password_hash END",
            ..PageTarget::customers(Dialect::Sqlite, schema)
        }
    }

    /// The listing of resources of `type_id` in the generic table (second column NULL).
    pub(crate) fn resources(dialect: Dialect, schema: &'a Schema, type_id: &'a str) -> Self {
        PageTarget {
            type_filter: Some(type_id),
            table: "resources",
            ..PageTarget::messages(dialect, schema)
        }
    }

    /// The message listing of `dialect` (the second column is always NULL).
    pub(crate) fn messages(dialect: Dialect, schema: &'a Schema) -> Self {
        PageTarget {
            dialect,
            table: "messages",
            columns: match dialect {
                Dialect::Sqlite => "json(doc), NULL",
                Dialect::Postgres => "doc::text, NULL::text",
            },
            schema,
            store_filter: false,
            type_filter: None,
        }
    }
}

impl PageSql {
    /// Builds `WHERE project = ? [AND (<predicate>)] [AND <store filter>]` plus order and paging.
    pub(crate) fn build(
        t: &PageTarget<'_>,
        project: &str,
        q: &ResourceQuery,
    ) -> Result<PageSql, StoreError> {
        let mut params = vec![SqlParam::Text(project.to_owned())];
        let mut where_ = format!("project = {}", placeholder(t.dialect, 1));
        if let Some(type_id) = t.type_filter {
            where_.push_str(&format!(" AND type_id = {}", placeholder(t.dialect, 2)));
            params.push(SqlParam::Text(type_id.to_owned()));
        }
        if let Some(p) = &q.predicate {
            let f = compile_where(p, t.dialect, params.len() + 1);
            where_.push_str(&format!(" AND ({})", f.sql));
            params.extend(f.params);
        }
        if let (true, Some(store)) = (t.store_filter, &q.store) {
            // In-store visibility is membership in the store's email scope or in the global
            // one (global customers are visible in every store): the index
            // (project, scope, customer_id) makes this two range scans.
            let a = placeholder(t.dialect, params.len() + 1);
            let b = placeholder(t.dialect, params.len() + 2);
            let c = placeholder(t.dialect, params.len() + 3);
            where_.push_str(&format!(
                " AND id IN (SELECT customer_id FROM customer_emails \
                 WHERE project = {a} AND scope IN ({b}, {c}))"
            ));
            params.push(SqlParam::Text(project.to_owned()));
            params.push(SqlParam::Text(GLOBAL_SCOPE.to_owned()));
            params.push(SqlParam::Text(store.clone()));
        }
        let order = compile_order_by(&q.sort, t.dialect, t.schema);
        // A predicate that is one side-table lookup (`addresses(country = "DE")`) is counted in
        // the side table's index alone: distinct owners of matching rows of this project, which
        // stops at the cap, instead of one probe of the side table per row of the project.
        let side_count = match (&q.predicate, t.store_filter && q.store.is_some()) {
            (Some(p), false) if t.type_filter.is_none() => element_lookup(p, t.dialect, 2),
            _ => None,
        };
        let count = q.with_total.then(|| {
            if let Some(lookup) = side_count {
                let sql = format!(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT {owner} FROM {table} \
                     WHERE {project} = {first} AND ({cond}) LIMIT {cap}) AS capped",
                    owner = lookup.owner_column,
                    table = lookup.table,
                    project = lookup.project_column,
                    first = placeholder(t.dialect, 1),
                    cond = lookup.condition.sql,
                    cap = TOTAL_CAP_WITH_PREDICATE,
                );
                let mut count_params = vec![SqlParam::Text(project.to_owned())];
                count_params.extend(lookup.condition.params);
                return (sql, count_params);
            }
            let sql = if q.predicate.is_some() {
                // The reported total is capped anyway, so stop counting at the cap instead of
                // scanning every match of an unselective predicate.
                format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE {where_} LIMIT {}) AS capped",
                    t.table, TOTAL_CAP_WITH_PREDICATE
                )
            } else {
                format!("SELECT COUNT(*) FROM {} WHERE {where_}", t.table)
            };
            (sql, params.clone())
        });
        let limit = placeholder(t.dialect, params.len() + 1);
        let offset = placeholder(t.dialect, params.len() + 2);
        let select = format!(
            "SELECT {} FROM {} WHERE {where_} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            t.columns, t.table
        );
        let mut select_params = params;
        select_params.push(SqlParam::Int(to_i64(q.limit)?));
        select_params.push(SqlParam::Int(to_i64(q.offset)?));
        Ok(PageSql {
            select,
            select_params,
            count,
            limit: q.limit,
            offset: q.offset,
        })
    }
}

/// The `n`-th (1-based) placeholder in `dialect`.
fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Sqlite => "?".to_owned(),
        Dialect::Postgres => format!("${n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows marked [`CUSTOMER_DOC_FORM`] are answered with their stored text, which must stay
    /// what this build serializes: a customer with every field set reads and writes back
    /// unchanged. If this fails, `Customer`'s JSON changed: bump `CUSTOMER_DOC_FORM` (rows
    /// written before then are parsed again) and update the text here.
    #[test]
    fn customer_doc_form_pins_the_json() {
        let text = r#"{"id":"c","version":3,"key":"k","customerNumber":"n","externalId":"x","createdAt":"2024-02-29T23:59:59.123Z","lastModifiedAt":"2024-03-01T00:00:00.001Z","lastModifiedBy":{"clientId":"client","customer":{"typeId":"customer","id":"c"},"isPlatformClient":false},"createdBy":{"clientId":"client","anonymousId":"anon","externalUserId":"u","isPlatformClient":true},"email":"E@x.com","password":"****tug=","firstName":"F","lastName":"L","middleName":"M","title":"T","dateOfBirth":"1990-12-31","companyName":"C","vatId":"V","addresses":[{"id":"a","key":"h","country":"DE","title":"t","salutation":"s","firstName":"f","lastName":"l","streetName":"sn","streetNumber":"1","additionalStreetInfo":"i","postalCode":"p","city":"c","region":"r","state":"st","company":"co","department":"d","building":"b","apartment":"ap","pOBox":"po","phone":"ph","mobile":"m","email":"e","fax":"fx","additionalAddressInfo":"ai","externalId":"ex","custom":{"type":{"typeId":"type","id":"t"},"fields":{"z":1,"a":[1.5,"s",true,null]}}}],"defaultShippingAddressId":"a","shippingAddressIds":["a"],"defaultBillingAddressId":"a","billingAddressIds":["a"],"isEmailVerified":true,"customerGroup":{"typeId":"customer-group","id":"g"},"customerGroupAssignments":[{"customerGroup":{"typeId":"customer-group","id":"g"}}],"custom":{"type":{"typeId":"type","id":"t"},"fields":{"n":1e-7}},"locale":"de","salutation":"S","stores":[{"typeId":"store","key":"s"}],"authenticationMode":"Password"}"#;
        let c: Customer = from_json(text, "customer").unwrap();
        assert_eq!(to_json(&c).unwrap(), text);
        assert_eq!(CUSTOMER_DOC_FORM, 1);
        let schema = clientele_query::schema::customer_schema();
        let columns = PageTarget::customers_json(&schema).columns;
        assert!(columns.contains(&format!("doc_form = {CUSTOMER_DOC_FORM} ")));
        assert!(columns.contains(&format!("THEN '{STORED_JSON}'")));
    }

    #[test]
    fn totals_are_capped_only_with_a_predicate() {
        assert_eq!(cap_total(25_000, false).unwrap(), 25_000);
        assert_eq!(cap_total(25_000, true).unwrap(), 10_000);
        assert_eq!(cap_total(7, true).unwrap(), 7);
        assert!(cap_total(-1, false).is_err());
    }

    #[test]
    fn only_a_page_that_ends_the_matches_gives_the_total() {
        let page = |limit, offset| PageSql {
            select: String::new(),
            select_params: Vec::new(),
            count: None,
            limit,
            offset,
        };
        assert_eq!(page(20, 0).total_from_page(0), Some(0));
        assert_eq!(page(20, 0).total_from_page(7), Some(7));
        assert_eq!(page(20, 40).total_from_page(3), Some(43));
        // A full page may have more after it; an empty page past the start says nothing.
        assert_eq!(page(20, 0).total_from_page(20), None);
        assert_eq!(page(20, 40).total_from_page(0), None);
        assert_eq!(page(0, 0).total_from_page(0), None);
    }

    #[test]
    fn page_sql_numbers_postgres_placeholders_in_order() {
        let schema = clientele_query::schema::customer_schema();
        let target = PageTarget {
            dialect: Dialect::Postgres,
            table: "customers",
            columns: "doc::text, password_hash",
            schema: &schema,
            store_filter: true,
            type_filter: None,
        };
        let q = ResourceQuery {
            limit: 20,
            offset: 40,
            with_total: true,
            store: Some("s1".to_owned()),
            ..ResourceQuery::default()
        };
        let sql = PageSql::build(&target, "proj", &q).unwrap();
        assert_eq!(
            sql.select,
            "SELECT doc::text, password_hash FROM customers WHERE project = $1 AND id IN \
             (SELECT customer_id FROM customer_emails WHERE project = $2 AND scope IN ($3, $4)) \
             ORDER BY created_at ASC, id ASC LIMIT $5 OFFSET $6"
        );
        assert_eq!(sql.select_params.len(), 6);
        assert_eq!(sql.select_params[4], SqlParam::Int(20));
        let (count, params) = sql.count.unwrap();
        assert!(count.starts_with("SELECT COUNT(*) FROM customers WHERE project = $1 AND"));
        assert_eq!(params.len(), 4);
    }

    #[test]
    fn references_cover_every_path_once_and_none_for_a_plain_customer() {
        use clientele_domain::Reference;
        use clientele_domain::{Address, CustomFields, CustomerGroupAssignment, KeyReference};
        let custom = |id: &str| CustomFields {
            type_: Reference::new(TYPE, id),
            fields: serde_json::Map::new(),
        };
        let doc = r#"{"id":"c","version":1,"email":"a@b.c","createdAt":"2022-09-19T14:34:35.843Z",
            "lastModifiedAt":"2022-09-19T14:34:35.843Z"}"#;
        let mut c = customer_from_row(doc, None).unwrap();
        assert!(customer_references(&c).is_empty());
        // Document order s2, s1: the lock order is sorted.
        c.stores = ["s2", "s1"]
            .iter()
            .map(|k| KeyReference {
                type_id: STORE.to_owned(),
                key: (*k).to_owned(),
            })
            .collect();
        c.customer_group = Some(Reference::new(CUSTOMER_GROUP, "g1"));
        c.customer_group_assignments = vec![CustomerGroupAssignment {
            customer_group: Reference::new(CUSTOMER_GROUP, "g1"),
        }];
        c.custom = Some(custom("t1"));
        c.addresses = vec![Address {
            custom: Some(custom("t2")),
            ..Address::default()
        }];
        let refs: Vec<(&str, ResourceLookup)> = customer_references(&c)
            .into_iter()
            .map(|r| (r.type_id, r.lookup))
            .collect();
        assert_eq!(
            refs,
            vec![
                (STORE, ResourceLookup::Key("s1".to_owned())),
                (STORE, ResourceLookup::Key("s2".to_owned())),
                (CUSTOMER_GROUP, ResourceLookup::Id("g1".to_owned())),
                (TYPE, ResourceLookup::Id("t1".to_owned())),
                (TYPE, ResourceLookup::Id("t2".to_owned())),
            ]
        );
    }

    #[test]
    fn store_keys_become_sorted_unique_scopes_and_no_store_is_global() {
        use clientele_domain::KeyReference;
        let doc = r#"{"id":"c","version":1,"email":"a@b.c","createdAt":"2022-09-19T14:34:35.843Z",
            "lastModifiedAt":"2022-09-19T14:34:35.843Z"}"#;
        let mut c = customer_from_row(doc, None).unwrap();
        assert_eq!(email_scopes(&c), vec![GLOBAL_SCOPE.to_owned()]);
        c.stores = ["s2", "s1", "s2"]
            .iter()
            .map(|k| KeyReference {
                type_id: "store".to_owned(),
                key: (*k).to_owned(),
            })
            .collect();
        assert_eq!(email_scopes(&c), vec!["s1".to_owned(), "s2".to_owned()]);
    }
}
