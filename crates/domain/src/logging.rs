//! `createdBy` / `lastModifiedBy`: who made a change, shared by every resource and Message.
//! Pure data; no rules.

use crate::reference::Reference;
use serde::{Deserialize, Serialize};

/// `createdBy` / `lastModifiedBy`: which API client made the change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientLogging {
    /// The API client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The customer acting through a password-flow token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Reference>,
    /// The anonymous session acting through an anonymous-session token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// The end user a client acted for, from the `X-External-User-ID` header (≤ 128 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_user_id: Option<String>,
    /// Always false here: no change is made by the platform itself.
    #[serde(default)]
    pub is_platform_client: bool,
}
