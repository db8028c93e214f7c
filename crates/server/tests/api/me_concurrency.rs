//! Races around `/me`: two password changes at one version have one winner, a password reset
//! racing a `/me` update or a password-flow sign-in never leaves a token of the old password
//! usable, and two server nodes on one database refuse a dead token alike.

use crate::helpers::{
    spawn_app, spawn_app_with, spawn_app_with_production_hashing, TestApp, TestDb,
};
use crate::me::{access, password_grant, STOREFRONT};
use serde_json::json;

/// A customer `email` / `secret123`; returns its id.
async fn customer(app: &TestApp, admin: &str, email: &str) -> String {
    let c = app
        .create_customer(admin, json!({"email": email, "password": "secret123"}))
        .await;
    c["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_password_changes_at_one_version_have_one_winner() {
    // At the production cost both requests are past their token check long before either
    // commits, so the loser meets the version check (409), not an already revoked token (401).
    let app = spawn_app_with_production_hashing(|_| {}).await;
    let admin = app.admin().await;
    let client = app.api_client(STOREFRONT).await;
    let id = customer(&app, &admin, "jane@example.com").await;
    let token = access(&password_grant(&app, &client, None, "jane@example.com", "secret123").await);
    let change = |new: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.post(
                "/demo/me/password",
                token,
                json!({"version": 1, "currentPassword": "secret123", "newPassword": new}),
            )
            .await
        }
    };
    let (first, second) = tokio::join!(change("first-new"), change("second-new"));
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", first.text, second.text);
    let (winner, loser) = if first.status == 200 {
        ("first-new", &second)
    } else {
        ("second-new", &first)
    };
    loser.error(409, "ConcurrentModification");
    // Exactly one change happened: one version step, one Message, the winner's password.
    let c = app.get(&format!("/demo/customers/{id}"), &admin).await;
    assert_eq!(c.ok(200)["version"], 2);
    let updates: Vec<_> = app
        .messages_of(&admin, &id)
        .await
        .into_iter()
        .filter(|m| m["type"] == "CustomerPasswordUpdated")
        .collect();
    assert_eq!(updates.len(), 1);
    password_grant(&app, &client, None, "jane@example.com", winner)
        .await
        .ok(200);
    app.get("/demo/me", &token)
        .await
        .error(401, "invalid_token");
}

#[tokio::test]
async fn a_password_reset_racing_me_updates_and_sign_ins_leaves_no_stale_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let client = app.api_client(STOREFRONT).await;
    for round in 0..6 {
        let email = format!("racer{round}@example.com");
        let id = customer(&app, &admin, &email).await;
        let token = access(&password_grant(&app, &client, None, &email, "secret123").await);
        let reset_token = app
            .post(
                "/demo/customers/password-token",
                &admin,
                json!({"email": email}),
            )
            .await;
        let value = reset_token.ok(200)["value"].as_str().unwrap().to_owned();

        // All at once: the reset, a /me update with the old token, and a sign-in with the old
        // password (which may get a token just before the reset commits).
        let reset = app.post(
            "/demo/customers/password/reset",
            &admin,
            json!({"tokenValue": value, "newPassword": "reset456"}),
        );
        let update = app.post(
            "/demo/me",
            &token,
            json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "R"}]}),
        );
        let sign_in = password_grant(&app, &client, None, &email, "secret123");
        let (reset, update, sign_in) = tokio::join!(reset, update, sign_in);
        assert!([200, 409].contains(&reset.status), "reset: {}", reset.text);
        assert!(
            [200, 401, 409].contains(&update.status),
            "update: {}",
            update.text
        );
        assert!(
            [200, 400].contains(&sign_in.status),
            "sign-in: {}",
            sign_in.text
        );

        let c = app.get(&format!("/demo/customers/{id}"), &admin).await;
        let version = c.ok(200)["version"].as_u64().unwrap();
        if reset.status == 200 {
            // The password changed: no token of the old one works, wherever it came from.
            app.get("/demo/me", &token)
                .await
                .error(401, "invalid_token");
            if sign_in.status == 200 {
                let raced = access(&sign_in);
                app.get("/demo/me", &raced)
                    .await
                    .error(401, "invalid_token");
                let refresh = sign_in.body["refresh_token"].as_str().unwrap();
                crate::me::refresh_grant(&app, &client, refresh)
                    .await
                    .error(400, "invalid_grant");
            }
            password_grant(&app, &client, None, &email, "reset456")
                .await
                .ok(200);
            // The update either went first (and the reset then lost or came after) or lost.
            let expected = if update.status == 200 { 3 } else { 2 };
            assert_eq!(version, expected, "round {round}");
        } else {
            // The update won the version race and the reset changed nothing; the old
            // password and its tokens stay valid.
            assert_eq!(update.status, 200, "round {round}: {}", update.text);
            assert_eq!(version, 2);
            app.get("/demo/me", &token).await.ok(200);
            password_grant(&app, &client, None, &email, "secret123")
                .await
                .ok(200);
        }
    }
}

#[tokio::test]
async fn a_token_killed_through_one_node_is_refused_by_the_other() {
    let db = TestDb::for_suite().await;
    let url = db.url();
    let a = spawn_app_with(|c| c.database.database_url = url.clone()).await;
    let b = spawn_app_with(|c| c.database.database_url = url.clone()).await;
    let admin = a.admin().await;
    let client = a.api_client(STOREFRONT).await;
    let id = customer(&a, &admin, "jane@example.com").await;
    let granted = password_grant(&a, &client, None, "jane@example.com", "secret123").await;
    let token = access(&granted);
    let refresh = granted.body["refresh_token"].as_str().unwrap().to_owned();
    // Issued by node A, used on node B.
    assert_eq!(b.get("/demo/me", &token).await.ok(200)["id"], id.as_str());
    crate::me::refresh_grant(&b, &client, &refresh)
        .await
        .ok(200);

    // The customer leaves the project's global sign-in (joins a Store) through node B…
    b.post("/demo/stores", &admin, json!({"key": "a-shop"}))
        .await
        .ok(201);
    b.update(
        &admin,
        &id,
        &json!(1),
        json!([{"action": "addStore", "store": {"key": "a-shop"}}]),
    )
    .await
    .ok(200);
    // …and node A refuses the token and its refresh token from then on.
    a.get("/demo/me", &token).await.error(401, "invalid_token");
    crate::me::refresh_grant(&a, &client, &refresh)
        .await
        .error(400, "invalid_grant");
    b.get("/demo/me", &token).await.error(401, "invalid_token");
    drop((a, b));
    drop(db);
}
