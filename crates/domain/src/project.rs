//! Project settings that customer validation depends on (languages for `locale`).

use serde::{Deserialize, Serialize};

/// A commercetools Project: the tenant every API path starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// The project key (`/{projectKey}/...`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// IETF language tags customers' `locale` must be one of.
    pub languages: Vec<String>,
    /// ISO 3166-1 country codes.
    pub countries: Vec<String>,
    /// ISO 4217 currency codes.
    pub currencies: Vec<String>,
}

impl Project {
    /// Whether `locale` is one of the project's languages (compared case-insensitively, as
    /// IETF tags are).
    pub fn supports_locale(&self, locale: &str) -> bool {
        self.languages
            .iter()
            .any(|l| l.eq_ignore_ascii_case(locale))
    }
}
