//! Stores: the `Store` resource, its draft, the update actions Clientele implements and their
//! pure logic.
//!
//! Owns the rules of one Store (key syntax, languages among the project's, country codes,
//! Custom Fields via `custom_fields`). It must not check key uniqueness (the store crate does)
//! nor whether customers still belong to the Store (the store crate does, on delete). Channels
//! and Product Selections do not exist in Clientele: the fields are always empty and drafts
//! naming any are refused with `ReferencedResourceNotFound`.

mod model;

use crate::custom::CustomFieldsDraft;
use crate::custom_fields::{build_custom_fields, set_custom_field, set_custom_type};
use crate::custom_type::LocalizedString;
use crate::error::DomainError;
use crate::newtypes::{Key, Version};
use crate::project::Project;
use crate::reference::ResourceIdentifier;
use crate::resolve::{Lookup, Resolved, Wanted, STORE};
pub use model::{Store, StoreCountry};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// What `POST /{projectKey}/stores` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreDraft {
    /// User-defined unique key (required).
    pub key: String,
    /// The Store's name.
    #[serde(default)]
    pub name: Option<LocalizedString>,
    /// Languages; each must be a project language.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    /// Countries.
    #[serde(default)]
    pub countries: Option<Vec<StoreCountry>>,
    /// Distribution Channels; any entry is not found.
    #[serde(default)]
    pub distribution_channels: Option<Vec<ResourceIdentifier>>,
    /// Supply Channels; any entry is not found.
    #[serde(default)]
    pub supply_channels: Option<Vec<ResourceIdentifier>>,
    /// Product Selections; any entry is not found.
    #[serde(default)]
    pub product_selections: Option<Vec<Value>>,
    /// Custom Fields.
    #[serde(default)]
    pub custom: Option<CustomFieldsDraft>,
}

impl StoreDraft {
    /// The Types the draft names.
    pub fn wanted(&self) -> Wanted {
        Wanted::for_custom_draft(self.custom.as_ref())
    }
}

/// One update action on a Store that Clientele implements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StoreUpdateAction {
    /// Sets or removes the name.
    SetName {
        /// The new name; absent removes it.
        #[serde(default)]
        name: Option<LocalizedString>,
    },
    /// Replaces the languages.
    SetLanguages {
        /// The languages; absent empties the list.
        #[serde(default)]
        languages: Option<Vec<String>>,
    },
    /// Replaces the countries.
    SetCountries {
        /// The countries; absent empties the list.
        #[serde(default)]
        countries: Option<Vec<StoreCountry>>,
    },
    /// Sets or removes the Custom Type (and all fields).
    SetCustomType {
        /// The Type; absent removes type and fields.
        #[serde(default, rename = "type")]
        type_: Option<ResourceIdentifier>,
        /// Field values.
        #[serde(default)]
        fields: Option<Map<String, Value>>,
    },
    /// Sets or removes one Custom Field.
    SetCustomField {
        /// Field name.
        name: String,
        /// Value; absent or null removes it.
        #[serde(default)]
        value: Option<Value>,
    },
}

impl StoreUpdateAction {
    /// The Types applying `actions` to `store` may need (named ones and the current one).
    pub fn wanted(store: &Store, actions: &[StoreUpdateAction]) -> Wanted {
        let mut w = Wanted::default();
        for a in actions {
            match a {
                StoreUpdateAction::SetCustomType { type_: Some(t), .. } => w.custom_type(t),
                StoreUpdateAction::SetCustomField { .. } => {
                    w.current_custom_type(store.custom.as_ref());
                }
                _ => {}
            }
        }
        w
    }
}

/// Store update actions commercetools has that Clientele does not implement: they all concern
/// Channels, Product Selections or storefront settings, which Clientele does not have.
const UNSUPPORTED_STORE_ACTIONS: &[&str] = &[
    "addCountry",
    "removeCountry",
    "addDistributionChannel",
    "removeDistributionChannel",
    "setDistributionChannels",
    "addSupplyChannel",
    "removeSupplyChannel",
    "setSupplyChannels",
    "addProductSelection",
    "removeProductSelection",
    "changeProductSelectionActive",
    "setProductSelections",
];

