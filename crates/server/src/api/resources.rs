//! The routes every resource of the generic table serves alike (Customer Groups, Stores,
//! Types): `/{projectKey}/{resources}` and `/{projectKey}/{resources}/{id}` | `/key={key}` —
//! create, get/HEAD, query, update, delete.
//!
//! Each resource plugs in through [`ResourceKind`] (its path, its scopes, its query schema) and
//! [`ManagedResource`] (its own create and update use cases). The handlers here extract (scope first), call the
//! resource's service or `service::resources` and shape the response; no rules and no SQL.

use super::params::QueryParams;
use super::request::{
    actor, custom_types, expanded, expanded_page, expansions, json_body, predicate_with, presence,
    required_version, resource_query_with,
};
use crate::auth::{Authorized, Requirement};
use crate::error::ApiError;
use crate::json::AppJson;
use crate::service::resources::{self, ManagedResource, ResourceRef};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_query::schema::Schema;
use clientele_query::CustomFieldTypes;
use clientele_store::ResourceQuery;
use serde_json::Value;

/// A resource of the generic table served by the shared routes; its create and update use
/// cases are its [`ManagedResource`] ones.
pub trait ResourceKind: ManagedResource {
    /// The collection's path segment (`customer-groups`, `stores`, `types`).
    const PATH: &'static str;
    /// The `resourceTypeIds` entry of the Types that type this resource's custom fields in
    /// `where` and `sort`; `None` for a resource without Custom Fields.
    const CUSTOM_TYPE_ID: Option<&'static str>;
    /// The scope requirement of reads (`GET`, `HEAD`).
    type View: Requirement;
    /// The scope requirement of writes (create, update, delete).
    type Manage: Requirement;

    /// The query schema of `where` and `sort`.
    fn schema() -> Schema;

    /// The resource as responses show it (a Subscription masks its Destination's secrets);
    /// every handler here answers through it.
    fn shown(self) -> Self {
        self
    }
}

/// The routes of resource `K`.
pub fn router<K: ResourceKind>() -> Router<AppState> {
    Router::new()
        .route(
            &format!("/{{project}}/{}", K::PATH),
            get(query::<K>).head(head_collection::<K>).post(create::<K>),
        )
        .route(
            &format!("/{{project}}/{}/{{id_or_key}}", K::PATH),
            get(get_one::<K>)
                .head(head_one::<K>)
                .post(update::<K>)
                .delete(delete::<K>),
        )
}

/// The custom field types of `K`'s Types, read only when the request may name one.
async fn custom<K: ResourceKind>(
    state: &AppState,
    project: &str,
    params: &QueryParams,
) -> Result<CustomFieldTypes, ApiError> {
    match K::CUSTOM_TYPE_ID {
        Some(type_id) => custom_types(state, project, params, type_id).await,
        None => Ok(CustomFieldTypes::new()),
    }
}

/// `GET /{p}/{resources}`.
async fn query<K: ResourceKind>(
    auth: Authorized<K::View>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let custom = custom::<K>(&state, &auth.project_key, &params).await?;
    let query = resource_query_with(&params, &K::schema(), &custom)?;
    let paths = expansions(&params)?;
    let mut page = resources::query::<K>(&state, &auth.project_key, &query).await?;
    page.results = page.results.into_iter().map(K::shown).collect();
    expanded_page(&state, &auth.project_key, &page, &paths).await
}

/// `HEAD /{p}/{resources}[?where=…]`.
async fn head_collection<K: ResourceKind>(
    auth: Authorized<K::View>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let custom = custom::<K>(&state, &auth.project_key, &params).await?;
    let query = ResourceQuery {
        predicate: predicate_with(&params, &K::schema(), &custom)?,
        ..ResourceQuery::default()
    };
    let found = resources::any::<K>(&state, &auth.project_key, &query).await?;
    Ok(presence(found))
}

/// `POST /{p}/{resources}`: 201 with the new resource.
async fn create<K: ResourceKind>(
    auth: Authorized<K::Manage>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(draft): AppJson<K::Draft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let created = K::create(&state, &auth.project_key, &actor(&auth), draft)
        .await?
        .shown();
    let body = expanded(&state, &auth.project_key, &created, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `GET /{p}/{resources}/{id}` and `/key={key}`.
async fn get_one<K: ResourceKind>(
    auth: Authorized<K::View>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let resource = resources::get::<K>(&state, &auth.project_key, &target)
        .await?
        .shown();
    expanded(&state, &auth.project_key, &resource, &paths).await
}

/// `HEAD /{p}/{resources}/{id}` and `/key={key}`.
async fn head_one<K: ResourceKind>(
    auth: Authorized<K::View>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let target = ResourceRef::parse(&segment);
    let found = resources::find::<K>(&state, &auth.project_key, &target).await?;
    Ok(presence(found.is_some()))
}

/// `POST /{p}/{resources}/{id}` and `/key={key}`: `{version, actions}`.
async fn update<K: ResourceKind>(
    auth: Authorized<K::Manage>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let update: K::Update = json_body(body)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let target = ResourceRef::parse(&segment);
    let updated = K::update(&state, &auth.project_key, &actor(&auth), &target, update)
        .await?
        .shown();
    expanded(&state, &auth.project_key, &updated, &paths).await
}

/// `DELETE /{p}/{resources}/{id}?version=N` and `/key={key}`: 400 `ReferenceExists` while
/// something still references the resource.
async fn delete<K: ResourceKind>(
    auth: Authorized<K::Manage>,
    State(state): State<AppState>,
    Path((_, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let paths = expansions(&params)?;
    let target = ResourceRef::parse(&segment);
    let deleted = resources::delete::<K>(&state, &auth.project_key, &target, version)
        .await?
        .shown();
    expanded(&state, &auth.project_key, &deleted, &paths).await
}
