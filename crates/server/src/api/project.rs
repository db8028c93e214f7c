//! Project routes: `GET|HEAD|POST /{projectKey}` (`project-settings.md` §1). Scopes
//! `view_project_settings` (reads; implied by `manage_project_settings`) and
//! `manage_project_settings` (updates), or `manage_project`.
//!
//! The handlers extract (scope first), call `service::project` and shape the response; no
//! rules and no SQL.

use super::request::{actor, json_body, presence};
use crate::auth::{Authorized, Requirement};
use crate::error::ApiError;
use crate::service::project::{self, ProjectUpdate};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

/// Read access to the project settings (`view_project_settings`, implied by
/// `manage_project_settings`).
pub struct ViewProjectSettings;
impl Requirement for ViewProjectSettings {
    const ANY_OF: &'static [&'static str] = &["view_project_settings", "manage_project_settings"];
    const MISSING: &'static str = "view_project_settings";
}

/// Write access to the project settings (`manage_project_settings`).
pub struct ManageProjectSettings;
impl Requirement for ManageProjectSettings {
    const ANY_OF: &'static [&'static str] = &["manage_project_settings"];
    const MISSING: &'static str = "manage_project_settings";
}

/// Project routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/{project}", get(get_project).head(head).post(update))
}

/// The route catches every one-segment path: a valid token meeting a project that does not
/// exist answers the same 404 as any unknown path, not 403; without a valid token the
/// answer stays 401, so existence is not shown to anonymous callers.
async fn authorized<R: Requirement>(
    auth: Result<Authorized<R>, ApiError>,
    state: &AppState,
    project: &str,
) -> Result<Authorized<R>, ApiError> {
    match auth {
        Err(ApiError::InsufficientScope { .. }) if !project::exists(state, project).await? => Err(
            ApiError::ResourceNotFound("The requested resource was not found.".to_owned()),
        ),
        other => other,
    }
}

/// `GET /{p}`.
async fn get_project(
    auth: Result<Authorized<ViewProjectSettings>, ApiError>,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let auth = authorized(auth, &state, &key).await?;
    Ok(Json(
        project::get(&state, &auth.project_key).await?.to_json(),
    ))
}

/// `HEAD /{p}`: 200 when the project exists, 404 otherwise.
async fn head(
    auth: Result<Authorized<ViewProjectSettings>, ApiError>,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    let auth = authorized(auth, &state, &key).await?;
    Ok(presence(project::exists(&state, &auth.project_key).await?))
}

/// `POST /{p}`: `{version, actions}`.
async fn update(
    auth: Result<Authorized<ManageProjectSettings>, ApiError>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let auth = authorized(auth, &state, &key).await?;
    let update: ProjectUpdate = json_body(body)?;
    let updated = project::update(&state, &auth.project_key, &actor(&auth), update).await?;
    Ok(Json(updated.to_json()))
}
