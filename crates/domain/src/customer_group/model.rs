//! The stored `CustomerGroup` as data, apart from the rules in `customer_group`, so that
//! `resolve::Resolved` can hold groups without depending on the rules that use it.

use crate::custom::CustomFields;
use crate::logging::ClientLogging;
use crate::newtypes::Version;
use crate::serde_formats::datetime;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The commercetools `CustomerGroup` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroup {
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
    /// User-defined unique key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The group's name.
    pub name: String,
    /// Custom Fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomFields>,
}
