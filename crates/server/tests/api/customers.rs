//! Customer CRUD through HTTP: create (whole draft, passwords, uniqueness), get and HEAD by id
//! and key, delete (version, dataErasure), and the collection query with paging.

use crate::helpers::spawn_app;
use serde_json::{json, Value};

#[tokio::test]
async fn create_returns_201_with_the_customer_as_commercetools_shows_it() {
    let app = spawn_app().await;
    let token = app.token("manage_customers:demo").await;
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({
                "email": "Jane.Doe@Example.com",
                "password": "s3cret-Passw0rd",
                "key": "jane-1",
                "customerNumber": "C-1",
                "externalId": "ext-1",
                "firstName": "Jane",
                "lastName": "Doe",
                "middleName": "Q",
                "title": "Dr.",
                "salutation": "Dear",
                "dateOfBirth": "1990-02-03",
                "companyName": "Acme",
                "vatId": "DE123",
                "locale": "de",
                "isEmailVerified": true,
                "addresses": [
                    {"key": "home", "country": "DE", "city": "Berlin"},
                    {"key": "work", "country": "US", "city": "Boston"}
                ],
                "defaultShippingAddress": 0,
                "billingAddresses": [1],
                "defaultBillingAddress": 1
            }),
        )
        .await;
    let c = &r.ok(201)["customer"];
    let id = c["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(c["version"], 1);
    assert_eq!(c["email"], "Jane.Doe@Example.com", "email keeps its case");
    assert_eq!(c["key"], "jane-1");
    assert_eq!(c["customerNumber"], "C-1");
    assert_eq!(c["externalId"], "ext-1");
    assert_eq!(c["firstName"], "Jane");
    assert_eq!(c["middleName"], "Q");
    assert_eq!(c["dateOfBirth"], "1990-02-03");
    assert_eq!(c["locale"], "de");
    assert_eq!(c["isEmailVerified"], true);
    assert_eq!(c["authenticationMode"], "Password");
    assert_eq!(c["createdAt"], "2023-11-14T22:13:20.000Z");
    assert_eq!(c["lastModifiedAt"], c["createdAt"]);
    assert_eq!(c["createdBy"]["isPlatformClient"], false);
    assert!(c["createdBy"]["clientId"].is_string());
    assert_eq!(c["lastModifiedBy"], c["createdBy"]);
    let addresses = c["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 2);
    let home = addresses[0]["id"].as_str().unwrap();
    let work = addresses[1]["id"].as_str().unwrap();
    assert_eq!(c["defaultShippingAddressId"], home);
    assert_eq!(c["shippingAddressIds"], json!([home]));
    assert_eq!(c["defaultBillingAddressId"], work);
    assert_eq!(c["billingAddressIds"], json!([work]));
    assert_eq!(c["customerGroupAssignments"], json!([]));
    assert_eq!(c["stores"], json!([]));
    // The password is never shown in clear nor as its hash.
    let masked = c["password"].as_str().unwrap();
    assert!(masked.starts_with("****"), "{masked}");
    assert!(!r.text.contains("s3cret-Passw0rd"));
    assert!(!r.text.contains("argon2"));
    // GET shows the same customer.
    let got = app.get(&format!("/demo/customers/{id}"), &token).await;
    assert_eq!(got.ok(200), c);
}

#[tokio::test]
async fn required_arrays_are_present_on_a_minimal_customer() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "min@example.com", json!({}))
        .await;
    for field in [
        "addresses",
        "shippingAddressIds",
        "billingAddressIds",
        "customerGroupAssignments",
        "stores",
    ] {
        assert_eq!(c[field], json!([]), "{field}");
    }
    assert_eq!(c["isEmailVerified"], false);
    assert_eq!(c["authenticationMode"], "ExternalAuth");
    assert!(
        c.get("password").is_none(),
        "ExternalAuth customers have no password"
    );
    assert!(c.get("key").is_none());
}

#[tokio::test]
async fn password_mode_requires_a_password() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let r = app
        .post("/demo/customers", &token, json!({"email": "a@example.com"}))
        .await;
    assert_eq!(r.error(400, "RequiredField")["field"], "password");
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "a@example.com", "password": ""}),
        )
        .await;
    r.error(400, "RequiredField");
    assert_eq!(app.customer_total(&token).await, 0);
}

#[tokio::test]
async fn duplicate_email_is_rejected_case_insensitively() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.external_customer(&token, "Dup@Example.com", json!({}))
        .await;
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "dup@EXAMPLE.com", "authenticationMode": "ExternalAuth"}),
        )
        .await;
    let e = r.error(400, "DuplicateField");
    assert_eq!(e["field"], "email");
    assert_eq!(e["duplicateValue"], "dup@EXAMPLE.com");
    assert_eq!(
        e["message"],
        "There is already an existing customer with the provided email."
    );
    assert_eq!(app.customer_total(&token).await, 1);
}

