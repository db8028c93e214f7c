//! Customers in Store through HTTP: every `/{p}/in-store/key={storeKey}/…` endpoint both ways
//! round (the Store's own customer works, another Store's customer is invisible, unchangeable
//! and cannot sign in; global customers are visible but sign in only globally), unknown Stores,
//! the email uniqueness matrix with races, the in-store password flow, and the scope matrix of
//! store-scoped tokens.

use crate::helpers::{oauth_form, spawn_app, Resp, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The path prefix of Store `key`.
fn s(key: &str) -> String {
    format!("/demo/in-store/key={key}")
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> BTreeSet<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

/// An app with Stores `a-shop`, `b-shop` and `c-shop` (no customers), and `ExternalAuth`
/// customers: `ca` (key `ca`) in a-shop, `cb` (key `cb`) in b-shop, `cg` (key `cg`) global.
struct World {
    app: TestApp,
    admin: String,
    ca: Value,
    cb: Value,
    cg: Value,
}

async fn world() -> World {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for key in ["a-shop", "b-shop", "c-shop"] {
        app.post("/demo/stores", &admin, json!({"key": key}))
            .await
            .ok(201);
    }
    let ca = in_store_customer(
        &app,
        &admin,
        "a-shop",
        "a@example.com",
        json!({"key": "ca"}),
    )
    .await;
    let cb = in_store_customer(
        &app,
        &admin,
        "b-shop",
        "b@example.com",
        json!({"key": "cb"}),
    )
    .await;
    let cg = app
        .external_customer(&admin, "g@example.com", json!({"key": "cg"}))
        .await;
    World {
        app,
        admin,
        ca,
        cb,
        cg,
    }
}

/// Creates an `ExternalAuth` customer through `POST {s}/customers` (201).
async fn in_store_customer(
    app: &TestApp,
    token: &str,
    store: &str,
    email: &str,
    extra: Value,
) -> Value {
    let mut draft = json!({"email": email, "authenticationMode": "ExternalAuth"});
    merge(&mut draft, extra);
    let r = app
        .post(&format!("{}/customers", s(store)), token, draft)
        .await;
    r.ok(201)["customer"].clone()
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(o), Some(e)) = (into.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
}

fn store_keys(c: &Value) -> Vec<String> {
    c["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn reads_see_the_stores_own_and_the_global_customers_only() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    for (store, own, other) in [("a-shop", &w.ca, &w.cb), ("b-shop", &w.cb, &w.ca)] {
        let base = s(store);
        for visible in [own, &w.cg] {
            let id = id_of(visible);
            let key = visible["key"].as_str().unwrap();
            assert_eq!(
                app.get(&format!("{base}/customers/{id}"), t).await.ok(200),
                visible
            );
            assert_eq!(
                app.get(&format!("{base}/customers/key={key}"), t)
                    .await
                    .ok(200),
                visible
            );
            assert_eq!(app.head(&format!("{base}/customers/{id}"), t).await, 200);
            assert_eq!(
                app.head(&format!("{base}/customers/key={key}"), t).await,
                200
            );
        }
        let id = id_of(other);
        let key = other["key"].as_str().unwrap();
        let e = app.get(&format!("{base}/customers/{id}"), t).await;
        assert_eq!(
            e.error(404, "ResourceNotFound")["message"],
            format!("The Resource with ID '{id}' was not found.")
        );
        app.get(&format!("{base}/customers/key={key}"), t)
            .await
            .error(404, "ResourceNotFound");
        assert_eq!(app.head(&format!("{base}/customers/{id}"), t).await, 404);
        assert_eq!(
            app.head(&format!("{base}/customers/key={key}"), t).await,
            404
        );

        let page = app.get(&format!("{base}/customers"), t).await;
        let page = page.ok(200);
        assert_eq!(page["total"], 2);
        assert_eq!(ids(page), BTreeSet::from([id_of(own), id_of(&w.cg)]));
        let other_email = other["email"].as_str().unwrap();
        let q = format!("{base}/customers?where=email%3D%22{other_email}%22");
        assert_eq!(app.get(&q, t).await.ok(200)["total"], 0);
        assert_eq!(app.head(&q, t).await, 404);
        let own_email = own["email"].as_str().unwrap();
        let q = format!("{base}/customers?where=email%3D%22{own_email}%22");
        assert_eq!(app.get(&q, t).await.ok(200)["total"], 1);
        assert_eq!(app.head(&q, t).await, 200);
        assert_eq!(app.head(&format!("{base}/customers"), t).await, 200);
    }
    // A Store without customers of its own still sees the global ones.
    let page = app.get(&format!("{}/customers", s("c-shop")), t).await;
    assert_eq!(ids(page.ok(200)), BTreeSet::from([id_of(&w.cg)]));
    // Project level sees everyone.
    assert_eq!(app.customer_total(t).await, 3);
}

#[tokio::test]
async fn an_unknown_store_is_404_naming_it_and_a_bad_segment_is_404() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    let base = s("nope");
    let id = id_of(&w.cg);
    let message = "The Store with key 'nope' was not found.";
    for r in [
        app.get(&format!("{base}/customers"), t).await,
        app.get(&format!("{base}/customers/{id}"), t).await,
        app.get(&format!("{base}/customers/key=cg"), t).await,
        app.post(
            &format!("{base}/customers"),
            t,
            json!({"email": "n@example.com", "authenticationMode": "ExternalAuth"}),
        )
        .await,
        app.post(
            &format!("{base}/customers/{id}"),
            t,
            json!({"version": 1, "actions": []}),
        )
        .await,
        app.delete(&format!("{base}/customers/{id}?version=1"), t)
            .await,
        app.post(
            &format!("{base}/login"),
            t,
            json!({"email": "g@example.com", "password": "x"}),
        )
        .await,
        app.post(
            &format!("{base}/customers/password-token"),
            t,
            json!({"email": "g@example.com"}),
        )
        .await,
        app.post(
            &format!("{base}/customers/email-token"),
            t,
            json!({"id": id, "ttlMinutes": 10}),
        )
        .await,
    ] {
        assert_eq!(r.error(404, "ResourceNotFound")["message"], message);
    }
    assert_eq!(app.head(&format!("{base}/customers"), t).await, 404);
    assert_eq!(app.head(&format!("{base}/customers/{id}"), t).await, 404);
    // `{storeKey}` must come as `key=…`; anything else is a path that does not exist.
    for path in [
        "/demo/in-store/a-shop/customers".to_owned(),
        format!("/demo/in-store/a-shop/customers/{id}"),
        "/demo/in-store/id=x/customers".to_owned(),
    ] {
        app.get(&path, t).await.error(404, "ResourceNotFound");
    }
    app.post(
        "/demo/in-store/a-shop/login",
        t,
        json!({"email": "g@example.com", "password": "x"}),
    )
    .await
    .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn create_in_store_defaults_stores_and_must_include_the_store() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    let base = s("a-shop");
    let c = in_store_customer(app, t, "a-shop", "n1@example.com", json!({})).await;
    assert_eq!(store_keys(&c), vec!["a-shop"]);
    assert_eq!(c["version"], 1);
    let empty = in_store_customer(app, t, "a-shop", "n2@example.com", json!({"stores": []})).await;
    assert_eq!(store_keys(&empty), vec!["a-shop"]);
    let both = in_store_customer(
        app,
        t,
        "a-shop",
        "n3@example.com",
        json!({"stores": [{"key": "b-shop"}, {"typeId": "store", "key": "a-shop"}]}),
    )
    .await;
    assert_eq!(store_keys(&both), vec!["b-shop", "a-shop"]);
    let store_a = app.get("/demo/stores/key=a-shop", t).await.ok(200).clone();
    let by_id = in_store_customer(
        app,
        t,
        "a-shop",
        "n4@example.com",
        json!({"stores": [{"id": store_a["id"]}]}),
    )
    .await;
    assert_eq!(store_keys(&by_id), vec!["a-shop"]);
    let elsewhere = app
        .post(
            &format!("{base}/customers"),
            t,
            json!({"email": "n5@example.com", "authenticationMode": "ExternalAuth",
                   "stores": [{"key": "b-shop"}]}),
        )
        .await;
    assert!(elsewhere.error(400, "InvalidOperation")["message"]
        .as_str()
        .unwrap()
        .contains("a-shop"));
    let cart = app
        .post(
            &format!("{base}/customers"),
            t,
            json!({"email": "n6@example.com", "authenticationMode": "ExternalAuth",
                   "anonymousCart": {"typeId": "cart", "id": "c-1"}}),
        )
        .await;
    assert_eq!(
        cart.error(400, "ReferencedResourceNotFound")["typeId"],
        "cart"
    );
    let missing_store = app
        .post(
            &format!("{base}/customers"),
            t,
            json!({"email": "n7@example.com", "authenticationMode": "ExternalAuth",
                   "stores": [{"key": "a-shop"}, {"key": "zz"}]}),
        )
        .await;
    assert_eq!(
        missing_store.error(400, "ReferencedResourceNotFound")["key"],
        "zz"
    );
    let messages = app.messages_of(t, &id_of(&c)).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["type"], "CustomerCreated");
    assert_eq!(
        messages[0]["customer"]["stores"],
        json!([{"typeId": "store", "key": "a-shop"}])
    );
}

