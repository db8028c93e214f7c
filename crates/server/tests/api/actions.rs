//! Every supported update action through `POST /{p}/customers/{id}` (and by key): its effect,
//! its Message, and its documented errors; plus request-level rules (version check, one
//! increment per request, no-op requests, atomicity, unknown and unsupported actions).

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

/// A fresh app, an admin token and one ExternalAuth customer with a key.
async fn setup() -> (TestApp, String, Value) {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "act@example.com", json!({"key": "act"}))
        .await;
    (app, token, c)
}

/// Applies `actions` to `c` at its current version; asserts 200 and returns the new customer.
async fn apply(app: &TestApp, token: &str, c: &Value, actions: Value) -> Value {
    let r = app
        .update(token, c["id"].as_str().unwrap(), &c["version"], actions)
        .await;
    r.ok(200).clone()
}

/// Applies `actions` and returns the failed response (asserting nothing changed).
async fn fail(app: &TestApp, token: &str, c: &Value, actions: Value) -> crate::helpers::Resp {
    let id = c["id"].as_str().unwrap();
    let r = app.update(token, id, &c["version"], actions).await;
    assert!(r.status >= 400, "expected a failure, got {}", r.text);
    let now = app.get(&format!("/demo/customers/{id}"), token).await;
    assert_eq!(now.ok(200), c, "a failed update changes nothing");
    r
}

/// The messages of `c` after its CustomerCreated.
async fn later_messages(app: &TestApp, token: &str, c: &Value) -> Vec<Value> {
    let all = app.messages_of(token, c["id"].as_str().unwrap()).await;
    all.into_iter().skip(1).collect()
}

#[tokio::test]
async fn change_email_resets_verification_and_writes_a_message() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "Old@Example.com", json!({"isEmailVerified": true}))
        .await;
    assert_eq!(c["isEmailVerified"], true);
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "changeEmail", "email": "New@Example.com"}]),
    )
    .await;
    assert_eq!(n["email"], "New@Example.com");
    assert_eq!(n["isEmailVerified"], false);
    assert_eq!(n["version"], 2);
    let m = later_messages(&app, &token, &c).await;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["type"], "CustomerEmailChanged");
    assert_eq!(m[0]["email"], "New@Example.com");
    assert_eq!(m[0]["oldEmail"], "Old@Example.com");
}

#[tokio::test]
async fn change_email_to_a_taken_or_blank_email_fails() {
    let (app, token, c) = setup().await;
    app.external_customer(&token, "Taken@example.com", json!({}))
        .await;
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "changeEmail", "email": "taken@EXAMPLE.com"}]),
    )
    .await;
    let e = r.error(400, "DuplicateField");
    assert_eq!(e["field"], "email");
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "changeEmail", "email": ""}]),
    )
    .await;
    r.error(400, "InvalidInput");
    let r = fail(&app, &token, &c, json!([{"action": "changeEmail"}])).await;
    r.error(400, "InvalidJsonInput");
    // A case-only change of one's own email is allowed.
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "changeEmail", "email": "ACT@example.com"}]),
    )
    .await;
    assert_eq!(n["email"], "ACT@example.com");
}

