//! The Project endpoint through HTTP: `GET|HEAD|POST /{projectKey}` with the Project shape,
//! every implemented update action and its errors, unsupported and unknown actions, version
//! conflicts, the project-settings scopes, and the languages validation reads after a change.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn update(app: &TestApp, token: &str, version: u64, actions: Value) -> crate::helpers::Resp {
    app.post(
        "/demo",
        token,
        json!({"version": version, "actions": actions}),
    )
    .await
}

#[tokio::test]
async fn get_and_head_show_the_project_with_every_required_field() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let p = app.get("/demo", &token).await.ok(200).clone();
    assert_eq!(
        p,
        json!({
            "version": 1, "key": "demo", "name": "Demo",
            "countries": ["DE", "US"], "currencies": ["EUR", "USD"], "languages": ["en", "de"],
            "createdAt": "2023-11-14T22:13:20.000Z",
            "messages": {"enabled": false},
            "carts": {"deleteDaysAfterLastModification": 90, "countryTaxRateFallbackEnabled": false},
            "shoppingLists": {"deleteDaysAfterLastModification": 360},
            "inventory": {"releaseExpiredReservations": true},
            "discounts": {"discountCombinationMode": "Stacking"}
        })
    );
    assert_eq!(app.head("/demo", &token).await, 200);
}

#[tokio::test]
async fn every_action_applies_in_one_request_and_bumps_the_version_once() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.clock.advance(time::Duration::days(1));
    let p = update(
        &app,
        &token,
        1,
        json!([
            {"action": "changeName", "name": "My updated Project"},
            {"action": "changeLanguages", "languages": ["en", "de", "de-DE"]},
            {"action": "changeCountries", "countries": ["DE", "US", "GB"]},
            {"action": "changeCurrencies", "currencies": ["EUR", "USD", "GBP"]},
            {"action": "changeMessagesConfiguration",
             "messagesConfiguration": {"enabled": true, "deleteDaysAfterCreation": 30}},
            {"action": "changeCustomerSearchStatus", "status": "Activated"}
        ]),
    )
    .await
    .ok(200)
    .clone();
    assert_eq!(p["version"], 2);
    assert_eq!(p["name"], "My updated Project");
    assert_eq!(p["languages"], json!(["en", "de", "de-DE"]));
    assert_eq!(p["countries"], json!(["DE", "US", "GB"]));
    assert_eq!(p["currencies"], json!(["EUR", "USD", "GBP"]));
    assert_eq!(
        p["messages"],
        json!({"enabled": true, "deleteDaysAfterCreation": 30})
    );
    let customers = &p["searchIndexing"]["customers"];
    assert_eq!(customers["status"], "Activated");
    assert_eq!(customers["lastModifiedAt"], "2023-11-15T22:13:20.000Z");
    assert!(customers["lastModifiedBy"]["clientId"].is_string());
    assert_eq!(p["createdAt"], "2023-11-14T22:13:20.000Z");
    assert_eq!(app.get("/demo", &token).await.ok(200), &p);

    // Deactivating records the new status and time.
    app.clock.advance(time::Duration::hours(1));
    let p = update(
        &app,
        &token,
        2,
        json!([{"action": "changeCustomerSearchStatus", "status": "Deactivated"}]),
    )
    .await
    .ok(200)
    .clone();
    assert_eq!(p["version"], 3);
    assert_eq!(p["searchIndexing"]["customers"]["status"], "Deactivated");
    assert_eq!(
        p["searchIndexing"]["customers"]["lastModifiedAt"],
        "2023-11-15T23:13:20.000Z"
    );

    // Retention defaults to 15 days when the draft leaves it out.
    let p = update(
        &app,
        &token,
        3,
        json!([{"action": "changeMessagesConfiguration", "messagesConfiguration": {"enabled": false}}]),
    )
    .await
    .ok(200)
    .clone();
    assert_eq!(
        p["messages"],
        json!({"enabled": false, "deleteDaysAfterCreation": 15})
    );
    assert_eq!(p["version"], 4);
}

#[tokio::test]
async fn an_update_that_changes_nothing_keeps_the_version() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let p = update(
        &app,
        &token,
        1,
        json!([{"action": "changeName", "name": "Demo"},
               {"action": "changeCustomerSearchStatus", "status": "Deactivated"},
               {"action": "changeCustomerSearchStatus", "status": "Deactivated"}]),
    )
    .await
    .ok(200)
    .clone();
    // Deactivating an absent index records it as Deactivated: that is a change.
    assert_eq!(p["version"], 2);
    let again = update(
        &app,
        &token,
        2,
        json!([{"action": "changeCustomerSearchStatus", "status": "Deactivated"}]),
    )
    .await
    .ok(200)
    .clone();
    assert_eq!(again, p);
}

