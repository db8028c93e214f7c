//! The `query_string` fuzz check: arbitrary bytes as the raw query string of a collection
//! request (`where`, `sort`, `expand`, `var.*`, `limit`, `offset`, `withTotal`), read by the
//! server's own code (`QueryParams`, `resource_query_with`, `expansions`), then compiled to the
//! exact statements the store runs for both dialects, run on a real SQLite store, and compared
//! with the in-memory evaluator.
//!
//! Owns only the invariants checked here; it must not hold rules of its own. The fuzz target
//! `query_string` calls [`check`]; `crates/server/tests/fuzz_corpus.rs` replays the committed
//! corpus through the same function (it includes this file), so the corpus runs in every
//! `cargo test`.
//!
//! Invariants beyond "never panics": every statement has exactly one parameter per
//! placeholder; an accepted customer or message query runs on SQLite without an error (an
//! error there would be a 500); the customers it selects are exactly those the evaluator
//! selects, and the total counts them.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use clientele_domain::{Customer, Project};
use clientele_query::schema::{
    customer_group_schema, customer_schema, message_schema, store_schema, type_schema,
};
use clientele_query::{
    compile_order_by, compile_where, evaluate, CustomFieldType, CustomFieldTypes, Dialect,
};
use clientele_server::api::params::QueryParams;
use clientele_server::api::request::{expansions, required_version, resource_query_with};
use clientele_store::{page_statements, Listing, ResourceQuery, Store, StoreError, StoreOptions};
use tokio::runtime::Runtime;

const PROJECT: &str = "fuzz";

/// A SQLite store holding the sample customers, and their JSON for the evaluator.
struct Backend {
    runtime: Runtime,
    store: Arc<dyn Store>,
    docs: Vec<(String, serde_json::Value)>,
}

fn backend() -> &'static Backend {
    static BACKEND: OnceLock<Backend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => unreachable!("tokio runtime: {e}"),
        };
        let store = match runtime.block_on(clientele_store::open(
            "sqlite::memory:",
            StoreOptions::default(),
        )) {
            Ok(store) => store,
            Err(e) => unreachable!("open SQLite: {e}"),
        };
        let docs = runtime.block_on(async {
            let project = Project {
                key: PROJECT.to_owned(),
                name: PROJECT.to_owned(),
                languages: vec!["en".to_owned()],
                countries: vec!["DE".to_owned()],
                currencies: vec!["EUR".to_owned()],
            };
            if let Err(e) = store
                .create_project(&project, time::OffsetDateTime::UNIX_EPOCH)
                .await
            {
                unreachable!("create project: {e}");
            }
            let mut docs = Vec::new();
            for c in sample_customers() {
                if let Err(e) = store.insert_customer(PROJECT, &c, Vec::new()).await {
                    unreachable!("insert sample customer: {e}");
                }
                let doc = serde_json::to_value(&c).unwrap_or_default();
                docs.push((c.id.clone(), doc));
            }
            docs
        });
        Backend {
            runtime,
            store,
            docs,
        }
    })
}

/// Customers that differ in the fields predicates usually test (no references, so the store
/// needs no Stores, Groups or Types to hold them).
fn sample_customers() -> Vec<Customer> {
    let base = serde_json::json!({
        "version": 1, "createdAt": "2024-01-01T00:00:00.000Z",
        "lastModifiedAt": "2024-01-02T00:00:00.000Z", "isEmailVerified": false,
        "addresses": [], "shippingAddressIds": [], "billingAddressIds": [], "stores": [],
        "authenticationMode": "Password"
    });
    let variants = [
        serde_json::json!({"id": "c1", "email": "a@example.com"}),
        serde_json::json!({
            "id": "c2", "email": "Bob@Example.com", "key": "bob", "firstName": "Bob",
            "lastName": "O'Brien", "customerNumber": "42", "isEmailVerified": true,
            "dateOfBirth": "1990-12-31", "locale": "en", "version": 7,
            "addresses": [{"id": "a1", "key": "home", "country": "DE", "city": "Berlin",
                           "streetName": "Straße"}],
            "shippingAddressIds": ["a1"], "defaultShippingAddressId": "a1"
        }),
        serde_json::json!({
            "id": "c3", "email": "z%_\\@example.com", "firstName": "", "middleName": "ß",
            "companyName": "ACME \u{1F600}", "authenticationMode": "ExternalAuth",
            "createdAt": "2030-06-15T12:30:00.123Z"
        }),
    ];
    variants
        .into_iter()
        .filter_map(|v| {
            let mut doc = base.clone();
            if let (Some(doc), Some(v)) = (doc.as_object_mut(), v.as_object()) {
                for (k, val) in v {
                    doc.insert(k.clone(), val.clone());
                }
            }
            serde_json::from_value(doc).ok()
        })
        .collect()
}

