//! My Customer Profile (`/me`) and anonymous sessions: the anonymous-session flow, the
//! storefront journey at project level and in a Store, and each `/me` endpoint's errors.
//! Shared helpers for `me_matrix` and `me_concurrency` live here too.

use crate::helpers::{spawn_app, Resp, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Scopes of a storefront client of the demo project.
pub(crate) const STOREFRONT: &str = "manage_my_profile:demo create_anonymous_token:demo";

/// `POST {path}` on the auth host with Basic `client` and `form`.
pub(crate) use crate::helpers::oauth_form as oauth;

/// `POST /oauth/demo/anonymous/token` with `extra` form fields.
pub(crate) async fn anonymous_grant(
    app: &TestApp,
    client: &(String, String),
    extra: &[(&str, &str)],
) -> Resp {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    oauth(app, "/oauth/demo/anonymous/token", client, &form).await
}

/// The password flow, global (`store` None) or in a Store.
pub(crate) async fn password_grant(
    app: &TestApp,
    client: &(String, String),
    store: Option<&str>,
    email: &str,
    password: &str,
) -> Resp {
    let path = match store {
        Some(s) => format!("/oauth/demo/in-store/key={s}/customers/token"),
        None => "/oauth/demo/customers/token".to_owned(),
    };
    let form = [
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ];
    oauth(app, &path, client, &form).await
}

/// The `access_token` of a successful grant.
pub(crate) fn access(r: &Resp) -> String {
    r.ok(200)["access_token"].as_str().unwrap().to_owned()
}

/// The refresh grant.
pub(crate) async fn refresh_grant(app: &TestApp, client: &(String, String), refresh: &str) -> Resp {
    app.token_request(
        &client.0,
        &client.1,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
}

/// `/demo` or `/demo/in-store/key={s}`.
pub(crate) fn base(store: Option<&str>) -> String {
    match store {
        Some(s) => format!("/demo/in-store/key={s}"),
        None => "/demo".to_owned(),
    }
}

/// Creates Stores `a-shop` and `b-shop`.
pub(crate) async fn two_stores(app: &TestApp, admin: &str) {
    for key in ["a-shop", "b-shop"] {
        app.post("/demo/stores", admin, json!({"key": key}))
            .await
            .ok(201);
    }
}

#[tokio::test]
async fn anonymous_sessions_need_the_scope_and_never_reuse_an_id() {
    let app = spawn_app().await;
    let client = app.api_client(STOREFRONT).await;
    let r = anonymous_grant(
        &app,
        &client,
        &[
            ("anonymous_id", "phone-123"),
            ("scope", "manage_my_profile:demo"),
        ],
    )
    .await;
    let body = r.ok(200);
    assert_eq!(
        body["scope"],
        "manage_my_profile:demo anonymous_id:phone-123"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 172_800);
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(refresh.starts_with("demo:"), "{refresh}");

    // An id is issued once; the refresh token is the way back into the session.
    let again = anonymous_grant(&app, &client, &[("anonymous_id", "phone-123")]).await;
    let e = again.error(400, "AnonymousIdAlreadyInUse");
    assert_eq!(e["message"], "The given anonymous ID is already in use.");
    let refreshed = refresh_grant(&app, &client, &refresh).await;
    assert_eq!(
        refreshed.ok(200)["scope"],
        "manage_my_profile:demo anonymous_id:phone-123"
    );
    let token = access(&refreshed);
    let r = app
        .post(
            "/demo/me/signup",
            &token,
            json!({"email": "anon@example.com", "password": "secret123"}),
        )
        .await;
    assert_eq!(
        r.ok(201)["customer"]["createdBy"]["anonymousId"],
        "phone-123"
    );

    // Without anonymous_id a UUID is generated, and the client's scopes are granted.
    let r = anonymous_grant(&app, &client, &[]).await;
    let scope = r.ok(200)["scope"].as_str().unwrap().to_owned();
    let generated = scope
        .strip_prefix(&format!("{STOREFRONT} anonymous_id:"))
        .unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{scope}");

    // Malformed ids, foreign or missing scopes, other grant types.
    for bad in ["", "a b", "a:b", &"x".repeat(257)] {
        anonymous_grant(&app, &client, &[("anonymous_id", bad)])
            .await
            .error(400, "invalid_request");
    }
    let plain = app.api_client("manage_my_profile:demo").await;
    anonymous_grant(&app, &plain, &[])
        .await
        .error(400, "invalid_scope");
    anonymous_grant(&app, &client, &[("scope", "manage_customers:demo")])
        .await
        .error(400, "invalid_scope");
    anonymous_grant(&app, &client, &[("scope", "anonymous_id:demo")])
        .await
        .error(400, "invalid_scope");
    oauth(
        &app,
        "/oauth/demo/anonymous/token",
        &client,
        &[("grant_type", "password")],
    )
    .await
    .error(400, "unsupported_grant_type");
    app.create_project("other").await;
    oauth(
        &app,
        "/oauth/other/anonymous/token",
        &client,
        &[("grant_type", "client_credentials")],
    )
    .await
    .error(400, "invalid_scope");
    oauth(
        &app,
        "/oauth/demo/anonymous/token",
        &(client.0.clone(), "wrong".to_owned()),
        &[("grant_type", "client_credentials")],
    )
    .await
    .error(401, "invalid_client");
}

#[tokio::test]
async fn api_clients_take_storefront_scopes_but_never_identity_scopes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    two_stores(&app, &admin).await;
    let create = |scope: &'static str| {
        let state = app.state.clone();
        async move {
            clientele_server::service::api_clients::create(
                state.store.as_ref(),
                state.clock.as_ref(),
                state.random.as_ref(),
                "demo",
                scope,
                None,
                None,
            )
            .await
        }
    };
    create("manage_my_profile:demo create_anonymous_token:demo manage_my_profile:demo:a-shop")
        .await
        .unwrap();
    for identity in ["customer_id:demo", "anonymous_id:demo"] {
        let err = create(identity).await.unwrap_err();
        assert!(err.contains("identity"), "{err}");
    }
}

