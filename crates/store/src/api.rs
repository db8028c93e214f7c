//! The store's public contract: the [`Store`] trait, the records it reads and writes, its
//! options and its error ([`StoreError`]). Re-exported from the crate root, which is where
//! callers name them.
//!
//! Must not depend on any other module of the crate: every one of them implements or uses this
//! contract, so it stays a leaf. No SQL and no driver type here.

use std::time::Duration;

use async_trait::async_trait;
use clientele_domain::subscription::SubscriptionHealthStatus;
use clientele_domain::{Customer, Message, Project, ProjectRecord, Version};
use clientele_query::search::{SearchHit, SearchRequest};
use clientele_query::{Predicate, SortKey};
use time::OffsetDateTime;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// The resource cannot be deleted: resources of type `referenced_by` (for example
    /// `customer`) still reference it.
    #[error("still referenced by a {referenced_by}")]
    ReferenceExists {
        /// The `typeId` of the referencing resources.
        referenced_by: String,
    },
    /// A customer write names a Store, Customer Group or Type that does not exist (any more):
    /// checked inside the write's transaction, so a resource deleted after the request resolved
    /// it cannot end up referenced.
    #[error("referenced {type_id} not found")]
    ReferencedResourceNotFound {
        /// The `typeId` of the missing resource (`store`, `customer-group`, `type`).
        type_id: String,
        /// Its id, when the customer names it by id (groups, types).
        id: Option<String>,
        /// Its key, when the customer names it by key (stores).
        key: Option<String>,
    },
    /// A project update removes languages that Stores of the project still use.
    #[error("languages {languages:?} are used by stores")]
    LanguageUsedInStores {
        /// The removed languages some Store uses.
        languages: Vec<String>,
    },
    /// A query ran longer than [`StoreOptions::query_timeout`] and was cancelled.
    #[error("query timed out")]
    QueryTimedOut,
    /// The database cannot take writes (or answer) right now: an I/O error, a full disk, no
    /// connection within the acquire timeout, a server shutting down. Nothing was written; the
    /// same call may work once the cause is gone.
    #[error("database unavailable")]
    Unavailable,
    /// The database answered in a way we do not expect. Logged, never shown.
    #[error("backend: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether this is the store refusing one write (version, duplicate, missing reference),
    /// which leaves the connection and its transaction usable, rather than the database failing.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            StoreError::Backend(_) | StoreError::Unavailable | StoreError::QueryTimedOut
        )
    }
}

/// How to open a store; `Default` gives the production settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Maximum pooled connections; `None` means the backend's default (SQLite 8, PostgreSQL 10).
    pub pool_size: Option<u32>,
    /// Longest a customer or message query may run before it is cancelled with
    /// [`StoreError::QueryTimedOut`].
    pub query_timeout: Duration,
    /// A bulk writer (`clientele import`): on SQLite its savepoints' statement journals stay in
    /// memory, which saves writing a copy of every changed page to a temporary file but holds
    /// the pages a write group changes in memory (a server activating Customer Search would
    /// grow to hundreds of MiB, so `serve` leaves it off).
    pub bulk_writes: bool,
    /// SQLite only (PostgreSQL refuses it): the store takes the database file for itself for
    /// its whole life, on one connection in `locking_mode=EXCLUSIVE`, so no other process can
    /// read or write the file meanwhile (they get SQLite's busy error), and opening fails when
    /// another process has the file open. Needed by [`Store::suspend_bulk_indexes`].
    pub exclusive: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pool_size: None,
            query_timeout: Duration::from_secs(10),
            bulk_writes: false,
            exclusive: false,
        }
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

/// One customer as [`Store::get_customer_json`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerJson {
    /// The stored document, byte for byte the API's JSON of the customer (the serialization of
    /// the `Customer` that [`Store::get_customer`] would return, masked password included).
    Stored(String),
    /// The customer, when its stored text is not that JSON (rows written by an older server or
    /// a script, and every row on PostgreSQL, where documents are JSONB).
    Parsed(Box<Customer>),
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
    /// Restrict to the customers visible in this store (in-store endpoints): those of the store
    /// and the global ones.
    pub store: Option<String>,
}

/// How to find one resource of the generic `resources` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceLookup {
    /// By id.
    Id(String),
    /// By key.
    Key(String),
}

