//! Bad input and odd requests: malformed and ill-typed JSON, missing fields, oversized bodies,
//! unknown paths and methods, and a sweep of hostile bodies that must never cause a 5xx.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn health_answers_200() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/-/health", None, None).await;
    assert_eq!(r.ok(200)["status"], "ok");
}

#[tokio::test]
async fn unknown_paths_are_a_json_404_and_wrong_methods_a_405() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for path in ["/nope", "/demo/carts", "/demo/customers/a/b"] {
        let r = app.get(path, &token).await;
        r.error(404, "ResourceNotFound");
        assert!(r
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
    let r = app
        .request(
            Method::PUT,
            "/demo/customers",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 405, "{}", r.text);
    let r = app
        .request(Method::DELETE, "/demo/messages", Some(&token), None)
        .await;
    assert_eq!(r.status, 405, "{}", r.text);
}

#[tokio::test]
async fn malformed_json_is_invalid_json_input_with_details() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for body in [
        "{",
        "not json",
        "",
        "{\"email\": \"a@b.c\"} trailing",
        "[1,2",
    ] {
        let r = app
            .request_raw(Method::POST, "/demo/customers", &token, body.to_owned())
            .await;
        let e = r.error(400, "InvalidJsonInput");
        assert_eq!(e["message"], "Request body does not contain valid JSON.");
        assert!(
            e["detailedErrorMessage"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{body:?}: {}",
            r.text
        );
    }
    assert_eq!(app.customer_total(&token).await, 0);
}

#[tokio::test]
async fn missing_or_ill_typed_fields_are_invalid_json_input() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let r = app
        .post("/demo/customers", &token, json!({"password": "x"}))
        .await;
    let e = r.error(400, "InvalidJsonInput");
    assert!(e["detailedErrorMessage"]
        .as_str()
        .unwrap()
        .contains("email"));
    for body in [
        json!({"email": 5}),
        json!({"email": "a@b.c", "firstName": ["x"]}),
        json!({"email": "a@b.c", "dateOfBirth": "yesterday"}),
        json!({"email": "a@b.c", "authenticationMode": "Sometimes"}),
        json!({"email": "a@b.c", "addresses": [{"city": "no country"}]}),
        json!({"email": "a@b.c", "isEmailVerified": "yes"}),
        json!({"email": "a@b.c", "defaultShippingAddress": "first"}),
        json!(["email"]),
        json!(null),
    ] {
        let r = app.post("/demo/customers", &token, body.clone()).await;
        let e = r.error(400, "InvalidJsonInput");
        assert!(e["detailedErrorMessage"].is_string(), "{body}");
    }
    assert_eq!(app.customer_total(&token).await, 0);
}

#[tokio::test]
async fn bodies_over_the_limit_are_rejected_without_a_change() {
    let app = spawn_app_with(|c| c.max_body_bytes = 1024).await;
    let token = app.admin().await;
    let big = json!({
        "email": "big@example.com",
        "authenticationMode": "ExternalAuth",
        "firstName": "x".repeat(4096)
    });
    let r = app.post("/demo/customers", &token, big).await;
    r.error(413, "ContentTooLarge");
    assert_eq!(app.customer_total(&token).await, 0);

    let c = app
        .external_customer(&token, "small@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    let r = app
        .update(
            &token,
            id,
            &json!(1),
            json!([{"action": "setFirstName", "firstName": "y".repeat(4096)}]),
        )
        .await;
    r.error(413, "ContentTooLarge");
    let now = app.get(&format!("/demo/customers/{id}"), &token).await;
    assert_eq!(now.ok(200), &c);
}

#[tokio::test]
async fn hostile_input_never_causes_a_server_error() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "h@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let raw_bodies = [
        deep,
        "\u{0}".to_owned(),
        "{\"email\": \"\\ud800\"}".to_owned(),
        "{\"email\": \"a@b.c\", \"email\": \"d@e.f\"}".to_owned(),
        "{\"version\": 1e400, \"actions\": []}".to_owned(),
        "{\"version\": 18446744073709551616, \"actions\": []}".to_owned(),
        "{\"version\": 1, \"actions\": [{\"action\": \"setDateOfBirth\", \"dateOfBirth\": \"2020-02-30\"}]}".to_owned(),
        "{\"version\": 1, \"actions\": [{\"action\": \"addAddress\", \"address\": {\"country\": \"\"}}]}".to_owned(),
    ];
    for body in &raw_bodies {
        for path in [
            "/demo/customers".to_owned(),
            format!("/demo/customers/{id}"),
        ] {
            let r = app
                .request_raw(Method::POST, &path, &token, body.clone())
                .await;
            assert!(
                (400..500).contains(&r.status),
                "{path} {:?}: {} {}",
                body.chars().take(60).collect::<String>(),
                r.status,
                r.text
            );
        }
    }
    let weird_queries = [
        "limit=99999999999999999999",
        "offset=%FF",
        "withTotal=%00",
        "where=%22",
        "sort=",
        "version=1",
    ];
    for q in weird_queries {
        let r = app.get(&format!("/demo/customers?{q}"), &token).await;
        assert!(r.status < 500, "{q}: {} {}", r.status, r.text);
    }
    for q in [
        "version=99999999999999999999",
        "version=-1",
        "version=0",
        "version=1.5",
    ] {
        let r = app
            .delete(&format!("/demo/customers/{id}?{q}"), &token)
            .await;
        assert!(
            (400..500).contains(&r.status),
            "{q}: {} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(
        app.get(&format!("/demo/customers/{id}"), &token)
            .await
            .status,
        200
    );
}
