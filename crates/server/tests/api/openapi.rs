//! `GET /-/openapi.json` cannot drift from the router: every documented operation is requested
//! and must be answered by exactly the route template the document names (`x-route`, read back
//! from `/-/metrics`' route labels), never by the fallback; and on each documented template,
//! the methods the document does not list must answer 405 (HEAD is implied by GET).

use crate::helpers::spawn_app;
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Fills `{name}` templates with values that route (ids that do not exist are fine: a 404 from
/// a handler is still that route answering).
fn fill(path: &str) -> String {
    path.replace("{projectKey}", "demo")
        .replace("{storeKey}", "berlin")
        .replace("{id}", "00000000-0000-4000-8000-000000000001")
        .replace("{key}", "some-key")
        .replace("{passwordToken}", "no-such-token")
        .replace("{emailToken}", "no-such-token")
}

/// Templates whose `GET`/`HEAD`/`DELETE` deliberately answer like `/customers/{id}` (see
/// `api::credentials::customer_lookalike`) although only `POST` is an operation.
const LOOKALIKES: [&str; 7] = [
    "/{project}/customers/search",
    "/{project}/customers/password",
    "/{project}/customers/password-token",
    "/{project}/customers/email-token",
    "/{project}/in-store/{store}/customers/password",
    "/{project}/in-store/{store}/customers/password-token",
    "/{project}/in-store/{store}/customers/email-token",
];

#[tokio::test]
async fn openapi_document_matches_the_router() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let doc = app
        .request(Method::GET, "/-/openapi.json", None, None)
        .await;
    let doc = doc.ok(200).clone();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 40, "{} paths", paths.len());

    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let route = op["x-route"].as_str().expect("x-route").to_owned();
            documented
                .entry(route.clone())
                .or_default()
                .insert(method.to_uppercase());
            for (_, schema) in op["responses"].as_object().unwrap() {
                if let Some(r) = schema.pointer("/content/application~1json/schema/$ref") {
                    let name = r.as_str().unwrap().rsplit('/').next().unwrap();
                    assert!(
                        doc["components"]["schemas"].get(name).is_some(),
                        "{path} {method}: schema {name} is defined"
                    );
                }
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = fill(path);
            let r = if path.starts_with("/oauth/") {
                app.http
                    .request(method, format!("{}{url}", app.base))
                    .basic_auth("nobody", Some("nothing"))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            } else {
                let body = (method == Method::POST).then(|| serde_json::json!({}));
                app.request(method, &url, Some(&token), body).await.status
            };
            assert_ne!(
                r, 405,
                "{path} {op}: the router refuses the documented method"
            );
        }
    }

    let metrics = app
        .http
        .get(format!("{}/-/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("route=\"unmatched\""),
        "a documented path fell through to the fallback:\n{metrics}"
    );
    for (route, methods) in &documented {
        for method in methods {
            let label = format!("{{method=\"{method}\",route=\"{route}\",");
            assert!(
                metrics
                    .lines()
                    .any(|l| l.starts_with("clientele_http_requests_total") && l.contains(&label)),
                "{method} {route} was not served by that route template"
            );
        }
    }

    // The other direction: on every documented template, an undocumented method is refused.
    for (route, methods) in &documented {
        let url = fill(
            &route
                .replace("{project}", "{projectKey}")
                .replace("{store}", "key={storeKey}")
                .replace("{id_or_key}", "{id}"),
        );
        for method in ["GET", "HEAD", "POST", "DELETE", "PUT", "PATCH"] {
            // axum answers HEAD wherever GET is routed (without a body), as HTTP allows.
            let implied = method == "HEAD" && methods.contains("GET");
            if methods.contains(method)
                || implied
                || (LOOKALIKES.contains(&route.as_str()) && method != "PUT" && method != "PATCH")
            {
                continue;
            }
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let r = app.request(m, &url, Some(&token), None).await;
            assert_eq!(
                r.status, 405,
                "{method} {route} is served but not documented: {}",
                r.text
            );
        }
    }
    let _: Value = doc;
}