/// Reads one Store update action from JSON. Known but unimplemented actions are
/// `InvalidOperation` naming the action; anything else malformed is `InvalidJsonInput`.
pub fn parse_store_action(v: &Value) -> Result<StoreUpdateAction, DomainError> {
    if let Some(name) = v.get("action").and_then(Value::as_str) {
        if UNSUPPORTED_STORE_ACTIONS.contains(&name) {
            return Err(DomainError::InvalidOperation(format!(
                "The update action '{name}' is not supported yet."
            )));
        }
    }
    serde_json::from_value(v.clone())
        .map_err(|e| DomainError::invalid_json(format!("actions: {e}")))
}

/// `ProjectNotConfiguredForLanguages` unless every language is one of the project's.
fn check_languages(project: &Project, languages: &[String]) -> Result<(), DomainError> {
    let missing: Vec<String> = languages
        .iter()
        .filter(|l| !project.supports_locale(l))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(DomainError::ProjectNotConfiguredForLanguages { languages: missing })
}

/// `InvalidInput` unless every code is an ISO 3166-1 alpha-2 shape (two uppercase letters).
fn check_countries(countries: &[StoreCountry]) -> Result<(), DomainError> {
    for c in countries {
        let ok = c.code.len() == 2 && c.code.bytes().all(|b| b.is_ascii_uppercase());
        if !ok {
            return Err(DomainError::InvalidField {
                field: "countries".to_owned(),
                invalid_value: Value::String(c.code.clone()),
                allowed_values: None,
            });
        }
    }
    Ok(())
}

/// Removes repeated entries, keeping the first of each.
fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

/// The `ReferencedResourceNotFound` for the first entry of a list of resources Clientele does
/// not have (Channels, Product Selections), if the list has any.
fn nothing_named(type_id: &str, ids: &[ResourceIdentifier]) -> Result<(), DomainError> {
    let Some(first) = ids.first() else {
        return Ok(());
    };
    let l = Lookup::of(first, type_id)?;
    Err(l.not_found(type_id))
}

/// Builds a version-1 Store from a draft.
pub fn create_store(
    draft: StoreDraft,
    id: String,
    now: OffsetDateTime,
    project: &Project,
    resolved: &Resolved,
) -> Result<Store, DomainError> {
    Key::parse(&draft.key, "key")?;
    let languages = dedup(draft.languages.as_deref().unwrap_or_default());
    check_languages(project, &languages)?;
    let countries = dedup(draft.countries.as_deref().unwrap_or_default());
    check_countries(&countries)?;
    nothing_named(
        "channel",
        draft.distribution_channels.as_deref().unwrap_or_default(),
    )?;
    nothing_named(
        "channel",
        draft.supply_channels.as_deref().unwrap_or_default(),
    )?;
    if let Some(first) = draft
        .product_selections
        .as_deref()
        .unwrap_or_default()
        .first()
    {
        let ri: ResourceIdentifier = first
            .get("productSelection")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        nothing_named("product-selection", &[ri])?;
    }
    let custom = draft
        .custom
        .as_ref()
        .map(|c| build_custom_fields(c, resolved, STORE))
        .transpose()?;
    Ok(Store {
        id,
        version: Version::FIRST,
        created_at: now,
        last_modified_at: now,
        last_modified_by: None,
        created_by: None,
        key: draft.key,
        name: draft.name,
        languages,
        countries,
        distribution_channels: Vec::new(),
        supply_channels: Vec::new(),
        product_selections: Vec::new(),
        custom,
    })
}

