//! Sign-in, password change, and the password-reset and email-verification token flows at
//! project level: every endpoint, every documented error, the equal treatment of unknown emails
//! and wrong passwords (one verification each, same answer), single-use tokens under
//! concurrency, expiry with the hand-moved clock, invalidation, authentication modes through
//! HTTP, and the 503 of a full hashing queue.
//!
//! Password-mode customers cost an Argon2id hash each, so tests create them only where a
//! password matters and use ExternalAuth customers elsewhere.

use crate::helpers::{spawn_app, spawn_app_with_production_hashing, Resp, TestApp};
use clientele_domain::serde_formats::format_datetime;
use serde_json::{json, Value};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The test clock's start (see `helpers::spawn_app_with`).
fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

/// A Password-mode customer; returns it.
async fn password_customer(app: &TestApp, token: &str, email: &str, password: &str) -> Value {
    app.create_customer(token, json!({"email": email, "password": password}))
        .await
}

async fn login(app: &TestApp, token: &str, email: &str, password: &str) -> Resp {
    app.post(
        "/demo/login",
        token,
        json!({"email": email, "password": password}),
    )
    .await
}

/// `POST /demo/customers/password-token` for `email` with extra fields.
async fn password_token(app: &TestApp, token: &str, email: &str, extra: Value) -> Resp {
    let mut body = json!({"email": email});
    merge(&mut body, extra);
    app.post("/demo/customers/password-token", token, body)
        .await
}

/// `POST /demo/customers/email-token` for customer `id` with extra fields.
async fn email_token(app: &TestApp, token: &str, id: &str, extra: Value) -> Resp {
    let mut body = json!({"id": id});
    merge(&mut body, extra);
    app.post("/demo/customers/email-token", token, body).await
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(o), Some(e)) = (into.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
}

