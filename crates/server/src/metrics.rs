//! Server metrics in the Prometheus text format (served at `GET /-/metrics` by `api::metrics`).
//!
//! Owns one registry per server (not a process-global recorder, so several servers in one test
//! process keep their own counts) and the collectors: requests by route template and status,
//! request latency, database pool occupancy, the Argon2 pool's queue and rejections, and
//! issued tokens. Labels hold only route templates (`/{projectKey}/customers/{id}`), methods,
//! status codes and token kinds: never a project key, an id, an email or any other customer
//! data. Must not log, and must not touch the database beyond the store's pool counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// The route label of requests no route matched (unknown paths get the API's 404).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The Prometheus content type of the text format.
/// The Prometheus text exposition format's content type.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    kind: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s: Argon2 sign-ups sit near 50 ms, slow scans in the seconds.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
    pool_open: Gauge,
    pool_in_use: Gauge,
    pool_max: Gauge,
    pool_waiting: Gauge,
    hash_running: Gauge,
    hash_queued: Gauge,
}

/// The server's metrics; cheap to clone (one shared registry).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl Metrics {
    /// A registry with every collector; `hash_rejections` is the hashing pool's own counter.
    pub fn new(hash_rejections: Counter) -> Self {
        let mut registry = Registry::with_prefix("clientele");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            latency.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "oauth_tokens_issued",
            "OAuth tokens issued, by kind (access, refresh)",
            tokens.clone(),
        );
        let pool_open = Gauge::default();
        registry.register(
            "db_pool_connections_open",
            "Database connections open in this process's pool(s)",
            pool_open.clone(),
        );
        let pool_in_use = Gauge::default();
        registry.register(
            "db_pool_connections_in_use",
            "Database connections lent out to a query or transaction",
            pool_in_use.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_connections_max",
            "Most database connections this process may open",
            pool_max.clone(),
        );
        let pool_waiting = Gauge::default();
        registry.register(
            "db_pool_waiting",
            "Requests and writes waiting for a database connection right now",
            pool_waiting.clone(),
        );
        let hash_running = Gauge::default();
        registry.register(
            "argon2_running",
            "Password hashes and verifications running now",
            hash_running.clone(),
        );
        let hash_queued = Gauge::default();
        registry.register(
            "argon2_queue_depth",
            "Password hashes and verifications waiting for a worker",
            hash_queued.clone(),
        );
        registry.register(
            "argon2_rejections",
            "Password hashes and verifications refused with 503 because the queue was full",
            hash_rejections,
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                tokens,
                pool_open,
                pool_in_use,
                pool_max,
                pool_waiting,
                hash_running,
                hash_queued,
            }),
        }
    }

    /// Counts one answered request and its latency. `route` must be a route template (or
    /// [`UNMATCHED_ROUTE`]), never the request's path.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.inner
            .requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.inner
            .latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts one issued token of `kind` (`access` or `refresh`).
    pub fn token_issued(&self, kind: &str) {
        self.inner
            .tokens
            .get_or_create(&TokenLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Reads the gauges that are sampled rather than counted, then encodes everything.
    pub fn render(
        &self,
        pool: clientele_store::PoolStats,
        hashing: crate::hashing::Occupancy,
    ) -> Result<String, std::fmt::Error> {
        self.inner.pool_open.set(i64::from(pool.open));
        self.inner.pool_in_use.set(i64::from(pool.in_use));
        self.inner.pool_max.set(i64::from(pool.max));
        self.inner.pool_waiting.set(i64::from(pool.waiting));
        self.inner.hash_running.set(saturating_i64(hashing.running));
        self.inner.hash_queued.set(saturating_i64(hashing.queued));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }
}

fn saturating_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
