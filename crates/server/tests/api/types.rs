//! Types through HTTP: create, get/HEAD by id and key, query, every implemented update action
//! with its errors, unsupported actions named, delete with version and the ReferenceExists
//! guard, and scopes.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

fn draft(key: &str) -> Value {
    json!({
        "key": key,
        "name": {"en": "Loyalty"},
        "description": {"en": "Loyalty data"},
        "resourceTypeIds": ["customer"],
        "fieldDefinitions": [
            {"name": "tier", "label": {"en": "Tier"}, "required": false,
             "type": {"name": "Enum", "values": [{"key": "gold", "label": "Gold"}]}},
            {"name": "note", "label": {"en": "Note"}, "required": false, "inputHint": "SingleLine",
             "type": {"name": "String"}}
        ]
    })
}

async fn create(app: &TestApp, token: &str, key: &str) -> Value {
    app.post("/demo/types", token, draft(key))
        .await
        .ok(201)
        .clone()
}

#[tokio::test]
async fn create_get_head_and_query_types() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let t = create(&app, &token, "loyalty").await;
    let id = t["id"].as_str().unwrap();
    assert_eq!(t["version"], 1);
    assert_eq!(t["key"], "loyalty");
    assert_eq!(t["resourceTypeIds"], json!(["customer"]));
    assert_eq!(
        t["fieldDefinitions"][0]["type"],
        json!({"name": "Enum", "values": [{"key": "gold", "label": "Gold"}]})
    );
    assert_eq!(t["fieldDefinitions"][1]["inputHint"], "SingleLine");
    assert_eq!(
        app.get(&format!("/demo/types/{id}"), &token).await.ok(200),
        &t
    );
    assert_eq!(app.get("/demo/types/key=loyalty", &token).await.ok(200), &t);
    assert_eq!(app.head(&format!("/demo/types/{id}"), &token).await, 200);
    assert_eq!(app.head("/demo/types/key=nope", &token).await, 404);
    app.get("/demo/types/key=nope", &token)
        .await
        .error(404, "ResourceNotFound");
    create(&app, &token, "other").await;
    let q = app
        .get(
            "/demo/types?where=fieldDefinitions(name%3D%22tier%22)%20and%20key%3D%22other%22",
            &token,
        )
        .await;
    assert_eq!(q.ok(200)["total"], 1);
    assert_eq!(q.body["results"][0]["key"], "other");
    let q = app.get("/demo/types?sort=key%20desc&limit=1", &token).await;
    assert_eq!(q.ok(200)["results"][0]["key"], "other");
    assert_eq!(q.body["total"], 2);
    assert_eq!(
        app.head(
            "/demo/types?where=resourceTypeIds%20contains%20any%20(%22customer%22)",
            &token
        )
        .await,
        200
    );
}

#[tokio::test]
async fn create_errors() {
    let app = spawn_app().await;
    let token = app.admin().await;
    create(&app, &token, "loyalty").await;
    let dup = app.post("/demo/types", &token, draft("loyalty")).await;
    assert_eq!(dup.error(400, "DuplicateField")["field"], "key");
    let mut no_key = draft("x");
    no_key.as_object_mut().unwrap().remove("key");
    app.post("/demo/types", &token, no_key)
        .await
        .error(400, "InvalidJsonInput");
    let mut bad_resource = draft("y1");
    bad_resource["resourceTypeIds"] = json!(["spaceship"]);
    app.post("/demo/types", &token, bad_resource)
        .await
        .error(400, "InvalidJsonInput");
    let mut bad_field_type = draft("y2");
    bad_field_type["fieldDefinitions"][0]["type"] = json!({"name": "Colour"});
    app.post("/demo/types", &token, bad_field_type)
        .await
        .error(400, "InvalidJsonInput");
    let mut bad_name = draft("y3");
    bad_name["fieldDefinitions"][0]["name"] = json!("a b");
    app.post("/demo/types", &token, bad_name)
        .await
        .error(400, "InvalidInput");
    let mut twice = draft("y4");
    twice["fieldDefinitions"][1]["name"] = json!("tier");
    app.post("/demo/types", &token, twice)
        .await
        .error(400, "InvalidOperation");
}

/// An action and a check of the Type it produces.
type Step = (Value, Box<dyn Fn(&Value)>);