fn value_of(r: &Resp) -> String {
    r.ok(200)["value"].as_str().unwrap().to_owned()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Stores a Password-mode customer of Store `eu` directly (creating the Store if needed), with
/// a fixed salt.
async fn store_specific_customer(app: &TestApp, token: &str, email: &str, password: &str) {
    let admin = app.admin().await;
    let store = app.post("/demo/stores", &admin, json!({"key": "eu"})).await;
    assert!(store.status == 201 || store.status == 400, "{}", store.text);
    let template = app
        .external_customer(token, &format!("template-{email}"), json!({}))
        .await;
    let mut doc = template.clone();
    doc["id"] = json!(uuid::Uuid::new_v4().to_string());
    doc["email"] = json!(email);
    doc["stores"] = json!([{"typeId": "store", "key": "eu"}]);
    doc["authenticationMode"] = json!("Password");
    let mut customer: clientele_domain::Customer = serde_json::from_value(doc).unwrap();
    customer.password = Some(
        app.state
            .hasher
            .hash(password.to_owned(), [9; 16])
            .await
            .unwrap(),
    );
    app.state
        .store
        .insert_customer("demo", &customer, vec![])
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_matches_the_email_case_insensitively() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = password_customer(&app, &token, "Jane.Doe@Example.com", "secret123").await;
    let r = login(&app, &token, "jane.doe@EXAMPLE.COM", "secret123").await;
    let body = r.ok(200);
    assert_eq!(body["customer"]["id"], c["id"]);
    assert_eq!(body["customer"]["email"], "Jane.Doe@Example.com");
    assert_eq!(
        body["customer"]["password"], c["password"],
        "masked, never the hash"
    );
    assert!(body.get("cart").is_none(), "Clientele has no carts");
    assert_eq!(body.as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer_after_one_verification_each() {
    let app = spawn_app().await;
    let token = app.admin().await;
    password_customer(&app, &token, "jane@example.com", "secret123").await;
    app.external_customer(&token, "ext@example.com", json!({}))
        .await;
    store_specific_customer(&app, &token, "shop@example.com", "secret123").await;

    let count = || app.state.hasher.verification_count();
    let mut answers = Vec::new();
    for (email, password) in [
        ("jane@example.com", "wrong-password"),
        ("nobody@example.com", "secret123"),
        // ExternalAuth customers have no password to sign in with.
        ("ext@example.com", "anything"),
        // A store-specific customer cannot use the global login, even with its password.
        ("shop@example.com", "secret123"),
        ("", ""),
    ] {
        let before = count();
        let r = login(&app, &token, email, password).await;
        assert_eq!(
            count() - before,
            1,
            "{email}: exactly one verification, as for a wrong password"
        );
        let e = r.error(400, "InvalidCredentials");
        assert_eq!(
            e["message"],
            "Account with the given credentials not found."
        );
        answers.push(r.body.clone());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every failure answers alike: {answers:?}"
    );
    let before = count();
    login(&app, &token, "jane@example.com", "secret123")
        .await
        .ok(200);
    assert_eq!(count() - before, 1);
}

#[tokio::test]
async fn sign_in_validates_the_cart_fields_and_names_no_cart() {
    let app = spawn_app().await;
    let token = app.admin().await;
    password_customer(&app, &token, "jane@example.com", "secret123").await;
    let accepted = app
        .post(
            "/demo/login",
            &token,
            json!({"email": "jane@example.com", "password": "secret123",
                   "anonymousId": "anon-1", "updateProductData": true,
                   "anonymousCartSignInMode": "UseAsNewActiveCustomerCart"}),
        )
        .await;
    accepted.ok(200);

    let before = app.state.hasher.verification_count();
    for (cart, field, value) in [
        (
            json!({"anonymousCart": {"typeId": "cart", "id": "c-1"}}),
            "id",
            "c-1",
        ),
        (json!({"anonymousCart": {"key": "k-1"}}), "key", "k-1"),
        (json!({"anonymousCartId": "c-2"}), "id", "c-2"),
    ] {
        let mut body = json!({"email": "jane@example.com", "password": "secret123"});
        merge(&mut body, cart);
        let r = app.post("/demo/login", &token, body).await;
        let e = r.error(400, "ReferencedResourceNotFound");
        assert_eq!(e["typeId"], "cart");
        assert_eq!(e[field], value);
    }
    assert_eq!(
        app.state.hasher.verification_count(),
        before,
        "a request naming a cart fails before any password work"
    );

    for bad in [
        json!({"email": "jane@example.com", "password": "secret123", "anonymousCartSignInMode": "Merge"}),
        json!({"email": "jane@example.com", "password": "secret123", "updateProductData": "yes"}),
        json!({"email": "jane@example.com"}),
        json!({"email": "jane@example.com", "password": "secret123",
               "anonymousCart": {"id": "c", "key": "k"}}),
        json!({"email": "jane@example.com", "password": "secret123",
               "anonymousCart": {"typeId": "customer", "id": "c"}}),
    ] {
        app.post("/demo/login", &token, bad)
            .await
            .error(400, "InvalidJsonInput");
    }
}

#[tokio::test]
async fn credential_endpoints_need_manage_customers() {
    let app = spawn_app().await;
    let view = app.token("view_customers:demo").await;
    let id = uuid::Uuid::new_v4().to_string();
    for (path, body) in [
        (
            "/demo/login",
            json!({"email": "a@example.com", "password": "p"}),
        ),
        (
            "/demo/customers/password",
            json!({"id": id, "version": 1, "currentPassword": "a", "newPassword": "b"}),
        ),
        (
            "/demo/customers/password-token",
            json!({"email": "a@example.com"}),
        ),
        (
            "/demo/customers/password/reset",
            json!({"tokenValue": "t", "newPassword": "b"}),
        ),
        (
            "/demo/customers/email-token",
            json!({"id": id, "ttlMinutes": 5}),
        ),
        ("/demo/customers/email/confirm", json!({"tokenValue": "t"})),
    ] {
        let r = app.post(path, &view, body).await;
        r.error(403, "insufficient_scope");
        assert_eq!(
            r.body["message"],
            "Insufficient scope. One of the following scopes is missing: manage_customers."
        );
        app.request(reqwest::Method::POST, path, None, Some(json!({})))
            .await
            .error(401, "invalid_token");
    }
    // The token lookups only read: view_customers is enough.
    app.get("/demo/customers/password-token=nope", &view)
        .await
        .error(404, "ResourceNotFound");
    let messages_only = app.token("view_messages:demo").await;
    app.get("/demo/customers/email-token=nope", &messages_only)
        .await
        .error(403, "insufficient_scope");
}

#[tokio::test]
async fn change_password_checks_version_and_current_password() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = password_customer(&app, &token, "jane@example.com", "secret123").await;
    let id = id_of(&c);
    let change = |version: u64, current: &str, new: &str| json!({"id": id, "version": version, "currentPassword": current, "newPassword": new});

    let stale = app
        .post(
            "/demo/customers/password",
            &token,
            change(2, "secret123", "n"),
        )
        .await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        1
    );
    let wrong = app
        .post("/demo/customers/password", &token, change(1, "nope", "n"))
        .await;
    assert_eq!(
        wrong.error(400, "InvalidCurrentPassword")["message"],
        "The given current password does not match."
    );
    app.post(
        "/demo/customers/password",
        &token,
        change(1, "secret123", ""),
    )
    .await
    .error(400, "RequiredField");
    let ghost = json!({"id": uuid::Uuid::new_v4().to_string(), "version": 1,
                       "currentPassword": "a", "newPassword": "b"});
    app.post("/demo/customers/password", &token, ghost)
        .await
        .error(404, "ResourceNotFound");
    app.post(
        "/demo/customers/password",
        &token,
        json!({"id": id, "currentPassword": "secret123", "newPassword": "n"}),
    )
    .await
    .error(400, "InvalidJsonInput");

    let r = app
        .post(
            "/demo/customers/password",
            &token,
            change(1, "secret123", "newSecret456"),
        )
        .await;
    let changed = r.ok(200);
    assert_eq!(changed["version"], 2);
    assert_ne!(changed["password"], c["password"]);
    assert_eq!(
        app.get(&format!("/demo/customers/{id}"), &token)
            .await
            .ok(200)["version"],
        2
    );
    login(&app, &token, "jane@example.com", "newSecret456")
        .await
        .ok(200);
    login(&app, &token, "jane@example.com", "secret123")
        .await
        .error(400, "InvalidCredentials");

    let messages = app.messages_of(&token, &id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["type"], "CustomerPasswordUpdated");
    assert_eq!(last["reset"], false);
    assert_eq!(last["resourceVersion"], 2);
    assert_eq!(last["sequenceNumber"], 2);
}

#[tokio::test]
async fn the_password_reset_flow_issues_reads_and_redeems_a_single_use_token() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = password_customer(&app, &token, "Jane@Example.com", "secret123").await;
    let id = id_of(&c);

    let r = password_token(&app, &token, "jane@EXAMPLE.com", json!({})).await;
    let t = r.ok(200).clone();
    let value = value_of(&r);
    assert!(value.len() >= 43, "at least 256 bits, base64: {value}");
    assert_eq!(t["customerId"], id.as_str());
    assert_eq!(t["invalidateOlderTokens"], false);
    assert_eq!(t["createdAt"], format_datetime(start()));
    assert_eq!(t["lastModifiedAt"], t["createdAt"]);
    assert_eq!(
        t["expiresAt"],
        format_datetime(start() + Duration::minutes(34_560)),
        "the reference page's default ttl"
    );
    assert!(t["createdBy"]["clientId"].is_string());
    uuid::Uuid::parse_str(t["id"].as_str().unwrap()).unwrap();

    let read = app
        .get(&format!("/demo/customers/password-token={value}"), &token)
        .await;
    assert_eq!(read.ok(200)["id"], id.as_str());
    assert!(read.body.get("customer").is_none(), "the Customer itself");

    let reset = app
        .post(
            "/demo/customers/password/reset",
            &token,
            json!({"tokenValue": value, "newPassword": "newsecret123"}),
        )
        .await;
    let after = reset.ok(200);
    assert_eq!(after["version"], 2);
    assert_ne!(after["password"], c["password"]);
    login(&app, &token, "jane@example.com", "newsecret123")
        .await
        .ok(200);
    login(&app, &token, "jane@example.com", "secret123")
        .await
        .error(400, "InvalidCredentials");

    // Single use.
    app.post(
        "/demo/customers/password/reset",
        &token,
        json!({"tokenValue": value, "newPassword": "again"}),
    )
    .await
    .error(404, "ResourceNotFound");
    app.get(&format!("/demo/customers/password-token={value}"), &token)
        .await
        .error(404, "ResourceNotFound");

    let messages = app.messages_of(&token, &id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["type"], "CustomerPasswordUpdated");
    assert_eq!(last["reset"], true);
    assert_eq!(last["resourceVersion"], 2);

    let token_messages = app.messages_of(&token, t["id"].as_str().unwrap()).await;
    assert_eq!(token_messages.len(), 1);
    let m = &token_messages[0];
    assert_eq!(m["type"], "CustomerPasswordTokenCreated");
    assert_eq!(
        m["resource"],
        json!({"typeId": "customer-password-token", "id": t["id"]})
    );
    assert_eq!(m["customerId"], id.as_str());
    assert_eq!(m["expiresAt"], t["expiresAt"]);
    assert_eq!(m["invalidateOlderTokens"], false);
    assert!(
        m.get("value").is_none(),
        "long-lived token values stay out of Messages"
    );
}

