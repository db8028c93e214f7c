//! The HTTP surface: one router for the API (`/{projectKey}/…`), the OAuth endpoints and the
//! health check, with commercetools-shaped errors for unknown paths and methods.

pub mod credentials;
pub mod customer_groups;
pub mod customers;
pub mod health;
pub mod messages;
pub mod params;
pub mod project;
pub mod resources;
pub mod stores;
pub mod types;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;

/// The whole application router.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .merge(health::router())
        .merge(crate::auth::oauth::router())
        .merge(customers::router())
        .merge(credentials::router())
        .merge(messages::router())
        .merge(customer_groups::router())
        .merge(types::router())
        .merge(stores::router())
        .merge(project::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::ResourceNotFound("The requested resource was not found.".to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
