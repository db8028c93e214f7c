//! Project routes: `GET|HEAD|POST /{projectKey}` (`project-settings.md` §1). Scopes
//! `view_project_settings` (reads; implied by `manage_project_settings`) and
//! `manage_project_settings` (updates), or `manage_project`.
//!
//! The handlers extract (scope first), call `service::project` and shape the response; no
//! rules and no SQL.

use super::customers::{actor, json_body, presence};
use crate::auth::{Authorized, Requirement};
use crate::error::ApiError;
use crate::service::project::{self, ProjectUpdate};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
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

/// `GET /{p}`.
async fn get_project(
    auth: Authorized<ViewProjectSettings>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        project::get(&state, &auth.project_key).await?.to_json(),
    ))
}

/// `HEAD /{p}`: 200 when the project exists, 404 otherwise.
async fn head(
    auth: Authorized<ViewProjectSettings>,
    State(state): State<AppState>,
) -> Result<StatusCode, ApiError> {
    Ok(presence(project::exists(&state, &auth.project_key).await?))
}

/// `POST /{p}`: `{version, actions}`.
async fn update(
    auth: Authorized<ManageProjectSettings>,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let update: ProjectUpdate = json_body(body)?;
    let updated = project::update(&state, &auth.project_key, &actor(&auth), update).await?;
    Ok(Json(updated.to_json()))
}