/// Applies a request's actions in order, all or nothing; bumps `version` and sets
/// `lastModifiedAt` once if anything changed.
pub fn apply_store_actions(
    store: Store,
    actions: &[StoreUpdateAction],
    now: OffsetDateTime,
    project: &Project,
    resolved: &Resolved,
) -> Result<Store, DomainError> {
    use StoreUpdateAction as A;
    let mut s = store.clone();
    for action in actions {
        match action {
            A::SetName { name } => s.name.clone_from(name),
            A::SetLanguages { languages } => {
                let languages = dedup(languages.as_deref().unwrap_or_default());
                check_languages(project, &languages)?;
                s.languages = languages;
            }
            A::SetCountries { countries } => {
                let countries = dedup(countries.as_deref().unwrap_or_default());
                check_countries(&countries)?;
                s.countries = countries;
            }
            A::SetCustomType { type_, fields } => {
                set_custom_type(
                    &mut s.custom,
                    type_.as_ref(),
                    fields.as_ref(),
                    resolved,
                    STORE,
                )?;
            }
            A::SetCustomField { name, value } => {
                set_custom_field(&mut s.custom, name, value.as_ref(), resolved)?;
            }
        }
    }
    if s != store {
        s.version = s.version.next();
        s.last_modified_at = now;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project() -> Project {
        Project {
            key: "demo".into(),
            name: "Demo".into(),
            languages: vec!["en".into(), "de".into()],
            countries: vec![],
            currencies: vec![],
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn draft(v: Value) -> StoreDraft {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_draft_becomes_a_store_with_every_array_present() {
        let s = create_store(
            draft(
                json!({"key": "eu", "name": {"en": "EU"}, "languages": ["en", "en"],
                         "countries": [{"code": "DE"}]}),
            ),
            "id-1".into(),
            now(),
            &project(),
            &Resolved::EMPTY,
        )
        .unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["key"], "eu");
        assert_eq!(v["version"], 1);
        assert_eq!(v["languages"], json!(["en"]));
        assert_eq!(v["countries"], json!([{"code": "DE"}]));
        for f in [
            "distributionChannels",
            "supplyChannels",
            "productSelections",
        ] {
            assert_eq!(v[f], json!([]), "{f}");
        }
        let back: Store = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn drafts_are_validated() {
        let p = project();
        let bad_key = create_store(
            draft(json!({"key": "a"})),
            "i".into(),
            now(),
            &p,
            &Resolved::EMPTY,
        );
        assert!(matches!(bad_key, Err(DomainError::InvalidInput(_))));
        let bad_lang = create_store(
            draft(json!({"key": "eu", "languages": ["fr", "en"]})),
            "i".into(),
            now(),
            &p,
            &Resolved::EMPTY,
        );
        assert_eq!(
            bad_lang,
            Err(DomainError::ProjectNotConfiguredForLanguages {
                languages: vec!["fr".into()]
            })
        );
        let bad_country = create_store(
            draft(json!({"key": "eu", "countries": [{"code": "deu"}]})),
            "i".into(),
            now(),
            &p,
            &Resolved::EMPTY,
        );
        assert!(matches!(bad_country, Err(DomainError::InvalidField { .. })));
        let channel = create_store(
            draft(json!({"key": "eu", "distributionChannels": [{"key": "c"}]})),
            "i".into(),
            now(),
            &p,
            &Resolved::EMPTY,
        );
        assert!(
            matches!(channel, Err(DomainError::ReferencedResourceNotFound { ref type_id, .. }) if type_id == "channel")
        );
    }

    #[test]
    fn actions_change_once_and_no_ops_keep_the_version() {
        let p = project();
        let s = create_store(
            draft(json!({"key": "eu"})),
            "i".into(),
            now(),
            &p,
            &Resolved::EMPTY,
        )
        .unwrap();
        let later = now() + time::Duration::minutes(1);
        let actions = vec![
            parse_store_action(&json!({"action": "setName", "name": {"en": "EU"}})).unwrap(),
            parse_store_action(&json!({"action": "setLanguages", "languages": ["de"]})).unwrap(),
            parse_store_action(&json!({"action": "setCountries", "countries": [{"code": "AT"}]}))
                .unwrap(),
        ];
        let next = apply_store_actions(s.clone(), &actions, later, &p, &Resolved::EMPTY).unwrap();
        assert_eq!(next.version.get(), 2);
        assert_eq!(next.last_modified_at, later);
        assert_eq!(next.languages, vec!["de".to_owned()]);
        let again =
            apply_store_actions(next.clone(), &actions, later, &p, &Resolved::EMPTY).unwrap();
        assert_eq!(again, next);
        let noop = apply_store_actions(
            s.clone(),
            &[parse_store_action(&json!({"action": "setLanguages"})).unwrap()],
            later,
            &p,
            &Resolved::EMPTY,
        )
        .unwrap();
        assert_eq!(noop, s);
    }

    #[test]
    fn unsupported_actions_are_named_and_unknown_ones_are_bad_json() {
        assert_eq!(
            parse_store_action(&json!({"action": "setSupplyChannels", "supplyChannels": []})),
            Err(DomainError::InvalidOperation(
                "The update action 'setSupplyChannels' is not supported yet.".into()
            ))
        );
        assert!(matches!(
            parse_store_action(&json!({"action": "nope"})),
            Err(DomainError::InvalidJsonInput { .. })
        ));
    }
}
