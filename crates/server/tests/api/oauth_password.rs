//! The storefront OAuth flows: the password flow (`/oauth/{p}/customers/token`), the refresh
//! grant, introspection, and the revocation of a customer's tokens by a password change or
//! reset.

use crate::helpers::{spawn_app, Resp, TestApp};
use serde_json::{json, Value};
use time::Duration;

/// `POST {path}` on the auth host with Basic `id:secret` and `form`.
async fn auth_post(
    app: &TestApp,
    path: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Resp {
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        body,
        headers,
        text,
    }
}

/// The password flow for `email` / `password`, with optional extra form fields.
async fn password_grant(
    app: &TestApp,
    client: &(String, String),
    email: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ];
    form.extend_from_slice(extra);
    auth_post(
        app,
        "/oauth/demo/customers/token",
        &client.0,
        &client.1,
        &form,
    )
    .await
}

/// An app with one Password-mode customer `jane@example.com` / `secret123`; returns the app,
/// an admin token and the customer's id.
async fn app_with_customer() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app
        .create_customer(
            &admin,
            json!({"email": "Jane@Example.com", "password": "secret123"}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    (app, admin, id)
}

#[tokio::test]
async fn the_password_flow_issues_access_and_refresh_tokens_naming_the_customer() {
    let (app, _, id) = app_with_customer().await;
    let client = app
        .api_client("manage_my_profile:demo view_messages:demo")
        .await;
    let r = password_grant(&app, &client, "jane@EXAMPLE.com", "secret123", &[]).await;
    let body = r.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 172_800);
    assert_eq!(
        body["scope"],
        format!("manage_my_profile:demo view_messages:demo customer_id:{id}")
    );
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.starts_with("demo:"), "{refresh}");
    assert!(refresh.len() > 43);
    // A customer's token acts through `/me` only, whatever else its scope names.
    app.get("/demo/me", access).await.ok(200);
    app.get("/demo/messages", access)
        .await
        .error(403, "insufficient_scope");

    let narrowed = password_grant(
        &app,
        &client,
        "jane@example.com",
        "secret123",
        &[("scope", "view_messages:demo")],
    )
    .await;
    assert_eq!(
        narrowed.ok(200)["scope"],
        format!("view_messages:demo customer_id:{id}")
    );
    let access = narrowed.body["access_token"].as_str().unwrap();
    app.get("/demo/me", access)
        .await
        .error(403, "insufficient_scope");
    password_grant(
        &app,
        &client,
        "jane@example.com",
        "secret123",
        &[("scope", &format!("customer_id:{id}"))],
    )
    .await
    .error(400, "invalid_scope");
}

