//! Custom Fields on any resource: checking values against a Type's field definitions, building
//! `CustomFields` from a `CustomFieldsDraft`, and the `setCustomType` / `setCustomField`
//! semantics shared by customers, addresses and customer groups.
//!
//! Pure and resource-agnostic: callers say which resource type the fields belong to and turn
//! the returned [`TypeChange`] / [`FieldChange`] into their own Messages. Must not resolve
//! references itself; Types come from the caller's [`Resolved`].

use crate::custom::{CustomFields, CustomFieldsDraft};
use crate::custom_type::{check_field_name, FieldDefinition, FieldType, Type};
use crate::error::DomainError;
use crate::reference::{Reference, ResourceIdentifier};
use crate::resolve::Resolved;
use crate::serde_formats::{format_datetime, parse_date, parse_datetime};
use serde_json::{json, Map, Value};

/// What `setCustomType` did.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeChange {
    /// A Type (and fields) was set.
    Set {
        /// The new custom fields.
        custom_fields: CustomFields,
        /// The Type before, if any.
        previous_type_id: Option<String>,
    },
    /// The Type and all fields were removed.
    Removed {
        /// The Type before.
        previous_type_id: Option<String>,
    },
}

/// What `setCustomField` did.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldChange {
    /// A field that had no value got one.
    Added {
        /// Field name.
        name: String,
        /// Stored value.
        value: Value,
    },
    /// A field's value changed.
    Changed {
        /// Field name.
        name: String,
        /// Stored value.
        value: Value,
        /// The value before.
        previous_value: Value,
    },
    /// A field's value was removed.
    Removed {
        /// Field name.
        name: String,
    },
}

/// Builds the stored Custom Fields a draft describes for a resource of `resource_type_id`:
/// resolves the Type, checks it may be used there, validates every value and that every
/// required field has one.
pub fn build_custom_fields(
    draft: &CustomFieldsDraft,
    resolved: &Resolved,
    resource_type_id: &str,
) -> Result<CustomFields, DomainError> {
    let t = resolved.custom_type(&draft.type_)?;
    check_allowed(t, resource_type_id)?;
    let fields = validate_fields(t, draft.fields.as_ref())?;
    Ok(CustomFields {
        type_: Reference::new("type", t.id.clone()),
        fields,
    })
}

/// `setCustomType` on one `custom` slot: with a Type, replaces Type and fields (validated);
/// without, removes both. `None` when nothing changed.
pub fn set_custom_type(
    slot: &mut Option<CustomFields>,
    type_: Option<&ResourceIdentifier>,
    fields: Option<&Map<String, Value>>,
    resolved: &Resolved,
    resource_type_id: &str,
) -> Result<Option<TypeChange>, DomainError> {
    let previous_type_id = slot.as_ref().map(|c| c.type_.id.clone());
    let Some(type_) = type_ else {
        if slot.take().is_none() {
            return Ok(None);
        }
        return Ok(Some(TypeChange::Removed { previous_type_id }));
    };
    let custom_fields = build_custom_fields(
        &CustomFieldsDraft {
            type_: type_.clone(),
            fields: fields.cloned(),
        },
        resolved,
        resource_type_id,
    )?;
    if slot.as_ref() == Some(&custom_fields) {
        return Ok(None);
    }
    *slot = Some(custom_fields.clone());
    Ok(Some(TypeChange::Set {
        custom_fields,
        previous_type_id,
    }))
}

/// `setCustomField` on one `custom` slot: `value` absent or null removes the field. The slot
/// must have a Type (else `InvalidOperation`), which must be in `resolved`.
pub fn set_custom_field(
    slot: &mut Option<CustomFields>,
    name: &str,
    value: Option<&Value>,
    resolved: &Resolved,
) -> Result<Option<FieldChange>, DomainError> {
    let Some(custom) = slot.as_mut() else {
        return Err(DomainError::invalid_operation(
            "This resource has no custom type set - please use setCustomType first to set the type and then set the custom fields.",
        ));
    };
    let t = resolved.custom_type_by_id(&custom.type_.id)?;
    let def = definition(t, name, value.unwrap_or(&Value::Null))?;
    match value.filter(|v| !v.is_null()) {
        None => {
            if def.required {
                return Err(DomainError::RequiredField {
                    field: name.to_owned(),
                });
            }
            if custom.fields.remove(name).is_none() {
                return Err(DomainError::InvalidOperation(format!(
                    "The custom field '{name}' cannot be removed because it has no value."
                )));
            }
            Ok(Some(FieldChange::Removed {
                name: name.to_owned(),
            }))
        }
        Some(v) => {
            let stored = validate_value(&def.type_, name, v)?;
            match custom.fields.insert(name.to_owned(), stored.clone()) {
                None => Ok(Some(FieldChange::Added {
                    name: name.to_owned(),
                    value: stored,
                })),
                Some(previous) if previous == stored => Ok(None),
                Some(previous_value) => Ok(Some(FieldChange::Changed {
                    name: name.to_owned(),
                    value: stored,
                    previous_value,
                })),
            }
        }
    }
}