#[tokio::test]
async fn name_and_profile_setters_set_and_unset_with_their_messages() {
    let (app, token, c) = setup().await;
    let n = apply(
        &app,
        &token,
        &c,
        json!([
            {"action": "setFirstName", "firstName": "Ann"},
            {"action": "setLastName", "lastName": "Lee"},
            {"action": "setMiddleName", "middleName": "M"},
            {"action": "setTitle", "title": "Prof."},
            {"action": "setSalutation", "salutation": "Hi"},
            {"action": "setCompanyName", "companyName": "Acme"},
            {"action": "setDateOfBirth", "dateOfBirth": "2000-01-31"},
            {"action": "setVatId", "vatId": "DE1"},
            {"action": "setExternalId", "externalId": "x-1"}
        ]),
    )
    .await;
    assert_eq!(n["version"], 2, "one increment per request");
    for (field, value) in [
        ("firstName", "Ann"),
        ("lastName", "Lee"),
        ("middleName", "M"),
        ("title", "Prof."),
        ("salutation", "Hi"),
        ("companyName", "Acme"),
        ("dateOfBirth", "2000-01-31"),
        ("vatId", "DE1"),
        ("externalId", "x-1"),
    ] {
        assert_eq!(n[field], value, "{field}");
    }
    let types: Vec<Value> = later_messages(&app, &token, &c)
        .await
        .iter()
        .map(|m| m["type"].clone())
        .collect();
    // Middle name, salutation and VAT id have no Message in commercetools.
    assert_eq!(
        types,
        json!([
            "CustomerFirstNameSet",
            "CustomerLastNameSet",
            "CustomerTitleSet",
            "CustomerCompanyNameSet",
            "CustomerDateOfBirthSet",
            "CustomerExternalIdSet"
        ])
        .as_array()
        .unwrap()
        .clone()
    );
    let m = later_messages(&app, &token, &c).await;
    assert_eq!(m[0]["firstName"], "Ann");
    assert_eq!(m[4]["dateOfBirth"], "2000-01-31");

    // Absent or null removes.
    let u = apply(
        &app,
        &token,
        &n,
        json!([
            {"action": "setFirstName"},
            {"action": "setLastName", "lastName": null},
            {"action": "setMiddleName"},
            {"action": "setTitle"},
            {"action": "setSalutation"},
            {"action": "setCompanyName"},
            {"action": "setDateOfBirth"},
            {"action": "setVatId"},
            {"action": "setExternalId"}
        ]),
    )
    .await;
    assert_eq!(u["version"], 3);
    for field in [
        "firstName",
        "lastName",
        "middleName",
        "title",
        "salutation",
        "companyName",
        "dateOfBirth",
        "vatId",
        "externalId",
    ] {
        assert!(u.get(field).is_none(), "{field} removed");
    }
    let m = later_messages(&app, &token, &c).await;
    assert_eq!(m.len(), 12);
    assert_eq!(m[6]["type"], "CustomerFirstNameSet");
    assert!(m[6].get("firstName").is_none());
}

#[tokio::test]
async fn wrong_types_in_actions_are_invalid_json() {
    let (app, token, c) = setup().await;
    for action in [
        json!({"action": "setFirstName", "firstName": 5}),
        json!({"action": "setDateOfBirth", "dateOfBirth": "31.01.2000"}),
        json!({"action": "setLocale", "locale": ["de"]}),
        json!({"action": "setAuthenticationMode", "authMode": "Magic"}),
        json!({"noAction": true}),
    ] {
        let r = fail(&app, &token, &c, json!([action])).await;
        let e = r.error(400, "InvalidJsonInput");
        assert!(e["detailedErrorMessage"].is_string());
    }
}

#[tokio::test]
async fn set_locale_accepts_only_project_languages() {
    let (app, token, c) = setup().await;
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "setLocale", "locale": "de"}]),
    )
    .await;
    assert_eq!(n["locale"], "de");
    let r = fail(
        &app,
        &token,
        &n,
        json!([{"action": "setLocale", "locale": "fr"}]),
    )
    .await;
    let e = r.error(400, "InvalidField");
    assert_eq!(e["field"], "locale");
    assert_eq!(e["invalidValue"], "fr");
    assert_eq!(e["allowedValues"], json!(["en", "de"]));
    let u = apply(&app, &token, &n, json!([{"action": "setLocale"}])).await;
    assert!(u.get("locale").is_none());
    assert!(
        later_messages(&app, &token, &c).await.is_empty(),
        "no Message"
    );
}

