//! The store conformance suite: one set of stories, run against SQLite always and against
//! PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is set, so the two backends cannot drift.
//!
//! Customers are built as struct literals: the suite depends on the `Store` contract only, not
//! on the domain's apply logic.

use std::collections::HashMap;
use std::sync::Arc;

use crate::common::{at, created, customer, each_backend, message, new_id, seed_stores};
use clientele_domain::{Customer, MessagePayload, PasswordHash, Project, ProjectRecord, Version};
use clientele_query::schema::customer_schema;
use clientele_store::{
    AccessTokenRecord, ApiClientRecord, CustomerLookup, ResourceQuery, Store, StoreError,
};

const P: &str = "proj";

fn project(key: &str) -> Project {
    Project {
        key: key.to_owned(),
        name: format!("Project {key}"),
        languages: vec!["en".to_owned(), "de-DE".to_owned()],
        countries: vec!["DE".to_owned()],
        currencies: vec!["EUR".to_owned()],
    }
}

fn by_email(email: &str, store: Option<&str>) -> CustomerLookup {
    CustomerLookup::Email {
        email: email.to_owned(),
        store: store.map(str::to_owned),
    }
}

async fn get(store: &Arc<dyn Store>, lookup: CustomerLookup) -> Option<Customer> {
    store.get_customer(P, &lookup).await.expect("get customer")
}

async fn insert(store: &Arc<dyn Store>, c: &Customer) -> Result<(), StoreError> {
    store.insert_customer(P, c, vec![created(c)]).await
}

fn assert_duplicate(result: Result<(), StoreError>, field: &str, value: &str) {
    match result {
        Err(StoreError::DuplicateField { field: f, value: v }) => {
            assert_eq!((f.as_str(), v.as_str()), (field, value));
        }
        other => panic!("expected DuplicateField {field}={value}, got {other:?}"),
    }
}

fn page(limit: u64, offset: u64, with_total: bool) -> ResourceQuery {
    ResourceQuery {
        limit,
        offset,
        with_total,
        ..ResourceQuery::default()
    }
}

#[tokio::test]
async fn a_fresh_store_is_healthy_and_empty() {
    each_backend(|store| async move {
        store.health().await.expect("healthy");
        assert_eq!(store.count_projects().await.expect("count"), 0);
    })
    .await;
}

#[tokio::test]
async fn projects_are_created_read_counted_and_unique_by_key() {
    each_backend(|store| async move {
        store
            .create_project(&project("a"), at(0))
            .await
            .expect("create a");
        store
            .create_project(&project("b"), at(0))
            .await
            .expect("create b");
        assert_eq!(
            store.get_project("a").await.expect("get"),
            Some(project("a"))
        );
        assert_eq!(store.get_project("zz").await.expect("get"), None);
        assert_eq!(store.count_projects().await.expect("count"), 2);
        assert_duplicate(store.create_project(&project("a"), at(0)).await, "key", "a");
    })
    .await;
}

#[tokio::test]
async fn project_records_update_by_version_and_guard_store_languages() {
    each_backend(|store| async move {
        store
            .create_project(&project("a"), at(5))
            .await
            .expect("create a");
        let record = store
            .get_project_record("a")
            .await
            .expect("get record")
            .expect("exists");
        assert_eq!(record, ProjectRecord::new(project("a"), at(5)));

        let mut next = record.clone();
        next.project.name = "Renamed".to_owned();
        next.project.languages = vec!["en".to_owned()];
        next.settings.messages.enabled = true;
        next.version = 2;
        store.update_project(&next, 1).await.expect("update at 1");
        let read = store
            .get_project_record("a")
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(read, next);
        assert_eq!(
            store.get_project("a").await.expect("get"),
            Some(next.project.clone())
        );

        // A stale version changes nothing.
        let mut stale = next.clone();
        stale.project.name = "Stale".to_owned();
        stale.version = 3;
        match store.update_project(&stale, 1).await {
            Err(StoreError::ConcurrentModification { current: 2 }) => {}
            other => panic!("expected ConcurrentModification, got {other:?}"),
        }
        match store
            .update_project(
                &{
                    let mut p = stale.clone();
                    p.project.key = "zz".into();
                    p
                },
                1,
            )
            .await
        {
            Err(StoreError::NotFound) => {}
            other => panic!("expected NotFound, got {other:?}"),
        }

        // A Store using "en" keeps it in the project (case-insensitively); other projects'
        // Stores do not count.
        seed_stores(&store, "b", &["other"]).await;
        let id = new_id();
        let doc = serde_json::json!({
            "id": id, "version": 1, "key": "shop", "languages": ["EN"], "countries": [],
            "createdAt": "2022-09-19T14:34:35.075Z", "lastModifiedAt": "2022-09-19T14:34:35.075Z"
        });
        store
            .insert_resource(
                "a",
                "store",
                &crate::common::minimal_record(id, Some("shop"), doc),
            )
            .await
            .expect("store");
        let mut without_en = next.clone();
        without_en.project.languages = vec!["de".to_owned()];
        without_en.version = 3;
        match store.update_project(&without_en, 2).await {
            Err(StoreError::LanguageUsedInStores { languages }) => assert_eq!(languages, ["en"]),
            other => panic!("expected LanguageUsedInStores, got {other:?}"),
        }
        assert_eq!(
            store
                .get_project_record("a")
                .await
                .expect("get")
                .expect("exists"),
            next
        );
        without_en.project.languages = vec!["en".to_owned(), "de".to_owned()];
        store
            .update_project(&without_en, 2)
            .await
            .expect("adding a language is fine");
    })
    .await;
}