#[tokio::test]
async fn token_messages_carry_the_value_only_for_at_most_sixty_minutes() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "e@example.com", json!({}))
        .await;
    let id = id_of(&c);
    for (ttl, shown) in [(60, true), (61, false)] {
        let r = email_token(&app, &token, &id, json!({"ttlMinutes": ttl})).await;
        let t = r.ok(200).clone();
        let m = &app.messages_of(&token, t["id"].as_str().unwrap()).await[0];
        assert_eq!(m["type"], "CustomerEmailTokenCreated");
        assert_eq!(m["resource"]["typeId"], "customer-email-token");
        assert_eq!(m["value"].is_string(), shown, "ttl {ttl}");
        if shown {
            assert_eq!(m["value"], t["value"]);
        }
    }
    let c = password_customer(&app, &token, "p@example.com", "pw").await;
    let r = password_token(&app, &token, "p@example.com", json!({"ttlMinutes": 60})).await;
    let t = r.ok(200).clone();
    let m = &app.messages_of(&token, t["id"].as_str().unwrap()).await[0];
    assert_eq!(m["value"], t["value"]);
    assert_eq!(m["customerId"], c["id"]);
}

#[tokio::test]
async fn the_email_verification_flow_checks_versions_and_verifies_once() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "e@example.com", json!({}))
        .await;
    let id = id_of(&c);
    assert_eq!(c["isEmailVerified"], false);

    email_token(&app, &token, &id, json!({}))
        .await
        .error(400, "InvalidJsonInput");
    email_token(&app, &token, &id, json!({"ttlMinutes": 0}))
        .await
        .error(400, "InvalidInput");
    email_token(&app, &token, &id, json!({"ttlMinutes": i64::MAX}))
        .await
        .error(400, "InvalidInput");
    let stale = email_token(&app, &token, &id, json!({"ttlMinutes": 5, "version": 3})).await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        1
    );
    email_token(
        &app,
        &token,
        &uuid::Uuid::new_v4().to_string(),
        json!({"ttlMinutes": 5}),
    )
    .await
    .error(404, "ResourceNotFound");

    let r = email_token(&app, &token, &id, json!({"ttlMinutes": 4320, "version": 1})).await;
    let value = value_of(&r);
    assert_eq!(
        r.body["expiresAt"],
        format_datetime(start() + Duration::minutes(4320))
    );
    let read = app
        .get(
            &format!("/demo/customers/email-token={value}?expand=customerGroup"),
            &token,
        )
        .await;
    assert_eq!(read.ok(200)["id"], id.as_str());

    // A stale version fails without burning the token.
    let stale = app
        .post(
            "/demo/customers/email/confirm",
            &token,
            json!({"tokenValue": value, "version": 7}),
        )
        .await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        1
    );
    let ok = app
        .post(
            "/demo/customers/email/confirm",
            &token,
            json!({"tokenValue": value, "version": 1}),
        )
        .await;
    let verified = ok.ok(200);
    assert_eq!(verified["isEmailVerified"], true);
    assert_eq!(verified["version"], 2);
    app.post(
        "/demo/customers/email/confirm",
        &token,
        json!({"tokenValue": value}),
    )
    .await
    .error(404, "ResourceNotFound");

    let messages = app.messages_of(&token, &id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["type"], "CustomerEmailVerified");
    assert_eq!(last["resourceVersion"], 2);
}

