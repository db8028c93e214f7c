//! The `custom` field of a resource, as stored and as drafted: shared by customers, addresses,
//! Customer Groups and Stores. Pure data; the rules live in `custom_fields`.

use crate::reference::{Reference, ResourceIdentifier};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Custom Fields as stored on a resource: a Type reference plus field values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFields {
    /// The Type that defines the fields.
    #[serde(rename = "type")]
    pub type_: Reference,
    /// Field name → value.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

/// Custom Fields as sent in drafts: a Type by id or key plus field values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldsDraft {
    /// The Type that defines the fields.
    #[serde(rename = "type")]
    pub type_: ResourceIdentifier,
    /// Field name → value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Map<String, Value>>,
}
