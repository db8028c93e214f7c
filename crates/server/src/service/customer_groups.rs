//! Customer Group use cases: create, read, update (changeName, setKey, setCustomType,
//! setCustomField), delete (refused while customers reference the group) and query. The rules
//! are the domain's (`clientele_domain::customer_group`); storage is the generic table.

use super::references::resolve;
use super::resources::{self, stored_resource, ManagedResource, ResourceRef};
use super::{load_project, Actor};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::customer_group::{apply_customer_group_actions, create_customer_group};
use clientele_domain::resolve::CUSTOMER_GROUP;
use clientele_domain::{CustomerGroup, CustomerGroupDraft, CustomerGroupUpdateAction};
use serde::Deserialize;

stored_resource!(CustomerGroup, CUSTOMER_GROUP);

/// The body of `POST /{p}/customer-groups/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerGroupUpdate {
    /// Must equal the group's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<CustomerGroupUpdateAction>,
}

impl ManagedResource for CustomerGroup {
    type Draft = CustomerGroupDraft;
    type Update = CustomerGroupUpdate;

    /// Creates a Customer Group (its custom Type must allow `customer-group`).
    async fn create(
        state: &AppState,
        project: &str,
        actor: &Actor,
        draft: CustomerGroupDraft,
    ) -> Result<CustomerGroup, ApiError> {
        load_project(state, project).await?;
        let resolved = resolve(state, project, &draft.wanted()).await?;
        let group =
            create_customer_group(draft, state.random.uuid(), state.clock.now(), &resolved)?;
        resources::insert(state, project, actor, group).await
    }

    async fn update(
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
}
