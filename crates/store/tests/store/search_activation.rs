//! Activation of Customer Search over customers written before the index existed: the batched
//! `index_unindexed_customers` writes exactly the entries a customer's own write would have
//! written, on SQLite and PostgreSQL, also when walked once in id order; on PostgreSQL a
//! write that commits while a batch waits for its customer is neither lost nor doubled; a fuzzy term with more candidates than
//! PostgreSQL's 65,535 bind parameters is answered on both databases; and the derived terms of
//! `all` and `fullName` are not stored but found through the fields they are made of.

use std::sync::Arc;
use std::time::Duration;

use clientele_domain::Address;
use clientele_query::search::parse_search_request;
use clientele_store::{open, CustomerWrite, Store, StoreOptions};
use clientele_testing::PgDatabase;
use serde_json::json;
use sqlx::Connection;

use crate::common::{customer, each_backend_at, postgres_or_notice, project_with_search};

/// One index row: customer, field, text, lowercase text, number.
type Entry = (String, String, String, String, Option<f64>);

const ENTRIES: &str = "SELECT customer_id, field, text_value, lower_value, num_value \
     FROM customer_search_values ORDER BY customer_id, field, text_value, lower_value, num_value";

/// Every index row, in one order.
async fn entries(url: &str) -> Vec<Entry> {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(ENTRIES).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(ENTRIES).fetch_all(&mut c).await.unwrap()
    }
}

/// Runs `statements` on the database directly, outside the store.
async fn raw(url: &str, statements: &[&str]) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        for s in statements {
            sqlx::query(s).execute(&mut c).await.unwrap();
        }
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        for s in statements {
            sqlx::query(s).execute(&mut c).await.unwrap();
        }
    }
}

/// As if written before the index existed (or seeded straight into the tables).
const STRIP: &[&str] = &[
    "DELETE FROM customer_search_docs",
    "DELETE FROM customer_search_values",
];

/// Writes `n` customers with names and two addresses each (about 40 index entries each).
async fn write_customers(store: &Arc<dyn Store>, n: usize) -> Vec<String> {
    project_with_search(store, "p").await;
    let mut ids = Vec::new();
    for i in 0..n {
        let mut c = customer(&format!("Act{i}@Example.com"), &[]);
        c.key = Some(format!("act-{i}"));
        c.first_name = Some(format!("First{}", i % 7));
        c.last_name = Some(format!("Last {}", i % 11));
        c.addresses = (0..2)
            .map(|j| Address {
                id: Some(format!("a{i}-{j}")),
                city: Some(format!("City {j}")),
                street_name: Some(format!("Street{i}")),
                country: if j == 0 { "DE" } else { "FR" }.to_owned(),
                ..Address::default()
            })
            .collect();
        store.insert_customer("p", &c, vec![]).await.unwrap();
        ids.push(c.id);
    }
    ids
}

#[tokio::test]
async fn activation_in_batches_indexes_exactly_what_each_write_indexes() {
    each_backend_at(|store, url| async move {
        write_customers(&store, 250).await;
        let written = entries(&url).await;
        // Enough rows that a batch takes several multi-row inserts.
        assert!(written.len() > 250 * 25, "{}", written.len());
        raw(&url, STRIP).await;
        assert_eq!(store.search_index_progress("p").await.unwrap(), (0, 250));
        let mut batches = Vec::new();
        loop {
            let n = store.index_unindexed_customers("p", 100).await.unwrap();
            batches.push(n);
            if n == 0 {
                break;
            }
        }
        assert_eq!(batches, vec![100, 100, 50, 0]);
        assert_eq!(store.search_index_progress("p").await.unwrap(), (250, 250));
        assert_eq!(entries(&url).await, written);
    })
    .await;
}