#[tokio::test]
async fn the_storefront_journey_at_project_level() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let client = app.api_client(STOREFRONT).await;

    // 1. An anonymous session signs the shopper up.
    let anon = access(&anonymous_grant(&app, &client, &[("anonymous_id", "visit-1")]).await);
    let draft = json!({"email": "John@Example.com", "password": "secret123",
        "firstName": "John", "lastName": "Doe"});
    let r = app.post("/demo/me/signup", &anon, draft).await;
    let signed_up = r.ok(201);
    assert!(signed_up.get("cart").is_none(), "no carts here: {}", r.text);
    let customer = &signed_up["customer"];
    let id = customer["id"].as_str().unwrap().to_owned();
    assert_eq!(customer["version"], 1);
    assert_eq!(customer["stores"], json!([]));
    assert_eq!(customer["createdBy"]["clientId"], client.0.as_str());
    assert_eq!(customer["createdBy"]["anonymousId"], "visit-1");
    let created = app.messages_of(&admin, &id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["type"], "CustomerCreated");
    assert_eq!(created[0]["createdBy"]["anonymousId"], "visit-1");
    // The anonymous token names no customer.
    let e = app.get("/demo/me", &anon).await;
    let e = e.error(403, "insufficient_scope");
    assert!(e["message"].as_str().unwrap().contains("customer_id"));

    // 2. The password flow yields a token bound to the customer.
    let granted = password_grant(&app, &client, None, "john@example.com", "secret123").await;
    let scope = granted.ok(200)["scope"].as_str().unwrap().to_owned();
    assert_eq!(scope, format!("{STOREFRONT} customer_id:{id}"));
    let token = access(&granted);
    let refresh = granted.body["refresh_token"].as_str().unwrap().to_owned();

    // 3. GET /me, with and without a matching predicate.
    let me = app.get("/demo/me", &token).await;
    assert_eq!(me.ok(200)["id"], id.as_str());
    assert_eq!(me.body["email"], "John@Example.com");
    app.get("/demo/me?where=firstName%3D%22John%22", &token)
        .await
        .ok(200);
    app.get("/demo/me?where=firstName%3D%22Nope%22", &token)
        .await
        .error(404, "ResourceNotFound");
    // A predicate cannot widen the lookup to anyone else.
    app.create_customer(
        &admin,
        json!({"email": "other@example.com", "password": "x", "firstName": "Eve"}),
    )
    .await;
    app.get(
        "/demo/me?where=firstName%3D%22Eve%22%20or%20firstName%3D%22John%22",
        &token,
    )
    .await
    .ok(200);
    app.get(
        "/demo/me?where=firstName%3D%22Eve%22)%20or%20(true%3Dtrue",
        &token,
    )
    .await
    .error(400, "InvalidInput");
    app.get("/demo/me?where=customerEmail%3D%22x%22", &token)
        .await
        .error(400, "InvalidInput");

    // 4. Updates: the My actions only, versioned, recorded with the customer as modifier.
    let r = app
        .post(
            "/demo/me",
            &token,
            json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "Jon"}]}),
        )
        .await;
    assert_eq!(r.ok(200)["version"], 2);
    assert_eq!(r.body["firstName"], "Jon");
    assert_eq!(r.body["lastModifiedBy"]["customer"]["id"], id.as_str());
    let e = app
        .post(
            "/demo/me",
            &token,
            json!({"version": 2, "actions": [{"action": "setKey", "key": "k"}]}),
        )
        .await;
    let e = e.error(400, "InvalidJsonInput");
    assert!(e["detailedErrorMessage"]
        .as_str()
        .unwrap()
        .contains("setKey"));
    // Uniqueness is the project's: Eve's email is taken.
    let e = app
        .post(
            "/demo/me",
            &token,
            json!({"version": 2, "actions": [{"action": "changeEmail", "email": "OTHER@example.com"}]}),
        )
        .await;
    assert_eq!(e.error(400, "DuplicateField")["field"], "email");
    app.post(
        "/demo/me",
        &token,
        json!({"version": 1, "actions": [{"action": "setLastName", "lastName": "X"}]}),
    )
    .await
    .error(409, "ConcurrentModification");
    // The token acts through /me only.
    app.get("/demo/customers", &token)
        .await
        .error(403, "insufficient_scope");
    app.get(&format!("/demo/customers/{id}"), &token)
        .await
        .error(403, "insufficient_scope");

    // 5. /me/password: current password checked, version checked, Message written.
    app.post(
        "/demo/me/password",
        &token,
        json!({"version": 2, "currentPassword": "wrong", "newPassword": "better456"}),
    )
    .await
    .error(400, "InvalidCurrentPassword");
    app.post(
        "/demo/me/password",
        &token,
        json!({"version": 1, "currentPassword": "secret123", "newPassword": "better456"}),
    )
    .await
    .error(409, "ConcurrentModification");
    let changed = app
        .post(
            "/demo/me/password",
            &token,
            json!({"id": "someone-else", "version": 2, "currentPassword": "secret123",
                   "newPassword": "better456"}),
        )
        .await;
    changed.error(400, "InvalidJsonInput");
    let changed = app
        .post(
            "/demo/me/password",
            &token,
            json!({"version": 2, "currentPassword": "secret123", "newPassword": "better456"}),
        )
        .await;
    assert_eq!(changed.ok(200)["version"], 3);
    let messages = app.messages_of(&admin, &id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["type"], "CustomerPasswordUpdated");
    assert_eq!(last["reset"], false);
    assert_eq!(last["createdBy"]["customer"]["id"], id.as_str());

    // 6. The old token and its refresh token are dead; the new password signs in.
    app.get("/demo/me", &token)
        .await
        .error(401, "invalid_token");
    refresh_grant(&app, &client, &refresh)
        .await
        .error(400, "invalid_grant");
    password_grant(&app, &client, None, "john@example.com", "secret123")
        .await
        .error(400, "invalid_customer_account_credentials");
    let token = access(&password_grant(&app, &client, None, "john@example.com", "better456").await);
    assert_eq!(app.get("/demo/me", &token).await.ok(200)["version"], 3);
    // /me/login answers like /login (and writes nothing).
    let login = app
        .post(
            "/demo/me/login",
            &anon,
            json!({"email": "JOHN@example.com", "password": "better456"}),
        )
        .await;
    assert_eq!(login.ok(200)["customer"]["id"], id.as_str());
    assert!(login.body.get("cart").is_none());
    let e = app
        .post(
            "/demo/me/login",
            &anon,
            json!({"email": "john@example.com", "password": "secret123"}),
        )
        .await;
    assert_eq!(
        e.error(400, "InvalidCredentials")["message"],
        "Account with the given credentials not found."
    );

    // 7. DELETE /me: version required and checked; the token dies with the customer.
    app.delete("/demo/me", &token)
        .await
        .error(400, "InvalidInput");
    app.delete("/demo/me?version=1", &token)
        .await
        .error(409, "ConcurrentModification");
    let deleted = app.delete("/demo/me?version=3", &token).await;
    assert_eq!(deleted.ok(200)["id"], id.as_str());
    assert_eq!(
        app.messages_of(&admin, &id).await.last().unwrap()["type"],
        "CustomerDeleted"
    );
    app.get("/demo/me", &token)
        .await
        .error(404, "ResourceNotFound");
}

