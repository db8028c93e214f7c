//! Reading a backend's connection-pool occupancy for metrics: the arithmetic over sqlx's pool
//! counters, and the one count sqlx does not keep — tasks waiting for a connection
//! ([`Waiting`]). Must not touch a connection or run a statement.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::PoolStats;

/// How many tasks are waiting for a connection of one backend's pools right now.
#[derive(Debug, Clone, Default)]
pub(crate) struct Waiting(Arc<AtomicU32>);

impl Waiting {
    /// Awaits `acquire`, counted as waiting until it finishes or is dropped (a request given
    /// up while waiting stops counting).
    pub(crate) async fn on<F: Future>(&self, acquire: F) -> F::Output {
        self.0.fetch_add(1, Ordering::Relaxed);
        let _counted = Counted(&self.0);
        acquire.await
    }

    /// The count right now.
    fn now(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Takes one waiter off the count when dropped.
struct Counted<'a>(&'a AtomicU32);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sums the occupancy of `pools` (SQLite keeps a reader pool and a writer pool), with the
/// backend's waiters.
pub(crate) fn of<DB: sqlx::Database>(pools: &[&sqlx::Pool<DB>], waiting: &Waiting) -> PoolStats {
    let stats = pools.iter().fold(PoolStats::default(), |acc, pool| {
        let open = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        PoolStats {
            open: acc.open + open,
            in_use: acc.in_use + open.saturating_sub(idle),
            max: acc.max + pool.options().get_max_connections(),
            waiting: 0,
        }
    });
    PoolStats {
        waiting: waiting.now(),
        ..stats
    }
}
