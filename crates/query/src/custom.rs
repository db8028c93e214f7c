//! Typed custom fields: the caller's declaration of which custom fields a resource's Types
//! define and how each is queried ([`CustomFieldTypes`]), and its translation into the schema's
//! field types.
//!
//! Owns the mapping from a commercetools custom field type to a query type (how the stored value
//! looks: Enum keys are strings, Money is a `CentPrecisionMoney` object, Time is
//! `hh:mm:ss.sss`, …). It must not parse, check or compile predicates; the checker and the sort
//! resolver look field types up here.
//!
//! Only the resource's own `custom.fields` are typed (`custom(fields(x = …))` on a Customer);
//! custom fields nested deeper (an address's `custom`) belong to Types of another resource type
//! and stay untyped.

use std::collections::BTreeMap;

use crate::schema::{FieldType, Fields, MONEY, REFERENCE};

/// The query type of one custom field, named after the commercetools field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomFieldType {
    /// A JSON string.
    String,
    /// A JSON number.
    Number,
    /// A JSON boolean.
    Boolean,
    /// A `YYYY-MM-DD` string.
    Date,
    /// A time stored as `hh:mm:ss.sss`; literals are normalised to that form.
    Time,
    /// A timestamp stored as `YYYY-MM-DDTHH:MM:SS.mmmZ`; literals are normalised to that form.
    DateTime,
    /// An enum value, stored and compared as its key (a string).
    Enum,
    /// A localized enum value, stored and compared as its key (a string).
    LocalizedEnum,
    /// Language tag → text, queried as `name(en = "…")`.
    LocalizedString,
    /// A `CentPrecisionMoney`, queried as `price(centAmount > 100 and currencyCode = "EUR")`.
    Money,
    /// A reference `{typeId, id}`, queried as `ref(id = "…")`.
    Reference,
    /// A set of values of the element type, with any-element semantics (`=`, `in`,
    /// `contains any|all`, `is empty`; `field(…)` for sets of objects). A set of sets is not a
    /// type commercetools has; it is treated like an undeclared field.
    Set(Box<CustomFieldType>),
}

impl CustomFieldType {
    /// The schema type that describes how the stored value is queried.
    pub(crate) fn field_type(&self) -> FieldType {
        match self {
            CustomFieldType::String | CustomFieldType::Enum | CustomFieldType::LocalizedEnum => {
                FieldType::String
            }
            CustomFieldType::Number => FieldType::Number,
            CustomFieldType::Boolean => FieldType::Bool,
            CustomFieldType::Date => FieldType::Date,
            CustomFieldType::Time => FieldType::Time,
            CustomFieldType::DateTime => FieldType::DateTime,
            CustomFieldType::LocalizedString => object(Fields::Localized),
            CustomFieldType::Money => object(Fields::Known(MONEY)),
            CustomFieldType::Reference => object(Fields::Known(REFERENCE)),
            CustomFieldType::Set(element) => match element.field_type() {
                FieldType::String => FieldType::Set(&FieldType::String),
                FieldType::Number => FieldType::Set(&FieldType::Number),
                FieldType::Bool => FieldType::Set(&FieldType::Bool),
                FieldType::Date => FieldType::Set(&FieldType::Date),
                FieldType::Time => FieldType::Set(&FieldType::Time),
                FieldType::DateTime => FieldType::Set(&FieldType::DateTime),
                FieldType::Object { fields, .. } => FieldType::ObjectArray(fields),
                _ => FieldType::Untyped,
            },
        }
    }
}

fn object(fields: Fields) -> FieldType {
    FieldType::Object {
        fields,
        always_present: false,
    }
}

/// The custom fields a caller knows the types of, by field name: typically every field of every
/// Type that may be used on the queried resource.
///
/// A name declared twice with different types is ambiguous (two Types disagree), so it is
/// queried like an undeclared name: untyped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomFieldTypes {
    /// `None` marks a conflicting declaration.
    fields: BTreeMap<String, Option<CustomFieldType>>,
}

impl CustomFieldTypes {
    /// No declared fields: every custom field is untyped (what [`crate::parse_where`] uses).
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares field `name` to have type `ty`. Declaring a name again with the same type changes
    /// nothing; with another type, the name becomes untyped for good.
    pub fn declare(&mut self, name: impl Into<String>, ty: CustomFieldType) {
        self.fields
            .entry(name.into())
            .and_modify(|known| {
                if known.as_ref() != Some(&ty) {
                    *known = None;
                }
            })
            .or_insert_with(|| Some(ty.clone()));
    }

    /// The declared type of `name`, if it has exactly one.
    pub fn get(&self, name: &str) -> Option<&CustomFieldType> {
        self.fields.get(name).and_then(Option::as_ref)
    }

    /// True when no name has a type.
    pub fn is_empty(&self) -> bool {
        self.fields.values().all(Option::is_none)
    }
}

impl<S: Into<String>> FromIterator<(S, CustomFieldType)> for CustomFieldTypes {
    fn from_iter<I: IntoIterator<Item = (S, CustomFieldType)>>(iter: I) -> Self {
        let mut types = CustomFieldTypes::new();
        for (name, ty) in iter {
            types.declare(name, ty);
        }
        types
    }
}

/// The path prefix (in predicates and sort keys) under which custom field names are typed.
pub(crate) const TYPED_PREFIX: &str = "custom.fields";

#[cfg(test)]
mod tests;