#[tokio::test]
async fn update_actions_evolve_a_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let t = create(&app, &token, "loyalty").await;
    let path = format!("/demo/types/{}", t["id"].as_str().unwrap());
    let mut version = 1;
    let cases: Vec<Step> = vec![
        (
            json!({"action": "changeName", "name": {"en": "Fidelity"}}),
            Box::new(|t| assert_eq!(t["name"]["en"], "Fidelity")),
        ),
        (
            json!({"action": "setDescription"}),
            Box::new(|t| assert!(t.get("description").is_none())),
        ),
        (
            json!({"action": "changeKey", "key": "fidelity"}),
            Box::new(|t| assert_eq!(t["key"], "fidelity")),
        ),
        (
            json!({"action": "addFieldDefinition", "fieldDefinition": {"name": "points", "label": {"en": "Points"}, "required": false, "type": {"name": "Number"}}}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"][2]["name"], "points")),
        ),
        (
            json!({"action": "changeLabel", "fieldName": "points", "label": {"en": "Score"}}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"][2]["label"]["en"], "Score")),
        ),
        (
            json!({"action": "changeInputHint", "fieldName": "note", "inputHint": "MultiLine"}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"][1]["inputHint"], "MultiLine")),
        ),
        (
            json!({"action": "addEnumValue", "fieldName": "tier", "value": {"key": "silver", "label": "Silver"}}),
            Box::new(|t| {
                assert_eq!(
                    t["fieldDefinitions"][0]["type"]["values"][1]["key"],
                    "silver"
                )
            }),
        ),
        (
            json!({"action": "changeEnumValueLabel", "fieldName": "tier", "value": {"key": "silver", "label": "Argent"}}),
            Box::new(|t| {
                assert_eq!(
                    t["fieldDefinitions"][0]["type"]["values"][1]["label"],
                    "Argent"
                )
            }),
        ),
        (
            json!({"action": "changeFieldDefinitionOrder", "fieldNames": ["points", "tier", "note"]}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"][0]["name"], "points")),
        ),
        (
            json!({"action": "removeFieldDefinition", "fieldName": "points"}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"].as_array().unwrap().len(), 2)),
        ),
        (
            json!({"action": "addFieldDefinition", "fieldDefinition": {"name": "lang", "label": {"en": "Lang"}, "required": false, "type": {"name": "LocalizedEnum", "values": [{"key": "de", "label": {"en": "German"}}]}}}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"][2]["type"]["name"], "LocalizedEnum")),
        ),
        (
            json!({"action": "addLocalizedEnumValue", "fieldName": "lang", "value": {"key": "fr", "label": {"en": "French"}}}),
            Box::new(|t| assert_eq!(t["fieldDefinitions"][2]["type"]["values"][1]["key"], "fr")),
        ),
        (
            json!({"action": "changeLocalizedEnumValueLabel", "fieldName": "lang", "value": {"key": "fr", "label": {"en": "Français"}}}),
            Box::new(|t| {
                assert_eq!(
                    t["fieldDefinitions"][2]["type"]["values"][1]["label"]["en"],
                    "Français"
                )
            }),
        ),
    ];
    for (action, check) in cases {
        let r = app
            .post(
                &path,
                &token,
                json!({"version": version, "actions": [action.clone()]}),
            )
            .await;
        let t = r.ok(200);
        version += 1;
        assert_eq!(t["version"], version, "{action}");
        check(t);
    }
    let errors = [
        (
            json!({"action": "addFieldDefinition", "fieldDefinition": {"name": "tier", "label": {}, "required": false, "type": {"name": "String"}}}),
            "InvalidOperation",
        ),
        (
            json!({"action": "removeFieldDefinition", "fieldName": "nope"}),
            "InvalidOperation",
        ),
        (
            json!({"action": "changeLabel", "fieldName": "nope", "label": {}}),
            "InvalidOperation",
        ),
        (
            json!({"action": "addEnumValue", "fieldName": "tier", "value": {"key": "gold", "label": "G"}}),
            "InvalidOperation",
        ),
        (
            json!({"action": "addEnumValue", "fieldName": "note", "value": {"key": "x", "label": "X"}}),
            "InvalidOperation",
        ),
        (
            json!({"action": "addLocalizedEnumValue", "fieldName": "tier", "value": {"key": "x", "label": {}}}),
            "InvalidOperation",
        ),
        (
            json!({"action": "changeEnumValueLabel", "fieldName": "tier", "value": {"key": "nope", "label": "X"}}),
            "InvalidOperation",
        ),
        (
            json!({"action": "changeFieldDefinitionOrder", "fieldNames": ["tier"]}),
            "InvalidOperation",
        ),
        (json!({"action": "changeKey", "key": "x"}), "InvalidInput"),
        (
            json!({"action": "changeEnumValueOrder", "fieldName": "tier", "keys": ["gold"]}),
            "InvalidOperation",
        ),
        (json!({"action": "makeCoffee"}), "InvalidJsonInput"),
    ];
    for (action, code) in errors {
        let r = app
            .post(
                &path,
                &token,
                json!({"version": version, "actions": [action.clone()]}),
            )
            .await;
        let e = r.error(400, code);
        if action["action"] == "changeEnumValueOrder" {
            assert_eq!(
                e["message"],
                "The update action 'changeEnumValueOrder' is not supported yet."
            );
        }
    }
    app.post(&path, &token, json!({"version": 1, "actions": []}))
        .await
        .error(409, "ConcurrentModification");
}

#[tokio::test]
async fn delete_needs_the_version_and_no_user_of_the_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let t = create(&app, &token, "loyalty").await;
    let id = t["id"].as_str().unwrap();
    let c = app
        .external_customer(
            &token,
            "a@example.com",
            json!({"custom": {"type": {"key": "loyalty"}, "fields": {"tier": "gold"}}}),
        )
        .await;
    let r = app
        .delete(&format!("/demo/types/{id}?version=1"), &token)
        .await;
    let e = r.error(400, "ReferenceExists");
    assert_eq!(
        e["message"],
        "Can not delete a type while it is referenced by at least one customer."
    );
    app.delete(&format!("/demo/types/{id}?version=9"), &token)
        .await
        .error(409, "ConcurrentModification");
    app.update(
        &token,
        c["id"].as_str().unwrap(),
        &c["version"],
        json!([{"action": "setCustomType"}]),
    )
    .await
    .ok(200);
    let deleted = app
        .delete("/demo/types/key=loyalty?version=1", &token)
        .await;
    assert_eq!(deleted.ok(200)["key"], "loyalty");
    app.get(&format!("/demo/types/{id}"), &token)
        .await
        .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn scopes_guard_every_route() {
    let app = spawn_app().await;
    let view = app.token("view_types:demo").await;
    let manage = app.token("manage_types:demo").await;
    app.post("/demo/types", &view, draft("a1"))
        .await
        .error(403, "insufficient_scope");
    create(&app, &manage, "a1").await;
    app.get("/demo/types/key=a1", &view).await.ok(200);
    app.get("/demo/types", &manage).await.ok(200);
    let groups = app.token("manage_customer_groups:demo").await;
    app.get("/demo/types", &groups)
        .await
        .error(403, "insufficient_scope");
}