#[tokio::test]
async fn wrong_customer_credentials_are_invalid_customer_account_credentials() {
    let (app, admin, _) = app_with_customer().await;
    let client = app.api_client("manage_customers:demo").await;
    app.external_customer(&admin, "ext@example.com", json!({}))
        .await;
    let mut bodies = Vec::new();
    for (email, password) in [
        ("jane@example.com", "wrong"),
        ("nobody@example.com", "secret123"),
        ("ext@example.com", "secret123"),
    ] {
        let before = app.state.hasher.verification_count();
        let r = password_grant(&app, &client, email, password, &[]).await;
        assert_eq!(app.state.hasher.verification_count() - before, 1, "{email}");
        r.error(400, "invalid_customer_account_credentials");
        assert_eq!(r.body["error"], "invalid_customer_account_credentials");
        assert_eq!(
            r.body["error_description"],
            "Customer account with the given credentials not found."
        );
        bodies.push(r.body.clone());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn malformed_password_grants_are_rejected_before_any_verification() {
    let (app, _, _) = app_with_customer().await;
    let client = app.api_client("manage_customers:demo").await;
    let before = app.state.hasher.verification_count();
    let path = "/oauth/demo/customers/token";
    let r = auth_post(
        &app,
        path,
        &client.0,
        &client.1,
        &[("grant_type", "password"), ("password", "x")],
    )
    .await;
    r.error(400, "invalid_request");
    assert_eq!(r.body["message"], "Missing required parameter: username.");
    auth_post(
        &app,
        path,
        &client.0,
        &client.1,
        &[("grant_type", "password"), ("username", "jane@example.com")],
    )
    .await
    .error(400, "invalid_request");
    auth_post(
        &app,
        path,
        &client.0,
        &client.1,
        &[("username", "a"), ("password", "b")],
    )
    .await
    .error(400, "invalid_request");
    auth_post(
        &app,
        path,
        &client.0,
        &client.1,
        &[("grant_type", "client_credentials")],
    )
    .await
    .error(400, "unsupported_grant_type");
    auth_post(
        &app,
        path,
        &client.0,
        "bad-secret",
        &[
            ("grant_type", "password"),
            ("username", "jane@example.com"),
            ("password", "secret123"),
        ],
    )
    .await
    .error(401, "invalid_client");
    // A client of another project cannot sign customers of this one in.
    app.create_project("other").await;
    let foreign = app.api_client_in("other", "manage_customers:other").await;
    password_grant(&app, &foreign, "jane@example.com", "secret123", &[])
        .await
        .error(400, "invalid_scope");
    assert_eq!(app.state.hasher.verification_count(), before);
}

#[tokio::test]
async fn a_refresh_token_gets_new_access_tokens_for_its_client_only() {
    let (app, _, id) = app_with_customer().await;
    let client = app.api_client("manage_my_profile:demo").await;
    let first = password_grant(&app, &client, "jane@example.com", "secret123", &[]).await;
    let refresh = first.ok(200)["refresh_token"].as_str().unwrap().to_owned();

    let r = app
        .token_request(
            &client.0,
            &client.1,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    let body = r.ok(200);
    assert_eq!(
        body["scope"],
        format!("manage_my_profile:demo customer_id:{id}")
    );
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body.get("refresh_token").is_none(),
        "the refresh token stays the same"
    );
    assert_ne!(body["access_token"], first.body["access_token"]);
    // The refreshed token speaks for the same customer.
    let me = app
        .get("/demo/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.ok(200)["id"], id.as_str());

    for bad in [
        "demo:not-a-token",
        first.body["access_token"].as_str().unwrap(),
    ] {
        let r = app
            .token_request(
                &client.0,
                &client.1,
                &[("grant_type", "refresh_token"), ("refresh_token", bad)],
            )
            .await;
        r.error(400, "invalid_grant");
        assert_eq!(r.body["error"], "invalid_grant");
    }
    app.token_request(&client.0, &client.1, &[("grant_type", "refresh_token")])
        .await
        .error(400, "invalid_request");
    let other = app.api_client("manage_customers:demo").await;
    app.token_request(
        &other.0,
        &other.1,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await
    .error(400, "invalid_grant");
}

#[tokio::test]
async fn introspection_reports_live_access_tokens_to_their_client() {
    let (app, _, id) = app_with_customer().await;
    let client = app.api_client("manage_customers:demo").await;
    let granted = password_grant(&app, &client, "jane@example.com", "secret123", &[]).await;
    let access = granted.ok(200)["access_token"].as_str().unwrap().to_owned();
    let refresh = granted.body["refresh_token"].as_str().unwrap().to_owned();
    let introspect = |who: (String, String), token: String| {
        let app = &app;
        async move {
            auth_post(
                app,
                "/oauth/introspect",
                &who.0,
                &who.1,
                &[("token", &token)],
            )
            .await
        }
    };

    let r = introspect(client.clone(), access.clone()).await;
    let exp = 1_700_000_000 + 172_800;
    assert_eq!(
        r.ok(200),
        &json!({"active": true, "scope": format!("manage_customers:demo customer_id:{id}"),
                "exp": exp, "client_id": client.0})
    );
    for token in ["nope".to_owned(), refresh] {
        assert_eq!(
            introspect(client.clone(), token).await.ok(200),
            &json!({"active": false})
        );
    }
    // Another client sees nothing, unless it may introspect the project's tokens.
    let stranger = app.api_client("manage_project:demo").await;
    assert_eq!(
        introspect(stranger, access.clone()).await.ok(200),
        &json!({"active": false})
    );
    let inspector = app.api_client("introspect_oauth_tokens:demo").await;
    assert_eq!(
        introspect(inspector, access.clone()).await.ok(200)["active"],
        true
    );
    auth_post(&app, "/oauth/introspect", &client.0, &client.1, &[])
        .await
        .error(400, "invalid_request");
    auth_post(
        &app,
        "/oauth/introspect",
        &client.0,
        "bad",
        &[("token", &access)],
    )
    .await
    .error(401, "invalid_client");

    app.clock.advance(Duration::seconds(172_800));
    assert_eq!(
        introspect(client.clone(), access).await.ok(200),
        &json!({"active": false}),
        "expired"
    );
}

#[tokio::test]
async fn a_password_change_or_reset_revokes_every_token_issued_to_the_customer() {
    let (app, admin, id) = app_with_customer().await;
    let client = app.api_client("manage_my_profile:demo").await;
    let refresh_with = |refresh: String| {
        let (app, client) = (&app, &client);
        async move {
            app.token_request(
                &client.0,
                &client.1,
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            )
            .await
        }
    };
    // Tokens of the first password: an access token, a refresh token and a refreshed one.
    let tokens = |password: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            let granted = password_grant(app, client, "jane@example.com", password, &[]).await;
            let access = granted.ok(200)["access_token"].as_str().unwrap().to_owned();
            let refresh = granted.body["refresh_token"].as_str().unwrap().to_owned();
            (access, refresh)
        }
    };
    let (access, refresh) = tokens("secret123").await;
    let second_access = refresh_with(refresh.clone()).await.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/demo/me", &second_access).await.ok(200);

    // A password change through the back office kills them all.
    app.post(
        "/demo/customers/password",
        &admin,
        json!({"id": id, "version": 1, "currentPassword": "secret123", "newPassword": "changed"}),
    )
    .await
    .ok(200);
    for token in [&access, &second_access] {
        app.get("/demo/me", token).await.error(401, "invalid_token");
    }
    refresh_with(refresh).await.error(400, "invalid_grant");

    // So does a reset, for the tokens of the new password.
    let (access, refresh) = tokens("changed").await;
    let t = app
        .post(
            "/demo/customers/password-token",
            &admin,
            json!({"email": "jane@example.com"}),
        )
        .await;
    let value = t.ok(200)["value"].as_str().unwrap().to_owned();
    app.post(
        "/demo/customers/password/reset",
        &admin,
        json!({"tokenValue": value, "newPassword": "reset123"}),
    )
    .await
    .ok(200);
    app.get("/demo/me", &access)
        .await
        .error(401, "invalid_token");
    refresh_with(refresh).await.error(400, "invalid_grant");
    // Client-credentials tokens are not the customer's and keep working.
    app.get("/demo/customers", &admin).await.ok(200);
    password_grant(&app, &client, "jane@example.com", "changed", &[])
        .await
        .error(400, "invalid_customer_account_credentials");
    let (access, _) = tokens("reset123").await;
    app.get("/demo/me", &access).await.ok(200);
}

#[tokio::test]
async fn a_refresh_token_expires_after_200_days_without_use_counted_from_its_last_use() {
    let (app, _, _) = app_with_customer().await;
    let client = app.api_client("manage_customers:demo").await;
    let first = password_grant(&app, &client, "jane@example.com", "secret123", &[]).await;
    let refresh = first.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    let grant = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
    let day = Duration::days(1);

    // Used every 150 days, it outlives 200 days since it was issued.
    app.clock.advance(day * 150);
    app.token_request(&client.0, &client.1, &grant)
        .await
        .ok(200);
    app.clock.advance(day * 150);
    app.token_request(&client.0, &client.1, &grant)
        .await
        .ok(200);

    // 200 days without use: gone.
    app.clock.advance(day * 200);
    app.token_request(&client.0, &client.1, &grant)
        .await
        .error(400, "invalid_grant");
}
