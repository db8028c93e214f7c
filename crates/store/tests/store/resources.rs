//! Conformance stories for the generic `resources` table (Customer Groups, Types): CRUD by id
//! and key, key uniqueness per project and type, versioned writes, paged predicate queries and
//! the delete guard against references. Each story runs on SQLite and, when
//! `CLIENTELE_TEST_POSTGRES_URL` is set, on PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use crate::common::{at, created, customer, each_backend, new_id};
use clientele_domain::{Address, CustomFields, CustomerGroupAssignment, Reference, Version};
use clientele_query::schema::{customer_group_schema, type_schema};
use clientele_store::{ResourceLookup, ResourceQuery, ResourceRecord, Store, StoreError};
use serde_json::{json, Value};

const P: &str = "proj";
const GROUP: &str = "customer-group";
const TYPE: &str = "type";

fn record(key: Option<&str>, ms: i64, doc: Value) -> ResourceRecord {
    let id = new_id();
    let mut doc = doc;
    doc["id"] = json!(id);
    ResourceRecord {
        id,
        key: key.map(str::to_owned),
        version: Version::FIRST,
        created_at: at(ms),
        last_modified_at: at(ms),
        doc,
    }
}

fn group(key: &str, ms: i64) -> ResourceRecord {
    let mut r = record(
        Some(key),
        ms,
        json!({"version": 1, "key": key, "name": key}),
    );
    r.doc["createdAt"] = json!("2022-09-19T14:34:35.843Z");
    r
}

async fn get(store: &Arc<dyn Store>, type_id: &str, lookup: ResourceLookup) -> Option<Value> {
    store.get_resource(P, type_id, &lookup).await.expect("get")
}

fn where_(predicate: &str, schema: &clientele_query::schema::Schema) -> ResourceQuery {
    ResourceQuery {
        predicate: Some(
            clientele_query::parse_where(&[predicate.to_owned()], &HashMap::new(), schema)
                .expect("predicate"),
        ),
        limit: 100,
        with_total: true,
        ..ResourceQuery::default()
    }
}

#[tokio::test]
async fn resources_round_trip_by_id_and_key_per_type_and_project() {
    each_backend(|store| async move {
        let g = group("vip", 0);
        store.insert_resource(P, GROUP, &g).await.expect("insert");
        assert_eq!(
            get(&store, GROUP, ResourceLookup::Id(g.id.clone())).await,
            Some(g.doc.clone())
        );
        assert_eq!(
            get(&store, GROUP, ResourceLookup::Key("vip".into())).await,
            Some(g.doc.clone())
        );
        // Other types and projects do not see it.
        assert_eq!(
            get(&store, TYPE, ResourceLookup::Id(g.id.clone())).await,
            None
        );
        assert_eq!(
            store
                .get_resource("other", GROUP, &ResourceLookup::Key("vip".into()))
                .await
                .expect("get"),
            None
        );
        // Keys are unique per project and type, not across types or projects.
        match store.insert_resource(P, GROUP, &group("vip", 1)).await {
            Err(StoreError::DuplicateField { field, value }) => {
                assert_eq!((field.as_str(), value.as_str()), ("key", "vip"));
            }
            other => panic!("expected DuplicateField, got {other:?}"),
        }
        store
            .insert_resource(P, TYPE, &group("vip", 1))
            .await
            .expect("same key, other type");
        store
            .insert_resource("other", GROUP, &group("vip", 1))
            .await
            .expect("other project");
        // Resources without a key do not clash.
        store
            .insert_resource(P, GROUP, &record(None, 2, json!({})))
            .await
            .expect("no key");
        store
            .insert_resource(P, GROUP, &record(None, 3, json!({})))
            .await
            .expect("no key");
    })
    .await;
}

