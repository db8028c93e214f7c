//! The HTTP surface: one router for the API (`/{projectKey}/…`), the OAuth endpoints and the
//! health check, with commercetools-shaped errors for unknown paths and methods.

pub mod credentials;
pub mod customer_groups;
pub mod customers;
pub mod health;
pub mod me;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod project;
pub mod request;
pub mod resources;
pub mod search;
pub mod stores;
pub mod subscriptions;
pub mod types;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// The whole application router.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .merge(health::router())
        .merge(crate::auth::oauth::router())
        .merge(crate::auth::session::router())
        .merge(me::router())
        .merge(search::router())
        .merge(customers::router())
        .merge(credentials::router())
        .merge(messages::router())
        .merge(customer_groups::router())
        .merge(types::router())
        .merge(stores::router())
        .merge(subscriptions::router())
        .merge(crate::admin::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .merge(project::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(refuse_nul))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        // Router::layer wraps every route after routing, so the route template is known.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::observe::observe,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::ResourceNotFound("The requested resource was not found.".to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A NUL character (`%00`) cannot be in any stored id, key or value (PostgreSQL text cannot
/// hold it; drafts refuse it), so both backends answer alike without asking the store: in the
/// path the resource is simply not found (404), in a query parameter it is 400 `InvalidInput`
/// naming the parameter.
async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path_has_nul = percent_decoded_has_nul(uri.path().as_bytes());
    if path_has_nul {
        return not_found().await.into_response();
    }
    if let Some(query) = uri.query() {
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            let name = name.replace('\0', "\\u0000");
            return ApiError::invalid_input(format!(
                "Malformed parameter: {name}: the value contains the NUL character (U+0000)."
            ))
            .into_response();
        }
    }
    next.run(request).await
}

/// Whether `%00` (or a raw NUL) is in a percent-encoded path.
fn percent_decoded_has_nul(path: &[u8]) -> bool {
    path.contains(&0) || path.windows(3).any(|w| w == b"%00")
}
