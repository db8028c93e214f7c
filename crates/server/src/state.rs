//! Shared application state handed to every handler.

use crate::clock::{Clock, Random};
use crate::hashing::HashPool;
use crate::throttle::LoginThrottle;
use clientele_store::Store;
use std::sync::Arc;

/// What handlers and services need, behind one `Arc`: axum clones the state for every request
/// (and every extractor that takes it), and one reference count is cheaper than one per field
/// (about 3 % of a GET's CPU went to cloning and dropping the fields' own).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state holding `shared`.
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }

    /// The parts, to change before the state is shared (a server being built).
    pub fn parts_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The store, time, randomness and the hashing pool.
#[derive(Clone)]
pub struct Shared {
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