#[tokio::test]
async fn api_clients_round_trip() {
    each_backend(|store| async move {
        let client = ApiClientRecord {
            client_id: "client-1".to_owned(),
            secret_hash: "ab".repeat(32),
            project_key: P.to_owned(),
            scope: "manage_customers:proj view_customers:proj".to_owned(),
            created_at: at(123),
        };
        store.create_api_client(&client).await.expect("create");
        assert_eq!(
            store.get_api_client("client-1").await.expect("get"),
            Some(client.clone())
        );
        assert_eq!(store.get_api_client("nope").await.expect("get"), None);
        assert_duplicate(
            store.create_api_client(&client).await,
            "clientId",
            "client-1",
        );
    })
    .await;
}

#[tokio::test]
async fn tokens_are_inserted_read_and_revoked_per_customer() {
    each_backend(|store| async move {
        let token = |hash: &str, kind: &str, customer: Option<&str>| AccessTokenRecord {
            token_hash: hash.to_owned(),
            kind: kind.to_owned(),
            client_id: "client-1".to_owned(),
            project_key: P.to_owned(),
            scope: "manage_my_profile:proj".to_owned(),
            customer_id: customer.map(str::to_owned),
            expires_at: at(172_800_000),
        };
        let mine_access = token("h1", "access", Some("cust-1"));
        let mine_refresh = token("h2", "refresh", Some("cust-1"));
        let other = token("h3", "access", Some("cust-2"));
        let client_only = token("h4", "access", None);
        for t in [&mine_access, &mine_refresh, &other, &client_only] {
            store.insert_token(t).await.expect("insert token");
        }
        assert_eq!(
            store.get_token("h1").await.expect("get"),
            Some(mine_access.clone())
        );
        assert_eq!(
            store.get_token("h4").await.expect("get"),
            Some(client_only.clone())
        );

        // Another project's customer with the same id keeps its tokens.
        store
            .revoke_customer_tokens("other-project", "cust-1")
            .await
            .expect("revoke elsewhere");
        assert!(store.get_token("h1").await.expect("get").is_some());

        store
            .revoke_customer_tokens(P, "cust-1")
            .await
            .expect("revoke");
        assert_eq!(store.get_token("h1").await.expect("get"), None);
        assert_eq!(store.get_token("h2").await.expect("get"), None);
        assert_eq!(store.get_token("h3").await.expect("get"), Some(other));
        assert_eq!(store.get_token("h4").await.expect("get"), Some(client_only));
    })
    .await;
}

#[tokio::test]
async fn customers_are_found_by_id_key_and_case_insensitive_email() {
    each_backend(|store| async move {
        let mut c = customer("John.Doe@Example.COM", &[]);
        c.key = Some("john-key".to_owned());
        c.customer_number = Some("C-1".to_owned());
        c.first_name = Some("John".to_owned());
        c.last_name = Some("Doe".to_owned());
        insert(&store, &c).await.expect("insert");

        assert_eq!(
            get(&store, CustomerLookup::Id(c.id.clone())).await,
            Some(c.clone())
        );
        assert_eq!(
            get(&store, CustomerLookup::Key("john-key".to_owned())).await,
            Some(c.clone())
        );
        let found = get(&store, by_email("john.doe@example.com", None)).await;
        assert_eq!(
            found.as_ref().map(|f| f.email.as_str()),
            Some("John.Doe@Example.COM")
        );
        assert_eq!(
            get(&store, by_email("JOHN.DOE@EXAMPLE.COM", None)).await,
            Some(c.clone())
        );

        // A global customer is not visible through a store's email lookup.
        assert_eq!(
            get(&store, by_email("john.doe@example.com", Some("s1"))).await,
            None
        );
        assert_eq!(get(&store, CustomerLookup::Id(new_id())).await, None);
        assert_eq!(
            get(&store, CustomerLookup::Key("other".to_owned())).await,
            None
        );

        // Projects are isolated.
        let elsewhere = store
            .get_customer("other-project", &CustomerLookup::Id(c.id.clone()))
            .await
            .expect("get");
        assert_eq!(elsewhere, None);
    })
    .await;
}

#[tokio::test]
async fn store_specific_customers_are_found_by_email_in_their_stores_only() {
    each_backend(|store| async move {
        seed_stores(&store, P, &["s1", "s2"]).await;
        let c = customer("anna@example.com", &["s1", "s2"]);
        insert(&store, &c).await.expect("insert");
        assert_eq!(
            get(&store, by_email("ANNA@example.com", Some("s1"))).await,
            Some(c.clone())
        );
        assert_eq!(
            get(&store, by_email("anna@example.com", Some("s2"))).await,
            Some(c.clone())
        );
        assert_eq!(
            get(&store, by_email("anna@example.com", Some("s3"))).await,
            None
        );
        assert_eq!(get(&store, by_email("anna@example.com", None)).await, None);
    })
    .await;
}