#[tokio::test]
async fn the_storefront_journey_in_a_store() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    two_stores(&app, &admin).await;
    let a = base(Some("a-shop"));
    // A storefront client of Store a-shop only, and one of the whole project.
    let shop = app
        .api_client("manage_my_profile:demo:a-shop create_anonymous_token:demo")
        .await;
    let project = app.api_client(STOREFRONT).await;

    let anon = access(&anonymous_grant(&app, &shop, &[]).await);
    let draft = json!({"email": "ann@example.com", "password": "secret123"});
    let r = app
        .post(&format!("{a}/me/signup"), &anon, draft.clone())
        .await;
    let customer = &r.ok(201)["customer"];
    let id = customer["id"].as_str().unwrap().to_owned();
    assert_eq!(
        customer["stores"],
        json!([{"typeId": "store", "key": "a-shop"}])
    );
    // The email is taken in a-shop now.
    app.post(&format!("{a}/me/signup"), &anon, draft.clone())
        .await
        .error(400, "DuplicateField");
    // The shop's scope does not reach Store b-shop nor the project level.
    app.post("/demo/in-store/key=b-shop/me/signup", &anon, draft.clone())
        .await
        .error(403, "insufficient_scope");
    app.post("/demo/me/signup", &anon, draft.clone())
        .await
        .error(403, "insufficient_scope");
    let project_anon = access(&anonymous_grant(&app, &project, &[]).await);
    app.post(
        "/demo/in-store/key=b-shop/me/signup",
        &project_anon,
        json!({"email": "bea@example.com", "password": "secret123"}),
    )
    .await
    .ok(201);

    // Only the Store's own password flow signs the customer in.
    password_grant(&app, &shop, None, "ann@example.com", "secret123")
        .await
        .error(400, "invalid_customer_account_credentials");
    let granted = password_grant(&app, &shop, Some("a-shop"), "ann@example.com", "secret123").await;
    let token = access(&granted);
    let refresh = granted.body["refresh_token"].as_str().unwrap().to_owned();
    let me = app.get(&format!("{a}/me"), &token).await;
    assert_eq!(me.ok(200)["id"], id.as_str());
    app.post(
        "/demo/in-store/key=a-shop/me/login",
        &anon,
        json!({"email": "ann@example.com", "password": "secret123"}),
    )
    .await
    .ok(200);
    // A customer of a-shop never signs in nor acts through b-shop, even with a project-wide
    // profile scope.
    app.post(
        "/demo/in-store/key=b-shop/me/login",
        &project_anon,
        json!({"email": "ann@example.com", "password": "secret123"}),
    )
    .await
    .error(400, "InvalidCredentials");
    let wide = access(
        &password_grant(
            &app,
            &project,
            Some("a-shop"),
            "ann@example.com",
            "secret123",
        )
        .await,
    );
    app.get(&format!("{a}/me"), &wide).await.ok(200);
    // With a project-wide profile scope the Store's customer is found at project level, and,
    // like any customer of another Store, not in Store b-shop.
    assert_eq!(
        app.get("/demo/me", &wide).await.ok(200)["email"],
        "ann@example.com"
    );
    app.get("/demo/in-store/key=b-shop/me", &wide)
        .await
        .error(404, "ResourceNotFound");

    // Updates through the Store; per-Store email uniqueness on changeEmail.
    app.post(
        &format!("{a}/me"),
        &token,
        json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "Ann"}]}),
    )
    .await
    .ok(200);
    app.post(
        &format!("{a}/me/password"),
        &token,
        json!({"version": 1, "currentPassword": "secret123", "newPassword": "x"}),
    )
    .await
    .error(409, "ConcurrentModification");

    // The customer leaves the Store: every token of that Store dies on every node.
    let r = app
        .update(
            &admin,
            &id,
            &json!(2),
            json!([{"action": "setStores", "stores": [{"typeId": "store", "key": "b-shop"}]}]),
        )
        .await;
    r.ok(200);
    for t in [&token, &wide] {
        app.get(&format!("{a}/me"), t)
            .await
            .error(401, "invalid_token");
    }
    refresh_grant(&app, &shop, &refresh)
        .await
        .error(400, "invalid_grant");
    password_grant(&app, &shop, Some("a-shop"), "ann@example.com", "secret123")
        .await
        .error(400, "invalid_customer_account_credentials");
}

