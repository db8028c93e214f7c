//! The Project resource as `GET /{projectKey}` shows it (version, createdAt, Messages, carts,
//! search indexing, … around the lists of [`Project`]) and the pure `ProjectUpdate` actions.
//!
//! Owns the rules of the Project update actions (`project-settings.md` §4.1): non-empty lists,
//! the shapes of language tags and country and currency codes, the Messages retention range.
//! Must not do IO: whether a removed language is still used by a Store is checked by the store
//! inside the update's transaction.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::error::DomainError;
use crate::logging::ClientLogging;
use crate::project::Project;
use crate::serde_formats::{datetime, format_datetime};
use crate::subscription::Secret;

/// A Project with everything its resource shows besides the lists validation reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRecord {
    /// Key, name, languages, countries, currencies.
    pub project: Project,
    /// Starts at 1; +1 per update that changes something.
    pub version: u64,
    /// When the project was created.
    pub created_at: OffsetDateTime,
    /// The rest of the resource.
    pub settings: ProjectSettings,
}

/// The Project's configuration objects; every field defaults as on a new commercetools Project.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectSettings {
    /// `YYYY-MM`, only on trial projects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_until: Option<String>,
    /// Messages Query API switch and retention.
    pub messages: MessagesConfiguration,
    /// Carts settings (defaults only: no action changes them here).
    pub carts: CartsConfiguration,
    /// Shopping Lists settings (defaults only).
    pub shopping_lists: ShoppingListsConfiguration,
    /// Inventory settings (defaults only).
    pub inventory: InventoryConfiguration,
    /// Discounts settings (defaults only).
    pub discounts: DiscountsConfiguration,
    /// Search index switches; absent until one is changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_indexing: Option<SearchIndexingConfiguration>,
    /// The introspection endpoint for tokens of an external IdP (`setExternalOAuth`); stored
    /// and shown, not used to admit tokens by this server.
    #[serde(rename = "externalOAuth", skip_serializing_if = "Option::is_none")]
    pub external_oauth: Option<ExternalOAuth>,
}

impl ProjectSettings {
    /// Whether Customer Search is switched on (activated, or its index being built).
    pub fn customer_search_on(&self) -> bool {
        self.search_indexing
            .as_ref()
            .and_then(|s| s.customers.as_ref())
            .is_some_and(|c| c.status != SearchStatus::Deactivated)
    }
}

/// `ExternalOAuth`: where tokens of an external IdP would be introspected (RFC 7662).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalOAuth {
    /// The introspection URL.
    pub url: String,
    /// The `Authorization` header sent to it; partially hidden on every read.
    pub authorization_header: Secret,
}

/// `MessagesConfiguration`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesConfiguration {
    /// Whether the Messages Query API answers.
    pub enabled: bool,
    /// Days a Message stays queryable (1..=90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_days_after_creation: Option<i64>,
}

/// `CartsConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CartsConfiguration {
    /// Days after the last change a Cart is deleted.
    pub delete_days_after_last_modification: i64,
    /// Whether a country tax rate is the fallback.
    pub country_tax_rate_fallback_enabled: bool,
}

impl Default for CartsConfiguration {
    fn default() -> Self {
        CartsConfiguration {
            delete_days_after_last_modification: 90,
            country_tax_rate_fallback_enabled: false,
        }
    }
}

/// `ShoppingListsConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ShoppingListsConfiguration {
    /// Days after the last change a Shopping List is deleted.
    pub delete_days_after_last_modification: i64,
}

impl Default for ShoppingListsConfiguration {
    fn default() -> Self {
        ShoppingListsConfiguration {
            delete_days_after_last_modification: 360,
        }
    }
}

/// `InventoryConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InventoryConfiguration {
    /// Whether expired reservations are released.
    pub release_expired_reservations: bool,
}

impl Default for InventoryConfiguration {
    fn default() -> Self {
        InventoryConfiguration {
            release_expired_reservations: true,
        }
    }
}

/// `DiscountsConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscountsConfiguration {
    /// `Stacking` or `BestDeal`.
    pub discount_combination_mode: String,
}

impl Default for DiscountsConfiguration {
    fn default() -> Self {
        DiscountsConfiguration {
            discount_combination_mode: "Stacking".to_owned(),
        }
    }
}

/// `SearchIndexingConfiguration`; only `customers` is changed by an action here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchIndexingConfiguration {
    /// Customer Search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customers: Option<SearchIndexingValues>,
}

