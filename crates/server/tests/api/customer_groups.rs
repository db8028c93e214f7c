//! Customer Groups through HTTP: create, get/HEAD by id and key, query, every update action
//! with its errors, delete with version and the ReferenceExists guard, and scopes.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn create_group(app: &TestApp, token: &str, draft: Value) -> Value {
    app.post("/demo/customer-groups", token, draft)
        .await
        .ok(201)
        .clone()
}

async fn loyalty_type(app: &TestApp, token: &str, resources: Value) -> Value {
    app.post(
        "/demo/types",
        token,
        json!({
            "key": "group-fields",
            "name": {"en": "Group fields"},
            "resourceTypeIds": resources,
            "fieldDefinitions": [
                {"name": "discount", "label": {"en": "Discount"}, "required": false, "type": {"name": "Number"}}
            ]
        }),
    )
    .await
    .ok(201)
    .clone()
}

#[tokio::test]
async fn create_get_head_and_query_groups() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let g = create_group(&app, &token, json!({"groupName": "VIP", "key": "vip"})).await;
    let id = g["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(g["version"], 1);
    assert_eq!(g["name"], "VIP");
    assert_eq!(g["key"], "vip");
    assert_eq!(g["createdAt"], "2023-11-14T22:13:20.000Z");
    assert_eq!(g["lastModifiedAt"], g["createdAt"]);
    assert!(g["createdBy"]["clientId"].is_string());
    assert_eq!(
        app.get(&format!("/demo/customer-groups/{id}"), &token)
            .await
            .ok(200),
        &g
    );
    assert_eq!(
        app.get("/demo/customer-groups/key=vip", &token)
            .await
            .ok(200),
        &g
    );
    assert_eq!(
        app.head(&format!("/demo/customer-groups/{id}"), &token)
            .await,
        200
    );
    assert_eq!(app.head("/demo/customer-groups/key=vip", &token).await, 200);
    assert_eq!(
        app.head("/demo/customer-groups/key=nope", &token).await,
        404
    );
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/demo/customer-groups/{missing}"), &token)
        .await
        .error(404, "ResourceNotFound");
    app.get("/demo/customer-groups/key=nope", &token)
        .await
        .error(404, "ResourceNotFound");
    create_group(&app, &token, json!({"groupName": "B2B"})).await;
    let all = app.get("/demo/customer-groups", &token).await;
    assert_eq!(all.ok(200)["total"], 2);
    // Both groups share the test clock's timestamp, so the default order ties on createdAt.
    let keys: Vec<&Value> = all.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["key"])
        .collect();
    assert!(keys.contains(&&json!("vip")), "{keys:?}");
    let one = app
        .get(
            "/demo/customer-groups?where=name%3D%22B2B%22&withTotal=false",
            &token,
        )
        .await;
    assert_eq!(one.ok(200)["count"], 1);
    assert!(one.body.get("total").is_none());
    assert_eq!(one.body["results"][0]["name"], "B2B");
    assert_eq!(
        app.head("/demo/customer-groups?where=key%3D%22vip%22", &token)
            .await,
        200
    );
    assert_eq!(
        app.head("/demo/customer-groups?where=key%3D%22x%22", &token)
            .await,
        404
    );
    app.get("/demo/customer-groups?where=nope%3D1", &token)
        .await
        .error(400, "InvalidInput");
}

#[tokio::test]
async fn create_errors() {
    let app = spawn_app().await;
    let token = app.admin().await;
    create_group(&app, &token, json!({"groupName": "VIP", "key": "vip"})).await;
    let dup = app
        .post(
            "/demo/customer-groups",
            &token,
            json!({"groupName": "Other", "key": "vip"}),
        )
        .await;
    assert_eq!(dup.error(400, "DuplicateField")["field"], "key");
    app.post("/demo/customer-groups", &token, json!({"key": "x1"}))
        .await
        .error(400, "InvalidJsonInput");
    app.post(
        "/demo/customer-groups",
        &token,
        json!({"groupName": "A", "key": "a b"}),
    )
    .await
    .error(400, "InvalidInput");
    let r = app
        .post(
            "/demo/customer-groups",
            &token,
            json!({"groupName": "A", "custom": {"type": {"key": "nope"}}}),
        )
        .await;
    let e = r.error(400, "ReferencedResourceNotFound");
    assert_eq!(e["typeId"], "type");
    assert_eq!(e["key"], "nope");
}

