//! Stores through HTTP: create, get/HEAD by id and key, query, the update actions with their
//! errors, delete with version and the ReferenceExists guard, customers' `stores` (draft and
//! actions with their Messages), and the store scopes.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn create_store(app: &TestApp, token: &str, draft: Value) -> Value {
    app.post("/demo/stores", token, draft).await.ok(201).clone()
}

fn results(v: &Value) -> Vec<Value> {
    v["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn create_get_head_and_query_stores() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let s = create_store(
        &app,
        &token,
        json!({"key": "eu-shop", "name": {"en": "EU shop", "de": "EU-Laden"},
               "languages": ["en", "de"], "countries": [{"code": "DE"}, {"code": "AT"}]}),
    )
    .await;
    let id = s["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(s["version"], 1);
    assert_eq!(s["key"], "eu-shop");
    assert_eq!(s["name"], json!({"en": "EU shop", "de": "EU-Laden"}));
    assert_eq!(s["languages"], json!(["en", "de"]));
    assert_eq!(s["countries"], json!([{"code": "DE"}, {"code": "AT"}]));
    for always in [
        "distributionChannels",
        "supplyChannels",
        "productSelections",
    ] {
        assert_eq!(s[always], json!([]), "{always}");
    }
    assert_eq!(s["createdAt"], "2023-11-14T22:13:20.000Z");
    assert!(s["createdBy"]["clientId"].is_string());
    assert_eq!(
        app.get(&format!("/demo/stores/{id}"), &token).await.ok(200),
        &s
    );
    assert_eq!(
        app.get("/demo/stores/key=eu-shop", &token).await.ok(200),
        &s
    );
    assert_eq!(app.head(&format!("/demo/stores/{id}"), &token).await, 200);
    assert_eq!(app.head("/demo/stores/key=eu-shop", &token).await, 200);
    assert_eq!(app.head("/demo/stores/key=nope", &token).await, 404);
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/demo/stores/{missing}"), &token)
        .await
        .error(404, "ResourceNotFound");
    app.get("/demo/stores/key=nope", &token)
        .await
        .error(404, "ResourceNotFound");

    create_store(&app, &token, json!({"key": "us-shop"})).await;
    let all = app.get("/demo/stores", &token).await;
    assert_eq!(all.ok(200)["total"], 2);
    let only = app
        .get("/demo/stores?where=key%3D%22us-shop%22", &token)
        .await;
    let found = results(only.ok(200));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["key"], "us-shop");
    assert_eq!(found[0]["languages"], json!([]));
    assert!(found[0].get("name").is_none(), "no name given, none shown");
    let by_name = app
        .get("/demo/stores?where=name(de%3D%22EU-Laden%22)", &token)
        .await;
    assert_eq!(results(by_name.ok(200))[0]["id"], id);
    let by_country = app
        .get("/demo/stores?where=countries(code%3D%22AT%22)", &token)
        .await;
    assert_eq!(results(by_country.ok(200))[0]["id"], id);
    assert_eq!(
        app.head("/demo/stores?where=key%3D%22eu-shop%22", &token)
            .await,
        200
    );
    assert_eq!(
        app.head("/demo/stores?where=key%3D%22zz%22", &token).await,
        404
    );
    app.get("/demo/stores?where=nope%3D1", &token)
        .await
        .error(400, "InvalidInput");
}

#[tokio::test]
async fn drafts_are_validated() {
    let app = spawn_app().await;
    let token = app.admin().await;
    create_store(&app, &token, json!({"key": "eu-shop"})).await;
    let dup = app
        .post("/demo/stores", &token, json!({"key": "eu-shop"}))
        .await;
    let e = dup.error(400, "DuplicateField");
    assert_eq!(e["field"], "key");
    assert_eq!(e["duplicateValue"], "eu-shop");
    app.post("/demo/stores", &token, json!({"name": {"en": "x"}}))
        .await
        .error(400, "InvalidJsonInput");
    app.post("/demo/stores", &token, json!({"key": "a"}))
        .await
        .error(400, "InvalidInput");
    let langs = app
        .post(
            "/demo/stores",
            &token,
            json!({"key": "fr-shop", "languages": ["en", "fr"]}),
        )
        .await;
    assert_eq!(
        langs.error(400, "ProjectNotConfiguredForLanguages")["languages"],
        json!(["fr"])
    );
    app.post(
        "/demo/stores",
        &token,
        json!({"key": "ch-shop", "distributionChannels": [{"key": "web"}]}),
    )
    .await
    .error(400, "ReferencedResourceNotFound");
    app.post(
        "/demo/stores",
        &token,
        json!({"key": "xx-shop", "countries": [{"code": "Germany"}]}),
    )
    .await
    .error(400, "InvalidField");
    assert_eq!(app.get("/demo/stores", &token).await.ok(200)["total"], 1);
}

