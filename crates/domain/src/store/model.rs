//! The stored `Store` as data, apart from the rules in `store`, so that `resolve::Resolved`
//! can hold Stores without depending on the rules that use it.

use crate::custom::CustomFields;
use crate::custom_type::LocalizedString;
use crate::logging::ClientLogging;
use crate::newtypes::Version;
use crate::serde_formats::datetime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// A country a Store serves (`StoreCountry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCountry {
    /// ISO 3166-1 alpha-2 code, e.g. `DE`.
    pub code: String,
}

/// The commercetools `Store` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
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
    /// User-defined unique key; required and immutable.
    pub key: String,
    /// The Store's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<LocalizedString>,
    /// Languages of the Store (each one of the project's).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Countries of the Store.
    #[serde(default)]
    pub countries: Vec<StoreCountry>,
    /// Product distribution Channels; always empty (Clientele has no Channels).
    #[serde(default)]
    pub distribution_channels: Vec<Value>,
    /// Inventory supply Channels; always empty (Clientele has no Channels).
    #[serde(default)]
    pub supply_channels: Vec<Value>,
    /// Product Selections; always empty (Clientele has no Product Selections).
    #[serde(default)]
    pub product_selections: Vec<Value>,
    /// Custom Fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomFields>,
}