/// `SearchIndexingConfigurationValues`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchIndexingValues {
    /// `Activated`, `Deactivated` or `Indexing`.
    pub status: SearchStatus,
    /// When this configuration last changed.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
    /// Who changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<ClientLogging>,
}

/// The status of a search index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SearchStatus {
    /// Searchable.
    Activated,
    /// Switched off.
    Deactivated,
    /// Being (re)built.
    Indexing,
}

/// `MessagesConfigurationDraft`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessagesConfigurationDraft {
    /// Whether the Messages Query API answers.
    pub enabled: bool,
    /// Retention in days, 1..=90; 15 when absent.
    #[serde(default)]
    pub delete_days_after_creation: Option<i64>,
}

/// The status `changeCustomerSearchStatus` may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SearchSwitch {
    /// Switch Customer Search on.
    Activated,
    /// Switch it off.
    Deactivated,
}

/// `ProjectUpdate` actions Clientele implements (`project-settings.md` §4.1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum ProjectUpdateAction {
    /// Renames the project.
    ChangeName {
        /// The new name; must not be empty.
        name: String,
    },
    /// Replaces the countries.
    ChangeCountries {
        /// ISO 3166-1 alpha-2 codes; at least one.
        countries: Vec<String>,
    },
    /// Replaces the currencies.
    ChangeCurrencies {
        /// ISO 4217 codes; at least one.
        currencies: Vec<String>,
    },
    /// Replaces the languages.
    ChangeLanguages {
        /// IETF language tags; at least one.
        languages: Vec<String>,
    },
    /// Sets the Messages configuration.
    #[serde(rename_all = "camelCase")]
    ChangeMessagesConfiguration {
        /// The new configuration.
        messages_configuration: MessagesConfigurationDraft,
    },
    /// Deprecated form of switching the Messages Query API (`messages.enabled`).
    #[serde(rename_all = "camelCase")]
    ChangeMessagesEnabled {
        /// The new `messages.enabled`.
        messages_enabled: bool,
    },
    /// Sets or (absent) removes the external OAuth introspection endpoint.
    SetExternalOAuth {
        /// The endpoint; absent removes it.
        #[serde(default, rename = "externalOAuth")]
        external_oauth: Option<ExternalOAuth>,
    },
    /// Switches Customer Search on or off.
    ChangeCustomerSearchStatus {
        /// The new status.
        status: SearchSwitch,
    },
}

/// Documented Project update actions Clientele does not implement: they concern carts,
/// shopping lists, products, orders, business units, discounts or inventory.
const UNSUPPORTED_PROJECT_ACTIONS: &[&str] = &[
    "changeCartsConfiguration",
    "changeCountryTaxRateFallbackEnabled",
    "changePriceRoundingMode",
    "changeTaxRoundingMode",
    "changeShoppingListsConfiguration",
    "setShippingRateInputType",
    "changeProductSearchIndexingEnabled",
    "changeOrderSearchStatus",
    "changeBusinessUnitSearchStatus",
    "changeMyBusinessUnitStatusOnCreation",
    "setMyBusinessUnitAssociateRoleOnCreation",
    "setDiscountsConfiguration",
    "setProductCatalogModel",
    "setReleaseExpiredReservations",
    "setReservationExpirationInMinutes",
];

/// Reads one Project update action from JSON. Documented but unimplemented actions are
/// `InvalidOperation` naming the action; anything else malformed is `InvalidJsonInput`.
pub fn parse_project_action(v: &Value) -> Result<ProjectUpdateAction, DomainError> {
    if let Some(name) = v.get("action").and_then(Value::as_str) {
        if UNSUPPORTED_PROJECT_ACTIONS.contains(&name) {
            return Err(DomainError::InvalidOperation(format!(
                "The update action '{name}' is not supported yet."
            )));
        }
    }
    serde_json::from_value(v.clone())
        .map_err(|e| DomainError::invalid_json(format!("actions: {e}")))
}

impl ProjectRecord {
    /// A new project's record: version 1, every setting at its default.
    pub fn new(project: Project, created_at: OffsetDateTime) -> Self {
        ProjectRecord {
            project,
            version: 1,
            created_at,
            settings: ProjectSettings::default(),
        }
    }

