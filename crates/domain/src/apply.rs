//! The pure customer logic: building a Customer from a CustomerDraft ([`create_customer`]),
//! applying one update action ([`apply`]) or a whole request's actions ([`apply_all`]), yielding
//! the new state and the Message payloads the change produces.
//!
//! Owns every validation rule that needs only the customer itself and the project settings.
//! Must not do IO, read the clock or a random source: the time, fresh ids and password hashing
//! come in through [`ApplyContext`]. Uniqueness across customers (email, key, customerNumber)
//! needs the store and is checked by the caller.
//!
//! No-op rule: an action that leaves the customer as it was produces no Message, and a request
//! whose actions leave the customer unchanged overall keeps its version and produces no
//! Messages.

mod addresses;
mod context;
mod create;
#[cfg(test)]
mod reference_tests;
mod references;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
mod wanted;

use crate::action::CustomerUpdateAction;
use crate::address::AddressRole;
use crate::customer::{AuthenticationMode, Customer};
use crate::error::DomainError;
use crate::message::MessagePayload;
use crate::newtypes::{Email, Key};
use crate::project::Project;
use crate::resolve::Resolved;
use serde_json::Value;

pub use context::ApplyContext;
pub use create::{create_customer, create_customer_with};

/// The error type of this module (kept as an alias of [`DomainError`]).
pub use crate::error::DomainError as ApplyError;

/// The most update actions one request may carry.
pub const MAX_UPDATE_ACTIONS: usize = 500;

/// Applies one update action with no references resolved (every Customer Group or Type it
/// names is not found); see [`apply_with`].
pub fn apply(
    customer: Customer,
    action: &CustomerUpdateAction,
    ctx: &mut ApplyContext<'_>,
) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
    apply_with(customer, action, ctx, &Resolved::EMPTY)
}

