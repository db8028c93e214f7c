//! Conformance stories for customer tokens (password reset, email verification), run against
//! SQLite always and PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is set: storage by hash,
//! invalidation, and the single-transaction redemption (claim, invalidate, customer change,
//! Messages, OAuth revocation) with exactly one winner among concurrent redeemers.

use std::sync::Arc;

use crate::common::{at, created, customer, each_backend, message, new_id};
use clientele_domain::{Customer, MessagePayload, Reference};
use clientele_store::{
    AccessTokenRecord, CustomerLookup, CustomerTokenRecord, RedeemOutcome, Store, StoreError,
    TokenKind, TokenRedemption,
};

const P: &str = "proj";

/// A stored customer (global, version 1).
async fn stored_customer(store: &Arc<dyn Store>, email: &str) -> Customer {
    let c = customer(email, &[]);
    store
        .insert_customer(P, &c, vec![created(&c)])
        .await
        .expect("insert customer");
    c
}

/// A token record of `c` with value hash `hash`, created at `at(created)` and valid until
/// `at(expires)`.
fn token(
    c: &Customer,
    kind: TokenKind,
    hash: &str,
    created: i64,
    expires: i64,
) -> CustomerTokenRecord {
    CustomerTokenRecord {
        id: new_id(),
        customer_id: c.id.clone(),
        kind,
        value_hash: hash.to_owned(),
        expires_at: at(expires),
        created_at: at(created),
        used: false,
    }
}

/// The Message of a token's creation.
fn token_created(t: &CustomerTokenRecord) -> clientele_domain::Message {
    let mut m = message(
        &t.id,
        1,
        MessagePayload::CustomerPasswordTokenCreated {
            customer_id: t.customer_id.clone(),
            expires_at: t.expires_at,
            value: None,
            invalidate_older_tokens: false,
        },
    );
    m.resource = Reference::new(t.kind.type_id(), t.id.clone());
    m
}

async fn insert(store: &Arc<dyn Store>, t: &CustomerTokenRecord, invalidate_older: bool) {
    store
        .insert_customer_token(P, t, invalidate_older, vec![token_created(t)])
        .await
        .expect("insert token");
}

/// Stores a token of `c` valid for a minute from `at(created)`, without invalidating others.
async fn insert_valid(
    store: &Arc<dyn Store>,
    c: &Customer,
    kind: TokenKind,
    hash: &str,
    created: i64,
) {
    insert(store, &token(c, kind, hash, created, 60_000), false).await;
}

async fn find(store: &Arc<dyn Store>, hash: &str, kind: TokenKind) -> Option<CustomerTokenRecord> {
    store
        .find_customer_token(P, hash, kind)
        .await
        .expect("find token")
}

async fn is_used(store: &Arc<dyn Store>, hash: &str, kind: TokenKind) -> bool {
    find(store, hash, kind).await.expect("token exists").used
}

/// The change a password reset of `c` makes: version + 1, with its Message.
fn reset_of(c: &Customer, revoke: bool) -> TokenRedemption {
    let mut next = c.clone();
    next.version = c.version.next();
    next.last_modified_at = at(10_000);
    next.first_name = Some("reset".to_owned());
    TokenRedemption {
        messages: vec![message(
            &c.id,
            next.version.get(),
            MessagePayload::CustomerPasswordUpdated { reset: true },
        )],
        customer: next,
        expected: c.version,
        revoke_oauth_tokens: revoke,
    }
}

async fn customer_now(store: &Arc<dyn Store>, id: &str) -> Customer {
    store
        .get_customer(P, &CustomerLookup::Id(id.to_owned()))
        .await
        .expect("get customer")
        .expect("customer exists")
}

#[tokio::test]
async fn tokens_are_stored_by_hash_and_found_only_by_their_kind_and_project() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        let t = token(&c, TokenKind::PasswordReset, "hash-1", 0, 60_000);
        let m = token_created(&t);
        store
            .insert_customer_token(P, &t, false, vec![m.clone()])
            .await
            .expect("insert token");
        assert_eq!(
            find(&store, "hash-1", TokenKind::PasswordReset).await,
            Some(t.clone())
        );
        assert_eq!(
            find(&store, "hash-1", TokenKind::EmailVerification).await,
            None
        );
        assert_eq!(find(&store, "hash-2", TokenKind::PasswordReset).await, None);
        let elsewhere = store
            .find_customer_token("other", "hash-1", TokenKind::PasswordReset)
            .await
            .expect("find");
        assert_eq!(elsewhere, None);
        // The creation Message is stored with the token, under the token's reference.
        let stored = store
            .get_message(P, &m.id)
            .await
            .expect("get")
            .expect("message");
        assert_eq!(
            stored.resource,
            Reference::new("customer-password-token", t.id.clone())
        );
        assert_eq!(stored.sequence_number, 1);
    })
    .await;
}

