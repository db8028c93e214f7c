//! The command line: `serve`, `project create`, `api-client create`. Each command opens the
//! database itself, so they work against a server that is running or not.

use crate::clock::{Clock, SecureRandom, SystemClock};
use crate::config::{DatabaseArgs, ServeConfig};
use crate::startup::Application;
use clap::{Args, Parser, Subcommand};
use clientele_domain::Project;
use clientele_store::Store;
use std::sync::Arc;

/// Clientele: a commercetools-compatible Customers API server.
#[derive(Debug, Parser)]
#[command(name = "clientele", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log lines as `text` or `json` (one object per line), on stderr.
    #[arg(
        long,
        global = true,
        env = "CLIENTELE_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: crate::telemetry::LogFormat,
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
    /// Write every customer of a project as NDJSON (one API-shaped customer per line, id order).
    Export(crate::transfer::ExportArgs),
    /// Create or update customers from NDJSON lines (a file, stdin, or `--from-api`).
    Import(crate::transfer::ImportArgs),
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
    /// Space-separated scopes, e.g. "manage_customers:demo view_messages:demo"; storefront
    /// clients: "manage_my_profile:demo create_anonymous_token:demo" (or
    /// "manage_my_profile:demo:STORE" for one Store).
    #[arg(long)]
    pub scope: String,
    /// Client id (random if omitted; may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    pub client_id: Option<String>,
    /// Client secret (random if omitted; may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
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
    let app = Application::build(config, Arc::new(SystemClock), Arc::new(SecureRandom))
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

/// `clientele api-client create`.
pub async fn api_client(cmd: ApiClientCommand) -> CliResult {
    let ApiClientCommand::Create(args) = cmd;
    let store = open(&args.database).await?;
    let (id, secret) = crate::service::api_clients::create(
        store.as_ref(),
        &SystemClock,
        &SecureRandom,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated ids and secrets are base64url and may start with `-`; they must still be read
    /// as the option's value, not as an unknown flag.
    #[test]
    fn ids_and_secrets_that_start_with_a_hyphen_are_values() {
        let import = Cli::try_parse_from([
            "clientele",
            "import",
            "--project",
            "demo",
            "--from-api",
            "http://127.0.0.1:1",
            "--client-id",
            "-id",
            "--client-secret",
            "-Usecret",
        ])
        .unwrap();
        let Command::Import(args) = import.command else {
            panic!("not an import: {import:?}");
        };
        assert_eq!(args.client_id.as_deref(), Some("-id"));
        assert_eq!(args.client_secret.as_deref(), Some("-Usecret"));

        let create = Cli::try_parse_from([
            "clientele",
            "api-client",
            "create",
            "--project",
            "demo",
            "--scope",
            "view_customers:demo",
            "--client-id",
            "-id",
            "--client-secret",
            "-Usecret",
        ])
        .unwrap();
        let Command::ApiClient(ApiClientCommand::Create(args)) = create.command else {
            panic!("not an api-client create: {create:?}");
        };
        assert_eq!(args.client_id.as_deref(), Some("-id"));
        assert_eq!(args.client_secret.as_deref(), Some("-Usecret"));
    }

    /// A zero poll or lease would make the delivery loop spin; both are refused on the command
    /// line with a message that names the option.
    #[test]
    fn a_zero_delivery_poll_or_lease_is_refused() {
        for option in ["--delivery-poll", "--delivery-lease"] {
            let e = Cli::try_parse_from(["clientele", "serve", option, "0"]).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(option), "{text}");
            assert!(text.contains("more than 0"), "{text}");
        }
        let ok = Cli::try_parse_from(["clientele", "serve", "--delivery-poll", "0.01"]).unwrap();
        let Command::Serve(config) = ok.command else {
            panic!("not serve: {ok:?}");
        };
        assert_eq!(config.delivery.poll, std::time::Duration::from_millis(10));
    }
}
