//! Store routes: `/{projectKey}/stores` and `/{projectKey}/stores/{id}` | `/key={key}` —
//! create, get/HEAD, query, update (setName, setLanguages, setCountries, setCustomType,
//! setCustomField), delete (refused while customers belong to the Store). Scopes
//! `view_stores` / `manage_stores` (or `manage_project`).
//!
//! Handlers extract (scope first), call `service::stores` / `service::resources` and shape the
//! response; no rules and no SQL here.

use super::customer_groups::presence;
use super::customers::{
    custom_types, expanded, expanded_page, expansions, json_body, predicate_with, required_version,
    resource_query_with,
};
use super::params::QueryParams;
use crate::auth::{Authorized, ManageStores, Requirement, ViewStores};
use crate::error::ApiError;
use crate::json::AppJson;
use crate::service::resources::{self, ResourceRef};
use crate::service::stores::{self as service, StoreUpdate};
use crate::service::Actor;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_domain::resolve::STORE;
use clientele_domain::{Store, StoreDraft};
use clientele_query::schema::store_schema;
use clientele_store::ResourceQuery;
use serde_json::Value;

/// Store routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{project}/stores",
            get(query_stores).head(head_stores).post(create_store),
        )
        .route(
            "/{project}/stores/{id_or_key}",
            get(get_store)
                .head(head_store)
                .post(update_store)
                .delete(delete_store),
        )
}

fn actor<R: Requirement>(auth: &Authorized<R>) -> Actor {
    Actor {
        client_id: auth.client_id.clone(),
    }
}

/// `GET /{p}/stores`.
async fn query_stores(
    auth: Authorized<ViewStores>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let custom = custom_types(&state, &auth.project_key, &params, STORE).await?;
    let query = resource_query_with(&params, &store_schema(), &custom)?;
    let paths = expansions(&params)?;
    let page = resources::query::<Store>(&state, &auth.project_key, &query).await?;
    expanded_page(&state, &auth.project_key, &page, &paths).await
}

/// `HEAD /{p}/stores[?where=…]`.
async fn head_stores(
    auth: Authorized<ViewStores>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let custom = custom_types(&state, &auth.project_key, &params, STORE).await?;
    let query = ResourceQuery {
        predicate: predicate_with(&params, &store_schema(), &custom)?,
        ..ResourceQuery::default()
    };
    let found = resources::any::<Store>(&state, &auth.project_key, &query).await?;
    Ok(presence(found))
}

/// `POST /{p}/stores`: 201 with the Store.
async fn create_store(
    auth: Authorized<ManageStores>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(draft): AppJson<StoreDraft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let store = service::create(&state, &auth.project_key, &actor(&auth), draft).await?;
    let body = expanded(&state, &auth.project_key, &store, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `GET /{p}/stores/{id}` and `/key={key}`.
async fn get_store(
    auth: Authorized<ViewStores>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let store: Store = resources::get(&state, &auth.project_key, &target).await?;
    expanded(&state, &auth.project_key, &store, &paths).await
}

/// `HEAD /{p}/stores/{id}` and `/key={key}`.
async fn head_store(
    auth: Authorized<ViewStores>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let target = ResourceRef::parse(&segment);
    let found = resources::find::<Store>(&state, &auth.project_key, &target).await?;
    Ok(presence(found.is_some()))
}

/// `POST /{p}/stores/{id}` and `/key={key}`: `{version, actions}`.
async fn update_store(
    auth: Authorized<ManageStores>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let update: StoreUpdate = json_body(body)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let store = service::update(&state, &auth.project_key, &actor(&auth), &target, update).await?;
    expanded(&state, &auth.project_key, &store, &paths).await
}

/// `DELETE /{p}/stores/{id}?version=N` and `/key={key}`: 400 `ReferenceExists` while a
/// customer belongs to the Store.
async fn delete_store(
    auth: Authorized<ManageStores>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let paths = expansions(&params)?;
    let target = ResourceRef::parse(&segment);
    let store: Store = resources::delete(&state, &auth.project_key, &target, version).await?;
    expanded(&state, &auth.project_key, &store, &paths).await
}
