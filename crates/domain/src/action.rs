//! `CustomerUpdate` and the 34 `CustomerUpdateAction`s, discriminated by `action`.
//!
//! An unknown `action` value or a missing required field fails deserialization, which the HTTP
//! layer reports as `InvalidJsonInput`, as commercetools does.

use crate::address::AddressDraft;
use crate::customer::{AuthenticationMode, CustomerGroupAssignmentDraft};
use crate::reference::ResourceIdentifier;
use crate::serde_formats::date_opt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Date;

/// The body of an update request: the expected version and the actions to apply in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerUpdate {
    /// Must equal the customer's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<CustomerUpdateAction>,
}

/// One update action on a Customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CustomerUpdateAction {
    /// Sets `email` and resets `isEmailVerified`.
    ChangeEmail {
        /// The new email.
        email: String,
    },
    /// Sets or removes `firstName`.
    SetFirstName {
        /// The value; absent removes it.
        #[serde(default)]
        first_name: Option<String>,
    },
    /// Sets or removes `lastName`.
    SetLastName {
        /// The value; absent removes it.
        #[serde(default)]
        last_name: Option<String>,
    },
    /// Sets or removes `middleName`.
    SetMiddleName {
        /// The value; absent removes it.
        #[serde(default)]
        middle_name: Option<String>,
    },
    /// Sets or removes `title`.
    SetTitle {
        /// The value; absent removes it.
        #[serde(default)]
        title: Option<String>,
    },
    /// Sets or removes `salutation`.
    SetSalutation {
        /// The value; absent removes it.
        #[serde(default)]
        salutation: Option<String>,
    },
    /// Appends an address with a fresh id.
    AddAddress {
        /// The address to add.
        address: AddressDraft,
    },
    /// Replaces an address, keeping its id.
    ChangeAddress {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
        /// The new content.
        address: AddressDraft,
    },
    /// Removes an address and every mention of it.
    RemoveAddress {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Sets the default shipping address (and lists it as a shipping address).
    SetDefaultShippingAddress {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Lists an address as a shipping address.
    AddShippingAddressId {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Unlists a shipping address (unsetting the default if it was the default).
    RemoveShippingAddressId {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Sets the default billing address (and lists it as a billing address).
    SetDefaultBillingAddress {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Lists an address as a billing address.
    AddBillingAddressId {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Unlists a billing address (unsetting the default if it was the default).
    RemoveBillingAddressId {
        /// The address by id.
        #[serde(default)]
        address_id: Option<String>,
        /// The address by key.
        #[serde(default)]
        address_key: Option<String>,
    },
    /// Sets or removes the customer group.
    SetCustomerGroup {
        /// The group; absent removes it.
        #[serde(default)]
        customer_group: Option<ResourceIdentifier>,
    },
    /// Replaces all customer group assignments.
    SetCustomerGroupAssignments {
        /// The new assignments.
        customer_group_assignments: Vec<CustomerGroupAssignmentDraft>,
    },
    /// Adds one customer group assignment.
    AddCustomerGroupAssignment {
        /// The assignment to add.
        customer_group_assignment: CustomerGroupAssignmentDraft,
    },
    /// Removes one customer group assignment.
    RemoveCustomerGroupAssignment {
        /// The group to remove.
        customer_group: ResourceIdentifier,
    },
    /// Sets `customerNumber`; once set it cannot change.
    SetCustomerNumber {
        /// The value.
        #[serde(default)]
        customer_number: Option<String>,
    },
    /// Sets or removes `externalId`.
    SetExternalId {
        /// The value; absent removes it.
        #[serde(default)]
        external_id: Option<String>,
    },
    /// Sets or removes `companyName`.
    SetCompanyName {
        /// The value; absent removes it.
        #[serde(default)]
        company_name: Option<String>,
    },
    /// Sets or removes `dateOfBirth`.
    SetDateOfBirth {
        /// The value; absent removes it.
        #[serde(default, with = "date_opt")]
        date_of_birth: Option<Date>,
    },
    /// Sets or removes `vatId`.
    SetVatId {
        /// The value; absent removes it.
        #[serde(default)]
        vat_id: Option<String>,
    },
    /// Sets or removes the Custom Type (and all Custom Fields).
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
        /// Value; absent or null removes the field.
        #[serde(default)]
        value: Option<Value>,
    },
    /// Sets or removes the Custom Type of one address.
    SetAddressCustomType {
        /// The address (by id only).
        address_id: String,
        /// The Type; absent removes type and fields.
        #[serde(default, rename = "type")]
        type_: Option<ResourceIdentifier>,
        /// Field values.
        #[serde(default)]
        fields: Option<Map<String, Value>>,
    },
    /// Sets or removes one Custom Field of one address.
    SetAddressCustomField {
        /// The address (by id only).
        address_id: String,
        /// Field name.
        name: String,
        /// Value; absent or null removes the field.
        #[serde(default)]
        value: Option<Value>,
    },
    /// Sets or removes `locale` (must be a project language).
    SetLocale {
        /// The value; absent removes it.
        #[serde(default)]
        locale: Option<String>,
    },
    /// Sets or removes `key`.
    SetKey {
        /// The value; absent removes it.
        #[serde(default)]
        key: Option<String>,
    },
    /// Replaces the stores.
    SetStores {
        /// The stores; empty makes the customer global.
        stores: Vec<ResourceIdentifier>,
    },
    /// Adds one store.
    AddStore {
        /// The store.
        store: ResourceIdentifier,
    },
    /// Removes one store.
    RemoveStore {
        /// The store.
        store: ResourceIdentifier,
    },
    /// Switches between `Password` and `ExternalAuth`.
    SetAuthenticationMode {
        /// The new mode.
        auth_mode: AuthenticationMode,
        /// Plain-text password; required when switching to `Password`.
        #[serde(default)]
        password: Option<String>,
    },
}

impl CustomerUpdateAction {
    /// The wire name of the action, for error messages.
    pub fn name(&self) -> &'static str {
        use CustomerUpdateAction::*;
        match self {
            ChangeEmail { .. } => "changeEmail",
            SetFirstName { .. } => "setFirstName",
            SetLastName { .. } => "setLastName",
            SetMiddleName { .. } => "setMiddleName",
            SetTitle { .. } => "setTitle",
            SetSalutation { .. } => "setSalutation",
            AddAddress { .. } => "addAddress",
            ChangeAddress { .. } => "changeAddress",
            RemoveAddress { .. } => "removeAddress",
            SetDefaultShippingAddress { .. } => "setDefaultShippingAddress",
            AddShippingAddressId { .. } => "addShippingAddressId",
            RemoveShippingAddressId { .. } => "removeShippingAddressId",
            SetDefaultBillingAddress { .. } => "setDefaultBillingAddress",
            AddBillingAddressId { .. } => "addBillingAddressId",
            RemoveBillingAddressId { .. } => "removeBillingAddressId",
            SetCustomerGroup { .. } => "setCustomerGroup",
            SetCustomerGroupAssignments { .. } => "setCustomerGroupAssignments",
            AddCustomerGroupAssignment { .. } => "addCustomerGroupAssignment",
            RemoveCustomerGroupAssignment { .. } => "removeCustomerGroupAssignment",
            SetCustomerNumber { .. } => "setCustomerNumber",
            SetExternalId { .. } => "setExternalId",
            SetCompanyName { .. } => "setCompanyName",
            SetDateOfBirth { .. } => "setDateOfBirth",
            SetVatId { .. } => "setVatId",
            SetCustomType { .. } => "setCustomType",
            SetCustomField { .. } => "setCustomField",
            SetAddressCustomType { .. } => "setAddressCustomType",
            SetAddressCustomField { .. } => "setAddressCustomField",
            SetLocale { .. } => "setLocale",
            SetKey { .. } => "setKey",
            SetStores { .. } => "setStores",
            AddStore { .. } => "addStore",
            RemoveStore { .. } => "removeStore",
            SetAuthenticationMode { .. } => "setAuthenticationMode",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example body of the reference page's "Update actions" section, plus the
    /// addressId / addressKey forms of the address actions that have no example there.
    const EXAMPLES: &[(&str, &str)] = &[
        (
            "changeEmail",
            r#"{"action": "changeEmail","email": "email@example.com"}"#,
        ),
        (
            "setFirstName",
            r#"{"action": "setFirstName","firstName": "John"}"#,
        ),
        (
            "setLastName",
            r#"{"action": "setLastName","lastName": "Person"}"#,
        ),
        (
            "setMiddleName",
            r#"{"action": "setMiddleName","middleName": "middleName"}"#,
        ),
        ("setTitle", r#"{"action": "setTitle","title": "Dr"}"#),
        (
            "setSalutation",
            r#"{"action": "setSalutation","salutation": "Mr"}"#,
        ),
        (
            "addAddress",
            r#"{"action": "addAddress","address": {"key": "exampleKey","title": "My Address","salutation": "Mr.","firstName": "Example","lastName": "Person","streetName": "Example Street","streetNumber": "4711","additionalStreetInfo": "Backhouse","postalCode": "80933","city": "Exemplary City","region": "Exemplary Region","state": "Exemplary State","country": "DE","company": "My Company Name","department": "Sales","building": "Hightower 1","apartment": "247","pOBox": "2471","phone": "+49 89 12345678","mobile": "+49 171 2345678","email": "email@example.com","fax": "+49 89 12345679","additionalAddressInfo": "no additional Info","externalId": "Information not needed"}}"#,
        ),
        (
            "changeAddress",
            r#"{"action": "changeAddress","addressId": "{{addressId}}","address": {"key": "exampleKey","title": "My Address","salutation": "Mr.","firstName": "Example","lastName": "Person","streetName": "Example Street","streetNumber": "4711","additionalStreetInfo": "Backhouse","postalCode": "80933","city": "Exemplary City","region": "Exemplary Region","state": "Exemplary State","country": "DE","company": "My Company Name","department": "Sales","building": "Hightower 1","apartment": "247","pOBox": "2471","phone": "+49 89 12345678","mobile": "+49 171 2345678","email": "email@example.com","fax": "+49 89 12345679","additionalAddressInfo": "no additional Info","externalId": "Information not needed"}}"#,
        ),
        (
            "changeAddress",
            r#"{"action": "changeAddress","addressKey": "exampleKey","address": {"country": "US"}}"#,
        ),
        (
            "removeAddress",
            r#"{"action": "removeAddress","addressId": "{{addressId}}"}"#,
        ),
        (
            "removeAddress",
            r#"{"action": "removeAddress","addressKey": "exampleKey"}"#,
        ),
        (
            "setDefaultShippingAddress",
            r#"{"action": "setDefaultShippingAddress","addressId": "{{addressId}}"}"#,
        ),
        (
            "setDefaultShippingAddress",
            r#"{"action": "setDefaultShippingAddress","addressKey": "k"}"#,
        ),
        (
            "setDefaultShippingAddress",
            r#"{"action": "setDefaultShippingAddress"}"#,
        ),
        (
            "addShippingAddressId",
            r#"{"action": "addShippingAddressId","addressId": "{{addressId}}"}"#,
        ),
        (
            "addShippingAddressId",
            r#"{"action": "addShippingAddressId","addressKey": "k"}"#,
        ),
        (
            "removeShippingAddressId",
            r#"{"action": "removeShippingAddressId","addressId": "{{addressId}}"}"#,
        ),
        (
            "removeShippingAddressId",
            r#"{"action": "removeShippingAddressId","addressKey": "k"}"#,
        ),
        (
            "setDefaultBillingAddress",
            r#"{"action": "setDefaultBillingAddress","addressId": "{{addressId}}"}"#,
        ),
        (
            "setDefaultBillingAddress",
            r#"{"action": "setDefaultBillingAddress","addressKey": "k"}"#,
        ),
        (
            "addBillingAddressId",
            r#"{"action": "addBillingAddressId","addressId": "{{addressId}}"}"#,
        ),
        (
            "addBillingAddressId",
            r#"{"action": "addBillingAddressId","addressKey": "k"}"#,
        ),
        (
            "removeBillingAddressId",
            r#"{"action": "removeBillingAddressId","addressId": "{{addressId}}"}"#,
        ),
        (
            "removeBillingAddressId",
            r#"{"action": "removeBillingAddressId","addressKey": "k"}"#,
        ),
        (
            "setCustomerGroup",
            r#"{"action": "setCustomerGroup","customerGroup": {"id": "{{customer-group-id}}","typeId": "customer-group"}}"#,
        ),
        (
            "setCustomerGroupAssignments",
            r#"{"action": "setCustomerGroupAssignments","customerGroupAssignments": [{"customerGroup": {"key": "vip","typeId": "customer-group"}}]}"#,
        ),
        (
            "addCustomerGroupAssignment",
            r#"{"action": "addCustomerGroupAssignment","customerGroupAssignment": {"customerGroup": {"key": "vip","typeId": "customer-group"}}}"#,
        ),
        (
            "removeCustomerGroupAssignment",
            r#"{"action": "removeCustomerGroupAssignment","customerGroup": {"key": "vip","typeId": "customer-group"}}"#,
        ),
        (
            "setCustomerNumber",
            r#"{"action": "setCustomerNumber","customerNumber": "123"}"#,
        ),
        (
            "setExternalId",
            r#"{"action": "setExternalId","externalId": "123"}"#,
        ),
        (
            "setCompanyName",
            r#"{"action": "setCompanyName","companyName": "Company Ltd."}"#,
        ),
        (
            "setDateOfBirth",
            r#"{"action": "setDateOfBirth","dateOfBirth": "2015-10-21"}"#,
        ),
        ("setVatId", r#"{"action": "setVatId","vatId": "vatId"}"#),
        (
            "setCustomType",
            r#"{"action": "setCustomType","type": {"id": "{{type-id}}","typeId": "type"},"fields": {"exampleStringTypeField": "TextString"}}"#,
        ),
        (
            "setCustomField",
            r#"{"action": "setCustomField","name": "ExampleStringTypeField","value": "TextString"}"#,
        ),
        (
            "setAddressCustomType",
            r#"{"action": "setAddressCustomType","type": {"id": "{{type-id}}","typeId": "type"},"fields": {"exampleStringTypeField": "TextString"},"addressId": "{{address-id}}"}"#,
        ),
        (
            "setAddressCustomField",
            r#"{"action": "setAddressCustomField","name": "ExampleStringTypeField","value": "TextString","addressId": "{{address-id}}"}"#,
        ),
        ("setLocale", r#"{"action": "setLocale","locale": "en"}"#),
        ("setKey", r#"{"action": "setKey","key": "newKey"}"#),
        (
            "setStores",
            r#"{"action": "setStores","stores": [{"key": "{{store-key}}","typeId": "store"}]}"#,
        ),
        (
            "addStore",
            r#"{"action": "addStore","store": {"key": "{{store-key}}","typeId": "store"}}"#,
        ),
        (
            "removeStore",
            r#"{"action": "removeStore","store": {"key": "{{store-key}}","typeId": "store"}}"#,
        ),
        (
            "setAuthenticationMode",
            r#"{"action": "setAuthenticationMode","authMode": "ExternalAuth"}"#,
        ),
        (
            "setAuthenticationMode",
            r#"{"action": "setAuthenticationMode","authMode": "Password","password": "secret"}"#,
        ),
    ];

    #[test]
    fn every_reference_example_deserializes_and_round_trips() {
        let mut names = std::collections::BTreeSet::new();
        for (name, body) in EXAMPLES {
            let action: CustomerUpdateAction =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(action.name(), *name);
            let again: CustomerUpdateAction =
                serde_json::from_value(serde_json::to_value(&action).unwrap()).unwrap();
            assert_eq!(again, action);
            names.insert(*name);
        }
        assert_eq!(names.len(), 34, "one example per action type");
    }

    #[test]
    fn example_fields_land_where_expected() {
        let a: CustomerUpdateAction =
            serde_json::from_str(r#"{"action":"setDefaultShippingAddress","addressKey":"k"}"#)
                .unwrap();
        assert_eq!(
            a,
            CustomerUpdateAction::SetDefaultShippingAddress {
                address_id: None,
                address_key: Some("k".to_owned()),
            }
        );
        let a: CustomerUpdateAction =
            serde_json::from_str(r#"{"action": "setDateOfBirth","dateOfBirth": "2015-10-21"}"#)
                .unwrap();
        assert_eq!(
            a,
            CustomerUpdateAction::SetDateOfBirth {
                date_of_birth: Some(time::macros::date!(2015 - 10 - 21)),
            }
        );
        let a: CustomerUpdateAction =
            serde_json::from_str(r#"{"action": "setFirstName","firstName": null}"#).unwrap();
        assert_eq!(a, CustomerUpdateAction::SetFirstName { first_name: None });
        let a: CustomerUpdateAction = serde_json::from_str(EXAMPLES[6].1).unwrap();
        let CustomerUpdateAction::AddAddress { address } = a else {
            panic!("not addAddress")
        };
        assert_eq!(address.p_o_box.as_deref(), Some("2471"));
        assert_eq!(address.country, "DE");
    }

    #[test]
    fn malformed_actions_fail_to_deserialize() {
        for body in [
            r#"{"action": "noSuchAction"}"#,
            r#"{"action": "changeEmail"}"#,
            r#"{"action": "setAuthenticationMode","authMode": "Magic"}"#,
            r#"{"action": "setDateOfBirth","dateOfBirth": "21.10.2015"}"#,
            r#"{"action": "addAddress","address": {"city": "no country"}}"#,
        ] {
            assert!(
                serde_json::from_str::<CustomerUpdateAction>(body).is_err(),
                "{body}"
            );
        }
    }
}
