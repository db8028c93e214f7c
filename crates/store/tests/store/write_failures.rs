//! Writes that fail inside the database — a statement or the commit itself — roll back
//! completely and leave the store able to write: the very next write succeeds. A failure the
//! database reports as an I/O or capacity problem (full disk) is `StoreError::Unavailable`.
//!
//! Failures are real database failures, installed beside the store through a connection of the
//! test's own: a trigger that raises (PostgreSQL: SQLSTATE `io_error` / `disk_full`), and for
//! the commit a deferred check (PostgreSQL: a deferred constraint trigger; SQLite: a deferred
//! foreign key) that fails only when the transaction commits. Runs on SQLite always and on
//! PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is set.

use std::sync::Arc;

use crate::common::{created, customer, each_backend_at};
use clientele_domain::Version;
use clientele_store::{CustomerLookup, CustomerWrite, Store, StoreError};
use sqlx::{Connection, Executor};

const P: &str = "proj";

/// Runs `sql` (several statements) on the database at `url`, beside the store.
async fn install(url: &str, sqlite: &str, postgres: &str) {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        conn.execute(sqlite).await.unwrap();
        conn.close().await.ok();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        conn.execute(postgres).await.unwrap();
        conn.close().await.ok();
    }
}

/// A customer insert and an update of it succeed (with their Messages).
async fn writes_work(store: &Arc<dyn Store>, email: &str) {
    let mut c = customer(email, &[]);
    store
        .insert_customer(P, &c, vec![created(&c)])
        .await
        .unwrap_or_else(|e| panic!("insert after a failed write: {e:?}"));
    c.version = Version::FIRST.next();
    c.first_name = Some("updated".to_owned());
    store
        .update_customer(P, &c, Version::FIRST, vec![])
        .await
        .unwrap_or_else(|e| panic!("update after a failed write: {e:?}"));
}

async fn absent(store: &Arc<dyn Store>, id: &str) {
    let found = store
        .get_customer(P, &CustomerLookup::Id(id.to_owned()))
        .await
        .unwrap();
    assert!(found.is_none(), "a failed write left its customer behind");
}

/// Installs a deferred check that fails the `COMMIT` of any transaction that inserted a
/// customer whose `firstName` is `fail-commit`.
async fn install_commit_trap(url: &str) {
    install(
        url,
        "CREATE TABLE trap_parent (id INTEGER PRIMARY KEY);
         CREATE TABLE trap (parent INTEGER REFERENCES trap_parent (id)
                            DEFERRABLE INITIALLY DEFERRED);
         CREATE TRIGGER trap_commit AFTER INSERT ON customers
         WHEN NEW.first_name = 'fail-commit'
         BEGIN INSERT INTO trap (parent) VALUES (42); END;",
        "CREATE FUNCTION trap_commit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.first_name = 'fail-commit' THEN
             RAISE EXCEPTION 'simulated full disk' USING ERRCODE = 'disk_full';
           END IF;
           RETURN NULL;
         END $$;
         CREATE CONSTRAINT TRIGGER trap_commit AFTER INSERT ON customers
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION trap_commit();",
    )
    .await;
}

/// A batch whose `COMMIT` fails is written again write by write: the write that makes the
/// commit fail gets the database's error, the others commit (before, every write of the
/// batch failed with one backend error).
#[tokio::test]
async fn a_batch_whose_commit_fails_fails_only_the_write_that_caused_it() {
    each_backend_at(|store, url| async move {
        install_commit_trap(&url).await;
        let before = customer("before@example.com", &[]);
        let mut doomed = customer("doomed@example.com", &[]);
        doomed.first_name = Some("fail-commit".to_owned());
        let after = customer("after@example.com", &[]);
        let writes = [&before, &doomed, &after]
            .into_iter()
            .map(|c| CustomerWrite::Insert {
                customer: c.clone(),
                messages: vec![created(c)],
            })
            .collect();
        let results = store.write_customers(P, writes).await.unwrap();
        assert!(results[0].is_ok(), "{:?}", results[0]);
        match &results[1] {
            Err(StoreError::Unavailable) if url.starts_with("postgres") => {}
            Err(StoreError::Backend(_)) if url.starts_with("sqlite") => {}
            other => panic!("the failing write answered {other:?}"),
        }
        assert!(results[2].is_ok(), "{:?}", results[2]);
        absent(&store, &doomed.id).await;
        for c in [&before, &after] {
            let stored = store
                .get_customer(P, &CustomerLookup::Id(c.id.clone()))
                .await
                .unwrap();
            assert!(stored.is_some(), "{} was not committed", c.email);
        }
    })
    .await;
}

#[tokio::test]
async fn a_failed_commit_rolls_back_and_the_next_write_works() {
    each_backend_at(|store, url| async move {
        install_commit_trap(&url).await;
        for round in 0..3 {
            let mut doomed = customer(&format!("doomed{round}@example.com"), &[]);
            doomed.first_name = Some("fail-commit".to_owned());
            let result = store
                .insert_customer(P, &doomed, vec![created(&doomed)])
                .await;
            match result {
                Err(StoreError::Unavailable) if url.starts_with("postgres") => {}
                Err(StoreError::Backend(_)) if url.starts_with("sqlite") => {}
                other => panic!("a failing commit answered {other:?}"),
            }
            absent(&store, &doomed.id).await;
            writes_work(&store, &format!("fine{round}@example.com")).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_failed_statement_rolls_back_and_the_next_write_works() {
    each_backend_at(|store, url| async move {
        install(
            &url,
            "CREATE TRIGGER trap_statement BEFORE UPDATE ON customers
             WHEN NEW.first_name = 'fail-statement'
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
            "CREATE FUNCTION trap_statement() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF NEW.first_name = 'fail-statement' THEN
                 RAISE EXCEPTION 'simulated I/O error' USING ERRCODE = 'io_error';
               END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER trap_statement BEFORE UPDATE ON customers
             FOR EACH ROW EXECUTE FUNCTION trap_statement();",
        )
        .await;
        for round in 0..3 {
            let mut c = customer(&format!("victim{round}@example.com"), &[]);
            store
                .insert_customer(P, &c, vec![created(&c)])
                .await
                .unwrap();
            c.version = Version::FIRST.next();
            c.first_name = Some("fail-statement".to_owned());
            let result = store.update_customer(P, &c, Version::FIRST, vec![]).await;
            match result {
                Err(StoreError::Unavailable) if url.starts_with("postgres") => {}
                Err(StoreError::Backend(_)) if url.starts_with("sqlite") => {}
                other => panic!("a failing statement answered {other:?}"),
            }
            let stored = store
                .get_customer(P, &CustomerLookup::Id(c.id.clone()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                stored.version,
                Version::FIRST,
                "the failed update rolled back"
            );
            writes_work(&store, &format!("next{round}@example.com")).await;
        }
    })
    .await;
}
