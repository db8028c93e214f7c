//! Customer Search through HTTP: `POST|HEAD /{p}/customers/search` and
//! `GET /{p}/customers/search/indexing-status` — readiness before and after activation, every
//! expression kind over each field group (names, email, addresses, stores, customer group,
//! dates, booleans, custom fields), relevance and field sorting, paging and `total`, strict
//! input errors, scopes, and read-your-writes after create, update and delete.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

/// Switches Customer Search on or off for `demo`.
async fn switch(app: &TestApp, token: &str, status: &str) {
    let version = app.get("/demo", token).await.ok(200)["version"].clone();
    app.post(
        "/demo",
        token,
        json!({"version": version,
               "actions": [{"action": "changeCustomerSearchStatus", "status": status}]}),
    )
    .await
    .ok(200);
}

/// The ids of a search, in response order.
async fn ids(app: &TestApp, token: &str, body: Value) -> Vec<String> {
    let r = app.post("/demo/customers/search", token, body).await;
    r.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Ids of `q`, sorted (for tests of which customers match, not their order).
async fn matching(app: &TestApp, token: &str, q: Value) -> Vec<String> {
    let mut found = ids(app, token, json!({"query": q, "limit": 100})).await;
    found.sort();
    found
}

fn sorted(mut v: Vec<&str>) -> Vec<String> {
    v.sort();
    v.into_iter().map(str::to_owned).collect()
}

/// Three customers with distinct names, emails, addresses, store, group and dates.
struct People {
    john: String,
    jane: String,
    max: String,
}

async fn people(app: &TestApp, token: &str) -> People {
    app.post("/demo/stores", token, json!({"key": "luxury"}))
        .await
        .ok(201);
    let group = app
        .post(
            "/demo/customer-groups",
            token,
            json!({"key": "vip", "groupName": "VIP"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let john = app
        .external_customer(
            token,
            "John.Doe@example.com",
            json!({"firstName": "John", "lastName": "Mueller", "companyName": "Acme Corp",
                   "dateOfBirth": "1980-05-01", "stores": [{"key": "luxury"}],
                   "addresses": [{"country": "DE", "city": "Berlin", "streetName": "Hauptstrasse"},
                                 {"country": "FR", "city": "Paris"}]}),
        )
        .await;
    app.clock.advance(time::Duration::minutes(10));
    let jane = app
        .external_customer(
            token,
            "jane@shop.org",
            json!({"firstName": "Jane", "lastName": "Miller", "isEmailVerified": true,
                   "dateOfBirth": "1990-01-15",
                   "customerGroup": {"typeId": "customer-group", "id": group},
                   "addresses": [{"country": "US", "city": "Boston"}]}),
        )
        .await;
    app.clock.advance(time::Duration::minutes(10));
    let max = app
        .external_customer(
            token,
            "max@example.com",
            json!({"firstName": "Max", "lastName": "Mustermann", "customerNumber": "C-100"}),
        )
        .await;
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    People {
        john: id(&john),
        jane: id(&jane),
        max: id(&max),
    }
}

#[tokio::test]
async fn search_is_not_ready_until_activated_and_then_finds_existing_customers() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let p = people(&app, &token).await;
    assert_eq!(app.head("/demo/customers/search", &token).await, 409);
    let r = app.post("/demo/customers/search", &token, json!({})).await;
    let e = r.error(409, "SearchNotReady");
    assert_eq!(
        e["message"],
        "Customer Search is not ready. Check the indexing-status endpoint and that the feature has been activated in the project settings."
    );
    app.get("/demo/customers/search/indexing-status", &token)
        .await
        .error(409, "SearchNotReady");

    // Customers written while search was off are indexed on activation, in the background.
    switch(&app, &token, "Activated").await;
    let mut status = Value::Null;
    for _ in 0..200 {
        status = app
            .get("/demo/customers/search/indexing-status", &token)
            .await
            .ok(200)
            .clone();
        if status["status"] == "Ready" {
            break;
        }
        assert_eq!(status["status"], "Indexing", "{status}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["status"], "Ready");
    assert_eq!(app.head("/demo/customers/search", &token).await, 200);
    assert!(status["startedAt"].is_string());
    let r = app
        .post("/demo/customers/search", &token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(r["total"], 3);
    assert_eq!(r["limit"], 20);
    assert_eq!(r["offset"], 0);
    let found: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, sorted(vec![&p.john, &p.jane, &p.max]));
    assert_eq!(r["results"][0]["relevance"], 1.0);

    switch(&app, &token, "Deactivated").await;
    assert_eq!(app.head("/demo/customers/search", &token).await, 409);
    app.post("/demo/customers/search", &token, json!({}))
        .await
        .error(409, "SearchNotReady");
}

#[tokio::test]
async fn every_expression_kind_matches_the_customers_it_describes() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    let p = people(&app, &token).await;
    let (john, jane, max) = (p.john.as_str(), p.jane.as_str(), p.max.as_str());
    let cases: Vec<(Value, Vec<&str>)> = vec![
        // exact: value, values, caseInsensitive, booleans, dates
        (
            json!({"exact": {"field": "firstName", "value": "John"}}),
            vec![john],
        ),
        (
            json!({"exact": {"field": "firstName", "value": "john"}}),
            vec![],
        ),
        (
            json!({"exact": {"field": "firstName", "value": "john", "caseInsensitive": true}}),
            vec![john],
        ),
        (
            json!({"exact": {"field": "firstName", "values": ["Jane", "Max", "Nobody"]}}),
            vec![jane, max],
        ),
        (
            json!({"exact": {"field": "isEmailVerified", "value": true}}),
            vec![jane],
        ),
        (
            json!({"exact": {"field": "customerNumber", "value": "C-100"}}),
            vec![max],
        ),
        (
            json!({"exact": {"field": "dateOfBirth", "value": "1990-01-15"}}),
            vec![jane],
        ),
        // references and multi-valued fields
        (
            json!({"exact": {"field": "stores.key", "value": "luxury"}}),
            vec![john],
        ),
        (json!({"exists": {"field": "customerGroup.id"}}), vec![jane]),
        (
            json!({"not": [{"exists": {"field": "customerGroup.id"}}]}),
            vec![john, max],
        ),
        (
            json!({"exact": {"field": "addresses.country", "value": "FR"}}),
            vec![john],
        ),
        (
            json!({"exact": {"field": "addresses.city", "values": ["Boston", "Berlin"]}}),
            vec![john, jane],
        ),
        (
            json!({"exists": {"field": "addresses.city"}}),
            vec![john, jane],
        ),
        // prefix and wildcard
        (
            json!({"prefix": {"field": "email", "value": "John."}}),
            vec![john],
        ),
        (
            json!({"prefix": {"field": "email", "value": "john."}}),
            vec![],
        ),
        (
            json!({"prefix": {"field": "email", "value": "JOHN.", "caseInsensitive": true}}),
            vec![john],
        ),
        (
            json!({"wildcard": {"field": "email", "value": "*@example.com"}}),
            vec![john, max],
        ),
        (
            json!({"wildcard": {"field": "email", "value": "*@EXAMPLE.com"}}),
            vec![],
        ),
        (
            json!({"wildcard": {"field": "email", "value": "*@EXAMPLE.com", "caseInsensitive": true}}),
            vec![john, max],
        ),
        (
            json!({"wildcard": {"field": "lastName", "value": "M?ller"}}),
            vec![jane],
        ),
        (
            json!({"wildcard": {"field": "addresses.city", "value": "B*n"}}),
            vec![john, jane],
        ),
        // fullText, fullTextPrefix, the all field
        (
            json!({"fullText": {"field": "all", "value": "john"}}),
            vec![john],
        ),
        (
            json!({"fullText": {"field": "all", "value": "example"}}),
            vec![john, max],
        ),
        (
            json!({"fullText": {"field": "all", "value": "acme corp"}}),
            vec![john],
        ),
        (
            json!({"fullText": {"field": "all", "value": "jane max", "mustMatch": "any"}}),
            vec![jane, max],
        ),
        (
            json!({"fullText": {"field": "all", "value": "jane max"}}),
            vec![],
        ),
        (
            json!({"fullText": {"field": "fullName", "value": "max mustermann"}}),
            vec![max],
        ),
        (
            json!({"fullText": {"field": "addresses.streetName", "value": "HAUPTSTRASSE"}}),
            vec![john],
        ),
        (
            json!({"fullTextPrefix": {"field": "all", "value": "john mue"}}),
            vec![john],
        ),
        (
            json!({"fullTextPrefix": {"field": "lastName", "value": "mu"}}),
            vec![john, max],
        ),
        // fuzzy, with the level capped by term length
        (
            json!({"fuzzy": {"field": "lastName", "value": "Mueler", "level": 1}}),
            vec![john],
        ),
        (
            json!({"fuzzy": {"field": "lastName", "value": "Mueler", "level": 0}}),
            vec![],
        ),
        (
            json!({"fuzzy": {"field": "lastName", "value": "Mieller", "level": 2}}),
            vec![john, jane],
        ),
        (
            json!({"fuzzy": {"field": "firstName", "value": "Jon", "level": 2}}),
            vec![john],
        ),
        // range on datetimes and dates
        (
            json!({"range": {"field": "dateOfBirth", "gte": "1985-01-01"}}),
            vec![jane],
        ),
        (
            json!({"range": {"field": "createdAt", "gt": "2023-11-14T22:15:00.000Z"}}),
            vec![jane, max],
        ),
        (
            json!({"range": {"field": "createdAt", "gte": "2023-11-14T22:23:20Z", "lt": "2023-11-14T22:33:20.000Z"}}),
            vec![jane],
        ),
        // compounds
        (
            json!({"and": [{"exact": {"field": "addresses.country", "value": "DE"}},
                           {"prefix": {"field": "email", "value": "John"}}]}),
            vec![john],
        ),
        (
            json!({"or": [{"exact": {"field": "firstName", "value": "Max"}},
                          {"exact": {"field": "isEmailVerified", "value": true}}]}),
            vec![jane, max],
        ),
        (
            json!({"filter": [{"wildcard": {"field": "email", "value": "*example*"}}]}),
            vec![john, max],
        ),
        (
            json!({"not": [{"exact": {"field": "firstName", "value": "Max"}},
                           {"exact": {"field": "firstName", "value": "Jane"}}]}),
            vec![john],
        ),
    ];
    for (q, want) in cases {
        assert_eq!(
            matching(&app, &token, q.clone()).await,
            sorted(want),
            "query {q}"
        );
    }
}

#[tokio::test]
async fn relevance_orders_by_default_and_sort_orders_by_fields_and_score() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    let p = people(&app, &token).await;
    let (john, jane, max) = (p.john.clone(), p.jane.clone(), p.max.clone());
    // More matched terms and boosts rank higher.
    let q = json!({"or": [
        {"fullText": {"field": "all", "value": "john jane max example", "mustMatch": "any"}},
        {"exact": {"field": "firstName", "value": "Jane", "boost": 5.0}}]});
    let r = app
        .post("/demo/customers/search", &token, json!({"query": q}))
        .await
        .ok(200)
        .clone();
    let found: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(found[0], jane, "boosted exact match first: {r}");
    assert_eq!(r["results"][0]["relevance"], 6.0);
    assert_eq!(r["results"][1]["relevance"], 2.0);
    // john and max both score 2 (name + example): tie broken by id
    let mut tied = vec![john.clone(), max.clone()];
    tied.sort();
    assert_eq!(found[1..].to_vec(), tied);

    let by = |sort: Value| json!({"sort": sort});
    assert_eq!(
        ids(
            &app,
            &token,
            by(json!([{"field": "createdAt", "order": "desc"}]))
        )
        .await,
        vec![max.clone(), jane.clone(), john.clone()]
    );
    assert_eq!(
        ids(
            &app,
            &token,
            by(json!([{"field": "lastName", "order": "asc"}]))
        )
        .await,
        vec![jane.clone(), john.clone(), max.clone()]
    );
    // Missing values (max has no address) come last in both directions; mode picks the value.
    assert_eq!(
        ids(
            &app,
            &token,
            by(json!([{"field": "addresses.city", "order": "asc"}]))
        )
        .await,
        vec![john.clone(), jane.clone(), max.clone()]
    );
    assert_eq!(
        ids(
            &app,
            &token,
            by(json!([{"field": "addresses.city", "order": "desc", "mode": "min"}]))
        )
        .await,
        vec![jane.clone(), john.clone(), max.clone()]
    );
    assert_eq!(
        ids(
            &app,
            &token,
            by(json!([{"field": "addresses.city", "order": "desc"}]))
        )
        .await,
        vec![john.clone(), jane.clone(), max.clone()]
    );
    // Paging walks the same order; total counts every match.
    let page = app
        .post(
            "/demo/customers/search",
            &token,
            json!({"sort": [{"field": "createdAt", "order": "asc"}], "limit": 2, "offset": 1}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(page["total"], 3);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 1);
    assert_eq!(page["results"][0]["id"], jane.as_str());
    assert_eq!(page["results"][1]["id"], max.as_str());
}

#[tokio::test]
async fn custom_fields_are_searched_with_their_field_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    let def = |name: &str, ty: Value| json!({"name": name, "label": {"en": name}, "required": false, "type": ty});
    app.post(
        "/demo/types",
        &token,
        json!({"key": "loyalty", "name": {"en": "loyalty"}, "resourceTypeIds": ["customer"],
               "fieldDefinitions": [
                   def("tier", json!({"name": "Enum", "values": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]})),
                   def("points", json!({"name": "Number"})),
                   def("tags", json!({"name": "Set", "elementType": {"name": "String"}})),
                   def("scores", json!({"name": "Set", "elementType": {"name": "Number"}}))]}),
    )
    .await
    .ok(201);
    let member = |email: &'static str, fields: Value| {
        let app = &app;
        let token = &token;
        async move {
            app.external_customer(
                token,
                email,
                json!({"custom": {"type": {"key": "loyalty"}, "fields": fields}}),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let gold = member(
        "gold@x.com",
        json!({"tier": "gold", "points": 120, "tags": ["early bird", "vip"]}),
    )
    .await;
    let silver = member("silver@x.com", json!({"tier": "silver", "points": 40})).await;
    assert_eq!(
        matching(
            &app,
            &token,
            json!({"exact": {"field": "custom.tier", "fieldType": "enum", "value": "gold"}})
        )
        .await,
        vec![gold.clone()]
    );
    assert_eq!(
        matching(&app, &token, json!({"range": {"field": "custom.points", "fieldType": "number", "gte": 40, "lt": 100}})).await,
        vec![silver.clone()]
    );
    assert_eq!(
        matching(
            &app,
            &token,
            json!({"fullText": {"field": "custom.tags", "fieldType": "set_text", "value": "bird"}})
        )
        .await,
        vec![gold.clone()]
    );
    assert_eq!(
        ids(
            &app,
            &token,
            json!({"sort": [{"field": "custom.points", "fieldType": "number", "order": "desc"}]})
        )
        .await,
        vec![gold.clone(), silver.clone()]
    );
    // A number repeated in a set counts once per element when sorting by sum, also after an
    // update that only adds another copy: 3 × 50 = 150 sorts above 120.
    let single = member("single@x.com", json!({"scores": [120]})).await;
    let repeated = member("repeated@x.com", json!({"scores": [50, 50]})).await;
    app.post(
        &format!("/demo/customers/{repeated}"),
        &token,
        json!({"version": 1, "actions": [{"action": "setCustomField", "name": "scores", "value": [50, 50, 50]}]}),
    )
    .await
    .ok(200);
    let by_sum = |order: &str| {
        json!({"query": {"exists": {"field": "custom.scores", "fieldType": "set_number"}},
               "sort": [{"field": "custom.scores", "fieldType": "set_number", "order": order, "mode": "sum"}]})
    };
    assert_eq!(
        ids(&app, &token, by_sum("desc")).await,
        vec![repeated.clone(), single.clone()]
    );
    assert_eq!(
        ids(&app, &token, by_sum("asc")).await,
        vec![single.clone(), repeated.clone()]
    );
    // Without fieldType a custom field cannot be typed.
    let e = app
        .post(
            "/demo/customers/search",
            &token,
            json!({"query": {"exact": {"field": "custom.tier", "value": "gold"}}}),
        )
        .await;
    let e = e.error(400, "InvalidInput");
    assert!(e["message"].as_str().unwrap().contains("fieldType"), "{e}");
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_problem() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    let long = "x".repeat(257);
    let many: Vec<Value> = (0..50)
        .map(|i| json!({"exact": {"field": "key", "value": format!("k{i}")}}))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"limit": 200}),
            "Invalid limit. It may be a number between 1 and 100.",
        ),
        (json!({"limit": 0}), "Invalid limit"),
        (
            json!({"offset": 9901}),
            "Invalid offset. It may be a number between 0 and 9900.",
        ),
        (json!({"offset": "1"}), "Invalid offset"),
        (json!({"where": "x"}), "Unknown field 'where'"),
        (
            json!({"query": {"exact": {"field": "nickname", "value": "x"}}}),
            "'nickname' is not a searchable",
        ),
        (
            json!({"query": {"exact": {"field": "isEmailVerified", "value": "yes"}}}),
            "expects a boolean",
        ),
        (
            json!({"query": {"range": {"field": "createdAt", "gte": "yesterday"}}}),
            "is not a datetime",
        ),
        (
            json!({"query": {"exact": {"field": "email", "value": long}}}),
            "at most 256 characters",
        ),
        (json!({"query": {"or": many}}), "too many expressions"),
        (
            json!({"query": {"exact": {"field": "key", "value": "a"}, "prefix": {"field": "key", "value": "a"}}}),
            "exactly one key",
        ),
        (
            json!({"query": {"fuzzy": {"field": "lastName", "value": "a", "level": 3}}}),
            "level",
        ),
        (
            json!({"query": {"match": {"field": "key", "value": "a"}}}),
            "Unknown expression 'match'",
        ),
        (
            json!({"query": {"exact": {"field": "key", "value": "a", "color": 1}}}),
            "Unknown field 'color'",
        ),
        (json!({"query": {"and": []}}), "non-empty array"),
        (
            json!({"query": {"fullText": {"field": "id", "value": "a"}}}),
            "does not support fullText",
        ),
        (
            json!({"query": {"range": {"field": "lastName", "gte": "a"}}}),
            "does not support range",
        ),
        (
            json!({"query": {"exact": {"field": "key"}}}),
            "exactly one of 'value' and 'values'",
        ),
        (json!({"sort": [{"field": "lastName"}]}), "order"),
        (
            json!({"sort": [{"field": "lastName", "order": "asc", "mode": "avg"}]}),
            "avg and sum",
        ),
        // A boost that would overflow the relevance sum, and more sort keys than allowed.
        (
            json!({"query": {"fullText": {"field": "all", "value": "a b", "boost": 1e308}}}),
            "boost: it must be a positive number of at most",
        ),
        (
            json!({"sort": vec![json!({"field": "email", "order": "asc"}); 11]}),
            "at most 10 SearchSorting entries",
        ),
        (
            json!({"sort": [{"field": "custom.tier", "order": "asc", "fieldType": 5}]}),
            "fieldType: it must be a string",
        ),
    ];
    for (body, message) in cases {
        let r = app
            .post("/demo/customers/search", &token, body.clone())
            .await;
        let e = r.error(400, "InvalidInput");
        assert!(
            e["message"].as_str().unwrap().contains(message),
            "{body}: {}",
            e["message"]
        );
    }
    let r = app
        .request_raw(
            reqwest::Method::POST,
            "/demo/customers/search",
            &token,
            "{not json".to_owned(),
        )
        .await;
    r.error(400, "InvalidJsonInput");
}

