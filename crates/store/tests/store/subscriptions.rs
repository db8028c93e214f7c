//! Conformance stories for the Subscription outbox: a Subscription written to the generic
//! table gets filters; customer writes queue matching Messages and changes in order; only one
//! owner holds a lease until it expires; an acknowledgement needs the lease; a dropping health
//! status empties the outbox; a status decided for an older version changes nothing; the
//! configuration-error clock is kept in the database; every waiting Subscription is found, not
//! the first few; the per-project limit holds under concurrent inserts. Each story runs on SQLite and, when `CLIENTELE_TEST_POSTGRES_URL`
//! is set, on PostgreSQL.

use std::sync::Arc;

use crate::common::{at, created, customer, each_backend, new_id};
use clientele_domain::subscription::SubscriptionHealthStatus as Health;
use clientele_domain::Version;
use clientele_store::{ResourceLookup, ResourceRecord, StatusChange, Store};
use serde_json::{json, Value};

const P: &str = "proj";
const SUBSCRIPTION: &str = "subscription";

fn subscription(messages: Value, changes: Value, destination: &str) -> ResourceRecord {
    let id = new_id();
    ResourceRecord {
        id: id.clone(),
        key: None,
        version: Version::FIRST,
        created_at: at(0),
        last_modified_at: at(0),
        doc: json!({
            "id": id, "version": 1,
            "destination": {"type": destination, "uri": "amqp://guest:guest@h/", "routingKey": "q"},
            "messages": messages, "changes": changes, "events": [],
            "format": {"type": "Platform"}, "status": "Healthy",
            "createdAt": "1970-01-01T00:00:00.000Z", "lastModifiedAt": "1970-01-01T00:00:00.000Z"
        }),
    }
}

async fn pending_kinds(store: &Arc<dyn Store>, id: &str) -> Vec<String> {
    store
        .pending_notifications(id, 100)
        .await
        .unwrap()
        .iter()
        .map(|n| {
            let t = n
                .message
                .as_ref()
                .and_then(|m| m["type"].as_str())
                .unwrap_or_default();
            format!(
                "{}{}",
                n.notification,
                if t.is_empty() {
                    String::new()
                } else {
                    format!(":{t}")
                }
            )
        })
        .collect()
}

