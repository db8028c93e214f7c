//! Customer Group routes: `/{projectKey}/customer-groups` and
//! `/{projectKey}/customer-groups/{id}` | `/key={key}` — create, get/HEAD, query, update,
//! delete. Scopes `view_customer_groups` / `manage_customer_groups` (or `manage_project`).
//!
//! Handlers extract (scope first), call `service::customer_groups` / `service::resources`
//! and shape the response; no rules and no SQL here.

use super::customers::{
    custom_types, expanded, expanded_page, expansions, json_body, predicate_with, required_version,
    resource_query_with,
};
use super::params::QueryParams;
use crate::auth::{Authorized, ManageCustomerGroups, Requirement, ViewCustomerGroups};
use crate::error::ApiError;
use crate::json::AppJson;
use crate::service::customer_groups::{self as service, CustomerGroupUpdate};
use crate::service::resources::{self, ResourceRef};
use crate::service::Actor;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_domain::{CustomerGroup, CustomerGroupDraft};
use clientele_query::schema::customer_group_schema;
use clientele_store::ResourceQuery;
use serde_json::Value;

/// The `resourceTypeIds` entry of Types customer groups can use (types their custom fields in
/// `where` and `sort`).
const GROUP_TYPE_ID: &str = "customer-group";

/// Customer Group routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{project}/customer-groups",
            get(query_groups).head(head_groups).post(create_group),
        )
        .route(
            "/{project}/customer-groups/{id_or_key}",
            get(get_group)
                .head(head_group)
                .post(update_group)
                .delete(delete_group),
        )
}

fn actor<R: Requirement>(auth: &Authorized<R>) -> Actor {
    Actor {
        client_id: auth.client_id.clone(),
    }
}

/// `GET /{p}/customer-groups`.
async fn query_groups(
    auth: Authorized<ViewCustomerGroups>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let custom = custom_types(&state, &auth.project_key, &params, GROUP_TYPE_ID).await?;
    let query = resource_query_with(&params, &customer_group_schema(), &custom)?;
    let paths = expansions(&params)?;
    let page = resources::query::<CustomerGroup>(&state, &auth.project_key, &query).await?;
    expanded_page(&state, &auth.project_key, &page, &paths).await
}

/// `HEAD /{p}/customer-groups[?where=…]`.
async fn head_groups(
    auth: Authorized<ViewCustomerGroups>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let custom = custom_types(&state, &auth.project_key, &params, GROUP_TYPE_ID).await?;
    let query = ResourceQuery {
        predicate: predicate_with(&params, &customer_group_schema(), &custom)?,
        ..ResourceQuery::default()
    };
    let found = resources::any::<CustomerGroup>(&state, &auth.project_key, &query).await?;
    Ok(presence(found))
}

/// `POST /{p}/customer-groups`: 201 with the group.
async fn create_group(
    auth: Authorized<ManageCustomerGroups>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(draft): AppJson<CustomerGroupDraft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let group = service::create(&state, &auth.project_key, &actor(&auth), draft).await?;
    let body = expanded(&state, &auth.project_key, &group, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `GET /{p}/customer-groups/{id}` and `/key={key}`.
async fn get_group(
    auth: Authorized<ViewCustomerGroups>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let group: CustomerGroup = resources::get(&state, &auth.project_key, &target).await?;
    expanded(&state, &auth.project_key, &group, &paths).await
}

/// `HEAD /{p}/customer-groups/{id}` and `/key={key}`.
async fn head_group(
    auth: Authorized<ViewCustomerGroups>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let target = ResourceRef::parse(&segment);
    let found = resources::find::<CustomerGroup>(&state, &auth.project_key, &target).await?;
    Ok(presence(found.is_some()))
}

/// `POST /{p}/customer-groups/{id}` and `/key={key}`: `{version, actions}`.
async fn update_group(
    auth: Authorized<ManageCustomerGroups>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let update: CustomerGroupUpdate = json_body(body)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let group = service::update(&state, &auth.project_key, &actor(&auth), &target, update).await?;
    expanded(&state, &auth.project_key, &group, &paths).await
}

/// `DELETE /{p}/customer-groups/{id}?version=N` and `/key={key}`.
async fn delete_group(
    auth: Authorized<ManageCustomerGroups>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let paths = expansions(&params)?;
    let target = ResourceRef::parse(&segment);
    let group: CustomerGroup =
        resources::delete(&state, &auth.project_key, &target, version).await?;
    expanded(&state, &auth.project_key, &group, &paths).await
}

/// 200 or 404 without a body, as commercetools answers `HEAD`.
pub(crate) fn presence(found: bool) -> StatusCode {
    if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}
