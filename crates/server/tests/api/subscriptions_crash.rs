//! Subscription delivery through crashes, with real `clientele serve` processes and the real
//! RabbitMQ: a server killed with SIGKILL in the middle of a stream of writes loses no
//! notification of an acknowledged write (the next process on the database delivers it), and
//! two processes on one PostgreSQL database share the delivery through leases, one of them
//! killed mid-stream, with nothing lost.

use crate::durability::{demo_credentials, token};
use crate::helpers::{notice, TestDb, BACKEND_VAR, POSTGRES_URL_VAR};
use crate::subscriptions::{rabbit, Queue};
use crate::two_processes::serve_with;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Short leases, so a killed process's Subscriptions move on within a second.
const FAST: &[&str] = &["--delivery-lease", "1", "--delivery-max-backoff", "0.5"];

/// Creates one customer through `base`; its id when the server acknowledged it.
async fn create(http: &reqwest::Client, base: &str, tok: &str, i: usize) -> Option<String> {
    let r = http
        .post(format!("{base}/demo/customers"))
        .bearer_auth(tok)
        .json(&json!({"email": format!("c{i}@example.com"), "authenticationMode": "ExternalAuth"}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    if r.status().as_u16() != 201 {
        return None;
    }
    let body: Value = r.json().await.ok()?;
    body["customer"]["id"].as_str().map(str::to_owned)
}

/// The test's own PostgreSQL database, or `None` (with a notice) when none is configured.
async fn postgres_db(what: &str) -> Option<TestDb> {
    let Ok(admin) = std::env::var(POSTGRES_URL_VAR) else {
        notice(&format!(
            "{what} needs {POSTGRES_URL_VAR}; skipped ({BACKEND_VAR} is ignored)"
        ));
        return None;
    };
    Some(TestDb::postgres(&admin).await)
}

/// Subscribes `queue` to customer changes through `base` (201 expected).
async fn subscribe(http: &reqwest::Client, base: &str, tok: &str, queue: &Queue) {
    let r = http
        .post(format!("{base}/demo/subscriptions"))
        .bearer_auth(tok)
        .json(&json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
}

/// Reads the queue until every id in `wanted` has its ResourceCreated, or 60 s pass; the ids
/// seen, checking per customer that nothing arrives out of version order.
async fn collect(queue: &Queue, wanted: &HashSet<String>) -> HashSet<String> {
    let mut seen = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !wanted.is_subset(&seen) && tokio::time::Instant::now() < deadline {
        for m in queue.take(50, Duration::from_millis(200)).await {
            if m["notificationType"] == "ResourceCreated" && m["resource"]["typeId"] == "customer" {
                seen.insert(m["resource"]["id"].as_str().unwrap().to_owned());
            }
        }
    }
    seen
}

#[tokio::test]
async fn a_sigkill_mid_stream_loses_no_notification_of_an_acknowledged_write() {
    let db = TestDb::for_suite().await;
    let url = db.url();
    let http = reqwest::Client::new();
    // The first process looks for work only every 0.4 s, so the kill finds notifications of
    // acknowledged writes still queued.
    let slow: Vec<&str> = FAST
        .iter()
        .copied()
        .chain(["--delivery-poll", "0.4"])
        .collect();
    let first = serve_with(&url, &slow).await;
    let (id, secret) = demo_credentials(&first.banner);
    let tok = token(&http, &first.base, &id, &secret).await;
    let queue = Queue::declare().await;
    subscribe(&http, &first.base, &tok, &queue).await;
    let mut acknowledged = HashSet::new();
    for i in 0..150 {
        if let Some(id) = create(&http, &first.base, &tok, i).await {
            acknowledged.insert(id);
        }
    }
    // Killed while it is still delivering what it just acknowledged.
    first.kill9().await;
    assert_eq!(acknowledged.len(), 150);
    let second = serve_with(&url, FAST).await;
    for i in 150..200 {
        if let Some(id) = create(&http, &second.base, &tok, i).await {
            acknowledged.insert(id);
        }
    }
    let seen = collect(&queue, &acknowledged).await;
    let lost: Vec<_> = acknowledged.difference(&seen).collect();
    assert!(
        lost.is_empty(),
        "{} notifications lost: {lost:?}",
        lost.len()
    );
    drop(second);
    drop(db);
}

#[tokio::test]
async fn two_processes_on_postgres_share_delivery_and_lose_nothing_when_one_dies() {
    let Some(db) = postgres_db("two-process delivery").await else {
        return;
    };
    let url = db.url();
    let http = reqwest::Client::new();
    let a = serve_with(&url, FAST).await;
    let (id, secret) = demo_credentials(&a.banner);
    let b = serve_with(&url, FAST).await;
    let tok = token(&http, &a.base, &id, &secret).await;
    let queue = Queue::declare().await;
    subscribe(&http, &b.base, &tok, &queue).await;
    let mut acknowledged = HashSet::new();
    for i in 0..100 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        if let Some(id) = create(&http, base, &tok, i).await {
            acknowledged.insert(id);
        }
    }
    a.kill9().await;
    for i in 100..160 {
        if let Some(id) = create(&http, &b.base, &tok, i).await {
            acknowledged.insert(id);
        }
    }
    assert_eq!(acknowledged.len(), 160);
    let seen = collect(&queue, &acknowledged).await;
    let lost: Vec<_> = acknowledged.difference(&seen).collect();
    assert!(
        lost.is_empty(),
        "{} notifications lost: {lost:?}",
        lost.len()
    );
    drop(b);
    drop(db);
}

/// On PostgreSQL a write committed by one process wakes the delivery of another (LISTEN /
/// NOTIFY), so the delivering process does not wait for its poll: here 30 s, while the
/// notification must arrive within 3 s of each write.
#[tokio::test]
async fn on_postgres_a_write_in_one_process_wakes_delivery_in_another() {
    let Some(db) = postgres_db("cross-process wake-up").await else {
        return;
    };
    let url = db.url();
    let http = reqwest::Client::new();
    let writer = serve_with(&url, &["--no-delivery"]).await;
    let (id, secret) = demo_credentials(&writer.banner);
    let deliverer = serve_with(&url, &["--delivery-poll", "30"]).await;
    let tok = token(&http, &writer.base, &id, &secret).await;
    let queue = Queue::declare().await;
    subscribe(&http, &writer.base, &tok, &queue).await;
    assert_eq!(
        queue.take(1, Duration::from_secs(10)).await.len(),
        1,
        "test notification"
    );
    for i in 0..3 {
        let started = std::time::Instant::now();
        let id = create(&http, &writer.base, &tok, i).await.expect("created");
        let got = queue.take(1, Duration::from_secs(3)).await;
        assert_eq!(got.len(), 1, "write {i} not delivered within 3 s");
        assert_eq!(got[0]["resource"]["id"], id.as_str());
        assert!(started.elapsed() < Duration::from_secs(4));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(deliverer);
    drop(writer);
    drop(db);
}