/// The documented check that a Type may be used on this kind of resource.
fn check_allowed(t: &Type, resource_type_id: &str) -> Result<(), DomainError> {
    if t.allows(resource_type_id) {
        return Ok(());
    }
    Err(DomainError::InvalidOperation(format!(
        "The type with key '{}' cannot be used for resources of type '{resource_type_id}'; its resourceTypeIds are [{}].",
        t.key,
        t.resource_type_ids.join(", ")
    )))
}

/// Validates a whole field container against `t`: every given value, null values dropped, and
/// every required field present. Returns the stored (normalised) values.
fn validate_fields(
    t: &Type,
    fields: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, DomainError> {
    let mut out = Map::new();
    for (name, value) in fields.into_iter().flatten() {
        let def = definition(t, name, value)?;
        if value.is_null() {
            continue;
        }
        out.insert(name.clone(), validate_value(&def.type_, name, value)?);
    }
    if let Some(missing) = t
        .field_definitions
        .iter()
        .find(|d| d.required && !out.contains_key(&d.name))
    {
        return Err(DomainError::RequiredField {
            field: missing.name.clone(),
        });
    }
    Ok(out)
}

/// The definition of field `name` in `t`; an unknown or malformed name is `InvalidField`.
fn definition<'t>(
    t: &'t Type,
    name: &str,
    value: &Value,
) -> Result<&'t FieldDefinition, DomainError> {
    check_field_name(name)?;
    t.field(name).ok_or_else(|| DomainError::InvalidField {
        field: name.to_owned(),
        invalid_value: value.clone(),
        allowed_values: None,
    })
}

/// Checks `value` against field type `ty` and returns the value as stored: Money becomes a
/// `CentPrecisionMoney`, Time `hh:mm:ss.sss`, DateTime UTC with milliseconds; everything else
/// is stored as sent. Wrong values are `InvalidField` (with `allowedValues` for enums).
pub fn validate_value(ty: &FieldType, field: &str, value: &Value) -> Result<Value, DomainError> {
    let invalid = |allowed: Option<Vec<Value>>| DomainError::InvalidField {
        field: field.to_owned(),
        invalid_value: value.clone(),
        allowed_values: allowed,
    };
    let ok = match ty {
        FieldType::Boolean {} => value.is_boolean().then(|| value.clone()),
        FieldType::String {} => value.is_string().then(|| value.clone()),
        FieldType::Number {} => value.is_number().then(|| value.clone()),
        FieldType::LocalizedString {} => value
            .as_object()
            .filter(|m| m.values().all(Value::is_string))
            .map(|_| value.clone()),
        FieldType::Enum { .. } | FieldType::LocalizedEnum { .. } => {
            let keys = ty.enum_keys().unwrap_or_default();
            return match value.as_str() {
                Some(k) if keys.contains(&k) => Ok(value.clone()),
                _ => Err(invalid(Some(keys.into_iter().map(|k| json!(k)).collect()))),
            };
        }
        FieldType::Money {} => money(value),
        FieldType::Date {} => value.as_str().and_then(parse_date).map(|_| value.clone()),
        FieldType::Time {} => value.as_str().and_then(normalise_time).map(Value::String),
        FieldType::DateTime {} => value
            .as_str()
            .and_then(parse_datetime)
            .map(|t| Value::String(format_datetime(t))),
        FieldType::Reference { reference_type_id } => value
            .as_object()
            .filter(|m| {
                m.get("typeId").and_then(Value::as_str) == Some(reference_type_id.as_str())
                    && m.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
            })
            .map(|m| json!({"typeId": m["typeId"], "id": m["id"]})),
        FieldType::Set { element_type } => {
            let Some(items) = value.as_array() else {
                return Err(invalid(None));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(validate_value(element_type, field, item).map_err(|_| {
                    invalid(
                        element_type
                            .enum_keys()
                            .map(|ks| ks.into_iter().map(|k| json!(k)).collect()),
                    )
                })?);
            }
            Some(Value::Array(out))
        }
    };
    ok.ok_or_else(|| invalid(None))
}

/// `{centAmount, currencyCode}` (or a full `CentPrecisionMoney`) → `CentPrecisionMoney`.
fn money(value: &Value) -> Option<Value> {
    let m = value.as_object()?;
    let cents = m.get("centAmount")?.as_i64()?;
    let currency = m.get("currencyCode")?.as_str()?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    if let Some(t) = m.get("type") {
        if t != "centPrecision" {
            return None;
        }
    }
    Some(json!({
        "type": "centPrecision",
        "currencyCode": currency,
        "centAmount": cents,
        "fractionDigits": fraction_digits(currency),
    }))
}

/// ISO 4217 minor units for the currencies that do not use 2.
fn fraction_digits(currency: &str) -> u8 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// `hh:mm:ss` or `hh:mm:ss.s…` (up to milliseconds shown) → `hh:mm:ss.sss`.
fn normalise_time(s: &str) -> Option<String> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, sec] = parts.as_slice() else {
        return None;
    };
    let num = |p: &str, max: u32| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let (h, m, sec) = (num(h, 23)?, num(m, 59)?, num(sec, 59)?);
    let millis = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<3}");
            padded.get(..3)?.parse::<u32>().ok()?
        }
        Some(_) => return None,
    };
    Some(format!("{h:02}:{m:02}:{sec:02}.{millis:03}"))
}

#[cfg(test)]
mod tests;
