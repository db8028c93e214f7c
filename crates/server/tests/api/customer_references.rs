//! Customers that reference Customer Groups and Types, through HTTP: the draft fields
//! (customerGroup, customerGroupAssignments, custom, address custom), the group and custom
//! update actions with their Messages and errors, the value validation matrix for every field
//! type, predicates over custom fields, and expansion of groups.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn group(app: &TestApp, token: &str, key: &str) -> String {
    let r = app
        .post(
            "/demo/customer-groups",
            token,
            json!({"groupName": key, "key": key}),
        )
        .await;
    r.ok(201)["id"].as_str().unwrap().to_owned()
}

fn def(name: &str, ty: Value, required: bool) -> Value {
    json!({"name": name, "label": {"en": name}, "required": required, "type": ty})
}

/// A Type for customers with one field per field type (none required).
async fn all_types(app: &TestApp, token: &str) -> String {
    let enum_values =
        json!([{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]);
    let r = app
        .post(
            "/demo/types",
            token,
            json!({
                "key": "everything",
                "name": {"en": "Everything"},
                "resourceTypeIds": ["customer"],
                "fieldDefinitions": [
                    def("bool", json!({"name": "Boolean"}), false),
                    def("text", json!({"name": "String"}), false),
                    def("ltext", json!({"name": "LocalizedString"}), false),
                    def("tier", json!({"name": "Enum", "values": enum_values}), false),
                    def("lenum", json!({"name": "LocalizedEnum", "values": [{"key": "a", "label": {"en": "A"}}]}), false),
                    def("num", json!({"name": "Number"}), false),
                    def("money", json!({"name": "Money"}), false),
                    def("date", json!({"name": "Date"}), false),
                    def("time", json!({"name": "Time"}), false),
                    def("datetime", json!({"name": "DateTime"}), false),
                    def("ref", json!({"name": "Reference", "referenceTypeId": "customer"}), false),
                    def("tags", json!({"name": "Set", "elementType": {"name": "String"}}), false),
                    def("tiers", json!({"name": "Set", "elementType": {"name": "Enum", "values": enum_values}}), false)
                ]
            }),
        )
        .await;
    r.ok(201)["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn drafts_resolve_groups_and_custom_fields() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let vip = group(&app, &token, "vip").await;
    let b2b = group(&app, &token, "b2b").await;
    let type_id = all_types(&app, &token).await;
    app.post(
        "/demo/types",
        &token,
        json!({"key": "addr", "name": {"en": "A"}, "resourceTypeIds": ["address"],
               "fieldDefinitions": [def("floor", json!({"name": "Number"}), true)]}),
    )
    .await
    .ok(201);
    let c = app
        .external_customer(
            &token,
            "a@example.com",
            json!({
                "customerGroup": {"typeId": "customer-group", "key": "vip"},
                "customerGroupAssignments": [{"customerGroup": {"id": b2b}}],
                "custom": {"type": {"key": "everything"}, "fields": {"tier": "gold", "money": {"centAmount": 100, "currencyCode": "EUR"}}},
                "addresses": [{"country": "DE", "custom": {"type": {"key": "addr"}, "fields": {"floor": 3}}}]
            }),
        )
        .await;
    assert_eq!(
        c["customerGroup"],
        json!({"typeId": "customer-group", "id": vip})
    );
    assert_eq!(
        c["customerGroupAssignments"],
        json!([{"customerGroup": {"typeId": "customer-group", "id": b2b}}])
    );
    assert_eq!(
        c["custom"]["type"],
        json!({"typeId": "type", "id": type_id})
    );
    assert_eq!(
        c["custom"]["fields"]["money"],
        json!({"type": "centPrecision", "currencyCode": "EUR", "centAmount": 100, "fractionDigits": 2})
    );
    assert_eq!(c["addresses"][0]["custom"]["fields"]["floor"], 3);

    let r = app
        .post("/demo/customers", &token, json!({"email": "b@example.com", "authenticationMode": "ExternalAuth", "customerGroup": {"key": "nope"}}))
        .await;
    let e = r.error(400, "ReferencedResourceNotFound");
    assert_eq!(
        (e["typeId"].as_str(), e["key"].as_str()),
        (Some("customer-group"), Some("nope"))
    );
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "b@example.com", "authenticationMode": "ExternalAuth",
            "addresses": [{"country": "DE", "custom": {"type": {"key": "addr"}}}]}),
        )
        .await;
    assert_eq!(r.error(400, "RequiredField")["field"], "floor");
    app.post(
        "/demo/customers",
        &token,
        json!({"email": "b@example.com", "authenticationMode": "ExternalAuth",
            "custom": {"type": {"key": "addr"}}}),
    )
    .await
    .error(400, "InvalidOperation");
    app.post(
        "/demo/customers",
        &token,
        json!({"email": "b@example.com", "authenticationMode": "ExternalAuth",
            "custom": {"type": {"key": "everything"}, "fields": {"tier": "bronze"}}}),
    )
    .await
    .error(400, "InvalidField");
}

