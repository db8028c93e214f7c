//! Races through HTTP: concurrent sign-ups with one email (differently cased) yield exactly one
//! customer; concurrent updates at one version yield exactly one winner.

use crate::helpers::spawn_app;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_email_make_exactly_one_customer() {
    let app = Arc::new(spawn_app().await);
    let token = app.admin().await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let app = app.clone();
        let token = token.clone();
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@Example.com"
        };
        tasks.push(tokio::spawn(async move {
            app.post(
                "/demo/customers",
                &token,
                json!({"email": email, "authenticationMode": "ExternalAuth", "firstName": format!("n{i}")}),
            )
            .await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            201 => created += 1,
            400 => assert_eq!(r.body["errors"][0]["code"], "DuplicateField", "{}", r.text),
            409 => assert_eq!(r.body["errors"][0]["code"], "LockedField", "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 1);
    let list = app.get("/demo/customers", &token).await;
    assert_eq!(list.ok(200)["total"], 1);
    let messages = app.get("/demo/messages", &token).await;
    assert_eq!(messages.ok(200)["total"], 1, "one CustomerCreated only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_at_one_version_have_one_winner() {
    let app = Arc::new(spawn_app().await);
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "u@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let app = app.clone();
        let token = token.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            app.update(
                &token,
                &id,
                &json!(1),
                json!([{"action": "setFirstName", "firstName": format!("w{i}")}]),
            )
            .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            200 => won += 1,
            409 => {
                let e = &r.body["errors"][0];
                assert_eq!(e["code"], "ConcurrentModification", "{}", r.text);
                assert_eq!(e["currentVersion"], 2);
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(won, 1);
    let now = app.get(&format!("/demo/customers/{id}"), &token).await;
    assert_eq!(now.ok(200)["version"], 2);
    assert_eq!(app.messages_of(&token, &id).await.len(), 2);
}
