//! Customer routes (project level): `/{projectKey}/customers` and
//! `/{projectKey}/customers/{id}` | `/{projectKey}/customers/key={key}`.
//!
//! Handlers extract (scope first, so a bad token is always 401/403 before anything else),
//! call `service::customers`, and shape the response. No SQL and no business rules here.
//!
//! The literal segments `password`, `password-token`, `email-token` and `email` have their own
//! routes in `api::credentials` (which sends their other methods back here), and
//! `GET …/customers/password-token=…` / `email-token=…` arrive here and are handed over to it.
//! Any other use of those segments is a customer that does not exist (404).

use super::params::QueryParams;
use crate::auth::{Authorized, ManageCustomers, ViewCustomers};
use crate::error::ApiError;
use crate::json::{parse_json, AppJson};
use crate::service::customers::{self as service, CustomerRef};
use crate::service::expand;
use crate::service::Actor;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_domain::{CustomerDraft, CustomerSignInResult, CustomerUpdate, PagedQueryResponse};
use clientele_query::schema::{customer_schema, Schema};
use clientele_query::ExpandPath;
use clientele_store::ResourceQuery;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Customer routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{project}/customers",
            get(query_customers)
                .head(head_customers)
                .post(create_customer),
        )
        .route(
            "/{project}/customers/{id_or_key}",
            get(get_customer)
                .head(head_customer)
                .post(update_customer)
                .delete(delete_customer),
        )
}

/// Segments under `/customers/` reserved for the credentials endpoints.
const RESERVED: &[&str] = &["password", "password-token", "email-token", "email"];
/// Segment prefixes reserved for the token lookups of the credentials endpoints.
const RESERVED_PREFIXES: &[&str] = &["password-token=", "email-token="];

/// Reads the `{id_or_key}` segment: `key=…` names a key, anything else an id. Reserved
/// segments and ids that are not UUIDs cannot name a customer and give the 404 at once, so a
/// request to them never gets as far as parsing its body.
pub fn customer_ref(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<CustomerRef, ApiError> {
    // A segment that does not even decode (invalid UTF-8) cannot name a customer either.
    let Ok(Path((_, segment))) = path else {
        return Err(ApiError::ResourceNotFound(
            "The requested resource was not found.".to_owned(),
        ));
    };
    if let Some(key) = segment.strip_prefix("key=") {
        return Ok(CustomerRef::Key(key.to_owned()));
    }
    let reserved = RESERVED.contains(&segment.as_str())
        || RESERVED_PREFIXES.iter().any(|p| segment.starts_with(p));
    if reserved || uuid::Uuid::parse_str(&segment).is_err() {
        return Err(ApiError::not_found_id(&segment));
    }
    Ok(CustomerRef::Id(segment))
}

/// Parses a body read as bytes, with the same errors as [`AppJson`] (413 over the limit,
/// `InvalidJsonInput` otherwise).
pub fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::ContentTooLarge
        } else {
            ApiError::InvalidJsonInput {
                detail: e.body_text(),
            }
        }
    })?;
    parse_json(&bytes)
}

/// The parsed `expand` parameters (none → empty). Only the syntax is checked here; paths
/// that lead nowhere are skipped when the response is expanded, as commercetools does.
pub fn expansions(params: &QueryParams) -> Result<Vec<ExpandPath>, ApiError> {
    Ok(clientele_query::parse_expand(&params.all("expand"))?)
}

/// `body` as JSON with `paths` expanded in it.
pub async fn expanded<T: Serialize>(
    state: &AppState,
    project: &str,
    body: &T,
    paths: &[ExpandPath],
) -> Result<Json<Value>, ApiError> {
    let mut value = to_json(body)?;
    if !paths.is_empty() {
        expand::expand(state, project, &mut value, paths).await?;
    }
    Ok(Json(value))
}

/// A paged response as JSON with `paths` expanded in every result.
pub async fn expanded_page<T: Serialize>(
    state: &AppState,
    project: &str,
    page: &PagedQueryResponse<T>,
    paths: &[ExpandPath],
) -> Result<Json<Value>, ApiError> {
    let mut value = to_json(page)?;
    expand::expand_page(state, project, &mut value, paths).await?;
    Ok(Json(value))
}

fn to_json<T: Serialize>(body: &T) -> Result<Value, ApiError> {
    serde_json::to_value(body).map_err(|e| ApiError::Internal(format!("serialize response: {e}")))
}

