//! Addresses: the stored `Address` (server-assigned `id`, optional unique `key`) and the
//! `AddressDraft` (`BaseAddress` on the wire) that drafts and actions send.

use crate::customer::{CustomFields, CustomFieldsDraft};
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
