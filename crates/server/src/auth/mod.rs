//! OAuth2 for Clientele: the token endpoint (client credentials), scope parsing and the
//! scope-checking extractor that every API handler names in its signature.

pub mod client;
pub mod extract;
pub mod oauth;
pub mod scope;
pub mod secret;
pub mod session;

pub use extract::{
    Authorized, ManageCustomerGroups, ManageCustomers, ManageStores, ManageSubscriptions,
    ManageTypes, Requirement, ViewCustomerGroups, ViewCustomers, ViewMessages, ViewStores,
    ViewTypes,
};
