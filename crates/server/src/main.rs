//! The `clientele` binary: parses the command line and hands over to the library.

use clap::Parser;
use clientele_server::cli::{Cli, Command};
use std::process::ExitCode;

/// mimalloc instead of the C library's allocator, for Rust and (its `override` feature) for the
/// bundled SQLite too: an import spent about a third of its CPU in glibc's malloc and free,
/// much of it consolidating and unlinking chunks, and with mimalloc it takes about a quarter
/// less CPU (docs/performance.md, "Bulk import: the allocator and SQLite's statement journal").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    clientele_server::telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => clientele_server::cli::serve(args).await,
        Command::Project(cmd) => clientele_server::cli::project(cmd).await,
        Command::ApiClient(cmd) => clientele_server::cli::api_client(cmd).await,
        Command::Export(args) => clientele_server::transfer::export::run(args).await,
        Command::Import(args) if args.from_api.is_some() => {
            clientele_server::transfer::from_api::run(args).await
        }
        Command::Import(args) => clientele_server::transfer::import::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
