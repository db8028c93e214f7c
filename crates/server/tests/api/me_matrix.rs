//! The route × token matrix of `/me`: every `/me` route, at project level and in Store
//! `a-shop`, against every kind of token — a client's, an anonymous session's, the path's own
//! customer's, a customer's of another Store (or of a Store when the path is the project's), a
//! customer token revoked by a password reset, and a client without `manage_my_profile` — plus customer tokens on
//! the back-office routes.

use crate::helpers::{spawn_app, Resp, TestApp};
use crate::me::{access, anonymous_grant, base, password_grant, two_stores, STOREFRONT};
use serde_json::{json, Value};

/// A route, a body that passes the scope and identity checks and then fails (or succeeds)
/// without changing anything, and the status it gets then.
struct Route {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    allowed: u16,
    needs_customer: bool,
}

fn routes() -> Vec<Route> {
    let route = |method, path, body: Option<Value>, allowed, needs_customer| Route {
        method,
        path,
        body,
        allowed,
        needs_customer,
    };
    vec![
        route("GET", "/me", None, 200, true),
        route(
            "POST",
            "/me",
            Some(json!({"version": 999, "actions": []})),
            409,
            true,
        ),
        route("DELETE", "/me?version=999", None, 409, true),
        route(
            "POST",
            "/me/password",
            Some(json!({"version": 999, "currentPassword": "x", "newPassword": "y"})),
            409,
            true,
        ),
        route(
            "POST",
            "/me/password/reset",
            Some(json!({"tokenValue": "nope", "newPassword": "y"})),
            404,
            true,
        ),
        route(
            "POST",
            "/me/email/confirm",
            Some(json!({"tokenValue": "nope"})),
            404,
            true,
        ),
        // The email is taken (a global customer's, which overlaps every Store).
        route(
            "POST",
            "/me/signup",
            Some(json!({"email": "g@example.com", "password": "x"})),
            400,
            false,
        ),
        route(
            "POST",
            "/me/login",
            Some(json!({"email": "g@example.com", "password": "wrong"})),
            400,
            false,
        ),
    ]
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    app.request(method, path, Some(token), body).await
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Client,
    Anonymous,
    Customer,
    ElsewhereCustomer,
    Revoked,
    NoProfileScope,
}

