//! Conformance stories for the other half of referential integrity: a customer write checks,
//! inside its own transaction, that every Store, Customer Group and Type it references still
//! exists, so a resource deleted after the request resolved it can never end up referenced.
//! Each story runs on SQLite and, when `CLIENTELE_TEST_POSTGRES_URL` is set, on PostgreSQL
//! (where the race with a concurrent delete is real: writers run in parallel).

use std::sync::Arc;

use crate::common::{at, created, customer, each_backend, new_id, seed_stores};
use clientele_domain::{
    Address, CustomFields, Customer, CustomerGroupAssignment, Reference, Version,
};
use clientele_store::{
    CustomerLookup, ResourceLookup, ResourceQuery, ResourceRecord, Store, StoreError,
};
use serde_json::json;

const P: &str = "proj";
const STORE: &str = "store";
const GROUP: &str = "customer-group";
const TYPE: &str = "type";

/// A minimal resource of `type_id` with `key`.
fn record(type_id: &str, key: &str) -> ResourceRecord {
    let id = new_id();
    ResourceRecord {
        id: id.clone(),
        key: Some(key.to_owned()),
        version: Version::FIRST,
        created_at: at(0),
        last_modified_at: at(0),
        doc: json!({
            "id": id, "version": 1, "key": key, "name": {"en": format!("{type_id} {key}")},
            "createdAt": "2022-09-19T14:34:35.075Z", "lastModifiedAt": "2022-09-19T14:34:35.075Z"
        }),
    }
}

/// Creates a resource and deletes it again, returning it: something a request could have
/// resolved a moment ago.
async fn deleted(store: &Arc<dyn Store>, type_id: &str, key: &str) -> ResourceRecord {
    let r = record(type_id, key);
    store.insert_resource(P, type_id, &r).await.expect("insert");
    store
        .delete_resource(P, type_id, &r.id, Version::FIRST)
        .await
        .expect("delete");
    r
}

fn custom(type_id: &str) -> CustomFields {
    CustomFields {
        type_: Reference::new(TYPE, type_id),
        fields: serde_json::Map::new(),
    }
}

fn expect_missing(r: Result<(), StoreError>, type_id: &str, id: Option<&str>, key: Option<&str>) {
    match r {
        Err(StoreError::ReferencedResourceNotFound {
            type_id: t,
            id: i,
            key: k,
        }) => {
            assert_eq!((t.as_str(), i.as_deref(), k.as_deref()), (type_id, id, key));
        }
        other => panic!("expected ReferencedResourceNotFound for {type_id}, got {other:?}"),
    }
}

async fn count_customers(store: &Arc<dyn Store>) -> u64 {
    let q = ResourceQuery {
        limit: 0,
        with_total: true,
        ..ResourceQuery::default()
    };
    store
        .query_customers(P, &q)
        .await
        .expect("count customers")
        .total
        .expect("total")
}

async fn count_messages(store: &Arc<dyn Store>) -> u64 {
    let q = ResourceQuery {
        limit: 0,
        with_total: true,
        ..ResourceQuery::default()
    };
    store
        .query_messages(P, &q)
        .await
        .expect("count messages")
        .total
        .expect("total")
}

async fn get(store: &Arc<dyn Store>, lookup: CustomerLookup) -> Option<Customer> {
    store.get_customer(P, &lookup).await.expect("get customer")
}