/// Custom field types as the server would derive them from the project's Types (`n` and `x`
/// stay untyped, so both typed and untyped paths are reached).
fn custom_types() -> CustomFieldTypes {
    [
        ("b", CustomFieldType::Boolean),
        ("s", CustomFieldType::String),
        ("num", CustomFieldType::Number),
        ("d", CustomFieldType::Date),
        ("dt", CustomFieldType::DateTime),
        ("t", CustomFieldType::Time),
        ("m", CustomFieldType::Money),
        ("ls", CustomFieldType::LocalizedString),
        ("e", CustomFieldType::Enum),
        ("le", CustomFieldType::LocalizedEnum),
        ("r", CustomFieldType::Reference),
        ("set", CustomFieldType::Set(Box::new(CustomFieldType::Date))),
    ]
    .into_iter()
    .collect()
}

/// One parameter per placeholder: `?` for SQLite, `$1..$n` each used for PostgreSQL.
fn assert_placeholders(dialect: Dialect, sql: &str, params: usize) {
    match dialect {
        Dialect::Sqlite => assert_eq!(sql.matches('?').count(), params, "{sql}"),
        Dialect::Postgres => {
            let mut seen = BTreeSet::new();
            let bytes = sql.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'$' {
                    let digits: String = sql[i + 1..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    if let Ok(n) = digits.parse::<usize>() {
                        seen.insert(n);
                    }
                }
            }
            let want: BTreeSet<usize> = (1..=params).collect();
            assert_eq!(seen, want, "{sql}");
        }
    }
}

/// Runs one fuzz input as a raw query string through the server's parsing and the store.
pub fn check(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let params = QueryParams::parse(Some(&raw));
    let _ = expansions(&params);
    let _ = required_version(&params);
    let custom = custom_types();

    for schema in [customer_group_schema(), store_schema(), type_schema()] {
        if let Ok(q) = resource_query_with(&params, &schema, &custom) {
            for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                if let Some(p) = &q.predicate {
                    let f = compile_where(p, dialect, 3);
                    assert_placeholders_from(dialect, &f.sql, 3, f.params.len());
                }
                let _ = compile_order_by(&q.sort, dialect, &schema);
            }
        }
    }

    for (listing, schema) in [
        (Listing::Customers, customer_schema()),
        (Listing::Messages, message_schema()),
    ] {
        let Ok(query) = resource_query_with(&params, &schema, &custom) else {
            continue;
        };
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for store in [None, Some("berlin".to_owned())] {
                let q = ResourceQuery {
                    store,
                    ..query.clone()
                };
                match page_statements(dialect, listing, PROJECT, &q) {
                    Ok(statements) => {
                        for (sql, params) in statements {
                            assert_placeholders(dialect, &sql, params.len());
                        }
                    }
                    Err(e) => unreachable!("an accepted query does not compile: {e}"),
                }
            }
        }
        run_on_sqlite(listing, &query);
    }
}

/// `compile_where` numbered from `first`: PostgreSQL placeholders are `$first..`.
fn assert_placeholders_from(dialect: Dialect, sql: &str, first: usize, params: usize) {
    match dialect {
        Dialect::Sqlite => assert_eq!(sql.matches('?').count(), params, "{sql}"),
        Dialect::Postgres => {
            let shifted: String = (1..first).map(|n| format!(" ${n}")).collect();
            assert_placeholders(dialect, &format!("{sql}{shifted}"), params + first - 1);
        }
    }
}

/// Runs `query` on the SQLite store; for customers, checks the selection against the
/// evaluator with paging and sort removed.
fn run_on_sqlite(listing: Listing, query: &ResourceQuery) {
    let b = backend();
    let outcome: Result<(), StoreError> = b.runtime.block_on(async {
        match listing {
            Listing::Customers => {
                b.store.query_customers(PROJECT, query).await?;
                let Some(predicate) = &query.predicate else {
                    return Ok(());
                };
                let all = ResourceQuery {
                    predicate: Some(predicate.clone()),
                    sort: Vec::new(),
                    limit: 500,
                    offset: 0,
                    with_total: true,
                    store: None,
                };
                let page = b.store.query_customers(PROJECT, &all).await?;
                let got: BTreeSet<&str> = page.results.iter().map(|c| c.id.as_str()).collect();
                let want: BTreeSet<&str> = b
                    .docs
                    .iter()
                    .filter(|(_, doc)| evaluate(predicate, doc))
                    .map(|(id, _)| id.as_str())
                    .collect();
                assert_eq!(
                    got, want,
                    "SQLite and the evaluator disagree on {predicate:?}"
                );
                assert_eq!(page.total, Some(want.len() as u64));
                Ok(())
            }
            Listing::Messages => {
                b.store.query_messages(PROJECT, query).await?;
                Ok(())
            }
        }
    });
    match outcome {
        Ok(()) | Err(StoreError::QueryTimedOut) => {}
        Err(e) => unreachable!("an accepted query fails on SQLite (a 500): {e}"),
    }
}
