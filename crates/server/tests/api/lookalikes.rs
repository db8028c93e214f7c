//! Look-alike emails (issue 10, item 3): addresses that lowercase alike but are different
//! characters (KELVIN SIGN U+212A) or compatibility forms (full-width letters, ligatures).
//! Uniqueness treats them as the existing address (stored emails are NFKC), while no
//! credential flow — login, the OAuth password flow, password-reset tokens, at project level
//! and in a Store — ever reaches an account whose email differs other than by letter case.
//! A Cyrillic `а` is a different letter: a different account.

use crate::helpers::{spawn_app, Resp, TestApp};
use serde_json::{json, Value};

const KELVIN: &str = "\u{212A}ate@example.com";
const FULL_WIDTH: &str = "\u{FF4B}\u{FF41}\u{FF54}\u{FF45}@example.com";
const LIGATURE: &str = "\u{FB01}ona@example.com";
const CYRILLIC: &str = "k\u{430}te@example.com";

async fn sign_up(app: &TestApp, token: &str, path: &str, email: &str) -> Resp {
    app.post(
        path,
        token,
        json!({"email": email, "password": "secret123"}),
    )
    .await
}

async fn login(app: &TestApp, token: &str, prefix: &str, email: &str) -> Resp {
    app.post(
        &format!("{prefix}/login"),
        token,
        json!({"email": email, "password": "secret123"}),
    )
    .await
}

async fn password_flow(app: &TestApp, client: &(String, String), path: &str, email: &str) -> Value {
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("grant_type", "password"),
            ("username", email),
            ("password", "secret123"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    json!({"status": status, "body": body})
}

#[tokio::test]
async fn look_alikes_collide_on_sign_up_and_reach_no_account_in_credential_flows() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let kate = sign_up(&app, &token, "/demo/customers", "kate@example.com").await;
    let kate_id = kate.ok(201)["customer"]["id"].clone();
    sign_up(&app, &token, "/demo/customers", "fiona@example.com")
        .await
        .ok(201);

    // Uniqueness: every compatibility look-alike is the existing address.
    for email in [KELVIN, FULL_WIDTH, LIGATURE] {
        let r = sign_up(&app, &token, "/demo/customers", email).await;
        assert_eq!(r.error(400, "DuplicateField")["field"], "email", "{email}");
    }
    // A Cyrillic а is another letter: another account.
    let cyr = sign_up(&app, &token, "/demo/customers", CYRILLIC).await;
    let cyr = cyr.ok(201)["customer"].clone();
    assert_eq!(cyr["email"], CYRILLIC);
    assert_ne!(cyr["id"], kate_id);
    // Stored emails are NFKC: a look-alike without a twin is stored in its plain form.
    let karl = sign_up(&app, &token, "/demo/customers", "\u{212A}arl@example.com").await;
    assert_eq!(karl.ok(201)["customer"]["email"], "Karl@example.com");
    // changeEmail normalizes too, so it collides the same way.
    let id = cyr["id"].as_str().unwrap();
    app.update(
        &token,
        id,
        &json!(1),
        json!([{"action": "changeEmail", "email": FULL_WIDTH}]),
    )
    .await
    .error(400, "DuplicateField");

    // Login: letter case is fine, look-alikes are unknown emails.
    let r = login(&app, &token, "/demo", "KATE@Example.com").await;
    assert_eq!(r.ok(200)["customer"]["id"], kate_id);
    for email in [KELVIN, FULL_WIDTH, "\u{212A}ATE@EXAMPLE.COM"] {
        login(&app, &token, "/demo", email)
            .await
            .error(400, "InvalidCredentials");
    }
    let r = login(&app, &token, "/demo", LIGATURE).await;
    r.error(400, "InvalidCredentials");
    let r = login(&app, &token, "/demo", CYRILLIC).await;
    assert_eq!(r.ok(200)["customer"]["id"], cyr["id"]);

    // The OAuth password flow.
    let client = app.api_client("manage_project:demo").await;
    let r = password_flow(&app, &client, "/oauth/demo/customers/token", KELVIN).await;
    assert_eq!(r["status"], 400);
    assert_eq!(r["body"]["error"], "invalid_customer_account_credentials");
    let r = password_flow(
        &app,
        &client,
        "/oauth/demo/customers/token",
        "Kate@example.com",
    )
    .await;
    assert_eq!(r["status"], 200);

    // Password-reset tokens.
    for email in [KELVIN, FULL_WIDTH] {
        app.post(
            "/demo/customers/password-token",
            &token,
            json!({"email": email}),
        )
        .await
        .error(404, "ResourceNotFound");
    }
    let r = app
        .post(
            "/demo/customers/password-token",
            &token,
            json!({"email": "KATE@example.com"}),
        )
        .await;
    assert_eq!(r.ok(200)["customerId"], kate_id);
}

#[tokio::test]
async fn in_store_credential_flows_refuse_look_alikes_too() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.post("/demo/stores", &token, json!({"key": "shop"}))
        .await
        .ok(201);
    let prefix = "/demo/in-store/key=shop";
    let kate = sign_up(
        &app,
        &token,
        &format!("{prefix}/customers"),
        "kate@example.com",
    )
    .await;
    let kate_id = kate.ok(201)["customer"]["id"].clone();
    let r = sign_up(&app, &token, &format!("{prefix}/customers"), KELVIN).await;
    r.error(400, "DuplicateField");

    login(&app, &token, prefix, KELVIN)
        .await
        .error(400, "InvalidCredentials");
    let r = login(&app, &token, prefix, "Kate@example.com").await;
    assert_eq!(r.ok(200)["customer"]["id"], kate_id);
    app.post(
        &format!("{prefix}/customers/password-token"),
        &token,
        json!({"email": KELVIN}),
    )
    .await
    .error(404, "ResourceNotFound");
    let client = app.api_client("manage_project:demo").await;
    let path = "/oauth/demo/in-store/key=shop/customers/token";
    let r = password_flow(&app, &client, path, KELVIN).await;
    assert_eq!(r["body"]["error"], "invalid_customer_account_credentials");
    let r = password_flow(&app, &client, path, "kate@EXAMPLE.com").await;
    assert_eq!(r["status"], 200);
}