#[tokio::test]
async fn updates_and_deletes_reach_only_visible_customers() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    let base = s("a-shop");
    let set_name = json!([{"action": "setFirstName", "firstName": "X"}]);
    for path in [
        format!("{base}/customers/{}", id_of(&w.cb)),
        format!("{base}/customers/key=cb"),
    ] {
        app.post(&path, t, json!({"version": 1, "actions": set_name}))
            .await
            .error(404, "ResourceNotFound");
        app.delete(&format!("{path}?version=1"), t)
            .await
            .error(404, "ResourceNotFound");
    }
    let untouched = app
        .get(&format!("/demo/customers/{}", id_of(&w.cb)), t)
        .await;
    assert_eq!(untouched.ok(200), &w.cb, "b-shop's customer unchanged");

    let own = app
        .post(
            &format!("{base}/customers/key=ca"),
            t,
            json!({"version": 1, "actions": set_name}),
        )
        .await;
    assert_eq!(own.ok(200)["firstName"], "X");
    assert_eq!(own.body["version"], 2);
    let global = app
        .post(
            &format!("{base}/customers/{}", id_of(&w.cg)),
            t,
            json!({"version": 1, "actions": set_name}),
        )
        .await;
    assert_eq!(global.ok(200)["version"], 2);
    // Leaving the Store makes the customer invisible to it.
    let moved = app
        .post(
            &format!("{base}/customers/key=ca"),
            t,
            json!({"version": 2, "actions": [{"action": "setStores", "stores": [{"key": "c-shop"}]}]}),
        )
        .await;
    assert_eq!(store_keys(moved.ok(200)), vec!["c-shop"]);
    app.get(&format!("{base}/customers/key=ca"), t)
        .await
        .error(404, "ResourceNotFound");
    let deleted = app
        .delete(&format!("{}/customers/key=ca?version=3", s("c-shop")), t)
        .await;
    assert_eq!(deleted.ok(200)["id"], w.ca["id"]);
    let messages = app.messages_of(t, &id_of(&w.ca)).await;
    assert_eq!(messages.last().unwrap()["type"], "CustomerDeleted");
    let gone = app
        .delete(
            &format!("{}/customers/{}?version=2", s("b-shop"), id_of(&w.cg)),
            t,
        )
        .await;
    assert_eq!(gone.ok(200)["id"], w.cg["id"]);
    assert_eq!(app.customer_total(t).await, 1);
}

