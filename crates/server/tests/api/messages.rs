//! The Message log through HTTP: one Message per change with the full envelope, numbered per
//! resource from 1; `GET|HEAD /{p}/messages/{id}`; paging; data erasure on delete.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn every_change_writes_numbered_messages_with_the_envelope() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "m@example.com", json!({"key": "m-key"}))
        .await;
    let id = c["id"].as_str().unwrap();
    let n = app
        .update(
            &token,
            id,
            &json!(1),
            json!([{"action": "setFirstName", "firstName": "M"}]),
        )
        .await;
    n.ok(200);
    app.clock.advance(time::Duration::seconds(1));
    let n = app
        .update(
            &token,
            id,
            &json!(2),
            json!([{"action": "setLastName", "lastName": "N"}]),
        )
        .await;
    n.ok(200);

    let msgs = app.messages_of(&token, id).await;
    assert_eq!(msgs.len(), 3);
    let types: Vec<_> = msgs.iter().map(|m| m["type"].clone()).collect();
    assert_eq!(
        types,
        vec![
            json!("CustomerCreated"),
            json!("CustomerFirstNameSet"),
            json!("CustomerLastNameSet")
        ]
    );
    for (i, m) in msgs.iter().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(m["sequenceNumber"], n);
        assert_eq!(m["resourceVersion"], n);
        assert_eq!(m["version"], 1);
        assert_eq!(m["resource"], json!({"typeId": "customer", "id": id}));
        assert_eq!(
            m["resourceUserProvidedIdentifiers"],
            json!({"key": "m-key"})
        );
        assert_eq!(m["createdAt"], m["lastModifiedAt"]);
        assert_eq!(m["createdBy"]["clientId"], c["createdBy"]["clientId"]);
        assert_eq!(m["createdBy"]["isPlatformClient"], false);
        assert_eq!(m["lastModifiedBy"], m["createdBy"]);
        assert!(uuid::Uuid::parse_str(m["id"].as_str().unwrap()).is_ok());
    }
    assert_eq!(
        msgs[0]["customer"], c,
        "CustomerCreated carries the customer"
    );
    assert_eq!(msgs[1]["firstName"], "M");
    assert_eq!(msgs[2]["lastName"], "N");
    assert_eq!(msgs[2]["createdAt"], "2023-11-14T22:13:21.000Z");
}

#[tokio::test]
async fn one_request_with_several_actions_shares_one_resource_version() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "s@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    app.update(
        &token,
        id,
        &json!(1),
        json!([
            {"action": "setFirstName", "firstName": "A"},
            {"action": "setLastName", "lastName": "B"},
            {"action": "setTitle", "title": "C"}
        ]),
    )
    .await
    .ok(200);
    let msgs = app.messages_of(&token, id).await;
    let seq: Vec<_> = msgs.iter().map(|m| m["sequenceNumber"].clone()).collect();
    assert_eq!(seq, vec![json!(1), json!(2), json!(3), json!(4)]);
    for m in &msgs[1..] {
        assert_eq!(m["resourceVersion"], 2);
    }
    assert!(msgs[0].get("resourceUserProvidedIdentifiers").is_none());
}

#[tokio::test]
async fn a_message_can_be_read_and_probed_by_id() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let viewer = app.token("view_messages:demo").await;
    let c = app
        .external_customer(&token, "r@example.com", json!({}))
        .await;
    let m = &app.messages_of(&viewer, c["id"].as_str().unwrap()).await[0];
    let mid = m["id"].as_str().unwrap();
    let got = app.get(&format!("/demo/messages/{mid}"), &viewer).await;
    assert_eq!(got.ok(200), m);
    assert_eq!(
        app.head(&format!("/demo/messages/{mid}"), &viewer).await,
        200
    );

    let unknown = "00000000-0000-4000-8000-000000000000";
    let r = app.get(&format!("/demo/messages/{unknown}"), &viewer).await;
    assert_eq!(
        r.error(404, "ResourceNotFound")["message"],
        format!("The Resource with ID '{unknown}' was not found.")
    );
    assert_eq!(
        app.head(&format!("/demo/messages/{unknown}"), &viewer)
            .await,
        404
    );
    app.get("/demo/messages/not-a-uuid", &viewer)
        .await
        .error(404, "ResourceNotFound");
    assert_eq!(app.head("/demo/messages/not-a-uuid", &viewer).await, 404);
}

#[tokio::test]
async fn the_message_list_pages_like_every_collection() {
    let app = spawn_app().await;
    let token = app.admin().await;
    assert_eq!(app.head("/demo/messages", &token).await, 404);
    for i in 0..3 {
        app.clock.advance(time::Duration::seconds(1));
        app.external_customer(&token, &format!("p{i}@example.com"), json!({}))
            .await;
    }
    assert_eq!(app.head("/demo/messages", &token).await, 200);
    let r = app.get("/demo/messages", &token).await;
    let body = r.ok(200);
    assert_eq!(body["limit"], 20);
    assert_eq!(body["offset"], 0);
    assert_eq!(body["count"], 3);
    assert_eq!(body["total"], 3);
    let r = app
        .get("/demo/messages?limit=1&offset=2&withTotal=false", &token)
        .await;
    let body = r.ok(200);
    assert_eq!(body["count"], 1);
    assert!(body.get("total").is_none());
    assert_eq!(body["results"][0]["customer"]["email"], "p2@example.com");
    app.get("/demo/messages?limit=501", &token)
        .await
        .error(400, "InvalidInput");
    app.get("/demo/messages?sort=noSuchField%20asc", &token)
        .await
        .error(400, "InvalidInput");
    app.get("/demo/messages?expand=resource..id", &token)
        .await
        .error(400, "InvalidInput");
}

