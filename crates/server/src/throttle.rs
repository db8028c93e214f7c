//! Sign-in throttling (`--login-throttle`, off by default): counts failed sign-ins per account
//! (project, Store scope and lowercased email as given, so unknown emails count exactly like
//! known ones) and per API client, and refuses further attempts with 429 `TooManyRequests` and
//! `Retry-After` while a key is locked.
//!
//! A key locks after [`ACCOUNT_THRESHOLD`] (account) or [`CLIENT_THRESHOLD`] (API client)
//! failures in a row; the lock lasts [`BASE_LOCK_SECS`] and doubles with every failure past the
//! threshold, up to [`MAX_LOCK_SECS`]. A successful sign-in clears its account's count; a key
//! quiet for [`FORGET_AFTER_SECS`] is forgotten. A refused attempt runs no password
//! verification, for known and unknown emails alike, so the refusal tells nothing about the
//! account either.
//!
//! The counts live in this process's memory (bounded to [`MAX_KEYS`] keys): with several nodes
//! behind a load balancer each node throttles on its own, so the effective threshold is the
//! per-node one times the nodes an attacker reaches. Time comes from the caller (the
//! `Clock`), so tests move it by hand. No IO here.

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Failed sign-ins in a row that lock an account.
pub const ACCOUNT_THRESHOLD: u32 = 5;
/// Failed sign-ins in a row (over all accounts) that lock an API client.
pub const CLIENT_THRESHOLD: u32 = 100;
/// The first lock, in seconds.
pub const BASE_LOCK_SECS: i64 = 30;
/// The longest lock, in seconds.
pub const MAX_LOCK_SECS: i64 = 900;
/// A key without failures for this long starts again from zero.
pub const FORGET_AFTER_SECS: i64 = 900;
/// Most keys remembered; past it, forgotten and then the oldest keys are dropped.
pub const MAX_KEYS: usize = 100_000;

/// What a failed sign-in is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// One account: project, Store key (`""` at project level), lowercased email as given.
    Account {
        /// The project.
        project: String,
        /// The Store, or `""`.
        store: String,
        /// The email, lowercased.
        email: String,
    },
    /// One API client (its id).
    Client(String),
}

impl ThrottleKey {
    /// The account key of a sign-in with `email` in `project` (and `store`).
    pub fn account(project: &str, store: Option<&str>, email: &str) -> Self {
        ThrottleKey::Account {
            project: project.to_owned(),
            store: store.unwrap_or("").to_owned(),
            email: email.to_lowercase(),
        }
    }

    fn threshold(&self) -> u32 {
        match self {
            ThrottleKey::Account { .. } => ACCOUNT_THRESHOLD,
            ThrottleKey::Client(_) => CLIENT_THRESHOLD,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: OffsetDateTime,
}

impl Entry {
    /// When the lock of this entry ends, if it is locked at all.
    fn locked_until(&self, threshold: u32) -> Option<OffsetDateTime> {
        let past = self.failures.checked_sub(threshold)?;
        let lock = BASE_LOCK_SECS
            .saturating_mul(1_i64 << past.min(20))
            .min(MAX_LOCK_SECS);
        Some(self.last_failure + time::Duration::seconds(lock))
    }
}

/// The failed-sign-in counts of this process, or nothing when throttling is off.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    enabled: bool,
    entries: Mutex<HashMap<ThrottleKey, Entry>>,
}

impl LoginThrottle {
    /// A throttle that counts and refuses when `enabled`, and does nothing otherwise.
    pub fn new(enabled: bool) -> Self {
        LoginThrottle {
            enabled,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `TooManyAttempts` if any of `keys` is locked at `now`.
    pub fn check(&self, keys: &[ThrottleKey], now: OffsetDateTime) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let until = keys
            .iter()
            .filter_map(|k| entries.get(k).and_then(|e| e.locked_until(k.threshold())))
            .filter(|until| *until > now)
            .max();
        match until {
            Some(until) => {
                let left = until - now;
                // Round up: a client that waits `Retry-After` seconds is let in.
                let up = i64::from(left.subsec_nanoseconds() > 0);
                let secs = u64::try_from(left.whole_seconds() + up).unwrap_or(1).max(1);
                Err(ApiError::TooManyAttempts {
                    retry_after_secs: secs,
                })
            }
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in against every key of `keys`.
    pub fn failed(&self, keys: &[ThrottleKey], now: OffsetDateTime) {
        if !self.enabled {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            let forget = time::Duration::seconds(FORGET_AFTER_SECS);
            entries.retain(|_, e| now - e.last_failure < forget);
            if entries.len() >= MAX_KEYS {
                // Still full of fresh keys: an attack on many accounts; the client key still
                // holds it back, so dropping account keys is the lesser harm.
                entries.retain(|k, _| matches!(k, ThrottleKey::Client(_)));
            }
        }
        for key in keys {
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last_failure: now,
            });
            if now - entry.last_failure >= time::Duration::seconds(FORGET_AFTER_SECS) {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
        }
    }

    /// A successful sign-in: the account's count starts again (the client's does not, so a
    /// client that succeeds now and then cannot hide a stream of failures).
    pub fn succeeded(&self, account: &ThrottleKey) {
        if !self.enabled {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + secs).unwrap()
    }

    #[test]
    fn an_account_locks_after_the_threshold_and_the_lock_doubles() {
        let t = LoginThrottle::new(true);
        let keys = [ThrottleKey::account("p", None, "A@x.com")];
        for _ in 0..ACCOUNT_THRESHOLD {
            assert!(t.check(&keys, at(0)).is_ok());
            t.failed(&keys, at(0));
        }
        match t.check(&keys, at(1)) {
            Err(ApiError::TooManyAttempts { retry_after_secs }) => {
                assert_eq!(retry_after_secs, BASE_LOCK_SECS as u64 - 1)
            }
            other => panic!("{other:?}"),
        }
        assert!(t.check(&keys, at(BASE_LOCK_SECS)).is_ok());
        t.failed(&keys, at(BASE_LOCK_SECS));
        assert!(t.check(&keys, at(BASE_LOCK_SECS * 2)).is_err());
        assert!(t.check(&keys, at(BASE_LOCK_SECS * 3)).is_ok());
        t.succeeded(&keys[0]);
        assert!(t.check(&keys, at(BASE_LOCK_SECS * 3)).is_ok());
    }

    #[test]
    fn the_email_key_ignores_case_and_a_disabled_throttle_does_nothing() {
        let t = LoginThrottle::new(true);
        for _ in 0..ACCOUNT_THRESHOLD {
            t.failed(&[ThrottleKey::account("p", None, "a@x.com")], at(0));
        }
        assert!(t
            .check(&[ThrottleKey::account("p", None, "A@X.COM")], at(0))
            .is_err());
        assert!(t
            .check(&[ThrottleKey::account("p", Some("s"), "a@x.com")], at(0))
            .is_ok());
        let off = LoginThrottle::new(false);
        for _ in 0..1000 {
            off.failed(&[ThrottleKey::Client("c".into())], at(0));
        }
        assert!(off.check(&[ThrottleKey::Client("c".into())], at(0)).is_ok());
    }
}