    /// The `Project` resource JSON.
    pub fn to_json(&self) -> Value {
        let p = &self.project;
        let mut obj = Map::new();
        obj.insert("version".into(), json!(self.version));
        obj.insert("key".into(), json!(p.key));
        obj.insert("name".into(), json!(p.name));
        obj.insert("countries".into(), json!(p.countries));
        obj.insert("currencies".into(), json!(p.currencies));
        obj.insert("languages".into(), json!(p.languages));
        obj.insert("createdAt".into(), json!(format_datetime(self.created_at)));
        let mut settings = self.settings.clone();
        if let Some(external) = &mut settings.external_oauth {
            external.authorization_header = external.authorization_header.masked();
        }
        if let Ok(Value::Object(settings)) = serde_json::to_value(&settings) {
            obj.extend(settings);
        }
        Value::Object(obj)
    }

    /// Applies `actions` in order to a copy of this record: the new record, its version one
    /// higher when anything changed, unchanged (same version) otherwise. `now` and `by` stamp
    /// a changed search status.
    pub fn apply(
        &self,
        actions: &[ProjectUpdateAction],
        now: OffsetDateTime,
        by: Option<ClientLogging>,
    ) -> Result<ProjectRecord, DomainError> {
        let mut next = self.clone();
        for action in actions {
            apply_one(&mut next, action, now, &by)?;
        }
        if next != *self {
            next.version = self.version + 1;
        }
        Ok(next)
    }
}

fn apply_one(
    r: &mut ProjectRecord,
    action: &ProjectUpdateAction,
    now: OffsetDateTime,
    by: &Option<ClientLogging>,
) -> Result<(), DomainError> {
    match action {
        ProjectUpdateAction::ChangeName { name } => {
            if name.trim().is_empty() {
                return Err(DomainError::InvalidOperation(
                    "The project name must not be empty.".to_owned(),
                ));
            }
            r.project.name = name.clone();
        }
        ProjectUpdateAction::ChangeCountries { countries } => {
            r.project.countries = checked_list("countries", countries, is_country_code)?;
        }
        ProjectUpdateAction::ChangeCurrencies { currencies } => {
            r.project.currencies = checked_list("currencies", currencies, is_currency_code)?;
        }
        ProjectUpdateAction::ChangeLanguages { languages } => {
            r.project.languages = checked_list("languages", languages, is_language_tag)?;
        }
        ProjectUpdateAction::ChangeMessagesConfiguration {
            messages_configuration: draft,
        } => {
            let days = draft.delete_days_after_creation.unwrap_or(15);
            if !(1..=90).contains(&days) {
                return Err(DomainError::InvalidInput(format!(
                    "deleteDaysAfterCreation must be between 1 and 90, got {days}."
                )));
            }
            r.settings.messages = MessagesConfiguration {
                enabled: draft.enabled,
                delete_days_after_creation: Some(days),
            };
        }
        ProjectUpdateAction::ChangeMessagesEnabled { messages_enabled } => {
            r.settings.messages.enabled = *messages_enabled;
        }
        ProjectUpdateAction::SetExternalOAuth { external_oauth } => {
            if let Some(external) = external_oauth {
                check_external_oauth(external)?;
            }
            r.settings.external_oauth = external_oauth.clone();
        }
        ProjectUpdateAction::ChangeCustomerSearchStatus { status } => {
            let status = match status {
                SearchSwitch::Activated => SearchStatus::Activated,
                SearchSwitch::Deactivated => SearchStatus::Deactivated,
            };
            let indexing = r
                .settings
                .search_indexing
                .get_or_insert_with(Default::default);
            // Asking for the status the index already has changes nothing.
            let unchanged = indexing
                .customers
                .as_ref()
                .is_some_and(|c| c.status == status);
            if !unchanged {
                indexing.customers = Some(SearchIndexingValues {
                    status,
                    last_modified_at: now,
                    last_modified_by: by.clone(),
                });
            }
            if indexing.customers.is_none() {
                r.settings.search_indexing = None;
            }
        }
    }
    Ok(())
}

/// An `ExternalOAuth` commercetools accepts: an absolute http(s) URL and a header value
/// without leading or trailing spaces (`^[^ ].+[^ ]$`).
fn check_external_oauth(external: &ExternalOAuth) -> Result<(), DomainError> {
    let url = external.url.trim();
    let absolute = ["https://", "http://"]
        .iter()
        .any(|scheme| url.len() > scheme.len() && url.starts_with(scheme));
    if !absolute || url.contains(char::is_whitespace) {
        return Err(DomainError::InvalidInput(format!(
            "externalOAuth.url must be an absolute http(s) URL, got '{}'.",
            external.url
        )));
    }
    let header = external.authorization_header.expose();
    let shaped = header.chars().count() >= 3 && !header.starts_with(' ') && !header.ends_with(' ');
    if !shaped {
        return Err(DomainError::InvalidInput(
            "externalOAuth.authorizationHeader must have at least 3 characters and no leading or trailing space."
                .to_owned(),
        ));
    }
    Ok(())
}