#[tokio::test]
async fn update_actions_and_their_errors() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let s = create_store(&app, &token, json!({"key": "eu-shop"})).await;
    let id = s["id"].as_str().unwrap().to_owned();
    let path = format!("/demo/stores/{id}");
    let updated = app
        .post(
            &path,
            &token,
            json!({"version": 1, "actions": [
                {"action": "setName", "name": {"en": "EU"}},
                {"action": "setLanguages", "languages": ["de"]},
                {"action": "setCountries", "countries": [{"code": "FR"}]}
            ]}),
        )
        .await;
    let u = updated.ok(200).clone();
    assert_eq!(u["version"], 2);
    assert_eq!(u["name"], json!({"en": "EU"}));
    assert_eq!(u["languages"], json!(["de"]));
    assert_eq!(u["countries"], json!([{"code": "FR"}]));
    // The same again changes nothing and keeps the version.
    let same = app
        .post(
            "/demo/stores/key=eu-shop",
            &token,
            json!({"version": 2, "actions": [{"action": "setLanguages", "languages": ["de"]}]}),
        )
        .await;
    assert_eq!(same.ok(200)["version"], 2);
    let unset = app
        .post(
            &path,
            &token,
            json!({"version": 2, "actions": [{"action": "setName"}, {"action": "setCountries"}]}),
        )
        .await;
    let unset = unset.ok(200);
    assert!(unset.get("name").is_none());
    assert_eq!(unset["countries"], json!([]));
    assert_eq!(unset["version"], 3);

    let unsupported = app
        .post(
            &path,
            &token,
            json!({"version": 3, "actions": [{"action": "setDistributionChannels", "distributionChannels": []}]}),
        )
        .await;
    assert!(unsupported.error(400, "InvalidOperation")["message"]
        .as_str()
        .unwrap()
        .contains("'setDistributionChannels'"));
    app.post(
        &path,
        &token,
        json!({"version": 3, "actions": [{"action": "changeKey", "key": "x"}]}),
    )
    .await
    .error(400, "InvalidJsonInput");
    app.post(
        &path,
        &token,
        json!({"version": 3, "actions": [{"action": "setLanguages", "languages": ["es"]}]}),
    )
    .await
    .error(400, "ProjectNotConfiguredForLanguages");
    let stale = app
        .post(
            &path,
            &token,
            json!({"version": 1, "actions": [{"action": "setName", "name": {"en": "y"}}]}),
        )
        .await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        3
    );
    let missing = uuid::Uuid::new_v4();
    app.post(
        &format!("/demo/stores/{missing}"),
        &token,
        json!({"version": 1, "actions": []}),
    )
    .await
    .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn a_store_with_customers_cannot_be_deleted() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let s = create_store(&app, &token, json!({"key": "eu-shop"})).await;
    let id = s["id"].as_str().unwrap().to_owned();
    let c = app
        .external_customer(
            &token,
            "a@example.com",
            json!({"stores": [{"typeId": "store", "key": "eu-shop"}]}),
        )
        .await;
    app.delete(&format!("/demo/stores/{id}"), &token)
        .await
        .error(400, "InvalidInput");
    let refused = app
        .delete(&format!("/demo/stores/{id}?version=1"), &token)
        .await;
    let e = refused.error(400, "ReferenceExists");
    assert_eq!(e["referencedBy"], "customer");
    app.delete("/demo/stores/key=eu-shop?version=2", &token)
        .await
        .error(409, "ConcurrentModification");
    // Once the customer has left the Store it can go.
    let cid = c["id"].as_str().unwrap();
    app.update(
        &token,
        cid,
        &c["version"],
        json!([{"action": "removeStore", "store": {"key": "eu-shop"}}]),
    )
    .await
    .ok(200);
    let deleted = app
        .delete("/demo/stores/key=eu-shop?version=1", &token)
        .await;
    assert_eq!(deleted.ok(200)["id"], id.as_str());
    assert_eq!(app.head(&format!("/demo/stores/{id}"), &token).await, 404);
    // A customer can no longer join it.
    app.update(
        &token,
        cid,
        &json!(2),
        json!([{"action": "addStore", "store": {"key": "eu-shop"}}]),
    )
    .await
    .error(400, "ReferencedResourceNotFound");
}

