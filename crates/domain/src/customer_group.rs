//! Customer Groups: the `CustomerGroup` resource, its draft, its update actions and their pure
//! logic.
//!
//! Owns the rules of one group (key syntax, non-empty name, Custom Fields via
//! `custom_fields`). It must not check key uniqueness (the store does) nor whether customers
//! still reference the group (the store does, on delete).

mod model;

use crate::custom::CustomFieldsDraft;
use crate::custom_fields::{build_custom_fields, set_custom_field, set_custom_type};
use crate::error::DomainError;
use crate::newtypes::{Key, Version};
use crate::reference::ResourceIdentifier;
use crate::resolve::{Resolved, Wanted, CUSTOMER_GROUP};
pub use model::CustomerGroup;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// What `POST /{projectKey}/customer-groups` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroupDraft {
    /// User-defined unique key.
    #[serde(default)]
    pub key: Option<String>,
    /// The group's name.
    pub group_name: String,
    /// Custom Fields.
    #[serde(default)]
    pub custom: Option<CustomFieldsDraft>,
}

impl CustomerGroupDraft {
    /// The Types the draft names.
    pub fn wanted(&self) -> Wanted {
        Wanted::for_custom_draft(self.custom.as_ref())
    }
}

/// One update action on a Customer Group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CustomerGroupUpdateAction {
    /// Sets the name.
    ChangeName {
        /// The new name.
        name: String,
    },
    /// Sets or removes the key.
    SetKey {
        /// The new key; absent removes it.
        #[serde(default)]
        key: Option<String>,
    },
    /// Sets or removes the Custom Type (and all fields).
    SetCustomType {
        /// The Type; absent removes type and fields.
        #[serde(default, rename = "type")]
        type_: Option<ResourceIdentifier>,
        /// Field values.
        #[serde(default)]
        fields: Option<Map<String, Value>>,
    },
    /// Sets or removes one Custom Field.
    SetCustomField {
        /// Field name.
        name: String,
        /// Value; absent or null removes it.
        #[serde(default)]
        value: Option<Value>,
    },
}

impl CustomerGroupUpdateAction {
    /// The Types applying `actions` to `group` may need (named ones and the current one).
    pub fn wanted(group: &CustomerGroup, actions: &[CustomerGroupUpdateAction]) -> Wanted {
        let mut w = Wanted::default();
        for a in actions {
            match a {
                CustomerGroupUpdateAction::SetCustomType { type_: Some(t), .. } => w.custom_type(t),
                CustomerGroupUpdateAction::SetCustomField { .. } => {
                    w.current_custom_type(group.custom.as_ref());
                }
                _ => {}
            }
        }
        w
    }
}

fn check_name(name: &str) -> Result<(), DomainError> {
    if name.trim().is_empty() {
        return Err(DomainError::InvalidInput(
            "Invalid groupName. It must be a non-empty string.".to_owned(),
        ));
    }
    Ok(())
}

/// Builds a version-1 Customer Group from a draft.
pub fn create_customer_group(
    draft: CustomerGroupDraft,
    id: String,
    now: OffsetDateTime,
    resolved: &Resolved,
) -> Result<CustomerGroup, DomainError> {
    if let Some(k) = &draft.key {
        Key::parse(k, "key")?;
    }
    check_name(&draft.group_name)?;
    let custom = draft
        .custom
        .as_ref()
        .map(|c| build_custom_fields(c, resolved, CUSTOMER_GROUP))
        .transpose()?;
    Ok(CustomerGroup {
        id,
        version: Version::FIRST,
        created_at: now,
        last_modified_at: now,
        last_modified_by: None,
        created_by: None,
        key: draft.key,
        name: draft.group_name,
        custom,
    })
}

/// Applies a request's actions in order, all or nothing; bumps `version` and sets
/// `lastModifiedAt` once if anything changed.
pub fn apply_customer_group_actions(
    group: CustomerGroup,
    actions: &[CustomerGroupUpdateAction],
    now: OffsetDateTime,
    resolved: &Resolved,
) -> Result<CustomerGroup, DomainError> {
    use CustomerGroupUpdateAction as A;
    let mut g = group.clone();
    for action in actions {
        match action {
            A::ChangeName { name } => {
                check_name(name)?;
                g.name.clone_from(name);
            }
            A::SetKey { key } => {
                if let Some(k) = key {
                    Key::parse(k, "key")?;
                }
                g.key.clone_from(key);
            }
            A::SetCustomType { type_, fields } => {
                set_custom_type(
                    &mut g.custom,
                    type_.as_ref(),
                    fields.as_ref(),
                    resolved,
                    CUSTOMER_GROUP,
                )?;
            }
            A::SetCustomField { name, value } => {
                set_custom_field(&mut g.custom, name, value.as_ref(), resolved)?;
            }
        }
    }
    if g != group {
        g.version = g.version.next();
        g.last_modified_at = now;
    }
    Ok(g)
}
