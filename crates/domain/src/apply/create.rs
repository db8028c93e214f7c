//! Building a version-1 Customer from a whole `CustomerDraft` (sign-up).
//!
//! Validates everything that needs only the draft, the project and the resolved references
//! (Customer Groups, Types, Stores), then hashes the password last (it is the slow part). Must
//! not check uniqueness against other customers (the caller does, with the store) nor load
//! references.

use super::references::{assignments, store_refs};
use super::{addresses, check_locale, required_password, ApplyContext};
use crate::custom_fields::build_custom_fields;
use crate::customer::{AuthenticationMode, Customer, CustomerDraft};
use crate::error::DomainError;
use crate::message::MessagePayload;
use crate::newtypes::{Email, Key, Version};
use crate::reference::Reference;
use crate::resolve::{Resolved, CUSTOMER_GROUP};

/// [`create_customer_with`] with no references resolved: a draft naming a Customer Group or a
/// Type fails with `ReferencedResourceNotFound`.
pub fn create_customer(
    draft: CustomerDraft,
    id: String,
    ctx: &mut ApplyContext<'_>,
) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
    create_customer_with(draft, id, ctx, &Resolved::EMPTY)
}

/// Builds the Customer a `CustomerDraft` describes, with the given `id`, `version` 1 and
/// `createdAt` = `lastModifiedAt` = `ctx.now`, plus its `CustomerCreated` Message.
///
/// Address ids come from `ctx.new_id` (client ids are ignored); `defaultShippingAddress`,
/// `shippingAddresses`, `defaultBillingAddress` and `billingAddresses` are indices into
/// `addresses`; a default is also listed in its id list. In `ExternalAuth` mode a given
/// password is ignored and none is stored. `customerGroup`, `customerGroupAssignments` and the
/// Types of `custom` (and of each address's `custom`) and the `stores` are looked up in
/// `resolved`.
pub fn create_customer_with(
    draft: CustomerDraft,
    id: String,
    ctx: &mut ApplyContext<'_>,
    resolved: &Resolved,
) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
    let email = Email::parse(&draft.email)?;
    if let Some(key) = &draft.key {
        Key::parse(key, "key")?;
    }
    if let Some(locale) = &draft.locale {
        check_locale(ctx.project, locale)?;
    }
    crate::reference::reject_named_cart(
        draft.anonymous_cart.as_ref(),
        draft.anonymous_cart_id.as_ref(),
    )?;
    let mode = draft.authentication_mode.unwrap_or_default();
    let password = match mode {
        AuthenticationMode::Password => Some(required_password(draft.password.as_deref())?),
        AuthenticationMode::ExternalAuth => None,
    };
    let customer_group = draft
        .customer_group
        .as_ref()
        .map(|g| {
            resolved
                .customer_group(g)
                .map(|g| Reference::new(CUSTOMER_GROUP, g.id.clone()))
        })
        .transpose()?;
    let customer_group_assignments = assignments(
        draft
            .customer_group_assignments
            .as_deref()
            .unwrap_or_default(),
        resolved,
    )?;
    let custom = draft
        .custom
        .as_ref()
        .map(|c| build_custom_fields(c, resolved, "customer"))
        .transpose()?;
    let stores = store_refs(draft.stores.as_deref().unwrap_or_default(), resolved)?;

    let mut customer = Customer {
        id,
        version: Version::FIRST,
        key: draft.key.clone(),
        customer_number: draft.customer_number.clone(),
        external_id: draft.external_id.clone(),
        created_at: ctx.now,
        last_modified_at: ctx.now,
        last_modified_by: None,
        created_by: None,
        email: email.as_ref().to_owned(),
        password: None,
        first_name: draft.first_name.clone(),
        last_name: draft.last_name.clone(),
        middle_name: draft.middle_name.clone(),
        title: draft.title.clone(),
        date_of_birth: draft.date_of_birth,
        company_name: draft.company_name.clone(),
        vat_id: draft.vat_id.clone(),
        addresses: Vec::new(),
        default_shipping_address_id: None,
        shipping_address_ids: Vec::new(),
        default_billing_address_id: None,
        billing_address_ids: Vec::new(),
        is_email_verified: draft.is_email_verified.unwrap_or(false),
        customer_group,
        customer_group_assignments,
        custom,
        locale: draft.locale.clone(),
        salutation: draft.salutation.clone(),
        stores,
        authentication_mode: mode,
    };

    for address_draft in draft.addresses.clone().unwrap_or_default() {
        let address = address_draft.into_address_resolved((ctx.new_id)(), "addresses", resolved)?;
        addresses::ensure_key_free(&customer, address.key.as_deref(), None)?;
        customer.addresses.push(address);
    }
    let ids: Vec<String> = customer
        .addresses
        .iter()
        .map(|a| a.id.clone().unwrap_or_default())
        .collect();
    let (default_shipping, shipping) = role_ids(
        &ids,
        draft.default_shipping_address,
        draft.shipping_addresses.as_deref(),
        ("defaultShippingAddress", "shippingAddresses"),
    )?;
    let (default_billing, billing) = role_ids(
        &ids,
        draft.default_billing_address,
        draft.billing_addresses.as_deref(),
        ("defaultBillingAddress", "billingAddresses"),
    )?;
    customer.default_shipping_address_id = default_shipping;
    customer.shipping_address_ids = shipping;
    customer.default_billing_address_id = default_billing;
    customer.billing_address_ids = billing;

    if let Some(password) = password {
        customer.password = Some((ctx.hash_password)(password)?);
    }
    let created = MessagePayload::CustomerCreated {
        customer: Box::new(customer.clone()),
    };
    Ok((customer, vec![created]))
}

/// Maps a default index and an index list to the default id and the id list (deduplicated,
/// order preserved, default appended if not listed).
fn role_ids(
    ids: &[String],
    default: Option<i64>,
    list: Option<&[i64]>,
    (default_field, list_field): (&str, &str),
) -> Result<(Option<String>, Vec<String>), DomainError> {
    let mut listed: Vec<String> = Vec::new();
    for &index in list.unwrap_or_default() {
        let id = id_at(ids, index, list_field)?;
        if !listed.contains(&id) {
            listed.push(id);
        }
    }
    let default = default
        .map(|index| id_at(ids, index, default_field))
        .transpose()?;
    if let Some(id) = &default {
        if !listed.contains(id) {
            listed.push(id.clone());
        }
    }
    Ok((default, listed))
}

/// The id of the address at `index`, or `InvalidOperation` naming the field and the index.
fn id_at(ids: &[String], index: i64, field: &str) -> Result<String, DomainError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| ids.get(i))
        .cloned()
        .ok_or_else(|| {
            DomainError::InvalidOperation(format!(
                "The value '{index}' of field '{field}' is not a valid index into 'addresses', which has {} entries.",
                ids.len()
            ))
        })
}