#[tokio::test]
async fn scopes_guard_search_and_indexing_status() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    switch(&app, &admin, "Activated").await;
    let viewer = app.token("view_customers:demo").await;
    app.post("/demo/customers/search", &viewer, json!({}))
        .await
        .ok(200);
    assert_eq!(app.head("/demo/customers/search", &viewer).await, 200);
    app.get("/demo/customers/search/indexing-status", &viewer)
        .await
        .error(403, "insufficient_scope");
    let settings = app.token("view_project_settings:demo").await;
    app.get("/demo/customers/search/indexing-status", &settings)
        .await
        .ok(200);
    app.post("/demo/customers/search", &settings, json!({}))
        .await
        .error(403, "insufficient_scope");
    // GET on the search path is a customer that does not exist.
    app.get("/demo/customers/search", &admin)
        .await
        .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn a_search_sees_every_acknowledged_create_update_and_delete() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    let q = json!({"fullText": {"field": "all", "value": "zebra"}});
    assert!(matching(&app, &token, q.clone()).await.is_empty());
    let c = app
        .external_customer(&token, "z@x.com", json!({"firstName": "Zebra"}))
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(matching(&app, &token, q.clone()).await, vec![id.clone()]);
    let updated = app
        .update(
            &token,
            &id,
            &c["version"],
            json!([{"action": "setFirstName", "firstName": "Okapi"}]),
        )
        .await
        .ok(200)
        .clone();
    assert!(matching(&app, &token, q.clone()).await.is_empty());
    assert_eq!(
        matching(
            &app,
            &token,
            json!({"exact": {"field": "firstName", "value": "Okapi"}})
        )
        .await,
        vec![id.clone()]
    );
    app.delete(
        &format!("/demo/customers/{id}?version={}", updated["version"]),
        &token,
    )
    .await
    .ok(200);
    assert!(matching(
        &app,
        &token,
        json!({"exact": {"field": "firstName", "value": "Okapi"}})
    )
    .await
    .is_empty());
    let r = app
        .post("/demo/customers/search", &token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(r["total"], 0);
}