/// `POST {path}/customers` for `email` (ExternalAuth) with `stores` keys, returning the status
/// and error code.
async fn sign_up(app: &TestApp, t: &str, path: &str, email: &str, stores: &[&str]) -> Resp {
    let mut draft = json!({"email": email, "authenticationMode": "ExternalAuth"});
    if !stores.is_empty() {
        draft["stores"] = json!(stores.iter().map(|k| json!({"key": k})).collect::<Vec<_>>());
    }
    app.post(&format!("{path}/customers"), t, draft).await
}

#[tokio::test]
async fn email_uniqueness_global_and_per_store() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    // global / global
    sign_up(app, t, "/demo", "G@example.com", &[])
        .await
        .error(400, "DuplicateField");
    // global / store: a global customer's email is taken in every Store, and the other way round.
    sign_up(app, t, &s("c-shop"), "g@EXAMPLE.com", &[])
        .await
        .error(400, "DuplicateField");
    sign_up(app, t, "/demo", "A@example.com", &[])
        .await
        .error(400, "DuplicateField");
    // store A / store A
    let dup = sign_up(app, t, &s("a-shop"), "a@Example.com", &[]).await;
    assert_eq!(dup.error(400, "DuplicateField")["field"], "email");
    sign_up(app, t, "/demo", "a@example.com", &["a-shop", "c-shop"])
        .await
        .error(400, "DuplicateField");
    // store A / store B: the same email lives in both.
    let twin = sign_up(app, t, &s("b-shop"), "A@example.com", &[]).await;
    let twin = twin.ok(201)["customer"].clone();
    assert_eq!(twin["email"], "A@example.com", "stored as given");
    sign_up(app, t, &s("c-shop"), "a@example.com", &[])
        .await
        .ok(201);
    // Updates keep the rule: joining an overlapping Store, becoming global, taking an email.
    let r = app
        .update(
            t,
            &id_of(&twin),
            &json!(1),
            json!([{"action": "addStore", "store": {"key": "a-shop"}}]),
        )
        .await;
    r.error(400, "DuplicateField");
    let r = app
        .update(
            t,
            &id_of(&twin),
            &json!(1),
            json!([{"action": "setStores", "stores": []}]),
        )
        .await;
    r.error(400, "DuplicateField");
    let r = app
        .update(
            t,
            &id_of(&w.cb),
            &json!(1),
            json!([{"action": "changeEmail", "email": "A@EXAMPLE.COM"}]),
        )
        .await;
    r.error(400, "DuplicateField");
    let moved = app
        .update(
            t,
            &id_of(&w.cb),
            &json!(1),
            json!([{"action": "setStores", "stores": [{"key": "a-shop"}]}]),
        )
        .await;
    assert_eq!(store_keys(moved.ok(200)), vec!["a-shop"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ups_never_duplicate_an_email_in_a_scope() {
    let w = Arc::new(world().await);
    // Eight sign-ups with one email in one Store: one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let email = if i % 2 == 0 {
                "r@example.com"
            } else {
                "R@example.com"
            };
            sign_up(&w.app, &w.admin, &s("a-shop"), email, &[]).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            201 => created += 1,
            400 => assert_eq!(r.body["errors"][0]["code"], "DuplicateField", "{}", r.text),
            409 => assert_eq!(r.body["errors"][0]["code"], "LockedField", "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 1);

    // Global, store-A and store-B sign-ups with one email at once: either the global one wins
    // alone, or at most one per Store wins and no global one.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let w = w.clone();
        let path = match i % 3 {
            0 => "/demo".to_owned(),
            1 => s("a-shop"),
            _ => s("b-shop"),
        };
        tasks.push(tokio::spawn(async move {
            let r = sign_up(&w.app, &w.admin, &path, "mix@example.com", &[]).await;
            (i % 3, r)
        }));
    }
    let mut wins = [0; 3];
    for task in tasks {
        let (scope, r) = task.await.unwrap();
        match r.status {
            201 => wins[scope] += 1,
            400 => assert_eq!(r.body["errors"][0]["code"], "DuplicateField", "{}", r.text),
            409 => assert_eq!(r.body["errors"][0]["code"], "LockedField", "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert!(wins.iter().all(|n| *n <= 1), "{wins:?}");
    assert!(wins[0] == 0 || wins[1..] == [0, 0], "{wins:?}");
    assert!(wins.iter().sum::<i32>() >= 1, "{wins:?}");
    let page = w
        .app
        .get(
            "/demo/customers?where=lowercaseEmail%3D%22mix%40example.com%22",
            &w.admin,
        )
        .await;
    assert_eq!(page.ok(200)["total"], wins.iter().sum::<i32>());
}

/// The password flow at `path` (`/oauth/demo/…/customers/token`).
async fn password_grant(
    app: &TestApp,
    client: &(String, String),
    path: &str,
    email: &str,
    password: &str,
) -> Resp {
    oauth_form(
        app,
        path,
        client,
        &[
            ("grant_type", "password"),
            ("username", email),
            ("password", password),
        ],
    )
    .await
}

/// Password customers: `pa` (p@example.com / pw-a) in a-shop, `pb` (the same email, pw-b) in
/// b-shop, `pg` (q@example.com / pw-g) global.
struct Shoppers {
    pa: Value,
    pb: Value,
    pg: Value,
}

async fn shoppers(w: &World) -> Shoppers {
    let (app, t) = (&w.app, &w.admin);
    let make = |store: String, email: &'static str, password: &'static str| async move {
        let r = app
            .post(
                &format!("{store}/customers"),
                t,
                json!({"email": email, "password": password}),
            )
            .await;
        r.ok(201)["customer"].clone()
    };
    Shoppers {
        pa: make(s("a-shop"), "p@example.com", "pw-a").await,
        pb: make(s("b-shop"), "p@example.com", "pw-b").await,
        pg: make("/demo".to_owned(), "q@example.com", "pw-g").await,
    }
}

async fn login(app: &TestApp, t: &str, path: &str, email: &str, password: &str) -> Resp {
    app.post(
        &format!("{path}/login"),
        t,
        json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn sign_in_in_store_accepts_only_the_stores_own_customers() {
    let w = world().await;
    let sh = shoppers(&w).await;
    let (app, t) = (&w.app, &w.admin);
    let ok = login(app, t, &s("a-shop"), "P@example.com", "pw-a").await;
    assert_eq!(ok.ok(200)["customer"]["id"], sh.pa["id"]);
    let ok = login(app, t, &s("b-shop"), "p@example.com", "pw-b").await;
    assert_eq!(ok.ok(200)["customer"]["id"], sh.pb["id"]);
    for (path, email, password) in [
        (s("a-shop"), "p@example.com", "pw-b"),
        (s("c-shop"), "p@example.com", "pw-a"),
        // Global customers sign in only globally.
        (s("a-shop"), "q@example.com", "pw-g"),
        // Store customers only in their Stores.
        ("/demo".to_owned(), "p@example.com", "pw-a"),
    ] {
        let r = login(app, t, &path, email, password).await;
        assert_eq!(
            r.error(400, "InvalidCredentials")["message"],
            "Account with the given credentials not found."
        );
    }
    let ok = login(app, t, "/demo", "q@example.com", "pw-g").await;
    assert_eq!(ok.ok(200)["customer"]["id"], sh.pg["id"]);

    // The OAuth password flow in a Store, likewise.
    let client = app.api_client("manage_my_profile:demo").await;
    let in_a = "/oauth/demo/in-store/key=a-shop/customers/token";
    let r = password_grant(app, &client, in_a, "p@example.com", "pw-a").await;
    let scope = r.ok(200)["scope"].as_str().unwrap().to_owned();
    assert!(
        scope.contains(&format!("customer_id:{}", id_of(&sh.pa))),
        "{scope}"
    );
    assert!(r.body["refresh_token"].is_string());
    let r = password_grant(
        app,
        &client,
        "/oauth/demo/in-store/key=b-shop/customers/token",
        "p@example.com",
        "pw-b",
    )
    .await;
    assert!(r.ok(200)["scope"]
        .as_str()
        .unwrap()
        .contains(&id_of(&sh.pb)));
    for (path, email, password) in [
        (in_a, "p@example.com", "pw-b"),
        (in_a, "q@example.com", "pw-g"),
        (
            "/oauth/demo/in-store/key=nope/customers/token",
            "p@example.com",
            "pw-a",
        ),
        ("/oauth/demo/customers/token", "p@example.com", "pw-a"),
    ] {
        let r = password_grant(app, &client, path, email, password).await;
        assert_eq!(r.status, 400, "{path} {email}: {}", r.text);
        assert_eq!(r.body["error"], "invalid_customer_account_credentials");
    }
    let r = password_grant(
        app,
        &client,
        "/oauth/demo/customers/token",
        "q@example.com",
        "pw-g",
    )
    .await;
    r.ok(200);
    let r = password_grant(
        app,
        &client,
        "/oauth/demo/in-store/a-shop/customers/token",
        "p@example.com",
        "pw-a",
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn change_password_in_store_reaches_only_visible_customers() {
    let w = world().await;
    let sh = shoppers(&w).await;
    let (app, t) = (&w.app, &w.admin);
    let body =
        json!({"id": sh.pa["id"], "version": 1, "currentPassword": "pw-a", "newPassword": "pw-a2"});
    app.post(
        &format!("{}/customers/password", s("b-shop")),
        t,
        body.clone(),
    )
    .await
    .error(404, "ResourceNotFound");
    let changed = app
        .post(&format!("{}/customers/password", s("a-shop")), t, body)
        .await;
    assert_eq!(changed.ok(200)["version"], 2);
    login(app, t, &s("a-shop"), "p@example.com", "pw-a2")
        .await
        .ok(200);
    let messages = app.messages_of(t, &id_of(&sh.pa)).await;
    assert_eq!(messages.last().unwrap()["type"], "CustomerPasswordUpdated");
    assert_eq!(messages.last().unwrap()["reset"], false);
}

#[tokio::test]
async fn the_password_reset_flow_in_store() {
    let w = world().await;
    let sh = shoppers(&w).await;
    let (app, t) = (&w.app, &w.admin);
    // The same email names a different customer in each Store.
    let in_b = app
        .post(
            &format!("{}/customers/password-token", s("b-shop")),
            t,
            json!({"email": "p@example.com"}),
        )
        .await;
    assert_eq!(in_b.ok(200)["customerId"], sh.pb["id"]);
    let in_a = app
        .post(
            &format!("{}/customers/password-token", s("a-shop")),
            t,
            json!({"email": "P@example.com", "ttlMinutes": 30}),
        )
        .await;
    assert_eq!(in_a.ok(200)["customerId"], sh.pa["id"]);
    let value = in_a.body["value"].as_str().unwrap().to_owned();
    // No customer with this email in c-shop; a global customer's email is found in any Store.
    app.post(
        &format!("{}/customers/password-token", s("c-shop")),
        t,
        json!({"email": "p@example.com"}),
    )
    .await
    .error(404, "ResourceNotFound");
    let global = app
        .post(
            &format!("{}/customers/password-token", s("c-shop")),
            t,
            json!({"email": "q@example.com"}),
        )
        .await;
    assert_eq!(global.ok(200)["customerId"], sh.pg["id"]);

    // Reading and redeeming a-shop's token elsewhere is as if it did not exist.
    let wrong = app
        .get(
            &format!("{}/customers/password-token={value}", s("b-shop")),
            t,
        )
        .await;
    wrong.error(404, "ResourceNotFound");
    let right = app
        .get(
            &format!("{}/customers/password-token={value}", s("a-shop")),
            t,
        )
        .await;
    assert_eq!(right.ok(200)["id"], sh.pa["id"]);
    app.get(&format!("/demo/customers/password-token={value}"), t)
        .await
        .ok(200);
    let reset = json!({"tokenValue": value, "newPassword": "pw-new"});
    app.post(
        &format!("{}/customers/password/reset", s("b-shop")),
        t,
        reset.clone(),
    )
    .await
    .error(404, "ResourceNotFound");
    // The refused attempt did not burn the token.
    let done = app
        .post(
            &format!("{}/customers/password/reset", s("a-shop")),
            t,
            reset.clone(),
        )
        .await;
    assert_eq!(done.ok(200)["id"], sh.pa["id"]);
    login(app, t, &s("a-shop"), "p@example.com", "pw-new")
        .await
        .ok(200);
    login(app, t, &s("b-shop"), "p@example.com", "pw-b")
        .await
        .ok(200);
    app.post(
        &format!("{}/customers/password/reset", s("a-shop")),
        t,
        reset,
    )
    .await
    .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn the_email_verification_flow_in_store() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    let ca = id_of(&w.ca);
    app.post(
        &format!("{}/customers/email-token", s("b-shop")),
        t,
        json!({"id": ca, "ttlMinutes": 10}),
    )
    .await
    .error(404, "ResourceNotFound");
    let token = app
        .post(
            &format!("{}/customers/email-token", s("a-shop")),
            t,
            json!({"id": ca, "ttlMinutes": 10}),
        )
        .await;
    let value = token.ok(200)["value"].as_str().unwrap().to_owned();
    app.get(&format!("{}/customers/email-token={value}", s("b-shop")), t)
        .await
        .error(404, "ResourceNotFound");
    let read = app
        .get(&format!("{}/customers/email-token={value}", s("a-shop")), t)
        .await;
    assert_eq!(read.ok(200)["id"], ca.as_str());
    let confirm = json!({"tokenValue": value});
    app.post(
        &format!("{}/customers/email/confirm", s("b-shop")),
        t,
        confirm.clone(),
    )
    .await
    .error(404, "ResourceNotFound");
    let done = app
        .post(
            &format!("{}/customers/email/confirm", s("a-shop")),
            t,
            confirm,
        )
        .await;
    assert_eq!(done.ok(200)["isEmailVerified"], true);
    // A global customer is visible in every Store, so its tokens work there too.
    let g = app
        .post(
            &format!("{}/customers/email-token", s("c-shop")),
            t,
            json!({"id": w.cg["id"], "ttlMinutes": 10}),
        )
        .await;
    g.ok(200);
}

#[tokio::test]
async fn an_expired_token_of_another_stores_customer_is_as_unknown_as_a_made_up_one() {
    let w = world().await;
    let (app, t) = (&w.app, &w.admin);
    let ca = id_of(&w.ca);
    let email = app
        .post(
            &format!("{}/customers/email-token", s("a-shop")),
            t,
            json!({"id": ca, "ttlMinutes": 1}),
        )
        .await;
    let email = email.ok(200)["value"].as_str().unwrap().to_owned();
    app.post(
        &format!("/demo/customers/{ca}"),
        t,
        json!({"version": 1, "actions": [
            {"action": "setAuthenticationMode", "authMode": "Password", "password": "pw-a"}
        ]}),
    )
    .await
    .ok(200);
    let password = app
        .post(
            &format!("{}/customers/password-token", s("a-shop")),
            t,
            json!({"email": "a@example.com", "ttlMinutes": 1}),
        )
        .await;
    let password = password.ok(200)["value"].as_str().unwrap().to_owned();
    app.clock.advance(time::Duration::minutes(2));

    // In b-shop the customer does not exist, so neither do its tokens, expired or not.
    for (path, token) in [("password-token", &password), ("email-token", &email)] {
        let r = app
            .get(&format!("{}/customers/{path}={token}", s("b-shop")), t)
            .await;
        assert_eq!(
            r.error(404, "ResourceNotFound")["message"],
            "The token is invalid or does not exist."
        );
    }
    app.post(
        &format!("{}/customers/password/reset", s("b-shop")),
        t,
        json!({"tokenValue": password, "newPassword": "pw-new"}),
    )
    .await
    .error(404, "ResourceNotFound");
    app.post(
        &format!("{}/customers/email/confirm", s("b-shop")),
        t,
        json!({"tokenValue": email}),
    )
    .await
    .error(404, "ResourceNotFound");

    // Where the customer is visible, the same tokens are reported as expired.
    app.get(
        &format!("{}/customers/password-token={password}", s("a-shop")),
        t,
    )
    .await
    .error(400, "ExpiredCustomerPasswordToken");
    app.post(
        &format!("{}/customers/password/reset", s("a-shop")),
        t,
        json!({"tokenValue": password, "newPassword": "pw-new"}),
    )
    .await
    .error(400, "ExpiredCustomerPasswordToken");
    app.get(&format!("{}/customers/email-token={email}", s("a-shop")), t)
        .await
        .error(400, "ExpiredCustomerEmailToken");
    app.post(
        "/demo/customers/email/confirm",
        t,
        json!({"tokenValue": email}),
    )
    .await
    .error(400, "ExpiredCustomerEmailToken");
}

/// `(method, path, body)` of one request per in-store customer endpoint of `store`, naming
/// customer `id` where one is needed.
fn every_endpoint(store: &str, id: &str) -> Vec<(Method, String, Option<Value>, bool)> {
    let b = s(store);
    // (method, path, body, needs manage)
    vec![
        (Method::GET, format!("{b}/customers"), None, false),
        (Method::HEAD, format!("{b}/customers"), None, false),
        (Method::GET, format!("{b}/customers/{id}"), None, false),
        (Method::HEAD, format!("{b}/customers/{id}"), None, false),
        (Method::GET, format!("{b}/customers/key=ca"), None, false),
        (
            Method::GET,
            format!("{b}/customers/password-token=x"),
            None,
            false,
        ),
        (
            Method::GET,
            format!("{b}/customers/email-token=x"),
            None,
            false,
        ),
        (
            Method::POST,
            format!("{b}/customers"),
            Some(
                json!({"email": format!("new-{store}@example.com"), "authenticationMode": "ExternalAuth"}),
            ),
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/{id}"),
            Some(json!({"version": 1, "actions": []})),
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/key=ca"),
            Some(json!({"version": 1, "actions": []})),
            true,
        ),
        (
            Method::DELETE,
            format!("{b}/customers/{id}?version=99"),
            None,
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/password"),
            Some(json!({"id": id, "version": 99, "currentPassword": "x", "newPassword": "y"})),
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/password-token"),
            Some(json!({"email": "nobody@example.com"})),
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/password/reset"),
            Some(json!({"tokenValue": "x", "newPassword": "y"})),
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/email-token"),
            Some(json!({"id": id, "ttlMinutes": 5, "version": 99})),
            true,
        ),
        (
            Method::POST,
            format!("{b}/customers/email/confirm"),
            Some(json!({"tokenValue": "x"})),
            true,
        ),
        (
            Method::POST,
            format!("{b}/login"),
            Some(json!({"email": "a@example.com", "password": "x"})),
            true,
        ),
    ]
}

#[tokio::test]
async fn store_scoped_tokens_reach_their_store_only() {
    let w = world().await;
    let app = &w.app;
    let ca = id_of(&w.ca);
    let manage_a = app.token("manage_customers:demo:a-shop").await;
    let view_a = app.token("view_customers:demo:a-shop").await;
    let manage_project = app.token("manage_customers:demo").await;
    let view_project = app.token("view_customers:demo").await;

    for (token, store, may_view, may_manage) in [
        (&manage_a, "a-shop", true, true),
        (&manage_a, "b-shop", false, false),
        (&view_a, "a-shop", true, false),
        (&view_a, "b-shop", false, false),
        (&manage_project, "b-shop", true, true),
        (&view_project, "a-shop", true, false),
        (&w.admin, "b-shop", true, true),
    ] {
        for (method, path, body, needs_manage) in every_endpoint(store, &ca) {
            let allowed = if needs_manage { may_manage } else { may_view };
            let r = app.request(method.clone(), &path, Some(token), body).await;
            if allowed {
                assert_ne!(r.status, 403, "{method} {path}: {}", r.text);
                assert_ne!(r.status, 401, "{method} {path}: {}", r.text);
            } else {
                assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
                if method != Method::HEAD {
                    assert_eq!(r.body["errors"][0]["code"], "insufficient_scope");
                }
            }
        }
    }

    // A store-scoped token at project level is refused everywhere.
    for (method, path, body) in [
        (Method::GET, "/demo/customers".to_owned(), None),
        (Method::GET, format!("/demo/customers/{ca}"), None),
        (
            Method::POST,
            "/demo/customers".to_owned(),
            Some(json!({"email": "z@example.com", "authenticationMode": "ExternalAuth"})),
        ),
        (
            Method::POST,
            "/demo/login".to_owned(),
            Some(json!({"email": "a@example.com", "password": "x"})),
        ),
        (
            Method::POST,
            "/demo/customers/password-token".to_owned(),
            Some(json!({"email": "a@example.com"})),
        ),
        (Method::GET, "/demo/messages".to_owned(), None),
    ] {
        let r = app
            .request(method.clone(), &path, Some(&manage_a), body)
            .await;
        r.error(403, "insufficient_scope");
    }

    // What the allowed store-scoped token did reached its Store's customers only.
    let r = app
        .get(&format!("{}/customers", s("a-shop")), &view_a)
        .await;
    let seen = ids(r.ok(200));
    assert!(seen.contains(&ca));
    assert!(!seen.contains(&id_of(&w.cb)));
    let r = app
        .post(
            &format!("{}/customers/key=cb", s("a-shop")),
            &manage_a,
            json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "x"}]}),
        )
        .await;
    r.error(404, "ResourceNotFound");
}
