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
            max_body_bytes: 16 * 1024 * 1024,
            db_pool_size: 5,
            shutdown_grace: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            listen_backlog: 4096,
            login_throttle: false,
        }
    }
}
