//! `clientele export`: every customer of a project as NDJSON, exactly as the API shows it, in
//! id order. Pages through the store's ordinary customer query (`where id > :last`, `sort id
//! asc`, served by the primary key) so memory stays one page whatever the customer count.

use super::progress::Progress;
use super::{offline_state, project_of, ExportArgs};
use crate::cli::CliResult;
use clientele_query::schema::customer_schema;
use clientele_store::ResourceQuery;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;

/// Runs `clientele export`.
pub async fn run(args: ExportArgs) -> CliResult {
    let state = offline_state(&args.database, 2, false).await?;
    project_of(&state, &args.project).await?;
    let mut out: Box<dyn Write> = match args.output.as_deref() {
        None | Some("-") => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?,
        )),
    };
    let schema = customer_schema();
    let sort =
        clientele_query::parse_sort(&["id asc".to_owned()], &schema).map_err(|e| e.to_string())?;
    let progress = Progress::start(None);
    let mut last: Option<String> = None;
    let mut done = 0u64;
    loop {
        let predicate = match &last {
            None => None,
            Some(id) => {
                let vars = HashMap::from([("last".to_owned(), vec![id.clone()])]);
                Some(
                    clientele_query::parse_where(&["id > :last".to_owned()], &vars, &schema)
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        let query = ResourceQuery {
            predicate,
            sort: sort.clone(),
            limit: args.page_size.clamp(1, 500),
            ..Default::default()
        };
        let page = state
            .store
            .query_customers(&args.project, &query)
            .await
            .map_err(|e| format!("cannot read customers: {e}"))?;
        let count = page.results.len() as u64;
        for customer in &page.results {
            let mut line = serde_json::to_value(customer).map_err(|e| e.to_string())?;
            if args.with_credentials {
                if let (Value::Object(map), Some(hash)) = (&mut line, &customer.password) {
                    map.insert("passwordHash".to_owned(), Value::from(hash.as_phc()));
                }
            }
            serde_json::to_writer(&mut out, &line).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        done += count;
        progress.advance(count, done);
        last = page.results.last().map(|c| c.id.clone());
        if count < args.page_size.clamp(1, 500) {
            break;
        }
    }
    out.flush().map_err(|e| format!("cannot write: {e}"))?;
    progress.finish(&format!("exported {done}"), done);
    Ok(())
}