#[tokio::test]
async fn set_key_validates_and_keeps_keys_unique() {
    let (app, token, c) = setup().await;
    app.external_customer(&token, "other@example.com", json!({"key": "taken"}))
        .await;
    let r = fail(&app, &token, &c, json!([{"action": "setKey", "key": "x"}])).await;
    r.error(400, "InvalidInput");
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "setKey", "key": "a/b"}]),
    )
    .await;
    r.error(400, "InvalidInput");
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "setKey", "key": "taken"}]),
    )
    .await;
    let e = r.error(400, "DuplicateField");
    assert_eq!(e["field"], "key");
    assert_eq!(e["duplicateValue"], "taken");
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "setKey", "key": "new-key"}]),
    )
    .await;
    assert_eq!(n["key"], "new-key");
    assert_eq!(
        app.get("/demo/customers/key=new-key", &token).await.ok(200)["id"],
        c["id"]
    );
    app.get("/demo/customers/key=act", &token)
        .await
        .error(404, "ResourceNotFound");
    let u = apply(&app, &token, &n, json!([{"action": "setKey"}])).await;
    assert!(u.get("key").is_none());
}

#[tokio::test]
async fn set_customer_number_is_immutable_once_set_and_unique() {
    let (app, token, c) = setup().await;
    app.external_customer(
        &token,
        "other@example.com",
        json!({"customerNumber": "N-9"}),
    )
    .await;
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "setCustomerNumber", "customerNumber": "N-9"}]),
    )
    .await;
    assert_eq!(r.error(400, "DuplicateField")["field"], "customerNumber");
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "setCustomerNumber", "customerNumber": "N-1"}]),
    )
    .await;
    assert_eq!(n["customerNumber"], "N-1");
    let r = fail(
        &app,
        &token,
        &n,
        json!([{"action": "setCustomerNumber", "customerNumber": "N-2"}]),
    )
    .await;
    r.error(400, "InvalidOperation");
    let r = fail(&app, &token, &n, json!([{"action": "setCustomerNumber"}])).await;
    r.error(400, "InvalidOperation");
    // Setting the same value again is a no-op.
    let same = apply(
        &app,
        &token,
        &n,
        json!([{"action": "setCustomerNumber", "customerNumber": "N-1"}]),
    )
    .await;
    assert_eq!(same["version"], n["version"]);
}

