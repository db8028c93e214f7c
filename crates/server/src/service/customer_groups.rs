//! Customer Group use cases: create, read, update (changeName, setKey, setCustomType,
//! setCustomField), delete (refused while customers reference the group) and query. The rules
//! are the domain's (`clientele_domain::customer_group`); storage is the generic table.

use super::references::resolve;
use super::resources::{self, ResourceRef, StoredResource};
use super::{load_project, Actor};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::customer_group::{apply_customer_group_actions, create_customer_group};
use clientele_domain::{CustomerGroup, CustomerGroupDraft, CustomerGroupUpdateAction, Version};
use serde::Deserialize;
use time::OffsetDateTime;

impl StoredResource for CustomerGroup {
    const TYPE_ID: &'static str = "customer-group";
    fn id(&self) -> &str {
        &self.id
    }
    fn key(&self) -> Option<&str> {
        self.key.as_deref()
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

/// The body of `POST /{p}/customer-groups/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerGroupUpdate {
    /// Must equal the group's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<CustomerGroupUpdateAction>,
}

/// Creates a Customer Group (its custom Type must allow `customer-group`).
pub async fn create(
    state: &AppState,
    project: &str,
    actor: &Actor,
    draft: CustomerGroupDraft,
) -> Result<CustomerGroup, ApiError> {
    load_project(state, project).await?;
    let resolved = resolve(state, project, &draft.wanted()).await?;
    let group = create_customer_group(draft, state.random.uuid(), state.clock.now(), &resolved)?;
    resources::insert(state, project, actor, group).await
}

/// Applies an update request atomically (one version increment when anything changed).
pub async fn update(
    state: &AppState,
    project: &str,
    actor: &Actor,
    target: &ResourceRef,
    update: CustomerGroupUpdate,
) -> Result<CustomerGroup, ApiError> {
    let current: CustomerGroup = resources::get(state, project, target).await?;
    let expected = resources::check_version(&current, update.version)?;
    let wanted = CustomerGroupUpdateAction::wanted(&current, &update.actions);
    let resolved = resolve(state, project, &wanted).await?;
    let next =
        apply_customer_group_actions(current, &update.actions, state.clock.now(), &resolved)?;
    resources::save(state, project, actor, next, expected).await
}
