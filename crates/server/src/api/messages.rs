//! Message routes: `GET|HEAD /{projectKey}/messages` and `GET|HEAD /{projectKey}/messages/{id}`,
//! all needing `view_messages` (or `manage_project`). Read-only: Messages are written by the
//! customer services together with the change they record.

use super::params::QueryParams;
use super::request::{expanded, expanded_page, expansions, predicate, resource_query};
use crate::auth::{Authorized, ViewMessages};
use crate::error::ApiError;
use crate::service::messages as service;
use crate::state::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_query::schema::message_schema;
use clientele_store::ResourceQuery;
use serde_json::Value;

/// Message routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{project}/messages",
            get(query_messages).head(head_messages),
        )
        .route(
            "/{project}/messages/{id}",
            get(get_message).head(head_message),
        )
}

/// The `{id}` segment; one that does not decode cannot name a message.
fn message_id(path: Result<Path<(String, String)>, PathRejection>) -> Option<String> {
    path.ok().map(|Path((_, id))| id)
}

/// `GET /{p}/messages`.
async fn query_messages(
    auth: Authorized<ViewMessages>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = resource_query(&params, &message_schema())?;
    let paths = expansions(&params)?;
    let page = service::query(&state, &auth.project_key, &query).await?;
    expanded_page(&state, &auth.project_key, &page, &paths).await
}

/// `HEAD /{p}/messages[?where=…]`: 200 if any message matches.
async fn head_messages(
    auth: Authorized<ViewMessages>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = ResourceQuery {
        predicate: predicate(&params, &message_schema())?,
        ..ResourceQuery::default()
    };
    let found = service::any(&state, &auth.project_key, &query).await?;
    Ok(if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

/// `GET /{p}/messages/{id}`.
async fn get_message(
    auth: Authorized<ViewMessages>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id = message_id(path).ok_or_else(|| {
        ApiError::ResourceNotFound("The requested resource was not found.".to_owned())
    })?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let message = service::get(&state, &auth.project_key, &id).await?;
    expanded(&state, &auth.project_key, &message, &paths).await
}

/// `HEAD /{p}/messages/{id}`: bare 200 or 404.
async fn head_message(
    auth: Authorized<ViewMessages>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Some(id) = message_id(path) else {
        return Ok(StatusCode::NOT_FOUND);
    };
    let found = service::exists(&state, &auth.project_key, &id).await?;
    Ok(if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}