/// The `where` predicate of a request (all `where` parameters ANDed, `var.*` bound), if any.
pub fn predicate(
    params: &QueryParams,
    schema: &Schema,
) -> Result<Option<clientele_query::Predicate>, ApiError> {
    let wheres = params.all("where");
    if wheres.is_empty() {
        return Ok(None);
    }
    Ok(Some(clientele_query::parse_where(
        &wheres,
        &params.vars(),
        schema,
    )?))
}

/// A collection query from the query string: paging, `withTotal`, `where`, `sort` (`expand`
/// is applied to the response, see [`expansions`]).
pub fn resource_query(params: &QueryParams, schema: &Schema) -> Result<ResourceQuery, ApiError> {
    let limit = params.limit()?;
    let offset = params.offset()?;
    let with_total = params.bool("withTotal", true)?;
    let predicate = predicate(params, schema)?;
    let sort = clientele_query::parse_sort(&params.all("sort"), schema)?;
    Ok(ResourceQuery {
        predicate,
        sort,
        limit,
        offset,
        with_total,
        store: None,
    })
}

/// The `Actor` of a request: the API client behind its token.
pub(super) fn actor<R: crate::auth::Requirement>(auth: &Authorized<R>) -> Actor {
    Actor {
        client_id: auth.client_id.clone(),
    }
}

/// 200 or 404 without a body, as commercetools answers `HEAD`.
fn presence(found: bool) -> StatusCode {
    if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// `GET /{p}/customers`.
async fn query_customers(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = resource_query(&params, &customer_schema())?;
    let paths = expansions(&params)?;
    let page = service::query(&state, &auth.project_key, &query).await?;
    expanded_page(&state, &auth.project_key, &page, &paths).await
}

/// `HEAD /{p}/customers[?where=…]`: 200 if any customer matches.
async fn head_customers(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = ResourceQuery {
        predicate: predicate(&params, &customer_schema())?,
        ..ResourceQuery::default()
    };
    Ok(presence(
        service::any(&state, &auth.project_key, &query).await?,
    ))
}

/// `POST /{p}/customers`: 201 with `{customer}`.
async fn create_customer(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(draft): AppJson<CustomerDraft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let customer = service::create(&state, &auth.project_key, &actor(&auth), draft).await?;
    let body = CustomerSignInResult { customer };
    let body = expanded(&state, &auth.project_key, &body, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `GET /{p}/customers/{id}` and `/key={key}`.
pub(super) async fn get_customer(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    if let Ok(Path((_, segment))) = &path {
        if let Some(token) = super::credentials::token_segment(segment) {
            return super::credentials::get_customer_by_token(&auth, &state, token, raw.as_deref())
                .await;
        }
    }
    let target = customer_ref(path)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let customer = service::get(&state, &auth.project_key, &target).await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// `HEAD /{p}/customers/{id}` and `/key={key}`: bare 200 or 404.
pub(super) async fn head_customer(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Ok(target) = customer_ref(path) else {
        return Ok(StatusCode::NOT_FOUND);
    };
    Ok(presence(
        service::exists(&state, &auth.project_key, &target).await?,
    ))
}

/// `POST /{p}/customers/{id}` and `/key={key}`: a `CustomerUpdate`.
async fn update_customer(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let target = customer_ref(path)?;
    let update: CustomerUpdate = json_body(body)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let customer =
        service::update(&state, &auth.project_key, &actor(&auth), &target, update).await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// `DELETE /{p}/customers/{id}?version=N[&dataErasure=true]` and `/key={key}`.
pub(super) async fn delete_customer(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let target = customer_ref(path)?;
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let data_erasure = params.bool("dataErasure", false)?;
    let paths = expansions(&params)?;
    let customer = service::delete(
        &state,
        &auth.project_key,
        &actor(&auth),
        &target,
        version,
        data_erasure,
    )
    .await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// The `version` query parameter a `DELETE` must carry.
pub fn required_version(params: &QueryParams) -> Result<i64, ApiError> {
    let raw = params.get("version").ok_or_else(|| {
        ApiError::InvalidInput("Missing required query parameter 'version'.".to_owned())
    })?;
    raw.trim().parse().map_err(|_| {
        ApiError::InvalidInput(format!(
            "Malformed parameter: version: '{raw}' is not an integer."
        ))
    })
}
