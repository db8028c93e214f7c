//! The Customer resource, its draft, and the small types hanging off it.

use crate::address::{Address, AddressDraft};
use crate::newtypes::Version;
use crate::password::PasswordHash;
use crate::reference::{KeyReference, Reference, ResourceIdentifier};
use crate::serde_formats::{date_opt, datetime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

/// Whether a customer signs in with a password managed here or with an external system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AuthenticationMode {
    /// The default: a password is required and stored (hashed).
    #[default]
    Password,
    /// Authentication happens elsewhere; no password is stored.
    ExternalAuth,
}

/// `createdBy` / `lastModifiedBy`: which API client made the change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientLogging {
    /// The API client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The customer acting through a password-flow token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Reference>,
    /// Always false here: no change is made by the platform itself.
    #[serde(default)]
    pub is_platform_client: bool,
}

/// Custom Fields as stored on a resource: a Type reference plus field values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFields {
    /// The Type that defines the fields.
    #[serde(rename = "type")]
    pub type_: Reference,
    /// Field name → value.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

/// Custom Fields as sent in drafts: a Type by id or key plus field values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldsDraft {
    /// The Type that defines the fields.
    #[serde(rename = "type")]
    pub type_: ResourceIdentifier,
    /// Field name → value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Map<String, Value>>,
}

/// One Customer Group a customer belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroupAssignment {
    /// The group.
    pub customer_group: Reference,
}

/// A Customer Group assignment as sent in drafts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroupAssignmentDraft {
    /// The group, by id or key.
    pub customer_group: ResourceIdentifier,
}

/// A person who buys: the commercetools `Customer` resource.
///
/// Serializes to exactly the commercetools JSON; the password hash is never serialized, only a
/// masked fingerprint of it (as commercetools shows `"****aGg="`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Server-generated UUID.
    pub id: String,
    /// Current version; starts at 1, +1 per changing request.
    pub version: Version,
    /// User-defined unique key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// User-defined unique, immutable-once-set number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    /// Id in an external system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// When the customer was created.
    #[serde(with = "datetime")]
    pub created_at: OffsetDateTime,
    /// When the customer was last changed.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<ClientLogging>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ClientLogging>,
    /// Email, case preserved.
    pub email: String,
    /// The password hash; serialized only as a masked fingerprint, never read back from JSON.
    #[serde(
        rename = "password",
        default,
        skip_deserializing,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::password::serialize_masked"
    )]
    pub password: Option<PasswordHash>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Date of birth.
    #[serde(default, with = "date_opt", skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
    /// Company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// VAT id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    /// All addresses.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Id of the default shipping address (also in `shippingAddressIds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_shipping_address_id: Option<String>,
    /// Ids of the shipping addresses.
    #[serde(default)]
    pub shipping_address_ids: Vec<String>,
    /// Id of the default billing address (also in `billingAddressIds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_billing_address_id: Option<String>,
    /// Ids of the billing addresses.
    #[serde(default)]
    pub billing_address_ids: Vec<String>,
    /// Whether the email was verified.
    #[serde(default)]
    pub is_email_verified: bool,
    /// The customer group (legacy single assignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group: Option<Reference>,
    /// All customer group assignments.
    #[serde(default)]
    pub customer_group_assignments: Vec<CustomerGroupAssignment>,
    /// Custom Fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomFields>,
    /// Preferred language; one of the project's languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Salutation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salutation: Option<String>,
    /// Stores the customer belongs to; empty means a global customer.
    #[serde(default)]
    pub stores: Vec<KeyReference>,
    /// How the customer authenticates.
    #[serde(default)]
    pub authentication_mode: AuthenticationMode,
}

impl Customer {
    /// The lowercased email used for uniqueness and sign-in.
    pub fn lowercase_email(&self) -> String {
        self.email.to_lowercase()
    }

    /// The address with this id, if any.
    pub fn address_by_id(&self, id: &str) -> Option<&Address> {
        self.addresses.iter().find(|a| a.id.as_deref() == Some(id))
    }

    /// Store keys, for uniqueness scopes and in-store visibility.
    pub fn store_keys(&self) -> Vec<String> {
        self.stores.iter().map(|s| s.key.clone()).collect()
    }
}

/// What `POST /{projectKey}/customers` accepts: the commercetools `CustomerDraft`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDraft {
    /// User-defined unique key.
    #[serde(default)]
    pub key: Option<String>,
    /// User-defined unique number.
    #[serde(default)]
    pub customer_number: Option<String>,
    /// Id in an external system.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Email; the only field the schema requires.
    pub email: String,
    /// Plain-text password; required in `Password` mode. Hashed before it is stored.
    #[serde(default)]
    pub password: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Middle name.
    #[serde(default)]
    pub middle_name: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Deprecated cart id.
    #[serde(default)]
    pub anonymous_cart_id: Option<String>,
    /// A cart to assign to the new customer.
    #[serde(default)]
    pub anonymous_cart: Option<ResourceIdentifier>,
    /// Anonymous session whose carts and orders move to the customer.
    #[serde(default)]
    pub anonymous_id: Option<String>,
    /// Date of birth.
    #[serde(default, with = "date_opt")]
    pub date_of_birth: Option<Date>,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// VAT id.
    #[serde(default)]
    pub vat_id: Option<String>,
    /// Addresses; ids are generated by the server.
    #[serde(default)]
    pub addresses: Option<Vec<AddressDraft>>,
    /// Index into `addresses` of the default shipping address.
    #[serde(default)]
    pub default_shipping_address: Option<i64>,
    /// Indices into `addresses` of shipping addresses.
    #[serde(default)]
    pub shipping_addresses: Option<Vec<i64>>,
    /// Index into `addresses` of the default billing address.
    #[serde(default)]
    pub default_billing_address: Option<i64>,
    /// Indices into `addresses` of billing addresses.
    #[serde(default)]
    pub billing_addresses: Option<Vec<i64>>,
    /// Whether the email is already verified (default false).
    #[serde(default)]
    pub is_email_verified: Option<bool>,
    /// Customer group.
    #[serde(default)]
    pub customer_group: Option<ResourceIdentifier>,
    /// Customer group assignments.
    #[serde(default)]
    pub customer_group_assignments: Option<Vec<CustomerGroupAssignmentDraft>>,
    /// Custom Fields.
    #[serde(default)]
    pub custom: Option<CustomFieldsDraft>,
    /// Preferred language.
    #[serde(default)]
    pub locale: Option<String>,
    /// Salutation.
    #[serde(default)]
    pub salutation: Option<String>,
    /// Stores; empty or absent means a global customer.
    #[serde(default)]
    pub stores: Option<Vec<ResourceIdentifier>>,
    /// Authentication mode (default `Password`).
    #[serde(default)]
    pub authentication_mode: Option<AuthenticationMode>,
}

/// The result of sign-up and sign-in: the customer (and, on commercetools, a cart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSignInResult {
    /// The customer.
    pub customer: Customer,
}

/// A page of query results: `CustomerPagedQueryResponse`, `MessagePagedQueryResponse`, ….
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagedQueryResponse<T> {
    /// The effective limit.
    pub limit: u64,
    /// The effective offset.
    pub offset: u64,
    /// Number of results in this page.
    pub count: u64,
    /// Total matches; absent when `withTotal=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The page.
    pub results: Vec<T>,
}
