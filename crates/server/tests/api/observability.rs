//! Metrics, request ids and logs over HTTP: `/-/metrics` counts requests by route template and
//! status, latency, pool occupancy, Argon2 rejections and issued tokens without customer data
//! in any label; `X-Correlation-ID` is echoed or generated; and the log output of a real
//! `clientele serve` never holds a password, a token or a client secret.

use crate::helpers::{spawn_app, spawn_app_with_production_hashing, TestApp};
use reqwest::Method;
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

async fn scrape(app: &TestApp) -> String {
    let r = app
        .http
        .get(format!("{}/-/metrics", app.base))
        .send()
        .await
        .expect("metrics request");
    assert_eq!(r.status().as_u16(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    r.text().await.unwrap()
}

/// The value of the sample line starting with `series ` (exact series incl. labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_without_customer_data() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let email = "metrics.person@example.com";
    let customer = app
        .external_customer(&token, email, json!({"key": "metrics-key"}))
        .await;
    let id = customer["id"].as_str().unwrap();
    app.get(&format!("/demo/customers/{id}"), &token)
        .await
        .ok(200);
    app.get("/demo/customers/key=metrics-key", &token)
        .await
        .ok(200);
    app.get(
        "/demo/customers/00000000-0000-4000-8000-000000000000",
        &token,
    )
    .await
    .error(404, "ResourceNotFound");
    app.get("/no/such/path/at/all", &token)
        .await
        .error(404, "ResourceNotFound");

    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"clientele_http_requests_total{method="POST",route="/{project}/customers",status="201"}"#
        ),
        Some(1.0),
        "{text}"
    );
    let by_id = text
        .lines()
        .filter(|l| {
            l.starts_with(
                r#"clientele_http_requests_total{method="GET",route="/{project}/customers/"#,
            )
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum::<f64>();
    assert_eq!(by_id, 3.0, "three GETs of one customer route: {text}");
    assert_eq!(
        sample(
            &text,
            r#"clientele_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"clientele_http_requests_total{method="POST",route="/oauth/token",status="200"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"clientele_oauth_tokens_issued_total{kind="access"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"clientele_http_request_duration_seconds_count{method="POST",route="/{project}/customers"}"#
        ),
        Some(1.0)
    );
    assert!(text.contains(
        r#"clientele_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/{project}/customers"} 1"#
    ) || text.contains(
        r#"clientele_http_request_duration_seconds_bucket{method="POST",route="/{project}/customers",le="+Inf"} 1"#
    ), "{text}");
    assert_eq!(
        sample(&text, "clientele_db_pool_connections_max").map(|v| v >= 5.0),
        Some(true)
    );
    assert!(sample(&text, "clientele_db_pool_connections_in_use").is_some());
    assert!(sample(&text, "clientele_db_pool_connections_open").unwrap() >= 1.0);
    // Nothing else runs against this server, so nobody waits for a connection.
    assert_eq!(sample(&text, "clientele_db_pool_waiting"), Some(0.0));
    assert_eq!(sample(&text, "clientele_argon2_queue_depth"), Some(0.0));
    assert_eq!(sample(&text, "clientele_argon2_running"), Some(0.0));
    assert_eq!(
        sample(&text, "clientele_argon2_rejections_total"),
        Some(0.0)
    );
    // Route templates only: no id, key, email, token or project key in any label.
    for secret in [id, "metrics-key", email, token.as_str(), "demo", "no/such"] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into metrics:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_argon2_rejections() {
    // Only a real hashing cost keeps the single worker busy long enough for a burst to be turned
    // away (at the suite's cheap cost eight sign-ups can finish one after another); a loaded
    // machine may spread a burst out, so up to five bursts are sent.
    let app = spawn_app_with_production_hashing(|c| {
        c.hash_workers = Some(1);
        c.hash_queue = 0;
    })
    .await;
    let token = app.admin().await;
    let mut refused = 0;
    for burst in 0..5 {
        let mut sign_ups = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (http, url, token) = (
                app.http.clone(),
                format!("{}/demo/customers", app.base),
                token.clone(),
            );
            sign_ups.spawn(async move {
                let body = json!({"email": format!("burst{burst}-{i}@example.com"),
                                  "password": "burst-password"});
                let r = http.post(url).bearer_auth(token).json(&body).send().await;
                r.expect("sign-up sent").status().as_u16()
            });
        }
        let statuses = sign_ups.join_all().await;
        let turned_away = statuses.iter().filter(|s| **s == 503).count();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count() + turned_away,
            8,
            "{statuses:?}"
        );
        refused += turned_away;
        if refused > 0 {
            break;
        }
    }
    assert!(
        refused >= 1,
        "one worker, no queue: some sign-ups are refused"
    );
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "clientele_argon2_rejections_total"),
        Some(refused as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"clientele_http_requests_total{method="POST",route="/{project}/customers",status="503"}"#
        ),
        Some(refused as f64)
    );
}

