//! Project use cases behind `GET|HEAD|POST /{projectKey}`: read the Project resource, and
//! update it (parse actions → check version → apply the domain's pure actions → save at the
//! expected version). The rules live in `clientele_domain::project_settings`; the Store-language
//! guard in the store's update transaction. Must not parse HTTP or talk SQL.

use super::Actor;
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::{parse_project_action, ProjectRecord};
use clientele_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

/// The body of `POST /{p}`. Actions stay JSON until the use case reads them, so an action
/// commercetools has but Clientele lacks is reported by name.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectUpdate {
    /// Must equal the Project's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<Value>,
}

/// The Project resource of `key`, or 404.
pub async fn get(state: &AppState, key: &str) -> Result<ProjectRecord, ApiError> {
    state
        .store
        .get_project_record(key)
        .await?
        .ok_or_else(|| not_found(key))
}

/// Whether the project exists.
pub async fn exists(state: &AppState, key: &str) -> Result<bool, ApiError> {
    Ok(state.store.get_project_record(key).await?.is_some())
}

/// Applies `update` to the project `key`; the updated resource (unchanged, same version, when
/// no action changed anything).
pub async fn update(
    state: &AppState,
    key: &str,
    actor: &Actor,
    update: ProjectUpdate,
) -> Result<ProjectRecord, ApiError> {
    let actions = update
        .actions
        .iter()
        .map(parse_project_action)
        .collect::<Result<Vec<_>, _>>()?;
    let current = get(state, key).await?;
    let sent = u64::try_from(update.version).map_err(|_| {
        ApiError::invalid_input(format!(
            "Invalid version '{}'. The version must be a positive integer.",
            update.version
        ))
    })?;
    if sent != current.version {
        return Err(conflict(key, sent, current.version));
    }
    let mut next = current.apply(&actions, state.clock.now(), Some(actor.logging()))?;
    if next.version == current.version {
        return Ok(current);
    }
    let must_index = super::search::prepare_activation(state, &current, &mut next).await?;
    match state.store.update_project(&next, current.version).await {
        Ok(()) => {
            if must_index {
                super::search::finish_indexing(state.clone(), key.to_owned());
            }
            Ok(next)
        }
        Err(StoreError::ConcurrentModification { current }) => Err(conflict(key, sent, current)),
        Err(StoreError::NotFound) => Err(not_found(key)),
        Err(e) => Err(e.into()),
    }
}

fn conflict(key: &str, expected: u64, current: u64) -> ApiError {
    ApiError::ConcurrentModification {
        id: key.to_owned(),
        expected,
        current,
    }
}

fn not_found(key: &str) -> ApiError {
    ApiError::ResourceNotFound(format!("The project '{key}' was not found."))
}
