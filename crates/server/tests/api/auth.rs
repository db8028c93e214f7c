//! The OAuth token endpoint and scope enforcement on every route: 401 `invalid_token` for a
//! missing, unknown or expired token; 403 `insufficient_scope` for a wrong scope or another
//! project's token; the documented implications (`manage_project` allows all, `manage_customers`
//! all customer operations, `view_customers` only reads, messages need `view_messages`).

use crate::helpers::{spawn_app, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn client_credentials_grant_returns_a_bearer_token_with_the_clients_scope() {
    let app = spawn_app().await;
    let (id, secret) = app
        .api_client("manage_customers:demo view_messages:demo")
        .await;
    let r = app
        .token_request(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    let body = r.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 172_800);
    assert_eq!(body["scope"], "manage_customers:demo view_messages:demo");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32);
    assert_eq!(app.get("/demo/customers", token).await.status, 200);
}

#[tokio::test]
async fn a_subset_of_scopes_can_be_requested() {
    let app = spawn_app().await;
    let (id, secret) = app
        .api_client("manage_customers:demo view_messages:demo")
        .await;
    let r = app
        .token_request(
            &id,
            &secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "view_messages:demo"),
            ],
        )
        .await;
    assert_eq!(r.ok(200)["scope"], "view_messages:demo");
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let denied = app.get("/demo/customers", &token).await;
    denied.error(403, "insufficient_scope");
}

#[tokio::test]
async fn wrong_secret_or_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let (id, _) = app.api_client("view_customers:demo").await;
    let r = app
        .token_request(
            &id,
            "not-the-secret",
            &[("grant_type", "client_credentials")],
        )
        .await;
    r.error(401, "invalid_client");
    assert_eq!(r.body["error"], "invalid_client");
    let r = app
        .token_request("nobody", "x", &[("grant_type", "client_credentials")])
        .await;
    r.error(401, "invalid_client");
    // No Basic credentials at all.
    let r = app
        .http
        .post(format!("{}/oauth/token", app.base))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn unknown_or_missing_grant_type_is_rejected() {
    let app = spawn_app().await;
    let (id, secret) = app.api_client("view_customers:demo").await;
    let r = app
        .token_request(&id, &secret, &[("grant_type", "authorization_code")])
        .await;
    r.error(400, "unsupported_grant_type");
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = app.token_request(&id, &secret, &[]).await;
    r.error(400, "invalid_request");
}

#[tokio::test]
async fn asking_for_a_scope_the_client_lacks_is_invalid_scope() {
    let app = spawn_app().await;
    let (id, secret) = app.api_client("view_customers:demo").await;
    let r = app
        .token_request(
            &id,
            &secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "manage_customers:demo"),
            ],
        )
        .await;
    r.error(400, "invalid_scope");
    assert_eq!(r.body["error"], "invalid_scope");
    // commercetools' one text for every refused scope, whatever the reason.
    assert_eq!(
        r.body["message"],
        "Malformed parameter: scope: Invalid scope."
    );
    let malformed = app
        .token_request(
            &id,
            &secret,
            &[("grant_type", "client_credentials"), ("scope", "garbage")],
        )
        .await;
    let e = malformed.error(400, "invalid_scope");
    assert_eq!(e["message"], "Malformed parameter: scope: Invalid scope.");
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_invalid_token() {
    let app = spawn_app().await;
    let r = app
        .request(Method::GET, "/demo/customers", None, None)
        .await;
    r.error(401, "invalid_token");
    assert_eq!(r.body["error"], "invalid_token");
    assert!(r.headers.contains_key("www-authenticate"));
    let r = app
        .request(Method::GET, "/demo/customers", Some("made-up-token"), None)
        .await;
    r.error(401, "invalid_token");
    let r = app
        .http
        .get(format!("{}/demo/customers", app.base))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.clock.advance(time::Duration::seconds(172_799));
    assert_eq!(app.get("/demo/customers", &token).await.status, 200);
    app.clock.advance(time::Duration::seconds(1));
    let r = app.get("/demo/customers", &token).await;
    r.error(401, "invalid_token");
}

/// One route of the scope matrix.
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    /// What the route needs: "view", "manage" or "messages".
    needs: &'static str,
    /// The status when allowed.
    allowed: u16,
}

