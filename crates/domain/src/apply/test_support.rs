//! Test fixtures for the apply tests: a project, a deterministic `ApplyContext` (fixed clock,
//! counting ids, cheap hasher with a fixed salt) and small builders. Test-only.

use super::ApplyContext;
use crate::action::CustomerUpdateAction;
use crate::address::{Address, AddressDraft};
use crate::customer::{Customer, CustomerDraft};
use crate::error::DomainError;
use crate::message::MessagePayload;
use crate::password::{PasswordHash, PasswordHasher};
use crate::project::Project;
use time::macros::datetime;
use time::OffsetDateTime;

/// The fixed request time.
pub(crate) const NOW: OffsetDateTime = datetime!(2024-05-06 07:08:09.123 UTC);

/// Owns what an `ApplyContext` borrows.
pub(crate) struct TestEnv {
    pub(crate) project: Project,
    next_id: u32,
    hasher: PasswordHasher,
}

impl TestEnv {
    /// A project with languages `en`, `de-DE`, and a cheap hasher.
    pub(crate) fn new() -> Self {
        TestEnv {
            project: Project {
                key: "test".to_owned(),
                name: "Test".to_owned(),
                languages: vec!["en".to_owned(), "de-DE".to_owned()],
                countries: vec!["DE".to_owned(), "US".to_owned()],
                currencies: vec!["EUR".to_owned()],
            },
            next_id: 0,
            hasher: PasswordHasher::with_params(1024, 1, 1).unwrap(),
        }
    }

    /// What the context's hasher produces for `password`.
    pub(crate) fn hash(&self, password: &str) -> PasswordHash {
        self.hasher.hash(password, [7; 16]).unwrap()
    }

    /// Runs `f` with a context whose ids are `addr-1`, `addr-2`, … (continuing across calls).
    pub(crate) fn run<R>(&mut self, f: impl FnOnce(&mut ApplyContext<'_>) -> R) -> R {
        let next_id = &mut self.next_id;
        let mut new_id = || {
            *next_id += 1;
            format!("addr-{next_id}")
        };
        let hasher = &self.hasher;
        let mut hash_password = |pw: &str| {
            hasher
                .hash(pw, [7; 16])
                .map_err(|e| DomainError::InvalidOperation(e.to_string()))
        };
        let mut ctx = ApplyContext {
            project: &self.project,
            now: NOW,
            new_id: &mut new_id,
            hash_password: &mut hash_password,
        };
        f(&mut ctx)
    }

    /// Creates a customer from `draft` with id `cust-1`.
    pub(crate) fn create(
        &mut self,
        draft: CustomerDraft,
    ) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
        self.run(|ctx| super::create_customer(draft, "cust-1".to_owned(), ctx))
    }

    /// Applies one action.
    pub(crate) fn apply(
        &mut self,
        customer: Customer,
        action: CustomerUpdateAction,
    ) -> Result<(Customer, Vec<MessagePayload>), DomainError> {
        self.run(|ctx| super::apply(customer, &action, ctx))
    }

    /// Applies one action that must succeed.
    pub(crate) fn ok(
        &mut self,
        customer: &Customer,
        action: CustomerUpdateAction,
    ) -> (Customer, Vec<MessagePayload>) {
        self.apply(customer.clone(), action).unwrap()
    }

    /// Applies one action that must fail, and returns the error.
    pub(crate) fn err(&mut self, customer: &Customer, action: CustomerUpdateAction) -> DomainError {
        self.apply(customer.clone(), action).unwrap_err()
    }

    /// A minimal created customer (`jane@example.com`, password `secret`).
    pub(crate) fn customer(&mut self) -> Customer {
        self.create(minimal_draft()).unwrap().0
    }

    /// A customer with addresses `addr-1` (key `home`, DE) and `addr-2` (key `work`, US);
    /// `addr-1` is default shipping, `addr-2` default billing, `addr-1` also a billing address.
    pub(crate) fn customer_with_addresses(&mut self) -> Customer {
        let draft = CustomerDraft {
            addresses: Some(vec![address("home", "DE"), address("work", "US")]),
            default_shipping_address: Some(0),
            default_billing_address: Some(1),
            billing_addresses: Some(vec![0]),
            ..minimal_draft()
        };
        self.create(draft).unwrap().0
    }
}

/// `{email: jane@example.com, password: secret}`.
pub(crate) fn minimal_draft() -> CustomerDraft {
    CustomerDraft {
        email: "jane@example.com".to_owned(),
        password: Some("secret".to_owned()),
        ..CustomerDraft::default()
    }
}

/// An address draft with a key, a country and a city.
pub(crate) fn address(key: &str, country: &str) -> AddressDraft {
    AddressDraft {
        key: Some(key.to_owned()),
        country: country.to_owned(),
        city: Some(format!("{key} city")),
        ..AddressDraft::default()
    }
}

/// The stored form of [`address`] with the given id.
pub(crate) fn stored(id: &str, key: &str, country: &str) -> Address {
    address(key, country).into_address(id.to_owned()).unwrap()
}

/// `Some(s.to_owned())`.
pub(crate) fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}
