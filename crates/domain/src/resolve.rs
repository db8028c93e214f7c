//! Reference resolution as pure data: [`Wanted`] lists the Customer Groups, Types and Stores a
//! draft or update names (for customers it is filled in `apply::wanted`), the service loads them from the store into a [`Resolved`],
//! and the apply logic looks them up there. An identifier missing from `Resolved` is a
//! `ReferencedResourceNotFound`.
//!
//! Owns the `ResourceIdentifier` rules (exactly one of `id` / `key`, matching `typeId`). It must
//! not do IO: loading is the caller's job, so the domain stays testable without a store.

use crate::custom::{CustomFields, CustomFieldsDraft};
use crate::custom_type::Type;
use crate::customer_group::CustomerGroup;
use crate::error::DomainError;
use crate::reference::{KeyReference, ResourceIdentifier};
use crate::store::Store;

/// The `typeId` of Customer Groups.
pub const CUSTOMER_GROUP: &str = "customer-group";
/// The `typeId` of Types.
pub const TYPE: &str = "type";
/// The `typeId` of Stores.
pub const STORE: &str = "store";

/// How an identifier names a resource once checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lookup {
    /// By id.
    Id(String),
    /// By key.
    Key(String),
}

impl Lookup {
    /// Checks `ri` names exactly one of id / key and, if it has a `typeId`, that it is
    /// `type_id`; both violations are `InvalidJsonInput`, as commercetools reports them.
    pub fn of(ri: &ResourceIdentifier, type_id: &str) -> Result<Lookup, DomainError> {
        ri.check_type_id(type_id)?;
        match (&ri.id, &ri.key) {
            (Some(id), None) => Ok(Lookup::Id(id.clone())),
            (None, Some(key)) => Ok(Lookup::Key(key.clone())),
            _ => Err(DomainError::invalid_json(format!(
                "A ResourceIdentifier of type '{type_id}' must have exactly one of 'id' or 'key'."
            ))),
        }
    }

    /// The `ReferencedResourceNotFound` for this lookup.
    pub fn not_found(&self, type_id: &str) -> DomainError {
        let (predicate, id, key) = match self {
            Lookup::Id(id) => (format!("with id '{id}'"), Some(id.clone()), None),
            Lookup::Key(key) => (format!("with key '{key}'"), None, Some(key.clone())),
        };
        DomainError::ReferencedResourceNotFound {
            type_id: type_id.to_owned(),
            predicate,
            id,
            key,
        }
    }
}

/// The Customer Groups and Types a request names, to be loaded before applying it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Customer Groups by id or key.
    pub customer_groups: Vec<Lookup>,
    /// Types by id or key.
    pub types: Vec<Lookup>,
    /// Stores by id or key.
    pub stores: Vec<Lookup>,
}

impl Wanted {
    /// Whether nothing needs loading.
    pub fn is_empty(&self) -> bool {
        self.customer_groups.is_empty() && self.types.is_empty() && self.stores.is_empty()
    }

    pub(crate) fn store(&mut self, ri: &ResourceIdentifier) {
        if let Ok(l) = Lookup::of(ri, STORE) {
            if !self.stores.contains(&l) {
                self.stores.push(l);
            }
        }
    }

    pub(crate) fn group(&mut self, ri: &ResourceIdentifier) {
        // Malformed identifiers are reported by the apply logic, with the action's context.
        if let Ok(l) = Lookup::of(ri, CUSTOMER_GROUP) {
            if !self.customer_groups.contains(&l) {
                self.customer_groups.push(l);
            }
        }
    }

    pub(crate) fn type_(&mut self, ri: &ResourceIdentifier) {
        if let Ok(l) = Lookup::of(ri, TYPE) {
            self.type_id_or_key(l);
        }
    }

    pub(crate) fn type_id_or_key(&mut self, l: Lookup) {
        if !self.types.contains(&l) {
            self.types.push(l);
        }
    }

    /// What the draft of a resource with Custom Fields only (Customer Group, Store) names: the
    /// Type of `custom`.
    pub fn for_custom_draft(custom: Option<&CustomFieldsDraft>) -> Wanted {
        let mut w = Wanted::default();
        if let Some(c) = custom {
            w.custom_type(&c.type_);
        }
        w
    }

    /// Adds the Type a Customer Group's or Store's `setCustomType` names. Malformed
    /// identifiers are skipped: the apply logic reports them, with the action's context.
    pub fn custom_type(&mut self, ri: &ResourceIdentifier) {
        if let Ok(l) = Lookup::of(ri, TYPE) {
            self.types.push(l);
        }
    }

    /// Adds the Type a Customer Group's or Store's `setCustomField` needs: the one `current`
    /// (the resource's Custom Fields) already uses.
    pub fn current_custom_type(&mut self, current: Option<&CustomFields>) {
        if let Some(c) = current {
            self.types.push(Lookup::Id(c.type_.id.clone()));
        }
    }
}

/// The loaded resources a request names. Lookups by id and key; whatever is missing was not
/// found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolved {
    /// The Customer Groups found.
    pub customer_groups: Vec<CustomerGroup>,
    /// The Types found.
    pub types: Vec<Type>,
    /// The Stores found.
    pub stores: Vec<Store>,
}

impl Resolved {
    /// Nothing resolved: every reference is not found.
    pub const EMPTY: Resolved = Resolved {
        customer_groups: Vec::new(),
        types: Vec::new(),
        stores: Vec::new(),
    };

    /// The Customer Group `ri` names, or `ReferencedResourceNotFound`.
    pub fn customer_group(&self, ri: &ResourceIdentifier) -> Result<&CustomerGroup, DomainError> {
        let l = Lookup::of(ri, CUSTOMER_GROUP)?;
        self.customer_groups
            .iter()
            .find(|g| match &l {
                Lookup::Id(id) => &g.id == id,
                Lookup::Key(key) => g.key.as_ref() == Some(key),
            })
            .ok_or_else(|| l.not_found(CUSTOMER_GROUP))
    }

    /// The Type `ri` names, or `ReferencedResourceNotFound`.
    pub fn custom_type(&self, ri: &ResourceIdentifier) -> Result<&Type, DomainError> {
        let l = Lookup::of(ri, TYPE)?;
        self.find_type(&l).ok_or_else(|| l.not_found(TYPE))
    }

    /// The Type with `id` (already on a resource), or `ReferencedResourceNotFound`.
    pub fn custom_type_by_id(&self, id: &str) -> Result<&Type, DomainError> {
        let l = Lookup::Id(id.to_owned());
        self.find_type(&l).ok_or_else(|| l.not_found(TYPE))
    }

    /// The `StoreKeyReference` to the Store `ri` names (by id or key), or
    /// `ReferencedResourceNotFound`.
    pub fn store(&self, ri: &ResourceIdentifier) -> Result<KeyReference, DomainError> {
        let l = Lookup::of(ri, STORE)?;
        self.stores
            .iter()
            .find(|s| match &l {
                Lookup::Id(id) => &s.id == id,
                Lookup::Key(key) => &s.key == key,
            })
            .map(|s| KeyReference {
                type_id: STORE.to_owned(),
                key: s.key.clone(),
            })
            .ok_or_else(|| l.not_found(STORE))
    }

    fn find_type(&self, l: &Lookup) -> Option<&Type> {
        self.types.iter().find(|t| match l {
            Lookup::Id(id) => &t.id == id,
            Lookup::Key(key) => &t.key == key,
        })
    }
}