#[tokio::test]
async fn group_actions_update_the_customer_and_write_messages() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let vip = group(&app, &token, "vip").await;
    let b2b = group(&app, &token, "b2b").await;
    let c = app
        .external_customer(&token, "a@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    let r = app
        .update(&token, id, &json!(1), json!([
            {"action": "setCustomerGroup", "customerGroup": {"key": "vip"}},
            {"action": "setCustomerGroupAssignments", "customerGroupAssignments": [{"customerGroup": {"key": "vip"}}]},
            {"action": "addCustomerGroupAssignment", "customerGroupAssignment": {"customerGroup": {"id": b2b}}},
            {"action": "removeCustomerGroupAssignment", "customerGroup": {"key": "vip"}}
        ]))
        .await;
    let c2 = r.ok(200);
    assert_eq!(c2["version"], 2);
    assert_eq!(c2["customerGroup"]["id"], vip.as_str());
    assert_eq!(
        c2["customerGroupAssignments"],
        json!([{"customerGroup": {"typeId": "customer-group", "id": b2b}}])
    );
    let types: Vec<String> = app
        .messages_of(&token, id)
        .await
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "CustomerCreated",
            "CustomerGroupSet",
            "CustomerGroupAssignmentsSet",
            "CustomerGroupAssignmentAdded",
            "CustomerGroupAssignmentRemoved"
        ]
    );
    // Expansion of both kinds of group reference.
    let got = app
        .get(&format!("/demo/customers/{id}?expand=customerGroup&expand=customerGroupAssignments[*].customerGroup"), &token)
        .await;
    assert_eq!(got.ok(200)["customerGroup"]["obj"]["key"], "vip");
    assert_eq!(
        got.body["customerGroupAssignments"][0]["customerGroup"]["obj"]["key"],
        "b2b"
    );
    // Errors.
    app.update(
        &token,
        id,
        &json!(2),
        json!([{"action": "setCustomerGroup", "customerGroup": {"key": "nope"}}]),
    )
    .await
    .error(400, "ReferencedResourceNotFound");
    app.update(
        &token,
        id,
        &json!(2),
        json!([{"action": "removeCustomerGroupAssignment", "customerGroup": {"key": "vip"}}]),
    )
    .await
    .error(400, "InvalidOperation");
    app.update(
        &token,
        id,
        &json!(2),
        json!([{"action": "setCustomerGroup", "customerGroup": {"key": "vip", "id": vip}}]),
    )
    .await
    .error(400, "InvalidJsonInput");
    let r = app
        .update(
            &token,
            id,
            &json!(2),
            json!([{"action": "setCustomerGroup"}]),
        )
        .await;
    assert!(r.ok(200).get("customerGroup").is_none());
}

