//! Bulk transfer of customers on the command line: `clientele export` (NDJSON out, in id
//! order, one page in memory at a time), `clientele import` (NDJSON in, from a file, stdin or
//! a running commercetools-compatible API) and their progress reporting.
//!
//! Owns the command-line arguments, reading and writing lines, paging, concurrency and the
//! summary. What a line means for the database is `service::import`'s business: this module
//! must not validate customers itself nor talk SQL.

pub mod export;
pub mod from_api;
pub mod import;
pub mod progress;

use crate::clock::{SystemClock, TimeOrderedRandom};
use crate::config::DatabaseArgs;
use crate::hashing::HashPool;
use crate::metrics::Metrics;
use crate::state::{AppState, Shared};
use clap::Args;
use clientele_domain::{PasswordHasher, Project};
use std::sync::Arc;

/// `clientele export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The project whose customers to export.
    #[arg(long)]
    pub project: String,
    /// The file to write (stdout when omitted or `-`).
    #[arg(long)]
    pub output: Option<String>,
    /// Add each customer's password hash as `passwordHash`, so that another Clientele can take
    /// the customers over with their passwords. Without it no hash leaves the database.
    #[arg(long)]
    pub with_credentials: bool,
    /// Customers read per query (tests use small pages to cross page boundaries).
    #[arg(long, default_value_t = 500, hide = true)]
    pub page_size: u64,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `clientele import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The project to import into (and, with `--from-api`, to read from).
    #[arg(long)]
    pub project: String,
    /// NDJSON file to read, `-` for stdin. Each line is a CustomerDraft, an exported customer
    /// or an Import API CustomerImport.
    #[arg(required_unless_present = "from_api", conflicts_with = "from_api")]
    pub file: Option<String>,
    /// Pull every customer from this commercetools-compatible API (e.g.
    /// `https://api.europe-west1.gcp.commercetools.com` or another Clientele) instead of a file.
    #[arg(long, requires_all = ["client_id", "client_secret"])]
    pub from_api: Option<String>,
    /// The auth host of `--from-api` (defaults to the API URL, as on Clientele).
    #[arg(long)]
    pub auth_url: Option<String>,
    /// API client id for `--from-api` (may start with `-`, as generated ids can).
    #[arg(long, allow_hyphen_values = true)]
    pub client_id: Option<String>,
    /// API client secret for `--from-api` (may start with `-`, as generated secrets can).
    #[arg(
        long,
        allow_hyphen_values = true,
        env = "CLIENTELE_IMPORT_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// Scopes to request for `--from-api` (default: `view_customers:{project}`).
    #[arg(long)]
    pub scope: Option<String>,
    /// Lines processed at once (default: 4 per CPU, so every core hashes passwords).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Lines written per store transaction (tests use small batches to cross their boundaries).
    /// Each commit rewrites every index page its rows touch, and indexes keyed by random values
    /// (Message ids) are touched all over: on SQLite 5,000 lines per commit wrote half the bytes
    /// of 1,000 (1.19 GB instead of 2.31 GB for 100k customers) for about 165 MB more memory.
    #[arg(long, default_value_t = 5000, hide = true)]
    pub batch_size: usize,
    /// SQLite only: take the database file for this import alone (refused while a server or
    /// another command has it open; a server started meanwhile cannot open it), and when the file has at least
    /// as many lines as the database has customers (and at least 200,000), drop the
    /// non-unique secondary indexes of the customer tables for the load and re-create them at
    /// the end. An interrupted import leaves their definitions recorded in the database, and
    /// the next command to open it re-creates them. Refused when another process has the
    /// database open, and on PostgreSQL.
    #[arg(long)]
    pub exclusive: bool,
    /// Fewest lines for which `--exclusive` drops the indexes (tests cross it with small
    /// files; see `import::worth_suspending`).
    #[arg(long, default_value_t = 200_000, hide = true)]
    pub suspend_from: u64,
    /// Customers asked for per page with `--from-api` (at most 500).
    #[arg(long, default_value_t = 500, hide = true)]
    pub page_size: usize,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// The state the import services need, without a listener: the store, the system clock, OS
/// randomness and a hashing pool with one worker per CPU.
async fn offline_state(
    database: &DatabaseArgs,
    pool_size: u32,
    exclusive: bool,
) -> Result<AppState, String> {
    let store = clientele_store::open(
        &database.database_url,
        clientele_store::StoreOptions {
            pool_size: Some(pool_size),
            bulk_writes: true,
            exclusive,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| {
        if exclusive {
            format!(
                "cannot open database: {e} (with --exclusive the import needs the database to \
                 itself: stop every server and other command using it first)"
            )
        } else {
            format!("cannot open database: {e}")
        }
    })?;
    let hasher = PasswordHasher::owasp().map_err(|e| e.to_string())?;
    let workers = cpus();
    // The import never has more lines in flight than this, so it is never refused.
    let hasher = HashPool::new(hasher, workers, 4 * workers + 16);
    Ok(AppState::new(Shared {
        store,
        clock: Arc::new(SystemClock),
        // Time-ordered ids keep the Messages' id index append-only (see TimeOrderedRandom).
        random: Arc::new(TimeOrderedRandom(Arc::new(SystemClock))),
        metrics: Metrics::new(hasher.rejections()),
        hasher,
        access_token_ttl_secs: crate::config::DEFAULT_ACCESS_TOKEN_TTL_SECS,
        // The CLI signs nobody in, so it never counts failures.
        throttle: Arc::new(crate::throttle::LoginThrottle::new(false)),
    }))
}

/// What an import needs: the offline state (its pool sized for `--concurrency`), the target
/// project and how many lines may be in flight.
async fn open_for_import(args: &ImportArgs) -> Result<(AppState, Project, usize), String> {
    let limit = args.concurrency.unwrap_or(4 * cpus());
    let pool = u32::try_from(limit.clamp(2, 16)).unwrap_or(16);
    if args.exclusive && !args.database.database_url.starts_with("sqlite:") {
        return Err(
            "--exclusive is implemented for SQLite only; import into PostgreSQL \
                    without it"
                .to_owned(),
        );
    }
    let state = offline_state(&args.database, pool, args.exclusive).await?;
    let project = project_of(&state, &args.project).await?;
    Ok((state, project, limit))
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
}

async fn project_of(state: &AppState, key: &str) -> Result<Project, String> {
    state
        .store
        .get_project(key)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("project '{key}' does not exist"))
}