#[tokio::test]
async fn me_redeems_only_the_customers_own_tokens() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let client = app.api_client(STOREFRONT).await;
    let jane = app
        .create_customer(
            &admin,
            json!({"email": "jane@example.com", "password": "secret123"}),
        )
        .await;
    let bob = app
        .create_customer(
            &admin,
            json!({"email": "bob@example.com", "password": "secret123"}),
        )
        .await;
    let jane_id = jane["id"].as_str().unwrap();
    let token = access(&password_grant(&app, &client, None, "jane@example.com", "secret123").await);
    let email_token = |id: &str| {
        let (app, admin, id) = (&app, &admin, id.to_owned());
        async move {
            let r = app
                .post(
                    "/demo/customers/email-token",
                    admin,
                    json!({"id": id, "ttlMinutes": 60}),
                )
                .await;
            r.ok(200)["value"].as_str().unwrap().to_owned()
        }
    };
    let password_token = |email: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let r = app
                .post(
                    "/demo/customers/password-token",
                    admin,
                    json!({"email": email}),
                )
                .await;
            r.ok(200)["value"].as_str().unwrap().to_owned()
        }
    };

    // Email confirmation: Bob's token is unknown to Jane, and stays usable for Bob.
    let bobs = email_token(bob["id"].as_str().unwrap()).await;
    app.post(
        "/demo/me/email/confirm",
        &token,
        json!({"tokenValue": bobs}),
    )
    .await
    .error(404, "ResourceNotFound");
    app.post(
        "/demo/me/email/confirm",
        &token,
        json!({"tokenValue": "nope"}),
    )
    .await
    .error(404, "ResourceNotFound");
    app.post(
        "/demo/me/email/confirm",
        &token,
        json!({"tokenValue": "x", "version": 1}),
    )
    .await
    .error(400, "InvalidJsonInput");
    let janes = email_token(jane_id).await;
    let r = app
        .post(
            "/demo/me/email/confirm",
            &token,
            json!({"tokenValue": janes}),
        )
        .await;
    assert_eq!(r.ok(200)["isEmailVerified"], true);
    assert_eq!(
        app.messages_of(&admin, jane_id).await.last().unwrap()["type"],
        "CustomerEmailVerified"
    );
    app.post(
        "/demo/customers/email/confirm",
        &admin,
        json!({"tokenValue": bobs}),
    )
    .await
    .ok(200);

    // Password reset: Bob's token is unknown to Jane; Jane's resets and revokes her tokens.
    let bobs = password_token("bob@example.com").await;
    app.post(
        "/demo/me/password/reset",
        &token,
        json!({"tokenValue": bobs, "newPassword": "hijack"}),
    )
    .await
    .error(404, "ResourceNotFound");
    let janes = password_token("jane@example.com").await;
    let r = app
        .post(
            "/demo/me/password/reset",
            &token,
            json!({"tokenValue": janes, "newPassword": "reset456"}),
        )
        .await;
    r.ok(200);
    let last = app.messages_of(&admin, jane_id).await;
    let last = last.last().unwrap();
    assert_eq!(last["type"], "CustomerPasswordUpdated");
    assert_eq!(last["reset"], true);
    app.get("/demo/me", &token)
        .await
        .error(401, "invalid_token");
    password_grant(&app, &client, None, "jane@example.com", "reset456")
        .await
        .ok(200);
    password_grant(&app, &client, None, "bob@example.com", "secret123")
        .await
        .ok(200);
}