#[tokio::test]
async fn invalid_values_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let before = app.get("/demo", &token).await.ok(200).clone();
    for (actions, status, code) in [
        (
            json!([{"action": "changeName", "name": ""}]),
            400,
            "InvalidOperation",
        ),
        (
            json!([{"action": "changeLanguages", "languages": []}]),
            400,
            "InvalidOperation",
        ),
        (
            json!([{"action": "changeCountries", "countries": []}]),
            400,
            "InvalidOperation",
        ),
        (
            json!([{"action": "changeCurrencies", "currencies": []}]),
            400,
            "InvalidOperation",
        ),
        (
            json!([{"action": "changeLanguages", "languages": ["en", "not a tag"]}]),
            400,
            "InvalidField",
        ),
        (
            json!([{"action": "changeCountries", "countries": ["de"]}]),
            400,
            "InvalidField",
        ),
        (
            json!([{"action": "changeCurrencies", "currencies": ["EURO"]}]),
            400,
            "InvalidField",
        ),
        (
            json!([{"action": "changeMessagesConfiguration",
                 "messagesConfiguration": {"enabled": true, "deleteDaysAfterCreation": 91}}]),
            400,
            "InvalidInput",
        ),
        (
            json!([{"action": "changeMessagesConfiguration",
                 "messagesConfiguration": {"enabled": true, "deleteDaysAfterCreation": 0}}]),
            400,
            "InvalidInput",
        ),
        (
            json!([{"action": "changeCustomerSearchStatus", "status": "Indexing"}]),
            400,
            "InvalidJsonInput",
        ),
        (json!([{"action": "changeName"}]), 400, "InvalidJsonInput"),
        (json!([{"action": "noSuchAction"}]), 400, "InvalidJsonInput"),
        // A valid action first: the request is all or nothing.
        (
            json!([{"action": "changeName", "name": "New"},
                {"action": "changeCurrencies", "currencies": []}]),
            400,
            "InvalidOperation",
        ),
    ] {
        update(&app, &token, 1, actions.clone())
            .await
            .error(status, code);
    }
    let e = update(
        &app,
        &token,
        1,
        json!([{"action": "changeCountries", "countries": ["DE", "us"]}]),
    )
    .await
    .error(400, "InvalidField")
    .clone();
    assert_eq!(e["field"], "countries");
    assert_eq!(e["invalidValue"], "us");
    app.post("/demo", &token, json!({"actions": []}))
        .await
        .error(400, "InvalidJsonInput");
    app.post("/demo", &token, json!({"version": -1, "actions": []}))
        .await
        .error(400, "InvalidInput");
    assert_eq!(app.get("/demo", &token).await.ok(200), &before);
}

#[tokio::test]
async fn documented_but_unsupported_actions_are_named() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for name in [
        "changeCartsConfiguration",
        "changeBusinessUnitSearchStatus",
        "setReservationExpirationInMinutes",
    ] {
        let e = update(&app, &token, 1, json!([{"action": name}]))
            .await
            .error(400, "InvalidOperation")
            .clone();
        assert!(e["message"].as_str().unwrap().contains(name), "{e}");
    }
}

#[tokio::test]
async fn messages_enabled_and_external_oauth_are_set_and_the_header_is_shown_masked() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let oauth = json!({"url": "https://idp.example.com/introspect",
                       "authorizationHeader": "Bearer secret-token-1234"});
    let p = update(
        &app,
        &token,
        1,
        json!([{"action": "changeMessagesEnabled", "messagesEnabled": true},
               {"action": "setExternalOAuth", "externalOAuth": oauth}]),
    )
    .await;
    let p = p.ok(200).clone();
    assert_eq!(p["version"], 2);
    assert_eq!(p["messages"]["enabled"], true);
    assert_eq!(
        p["externalOAuth"]["url"],
        "https://idp.example.com/introspect"
    );
    assert_eq!(p["externalOAuth"]["authorizationHeader"], "****1234");
    let got = app.get("/demo", &token).await;
    assert_eq!(
        got.ok(200)["externalOAuth"]["authorizationHeader"],
        "****1234"
    );

    // Malformed values are refused and change nothing.
    for bad in [
        json!({"url": "not a url", "authorizationHeader": "Bearer x-y-z"}),
        json!({"url": "https://idp.example.com", "authorizationHeader": " Bearer x"}),
    ] {
        update(
            &app,
            &token,
            2,
            json!([{"action": "setExternalOAuth", "externalOAuth": bad}]),
        )
        .await
        .error(400, "InvalidInput");
    }
    update(
        &app,
        &token,
        2,
        json!([{"action": "changeMessagesEnabled"}]),
    )
    .await
    .error(400, "InvalidJsonInput");
    // Absent removes it.
    let p = update(&app, &token, 2, json!([{"action": "setExternalOAuth"}])).await;
    let p = p.ok(200).clone();
    assert_eq!(p["version"], 3);
    assert!(p.get("externalOAuth").is_none(), "{p}");
    assert_eq!(p["messages"]["enabled"], true);
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_with_the_current_version() {
    let app = spawn_app().await;
    let token = app.admin().await;
    update(
        &app,
        &token,
        1,
        json!([{"action": "changeName", "name": "Two"}]),
    )
    .await
    .ok(200);
    let e = update(
        &app,
        &token,
        1,
        json!([{"action": "changeName", "name": "Three"}]),
    )
    .await
    .error(409, "ConcurrentModification")
    .clone();
    assert_eq!(e["currentVersion"], 2);
    assert_eq!(
        e["message"],
        "Object demo has a different version than expected. Expected: 1 - Actual: 2."
    );
    assert_eq!(app.get("/demo", &token).await.ok(200)["name"], "Two");
}

