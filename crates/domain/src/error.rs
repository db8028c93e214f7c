//! Domain errors: what a draft or update action can violate. Each variant maps to exactly one
//! commercetools error `code`; the HTTP layer owns the status table. No infrastructure types here.

use serde_json::Value;

/// A rule of the Customers API that a request broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// `InvalidInput`: a value has the right JSON type but is not acceptable.
    #[error("{0}")]
    InvalidInput(String),
    /// `InvalidOperation`: the request is well-formed but not allowed in the current state.
    #[error("{0}")]
    InvalidOperation(String),
    /// `InvalidJsonInput`: the body does not have the documented shape.
    #[error("Request body does not contain valid JSON.")]
    InvalidJsonInput {
        /// What exactly is wrong, for `detailedErrorMessage`.
        detail: String,
    },
    /// `RequiredField`: a semantically required value is missing.
    #[error("A value is required for field {field}.")]
    RequiredField {
        /// The missing field.
        field: String,
    },
    /// `InvalidField`: a value is not one of the allowed ones.
    #[error("The value {invalid_value} is not valid for field {field}.")]
    InvalidField {
        /// The offending field.
        field: String,
        /// The rejected value.
        invalid_value: Value,
        /// The values that would have been accepted, where finite.
        allowed_values: Option<Vec<Value>>,
    },
    /// `DuplicateField`: a value that must be unique already exists. commercetools words the
    /// customer email case on its own.
    #[error("{}", duplicate_message(field, duplicate_value))]
    DuplicateField {
        /// The field that must be unique.
        field: String,
        /// The value that already exists.
        duplicate_value: Value,
    },
    /// `ReferencedResourceNotFound`: a draft or action names a resource that does not exist.
    #[error("The referenced object of type '{type_id}' {predicate} was not found. It either doesn't exist, or it can't be accessed from this endpoint (e.g., if the endpoint filters by store or customer account).")]
    ReferencedResourceNotFound {
        /// The referenced resource type.
        type_id: String,
        /// `with id 'x'` or `with key 'x'`.
        predicate: String,
        /// The id, if the reference was by id.
        id: Option<String>,
        /// The key, if the reference was by key.
        key: Option<String>,
    },
    /// `ProjectNotConfiguredForLanguages`: a Store names languages the project does not have.
    #[error("The project is not configured for the languages: {}.", .languages.iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(", "))]
    ProjectNotConfiguredForLanguages {
        /// The languages the project lacks.
        languages: Vec<String>,
    },
    /// `MaxResourceLimitExceeded`: the project already has as many of a resource as allowed.
    #[error("You have exceeded the limit of {limit} resources of type '{exceeded_resource}'.")]
    MaxResourceLimitExceeded {
        /// The resource type (`subscription`).
        exceeded_resource: String,
        /// The limit.
        limit: u64,
    },
}

/// The `DuplicateField` message: a taken email names no value (it would confirm an account).
/// Otherwise the RAML template `A duplicate value $duplicateValue exists for field $field.` as
/// commercetools renders it: the value as JSON and both placeholders in single quotes
/// (`A duplicate value '"k1"' exists for field 'key'.`).
fn duplicate_message(field: &str, duplicate_value: &Value) -> String {
    if field == "email" {
        "There is already an existing customer with the provided email.".to_owned()
    } else {
        format!("A duplicate value '{duplicate_value}' exists for field '{field}'.")
    }
}

impl DomainError {
    /// Shorthand for an `InvalidOperation` with the given message.
    pub fn invalid_operation(msg: impl Into<String>) -> Self {
        DomainError::InvalidOperation(msg.into())
    }

    /// Shorthand for an `InvalidJsonInput` with the given detail.
    pub fn invalid_json(detail: impl Into<String>) -> Self {
        DomainError::InvalidJsonInput {
            detail: detail.into(),
        }
    }
}