#[tokio::test]
async fn customer_writes_queue_matching_notifications_in_order() {
    each_backend(|store| async move {
        let all = subscription(
            json!([{"resourceTypeId": "customer"}]),
            json!([{"resourceTypeId": "customer"}]),
            "RabbitMQ",
        );
        let typed = subscription(
            json!([{"resourceTypeId": "customer", "types": ["CustomerDeleted"]}]),
            json!([]),
            "RabbitMQ",
        );
        let cloud = subscription(json!([{"resourceTypeId": "customer"}]), json!([]), "SQS");
        for s in [&all, &typed, &cloud] {
            store.insert_resource(P, SUBSCRIPTION, s).await.unwrap();
        }
        let mut c = customer("a@example.com", &[]);
        c.key = Some("ann".into());
        store
            .insert_customer(P, &c, vec![created(&c)])
            .await
            .unwrap();
        let mut next = c.clone();
        next.version = Version::FIRST.next();
        next.last_modified_at = at(5);
        store
            .update_customer(P, &next, Version::FIRST, vec![])
            .await
            .unwrap();
        store
            .delete_customer(P, &c.id, next.version, true, vec![])
            .await
            .unwrap();

        // The deletion erased the customer's Messages, so the queued CustomerCreated has no
        // document any more (delivery skips it).
        assert_eq!(
            pending_kinds(&store, &all.id).await,
            [
                "Message",
                "ResourceCreated",
                "ResourceUpdated",
                "ResourceDeleted"
            ]
        );
        let pending = store.pending_notifications(&all.id, 100).await.unwrap();
        assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(pending[0].message, None);
        assert_eq!(pending[0].resource_id, c.id);
        let updated = &pending[2];
        assert_eq!((updated.version, updated.old_version), (Some(2), Some(1)));
        assert_eq!(
            updated.modified_at.as_deref(),
            Some("2022-09-19T14:34:35.005Z")
        );
        assert_eq!(updated.identifiers, Some(json!({"key": "ann"})));
        let deleted = &pending[3];
        assert_eq!(deleted.version, Some(2));
        assert!(deleted.data_erasure);
        assert_eq!(deleted.identifiers, Some(json!({"key": "ann"})));
        // Not a subscribed type; a cloud Destination is not delivered, so nothing queues.
        assert!(pending_kinds(&store, &typed.id).await.is_empty());
        assert!(pending_kinds(&store, &cloud.id).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_queued_message_carries_its_document() {
    each_backend(|store| async move {
        let s = subscription(
            json!([{"resourceTypeId": "customer", "types": ["CustomerCreated"]}]),
            json!([]),
            "RabbitMQ",
        );
        store.insert_resource(P, SUBSCRIPTION, &s).await.unwrap();
        let c = customer("m@example.com", &[]);
        store
            .insert_customer(P, &c, vec![created(&c)])
            .await
            .unwrap();
        let pending = store.pending_notifications(&s.id, 10).await.unwrap();
        assert_eq!(pending.len(), 1);
        let m = pending[0].message.as_ref().unwrap();
        assert_eq!(m["type"], "CustomerCreated");
        assert_eq!(m["sequenceNumber"], 1, "numbered by the store");
        assert_eq!(m["customer"]["email"], "m@example.com");
    })
    .await;
}

#[tokio::test]
async fn leases_are_exclusive_until_they_expire_and_acks_need_them() {
    each_backend(|store| async move {
        let s = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "NATS");
        store.insert_resource(P, SUBSCRIPTION, &s).await.unwrap();
        let c = customer("b@example.com", &[]);
        store.insert_customer(P, &c, vec![]).await.unwrap();
        let waiting = store.waiting_subscriptions("a", at(0)).await.unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            (waiting[0].id.as_str(), waiting[0].project.as_str()),
            (s.id.as_str(), P)
        );

        assert!(store
            .renew_subscription_lease(&s.id, "a", at(0), at(1000))
            .await
            .unwrap());
        assert!(!store
            .renew_subscription_lease(&s.id, "b", at(500), at(1500))
            .await
            .unwrap());
        // Waiting for its holder only: no one else leases it (or writes trying) until it
        // expires.
        assert_eq!(
            store
                .waiting_subscriptions("a", at(500))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(store
            .waiting_subscriptions("b", at(500))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .waiting_subscriptions("b", at(1001))
                .await
                .unwrap()
                .len(),
            1
        );
        let seq = store.pending_notifications(&s.id, 10).await.unwrap()[0].seq;
        assert!(!store.ack_notifications(&s.id, "b", &[seq]).await.unwrap());
        assert_eq!(
            store.pending_notifications(&s.id, 10).await.unwrap().len(),
            1
        );
        // Expired: another owner takes over, and the old one can no longer acknowledge.
        assert!(store
            .renew_subscription_lease(&s.id, "b", at(1001), at(2000))
            .await
            .unwrap());
        assert!(!store.ack_notifications(&s.id, "a", &[seq]).await.unwrap());
        // Only the acknowledged rows go, not a range: a row queued later with a higher seq
        // stays, and so would a lower one committed late.
        let later = customer("b2@example.com", &[]);
        store.insert_customer(P, &later, vec![]).await.unwrap();
        let all = store.pending_notifications(&s.id, 10).await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(store
            .ack_notifications(&s.id, "b", &[all[1].seq])
            .await
            .unwrap());
        let left = store.pending_notifications(&s.id, 10).await.unwrap();
        assert_eq!(left.iter().map(|n| n.seq).collect::<Vec<_>>(), [seq]);
        assert!(store.ack_notifications(&s.id, "b", &[seq]).await.unwrap());
        assert!(store
            .pending_notifications(&s.id, 10)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .waiting_subscriptions("b", at(1001))
            .await
            .unwrap()
            .is_empty());
        store.release_subscription_lease(&s.id, "b").await.unwrap();
        assert!(store
            .renew_subscription_lease(&s.id, "a", at(1002), at(3000))
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn stopped_delivery_and_deletion_drop_the_outbox() {
    each_backend(|store| async move {
        let s = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "HTTP");
        store.insert_resource(P, SUBSCRIPTION, &s).await.unwrap();
        let c = customer("c@example.com", &[]);
        store.insert_customer(P, &c, vec![]).await.unwrap();
        store
            .set_subscription_status(&s.id, 1, Health::ConfigurationError, at(0))
            .await
            .unwrap();
        assert_eq!(
            pending_kinds(&store, &s.id).await.len(),
            1,
            "kept while retried"
        );
        store
            .set_subscription_status(&s.id, 1, Health::ConfigurationErrorDeliveryStopped, at(0))
            .await
            .unwrap();
        assert!(pending_kinds(&store, &s.id).await.is_empty());
        let d = customer("d@example.com", &[]);
        store.insert_customer(P, &d, vec![]).await.unwrap();
        assert!(
            pending_kinds(&store, &s.id).await.is_empty(),
            "nothing queued once stopped"
        );
        let doc = store
            .get_resource(
                P,
                SUBSCRIPTION,
                &clientele_store::ResourceLookup::Id(s.id.clone()),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(doc["status"], "ConfigurationErrorDeliveryStopped");
        assert_eq!(doc["version"], 1, "health is not an edit");

        let other = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "HTTP");
        store
            .insert_resource(P, SUBSCRIPTION, &other)
            .await
            .unwrap();
        let e = customer("e@example.com", &[]);
        store.insert_customer(P, &e, vec![]).await.unwrap();
        assert_eq!(pending_kinds(&store, &other.id).await.len(), 1);
        store
            .delete_resource(P, SUBSCRIPTION, &other.id, Version::FIRST)
            .await
            .unwrap();
        assert!(pending_kinds(&store, &other.id).await.is_empty());
    })
    .await;
}

async fn status_of(store: &Arc<dyn Store>, id: &str) -> Value {
    store
        .get_resource(P, SUBSCRIPTION, &ResourceLookup::Id(id.to_owned()))
        .await
        .unwrap()
        .unwrap()["status"]
        .clone()
}

#[tokio::test]
async fn a_status_decided_for_an_older_version_changes_nothing() {
    each_backend(|store| async move {
        let s = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "HTTP");
        store.insert_resource(P, SUBSCRIPTION, &s).await.unwrap();
        let c = customer("stale@example.com", &[]);
        store.insert_customer(P, &c, vec![]).await.unwrap();
        // Repaired (changeDestination) while a delivery task still works with version 1.
        let mut repaired = s.clone();
        repaired.version = Version::FIRST.next();
        repaired.doc["version"] = json!(2);
        repaired.doc["destination"]["url"] = json!("http://127.0.0.1:9/fixed");
        store
            .update_resource(P, SUBSCRIPTION, &repaired, Version::FIRST)
            .await
            .unwrap();
        let change = store
            .set_subscription_status(&s.id, 1, Health::ConfigurationErrorDeliveryStopped, at(0))
            .await
            .unwrap();
        assert_eq!(change, StatusChange::Stale);
        assert_eq!(status_of(&store, &s.id).await, "Healthy");
        assert_eq!(pending_kinds(&store, &s.id).await.len(), 1, "outbox kept");
        let later = customer("stale2@example.com", &[]);
        store.insert_customer(P, &later, vec![]).await.unwrap();
        assert_eq!(
            pending_kinds(&store, &s.id).await.len(),
            2,
            "still queueing"
        );
        // The current version's decision applies.
        let change = store
            .set_subscription_status(&s.id, 2, Health::TemporaryError, at(0))
            .await
            .unwrap();
        assert_eq!(change, StatusChange::Set { error_since: None });
        assert_eq!(status_of(&store, &s.id).await, "TemporaryError");
    })
    .await;
}

#[tokio::test]
async fn the_configuration_error_clock_is_kept_in_the_database() {
    each_backend(|store| async move {
        let s = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "HTTP");
        store.insert_resource(P, SUBSCRIPTION, &s).await.unwrap();
        let first = store
            .set_subscription_status(&s.id, 1, Health::ConfigurationError, at(100))
            .await
            .unwrap();
        assert_eq!(
            first,
            StatusChange::Set {
                error_since: Some(at(100))
            }
        );
        // A restarted process (or another one) continues the same clock.
        let again = store
            .set_subscription_status(&s.id, 1, Health::ConfigurationError, at(900))
            .await
            .unwrap();
        assert_eq!(
            again,
            StatusChange::Set {
                error_since: Some(at(100))
            }
        );
        // Leaving the state stops the clock; the next run starts afresh.
        store
            .set_subscription_status(&s.id, 1, Health::Healthy, at(950))
            .await
            .unwrap();
        let next = store
            .set_subscription_status(&s.id, 1, Health::ConfigurationError, at(1000))
            .await
            .unwrap();
        assert_eq!(
            next,
            StatusChange::Set {
                error_since: Some(at(1000))
            }
        );
        // So does an edit that resets the health (changeDestination writes Healthy).
        let mut repaired = s.clone();
        repaired.version = Version::FIRST.next();
        repaired.doc["version"] = json!(2);
        store
            .update_resource(P, SUBSCRIPTION, &repaired, Version::FIRST)
            .await
            .unwrap();
        let after = store
            .set_subscription_status(&s.id, 2, Health::ConfigurationError, at(2000))
            .await
            .unwrap();
        assert_eq!(
            after,
            StatusChange::Set {
                error_since: Some(at(2000))
            }
        );
    })
    .await;
}

#[tokio::test]
async fn every_waiting_subscription_is_found_not_the_first_few() {
    each_backend(|store| async move {
        let mut ids = Vec::new();
        for _ in 0..70 {
            let s = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "NATS");
            store.insert_resource(P, SUBSCRIPTION, &s).await.unwrap();
            ids.push(s.id);
        }
        let c = customer("many@example.com", &[]);
        store.insert_customer(P, &c, vec![]).await.unwrap();
        let mut waiting: Vec<String> = store
            .waiting_subscriptions("w", at(0))
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.id)
            .collect();
        waiting.sort();
        ids.sort();
        assert_eq!(waiting, ids);
    })
    .await;
}

#[tokio::test]
async fn the_limit_holds_under_concurrent_inserts() {
    each_backend(|store| async move {
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let s = subscription(json!([]), json!([{"resourceTypeId": "customer"}]), "NATS");
                store
                    .insert_resource_within(P, SUBSCRIPTION, &s, 5)
                    .await
                    .unwrap()
            }));
        }
        let mut inserted = 0;
        for t in tasks {
            inserted += usize::from(t.await.unwrap());
        }
        assert_eq!(inserted, 5);
        let page = store
            .query_resources(
                P,
                SUBSCRIPTION,
                &clientele_store::ResourceQuery {
                    limit: 0,
                    with_total: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, Some(5));
    })
    .await;
}