#[tokio::test]
async fn a_token_for_a_missing_customer_is_not_stored() {
    each_backend(|store| async move {
        let ghost = customer("ghost@example.com", &[]);
        let t = token(&ghost, TokenKind::EmailVerification, "h", 0, 60_000);
        let result = store.insert_customer_token(P, &t, false, vec![]).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
        // Nor for a customer of another project.
        let c = stored_customer(&store, "b@example.com").await;
        let t = token(&c, TokenKind::EmailVerification, "h", 0, 60_000);
        let result = store
            .insert_customer_token("other", &t, false, vec![])
            .await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
        assert_eq!(find(&store, "h", TokenKind::EmailVerification).await, None);
    })
    .await;
}

#[tokio::test]
async fn invalidate_older_marks_only_that_customers_tokens_of_that_kind() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        let other = stored_customer(&store, "b@example.com").await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p1", 0).await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p2", 1).await;
        insert_valid(&store, &c, TokenKind::EmailVerification, "e1", 2).await;
        insert_valid(&store, &other, TokenKind::PasswordReset, "o1", 3).await;
        // Without the flag, older tokens stay valid.
        assert!(!is_used(&store, "p1", TokenKind::PasswordReset).await);
        assert!(!is_used(&store, "p2", TokenKind::PasswordReset).await);

        insert(
            &store,
            &token(&c, TokenKind::PasswordReset, "p3", 4, 60_000),
            true,
        )
        .await;
        assert!(is_used(&store, "p1", TokenKind::PasswordReset).await);
        assert!(is_used(&store, "p2", TokenKind::PasswordReset).await);
        assert!(!is_used(&store, "p3", TokenKind::PasswordReset).await);
        assert!(!is_used(&store, "e1", TokenKind::EmailVerification).await);
        assert!(!is_used(&store, "o1", TokenKind::PasswordReset).await);
    })
    .await;
}

#[tokio::test]
async fn a_redemption_claims_the_token_invalidates_the_others_and_saves_the_change() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        let other = stored_customer(&store, "b@example.com").await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p1", 0).await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p2", 1).await;
        insert_valid(&store, &c, TokenKind::EmailVerification, "e1", 2).await;
        let oauth = |hash: &str, customer_id: &str| AccessTokenRecord {
            token_hash: hash.to_owned(),
            kind: "refresh".to_owned(),
            client_id: "client".to_owned(),
            project_key: P.to_owned(),
            scope: format!("manage_my_profile:{P} customer_id:{customer_id}"),
            customer_id: Some(customer_id.to_owned()),
            expires_at: at(1_000_000),
        };
        store
            .insert_token(&oauth("r1", &c.id))
            .await
            .expect("token");
        store
            .insert_token(&oauth("r2", &other.id))
            .await
            .expect("token");

        let change = reset_of(&c, true);
        let message_id = change.messages[0].id.clone();
        let outcome = store
            .redeem_customer_token(P, "p1", TokenKind::PasswordReset, at(1_000), change)
            .await
            .expect("redeem");
        assert_eq!(outcome, RedeemOutcome::Redeemed);

        assert!(is_used(&store, "p1", TokenKind::PasswordReset).await);
        assert!(
            is_used(&store, "p2", TokenKind::PasswordReset).await,
            "older ones invalidated"
        );
        assert!(
            !is_used(&store, "e1", TokenKind::EmailVerification).await,
            "other kind kept"
        );
        let now = customer_now(&store, &c.id).await;
        assert_eq!(now.version.get(), 2);
        assert_eq!(now.first_name.as_deref(), Some("reset"));
        let m = store
            .get_message(P, &message_id)
            .await
            .expect("get")
            .expect("message");
        assert_eq!(m.sequence_number, 2, "after CustomerCreated");
        assert_eq!(store.get_token("r1").await.expect("get"), None, "revoked");
        assert!(
            store.get_token("r2").await.expect("get").is_some(),
            "others kept"
        );

        // Used now: a second redemption finds nothing.
        let again = store
            .redeem_customer_token(
                P,
                "p1",
                TokenKind::PasswordReset,
                at(1_000),
                reset_of(&now, true),
            )
            .await
            .expect("redeem again");
        assert_eq!(again, RedeemOutcome::NotFound);
        let invalidated = store
            .redeem_customer_token(
                P,
                "p2",
                TokenKind::PasswordReset,
                at(1_000),
                reset_of(&now, true),
            )
            .await
            .expect("redeem invalidated");
        assert_eq!(invalidated, RedeemOutcome::NotFound);
        assert_eq!(customer_now(&store, &c.id).await.version.get(), 2);
    })
    .await;
}

