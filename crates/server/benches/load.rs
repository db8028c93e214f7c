//! Load generator for `docs/performance.md`: seeds customers over HTTP, then runs each scenario
//! for a fixed time at a fixed concurrency and prints one Markdown table row per scenario
//! (requests/s, median and p99 latency, errors). It talks to any commercetools-compatible
//! server, so Clientele and the reference emulator are measured with the same load.
//!
//! Only loopback targets are accepted; every loop is bounded by count and time.
//!
//! With `--preseeded N --prefix P` it skips seeding and uses the customers that
//! `scripts/seed.py` wrote straight into the database (millions take too long over HTTP).
//!
//! ```text
//! cargo bench -p clientele-server --bench load -- \
//!   --base http://127.0.0.1:8080 --project demo --client-id ID --client-secret SECRET \
//!   --seed 100000 --duration 10 --concurrency 16 --label clientele-sqlite \
//!   --scenarios get_by_id,get_by_key,create,update
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::Rng;
use reqwest::Client;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Args {
    base: String,
    project: String,
    client_id: String,
    client_secret: String,
    seed: usize,
    seed_concurrency: usize,
    duration: u64,
    concurrency: usize,
    label: String,
    scenarios: Vec<String>,
    prefix: String,
    preseeded: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        base: "http://127.0.0.1:8080".into(),
        project: "demo".into(),
        client_id: "bench".into(),
        client_secret: "bench".into(),
        seed: 1000,
        seed_concurrency: 32,
        duration: 10,
        concurrency: 16,
        label: "server".into(),
        scenarios: vec![
            "get_by_id".into(),
            "get_by_key".into(),
            "create".into(),
            "update".into(),
        ],
        prefix: format!("b{}", rand::thread_rng().gen_range(0..1_000_000u32)),
        preseeded: 0,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--base" => a.base = v,
            "--project" => a.project = v,
            "--client-id" => a.client_id = v,
            "--client-secret" => a.client_secret = v,
            "--seed" => a.seed = v.parse().expect("--seed"),
            "--seed-concurrency" => a.seed_concurrency = v.parse().expect("--seed-concurrency"),
            "--duration" => a.duration = v.parse().expect("--duration"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency"),
            "--label" => a.label = v,
            "--prefix" => a.prefix = v,
            "--preseeded" => a.preseeded = v.parse().expect("--preseeded"),
            "--scenarios" => a.scenarios = v.split(',').map(str::to_owned).collect(),
            // cargo bench passes --bench; ignore it and anything unknown without a value.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let host = a
        .base
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        host == "localhost" || host.starts_with("127.") || host == "[::1]",
        "load tests target loopback only, not {host}"
    );
    a.duration = a.duration.min(300);
    a
}

const LAST_NAMES: usize = 1000;
const CITIES: &[(&str, &str)] = &[
    ("DE", "Berlin"),
    ("DE", "Munich"),
    ("US", "Boston"),
    ("US", "Denver"),
    ("FR", "Paris"),
    ("GB", "London"),
    ("NL", "Utrecht"),
    ("IT", "Rome"),
];

fn draft(prefix: &str, i: usize) -> Value {
    let (country, city) = CITIES[i % CITIES.len()];
    json!({
        "email": format!("{prefix}-{i}@Example.com"),
        "key": format!("{prefix}-{i}"),
        "firstName": format!("First{}", i % 97),
        "lastName": format!("Last{}", i % LAST_NAMES),
        "companyName": format!("Company {}", i % 5000),
        "authenticationMode": "ExternalAuth",
        "addresses": [{"country": country, "city": city, "streetName": "Main Street", "streetNumber": format!("{}", i % 300)}],
        "defaultShippingAddress": 0
    })
}

async fn token(client: &Client, a: &Args) -> String {
    let res = client
        .post(format!("{}/oauth/token", a.base))
        .basic_auth(&a.client_id, Some(&a.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &format!("manage_project:{}", a.project)),
        ])
        .send()
        .await
        .expect("token request");
    let body: Value = res.json().await.expect("token body");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

#[derive(Clone)]
struct Seeded {
    id: String,
    key: String,
    index: usize,
}

