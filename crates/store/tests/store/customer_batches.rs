//! `Store::write_customers`: many customer writes in one transaction, each as
//! `insert_customer` / `update_customer` would do it. A write the store refuses — a duplicate
//! inside the batch or against the database, a stale version, a missing reference — fails
//! alone: the writes before and after it commit with their Messages, and it leaves nothing
//! behind. Runs on SQLite always and on PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is set.

use crate::common::{created, customer, each_backend, message, seed_stores};
use clientele_domain::{MessagePayload, Version};
use clientele_store::{CustomerLookup, CustomerWrite, StoreError};

const P: &str = "proj";

/// The insert of `c` with its CustomerCreated Message, and that Message's id.
fn insert(c: &clientele_domain::Customer) -> (CustomerWrite, String) {
    let m = created(c);
    let id = m.id.clone();
    (
        CustomerWrite::Insert {
            customer: c.clone(),
            messages: vec![m],
        },
        id,
    )
}

#[tokio::test]
async fn a_refused_write_fails_alone_and_the_rest_of_the_batch_commits() {
    each_backend(|store| async move {
        seed_stores(&store, P, &["berlin"]).await;
        let mut existing = customer("existing@example.com", &[]);
        existing.customer_number = Some("N-OLD".to_owned());
        store
            .insert_customer(P, &existing, vec![created(&existing)])
            .await
            .unwrap();

        let mut a = customer("a@example.com", &[]);
        a.customer_number = Some("N-1".to_owned());
        // Same customerNumber as `a`, written earlier in the same batch.
        let mut dup_in_batch = customer("b@example.com", &[]);
        dup_in_batch.customer_number = Some("N-1".to_owned());
        // Same email as `a` in another case, in a Store (a global row overlaps every Store).
        let dup_email = customer("A@EXAMPLE.com", &["berlin"]);
        // Same customerNumber as a customer already in the database.
        let mut dup_in_db = customer("c@example.com", &[]);
        dup_in_db.customer_number = Some("N-OLD".to_owned());
        // A Store that does not exist.
        let nowhere = customer("d@example.com", &["nowhere"]);
        let mut changed = existing.clone();
        changed.version = Version::FIRST.next();
        changed.first_name = Some("Changed".to_owned());
        let mut stale = existing.clone();
        stale.version = Version::FIRST.next();
        stale.first_name = Some("Stale".to_owned());
        let last = customer("e@example.com", &["berlin"]);

        let inserts: Vec<(CustomerWrite, String)> =
            [&a, &dup_in_batch, &dup_email, &dup_in_db, &nowhere, &last]
                .into_iter()
                .map(insert)
                .collect();
        let message_ids: Vec<String> = inserts.iter().map(|(_, id)| id.clone()).collect();
        let mut inserts = inserts.into_iter().map(|(w, _)| w);
        let mut next = || inserts.next().unwrap();
        let results = store
            .write_customers(
                P,
                vec![
                    next(),
                    next(),
                    next(),
                    next(),
                    next(),
                    CustomerWrite::Update {
                        customer: changed.clone(),
                        expected: Version::FIRST,
                        messages: vec![],
                    },
                    // Computed from the version the previous write replaced.
                    CustomerWrite::Update {
                        customer: stale,
                        expected: Version::FIRST,
                        messages: vec![],
                    },
                    next(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(results.len(), 8);
        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(
            matches!(&results[1], Err(StoreError::DuplicateField { field, value })
                if field == "customerNumber" && value == "N-1"),
            "{:?}",
            results[1]
        );
        assert!(
            matches!(&results[2], Err(StoreError::DuplicateField { field, .. }) if field == "email"),
            "{:?}",
            results[2]
        );
        assert!(
            matches!(&results[3], Err(StoreError::DuplicateField { field, value })
                if field == "customerNumber" && value == "N-OLD"),
            "{:?}",
            results[3]
        );
        assert!(
            matches!(&results[4], Err(StoreError::ReferencedResourceNotFound { type_id, .. })
                if type_id == "store"),
            "{:?}",
            results[4]
        );
        assert!(results[5].is_ok(), "{:?}", results[5]);
        assert!(
            matches!(&results[6], Err(StoreError::ConcurrentModification { current: 2 })),
            "{:?}",
            results[6]
        );
        assert!(results[7].is_ok(), "{:?}", results[7]);

        let kept = [true, false, false, false, false, true];
        let written = [&a, &dup_in_batch, &dup_email, &dup_in_db, &nowhere, &last];
        for ((c, kept), message_id) in written.iter().zip(kept).zip(&message_ids) {
            let found = store
                .get_customer(P, &CustomerLookup::Id(c.id.clone()))
                .await
                .unwrap();
            assert_eq!(found.is_some(), kept, "{}", c.email);
            let message = store.get_message(P, message_id).await.unwrap();
            assert_eq!(message.is_some(), kept, "Message of {}", c.email);
        }
        let found = store
            .get_customer(P, &CustomerLookup::Id(existing.id.clone()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.first_name.as_deref(), Some("Changed"));
        assert_eq!(found.version.get(), 2);
        // The refused writes left no email row behind: their emails are free.
        let by_email = store
            .get_customer(
                P,
                &CustomerLookup::Email {
                    email: "b@example.com".to_owned(),
                    store: None,
                },
            )
            .await
            .unwrap();
        assert!(by_email.is_none());
        let mut b_again = customer("b@example.com", &[]);
        b_again.customer_number = Some("N-2".to_owned());
        let again = store
            .write_customers(P, vec![insert(&b_again).0])
            .await
            .unwrap();
        assert!(again[0].is_ok(), "{:?}", again[0]);
    })
    .await;
}

#[tokio::test]
async fn a_batch_stores_every_write_with_its_messages() {
    each_backend(|store| async move {
        let customers: Vec<_> = (0..50)
            .map(|i| customer(&format!("bulk{i}@example.com"), &[]))
            .collect();
        let writes: Vec<CustomerWrite> = customers
            .iter()
            .map(|c| CustomerWrite::Insert {
                customer: c.clone(),
                messages: vec![created(c)],
            })
            .collect();
        let ids: Vec<String> = writes
            .iter()
            .map(|w| match w {
                CustomerWrite::Insert { messages, .. } => messages[0].id.clone(),
                CustomerWrite::Update { .. } => unreachable!(),
            })
            .collect();
        let results = store.write_customers(P, writes).await.unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        for (c, message_id) in customers.iter().zip(&ids) {
            let found = store
                .get_customer(P, &CustomerLookup::Id(c.id.clone()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&found.email, &c.email);
            let m = store.get_message(P, message_id).await.unwrap().unwrap();
            assert_eq!(m.sequence_number, 1);
            assert_eq!(m.resource.id, c.id);
        }
        assert!(store.write_customers(P, vec![]).await.unwrap().is_empty());
    })
    .await;
}

/// A batch inserting a customer whose id still has Messages (deleted, then imported again
/// with its id) numbers its new Messages after them, in the stored document too.
#[tokio::test]
async fn an_inserted_id_with_messages_numbers_its_new_messages_after_them() {
    each_backend(|store| async move {
        let c = customer("again@example.com", &[]);
        store
            .insert_customer(P, &c, vec![created(&c)])
            .await
            .unwrap();
        let deleted = message(
            &c.id,
            2,
            MessagePayload::CustomerDeleted {
                email: Some(c.email.clone()),
            },
        );
        store
            .delete_customer(P, &c.id, Version::FIRST, false, vec![deleted])
            .await
            .unwrap();
        let fresh = customer("fresh@example.com", &[]);
        let (again, again_id) = insert(&c);
        let (first, first_id) = insert(&fresh);
        let results = store.write_customers(P, vec![again, first]).await.unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let m = store.get_message(P, &again_id).await.unwrap().unwrap();
        assert_eq!(
            m.sequence_number, 3,
            "after CustomerCreated and CustomerDeleted"
        );
        let m = store.get_message(P, &first_id).await.unwrap().unwrap();
        assert_eq!(m.sequence_number, 1);
    })
    .await;
}

/// Refreshing the statistics between batches (PostgreSQL's `ANALYZE`, nothing on SQLite)
/// works on an empty and a filled database and changes no customer.
#[tokio::test]
async fn statistics_refresh_between_batches_and_change_nothing() {
    each_backend(|store| async move {
        store.analyze_customers().await.unwrap();
        let customers: Vec<_> = (0..20)
            .map(|i| customer(&format!("s{i}@example.com"), &[]))
            .collect();
        let writes = customers.iter().map(|c| insert(c).0).collect();
        let results = store.write_customers(P, writes).await.unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        store.analyze_customers().await.unwrap();
        let lookups: Vec<CustomerLookup> = customers
            .iter()
            .map(|c| CustomerLookup::Id(c.id.clone()))
            .collect();
        let found = store.get_customers(P, &lookups).await.unwrap();
        assert!(found.iter().all(Option::is_some));
    })
    .await;
}
