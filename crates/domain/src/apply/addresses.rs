//! The address update actions: add, change and remove addresses, and maintain the shipping and
//! billing id lists and defaults, keeping the invariant that a default is always listed.
//!
//! Works only on the customer passed in; must not assign ids on its own (they come from
//! `ApplyContext::new_id`) nor check anything outside the customer.

use super::ApplyContext;
use crate::address::{AddressDraft, AddressRole};
use crate::customer::Customer;
use crate::error::DomainError;
use crate::message::MessagePayload;
use crate::resolve::Resolved;
use serde_json::Value;

/// The field name under which address-key clashes are reported.
pub(crate) const ADDRESS_KEY_FIELD: &str = "addresses.key";

/// Finds the index of the address named by exactly one of `address_id` / `address_key`.
///
/// Both or neither given → `InvalidInput`; no such address → `InvalidOperation`.
pub(crate) fn resolve(
    c: &Customer,
    address_id: &Option<String>,
    address_key: &Option<String>,
) -> Result<usize, DomainError> {
    match (address_id, address_key) {
        (Some(_), Some(_)) => Err(DomainError::InvalidInput(
            "Either 'addressId' or 'addressKey' must be set, not both.".to_owned(),
        )),
        (None, None) => Err(DomainError::InvalidInput(
            "One of the fields 'addressId' or 'addressKey' must be set.".to_owned(),
        )),
        (Some(id), None) => c
            .addresses
            .iter()
            .position(|a| a.id.as_deref() == Some(id))
            .ok_or_else(|| {
                DomainError::InvalidOperation(format!(
                    "The customer does not have an address with id '{id}'."
                ))
            }),
        (None, Some(key)) => c
            .addresses
            .iter()
            .position(|a| a.key.as_deref() == Some(key))
            .ok_or_else(|| {
                DomainError::InvalidOperation(format!(
                    "The customer does not have an address with key '{key}'."
                ))
            }),
    }
}

/// `DuplicateField` on `addresses.key` if an address other than `except` already uses `key`.
pub(crate) fn ensure_key_free(
    c: &Customer,
    key: Option<&str>,
    except: Option<usize>,
) -> Result<(), DomainError> {
    let Some(key) = key else { return Ok(()) };
    let taken = c
        .addresses
        .iter()
        .enumerate()
        .any(|(i, a)| Some(i) != except && a.key.as_deref() == Some(key));
    if taken {
        return Err(DomainError::DuplicateField {
            field: ADDRESS_KEY_FIELD.to_owned(),
            duplicate_value: Value::String(key.to_owned()),
        });
    }
    Ok(())
}

/// `addAddress`: appends the address under a fresh id.
pub(crate) fn add_address(
    c: &mut Customer,
    draft: &AddressDraft,
    ctx: &mut ApplyContext<'_>,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let address = draft
        .clone()
        .into_address_resolved((ctx.new_id)(), "address", resolved)?;
    ensure_key_free(c, address.key.as_deref(), None)?;
    c.addresses.push(address.clone());
    Ok(Some(MessagePayload::CustomerAddressAdded { address }))
}

/// `changeAddress`: replaces the address at `index`, keeping its id.
pub(crate) fn change_address(
    c: &mut Customer,
    index: usize,
    draft: &AddressDraft,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let Some(id) = c
        .addresses
        .get(index)
        .map(|a| a.id.clone().unwrap_or_default())
    else {
        return Ok(None);
    };
    let address = draft
        .clone()
        .into_address_resolved(id.clone(), "address", resolved)?;
    ensure_key_free(c, address.key.as_deref(), Some(index))?;
    let Some(slot) = c.addresses.get_mut(index) else {
        return Ok(None);
    };
    if *slot == address {
        return Ok(None);
    }
    *slot = address.clone();
    Ok(Some(MessagePayload::CustomerAddressChanged {
        address,
        address_roles: c.address_roles(&id),
    }))
}

