//! Input limits through HTTP (issue 10, item 4): oversized free text and passwords, NUL and
//! control characters in drafts, update actions, `where` literals and path keys, and the
//! number of `where` parameters. Every refusal is a commercetools-shaped 4xx naming the field
//! or parameter, and nothing is stored; the same on SQLite and PostgreSQL.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn count(app: &TestApp, token: &str) -> u64 {
    app.get("/demo/customers", token).await.ok(200)["total"]
        .as_u64()
        .unwrap()
}

fn message(error: &Value) -> String {
    error["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn oversized_fields_are_refused_on_create_and_update_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let big = "x".repeat(100_000);
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "a@example.com", "firstName": big, "authenticationMode": "ExternalAuth"}),
        )
        .await;
    assert!(message(r.error(400, "InvalidInput")).contains("firstName"));
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "a@example.com", "password": "p".repeat(1_000)}),
        )
        .await;
    assert!(message(r.error(400, "InvalidInput")).contains("password"));
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": format!("{}@example.com", "a".repeat(300)), "authenticationMode": "ExternalAuth"}),
        )
        .await;
    assert!(message(r.error(400, "InvalidInput")).contains("email"));
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "a@example.com", "authenticationMode": "ExternalAuth",
                   "addresses": [{"country": "DE", "streetName": big}]}),
        )
        .await;
    assert!(message(r.error(400, "InvalidInput")).contains("addresses[0].streetName"));
    assert_eq!(count(&app, &token).await, 0);

    let c = app
        .external_customer(&token, "a@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    for action in [
        json!({"action": "setFirstName", "firstName": big}),
        json!({"action": "setCompanyName", "companyName": big}),
        json!({"action": "changeEmail", "email": "b\u{0}@example.com"}),
        json!({"action": "changeEmail", "email": "b\n@example.com"}),
        json!({"action": "addAddress", "address": {"country": "DE", "city": "B\u{0}"}}),
    ] {
        let r = app
            .update(&token, id, &json!(1), json!([action.clone()]))
            .await;
        r.error(400, "InvalidInput");
    }
    let r = app
        .post(
            "/demo/customers/password",
            &token,
            json!({"id": id, "version": 1, "currentPassword": "x", "newPassword": "p".repeat(1_000)}),
        )
        .await;
    assert!(message(r.error(400, "InvalidInput")).contains("newPassword"));
    let stored = app.get(&format!("/demo/customers/{id}"), &token).await;
    assert_eq!(stored.ok(200)["version"], 1);
    assert_eq!(stored.body["email"], "a@example.com");
    // The limits are not in the way of ordinary values.
    let r = app
        .update(
            &token,
            id,
            &json!(1),
            json!([{"action": "setFirstName", "firstName": "é".repeat(256)},
                   {"action": "addAddress", "address": {"country": "DE", "streetName": "é".repeat(4_096)}}]),
        )
        .await;
    r.ok(200);
    let r = app
        .update(
            &token,
            id,
            &json!(2),
            json!([{"action": "setFirstName", "firstName": "é".repeat(257)}]),
        )
        .await;
    assert_eq!(
        message(r.error(400, "InvalidInput")),
        "Invalid value for field 'actions[0].firstName': it is longer than 256 characters."
    );
}

/// The fields kept in indexed columns take 256 characters of any kind on both backends; in
/// four-byte characters that do not compress, a longer value would not fit a PostgreSQL B-tree
/// entry, so the limit keeps such a customer from ever meeting a server error.
#[tokio::test]
async fn indexed_fields_take_their_longest_values_on_every_backend() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let longest = |seed: u32| -> String {
        (0..256u32)
            .map(|i| char::from_u32(0x1F300 + (seed + i * 7_919) % 700).unwrap())
            .collect()
    };
    let c = app
        .external_customer(
            &token,
            "longest@example.com",
            json!({"firstName": longest(1), "lastName": longest(2), "companyName": longest(3),
                   "customerNumber": longest(4), "externalId": longest(5),
                   "addresses": [{"country": "DE", "city": longest(6), "postalCode": longest(7)}]}),
        )
        .await;
    assert_eq!(c["lastName"].as_str().unwrap().chars().count(), 256);
    assert_eq!(
        c["addresses"][0]["city"].as_str().unwrap().chars().count(),
        256
    );
    for field in [
        "firstName",
        "lastName",
        "companyName",
        "customerNumber",
        "externalId",
    ] {
        let r = app
            .post(
                "/demo/customers",
                &token,
                json!({"email": "over@example.com", "authenticationMode": "ExternalAuth",
                       field: format!("{}x", longest(8))}),
            )
            .await;
        assert_eq!(
            message(r.error(400, "InvalidInput")),
            format!("Invalid value for field '{field}': it is longer than 256 characters.")
        );
    }
    for field in ["city", "postalCode"] {
        let r = app
            .post(
                "/demo/customers",
                &token,
                json!({"email": "over@example.com", "authenticationMode": "ExternalAuth",
                       "addresses": [{"country": "DE", field: format!("{}x", longest(9))}]}),
            )
            .await;
        assert_eq!(
            message(r.error(400, "InvalidInput")),
            format!(
                "Invalid value for field 'addresses[0].{field}': it is longer than 256 characters."
            )
        );
    }
    assert_eq!(count(&app, &token).await, 1);
}

