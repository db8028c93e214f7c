//! Two real `clientele serve` processes on one PostgreSQL database: every guarantee that one
//! process gives must hold across processes, because it lives in the database, not in memory.
//! Both start together on an empty database (migrations and demo seeding race and must both
//! come up), the CLI creates a project and an API client on the same database, a token issued
//! by one process works on the other, and races split across both processes have exactly one
//! winner: sign-ups with one email, updates at one version, redemptions of one email token and
//! of one password token; Customer Search sees a write made through the other process at once.
//!
//! Runs when `CLIENTELE_TEST_POSTGRES_URL` is set (whatever `CLIENTELE_TEST_API_BACKEND` says);
//! otherwise prints a notice and passes.

use crate::helpers::{notice, DB_PREFIX, POSTGRES_URL_VAR};
use clientele_testing::PgDatabase;
use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The project the test creates through the CLI.
const PROJECT: &str = "shared";
/// Connections per server process; the test checks the database never sees more.
const POOL_SIZE: u32 = 3;

/// A running `clientele serve`; killed when dropped (also when the test panics).
pub(crate) struct Server {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// What it printed on stdout before listening (demo credentials, if it seeded).
    pub(crate) banner: String,
    child: Child,
}

impl Server {
    /// Ends the process with SIGKILL, as a crash would, and waits for it to be gone.
    pub(crate) async fn kill9(mut self) {
        self.child.kill().await.expect("SIGKILL the server");
    }
}

fn clientele() -> Command {
    clientele_at(env!("CARGO_BIN_EXE_clientele"))
}

/// The `clientele` binary at `path`, quiet but for warnings.
fn clientele_at(path: &str) -> Command {
    let mut cmd = Command::new(path);
    // Only warnings and errors on the inherited stderr: a failure stays visible, a pass quiet.
    cmd.env("RUST_LOG", "warn")
        .env_remove("CLIENTELE_DATABASE_URL")
        .env_remove("CLIENTELE_DB_POOL_SIZE")
        .kill_on_drop(true);
    cmd
}

/// Starts `clientele serve` on port 0 and waits for its `listening on http://…` line.
pub(crate) async fn serve(database: &str) -> Server {
    serve_with(database, &[]).await
}

/// [`serve`] with `extra` arguments.
pub(crate) async fn serve_with(database: &str, extra: &[&str]) -> Server {
    serve_bin(env!("CARGO_BIN_EXE_clientele"), database, extra).await
}

/// [`serve_with`] running the binary at `bin` (a release build, for measurements).
pub(crate) async fn serve_bin(bin: &str, database: &str, extra: &[&str]) -> Server {
    let mut child = clientele_at(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
        .args(extra)
        .args([
            "--db-pool-size",
            &POOL_SIZE.to_string(),
            "--hash-workers",
            "1",
            // A debug build hashes for seconds: the production wait bound would shed the
            // suite's concurrent sign-ins.
            "--hash-queue-wait",
            "120",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("clientele serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = String::new();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(base) = line.strip_prefix("listening on ") {
                return base.trim().to_owned();
            }
            banner.push_str(&line);
            banner.push('\n');
        }
        panic!("clientele serve exited before listening; stdout:\n{banner}")
    })
    .await
    .expect("clientele serve listens within 60 s");
    Server {
        base,
        banner,
        child,
    }
}