#[tokio::test]
async fn duplicate_key_and_customer_number_are_rejected() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.external_customer(
        &token,
        "one@example.com",
        json!({"key": "k-1", "customerNumber": "N-1"}),
    )
    .await;
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "two@example.com", "authenticationMode": "ExternalAuth", "key": "k-1"}),
        )
        .await;
    let e = r.error(400, "DuplicateField");
    assert_eq!(e["field"], "key");
    assert_eq!(e["duplicateValue"], "k-1");
    assert_eq!(
        e["message"],
        "A duplicate value '\"k-1\"' exists for field 'key'."
    );
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "two@example.com", "authenticationMode": "ExternalAuth", "customerNumber": "N-1"}),
        )
        .await;
    let e = r.error(400, "DuplicateField");
    assert_eq!(e["field"], "customerNumber");
    assert_eq!(e["duplicateValue"], "N-1");
    assert_eq!(app.customer_total(&token).await, 1);
}

#[tokio::test]
async fn invalid_key_email_and_locale_are_rejected() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for key in ["a", "has space", "ümlaut", &"x".repeat(257)] {
        let r = app
            .post(
                "/demo/customers",
                &token,
                json!({"email": "k@example.com", "authenticationMode": "ExternalAuth", "key": key}),
            )
            .await;
        r.error(400, "InvalidInput");
    }
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "  ", "authenticationMode": "ExternalAuth"}),
        )
        .await;
    r.error(400, "InvalidInput");
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "l@example.com", "authenticationMode": "ExternalAuth", "locale": "fr"}),
        )
        .await;
    let e = r.error(400, "InvalidField");
    assert_eq!(e["field"], "locale");
    assert_eq!(e["invalidValue"], "fr");
    assert_eq!(e["allowedValues"], json!(["en", "de"]));
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "i@example.com", "authenticationMode": "ExternalAuth",
                   "addresses": [{"country": "DE"}], "defaultShippingAddress": 3}),
        )
        .await;
    r.error(400, "InvalidOperation");
    assert_eq!(app.customer_total(&token).await, 0);
}

#[tokio::test]
async fn drafts_naming_missing_stores_or_carts_answer_400() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "s@example.com", "authenticationMode": "ExternalAuth",
                   "stores": [{"typeId": "store", "key": "eu"}]}),
        )
        .await;
    assert_eq!(
        r.error(400, "ReferencedResourceNotFound")["typeId"],
        "store"
    );
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "s@example.com", "authenticationMode": "ExternalAuth",
                   "anonymousCart": {"typeId": "cart", "id": "c-1"}}),
        )
        .await;
    let e = r.error(400, "ReferencedResourceNotFound");
    assert_eq!(e["typeId"], "cart");
    // A typeId that is not `cart` is a malformed identifier, as for every other reference.
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "s@example.com", "authenticationMode": "ExternalAuth",
                   "anonymousCart": {"typeId": "customer", "id": "c-1"}}),
        )
        .await;
    assert_eq!(
        r.error(400, "InvalidJsonInput")["detailedErrorMessage"],
        "The typeId 'customer' does not match the expected typeId 'cart'."
    );
}

#[tokio::test]
async fn get_and_head_by_id_and_key() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "g@example.com", json!({"key": "g-key"}))
        .await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/demo/customers/{id}"), &token)
            .await
            .ok(200)["id"],
        id
    );
    assert_eq!(
        app.get("/demo/customers/key=g-key", &token).await.ok(200)["id"],
        id
    );
    assert_eq!(
        app.head(&format!("/demo/customers/{id}"), &token).await,
        200
    );
    assert_eq!(app.head("/demo/customers/key=g-key", &token).await, 200);

    let unknown = "00000000-0000-4000-8000-000000000000";
    let r = app.get(&format!("/demo/customers/{unknown}"), &token).await;
    assert_eq!(
        r.error(404, "ResourceNotFound")["message"],
        format!("The Resource with ID '{unknown}' was not found.")
    );
    let r = app.get("/demo/customers/key=nope", &token).await;
    assert_eq!(
        r.error(404, "ResourceNotFound")["message"],
        "The Resource with key 'nope' was not found."
    );
    assert_eq!(
        app.head(&format!("/demo/customers/{unknown}"), &token)
            .await,
        404
    );
    assert_eq!(app.head("/demo/customers/key=nope", &token).await, 404);
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_is_simply_not_found() {
    let app = spawn_app().await;
    let token = app.admin().await;
    // `/customers/password` takes POST (change password, see credentials.rs); its other
    // methods are still lookups of a customer that cannot exist.
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = app
            .request(
                method,
                "/demo/customers/password?version=1",
                Some(&token),
                None,
            )
            .await;
        r.error(404, "ResourceNotFound");
    }
    assert_eq!(app.head("/demo/customers/password", &token).await, 404);
    for path in [
        "/demo/customers/not-a-uuid",
        "/demo/customers/email-token=abc",
        "/demo/customers/%27%20OR%201=1",
    ] {
        app.get(path, &token).await.error(404, "ResourceNotFound");
        assert_eq!(app.head(path, &token).await, 404);
        let r = app
            .post(path, &token, json!({"version": 1, "actions": []}))
            .await;
        r.error(404, "ResourceNotFound");
        // Not found wins over a body that is not even JSON.
        let r = app
            .request_raw(reqwest::Method::POST, path, &token, "{nope".to_owned())
            .await;
        r.error(404, "ResourceNotFound");
        let r = app.delete(&format!("{path}?version=1"), &token).await;
        r.error(404, "ResourceNotFound");
    }
}

