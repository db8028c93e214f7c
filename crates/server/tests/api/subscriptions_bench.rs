//! Delivery measurements for `docs/performance.md`, ignored by default (they take about a
//! minute and load the machine). Run with
//! `CLIENTELE_BENCH_BIN=$PWD/target/release/clientele cargo test -p clientele-server --test api
//! subscriptions_bench -- --ignored --nocapture` (without the variable they use the debug
//! binary). Real `clientele serve` processes, the real RabbitMQ and NATS, a local webhook;
//! loopback only, bounded in count and time.

use crate::durability::{demo_credentials, token};
use crate::helpers::TestDb;
use crate::subscriptions::{rabbit, Queue, NATS};
use crate::two_processes::{serve_bin, Server};
use axum::http::StatusCode;
use futures_lite::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Notifications queued before delivery starts, per destination.
const QUEUED: usize = 3000;

fn bin() -> String {
    std::env::var("CLIENTELE_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_clientele").to_owned())
}

async fn start(url: &str, extra: &[&str]) -> Server {
    serve_bin(&bin(), url, extra).await
}

/// Creates customers `from..to` through `base`, `concurrency` at a time; each id with the
/// instant its 201 arrived.
async fn create_many(
    http: &reqwest::Client,
    base: &str,
    tok: &str,
    from: usize,
    to: usize,
    concurrency: usize,
) -> Vec<(String, Instant)> {
    let next = Arc::new(AtomicUsize::new(from));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, base, tok, next) = (http.clone(), base.to_owned(), tok.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= to {
                    return out;
                }
                let r = http
                    .post(format!("{base}/demo/customers"))
                    .bearer_auth(&tok)
                    .json(&json!({"email": format!("b{i}@example.com"), "authenticationMode": "ExternalAuth"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
                let body: Value = r.json().await.unwrap();
                out.push((body["customer"]["id"].as_str().unwrap().to_owned(), Instant::now()));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

async fn subscribe(http: &reqwest::Client, base: &str, tok: &str, destination: Value) {
    let r = http
        .post(format!("{base}/demo/subscriptions"))
        .bearer_auth(tok)
        .json(&json!({"destination": destination, "changes": [{"resourceTypeId": "customer"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
}

/// A webhook counting what it accepts.
async fn counting_webhook() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

#[tokio::test]
#[ignore = "measurement; run explicitly"]
async fn bench_deliveries_per_second_per_destination() {
    let db = TestDb::for_suite().await;
    let url = db.url();
    let http = reqwest::Client::new();
    let writer = start(&url, &["--no-delivery"]).await;
    let (id, secret) = demo_credentials(&writer.banner);
    let tok = token(&http, &writer.base, &id, &secret).await;
    let queue = Queue::declare().await;
    subscribe(&http, &writer.base, &tok, rabbit(&queue.name)).await;
    let nats = async_nats::jetstream::new(async_nats::connect(NATS).await.unwrap());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("clientele.bench.{unique}");
    let stream_name = format!("clientele-bench-{unique}");
    let mut stream = nats
        .create_stream(async_nats::jetstream::stream::Config {
            name: stream_name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    subscribe(
        &http,
        &writer.base,
        &tok,
        json!({"type": "NATS", "url": NATS, "subject": subject}),
    )
    .await;
    let (hook, hooked) = counting_webhook().await;
    subscribe(
        &http,
        &writer.base,
        &tok,
        json!({"type": "HTTP", "url": hook}),
    )
    .await;
    create_many(&http, &writer.base, &tok, 0, QUEUED, 16).await;
    writer.kill9().await;
    queue.take(1, Duration::from_secs(1)).await; // the test notification

    let deliverer = start(&url, &[]).await;
    let started = Instant::now();
    let mut done: HashMap<&str, Duration> = HashMap::new();
    while done.len() < 3 && started.elapsed() < Duration::from_secs(300) {
        if queue.count().await as usize >= QUEUED {
            done.entry("RabbitMQ").or_insert(started.elapsed());
        }
        if stream.info().await.unwrap().state.messages >= (QUEUED + 1) as u64 {
            done.entry("NATS").or_insert(started.elapsed());
        }
        if hooked.load(Ordering::SeqCst) >= QUEUED {
            done.entry("HTTP").or_insert(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    nats.delete_stream(&stream_name).await.unwrap();
    for (destination, took) in &done {
        println!(
            "BENCH deliveries {destination}: {QUEUED} in {:.2} s = {:.0}/s (all three draining at once, from the process listening)",
            took.as_secs_f64(),
            QUEUED as f64 / took.as_secs_f64()
        );
    }
    assert_eq!(done.len(), 3, "every destination drained");
    drop(deliverer);
}

#[tokio::test]
#[ignore = "measurement; run explicitly"]
async fn bench_latency_at_500_writes_per_second_and_write_cost() {
    let db = TestDb::for_suite().await;
    let url = db.url();
    let http = reqwest::Client::new();
    // Creates per phase (CLIENTELE_BENCH_WRITES, default 2,000).
    let w: usize = std::env::var("CLIENTELE_BENCH_WRITES")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2000);
    // Write throughput without a Subscription, then with an active one but no delivery in
    // this process (the cost of queueing alone), then with delivery (queueing and delivering
    // on the same database and cores).
    let writer = start(&url, &["--no-delivery"]).await;
    let (id, secret) = demo_credentials(&writer.banner);
    let tok = token(&http, &writer.base, &id, &secret).await;
    let t = Instant::now();
    let n = create_many(&http, &writer.base, &tok, 0, w, 16).await.len();
    let without = n as f64 / t.elapsed().as_secs_f64();
    let queue = Queue::declare().await;
    subscribe(&http, &writer.base, &tok, rabbit(&queue.name)).await;
    queue.take(1, Duration::from_secs(5)).await;
    let t = Instant::now();
    let n = create_many(&http, &writer.base, &tok, w, 2 * w, 16)
        .await
        .len();
    let queued_only = n as f64 / t.elapsed().as_secs_f64();
    writer.kill9().await;
    let server = start(&url, &[]).await;
    let drained = queue.take(w, Duration::from_secs(120)).await.len();
    assert_eq!(drained, w, "the queued-only phase drained");
    let t = Instant::now();
    let n = create_many(&http, &server.base, &tok, 2 * w, 3 * w, 16)
        .await
        .len();
    let with = n as f64 / t.elapsed().as_secs_f64();
    println!("BENCH creates/s, 16 concurrent: {without:.0} without a Subscription, {queued_only:.0} with one queued only (--no-delivery), {with:.0} with one delivered (RabbitMQ, changes of customers)");
    let drained = queue.take(w, Duration::from_secs(120)).await.len();
    assert_eq!(drained, w);

    // End-to-end latency: 201 received → message in the queue, at `rate` creates/s for 10 s
    // (500 unless CLIENTELE_BENCH_RATE says otherwise: a debug build on a loaded machine does
    // not take 500/s, and a server past its capacity measures its queue, not the delivery).
    let rate: u64 = std::env::var("CLIENTELE_BENCH_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(500);
    let total = (rate * 10) as usize;
    let received: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let consumer = {
        let received = received.clone();
        let mut deliveries = queue.consume().await;
        tokio::spawn(async move {
            while let Some(Ok(d)) = deliveries.next().await {
                let at = Instant::now();
                let m: Value = serde_json::from_slice(&d.data).unwrap();
                let id = m["resource"]["id"].as_str().unwrap().to_owned();
                received.lock().unwrap().entry(id).or_insert(at);
            }
        })
    };
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let refused = Arc::new(AtomicUsize::new(0));
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut writes = Vec::new();
    let offered = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let (http, base, tok, acked, refused) = (
            http.clone(),
            server.base.clone(),
            tok.clone(),
            acked.clone(),
            refused.clone(),
        );
        writes.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/demo/customers"))
                .bearer_auth(&tok)
                .json(&json!({"email": format!("l{i}@example.com"), "authenticationMode": "ExternalAuth"}))
                .send()
                .await;
            let at = Instant::now();
            let body: Option<Value> = match r {
                Ok(r) if r.status().as_u16() == 201 => r.json().await.ok(),
                _ => None,
            };
            match body.as_ref().and_then(|b| b["customer"]["id"].as_str()) {
                Some(id) => acked.lock().unwrap().push((id.to_owned(), at)),
                None => {
                    refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for w in writes {
        w.await.unwrap();
    }
    let answered_in = offered.elapsed();
    let ok = acked.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.lock().unwrap().len() < ok && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    consumer.abort();
    let received = received.lock().unwrap();
    let mut latencies: Vec<f64> = acked
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(id, at)| {
            received
                .get(id)
                .map(|r| r.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "BENCH latency 201 → in queue at {rate} creates/s offered: {ok} of {total} answered 201 ({} refused) in {:.1} s, n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        refused.load(Ordering::SeqCst),
        answered_in.as_secs_f64(),
        latencies.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    assert_eq!(latencies.len(), ok, "every acknowledged write delivered");
    drop(server);
}