#[tokio::test]
async fn correlation_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let sent = app
        .http
        .get(format!("{}/-/health", app.base))
        .header(
            "X-Correlation-ID",
            "demo/5f1c0b5e-0c8a-4b7e-9d55-2d8f0b6a4e11",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 200);
    assert_eq!(
        sent.headers()["x-correlation-id"],
        "demo/5f1c0b5e-0c8a-4b7e-9d55-2d8f0b6a4e11"
    );

    let generated = app.request(Method::GET, "/-/health", None, None).await;
    let id = generated.headers["x-correlation-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "a UUID is generated: {id}"
    );

    // An id that could smuggle text into logs is replaced, not echoed; errors carry one too.
    let odd = app
        .http
        .get(format!("{}/demo/customers", app.base))
        .header("X-Correlation-ID", "a b\"c")
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status().as_u16(), 401);
    let id = odd.headers()["x-correlation-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "replaced by a UUID: {id}"
    );
}

/// Reads `key:  value` from the demo banner `serve` prints on an empty database.
fn banner_value(banner: &str, key: &str) -> String {
    banner
        .lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("{key} in banner:\n{banner}"))
}

#[tokio::test]
async fn logs_hold_request_ids_but_no_password_token_or_secret() {
    let dir = std::env::temp_dir().join(format!("clientele-logs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}", dir.join("logs.db").display());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .args([
            "--hash-workers",
            "1",
            "--hash-queue-wait",
            "120",
            "--log-format",
            "json",
        ])
        // Everything this crate and its libraries log at debug, to catch a leak anywhere.
        .env("RUST_LOG", "debug")
        .env_remove("CLIENTELE_DATABASE_URL")
        .env_remove("CLIENTELE_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("clientele serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut all = String::new();
        stderr.read_to_string(&mut all).await.ok();
        all
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = String::new();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(base) = line.strip_prefix("listening on ") {
                return base.trim().to_owned();
            }
            banner.push_str(&line);
            banner.push('\n');
        }
        panic!("serve exited early:\n{banner}")
    })
    .await
    .expect("listening");
    let client_id = banner_value(&banner, "client id:");
    let client_secret = banner_value(&banner, "client secret:");

    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let password = "Zebra-Lantern-4711-Password";
    let created = http
        .post(format!("{base}/demo/customers"))
        .bearer_auth(&token)
        .header("X-Correlation-ID", "demo/log-test-1")
        .json(&json!({"email": "logged@example.com", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let login = http
        .post(format!("{base}/demo/login"))
        .bearer_auth(&token)
        .json(&json!({"email": "logged@example.com", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let pw_flow: serde_json::Value = http
        .post(format!("{base}/oauth/demo/customers/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "logged@example.com"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer_token = pw_flow["access_token"].as_str().unwrap().to_owned();
    let refresh_token = pw_flow["refresh_token"].as_str().unwrap().to_owned();
    // A failing request (bad JSON around the password) must not echo it into logs either.
    let bad = http
        .post(format!("{base}/demo/customers"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"email\": 1, \"password\": \"{password}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    child.kill().await.unwrap();
    let log = log.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert!(
        log.lines()
            .any(|l| l.contains("\"request_id\":\"demo/log-test-1\"")
                && l.contains("\"route\":\"/{project}/customers\"")
                && l.contains("\"status\":201")),
        "a JSON line with the request id, route template and status:\n{log}"
    );
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "every log line is JSON: {line}"
        );
    }
    for secret in [
        password,
        token.as_str(),
        customer_token.as_str(),
        refresh_token.as_str(),
        client_secret.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}
