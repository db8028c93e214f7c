//! The commercetools Customers API vocabulary: resource and draft types named exactly as the
//! commercetools types, validation newtypes, the pure update-action logic and password hashing.
//!
//! This crate does no IO and never reads the clock or a random source on its own: time and
//! fresh ids come in through [`ApplyContext`] so callers (and tests) control them.

pub mod action;
pub mod address;
pub mod apply;
pub mod customer;
pub mod error;
pub mod message;
pub mod newtypes;
pub mod password;
pub mod project;
pub mod reference;
pub mod serde_formats;
pub mod token;

pub use action::{CustomerUpdate, CustomerUpdateAction};
pub use address::{Address, AddressDraft, AddressRole};
pub use apply::{apply, apply_all, create_customer, ApplyContext};
pub use customer::{
    AuthenticationMode, ClientLogging, CustomFields, CustomFieldsDraft, Customer, CustomerDraft,
    CustomerGroupAssignment, CustomerGroupAssignmentDraft, CustomerSignInResult,
    PagedQueryResponse,
};
pub use error::DomainError;
pub use message::{Message, MessagePayload, UserProvidedIdentifiers};
pub use newtypes::{Email, Key, Version};
pub use password::{PasswordHash, PasswordHasher};
pub use project::Project;
pub use reference::{KeyReference, Reference, ResourceIdentifier};
pub use token::CustomerToken;