#[tokio::test]
async fn scopes_follow_the_project_settings_rules() {
    let app = spawn_app().await;
    let view = app.token("view_project_settings:demo").await;
    let manage = app.token("manage_project_settings:demo").await;
    let other = app.token("manage_customers:demo").await;
    app.get("/demo", &view).await.ok(200);
    assert_eq!(app.head("/demo", &view).await, 200);
    update(
        &app,
        &view,
        1,
        json!([{"action": "changeName", "name": "X"}]),
    )
    .await
    .error(403, "insufficient_scope");
    app.get("/demo", &manage).await.ok(200);
    assert_eq!(app.head("/demo", &manage).await, 200);
    update(
        &app,
        &manage,
        1,
        json!([{"action": "changeName", "name": "X"}]),
    )
    .await
    .ok(200);
    let e = app
        .get("/demo", &other)
        .await
        .error(403, "insufficient_scope")
        .clone();
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("view_project_settings"));
    assert_eq!(app.head("/demo", &other).await, 403);
    app.get("/demo", "no-such-token")
        .await
        .error(401, "invalid_token");
    // A token of one project does not read another.
    app.create_project("other").await;
    let theirs = app.token_in("other", "manage_project:other").await;
    assert_eq!(app.get("/other", &theirs).await.ok(200)["key"], "other");
    app.get("/demo", &theirs)
        .await
        .error(403, "insufficient_scope");
    // A valid token meeting a project that does not exist: 404, as for any unknown path.
    app.get("/nope", &theirs)
        .await
        .error(404, "ResourceNotFound");
    assert_eq!(app.head("/nope", &theirs).await, 404);
    update(&app, &theirs, 1, json!([]))
        .await
        .error(403, "insufficient_scope");
    app.post("/nope", &theirs, json!({"version": 1, "actions": []}))
        .await
        .error(404, "ResourceNotFound");
    app.get("/nope", "no-such-token")
        .await
        .error(401, "invalid_token");
}

#[tokio::test]
async fn changed_languages_are_the_ones_validation_uses() {
    let app = spawn_app().await;
    let token = app.admin().await;
    // A Store that uses "de" keeps it in the project.
    app.post(
        "/demo/stores",
        &token,
        json!({"key": "de-shop", "languages": ["de"]}),
    )
    .await
    .ok(201);
    let before = app.get("/demo", &token).await.ok(200).clone();
    update(
        &app,
        &token,
        1,
        json!([{"action": "changeLanguages", "languages": ["en"]}]),
    )
    .await
    .error(400, "LanguageUsedInStores");
    assert_eq!(app.get("/demo", &token).await.ok(200), &before);

    // Adding "fr" lets Stores and customers use it; removing "en" (no Store uses it) stops them.
    update(
        &app,
        &token,
        1,
        json!([{"action": "changeLanguages", "languages": ["de", "fr"]}]),
    )
    .await
    .ok(200);
    app.post(
        "/demo/stores",
        &token,
        json!({"key": "fr-shop", "languages": ["fr"]}),
    )
    .await
    .ok(201);
    app.post(
        "/demo/stores",
        &token,
        json!({"key": "en-shop", "languages": ["en"]}),
    )
    .await
    .error(400, "ProjectNotConfiguredForLanguages");
    let c = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "fr@example.com", "password": "secret123", "locale": "fr"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(c["customer"]["locale"], "fr");
    app.post(
        "/demo/customers",
        &token,
        json!({"email": "en@example.com", "password": "secret123", "locale": "en"}),
    )
    .await
    .error(400, "InvalidField");
}
