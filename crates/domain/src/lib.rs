//! The commercetools Customers API vocabulary: resource and draft types named exactly as the
//! commercetools types, validation newtypes, the pure update-action logic and password hashing.
//!
//! This crate does no IO and never reads the clock or a random source on its own: time and
//! fresh ids come in through [`ApplyContext`] so callers (and tests) control them.

pub mod action;
pub mod address;
pub mod apply;
pub mod custom;
pub mod custom_fields;
pub mod custom_type;
pub mod customer;
pub mod customer_group;
pub mod error;
pub mod limits;
pub mod logging;
pub mod me;
pub mod message;
pub mod newtypes;
pub mod password;
pub mod project;
pub mod project_settings;
pub mod reference;
pub mod resolve;
pub mod serde_formats;
pub mod store;
pub mod subscription;
pub mod token;

pub use action::{CustomerUpdate, CustomerUpdateAction};
pub use address::{Address, AddressDraft, AddressRole};
pub use apply::{
    apply, apply_all, apply_all_with, apply_with, create_customer, create_customer_with,
    ApplyContext,
};
pub use custom::{CustomFields, CustomFieldsDraft};
pub use custom_type::{Type, TypeDraft, TypeUpdateAction};
pub use customer::{
    AuthenticationMode, Customer, CustomerDraft, CustomerGroupAssignment,
    CustomerGroupAssignmentDraft, CustomerSignInResult, PagedQueryResponse,
};
pub use customer_group::{CustomerGroup, CustomerGroupDraft, CustomerGroupUpdateAction};
pub use error::DomainError;
pub use logging::ClientLogging;
pub use message::{Message, MessagePayload, UserProvidedIdentifiers};
pub use newtypes::{Email, Key, Version};
pub use password::{HashMemory, PasswordHash, PasswordHasher};
pub use project::Project;
pub use project_settings::{parse_project_action, ProjectRecord, ProjectUpdateAction};
pub use reference::{KeyReference, Reference, ResourceIdentifier};
pub use resolve::{Resolved, Wanted};
pub use store::{Store, StoreCountry, StoreDraft, StoreUpdateAction};
pub use subscription::{Destination, Subscription, SubscriptionDraft, SubscriptionHealthStatus};
pub use token::CustomerToken;
