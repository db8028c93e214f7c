//! The command line: `serve`, `project create`, `api-client create`. Each command opens the
//! database itself, so they work against a server that is running or not.

use crate::auth::secret::{hash_secret, new_secret};
use crate::clock::{Clock, OsRandom, Random, SystemClock};
use crate::config::{DatabaseArgs, ServeConfig};
use crate::startup::Application;
use clap::{Args, Parser, Subcommand};
use clientele_domain::Project;
use clientele_store::{ApiClientRecord, Store};
use std::sync::Arc;

/// Clientele: a commercetools-compatible Customers API server.
#[derive(Debug, Parser)]
#[command(name = "clientele", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (API and OAuth on one listener). On a database without projects it
    /// creates project `demo` and an API client, and prints their credentials once.
    Serve(ServeConfig),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API clients (OAuth2 client credentials).
    #[command(subcommand, name = "api-client")]
    ApiClient(ApiClientCommand),
}

/// `clientele project …`.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create(ProjectCreate),
}

/// `clientele project create`.
#[derive(Debug, Args)]
pub struct ProjectCreate {
    /// The project key (2–36 characters of [a-z0-9-]).
    pub key: String,
    /// Display name (defaults to the key).
    #[arg(long)]
    pub name: Option<String>,
    /// Comma-separated languages customers' `locale` may take.
    #[arg(long, value_delimiter = ',', default_value = "en")]
    pub languages: Vec<String>,
    /// Comma-separated country codes.
    #[arg(long, value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Comma-separated currency codes.
    #[arg(long, value_delimiter = ',')]
    pub currencies: Vec<String>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `clientele api-client …`.
#[derive(Debug, Subcommand)]
pub enum ApiClientCommand {
    /// Create an API client and print `{"clientId","clientSecret","scope"}` as one JSON object.
    Create(ApiClientCreate),
}

/// `clientele api-client create`.
#[derive(Debug, Args)]
pub struct ApiClientCreate {
    /// The project the client belongs to.
    #[arg(long)]
    pub project: String,
    /// Space-separated scopes, e.g. "manage_customers:demo view_messages:demo".
    #[arg(long)]
    pub scope: String,
    /// Client id (random if omitted).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Client secret (random if omitted).
    #[arg(long)]
    pub client_secret: Option<String>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Errors of the command line, printed as `error: …`.
pub type CliResult = Result<(), String>;

async fn open(database: &DatabaseArgs) -> Result<Arc<dyn Store>, String> {
    clientele_store::open(
        &database.database_url,
        clientele_store::StoreOptions {
            pool_size: Some(5),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| format!("cannot open database {}: {e}", database.database_url))
}

/// `clientele serve`. Prints `listening on http://ADDRESS` on stdout once the listener is bound
/// (after the demo credentials, if it just created them).
pub async fn serve(config: ServeConfig) -> CliResult {
    let app = Application::build(config, Arc::new(SystemClock), Arc::new(OsRandom))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(boot) = app.bootstrap_credentials() {
        println!("{boot}");
    }
    // On stdout and in a fixed form, so whoever started us with port 0 learns the port.
    println!("listening on http://{}", app.address());
    tracing::info!(address = %app.address(), "listening");
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

/// Validates a project key the way commercetools does: 2–36 of `[a-z0-9-]`.
pub fn validate_project_key(key: &str) -> Result<(), String> {
    let ok = (2..=36).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid project key '{key}': use 2 to 36 characters of a-z, 0-9 and -"
        ))
    }
}

/// `clientele project create`.
pub async fn project(cmd: ProjectCommand) -> CliResult {
    let ProjectCommand::Create(args) = cmd;
    validate_project_key(&args.key)?;
    let store = open(&args.database).await?;
    let project = Project {
        name: args.name.unwrap_or_else(|| args.key.clone()),
        key: args.key,
        languages: args.languages,
        countries: args.countries,
        currencies: args.currencies,
    };
    store
        .create_project(&project, SystemClock.now())
        .await
        .map_err(|e| format!("cannot create project {}: {e}", project.key))?;
    println!(
        "{}",
        serde_json::to_string(&project).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// Creates an API client; returns `(client_id, client_secret)`.
pub async fn create_api_client(
    store: &dyn Store,
    clock: &dyn Clock,
    random: &dyn Random,
    project: &str,
    scope: &str,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<(String, String), String> {
    if store
        .get_project(project)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!("project '{project}' does not exist"));
    }
    let scopes = crate::auth::scope::Scope::parse_list(scope)
        .map_err(|bad| format!("invalid scope '{bad}'"))?;
    if scopes.is_empty() {
        return Err("at least one scope is required".to_owned());
    }
    if let Some(other) = scopes.iter().find(|s| s.project != project) {
        return Err(format!("scope {other} is not for project '{project}'"));
    }
    let id = client_id.unwrap_or_else(|| new_secret(random).chars().take(24).collect());
    let secret = client_secret.unwrap_or_else(|| new_secret(random));
    store
        .create_api_client(&ApiClientRecord {
            client_id: id.clone(),
            secret_hash: hash_secret(&secret),
            project_key: project.to_owned(),
            scope: scope.split_whitespace().collect::<Vec<_>>().join(" "),
            created_at: clock.now(),
        })
        .await
        .map_err(|e| format!("cannot create API client: {e}"))?;
    Ok((id, secret))
}

/// `clientele api-client create`.
pub async fn api_client(cmd: ApiClientCommand) -> CliResult {
    let ApiClientCommand::Create(args) = cmd;
    let store = open(&args.database).await?;
    let (id, secret) = create_api_client(
        store.as_ref(),
        &SystemClock,
        &OsRandom,
        &args.project,
        &args.scope,
        args.client_id,
        args.client_secret,
    )
    .await?;
    let scope = args.scope.split_whitespace().collect::<Vec<_>>().join(" ");
    println!(
        "{}",
        serde_json::json!({"clientId": id, "clientSecret": secret, "scope": scope})
    );
    Ok(())
}