#[tokio::test]
async fn set_authentication_mode_switches_and_hashes_the_password() {
    let (app, token, c) = setup().await;
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "setAuthenticationMode", "authMode": "Password"}]),
    )
    .await;
    assert_eq!(r.error(400, "RequiredField")["field"], "password");
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "setAuthenticationMode", "authMode": "ExternalAuth"}]),
    )
    .await;
    r.error(400, "InvalidOperation");
    let r = app
        .update(
            &token,
            c["id"].as_str().unwrap(),
            &c["version"],
            json!([{"action": "setAuthenticationMode", "authMode": "Password", "password": "pw-12345"}]),
        )
        .await;
    let n = r.ok(200).clone();
    assert_eq!(n["authenticationMode"], "Password");
    let masked = n["password"].as_str().unwrap();
    assert!(masked.starts_with("****"));
    assert!(!r.text.contains("pw-12345"));
    let stored = app
        .get(
            &format!("/demo/customers/{}", c["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(stored.ok(200)["password"], masked);
    let e = apply(
        &app,
        &token,
        &n,
        json!([{"action": "setAuthenticationMode", "authMode": "ExternalAuth"}]),
    )
    .await;
    assert_eq!(e["authenticationMode"], "ExternalAuth");
    assert!(
        e.get("password").is_none(),
        "switching to ExternalAuth deletes the password"
    );
}

#[tokio::test]
async fn address_actions_by_id_and_key() {
    let (app, token, c) = setup().await;
    let n = apply(
        &app,
        &token,
        &c,
        json!([
            {"action": "addAddress", "address": {"key": "home", "country": "DE", "city": "Berlin"}},
            {"action": "addAddress", "address": {"key": "work", "country": "US"}}
        ]),
    )
    .await;
    let home = n["addresses"][0]["id"].as_str().unwrap().to_owned();
    let work = n["addresses"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(n["addresses"][0]["city"], "Berlin");

    let n = apply(
        &app,
        &token,
        &n,
        json!([
            {"action": "setDefaultShippingAddress", "addressKey": "home"},
            {"action": "setDefaultBillingAddress", "addressId": work},
            {"action": "addShippingAddressId", "addressKey": "work"},
            {"action": "addBillingAddressId", "addressId": home}
        ]),
    )
    .await;
    assert_eq!(n["defaultShippingAddressId"], home);
    assert_eq!(n["defaultBillingAddressId"], work);
    assert_eq!(n["shippingAddressIds"], json!([home, work]));
    assert_eq!(n["billingAddressIds"], json!([work, home]));

    let n = apply(
        &app,
        &token,
        &n,
        json!([
            {"action": "changeAddress", "addressKey": "home",
             "address": {"key": "home", "country": "DE", "city": "Hamburg"}},
            {"action": "removeShippingAddressId", "addressId": home},
            {"action": "removeBillingAddressId", "addressKey": "work"}
        ]),
    )
    .await;
    assert_eq!(n["addresses"][0]["id"], home, "changeAddress keeps the id");
    assert_eq!(n["addresses"][0]["city"], "Hamburg");
    assert!(
        n.get("defaultShippingAddressId").is_none(),
        "removed default unset"
    );
    assert_eq!(n["shippingAddressIds"], json!([work]));
    assert!(n.get("defaultBillingAddressId").is_none());
    assert_eq!(n["billingAddressIds"], json!([home]));

    let n = apply(
        &app,
        &token,
        &n,
        json!([{"action": "removeAddress", "addressId": work}]),
    )
    .await;
    assert_eq!(n["addresses"].as_array().unwrap().len(), 1);
    assert_eq!(n["shippingAddressIds"], json!([]));

    let types: Vec<String> = later_messages(&app, &token, &c)
        .await
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "CustomerAddressAdded",
        "CustomerDefaultShippingAddressSet",
        "CustomerDefaultBillingAddressSet",
        "CustomerShippingAddressAdded",
        "CustomerBillingAddressAdded",
        "CustomerAddressChanged",
        "CustomerShippingAddressRemoved",
        "CustomerBillingAddressRemoved",
        "CustomerAddressRemoved",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    let removed = later_messages(&app, &token, &c).await;
    let removed = removed.last().unwrap();
    assert_eq!(removed["type"], "CustomerAddressRemoved");
    assert_eq!(removed["address"]["id"], work);
    assert_eq!(removed["addressRoles"], json!(["Shipping"]));
}

#[tokio::test]
async fn address_actions_report_unknown_and_ambiguous_addresses() {
    let (app, token, c) = setup().await;
    let c = apply(
        &app,
        &token,
        &c,
        json!([{"action": "addAddress", "address": {"key": "a1", "country": "DE"}}]),
    )
    .await;
    let id = c["addresses"][0]["id"].as_str().unwrap().to_owned();
    for action in [
        "removeAddress",
        "setDefaultShippingAddress",
        "setDefaultBillingAddress",
        "addShippingAddressId",
        "addBillingAddressId",
        "removeShippingAddressId",
        "removeBillingAddressId",
    ] {
        let r = fail(
            &app,
            &token,
            &c,
            json!([{"action": action, "addressId": "nope"}]),
        )
        .await;
        r.error(400, "InvalidOperation");
        let r = fail(
            &app,
            &token,
            &c,
            json!([{"action": action, "addressKey": "nope"}]),
        )
        .await;
        r.error(400, "InvalidOperation");
        // Without either, the set-default actions unset the default (see below).
        if !action.starts_with("setDefault") {
            let r = fail(&app, &token, &c, json!([{"action": action}])).await;
            r.error(400, "InvalidInput");
        }
        let r = fail(
            &app,
            &token,
            &c,
            json!([{"action": action, "addressId": id, "addressKey": "a1"}]),
        )
        .await;
        r.error(400, "InvalidInput");
    }
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "changeAddress", "addressKey": "nope", "address": {"country": "DE"}}]),
    )
    .await;
    r.error(400, "InvalidOperation");
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "addAddress", "address": {"key": "a1", "country": "DE"}}]),
    )
    .await;
    assert_eq!(r.error(400, "DuplicateField")["field"], "addresses.key");
    let r = fail(
        &app,
        &token,
        &c,
        json!([{"action": "addAddress", "address": {}}]),
    )
    .await;
    r.error(400, "InvalidJsonInput");
}