#[tokio::test]
async fn every_me_route_against_every_kind_of_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    two_stores(&app, &admin).await;
    let customers = [
        ("g@example.com", json!([])),
        ("a@example.com", json!([{"key": "a-shop"}])),
        ("b@example.com", json!([{"key": "b-shop"}])),
        ("rg@example.com", json!([])),
        ("ra@example.com", json!([{"key": "a-shop"}])),
    ];
    let mut ids = std::collections::HashMap::new();
    for (email, stores) in customers {
        let c = app
            .create_customer(
                &admin,
                json!({"email": email, "password": "secret123", "stores": stores}),
            )
            .await;
        ids.insert(email, c["id"].as_str().unwrap().to_owned());
    }
    let client = app.api_client(STOREFRONT).await;
    let grant = |store: Option<&'static str>, email: &'static str| {
        let (app, client) = (&app, &client);
        async move { access(&password_grant(app, client, store, email, "secret123").await) }
    };
    let client_token = app.token(STOREFRONT).await;
    let anonymous = access(&anonymous_grant(&app, &client, &[]).await);
    let no_profile = app.token("manage_customers:demo view_customers:demo").await;
    let global = grant(None, "g@example.com").await;
    let in_a = grant(Some("a-shop"), "a@example.com").await;
    let in_b = grant(Some("b-shop"), "b@example.com").await;
    // Revoked by a back-office password reset.
    let revoked_global = grant(None, "rg@example.com").await;
    let revoked_a = grant(Some("a-shop"), "ra@example.com").await;
    for (email, store) in [("rg@example.com", None), ("ra@example.com", Some("a-shop"))] {
        let t = app
            .post(
                &format!("{}/customers/password-token", base(store)),
                &admin,
                json!({"email": email}),
            )
            .await;
        let value = t.ok(200)["value"].as_str().unwrap().to_owned();
        app.post(
            &format!("{}/customers/password/reset", base(store)),
            &admin,
            json!({"tokenValue": value, "newPassword": "changed"}),
        )
        .await
        .ok(200);
    }

    let mut checked = 0;
    for store in [None, Some("a-shop")] {
        let (own, elsewhere, revoked) = match store {
            None => (&global, &in_a, &revoked_global),
            Some(_) => (&in_a, &in_b, &revoked_a),
        };
        let tokens = [
            (Kind::Client, &client_token),
            (Kind::Anonymous, &anonymous),
            (Kind::Customer, own),
            (Kind::ElsewhereCustomer, elsewhere),
            (Kind::Revoked, revoked),
            (Kind::NoProfileScope, &no_profile),
        ];
        for route in routes() {
            for (kind, token) in tokens {
                let path = format!("{}{}", base(store), route.path);
                let r = call(&app, route.method, &path, token, route.body.clone()).await;
                let what = format!("{kind:?} {} {path}: {}", route.method, r.text);
                match kind {
                    Kind::Revoked => {
                        assert_eq!(r.status, 401, "{what}");
                        assert_eq!(r.body["errors"][0]["code"], "invalid_token", "{what}");
                    }
                    Kind::NoProfileScope => {
                        assert_eq!(r.status, 403, "{what}");
                        assert!(
                            r.text.contains("manage_my_profile"),
                            "names the missing scope: {what}"
                        );
                    }
                    // A Store's customer is not visible in another Store (404 as for any
                    // customer of another Store); at project level every customer is.
                    Kind::ElsewhereCustomer if route.needs_customer && store.is_some() => {
                        assert_eq!(r.status, 404, "{what}");
                        assert_eq!(r.body["errors"][0]["code"], "ResourceNotFound", "{what}");
                    }
                    Kind::Client | Kind::Anonymous if route.needs_customer => {
                        assert_eq!(r.status, 403, "{what}");
                        assert_eq!(r.body["errors"][0]["code"], "insufficient_scope", "{what}");
                        assert!(r.text.contains("customer_id"), "{what}");
                    }
                    _ => assert_eq!(r.status, route.allowed, "{what}"),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 8 * 6);
    // The GETs of the path's own customers answered with that customer.
    let me = app.get("/demo/me", &global).await;
    assert_eq!(me.ok(200)["id"], ids["g@example.com"].as_str());
    let me = app.get("/demo/in-store/key=a-shop/me", &in_a).await;
    assert_eq!(me.ok(200)["id"], ids["a@example.com"].as_str());
    // A Store's customer may act at project level with a project-wide profile scope.
    let me = app.get("/demo/me", &in_a).await;
    assert_eq!(me.ok(200)["id"], ids["a@example.com"].as_str());
    // Nothing above changed anyone.
    for email in ["g@example.com", "a@example.com", "b@example.com"] {
        let c = app
            .get(&format!("/demo/customers/{}", ids[email]), &admin)
            .await;
        assert_eq!(c.ok(200)["version"], 1, "{email}");
    }
}

#[tokio::test]
async fn customer_and_anonymous_tokens_are_refused_on_every_back_office_route() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app
        .create_customer(
            &admin,
            json!({"email": "g@example.com", "password": "secret123"}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    // Even a client holding manage_project hands its customers no back-office power.
    let client = app
        .api_client("manage_project:demo create_anonymous_token:demo")
        .await;
    let customer = access(&password_grant(&app, &client, None, "g@example.com", "secret123").await);
    let anonymous = access(&anonymous_grant(&app, &client, &[]).await);
    app.get("/demo/me", &customer).await.ok(200);
    for token in [&customer, &anonymous] {
        for (method, path, body) in [
            ("GET", "/demo/customers".to_owned(), None),
            ("GET", format!("/demo/customers/{id}"), None),
            (
                "POST",
                format!("/demo/customers/{id}"),
                Some(json!({"version": 1, "actions": []})),
            ),
            ("DELETE", format!("/demo/customers/{id}?version=1"), None),
            (
                "POST",
                "/demo/login".to_owned(),
                Some(json!({"email": "g@example.com", "password": "secret123"})),
            ),
            (
                "POST",
                "/demo/customers/password-token".to_owned(),
                Some(json!({"email": "g@example.com"})),
            ),
            ("GET", "/demo/messages".to_owned(), None),
            ("GET", "/demo/stores".to_owned(), None),
            ("GET", "/demo/customer-groups".to_owned(), None),
            ("GET", "/demo/types".to_owned(), None),
        ] {
            let r = call(&app, method, &path, token, body).await;
            let what = format!("{method} {path}: {}", r.text);
            assert_eq!(r.status, 403, "{what}");
            assert_eq!(r.body["errors"][0]["code"], "insufficient_scope", "{what}");
        }
    }
    let c = app.get(&format!("/demo/customers/{id}"), &admin).await;
    assert_eq!(c.ok(200)["version"], 1);
}
