//! Test harness: a real server on port 0 over a fresh database, a hand-moved clock, API
//! clients with chosen scopes, and a generic HTTP helper. Tests talk to the server only
//! through HTTP, except for seeding API clients and projects, which the CLI does the same way.
//!
//! The backend is SQLite (a new file per test) unless `CLIENTELE_TEST_API_BACKEND=postgres`:
//! then every test gets its own database on the server named by `CLIENTELE_TEST_POSTGRES_URL`,
//! dropped when the test's `TestApp` goes away, also when the test panics.

use clientele_domain::PasswordHasher;
use clientele_domain::Project;
use clientele_server::clock::{ManualClock, SecureRandom};
use clientele_server::state::AppState;
use clientele_server::{Application, ServeConfig};
use clientele_testing::PgDatabase;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Once};
use time::OffsetDateTime;

/// Picks the backend of the suite: `postgres` or unset / `sqlite`.
pub(crate) const BACKEND_VAR: &str = "CLIENTELE_TEST_API_BACKEND";
pub(crate) use clientele_testing::POSTGRES_URL_VAR;
/// Prefix of every database the API tests create, so a leak is recognisable.
pub(crate) const DB_PREFIX: &str = "clientele_api_";

/// A running server and what tests need to drive it.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// The server's state (store, clock, random), for seeding.
    pub(crate) state: AppState,
    /// The server's clock; advance it to expire tokens.
    pub(crate) clock: Arc<ManualClock>,
    /// One HTTP client for the test.
    pub(crate) http: reqwest::Client,
    /// Removed when the app is dropped.
    _db: TestDb,
}

/// A test's own database, removed when this value is dropped (also while a failing test
/// unwinds).
pub(crate) enum TestDb {
    /// An SQLite file (with its WAL and shared-memory files).
    Sqlite(PathBuf),
    /// A database on the PostgreSQL server.
    Postgres(PgDatabase),
}

impl TestDb {
    /// A fresh database on the backend `CLIENTELE_TEST_API_BACKEND` picks.
    pub(crate) async fn for_suite() -> TestDb {
        match std::env::var(BACKEND_VAR).as_deref() {
            Ok("postgres") => {
                let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
                    panic!("{BACKEND_VAR}=postgres needs {POSTGRES_URL_VAR} (an admin URL)")
                });
                TestDb::postgres(&admin_url).await
            }
            Ok("") | Ok("sqlite") | Err(_) => {
                static NOTICE: Once = Once::new();
                NOTICE.call_once(|| {
                    notice(&format!(
                        "API tests run on SQLite; set {BACKEND_VAR}=postgres and \
                         {POSTGRES_URL_VAR} to run them on PostgreSQL"
                    ))
                });
                TestDb::Sqlite(std::env::temp_dir().join(format!(
                    "clientele-api-test-{}-{}.db",
                    std::process::id(),
                    uuid::Uuid::new_v4()
                )))
            }
            Ok(other) => panic!("{BACKEND_VAR}={other}: use sqlite or postgres"),
        }
    }

    /// Creates a new, empty database on the server behind `admin_url`.
    pub(crate) async fn postgres(admin_url: &str) -> TestDb {
        TestDb::Postgres(PgDatabase::create(admin_url, DB_PREFIX, &[]).await)
    }

    /// The URL the server opens.
    pub(crate) fn url(&self) -> String {
        match self {
            TestDb::Sqlite(path) => format!("sqlite://{}", path.display()),
            TestDb::Postgres(db) => db.url.clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Sqlite(path) = self {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Prints `message` on the real stderr: the test harness captures `eprintln!` of passing
/// tests, and a skipped backend must be visible.
pub(crate) fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "notice: {message}");
}

/// An HTTP answer: status, parsed JSON body (Null when empty) and the raw text.
#[derive(Debug)]
pub(crate) struct Resp {
    /// The status code.
    pub(crate) status: u16,
    /// The body as JSON (`Null` for an empty body, `String` for non-JSON text).
    pub(crate) body: Value,
    /// The headers.
    pub(crate) headers: reqwest::header::HeaderMap,
    /// The raw body.
    pub(crate) text: String,
}

impl Resp {
    /// Asserts a commercetools error of `status` whose first error has `code`; returns that
    /// first error object.
    #[track_caller]
    pub(crate) fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(self.body["statusCode"], status, "body: {}", self.text);
        assert_eq!(self.body["errors"][0]["code"], code, "body: {}", self.text);
        assert_eq!(
            self.body["message"], self.body["errors"][0]["message"],
            "top-level message mirrors the first error"
        );
        &self.body["errors"][0]
    }

    /// Asserts `status` and returns the body.
    #[track_caller]
    pub(crate) fn ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }
}

/// Starts a server with the test defaults.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust the configuration. Passwords are hashed at a
/// cheap Argon2id cost (1 MiB, one pass, as the domain tests do): the suite tests what is
/// hashed and verified when, not the cost, and spends its time on behaviour.
pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn(configure, Some(cheap_hasher())).await
}

/// Starts a server hashing at the production cost (OWASP's Argon2id minimum), for tests whose
/// point is how long hashing takes.
pub(crate) async fn spawn_app_with_production_hashing(
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    spawn(configure, None).await
}

/// The test-cost password hasher.
fn cheap_hasher() -> PasswordHasher {
    PasswordHasher::with_params(1024, 1, 1).expect("valid Argon2 parameters")
}

