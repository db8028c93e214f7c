//! Conformance stories for Stores in the generic `resources` table (`type_id` `store`): key
//! lookups, predicate queries over the Store schema, the delete guard against customers of the
//! Store, and in-store customer listings (the Store's customers plus the global ones). Each
//! story runs on SQLite and, when `CLIENTELE_TEST_POSTGRES_URL` is set, on PostgreSQL.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::common::{at, created, customer, each_backend, new_id, seed_stores};
use clientele_domain::Version;
use clientele_query::schema::{customer_schema, store_schema};
use clientele_store::{ResourceLookup, ResourceQuery, ResourceRecord, Store, StoreError};
use serde_json::json;

const P: &str = "proj";
const STORE: &str = "store";

fn store_record(key: &str, ms: i64) -> ResourceRecord {
    let id = new_id();
    ResourceRecord {
        id: id.clone(),
        key: Some(key.to_owned()),
        version: Version::FIRST,
        created_at: at(ms),
        last_modified_at: at(ms),
        doc: json!({
            "id": id, "version": 1, "key": key, "name": {"en": format!("{key} shop")},
            "languages": ["en"], "countries": [{"code": if ms == 0 { "DE" } else { "AT" }}],
            "distributionChannels": [], "supplyChannels": [], "productSelections": [],
            "createdAt": "2022-09-19T14:34:35.843Z", "lastModifiedAt": "2022-09-19T14:34:35.843Z"
        }),
    }
}

fn expect_referenced(r: Result<(), StoreError>) {
    match r {
        Err(StoreError::ReferenceExists { referenced_by }) => assert_eq!(referenced_by, "customer"),
        other => panic!("expected ReferenceExists, got {other:?}"),
    }
}

async fn insert_store(store: &Arc<dyn Store>, key: &str, ms: i64) -> ResourceRecord {
    let r = store_record(key, ms);
    store
        .insert_resource(P, STORE, &r)
        .await
        .expect("insert store");
    r
}