#[tokio::test]
async fn the_password_hash_round_trips_but_the_document_shows_it_masked() {
    each_backend(|store| async move {
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
        let mut c = customer("pw@example.com", &[]);
        c.password = Some(PasswordHash::from_phc(phc.to_owned()));
        insert(&store, &c).await.expect("insert");

        let back = get(&store, CustomerLookup::Id(c.id.clone()))
            .await
            .expect("found");
        assert_eq!(back.password.as_ref().map(PasswordHash::as_phc), Some(phc));
        let listed = store
            .query_customers(P, &page(10, 0, true))
            .await
            .expect("query");
        assert_eq!(
            listed.results[0]
                .password
                .as_ref()
                .map(PasswordHash::as_phc),
            Some(phc)
        );

        // The CustomerCreated message never carries the hash.
        let msgs = store
            .query_messages(P, &page(10, 0, true))
            .await
            .expect("messages");
        let json = serde_json::to_string(&msgs.results[0]).expect("json");
        assert!(!json.contains("argon2id"), "{json}");

        // A customer without a password stays without one.
        let external = customer("ext@example.com", &[]);
        insert(&store, &external).await.expect("insert");
        let back = get(&store, CustomerLookup::Id(external.id.clone()))
            .await
            .expect("found");
        assert_eq!(back.password, None);
    })
    .await;
}