#[tokio::test]
async fn unknown_tokens_and_customers_are_not_found() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for path in [
        "/demo/customers/password-token=nope",
        "/demo/customers/email-token=nope",
        "/demo/customers/password-token=",
    ] {
        app.get(path, &token).await.error(404, "ResourceNotFound");
    }
    app.post(
        "/demo/customers/password/reset",
        &token,
        json!({"tokenValue": "nope", "newPassword": "x"}),
    )
    .await
    .error(404, "ResourceNotFound");
    app.post(
        "/demo/customers/email/confirm",
        &token,
        json!({"tokenValue": "nope"}),
    )
    .await
    .error(404, "ResourceNotFound");
    password_token(&app, &token, "nobody@example.com", json!({}))
        .await
        .error(404, "ResourceNotFound");
    // A password token is not an email token and the other way round.
    let c = app
        .external_customer(&token, "e@example.com", json!({}))
        .await;
    let value = value_of(&email_token(&app, &token, &id_of(&c), json!({"ttlMinutes": 5})).await);
    app.get(&format!("/demo/customers/password-token={value}"), &token)
        .await
        .error(404, "ResourceNotFound");
    app.post(
        "/demo/customers/password/reset",
        &token,
        json!({"tokenValue": value, "newPassword": "x"}),
    )
    .await
    .error(404, "ResourceNotFound");
    // Other methods on a token path are no customer either.
    app.delete(
        &format!("/demo/customers/email-token={value}?version=1"),
        &token,
    )
    .await
    .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn an_external_auth_customer_has_no_password_to_reset() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.external_customer(&token, "ext@example.com", json!({}))
        .await;
    password_token(&app, &token, "ext@example.com", json!({}))
        .await
        .error(400, "InvalidOperation");

    // A token issued while the customer had a password cannot set one after the switch.
    let c = password_customer(&app, &token, "p@example.com", "pw").await;
    let value = value_of(&password_token(&app, &token, "p@example.com", json!({})).await);
    app.update(
        &token,
        &id_of(&c),
        &json!(1),
        json!([{"action": "setAuthenticationMode", "authMode": "ExternalAuth"}]),
    )
    .await
    .ok(200);
    app.post(
        "/demo/customers/password/reset",
        &token,
        json!({"tokenValue": value, "newPassword": "x"}),
    )
    .await
    .error(400, "InvalidOperation");
    // Changing a password it does not have fails like a wrong current password.
    app.post(
        "/demo/customers/password",
        &token,
        json!({"id": id_of(&c), "version": 2, "currentPassword": "pw", "newPassword": "x"}),
    )
    .await
    .error(400, "InvalidCurrentPassword");
}