/// Every project-level customer and message route, against an existing customer and message.
async fn routes(app: &TestApp) -> Vec<Route> {
    let admin = app.admin().await;
    let c = app
        .external_customer(&admin, "matrix@example.com", json!({"key": "matrix"}))
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let msg = app.messages_of(&admin, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = |method: Method, path: String, body: Option<Value>, needs, allowed| Route {
        method,
        path,
        body,
        needs,
        allowed,
    };
    let noop = Some(json!({"version": 1, "actions": []}));
    vec![
        r(Method::GET, "/demo/customers".into(), None, "view", 200),
        r(Method::HEAD, "/demo/customers".into(), None, "view", 200),
        r(
            Method::POST,
            "/demo/customers".into(),
            // Already taken, so an allowed request answers 400 and changes nothing.
            Some(json!({"email": "matrix@example.com", "authenticationMode": "ExternalAuth"})),
            "manage",
            400,
        ),
        r(
            Method::GET,
            format!("/demo/customers/{id}"),
            None,
            "view",
            200,
        ),
        r(
            Method::HEAD,
            format!("/demo/customers/{id}"),
            None,
            "view",
            200,
        ),
        r(
            Method::GET,
            "/demo/customers/key=matrix".into(),
            None,
            "view",
            200,
        ),
        r(
            Method::HEAD,
            "/demo/customers/key=matrix".into(),
            None,
            "view",
            200,
        ),
        r(
            Method::POST,
            format!("/demo/customers/{id}"),
            noop.clone(),
            "manage",
            200,
        ),
        r(
            Method::POST,
            "/demo/customers/key=matrix".into(),
            noop,
            "manage",
            200,
        ),
        // A stale version: allowed requests get the 409 and delete nothing.
        r(
            Method::DELETE,
            format!("/demo/customers/{id}?version=9"),
            None,
            "manage",
            409,
        ),
        r(
            Method::DELETE,
            "/demo/customers/key=matrix?version=9".into(),
            None,
            "manage",
            409,
        ),
        r(Method::GET, "/demo/messages".into(), None, "messages", 200),
        r(Method::HEAD, "/demo/messages".into(), None, "messages", 200),
        r(
            Method::GET,
            format!("/demo/messages/{msg}"),
            None,
            "messages",
            200,
        ),
        r(
            Method::HEAD,
            format!("/demo/messages/{msg}"),
            None,
            "messages",
            200,
        ),
    ]
}

/// Checks every route with a token of `scope` (in `project`): allowed routes answer their
/// normal status, the others 403 `insufficient_scope` (bare for `HEAD`).
async fn check_matrix(app: &TestApp, project: &str, scope: &str, allows: &[&str]) {
    let token = app.token_in(project, scope).await;
    for route in routes(app).await {
        let r = app
            .request(
                route.method.clone(),
                &route.path,
                Some(&token),
                route.body.clone(),
            )
            .await;
        let what = format!("{} {} with {scope}", route.method, route.path);
        if allows.contains(&route.needs) {
            assert_eq!(r.status, route.allowed, "{what}: {}", r.text);
        } else if route.method == Method::HEAD {
            assert_eq!(r.status, 403, "{what}");
        } else {
            assert_eq!(r.status, 403, "{what}: {}", r.text);
            assert_eq!(r.body["errors"][0]["code"], "insufficient_scope", "{what}");
            assert_eq!(r.body["error"], "insufficient_scope", "{what}");
        }
    }
}

#[tokio::test]
async fn manage_project_allows_every_route() {
    let app = spawn_app().await;
    check_matrix(
        &app,
        "demo",
        "manage_project:demo",
        &["view", "manage", "messages"],
    )
    .await;
}

#[tokio::test]
async fn manage_customers_allows_every_customer_route_but_not_messages() {
    let app = spawn_app().await;
    check_matrix(&app, "demo", "manage_customers:demo", &["view", "manage"]).await;
}

#[tokio::test]
async fn view_customers_allows_only_reads() {
    let app = spawn_app().await;
    check_matrix(&app, "demo", "view_customers:demo", &["view"]).await;
}

#[tokio::test]
async fn view_messages_allows_only_messages() {
    let app = spawn_app().await;
    check_matrix(&app, "demo", "view_messages:demo", &["messages"]).await;
}

#[tokio::test]
async fn a_store_scoped_grant_does_not_allow_project_level_routes() {
    let app = spawn_app().await;
    check_matrix(&app, "demo", "manage_customers:demo:eu-store", &[]).await;
}

#[tokio::test]
async fn another_projects_token_is_insufficient_scope_everywhere() {
    let app = spawn_app().await;
    app.create_project("other").await;
    check_matrix(&app, "other", "manage_project:other", &[]).await;
}

#[tokio::test]
async fn every_route_wants_a_token() {
    let app = spawn_app().await;
    for route in routes(&app).await {
        let r = app
            .request(route.method.clone(), &route.path, None, route.body.clone())
            .await;
        assert_eq!(r.status, 401, "{} {}", route.method, route.path);
        if route.method != Method::HEAD {
            assert_eq!(r.body["errors"][0]["code"], "invalid_token");
        }
    }
}

#[tokio::test]
async fn the_forbidden_message_names_the_missing_scope() {
    let app = spawn_app().await;
    let token = app.token("view_customers:demo").await;
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "x@example.com", "authenticationMode": "ExternalAuth"}),
        )
        .await;
    let e = r.error(403, "insufficient_scope");
    assert_eq!(
        e["message"],
        "Insufficient scope. One of the following scopes is missing: manage_customers."
    );
    assert_eq!(app.customer_total(&app.admin().await).await, 0);
}

#[tokio::test]
async fn client_credentials_may_also_come_as_form_parameters() {
    let app = spawn_app().await;
    let (id, secret) = app.api_client("view_customers:demo").await;
    let post = |form: Vec<(&'static str, String)>| {
        app.http
            .post(format!("{}/oauth/token", app.base))
            .form(&form)
            .send()
    };
    let ok = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", id.clone()),
        ("client_secret", secret.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["scope"], "view_customers:demo");

    for form in [
        vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", id.clone()),
            ("client_secret", "wrong".to_owned()),
        ],
        vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", id.clone()),
        ],
    ] {
        let r = post(form).await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
    }
}
