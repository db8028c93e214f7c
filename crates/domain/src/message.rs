//! Messages: the change log every customer change writes, in the same transaction as the
//! change. The envelope (`Message`) carries the payload's fields flattened beside `type`.

use crate::address::{Address, AddressRole};
use crate::custom::CustomFields;
use crate::customer::{Customer, CustomerGroupAssignment};
use crate::logging::ClientLogging;
use crate::reference::{KeyReference, Reference};
use crate::serde_formats::{date_opt, datetime};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};

/// Identifiers of the changed resource as of `resourceVersion`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProvidedIdentifiers {
    /// The resource's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The resource's external id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The customer number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
}

impl UserProvidedIdentifiers {
    /// The identifiers of `customer`, or `None` when it has none.
    pub fn of(customer: &Customer) -> Option<Self> {
        let ids = UserProvidedIdentifiers {
            key: customer.key.clone(),
            external_id: customer.external_id.clone(),
            customer_number: customer.customer_number.clone(),
        };
        (ids != UserProvidedIdentifiers::default()).then_some(ids)
    }
}

/// A stored Message (`Message` in commercetools).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Message id.
    pub id: String,
    /// Always 1: messages never change.
    pub version: u64,
    /// Per-resource counter, from 1.
    pub sequence_number: u64,
    /// The resource that changed.
    pub resource: Reference,
    /// The resource's version after the change.
    pub resource_version: u64,
    /// The resource's identifiers at that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_user_provided_identifiers: Option<UserProvidedIdentifiers>,
    /// When the change happened.
    #[serde(with = "datetime")]
    pub created_at: OffsetDateTime,
    /// Equal to `createdAt`.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
    /// Who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ClientLogging>,
    /// Who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<ClientLogging>,
    /// The type-specific payload (`type` plus its fields).
    #[serde(flatten)]
    pub payload: MessagePayload,
}