#[tokio::test]
async fn expiry_follows_the_clock() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "e@example.com", json!({}))
        .await;
    let value = value_of(&email_token(&app, &token, &id_of(&c), json!({"ttlMinutes": 10})).await);
    app.clock
        .advance(Duration::minutes(10) - Duration::milliseconds(1));
    app.get(&format!("/demo/customers/email-token={value}"), &token)
        .await
        .ok(200);
    app.clock.advance(Duration::milliseconds(1));
    let r = app
        .get(&format!("/demo/customers/email-token={value}"), &token)
        .await;
    assert_eq!(
        r.error(400, "ExpiredCustomerEmailToken")["message"],
        "The given email token has expired."
    );
    app.post(
        "/demo/customers/email/confirm",
        &token,
        json!({"tokenValue": value}),
    )
    .await
    .error(400, "ExpiredCustomerEmailToken");

    password_customer(&app, &token, "p@example.com", "pw").await;
    let value =
        value_of(&password_token(&app, &token, "p@example.com", json!({"ttlMinutes": 1})).await);
    app.clock.advance(Duration::minutes(1));
    app.get(&format!("/demo/customers/password-token={value}"), &token)
        .await
        .error(400, "ExpiredCustomerPasswordToken");
    let r = app
        .post(
            "/demo/customers/password/reset",
            &token,
            json!({"tokenValue": value, "newPassword": "x"}),
        )
        .await;
    assert_eq!(
        r.error(400, "ExpiredCustomerPasswordToken")["message"],
        "The given password token has expired."
    );
    login(&app, &token, "p@example.com", "pw").await.ok(200);
}

