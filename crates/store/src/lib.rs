//! Persistence behind one [`Store`] trait, implemented once (`store`, `customers`,
//! `resources`) over SQLite (the embedded default) and PostgreSQL; what differs is a seam: each
//! backend module holds connecting, migrations and the query deadline, `dialect` the SQL
//! snippets and constraint names of both. The trait, its records and its error live in `api`
//! and are re-exported here.
//!
//! The store never sees HTTP. It translates database facts (unique-constraint names, row
//! counts of conditional updates) into [`StoreError`] variants at this boundary; no driver error
//! type leaks upward.

mod announce;
mod api;
mod customers;
mod db;
mod dialect;
mod error;
mod inspect;
mod local;
mod pool_stats;
mod postgres;
mod readers;
mod resources;
mod rows;
mod search;
mod sqlite;
mod statement;
mod store;
mod subscriptions;
mod suspended;
mod token_cache;
mod tokens;

use std::sync::Arc;

pub use api::{
    AccessTokenRecord, ApiClientRecord, CustomerJson, CustomerLookup, CustomerTokenRecord,
    CustomerWrite, Page, PendingNotification, PoolStats, RedeemOutcome, ResourceLookup,
    ResourceQuery, ResourceRecord, StatusChange, Store, StoreError, StoreOptions, TokenBinding,
    TokenKind, TokenRedemption, WaitingSubscription,
};
/// Woken after every commit of this process that queued Subscription notifications (and, once
/// [`Store::relay_outbox_signals`] runs, after other processes' commits on PostgreSQL): the
/// delivery worker waits on it instead of only polling.
pub fn outbox_signal() -> &'static tokio::sync::Notify {
    &db::OUTBOX
}

#[doc(hidden)]
pub use inspect::{page_statements, Listing};

/// Opens the store named by `url` and applies that backend's migrations.
///
/// `sqlite://clientele.db`, `sqlite:path/to.db` and `sqlite::memory:` open SQLite (the file is
/// created if missing); `postgres://…` and `postgresql://…` open PostgreSQL.
pub async fn open(url: &str, opts: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    let backend = if url.starts_with("sqlite:") {
        sqlite::open(url, &opts).await?
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::open(url, &opts).await?
    } else {
        // The URL may hold a password, so only its scheme goes into the error.
        let scheme = url.split(':').next().unwrap_or_default();
        return Err(StoreError::Backend(format!(
            "unsupported database URL scheme '{scheme}' (use sqlite: or postgres:)"
        )));
    };
    Ok(Arc::new(store::SqlStore::new(backend, &opts)))
}
