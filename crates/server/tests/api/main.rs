//! HTTP integration tests: every route, update action and error code of the project-level
//! Customers and Messages API, scope enforcement and the OAuth token endpoint, each test
//! against its own server (port 0) and fresh database: SQLite, or PostgreSQL with
//! `CLIENTELE_TEST_API_BACKEND=postgres` (see `helpers`).

// Test code: a failed expectation should stop the test loudly. Clippy's allow-*-in-tests
// covers #[test] functions but not the shared helpers they call, hence the crate-level allow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actions;
mod auth;
mod concurrency;
mod credentials;
mod custom_field_queries;
mod customer_groups;
mod customer_references;
mod customers;
mod durability;
mod errors;
mod hangups;
mod helpers;
mod in_store;
mod messages;
mod oauth_password;
mod project;
mod stores;
mod two_processes;
mod types;