#[tokio::test]
async fn delete_writes_customer_deleted_and_data_erasure_removes_the_rest() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let keep = app
        .external_customer(&token, "keep@example.com", json!({}))
        .await;
    let erase = app
        .external_customer(&token, "erase@example.com", json!({}))
        .await;
    for c in [&keep, &erase] {
        app.update(
            &token,
            c["id"].as_str().unwrap(),
            &json!(1),
            json!([{"action": "setFirstName", "firstName": "X"}]),
        )
        .await
        .ok(200);
    }
    let keep_id = keep["id"].as_str().unwrap();
    let erase_id = erase["id"].as_str().unwrap();
    app.delete(&format!("/demo/customers/{keep_id}?version=2"), &token)
        .await
        .ok(200);
    app.delete(
        &format!("/demo/customers/{erase_id}?version=2&dataErasure=true"),
        &token,
    )
    .await
    .ok(200);

    let kept = app.messages_of(&token, keep_id).await;
    assert_eq!(kept.len(), 3);
    let deleted = &kept[2];
    assert_eq!(deleted["type"], "CustomerDeleted");
    assert_eq!(deleted["email"], "keep@example.com");
    assert_eq!(deleted["sequenceNumber"], 3);
    assert_eq!(deleted["resourceVersion"], 3);

    let erased = app.messages_of(&token, erase_id).await;
    assert_eq!(erased.len(), 1, "only CustomerDeleted remains: {erased:?}");
    assert_eq!(erased[0]["type"], "CustomerDeleted");
    assert_eq!(erased[0]["sequenceNumber"], 3);
}

#[tokio::test]
async fn failed_requests_write_no_messages() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "f@example.com", json!({"key": "f-key"}))
        .await;
    let id = c["id"].as_str().unwrap();
    app.update(
        &token,
        id,
        &json!(3),
        json!([{"action": "setTitle", "title": "T"}]),
    )
    .await
    .error(409, "ConcurrentModification");
    app.delete(&format!("/demo/customers/{id}?version=3"), &token)
        .await
        .error(409, "ConcurrentModification");
    app.post(
        "/demo/customers",
        &token,
        json!({"email": "F@example.com", "authenticationMode": "ExternalAuth"}),
    )
    .await
    .error(400, "DuplicateField");
    let all = app.get("/demo/messages", &token).await;
    assert_eq!(all.ok(200)["total"], 1, "{}", all.text);
}

#[tokio::test]
async fn expanding_resource_embeds_the_customer_while_it_exists() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "x@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap();
    let mid = app.messages_of(&token, id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!("/demo/messages/{mid}?expand=resource"), &token)
        .await;
    assert_eq!(r.ok(200)["resource"]["obj"], c);
    assert_eq!(r.body["resource"]["id"], id);
    let r = app.get("/demo/messages?expand=resource", &token).await;
    assert_eq!(r.ok(200)["results"][0]["resource"]["obj"]["id"], id);
    let r = app.get(&format!("/demo/messages/{mid}"), &token).await;
    assert!(
        r.ok(200)["resource"].get("obj").is_none(),
        "only when asked"
    );

    app.delete(&format!("/demo/customers/{id}?version=1"), &token)
        .await
        .ok(200);
    let r = app
        .get(&format!("/demo/messages/{mid}?expand=resource"), &token)
        .await;
    assert!(
        r.ok(200)["resource"].get("obj").is_none(),
        "a reference that no longer resolves is left as it is"
    );
}

/// The time of a version 7 UUID, in milliseconds since the Unix epoch.
fn uuid_v7_millis(id: &str) -> u64 {
    let parsed = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(parsed.get_version_num(), 7, "{id} is not a UUID v7");
    let (secs, nanos) = parsed.get_timestamp().unwrap().to_unix();
    secs * 1000 + u64::from(nanos) / 1_000_000
}

#[tokio::test]
async fn customers_and_their_messages_get_ids_in_the_order_they_were_created() {
    // Time-ordered ids keep the id indexes of customers and Messages append-only; the
    // ids stay plain UUIDs (design.md, "Hot paths").
    let app = spawn_app().await;
    let token = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = app
            .external_customer(&token, &format!("order{i}@example.com"), json!({}))
            .await;
        let id = c["id"].as_str().unwrap().to_owned();
        let created = time::OffsetDateTime::parse(
            c["createdAt"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let millis = u64::try_from(created.unix_timestamp_nanos() / 1_000_000).unwrap();
        assert_eq!(uuid_v7_millis(&id), millis, "the id names its createdAt");
        let msgs = app.messages_of(&token, &id).await;
        assert_eq!(uuid_v7_millis(msgs[0]["id"].as_str().unwrap()), millis);
        ids.push(id);
        app.clock.advance(time::Duration::milliseconds(1));
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids);
}
