//! Server configuration: flags with environment fallbacks (`CLIENTELE_*`), defaults as consts.

use clap::Args;

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
        }
    }
}