/// `values` without duplicates (first occurrence kept), if it is not empty and every value
/// passes `valid`: empty is `InvalidOperation`, a bad value `InvalidField` naming it.
fn checked_list(
    field: &str,
    values: &[String],
    valid: fn(&str) -> bool,
) -> Result<Vec<String>, DomainError> {
    if values.is_empty() {
        return Err(DomainError::InvalidOperation(format!(
            "The project's {field} must not be empty."
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if !valid(v) {
            return Err(DomainError::InvalidField {
                field: field.to_owned(),
                invalid_value: Value::String(v.clone()),
                allowed_values: None,
            });
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.clone());
        }
    }
    Ok(out)
}

/// ISO 3166-1 alpha-2 shape: two uppercase letters.
fn is_country_code(s: &str) -> bool {
    crate::newtypes::is_country_code(s)
}

/// ISO 4217 shape: three uppercase letters.
fn is_currency_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// An IETF language tag as commercetools accepts it: a 2–3 letter lowercase language, then
/// subtags of 1–8 letters or digits (`en`, `de-DE`, `zh-Hant-TW`).
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    lang_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record() -> ProjectRecord {
        ProjectRecord::new(
            Project {
                key: "p".into(),
                name: "P".into(),
                languages: vec!["en".into()],
                countries: vec!["DE".into()],
                currencies: vec!["EUR".into()],
            },
            datetime!(2026-01-01 0:00 UTC),
        )
    }

    fn parse(v: Value) -> Result<ProjectUpdateAction, DomainError> {
        parse_project_action(&v)
    }

    #[test]
    fn a_new_record_shows_every_required_field_with_defaults() {
        let j = record().to_json();
        assert_eq!(j["version"], 1);
        assert_eq!(j["createdAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(j["messages"], json!({"enabled": false}));
        assert_eq!(j["carts"]["deleteDaysAfterLastModification"], 90);
        assert_eq!(j["shoppingLists"]["deleteDaysAfterLastModification"], 360);
        assert_eq!(j["discounts"]["discountCombinationMode"], "Stacking");
        assert_eq!(j["inventory"]["releaseExpiredReservations"], true);
        assert!(j.get("searchIndexing").is_none());
        assert!(j.get("trialUntil").is_none());
    }

    #[test]
    fn lists_are_validated_and_deduplicated() {
        let r = record();
        let now = datetime!(2026-02-01 0:00 UTC);
        let a = parse(json!({"action":"changeLanguages","languages":["en","de-DE","en"]}));
        let next = r.apply(&[a.unwrap()], now, None).unwrap();
        assert_eq!(next.project.languages, vec!["en", "de-DE"]);
        assert_eq!(next.version, 2);
        for bad in [
            json!({"action":"changeLanguages","languages":["EN"]}),
            json!({"action":"changeCountries","countries":["de"]}),
            json!({"action":"changeCurrencies","currencies":["EURO"]}),
        ] {
            let e = r.apply(&[parse(bad).unwrap()], now, None).unwrap_err();
            assert!(matches!(e, DomainError::InvalidField { .. }), "{e:?}");
        }
        let e = r
            .apply(
                &[parse(json!({"action":"changeCurrencies","currencies":[]})).unwrap()],
                now,
                None,
            )
            .unwrap_err();
        assert!(matches!(e, DomainError::InvalidOperation(_)));
    }

    #[test]
    fn an_unchanged_record_keeps_its_version() {
        let r = record();
        let a = parse(json!({"action":"changeName","name":"P"})).unwrap();
        let next = r.apply(&[a], datetime!(2026-02-01 0:00 UTC), None).unwrap();
        assert_eq!(next.version, 1);
    }

    #[test]
    fn unsupported_and_unknown_actions_differ() {
        let e = parse(json!({"action":"changeCartsConfiguration"})).unwrap_err();
        assert!(
            matches!(e, DomainError::InvalidOperation(m) if m.contains("changeCartsConfiguration"))
        );
        let e = parse(json!({"action":"noSuchAction"})).unwrap_err();
        assert!(matches!(e, DomainError::InvalidJsonInput { .. }));
    }
}