#[tokio::test]
async fn customer_writes_naming_a_deleted_store_group_or_type_fail_and_write_nothing() {
    each_backend(|store| async move {
        let gone_store = deleted(&store, STORE, "gone").await;
        let gone_group = deleted(&store, GROUP, "gone-group").await;
        let gone_type = deleted(&store, TYPE, "gone-type").await;
        let group = record(GROUP, "vip");
        let ty = record(TYPE, "extra");
        store
            .insert_resource(P, GROUP, &group)
            .await
            .expect("group");
        store.insert_resource(P, TYPE, &ty).await.expect("type");
        seed_stores(&store, P, &["eu"]).await;
        // A Store of the same key in another project does not count.
        seed_stores(&store, "other", &["gone"]).await;

        // Inserts: every reference path, one at a time.
        let in_gone_store = customer("s@example.com", &["eu", "gone"]);
        let mut with_group = customer("g@example.com", &[]);
        with_group.customer_group = Some(Reference::new(GROUP, gone_group.id.clone()));
        let mut with_assignment = customer("a@example.com", &[]);
        with_assignment.customer_group = Some(Reference::new(GROUP, group.id.clone()));
        with_assignment.customer_group_assignments = vec![CustomerGroupAssignment {
            customer_group: Reference::new(GROUP, gone_group.id.clone()),
        }];
        let mut with_type = customer("t@example.com", &[]);
        with_type.custom = Some(custom(&gone_type.id));
        let mut with_address_type = customer("at@example.com", &[]);
        with_address_type.custom = Some(custom(&ty.id));
        with_address_type.addresses = vec![Address {
            id: Some("addr".into()),
            country: "DE".into(),
            custom: Some(custom(&gone_type.id)),
            ..Address::default()
        }];
        let cases = [
            (in_gone_store, STORE, None, Some("gone")),
            (with_group, GROUP, Some(gone_group.id.as_str()), None),
            (with_assignment, GROUP, Some(gone_group.id.as_str()), None),
            (with_type, TYPE, Some(gone_type.id.as_str()), None),
            (with_address_type, TYPE, Some(gone_type.id.as_str()), None),
        ];
        for (c, type_id, id, key) in &cases {
            expect_missing(
                store.insert_customer(P, c, vec![created(c)]).await,
                type_id,
                *id,
                *key,
            );
            assert_eq!(get(&store, CustomerLookup::Id(c.id.clone())).await, None);
        }
        assert_eq!(count_customers(&store).await, 0);
        assert_eq!(count_messages(&store).await, 0);
        assert_eq!(
            get(
                &store,
                CustomerLookup::Email {
                    email: "s@example.com".into(),
                    store: Some("eu".into()),
                }
            )
            .await,
            None,
            "no email row of the refused customer"
        );

        // Updates: a customer referencing only live resources, then changed to name a gone one.
        let mut c = customer("u@example.com", &["eu"]);
        c.customer_group = Some(Reference::new(GROUP, group.id.clone()));
        c.custom = Some(custom(&ty.id));
        store
            .insert_customer(P, &c, vec![created(&c)])
            .await
            .expect("live references are fine");
        let mut moved = c.clone();
        moved.version = c.version.next();
        moved.stores = customer("", &["eu", "gone"]).stores;
        expect_missing(
            store.update_customer(P, &moved, c.version, vec![]).await,
            STORE,
            None,
            Some("gone"),
        );
        let mut regrouped = c.clone();
        regrouped.version = c.version.next();
        regrouped.customer_group = Some(Reference::new(GROUP, gone_group.id.clone()));
        expect_missing(
            store
                .update_customer(P, &regrouped, c.version, vec![])
                .await,
            GROUP,
            Some(&gone_group.id),
            None,
        );
        let mut retyped = c.clone();
        retyped.version = c.version.next();
        retyped.custom = Some(custom(&gone_type.id));
        expect_missing(
            store.update_customer(P, &retyped, c.version, vec![]).await,
            TYPE,
            Some(&gone_type.id),
            None,
        );
        assert_eq!(
            get(&store, CustomerLookup::Id(c.id.clone())).await,
            Some(c.clone())
        );
        assert_eq!(
            get(
                &store,
                CustomerLookup::Email {
                    email: "u@example.com".into(),
                    store: Some("gone".into()),
                }
            )
            .await,
            None
        );
        assert_eq!(count_messages(&store).await, 1);
        // The gone Store's key still exists elsewhere, untouched.
        assert!(store
            .get_resource("other", STORE, &ResourceLookup::Key("gone".into()))
            .await
            .expect("get")
            .is_some());
        assert!(store
            .get_resource(P, STORE, &ResourceLookup::Id(gone_store.id.clone()))
            .await
            .expect("get")
            .is_none());

        // An update that keeps only live references still works.
        let mut stays = c.clone();
        stays.version = c.version.next();
        stays.first_name = Some("Still".into());
        store
            .update_customer(P, &stays, c.version, vec![])
            .await
            .expect("an update keeping live references");
    })
    .await;
}

/// Customers join one Store from several tasks while the Store is deleted: afterwards the Store
/// exists or no customer references it, whoever wins each round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_deleted_while_customers_join_it_is_never_left_referenced() {
    const ROUNDS: usize = 25;
    const JOINERS: usize = 6;
    each_backend(|store| async move {
        let (mut deletes_won, mut deletes_refused) = (0, 0);
        for round in 0..ROUNDS {
            let key = format!("race-{round}");
            let s = record(STORE, &key);
            store.insert_resource(P, STORE, &s).await.expect("store");
            let mut joiners = Vec::new();
            let mut deleter = None;
            for i in 0..JOINERS {
                // The delete starts at a different point among the joiners each round.
                if i == round % JOINERS {
                    let store = store.clone();
                    let id = s.id.clone();
                    deleter = Some(tokio::spawn(async move {
                        store.delete_resource(P, STORE, &id, Version::FIRST).await
                    }));
                }
                let store = store.clone();
                let c = customer(&format!("j{i}-{round}@example.com"), &[&key]);
                joiners.push(tokio::spawn(async move {
                    let r = store.insert_customer(P, &c, vec![created(&c)]).await;
                    (c.id, r)
                }));
            }
            let deleted = match deleter.expect("spawned").await.expect("delete task") {
                Ok(()) => true,
                Err(StoreError::ReferenceExists { referenced_by }) => {
                    assert_eq!(referenced_by, "customer");
                    false
                }
                Err(e) => panic!("unexpected delete error: {e:?}"),
            };
            let mut joined = Vec::new();
            for j in joiners {
                let (id, r) = j.await.expect("join task");
                match r {
                    Ok(()) => joined.push(id),
                    Err(StoreError::ReferencedResourceNotFound {
                        type_id, key: k, ..
                    }) => {
                        assert_eq!(
                            (type_id.as_str(), k.as_deref()),
                            (STORE, Some(key.as_str()))
                        );
                    }
                    Err(e) => panic!("unexpected insert error: {e:?}"),
                }
            }
            let exists = store
                .get_resource(P, STORE, &ResourceLookup::Key(key.clone()))
                .await
                .expect("get store")
                .is_some();
            assert_eq!(exists, !deleted, "round {round}");
            let mut referencing = 0;
            for id in &joined {
                if get(&store, CustomerLookup::Id(id.clone())).await.is_some() {
                    referencing += 1;
                }
            }
            assert_eq!(referencing, joined.len());
            assert!(
                exists || referencing == 0,
                "round {round}: Store {key} deleted but {referencing} customers reference it"
            );
            if deleted {
                deletes_won += 1;
            } else {
                deletes_refused += 1;
            }
        }
        eprintln!("deletes won {deletes_won}, refused {deletes_refused}");
    })
    .await;
}