#[tokio::test]
async fn custom_actions_validate_every_field_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    all_types(&app, &token).await;
    let c = app
        .external_customer(&token, "a@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    app.update(
        &token,
        &id,
        &json!(1),
        json!([{"action": "setCustomField", "name": "text", "value": "x"}]),
    )
    .await
    .error(400, "InvalidOperation");
    let r = app
        .update(
            &token,
            &id,
            &json!(1),
            json!([{"action": "setCustomType", "type": {"key": "everything"}}]),
        )
        .await;
    let mut version = r.ok(200)["version"].as_i64().unwrap();
    assert_eq!(r.body["custom"]["fields"], json!({}));
    // (field, accepted value, stored value, rejected value)
    let matrix = [
        ("bool", json!(true), json!(true), json!("true")),
        ("text", json!("hello"), json!("hello"), json!(1)),
        (
            "ltext",
            json!({"en": "hi"}),
            json!({"en": "hi"}),
            json!("hi"),
        ),
        ("tier", json!("gold"), json!("gold"), json!("bronze")),
        ("lenum", json!("a"), json!("a"), json!("b")),
        ("num", json!(4.5), json!(4.5), json!("4.5")),
        (
            "money",
            json!({"centAmount": 5, "currencyCode": "JPY"}),
            json!({"type": "centPrecision", "currencyCode": "JPY", "centAmount": 5, "fractionDigits": 0}),
            json!({"centAmount": 5}),
        ),
        (
            "date",
            json!("2024-02-29"),
            json!("2024-02-29"),
            json!("2024-02-30"),
        ),
        (
            "time",
            json!("10:11:12"),
            json!("10:11:12.000"),
            json!("25:00:00"),
        ),
        (
            "datetime",
            json!("2024-01-01T10:00:00+02:00"),
            json!("2024-01-01T08:00:00.000Z"),
            json!("2024-01-01"),
        ),
        (
            "ref",
            json!({"typeId": "customer", "id": "c-1"}),
            json!({"typeId": "customer", "id": "c-1"}),
            json!({"typeId": "order", "id": "o"}),
        ),
        (
            "tags",
            json!(["a", "b"]),
            json!(["a", "b"]),
            json!(["a", 2]),
        ),
        (
            "tiers",
            json!(["gold"]),
            json!(["gold"]),
            json!(["gold", "x"]),
        ),
    ];
    for (name, good, stored, bad) in matrix {
        let r = app
            .update(
                &token,
                &id,
                &json!(version),
                json!([{"action": "setCustomField", "name": name, "value": bad}]),
            )
            .await;
        let e = r.error(400, "InvalidField");
        assert_eq!(e["field"], name);
        assert_eq!(e["invalidValue"], bad);
        if name == "tier" || name == "tiers" {
            assert_eq!(e["allowedValues"], json!(["gold", "silver"]));
        }
        let r = app
            .update(
                &token,
                &id,
                &json!(version),
                json!([{"action": "setCustomField", "name": name, "value": good}]),
            )
            .await;
        assert_eq!(r.ok(200)["custom"]["fields"][name], stored, "{name}");
        version += 1;
    }
    // Unknown field, change, removal and their Messages.
    let r = app
        .update(
            &token,
            &id,
            &json!(version),
            json!([{"action": "setCustomField", "name": "nope", "value": 1}]),
        )
        .await;
    assert_eq!(r.error(400, "InvalidField")["field"], "nope");
    app.update(
        &token,
        &id,
        &json!(version),
        json!([
            {"action": "setCustomField", "name": "text", "value": "changed"},
            {"action": "setCustomField", "name": "bool", "value": null}
        ]),
    )
    .await
    .ok(200);
    version += 1;
    app.update(
        &token,
        &id,
        &json!(version),
        json!([{"action": "setCustomType"}]),
    )
    .await
    .ok(200);
    let msgs = app.messages_of(&token, &id).await;
    let last: Vec<&str> = msgs
        .iter()
        .rev()
        .take(4)
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        last,
        [
            "CustomerCustomTypeRemoved",
            "CustomerCustomFieldRemoved",
            "CustomerCustomFieldChanged",
            "CustomerCustomFieldAdded"
        ]
    );
    let changed = &msgs[msgs.len() - 3];
    assert_eq!(
        (
            &changed["name"],
            &changed["value"],
            &changed["previousValue"]
        ),
        (&json!("text"), &json!("changed"), &json!("hello"))
    );
    assert!(msgs
        .iter()
        .any(|m| m["type"] == "CustomerCustomTypeSet" && m["customFields"]["fields"] == json!({})));
}

