//! The customer update actions that name other resources: Customer Group (legacy single group
//! and the assignment list), Custom Types / Custom Fields on the customer and its addresses, and
//! Stores.
//!
//! Looks every named resource up in the caller's [`Resolved`] (missing →
//! `ReferencedResourceNotFound`) and turns the shared custom-field outcomes into the Customer
//! Message payloads. Must not load anything itself.

use crate::custom_fields::{self, FieldChange, TypeChange};
use crate::customer::{Customer, CustomerGroupAssignment, CustomerGroupAssignmentDraft};
use crate::error::DomainError;
use crate::message::MessagePayload;
use crate::reference::{KeyReference, Reference, ResourceIdentifier};
use crate::resolve::{Resolved, CUSTOMER_GROUP};
use serde_json::{Map, Value};

/// The most Customer Groups one customer may be assigned to (digest §8).
pub(crate) const MAX_GROUP_ASSIGNMENTS: usize = 500;

/// The `resourceTypeIds` entry a Type needs to be used on customers.
const CUSTOMER: &str = "customer";
/// The `resourceTypeIds` entry a Type needs to be used on addresses.
const ADDRESS: &str = "address";

/// The reference to the group `ri` names.
fn group_ref(ri: &ResourceIdentifier, resolved: &Resolved) -> Result<Reference, DomainError> {
    let g = resolved.customer_group(ri)?;
    Ok(Reference::new(CUSTOMER_GROUP, g.id.clone()))
}

/// `setCustomerGroup`: absent removes the group.
pub(crate) fn set_customer_group(
    c: &mut Customer,
    group: Option<&ResourceIdentifier>,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let new = group.map(|g| group_ref(g, resolved)).transpose()?;
    if c.customer_group == new {
        return Ok(None);
    }
    c.customer_group.clone_from(&new);
    Ok(Some(MessagePayload::CustomerGroupSet {
        customer_group: new,
    }))
}

/// Resolves assignment drafts, rejecting more than [`MAX_GROUP_ASSIGNMENTS`] and duplicates.
pub(crate) fn assignments(
    drafts: &[CustomerGroupAssignmentDraft],
    resolved: &Resolved,
) -> Result<Vec<CustomerGroupAssignment>, DomainError> {
    check_limit(drafts.len())?;
    let mut out: Vec<CustomerGroupAssignment> = Vec::with_capacity(drafts.len());
    for d in drafts {
        let customer_group = group_ref(&d.customer_group, resolved)?;
        if out.iter().any(|a| a.customer_group == customer_group) {
            return Err(DomainError::InvalidOperation(format!(
                "The customer group with id '{}' is assigned more than once.",
                customer_group.id
            )));
        }
        out.push(CustomerGroupAssignment { customer_group });
    }
    Ok(out)
}

fn check_limit(n: usize) -> Result<(), DomainError> {
    if n > MAX_GROUP_ASSIGNMENTS {
        return Err(DomainError::InvalidOperation(format!(
            "A customer can be assigned to at most {MAX_GROUP_ASSIGNMENTS} customer groups, but {n} were given."
        )));
    }
    Ok(())
}

/// `setCustomerGroupAssignments`: replaces the list.
pub(crate) fn set_assignments(
    c: &mut Customer,
    drafts: &[CustomerGroupAssignmentDraft],
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let new = assignments(drafts, resolved)?;
    if c.customer_group_assignments == new {
        return Ok(None);
    }
    let old = std::mem::replace(&mut c.customer_group_assignments, new.clone());
    Ok(Some(MessagePayload::CustomerGroupAssignmentsSet {
        customer_group_assignments: new,
        old_customer_group_assignments: old,
    }))
}

/// `addCustomerGroupAssignment`: appends the group; already assigned is a no-op.
pub(crate) fn add_assignment(
    c: &mut Customer,
    group: &ResourceIdentifier,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let customer_group = group_ref(group, resolved)?;
    if c.customer_group_assignments
        .iter()
        .any(|a| a.customer_group == customer_group)
    {
        return Ok(None);
    }
    check_limit(c.customer_group_assignments.len() + 1)?;
    let assignment = CustomerGroupAssignment { customer_group };
    c.customer_group_assignments.push(assignment.clone());
    Ok(Some(MessagePayload::CustomerGroupAssignmentAdded {
        customer_group_assignment: assignment,
    }))
}

/// `removeCustomerGroupAssignment`: the group must be assigned (else `InvalidOperation`).
pub(crate) fn remove_assignment(
    c: &mut Customer,
    group: &ResourceIdentifier,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let customer_group = group_ref(group, resolved)?;
    let Some(i) = c
        .customer_group_assignments
        .iter()
        .position(|a| a.customer_group == customer_group)
    else {
        return Err(DomainError::InvalidOperation(format!(
            "The customer is not assigned to the customer group with id '{}'.",
            customer_group.id
        )));
    };
    let assignment = c.customer_group_assignments.remove(i);
    Ok(Some(MessagePayload::CustomerGroupAssignmentRemoved {
        customer_group_assignment: assignment,
    }))
}