#[tokio::test]
async fn customers_name_stores_by_key_or_id_and_keep_key_references() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let eu = create_store(&app, &token, json!({"key": "eu-shop"})).await;
    create_store(&app, &token, json!({"key": "us-shop"})).await;
    let c = app
        .external_customer(
            &token,
            "a@example.com",
            json!({"stores": [{"typeId": "store", "id": eu["id"]}, {"key": "us-shop"}]}),
        )
        .await;
    assert_eq!(
        c["stores"],
        json!([{"typeId": "store", "key": "eu-shop"}, {"typeId": "store", "key": "us-shop"}])
    );
    let missing = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "b@example.com", "authenticationMode": "ExternalAuth",
                   "stores": [{"key": "nope"}]}),
        )
        .await;
    let e = missing.error(400, "ReferencedResourceNotFound");
    assert_eq!(e["typeId"], "store");
    assert_eq!(e["key"], "nope");
    // No stores: a global customer with an empty list.
    let g = app
        .external_customer(&token, "g@example.com", json!({}))
        .await;
    assert_eq!(g["stores"], json!([]));

    let id = c["id"].as_str().unwrap();
    let set = app
        .update(
            &token,
            id,
            &json!(1),
            json!([{"action": "setStores", "stores": [{"key": "us-shop"}]}]),
        )
        .await;
    assert_eq!(
        set.ok(200)["stores"],
        json!([{"typeId": "store", "key": "us-shop"}])
    );
    let added = app
        .update(
            &token,
            id,
            &json!(2),
            json!([{"action": "addStore", "store": {"typeId": "store", "key": "eu-shop"}}]),
        )
        .await;
    assert_eq!(added.ok(200)["stores"].as_array().unwrap().len(), 2);
    let removed = app
        .update(
            &token,
            id,
            &json!(3),
            json!([{"action": "removeStore", "store": {"id": eu["id"]}},
                   {"action": "removeStore", "store": {"key": "us-shop"}}]),
        )
        .await;
    assert_eq!(removed.ok(200)["stores"], json!([]));
    assert_eq!(removed.body["version"], 4);
    app.update(
        &token,
        id,
        &json!(4),
        json!([{"action": "setStores", "stores": [{"key": "zz"}]}]),
    )
    .await
    .error(400, "ReferencedResourceNotFound");

    let types: Vec<(String, Value)> = app
        .messages_of(&token, id)
        .await
        .iter()
        .map(|m| (m["type"].as_str().unwrap().to_owned(), m.clone()))
        .collect();
    let names: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
    // setStores has a Message; addStore / removeStore have none documented.
    assert_eq!(names, vec!["CustomerCreated", "CustomerStoresSet"]);
    assert_eq!(
        types[1].1["stores"],
        json!([{"typeId": "store", "key": "us-shop"}])
    );
    assert_eq!(
        types[1].1["oldStores"],
        json!([{"typeId": "store", "key": "eu-shop"}, {"typeId": "store", "key": "us-shop"}])
    );
}

#[tokio::test]
async fn store_scopes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    create_store(&app, &admin, json!({"key": "eu-shop"})).await;
    let view = app.token("view_stores:demo").await;
    let manage = app.token("manage_stores:demo").await;
    let customers = app.token("manage_customers:demo").await;
    let store_scoped = app.token("manage_stores:demo:eu-shop").await;
    app.get("/demo/stores/key=eu-shop", &view).await.ok(200);
    app.get("/demo/stores", &manage).await.ok(200);
    let denied = app
        .post("/demo/stores", &view, json!({"key": "b-shop"}))
        .await;
    denied.error(403, "insufficient_scope");
    assert!(denied.body["message"]
        .as_str()
        .unwrap()
        .contains("manage_stores"));
    create_store(&app, &manage, json!({"key": "c-shop"})).await;
    app.get("/demo/stores", &customers)
        .await
        .error(403, "insufficient_scope");
    app.get("/demo/stores", &store_scoped)
        .await
        .error(403, "insufficient_scope");
    assert_eq!(
        app.request(
            reqwest::Method::HEAD,
            "/demo/stores",
            Some(&customers),
            None
        )
        .await
        .status,
        403
    );
}