async fn spawn(
    configure: impl FnOnce(&mut ServeConfig),
    hasher: Option<PasswordHasher>,
) -> TestApp {
    let db = TestDb::for_suite().await;
    let mut config = ServeConfig::for_tests(&db.url());
    // Two hashing workers are plenty and keep a parallel test run from oversubscribing CI.
    config.hash_workers = Some(2);
    configure(&mut config);
    let start = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let mut app = Application::build(config.clone(), clock.clone(), Arc::new(SecureRandom))
        .await
        .expect("server builds");
    if let Some(hasher) = hasher {
        app = app.with_hasher(hasher, config.hash_workers.unwrap_or(2), config.hash_queue);
    }
    let base = format!("http://{}", app.address());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        state,
        clock,
        http: reqwest::Client::new(),
        _db: db,
    }
}

impl TestApp {
    /// The URL of the server's database (to reach it beside the server).
    pub(crate) fn database_url(&self) -> String {
        self._db.url()
    }

    /// Creates an API client of `project` with `scope`; returns `(id, secret)`.
    pub(crate) async fn api_client_in(&self, project: &str, scope: &str) -> (String, String) {
        clientele_server::service::api_clients::create(
            self.state.store.as_ref(),
            self.state.clock.as_ref(),
            self.state.random.as_ref(),
            project,
            scope,
            None,
            None,
        )
        .await
        .expect("api client created")
    }

    /// Creates an API client of the demo project with `scope`.
    pub(crate) async fn api_client(&self, scope: &str) -> (String, String) {
        self.api_client_in("demo", scope).await
    }

    /// `POST /oauth/token` with Basic `id:secret` and the given form fields.
    pub(crate) async fn token_request(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> Resp {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// An access token of a new demo client holding `scope`.
    pub(crate) async fn token(&self, scope: &str) -> String {
        self.token_in("demo", scope).await
    }

    /// An access token of a new client of `project` holding `scope`.
    pub(crate) async fn token_in(&self, project: &str, scope: &str) -> String {
        let (id, secret) = self.api_client_in(project, scope).await;
        let r = self
            .token_request(&id, &secret, &[("grant_type", "client_credentials")])
            .await;
        r.ok(200)["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A token with `manage_project:demo`: allowed everything in demo.
    pub(crate) async fn admin(&self) -> String {
        self.token("manage_project:demo").await
    }

    /// Creates another project.
    pub(crate) async fn create_project(&self, key: &str) {
        self.state
            .store
            .create_project(
                &Project {
                    key: key.to_owned(),
                    name: key.to_owned(),
                    languages: vec!["en".to_owned()],
                    countries: vec![],
                    currencies: vec![],
                },
                self.state.clock.now(),
            )
            .await
            .expect("project created");
    }

    /// Any request: `path` is relative to the server root; `body` is sent as JSON.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        read(rb.send().await.expect("request sent")).await
    }

    /// A `POST` with JSON `body` and extra request `headers`.
    pub(crate) async fn post_with_headers(
        &self,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Resp {
        let mut rb = self
            .http
            .post(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .json(&body);
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        read(rb.send().await.expect("request sent")).await
    }

    /// A request with a raw text body (for malformed JSON and size limits).
    pub(crate) async fn request_raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: String,
    ) -> Resp {
        let rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        read(rb.send().await.expect("request sent")).await
    }

    /// `GET`.
    pub(crate) async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), None).await
    }

    /// `HEAD`; returns the status.
    pub(crate) async fn head(&self, path: &str, token: &str) -> u16 {
        let r = self.request(Method::HEAD, path, Some(token), None).await;
        assert!(r.text.is_empty(), "HEAD answers without a body");
        r.status
    }

    /// `POST` with a JSON body.
    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    /// `DELETE`.
    pub(crate) async fn delete(&self, path: &str, token: &str) -> Resp {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// `POST /demo/customers` with `draft`; asserts 201 and returns the customer.
    pub(crate) async fn create_customer(&self, token: &str, draft: Value) -> Value {
        let r = self.post("/demo/customers", token, draft).await;
        r.ok(201)["customer"].clone()
    }

    /// Creates an `ExternalAuth` customer (no Argon2 cost) with `email` and extra fields.
    pub(crate) async fn external_customer(&self, token: &str, email: &str, extra: Value) -> Value {
        let mut draft = json!({"email": email, "authenticationMode": "ExternalAuth"});
        if let (Some(d), Some(e)) = (draft.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                d.insert(k.clone(), v.clone());
            }
        }
        self.create_customer(token, draft).await
    }

    /// `POST /demo/customers/{id}` with `{version, actions}`.
    pub(crate) async fn update(
        &self,
        token: &str,
        id: &str,
        version: &Value,
        actions: Value,
    ) -> Resp {
        self.post(
            &format!("/demo/customers/{id}"),
            token,
            json!({"version": version, "actions": actions}),
        )
        .await
    }

    /// Every message of `resource_id`, ordered by `sequenceNumber`.
    pub(crate) async fn messages_of(&self, token: &str, resource_id: &str) -> Vec<Value> {
        let r = self.get("/demo/messages?limit=500", token).await;
        let mut found: Vec<Value> = r.ok(200)["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|m| m["resource"]["id"] == resource_id)
            .cloned()
            .collect();
        found.sort_by_key(|m| m["sequenceNumber"].as_u64());
        found
    }

    /// The `total` of `GET /demo/customers`.
    pub(crate) async fn customer_total(&self, token: &str) -> u64 {
        self.get("/demo/customers", token).await.ok(200)["total"]
            .as_u64()
            .expect("total")
    }
}

async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
    };
    Resp {
        status,
        body,
        headers,
        text,
    }
}

/// `POST {path}` on the auth host with Basic `client` (id, secret) and `form`.
pub(crate) async fn oauth_form(
    app: &TestApp,
    path: &str,
    client: &(String, String),
    form: &[(&str, &str)],
) -> Resp {
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .basic_auth(&client.0, Some(&client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        body,
        headers,
        text,
    }
}
