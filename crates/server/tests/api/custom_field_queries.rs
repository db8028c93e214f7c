//! Predicates and sorts over custom fields, typed by the project's Types: matches and misses for
//! each field type, type mismatches (400 with the position), `var.*` values converted to the
//! field's type, typed sorting, names two Types disagree on (untyped), fields no Type defines
//! (match nothing), HEAD, and customer groups' own custom fields.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

fn def(name: &str, ty: Value) -> Value {
    json!({"name": name, "label": {"en": name}, "required": false, "type": ty})
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn create_type(app: &TestApp, token: &str, key: &str, resource: &str, fields: Vec<Value>) {
    app.post(
        "/demo/types",
        token,
        json!({"key": key, "name": {"en": key}, "resourceTypeIds": [resource],
               "fieldDefinitions": fields}),
    )
    .await
    .ok(201);
}

/// The `loyalty` Type for customers, one field per kind of query type.
async fn loyalty_type(app: &TestApp, token: &str) {
    let tiers = json!([{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"},
                       {"key": "bronze", "label": "Bronze"}]);
    create_type(
        app,
        token,
        "loyalty",
        "customer",
        vec![
            def("loyaltyTier", json!({"name": "Enum", "values": tiers})),
            def("points", json!({"name": "Number"})),
            def("vip", json!({"name": "Boolean"})),
            def("joined", json!({"name": "Date"})),
            def("opens", json!({"name": "Time"})),
            def("lastSeen", json!({"name": "DateTime"})),
            def("nickname", json!({"name": "LocalizedString"})),
            def("budget", json!({"name": "Money"})),
            def(
                "referrer",
                json!({"name": "Reference", "referenceTypeId": "customer"}),
            ),
            def(
                "tags",
                json!({"name": "Set", "elementType": {"name": "String"}}),
            ),
            def(
                "scores",
                json!({"name": "Set", "elementType": {"name": "Number"}}),
            ),
        ],
    )
    .await;
}

/// Creates a customer with `fields` on the `loyalty` Type; returns its id.
async fn member(app: &TestApp, token: &str, email: &str, fields: Value) -> String {
    let c = app
        .external_customer(
            token,
            email,
            json!({"custom": {"type": {"key": "loyalty"}, "fields": fields}}),
        )
        .await;
    c["id"].as_str().unwrap().to_owned()
}

/// The emails of `GET /demo/customers?{query}` in response order.
async fn emails(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = app.get(&format!("/demo/customers?{query}"), token).await;
    r.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_owned())
        .collect()
}

/// The sorted emails of the customers matching predicate `p`.
async fn matching(app: &TestApp, token: &str, p: &str) -> Vec<String> {
    let mut e = emails(app, token, &format!("where={}&limit=500", urlencode(p))).await;
    e.sort();
    e
}

/// The `loyalty` Type, three members and a customer without custom fields; returns `(a, b, c)`
/// ids.
async fn setup(app: &TestApp, token: &str) -> (String, String, String) {
    loyalty_type(app, token).await;
    let a = member(
        app,
        token,
        "a@example.com",
        json!({"loyaltyTier": "gold", "points": 300, "vip": true, "joined": "2020-02-29",
               "opens": "09:00:00", "lastSeen": "2024-01-01T10:00:00.000Z",
               "nickname": {"en": "ace", "de": "Ass"},
               "budget": {"centAmount": 1250, "currencyCode": "EUR"},
               "tags": ["x", "y"], "scores": [1, 2]}),
    )
    .await;
    let b = member(
        app,
        token,
        "b@example.com",
        json!({"loyaltyTier": "silver", "points": 40, "vip": false, "joined": "2021-06-01",
               "opens": "13:30:00.5", "lastSeen": "2024-01-02T00:00:00+01:00",
               "nickname": {"en": "Zed"},
               "budget": {"centAmount": 99, "currencyCode": "EUR"},
               "referrer": {"typeId": "customer", "id": a}, "tags": []}),
    )
    .await;
    let c = member(
        app,
        token,
        "c@example.com",
        json!({"loyaltyTier": "gold", "points": 5, "nickname": {"en": "Bob"},
               "budget": {"centAmount": 5000, "currencyCode": "USD"}, "tags": ["y"],
               "scores": [7]}),
    )
    .await;
    app.external_customer(token, "d@example.com", json!({}))
        .await;
    (a, b, c)
}

#[tokio::test]
async fn typed_predicates_match_by_field_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let (a, _, _) = setup(&app, &token).await;
    let referrer = format!(r#"custom(fields(referrer(id = "{a}")))"#);
    let cases: Vec<(&str, &[&str])> = vec![
        (
            r#"custom(fields(loyaltyTier = "gold"))"#,
            &["a@example.com", "c@example.com"],
        ),
        (r#"custom(fields(loyaltyTier = "platinum"))"#, &[]),
        (
            r#"custom(fields(loyaltyTier in ("silver", "bronze")))"#,
            &["b@example.com"],
        ),
        (
            r#"custom(fields(points > 10))"#,
            &["a@example.com", "b@example.com"],
        ),
        (r#"custom(fields(points = 300.0))"#, &["a@example.com"]),
        (r#"custom(fields(vip = false))"#, &["b@example.com"]),
        (
            r#"custom(fields(joined < "2021-01-01"))"#,
            &["a@example.com"],
        ),
        // Times are stored as hh:mm:ss.sss; literals are normalised the same way.
        (r#"custom(fields(opens = "09:00:00"))"#, &["a@example.com"]),
        (
            r#"custom(fields(opens > "13:30:00.1"))"#,
            &["b@example.com"],
        ),
        // Datetimes compare as instants: b's 2024-01-02T00:00+01:00 is 2024-01-01T23:00Z.
        (
            r#"custom(fields(lastSeen >= "2024-01-01T23:00:00Z"))"#,
            &["b@example.com"],
        ),
        (
            r#"custom(fields(nickname(en = "ace")))"#,
            &["a@example.com"],
        ),
        (
            r#"custom(fields(nickname(de is defined)))"#,
            &["a@example.com"],
        ),
        (
            r#"custom(fields(budget(centAmount > 100 and currencyCode = "EUR")))"#,
            &["a@example.com"],
        ),
        (
            r#"custom(fields(budget(currencyCode = "USD")))"#,
            &["c@example.com"],
        ),
        (referrer.as_str(), &["b@example.com"]),
        (
            r#"custom(fields(tags = "y"))"#,
            &["a@example.com", "c@example.com"],
        ),
        (
            r#"custom(fields(tags contains all ("x", "y")))"#,
            &["a@example.com"],
        ),
        (r#"custom(fields(tags is empty))"#, &["b@example.com"]),
        (
            r#"custom(fields(scores contains any (2, 7)))"#,
            &["a@example.com", "c@example.com"],
        ),
        // An absent field matches nothing, also under `!=`.
        (r#"custom(fields(vip != true))"#, &["b@example.com"]),
        (
            r#"not(custom(fields(loyaltyTier = "gold")))"#,
            &["b@example.com", "d@example.com"],
        ),
        // No Type defines these: accepted with any literal type, matching nothing.
        (r#"custom(fields(unknown = 1))"#, &[]),
        (r#"custom(fields(unknown = "x" or other(a = true)))"#, &[]),
    ];
    for (p, want) in cases {
        assert_eq!(matching(&app, &token, p).await, want, "{p}");
    }
}

#[tokio::test]
async fn type_mismatches_are_400_with_the_position() {
    let app = spawn_app().await;
    let token = app.admin().await;
    loyalty_type(&app, &token).await;
    for (p, detail) in [
        (
            r#"custom(fields(points = "300"))"#,
            "Type mismatch: field 'custom.fields.points' expects a number, got a string at position 23.",
        ),
        (
            r#"custom(fields(loyaltyTier = 1))"#,
            "Type mismatch: field 'custom.fields.loyaltyTier' expects a string, got a number at position 28.",
        ),
        (
            r#"custom(fields(opens < "9am"))"#,
            "Type mismatch: field 'custom.fields.opens' expects a time (hh:mm:ss.sss), got \"9am\" at position 22.",
        ),
        (
            r#"custom(fields(budget(centAmount > "1")))"#,
            "Type mismatch: field 'custom.fields.budget.centAmount' expects a number, got a string at position 34.",
        ),
        (
            r#"custom(fields(budget = 1))"#,
            "Field 'custom.fields.budget' is an object; query its fields with budget(…) at position 14.",
        ),
        (
            r#"custom(fields(tags contains any (1)))"#,
            "Type mismatch: field 'custom.fields.tags' expects a string, got a number at position 33.",
        ),
    ] {
        let r = app
            .get(&format!("/demo/customers?where={}", urlencode(p)), &token)
            .await;
        let e = r.error(400, "InvalidInput");
        assert_eq!(
            e["message"],
            format!("Malformed parameter: where: {detail}"),
            "{p}"
        );
        let head = app
            .head(&format!("/demo/customers?where={}", urlencode(p)), &token)
            .await;
        assert_eq!(head, 400, "HEAD {p}");
    }
}

#[tokio::test]
async fn variables_take_the_field_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    setup(&app, &token).await;
    let p = urlencode("custom(fields(points >= :min and loyaltyTier in :tiers))");
    assert_eq!(
        emails(
            &app,
            &token,
            &format!("where={p}&var.min=40&var.tiers=gold&var.tiers=silver&sort=email")
        )
        .await,
        ["a@example.com", "b@example.com"]
    );
    let p2 = urlencode("custom(fields(opens < :t and vip = :v))");
    assert_eq!(
        emails(
            &app,
            &token,
            &format!("where={p2}&var.t=10:00:00&var.v=true")
        )
        .await,
        ["a@example.com"]
    );
    let r = app
        .get(
            &format!("/demo/customers?where={p}&var.min=lots&var.tiers=gold"),
            &token,
        )
        .await;
    assert_eq!(
        r.error(400, "InvalidInput")["message"],
        "Malformed parameter: where: Type mismatch: field 'custom.fields.points' expects a number, \
         got \"lots\" from input variable 'min' at position 24."
    );
    assert_eq!(
        app.head(
            &format!("/demo/customers?where={p}&var.min=301&var.tiers=gold"),
            &token
        )
        .await,
        404
    );
    assert_eq!(
        app.head(
            &format!("/demo/customers?where={p}&var.min=300&var.tiers=gold"),
            &token
        )
        .await,
        200
    );
}

#[tokio::test]
async fn sort_by_typed_custom_fields() {
    let app = spawn_app().await;
    let token = app.admin().await;
    setup(&app, &token).await;
    // Numbers numerically (as text "5" would come last); customers without the field last.
    assert_eq!(
        emails(&app, &token, "sort=custom.fields.points%20desc").await,
        [
            "d@example.com",
            "a@example.com",
            "b@example.com",
            "c@example.com"
        ]
    );
    assert_eq!(
        emails(&app, &token, "sort=custom.fields.points").await,
        [
            "c@example.com",
            "b@example.com",
            "a@example.com",
            "d@example.com"
        ]
    );
    // Strings byte-wise: upper case before lower case on every backend.
    assert_eq!(
        emails(
            &app,
            &token,
            "sort=custom.fields.nickname.en&where=custom%20is%20defined"
        )
        .await,
        ["c@example.com", "b@example.com", "a@example.com"]
    );
    assert_eq!(
        emails(
            &app,
            &token,
            "sort=custom.fields.budget.centAmount%20desc&sort=email&where=custom%20is%20defined"
        )
        .await,
        ["c@example.com", "a@example.com", "b@example.com"]
    );
    let r = app
        .get("/demo/customers?sort=custom.fields.tags", &token)
        .await;
    assert_eq!(
        r.error(400, "InvalidInput")["message"],
        "Malformed parameter: sort: Field 'custom.fields.tags' is not sortable (arrays cannot be sorted by) at position 0."
    );
}

#[tokio::test]
async fn names_types_disagree_on_stay_untyped_and_other_resources_do_not_count() {
    let app = spawn_app().await;
    let token = app.admin().await;
    setup(&app, &token).await;
    // A second customer Type declares `points` as a String: no single type, so untyped.
    create_type(
        &app,
        &token,
        "other",
        "customer",
        vec![def("points", json!({"name": "String"}))],
    )
    .await;
    // A Type for customer groups only does not type customers' fields.
    create_type(
        &app,
        &token,
        "groupish",
        "customer-group",
        vec![def("loyaltyTier", json!({"name": "Number"}))],
    )
    .await;
    assert_eq!(
        matching(&app, &token, r#"custom(fields(points = "300"))"#).await,
        Vec::<String>::new()
    );
    assert_eq!(
        matching(&app, &token, r#"custom(fields(points = 300))"#).await,
        ["a@example.com"]
    );
    let r = app
        .get(
            &format!(
                "/demo/customers?where={}",
                urlencode("custom(fields(loyaltyTier = 1))")
            ),
            &token,
        )
        .await;
    r.error(400, "InvalidInput");
    // Untyped: the variable stays a string and the stored number does not equal it.
    let p = urlencode("custom(fields(points = :n))");
    assert_eq!(
        emails(&app, &token, &format!("where={p}&var.n=300")).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn customer_group_custom_fields_are_typed_too() {
    let app = spawn_app().await;
    let token = app.admin().await;
    create_type(
        &app,
        &token,
        "group-data",
        "customer-group",
        vec![def("level", json!({"name": "Number"}))],
    )
    .await;
    for (key, level) in [("bronze", 1), ("gold", 3)] {
        app.post(
            "/demo/customer-groups",
            &token,
            json!({"key": key, "groupName": key,
                   "custom": {"type": {"key": "group-data"}, "fields": {"level": level}}}),
        )
        .await
        .ok(201);
    }
    let r = app
        .get(
            &format!(
                "/demo/customer-groups?where={}",
                urlencode("custom(fields(level >= 2))")
            ),
            &token,
        )
        .await;
    let body = r.ok(200);
    assert_eq!(body["total"], 1);
    assert_eq!(body["results"][0]["key"], "gold");
    let r = app
        .get(
            &format!(
                "/demo/customer-groups?where={}",
                urlencode(r#"custom(fields(level = "3"))"#)
            ),
            &token,
        )
        .await;
    assert_eq!(
        r.error(400, "InvalidInput")["message"],
        "Malformed parameter: where: Type mismatch: field 'custom.fields.level' expects a number, got a string at position 22."
    );
    let r = app
        .get(
            "/demo/customer-groups?sort=custom.fields.level%20desc",
            &token,
        )
        .await;
    assert_eq!(r.ok(200)["results"][0]["key"], "gold");
}
