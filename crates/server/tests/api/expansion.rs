//! `expand` on every endpoint that returns a Customer: create and sign-in (whose
//! `CustomerSignInResult` takes both `customer.customerGroup` and the Customer's own
//! `customerGroup`), update, change password, token lookup and redemption, at project level
//! and in a Store.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn group(app: &TestApp, token: &str, key: &str) -> String {
    let r = app
        .post(
            "/demo/customer-groups",
            token,
            json!({"groupName": key, "key": key}),
        )
        .await;
    r.ok(201)["id"].as_str().unwrap().to_owned()
}

fn group_obj_key(customer: &Value) -> &Value {
    &customer["customerGroup"]["obj"]["key"]
}

#[tokio::test]
async fn every_endpoint_returning_a_customer_expands_its_group() {
    let app = spawn_app().await;
    let token = app.admin().await;
    group(&app, &token, "vip").await;
    app.post("/demo/stores", &token, json!({"key": "berlin"}))
        .await
        .ok(201);
    let draft = |email: &str| json!({"email": email, "password": "secret123", "customerGroup": {"key": "vip"}});

    // Create, both path forms, project level and in a Store.
    for (path, q) in [
        ("/demo/customers", "customerGroup"),
        ("/demo/customers", "customer.customerGroup"),
        ("/demo/in-store/key=berlin/customers", "customerGroup"),
    ] {
        let email = format!("{}-{}@example.com", q.len(), path.len());
        let r = app
            .post(&format!("{path}?expand={q}"), &token, draft(&email))
            .await;
        assert_eq!(group_obj_key(&r.ok(201)["customer"]), "vip", "{path} {q}");
    }
    // Without expand nothing is embedded.
    let r = app
        .post("/demo/customers", &token, draft("plain@example.com"))
        .await;
    let c = r.ok(201)["customer"].clone();
    assert!(c["customerGroup"].get("obj").is_none());
    let id = c["id"].as_str().unwrap().to_owned();

    // Sign-in, project level and in a Store.
    let r = app
        .post(
            "/demo/login?expand=customerGroup",
            &token,
            json!({"email": "plain@example.com", "password": "secret123"}),
        )
        .await;
    assert_eq!(group_obj_key(&r.ok(200)["customer"]), "vip");
    let in_store_email = format!("{}-{}@example.com", 13, 35);
    let r = app
        .post(
            "/demo/in-store/key=berlin/login?expand=customer.customerGroup",
            &token,
            json!({"email": in_store_email, "password": "secret123"}),
        )
        .await;
    assert_eq!(group_obj_key(&r.ok(200)["customer"]), "vip");

    // Update, in a Store too.
    let r = app
        .post(
            &format!("/demo/customers/{id}?expand=customerGroup"),
            &token,
            json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "A"}]}),
        )
        .await;
    assert_eq!(group_obj_key(r.ok(200)), "vip");
    // Change password.
    let r = app
        .post(
            "/demo/customers/password?expand=customerGroup",
            &token,
            json!({"id": id, "version": 2, "currentPassword": "secret123", "newPassword": "secret456"}),
        )
        .await;
    assert_eq!(group_obj_key(r.ok(200)), "vip");
    // Token lookup and redemption.
    let r = app
        .post(
            "/demo/customers/password-token",
            &token,
            json!({"email": "plain@example.com"}),
        )
        .await;
    let value = r.ok(200)["value"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &format!("/demo/customers/password-token={value}?expand=customerGroup"),
            &token,
        )
        .await;
    assert_eq!(group_obj_key(r.ok(200)), "vip");
    let r = app
        .post(
            "/demo/customers/password/reset?expand=customerGroup",
            &token,
            json!({"tokenValue": value, "newPassword": "secret789"}),
        )
        .await;
    assert_eq!(group_obj_key(r.ok(200)), "vip");
    let r = app
        .post(
            "/demo/customers/email-token",
            &token,
            json!({"id": id, "ttlMinutes": 10}),
        )
        .await;
    let value = r.ok(200)["value"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/demo/customers/email/confirm?expand=customerGroup",
            &token,
            json!({"tokenValue": value}),
        )
        .await;
    assert_eq!(group_obj_key(r.ok(200)), "vip");
    // A malformed path is still 400 on the new endpoints.
    app.post(
        "/demo/login?expand=a..b",
        &token,
        json!({"email": "plain@example.com", "password": "secret789"}),
    )
    .await
    .error(400, "InvalidInput");
}