/// One resource of the generic `resources` table (customer groups, types, …): the indexed
/// columns and the API JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    /// Server-generated id, unique across all resources.
    pub id: String,
    /// User-defined key, unique per project and resource type.
    pub key: Option<String>,
    /// Current version.
    pub version: Version,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    pub last_modified_at: OffsetDateTime,
    /// The API representation.
    pub doc: serde_json::Value,
}

/// A Subscription with undelivered notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingSubscription {
    /// Its id.
    pub id: String,
    /// Its project.
    pub project: String,
}

/// What [`Store::set_subscription_status`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Nothing: the Subscription is gone or no longer at the version the status was decided
    /// for (it was edited since, for example repaired with `changeDestination`).
    Stale,
    /// The status is set.
    Set {
        /// For `ConfigurationError`: when the current run of configuration errors started
        /// (kept across restarts and processes).
        error_since: Option<OffsetDateTime>,
    },
}

/// One undelivered notification of a Subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingNotification {
    /// Its place in the Subscription's outbox (ascending = commit order per resource).
    pub seq: i64,
    /// `Message`, `ResourceCreated`, `ResourceUpdated` or `ResourceDeleted`.
    pub notification: String,
    /// The resource's `typeId`.
    pub resource_type_id: String,
    /// The resource's id.
    pub resource_id: String,
    /// The Message's API JSON (`Message` only; `None` once erased by `dataErasure`).
    pub message: Option<serde_json::Value>,
    /// The resource's version after the change.
    pub version: Option<u64>,
    /// The version before an update.
    pub old_version: Option<u64>,
    /// When the change happened (`2022-09-19T14:34:35.843Z`).
    pub modified_at: Option<String>,
    /// `resourceUserProvidedIdentifiers`.
    pub identifiers: Option<serde_json::Value>,
    /// A deletion with `dataErasure=true`.
    pub data_erasure: bool,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The page.
    pub results: Vec<T>,
    /// Total matches when asked for.
    pub total: Option<u64>,
}

impl From<Page<Customer>> for Page<CustomerJson> {
    /// Every customer of the page as [`CustomerJson::Parsed`].
    fn from(page: Page<Customer>) -> Self {
        Page {
            results: page
                .results
                .into_iter()
                .map(|c| CustomerJson::Parsed(Box::new(c)))
                .collect(),
            total: page.total,
        }
    }
}

// ---- Customer tokens (password reset, email verification) ----

pub use clientele_domain::token::TokenKind;

/// A password-reset or email-verification token as stored: by the hash of its value only.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerTokenRecord {
    /// The token id (what `customer-password-token` / `customer-email-token` references name).
    pub id: String,
    /// The customer the token belongs to.
    pub customer_id: String,
    /// Which flow it belongs to.
    pub kind: TokenKind,
    /// SHA-256 hex of the token value; the value itself is never stored.
    pub value_hash: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// Redeemed, or invalidated by a later redemption or `invalidateOlderTokens`.
    pub used: bool,
}

/// The customer change a token redemption makes, written in the redemption's transaction.
#[derive(Debug, Clone)]
pub struct TokenRedemption {
    /// The customer after the change. It must keep its email, key, customerNumber and stores:
    /// a redemption changes the password or `isEmailVerified` only.
    pub customer: Customer,
    /// The version the change was computed from (conditional update, as `update_customer`).
    pub expected: Version,
    /// The Messages of the change.
    pub messages: Vec<Message>,
    /// Also delete every OAuth access and refresh token issued to the customer (password reset).
    pub revoke_oauth_tokens: bool,
}

/// One customer write of a batch ([`Store::write_customers`]).
#[derive(Debug, Clone)]
pub enum CustomerWrite {
    /// A new customer and its Messages, as [`Store::insert_customer`].
    Insert {
        /// The new customer.
        customer: Customer,
        /// Its Messages.
        messages: Vec<Message>,
    },
    /// A replacement guarded by the stored version, as [`Store::update_customer`].
    Update {
        /// The customer after the change.
        customer: Customer,
        /// The version the change was computed from.
        expected: Version,
        /// The Messages of the change.
        messages: Vec<Message>,
    },
}

/// What became of a redemption whose customer update was not the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedeemOutcome {
    /// The token was marked used, every other unused token of its kind for the customer was
    /// invalidated, and the customer change and its Messages were saved.
    Redeemed,
    /// The token exists and is unused but expired; nothing changed.
    Expired,
    /// No such unused token of this kind for this customer (unknown, used or invalidated, or
    /// another redemption won the race); nothing changed.
    NotFound,
}

