//! Persistence behind one [`Store`] trait, with an SQLite backend (the embedded default) and a
//! PostgreSQL backend, each with its own migrations.
//!
//! The store never sees HTTP. It translates database facts (unique-constraint names, row
//! counts of conditional updates) into [`StoreError`] variants at this boundary; no driver error
//! type leaks upward.

mod error;
mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clientele_domain::{Customer, Message, Project, Version};
use clientele_query::{Predicate, SortKey};
use time::OffsetDateTime;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The resource does not exist (or is not visible in the given scope).
    #[error("not found")]
    NotFound,
    /// The expected version did not match; carries the current version.
    #[error("version mismatch (current {current})")]
    ConcurrentModification {
        /// The version currently stored.
        current: u64,
    },
    /// A unique field already holds this value.
    #[error("duplicate value {value} for field {field}")]
    DuplicateField {
        /// `email`, `key`, `customerNumber`, ….
        field: String,
        /// The duplicate value as the client sent it.
        value: String,
    },
    /// Another transaction holds the lock on this field (concurrent same-email writers).
    #[error("field {field} is locked")]
    LockedField {
        /// The locked field.
        field: String,
    },
    /// A query ran longer than [`StoreOptions::query_timeout`] and was cancelled.
    #[error("query timed out")]
    QueryTimedOut,
    /// The database is unreachable or answered in a way we do not expect. Logged, never shown.
    #[error("backend: {0}")]
    Backend(String),
}

/// How to open a store; `Default` gives the production settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Maximum pooled connections; `None` means the backend's default (SQLite 8, PostgreSQL 10).
    pub pool_size: Option<u32>,
    /// Longest a customer or message query may run before it is cancelled with
    /// [`StoreError::QueryTimedOut`].
    pub query_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pool_size: None,
            query_timeout: Duration::from_secs(10),
        }
    }
}

/// Opens the store named by `url` and applies that backend's migrations.
///
/// `sqlite://clientele.db`, `sqlite:path/to.db` and `sqlite::memory:` open SQLite (the file is
/// created if missing); `postgres://…` and `postgresql://…` open PostgreSQL.
pub async fn open(url: &str, opts: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, &opts).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::open(url, &opts).await?))
    } else {
        // The URL may hold a password, so only its scheme goes into the error.
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::Backend(format!(
            "unsupported database URL scheme '{scheme}' (use sqlite: or postgres:)"
        )))
    }
}

/// An API client (OAuth2 client credentials) of one project.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClientRecord {
    /// The public client id.
    pub client_id: String,
    /// SHA-256 hex of the secret; the secret itself is never stored.
    pub secret_hash: String,
    /// The project the client belongs to.
    pub project_key: String,
    /// Space-separated scopes the client may request.
    pub scope: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// An issued OAuth2 access or refresh token.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenRecord {
    /// SHA-256 hex of the token value; the value itself is never stored.
    pub token_hash: String,
    /// `access` or `refresh`.
    pub kind: String,
    /// The issuing client.
    pub client_id: String,
    /// The project.
    pub project_key: String,
    /// Space-separated granted scopes.
    pub scope: String,
    /// For password-flow tokens: the customer.
    pub customer_id: Option<String>,
    /// Expiry.
    pub expires_at: OffsetDateTime,
}

/// How to find one customer.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerLookup {
    /// By id.
    Id(String),
    /// By key.
    Key(String),
    /// By email, case-insensitively, among global customers (`store` = None) or among the
    /// customers of one store.
    Email {
        /// The email as given.
        email: String,
        /// The store scope, if any.
        store: Option<String>,
    },
}

/// A customer query: checked predicate, sort, paging.
#[derive(Debug, Clone, Default)]
pub struct ResourceQuery {
    /// The `where` predicate, already checked against the schema.
    pub predicate: Option<Predicate>,
    /// Sort keys; empty means the schema's default order.
    pub sort: Vec<SortKey>,
    /// Page size (0..=500).
    pub limit: u64,
    /// Offset (0..=10000).
    pub offset: u64,
    /// Whether to count all matches.
    pub with_total: bool,
    /// Restrict to customers of this store (in-store endpoints).
    pub store: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The page.
    pub results: Vec<T>,
    /// Total matches when asked for.
    pub total: Option<u64>,
}

/// Everything Clientele persists. Implemented by the SQLite and the PostgreSQL backend; the
/// conformance suite runs the same story against both.
///
/// Writes that change a customer also take the Messages to store in the same transaction; the
/// store assigns their `sequenceNumber` (per resource, from 1).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Succeeds when the database answers.
    async fn health(&self) -> Result<(), StoreError>;
    /// Closes the connection pool, waiting for checked-out connections to come back (graceful
    /// shutdown; every later call fails with `Backend`).
    async fn close(&self);

    /// Creates a project; `DuplicateField{field:"key"}` if it exists.
    async fn create_project(&self, project: &Project) -> Result<(), StoreError>;
    /// Reads a project.
    async fn get_project(&self, key: &str) -> Result<Option<Project>, StoreError>;
    /// Number of projects (0 on a fresh database).
    async fn count_projects(&self) -> Result<u64, StoreError>;

    /// Stores a new API client.
    async fn create_api_client(&self, client: &ApiClientRecord) -> Result<(), StoreError>;
    /// Reads an API client by id.
    async fn get_api_client(&self, client_id: &str) -> Result<Option<ApiClientRecord>, StoreError>;

    /// Stores an issued token (by hash).
    async fn insert_token(&self, token: &AccessTokenRecord) -> Result<(), StoreError>;
    /// Reads a token by hash (expired ones too: the caller checks `expires_at`).
    async fn get_token(&self, token_hash: &str) -> Result<Option<AccessTokenRecord>, StoreError>;
    /// Deletes every access and refresh token issued to a customer (after a password reset).
    async fn revoke_customer_tokens(
        &self,
        project: &str,
        customer_id: &str,
    ) -> Result<(), StoreError>;

    /// Reads one customer (with its password hash).
    async fn get_customer(
        &self,
        project: &str,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, StoreError>;
    /// Inserts a new customer and its Messages atomically. Email (per scope), key and
    /// customerNumber uniqueness are enforced by the database.
    async fn insert_customer(
        &self,
        project: &str,
        customer: &Customer,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// Replaces a customer if its stored version is `expected`, with its Messages, atomically.
    async fn update_customer(
        &self,
        project: &str,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// Deletes a customer if its stored version is `expected`; with `data_erasure` also erases
    /// its earlier Messages. Stores `messages` (CustomerDeleted) atomically.
    async fn delete_customer(
        &self,
        project: &str,
        id: &str,
        expected: Version,
        data_erasure: bool,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// Queries customers.
    async fn query_customers(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Customer>, StoreError>;

    /// Reads one message.
    async fn get_message(&self, project: &str, id: &str) -> Result<Option<Message>, StoreError>;
    /// Queries messages. `query.store` is ignored: messages belong to the project.
    async fn query_messages(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Message>, StoreError>;
}
