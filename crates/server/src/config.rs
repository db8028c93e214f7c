//! Server configuration: flags with environment fallbacks (`CLIENTELE_*`), defaults as consts.

use clap::Args;
use std::time::Duration;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default database: an SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://clientele.db";
/// Default access-token lifetime (commercetools: 48 h).
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: i64 = 172_800;

/// Where the database is; shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long = "database", env = "CLIENTELE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// How to run the HTTP server (`clientele serve`).
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CLIENTELE_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Lifetime of access tokens in seconds.
    #[arg(long, env = "CLIENTELE_ACCESS_TOKEN_TTL", default_value_t = DEFAULT_ACCESS_TOKEN_TTL_SECS)]
    pub access_token_ttl_secs: i64,
    /// Concurrent Argon2id hashes (default: number of CPUs).
    #[arg(long, env = "CLIENTELE_HASH_WORKERS")]
    pub hash_workers: Option<usize>,
    /// Password-hashing requests allowed to wait before new ones get 503.
    #[arg(long, env = "CLIENTELE_HASH_QUEUE", default_value_t = 256)]
    pub hash_queue: usize,
    /// Seconds a password-hashing request may wait for a worker before it gets 503: past
    /// capacity the queue sheds waiters instead of growing their latency (issue 12: a 503
    /// within 100 ms). Embedded servers (tests) leave it unbounded.
    #[arg(long, env = "CLIENTELE_HASH_QUEUE_WAIT", value_parser = parse_secs, default_value = "0.08")]
    pub hash_queue_wait: Option<Duration>,
    /// Maximum request body size in bytes.
    #[arg(long, env = "CLIENTELE_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most connections this process opens to the database (its pool). With several processes
    /// on one PostgreSQL database, their sum must stay below the server's `max_connections`.
    #[arg(long, env = "CLIENTELE_DB_POOL_SIZE", default_value_t = 10)]
    pub db_pool_size: u32,
    /// Seconds a SIGTERM waits for running requests (connections still in the backlog and
    /// bodies still arriving included) before answering the rest 503 and exiting.
    #[arg(long, env = "CLIENTELE_SHUTDOWN_GRACE", default_value = "30", value_parser = parse_secs)]
    pub shutdown_grace: Duration,
    /// Seconds a client may take from a request's first byte to its complete header.
    #[arg(long, env = "CLIENTELE_HEADER_READ_TIMEOUT", default_value = "30", value_parser = parse_secs)]
    pub header_read_timeout: Duration,
    /// Seconds a kept-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "CLIENTELE_IDLE_TIMEOUT", default_value = "75", value_parser = parse_secs)]
    pub idle_timeout: Duration,
    /// Most client connections served at once; more wait in the listen backlog.
    #[arg(long, env = "CLIENTELE_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Length of the listen backlog (the kernel caps it at `net.core.somaxconn`).
    #[arg(long, env = "CLIENTELE_LISTEN_BACKLOG", default_value_t = 4096)]
    pub listen_backlog: i32,
    /// Slow down and then refuse (429) repeated failed sign-ins per account and per API client.
    /// Off by default, so test suites and emulator use are unaffected.
    #[arg(long, env = "CLIENTELE_LOGIN_THROTTLE")]
    pub login_throttle: bool,
    /// Subscription delivery.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// How Subscriptions are delivered (`clientele serve`).
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// Do not deliver Subscriptions from this process (other processes on the same database
    /// still do; notifications wait in the outbox).
    #[arg(long = "no-delivery", env = "CLIENTELE_NO_DELIVERY")]
    pub disabled: bool,
    /// Seconds between looks for undelivered notifications.
    #[arg(long = "delivery-poll", env = "CLIENTELE_DELIVERY_POLL", default_value = "0.05", value_parser = parse_positive_secs)]
    pub poll: Duration,
    /// Seconds a delivering process holds a Subscription without renewing; after a crash,
    /// another process resumes it this long later.
    #[arg(long = "delivery-lease", env = "CLIENTELE_DELIVERY_LEASE", default_value = "10", value_parser = parse_positive_secs)]
    pub lease: Duration,
    /// Seconds a configuration error may last before delivery stops for good
    /// (ConfigurationErrorDeliveryStopped; undelivered notifications are dropped).
    #[arg(long = "delivery-stop-after", env = "CLIENTELE_DELIVERY_STOP_AFTER", default_value = "86400", value_parser = parse_secs)]
    pub stop_after: Duration,
    /// Longest delay between retries (they start at 0.1 s and double).
    #[arg(long = "delivery-max-backoff", env = "CLIENTELE_DELIVERY_MAX_BACKOFF", default_value = "30", value_parser = parse_secs)]
    pub max_backoff: Duration,
}

impl DeliveryArgs {
    /// The worker's settings.
    pub fn settings(&self) -> crate::delivery::worker::DeliverySettings {
        crate::delivery::worker::DeliverySettings {
            poll: self.poll,
            lease: self.lease,
            stop_after: self.stop_after,
            min_backoff: Duration::from_millis(100).min(self.max_backoff),
            max_backoff: self.max_backoff,
            batch: 256,
        }
    }
}

impl Default for DeliveryArgs {
    fn default() -> Self {
        DeliveryArgs {
            disabled: false,
            poll: Duration::from_millis(50),
            lease: Duration::from_secs(10),
            stop_after: Duration::from_secs(86_400),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Default bound on concurrent connections: far above what SDK clients open, and well inside
/// a default limit of open files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Parses a number of seconds (fractions allowed: `0.5`).
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{s}' is not a duration"))
}

/// Parses a number of seconds that must be more than zero (a zero poll would be a busy loop).
pub fn parse_positive_secs(s: &str) -> Result<Duration, String> {
    let d = parse_secs(s)?;
    if d.is_zero() {
        return Err(format!("'{s}' must be more than 0 seconds"));
    }
    Ok(d)
}

impl ServeConfig {
    /// A configuration for tests and embedding: the given database, port 0 on loopback.
    pub fn for_tests(database_url: &str) -> Self {
        ServeConfig {
            listen: "127.0.0.1:0".to_owned(),
            database: DatabaseArgs {
                database_url: database_url.to_owned(),
            },
            access_token_ttl_secs: DEFAULT_ACCESS_TOKEN_TTL_SECS,
            hash_workers: None,
            hash_queue: 256,
            hash_queue_wait: None,
            max_body_bytes: 16 * 1024 * 1024,
            db_pool_size: 5,
            shutdown_grace: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            listen_backlog: 4096,
            login_throttle: false,
            delivery: DeliveryArgs::default(),
        }
    }
}
