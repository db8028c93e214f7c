//! Loading what requests reference: fills the domain's [`Resolved`] from a [`Wanted`] list
//! (Customer Groups, Types and Stores by id or key) before the pure apply logic runs, and reads
//! Customer Groups / Types as JSON for reference expansion.
//!
//! This is the hook the customer services call: `Wanted::for_draft` / `Wanted::for_update`
//! → [`resolve`] → `create_customer_with` / `apply_all_with`. Read-only; no rules here.

use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::resolve::{Lookup, CUSTOMER_GROUP, STORE, TYPE};
use clientele_domain::{CustomerGroup, Resolved, Store, Type, Wanted};
use clientele_store::ResourceLookup;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The store lookup for a domain lookup. Ids that are not UUIDs cannot exist and are not
/// worth a query.
fn store_lookup(l: &Lookup) -> Option<ResourceLookup> {
    match l {
        Lookup::Id(id) => uuid::Uuid::parse_str(id)
            .is_ok()
            .then(|| ResourceLookup::Id(id.clone())),
        Lookup::Key(key) => Some(ResourceLookup::Key(key.clone())),
    }
}

/// Reads one resource of `type_id` from the generic table as `T`.
pub async fn load<T: DeserializeOwned>(
    state: &AppState,
    project: &str,
    type_id: &str,
    lookup: &ResourceLookup,
) -> Result<Option<T>, ApiError> {
    let Some(doc) = state.store.get_resource(project, type_id, lookup).await? else {
        return Ok(None);
    };
    serde_json::from_value(doc)
        .map(Some)
        .map_err(|e| ApiError::Internal(format!("stored {type_id} unreadable: {e}")))
}

/// Loads everything `wanted` names that exists; what is missing stays missing, and the
/// domain reports it as `ReferencedResourceNotFound` where it is used.
pub async fn resolve(
    state: &AppState,
    project: &str,
    wanted: &Wanted,
) -> Result<Resolved, ApiError> {
    let mut resolved = Resolved::default();
    for l in &wanted.customer_groups {
        let Some(lookup) = store_lookup(l) else {
            continue;
        };
        if let Some(g) = load::<CustomerGroup>(state, project, CUSTOMER_GROUP, &lookup).await? {
            if !resolved.customer_groups.iter().any(|x| x.id == g.id) {
                resolved.customer_groups.push(g);
            }
        }
    }
    for l in &wanted.types {
        let Some(lookup) = store_lookup(l) else {
            continue;
        };
        if let Some(t) = load::<Type>(state, project, TYPE, &lookup).await? {
            if !resolved.types.iter().any(|x| x.id == t.id) {
                resolved.types.push(t);
            }
        }
    }
    for l in &wanted.stores {
        let Some(lookup) = store_lookup(l) else {
            continue;
        };
        if let Some(s) = load::<Store>(state, project, STORE, &lookup).await? {
            if !resolved.stores.iter().any(|x| x.id == s.id) {
                resolved.stores.push(s);
            }
        }
    }
    Ok(resolved)
}

/// The Customer Group or Type with `id` as JSON, for expansion; `None` for other types and
/// for references that do not resolve.
pub async fn expansion_target(
    state: &AppState,
    project: &str,
    type_id: &str,
    id: &str,
) -> Result<Option<Value>, ApiError> {
    if !matches!(type_id, CUSTOMER_GROUP | TYPE) || uuid::Uuid::parse_str(id).is_err() {
        return Ok(None);
    }
    Ok(state
        .store
        .get_resource(project, type_id, &ResourceLookup::Id(id.to_owned()))
        .await?)
}