/// The Customer Message types and their payload fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum MessagePayload {
    /// A customer was created.
    CustomerCreated {
        /// The customer as created.
        customer: Box<Customer>,
    },
    /// A customer was deleted.
    CustomerDeleted {
        /// The deleted customer's email.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// `changeEmail`.
    CustomerEmailChanged {
        /// New email.
        email: String,
        /// Previous email.
        old_email: String,
    },
    /// `setFirstName`.
    CustomerFirstNameSet {
        /// New value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_name: Option<String>,
    },
    /// `setLastName`.
    CustomerLastNameSet {
        /// New value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_name: Option<String>,
    },
    /// `setTitle`.
    CustomerTitleSet {
        /// New value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// `setCompanyName`.
    CustomerCompanyNameSet {
        /// New value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        company_name: Option<String>,
    },
    /// `setDateOfBirth`.
    CustomerDateOfBirthSet {
        /// New value.
        #[serde(default, with = "date_opt", skip_serializing_if = "Option::is_none")]
        date_of_birth: Option<Date>,
    },
    /// `setExternalId`.
    CustomerExternalIdSet {
        /// New value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
    },
    /// `addAddress`.
    CustomerAddressAdded {
        /// The added address with its id.
        address: Address,
    },
    /// `changeAddress`.
    CustomerAddressChanged {
        /// The new address.
        address: Address,
        /// Its roles.
        address_roles: Vec<AddressRole>,
    },
    /// `removeAddress`.
    CustomerAddressRemoved {
        /// The removed address.
        address: Address,
        /// The roles it had.
        address_roles: Vec<AddressRole>,
    },
    /// `setDefaultShippingAddress`.
    CustomerDefaultShippingAddressSet {
        /// The new default, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Address>,
    },
    /// `setDefaultBillingAddress`.
    CustomerDefaultBillingAddressSet {
        /// The new default, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Address>,
    },
    /// `addShippingAddressId`.
    CustomerShippingAddressAdded {
        /// The address.
        address: Address,
    },
    /// `removeShippingAddressId`.
    CustomerShippingAddressRemoved {
        /// The address.
        address: Address,
    },
    /// `addBillingAddressId`.
    CustomerBillingAddressAdded {
        /// The address.
        address: Address,
    },
    /// `removeBillingAddressId`.
    CustomerBillingAddressRemoved {
        /// The address.
        address: Address,
    },
    /// `setCustomerGroup`.
    CustomerGroupSet {
        /// The new group, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customer_group: Option<Reference>,
    },
    /// `addCustomerGroupAssignment`.
    CustomerGroupAssignmentAdded {
        /// The added assignment.
        customer_group_assignment: CustomerGroupAssignment,
    },
    /// `removeCustomerGroupAssignment`.
    CustomerGroupAssignmentRemoved {
        /// The removed assignment.
        customer_group_assignment: CustomerGroupAssignment,
    },
    /// `setCustomerGroupAssignments`.
    CustomerGroupAssignmentsSet {
        /// New assignments.
        customer_group_assignments: Vec<CustomerGroupAssignment>,
        /// Previous assignments.
        old_customer_group_assignments: Vec<CustomerGroupAssignment>,
    },
    /// `setStores`.
    CustomerStoresSet {
        /// New stores.
        stores: Vec<KeyReference>,
        /// Previous stores.
        old_stores: Vec<KeyReference>,
    },
    /// `setCustomType` with a type.
    CustomerCustomTypeSet {
        /// The new custom fields.
        custom_fields: CustomFields,
        /// The previous type id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_type_id: Option<String>,
    },
    /// `setCustomType` without a type.
    CustomerCustomTypeRemoved {
        /// The previous type id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_type_id: Option<String>,
    },
    /// `setCustomField` on a new field.
    CustomerCustomFieldAdded {
        /// Field name.
        name: String,
        /// Value.
        value: Value,
    },
    /// `setCustomField` on an existing field.
    CustomerCustomFieldChanged {
        /// Field name.
        name: String,
        /// New value.
        value: Value,
        /// Old value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_value: Option<Value>,
    },
    /// `setCustomField` removing a field.
    CustomerCustomFieldRemoved {
        /// Field name.
        name: String,
    },
    /// `setAddressCustomType` with a type.
    CustomerAddressCustomTypeSet {
        /// The new custom fields.
        custom_fields: CustomFields,
        /// The previous type id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_type_id: Option<String>,
        /// The address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address_id: Option<String>,
    },
    /// `setAddressCustomType` without a type.
    CustomerAddressCustomTypeRemoved {
        /// The previous type id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_type_id: Option<String>,
        /// The address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address_id: Option<String>,
    },
    /// `setAddressCustomField` on a new field.
    CustomerAddressCustomFieldAdded {
        /// Field name.
        name: String,
        /// Value.
        value: Value,
        /// The address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address_id: Option<String>,
    },
    /// `setAddressCustomField` on an existing field.
    CustomerAddressCustomFieldChanged {
        /// Field name.
        name: String,
        /// New value.
        value: Value,
        /// Old value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_value: Option<Value>,
        /// The address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address_id: Option<String>,
    },
    /// `setAddressCustomField` removing a field.
    CustomerAddressCustomFieldRemoved {
        /// Field name.
        name: String,
        /// The address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address_id: Option<String>,
    },
    /// A password reset token was created.
    CustomerPasswordTokenCreated {
        /// The customer.
        customer_id: String,
        /// Token expiry.
        #[serde(with = "datetime")]
        expires_at: OffsetDateTime,
        /// The token value, only when it is valid for at most 60 minutes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        /// Whether older tokens were invalidated.
        invalidate_older_tokens: bool,
    },
    /// An email verification token was created.
    CustomerEmailTokenCreated {
        /// The customer.
        customer_id: String,
        /// Token expiry.
        #[serde(with = "datetime")]
        expires_at: OffsetDateTime,
        /// The token value, only when it is valid for at most 60 minutes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        /// Whether older tokens were invalidated.
        invalidate_older_tokens: bool,
    },
    /// The password was changed (`reset: false`) or reset (`reset: true`).
    CustomerPasswordUpdated {
        /// Whether this was a reset.
        reset: bool,
    },
    /// The email was verified.
    CustomerEmailVerified {},
}

impl MessagePayload {
    /// The wire `type` of the payload.
    ///
    /// Read from the start of the payload's JSON, which is its tag: serializing a whole
    /// `CustomerCreated` (a customer) into a `Value` for it cost an import several
    /// microseconds per Message. Any other start falls back to the whole `Value`.
    pub fn type_name(&self) -> String {
        let mut head = TagOnly(Vec::new());
        // The writer stops the serialization once it holds the tag, so this "fails".
        let _ = serde_json::to_writer(&mut head, self);
        if let Some(name) = head.tag() {
            return name.to_owned();
        }
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Keeps the start of a JSON document until it holds a leading `{"type":"…"` (see
/// [`MessagePayload::type_name`]), then refuses every further write.
struct TagOnly(Vec<u8>);

impl TagOnly {
    const OPENING: &'static [u8] = b"{\"type\":\"";

    /// The tag, once the start is `{"type":"<tag>"` with a tag that needs no escaping.
    fn tag(&self) -> Option<&str> {
        let rest = self.0.strip_prefix(Self::OPENING)?;
        let end = rest.iter().position(|b| *b == b'"')?;
        let name = rest.get(..end)?;
        if name.contains(&b'\\') {
            return None;
        }
        std::str::from_utf8(name).ok()
    }
}

impl std::io::Write for TagOnly {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let done = self.tag().is_some() || self.0.len() > 256;
        if done {
            return Err(std::io::Error::other("tag read"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tag read from the start of the JSON is the one the whole JSON carries.
    #[test]
    fn type_name_is_the_serialized_tag() {
        let customer: Customer = serde_json::from_value(serde_json::json!({
            "id": "c1", "version": 1, "email": "a@example.com",
            "createdAt": "2025-01-01T00:00:00.000Z", "lastModifiedAt": "2025-01-01T00:00:00.000Z",
            "addresses": [], "shippingAddressIds": [], "billingAddressIds": [],
            "isEmailVerified": false, "customerGroupAssignments": [], "stores": [],
            "authenticationMode": "Password"
        }))
        .unwrap();
        let payloads = [
            MessagePayload::CustomerCreated {
                customer: Box::new(customer),
            },
            MessagePayload::CustomerDeleted { email: None },
            MessagePayload::CustomerEmailChanged {
                email: "b@example.com".to_owned(),
                old_email: "a@example.com".to_owned(),
            },
            MessagePayload::CustomerFirstNameSet { first_name: None },
            MessagePayload::CustomerEmailVerified {},
        ];
        for p in payloads {
            let whole = serde_json::to_value(&p).unwrap()["type"].clone();
            assert_eq!(p.type_name(), whole.as_str().unwrap());
            let mut head = TagOnly(Vec::new());
            assert!(
                serde_json::to_writer(&mut head, &p).is_err(),
                "stopped early"
            );
            assert_eq!(head.tag(), whole.as_str(), "without the fallback");
        }
    }
}