async fn seed(client: &Client, a: &Args, tok: &str) -> Vec<Seeded> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..a.seed_concurrency {
        let (client, a, tok, next) = (client.clone(), a.clone(), tok.to_owned(), next.clone());
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= a.seed {
                    break;
                }
                let res = client
                    .post(format!("{}/{}/customers", a.base, a.project))
                    .bearer_auth(&tok)
                    .json(&draft(&a.prefix, i))
                    .send()
                    .await
                    .expect("seed request");
                assert_eq!(res.status().as_u16(), 201, "seeding customer {i}");
                let body: Value = res.json().await.expect("seed body");
                out.push(Seeded {
                    id: body["customer"]["id"].as_str().unwrap().to_owned(),
                    key: format!("{}-{i}", a.prefix),
                    index: i,
                });
            }
            out
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("seed task"));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} customers in {secs:.1} s ({:.0}/s)",
        all.len(),
        all.len() as f64 / secs.max(1e-9)
    );
    all
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: u64,
}

fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn run_scenario(
    name: &str,
    client: &Client,
    a: &Args,
    tok: &str,
    seeded: Arc<Vec<Seeded>>,
) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(a.duration);
    let errors = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for worker in 0..a.concurrency {
        let (client, a, tok, seeded, errors, name) = (
            client.clone(),
            a.clone(),
            tok.to_owned(),
            seeded.clone(),
            errors.clone(),
            name.to_owned(),
        );
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0usize;
            // Each update worker owns one customer and tracks its version.
            let own = seeded.get(worker % seeded.len().max(1)).cloned();
            let mut version: Option<i64> = None;
            // Each login worker signs up its own Password-mode customer first.
            let login_email = format!("{}-login-{worker}@example.com", a.prefix);
            if name == "login" {
                // Sixteen sign-ups at once outrun the two hashing workers, and the server answers
                // past its bounded queue with 503: try again (bounded) until it takes this one.
                let mut status = 0;
                for _ in 0..200 {
                    let res = client
                        .post(format!("{}/{}/customers", a.base, a.project))
                        .bearer_auth(&tok)
                        .json(&json!({"email": login_email, "password": "secret123"}))
                        .send()
                        .await
                        .expect("sign-up");
                    status = res.status().as_u16();
                    if status != 503 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                assert_eq!(status, 201, "login customer sign-up");
            }
            // Bounded: stop at the deadline or after a million requests per worker.
            while Instant::now() < deadline && n < 1_000_000 {
                n += 1;
                let pick = seeded[rand::thread_rng().gen_range(0..seeded.len())].clone();
                let base = format!("{}/{}", a.base, a.project);
                let req = match name.as_str() {
                    "get_by_id" => client.get(format!("{base}/customers/{}", pick.id)),
                    "get_by_key" => client.get(format!("{base}/customers/key={}", pick.key)),
                    "create" => client
                        .post(format!("{base}/customers"))
                        .json(&draft(&format!("{}-c{worker}", a.prefix), n)),
                    "update" => {
                        let own = own.clone().expect("seeded customer");
                        if version.is_none() {
                            let r = client
                                .get(format!("{base}/customers/{}", own.id))
                                .bearer_auth(&tok)
                                .send()
                                .await
                                .expect("get");
                            let b: Value = r.json().await.expect("body");
                            version = b["version"].as_i64();
                        }
                        client.post(format!("{base}/customers/{}", own.id)).json(&json!({
                            "version": version,
                            "actions": [{"action": "setFirstName", "firstName": format!("F{n}")}]
                        }))
                    }
                    "login" => client
                        .post(format!("{base}/login"))
                        .json(&json!({"email": login_email, "password": "secret123"})),
                    "query_email" => client.get(format!(
                        "{base}/customers?where={}",
                        url_encode(&format!(
                            "email = \"{}-{}@Example.com\"",
                            a.prefix, pick.index
                        ))
                    )),
                    "query_lastname_sorted" => client.get(format!(
                        "{base}/customers?where={}&sort={}&limit=20",
                        url_encode(&format!("lastName = \"Last{}\"", pick.index % LAST_NAMES)),
                        url_encode("createdAt desc")
                    )),
                    "query_nested" => {
                        let (country, city) = CITIES[pick.index % CITIES.len()];
                        client.get(format!(
                            "{base}/customers?where={}&limit=20",
                            url_encode(&format!(
                                "addresses(country = \"{country}\" and city = \"{city}\")"
                            ))
                        ))
                    }
                    "query_country" => {
                        let (country, _) = CITIES[pick.index % CITIES.len()];
                        client.get(format!(
                            "{base}/customers?where={}&limit=20",
                            url_encode(&format!("addresses(country = \"{country}\")"))
                        ))
                    }
                    // No seeded customer is in a group: an index lookup that finds nothing.
                    "query_customer_group" => client.get(format!(
                        "{base}/customers?where={}&limit=20",
                        url_encode(&format!(
                            "customerGroup(id = \"00000000-0000-4000-9000-{:012}\")",
                            pick.index
                        ))
                    )),
                    // Every seeded customer is unverified: the count stops at the cap.
                    "query_verified_sorted" => client.get(format!(
                        "{base}/customers?where={}&sort={}&limit=20",
                        url_encode("isEmailVerified = false"),
                        url_encode("lastName asc")
                    )),
                    "query_unindexed" => client.get(format!(
                        "{base}/customers?where={}&limit=20",
                        url_encode(&format!("companyName = \"Company {}\"", pick.index % 5000))
                    )),
                    other => panic!("unknown scenario {other}"),
                };
                let t0 = Instant::now();
                let res = req.bearer_auth(&tok).send().await;
                let ok = match res {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body = r.bytes().await.unwrap_or_default();
                        if name == "update" && status == 200 {
                            version = serde_json::from_slice::<Value>(&body)
                                .ok()
                                .and_then(|b| b["version"].as_i64());
                        } else if name == "update" {
                            version = None;
                        }
                        (200..300).contains(&status)
                    }
                    Err(_) => false,
                };
                lat.push(t0.elapsed());
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await.expect("worker"));
    }
    Outcome {
        latencies,
        errors: errors.load(Ordering::Relaxed),
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

/// CPU time this thread has used (user + system), from /proc: unlike wall time it does not
/// grow when other work shares the cores.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counting from the state.
    let field = |i: usize| -> u64 { fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0) };
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// Times Argon2id at the server's cost (OWASP minimum) on one core, without HTTP: wall time
/// and this thread's CPU time per hash, allocating per hash and reusing one memory block.
fn hash_cost() {
    let hasher = clientele_domain::PasswordHasher::owasp().expect("hasher");
    let rounds = 40;
    let (started, cpu) = (Instant::now(), thread_cpu());
    for i in 0..rounds {
        hasher.hash("secret123", [i as u8; 16]).expect("hash");
    }
    let per = started.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
    let per_cpu = (thread_cpu() - cpu).as_secs_f64() * 1000.0 / rounds as f64;
    println!(
        "argon2id m=19456 KiB t=2 p=1, allocating per hash: {per:.1} ms wall, {per_cpu:.1} ms CPU per hash ({rounds} hashes)"
    );
    // As the server's hashing workers do: one memory block kept across hashes.
    let mut memory = clientele_domain::HashMemory::default();
    let (started, cpu) = (Instant::now(), thread_cpu());
    for i in 0..rounds {
        hasher
            .hash_in("secret123", [i as u8; 16], &mut memory)
            .expect("hash");
    }
    let per = started.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
    let per_cpu = (thread_cpu() - cpu).as_secs_f64() * 1000.0 / rounds as f64;
    println!(
        "  reusing one memory block: {per:.1} ms wall, {per_cpu:.1} ms CPU per hash ({rounds} hashes)"
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--hash-cost") {
        hash_cost();
        return;
    }
    let a = parse_args();
    let client = Client::builder()
        .pool_max_idle_per_host(a.concurrency.max(a.seed_concurrency))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let tok = token(&client, &a).await;
    // Rows written by scripts/seed.py follow fixed formulas, so nothing needs to be read back.
    let seeded = if a.preseeded > 0 {
        Arc::new(
            (0..a.preseeded)
                .map(|i| Seeded {
                    id: format!("00000000-0000-4000-8000-{i:012}"),
                    key: format!("{}-{i}", a.prefix),
                    index: i,
                })
                .collect::<Vec<_>>(),
        )
    } else {
        Arc::new(seed(&client, &a, &tok).await)
    };
    assert!(!seeded.is_empty(), "--seed must be at least 1");
    println!(
        "| target | scenario | concurrency | requests | req/s | median ms | p99 ms | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for name in &a.scenarios {
        let started = Instant::now();
        let mut out = run_scenario(name, &client, &a, &tok, seeded.clone()).await;
        let secs = started.elapsed().as_secs_f64();
        out.latencies.sort();
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            a.label,
            name,
            a.concurrency,
            out.latencies.len(),
            out.latencies.len() as f64 / secs,
            pct(&out.latencies, 0.5),
            pct(&out.latencies, 0.99),
            out.errors
        );
    }
}
