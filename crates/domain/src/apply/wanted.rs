//! What a customer draft or a list of customer update actions names, as a [`Wanted`] for the
//! caller to load. Lives beside the customer apply logic, so `resolve` need not know the
//! customer's draft and actions; it must not do IO.

use crate::action::CustomerUpdateAction;
use crate::customer::{Customer, CustomerDraft};
use crate::resolve::{Lookup, Wanted};

impl Wanted {
    /// What a `CustomerDraft` names: its group, group assignments, and the Types of its
    /// custom fields and of its addresses' custom fields.
    pub fn for_draft(draft: &CustomerDraft) -> Wanted {
        let mut w = Wanted::default();
        if let Some(g) = &draft.customer_group {
            w.group(g);
        }
        for a in draft.customer_group_assignments.iter().flatten() {
            w.group(&a.customer_group);
        }
        if let Some(c) = &draft.custom {
            w.type_(&c.type_);
        }
        for a in draft.addresses.iter().flatten() {
            if let Some(c) = &a.custom {
                w.type_(&c.type_);
            }
        }
        for s in draft.stores.iter().flatten() {
            w.store(s);
        }
        w
    }

    /// What applying `actions` to `customer` may need: every group and Type the actions name,
    /// plus the Types the customer and its addresses already use (for `setCustomField`).
    pub fn for_update(customer: &Customer, actions: &[CustomerUpdateAction]) -> Wanted {
        use CustomerUpdateAction as A;
        let mut w = Wanted::default();
        let mut custom_actions = false;
        for action in actions {
            match action {
                A::SetCustomerGroup {
                    customer_group: Some(g),
                } => w.group(g),
                A::SetCustomerGroupAssignments {
                    customer_group_assignments,
                } => {
                    for a in customer_group_assignments {
                        w.group(&a.customer_group);
                    }
                }
                A::AddCustomerGroupAssignment {
                    customer_group_assignment,
                } => w.group(&customer_group_assignment.customer_group),
                A::RemoveCustomerGroupAssignment { customer_group } => w.group(customer_group),
                A::SetStores { stores } => {
                    for s in stores {
                        w.store(s);
                    }
                }
                A::AddStore { store } | A::RemoveStore { store } => w.store(store),
                A::SetCustomType { type_, .. } | A::SetAddressCustomType { type_, .. } => {
                    if let Some(t) = type_ {
                        w.type_(t);
                    }
                }
                A::SetCustomField { .. } | A::SetAddressCustomField { .. } => {
                    custom_actions = true;
                }
                A::AddAddress { address } | A::ChangeAddress { address, .. } => {
                    if let Some(c) = &address.custom {
                        w.type_(&c.type_);
                    }
                }
                _ => {}
            }
        }
        if custom_actions {
            let current = customer
                .custom
                .iter()
                .chain(customer.addresses.iter().filter_map(|a| a.custom.as_ref()));
            for c in current {
                w.type_id_or_key(Lookup::Id(c.type_.id.clone()));
            }
        }
        w
    }
}