#[tokio::test]
async fn sign_up_and_sign_in_share_the_project_rules() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let client = app.api_client(STOREFRONT).await;
    let anon = access(&anonymous_grant(&app, &client, &[]).await);
    let signup = |body: Value| {
        let (app, anon) = (&app, &anon);
        async move { app.post("/demo/me/signup", anon, body).await }
    };
    // Carts do not exist here.
    let e = signup(json!({"email": "a@example.com", "password": "x",
        "anonymousCart": {"typeId": "cart", "id": "c1"}}))
    .await;
    e.error(400, "ReferencedResourceNotFound");
    let e = app
        .post(
            "/demo/me/login",
            &anon,
            json!({"email": "a@example.com", "password": "x", "anonymousCart": {"key": "k"}}),
        )
        .await;
    e.error(400, "ReferencedResourceNotFound");
    // Fields only the back office sets, and a missing password.
    for field in [
        "key",
        "customerGroup",
        "isEmailVerified",
        "authenticationMode",
        "anonymousId",
    ] {
        let mut body = json!({"email": "a@example.com", "password": "x"});
        body[field] = json!("v");
        let e = signup(body).await;
        let e = e.error(400, "InvalidJsonInput");
        assert!(
            e["detailedErrorMessage"].as_str().unwrap().contains(field),
            "{field}"
        );
    }
    signup(json!({"email": "a@example.com"}))
        .await
        .error(400, "InvalidJsonInput");
    // The shared validation and uniqueness.
    signup(json!({"email": "", "password": "x"}))
        .await
        .error(400, "InvalidInput");
    signup(json!({"email": "a@example.com", "password": "x",
        "stores": [{"typeId": "store", "key": "nowhere"}]}))
    .await
    .error(400, "ReferencedResourceNotFound");
    signup(json!({"email": "a@example.com", "password": "x",
        "addresses": [{"country": "DE"}], "defaultShippingAddress": 0}))
    .await
    .ok(201);
    let e = signup(json!({"email": "A@example.com", "password": "y"})).await;
    assert_eq!(e.error(400, "DuplicateField")["field"], "email");
    // A customer's token may sign someone else up; the new customer is not "created by" it.
    let token = access(&password_grant(&app, &client, None, "a@example.com", "x").await);
    let r = app
        .post(
            "/demo/me/signup",
            &token,
            json!({"email": "b@example.com", "password": "x"}),
        )
        .await;
    assert!(r.ok(201)["customer"]["createdBy"].get("customer").is_none());
    // In an unknown Store everything is 404 naming it.
    app.post(
        "/demo/in-store/key=nowhere/me/signup",
        &anon,
        json!({"email": "c@example.com", "password": "x"}),
    )
    .await
    .error(404, "ResourceNotFound");
    let _ = admin;
}