/// `removeAddress`: drops the address at `index` from `addresses`, both id lists and the
/// defaults.
pub(crate) fn remove_address(c: &mut Customer, index: usize) -> Option<MessagePayload> {
    if index >= c.addresses.len() {
        return None;
    }
    let address = c.addresses.remove(index);
    let id = address.id.clone().unwrap_or_default();
    let address_roles = c.address_roles(&id);
    for role in [AddressRole::Shipping, AddressRole::Billing] {
        let (default, list) = slots(c, role);
        list.retain(|i| *i != id);
        if default.as_deref() == Some(id.as_str()) {
            *default = None;
        }
    }
    Some(MessagePayload::CustomerAddressRemoved {
        address,
        address_roles,
    })
}

/// `setDefault{Shipping,Billing}Address`: with an address, makes it the default (listing it
/// too); with neither `addressId` nor `addressKey`, unsets the default.
pub(crate) fn set_default(
    c: &mut Customer,
    role: AddressRole,
    address_id: &Option<String>,
    address_key: &Option<String>,
) -> Result<Option<MessagePayload>, DomainError> {
    if address_id.is_none() && address_key.is_none() {
        let (default, _) = slots(c, role);
        if default.take().is_none() {
            return Ok(None);
        }
        return Ok(Some(default_set_message(role, None)));
    }
    let index = resolve(c, address_id, address_key)?;
    let Some(address) = c.addresses.get(index).cloned() else {
        return Ok(None);
    };
    let id = address.id.clone().unwrap_or_default();
    let (default, list) = slots(c, role);
    let listed = list.contains(&id);
    if default.as_deref() == Some(id.as_str()) && listed {
        return Ok(None);
    }
    *default = Some(id.clone());
    if !listed {
        list.push(id);
    }
    Ok(Some(default_set_message(role, Some(address))))
}

/// `add{Shipping,Billing}AddressId`: lists the address at `index`; idempotent.
pub(crate) fn add_to_list(
    c: &mut Customer,
    role: AddressRole,
    index: usize,
) -> Option<MessagePayload> {
    let address = c.addresses.get(index)?.clone();
    let id = address.id.clone().unwrap_or_default();
    let (_, list) = slots(c, role);
    if list.contains(&id) {
        return None;
    }
    list.push(id);
    Some(match role {
        AddressRole::Shipping => MessagePayload::CustomerShippingAddressAdded { address },
        AddressRole::Billing => MessagePayload::CustomerBillingAddressAdded { address },
    })
}

/// `remove{Shipping,Billing}AddressId`: unlists the address at `index` (which must be listed)
/// and unsets the default if it was the default.
pub(crate) fn remove_from_list(
    c: &mut Customer,
    role: AddressRole,
    index: usize,
) -> Result<Option<MessagePayload>, DomainError> {
    let Some(address) = c.addresses.get(index).cloned() else {
        return Ok(None);
    };
    let id = address.id.clone().unwrap_or_default();
    let (default, list) = slots(c, role);
    let was_default = default.as_deref() == Some(id.as_str());
    if !list.contains(&id) && !was_default {
        return Err(DomainError::InvalidOperation(format!(
            "The address with id '{id}' is not in '{}'.",
            list_field(role)
        )));
    }
    list.retain(|i| *i != id);
    if was_default {
        *default = None;
    }
    Ok(Some(match role {
        AddressRole::Shipping => MessagePayload::CustomerShippingAddressRemoved { address },
        AddressRole::Billing => MessagePayload::CustomerBillingAddressRemoved { address },
    }))
}

/// The default id and the id list of one role.
fn slots(c: &mut Customer, role: AddressRole) -> (&mut Option<String>, &mut Vec<String>) {
    match role {
        AddressRole::Shipping => (
            &mut c.default_shipping_address_id,
            &mut c.shipping_address_ids,
        ),
        AddressRole::Billing => (
            &mut c.default_billing_address_id,
            &mut c.billing_address_ids,
        ),
    }
}

/// The JSON name of a role's id list.
fn list_field(role: AddressRole) -> &'static str {
    match role {
        AddressRole::Shipping => "shippingAddressIds",
        AddressRole::Billing => "billingAddressIds",
    }
}

/// `CustomerDefault{Shipping,Billing}AddressSet`.
fn default_set_message(
    role: AddressRole,
    address: Option<crate::address::Address>,
) -> MessagePayload {
    match role {
        AddressRole::Shipping => MessagePayload::CustomerDefaultShippingAddressSet { address },
        AddressRole::Billing => MessagePayload::CustomerDefaultBillingAddressSet { address },
    }
}