#[tokio::test]
async fn a_walk_in_id_order_indexes_what_each_write_indexes() {
    each_backend_at(|store, url| async move {
        write_customers(&store, 250).await;
        raw(&url, STRIP).await;
        let mut after = String::new();
        let mut batches = 0;
        while let Some(last) = store
            .index_unindexed_customers_after("p", &after, 100)
            .await
            .unwrap()
        {
            assert!(last > after);
            after = last;
            batches += 1;
            if batches == 1 {
                // A customer created behind the walk and one ahead of it are indexed by their
                // writes (search is on while indexing), the one ahead not again by the walk.
                for id in ["00000000-behind", "zzzzzzzz-ahead"] {
                    let mut c = customer(&format!("{id}@example.com"), &[]);
                    c.id = id.to_owned();
                    c.last_name = Some("During Build".to_owned());
                    store.insert_customer("p", &c, vec![]).await.unwrap();
                }
            }
        }
        assert_eq!(batches, 3);
        // Nothing is left behind the walk.
        assert_eq!(store.index_unindexed_customers("p", 100).await.unwrap(), 0);
        assert_eq!(store.search_index_progress("p").await.unwrap(), (252, 252));
        let built = entries(&url).await;
        // The same as indexing from the first unindexed customer, batch after batch.
        raw(&url, STRIP).await;
        while store.index_unindexed_customers("p", 100).await.unwrap() > 0 {}
        assert_eq!(entries(&url).await, built);
        let request = parse_search_request(&json!({"query": {"fullText": {
            "field": "lastName", "value": "build"}}}))
        .unwrap();
        let page = store.search_customers("p", &request).await.unwrap();
        assert_eq!(page.total, Some(2));
    })
    .await;
}

#[tokio::test]
async fn a_write_committed_while_activation_waits_for_its_customer_is_kept_once() {
    let Some(admin_url) = postgres_or_notice() else {
        return;
    };
    let db = PgDatabase::create(&admin_url, "clientele_test_", &[]).await;
    let store = open(&db.url, StoreOptions::default()).await.unwrap();
    let ids = write_customers(&store, 5).await;
    raw(&db.url, STRIP).await;
    let target = &ids[2];
    // A writer of `target`: holds its row (as an update does) while activation starts.
    let mut writer = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut writer).await.unwrap();
    sqlx::query("UPDATE customers SET version = version WHERE id = $1")
        .bind(target)
        .execute(&mut writer)
        .await
        .unwrap();
    let activation = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.index_unindexed_customers("p", 100).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!activation.is_finished(), "activation waits for the writer");
    // The writer indexes its new version of the customer and commits.
    sqlx::query("INSERT INTO customer_search_docs (customer_id, project) VALUES ($1, 'p')")
        .bind(target)
        .execute(&mut writer)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO customer_search_values \
         (project, customer_id, field, text_value, lower_value, num_value) \
         VALUES ('p', $1, 'lastName', 'Writer', 'writer', NULL)",
    )
    .bind(target)
    .execute(&mut writer)
    .await
    .unwrap();
    sqlx::query("COMMIT").execute(&mut writer).await.unwrap();
    writer.close().await.unwrap();
    assert_eq!(activation.await.unwrap().unwrap(), 5);
    let all = entries(&db.url).await;
    let of_target: Vec<&Entry> = all.iter().filter(|e| &e.0 == target).collect();
    assert_eq!(
        of_target,
        vec![&(
            target.clone(),
            "lastName".to_owned(),
            "Writer".to_owned(),
            "writer".to_owned(),
            None
        )]
    );
    for id in ids.iter().filter(|id| *id != target) {
        assert!(all.iter().filter(|e| &e.0 == id).count() > 25, "{id}");
    }
    assert_eq!(store.search_index_progress("p").await.unwrap(), (5, 5));
    store.close().await;
}

#[tokio::test]
async fn derived_terms_are_not_stored_and_are_found_through_their_fields() {
    each_backend_at(|store, url| async move {
        let ids = write_customers(&store, 3).await;
        let all = entries(&url).await;
        assert!(all.len() > 3 * 25, "{}", all.len());
        let stored: Vec<&Entry> = all
            .iter()
            .filter(|e| e.1 == "~all" || e.1 == "~fullName")
            .collect();
        assert!(stored.is_empty(), "{stored:?}");
        // Customer 1: key `act-1`, email `Act1@Example.com`, `First1`, `Last 1`.
        for (query, want) in [
            (json!({"fullText": {"field": "all", "value": "act1 first1", "mustMatch": "all"}}), vec![1]),
            (json!({"fullText": {"field": "all", "value": "act"}}), vec![0, 1, 2]),
            (json!({"fullTextPrefix": {"field": "all", "value": "exam"}}), vec![0, 1, 2]),
            (json!({"fuzzy": {"field": "all", "value": "act2x", "level": 1}}), vec![2]),
            (json!({"fullText": {"field": "fullName", "value": "first1 last", "mustMatch": "all"}}), vec![1]),
            (json!({"fullTextPrefix": {"field": "fullName", "value": "first2"}}), vec![2]),
            (json!({"fuzzy": {"field": "fullName", "value": "firsz0", "level": 1}}), vec![0]),
            (json!({"fullText": {"field": "fullName", "value": "act1"}}), vec![]),
        ] {
            let request = parse_search_request(&json!({ "query": query })).unwrap();
            let page = store.search_customers("p", &request).await.unwrap();
            let mut found: Vec<&str> = page.results.iter().map(|h| h.id.as_str()).collect();
            found.sort_unstable();
            let mut wanted: Vec<&str> = want.iter().map(|i: &usize| ids[*i].as_str()).collect();
            wanted.sort_unstable();
            assert_eq!(found, wanted, "{query}");
        }
    })
    .await;
}

