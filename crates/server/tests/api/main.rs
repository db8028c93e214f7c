//! HTTP integration tests: every route, update action and error code of the project-level
//! Customers and Messages API, scope enforcement and the OAuth token endpoint, each test
//! against its own server (port 0) and fresh database: SQLite, or PostgreSQL with
//! `CLIENTELE_TEST_API_BACKEND=postgres` (see `helpers`).

// Test code: a failed expectation should stop the test loudly. Clippy's allow-*-in-tests
// covers #[test] functions but not the shared helpers they call, hence the crate-level allow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actions;
mod admin;
mod auth;
mod concurrency;
mod connections;
mod credentials;
mod custom_field_queries;
mod customer_groups;
mod customer_references;
mod customers;
mod durability;
mod errors;
mod expansion;
mod hangups;
mod helpers;
mod in_store;
mod input_limits;
mod lookalikes;
mod me;
mod me_concurrency;
mod me_matrix;
mod messages;
mod oauth_password;
mod observability;
mod openapi;
mod project;
mod search;
mod shutdown;
mod stores;
mod subscriptions;
mod subscriptions_bench;
mod subscriptions_crash;
mod subscriptions_delivery;
mod throttling;
mod transfer;
mod two_processes;
mod types;