/// Applies one update action, looking up the Customer Groups and Types it names in
/// `resolved` (loaded by the caller from [`crate::resolve::Wanted::for_update`]). Pure: it
/// neither bumps `version` nor touches `lastModifiedAt` (see [`apply_all_with`]); an action that
/// changes nothing yields no Message.
pub fn apply_with(
    customer: Customer,
    action: &CustomerUpdateAction,
    ctx: &mut ApplyContext<'_>,
    resolved: &Resolved,
) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
    use CustomerUpdateAction as A;
    let mut c = customer;
    let mut messages = Vec::new();
    match action {
        A::ChangeEmail { email } => {
            let email = Email::parse(email)?;
            if c.email != email.as_ref() {
                let old_email = std::mem::replace(&mut c.email, email.as_ref().to_owned());
                c.is_email_verified = false;
                messages.push(MessagePayload::CustomerEmailChanged {
                    email: c.email.clone(),
                    old_email,
                });
            }
        }
        A::SetFirstName { first_name } => {
            if set(&mut c.first_name, first_name) {
                messages.push(MessagePayload::CustomerFirstNameSet {
                    first_name: first_name.clone(),
                });
            }
        }
        A::SetLastName { last_name } => {
            if set(&mut c.last_name, last_name) {
                messages.push(MessagePayload::CustomerLastNameSet {
                    last_name: last_name.clone(),
                });
            }
        }
        A::SetTitle { title } => {
            if set(&mut c.title, title) {
                messages.push(MessagePayload::CustomerTitleSet {
                    title: title.clone(),
                });
            }
        }
        A::SetCompanyName { company_name } => {
            if set(&mut c.company_name, company_name) {
                messages.push(MessagePayload::CustomerCompanyNameSet {
                    company_name: company_name.clone(),
                });
            }
        }
        A::SetDateOfBirth { date_of_birth } => {
            if set(&mut c.date_of_birth, date_of_birth) {
                messages.push(MessagePayload::CustomerDateOfBirthSet {
                    date_of_birth: *date_of_birth,
                });
            }
        }
        A::SetExternalId { external_id } => {
            if set(&mut c.external_id, external_id) {
                messages.push(MessagePayload::CustomerExternalIdSet {
                    external_id: external_id.clone(),
                });
            }
        }
        A::SetMiddleName { middle_name } => {
            set(&mut c.middle_name, middle_name);
        }
        A::SetSalutation { salutation } => {
            set(&mut c.salutation, salutation);
        }
        A::SetVatId { vat_id } => {
            set(&mut c.vat_id, vat_id);
        }
        A::SetLocale { locale } => {
            if let Some(l) = locale {
                check_locale(ctx.project, l)?;
            }
            set(&mut c.locale, locale);
        }
        A::SetKey { key } => {
            if let Some(k) = key {
                Key::parse(k, "key")?;
            }
            set(&mut c.key, key);
        }
        A::SetCustomerNumber { customer_number } => {
            set_customer_number(&mut c, customer_number)?;
        }
        A::SetAuthenticationMode {
            auth_mode,
            password,
        } => set_authentication_mode(&mut c, *auth_mode, password.as_deref(), ctx)?,
        A::AddAddress { address } => {
            messages.extend(addresses::add_address(&mut c, address, ctx, resolved)?);
        }
        A::ChangeAddress {
            address_id,
            address_key,
            address,
        } => {
            let target = addresses::resolve(&c, address_id, address_key)?;
            messages.extend(addresses::change_address(
                &mut c, target, address, resolved,
            )?);
        }
        A::RemoveAddress {
            address_id,
            address_key,
        } => {
            let target = addresses::resolve(&c, address_id, address_key)?;
            messages.extend(addresses::remove_address(&mut c, target));
        }
        A::SetDefaultShippingAddress {
            address_id,
            address_key,
        } => messages.extend(addresses::set_default(
            &mut c,
            AddressRole::Shipping,
            address_id,
            address_key,
        )?),
        A::SetDefaultBillingAddress {
            address_id,
            address_key,
        } => messages.extend(addresses::set_default(
            &mut c,
            AddressRole::Billing,
            address_id,
            address_key,
        )?),
        A::AddShippingAddressId {
            address_id,
            address_key,
        } => {
            let target = addresses::resolve(&c, address_id, address_key)?;
            messages.extend(addresses::add_to_list(
                &mut c,
                AddressRole::Shipping,
                target,
            ));
        }
        A::AddBillingAddressId {
            address_id,
            address_key,
        } => {
            let target = addresses::resolve(&c, address_id, address_key)?;
            messages.extend(addresses::add_to_list(&mut c, AddressRole::Billing, target));
        }
        A::RemoveShippingAddressId {
            address_id,
            address_key,
        } => {
            let target = addresses::resolve(&c, address_id, address_key)?;
            messages.extend(addresses::remove_from_list(
                &mut c,
                AddressRole::Shipping,
                target,
            )?);
        }
        A::RemoveBillingAddressId {
            address_id,
            address_key,
        } => {
            let target = addresses::resolve(&c, address_id, address_key)?;
            messages.extend(addresses::remove_from_list(
                &mut c,
                AddressRole::Billing,
                target,
            )?);
        }
        A::SetCustomerGroup { customer_group } => {
            messages.extend(references::set_customer_group(
                &mut c,
                customer_group.as_ref(),
                resolved,
            )?);
        }
        A::SetCustomerGroupAssignments {
            customer_group_assignments,
        } => messages.extend(references::set_assignments(
            &mut c,
            customer_group_assignments,
            resolved,
        )?),
        A::AddCustomerGroupAssignment {
            customer_group_assignment,
        } => messages.extend(references::add_assignment(
            &mut c,
            &customer_group_assignment.customer_group,
            resolved,
        )?),
        A::RemoveCustomerGroupAssignment { customer_group } => {
            messages.extend(references::remove_assignment(
                &mut c,
                customer_group,
                resolved,
            )?);
        }
        A::SetCustomType { type_, fields } => {
            messages.extend(references::set_custom_type(
                &mut c,
                type_.as_ref(),
                fields.as_ref(),
                resolved,
            )?);
        }
        A::SetCustomField { name, value } => {
            messages.extend(references::set_custom_field(
                &mut c,
                name,
                value.as_ref(),
                resolved,
            )?);
        }
        A::SetAddressCustomType {
            address_id,
            type_,
            fields,
        } => messages.extend(references::set_address_custom_type(
            &mut c,
            address_id,
            type_.as_ref(),
            fields.as_ref(),
            resolved,
        )?),
        A::SetAddressCustomField {
            address_id,
            name,
            value,
        } => messages.extend(references::set_address_custom_field(
            &mut c,
            address_id,
            name,
            value.as_ref(),
            resolved,
        )?),
        A::SetStores { stores } => {
            messages.extend(references::set_stores(&mut c, stores, resolved)?);
        }
        A::AddStore { store } => references::add_store(&mut c, store, resolved)?,
        A::RemoveStore { store } => references::remove_store(&mut c, store, resolved)?,
    }
    Ok((c, messages))
}

