//! Clients that hang up in the middle of a write: real TCP connections to the server send
//! versioned updates and sign-ups and close their sockets at random moments (before, while and
//! after the server works on them), round after round. After every round a write through a
//! well-behaved client must succeed: a cancelled request may never leave the database
//! connection (SQLite's single writer above all) inside an open transaction.
//!
//! Bounded: at most `ROUNDS` rounds of `CLIENTS` connections and `BUDGET` of wall time, all on
//! 127.0.0.1.

use crate::helpers::{spawn_app, TestApp};
use rand::Rng;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const ROUNDS: usize = 40;
const CLIENTS: usize = 24;
const BUDGET: Duration = Duration::from_secs(25);

/// Sends `body` as `POST path` on a fresh connection and closes the socket `hang_up_after`
/// later, without reading the answer. Connection errors are fine: the point is the hang-up.
async fn hang_up(addr: String, path: String, token: String, body: Value, hang_up_after: Duration) {
    let Ok(mut socket) = tokio::net::TcpStream::connect(&addr).await else {
        return;
    };
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if socket.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    if hang_up_after.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(hang_up_after).await;
    }
    drop(socket);
}

/// The customer's current version.
async fn version_of(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/demo/customers/{id}"), token).await;
    r.ok(200)["version"].clone()
}

/// An update that must get through: 409s (a hung-up request may still have won) are retried
/// with the fresh version; anything else than 200 or 409 fails the test.
async fn must_update(app: &TestApp, token: &str, id: &str, first_name: &str) {
    for _ in 0..10 {
        let version = version_of(app, token, id).await;
        let r = app
            .update(
                token,
                id,
                &version,
                json!([{"action": "setFirstName", "firstName": first_name}]),
            )
            .await;
        match r.status {
            200 => {
                assert_eq!(r.body["firstName"], first_name);
                return;
            }
            409 => continue,
            other => panic!("a write after hang-ups answered {other}: {}", r.text),
        }
    }
    panic!("ten updates in a row lost to concurrent writers that had hung up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_hanging_up_during_writes_never_stop_later_writes() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let c = app
        .external_customer(&token, "hangup@example.com", json!({}))
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut rounds = 0;
    while rounds < ROUNDS && started.elapsed() < BUDGET {
        let version = version_of(&app, &token, &id).await;
        let mut clients = Vec::new();
        for i in 0..CLIENTS {
            let (path, body) = match i % 4 {
                // A sign-up with a password waits for the hashing pool first.
                3 => (
                    "/demo/customers".to_owned(),
                    json!({"email": format!("r{rounds}c{i}@example.com"), "password": "secret123"}),
                ),
                2 => (
                    "/demo/customers".to_owned(),
                    json!({"email": format!("r{rounds}c{i}@example.com"),
                           "authenticationMode": "ExternalAuth"}),
                ),
                _ => (
                    format!("/demo/customers/{id}"),
                    json!({"version": version, "actions":
                        [{"action": "setFirstName", "firstName": format!("r{rounds}c{i}")}]}),
                ),
            };
            let after = Duration::from_micros(rand::thread_rng().gen_range(0..4_000));
            let after = if after < Duration::from_millis(1) {
                Duration::ZERO
            } else {
                after
            };
            clients.push(tokio::spawn(hang_up(
                addr.clone(),
                path,
                token.clone(),
                body,
                after,
            )));
        }
        for client in clients {
            client.await.unwrap();
        }
        must_update(&app, &token, &id, &format!("after round {rounds}")).await;
        rounds += 1;
    }
    // Sign-ups work too, and the customer took the last good write.
    let r = app
        .post(
            "/demo/customers",
            &token,
            json!({"email": "after-hangups@example.com", "password": "secret123"}),
        )
        .await;
    r.ok(201);
    let last = app.get(&format!("/demo/customers/{id}"), &token).await;
    assert_eq!(
        last.ok(200)["firstName"],
        format!("after round {}", rounds - 1)
    );
    assert!(rounds >= 5, "only {rounds} rounds ran in {BUDGET:?}");
}