#[tokio::test]
async fn nul_characters_are_refused_before_the_store_on_every_backend() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for draft in [
        json!({"email": "a\u{0}@example.com", "authenticationMode": "ExternalAuth"}),
        json!({"email": "a@example.com", "firstName": "A\u{0}", "authenticationMode": "ExternalAuth"}),
        json!({"email": "a@example.com", "key": "k\u{0}k", "authenticationMode": "ExternalAuth"}),
        json!({"email": "a@example.com", "password": "secret\u{0}"}),
    ] {
        let r = app.post("/demo/customers", &token, draft.clone()).await;
        r.error(400, "InvalidInput");
    }
    assert_eq!(count(&app, &token).await, 0);
    // Sign-in and token creation with a NUL email: 400, never a 500.
    app.post(
        "/demo/login",
        &token,
        json!({"email": "a\u{0}@example.com", "password": "x"}),
    )
    .await
    .error(400, "InvalidInput");
    app.post(
        "/demo/customers/password-token",
        &token,
        json!({"email": "a\u{0}@example.com"}),
    )
    .await
    .error(400, "InvalidInput");
    // In a where literal, a var value, sort or expand: 400 naming the parameter.
    for query in [
        "where=email%20%3D%20%22a%00b%22",
        "where=email%20%3D%20%3Ae&var.e=a%00b",
        "sort=email%00%20asc",
    ] {
        let r = app.get(&format!("/demo/customers?{query}"), &token).await;
        let e = r.error(400, "InvalidInput");
        assert!(message(e).contains("Malformed parameter"), "{query}: {e}");
    }
    // In a key or id in the path: simply not found.
    for path in [
        "/demo/customers/key=a%00b",
        "/demo/customer-groups/key=a%00b",
        "/demo/stores/key=a%00b",
        "/demo/types/key=a%00b",
        "/demo/in-store/key=a%00b/customers",
    ] {
        app.get(path, &token).await.error(404, "ResourceNotFound");
    }
    assert_eq!(app.head("/demo/customers/key=a%00b", &token).await, 404);
    // OAuth: a NUL in the username is an unknown customer.
    let (id, secret) = app.api_client("manage_project:demo").await;
    let r = app
        .http
        .post(format!("{}/oauth/demo/customers/token", app.base))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "a\u{0}@example.com"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_customer_account_credentials");
    // A password or email longer than any that can be set: unknown credentials, no 500.
    let long = "p".repeat(1_000_000);
    for (username, password) in [("a@example.com", long.as_str()), (long.as_str(), "x")] {
        let r = app
            .http
            .post(format!("{}/oauth/demo/customers/token", app.base))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_customer_account_credentials");
    }
    let r = app
        .http
        .post(format!("{}/oauth/token", app.base))
        .basic_auth("a\u{0}b", Some("x"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn many_where_parameters_get_an_answer_or_a_complexity_error() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "a@example.com", json!({"firstName": "Ann"}))
        .await;
    let one = "where=firstName%20%3D%20%22Ann%22";
    // Many within the limit: the right answer.
    let query = vec![one; 200].join("&");
    let r = app.get(&format!("/demo/customers?{query}"), &token).await;
    assert_eq!(r.ok(200)["results"][0]["id"], c["id"]);
    let wide = format!(
        "where={}",
        vec!["firstName%20%3D%20%22Bob%22"; 150].join("%20or%20")
    );
    let query = [wide.as_str(); 3].join("&");
    let r = app.get(&format!("/demo/customers?{query}"), &token).await;
    assert_eq!(r.ok(200)["count"], 0);
    // A thousand: 400 QueryComplexityLimitExceeded, never 500.
    let query = vec![one; 1_000].join("&");
    let r = app.get(&format!("/demo/customers?{query}"), &token).await;
    r.error(400, "QueryComplexityLimitExceeded");
    let r = app
        .request(
            reqwest::Method::HEAD,
            &format!("/demo/customers?{query}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
}
