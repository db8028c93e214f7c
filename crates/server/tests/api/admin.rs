//! The admin web page's HTTP contract: the page and every file it loads answer 200 with their
//! content type, the strict Content-Security-Policy and `nosniff`, without a token; an unknown
//! file is 404 (with the same headers); nothing in the files loads from another origin, runs
//! inline or imports a module the server does not serve. Its behaviour in a browser is tested by
//! `tests/browser` (headless Chromium).

use crate::helpers::{spawn_app, TestApp};
use clientele_server::admin::CONTENT_SECURITY_POLICY;
use reqwest::Method;
use serde_json::{json, Value};

/// What a test needs of one answer.
struct Fetched {
    status: u16,
    content_type: String,
    csp: String,
    nosniff: String,
    body: String,
}

async fn fetch(base: &str, method: Method, path: &str) -> Fetched {
    let r = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .send()
        .await
        .expect("request sent");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (content_type, csp, nosniff) = (
        header("content-type"),
        header("content-security-policy"),
        header("x-content-type-options"),
    );
    let status = r.status().as_u16();
    Fetched {
        status,
        content_type,
        csp,
        nosniff,
        body: r.text().await.expect("body"),
    }
}

#[track_caller]
fn assert_secured(f: &Fetched, what: &str) {
    assert_eq!(f.csp, CONTENT_SECURITY_POLICY, "{what}: CSP");
    assert_eq!(f.nosniff, "nosniff", "{what}: nosniff");
}

/// The files the page loads, with the content type each must have.
const FILES: &[(&str, &str)] = &[
    ("/-/admin/admin.css", "text/css; charset=utf-8"),
    ("/-/admin/app.js", "text/javascript; charset=utf-8"),
    ("/-/admin/api.js", "text/javascript; charset=utf-8"),
    ("/-/admin/search.js", "text/javascript; charset=utf-8"),
    ("/-/admin/dom.js", "text/javascript; charset=utf-8"),
    ("/-/admin/customers.js", "text/javascript; charset=utf-8"),
    ("/-/admin/customer.js", "text/javascript; charset=utf-8"),
    ("/-/admin/icon.svg", "image/svg+xml"),
];

#[tokio::test]
async fn the_page_is_served_without_a_token_with_a_strict_policy() {
    let app = spawn_app().await;
    for path in ["/-/admin", "/-/admin/", "/-/admin/index.html"] {
        let f = fetch(&app.base, Method::GET, path).await;
        assert_eq!(f.status, 200, "{path}");
        assert_eq!(f.content_type, "text/html; charset=utf-8", "{path}");
        assert_secured(&f, path);
        assert!(
            f.body
                .contains(r#"<script type="module" src="/-/admin/app.js"></script>"#),
            "{path} loads the app module"
        );
    }
    assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));

    let head = fetch(&app.base, Method::HEAD, "/-/admin").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.content_type, "text/html; charset=utf-8");
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn every_file_has_its_content_type_and_the_policy() {
    let app = spawn_app().await;
    for (path, content_type) in FILES {
        let f = fetch(&app.base, Method::GET, path).await;
        assert_eq!(f.status, 200, "{path}");
        assert_eq!(f.content_type, *content_type, "{path}");
        assert_secured(&f, path);
        assert!(!f.body.is_empty(), "{path} has content");
    }
}

#[tokio::test]
async fn an_unknown_file_is_404_with_the_same_headers() {
    let app = spawn_app().await;
    for path in [
        "/-/admin/nope.js",
        "/-/admin/APP.JS",
        "/-/admin/%2e%2e%2fCargo.toml",
        "/-/admin/app.js.map",
    ] {
        let f = fetch(&app.base, Method::GET, path).await;
        assert_eq!(f.status, 404, "{path}");
        assert_secured(&f, path);
    }
    // Deeper paths are not admin files either: the API's own 404.
    let f = fetch(&app.base, Method::GET, "/-/admin/a/b.js").await;
    assert_eq!(f.status, 404);
    let posted = fetch(&app.base, Method::POST, "/-/admin").await;
    assert_eq!(posted.status, 405);
}

#[tokio::test]
async fn the_files_load_nothing_from_elsewhere_and_run_nothing_inline() {
    let app = spawn_app().await;
    let html = fetch(&app.base, Method::GET, "/-/admin").await.body;
    // Every script has a src; no style element or attribute, no inline handler.
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script type=\"module\" src=\"/-/admin/")
            .count()
    );
    assert!(!html.contains("<style") && !html.contains(" style=") && !html.contains(" onclick="));

    let mut imported = std::collections::BTreeSet::new();
    for (path, _) in FILES {
        let body = fetch(&app.base, Method::GET, path).await.body;
        let external = body
            .replace("http://www.w3.org/2000/svg", "")
            .contains("://");
        assert!(!external, "{path} names another origin");
        assert!(
            !body.contains("innerHTML"),
            "{path} must build the DOM from text"
        );
        assert!(!body.contains("eval("), "{path}");
        // Every module a module imports is one the server serves.
        for import in body.split("from './").skip(1) {
            let name = import.split('\'').next().unwrap_or_default();
            let f = fetch(&app.base, Method::GET, &format!("/-/admin/{name}")).await;
            assert_eq!(f.status, 200, "{path} imports {name}");
            imported.insert(format!("/-/admin/{name}"));
        }
    }
    // And every module but the entry point is imported by another one: none is dead.
    for (path, _) in FILES {
        if path.ends_with(".js") && *path != "/-/admin/app.js" {
            assert!(imported.contains(*path), "{path} is imported");
        }
    }
}

