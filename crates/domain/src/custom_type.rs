//! Types (custom-field definitions): the `Type` resource, its `TypeDraft`, the field types a
//! definition may have, the update actions that evolve a Type, and their pure logic.
//!
//! Owns the rules a Type must satisfy on its own (key and field-name syntax, unique field
//! names and enum keys, known resource type ids). It must not look at the resources that use a
//! Type: validating values against a definition lives in `custom_fields`, and whether a Type is
//! still referenced is the store's question.

use crate::error::DomainError;
use crate::logging::ClientLogging;
use crate::newtypes::{Key, Version};
use crate::serde_formats::datetime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A text in several languages: IETF language tag → text.
pub type LocalizedString = BTreeMap<String, String>;

/// The `resourceTypeIds` a Type may name (commercetools `ResourceTypeId`).
pub const RESOURCE_TYPE_IDS: &[&str] = &[
    "address",
    "approval-flow",
    "approval-rule",
    "asset",
    "associate-role",
    "business-unit",
    "cart-discount",
    "category",
    "channel",
    "customer",
    "customer-group",
    "custom-line-item",
    "discount-code",
    "inventory-entry",
    "line-item",
    "order",
    "order-delivery",
    "order-edit",
    "order-parcel",
    "order-return-item",
    "payment",
    "payment-interface-interaction",
    "product-price",
    "product-selection",
    "product-tailoring",
    "quote",
    "recurring-order",
    "review",
    "shipping",
    "shipping-method",
    "shopping-list",
    "shopping-list-text-line-item",
    "standalone-price",
    "store",
    "transaction",
];

/// One value of an `Enum` field type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldEnumValue {
    /// The key stored as the field value.
    pub key: String,
    /// Display text.
    pub label: String,
}

/// One value of a `LocalizedEnum` field type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldLocalizedEnumValue {
    /// The key stored as the field value.
    pub key: String,
    /// Display text per language.
    pub label: LocalizedString,
}

/// The type of a custom field, discriminated by `name` as on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all_fields = "camelCase")]
pub enum FieldType {
    /// `true` / `false`.
    Boolean {},
    /// Any string.
    String {},
    /// A [`LocalizedString`].
    LocalizedString {},
    /// One key of `values`.
    Enum {
        /// The allowed values.
        values: Vec<CustomFieldEnumValue>,
    },
    /// One key of `values`.
    LocalizedEnum {
        /// The allowed values.
        values: Vec<CustomFieldLocalizedEnumValue>,
    },
    /// A JSON number.
    Number {},
    /// A `CentPrecisionMoney`.
    Money {},
    /// `YYYY-MM-DD`.
    Date {},
    /// `hh:mm:ss[.sss]`.
    Time {},
    /// An ISO 8601 timestamp.
    DateTime {},
    /// A reference `{typeId, id}` to a resource of `referenceTypeId`.
    Reference {
        /// The type of resource referenced.
        reference_type_id: String,
    },
    /// A list of values of one element type.
    Set {
        /// The type of every element (not itself a `Set`).
        element_type: Box<FieldType>,
    },
}

impl FieldType {
    /// The wire `name` of the type.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Boolean {} => "Boolean",
            FieldType::String {} => "String",
            FieldType::LocalizedString {} => "LocalizedString",
            FieldType::Enum { .. } => "Enum",
            FieldType::LocalizedEnum { .. } => "LocalizedEnum",
            FieldType::Number {} => "Number",
            FieldType::Money {} => "Money",
            FieldType::Date {} => "Date",
            FieldType::Time {} => "Time",
            FieldType::DateTime {} => "DateTime",
            FieldType::Reference { .. } => "Reference",
            FieldType::Set { .. } => "Set",
        }
    }

    /// The enum keys of an `Enum`/`LocalizedEnum` (also inside a `Set`), else `None`.
    pub fn enum_keys(&self) -> Option<Vec<&str>> {
        match self {
            FieldType::Enum { values } => Some(values.iter().map(|v| v.key.as_str()).collect()),
            FieldType::LocalizedEnum { values } => {
                Some(values.iter().map(|v| v.key.as_str()).collect())
            }
            FieldType::Set { element_type } => element_type.enum_keys(),
            _ => None,
        }
    }

    /// Checks enum keys are unique and a `Set` does not nest another `Set`.
    fn validate(&self, field: &str) -> Result<(), DomainError> {
        if let Some(keys) = self.enum_keys() {
            for (i, k) in keys.iter().enumerate() {
                if keys[..i].contains(k) {
                    return Err(DomainError::InvalidOperation(format!(
                        "The enum key '{k}' of field definition '{field}' is not unique."
                    )));
                }
            }
        }
        if let FieldType::Set { element_type } = self {
            if matches!(**element_type, FieldType::Set { .. }) {
                return Err(DomainError::InvalidInput(format!(
                    "The field definition '{field}' nests a Set in a Set, which is not supported."
                )));
            }
        }
        Ok(())
    }
}

