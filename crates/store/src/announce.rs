//! The "notifications queued" signal from one PostgreSQL process to the others: a `NOTIFY` sent
//! after the commits that queued Subscription notifications, never inside them.
//!
//! Must not run inside a write transaction, nor decide what is delivered (the workers read
//! the outbox themselves).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sqlx::PgPool;

/// Tells the other processes' delivery workers (listening in `postgres::relay_outbox_signals`) that
/// committed writes queued notifications: one `NOTIFY` at a time, outside any write
/// transaction, and one more after it if more commits asked meanwhile.
///
/// Not inside the writes' transactions: PostgreSQL serializes the commits of transactions that
/// sent `NOTIFY` on one lock held through their WAL flush, so writes that each notified could
/// not share a flush (pgbench, 16 clients, one-row inserts: 5,100–7,700 commits/s without,
/// about 1,000/s with a `NOTIFY` in each). A process that dies between a commit and its signal
/// leaves the others to find the notifications at their next poll.
#[derive(Clone, Default)]
pub(crate) struct Announcer(Arc<Announcing>);

/// Whether a signal is being sent, and whether another was asked for since it started.
#[derive(Default)]
struct Announcing {
    busy: AtomicBool,
    again: AtomicBool,
}

impl Announcer {
    /// Signals the other processes now, or right after the signal being sent.
    pub(crate) fn announce(&self, pool: &PgPool) {
        self.0.again.store(true, Ordering::SeqCst);
        if self.0.busy.swap(true, Ordering::SeqCst) {
            return;
        }
        let (state, pool) = (self.0.clone(), pool.clone());
        tokio::spawn(async move {
            loop {
                if !state.again.swap(false, Ordering::SeqCst) {
                    state.busy.store(false, Ordering::SeqCst);
                    // Asked for between the look and letting go, and no new sender started.
                    if state.again.load(Ordering::SeqCst)
                        && !state.busy.swap(true, Ordering::SeqCst)
                    {
                        continue;
                    }
                    return;
                }
                let notify = crate::dialect::POSTGRES.outbox_notify.unwrap_or_default();
                if let Err(e) = sqlx::query(notify).execute(&pool).await {
                    tracing::debug!(error = %e, "signalling queued notifications failed; other processes poll");
                }
            }
        });
    }
}