/// [`apply_all_with`] with no references resolved.
pub fn apply_all(
    customer: Customer,
    actions: &[CustomerUpdateAction],
    ctx: &mut ApplyContext<'_>,
) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
    apply_all_with(customer, actions, ctx, &Resolved::EMPTY)
}

/// Applies a request's actions in order, all or nothing (the first error is returned and the
/// caller keeps the original). At most [`MAX_UPDATE_ACTIONS`] actions (else `InvalidInput`).
/// Customer Groups and Types are looked up in `resolved`.
///
/// If the result differs from `customer`, `version` is bumped once and `lastModifiedAt` set to
/// `ctx.now`; otherwise `customer` comes back unchanged with no Messages.
pub fn apply_all_with(
    customer: Customer,
    actions: &[CustomerUpdateAction],
    ctx: &mut ApplyContext<'_>,
    resolved: &Resolved,
) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
    if actions.len() > MAX_UPDATE_ACTIONS {
        return Err(DomainError::InvalidInput(format!(
            "Too many update actions: {}. A request may contain at most {MAX_UPDATE_ACTIONS} update actions.",
            actions.len()
        )));
    }
    let mut current = customer.clone();
    let mut messages = Vec::new();
    for action in actions {
        let (next, produced) = apply_with(current, action, ctx, resolved)?;
        current = next;
        messages.extend(produced);
    }
    if current == customer {
        return Ok((customer, Vec::new()));
    }
    current.version = current.version.next();
    current.last_modified_at = ctx.now;
    Ok((current, messages))
}

/// Replaces an optional field; returns whether it changed.
fn set<T: PartialEq + Clone>(slot: &mut Option<T>, value: &Option<T>) -> bool {
    if slot == value {
        return false;
    }
    slot.clone_from(value);
    true
}

/// `InvalidField` on `locale` unless it is one of the project's languages.
pub(crate) fn check_locale(project: &Project, locale: &str) -> Result<(), DomainError> {
    if project.supports_locale(locale) {
        return Ok(());
    }
    Err(DomainError::InvalidField {
        field: "locale".to_owned(),
        invalid_value: Value::String(locale.to_owned()),
        allowed_values: Some(
            project
                .languages
                .iter()
                .map(|l| Value::String(l.clone()))
                .collect(),
        ),
    })
}

/// `setCustomerNumber`: may be set while unset; once set only the identical value is accepted
/// (a no-op).
fn set_customer_number(c: &mut Customer, value: &Option<String>) -> Result<(), DomainError> {
    match &c.customer_number {
        None => {
            set(&mut c.customer_number, value);
            Ok(())
        }
        Some(current) if value.as_ref() == Some(current) => Ok(()),
        Some(_) => Err(DomainError::invalid_operation(
            "The customerNumber is already set and cannot be changed.",
        )),
    }
}

/// `setAuthenticationMode`: switching to `ExternalAuth` deletes the password; switching to
/// `Password` requires a non-empty password, which is hashed.
fn set_authentication_mode(
    c: &mut Customer,
    mode: AuthenticationMode,
    password: Option<&str>,
    ctx: &mut ApplyContext<'_>,
) -> Result<(), DomainError> {
    if c.authentication_mode == mode {
        let name = match mode {
            AuthenticationMode::Password => "Password",
            AuthenticationMode::ExternalAuth => "ExternalAuth",
        };
        return Err(DomainError::InvalidOperation(format!(
            "The customer is already using the authentication mode '{name}'."
        )));
    }
    match mode {
        AuthenticationMode::ExternalAuth => c.password = None,
        AuthenticationMode::Password => {
            let password = required_password(password)?;
            c.password = Some((ctx.hash_password)(password)?);
        }
    }
    c.authentication_mode = mode;
    Ok(())
}

/// A non-empty password, or `RequiredField` on `password`.
pub(crate) fn required_password(password: Option<&str>) -> Result<&str, DomainError> {
    password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| DomainError::RequiredField {
            field: "password".to_owned(),
        })
}