/// The migration that stopped storing `~all` / `~fullName` (sqlite 0017, postgres 0016)
/// deletes the entries of those fields that earlier builds wrote, and only those.
#[tokio::test]
async fn the_derived_terms_migration_deletes_only_derived_entries() {
    each_backend_at(|store, url| async move {
        let ids = write_customers(&store, 2).await;
        let before = entries(&url).await;
        // What an earlier build stored besides: the derived fields' terms.
        let id = &ids[0];
        raw(
            &url,
            &[&format!(
                "INSERT INTO customer_search_values \
                 (customer_id, field, text_value, dup, project, lower_value, num_value) VALUES \
                 ('{id}', '~all', 'first0', 0, 'p', 'first0', NULL), \
                 ('{id}', '~fullName', 'last', 0, 'p', 'last', NULL)"
            )],
        )
        .await;
        assert_eq!(entries(&url).await.len(), before.len() + 2);
        let migration = include_str!("../../migrations/sqlite/0017_search_derived_terms.sql");
        assert_eq!(
            migration,
            include_str!("../../migrations/postgres/0016_search_derived_terms.sql"),
            "both databases run the same statement"
        );
        let statement: String = migration
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        raw(&url, &[statement.trim()]).await;
        assert_eq!(entries(&url).await, before);
    })
    .await;
}

/// Lowercase letters and digits of three scripts: 92 characters, none of them `a`.
fn alphabet() -> Vec<char> {
    ('b'..='z')
        .chain('0'..='9')
        .chain('\u{3B1}'..='\u{3C9}')
        .chain('\u{430}'..='\u{44F}')
        .collect()
}

#[tokio::test]
async fn a_fuzzy_term_with_more_candidates_than_bind_parameters_is_answered() {
    each_backend_at(|store, _url| async move {
        project_with_search(&store, "p").await;
        // 66,000 distinct terms, each `aaaaaaa` with two characters replaced: all within two
        // edits of it, so all fuzzy candidates of one term.
        let alphabet = alphabet();
        let mut terms = Vec::new();
        'fill: for i in 0..7 {
            for j in i + 1..7 {
                for x in &alphabet {
                    for y in &alphabet {
                        let mut t: Vec<char> = "aaaaaaa".chars().collect();
                        t[i] = *x;
                        t[j] = *y;
                        terms.push(t.into_iter().collect::<String>());
                        if terms.len() == 66_000 {
                            break 'fill;
                        }
                    }
                }
            }
        }
        // Spread over customers of short names: a long value would not fit a btree entry.
        let mut writes = Vec::new();
        for (i, names) in terms.chunks(30).enumerate() {
            let mut c = customer(&format!("many{i}@example.com"), &[]);
            c.last_name = Some(names.join(" "));
            writes.push(CustomerWrite::Insert {
                customer: c,
                messages: vec![],
            });
        }
        let holders = writes.len();
        let mut other = customer("other@example.com", &[]);
        other.last_name = Some("Zzzzzzz".to_owned());
        writes.push(CustomerWrite::Insert {
            customer: other,
            messages: vec![],
        });
        while !writes.is_empty() {
            let rest = writes.split_off(writes.len().min(500));
            let done = store.write_customers("p", writes).await.unwrap();
            assert!(done.iter().all(Result::is_ok));
            writes = rest;
        }
        let request = parse_search_request(&json!({"query": {"fuzzy": {
            "field": "lastName", "value": "aaaaaaa", "level": 2}}}))
        .unwrap();
        let page = store.search_customers("p", &request).await.unwrap();
        assert_eq!(page.total, Some(holders as u64));
        assert_eq!(page.results.len(), 20);
    })
    .await;
}
