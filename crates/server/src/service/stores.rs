//! Store use cases (create, read, update, delete, query; storage is the generic table, rules
//! are the domain's `clientele_domain::store`) and the [`StoreContext`] every customer use
//! case runs in: project level, or in one Store.
//!
//! In-store visibility, the one rule the customer services share (digest §2.2, §11 #7):
//! in Store `S` a customer is visible when its `stores` contains `S` or is empty (a global
//! customer: the reference page's Get Customer in Store "also consider[s] Customers that do not
//! have the stores field present"). A customer of other Stores only is `ResourceNotFound`,
//! exactly as if it did not exist. Signing in is stricter (digest §9.1): in Store `S` only
//! customers of `S`, at project level only global customers. Must not parse HTTP or talk SQL.

use super::references::resolve;
use super::resources::{self, stored_resource, ManagedResource, ResourceRef};
use super::{load_project, Actor};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::resolve::STORE;
use clientele_domain::store::{apply_store_actions, create_store, parse_store_action};
use clientele_domain::{Customer, Store, StoreDraft, StoreUpdateAction};
use clientele_store::ResourceLookup;
use serde::Deserialize;
use serde_json::Value;

stored_resource!(Store, STORE);

/// The body of `POST /{p}/stores/{id}`. Actions stay JSON until the update use case reads
/// them, so an action commercetools has but Clientele lacks is reported by name.
#[derive(Debug, Clone, Deserialize)]
pub struct StoreUpdate {
    /// Must equal the Store's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<Value>,
}

impl ManagedResource for Store {
    type Draft = StoreDraft;
    type Update = StoreUpdate;

    /// Creates a Store (key unique per project; languages among the project's).
    async fn create(
        state: &AppState,
        project_key: &str,
        actor: &Actor,
        draft: StoreDraft,
    ) -> Result<Store, ApiError> {
        let project = load_project(state, project_key).await?;
        let resolved = resolve(state, project_key, &draft.wanted()).await?;
        let store = create_store(
            draft,
            state.random.uuid(),
            state.clock.now(),
            &project,
            &resolved,
        )?;
        resources::insert(state, project_key, actor, store).await
    }

    async fn update(
        state: &AppState,
        project_key: &str,
        actor: &Actor,
        target: &ResourceRef,
        update: StoreUpdate,
    ) -> Result<Store, ApiError> {
        let actions = update
            .actions
            .iter()
            .map(parse_store_action)
            .collect::<Result<Vec<_>, _>>()?;
        let project = load_project(state, project_key).await?;
        let current: Store = resources::get(state, project_key, target).await?;
        let expected = resources::check_version(&current, update.version)?;
        let wanted = StoreUpdateAction::wanted(&current, &actions);
        let resolved = resolve(state, project_key, &wanted).await?;
        let next = apply_store_actions(current, &actions, state.clock.now(), &project, &resolved)?;
        resources::save(state, project_key, actor, next, expected).await
    }
}

/// Where a customer request runs: at project level or in one Store (by key, from the path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreContext {
    /// `/{p}/customers…`, `/{p}/login`: every customer.
    Project,
    /// `/{p}/in-store/key={storeKey}/…`: the Store's customers and the global ones.
    InStore(String),
}

impl StoreContext {
    /// The context of a request whose path names `store` (or none).
    pub fn of(store: Option<String>) -> Self {
        match store {
            Some(key) => StoreContext::InStore(key),
            None => StoreContext::Project,
        }
    }

    /// The Store key, in a Store.
    pub fn store_key(&self) -> Option<&str> {
        match self {
            StoreContext::Project => None,
            StoreContext::InStore(key) => Some(key),
        }
    }

    /// Whether `customer` is visible here (see the module docs).
    pub fn sees(&self, customer: &Customer) -> bool {
        match self {
            StoreContext::Project => true,
            StoreContext::InStore(key) => {
                customer.stores.is_empty() || customer.stores.iter().any(|s| &s.key == key)
            }
        }
    }

    /// Whether `customer` may sign in here: a global customer at project level, a customer of
    /// the Store in a Store.
    pub fn authenticates(&self, customer: &Customer) -> bool {
        match self {
            StoreContext::Project => customer.stores.is_empty(),
            StoreContext::InStore(key) => customer.stores.iter().any(|s| &s.key == key),
        }
    }

    /// Loads the Store of an in-store request: `None` at project level, the 404 naming the
    /// Store when the path's Store does not exist.
    pub async fn require(
        &self,
        state: &AppState,
        project_key: &str,
    ) -> Result<Option<Store>, ApiError> {
        let Some(key) = self.store_key() else {
            return Ok(None);
        };
        let lookup = ResourceLookup::Key(key.to_owned());
        super::references::load::<Store>(state, project_key, STORE, &lookup)
            .await?
            .map(Some)
            .ok_or_else(|| {
                ApiError::ResourceNotFound(format!("The Store with key '{key}' was not found."))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::KeyReference;

    fn customer_in(stores: &[&str]) -> Customer {
        let mut c: Customer = serde_json::from_value(serde_json::json!({
            "id": "c1", "version": 1, "createdAt": "2024-01-01T00:00:00.000Z",
            "lastModifiedAt": "2024-01-01T00:00:00.000Z", "email": "a@example.com",
            "addresses": [], "shippingAddressIds": [], "billingAddressIds": [],
            "isEmailVerified": false, "stores": [], "authenticationMode": "ExternalAuth"
        }))
        .unwrap();
        c.stores = stores
            .iter()
            .map(|k| KeyReference {
                type_id: "store".into(),
                key: (*k).into(),
            })
            .collect();
        c
    }

    #[test]
    fn visibility_and_sign_in_rules() {
        let global = customer_in(&[]);
        let in_a = customer_in(&["a"]);
        let in_ab = customer_in(&["a", "b"]);
        let project = StoreContext::of(None);
        let a = StoreContext::of(Some("a".into()));
        let b = StoreContext::of(Some("b".into()));
        let c = StoreContext::of(Some("c".into()));
        // (context, customer, sees, authenticates)
        let cases = [
            (&project, &global, true, true),
            (&project, &in_a, true, false),
            (&a, &global, true, false),
            (&a, &in_a, true, true),
            (&b, &in_a, false, false),
            (&b, &in_ab, true, true),
            (&c, &in_ab, false, false),
        ];
        for (ctx, customer, sees, authenticates) in cases {
            assert_eq!(
                ctx.sees(customer),
                sees,
                "{ctx:?} sees {:?}",
                customer.stores
            );
            assert_eq!(
                ctx.authenticates(customer),
                authenticates,
                "{ctx:?} authenticates {:?}",
                customer.stores
            );
        }
        assert_eq!(a.store_key(), Some("a"));
        assert_eq!(project.store_key(), None);
    }
}
