//! References between resources: `Reference` (by id, expandable), `KeyReference` (by key, never
//! expanded) and `ResourceIdentifier` (what drafts send: id or key).

use serde::{Deserialize, Serialize};

/// A reference to another resource by id, as returned in resources (`{"typeId","id"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// The referenced resource type, for example `customer-group`.
    pub type_id: String,
    /// The referenced resource's id.
    pub id: String,
}

impl Reference {
    /// Builds a reference of `type_id` to `id`.
    pub fn new(type_id: &str, id: impl Into<String>) -> Self {
        Reference {
            type_id: type_id.to_owned(),
            id: id.into(),
        }
    }
}

/// A reference by key (`StoreKeyReference` and friends); not expandable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyReference {
    /// The referenced resource type, for example `store`.
    pub type_id: String,
    /// The referenced resource's key.
    pub key: String,
}

/// The `typeId` of Carts, which drafts and sign-ins may name but Clientele does not have.
const CART: &str = "cart";

/// What drafts and actions send to name another resource: exactly one of `id` or `key`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceIdentifier {
    /// Optional type; when present it must match the expected type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
    /// The id of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The key of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl ResourceIdentifier {
    /// `InvalidJsonInput` when the identifier has a `typeId` other than `expected`.
    pub fn check_type_id(&self, expected: &str) -> Result<(), crate::error::DomainError> {
        match self.type_id.as_deref() {
            Some(t) if t != expected => Err(crate::error::DomainError::invalid_json(format!(
                "The typeId '{t}' does not match the expected typeId '{expected}'."
            ))),
            _ => Ok(()),
        }
    }
}

/// Rejects a named cart: Clientele has no Carts, so a draft or sign-in naming one (by
/// `anonymousCart` or the deprecated `anonymousCartId`) gets `ReferencedResourceNotFound`; an
/// `anonymousCart` without exactly one of `id` and `key`, or with a `typeId` other than
/// `cart`, is `InvalidJsonInput`, as for every other `ResourceIdentifier`.
pub(crate) fn reject_named_cart(
    cart: Option<&ResourceIdentifier>,
    cart_id: Option<&String>,
) -> Result<(), crate::error::DomainError> {
    use crate::error::DomainError;
    let named = match (cart, cart_id) {
        (Some(cart), _) => cart.clone(),
        (None, Some(id)) => ResourceIdentifier {
            type_id: None,
            id: Some(id.clone()),
            key: None,
        },
        (None, None) => return Ok(()),
    };
    named.check_type_id(CART)?;
    let predicate = match (&named.id, &named.key) {
        (Some(id), None) => format!("with id '{id}'"),
        (None, Some(key)) => format!("with key '{key}'"),
        _ => {
            return Err(DomainError::invalid_json(
                "anonymousCart: exactly one of 'id' or 'key' must be set.",
            ))
        }
    };
    Err(DomainError::ReferencedResourceNotFound {
        type_id: CART.to_owned(),
        predicate,
        id: named.id,
        key: named.key,
    })
}
