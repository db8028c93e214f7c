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
    /// A fresh UUID string (version 4 unless the source says otherwise).
    fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
    /// A fresh time-ordered UUID (version 7: the millisecond of `at`, then 74 random bits), for
    /// the ids of rows written often and indexed by id (customers, Messages): ids minted one
    /// after the other land at the end of those indexes instead of anywhere in them (see
    /// [`TimeOrderedRandom`]).
    fn time_ordered_uuid(&self, at: OffsetDateTime) -> String {
        let mut b = [0u8; 10];
        self.fill(&mut b);
        let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(millis, &b)
            .into_uuid()
            .to_string()
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

/// [`SecureRandom`] whose ids are time-ordered UUIDs (version 7: the millisecond of its clock,
/// then 74 random bits) for every id, for the bulk import (the API mints only its customers' and
/// Messages' ids this way, with [`Random::time_ordered_uuid`]). Its Messages' and new customers' ids then arrive
/// in the order of their primary-key indexes: a UUID v4 lands anywhere in a B-tree, so at 1M
/// customers each commit of a batch rewrote a page of the Messages' id index per Message.
/// The ids stay unguessable (74 random bits) and still name no more than the creation time,
/// which their resources carry as `createdAt` anyway.
pub struct TimeOrderedRandom(pub std::sync::Arc<dyn Clock>);

impl Random for TimeOrderedRandom {
    fn uuid(&self) -> String {
        self.time_ordered_uuid(self.0.now())
    }

    fn fill(&self, buf: &mut [u8]) {
        SecureRandom.fill(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn time_ordered_ids_are_uuid_v7_in_the_order_of_their_clock() {
        let clock = Arc::new(ManualClock::new(
            OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        ));
        let random = TimeOrderedRandom(clock.clone());
        let mut ids = Vec::new();
        for _ in 0..50 {
            ids.push(random.uuid());
            clock.advance(time::Duration::milliseconds(1));
        }
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 7, "{id}");
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        // Two ids of one millisecond still differ (74 random bits).
        assert_ne!(random.uuid(), random.uuid());
    }
}
