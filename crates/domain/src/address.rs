//! Addresses: the stored `Address` (server-assigned `id`, optional unique `key`) and the
//! `AddressDraft` (`BaseAddress` on the wire) that drafts and actions send.

use crate::custom::{CustomFields, CustomFieldsDraft};
use crate::custom_fields::build_custom_fields;
use crate::error::DomainError;
use crate::newtypes::{is_country_code, Key};
use crate::resolve::Resolved;
use serde::{Deserialize, Serialize};

/// Declares the address struct with the 22 optional free-text fields commercetools defines, so
/// the stored and draft shapes cannot drift apart.
macro_rules! address_struct {
    ($(#[$meta:meta])* $name:ident, $custom:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Server-generated id (ignored on drafts).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            /// User-defined key, unique among one customer's addresses.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub key: Option<String>,
            /// Two-letter ISO 3166-1 country code; required.
            pub country: String,
            /// Title, for example `Dr.`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub title: Option<String>,
            /// Salutation.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub salutation: Option<String>,
            /// Given name.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub first_name: Option<String>,
            /// Family name.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub last_name: Option<String>,
            /// Street name.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub street_name: Option<String>,
            /// Street number.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub street_number: Option<String>,
            /// Further street information.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub additional_street_info: Option<String>,
            /// Postal code.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub postal_code: Option<String>,
            /// City.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub city: Option<String>,
            /// Region.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub region: Option<String>,
            /// State.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub state: Option<String>,
            /// Company.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub company: Option<String>,
            /// Department.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub department: Option<String>,
            /// Building.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub building: Option<String>,
            /// Apartment.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub apartment: Option<String>,
            /// Post office box.
            #[serde(default, rename = "pOBox", skip_serializing_if = "Option::is_none")]
            pub p_o_box: Option<String>,
            /// Phone number.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub phone: Option<String>,
            /// Mobile number.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub mobile: Option<String>,
            /// Email of this address.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub email: Option<String>,
            /// Fax number.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub fax: Option<String>,
            /// Further information.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub additional_address_info: Option<String>,
            /// Id in an external system.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub external_id: Option<String>,
            /// Custom Fields of the address.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub custom: Option<$custom>,
        }
    };
}

address_struct!(
    /// An address as stored on a Customer (`Address`).
    Address,
    CustomFields
);
address_struct!(
    /// An address as sent in drafts and actions (`BaseAddress` / `AddressDraft`).
    AddressDraft,
    CustomFieldsDraft
);

/// Whether an address is used for shipping or billing (in address Messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressRole {
    /// Listed in `shippingAddressIds`.
    Shipping,
    /// Listed in `billingAddressIds`.
    Billing,
}

impl AddressDraft {
    /// Validates the draft and turns it into a stored [`Address`] with the given `id` (any
    /// client-sent id is ignored). Error messages name fields as `address.<field>`.
    ///
    /// Rejects a `key` outside `^[A-Za-z0-9_-]{2,256}$` and a `country` outside `^[A-Z]{2}$`
    /// (`InvalidInput`). With no references resolved, any `custom` names a Type that is not
    /// found (see [`AddressDraft::into_address_resolved`]). Uniqueness of the key among a
    /// customer's addresses is the caller's business.
    pub fn into_address(self, id: String) -> Result<Address, DomainError> {
        self.into_address_resolved(id, "address", &Resolved::EMPTY)
    }

    /// Like [`AddressDraft::into_address`], naming fields `<prefix>.<field>` in errors (for
    /// example `addresses.country` for the addresses of a `CustomerDraft`).
    pub fn into_address_named(self, id: String, prefix: &str) -> Result<Address, DomainError> {
        self.into_address_resolved(id, prefix, &Resolved::EMPTY)
    }

    /// Like [`AddressDraft::into_address_named`], building `custom` with the Types in
    /// `resolved` (the Type must allow `address`).
    pub fn into_address_resolved(
        self,
        id: String,
        prefix: &str,
        resolved: &Resolved,
    ) -> Result<Address, DomainError> {
        if let Some(key) = &self.key {
            Key::parse(key, &format!("{prefix}.key"))?;
        }
        if !is_country_code(&self.country) {
            return Err(DomainError::InvalidInput(format!(
                "Invalid {prefix}.country '{}'. It must be a two-letter ISO 3166-1 country code (^[A-Z]{{2}}$).",
                self.country
            )));
        }
        let custom = self
            .custom
            .as_ref()
            .map(|c| build_custom_fields(c, resolved, "address"))
            .transpose()?;
        Ok(Address {
            id: Some(id),
            key: self.key,
            country: self.country,
            title: self.title,
            salutation: self.salutation,
            first_name: self.first_name,
            last_name: self.last_name,
            street_name: self.street_name,
            street_number: self.street_number,
            additional_street_info: self.additional_street_info,
            postal_code: self.postal_code,
            city: self.city,
            region: self.region,
            state: self.state,
            company: self.company,
            department: self.department,
            building: self.building,
            apartment: self.apartment,
            p_o_box: self.p_o_box,
            phone: self.phone,
            mobile: self.mobile,
            email: self.email,
            fax: self.fax,
            additional_address_info: self.additional_address_info,
            external_id: self.external_id,
            custom,
        })
    }
}