#[tokio::test]
async fn older_tokens_stay_valid_unless_invalidated_and_go_when_one_is_redeemed() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "e@example.com", json!({}))
        .await;
    let id = id_of(&c);
    let new_token = |extra: Value| {
        let (app, token, id) = (&app, &token, &id);
        async move { value_of(&email_token(app, token, id, extra).await) }
    };
    let read = |value: String| {
        let (app, token) = (&app, &token);
        async move {
            app.get(&format!("/demo/customers/email-token={value}"), token)
                .await
                .status
        }
    };

    let first = new_token(json!({"ttlMinutes": 30})).await;
    let second = new_token(json!({"ttlMinutes": 30, "invalidateOlderTokens": false})).await;
    assert_eq!(
        read(first.clone()).await,
        200,
        "creating a token keeps older ones"
    );
    assert_eq!(read(second.clone()).await, 200);

    let r = email_token(
        &app,
        &token,
        &id,
        json!({"ttlMinutes": 30, "invalidateOlderTokens": true}),
    )
    .await;
    assert_eq!(r.ok(200)["invalidateOlderTokens"], true);
    let third = value_of(&r);
    assert_eq!(read(first).await, 404);
    assert_eq!(read(second).await, 404);
    assert_eq!(read(third.clone()).await, 200);

    // Redeeming one invalidates the others of its kind.
    let fourth = new_token(json!({"ttlMinutes": 30})).await;
    app.post(
        "/demo/customers/email/confirm",
        &token,
        json!({"tokenValue": fourth}),
    )
    .await
    .ok(200);
    assert_eq!(read(third).await, 404);
}

#[tokio::test]
async fn a_password_reset_invalidates_the_other_password_tokens_only() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = password_customer(&app, &token, "p@example.com", "pw").await;
    let older = value_of(&password_token(&app, &token, "p@example.com", json!({})).await);
    let used = value_of(&password_token(&app, &token, "p@example.com", json!({})).await);
    let email = value_of(&email_token(&app, &token, &id_of(&c), json!({"ttlMinutes": 30})).await);
    app.post(
        "/demo/customers/password/reset",
        &token,
        json!({"tokenValue": used, "newPassword": "new", "version": 1}),
    )
    .await
    .ok(200);
    app.get(&format!("/demo/customers/password-token={older}"), &token)
        .await
        .error(404, "ResourceNotFound");
    app.get(&format!("/demo/customers/email-token={email}"), &token)
        .await
        .ok(200);
}

