//! Subscription routes: `/{projectKey}/subscriptions` and `/{projectKey}/subscriptions/{id}` |
//! `/key={key}` — create, get/HEAD, query, update, delete, all under `manage_subscriptions`
//! (or `manage_project`) — and `GET /{projectKey}/subscriptions/{id}/health`, which needs no
//! token and answers with its status code (200 Healthy, 400 configuration errors, 503
//! TemporaryError).
//!
//! The collection handlers are the shared ones of `api::resources`; this module plugs in the
//! scopes, the query schema and the masking of Destination secrets on every response.

use super::resources::{self, ResourceKind};
use crate::auth::ManageSubscriptions;
use crate::error::ApiError;
use crate::service::subscriptions;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clientele_domain::{Subscription, SubscriptionHealthStatus};
use clientele_query::schema::{subscription_schema, Schema};
use serde_json::{json, Value};

/// Subscription routes.
pub fn router() -> Router<AppState> {
    resources::router::<Subscription>().route("/{project}/subscriptions/{id}/health", get(health))
}

impl ResourceKind for Subscription {
    const PATH: &'static str = "subscriptions";
    const CUSTOM_TYPE_ID: Option<&'static str> = None;
    type View = ManageSubscriptions;
    type Manage = ManageSubscriptions;

    fn schema() -> Schema {
        subscription_schema()
    }

    fn shown(self) -> Self {
        self.masked()
    }
}

/// `GET /{p}/subscriptions/{id}/health`: no authorization; the status code is the answer (the
/// body repeats the status for people reading it).
async fn health(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let status = subscriptions::health(&state, &project, &id).await?;
    let code = match status {
        SubscriptionHealthStatus::Healthy => StatusCode::OK,
        SubscriptionHealthStatus::TemporaryError => StatusCode::SERVICE_UNAVAILABLE,
        SubscriptionHealthStatus::ConfigurationError
        | SubscriptionHealthStatus::ConfigurationErrorDeliveryStopped
        | SubscriptionHealthStatus::ManuallySuspended => StatusCode::BAD_REQUEST,
    };
    Ok((code, Json(json!({ "status": status.as_str() }))))
}
