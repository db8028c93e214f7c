//! Customer Search routes (`customer-search.md` §2): `POST|HEAD /{p}/customers/search`
//! (`view_customers`) and `GET /{p}/customers/search/indexing-status`
//! (`view_project_settings`). No in-store variant exists. Other methods on these paths answer
//! as `/customers/{id}` does for an id that cannot exist.
//!
//! Handlers extract (scope first), call `service::search` and shape the response; no rules and
//! no SQL.

use super::customers;
use super::project::ViewProjectSettings;
use super::request::json_body;
use crate::auth::{Authorized, ViewCustomers};
use crate::error::ApiError;
use crate::service::search as service;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

/// Customer Search routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{project}/customers/search",
            post(search)
                .head(head)
                .get(customers::get_customer)
                .delete(customers::delete_customer),
        )
        .route(
            "/{project}/customers/search/indexing-status",
            get(indexing_status),
        )
}

/// `POST /{p}/customers/search`: `CustomerSearchRequest` → `CustomerPagedSearchResponse`.
async fn search(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: Value = json_body(body)?;
    Ok(Json(
        service::search(&state, &auth.project_key, &body).await?,
    ))
}

/// `HEAD /{p}/customers/search`: 200 when search is operational, 409 (no body) otherwise.
async fn head(
    auth: Authorized<ViewCustomers>,
    State(state): State<AppState>,
) -> Result<StatusCode, ApiError> {
    Ok(if service::is_ready(&state, &auth.project_key).await? {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    })
}

/// `GET /{p}/customers/search/indexing-status`.
async fn indexing_status(
    auth: Authorized<ViewProjectSettings>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::indexing_status(&state, &auth.project_key).await?,
    ))
}