#[tokio::test]
async fn store_actions_name_unknown_stores() {
    let (app, token, c) = setup().await;
    for action in [
        json!({"action": "addStore", "store": {"typeId": "store", "key": "eu"}}),
        json!({"action": "setStores", "stores": [{"key": "eu"}]}),
        json!({"action": "removeStore", "store": {"key": "eu"}}),
    ] {
        let r = fail(&app, &token, &c, json!([action])).await;
        let e = r.error(400, "ReferencedResourceNotFound");
        assert_eq!(e["typeId"], "store");
        assert_eq!(e["key"], "eu");
    }
}

#[tokio::test]
async fn unknown_actions_are_invalid_json_input() {
    let (app, token, c) = setup().await;
    let r = fail(&app, &token, &c, json!([{"action": "fly"}])).await;
    let e = r.error(400, "InvalidJsonInput");
    assert_eq!(e["message"], "Request body does not contain valid JSON.");
    assert!(e["detailedErrorMessage"].as_str().unwrap().contains("fly"));
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_with_the_current_version() {
    let (app, token, c) = setup().await;
    let id = c["id"].as_str().unwrap();
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "setFirstName", "firstName": "A"}]),
    )
    .await;
    let r = app
        .update(
            &token,
            id,
            &json!(1),
            json!([{"action": "setFirstName", "firstName": "B"}]),
        )
        .await;
    let e = r.error(409, "ConcurrentModification");
    assert_eq!(e["currentVersion"], 2);
    assert_eq!(
        e["message"],
        format!("Object {id} has a different version than expected. Expected: 1 - Actual: 2.")
    );
    let now = app.get(&format!("/demo/customers/{id}"), &token).await;
    assert_eq!(now.ok(200), &n);
    // Even a request that would change nothing checks the version.
    let r = app.update(&token, id, &json!(7), json!([])).await;
    r.error(409, "ConcurrentModification");
}

#[tokio::test]
async fn a_request_that_changes_nothing_keeps_the_version_and_writes_no_message() {
    let (app, token, c) = setup().await;
    let n = apply(&app, &token, &c, json!([])).await;
    assert_eq!(n, c);
    let n = apply(&app, &token, &c, json!([{"action": "setFirstName"}])).await;
    assert_eq!(n["version"], 1);
    let n = apply(
        &app,
        &token,
        &c,
        json!([
            {"action": "setFirstName", "firstName": "Tmp"},
            {"action": "setFirstName"}
        ]),
    )
    .await;
    assert_eq!(n["version"], 1, "set and unset in one request is no change");
    assert!(later_messages(&app, &token, &c).await.is_empty());
}

#[tokio::test]
async fn a_failing_action_rolls_back_the_whole_request() {
    let (app, token, c) = setup().await;
    let r = fail(
        &app,
        &token,
        &c,
        json!([
            {"action": "setFirstName", "firstName": "Should-Not-Stick"},
            {"action": "setLocale", "locale": "xx"}
        ]),
    )
    .await;
    r.error(400, "InvalidField");
    // The store-level failure (a duplicate) rolls back too.
    app.external_customer(&token, "busy@example.com", json!({}))
        .await;
    let r = fail(
        &app,
        &token,
        &c,
        json!([
            {"action": "setLastName", "lastName": "Nope"},
            {"action": "changeEmail", "email": "BUSY@example.com"}
        ]),
    )
    .await;
    r.error(400, "DuplicateField");
    assert!(
        later_messages(&app, &token, &c).await.is_empty(),
        "no messages written"
    );
}