/// Runs `statement` on the app's database directly.
async fn raw(app: &TestApp, statement: &str) {
    use sqlx::Connection;
    let url = app.database_url();
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
}

#[tokio::test]
async fn activation_indexes_customers_written_before_the_index_and_reports_progress() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let p = people(&app, &token).await;
    // As if written before the index existed (or seeded straight into the tables).
    raw(&app, "DELETE FROM customer_search_docs").await;
    raw(&app, "DELETE FROM customer_search_values").await;
    let version = app.get("/demo", &token).await.ok(200)["version"].clone();
    let r = app
        .post(
            "/demo",
            &token,
            json!({"version": version,
                   "actions": [{"action": "changeCustomerSearchStatus", "status": "Activated"}]}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(r["searchIndexing"]["customers"]["status"], "Indexing");
    // Until the background indexing is done: Indexing with progress, searches refused.
    let mut seen_ready = false;
    for _ in 0..100 {
        let s = app
            .get("/demo/customers/search/indexing-status", &token)
            .await
            .ok(200)
            .clone();
        match s["status"].as_str().unwrap() {
            "Indexing" => {
                assert_eq!(s["states"]["estimatedTotal"], 3, "{s}");
                assert_eq!(s["states"]["failed"], 0, "{s}");
                assert!(s["states"]["indexed"].as_u64().unwrap() <= 3, "{s}");
                let r = app.post("/demo/customers/search", &token, json!({})).await;
                let still = app
                    .get("/demo/customers/search/indexing-status", &token)
                    .await
                    .ok(200)["status"]
                    .clone();
                // Indexing before and after the search: it must have been refused.
                if still == "Indexing" {
                    r.error(409, "SearchNotReady");
                }
            }
            "Ready" => {
                seen_ready = true;
                break;
            }
            other => panic!("unexpected status {other}: {s}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen_ready, "indexing finished");
    assert_eq!(
        app.get("/demo", &token).await.ok(200)["searchIndexing"]["customers"]["status"],
        "Activated"
    );
    assert_eq!(
        matching(
            &app,
            &token,
            json!({"fullText": {"field": "all", "value": "example"}})
        )
        .await,
        sorted(vec![&p.john, &p.max])
    );
    let _ = p.jane;
}

#[tokio::test]
async fn a_customer_changed_while_search_was_off_is_found_by_its_new_values_after_reactivation() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    let p = people(&app, &token).await;
    let by_name = |name: &str| json!({"exact": {"field": "lastName", "value": name}});
    assert_eq!(
        matching(&app, &token, by_name("Mustermann")).await,
        vec![p.max.clone()]
    );
    switch(&app, &token, "Deactivated").await;
    app.post(
        &format!("/demo/customers/{}", p.max),
        &token,
        json!({"version": 1, "actions": [{"action": "setLastName", "lastName": "Musterfrau"}]}),
    )
    .await
    .ok(200);
    switch(&app, &token, "Activated").await;
    let mut ready = false;
    for _ in 0..200 {
        let s = app
            .get("/demo/customers/search/indexing-status", &token)
            .await
            .ok(200)
            .clone();
        if s["status"] == "Ready" {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "indexing finished");
    // The entries written before the deactivation were dropped, not trusted.
    assert!(matching(&app, &token, by_name("Mustermann"))
        .await
        .is_empty());
    assert_eq!(
        matching(&app, &token, by_name("Musterfrau")).await,
        vec![p.max.clone()]
    );
}

#[tokio::test]
async fn customers_with_the_longest_allowed_values_are_written_and_found_while_search_is_on() {
    let app = spawn_app().await;
    let token = app.admin().await;
    switch(&app, &token, "Activated").await;
    // 4,096 three-byte characters in no repeating order (so that PostgreSQL cannot compress
    // them): 12 kB, past its B-tree row limit (about 2.7 kB) if indexed whole.
    let long: String = (0..4_096u32)
        .map(|i| char::from_u32(0x4E00 + (i * 7_919) % 20_000).unwrap())
        .collect();
    let name: String = long.chars().take(256).collect();
    let c = app
        .external_customer(
            &token,
            "long@x.com",
            json!({"firstName": name, "addresses": [{"country": "DE", "streetName": long}]}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let prefix: String = long.chars().take(200).collect();
    assert_eq!(
        matching(
            &app,
            &token,
            json!({"prefix": {"field": "addresses.streetName", "value": prefix}})
        )
        .await,
        vec![id.clone()]
    );
    assert_eq!(
        matching(
            &app,
            &token,
            json!({"exact": {"field": "firstName", "value": name}})
        )
        .await,
        vec![id.clone()]
    );
    // A value longer than any search value can be is never equal to one.
    let first_256: String = long.chars().take(256).collect();
    assert!(matching(
        &app,
        &token,
        json!({"exact": {"field": "addresses.streetName", "value": first_256}})
    )
    .await
    .is_empty());
    let updated = app
        .update(
            &token,
            &id,
            &c["version"],
            json!([{"action": "addAddress", "address": {"country": "FR", "additionalAddressInfo": long}}]),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(updated["version"], 2);
}