#[tokio::test]
async fn me_paths_in_a_store_need_the_key_form() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    two_stores(&app, &admin).await;
    let client = app.api_client(STOREFRONT).await;
    let anon = access(&anonymous_grant(&app, &client, &[]).await);
    let r = app
        .request(
            Method::POST,
            "/demo/in-store/a-shop/me/signup",
            Some(&anon),
            Some(json!({"email": "a@example.com", "password": "x"})),
        )
        .await;
    r.error(404, "ResourceNotFound");
    app.get("/demo/me", "not-a-token")
        .await
        .error(401, "invalid_token");
    // Without a customer, the customer endpoints answer 403 before reading the body.
    for path in [
        "/demo/me",
        "/demo/me/password",
        "/demo/me/password/reset",
        "/demo/me/email/confirm",
    ] {
        app.request_raw(Method::POST, path, &anon, "{".to_owned())
            .await
            .error(403, "insufficient_scope");
    }
    app.request_raw(Method::POST, "/demo/me/signup", &anon, "{".to_owned())
        .await
        .error(400, "InvalidJsonInput");
    app.request(Method::PUT, "/demo/me", Some(&anon), None)
        .await
        .error(405, "MethodNotAllowed");
}

#[tokio::test]
async fn get_me_refuses_malformed_collection_parameters_as_customers_does() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.create_customer(
        &admin,
        json!({"email": "jane@example.com", "password": "secret123"}),
    )
    .await;
    let client = app.api_client(STOREFRONT).await;
    let jane = access(&password_grant(&app, &client, None, "jane@example.com", "secret123").await);
    for query in [
        "limit=abc",
        "limit=600",
        "offset=-1",
        "withTotal=maybe",
        "sort=lastName%20sideways",
        "sort=nosuchfield%20asc",
    ] {
        let r = app.get(&format!("/demo/me?{query}"), &jane).await;
        let e = r.error(400, "InvalidInput");
        let customers = app.get(&format!("/demo/customers?{query}"), &admin).await;
        assert_eq!(
            customers.error(400, "InvalidInput")["message"],
            e["message"],
            "{query}"
        );
    }
    let r = app
        .get(
            "/demo/me?limit=5&offset=0&withTotal=false&sort=lastName%20asc",
            &jane,
        )
        .await;
    assert_eq!(r.ok(200)["email"], "jane@example.com");
}

