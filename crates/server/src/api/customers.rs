//! Customer routes: `/{projectKey}/customers` and `/{projectKey}/customers/{id}` |
//! `/{projectKey}/customers/key={key}`, and their in-store twins under
//! `/{projectKey}/in-store/key={storeKey}/customers…`, served by the same handlers: the scope
//! extractor reads the Store from the path and the services take it as a `StoreContext`.
//!
//! Handlers extract (scope first, so a bad token is always 401/403 before anything else),
//! call `service::customers`, and shape the response. No SQL and no business rules here.
//!
//! The literal segments `password`, `password-token`, `email-token` and `email` have their own
//! routes in `api::credentials` (which sends their other methods back here), and
//! `GET …/customers/password-token=…` / `email-token=…` arrive here and are answered by
//! [`get_customer_by_token`]. Any other use of those segments is a customer that does not
//! exist (404). Shared request plumbing lives in `api::request`.

use super::params::QueryParams;
use super::request::{
    actor, customer_json_response, customer_page_response, customer_query, customer_ref, expanded,
    expanded_response, expanded_sign_in, expansions, id_or_key, json_body, presence,
    required_version, store_context, PathParams, Shape,
};
use crate::auth::{Authorized, ManageCustomers, ViewCustomers};
use crate::error::ApiError;
use crate::json::AppJson;
use crate::service::customers::{self as service};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clientele_domain::token::TokenKind;
use clientele_domain::{CustomerDraft, CustomerSignInResult, CustomerUpdate};
use clientele_store::ResourceQuery;
use serde_json::Value;

/// Customer routes, at project level and in a Store (`{store}` is `key={storeKey}`; the scope
/// extractor answers 404 for anything else there).
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/{project}", "/{project}/in-store/{store}"] {
        router = router
            .route(
                &format!("{prefix}/customers"),
                get(query_customers)
                    .head(head_customers)
                    .post(create_customer),
            )
            .route(
                &format!("{prefix}/customers/{{id_or_key}}"),
                get(get_customer)
                    .head(head_customer)
                    .post(update_customer)
                    .delete(delete_customer),
            );
    }
    router
}

/// `GET /{p}/customers`.
async fn query_customers(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = customer_query(&state, &auth.project_key, &params).await?;
    let paths = expansions(&params)?;
    let ctx = store_context(&auth);
    if paths.is_empty() {
        // Nothing to expand: stored JSON that is the response goes into the page as it is.
        let page = service::query_json(&state, &auth.project_key, &ctx, &query).await?;
        return customer_page_response(&page);
    }
    let page = service::query(&state, &auth.project_key, &ctx, &query).await?;
    expanded_response(&state, &auth.project_key, &page, &paths, Shape::Page).await
}

/// `HEAD /{p}/customers[?where=…]`: 200 if any customer matches.
async fn head_customers(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(raw.as_deref());
    let query = ResourceQuery {
        predicate: super::request::customer_predicate(&state, &auth.project_key, &params).await?,
        ..ResourceQuery::default()
    };
    let ctx = store_context(&auth);
    // HEAD has no body: an unknown Store is a bare 404 like no match.
    match service::any(&state, &auth.project_key, &ctx, &query).await {
        Ok(found) => Ok(presence(found)),
        Err(ApiError::ResourceNotFound(_)) => Ok(StatusCode::NOT_FOUND),
        Err(e) => Err(e),
    }
}

/// `POST /{p}/customers`: 201 with `{customer}`.
async fn create_customer(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(draft): AppJson<CustomerDraft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    let customer = service::create(&state, &auth.project_key, &ctx, &actor(&auth), draft).await?;
    let body = CustomerSignInResult { customer };
    let body = expanded_sign_in(&state, &auth.project_key, &body, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `GET /{p}/customers/{id}` and `/key={key}`.
pub(super) async fn get_customer(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    path: PathParams,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if let Some(token) = id_or_key(&path).and_then(token_segment) {
        return Ok(get_customer_by_token(&auth, &state, token, raw.as_deref())
            .await?
            .into_response());
    }
    let target = customer_ref(&path)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    if paths.is_empty() {
        // Nothing to expand: the stored JSON, when it is the response, goes out as it is.
        let customer = service::get_json(&state, &auth.project_key, &ctx, &target).await?;
        return customer_json_response(customer);
    }
    let customer = service::get(&state, &auth.project_key, &ctx, &target).await?;
    expanded_response(&state, &auth.project_key, &customer, &paths, Shape::One).await
}

/// `HEAD /{p}/customers/{id}` and `/key={key}`: bare 200 or 404.
pub(super) async fn head_customer(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    path: PathParams,
) -> Result<StatusCode, ApiError> {
    let Ok(target) = customer_ref(&path) else {
        return Ok(StatusCode::NOT_FOUND);
    };
    let ctx = store_context(&auth);
    // HEAD has no body: an unknown Store is a bare 404 like an unknown customer.
    match service::exists(&state, &auth.project_key, &ctx, &target).await {
        Ok(found) => Ok(presence(found)),
        Err(ApiError::ResourceNotFound(_)) => Ok(StatusCode::NOT_FOUND),
        Err(e) => Err(e),
    }
}

/// `POST /{p}/customers/{id}` and `/key={key}`: a `CustomerUpdate`.
async fn update_customer(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    path: PathParams,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let target = customer_ref(&path)?;
    let update: CustomerUpdate = json_body(body)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    let customer = service::update(
        &state,
        &auth.project_key,
        &ctx,
        &actor(&auth),
        &target,
        update,
    )
    .await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// `DELETE /{p}/customers/{id}?version=N[&dataErasure=true]` and `/key={key}`.
pub(super) async fn delete_customer(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    path: PathParams,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let target = customer_ref(&path)?;
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let data_erasure = params.bool("dataErasure", false)?;
    let paths = expansions(&params)?;
    let customer = service::delete(
        &state,
        &auth.project_key,
        &store_context(&auth),
        &actor(&auth),
        &target,
        version,
        data_erasure,
    )
    .await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// The token a `/customers/{segment}` names, if the segment is a token lookup
/// (`password-token=…` or `email-token=…`).
pub fn token_segment(segment: &str) -> Option<(TokenKind, &str)> {
    if let Some(value) = segment.strip_prefix("password-token=") {
        return Some((TokenKind::PasswordReset, value));
    }
    segment
        .strip_prefix("email-token=")
        .map(|value| (TokenKind::EmailVerification, value))
}

/// `GET /{p}/customers/password-token={value}` and `email-token={value}`: the token's customer
/// (`expand` supported). Reached through `GET /{p}/customers/{id}`, whose scope it shares.
pub async fn get_customer_by_token(
    auth: &Authorized<ViewCustomers>,
    state: &AppState,
    (kind, value): (TokenKind, &str),
    raw_query: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw_query))?;
    let ctx = store_context(auth);
    let customer =
        crate::service::credentials::customer_by_token(state, &auth.project_key, &ctx, kind, value)
            .await?;
    expanded(state, &auth.project_key, &customer, &paths).await
}