#[tokio::test]
async fn updates_by_key_work_like_updates_by_id() {
    let (app, token, c) = setup().await;
    let r = app
        .post(
            "/demo/customers/key=act",
            &token,
            json!({"version": 1, "actions": [{"action": "setLastName", "lastName": "K"}]}),
        )
        .await;
    let n = r.ok(200);
    assert_eq!(n["id"], c["id"]);
    assert_eq!(n["lastName"], "K");
    assert_eq!(n["version"], 2);
    assert!(n["lastModifiedAt"].is_string());
    let r = app
        .post(
            "/demo/customers/key=missing",
            &token,
            json!({"version": 1, "actions": []}),
        )
        .await;
    r.error(404, "ResourceNotFound");
}

#[tokio::test]
async fn update_bodies_must_have_the_documented_shape() {
    let (app, token, c) = setup().await;
    let path = format!("/demo/customers/{}", c["id"].as_str().unwrap());
    for body in [
        json!({"actions": []}),
        json!({"version": 1}),
        json!({"version": "one", "actions": []}),
        json!({"version": 1, "actions": {}}),
        json!([]),
    ] {
        let r = app.post(&path, &token, body.clone()).await;
        let e = r.error(400, "InvalidJsonInput");
        assert!(e["detailedErrorMessage"].is_string(), "{body}");
    }
    let r = app
        .request_raw(
            reqwest::Method::POST,
            &path,
            &token,
            "{\"version\":1,".to_owned(),
        )
        .await;
    r.error(400, "InvalidJsonInput");
    let r = app
        .update(&token, c["id"].as_str().unwrap(), &json!(-1), json!([]))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn updates_record_the_time_and_the_client() {
    let (app, token, c) = setup().await;
    app.clock.advance(time::Duration::milliseconds(1_500));
    let n = apply(
        &app,
        &token,
        &c,
        json!([{"action": "setTitle", "title": "T"}]),
    )
    .await;
    assert_eq!(n["createdAt"], c["createdAt"]);
    assert_eq!(n["lastModifiedAt"], "2023-11-14T22:13:21.500Z");
    assert_eq!(n["lastModifiedBy"]["clientId"], c["createdBy"]["clientId"]);
    assert_eq!(n["lastModifiedBy"]["isPlatformClient"], false);
}

#[tokio::test]
async fn set_default_without_an_address_unsets_the_default() {
    let (app, token, c) = setup().await;
    let c = apply(
        &app,
        &token,
        &c,
        json!([
            {"action": "addAddress", "address": {"key": "a1", "country": "DE"}},
            {"action": "setDefaultShippingAddress", "addressKey": "a1"},
            {"action": "setDefaultBillingAddress", "addressKey": "a1"}
        ]),
    )
    .await;
    let id = c["addresses"][0]["id"].clone();
    assert_eq!(c["defaultShippingAddressId"], id);
    let n = apply(
        &app,
        &token,
        &c,
        json!([
            {"action": "setDefaultShippingAddress"},
            {"action": "setDefaultBillingAddress"}
        ]),
    )
    .await;
    assert!(n.get("defaultShippingAddressId").is_none());
    assert!(n.get("defaultBillingAddressId").is_none());
    assert_eq!(n["shippingAddressIds"], json!([id]), "still listed");
    let m = later_messages(&app, &token, &c).await;
    let last = &m[m.len() - 2..];
    assert_eq!(last[0]["type"], "CustomerDefaultShippingAddressSet");
    assert!(last[0].get("address").is_none());
    assert_eq!(last[1]["type"], "CustomerDefaultBillingAddressSet");
}
