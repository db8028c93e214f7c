//! Type (custom field definition) use cases: create, read, update, delete (refused while a
//! customer, an address or a customer group uses the Type) and query. The rules are the
//! domain's (`clientele_domain::custom_type`); storage is the generic table.

use super::resources::{self, ResourceRef, StoredResource};
use super::{load_project, Actor};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::custom_type::{apply_type_actions, create_type, parse_type_action};
use clientele_domain::{Type, TypeDraft, Version};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

impl StoredResource for Type {
    const TYPE_ID: &'static str = "type";
    fn id(&self) -> &str {
        &self.id
    }
    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }
    fn version(&self) -> Version {
        self.version
    }
    fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    fn last_modified_at(&self) -> OffsetDateTime {
        self.last_modified_at
    }
    fn stamp_created(&mut self, actor: &Actor) {
        self.created_by = Some(actor.logging());
        self.last_modified_by = Some(actor.logging());
    }
    fn stamp_modified(&mut self, actor: &Actor) {
        self.last_modified_by = Some(actor.logging());
    }
}

/// The body of `POST /{p}/types/{id}`. Actions stay JSON until [`update`] reads them, so an
/// action commercetools has but Clientele lacks is reported by name.
#[derive(Debug, Clone, Deserialize)]
pub struct TypeUpdate {
    /// Must equal the Type's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<Value>,
}

/// Creates a Type.
pub async fn create(
    state: &AppState,
    project: &str,
    actor: &Actor,
    draft: TypeDraft,
) -> Result<Type, ApiError> {
    load_project(state, project).await?;
    let t = create_type(draft, state.random.uuid(), state.clock.now())?;
    resources::insert(state, project, actor, t).await
}

/// Applies an update request atomically (one version increment when anything changed).
pub async fn update(
    state: &AppState,
    project: &str,
    actor: &Actor,
    target: &ResourceRef,
    update: TypeUpdate,
) -> Result<Type, ApiError> {
    let actions = update
        .actions
        .iter()
        .map(parse_type_action)
        .collect::<Result<Vec<_>, _>>()?;
    let current: Type = resources::get(state, project, target).await?;
    let expected = resources::check_version(&current, update.version)?;
    let next = apply_type_actions(current, &actions, state.clock.now())?;
    resources::save(state, project, actor, next, expected).await
}
