//! Shared application state handed to every handler.

use crate::clock::{Clock, Random};
use crate::hashing::HashPool;
use crate::throttle::LoginThrottle;
use clientele_store::Store;
use std::sync::Arc;

/// What handlers and services need: the store, time, randomness and the hashing pool.
#[derive(Clone)]
pub struct AppState {
    /// The persistence backend.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Ids and secrets.
    pub random: Arc<dyn Random>,
    /// Password hashing off the async executor.
    pub hasher: HashPool,
    /// Lifetime of issued access tokens, in seconds.
    pub access_token_ttl_secs: i64,
    /// Failed-sign-in counts (`--login-throttle`; does nothing when off).
    pub throttle: Arc<LoginThrottle>,
    /// Counters and histograms served at `/-/metrics`.
    pub metrics: crate::metrics::Metrics,
}