#[tokio::test]
async fn stores_are_found_by_key_and_queried_over_their_schema() {
    each_backend(|store| async move {
        let eu = insert_store(&store, "eu", 0).await;
        insert_store(&store, "us", 1000).await;
        let by_key = store
            .get_resource(P, STORE, &ResourceLookup::Key("eu".into()))
            .await
            .expect("get");
        assert_eq!(by_key, Some(eu.doc.clone()));
        match store
            .insert_resource(P, STORE, &store_record("eu", 5))
            .await
        {
            Err(StoreError::DuplicateField { field, .. }) => assert_eq!(field, "key"),
            other => panic!("expected DuplicateField, got {other:?}"),
        }
        // A Customer Group may carry the same key: keys are unique per type.
        let mut group = store_record("eu", 6);
        group.doc = json!({"key": "eu", "name": "eu"});
        store
            .insert_resource(P, "customer-group", &group)
            .await
            .expect("same key, other type");
        let schema = store_schema();
        for (predicate, expected) in [
            (r#"key = "us""#, vec!["us"]),
            (r#"name(en = "eu shop")"#, vec!["eu"]),
            (r#"countries(code = "AT")"#, vec!["us"]),
            (r#"languages contains any ("en")"#, vec!["eu", "us"]),
        ] {
            let query = ResourceQuery {
                predicate: Some(
                    clientele_query::parse_where(&[predicate.to_owned()], &HashMap::new(), &schema)
                        .expect("predicate"),
                ),
                limit: 100,
                with_total: true,
                ..ResourceQuery::default()
            };
            let page = store
                .query_resources(P, STORE, &query)
                .await
                .expect("query");
            let keys: Vec<&str> = page
                .results
                .iter()
                .map(|d| d["key"].as_str().unwrap())
                .collect();
            assert_eq!(keys, expected, "{predicate}");
            assert_eq!(page.total, Some(expected.len() as u64));
        }
    })
    .await;
}

#[tokio::test]
async fn a_store_cannot_be_deleted_while_a_customer_belongs_to_it() {
    each_backend(|store| async move {
        let eu = insert_store(&store, "eu", 0).await;
        let us = insert_store(&store, "us", 1).await;
        let empty = insert_store(&store, "empty", 2).await;
        let global = customer("g@example.com", &[]);
        store
            .insert_customer(P, &global, vec![created(&global)])
            .await
            .expect("global");
        let mut both = customer("b@example.com", &["eu", "us"]);
        store
            .insert_customer(P, &both, vec![created(&both)])
            .await
            .expect("both");
        // The same Store key in another project does not count.
        seed_stores(&store, "other-project", &["empty"]).await;
        let elsewhere = customer("e@example.com", &["empty"]);
        store
            .insert_customer("other-project", &elsewhere, vec![])
            .await
            .expect("elsewhere");

        expect_referenced(
            store
                .delete_resource(P, STORE, &eu.id, Version::FIRST)
                .await,
        );
        expect_referenced(
            store
                .delete_resource(P, STORE, &us.id, Version::FIRST)
                .await,
        );
        store
            .delete_resource(P, STORE, &empty.id, Version::FIRST)
            .await
            .expect("a Store without customers goes");

        // Leaving one Store frees it and keeps the other referenced.
        let expected = both.version;
        both.stores.truncate(1);
        both.version = both.version.next();
        store
            .update_customer(P, &both, expected, vec![])
            .await
            .expect("leave us");
        store
            .delete_resource(P, STORE, &us.id, Version::FIRST)
            .await
            .expect("us is free");
        expect_referenced(
            store
                .delete_resource(P, STORE, &eu.id, Version::FIRST)
                .await,
        );
        // Deleting the customer frees the last one.
        store
            .delete_customer(P, &both.id, both.version, false, vec![])
            .await
            .expect("delete customer");
        store
            .delete_resource(P, STORE, &eu.id, Version::FIRST)
            .await
            .expect("eu is free");
    })
    .await;
}

#[tokio::test]
async fn in_store_listings_show_the_stores_and_the_global_customers() {
    each_backend(|store| async move {
        seed_stores(&store, P, &["eu", "us"]).await;
        let mut expected_eu = BTreeSet::new();
        for (email, stores) in [
            ("g@example.com", &[][..]),
            ("eu@example.com", &["eu"][..]),
            ("both@example.com", &["eu", "us"][..]),
            ("us@example.com", &["us"][..]),
        ] {
            let c = customer(email, stores);
            store
                .insert_customer(P, &c, vec![created(&c)])
                .await
                .expect("insert");
            if stores.is_empty() || stores.contains(&"eu") {
                expected_eu.insert(c.id.clone());
            }
        }
        let schema = customer_schema();
        let in_eu = |predicate: Option<&str>| ResourceQuery {
            predicate: predicate.map(|p| {
                clientele_query::parse_where(&[p.to_owned()], &HashMap::new(), &schema)
                    .expect("predicate")
            }),
            limit: 100,
            with_total: true,
            store: Some("eu".to_owned()),
            ..ResourceQuery::default()
        };
        let page = store.query_customers(P, &in_eu(None)).await.expect("eu");
        let got: BTreeSet<String> = page.results.iter().map(|c| c.id.clone()).collect();
        assert_eq!(got, expected_eu);
        assert_eq!(page.total, Some(3));
        let page = store
            .query_customers(P, &in_eu(Some(r#"email = "us@example.com""#)))
            .await
            .expect("eu, us email");
        assert!(page.results.is_empty());
        assert_eq!(page.total, Some(0));
        let page = store
            .query_customers(P, &in_eu(Some(r#"stores(key = "us")"#)))
            .await
            .expect("eu, also in us");
        assert_eq!(page.results.len(), 1);
        assert_eq!(page.results[0].email, "both@example.com");
    })
    .await;
}
