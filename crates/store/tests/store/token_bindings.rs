//! Conformance stories for what `/me` and anonymous sessions store: OAuth tokens bound to a
//! Store, a session and a credential, their deletion one by one and per customer, and anonymous
//! session ids claimed once. Each story runs on SQLite and, when `CLIENTELE_TEST_POSTGRES_URL`
//! is set, on PostgreSQL.

use clientele_store::{open, AccessTokenRecord, StoreError, StoreOptions, TokenBinding};

use crate::common::{at, each_backend, each_backend_at};

fn token(hash: &str, customer: Option<&str>) -> AccessTokenRecord {
    AccessTokenRecord {
        token_hash: hash.to_owned(),
        kind: "access".to_owned(),
        client_id: "client".to_owned(),
        project_key: "proj".to_owned(),
        scope: "manage_my_profile:proj".to_owned(),
        customer_id: customer.map(str::to_owned),
        expires_at: at(1_000),
    }
}

#[tokio::test]
async fn bound_tokens_keep_their_binding_until_deleted() {
    each_backend(|store| async move {
        let bound = TokenBinding {
            store_key: Some("eu".to_owned()),
            anonymous_id: None,
            credential: Some("c0ffee".to_owned()),
        };
        store
            .insert_bound_token(&token("h1", Some("cust-1")), &bound)
            .await
            .unwrap();
        let anonymous = TokenBinding {
            anonymous_id: Some("phone-1".to_owned()),
            ..TokenBinding::default()
        };
        store
            .insert_bound_token(&token("h2", None), &anonymous)
            .await
            .unwrap();
        store.insert_token(&token("h3", None)).await.unwrap();

        assert_eq!(
            store.get_token("h1").await.unwrap(),
            Some(token("h1", Some("cust-1")))
        );
        assert_eq!(store.get_token_binding("h1").await.unwrap(), Some(bound));
        assert_eq!(
            store.get_token_binding("h2").await.unwrap(),
            Some(anonymous)
        );
        // A token issued without a binding has an empty one; an unknown token has none.
        assert_eq!(
            store.get_token_binding("h3").await.unwrap(),
            Some(TokenBinding::default())
        );
        assert_eq!(store.get_token_binding("nope").await.unwrap(), None);
        match store
            .insert_bound_token(&token("h1", None), &TokenBinding::default())
            .await
        {
            Err(StoreError::DuplicateField { field, .. }) => assert_eq!(field, "tokenHash"),
            other => panic!("expected DuplicateField, got {other:?}"),
        }

        store.delete_token("h2").await.unwrap();
        assert_eq!(store.get_token("h2").await.unwrap(), None);
        assert_eq!(store.get_token_binding("h2").await.unwrap(), None);
        store
            .revoke_customer_tokens("proj", "cust-1")
            .await
            .unwrap();
        assert_eq!(store.get_token_binding("h1").await.unwrap(), None);
        assert!(store.get_token("h3").await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn an_anonymous_id_is_claimed_once_per_project() {
    each_backend(|store| async move {
        assert!(store.claim_anonymous_id("proj", "s1", at(0)).await.unwrap());
        assert!(!store.claim_anonymous_id("proj", "s1", at(5)).await.unwrap());
        assert!(store.claim_anonymous_id("proj", "s2", at(5)).await.unwrap());
        assert!(store
            .claim_anonymous_id("other", "s1", at(5))
            .await
            .unwrap());
        // Concurrent claims of one id: exactly one wins.
        let claims: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .claim_anonymous_id("proj", "raced", at(9))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for claim in claims {
            won += usize::from(claim.await.unwrap());
        }
        assert_eq!(won, 1);
    })
    .await;
}

/// Access tokens are remembered for under a second per process (so a request's bearer check is
/// not a database round trip): this process's own deletions and revocations apply at once, and
/// another process's (a second store on the same database) within a second.
#[tokio::test]
async fn cached_tokens_are_refused_at_once_here_and_within_a_second_elsewhere() {
    each_backend_at(|store, url| async move {
        let other = open(&url, StoreOptions::default()).await.unwrap();
        for hash in ["own", "bound", "remote"] {
            let customer = (hash == "bound").then_some("cust-9");
            store.insert_token(&token(hash, customer)).await.unwrap();
            // Read on both, so both have it cached.
            assert!(store.get_token(hash).await.unwrap().is_some());
            assert!(other.get_token(hash).await.unwrap().is_some());
        }
        store.delete_token("own").await.unwrap();
        assert_eq!(store.get_token("own").await.unwrap(), None);
        store
            .revoke_customer_tokens("proj", "cust-9")
            .await
            .unwrap();
        assert_eq!(store.get_token("bound").await.unwrap(), None);

        other.delete_token("remote").await.unwrap();
        assert_eq!(other.get_token("remote").await.unwrap(), None);
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        for hash in ["own", "bound", "remote"] {
            assert_eq!(store.get_token(hash).await.unwrap(), None, "{hash}");
            assert_eq!(other.get_token(hash).await.unwrap(), None, "{hash}");
        }
        other.close().await;
    })
    .await;
}
