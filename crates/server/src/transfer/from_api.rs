//! `clientele import --from-api URL`: pulls every customer of a project from a running
//! commercetools-compatible API (commercetools itself or another Clientele) and imports each
//! as an exported customer. Pages with `sort=id asc` and `where=id > "last"` (never offsets,
//! which stop at 10,000), expanding Customer Groups and Types so references are carried over
//! by key. Passwords cannot be read through the API: imported customers have no password and
//! must reset it (password-reset token flow) before they can sign in.
//!
//! Talks plain HTTP(S) through `reqwest`; must not touch the database itself.

use super::import::{verdict, Importer};
use super::progress::Progress;
use super::ImportArgs;
use crate::cli::CliResult;
use crate::state::AppState;
use clientele_domain::Project;
use serde_json::Value;

async fn access_token(
    http: &reqwest::Client,
    auth_url: &str,
    args: &ImportArgs,
    project: &str,
) -> Result<String, String> {
    let scope = args
        .scope
        .clone()
        .unwrap_or_else(|| format!("view_customers:{project}"));
    let response = http
        .post(format!("{}/oauth/token", auth_url.trim_end_matches('/')))
        .basic_auth(
            args.client_id.as_deref().unwrap_or_default(),
            args.client_secret.as_deref(),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", &scope)])
        .send()
        .await
        .map_err(|e| format!("cannot reach {auth_url}: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("token response from {auth_url}: {e}"))?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token from {auth_url} ({status}): {body}"))
}

/// Runs `clientele import --from-api`: opens the database and pulls every customer of the
/// source project into the target one.
pub async fn run(args: ImportArgs) -> CliResult {
    let (state, project, limit) = super::open_for_import(&args).await?;
    copy(state, project, &args, limit).await
}

/// Copies the customers into `project` of `state`, at most `limit` lines in flight.
async fn copy(state: AppState, project: Project, args: &ImportArgs, limit: usize) -> CliResult {
    let api = args
        .from_api
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    let auth_url = args.auth_url.clone().unwrap_or_else(|| api.clone());
    let http = reqwest::Client::new();
    let token = access_token(&http, &auth_url, args, &project.key).await?;
    let url = format!("{api}/{}/customers", project.key);
    let mut importer: Option<Importer> = None;
    let mut last: Option<String> = None;
    let mut number = 0usize;
    let page_size = args.page_size.clamp(1, 500);
    loop {
        let mut query: Vec<(&str, String)> = vec![
            ("limit", page_size.to_string()),
            ("sort", "id asc".to_owned()),
            ("withTotal", importer.is_none().to_string()),
            ("expand", "customerGroup".to_owned()),
            (
                "expand",
                "customerGroupAssignments[*].customerGroup".to_owned(),
            ),
            ("expand", "custom.type".to_owned()),
        ];
        if let Some(id) = &last {
            query.push(("where", format!("id > \"{id}\"")));
        }
        let response = http
            .get(&url)
            .bearer_auth(&token)
            .query(&query)
            .send()
            .await
            .map_err(|e| format!("cannot read {url}: {e}"))?;
        let status = response.status();
        let page: Value = response
            .json()
            .await
            .map_err(|e| format!("customers page from {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url} answered {status}: {page}"));
        }
        let importer = importer.get_or_insert_with(|| {
            let total = page["total"].as_u64();
            Importer::new(
                state.clone(),
                project.clone(),
                limit,
                args.batch_size,
                Progress::start(total),
            )
        });
        let results = page["results"].as_array().cloned().unwrap_or_default();
        for customer in &results {
            number += 1;
            importer.submit(number, &customer.to_string(), 1).await;
        }
        last = results
            .last()
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned);
        if results.len() < page_size || last.is_none() {
            break;
        }
    }
    match importer {
        Some(importer) => verdict(importer.finish().await?),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    /// `--from-api https://…` must reach the TLS handshake: without a TLS backend reqwest
    /// refuses an `https` URL before connecting (a builder error).
    #[tokio::test]
    async fn https_urls_get_a_tls_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // A peer that accepts and hangs up: the handshake fails, after the connection opened.
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            drop(socket);
        });
        let error = reqwest::Client::new()
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(
            !error.is_builder(),
            "https refused before connecting: {error:?}"
        );
        assert!(error.is_connect(), "expected a failed handshake: {error:?}");
        server.await.unwrap();
    }
}