#[tokio::test]
async fn updates_and_deletes_check_the_version() {
    each_backend(|store| async move {
        let g = group("vip", 0);
        store.insert_resource(P, GROUP, &g).await.expect("insert");
        let mut next = g.clone();
        next.version = Version::FIRST.next();
        next.key = Some("gold".into());
        next.doc["key"] = json!("gold");
        next.last_modified_at = at(5);
        store
            .update_resource(P, GROUP, &next, Version::FIRST)
            .await
            .expect("update");
        assert_eq!(
            get(&store, GROUP, ResourceLookup::Key("gold".into())).await,
            Some(next.doc.clone())
        );
        assert_eq!(
            get(&store, GROUP, ResourceLookup::Key("vip".into())).await,
            None
        );
        // Stale version: 409 with the current one.
        match store.update_resource(P, GROUP, &next, Version::FIRST).await {
            Err(StoreError::ConcurrentModification { current }) => assert_eq!(current, 2),
            other => panic!("expected ConcurrentModification, got {other:?}"),
        }
        // Key clash on update.
        let other = group("silver", 1);
        store
            .insert_resource(P, GROUP, &other)
            .await
            .expect("insert");
        let mut clash = other.clone();
        clash.key = Some("gold".into());
        clash.version = Version::FIRST.next();
        assert!(matches!(
            store
                .update_resource(P, GROUP, &clash, Version::FIRST)
                .await,
            Err(StoreError::DuplicateField { .. })
        ));
        // Unknown id.
        let mut ghost = group("ghost", 1);
        ghost.version = Version::FIRST.next();
        assert!(matches!(
            store
                .update_resource(P, GROUP, &ghost, Version::FIRST)
                .await,
            Err(StoreError::NotFound)
        ));
        match store.delete_resource(P, GROUP, &g.id, Version::FIRST).await {
            Err(StoreError::ConcurrentModification { current }) => assert_eq!(current, 2),
            other => panic!("expected ConcurrentModification, got {other:?}"),
        }
        assert!(matches!(
            store.delete_resource(P, TYPE, &g.id, next.version).await,
            Err(StoreError::NotFound)
        ));
        store
            .delete_resource(P, GROUP, &g.id, next.version)
            .await
            .expect("delete");
        assert_eq!(
            get(&store, GROUP, ResourceLookup::Id(g.id.clone())).await,
            None
        );
        assert!(matches!(
            store.delete_resource(P, GROUP, &g.id, next.version).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn queries_page_filter_by_type_and_predicate() {
    each_backend(|store| async move {
        for (i, key) in ["a1", "b2", "c3"].iter().enumerate() {
            store
                .insert_resource(P, GROUP, &group(key, i as i64))
                .await
                .expect("insert");
        }
        store
            .insert_resource(P, TYPE, &group("t1", 9))
            .await
            .expect("insert type");
        let all = store
            .query_resources(
                P,
                GROUP,
                &ResourceQuery {
                    limit: 2,
                    with_total: true,
                    ..ResourceQuery::default()
                },
            )
            .await
            .expect("query");
        assert_eq!(all.total, Some(3));
        let keys: Vec<&str> = all
            .results
            .iter()
            .map(|d| d["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["a1", "b2"], "default order is createdAt, id");
        let page2 = store
            .query_resources(
                P,
                GROUP,
                &ResourceQuery {
                    limit: 2,
                    offset: 2,
                    ..ResourceQuery::default()
                },
            )
            .await
            .expect("query");
        assert_eq!(page2.results.len(), 1);
        assert_eq!(page2.total, None);
        let schema = customer_group_schema();
        let hit = store
            .query_resources(P, GROUP, &where_(r#"key = "b2" or name = "c3""#, &schema))
            .await
            .expect("query");
        assert_eq!(hit.total, Some(2));
        let none = store
            .query_resources(P, GROUP, &where_(r#"key = "t1""#, &schema))
            .await
            .expect("query");
        assert!(none.results.is_empty(), "types are not customer groups");
    })
    .await;
}

#[tokio::test]
async fn type_queries_reach_into_field_definitions() {
    each_backend(|store| async move {
        let t = record(
            Some("loyalty"),
            0,
            json!({
                "key": "loyalty",
                "name": {"en": "Loyalty"},
                "resourceTypeIds": ["customer"],
                "fieldDefinitions": [{"name": "tier", "type": {"name": "Enum"}, "required": false, "label": {"en": "Tier"}}]
            }),
        );
        store.insert_resource(P, TYPE, &t).await.expect("insert");
        let schema = type_schema();
        for (predicate, hits) in [
            (r#"resourceTypeIds contains any ("customer")"#, 1),
            (r#"fieldDefinitions(name = "tier" and type(name = "Enum"))"#, 1),
            (r#"name(en = "Loyalty")"#, 1),
            (r#"fieldDefinitions(required = true)"#, 0),
        ] {
            let page = store.query_resources(P, TYPE, &where_(predicate, &schema)).await.expect("query");
            assert_eq!(page.results.len(), hits, "{predicate}");
        }
    })
    .await;
}

fn custom(type_id: &str) -> CustomFields {
    CustomFields {
        type_: Reference::new("type", type_id),
        fields: serde_json::Map::new(),
    }
}

#[tokio::test]
async fn referenced_groups_and_types_cannot_be_deleted() {
    each_backend(|store| async move {
        let expect_referenced = |r: Result<(), StoreError>, by: &str| match r {
            Err(StoreError::ReferenceExists { referenced_by }) => assert_eq!(referenced_by, by),
            other => panic!("expected ReferenceExists by {by}, got {other:?}"),
        };
        let legacy = group("legacy", 0);
        let assigned = group("assigned", 1);
        let free = group("free", 2);
        let customer_type = record(Some("ct"), 3, json!({}));
        let address_type = record(Some("at"), 4, json!({}));
        let group_type = record(Some("gt"), 5, json!({}));
        for g in [&legacy, &assigned, &free] {
            store
                .insert_resource(P, GROUP, g)
                .await
                .expect("insert group");
        }
        for t in [&customer_type, &address_type, &group_type] {
            store
                .insert_resource(P, TYPE, t)
                .await
                .expect("insert type");
        }
        let mut with_custom = group("custom", 6);
        with_custom.doc["custom"] = serde_json::to_value(custom(&group_type.id)).unwrap();
        store
            .insert_resource(P, GROUP, &with_custom)
            .await
            .expect("insert group");

        let mut c = customer("a@example.com", &[]);
        c.customer_group = Some(Reference::new(GROUP, legacy.id.clone()));
        c.customer_group_assignments = vec![CustomerGroupAssignment {
            customer_group: Reference::new(GROUP, assigned.id.clone()),
        }];
        c.custom = Some(custom(&customer_type.id));
        c.addresses = vec![Address {
            id: Some("addr".into()),
            country: "DE".into(),
            custom: Some(custom(&address_type.id)),
            ..Address::default()
        }];
        store
            .insert_customer(P, &c, vec![created(&c)])
            .await
            .expect("insert customer");

        expect_referenced(
            store
                .delete_resource(P, GROUP, &legacy.id, Version::FIRST)
                .await,
            "customer",
        );
        expect_referenced(
            store
                .delete_resource(P, GROUP, &assigned.id, Version::FIRST)
                .await,
            "customer",
        );
        expect_referenced(
            store
                .delete_resource(P, TYPE, &customer_type.id, Version::FIRST)
                .await,
            "customer",
        );
        expect_referenced(
            store
                .delete_resource(P, TYPE, &address_type.id, Version::FIRST)
                .await,
            "customer",
        );
        expect_referenced(
            store
                .delete_resource(P, TYPE, &group_type.id, Version::FIRST)
                .await,
            GROUP,
        );
        store
            .delete_resource(P, GROUP, &free.id, Version::FIRST)
            .await
            .expect("unreferenced group");
        // References in another project do not count.
        let elsewhere = group("legacy", 0);
        store
            .insert_resource("other", GROUP, &elsewhere)
            .await
            .expect("insert");
        store
            .delete_resource("other", GROUP, &elsewhere.id, Version::FIRST)
            .await
            .expect("delete");
        // Once the customer is gone, so is the reference.
        store
            .delete_customer(P, &c.id, Version::FIRST, false, vec![])
            .await
            .expect("delete customer");
        store
            .delete_resource(P, GROUP, &legacy.id, Version::FIRST)
            .await
            .expect("now free");
        store
            .delete_resource(P, TYPE, &address_type.id, Version::FIRST)
            .await
            .expect("now free");
    })
    .await;
}