/// Whether a `String` field is edited on one line or several (a UI hint only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypeTextInputHint {
    /// One line.
    SingleLine,
    /// Several lines.
    MultiLine,
}

/// One custom field a Type defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDefinition {
    /// The value type.
    #[serde(rename = "type")]
    pub type_: FieldType,
    /// The field name (`^[A-Za-z0-9_-]{2,36}$`), unique within the Type.
    pub name: String,
    /// Display text.
    pub label: LocalizedString,
    /// Whether every resource using the Type must have a value.
    pub required: bool,
    /// UI hint for `String` fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hint: Option<TypeTextInputHint>,
}

impl FieldDefinition {
    /// Checks the name syntax and the field type.
    fn validate(&self) -> Result<(), DomainError> {
        check_field_name(&self.name)?;
        self.type_.validate(&self.name)
    }
}

/// `InvalidInput` unless `name` matches `^[A-Za-z0-9_-]{2,36}$` (the FieldContainer key rule).
pub fn check_field_name(name: &str) -> Result<(), DomainError> {
    let ok_len = (2..=36).contains(&name.len());
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(DomainError::InvalidInput(format!(
            "Invalid field name '{name}'. It may be a string of 2 to 36 characters of the alphabet [A-Za-z0-9_-]."
        )))
    }
}

/// The commercetools `Type` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Type {
    /// Server-generated UUID.
    pub id: String,
    /// Current version.
    pub version: Version,
    /// When it was created.
    #[serde(with = "datetime")]
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<ClientLogging>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ClientLogging>,
    /// User-defined unique key (required on Types).
    pub key: String,
    /// Display name.
    pub name: LocalizedString,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedString>,
    /// Where the Type may be used (`customer`, `address`, …).
    pub resource_type_ids: Vec<String>,
    /// The fields.
    #[serde(default)]
    pub field_definitions: Vec<FieldDefinition>,
}

impl Type {
    /// The definition of field `name`, if any.
    pub fn field(&self, name: &str) -> Option<&FieldDefinition> {
        self.field_definitions.iter().find(|f| f.name == name)
    }

    /// Whether resources of `resource_type_id` may use this Type.
    pub fn allows(&self, resource_type_id: &str) -> bool {
        self.resource_type_ids.iter().any(|r| r == resource_type_id)
    }

    fn field_index(&self, name: &str) -> Result<usize, DomainError> {
        self.field_definitions
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| {
                DomainError::InvalidOperation(format!(
                    "The type does not have a field definition with name '{name}'."
                ))
            })
    }
}

/// What `POST /{projectKey}/types` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeDraft {
    /// User-defined unique key (required).
    pub key: String,
    /// Display name.
    pub name: LocalizedString,
    /// Description.
    #[serde(default)]
    pub description: Option<LocalizedString>,
    /// Where the Type may be used.
    pub resource_type_ids: Vec<String>,
    /// The fields.
    #[serde(default)]
    pub field_definitions: Option<Vec<FieldDefinition>>,
}

/// Builds a version-1 Type from a draft.
pub fn create_type(draft: TypeDraft, id: String, now: OffsetDateTime) -> Result<Type, DomainError> {
    Key::parse(&draft.key, "key")?;
    check_resource_type_ids(&draft.resource_type_ids)?;
    let defs = draft.field_definitions.unwrap_or_default();
    for (i, d) in defs.iter().enumerate() {
        d.validate()?;
        if defs[..i].iter().any(|e| e.name == d.name) {
            return Err(duplicate_field_definition(&d.name));
        }
    }
    Ok(Type {
        id,
        version: Version::FIRST,
        created_at: now,
        last_modified_at: now,
        last_modified_by: None,
        created_by: None,
        key: draft.key,
        name: draft.name,
        description: draft.description,
        resource_type_ids: draft.resource_type_ids,
        field_definitions: defs,
    })
}

