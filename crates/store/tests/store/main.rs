//! The store's integration tests, one binary: the conformance suite (one set of stories, run
//! against SQLite always and against PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is set, so
//! the two backends cannot drift), the predicate oracle, the query plans, and the failure
//! stories. Every story gets a fresh database (`common`).

// Test code: a failed expectation should stop the test loudly. Clippy's allow-*-in-tests
// covers #[test] functions but not the shared helpers they call, hence the crate-level allow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod conformance;
mod customer_batches;
mod customer_tokens;
mod exclusive;
mod predicate_oracle;
mod query_plans;
mod referenced_resources;
mod resources;
mod search_activation;
mod search_deadline;
mod search_oracle;
mod stored_json;
mod stores;
mod subscriptions;
mod token_bindings;
mod write_failures;
