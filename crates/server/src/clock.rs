//! Time and randomness as injectable services, so tests control expiry and ids.

use rand::RngCore;
use std::sync::Mutex;
use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that may read the wall clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Starts at `t`.
    pub fn new(t: OffsetDateTime) -> Self {
        ManualClock(Mutex::new(t))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// A source of ids and secret bytes.
pub trait Random: Send + Sync + 'static {
    /// A fresh UUID v4 string.
    fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
    /// Fills `buf` with secure random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// A cryptographically secure generator per thread, seeded (and periodically reseeded) from
/// the operating system's: the same guarantees as reading the OS's generator, without a
/// `getrandom` system call for every request id (each request without an `X-Correlation-ID`
/// takes one) and every resource id.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecureRandom;

impl Random for SecureRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::thread_rng().fill_bytes(buf);
    }
}
