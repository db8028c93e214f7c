//! The admin web page's HTTP contract: the page and every file it loads answer 200 with their
//! content type, the strict Content-Security-Policy and `nosniff`, without a token; an unknown
//! file is 404 (with the same headers); nothing in the files loads from another origin, runs
//! inline or imports a module the server does not serve. Its behaviour in a browser is tested by
//! `tests/browser` (headless Chromium).

use crate::helpers::spawn_app;
use clientele_server::admin::CONTENT_SECURITY_POLICY;
use reqwest::Method;

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
