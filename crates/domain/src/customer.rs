//! The Customer resource, its draft, and the small types hanging off it.

use crate::address::{Address, AddressDraft, AddressRole};
use crate::custom::{CustomFields, CustomFieldsDraft};
use crate::logging::ClientLogging;
use crate::newtypes::Version;
use crate::password::PasswordHash;
use crate::reference::{KeyReference, Reference, ResourceIdentifier};
use crate::serde_formats::{date_opt, datetime};
use serde::{Deserialize, Serialize};
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
    /// The password hash; serialized only as a masked fingerprint (read back from JSON, only that).
    #[serde(
        rename = "password",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::password::serialize_masked",
        deserialize_with = "crate::password::deserialize_masked"
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

    /// The address with this key, if any.
    pub fn address_by_key(&self, key: &str) -> Option<&Address> {
        self.addresses
            .iter()
            .find(|a| a.key.as_deref() == Some(key))
    }

    /// The roles the address with this id plays: `Shipping` if it is listed in (or the default
    /// of) `shippingAddressIds`, `Billing` likewise; in that order, empty for neither.
    pub fn address_roles(&self, id: &str) -> Vec<AddressRole> {
        let shipping = self.shipping_address_ids.iter().any(|i| i == id)
            || self.default_shipping_address_id.as_deref() == Some(id);
        let billing = self.billing_address_ids.iter().any(|i| i == id)
            || self.default_billing_address_id.as_deref() == Some(id);
        let mut roles = Vec::new();
        if shipping {
            roles.push(AddressRole::Shipping);
        }
        if billing {
            roles.push(AddressRole::Billing);
        }
        roles
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::PasswordHasher;
    use serde_json::json;
    use time::macros::{date, datetime};

    fn customer() -> Customer {
        let hash = PasswordHasher::with_params(1024, 1, 1)
            .unwrap()
            .hash("secret123", [1; 16])
            .unwrap();
        Customer {
            id: "3cdcdcc8-80c5-41bb-abb5-ac8772c9cc24".to_owned(),
            version: Version::FIRST,
            key: None,
            customer_number: None,
            external_id: None,
            created_at: datetime!(2022-09-19 14:34:35.843 UTC),
            last_modified_at: datetime!(2022-09-19 14:34:35 UTC),
            last_modified_by: None,
            created_by: None,
            email: "johndoe@example.com".to_owned(),
            password: Some(hash),
            first_name: Some("John".to_owned()),
            last_name: None,
            middle_name: None,
            title: None,
            date_of_birth: Some(date!(1990 - 01 - 02)),
            company_name: None,
            vat_id: None,
            addresses: vec![],
            default_shipping_address_id: None,
            shipping_address_ids: vec![],
            default_billing_address_id: None,
            billing_address_ids: vec![],
            is_email_verified: false,
            customer_group: None,
            customer_group_assignments: vec![],
            custom: None,
            locale: None,
            salutation: None,
            stores: vec![],
            authentication_mode: AuthenticationMode::Password,
        }
    }

    #[test]
    fn serializes_to_the_commercetools_shape() {
        let c = customer();
        let v = serde_json::to_value(&c).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "version",
                "createdAt",
                "lastModifiedAt",
                "email",
                "password",
                "firstName",
                "dateOfBirth",
                "addresses",
                "shippingAddressIds",
                "billingAddressIds",
                "isEmailVerified",
                "customerGroupAssignments",
                "stores",
                "authenticationMode",
            ]
        );
        assert_eq!(v["version"], json!(1));
        assert_eq!(v["createdAt"], json!("2022-09-19T14:34:35.843Z"));
        assert_eq!(v["lastModifiedAt"], json!("2022-09-19T14:34:35.000Z"));
        assert_eq!(v["dateOfBirth"], json!("1990-01-02"));
        assert_eq!(v["addresses"], json!([]));
        assert_eq!(v["shippingAddressIds"], json!([]));
        assert_eq!(v["billingAddressIds"], json!([]));
        assert_eq!(v["customerGroupAssignments"], json!([]));
        assert_eq!(v["stores"], json!([]));
        assert_eq!(v["isEmailVerified"], json!(false));
        assert_eq!(v["authenticationMode"], json!("Password"));
        let masked = v["password"].as_str().unwrap();
        assert!(masked.starts_with("****") && masked.len() == 8, "{masked}");
        assert!(!v.to_string().contains("argon2"));
    }

    #[test]
    fn serializes_every_optional_field_in_camel_case() {
        let mut c = customer();
        c.key = Some("k1".to_owned());
        c.customer_number = Some("n".to_owned());
        c.external_id = Some("e".to_owned());
        c.last_name = Some("l".to_owned());
        c.middle_name = Some("m".to_owned());
        c.title = Some("t".to_owned());
        c.company_name = Some("c".to_owned());
        c.vat_id = Some("v".to_owned());
        c.locale = Some("en".to_owned());
        c.salutation = Some("s".to_owned());
        c.default_shipping_address_id = Some("a".to_owned());
        c.default_billing_address_id = Some("a".to_owned());
        c.addresses = vec![Address {
            id: Some("a".to_owned()),
            country: "DE".to_owned(),
            p_o_box: Some("1".to_owned()),
            additional_address_info: Some("i".to_owned()),
            ..Address::default()
        }];
        let v = serde_json::to_value(&c).unwrap();
        for key in [
            "key",
            "customerNumber",
            "externalId",
            "lastName",
            "middleName",
            "title",
            "companyName",
            "vatId",
            "locale",
            "salutation",
            "defaultShippingAddressId",
            "defaultBillingAddressId",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(
            v["addresses"][0],
            json!({"id": "a", "country": "DE", "pOBox": "1", "additionalAddressInfo": "i"})
        );
    }

    #[test]
    fn external_auth_customers_show_no_password_and_round_trip() {
        let mut c = customer();
        c.password = None;
        c.authentication_mode = AuthenticationMode::ExternalAuth;
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("\"password\""));
        let back: Customer = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn only_the_masked_password_is_read_back_from_json() {
        let original = customer();
        let text = serde_json::to_string(&original).unwrap();
        let back: Customer = serde_json::from_str(&text).unwrap();
        let back_hash = back.password.clone().unwrap();
        assert!(back_hash.is_masked_only());
        assert_eq!(back_hash.masked(), original.password.unwrap().masked());
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.created_at, customer().created_at);
        assert_eq!(back.date_of_birth, customer().date_of_birth);
    }

    #[test]
    fn reads_the_reference_response_example() {
        let c: Customer = serde_json::from_str(r#"{"id": "3cdcdcc8-80c5-41bb-abb5-ac8772c9cc24","version": 1,"createdAt": "2022-09-19T14:34:35.843Z","lastModifiedAt": "2022-09-19T14:34:35.843Z","lastModifiedBy": {"clientId": "P1Xf1NG2YsFqH2LC31oveDWT","isPlatformClient": false},"createdBy": {"clientId": "P1Xf1NG2YsFqH2LC31oveDWT","isPlatformClient": false},"email": "johndoe@example.com","firstName": "John","lastName": "Doe","password": "****aGg=","addresses": [],"shippingAddressIds": [],"billingAddressIds": [],"isEmailVerified": false,"stores": [],"authenticationMode": "Password"}"#).unwrap();
        assert_eq!(c.created_at, datetime!(2022-09-19 14:34:35.843 UTC));
        assert_eq!(
            c.created_by.and_then(|b| b.client_id).as_deref(),
            Some("P1Xf1NG2YsFqH2LC31oveDWT")
        );
        assert!(c.customer_group_assignments.is_empty());
    }

    #[test]
    fn customer_draft_reads_the_reference_examples() {
        let draft: CustomerDraft = serde_json::from_str(r#"{"email": "johndoe@example.com","password": "secret123","anonymousCart": {"id": "{{cart-id}}","typeId": "cart"}}"#).unwrap();
        assert_eq!(draft.password.as_deref(), Some("secret123"));
        assert_eq!(
            draft.anonymous_cart.and_then(|c| c.type_id).as_deref(),
            Some("cart")
        );

        let draft: CustomerDraft = serde_json::from_value(json!({
            "email": "johndoe@example.com",
            "firstName": "John",
            "lastName": "Doe",
            "password": "secret123",
            "dateOfBirth": "1990-01-02",
            "addresses": [{"key": "home", "country": "DE"}],
            "defaultShippingAddress": 0,
            "shippingAddresses": [0],
            "authenticationMode": "Password"
        }))
        .unwrap();
        assert_eq!(draft.default_shipping_address, Some(0));
        assert_eq!(draft.date_of_birth, Some(date!(1990 - 01 - 02)));
        assert_eq!(draft.addresses.unwrap()[0].key.as_deref(), Some("home"));
    }
}