/// Runs a CLI subcommand to completion; returns its stdout, asserting success.
async fn cli(args: &[&str]) -> String {
    let out = clientele()
        .args(args)
        .output()
        .await
        .expect("clientele runs");
    assert!(
        out.status.success(),
        "clientele {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// One HTTP answer: status and JSON body.
async fn send(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let rb = match body {
        Some(b) => http.post(url).json(&b),
        None => http.get(url),
    };
    let r = rb.bearer_auth(token).send().await.expect("request sent");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body read");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Sends `count` copies of a POST, alternating between the servers, all at once; returns each
/// answer.
async fn race(
    servers: &[Arc<Server>; 2],
    tokens: &[String; 2],
    path: &str,
    bodies: impl Fn(usize) -> Value,
    count: usize,
) -> Vec<(u16, Value)> {
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let url = format!("{}/{PROJECT}{path}", servers[i % 2].base);
            let (http, token, body) = (http.clone(), tokens[i % 2].clone(), bodies(i));
            tokio::spawn(async move { send(&http, url, &token, Some(body)).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    answers
}

/// Asserts exactly one answer has `winner` and every other one is `loser` with error `code`.
#[track_caller]
fn exactly_one(answers: &[(u16, Value)], winner: u16, losers: &[(u16, &str)]) {
    let won = answers.iter().filter(|(s, _)| *s == winner).count();
    assert_eq!(won, 1, "exactly one {winner}: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != winner) {
        assert!(
            losers
                .iter()
                .any(|(s, code)| s == status && body["errors"][0]["code"] == *code),
            "unexpected answer {status}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_on_one_postgres_database_keep_every_guarantee() {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        notice(&format!(
            "skipping the two-process test: {POSTGRES_URL_VAR} not set"
        ));
        return;
    };
    // A database whose default isolation is stricter than PostgreSQL's default: the store must
    // pin READ COMMITTED itself, or racing writers fail with serialization errors (500) instead
    // of 409, and the email check after the advisory lock reads a stale snapshot.
    let db = PgDatabase::create(
        &admin_url,
        DB_PREFIX,
        &["default_transaction_isolation TO 'repeatable read'"],
    )
    .await;
    let url = db.url.clone();
    let db_name = db.name().to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("admin connection");

    // Both processes migrate and seed one empty database at the same time.
    let (a, b) = tokio::join!(serve(&url), serve(&url));
    let seeded = [&a, &b]
        .iter()
        .filter(|s| s.banner.contains("Created project 'demo'"))
        .count();
    assert_eq!(seeded, 1, "exactly one process seeds the demo project");
    let servers = [Arc::new(a), Arc::new(b)];

    // The CLI against the same database, while both servers run.
    let project: Value = serde_json::from_str(
        &cli(&[
            "project",
            "create",
            PROJECT,
            "--database",
            &url,
            "--languages",
            "en,de",
        ])
        .await,
    )
    .expect("project JSON");
    assert_eq!(project["key"], PROJECT);
    let client: Value = serde_json::from_str(
        &cli(&[
            "api-client",
            "create",
            "--project",
            PROJECT,
            "--scope",
            &format!("manage_project:{PROJECT}"),
            "--database",
            &url,
        ])
        .await,
    )
    .expect("API client JSON");
    let (id, secret) = (
        client["clientId"].as_str().expect("clientId"),
        client["clientSecret"].as_str().expect("clientSecret"),
    );

    // One token from each process; each works on the other, since tokens live in the database.
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for s in &servers {
        let r = http
            .post(format!("{}/oauth/token", s.base))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token request");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("token JSON");
        tokens.push(body["access_token"].as_str().expect("token").to_owned());
    }
    let tokens: [String; 2] = [tokens[0].clone(), tokens[1].clone()];
    for (s, t) in servers.iter().zip(tokens.iter().rev()) {
        let (status, _) = send(&http, format!("{}/{PROJECT}/customers", s.base), t, None).await;
        assert_eq!(
            status, 200,
            "a token issued by one process works on the other"
        );
    }

    // Sign-ups with one email (differently cased) through both processes: one customer.
    let answers = race(
        &servers,
        &tokens,
        "/customers",
        |i| {
            let email = if i % 3 == 0 {
                "race@example.com"
            } else {
                "RACE@Example.COM"
            };
            json!({"email": email, "authenticationMode": "ExternalAuth", "key": format!("k{i}")})
        },
        16,
    )
    .await;
    exactly_one(
        &answers,
        201,
        &[(400, "DuplicateField"), (409, "LockedField")],
    );
    let created = &answers.iter().find(|(s, _)| *s == 201).expect("winner").1["customer"];
    let customer_id = created["id"].as_str().expect("id").to_owned();
    for (s, t) in servers.iter().zip(&tokens) {
        let (_, list) = send(&http, format!("{}/{PROJECT}/customers", s.base), t, None).await;
        assert_eq!(list["total"], 1, "one customer, seen by both processes");
    }

    // Updates at one version through both processes: one 200, the rest 409.
    let answers = race(
        &servers,
        &tokens,
        &format!("/customers/{customer_id}"),
        |i| json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": format!("w{i}")}]}),
        16,
    )
    .await;
    exactly_one(&answers, 200, &[(409, "ConcurrentModification")]);

    // An email token redeemed through both processes at once: one confirmation.
    let (status, token) = send(
        &http,
        format!("{}/{PROJECT}/customers/email-token", servers[0].base),
        &tokens[0],
        Some(json!({"id": customer_id, "ttlMinutes": 30})),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let value = token["value"].as_str().expect("value").to_owned();
    let answers = race(
        &servers,
        &tokens,
        "/customers/email/confirm",
        |_| json!({"tokenValue": value}),
        12,
    )
    .await;
    exactly_one(&answers, 200, &[(404, "ResourceNotFound")]);

    // A password token (for a Password-mode customer) redeemed through both: one reset.
    let (status, body) = send(
        &http,
        format!("{}/{PROJECT}/customers", servers[1].base),
        &tokens[1],
        Some(json!({"email": "pw@example.com", "password": "old-secret"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, token) = send(
        &http,
        format!("{}/{PROJECT}/customers/password-token", servers[1].base),
        &tokens[1],
        Some(json!({"email": "pw@example.com"})),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let value = token["value"].as_str().expect("value").to_owned();
    let answers = race(
        &servers,
        &tokens,
        "/customers/password/reset",
        |i| json!({"tokenValue": value, "newPassword": format!("new-secret-{i}")}),
        6,
    )
    .await;
    exactly_one(&answers, 200, &[(404, "ResourceNotFound")]);

    // Versions and Messages agree with one winner per race, as both processes see them.
    for (s, t) in servers.iter().zip(&tokens) {
        let (_, c) = send(
            &http,
            format!("{}/{PROJECT}/customers/{customer_id}", s.base),
            t,
            None,
        )
        .await;
        assert_eq!(c["version"], 3, "one update, one email confirmation");
        assert_eq!(c["isEmailVerified"], true);
        let (_, m) = send(
            &http,
            format!("{}/{PROJECT}/messages?limit=500", s.base),
            t,
            None,
        )
        .await;
        let of_customer = m["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|m| m["resource"]["id"] == customer_id.as_str())
            .count();
        assert_eq!(of_customer, 3, "Created, FirstNameSet, EmailVerified: {m}");
    }

    // Customer Search is read-your-writes across processes: activated through one, a customer
    // created (concurrently with others) through either is found by a search on the other at
    // once, and a delete through one is gone from the other's search at once.
    let (_, p) = send(
        &http,
        format!("{}/{PROJECT}", servers[0].base),
        &tokens[0],
        None,
    )
    .await;
    let (status, _) = send(
        &http,
        format!("{}/{PROJECT}", servers[0].base),
        &tokens[0],
        Some(json!({"version": p["version"],
                    "actions": [{"action": "changeCustomerSearchStatus", "status": "Activated"}]})),
    )
    .await;
    assert_eq!(status, 200);
    // The customers written before activation are indexed in the background: wait for Ready.
    let mut ready = false;
    for _ in 0..600 {
        let (status, s) = send(
            &http,
            format!(
                "{}/{PROJECT}/customers/search/indexing-status",
                servers[1].base
            ),
            &tokens[1],
            None,
        )
        .await;
        assert_eq!(status, 200, "{s}");
        if s["status"] == "Ready" {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "indexing finished");
    let answers = race(
        &servers,
        &tokens,
        "/customers",
        |i| {
            json!({"email": format!("quokka{i}@example.com"), "firstName": "Quokka",
                   "authenticationMode": "ExternalAuth"})
        },
        8,
    )
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
    let quokkas = json!({"query": {"fullText": {"field": "firstName", "value": "quokka"}}});
    for (s, t) in servers.iter().zip(tokens.iter()) {
        let (status, r) = send(
            &http,
            format!("{}/{PROJECT}/customers/search", s.base),
            t,
            Some(quokkas.clone()),
        )
        .await;
        assert_eq!((status, r["total"].clone()), (200, json!(8)), "{r}");
    }
    for i in 0..4 {
        let (writer, reader) = (i % 2, 1 - i % 2);
        let (status, c) = send(
            &http,
            format!("{}/{PROJECT}/customers", servers[writer].base),
            &tokens[writer],
            Some(
                json!({"email": format!("wombat{i}@example.com"), "lastName": format!("Wombat{i}"),
                        "authenticationMode": "ExternalAuth"}),
            ),
        )
        .await;
        assert_eq!(status, 201, "{c}");
        let id = c["customer"]["id"].as_str().expect("id").to_owned();
        let find =
            json!({"query": {"exact": {"field": "lastName", "value": format!("Wombat{i}")}}});
        let (_, r) = send(
            &http,
            format!("{}/{PROJECT}/customers/search", servers[reader].base),
            &tokens[reader],
            Some(find.clone()),
        )
        .await;
        assert_eq!(
            r["results"][0]["id"],
            id.as_str(),
            "found at once on the other process: {r}"
        );
        let r = http
            .delete(format!(
                "{}/{PROJECT}/customers/{id}?version=1",
                servers[writer].base
            ))
            .bearer_auth(&tokens[writer])
            .send()
            .await
            .expect("delete sent");
        assert_eq!(r.status(), 200);
        let (_, r) = send(
            &http,
            format!("{}/{PROJECT}/customers/search", servers[reader].base),
            &tokens[reader],
            Some(find),
        )
        .await;
        assert_eq!(r["total"], 0, "gone at once on the other process: {r}");
    }

    // The pool size flag reaches each process's PostgreSQL pool: after races of 8 concurrent
    // requests per process (advisory-lock waits hold their connections), the database has seen
    // no more connections than the two pools allow.
    let connections: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db_name)
            .fetch_one(&mut admin)
            .await
            .expect("count connections");
    assert!(
        (2..=i64::from(2 * POOL_SIZE)).contains(&connections),
        "{connections} connections for two pools of {POOL_SIZE}"
    );

    // Kill the servers before the database goes.
    drop(servers);
    drop(db);
}
