//! API-client authentication at the token endpoints: the form parameters of an OAuth request,
//! the client's credentials (HTTP Basic or `client_id`/`client_secret`), and which of the
//! client's scopes a token may carry. Shared by `auth::oauth` and `auth::session`; it issues
//! no token and serves no route.

use super::scope::Scope;
use super::secret::{constant_time_eq, hash_secret};
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{header, HeaderMap};
use base64::Engine;
use clientele_store::ApiClientRecord;
use std::collections::HashMap;

/// Lifetime of refresh tokens in seconds (commercetools' default inactivity expiry, 200 days).
pub const REFRESH_TOKEN_TTL_SECS: i64 = 17_280_000;

/// Form parameters from the query string and the body (body wins).
pub fn oauth_params(query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut params: HashMap<String, String> =
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    params.extend(form_urlencoded::parse(body).into_owned());
    params
}

/// Checks HTTP Basic client credentials against the stored clients.
pub async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<ApiClientRecord, ApiError> {
    let (id, secret) = client_credentials(headers, &oauth_params(query, body))?;
    // No client id holds a NUL (PostgreSQL text cannot); never ask the store for one.
    if id.contains('\0') {
        return Err(ApiError::InvalidClient);
    }
    let client = state
        .store
        .get_api_client(&id)
        .await?
        .ok_or(ApiError::InvalidClient)?;
    if !constant_time_eq(&client.secret_hash, &hash_secret(&secret)) {
        return Err(ApiError::InvalidClient);
    }
    Ok(client)
}

/// The client id and secret: from HTTP Basic (what the SDKs send) or, when there is no
/// `Authorization` header, from `client_id` / `client_secret` parameters (RFC 6749 §2.3.1).
fn client_credentials(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(String, String), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return match (params.get("client_id"), params.get("client_secret")) {
            (Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
            _ => Err(ApiError::InvalidClient),
        };
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidClient)?;
    let (scheme, encoded) = value.split_once(' ').ok_or(ApiError::InvalidClient)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::InvalidClient);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ApiError::InvalidClient)?;
    let decoded = String::from_utf8(decoded).map_err(|_| ApiError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(ApiError::InvalidClient)?;
    // RFC 6749 §2.3.1: client id and secret are form-encoded inside Basic.
    Ok((url_decode(id), url_decode(secret)))
}

fn url_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// The scopes to grant: all of the client's when none are asked for, else exactly the asked
/// ones, each of which the client must hold (or be covered by its `manage_project`).
pub fn grant_scopes(client: &ApiClientRecord, requested: Option<&str>) -> Result<String, ApiError> {
    let held = Scope::parse_list(&client.scope).unwrap_or_default();
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(client.scope.clone());
    };
    let asked = Scope::parse_list(requested)
        .map_err(|bad| ApiError::invalid_scope(format!("Invalid scope: {bad}")))?;
    for want in &asked {
        if super::scope::IDENTITY_SCOPES.contains(&want.name.as_str()) {
            return Err(ApiError::invalid_scope(format!(
                "The scope {want} is issued by the token flows and cannot be requested."
            )));
        }
        let covered = held.iter().any(|h| {
            h == want
                || (h.name == "manage_project"
                    && h.store.is_none()
                    && h.project == want.project
                    && want.project == client.project_key)
        });
        if !covered {
            return Err(ApiError::invalid_scope(format!(
                "The client does not have the scope {want}."
            )));
        }
    }
    Ok(asked
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" "))
}