/// What a customer-bound or anonymous OAuth token is bound to beside its `customer_id`
/// (`/me` and anonymous sessions). All `None` for client-credentials tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenBinding {
    /// The Store of an in-store password flow.
    pub store_key: Option<String>,
    /// The anonymous session of an anonymous-session token.
    pub anonymous_id: Option<String>,
    /// SHA-256 of the customer's password hash when the token was issued: the token is valid
    /// only while the customer still has that password.
    pub credential: Option<String>,
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

    /// Creates a project at version 1 with default settings, created at `created_at`;
    /// `DuplicateField{field:"key"}` if it exists.
    async fn create_project(
        &self,
        project: &Project,
        created_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Reads a project.
    async fn get_project(&self, key: &str) -> Result<Option<Project>, StoreError>;
    /// Reads a project with its version, creation time and settings (the Project resource).
    async fn get_project_record(&self, key: &str) -> Result<Option<ProjectRecord>, StoreError>;
    /// Replaces a project's name, lists, version and settings if its stored version is
    /// `expected` (else `ConcurrentModification`; `NotFound` if it does not exist). In the same
    /// transaction refuses with `LanguageUsedInStores` when a language it removes is one of a
    /// Store's languages.
    async fn update_project(&self, record: &ProjectRecord, expected: u64)
        -> Result<(), StoreError>;
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
    /// Moves a token's expiry (refresh tokens expire after inactivity, restarted on each use).
    async fn extend_token(
        &self,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
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
    /// Reads one customer as [`Store::get_customer`] does, as its stored JSON when that is
    /// what serializing the customer gives: a plain GET answers with it without parsing it.
    async fn get_customer_json(
        &self,
        project: &str,
        lookup: &CustomerLookup,
    ) -> Result<Option<CustomerJson>, StoreError> {
        Ok(self
            .get_customer(project, lookup)
            .await?
            .map(|c| CustomerJson::Parsed(Box::new(c))))
    }
    /// [`Store::query_customers`], each customer as its stored JSON when that is what
    /// serializing it gives (as [`Store::get_customer_json`]).
    async fn query_customers_json(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<CustomerJson>, StoreError> {
        Ok(self.query_customers(project, query).await?.into())
    }
    /// Reads the customers of many lookups at once (the import's batches), each as
    /// [`Store::get_customer`] would, in order: lookups by id and by key take one query per
    /// kind (per thousand), lookups by email one each.
    async fn get_customers(
        &self,
        project: &str,
        lookups: &[CustomerLookup],
    ) -> Result<Vec<Option<Customer>>, StoreError>;
    /// Inserts a new customer and its Messages atomically. Email (per scope), key and
    /// customerNumber uniqueness are enforced by the database; every Store, Customer Group and
    /// Type the customer references must exist in the same transaction (else
    /// `ReferencedResourceNotFound`, nothing written).
    async fn insert_customer(
        &self,
        project: &str,
        customer: &Customer,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// Replaces a customer if its stored version is `expected`, with its Messages, atomically;
    /// its references are checked as in [`Store::insert_customer`].
    async fn update_customer(
        &self,
        project: &str,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// [`Store::update_customer`] for a caller that read the customer at `expected`
    /// (`previous`): only what changed since is written, which spares SQLite rewriting the
    /// index entries of unchanged columns. Same outcome and errors as `update_customer`.
    async fn update_customer_from(
        &self,
        project: &str,
        previous: &Customer,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// Applies `writes` in order in one transaction, each exactly as `insert_customer` or
    /// `update_customer` would, so a bulk import pays for one commit instead of one per
    /// customer. A write the store refuses (duplicate, missing reference, version) is undone
    /// alone and reported at its index; the others commit. `Err` only when the database failed.
    async fn write_customers(
        &self,
        project: &str,
        writes: Vec<CustomerWrite>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError>;
    /// Refreshes the database's planner statistics of the customer tables (PostgreSQL's
    /// `ANALYZE`; nothing on SQLite, whose planner does without). Where autovacuum does not
    /// run, tables filled by a bulk import keep the statistics of their empty start, and the
    /// import's batch lookups scan a whole table instead of using its indexes.
    async fn analyze_customers(&self) -> Result<(), StoreError>;
    /// Customers in the whole database, every project counted.
    async fn count_all_customers(&self) -> Result<u64, StoreError>;
    /// For a bulk load on an exclusive SQLite store: drops the non-unique secondary indexes of
    /// the customer and Message tables (never a unique one), recording their definitions in the
    /// same transaction, so that the load does not maintain them row by row; how many it
    /// dropped. Every later opening of the database re-creates what is recorded, so a load
    /// that never reaches [`Store::restore_bulk_indexes`] leaves no index missing. Refused
    /// (`Backend`) on a store that is not exclusive and on PostgreSQL.
    async fn suspend_bulk_indexes(&self) -> Result<usize, StoreError>;
    /// Re-creates the indexes [`Store::suspend_bulk_indexes`] dropped and empties the record;
    /// how many it re-created (none when nothing is recorded, and always on PostgreSQL).
    async fn restore_bulk_indexes(&self) -> Result<usize, StoreError>;
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

    /// Reads one resource of `type_id` (`customer-group`, `type`, …) as its API JSON.
    async fn get_resource(
        &self,
        project: &str,
        type_id: &str,
        lookup: &ResourceLookup,
    ) -> Result<Option<serde_json::Value>, StoreError>;
    /// Inserts a new resource; `DuplicateField{key}` if its key is taken for this type.
    async fn insert_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
    ) -> Result<(), StoreError>;
    /// Inserts a new resource unless the project holds `max` resources of its type already
    /// (`false` then, nothing written); the count and the insert are one atomic step.
    async fn insert_resource_within(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        max: u64,
    ) -> Result<bool, StoreError>;
    /// Replaces a resource if its stored version is `expected` (else `ConcurrentModification`;
    /// `NotFound` if it is gone).
    async fn update_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        expected: Version,
    ) -> Result<(), StoreError>;
    /// Deletes a resource if its stored version is `expected`. Refuses, in the same
    /// transaction, with `ReferenceExists` while something still references it: a
    /// `customer-group` referenced by a customer's `customerGroup` or
    /// `customerGroupAssignments`, a `type` used by the `custom` of a customer, of one of its
    /// addresses or of any resource in the generic table, a `store` a customer belongs to.
    async fn delete_resource(
        &self,
        project: &str,
        type_id: &str,
        id: &str,
        expected: Version,
    ) -> Result<(), StoreError>;
    /// Queries resources of `type_id` (predicate and sort checked against that type's schema).
    async fn query_resources(
        &self,
        project: &str,
        type_id: &str,
        query: &ResourceQuery,
    ) -> Result<Page<serde_json::Value>, StoreError>;

    /// Reads one message.
    async fn get_message(&self, project: &str, id: &str) -> Result<Option<Message>, StoreError>;
    /// Queries messages. `query.store` is ignored: messages belong to the project.
    async fn query_messages(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Message>, StoreError>;

    // ---- Customer tokens (password reset, email verification) ----

    /// Stores a new token of `token.customer_id` with its Messages, atomically; with
    /// `invalidate_older` first marks every unused token of the same kind of that customer used.
    /// `NotFound` when the customer does not exist (or not in `project`).
    async fn insert_customer_token(
        &self,
        project: &str,
        token: &CustomerTokenRecord,
        invalidate_older: bool,
        messages: Vec<Message>,
    ) -> Result<(), StoreError>;
    /// Reads a token by the hash of its value and its kind (used and expired ones too: the
    /// caller decides).
    async fn find_customer_token(
        &self,
        project: &str,
        value_hash: &str,
        kind: TokenKind,
    ) -> Result<Option<CustomerTokenRecord>, StoreError>;
    /// Redeems a token in one transaction: marks it used if it is unused, unexpired at `now` and
    /// belongs to `change.customer` (a conditional update, so of many concurrent redemptions
    /// exactly one wins), invalidates the customer's other unused tokens of that kind, writes
    /// the customer change at `change.expected` with its Messages, and optionally revokes the
    /// customer's OAuth tokens.
    ///
    /// When the customer update fails (`ConcurrentModification`, `NotFound`, …) the whole
    /// transaction rolls back, so the token stays usable: a stale `version` never burns it.
    async fn redeem_customer_token(
        &self,
        project: &str,
        value_hash: &str,
        kind: TokenKind,
        now: OffsetDateTime,
        change: TokenRedemption,
    ) -> Result<RedeemOutcome, StoreError>;

    // ---- `/me` and anonymous sessions ----

    /// Stores an issued token (by hash) with its binding, in one statement.
    async fn insert_bound_token(
        &self,
        token: &AccessTokenRecord,
        binding: &TokenBinding,
    ) -> Result<(), StoreError>;
    /// The binding of a token by hash (all `None` for an unbound token); `None` when there is no
    /// such token.
    async fn get_token_binding(&self, token_hash: &str)
        -> Result<Option<TokenBinding>, StoreError>;
    /// Deletes one access or refresh token (a customer-bound token found stale on use).
    async fn delete_token(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Records an anonymous session id as issued; `false` when it was issued before (the
    /// primary key decides between concurrent requests).
    async fn claim_anonymous_id(
        &self,
        project: &str,
        anonymous_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    // ---- Customer Search ----

    /// Answers a checked Customer Search request over `project`'s index (`total` always set).
    /// The index is written in each customer write's transaction, so a search sees every
    /// acknowledged write.
    async fn search_customers(
        &self,
        project: &str,
        request: &SearchRequest,
    ) -> Result<Page<SearchHit>, StoreError>;
    /// How many customers of `project` are indexed, and how many there are.
    async fn search_index_progress(&self, project: &str) -> Result<(u64, u64), StoreError>;
    /// Indexes up to `batch` customers of `project` written before the index existed, in one
    /// transaction; how many it indexed (0: none left).
    async fn index_unindexed_customers(&self, project: &str, batch: u32)
        -> Result<u64, StoreError>;
    /// [`Store::index_unindexed_customers`] for the customers with an id above `after`, in id
    /// order, so that an activation walks its customers once: the last id it read, `None`
    /// when no unindexed customer is left above `after`.
    async fn index_unindexed_customers_after(
        &self,
        project: &str,
        after: &str,
        batch: u32,
    ) -> Result<Option<String>, StoreError>;

    // ---- Subscription delivery (the outbox every write fans out into) ----

    /// Every Subscription with undelivered notifications that no owner other than `owner`
    /// holds a lease on past `now`, each with its project (read only: leasing one is
    /// [`Store::renew_subscription_lease`]).
    async fn waiting_subscriptions(
        &self,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<WaitingSubscription>, StoreError>;
    /// Takes or renews `owner`'s lease of Subscription `id` until `until`, unless another
    /// owner holds it past `now`; `false` then (this one must not deliver it).
    async fn renew_subscription_lease(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Gives up `owner`'s lease of Subscription `id`.
    async fn release_subscription_lease(&self, id: &str, owner: &str) -> Result<(), StoreError>;
    /// Subscription `id`'s oldest `limit` undelivered notifications, in order.
    async fn pending_notifications(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<PendingNotification>, StoreError>;
    /// Marks Subscription `id`'s notifications `seqs` delivered, if `owner` still holds its
    /// lease (whether it did). Exactly those: on PostgreSQL a lower `seq` may commit later.
    async fn ack_notifications(
        &self,
        id: &str,
        owner: &str,
        seqs: &[i64],
    ) -> Result<bool, StoreError>;
    /// Sets a Subscription's health `status` (no new version) if it is still at `version`, the
    /// one the status was decided for; the dropping states also drop its undelivered
    /// notifications and stop queueing new ones. `ConfigurationError` starts the error clock
    /// at `now` unless it runs already.
    async fn set_subscription_status(
        &self,
        id: &str,
        version: u64,
        status: SubscriptionHealthStatus,
        now: OffsetDateTime,
    ) -> Result<StatusChange, StoreError>;
    /// Relays the other processes' signals that they queued notifications to
    /// this process's outbox signal (the crate's `outbox_signal`) until it fails (PostgreSQL); returns at once
    /// where no other process delivers (SQLite).
    async fn relay_outbox_signals(&self) -> Result<(), StoreError>;

    /// The connection pool's occupancy right now, for metrics (read-only, no query).
    fn pool_stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

/// Occupancy of a store's connection pool(s), summed over every pool the backend keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open right now.
    pub open: u32,
    /// Open connections lent out to a query or transaction.
    pub in_use: u32,
    /// Most connections the pool(s) may open.
    pub max: u32,
    /// Tasks (requests, writes) waiting for a connection right now.
    pub waiting: u32,
}
