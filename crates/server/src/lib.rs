//! Clientele's HTTP server: a commercetools-compatible Customers API with OAuth2.
//!
//! Layers, outermost first: `api` (axum handlers: extract, call a service, shape the response),
//! `auth` (OAuth2 endpoints and the scope extractor), `service` (load → check version → apply →
//! save with messages in one store call), and the `clientele-store` crate behind `AppState`.
//! Handlers never see SQL; time and randomness come from `AppState` so tests control them.

// `api::openapi` writes its schemas as one large `json!` literal.
#![recursion_limit = "512"]

pub mod admin;
pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod hashing;
pub mod json;
pub mod metrics;
pub mod observe;
pub mod serve;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod transfer;

pub use config::ServeConfig;
pub use startup::Application;