#[tokio::test]
async fn update_actions_and_their_errors() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let g = create_group(&app, &token, json!({"groupName": "VIP", "key": "vip"})).await;
    let id = g["id"].as_str().unwrap();
    let path = format!("/demo/customer-groups/{id}");
    let up = |version: i64, actions: Value| json!({"version": version, "actions": actions});
    let r = app
        .post(&path, &token, up(1, json!([{"action": "changeName", "name": "Gold"}, {"action": "setKey", "key": "gold"}])))
        .await;
    let g2 = r.ok(200).clone();
    assert_eq!(
        (
            g2["name"].as_str(),
            g2["key"].as_str(),
            g2["version"].as_i64()
        ),
        (Some("Gold"), Some("gold"), Some(2))
    );
    // No-op keeps the version.
    let same = app
        .post(
            &path,
            &token,
            up(2, json!([{"action": "changeName", "name": "Gold"}])),
        )
        .await;
    assert_eq!(same.ok(200)["version"], 2);
    // Removing the key.
    let r = app
        .post(&path, &token, up(2, json!([{"action": "setKey"}])))
        .await;
    assert!(r.ok(200).get("key").is_none());
    assert_eq!(r.body["version"], 3);
    // By key, stale version, unknown action, bad values.
    app.post("/demo/customer-groups/key=gold", &token, up(3, json!([])))
        .await
        .error(404, "ResourceNotFound");
    let stale = app
        .post(
            &path,
            &token,
            up(1, json!([{"action": "changeName", "name": "X"}])),
        )
        .await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        3
    );
    app.post(&path, &token, up(3, json!([{"action": "changeColour"}])))
        .await
        .error(400, "InvalidJsonInput");
    app.post(
        &path,
        &token,
        up(3, json!([{"action": "changeName", "name": " "}])),
    )
    .await
    .error(400, "InvalidInput");
    // Custom type and fields.
    let t = loyalty_type(&app, &token, json!(["customer-group"])).await;
    let r = app
        .post(
            &path,
            &token,
            up(3, json!([{"action": "setCustomType", "type": {"key": "group-fields"}, "fields": {"discount": 5}}])),
        )
        .await;
    assert_eq!(
        r.ok(200)["custom"],
        json!({"type": {"typeId": "type", "id": t["id"]}, "fields": {"discount": 5}})
    );
    let r = app
        .post(
            &path,
            &token,
            up(
                4,
                json!([{"action": "setCustomField", "name": "discount", "value": 7}]),
            ),
        )
        .await;
    assert_eq!(r.ok(200)["custom"]["fields"]["discount"], 7);
    let bad = app
        .post(
            &path,
            &token,
            up(
                5,
                json!([{"action": "setCustomField", "name": "discount", "value": "seven"}]),
            ),
        )
        .await;
    let e = bad.error(400, "InvalidField");
    assert_eq!(
        (e["field"].as_str(), &e["invalidValue"]),
        (Some("discount"), &json!("seven"))
    );
    // Expansion of the custom type.
    let expanded = app.get(&format!("{path}?expand=custom.type"), &token).await;
    assert_eq!(
        expanded.ok(200)["custom"]["type"]["obj"]["key"],
        "group-fields"
    );
    let r = app
        .post(&path, &token, up(5, json!([{"action": "setCustomType"}])))
        .await;
    assert!(r.ok(200).get("custom").is_none());
}

#[tokio::test]
async fn a_type_for_customers_only_cannot_be_used_on_groups() {
    let app = spawn_app().await;
    let token = app.admin().await;
    loyalty_type(&app, &token, json!(["customer"])).await;
    app.post(
        "/demo/customer-groups",
        &token,
        json!({"groupName": "A", "custom": {"type": {"key": "group-fields"}}}),
    )
    .await
    .error(400, "InvalidOperation");
}

#[tokio::test]
async fn delete_needs_the_version_and_no_referencing_customer() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let g = create_group(&app, &token, json!({"groupName": "VIP", "key": "vip"})).await;
    let id = g["id"].as_str().unwrap();
    app.delete(&format!("/demo/customer-groups/{id}"), &token)
        .await
        .error(400, "InvalidInput");
    app.delete(&format!("/demo/customer-groups/{id}?version=2"), &token)
        .await
        .error(409, "ConcurrentModification");
    let c = app
        .external_customer(
            &token,
            "a@example.com",
            json!({"customerGroup": {"key": "vip"}}),
        )
        .await;
    let blocked = app
        .delete(&format!("/demo/customer-groups/{id}?version=1"), &token)
        .await;
    let e = blocked.error(400, "ReferenceExists");
    assert_eq!(e["referencedBy"], "customer");
    assert_eq!(
        e["message"],
        "Can not delete a customer-group while it is referenced by at least one customer."
    );
    let cid = c["id"].as_str().unwrap();
    app.update(
        &token,
        cid,
        &c["version"],
        json!([{"action": "setCustomerGroup"}]),
    )
    .await
    .ok(200);
    let deleted = app
        .delete("/demo/customer-groups/key=vip?version=1", &token)
        .await;
    assert_eq!(deleted.ok(200)["id"], id);
    assert_eq!(
        app.head(&format!("/demo/customer-groups/{id}"), &token)
            .await,
        404
    );
}

#[tokio::test]
async fn scopes_guard_every_route() {
    let app = spawn_app().await;
    let view = app.token("view_customer_groups:demo").await;
    let manage = app.token("manage_customer_groups:demo").await;
    let customers = app.token("manage_customers:demo").await;
    let r = app
        .post("/demo/customer-groups", &view, json!({"groupName": "A"}))
        .await;
    r.error(403, "insufficient_scope");
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .ends_with("manage_customer_groups."));
    create_group(&app, &manage, json!({"groupName": "A", "key": "a1"})).await;
    app.get("/demo/customer-groups", &view).await.ok(200);
    app.get("/demo/customer-groups/key=a1", &manage)
        .await
        .ok(200);
    app.get("/demo/customer-groups", &customers)
        .await
        .error(403, "insufficient_scope");
    app.request(reqwest::Method::GET, "/demo/customer-groups", None, None)
        .await
        .error(401, "invalid_token");
}