fn check_resource_type_ids(ids: &[String]) -> Result<(), DomainError> {
    for id in ids {
        if !RESOURCE_TYPE_IDS.contains(&id.as_str()) {
            return Err(DomainError::InvalidJsonInput {
                detail: format!(
                    "resourceTypeIds: unknown value '{id}', expected one of {}",
                    RESOURCE_TYPE_IDS.join(", ")
                ),
            });
        }
    }
    Ok(())
}

fn duplicate_field_definition(name: &str) -> DomainError {
    DomainError::InvalidOperation(format!(
        "A field definition with name '{name}' already exists."
    ))
}

/// One update action on a Type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TypeUpdateAction {
    /// Sets the key.
    ChangeKey {
        /// The new key.
        key: String,
    },
    /// Sets the name.
    ChangeName {
        /// The new name.
        name: LocalizedString,
    },
    /// Sets or removes the description.
    SetDescription {
        /// The new description; absent removes it.
        #[serde(default)]
        description: Option<LocalizedString>,
    },
    /// Appends a field definition.
    AddFieldDefinition {
        /// The definition.
        field_definition: FieldDefinition,
    },
    /// Removes a field definition.
    RemoveFieldDefinition {
        /// Its name.
        field_name: String,
    },
    /// Changes a field definition's label.
    ChangeLabel {
        /// The field.
        field_name: String,
        /// The new label.
        label: LocalizedString,
    },
    /// Changes a `String` field's input hint.
    ChangeInputHint {
        /// The field.
        field_name: String,
        /// The new hint.
        input_hint: TypeTextInputHint,
    },
    /// Appends a value to an `Enum` (or `Set` of `Enum`) field.
    AddEnumValue {
        /// The field.
        field_name: String,
        /// The value.
        value: CustomFieldEnumValue,
    },
    /// Appends a value to a `LocalizedEnum` (or `Set` of it) field.
    AddLocalizedEnumValue {
        /// The field.
        field_name: String,
        /// The value.
        value: CustomFieldLocalizedEnumValue,
    },
    /// Changes the label of one `Enum` value.
    ChangeEnumValueLabel {
        /// The field.
        field_name: String,
        /// The value (by key) with its new label.
        value: CustomFieldEnumValue,
    },
    /// Changes the label of one `LocalizedEnum` value.
    ChangeLocalizedEnumValueLabel {
        /// The field.
        field_name: String,
        /// The value (by key) with its new label.
        value: CustomFieldLocalizedEnumValue,
    },
    /// Reorders the field definitions.
    ChangeFieldDefinitionOrder {
        /// Every field name, in the new order.
        field_names: Vec<String>,
    },
}

/// Type update actions commercetools has that Clientele does not implement.
const UNSUPPORTED_TYPE_ACTIONS: &[&str] =
    &["changeEnumValueOrder", "changeLocalizedEnumValueOrder"];

/// Reads one Type update action from JSON. Known but unimplemented actions are
/// `InvalidOperation` naming the action; anything else malformed is `InvalidJsonInput`.
pub fn parse_type_action(v: &Value) -> Result<TypeUpdateAction, DomainError> {
    if let Some(name) = v.get("action").and_then(Value::as_str) {
        if UNSUPPORTED_TYPE_ACTIONS.contains(&name) {
            return Err(DomainError::InvalidOperation(format!(
                "The update action '{name}' is not supported yet."
            )));
        }
    }
    serde_json::from_value(v.clone())
        .map_err(|e| DomainError::invalid_json(format!("actions: {e}")))
}