#[tokio::test]
async fn delete_by_id_returns_the_customer_as_it_was() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "d@example.com", json!({"firstName": "D"}))
        .await;
    let id = c["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/demo/customers/{id}?version=1"), &token)
        .await;
    assert_eq!(r.ok(200), &c);
    app.get(&format!("/demo/customers/{id}"), &token)
        .await
        .error(404, "ResourceNotFound");
    assert_eq!(
        app.head(&format!("/demo/customers/{id}"), &token).await,
        404
    );
    // The email is free again.
    app.external_customer(&token, "d@example.com", json!({}))
        .await;
}

#[tokio::test]
async fn delete_by_key_with_data_erasure_in_any_case() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "e@example.com", json!({"key": "erase-me"}))
        .await;
    let r = app
        .delete(
            "/demo/customers/key=erase-me?version=1&dataErasure=TRUE",
            &token,
        )
        .await;
    assert_eq!(r.ok(200)["id"], c["id"]);
    app.get("/demo/customers/key=erase-me", &token)
        .await
        .error(404, "ResourceNotFound");
    let c = app
        .external_customer(&token, "f@example.com", json!({"key": "keep-me"}))
        .await;
    let r = app
        .delete(
            "/demo/customers/key=keep-me?version=1&dataErasure=False",
            &token,
        )
        .await;
    assert_eq!(r.ok(200)["id"], c["id"]);
}

#[tokio::test]
async fn delete_requires_a_matching_integer_version() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "v@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    let path = format!("/demo/customers/{id}");
    app.delete(&path, &token).await.error(400, "InvalidInput");
    app.delete(&format!("{path}?version=abc"), &token)
        .await
        .error(400, "InvalidInput");
    app.delete(&format!("{path}?version=1&dataErasure=yes"), &token)
        .await
        .error(400, "InvalidInput");
    let r = app.delete(&format!("{path}?version=2"), &token).await;
    let e = r.error(409, "ConcurrentModification");
    assert_eq!(e["currentVersion"], 1);
    assert_eq!(
        e["message"],
        format!("Object {id} has a different version than expected. Expected: 2 - Actual: 1.")
    );
    assert_eq!(app.get(&path, &token).await.status, 200, "still there");
    app.delete("/demo/customers/key=nope?version=1", &token)
        .await
        .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn query_pages_with_limit_offset_and_total() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        // Distinct creation times make the default order (createdAt) deterministic.
        app.clock.advance(time::Duration::seconds(1));
        let c = app
            .external_customer(&token, &format!("q{i}@example.com"), json!({}))
            .await;
        ids.push(c["id"].clone());
    }
    let r = app.get("/demo/customers", &token).await;
    let body = r.ok(200);
    assert_eq!(body["limit"], 20);
    assert_eq!(body["offset"], 0);
    assert_eq!(body["count"], 5);
    assert_eq!(body["total"], 5);
    let got: Vec<Value> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(got, ids);

    let r = app.get("/demo/customers?limit=2&offset=1", &token).await;
    let body = r.ok(200);
    assert_eq!(body["limit"], 2);
    assert_eq!(body["offset"], 1);
    assert_eq!(body["count"], 2);
    assert_eq!(body["total"], 5);
    assert_eq!(body["results"][0]["id"], ids[1]);
    assert_eq!(body["results"][1]["id"], ids[2]);

    let r = app.get("/demo/customers?limit=0", &token).await;
    assert_eq!(r.ok(200)["count"], 0);
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["results"], json!([]));

    for flag in ["false", "FALSE", "False"] {
        let r = app
            .get(&format!("/demo/customers?withTotal={flag}"), &token)
            .await;
        assert!(r.ok(200).get("total").is_none(), "withTotal={flag}");
        assert_eq!(r.body["count"], 5);
    }
    let r = app.get("/demo/customers?withTotal=TRUE", &token).await;
    assert_eq!(r.ok(200)["total"], 5);

    let r = app.get("/demo/customers?offset=10000", &token).await;
    assert_eq!(r.ok(200)["count"], 0);
    let r = app.get("/demo/customers?limit=500", &token).await;
    assert_eq!(r.ok(200)["limit"], 500);
}