#[tokio::test]
async fn expired_unknown_and_foreign_tokens_change_nothing() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        let other = stored_customer(&store, "b@example.com").await;
        insert(
            &store,
            &token(&c, TokenKind::EmailVerification, "e1", 0, 5_000),
            false,
        )
        .await;
        insert_valid(&store, &c, TokenKind::EmailVerification, "e2", 0).await;

        // At the expiry instant the token no longer works.
        let expired = store
            .redeem_customer_token(
                P,
                "e1",
                TokenKind::EmailVerification,
                at(5_000),
                reset_of(&c, false),
            )
            .await
            .expect("redeem");
        assert_eq!(expired, RedeemOutcome::Expired);
        assert!(
            !is_used(&store, "e2", TokenKind::EmailVerification).await,
            "no invalidation"
        );

        let unknown = store
            .redeem_customer_token(
                P,
                "nope",
                TokenKind::EmailVerification,
                at(0),
                reset_of(&c, false),
            )
            .await
            .expect("redeem");
        assert_eq!(unknown, RedeemOutcome::NotFound);
        // The wrong kind, and another customer's change, do not match the token either.
        let wrong_kind = store
            .redeem_customer_token(
                P,
                "e2",
                TokenKind::PasswordReset,
                at(0),
                reset_of(&c, false),
            )
            .await
            .expect("redeem");
        assert_eq!(wrong_kind, RedeemOutcome::NotFound);
        let foreign = store
            .redeem_customer_token(
                P,
                "e2",
                TokenKind::EmailVerification,
                at(0),
                reset_of(&other, false),
            )
            .await
            .expect("redeem");
        assert_eq!(foreign, RedeemOutcome::NotFound);

        assert!(!is_used(&store, "e1", TokenKind::EmailVerification).await);
        assert!(!is_used(&store, "e2", TokenKind::EmailVerification).await);
        assert_eq!(customer_now(&store, &c.id).await.version.get(), 1);
        assert_eq!(customer_now(&store, &other.id).await.version.get(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_failed_customer_update_does_not_burn_the_token() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p1", 0).await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p2", 0).await;
        // Someone else changes the customer first.
        let mut moved = c.clone();
        moved.version = c.version.next();
        store
            .update_customer(P, &moved, c.version, vec![])
            .await
            .expect("update");

        let stale = store
            .redeem_customer_token(P, "p1", TokenKind::PasswordReset, at(0), reset_of(&c, true))
            .await;
        assert!(
            matches!(
                stale,
                Err(StoreError::ConcurrentModification { current: 2 })
            ),
            "{stale:?}"
        );
        assert!(!is_used(&store, "p1", TokenKind::PasswordReset).await);
        assert!(!is_used(&store, "p2", TokenKind::PasswordReset).await);

        let fresh = store
            .redeem_customer_token(
                P,
                "p1",
                TokenKind::PasswordReset,
                at(0),
                reset_of(&moved, true),
            )
            .await
            .expect("redeem");
        assert_eq!(fresh, RedeemOutcome::Redeemed);
    })
    .await;
}

#[tokio::test]
async fn of_sixteen_concurrent_redemptions_exactly_one_wins() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p1", 0).await;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                let change = reset_of(&c, true);
                tokio::spawn(async move {
                    store
                        .redeem_customer_token(P, "p1", TokenKind::PasswordReset, at(0), change)
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(RedeemOutcome::Redeemed) => won += 1,
                Ok(RedeemOutcome::NotFound) => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(won, 1);
        assert_eq!(customer_now(&store, &c.id).await.version.get(), 2);
    })
    .await;
}

#[tokio::test]
async fn deleting_the_customer_deletes_its_tokens() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p1", 0).await;
        store
            .delete_customer(P, &c.id, c.version, false, vec![])
            .await
            .expect("delete");
        assert_eq!(find(&store, "p1", TokenKind::PasswordReset).await, None);
    })
    .await;
}

#[tokio::test]
async fn a_redemption_naming_a_missing_resource_fails_and_keeps_the_token() {
    each_backend(|store| async move {
        let c = stored_customer(&store, "a@example.com").await;
        insert_valid(&store, &c, TokenKind::PasswordReset, "p1", 0).await;
        // The redemption's customer write checks its references like any other.
        let missing = new_id();
        let mut change = reset_of(&c, true);
        change.customer.customer_group = Some(Reference::new("customer-group", missing.clone()));
        let refused = store
            .redeem_customer_token(P, "p1", TokenKind::PasswordReset, at(0), change)
            .await;
        match refused {
            Err(StoreError::ReferencedResourceNotFound { type_id, id, key }) => {
                assert_eq!(
                    (type_id.as_str(), id, key),
                    ("customer-group", Some(missing), None)
                );
            }
            other => panic!("expected ReferencedResourceNotFound, got {other:?}"),
        }
        assert!(!is_used(&store, "p1", TokenKind::PasswordReset).await);
        assert_eq!(customer_now(&store, &c.id).await, c);
    })
    .await;
}