#[tokio::test]
async fn the_external_user_id_header_is_recorded_as_created_by_and_last_modified_by() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = app
        .post_with_headers(
            "/demo/customers",
            &admin,
            &[("X-External-User-ID", "agent-42")],
            json!({"email": "jane@example.com", "password": "secret123"}),
        )
        .await;
    let c = created.ok(201)["customer"].clone();
    assert_eq!(c["createdBy"]["externalUserId"], "agent-42", "{c}");
    assert_eq!(c["lastModifiedBy"]["externalUserId"], "agent-42", "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    let messages = app.messages_of(&admin, &id).await;
    assert_eq!(messages[0]["createdBy"]["externalUserId"], "agent-42");

    // Through `/me`, beside the customer reference; without the header nothing is recorded.
    let client = app.api_client(STOREFRONT).await;
    let jane = access(&password_grant(&app, &client, None, "jane@example.com", "secret123").await);
    let updated = app
        .post_with_headers(
            "/demo/me",
            &jane,
            &[("X-External-User-ID", "jane-web")],
            json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "Jane"}]}),
        )
        .await;
    let by = updated.ok(200)["lastModifiedBy"].clone();
    assert_eq!(by["externalUserId"], "jane-web", "{by}");
    assert_eq!(by["customer"]["id"], id.as_str(), "{by}");
    let plain = app
        .post(
            "/demo/me",
            &jane,
            json!({"version": 2, "actions": [{"action": "setLastName", "lastName": "Doe"}]}),
        )
        .await;
    assert!(plain.ok(200)["lastModifiedBy"]
        .get("externalUserId")
        .is_none());
    // Longer than commercetools' 128 characters: not recorded.
    let long = "x".repeat(129);
    let r = app
        .post_with_headers(
            "/demo/me",
            &jane,
            &[("X-External-User-ID", &long)],
            json!({"version": 3, "actions": [{"action": "setFirstName", "firstName": "J"}]}),
        )
        .await;
    assert!(r.ok(200)["lastModifiedBy"].get("externalUserId").is_none());
}