/// `setCustomType` on the customer.
pub(crate) fn set_custom_type(
    c: &mut Customer,
    type_: Option<&ResourceIdentifier>,
    fields: Option<&Map<String, Value>>,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let change = custom_fields::set_custom_type(&mut c.custom, type_, fields, resolved, CUSTOMER)?;
    Ok(change.map(|ch| match ch {
        TypeChange::Set {
            custom_fields,
            previous_type_id,
        } => MessagePayload::CustomerCustomTypeSet {
            custom_fields,
            previous_type_id,
        },
        TypeChange::Removed { previous_type_id } => {
            MessagePayload::CustomerCustomTypeRemoved { previous_type_id }
        }
    }))
}

/// `setCustomField` on the customer.
pub(crate) fn set_custom_field(
    c: &mut Customer,
    name: &str,
    value: Option<&Value>,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let change = custom_fields::set_custom_field(&mut c.custom, name, value, resolved)?;
    Ok(change.map(|ch| match ch {
        FieldChange::Added { name, value } => {
            MessagePayload::CustomerCustomFieldAdded { name, value }
        }
        FieldChange::Changed {
            name,
            value,
            previous_value,
        } => MessagePayload::CustomerCustomFieldChanged {
            name,
            value,
            previous_value: Some(previous_value),
        },
        FieldChange::Removed { name } => MessagePayload::CustomerCustomFieldRemoved { name },
    }))
}

/// The index of the address with `id` (by id only: these actions have no `addressKey`).
fn address_index(c: &Customer, id: &str) -> Result<usize, DomainError> {
    c.addresses
        .iter()
        .position(|a| a.id.as_deref() == Some(id))
        .ok_or_else(|| {
            DomainError::InvalidOperation(format!(
                "The customer does not have an address with id '{id}'."
            ))
        })
}

/// `setAddressCustomType`.
pub(crate) fn set_address_custom_type(
    c: &mut Customer,
    address_id: &str,
    type_: Option<&ResourceIdentifier>,
    fields: Option<&Map<String, Value>>,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let i = address_index(c, address_id)?;
    let Some(address) = c.addresses.get_mut(i) else {
        return Ok(None);
    };
    let change =
        custom_fields::set_custom_type(&mut address.custom, type_, fields, resolved, ADDRESS)?;
    let address_id = Some(address_id.to_owned());
    Ok(change.map(|ch| match ch {
        TypeChange::Set {
            custom_fields,
            previous_type_id,
        } => MessagePayload::CustomerAddressCustomTypeSet {
            custom_fields,
            previous_type_id,
            address_id,
        },
        TypeChange::Removed { previous_type_id } => {
            MessagePayload::CustomerAddressCustomTypeRemoved {
                previous_type_id,
                address_id,
            }
        }
    }))
}

/// `setAddressCustomField`.
pub(crate) fn set_address_custom_field(
    c: &mut Customer,
    address_id: &str,
    name: &str,
    value: Option<&Value>,
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let i = address_index(c, address_id)?;
    let Some(address) = c.addresses.get_mut(i) else {
        return Ok(None);
    };
    let change = custom_fields::set_custom_field(&mut address.custom, name, value, resolved)?;
    let address_id = Some(address_id.to_owned());
    Ok(change.map(|ch| match ch {
        FieldChange::Added { name, value } => MessagePayload::CustomerAddressCustomFieldAdded {
            name,
            value,
            address_id,
        },
        FieldChange::Changed {
            name,
            value,
            previous_value,
        } => MessagePayload::CustomerAddressCustomFieldChanged {
            name,
            value,
            previous_value: Some(previous_value),
            address_id,
        },
        FieldChange::Removed { name } => {
            MessagePayload::CustomerAddressCustomFieldRemoved { name, address_id }
        }
    }))
}

/// Resolves Store identifiers to `StoreKeyReference`s, dropping repeats (first one kept).
pub(crate) fn store_refs(
    stores: &[ResourceIdentifier],
    resolved: &Resolved,
) -> Result<Vec<KeyReference>, DomainError> {
    let mut out: Vec<KeyReference> = Vec::with_capacity(stores.len());
    for ri in stores {
        let r = resolved.store(ri)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// `setStores`: replaces the Stores (empty makes the customer global); `CustomerStoresSet`.
pub(crate) fn set_stores(
    c: &mut Customer,
    stores: &[ResourceIdentifier],
    resolved: &Resolved,
) -> Result<Option<MessagePayload>, DomainError> {
    let new = store_refs(stores, resolved)?;
    if c.stores == new {
        return Ok(None);
    }
    let old_stores = std::mem::replace(&mut c.stores, new);
    Ok(Some(MessagePayload::CustomerStoresSet {
        stores: c.stores.clone(),
        old_stores,
    }))
}

/// `addStore`: adds one Store unless the customer has it already. No Message is documented.
pub(crate) fn add_store(
    c: &mut Customer,
    store: &ResourceIdentifier,
    resolved: &Resolved,
) -> Result<(), DomainError> {
    let r = resolved.store(store)?;
    if !c.stores.contains(&r) {
        c.stores.push(r);
    }
    Ok(())
}

/// `removeStore`: removes one Store if the customer has it (none left makes it global). The
/// Store must exist; removing one the customer does not have changes nothing.
pub(crate) fn remove_store(
    c: &mut Customer,
    store: &ResourceIdentifier,
    resolved: &Resolved,
) -> Result<(), DomainError> {
    let r = resolved.store(store)?;
    c.stores.retain(|s| s != &r);
    Ok(())
}
