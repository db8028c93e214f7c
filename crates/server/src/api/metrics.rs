//! The `GET /-/metrics` route: samples the pool and hashing gauges from the state and answers
//! with the registry of `crate::metrics` in the Prometheus text format. No counting here.

use crate::metrics::TEXT_FORMAT;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The `/-/metrics` route. Unauthenticated like `/-/health`: it carries no customer data, and
/// operators usually restrict `/-/` paths at the load balancer.
pub fn router() -> Router<AppState> {
    Router::new().route("/-/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state
        .metrics
        .render(state.store.pool_stats(), state.hasher.occupancy())
    {
        Ok(text) => ([(CONTENT_TYPE, TEXT_FORMAT)], text).into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "encoding metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