/// `GET /demo/{resource}?{params}` with the parameters encoded as the page's `URLSearchParams`.
async fn query(app: &TestApp, token: &str, resource: &str, params: &[(&str, &str)]) -> Value {
    let qs = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.get(&format!("/demo/{resource}?{qs}"), token)
        .await
        .ok(200)
        .clone()
}

fn emails(page: &Value) -> Vec<&str> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|c| c["email"].as_str().unwrap_or_default())
        .collect()
}

/// The requests `search.js`, `customers.js` and `customer.js` send, as they send them, on the
/// suite's backend (so on PostgreSQL too): the search predicates with input variables, the
/// list's sorts with `withTotal`, the expansions of one customer, and the Messages timeline of
/// one customer in sequence order.
#[tokio::test]
async fn the_queries_the_page_sends_are_answered() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let jane = app
        .external_customer(
            &token,
            "Jane@Example.com",
            json!({"firstName": "Jane", "lastName": "Doe", "companyName": "Acme", "key": "jane"}),
        )
        .await;
    app.clock.advance(time::Duration::seconds(1));
    app.external_customer(
        &token,
        "john@example.com",
        json!({"firstName": "John", "lastName": "Smith"}),
    )
    .await;
    let id = jane["id"].as_str().expect("id");

    // Search: email in any case, one word in either case, "first last", an id.
    let by_email = [
        ("where", "lowercaseEmail = :email"),
        ("var.email", "jane@example.com"),
    ];
    assert_eq!(
        emails(&query(&app, &token, "customers", &by_email).await),
        ["Jane@Example.com"]
    );
    let one_word = "firstName = :w or firstName = :wc or lastName = :w or lastName = :wc \
                    or companyName = :w or key = :w or customerNumber = :w";
    for (w, wc) in [("smith", "Smith"), ("Acme", "Acme"), ("jane", "Jane")] {
        let page = query(
            &app,
            &token,
            "customers",
            &[
                ("where", one_word),
                ("var.w", w),
                ("var.wc", wc),
                ("withTotal", "true"),
            ],
        )
        .await;
        assert_eq!(page["total"], 1, "{w}: {page}");
    }
    let two_words = "(firstName = :f and lastName = :l) or (firstName = :fc and lastName = :lc) \
                     or companyName = :all";
    let page = query(
        &app,
        &token,
        "customers",
        &[
            ("where", two_words),
            ("var.f", "jane"),
            ("var.l", "doe"),
            ("var.fc", "Jane"),
            ("var.lc", "Doe"),
            ("var.all", "jane doe"),
        ],
    )
    .await;
    assert_eq!(emails(&page), ["Jane@Example.com"]);
    let page = query(
        &app,
        &token,
        "customers",
        &[("where", "id = :id"), ("var.id", id)],
    )
    .await;
    assert_eq!(page["count"], 1);

    // The list's sorts and paging.
    for (sort, first) in [
        ("createdAt desc", "john@example.com"),
        ("createdAt asc", "Jane@Example.com"),
        ("email asc", "Jane@Example.com"),
        ("lastName asc", "Jane@Example.com"),
        ("lastModifiedAt desc", "john@example.com"),
    ] {
        let page = query(
            &app,
            &token,
            "customers",
            &[
                ("limit", "1"),
                ("offset", "0"),
                ("sort", sort),
                ("withTotal", "true"),
            ],
        )
        .await;
        assert_eq!(page["total"], 2, "{sort}");
        assert_eq!(emails(&page), [first], "{sort}");
    }

    // One customer with its expansions, an update, and its timeline.
    let r = app
        .get(
            &format!("/demo/customers/{id}?expand=customerGroup&expand=custom.type"),
            &token,
        )
        .await;
    assert_eq!(r.ok(200)["version"], 1);
    app.update(
        &token,
        id,
        &json!(1),
        json!([{"action": "setFirstName", "firstName": "Janet"}]),
    )
    .await
    .ok(200);
    let stale = app
        .update(
            &token,
            id,
            &json!(1),
            json!([{"action": "setCompanyName", "companyName": "X"}]),
        )
        .await;
    assert_eq!(
        stale.error(409, "ConcurrentModification")["currentVersion"],
        2
    );
    let timeline = query(
        &app,
        &token,
        "messages",
        &[
            ("where", "resource(id = :rid)"),
            ("var.rid", id),
            ("sort", "sequenceNumber asc"),
            ("limit", "500"),
            ("withTotal", "true"),
        ],
    )
    .await;
    assert_eq!(timeline["total"], 2);
    let types: Vec<_> = timeline["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|m| (m["sequenceNumber"].clone(), m["type"].clone()))
        .collect();
    assert_eq!(
        types,
        [
            (json!(1), json!("CustomerCreated")),
            (json!(2), json!("CustomerFirstNameSet"))
        ]
    );
}
