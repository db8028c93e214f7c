//! Sign-in throttling (issue 10, item 8), with `--login-throttle` on: repeated failed sign-ins
//! lock the account (known or unknown email alike) for `/login` and the OAuth password flow,
//! at project level and in a Store, with 429 `TooManyRequests` and `Retry-After`; the lock ends
//! when the time passes; an API client that fails too often is locked whatever the email; and
//! without the option nothing is ever refused.

use crate::helpers::{spawn_app, spawn_app_with, Resp, TestApp};
use clientele_server::throttle::{ACCOUNT_THRESHOLD, BASE_LOCK_SECS, CLIENT_THRESHOLD};
use serde_json::{json, Value};

async fn login(app: &TestApp, token: &str, prefix: &str, email: &str, password: &str) -> Resp {
    app.post(
        &format!("{prefix}/login"),
        token,
        json!({"email": email, "password": password}),
    )
    .await
}

async fn password_flow(app: &TestApp, client: &(String, String), email: &str) -> (u16, Value) {
    let r = app
        .http
        .post(format!("{}/oauth/demo/customers/token", app.base))
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
    (status, r.json().await.unwrap())
}

/// The body without the message, which names the seconds left.
fn shape(r: &Resp) -> Value {
    let mut b = r.body.clone();
    b["message"] = Value::Null;
    b["errors"][0]["message"] = Value::Null;
    b
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account_alike_for_known_and_unknown_emails() {
    let app = spawn_app_with(|c| c.login_throttle = true).await;
    let token = app.admin().await;
    app.post(
        "/demo/customers",
        &token,
        json!({"email": "kate@example.com", "password": "secret123"}),
    )
    .await
    .ok(201);
    for email in ["kate@example.com", "nobody@example.com"] {
        for _ in 0..ACCOUNT_THRESHOLD {
            login(&app, &token, "/demo", email, "wrong")
                .await
                .error(400, "InvalidCredentials");
        }
    }
    let known = login(&app, &token, "/demo", "KATE@example.com", "secret123").await;
    let unknown = login(&app, &token, "/demo", "nobody@example.com", "secret123").await;
    for r in [&known, &unknown] {
        r.error(429, "TooManyRequests");
        let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry >= 1 && retry <= BASE_LOCK_SECS as u64, "{retry}");
    }
    assert_eq!(shape(&known), shape(&unknown), "nothing tells them apart");
    assert_eq!(known.headers["retry-after"], unknown.headers["retry-after"]);
    // The OAuth password flow shares the account's count.
    let client = app.api_client("manage_project:demo").await;
    let (status, body) = password_flow(&app, &client, "kate@example.com").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errors"][0]["code"], "TooManyRequests");
    // Other accounts are not affected.
    login(&app, &token, "/demo", "other@example.com", "wrong")
        .await
        .error(400, "InvalidCredentials");
    // When the lock has passed, the right password works and clears the count.
    app.clock
        .advance(time::Duration::seconds(BASE_LOCK_SECS + 1));
    let r = login(&app, &token, "/demo", "kate@example.com", "secret123").await;
    r.ok(200);
    login(&app, &token, "/demo", "kate@example.com", "wrong")
        .await
        .error(400, "InvalidCredentials");
}

#[tokio::test]
async fn in_store_sign_ins_are_throttled_per_store_and_clients_that_keep_failing_are_locked() {
    let app = spawn_app_with(|c| {
        c.login_throttle = true;
        c.hash_workers = Some(2);
    })
    .await;
    let token = app.admin().await;
    app.post("/demo/stores", &token, json!({"key": "shop"}))
        .await
        .ok(201);
    for _ in 0..ACCOUNT_THRESHOLD {
        login(
            &app,
            &token,
            "/demo/in-store/key=shop",
            "x@example.com",
            "wrong",
        )
        .await
        .error(400, "InvalidCredentials");
    }
    login(
        &app,
        &token,
        "/demo/in-store/key=shop",
        "x@example.com",
        "wrong",
    )
    .await
    .error(429, "TooManyRequests");
    // The same email at project level is another account.
    login(&app, &token, "/demo", "x@example.com", "wrong")
        .await
        .error(400, "InvalidCredentials");

    // One API client failing on many accounts.
    let client_token = app.token("manage_customers:demo").await;
    let mut failures = 0;
    let mut i = 0;
    while failures < CLIENT_THRESHOLD {
        let email = format!("u{i}@example.com");
        i += 1;
        for _ in 0..2 {
            login(&app, &client_token, "/demo", &email, "wrong")
                .await
                .error(400, "InvalidCredentials");
            failures += 1;
        }
    }
    login(&app, &client_token, "/demo", "fresh@example.com", "wrong")
        .await
        .error(429, "TooManyRequests");
    // Other clients are not.
    login(&app, &token, "/demo", "fresh@example.com", "wrong")
        .await
        .error(400, "InvalidCredentials");
}

#[tokio::test]
async fn without_the_option_nothing_is_throttled() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for _ in 0..ACCOUNT_THRESHOLD * 2 {
        login(&app, &token, "/demo", "kate@example.com", "wrong")
            .await
            .error(400, "InvalidCredentials");
    }
}
