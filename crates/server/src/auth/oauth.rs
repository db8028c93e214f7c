//! The OAuth2 token endpoint (`POST /oauth/token`): client credentials, with parameters in the
//! form body or the query string, client authenticated with HTTP Basic.

use super::scope::Scope;
use super::secret::{constant_time_eq, hash_secret, new_secret};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use clientele_store::{AccessTokenRecord, ApiClientRecord};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Routes of the auth host, mounted beside the API.
pub fn router() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token))
}

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
) -> Result<ApiClientRecord, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::InvalidClient)?;
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
    let id = url_decode(id);
    let secret = url_decode(secret);
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
        .map_err(|bad| ApiError::InvalidScope(format!("Invalid scope: {bad}")))?;
    for want in &asked {
        let covered = held.iter().any(|h| {
            h == want
                || (h.name == "manage_project"
                    && h.store.is_none()
                    && h.project == want.project
                    && want.project == client.project_key)
        });
        if !covered {
            return Err(ApiError::InvalidScope(format!(
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

/// Issues and stores an access token; returns the token response body.
pub async fn issue_access_token(
    state: &AppState,
    client: &ApiClientRecord,
    scope: String,
    customer_id: Option<String>,
) -> Result<Value, ApiError> {
    let token = new_secret(state.random.as_ref());
    let ttl = state.access_token_ttl_secs;
    state
        .store
        .insert_token(&AccessTokenRecord {
            token_hash: hash_secret(&token),
            kind: "access".to_owned(),
            client_id: client.client_id.clone(),
            project_key: client.project_key.clone(),
            scope: scope.clone(),
            customer_id,
            expires_at: state.clock.now() + time::Duration::seconds(ttl),
        })
        .await?;
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    }))
}

/// `POST /oauth/token`.
async fn token(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let client = authenticate_client(&state, &headers).await?;
    let params = oauth_params(query.as_deref(), &body);
    match params.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            let scope = grant_scopes(&client, params.get("scope").map(String::as_str))?;
            Ok(Json(
                issue_access_token(&state, &client, scope, None).await?,
            ))
        }
        Some(other) => Err(ApiError::UnsupportedGrantType(format!(
            "Unsupported grant type '{other}'."
        ))),
        None => Err(ApiError::InvalidRequest(
            "Missing required parameter: grant_type.".to_owned(),
        )),
    }
}