#[tokio::test]
async fn updates_check_the_version_and_move_the_email() {
    each_backend(|store| async move {
        let c = customer("old@example.com", &[]);
        insert(&store, &c).await.expect("insert");

        let mut v2 = c.clone();
        v2.version = Version::FIRST.next();
        v2.email = "New@Example.com".to_owned();
        v2.first_name = Some("Neu".to_owned());
        v2.last_modified_at = at(1000);
        store
            .update_customer(P, &v2, Version::FIRST, vec![])
            .await
            .expect("update");
        assert_eq!(
            get(&store, CustomerLookup::Id(c.id.clone())).await,
            Some(v2.clone())
        );
        assert_eq!(
            get(&store, by_email("new@example.com", None)).await,
            Some(v2.clone())
        );
        assert_eq!(get(&store, by_email("old@example.com", None)).await, None);

        // The old email is free again; the new one is taken.
        insert(&store, &customer("OLD@example.com", &[]))
            .await
            .expect("old email reusable");
        assert_duplicate(
            insert(&store, &customer("new@EXAMPLE.com", &[])).await,
            "email",
            "new@EXAMPLE.com",
        );

        // A stale version is refused with the current one.
        let mut stale = v2.clone();
        stale.version = Version::FIRST.next();
        stale.first_name = Some("Stale".to_owned());
        match store
            .update_customer(P, &stale, Version::FIRST, vec![])
            .await
        {
            Err(StoreError::ConcurrentModification { current }) => assert_eq!(current, 2),
            other => panic!("expected ConcurrentModification, got {other:?}"),
        }
        assert_eq!(
            get(&store, CustomerLookup::Id(c.id.clone())).await,
            Some(v2.clone())
        );

        // A missing customer (or one of another project) is NotFound.
        let mut ghost = customer("ghost@example.com", &[]);
        ghost.version = Version::FIRST.next();
        assert!(matches!(
            store
                .update_customer(P, &ghost, Version::FIRST, vec![])
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .update_customer("other-project", &v2, Version::FIRST.next(), vec![])
                .await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn updates_enforce_key_customer_number_and_email_uniqueness() {
    each_backend(|store| async move {
        let mut a = customer("a@example.com", &[]);
        a.key = Some("key-a".to_owned());
        a.customer_number = Some("N-A".to_owned());
        insert(&store, &a).await.expect("insert a");
        let b = customer("b@example.com", &[]);
        insert(&store, &b).await.expect("insert b");

        let next = |f: &dyn Fn(&mut Customer)| {
            let mut c = b.clone();
            c.version = Version::FIRST.next();
            f(&mut c);
            c
        };
        let taking_key = next(&|c| c.key = Some("key-a".to_owned()));
        assert_duplicate(
            store
                .update_customer(P, &taking_key, Version::FIRST, vec![])
                .await,
            "key",
            "key-a",
        );
        let taking_number = next(&|c| c.customer_number = Some("N-A".to_owned()));
        assert_duplicate(
            store
                .update_customer(P, &taking_number, Version::FIRST, vec![])
                .await,
            "customerNumber",
            "N-A",
        );
        let taking_email = next(&|c| c.email = "A@EXAMPLE.COM".to_owned());
        assert_duplicate(
            store
                .update_customer(P, &taking_email, Version::FIRST, vec![])
                .await,
            "email",
            "A@EXAMPLE.COM",
        );
        // Nothing of the failed updates stuck.
        assert_eq!(
            get(&store, CustomerLookup::Id(b.id.clone())).await,
            Some(b.clone())
        );
        assert_eq!(
            get(&store, by_email("b@example.com", None))
                .await
                .map(|c| c.id),
            Some(b.id.clone())
        );
    })
    .await;
}

#[tokio::test]
async fn inserts_enforce_email_key_and_customer_number_uniqueness() {
    each_backend(|store| async move {
        let mut a = customer("Dup@Example.com", &[]);
        a.key = Some("dup-key".to_owned());
        a.customer_number = Some("N-1".to_owned());
        insert(&store, &a).await.expect("insert");

        assert_duplicate(
            insert(&store, &customer("dup@example.COM", &[])).await,
            "email",
            "dup@example.COM",
        );
        let mut same_key = customer("k@example.com", &[]);
        same_key.key = Some("dup-key".to_owned());
        assert_duplicate(insert(&store, &same_key).await, "key", "dup-key");
        let mut same_number = customer("n@example.com", &[]);
        same_number.customer_number = Some("N-1".to_owned());
        assert_duplicate(insert(&store, &same_number).await, "customerNumber", "N-1");

        // The same values are fine in another project.
        let mut elsewhere = a.clone();
        elsewhere.id = new_id();
        store
            .insert_customer("other-project", &elsewhere, vec![])
            .await
            .expect("other project");

        // None of the rejected customers was stored, nor their messages.
        let all = store
            .query_customers(P, &page(100, 0, true))
            .await
            .expect("query");
        assert_eq!(all.total, Some(1));
        let msgs = store
            .query_messages(P, &page(100, 0, true))
            .await
            .expect("messages");
        assert_eq!(msgs.total, Some(1));
    })
    .await;
}

#[tokio::test]
async fn email_uniqueness_follows_overlapping_scopes() {
    each_backend(|store| async move {
        seed_stores(&store, P, &["s1", "s2", "s3", "s4", "s9"]).await;
        // Store-specific customers are unique per store.
        insert(&store, &customer("x@example.com", &["s1"]))
            .await
            .expect("s1");
        insert(&store, &customer("X@example.com", &["s2"]))
            .await
            .expect("s2 is separate");
        assert_duplicate(
            insert(&store, &customer("x@EXAMPLE.com", &["s1"])).await,
            "email",
            "x@EXAMPLE.com",
        );
        assert_duplicate(
            insert(&store, &customer("x@example.com", &["s3", "s2"])).await,
            "email",
            "x@example.com",
        );
        // A global customer overlaps every store, in both directions.
        assert_duplicate(
            insert(&store, &customer("x@example.com", &[])).await,
            "email",
            "x@example.com",
        );
        insert(&store, &customer("g@example.com", &[]))
            .await
            .expect("global");
        assert_duplicate(
            insert(&store, &customer("G@example.com", &["s9"])).await,
            "email",
            "G@example.com",
        );
        insert(&store, &customer("x@example.com", &["s3"]))
            .await
            .expect("s3 is separate");

        // Moving a customer into an occupied store is refused; into a free one works.
        let mover = customer("m@example.com", &["s1"]);
        insert(&store, &mover).await.expect("mover");
        let mut into_s2 = mover.clone();
        into_s2.version = Version::FIRST.next();
        into_s2.email = "x@example.com".to_owned();
        into_s2.stores = customer("", &["s4"]).stores;
        store
            .update_customer(P, &into_s2, Version::FIRST, vec![])
            .await
            .expect("s4 is free");
        let mut into_s1 = into_s2.clone();
        into_s1.version = into_s2.version.next();
        into_s1.stores = customer("", &["s4", "s1"]).stores;
        assert_duplicate(
            store
                .update_customer(P, &into_s1, into_s2.version, vec![])
                .await,
            "email",
            "x@example.com",
        );
        assert_eq!(
            get(&store, by_email("x@example.com", Some("s4")))
                .await
                .map(|c| c.id),
            Some(mover.id.clone())
        );
        assert_eq!(
            get(&store, by_email("m@example.com", Some("s1"))).await,
            None
        );
    })
    .await;
}

async fn race(store: Arc<dyn Store>, scopes: &'static [&'static [&'static str]]) {
    let keys: Vec<&str> = scopes.iter().flat_map(|s| s.iter().copied()).collect();
    seed_stores(&store, P, &keys).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let stores = scopes[i % scopes.len()];
        // Differently cased on purpose: uniqueness is case-insensitive.
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        tasks.push(tokio::spawn(async move {
            let c = customer(email, stores);
            insert(&store, &c).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::DuplicateField { field, .. }) => assert_eq!(field, "email"),
            Err(e) => panic!("unexpected error in the race: {e:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one concurrent create wins");
    let all = store
        .query_customers(P, &page(100, 0, true))
        .await
        .expect("query");
    assert_eq!(all.total, Some(1));
    assert_eq!(all.results.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_global_creates_with_one_email_have_exactly_one_winner() {
    each_backend(|store| async move { race(store, &[&[]]).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_global_and_store_creates_with_one_email_have_exactly_one_winner() {
    each_backend(|store| async move { race(store, &[&[], &["s1"], &["s2", "s1"]]).await }).await;
}

#[tokio::test]
async fn messages_are_numbered_per_resource() {
    each_backend(|store| async move {
        let a = customer("a@example.com", &[]);
        let b = customer("b@example.com", &[]);
        insert(&store, &a).await.expect("a");
        insert(&store, &b).await.expect("b");

        let mut a2 = a.clone();
        a2.version = Version::FIRST.next();
        a2.first_name = Some("A".to_owned());
        let set = |c: &Customer, v: u64| {
            message(
                &c.id,
                v,
                MessagePayload::CustomerFirstNameSet {
                    first_name: Some(format!("v{v}")),
                },
            )
        };
        // Two messages in one write get consecutive numbers.
        let m2 = set(&a, 2);
        let m3 = set(&a, 2);
        store
            .update_customer(P, &a2, Version::FIRST, vec![m2.clone(), m3.clone()])
            .await
            .expect("update");

        let seq = |id: &str| {
            let store = store.clone();
            let id = id.to_owned();
            async move {
                store
                    .get_message(P, &id)
                    .await
                    .expect("get message")
                    .expect("message exists")
                    .sequence_number
            }
        };
        assert_eq!(seq(&m2.id).await, 2);
        assert_eq!(seq(&m3.id).await, 3);

        let all = store
            .query_messages(P, &page(100, 0, true))
            .await
            .expect("query");
        assert_eq!(all.total, Some(4));
        let mut numbers: HashMap<String, Vec<u64>> = HashMap::new();
        for m in &all.results {
            numbers
                .entry(m.resource.id.clone())
                .or_default()
                .push(m.sequence_number);
        }
        // Same createdAt: the default order breaks the tie by id, not by number.
        numbers.values_mut().for_each(|v| v.sort_unstable());
        assert_eq!(numbers[&a.id], vec![1, 2, 3]);
        assert_eq!(numbers[&b.id], vec![1]);
        assert_eq!(
            store
                .get_message("other-project", &m2.id)
                .await
                .expect("get"),
            None
        );

        // The stored document carries the assigned number.
        let json = serde_json::to_value(&all.results[0]).expect("json");
        assert_eq!(json["sequenceNumber"], 1);
        assert_eq!(json["type"], "CustomerCreated");
    })
    .await;
}

#[tokio::test]
async fn deletes_check_the_version_and_can_erase_messages() {
    each_backend(|store| async move {
        let keep = customer("keep@example.com", &[]);
        let erase = customer("erase@example.com", &[]);
        insert(&store, &keep).await.expect("keep");
        insert(&store, &erase).await.expect("erase");
        let deleted = |c: &Customer| {
            message(
                &c.id,
                2,
                MessagePayload::CustomerDeleted {
                    email: Some(c.email.clone()),
                },
            )
        };

        match store
            .delete_customer(
                P,
                &keep.id,
                Version::FIRST.next(),
                false,
                vec![deleted(&keep)],
            )
            .await
        {
            Err(StoreError::ConcurrentModification { current }) => assert_eq!(current, 1),
            other => panic!("expected ConcurrentModification, got {other:?}"),
        }
        assert!(matches!(
            store
                .delete_customer(P, &new_id(), Version::FIRST, false, vec![])
                .await,
            Err(StoreError::NotFound)
        ));

        let keep_deleted = deleted(&keep);
        store
            .delete_customer(
                P,
                &keep.id,
                Version::FIRST,
                false,
                vec![keep_deleted.clone()],
            )
            .await
            .expect("delete");
        let erase_deleted = deleted(&erase);
        store
            .delete_customer(
                P,
                &erase.id,
                Version::FIRST,
                true,
                vec![erase_deleted.clone()],
            )
            .await
            .expect("delete with erasure");

        assert_eq!(get(&store, CustomerLookup::Id(keep.id.clone())).await, None);
        assert_eq!(get(&store, by_email("erase@example.com", None)).await, None);
        assert!(matches!(
            store
                .delete_customer(P, &keep.id, Version::FIRST, false, vec![])
                .await,
            Err(StoreError::NotFound)
        ));

        let msgs = store
            .query_messages(P, &page(100, 0, true))
            .await
            .expect("query");
        let of = |id: &str| -> Vec<(u64, String)> {
            msgs.results
                .iter()
                .filter(|m| m.resource.id == id)
                .map(|m| (m.sequence_number, m.payload.type_name()))
                .collect()
        };
        assert_eq!(
            of(&keep.id),
            vec![
                (1, "CustomerCreated".to_owned()),
                (2, "CustomerDeleted".to_owned())
            ]
        );
        // Erasure removed the history but kept the deletion itself, numbered after it.
        assert_eq!(of(&erase.id), vec![(2, "CustomerDeleted".to_owned())]);

        // The emails are free again.
        insert(&store, &customer("keep@example.com", &[]))
            .await
            .expect("reuse");
        insert(&store, &customer("erase@example.com", &[]))
            .await
            .expect("reuse");
    })
    .await;
}

#[tokio::test]
async fn queries_page_with_limit_offset_and_total() {
    each_backend(|store| async move {
        seed_stores(&store, P, &["s1", "s2"]).await;
        let mut ids = Vec::new();
        for i in 0..25 {
            let mut c = customer(
                &format!("p{i}@example.com"),
                match i % 5 {
                    0 => &["s1"],
                    1 => &["s2"],
                    _ => &[],
                },
            );
            // Inserted out of order; the default sort is createdAt then id.
            c.created_at = at(((i * 7) % 25) as i64 * 1000);
            c.last_modified_at = c.created_at;
            insert(&store, &c).await.expect("insert");
            ids.push((c.created_at, c.id.clone()));
        }
        ids.sort();
        let expected: Vec<String> = ids.into_iter().map(|(_, id)| id).collect();

        let mut seen = Vec::new();
        for offset in [0, 10, 20] {
            let p = store
                .query_customers(P, &page(10, offset, true))
                .await
                .expect("page");
            assert_eq!(p.total, Some(25));
            seen.extend(p.results.into_iter().map(|c| c.id));
        }
        assert_eq!(seen, expected);

        let p = store
            .query_customers(P, &page(10, 20, false))
            .await
            .expect("page");
        assert_eq!((p.results.len(), p.total), (5, None));
        let p = store
            .query_customers(P, &page(0, 0, true))
            .await
            .expect("page");
        assert_eq!((p.results.len(), p.total), (0, Some(25)));
        let p = store
            .query_customers(P, &page(10, 30, true))
            .await
            .expect("page");
        assert_eq!((p.results.len(), p.total), (0, Some(25)));
        let p = store
            .query_customers("other-project", &page(10, 0, true))
            .await
            .expect("page");
        assert_eq!((p.results.len(), p.total), (0, Some(0)));

        // In-store queries see the store's customers and the global ones, never another
        // store's.
        let in_store = ResourceQuery {
            store: Some("s1".to_owned()),
            ..page(25, 0, true)
        };
        let p = store.query_customers(P, &in_store).await.expect("in store");
        assert_eq!(p.total, Some(20));
        assert_eq!(p.results.len(), 20);
        assert!(p
            .results
            .iter()
            .all(|c| c.store_keys().is_empty() || c.store_keys() == vec!["s1".to_owned()]));
        assert_eq!(p.results.iter().filter(|c| !c.stores.is_empty()).count(), 5);

        // Messages page the same way.
        let m = store
            .query_messages(P, &page(10, 20, true))
            .await
            .expect("messages");
        assert_eq!((m.results.len(), m.total), (5, Some(25)));
    })
    .await;
}

/// Runs only once the query crate parses predicates; until then it says so and passes. Checks
/// the compiled SQL against the in-memory oracle on both backends.
#[tokio::test]
async fn predicate_queries_agree_with_the_in_memory_oracle() {
    let schema = customer_schema();
    let wheres = [
        r#"email = "Q3@example.com""#,
        r#"lowercaseEmail = "q3@example.com""#,
        r#"firstName = "Q""#,
        r#"lastName is defined"#,
    ];
    let mut predicates = Vec::new();
    for w in wheres {
        match clientele_query::parse_where(&[w.to_owned()], &HashMap::new(), &schema) {
            Ok(p) => predicates.push(p),
            Err(e) => {
                eprintln!("skipping predicate conformance: query crate refused {w:?}: {e}");
                return;
            }
        }
    }
    let predicates = Arc::new(predicates);
    each_backend(move |store| {
        let predicates = predicates.clone();
        async move {
            let mut all = Vec::new();
            for i in 0..8 {
                let mut c = customer(&format!("Q{i}@example.com"), &[]);
                c.created_at = at(i);
                c.first_name = (i % 2 == 0).then(|| "Q".to_owned());
                c.last_name = (i % 3 == 0).then(|| format!("L{i}"));
                insert(&store, &c).await.expect("insert");
                all.push(c);
            }
            for p in predicates.iter() {
                let q = ResourceQuery {
                    predicate: Some(p.clone()),
                    ..page(100, 0, true)
                };
                let found = store.query_customers(P, &q).await.expect("query");
                assert_eq!(found.total, Some(found.results.len() as u64), "{p:?}");
                let got: Vec<String> = found.results.into_iter().map(|c| c.id).collect();
                let want: Vec<String> = all
                    .iter()
                    .filter(|c| {
                        let doc = serde_json::to_value(c).expect("json");
                        clientele_query::evaluate(p, &doc)
                    })
                    .map(|c| c.id.clone())
                    .collect();
                assert_eq!(got, want, "{p:?}");
            }
        }
    })
    .await;
}

/// Sorting on a text column is bytewise on both backends (PostgreSQL columns use the "C"
/// collation), so pages agree across backends. Skipped while the query crate cannot sort.
#[tokio::test]
async fn text_sorts_are_bytewise_on_every_backend() {
    let schema = customer_schema();
    let sort = match clientele_query::parse_sort(&["lastName asc".to_owned()], &schema) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("skipping sort conformance: query crate refused the sort: {e}");
            return;
        }
    };
    each_backend(move |store| {
        let sort = sort.clone();
        async move {
            let names = ["adam", "Zed", "Émile", "bob", "Adam", "zoe", "_x", "1st"];
            for (i, name) in names.iter().enumerate() {
                let mut c = customer(&format!("s{i}@example.com"), &[]);
                c.last_name = Some((*name).to_owned());
                insert(&store, &c).await.expect("insert");
            }
            let q = ResourceQuery {
                sort: (*sort).clone(),
                ..page(100, 0, false)
            };
            let got: Vec<String> = store
                .query_customers(P, &q)
                .await
                .expect("query")
                .results
                .into_iter()
                .filter_map(|c| c.last_name)
                .collect();
            let mut want: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
            want.sort();
            assert_eq!(got, want);
        }
    })
    .await;
}

/// `total` and the page come from one snapshot: while customers are being created, every page
/// that holds all matches reports exactly as many as it lists (a count taken after the page,
/// in a snapshot of its own, would count creates that committed in between).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_total_and_the_page_read_one_snapshot_while_writes_commit() {
    each_backend(|store| async move {
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..300 {
                    let c = customer(&format!("snap{i}@example.com"), &[]);
                    insert(&store, &c).await.expect("insert");
                }
            })
        };
        let schema = customer_schema();
        let predicate =
            clientele_query::parse_where(&["version = 1".to_owned()], &HashMap::new(), &schema)
                .expect("predicate");
        let mut pages = 0;
        while !writer.is_finished() {
            for query in [
                page(500, 0, true),
                ResourceQuery {
                    predicate: Some(predicate.clone()),
                    ..page(500, 0, true)
                },
            ] {
                let listed = store.query_customers(P, &query).await.expect("query");
                assert_eq!(
                    listed.total,
                    Some(listed.results.len() as u64),
                    "total against the page it came with"
                );
                pages += 1;
            }
        }
        writer.await.expect("writer");
        assert!(pages > 0, "the queries ran while the writer did");
    })
    .await;
}

/// `customer_addresses` and the customerGroup / isEmailVerified columns follow every write
/// (insert, batch insert, update adding, changing and removing addresses, delete), as the
/// queries they serve show. Pages of one with the total make the count statement run too (a
/// shorter page would give the total itself); a customer with two matching addresses counts once.
#[tokio::test]
async fn address_and_flag_indexes_follow_every_customer_write() {
    each_backend(|store| async move {
        use clientele_domain::{Address, Reference};
        use clientele_query::parse_where;
        use clientele_store::CustomerWrite;

        crate::common::seed_resource(&store, P, "customer-group", "g1").await;
        let address = |country: &str, city: &str, postal: Option<&str>| Address {
            country: country.to_owned(),
            city: Some(city.to_owned()),
            postal_code: postal.map(str::to_owned),
            ..Address::default()
        };
        let matches = |store: Arc<dyn Store>, wheres: &'static str| async move {
            let schema = customer_schema();
            let predicate = parse_where(&[wheres.to_owned()], &HashMap::new(), &schema).unwrap();
            let mut ids = Vec::new();
            let mut total = None;
            for offset in 0..10 {
                let q = ResourceQuery {
                    predicate: Some(predicate.clone()),
                    ..page(1, offset, true)
                };
                let p = store.query_customers(P, &q).await.expect("query");
                total = total.or(p.total);
                ids.extend(p.results.into_iter().map(|c| c.email));
            }
            ids.sort();
            assert_eq!(total, Some(ids.len() as u64), "total of {wheres}");
            ids
        };

        let mut a = customer("a@example.com", &[]);
        a.addresses = vec![
            address("DE", "Berlin", Some("10115")),
            address("DE", "Munich", None),
        ];
        a.is_email_verified = true;
        a.customer_group = Some(Reference::new("customer-group", "g1"));
        let mut b = customer("b@example.com", &[]);
        b.addresses = vec![address("FR", "Paris", Some("75001"))];
        insert(&store, &a).await.expect("insert a");
        insert(&store, &b).await.expect("insert b");
        let mut c = customer("c@example.com", &[]);
        c.addresses = vec![address("DE", "Berlin", None)];
        let results = store
            .write_customers(
                P,
                vec![CustomerWrite::Insert {
                    messages: vec![created(&c)],
                    customer: c.clone(),
                }],
            )
            .await
            .expect("batch");
        assert!(results.iter().all(Result::is_ok));

        let s = store.clone();
        assert_eq!(
            matches(s.clone(), r#"addresses(country = "DE")"#).await,
            ["a@example.com", "c@example.com"]
        );
        assert_eq!(
            matches(
                s.clone(),
                r#"addresses(country = "DE" and city = "Berlin")"#
            )
            .await,
            ["a@example.com", "c@example.com"]
        );
        assert_eq!(
            matches(s.clone(), r#"addresses(postalCode = "10115")"#).await,
            ["a@example.com"]
        );
        assert_eq!(
            matches(s.clone(), r#"isEmailVerified = true"#).await,
            ["a@example.com"]
        );
        assert_eq!(
            matches(s.clone(), r#"customerGroup(id = "g1")"#).await,
            ["a@example.com"]
        );

        // Update: a loses its German addresses and its group, b's city changes and it gains one.
        let mut a2 = a.clone();
        a2.version = Version::FIRST.next();
        a2.addresses = vec![address("US", "Boston", Some("02108"))];
        a2.is_email_verified = false;
        a2.customer_group = None;
        store
            .update_customer(P, &a2, Version::FIRST, vec![])
            .await
            .expect("update a");
        let mut b2 = b.clone();
        b2.version = Version::FIRST.next();
        b2.addresses = vec![
            address("FR", "Lyon", Some("75001")),
            address("DE", "Berlin", None),
        ];
        b2.is_email_verified = true;
        // b through the path of a caller that read the customer: only what changed is written.
        store
            .update_customer_from(P, &b, &b2, Version::FIRST, vec![])
            .await
            .expect("update b");
        assert_eq!(
            matches(s.clone(), r#"addresses(country = "DE")"#).await,
            ["b@example.com", "c@example.com"]
        );
        assert!(matches(s.clone(), r#"addresses(city = "Paris")"#)
            .await
            .is_empty());
        assert_eq!(
            matches(
                s.clone(),
                r#"addresses(city = "Lyon" and postalCode = "75001")"#
            )
            .await,
            ["b@example.com"]
        );
        assert!(matches(s.clone(), r#"addresses(postalCode = "10115")"#)
            .await
            .is_empty());
        assert_eq!(
            matches(s.clone(), r#"isEmailVerified = true"#).await,
            ["b@example.com"]
        );
        assert!(matches(s.clone(), r#"customerGroup(id = "g1")"#)
            .await
            .is_empty());

        // Again from a read customer, addresses unchanged: the rows stay, the flag follows.
        let mut b3 = b2.clone();
        b3.version = b2.version.next();
        b3.is_email_verified = false;
        b3.first_name = Some("Bea".to_owned());
        store
            .update_customer_from(P, &b2, &b3, b2.version, vec![])
            .await
            .expect("update b again");
        assert!(matches(s.clone(), r#"isEmailVerified = true"#)
            .await
            .is_empty());
        assert_eq!(
            matches(
                s.clone(),
                r#"firstName = "Bea" and addresses(city = "Lyon")"#
            )
            .await,
            ["b@example.com"]
        );

        // Delete: the side-table rows go with the customer.
        store
            .delete_customer(P, &c.id, Version::FIRST, false, vec![])
            .await
            .expect("delete c");
        assert_eq!(
            matches(
                s.clone(),
                r#"addresses(country = "DE" and city = "Berlin")"#
            )
            .await,
            ["b@example.com"]
        );
    })
    .await;
}

/// The backfill of the migration that added `customer_addresses` and the customerGroup /
/// isEmailVerified columns (sqlite 0014, postgres 0013) derives from the documents exactly what
/// the write path writes: after the derived rows and columns are wiped and the migration's
/// backfill statements run again, they are as the store wrote them.
#[tokio::test]
async fn the_address_migration_backfills_what_the_writes_write() {
    crate::common::each_backend_at(|store, url| async move {
        use clientele_domain::{Address, Reference};
        use sqlx::{Connection, Row};

        crate::common::seed_resource(&store, P, "customer-group", "g1").await;
        let mut a = customer("a@example.com", &[]);
        a.addresses = vec![
            Address {
                country: "DE".to_owned(),
                city: Some("Berlin".to_owned()),
                postal_code: Some("10115".to_owned()),
                ..Address::default()
            },
            Address {
                country: "FR".to_owned(),
                ..Address::default()
            },
        ];
        a.is_email_verified = true;
        a.customer_group = Some(Reference::new("customer-group", "g1"));
        insert(&store, &a).await.expect("insert a");
        insert(&store, &customer("b@example.com", &[]))
            .await
            .expect("insert b");

        let sqlite = url.starts_with("sqlite:");
        let migration = if sqlite {
            include_str!("../../migrations/sqlite/0014_address_indexes.sql")
        } else {
            include_str!("../../migrations/postgres/0013_address_indexes.sql")
        };
        let backfill: Vec<String> = migration
            .split(';')
            .map(|chunk| {
                chunk
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim()
                    .to_owned()
            })
            .filter(|s| {
                s.starts_with("INSERT INTO customer_addresses") || s.starts_with("UPDATE customers")
            })
            .collect();
        assert_eq!(backfill.len(), 2, "{backfill:?}");
        let snapshot = "SELECT c.id, c.customer_group_id, \
             CASE WHEN c.is_email_verified THEN 'true' WHEN NOT c.is_email_verified THEN 'false' END, \
             a.position, a.project, a.country, a.city, a.postal_code \
             FROM customers c LEFT JOIN customer_addresses a ON a.customer_id = c.id \
             ORDER BY c.id, a.position";
        let wipe = [
            "DELETE FROM customer_addresses",
            "UPDATE customers SET customer_group_id = NULL, is_email_verified = NULL",
        ];
        type Line = (
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        macro_rules! run {
            ($conn:expr) => {{
                let read = |rows: Vec<_>| -> Vec<Line> {
                    rows.iter()
                        .map(|r| {
                            (
                                Row::get::<String, _>(r, 0),
                                Row::get::<Option<String>, _>(r, 1),
                                Row::get::<Option<String>, _>(r, 2),
                                Row::get::<Option<i64>, _>(r, 3),
                                Row::get::<Option<String>, _>(r, 4),
                                Row::get::<Option<String>, _>(r, 5),
                                Row::get::<Option<String>, _>(r, 6),
                                Row::get::<Option<String>, _>(r, 7),
                            )
                        })
                        .collect()
                };
                let written = read(sqlx::query(snapshot).fetch_all(&mut $conn).await.unwrap());
                for s in wipe {
                    sqlx::query(s).execute(&mut $conn).await.unwrap();
                }
                for s in &backfill {
                    sqlx::query(s).execute(&mut $conn).await.unwrap();
                }
                let backfilled = read(sqlx::query(snapshot).fetch_all(&mut $conn).await.unwrap());
                (written, backfilled)
            }};
        }
        let (written, backfilled) = if sqlite {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            run!(conn)
        } else {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            run!(conn)
        };
        assert_eq!(written.len(), 3, "{written:?}");
        // The flags were written (a's two address lines), so the wipe had something to undo.
        assert!(written.iter().all(|l| l.2.is_some()), "{written:?}");
        assert_eq!(backfilled, written);
    })
    .await;
}
