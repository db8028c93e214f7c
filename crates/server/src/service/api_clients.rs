//! API-client creation, shared by the `api-client create` command and the first start's demo
//! project: checks the project and the scopes (no identity scopes, only this project's) and
//! stores the client with a hashed secret. Knows neither the command line nor HTTP.

use crate::auth::secret::{hash_secret, new_secret};
use crate::clock::{Clock, Random};
use clientele_store::{ApiClientRecord, Store};

/// Creates an API client; returns `(client_id, client_secret)`.
pub async fn create(
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
    // Identity scopes (`customer_id:…`, `anonymous_id:…`) are added by the token flows; a
    // client holding one could pass for a customer or a session.
    if let Some(identity) = scopes
        .iter()
        .find(|s| crate::auth::scope::IDENTITY_SCOPES.contains(&s.name.as_str()))
    {
        return Err(format!(
            "scope {identity} names an identity, which only the token flows grant"
        ));
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
