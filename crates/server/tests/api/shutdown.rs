//! SIGTERM drains (issue 10, item 2), with a real `clientele serve` process on the suite's
//! backend (SQLite, or PostgreSQL with `CLIENTELE_TEST_API_BACKEND=postgres`): every request
//! whose connection was opened before the signal gets a complete answer — those still waiting
//! in the listen backlog (`--max-connections` keeps most of them there), those that send their
//! request only after the signal, and those whose body is still arriving included — new
//! connections are refused, and the process exits 0. A
//! request still running when `--shutdown-grace` ends is answered 503.

use crate::helpers::TestDb;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

struct Process {
    child: Child,
    base: String,
    banner: String,
}

async fn start(database: &str, extra: &[&str]) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .env("RUST_LOG", "warn")
        .env_remove("CLIENTELE_DATABASE_URL")
        .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
        // A debug build hashes for seconds: the production wait bound of the hashing queue
        // would shed this suite's concurrent sign-ups.
        .args([
            "--db-pool-size",
            "3",
            "--hash-workers",
            "1",
            "--hash-queue-wait",
            "120",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("clientele serve starts");
    let stdout = child.stdout.take().unwrap();
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
        panic!("serve exited before listening:\n{banner}")
    })
    .await
    .expect("listening within 60 s");
    Process {
        child,
        base,
        banner,
    }
}

impl Process {
    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    async fn token(&self, http: &reqwest::Client) -> String {
        let field = |name: &str| {
            self.banner
                .lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap()
        };
        let body: Value = http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(field("client id:"), Some(field("client secret:")))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    fn sigterm(&self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn exit_code(mut self, within: Duration) -> Option<i32> {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .expect("the process exits in time")
            .unwrap();
        status.code()
    }
}

/// A create whose headers and first half of the body are sent now; `finish` sends the rest.
struct SlowUpload {
    stream: TcpStream,
    rest: Vec<u8>,
}

async fn slow_upload(addr: &str, token: &str, email: &str) -> SlowUpload {
    let body = json!({"email": email, "password": "secret123"}).to_string();
    let head = format!(
        "POST /demo/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    SlowUpload {
        stream,
        rest: rest.to_vec(),
    }
}

impl SlowUpload {
    /// Sends the rest of the body (if any) and returns the response's status line.
    async fn finish(mut self, send_rest: bool) -> String {
        if send_rest {
            self.stream.write_all(&self.rest).await.unwrap();
        }
        let mut all = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), self.stream.read_to_end(&mut all))
            .await
            .expect("answered within 30 s");
        String::from_utf8_lossy(&all).into_owned()
    }
}

#[tokio::test]
async fn sigterm_answers_every_request_opened_before_it_and_exits_zero() {
    let db = TestDb::for_suite().await;
    let server = start(
        &db.url(),
        &["--max-connections", "8", "--shutdown-grace", "60"],
    )
    .await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let token = server.token(&http).await;
    for i in 0..20 {
        let r = http
            .post(format!("{}/demo/customers", server.base))
            .bearer_auth(&token)
            .json(&json!({"email": format!("seed{i}@example.com"), "authenticationMode": "ExternalAuth"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let addr = server.addr();
    let mut uploads = Vec::new();
    for i in 0..5 {
        uploads.push(slow_upload(&addr, &token, &format!("slow{i}@example.com")).await);
    }
    // Connected before the signal, their request sent only after it.
    let mut quiet = Vec::new();
    for _ in 0..5 {
        quiet.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut requests = Vec::new();
    for i in 0..60 {
        let (http, base, token) = (http.clone(), server.base.clone(), token.clone());
        requests.push(tokio::spawn(async move {
            let r = if i % 2 == 0 {
                http.get(format!("{base}/demo/customers?limit=500"))
                    .bearer_auth(&token)
                    .send()
                    .await
            } else {
                http.post(format!("{base}/demo/customers"))
                    .bearer_auth(&token)
                    .json(&json!({"email": format!("c{i}@example.com"), "password": "secret123"}))
                    .send()
                    .await
            };
            match r {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    Ok((status, body))
                }
                Err(e) => Err(e.to_string()),
            }
        }));
    }
    // Let every connection open (most wait in the backlog behind the 8 served ones).
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.sigterm();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "connections after the signal are refused"
    );
    for mut stream in quiet {
        let request = format!(
            "GET /demo/customers?limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut all = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut all))
            .await
            .expect("answered within 30 s");
        let answer = String::from_utf8_lossy(&all);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    for upload in uploads {
        let answer = upload.finish(true).await;
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    for (i, request) in requests.into_iter().enumerate() {
        let (status, body) = request
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        let expected = if i % 2 == 0 { 200 } else { 201 };
        assert_eq!(status, expected, "request {i}: {body}");
    }
    assert_eq!(server.exit_code(Duration::from_secs(60)).await, Some(0));
}

#[tokio::test]
async fn requests_still_running_when_the_grace_ends_get_503_and_the_process_exits_zero() {
    let db = TestDb::for_suite().await;
    let server = start(&db.url(), &["--shutdown-grace", "1"]).await;
    let http = reqwest::Client::new();
    let token = server.token(&http).await;
    // Its body never completes.
    let stuck = slow_upload(&server.addr(), &token, "stuck@example.com").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sigterm();
    let answer = stuck.finish(false).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("\"code\":\"ServiceUnavailable\""),
        "{answer}"
    );
    assert!(answer.contains("\"statusCode\":503"), "{answer}");
    assert_eq!(server.exit_code(Duration::from_secs(20)).await, Some(0));
}