#[tokio::test]
async fn query_rejects_bad_paging_parameters() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for q in [
        "limit=501",
        "limit=-1",
        "limit=ten",
        "offset=10001",
        "offset=-5",
        "withTotal=maybe",
    ] {
        let r = app.get(&format!("/demo/customers?{q}"), &token).await;
        r.error(400, "InvalidInput");
    }
}

#[tokio::test]
async fn where_sort_and_expand_are_never_ignored() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "w@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    // Malformed or unknown either way: 400 before and after the query language lands.
    for q in [
        "where=email%20%3D",
        "where=noSuchField%20%3D%20%22x%22",
        "sort=noSuchField%20asc",
        "expand=a..b",
        "expand=addresses%5B0%5D",
    ] {
        let r = app.get(&format!("/demo/customers?{q}"), &token).await;
        r.error(400, "InvalidInput");
    }
    app.get(&format!("/demo/customers/{id}?expand=%20"), &token)
        .await
        .error(400, "InvalidInput");
    let r = app
        .request(
            reqwest::Method::HEAD,
            "/demo/customers?where=email%20%3D",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn head_on_the_collection_tells_whether_any_customer_exists() {
    let app = spawn_app().await;
    let token = app.admin().await;
    assert_eq!(app.head("/demo/customers", &token).await, 404);
    app.external_customer(&token, "h@example.com", json!({}))
        .await;
    assert_eq!(app.head("/demo/customers", &token).await, 200);
}

#[tokio::test]
async fn where_and_sort_filter_and_order_the_collection() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for (email, name) in [
        ("b@example.com", "B"),
        ("a@example.com", "A"),
        ("C@Example.com", "C"),
    ] {
        app.external_customer(&token, email, json!({"firstName": name}))
            .await;
    }
    let r = app
        .get("/demo/customers?where=firstName%20%3D%20%22A%22", &token)
        .await;
    let body = r.ok(200);
    assert_eq!(body["total"], 1);
    assert_eq!(body["results"][0]["email"], "a@example.com");
    let r = app
        .get(
            "/demo/customers?where=lowercaseEmail%20%3D%20%3Ae&var.e=c%40example.com",
            &token,
        )
        .await;
    assert_eq!(r.ok(200)["results"][0]["firstName"], "C");
    let r = app
        .get("/demo/customers?sort=firstName%20desc", &token)
        .await;
    let names: Vec<Value> = r.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["firstName"].clone())
        .collect();
    assert_eq!(names, vec![json!("C"), json!("B"), json!("A")]);
    let found = "/demo/customers?where=firstName%20%3D%20%22B%22";
    let missing = "/demo/customers?where=firstName%20%3D%20%22Z%22";
    assert_eq!(app.head(found, &token).await, 200);
    assert_eq!(app.head(missing, &token).await, 404);
}

#[tokio::test]
async fn expansion_paths_that_lead_nowhere_are_ignored() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let r = app
        .post(
            "/demo/customers?expand=customer.customerGroup",
            &token,
            json!({"email": "x@example.com", "authenticationMode": "ExternalAuth"}),
        )
        .await;
    let c = r.ok(201)["customer"].clone();
    let id = c["id"].as_str().unwrap();
    let path = format!("/demo/customers/{id}");
    for q in [
        "customerGroup",
        "customerGroupAssignments[*].customerGroup",
        "custom.type",
    ] {
        let r = app.get(&format!("{path}?expand={q}"), &token).await;
        assert_eq!(r.ok(200), &c, "{q}");
    }
    let r = app
        .get("/demo/customers?expand=customerGroup", &token)
        .await;
    assert_eq!(r.ok(200)["results"][0], c);
    let r = app.update(&token, id, &json!(1), json!([])).await;
    r.ok(200);
    let r = app
        .delete(&format!("{path}?version=1&expand=customerGroup"), &token)
        .await;
    assert_eq!(r.ok(200), &c);
}