#[tokio::test]
async fn address_custom_actions_and_messages() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.post(
        "/demo/types",
        &token,
        json!({"key": "addr", "name": {"en": "A"}, "resourceTypeIds": ["address"],
               "fieldDefinitions": [def("floor", json!({"name": "Number"}), false)]}),
    )
    .await
    .ok(201);
    let c = app
        .external_customer(
            &token,
            "a@example.com",
            json!({"addresses": [{"country": "DE"}]}),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    let address_id = c["addresses"][0]["id"].as_str().unwrap();
    let r = app
        .update(&token, id, &json!(1), json!([
            {"action": "setAddressCustomType", "addressId": address_id, "type": {"key": "addr"}, "fields": {"floor": 1}},
            {"action": "setAddressCustomField", "addressId": address_id, "name": "floor", "value": 2}
        ]))
        .await;
    assert_eq!(r.ok(200)["addresses"][0]["custom"]["fields"]["floor"], 2);
    let msgs = app.messages_of(&token, id).await;
    assert_eq!(msgs[1]["type"], "CustomerAddressCustomTypeSet");
    assert_eq!(msgs[1]["addressId"], address_id);
    assert_eq!(msgs[2]["type"], "CustomerAddressCustomFieldChanged");
    assert_eq!(msgs[2]["previousValue"], 1);
    app.update(
        &token,
        id,
        &json!(2),
        json!([{"action": "setAddressCustomType", "addressId": "nope"}]),
    )
    .await
    .error(400, "InvalidOperation");
    app.update(
        &token,
        id,
        &json!(2),
        json!([{"action": "setCustomType", "type": {"key": "addr"}}]),
    )
    .await
    .error(400, "InvalidOperation");
}

#[tokio::test]
async fn predicates_reach_custom_fields_and_groups() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let vip = group(&app, &token, "vip").await;
    all_types(&app, &token).await;
    for (email, tier, num) in [
        ("a@example.com", "gold", 1),
        ("b@example.com", "silver", 5),
        ("c@example.com", "gold", 9),
    ] {
        app.external_customer(
            &token,
            email,
            json!({
                "custom": {"type": {"key": "everything"}, "fields": {"tier": tier, "num": num}},
                "customerGroupAssignments": [{"customerGroup": {"key": "vip"}}]
            }),
        )
        .await;
    }
    app.external_customer(&token, "d@example.com", json!({}))
        .await;
    let count = |q: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let path = format!("/demo/customers?where={}", urlencode(q));
            app.get(&path, &token).await.ok(200)["total"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(count(r#"custom(fields(tier = "gold"))"#).await, 2);
    assert_eq!(
        count(r#"custom(fields(tier = "gold" and num > 5))"#).await,
        1
    );
    assert_eq!(count(r#"custom(fields(num >= 5))"#).await, 2);
    assert_eq!(count(r#"custom is not defined"#).await, 1);
    let by_group = format!(r#"customerGroupAssignments(customerGroup(id = "{vip}"))"#);
    let path = format!("/demo/customers?where={}", urlencode(&by_group));
    assert_eq!(app.get(&path, &token).await.ok(200)["total"], 3);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
