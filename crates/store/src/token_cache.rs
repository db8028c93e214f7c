//! A short-lived, per-process memory of access-token rows read by hash, so that checking the
//! bearer token of a request is not a database round trip every time.
//!
//! An entry lives at most [`TOKEN_CACHE_TTL`] (under one second) after it was read; a token
//! deleted or changed by another process is therefore refused everywhere within a second. This
//! process's own token writes forget entries at once (one token by hash, or everything when a
//! customer's tokens are revoked). Only `access` tokens are kept: refresh tokens are read once
//! per refresh and their expiry moves on each use. The caller still checks `expires_at`
//! against its clock on every request; the freshness bound here is wall-clock monotonic time,
//! not business time, like the query deadline.
//!
//! Must not cache anything but token rows; customers are never cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::AccessTokenRecord;

/// How long a cached token row may be served after it was read from the database.
pub(crate) const TOKEN_CACHE_TTL: Duration = Duration::from_millis(900);

/// Entries kept at most; past it the cache starts over rather than tracking age order.
const CAPACITY: usize = 65_536;

/// Token rows by hash, each with the instant it was read.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, AccessTokenRecord)>>,
}

impl TokenCache {
    /// The row of `token_hash` if it was read less than [`TOKEN_CACHE_TTL`] ago.
    pub(crate) fn get(&self, token_hash: &str) -> Option<AccessTokenRecord> {
        let entries = self.entries.lock().ok()?;
        let (read_at, record) = entries.get(token_hash)?;
        (read_at.elapsed() < TOKEN_CACHE_TTL).then(|| record.clone())
    }

    /// Remembers a row read at `read_at` (taken before the read, so its age is never
    /// understated). Refresh tokens and absent rows are not kept.
    pub(crate) fn put(&self, read_at: Instant, record: &AccessTokenRecord) {
        if record.kind != "access" {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (at, _)| at.elapsed() < TOKEN_CACHE_TTL);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(record.token_hash.clone(), (read_at, record.clone()));
        }
    }

    /// Forgets one token (deleted or changed by this process).
    pub(crate) fn forget(&self, token_hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(token_hash);
        }
    }

    /// Forgets every token (a customer's tokens were revoked by this process).
    pub(crate) fn forget_all(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn record(hash: &str, kind: &str) -> AccessTokenRecord {
        AccessTokenRecord {
            token_hash: hash.to_owned(),
            kind: kind.to_owned(),
            client_id: "c".to_owned(),
            project_key: "p".to_owned(),
            scope: "manage_project:p".to_owned(),
            customer_id: None,
            expires_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn serves_fresh_access_tokens_only() {
        let cache = TokenCache::default();
        cache.put(Instant::now(), &record("a", "access"));
        cache.put(Instant::now(), &record("r", "refresh"));
        assert_eq!(cache.get("a"), Some(record("a", "access")));
        assert_eq!(cache.get("r"), None);
        let stale = Instant::now() - TOKEN_CACHE_TTL;
        cache.put(stale, &record("old", "access"));
        assert_eq!(cache.get("old"), None);
    }

    #[test]
    fn forgets_one_or_all() {
        let cache = TokenCache::default();
        cache.put(Instant::now(), &record("a", "access"));
        cache.put(Instant::now(), &record("b", "access"));
        cache.forget("a");
        assert_eq!(cache.get("a"), None);
        assert!(cache.get("b").is_some());
        cache.forget_all();
        assert_eq!(cache.get("b"), None);
    }
}
