//! Type routes: `/{projectKey}/types` and
//! `/{projectKey}/types/{id}` | `/key={key}` — create, get/HEAD, query, update,
//! delete. Scopes `view_types` / `manage_types` (or `manage_project`).
//!
//! Handlers extract (scope first), call `service::types` / `service::resources`
//! and shape the response; no rules and no SQL here.

use super::customer_groups::presence;
use super::customers::{
    expanded, expanded_page, expansions, json_body, predicate, required_version, resource_query,
};
use super::params::QueryParams;
use crate::auth::{Authorized, ManageTypes, Requirement, ViewTypes};
use crate::error::ApiError;
use crate::json::AppJson;
use crate::service::resources::{self, ResourceRef};
use crate::service::types::{self as service, TypeUpdate};
use crate::service::Actor;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_domain::{Type, TypeDraft};
use clientele_query::schema::type_schema;
use clientele_store::ResourceQuery;
use serde_json::Value;

/// Type routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{project}/types",
            get(query_types).head(head_types).post(create_type),
        )
        .route(
            "/{project}/types/{id_or_key}",
            get(get_type)
                .head(head_type)
                .post(update_type)
                .delete(delete_type),
        )
}

fn actor<R: Requirement>(auth: &Authorized<R>) -> Actor {
    Actor {
        client_id: auth.client_id.clone(),
    }
}

/// `GET /{p}/types`.
async fn query_types(
    auth: Authorized<ViewTypes>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = resource_query(&params, &type_schema())?;
    let paths = expansions(&params)?;
    let page = resources::query::<Type>(&state, &auth.project_key, &query).await?;
    expanded_page(&state, &auth.project_key, &page, &paths).await
}

/// `HEAD /{p}/types[?where=…]`.
async fn head_types(
    auth: Authorized<ViewTypes>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = ResourceQuery {
        predicate: predicate(&params, &type_schema())?,
        ..ResourceQuery::default()
    };
    let found = resources::any::<Type>(&state, &auth.project_key, &query).await?;
    Ok(presence(found))
}

/// `POST /{p}/types`: 201 with the Type.
async fn create_type(
    auth: Authorized<ManageTypes>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(draft): AppJson<TypeDraft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let t = service::create(&state, &auth.project_key, &actor(&auth), draft).await?;
    let body = expanded(&state, &auth.project_key, &t, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `GET /{p}/types/{id}` and `/key={key}`.
async fn get_type(
    auth: Authorized<ViewTypes>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let t: Type = resources::get(&state, &auth.project_key, &target).await?;
    expanded(&state, &auth.project_key, &t, &paths).await
}

/// `HEAD /{p}/types/{id}` and `/key={key}`.
async fn head_type(
    auth: Authorized<ViewTypes>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let target = ResourceRef::parse(&segment);
    let found = resources::find::<Type>(&state, &auth.project_key, &target).await?;
    Ok(presence(found.is_some()))
}

/// `POST /{p}/types/{id}` and `/key={key}`: `{version, actions}`.
async fn update_type(
    auth: Authorized<ManageTypes>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let update: TypeUpdate = json_body(body)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let t = service::update(&state, &auth.project_key, &actor(&auth), &target, update).await?;
    expanded(&state, &auth.project_key, &t, &paths).await
}

/// `DELETE /{p}/types/{id}?version=N` and `/key={key}`.
async fn delete_type(
    auth: Authorized<ManageTypes>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let paths = expansions(&params)?;
    let target = ResourceRef::parse(&segment);
    let t: Type = resources::delete(&state, &auth.project_key, &target, version).await?;
    expanded(&state, &auth.project_key, &t, &paths).await
}
