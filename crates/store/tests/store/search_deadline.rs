//! Customer Search runs under the same query deadline as `query_customers`: a search that runs
//! past it ends in `QueryTimedOut` (504 at the API) and gives its connection back, on SQLite
//! (the progress handler interrupts the statement) and on PostgreSQL (`statement_timeout`
//! cancels it; here while it waits for a lock another connection holds on the index, so the
//! test does not depend on the machine's speed).

use std::sync::Arc;
use std::time::Duration;

use clientele_domain::Address;
use clientele_query::search::parse_search_request;
use clientele_store::{open, CustomerLookup, Store, StoreError, StoreOptions};
use clientele_testing::PgDatabase;
use serde_json::json;
use sqlx::Connection;

use crate::common::{customer, postgres_or_notice, SqliteFile};

/// Customers with many addresses, so that a search scanning their cities is far longer than
/// the deadline below.
const CUSTOMERS: usize = 20;
const ADDRESSES: usize = 50;

/// The options of the store under test: one connection (so one held connection would stall
/// the next read) and a deadline of one millisecond.
fn options() -> StoreOptions {
    StoreOptions {
        pool_size: Some(1),
        query_timeout: Duration::from_millis(1),
        bulk_writes: false,
        exclusive: false,
    }
}

/// Writes the customers; the id of the first.
async fn seed(store: &Arc<dyn Store>) -> String {
    crate::common::project_with_search(store, "p").await;
    let mut first = None;
    for i in 0..CUSTOMERS {
        let mut c = customer(&format!("deadline{i}@example.com"), &[]);
        c.addresses = (0..ADDRESSES)
            .map(|j| Address {
                id: Some(format!("a{i}-{j}")),
                city: Some(format!("City{i}x{j}")),
                street_name: Some(format!("Street{j}")),
                country: "DE".to_owned(),
                ..Address::default()
            })
            .collect();
        store.insert_customer("p", &c, vec![]).await.unwrap();
        first.get_or_insert(c.id);
    }
    first.unwrap()
}

/// A search that matches nothing but must scan every address's city 49 times.
fn heavy_search() -> clientele_query::search::SearchRequest {
    let parts: Vec<_> = (0..49)
        .map(|i| json!({"wildcard": {"field": "addresses.city", "value": format!("*q{i}*")}}))
        .collect();
    parse_search_request(&json!({"query": {"or": parts}})).unwrap()
}

/// Searches past the deadline, then checks the store still answers on its one connection.
async fn times_out_and_gives_the_connection_back(store: &Arc<dyn Store>, first: &str) {
    let result = store.search_customers("p", &heavy_search()).await;
    assert!(
        matches!(result, Err(StoreError::QueryTimedOut)),
        "{result:?}"
    );
    // A connection goes back to its pool on a task of sqlx's own, so give it a moment.
    let mut waited = 0;
    while store.pool_stats().in_use > 0 && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(store.pool_stats().in_use, 0);
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        store.get_customer("p", &CustomerLookup::Id(first.to_owned())),
    )
    .await
    .expect("the connection was given back")
    .unwrap();
    assert_eq!(found.map(|c| c.id).as_deref(), Some(first));
}

#[tokio::test]
async fn a_search_past_the_query_deadline_times_out_and_holds_no_connection() {
    let file = SqliteFile::new();
    eprintln!("story on sqlite");
    let store = open(&file.url, options()).await.unwrap();
    let first = seed(&store).await;
    times_out_and_gives_the_connection_back(&store, &first).await;
    store.close().await;

    let Some(admin_url) = postgres_or_notice() else {
        return;
    };
    eprintln!("story on postgres");
    let db = PgDatabase::create(&admin_url, "clientele_test_", &[]).await;
    let store = open(&db.url, options()).await.unwrap();
    let first = seed(&store).await;
    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE customer_search_values IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    times_out_and_gives_the_connection_back(&store, &first).await;
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    store.close().await;
}