#[tokio::test]
async fn a_reset_with_a_stale_version_keeps_the_token() {
    let app = spawn_app().await;
    let token = app.admin().await;
    password_customer(&app, &token, "p@example.com", "pw").await;
    let value = value_of(&password_token(&app, &token, "p@example.com", json!({})).await);
    let stale = app
        .post(
            "/demo/customers/password/reset",
            &token,
            json!({"tokenValue": value, "newPassword": "new", "version": 2}),
        )
        .await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        1
    );
    app.post(
        "/demo/customers/password/reset",
        &token,
        json!({"tokenValue": value, "newPassword": "new", "version": 1}),
    )
    .await
    .ok(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_redemptions_of_one_token_have_exactly_one_winner() {
    let app = Arc::new(spawn_app().await);
    let token = app.admin().await;
    let c = password_customer(&app, &token, "p@example.com", "pw").await;
    let email_value =
        value_of(&email_token(&app, &token, &id_of(&c), json!({"ttlMinutes": 30})).await);
    let password_value = value_of(&password_token(&app, &token, "p@example.com", json!({})).await);
    for (path, body) in [
        (
            "/demo/customers/email/confirm",
            json!({"tokenValue": email_value}),
        ),
        (
            "/demo/customers/password/reset",
            json!({"tokenValue": password_value, "newPassword": "new"}),
        ),
    ] {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (app, token, body) = (app.clone(), token.clone(), body.clone());
                tokio::spawn(async move { app.post(path, &token, body).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            let r = t.await.unwrap();
            match r.status {
                200 => won += 1,
                404 => assert_eq!(r.body["errors"][0]["code"], "ResourceNotFound"),
                other => panic!("{path}: unexpected {other}: {}", r.text),
            }
        }
        assert_eq!(won, 1, "{path}");
    }
    let now = app
        .get(&format!("/demo/customers/{}", id_of(&c)), &token)
        .await;
    assert_eq!(now.ok(200)["version"], 3, "one verification, one reset");
    let types: Vec<Value> = app
        .messages_of(&token, &id_of(&c))
        .await
        .iter()
        .map(|m| m["type"].clone())
        .collect();
    assert_eq!(
        types,
        [
            json!("CustomerCreated"),
            json!("CustomerEmailVerified"),
            json!("CustomerPasswordUpdated")
        ]
    );
}

#[tokio::test]
async fn authentication_modes_decide_who_can_sign_in() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.post(
        "/demo/customers",
        &token,
        json!({"email": "m@example.com", "authenticationMode": "Password"}),
    )
    .await
    .error(400, "RequiredField");
    let c = app
        .external_customer(&token, "m@example.com", json!({"password": "ignored"}))
        .await;
    assert!(
        c.get("password").is_none(),
        "ExternalAuth stores no password"
    );
    let id = id_of(&c);
    login(&app, &token, "m@example.com", "ignored")
        .await
        .error(400, "InvalidCredentials");

    let again = app
        .update(
            &token,
            &id,
            &json!(1),
            json!([{"action": "setAuthenticationMode", "authMode": "ExternalAuth"}]),
        )
        .await;
    again.error(400, "InvalidOperation");
    app.update(
        &token,
        &id,
        &json!(1),
        json!([{"action": "setAuthenticationMode", "authMode": "Password"}]),
    )
    .await
    .error(400, "RequiredField");
    let switched = app
        .update(
            &token,
            &id,
            &json!(1),
            json!([{"action": "setAuthenticationMode", "authMode": "Password", "password": "pw"}]),
        )
        .await;
    assert!(switched.ok(200)["password"].is_string());
    login(&app, &token, "m@example.com", "pw").await.ok(200);

    let back = app
        .update(
            &token,
            &id,
            &json!(2),
            json!([{"action": "setAuthenticationMode", "authMode": "ExternalAuth"}]),
        )
        .await;
    assert!(
        back.ok(200).get("password").is_none(),
        "the password is deleted"
    );
    login(&app, &token, "m@example.com", "pw")
        .await
        .error(400, "InvalidCredentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hashing_queue_answers_503_at_once_while_reads_go_on() {
    // Only a real hashing cost keeps the single worker busy long enough for a burst to queue.
    let app = Arc::new(
        spawn_app_with_production_hashing(|c| {
            c.hash_workers = Some(1);
            c.hash_queue = 0;
        })
        .await,
    );
    let token = app.admin().await;
    app.external_customer(&token, "e@example.com", json!({}))
        .await;
    // One verification at a time, none waiting: a burst of sign-ins overflows. A loaded CI
    // machine may spread a burst out, so up to five bursts are tried.
    let mut over = 0;
    for _ in 0..5 {
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (app, token) = (app.clone(), token.clone());
                tokio::spawn(async move { login(&app, &token, "nobody@example.com", "pw").await })
            })
            .collect();
        let read = app.get("/demo/customers", &token).await;
        assert_eq!(read.ok(200)["total"], 1, "reads do not wait for hashing");
        let mut served = 0;
        for t in tasks {
            let r = t.await.unwrap();
            match r.status {
                400 => {
                    assert_eq!(r.body["errors"][0]["code"], "InvalidCredentials");
                    served += 1;
                }
                503 => {
                    let e = r.error(503, "OverCapacity");
                    assert_eq!(
                        e["message"],
                        "The service is over capacity. Please try again later."
                    );
                    over += 1;
                }
                other => panic!("unexpected {other}: {}", r.text),
            }
        }
        assert!(served > 0, "the admitted sign-in was served");
        if over > 0 {
            break;
        }
    }
    assert!(over > 0, "some sign-ins were turned away");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_waiting_past_the_bound_answers_503_promptly_instead_of_queueing() {
    // Room in the queue for the whole burst, but a wait bound far below what the queue would
    // take to drain through one worker at the real hashing cost.
    let app = Arc::new(
        spawn_app_with_production_hashing(|c| {
            c.hash_workers = Some(1);
            c.hash_queue = 64;
            c.hash_queue_wait = Some(std::time::Duration::from_millis(20));
        })
        .await,
    );
    let token = app.admin().await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let r = login(&app, &token, "nobody@example.com", "pw").await;
                (r, started.elapsed())
            })
        })
        .collect();
    let (mut served, mut over) = (0, 0);
    for t in tasks {
        let (r, took) = t.await.unwrap();
        match r.status {
            400 => {
                assert_eq!(r.body["errors"][0]["code"], "InvalidCredentials");
                served += 1;
            }
            503 => {
                r.error(503, "OverCapacity");
                // 20 ms of waiting plus the request itself; a queue of 11 hashes would take
                // several times longer. Generous for a loaded CI machine.
                assert!(took < std::time::Duration::from_millis(1500), "{took:?}");
                over += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert!(served > 0, "the first sign-in was served");
    assert!(over > 0, "sign-ins waiting past the bound were turned away");
}
