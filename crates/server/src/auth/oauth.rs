//! The OAuth2 endpoints of the auth host, each with parameters in the form body or the query
//! string and the API client authenticated with HTTP Basic: `POST /oauth/token` (client
//! credentials and refresh token grants), `POST /oauth/{projectKey}/customers/token` (the
//! password flow for global customers), `POST /oauth/{projectKey}/in-store/key={storeKey}/
//! customers/token` (the password flow for the customers of one Store) and
//! `POST /oauth/introspect` (RFC 7662).
//!
//! Password-flow tokens carry the client's (or the requested) scopes plus
//! `customer_id:{customerId}` and are bound to the customer (`auth::session`): they act only
//! through `/me`, and die with the customer's password, its deletion or (in a Store) its
//! membership. The anonymous-session flow lives in `auth::session`.

use super::client::{authenticate_client, grant_scopes, oauth_params, REFRESH_TOKEN_TTL_SECS};
use super::scope::Scope;
use super::secret::{hash_secret, new_secret};
use crate::error::ApiError;
use crate::service::stores::StoreContext;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use clientele_store::{AccessTokenRecord, ApiClientRecord};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Routes of the auth host, mounted beside the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/{project}/customers/token", post(customer_token))
        .route(
            "/oauth/{project}/in-store/{store}/customers/token",
            post(in_store_customer_token),
        )
        .route("/oauth/introspect", post(introspect))
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
    state.metrics.token_issued("access");
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
    let client = authenticate_client(&state, &headers, query.as_deref(), &body).await?;
    let params = oauth_params(query.as_deref(), &body);
    match params.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            let scope = grant_scopes(&client, params.get("scope").map(String::as_str))?;
            Ok(Json(
                issue_access_token(&state, &client, scope, None).await?,
            ))
        }
        Some("refresh_token") => {
            let value = required_param(&params, "refresh_token")?;
            // Another client's refresh token is as unknown as a made-up one (RFC 6749 §6).
            let record = state
                .store
                .get_token(&hash_secret(value))
                .await?
                .filter(|r| {
                    r.kind == "refresh"
                        && r.client_id == client.client_id
                        && r.expires_at > state.clock.now()
                })
                .ok_or(ApiError::InvalidGrant)?;
            // The refresh token stays valid and its inactivity expiry restarts with this use
            // (commercetools: 200 days after the last use); only a new access token is issued.
            state
                .store
                .extend_token(
                    &record.token_hash,
                    state.clock.now() + time::Duration::seconds(REFRESH_TOKEN_TTL_SECS),
                )
                .await?;
            // A customer's refresh token keeps its identity, and dies with its session.
            let binding = super::session::refresh_binding(&state, &record).await?;
            Ok(Json(
                super::session::issue_access(
                    &state,
                    &client,
                    record.scope,
                    record.customer_id,
                    &binding,
                )
                .await?,
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

/// A required, non-empty OAuth parameter, or `invalid_request`.
fn required_param<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::InvalidRequest(format!("Missing required parameter: {name}.")))
}

/// `POST /oauth/{projectKey}/customers/token`: the password flow for global customers. Wrong
/// credentials (unknown email, wrong password, `ExternalAuth`, store-specific customer) all
/// answer `invalid_customer_account_credentials` after one password verification.
async fn customer_token(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let client = authenticate_client(&state, &headers, query.as_deref(), &body).await?;
    let Ok(Path(project)) = path else {
        return Err(ApiError::ResourceNotFound(
            "The requested resource was not found.".to_owned(),
        ));
    };
    password_grant(
        &state,
        &client,
        project,
        StoreContext::Project,
        query,
        &body,
    )
    .await
}

/// `POST /oauth/{projectKey}/in-store/key={storeKey}/customers/token`: the password flow for the
/// customers of one Store. Global customers, customers of other Stores and unknown Stores all
/// answer `invalid_customer_account_credentials`, like a wrong password.
async fn in_store_customer_token(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let client = authenticate_client(&state, &headers, query.as_deref(), &body).await?;
    let Some((project, store)) = path.ok().and_then(|Path((project, segment))| {
        segment
            .strip_prefix("key=")
            .map(|store| (project, store.to_owned()))
    }) else {
        return Err(ApiError::ResourceNotFound(
            "The requested resource was not found.".to_owned(),
        ));
    };
    password_grant(
        &state,
        &client,
        project,
        StoreContext::InStore(store),
        query,
        &body,
    )
    .await
}

/// The password grant of `client` for a customer that may sign in in `ctx`: an access token and
/// a refresh token whose scope names the customer.
async fn password_grant(
    state: &AppState,
    client: &ApiClientRecord,
    project: String,
    ctx: StoreContext,
    query: Option<String>,
    body: &[u8],
) -> Result<Json<Value>, ApiError> {
    let params = oauth_params(query.as_deref(), body);
    match params.get("grant_type").map(String::as_str) {
        Some("password") => {}
        Some(other) => {
            return Err(ApiError::UnsupportedGrantType(format!(
                "Unsupported grant type '{other}'."
            )))
        }
        None => {
            return Err(ApiError::InvalidRequest(
                "Missing required parameter: grant_type.".to_owned(),
            ))
        }
    }
    if client.project_key != project {
        return Err(ApiError::invalid_scope(format!(
            "The client has no scopes for project '{project}'."
        )));
    }
    let username = required_param(&params, "username")?;
    let password = required_param(&params, "password")?;
    let scope = grant_scopes(client, params.get("scope").map(String::as_str))?;
    let customer = crate::service::credentials::authenticate(
        state,
        &project,
        &ctx,
        &client.client_id,
        username,
        password,
    )
    .await?
    .ok_or(ApiError::InvalidCustomerAccountCredentials)?;
    Ok(Json(
        super::session::issue_customer_tokens(state, client, scope, &customer, &ctx).await?,
    ))
}

/// `POST /oauth/introspect` (RFC 7662): `{active, scope, exp, client_id}` for a live access
/// token, `{active: false}` otherwise. A client may introspect its own tokens, and other
/// clients' tokens of a project for which it holds `introspect_oauth_tokens`; anything else
/// looks inactive, so introspection cannot probe other clients' tokens.
async fn introspect(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let client = authenticate_client(&state, &headers, query.as_deref(), &body).await?;
    let params = oauth_params(query.as_deref(), &body);
    let value = required_param(&params, "token")?;
    let now = state.clock.now();
    let record = state
        .store
        .get_token(&hash_secret(value))
        .await?
        .filter(|r| r.kind == "access" && r.expires_at > now)
        .filter(|r| r.client_id == client.client_id || may_introspect(&client, &r.project_key));
    Ok(Json(match record {
        Some(r) => json!({
            "active": true,
            "scope": r.scope,
            "exp": r.expires_at.unix_timestamp(),
            "client_id": r.client_id,
        }),
        None => json!({"active": false}),
    }))
}

/// Whether `client` holds `introspect_oauth_tokens:{project}`.
fn may_introspect(client: &ApiClientRecord, project: &str) -> bool {
    Scope::parse_list(&client.scope)
        .unwrap_or_default()
        .iter()
        .any(|s| s.name == "introspect_oauth_tokens" && s.project == project && s.store.is_none())
}
