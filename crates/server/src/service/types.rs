//! Type (custom field definition) use cases: create, read, update, delete (refused while a
//! customer, an address or a customer group uses the Type) and query. The rules are the
//! domain's (`clientele_domain::custom_type`); storage is the generic table.
//!
//! Also answers which custom field types a resource type's Types declare
//! ([`custom_field_types`]), which types `custom(fields(…))` predicates and sorts on it.

use super::resources::{self, stored_resource, ManagedResource, ResourceRef, StoredResource};
use super::{load_project, Actor};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::custom_type::{
    apply_type_actions, create_type, parse_type_action, FieldType,
};
use clientele_domain::resolve::TYPE;
use clientele_domain::{Type, TypeDraft};
use clientele_query::schema::type_schema;
use clientele_query::{CustomFieldType, CustomFieldTypes};
use clientele_store::ResourceQuery;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

stored_resource!(Type, TYPE);

/// The body of `POST /{p}/types/{id}`. Actions stay JSON until the update use case reads
/// them, so an action commercetools has but Clientele lacks is reported by name.
#[derive(Debug, Clone, Deserialize)]
pub struct TypeUpdate {
    /// Must equal the Type's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<Value>,
}

impl ManagedResource for Type {
    type Draft = TypeDraft;
    type Update = TypeUpdate;

    async fn create(
        state: &AppState,
        project: &str,
        actor: &Actor,
        draft: TypeDraft,
    ) -> Result<Type, ApiError> {
        load_project(state, project).await?;
        let t = create_type(draft, state.random.uuid(), state.clock.now())?;
        resources::insert(state, project, actor, t).await
    }

    async fn update(
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
}

/// Types read per store query while collecting custom field types (the largest page).
const TYPES_PAGE: u64 = 500;

/// The custom field types declared by the project's Types whose `resourceTypeIds` contain
/// `resource_type_id`, for [`clientele_query::parse_where_with`]. A name two Types declare with
/// different types stays untyped. Read from the store on every call (usually one query): nodes
/// keep no state, so a Type changed through another node counts at once.
pub async fn custom_field_types(
    state: &AppState,
    project: &str,
    resource_type_id: &str,
) -> Result<CustomFieldTypes, ApiError> {
    // A JSON string literal is also a valid predicate string literal.
    let quoted = serde_json::to_string(resource_type_id)
        .map_err(|e| ApiError::Internal(format!("quote resource type id: {e}")))?;
    let predicate = clientele_query::parse_where(
        &[format!("resourceTypeIds contains any ({quoted})")],
        &HashMap::new(),
        &type_schema(),
    )?;
    let mut types = CustomFieldTypes::new();
    let mut offset = 0;
    loop {
        let query = ResourceQuery {
            predicate: Some(predicate.clone()),
            limit: TYPES_PAGE,
            offset,
            with_total: false,
            ..ResourceQuery::default()
        };
        let page = state
            .store
            .query_resources(project, <Type as StoredResource>::TYPE_ID, &query)
            .await?;
        let count = page.results.len() as u64;
        for doc in page.results {
            let t: Type =
                serde_json::from_value(doc).map_err(|e| ApiError::Internal(e.to_string()))?;
            for f in &t.field_definitions {
                types.declare(f.name.clone(), query_type(&f.type_));
            }
        }
        if count < TYPES_PAGE {
            return Ok(types);
        }
        offset += TYPES_PAGE;
    }
}

/// How a value of custom field type `t` is queried.
fn query_type(t: &FieldType) -> CustomFieldType {
    match t {
        FieldType::Boolean {} => CustomFieldType::Boolean,
        FieldType::String {} => CustomFieldType::String,
        FieldType::LocalizedString {} => CustomFieldType::LocalizedString,
        FieldType::Enum { .. } => CustomFieldType::Enum,
        FieldType::LocalizedEnum { .. } => CustomFieldType::LocalizedEnum,
        FieldType::Number {} => CustomFieldType::Number,
        FieldType::Money {} => CustomFieldType::Money,
        FieldType::Date {} => CustomFieldType::Date,
        FieldType::Time {} => CustomFieldType::Time,
        FieldType::DateTime {} => CustomFieldType::DateTime,
        FieldType::Reference { .. } => CustomFieldType::Reference,
        FieldType::Set { element_type } => CustomFieldType::Set(Box::new(query_type(element_type))),
    }
}
