//! Per-request observation: a request id (the caller's `X-Correlation-ID` when it is a sane
//! token, else a new UUID) returned in the response's `X-Correlation-ID`, a `request` span
//! carrying it around everything the request logs, one log line per answered request, and the
//! request's count and latency in [`crate::metrics`].
//!
//! What it logs is the method, the route *template*, the status and the latency: never the
//! path (it holds keys and ids), the query string (`where` may hold emails), a header (bearer
//! tokens, Basic credentials) or a body (passwords). It must not read bodies.

use crate::metrics::UNMATCHED_ROUTE;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

/// The header commercetools SDKs send and the server echoes.
pub const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// Longest caller-supplied correlation id kept; longer ones are replaced by a generated one.
const MAX_CORRELATION_ID: usize = 256;

/// The caller's correlation id if it is 1..=256 characters of `[A-Za-z0-9._:/-]` (the SDKs send
/// `{projectKey}/{uuid}`); anything else could smuggle line breaks or data into logs.
fn accepted_correlation_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(&CORRELATION_ID)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= MAX_CORRELATION_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-'));
    sane.then(|| value.to_owned())
}

/// The middleware (installed with `Router::layer`, so it runs after routing and sees the
/// matched route template).
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let request_id =
        accepted_correlation_id(request.headers()).unwrap_or_else(|| state.random.uuid());
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state
        .metrics
        .observe_request(&method, &route, status, seconds);
    span.in_scope(|| {
        tracing::info!(status, latency_ms = seconds * 1000.0, "answered");
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(CORRELATION_ID, value);
    }
    response
}
