//! An exclusive store (`StoreOptions::exclusive`, `clientele import --exclusive`): on SQLite it
//! keeps every other connection out while it is open, and the indexes it suspends for a bulk
//! load come back with their planner statistics, either when it restores them or, after a load
//! that never finished, at the next opening of the database. PostgreSQL refuses to open
//! exclusively.

use std::time::{Duration, Instant};

use clientele_store::{open, Store, StoreError, StoreOptions};
use clientele_testing::PgDatabase;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

use crate::common::{at, created, customer, postgres_or_notice, SqliteFile};

fn exclusive() -> StoreOptions {
    StoreOptions {
        exclusive: true,
        bulk_writes: true,
        ..StoreOptions::default()
    }
}

/// Every index with a definition (name, `CREATE` statement, `sqlite_stat1` row), and the rows
/// of the record of suspended indexes (none when the table does not exist).
type Schema = (Vec<(String, String, Option<String>)>, i64);

/// The schema of the database at `url`, read on a connection of its own.
async fn schema(url: &str) -> Schema {
    let mut conn = url
        .parse::<SqliteConnectOptions>()
        .unwrap()
        .busy_timeout(Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    let indexes = sqlx::query(
        "SELECT m.name, m.sql, (SELECT s.stat FROM sqlite_stat1 AS s WHERE s.idx = m.name) \
         FROM sqlite_master AS m WHERE m.type = 'index' AND m.sql IS NOT NULL ORDER BY m.name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    let recorded: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'clientele_suspended_indexes')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let rows = if recorded {
        sqlx::query_scalar("SELECT COUNT(*) FROM clientele_suspended_indexes")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        0
    };
    (indexes, rows)
}

/// A migrated database with one project; its schema.
async fn prepared(file: &SqliteFile) -> Schema {
    let store = open(&file.url, StoreOptions::default()).await.unwrap();
    let project = clientele_domain::Project {
        key: "p".to_owned(),
        name: "p".to_owned(),
        languages: vec!["en".to_owned()],
        countries: vec![],
        currencies: vec![],
    };
    store.create_project(&project, at(0)).await.unwrap();
    store.close().await;
    schema(&file.url).await
}

/// Writes a customer through the store, as an import does.
async fn insert(store: &dyn Store, email: &str) {
    let c = customer(email, &[]);
    store
        .insert_customer("p", &c, vec![created(&c)])
        .await
        .unwrap();
}

#[tokio::test]
async fn an_interrupted_exclusive_load_gets_its_indexes_back_at_the_next_opening() {
    let file = SqliteFile::new();
    let before = prepared(&file).await;
    assert_eq!(before.1, 0);
    let store = open(&file.url, exclusive()).await.unwrap();
    let dropped = store.suspend_bulk_indexes().await.unwrap();
    assert!(dropped >= 10, "only {dropped} indexes dropped");
    insert(&*store, "during@example.com").await;

    // Nobody else gets in meanwhile: not another store, not a plain connection.
    let started = Instant::now();
    let other = open(&file.url, StoreOptions::default()).await.err();
    assert!(matches!(other, Some(StoreError::Unavailable)), "{other:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let reader = file
        .url
        .parse::<SqliteConnectOptions>()
        .unwrap()
        .busy_timeout(Duration::from_millis(100))
        .connect()
        .await;
    let locked = match reader {
        Ok(mut conn) => sqlx::query("SELECT COUNT(*) FROM customers")
            .fetch_one(&mut conn)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let message = format!("{:?}", locked.expect_err("read an exclusive database"));
    assert!(message.contains("locked"), "{message}");

    // Interrupted: closed without restoring.
    store.close().await;
    let (indexes, recorded) = schema(&file.url).await;
    assert_eq!(indexes.len(), before.0.len() - dropped);
    assert_eq!(recorded, i64::try_from(dropped).unwrap());
    // Unique indexes stay: they enforce uniqueness during the load.
    for (name, sql, _) in &before.0 {
        if sql.to_uppercase().starts_with("CREATE UNIQUE") {
            assert!(indexes.iter().any(|(n, _, _)| n == name), "{name} dropped");
        }
    }

    let reopened = open(&file.url, StoreOptions::default()).await.unwrap();
    let found = reopened
        .get_customer(
            "p",
            &clientele_store::CustomerLookup::Email {
                email: "during@example.com".to_owned(),
                store: None,
            },
        )
        .await
        .unwrap();
    assert!(found.is_some());
    reopened.close().await;
    assert_eq!(schema(&file.url).await, before);
}

#[tokio::test]
async fn an_exclusive_store_restores_what_it_suspended() {
    let file = SqliteFile::new();
    let before = prepared(&file).await;
    let store = open(&file.url, exclusive()).await.unwrap();
    let dropped = store.suspend_bulk_indexes().await.unwrap();
    for i in 0..20 {
        insert(&*store, &format!("c{i}@example.com")).await;
    }
    assert_eq!(store.count_all_customers().await.unwrap(), 20);
    assert_eq!(store.restore_bulk_indexes().await.unwrap(), dropped);
    // Nothing left to restore.
    assert_eq!(store.restore_bulk_indexes().await.unwrap(), 0);
    store.close().await;
    assert_eq!(schema(&file.url).await, before);
}

#[tokio::test]
async fn indexes_are_suspended_only_on_an_exclusive_sqlite_store() {
    let file = SqliteFile::new();
    let before = prepared(&file).await;
    let store = open(&file.url, StoreOptions::default()).await.unwrap();
    let refused = store.suspend_bulk_indexes().await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );
    assert_eq!(store.restore_bulk_indexes().await.unwrap(), 0);
    store.close().await;
    assert_eq!(schema(&file.url).await, before);
    if let Some(admin_url) = postgres_or_notice() {
        let db = PgDatabase::create(&admin_url, "clientele_test_", &[]).await;
        let refused = open(&db.url, exclusive()).await;
        let Err(StoreError::Backend(message)) = refused else {
            panic!("PostgreSQL opened exclusively");
        };
        assert!(message.contains("SQLite only"), "{message}");
        let store = open(&db.url, StoreOptions::default()).await.unwrap();
        let refused = store.suspend_bulk_indexes().await;
        assert!(
            matches!(refused, Err(StoreError::Backend(_))),
            "{refused:?}"
        );
        assert_eq!(store.restore_bulk_indexes().await.unwrap(), 0);
        store.close().await;
    }
}