/// Applies one action to a Type (no version bump; see [`apply_type_actions`]).
pub fn apply_type_action(t: &mut Type, action: &TypeUpdateAction) -> Result<(), DomainError> {
    use TypeUpdateAction as A;
    match action {
        A::ChangeKey { key } => {
            Key::parse(key, "key")?;
            t.key.clone_from(key);
        }
        A::ChangeName { name } => t.name.clone_from(name),
        A::SetDescription { description } => t.description.clone_from(description),
        A::AddFieldDefinition { field_definition } => {
            field_definition.validate()?;
            if t.field(&field_definition.name).is_some() {
                return Err(duplicate_field_definition(&field_definition.name));
            }
            t.field_definitions.push(field_definition.clone());
        }
        A::RemoveFieldDefinition { field_name } => {
            let i = t.field_index(field_name)?;
            t.field_definitions.remove(i);
        }
        A::ChangeLabel { field_name, label } => {
            let i = t.field_index(field_name)?;
            if let Some(d) = t.field_definitions.get_mut(i) {
                d.label.clone_from(label);
            }
        }
        A::ChangeInputHint {
            field_name,
            input_hint,
        } => {
            let i = t.field_index(field_name)?;
            if let Some(d) = t.field_definitions.get_mut(i) {
                d.input_hint = Some(*input_hint);
            }
        }
        A::AddEnumValue { field_name, value } => {
            let values = enum_values(t, field_name)?;
            if values.iter().any(|v| v.key == value.key) {
                return Err(duplicate_enum_key(field_name, &value.key));
            }
            values.push(value.clone());
        }
        A::AddLocalizedEnumValue { field_name, value } => {
            let values = localized_enum_values(t, field_name)?;
            if values.iter().any(|v| v.key == value.key) {
                return Err(duplicate_enum_key(field_name, &value.key));
            }
            values.push(value.clone());
        }
        A::ChangeEnumValueLabel { field_name, value } => {
            let values = enum_values(t, field_name)?;
            let slot = values
                .iter_mut()
                .find(|v| v.key == value.key)
                .ok_or_else(|| missing_enum_key(field_name, &value.key))?;
            slot.label.clone_from(&value.label);
        }
        A::ChangeLocalizedEnumValueLabel { field_name, value } => {
            let values = localized_enum_values(t, field_name)?;
            let slot = values
                .iter_mut()
                .find(|v| v.key == value.key)
                .ok_or_else(|| missing_enum_key(field_name, &value.key))?;
            slot.label.clone_from(&value.label);
        }
        A::ChangeFieldDefinitionOrder { field_names } => {
            let mut sorted_new: Vec<&str> = field_names.iter().map(String::as_str).collect();
            let mut sorted_old: Vec<&str> = t
                .field_definitions
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            sorted_new.sort_unstable();
            sorted_old.sort_unstable();
            if sorted_new != sorted_old {
                return Err(DomainError::InvalidOperation(
                    "The field names must name every field definition of the type exactly once."
                        .to_owned(),
                ));
            }
            let mut reordered = Vec::with_capacity(field_names.len());
            for name in field_names {
                let i = t.field_index(name)?;
                reordered.push(t.field_definitions[i].clone());
            }
            t.field_definitions = reordered;
        }
    }
    Ok(())
}

/// Applies a request's actions in order, all or nothing; bumps `version` and sets
/// `lastModifiedAt` once if anything changed.
pub fn apply_type_actions(
    t: Type,
    actions: &[TypeUpdateAction],
    now: OffsetDateTime,
) -> Result<Type, DomainError> {
    let mut next = t.clone();
    for a in actions {
        apply_type_action(&mut next, a)?;
    }
    if next != t {
        next.version = next.version.next();
        next.last_modified_at = now;
    }
    Ok(next)
}

fn duplicate_enum_key(field: &str, key: &str) -> DomainError {
    DomainError::InvalidOperation(format!(
        "The enum key '{key}' already exists in field definition '{field}'."
    ))
}

fn missing_enum_key(field: &str, key: &str) -> DomainError {
    DomainError::InvalidOperation(format!(
        "The enum key '{key}' does not exist in field definition '{field}'."
    ))
}

fn innermost(ty: &mut FieldType) -> &mut FieldType {
    match ty {
        FieldType::Set { element_type } => innermost(element_type),
        other => other,
    }
}

fn enum_values<'a>(
    t: &'a mut Type,
    field: &str,
) -> Result<&'a mut Vec<CustomFieldEnumValue>, DomainError> {
    let i = t.field_index(field)?;
    match innermost(&mut t.field_definitions[i].type_) {
        FieldType::Enum { values } => Ok(values),
        _ => Err(DomainError::InvalidOperation(format!(
            "The field definition '{field}' is not of type Enum."
        ))),
    }
}

fn localized_enum_values<'a>(
    t: &'a mut Type,
    field: &str,
) -> Result<&'a mut Vec<CustomFieldLocalizedEnumValue>, DomainError> {
    let i = t.field_index(field)?;
    match innermost(&mut t.field_definitions[i].type_) {
        FieldType::LocalizedEnum { values } => Ok(values),
        _ => Err(DomainError::InvalidOperation(format!(
            "The field definition '{field}' is not of type LocalizedEnum."
        ))),
    }
}
