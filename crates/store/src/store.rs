//! The one implementation of [`Store`], for both databases: every operation is written once,
//! as SQL with `$n` placeholders run through [`Conn`], with the few dialect differences taken
//! from the connection's [`Dialect`]. Writes run through [`Backend::write`] (one
//! transaction on a task of its own: cancellation-safe); page queries through the backend's
//! query deadline.
//!
//! Must not hold anything that depends on which database is open beyond dispatching to its
//! seam (`sqlite`, `postgres`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clientele_domain::project_settings::ProjectSettings;
use clientele_domain::subscription::SubscriptionHealthStatus;
use clientele_domain::{Customer, Message, Project, ProjectRecord, Version};
use clientele_query::schema::{customer_schema, message_schema};
use time::OffsetDateTime;

use crate::customers::{
    customer_identifiers, find_token_on, insert_customer_on, insert_messages,
    invalidate_customer_tokens, missed_write, next_sequence_number, update_customer_on,
    write_batch_on, BatchItem,
};
use crate::db::{page_on, Backend, BoxFuture, Conn, PageRows, Pools, Sql};
use crate::dialect::{self, Dialect};
use crate::error::{joined, SqlxResultExt};
use crate::rows::{
    cap_total, customer_from_row, message_from_row, parse_ts, resource_from_row, resource_schema,
    to_i64, to_u64, ts, CustomerRow, PageSql, PageTarget, ProjectLists, ResourceRow,
    CUSTOMER_DOC_FORM, GLOBAL_SCOPE, STORED_JSON,
};
use crate::search;
use crate::statement::placeholders;
use crate::subscriptions::{fan_out_change, Change, ModifiedAt};
use crate::suspended;
use crate::token_cache::TokenCache;
use crate::tokens::kind_column;
use crate::{
    postgres, resources, sqlite, subscriptions, AccessTokenRecord, ApiClientRecord, CustomerJson,
    CustomerLookup, CustomerTokenRecord, CustomerWrite, Page, PendingNotification, RedeemOutcome,
    ResourceLookup, ResourceQuery, ResourceRecord, StatusChange, Store, StoreError, StoreOptions,
    TokenBinding, TokenKind, TokenRedemption, WaitingSubscription,
};

/// The [`Store`] over either database.
pub(crate) struct SqlStore {
    backend: Backend,
    query_timeout: Duration,
    /// Access-token rows read in the last second (see `token_cache`).
    tokens: TokenCache,
    /// Opened `StoreOptions::exclusive`: no other process can read the database.
    exclusive: bool,
}

impl SqlStore {
    /// Wraps an opened backend.
    pub(crate) fn new(backend: Backend, opts: &StoreOptions) -> Self {
        SqlStore {
            backend,
            query_timeout: opts.query_timeout,
            tokens: TokenCache::default(),
            exclusive: opts.exclusive,
        }
    }

    /// After a batch failed as a whole (a statement or its `COMMIT` failing in the database,
    /// not a refusal): each write again in a transaction of its own, so every write gets its
    /// own outcome — the one that fails keeps its real error, the others commit.
    async fn write_one_by_one(
        &self,
        project: &str,
        items: &Arc<Vec<BatchItem>>,
        batch_error: StoreError,
    ) -> Vec<Result<(), StoreError>> {
        tracing::warn!(error = %batch_error, "a customer batch failed; writing it one by one");
        let mut out = Vec::with_capacity(items.len());
        for i in 0..items.len() {
            let (all, p) = (items.clone(), project.to_owned());
            let result = self
                .backend
                .write("commit customer write", move |c| {
                    Box::pin(async move {
                        let one = all.get(i..=i).unwrap_or_default();
                        write_batch_on(c, &p, one, false).await
                    })
                })
                .await;
            out.push(result.map(|_| ()));
        }
        out
    }

    /// Replaces a customer at version `expected` (see `update_customer_on`; with `previous`,
    /// only what changed since it is written).
    async fn replace_customer(
        &self,
        project: &str,
        previous: Option<&Customer>,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let previous = previous.map(CustomerRow::of).transpose()?;
        let row = CustomerRow::of(customer)?;
        let project = project.to_owned();
        self.backend
            .write("commit update customer", move |c| {
                Box::pin(async move {
                    let previous = previous.as_ref();
                    update_customer_on(c, &project, &row, previous, expected, &messages).await
                })
            })
            .await
    }

    /// Runs `sql` alone as a write transaction; a violation of the unique `field` is
    /// `DuplicateField` with `value`.
    async fn write_one(
        &self,
        what: &'static str,
        sql: Sql,
        unique: Option<(&'static str, String)>,
    ) -> Result<(), StoreError> {
        self.backend
            .write(what, move |c| {
                Box::pin(async move {
                    let done = c.execute(sql).await;
                    match &unique {
                        Some((field, value)) => done.on_unique(what, &[(field, value)])?,
                        None => done.or_backend(what)?,
                    };
                    Ok(())
                })
            })
            .await
    }

    /// Runs a page query (and its count) under the backend's query deadline: on SQLite through
    /// the [`crate::readers::Readers`] when the database has them.
    pub(crate) async fn run_page(&self, sql: PageSql) -> Result<PageRows, StoreError> {
        if let Backend::Sqlite(Pools {
            readers: Some(readers),
            ..
        }) = &self.backend
        {
            return readers.page(sql, self.query_timeout).await;
        }
        self.run_read(move |c| Box::pin(async move { page_on(c, &sql).await }))
            .await
    }

    /// Runs the reads of `body` in one read-only snapshot under the backend's query deadline.
    /// In a task of its own, like writes, so that a caller who gives up (client disconnect)
    /// cannot leave the transaction open, or SQLite's deadline handler installed, on a pooled
    /// connection.
    async fn run_read<T, F>(&self, body: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (backend, timeout) = (self.backend.clone(), self.query_timeout);
        let task = tokio::spawn(async move {
            let (mut conn, begun) = match &backend {
                Backend::Sqlite(p) => sqlite::begin_read(p, timeout).await?,
                Backend::Postgres(p, w, _) => postgres::begin_read(p, w, timeout).await?,
            };
            let result = match begun {
                Ok(()) => body(&mut conn).await,
                Err(e) => Err(e),
            };
            // Read-only: ending it either way is the same. A connection that cannot end it, or
            // still carries the deadline, must not be reused.
            if !sqlite::deadline_removed(&mut conn).await
                || conn.execute(Sql::new("ROLLBACK")).await.is_err()
            {
                conn.close_on_drop();
            }
            result
        });
        joined(task.await, "query task")
    }

    /// The dialect of the open database.
    fn dialect(&self) -> &'static Dialect {
        match &self.backend {
            Backend::Sqlite(_) => &dialect::SQLITE,
            Backend::Postgres(..) => &dialect::POSTGRES,
        }
    }

    /// One page of `target` rows, each turned into a `T` by `read`.
    async fn page<T>(
        &self,
        target: &PageTarget<'_>,
        project: &str,
        query: &ResourceQuery,
        read: impl Fn(String, Option<String>) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let sql = PageSql::build(target, project, query)?;
        let (rows, total) = self.run_page(sql).await?;
        Ok(Page {
            results: rows
                .into_iter()
                .map(|(doc, hash)| read(doc, hash))
                .collect::<Result<_, _>>()?,
            total: total
                .map(|n| cap_total(n, query.predicate.is_some()))
                .transpose()?,
        })
    }
}

/// The columns [`project_from_row`] reads, as a `SELECT` to append a `WHERE` to.
const PROJECT_COLUMNS: &str = "SELECT key, name, languages, countries, currencies, version, \
     created_at, settings FROM projects";

/// A `projects` row as [`PROJECT_COLUMNS`] selects it.
type ProjectColumns = (String, String, String, String, String, i64, String, String);

/// A `projects` row (as [`PROJECT_COLUMNS`] selects it) as a record.
fn project_from_row(columns: ProjectColumns) -> Result<ProjectRecord, StoreError> {
    let (key, name, languages, countries, currencies, version, created_at, settings) = columns;
    let project = ProjectLists {
        languages,
        countries,
        currencies,
    }
    .into_project(key, name)?;
    let settings: ProjectSettings = serde_json::from_str(&settings).map_err(|e| {
        tracing::error!(error = %e, "corrupt project settings");
        StoreError::Backend(format!("project settings: {e}"))
    })?;
    Ok(ProjectRecord {
        project,
        version: to_u64(version, "project version")?,
        created_at: parse_ts(&created_at, "project createdAt")?,
        settings,
    })
}

/// The body of [`Store::update_project`], inside its transaction.
async fn update_project_on(
    c: &mut Conn,
    record: &ProjectRecord,
    expected: u64,
) -> Result<(), StoreError> {
    let key = &record.project.key;
    let lock = c.dialect().update_lock;
    let sql = Sql::new(format!("{PROJECT_COLUMNS} WHERE key = $1 {lock}")).bind(key);
    let Some(current) = c.first(sql, "lock project").await? else {
        return Err(StoreError::NotFound);
    };
    let current = project_from_row(current)?;
    if current.version != expected {
        return Err(StoreError::ConcurrentModification {
            current: current.version,
        });
    }
    let removed: Vec<&String> = current
        .project
        .languages
        .iter()
        .filter(|l| !record.project.supports_locale(l))
        .collect();
    if !removed.is_empty() {
        let used = languages_used_by_stores(c, key, &removed).await?;
        if !used.is_empty() {
            return Err(StoreError::LanguageUsedInStores { languages: used });
        }
    }
    if record.settings.customer_search_on() && !current.settings.customer_search_on() {
        search::clear(c, key).await?;
    }
    let lists = ProjectLists::of(&record.project)?;
    let settings = serde_json::to_string(&record.settings)
        .map_err(|e| StoreError::Backend(format!("project settings: {e}")))?;
    let sql = Sql::new(
        "UPDATE projects SET name = $1, languages = $2, countries = $3, currencies = $4, \
         version = $5, settings = $6 WHERE key = $7",
    )
    .bind(&record.project.name)
    .bind(&lists.languages)
    .bind(&lists.countries)
    .bind(&lists.currencies)
    .bind(to_i64(record.version)?)
    .bind(&settings)
    .bind(key);
    c.run(sql, "update project").await?;
    Ok(())
}

/// Which of `removed` some Store of `project` lists among its languages (compared
/// case-insensitively, as language tags are). Reads the Stores with a share lock so none
/// changes before the project update commits.
async fn languages_used_by_stores(
    c: &mut Conn,
    project: &str,
    removed: &[&String],
) -> Result<Vec<String>, StoreError> {
    let dialect = c.dialect();
    let sql = Sql::new(format!(
        "SELECT {} FROM resources WHERE project = $1 AND type_id = 'store' {}",
        (dialect.doc_out)("doc"),
        dialect.share_lock
    ))
    .bind(project);
    let mut used: Vec<String> = Vec::new();
    for (doc,) in c.rows::<(String,)>(sql, "read stores").await? {
        let store: serde_json::Value = serde_json::from_str(&doc)
            .map_err(|e| StoreError::Backend(format!("store document: {e}")))?;
        let languages = store
            .get("languages")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        for l in languages.iter().filter_map(serde_json::Value::as_str) {
            for r in removed {
                if r.eq_ignore_ascii_case(l) && !used.contains(r) {
                    used.push((*r).clone());
                }
            }
        }
    }
    Ok(used)
}

/// The lookup of the customer `lookup` names: its document as text and its password hash,
/// after its `doc_form` when `with_form`.
fn customer_lookup_sql(
    dialect: &Dialect,
    project: &str,
    lookup: &CustomerLookup,
    with_form: bool,
) -> Sql {
    let form = if with_form { "c.doc_form, " } else { "" };
    match lookup {
        CustomerLookup::Id(value) | CustomerLookup::Key(value) => {
            let column = if matches!(lookup, CustomerLookup::Id(_)) {
                "id"
            } else {
                "key"
            };
            Sql::new(format!(
                "SELECT {form}{}, c.password_hash FROM customers c \
                 WHERE c.project = $1 AND c.{column} = $2",
                (dialect.doc_out)("c.doc")
            ))
            .bind(project)
            .bind(value)
        }
        CustomerLookup::Email { email, store } => Sql::new(format!(
            "SELECT {form}{}, c.password_hash FROM customer_emails e \
             JOIN customers c ON c.id = e.customer_id \
             WHERE e.project = $1 AND e.scope = $2 AND e.lowercase_email = $3",
            (dialect.doc_out)("c.doc")
        ))
        .bind(project)
        .bind(store.as_deref().unwrap_or(GLOBAL_SCOPE))
        .bind(&email.to_lowercase()),
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn health(&self) -> Result<(), StoreError> {
        let sql = Sql::new("SELECT true");
        self.backend
            .read_one::<(bool,)>(sql, "health check")
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.backend.close().await;
    }

    async fn create_project(
        &self,
        project: &Project,
        created_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let lists = ProjectLists::of(project)?;
        let sql = Sql::new(
            "INSERT INTO projects (key, name, languages, countries, currencies, version, \
             created_at, settings) VALUES ($1, $2, $3, $4, $5, 1, $6, '{}')",
        )
        .bind(&project.key)
        .bind(&project.name)
        .bind(&lists.languages)
        .bind(&lists.countries)
        .bind(&lists.currencies)
        .bind(&ts(created_at));
        self.write_one("create project", sql, Some(("key", project.key.clone())))
            .await
    }

    async fn get_project(&self, key: &str) -> Result<Option<Project>, StoreError> {
        Ok(self.get_project_record(key).await?.map(|r| r.project))
    }

    async fn get_project_record(&self, key: &str) -> Result<Option<ProjectRecord>, StoreError> {
        let sql = Sql::new(format!("{PROJECT_COLUMNS} WHERE key = $1")).bind(key);
        let columns = self.backend.read_one(sql, "get project").await?;
        columns.map(project_from_row).transpose()
    }

    async fn update_project(
        &self,
        record: &ProjectRecord,
        expected: u64,
    ) -> Result<(), StoreError> {
        let record = record.clone();
        self.backend
            .write("update project", move |c| {
                Box::pin(async move { update_project_on(c, &record, expected).await })
            })
            .await
    }

    async fn count_projects(&self) -> Result<u64, StoreError> {
        let sql = Sql::new("SELECT COUNT(*) FROM projects");
        let n = self
            .backend
            .read()
            .await?
            .int(sql, "count projects")
            .await?;
        to_u64(n, "project count")
    }

    async fn create_api_client(&self, client: &ApiClientRecord) -> Result<(), StoreError> {
        let sql = Sql::new(
            "INSERT INTO api_clients (client_id, secret_hash, project_key, scope, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&client.client_id)
        .bind(&client.secret_hash)
        .bind(&client.project_key)
        .bind(&client.scope)
        .bind(&ts(client.created_at));
        let unique = Some(("clientId", client.client_id.clone()));
        self.write_one("create API client", sql, unique).await
    }

    async fn get_api_client(&self, client_id: &str) -> Result<Option<ApiClientRecord>, StoreError> {
        let sql = Sql::new(
            "SELECT client_id, secret_hash, project_key, scope, created_at FROM api_clients \
             WHERE client_id = $1",
        )
        .bind(client_id);
        let Some((client_id, secret_hash, project_key, scope, created_at)) = self
            .backend
            .read_one::<(_, _, _, _, String)>(sql, "get API client")
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(ApiClientRecord {
            client_id,
            secret_hash,
            project_key,
            scope,
            created_at: parse_ts(&created_at, "API client created_at")?,
        }))
    }

    async fn insert_token(&self, token: &AccessTokenRecord) -> Result<(), StoreError> {
        self.insert_bound_token(token, &TokenBinding::default())
            .await
    }

    async fn get_token(&self, token_hash: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        if let Some(record) = self.tokens.get(token_hash) {
            return Ok(Some(record));
        }
        let read_at = std::time::Instant::now();
        let sql = Sql::new(
            "SELECT token_hash, kind, client_id, project_key, scope, customer_id, expires_at \
             FROM oauth_tokens WHERE token_hash = $1",
        )
        .bind(token_hash);
        // `expires_at` is RFC 3339 text.
        let row = self
            .backend
            .read_one::<(_, _, _, _, _, _, String)>(sql, "get token");
        let Some((token_hash, kind, client_id, project_key, scope, customer_id, expires_at)) =
            row.await?
        else {
            return Ok(None);
        };
        let record = AccessTokenRecord {
            token_hash,
            kind,
            client_id,
            project_key,
            scope,
            customer_id,
            expires_at: parse_ts(&expires_at, "token expires_at")?,
        };
        self.tokens.put(read_at, &record);
        Ok(Some(record))
    }

    async fn extend_token(
        &self,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let sql = Sql::new("UPDATE oauth_tokens SET expires_at = $1 WHERE token_hash = $2")
            .bind(&ts(expires_at))
            .bind(token_hash);
        self.write_one("extend token", sql, None).await?;
        // After the write: a read racing it could otherwise cache the old expiry again.
        self.tokens.forget(token_hash);
        Ok(())
    }

    async fn revoke_customer_tokens(
        &self,
        project: &str,
        customer_id: &str,
    ) -> Result<(), StoreError> {
        let sql = revoke_sql(project, customer_id);
        let done = self.write_one("revoke customer tokens", sql, None).await;
        self.tokens.forget_all();
        done
    }

    async fn insert_bound_token(
        &self,
        token: &AccessTokenRecord,
        binding: &TokenBinding,
    ) -> Result<(), StoreError> {
        let sql = Sql::new(
            "INSERT INTO oauth_tokens (token_hash, kind, client_id, project_key, scope, \
             customer_id, expires_at, store_key, anonymous_id, credential) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&token.token_hash)
        .bind(&token.kind)
        .bind(&token.client_id)
        .bind(&token.project_key)
        .bind(&token.scope)
        .bind(&token.customer_id)
        .bind(&ts(token.expires_at))
        .bind(&binding.store_key)
        .bind(&binding.anonymous_id)
        .bind(&binding.credential);
        let unique = Some(("tokenHash", token.token_hash.clone()));
        self.write_one("insert bound token", sql, unique).await
    }

    async fn get_token_binding(
        &self,
        token_hash: &str,
    ) -> Result<Option<TokenBinding>, StoreError> {
        let sql = Sql::new(
            "SELECT store_key, anonymous_id, credential FROM oauth_tokens WHERE token_hash = $1",
        )
        .bind(token_hash);
        let columns = self.backend.read_one(sql, "get token binding").await?;
        Ok(
            columns.map(|(store_key, anonymous_id, credential)| TokenBinding {
                store_key,
                anonymous_id,
                credential,
            }),
        )
    }

    async fn delete_token(&self, token_hash: &str) -> Result<(), StoreError> {
        let sql = Sql::new("DELETE FROM oauth_tokens WHERE token_hash = $1").bind(token_hash);
        let done = self.write_one("delete token", sql, None).await;
        self.tokens.forget(token_hash);
        done
    }

    async fn claim_anonymous_id(
        &self,
        project: &str,
        anonymous_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let sql = Sql::new(
            "INSERT INTO anonymous_ids (project_key, anonymous_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(project)
        .bind(anonymous_id)
        .bind(&ts(now));
        let unique = Some(("anonymousId", anonymous_id.to_owned()));
        match self.write_one("claim anonymous id", sql, unique).await {
            Ok(()) => Ok(true),
            Err(StoreError::DuplicateField { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn search_customers(
        &self,
        project: &str,
        request: &clientele_query::search::SearchRequest,
    ) -> Result<Page<clientele_query::search::SearchHit>, StoreError> {
        let (project, request) = (project.to_owned(), request.clone());
        let (total, results) = self
            .run_read(move |c| Box::pin(async move { search::search(c, &project, &request).await }))
            .await?;
        Ok(Page {
            results,
            total: Some(total),
        })
    }

    async fn search_index_progress(&self, project: &str) -> Result<(u64, u64), StoreError> {
        let mut conn = self.backend.read().await?;
        search::progress(&mut conn, project).await
    }

    async fn index_unindexed_customers(
        &self,
        project: &str,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let project = project.to_owned();
        self.backend
            .write("commit index customers", move |c| {
                Box::pin(async move {
                    let (read, _) = search::index_missing(c, &project, None, batch).await?;
                    Ok(read)
                })
            })
            .await
    }

    async fn index_unindexed_customers_after(
        &self,
        project: &str,
        after: &str,
        batch: u32,
    ) -> Result<Option<String>, StoreError> {
        let (project, after) = (project.to_owned(), after.to_owned());
        self.backend
            .write("commit index customers", move |c| {
                Box::pin(async move {
                    let (_, last) = search::index_missing(c, &project, Some(&after), batch).await?;
                    Ok(last)
                })
            })
            .await
    }

    async fn waiting_subscriptions(
        &self,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<WaitingSubscription>, StoreError> {
        let mut conn = self.backend.read().await?;
        subscriptions::waiting(&mut conn, owner, now).await
    }

    async fn renew_subscription_lease(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.backend
            .write("commit lease", move |c| {
                Box::pin(async move { subscriptions::claim(c, &id, &owner, now, until).await })
            })
            .await
    }

    async fn release_subscription_lease(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.backend
            .write("commit release lease", move |c| {
                Box::pin(async move { subscriptions::release(c, &id, &owner).await })
            })
            .await
    }

    async fn pending_notifications(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<PendingNotification>, StoreError> {
        let mut conn = self.backend.read().await?;
        subscriptions::pending(&mut conn, id, i64::from(limit)).await
    }

    async fn ack_notifications(
        &self,
        id: &str,
        owner: &str,
        seqs: &[i64],
    ) -> Result<bool, StoreError> {
        let (id, owner, seqs) = (id.to_owned(), owner.to_owned(), seqs.to_vec());
        self.backend
            .write("commit ack notifications", move |c| {
                Box::pin(async move { subscriptions::ack(c, &id, &owner, &seqs).await })
            })
            .await
    }

    async fn set_subscription_status(
        &self,
        id: &str,
        version: u64,
        status: SubscriptionHealthStatus,
        now: OffsetDateTime,
    ) -> Result<StatusChange, StoreError> {
        let id = id.to_owned();
        let version = to_i64(version)?;
        self.backend
            .write("commit subscription status", move |c| {
                Box::pin(
                    async move { subscriptions::set_status(c, &id, version, status, now).await },
                )
            })
            .await
    }

    async fn relay_outbox_signals(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(p, _, _) => postgres::relay_outbox_signals(p).await,
        }
    }

    fn pool_stats(&self) -> crate::PoolStats {
        match &self.backend {
            Backend::Sqlite(p) => {
                let stats = match &p.write {
                    crate::db::Writer::Pool(w) => crate::pool_stats::of(&[&p.read, w], &p.waiting),
                    crate::db::Writer::Thread(_) => {
                        let s = crate::pool_stats::of(&[&p.read], &p.waiting);
                        // The writer thread's one connection, in use while it drains.
                        let busy = u32::from(p.queue.busy());
                        crate::PoolStats {
                            open: s.open + 1,
                            in_use: s.in_use + busy,
                            max: s.max + 1,
                            ..s
                        }
                    }
                };
                match &p.readers {
                    Some(r) => {
                        let (idle, in_use) = r.occupancy();
                        crate::PoolStats {
                            open: stats.open + idle + in_use,
                            in_use: stats.in_use + in_use,
                            max: stats.max + r.max(),
                            waiting: stats.waiting,
                        }
                    }
                    None => stats,
                }
            }
            Backend::Postgres(p, w, _) => crate::pool_stats::of(&[p], w),
        }
    }

    async fn get_customer(
        &self,
        project: &str,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, StoreError> {
        let sql = customer_lookup_sql(self.dialect(), project, lookup, false);
        let row = self.backend.read_one(sql, "get customer").await?;
        row.map(|(doc, hash): (String, _)| customer_from_row(&doc, hash))
            .transpose()
    }

    async fn get_customer_json(
        &self,
        project: &str,
        lookup: &CustomerLookup,
    ) -> Result<Option<CustomerJson>, StoreError> {
        let dialect = self.dialect();
        if !dialect.doc_text_kept {
            return Ok(self
                .get_customer(project, lookup)
                .await?
                .map(|c| CustomerJson::Parsed(Box::new(c))));
        }
        let sql = customer_lookup_sql(dialect, project, lookup, true);
        let row = self.backend.read_one(sql, "get customer").await?;
        row.map(|(form, doc, hash): (i64, String, _)| {
            if form == CUSTOMER_DOC_FORM {
                Ok(CustomerJson::Stored(doc))
            } else {
                customer_from_row(&doc, hash).map(|c| CustomerJson::Parsed(Box::new(c)))
            }
        })
        .transpose()
    }

    async fn get_customers(
        &self,
        project: &str,
        lookups: &[CustomerLookup],
    ) -> Result<Vec<Option<Customer>>, StoreError> {
        let mut found: Vec<Option<Customer>> = vec![None; lookups.len()];
        for (column, by_id) in [("id", true), ("key", false)] {
            // Lookup index by the value it looks for.
            let wanted: Vec<(usize, &str)> = lookups
                .iter()
                .enumerate()
                .filter_map(|(i, l)| match l {
                    CustomerLookup::Id(v) if by_id => Some((i, v.as_str())),
                    CustomerLookup::Key(v) if !by_id => Some((i, v.as_str())),
                    _ => None,
                })
                .collect();
            for chunk in wanted.chunks(1000) {
                let sql = Sql::new(format!(
                    "SELECT {}, password_hash, {column} FROM customers \
                     WHERE project = $1 AND {column} IN ({})",
                    (self.dialect().doc_out)("doc"),
                    placeholders(2, chunk.len())
                ))
                .bind(project)
                .bind_all(chunk.iter().map(|(_, v)| *v));
                let mut slots: std::collections::HashMap<&str, Vec<usize>> = Default::default();
                for (i, v) in chunk {
                    slots.entry(*v).or_default().push(*i);
                }
                let rows: Vec<(String, Option<String>, String)> = self
                    .backend
                    .read()
                    .await?
                    .rows(sql, "get customers")
                    .await?;
                for (doc, hash, value) in rows {
                    let customer = customer_from_row(&doc, hash)?;
                    for i in slots.get(value.as_str()).into_iter().flatten() {
                        if let Some(slot) = found.get_mut(*i) {
                            *slot = Some(customer.clone());
                        }
                    }
                }
            }
        }
        for (i, lookup) in lookups.iter().enumerate() {
            if let (CustomerLookup::Email { .. }, Some(slot)) = (lookup, found.get_mut(i)) {
                *slot = self.get_customer(project, lookup).await?;
            }
        }
        Ok(found)
    }

    async fn insert_customer(
        &self,
        project: &str,
        customer: &Customer,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let row = CustomerRow::of(customer)?;
        let project = project.to_owned();
        self.backend
            .write("commit insert customer", move |c| {
                Box::pin(async move { insert_customer_on(c, &project, &row, &messages).await })
            })
            .await
    }

    async fn update_customer(
        &self,
        project: &str,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        self.replace_customer(project, None, customer, expected, messages)
            .await
    }

    async fn update_customer_from(
        &self,
        project: &str,
        previous: &Customer,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        self.replace_customer(project, Some(previous), customer, expected, messages)
            .await
    }

    async fn analyze_customers(&self) -> Result<(), StoreError> {
        let Some(analyze) = self.dialect().analyze_customers else {
            return Ok(());
        };
        self.write_one("analyze customers", Sql::new(analyze), None)
            .await
    }

    async fn count_all_customers(&self) -> Result<u64, StoreError> {
        let sql = Sql::new("SELECT COUNT(*) FROM customers");
        let mut conn = self.backend.read().await?;
        let n = conn.int(sql, "count customers").await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn suspend_bulk_indexes(&self) -> Result<usize, StoreError> {
        // Other connections would meanwhile run queries that need the dropped indexes as
        // scans of whole tables, past their deadline on a large one.
        if !self.exclusive || !matches!(self.backend, Backend::Sqlite(_)) {
            return Err(StoreError::Backend(
                "indexes are suspended only on a SQLite database opened exclusively".to_owned(),
            ));
        }
        self.backend
            .write("suspend indexes", |c| Box::pin(suspended::suspend(c)))
            .await
    }

    async fn restore_bulk_indexes(&self) -> Result<usize, StoreError> {
        if !matches!(self.backend, Backend::Sqlite(_)) {
            return Ok(0);
        }
        self.backend
            .write("restore indexes", |c| Box::pin(suspended::restore(c)))
            .await
    }

    async fn write_customers(
        &self,
        project: &str,
        writes: Vec<CustomerWrite>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(writes.len());
        let mut items = Vec::with_capacity(writes.len());
        let mut slots = Vec::with_capacity(writes.len());
        for (i, write) in writes.into_iter().enumerate() {
            let (customer, expected, messages) = match write {
                CustomerWrite::Insert { customer, messages } => (customer, None, messages),
                CustomerWrite::Update {
                    customer,
                    expected,
                    messages,
                } => (customer, Some(expected), messages),
            };
            match CustomerRow::of(&customer).and_then(|row| BatchItem::new(row, expected, messages))
            {
                Ok(item) => {
                    items.push(item);
                    slots.push(i);
                    results.push(Ok(()));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if items.is_empty() {
            return Ok(results);
        }
        let items = Arc::new(items);
        // Refusals are rare, so the batch first runs without a savepoint per write; only when
        // one is refused is it rolled back and run again guarded, write by write.
        let (fast, p) = (items.clone(), project.to_owned());
        let first = self
            .backend
            .write("commit customer batch", move |c| {
                Box::pin(async move { write_batch_on(c, &p, &fast, false).await })
            })
            .await;
        let outcomes = match first {
            Ok(outcomes) => outcomes,
            Err(e) if !e.is_refusal() => self.write_one_by_one(project, &items, e).await,
            Err(_) => {
                let (guarded, p) = (items.clone(), project.to_owned());
                let second = self
                    .backend
                    .write("commit customer batch", move |c| {
                        Box::pin(async move { write_batch_on(c, &p, &guarded, true).await })
                    })
                    .await;
                match second {
                    Ok(outcomes) => outcomes,
                    Err(e) => self.write_one_by_one(project, &items, e).await,
                }
            }
        };
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            if let Some(r) = results.get_mut(slot) {
                *r = outcome;
            }
        }
        Ok(results)
    }

    async fn delete_customer(
        &self,
        project: &str,
        id: &str,
        expected: Version,
        data_erasure: bool,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let (project, id) = (project.to_owned(), id.to_owned());
        let expected = to_i64(expected.get())?;
        self.backend
            .write("commit delete customer", move |c| {
                Box::pin(async move {
                    // Email rows go with the customer (ON DELETE CASCADE).
                    let sql = Sql::new(
                        "DELETE FROM customers WHERE id = $1 AND project = $2 AND version = $3 \
                         RETURNING key, external_id, customer_number",
                    )
                    .bind(&id)
                    .bind(&project)
                    .bind(expected);
                    let Some((key, external_id, number)) = c.first(sql, "delete customer").await?
                    else {
                        return Err(missed_write(c, &project, &id).await?);
                    };
                    let identifiers = customer_identifiers(&key, &external_id, &number);
                    // Messages written now continue the numbering; everything numbered below
                    // goes when the caller asked for data erasure.
                    let first_new = next_sequence_number(c, &id).await?;
                    insert_messages(c, &project, &messages).await?;
                    if data_erasure {
                        let sql = Sql::new(
                            "DELETE FROM messages WHERE project = $1 AND resource_id = $2 \
                             AND sequence_number < $3",
                        )
                        .bind(&project)
                        .bind(&id)
                        .bind(first_new);
                        c.run(sql, "erase customer messages").await?;
                    }
                    let at = messages.first().map(|m| ts(m.created_at));
                    let change = Change {
                        notification: "ResourceDeleted",
                        type_id: "customer",
                        id: &id,
                        version: expected,
                        old_version: 0,
                        modified_at: at.as_deref().map_or(ModifiedAt::Now, ModifiedAt::At),
                        identifiers,
                        data_erasure,
                    };
                    fan_out_change(c, &project, &change).await
                })
            })
            .await
    }

    async fn query_customers(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Customer>, StoreError> {
        let schema = customer_schema();
        let target = PageTarget::customers(self.dialect().query, &schema);
        self.page(&target, project, query, |doc, hash| {
            customer_from_row(&doc, hash)
        })
        .await
    }

    async fn query_customers_json(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<CustomerJson>, StoreError> {
        if !self.dialect().doc_text_kept {
            return Ok(self.query_customers(project, query).await?.into());
        }
        let schema = customer_schema();
        let target = PageTarget::customers_json(&schema);
        self.page(&target, project, query, |doc, hash| {
            if hash.as_deref() == Some(STORED_JSON) {
                Ok(CustomerJson::Stored(doc))
            } else {
                customer_from_row(&doc, hash).map(|c| CustomerJson::Parsed(Box::new(c)))
            }
        })
        .await
    }

    async fn get_resource(
        &self,
        project: &str,
        type_id: &str,
        lookup: &ResourceLookup,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let mut conn = self.backend.read().await?;
        resources::get(&mut conn, project, type_id, lookup).await
    }

    async fn insert_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
    ) -> Result<(), StoreError> {
        let row = ResourceRow::of(record)?;
        let (project, type_id) = (project.to_owned(), type_id.to_owned());
        self.backend
            .write("commit insert resource", move |c| {
                Box::pin(async move { resources::insert(c, &project, &type_id, &row).await })
            })
            .await
    }

    async fn insert_resource_within(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        max: u64,
    ) -> Result<bool, StoreError> {
        let row = ResourceRow::of(record)?;
        let (project, type_id) = (project.to_owned(), type_id.to_owned());
        let max = to_i64(max)?;
        self.backend
            .write("commit insert resource", move |c| {
                Box::pin(
                    async move { resources::insert_within(c, &project, &type_id, &row, max).await },
                )
            })
            .await
    }

    async fn update_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        expected: Version,
    ) -> Result<(), StoreError> {
        let row = ResourceRow::of(record)?;
        let (project, type_id) = (project.to_owned(), type_id.to_owned());
        self.backend
            .write("commit update resource", move |c| {
                Box::pin(
                    async move { resources::update(c, &project, &type_id, &row, expected).await },
                )
            })
            .await
    }

    async fn delete_resource(
        &self,
        project: &str,
        type_id: &str,
        id: &str,
        expected: Version,
    ) -> Result<(), StoreError> {
        let (project, type_id, id) = (project.to_owned(), type_id.to_owned(), id.to_owned());
        self.backend
            .write("commit delete resource", move |c| {
                Box::pin(
                    async move { resources::delete(c, &project, &type_id, &id, expected).await },
                )
            })
            .await
    }

    async fn query_resources(
        &self,
        project: &str,
        type_id: &str,
        query: &ResourceQuery,
    ) -> Result<Page<serde_json::Value>, StoreError> {
        let schema = resource_schema(type_id);
        let target = PageTarget::resources(self.dialect().query, &schema, type_id);
        self.page(&target, project, query, |doc, _| resource_from_row(&doc))
            .await
    }

    async fn get_message(&self, project: &str, id: &str) -> Result<Option<Message>, StoreError> {
        let sql = Sql::new(format!(
            "SELECT {} FROM messages WHERE project = $1 AND id = $2",
            (self.dialect().doc_out)("doc")
        ))
        .bind(project)
        .bind(id);
        let doc = self
            .backend
            .read_one::<(String,)>(sql, "get message")
            .await?;
        doc.map(|(doc,)| message_from_row(&doc)).transpose()
    }

    async fn query_messages(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Message>, StoreError> {
        let schema = message_schema();
        let target = PageTarget::messages(self.dialect().query, &schema);
        self.page(&target, project, query, |doc, _| message_from_row(&doc))
            .await
    }

    // ---- Customer tokens (password reset, email verification) ----

    async fn insert_customer_token(
        &self,
        project: &str,
        token: &CustomerTokenRecord,
        invalidate_older: bool,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let (project, token) = (project.to_owned(), token.clone());
        self.backend
            .write("commit insert customer token", move |c| {
                Box::pin(async move {
                    // A share lock (or SQLite's write lock) keeps the customer from being
                    // deleted before the insert commits.
                    let lock = c.dialect().share_lock;
                    let sql = Sql::new(format!(
                        "SELECT 1 FROM customers WHERE id = $1 AND project = $2{lock}"
                    ))
                    .bind(&token.customer_id)
                    .bind(&project);
                    if !c.exists(sql, "check token customer").await? {
                        return Err(StoreError::NotFound);
                    }
                    if invalidate_older {
                        invalidate_customer_tokens(c, &project, &token.customer_id, token.kind)
                            .await?;
                    }
                    let sql = Sql::new(
                        "INSERT INTO customer_tokens (id, project, customer_id, kind, \
                         value_hash, expires_at, created_at, used) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&token.id)
                    .bind(&project)
                    .bind(&token.customer_id)
                    .bind(kind_column(token.kind))
                    .bind(&token.value_hash)
                    .bind(&ts(token.expires_at))
                    .bind(&ts(token.created_at))
                    .bind(token.used);
                    c.run(sql, "insert customer token").await?;
                    insert_messages(c, &project, &messages).await
                })
            })
            .await
    }

    async fn find_customer_token(
        &self,
        project: &str,
        value_hash: &str,
        kind: TokenKind,
    ) -> Result<Option<CustomerTokenRecord>, StoreError> {
        let mut conn = self.backend.read().await?;
        find_token_on(&mut conn, project, value_hash, kind).await
    }

    async fn redeem_customer_token(
        &self,
        project: &str,
        value_hash: &str,
        kind: TokenKind,
        now: OffsetDateTime,
        change: TokenRedemption,
    ) -> Result<RedeemOutcome, StoreError> {
        let row = CustomerRow::of(&change.customer)?;
        let (project, value_hash) = (project.to_owned(), value_hash.to_owned());
        let revokes = change.revoke_oauth_tokens;
        let outcome = self
            .backend
            .write("commit redeem customer token", move |c| {
                Box::pin(async move {
                    // The customer row, then tokens (see the lock order in `customers`).
                    // Concurrent redemptions for one customer queue here; each then sees the
                    // previous one's claim.
                    let lock = c.dialect().update_lock;
                    let sql = Sql::new(format!(
                        "SELECT 1 FROM customers WHERE id = $1 AND project = $2{lock}"
                    ))
                    .bind(&row.id)
                    .bind(&project);
                    c.exists(sql, "lock token customer").await?;
                    // Timestamps are fixed-width API strings (in the "C" collation on
                    // PostgreSQL), so text order is time order.
                    let sql = Sql::new(
                        "UPDATE customer_tokens SET used = true WHERE project = $1 \
                         AND value_hash = $2 AND kind = $3 AND customer_id = $4 \
                         AND used = false AND expires_at > $5",
                    )
                    .bind(&project)
                    .bind(&value_hash)
                    .bind(kind_column(kind))
                    .bind(&row.id)
                    .bind(&ts(now));
                    if c.run(sql, "claim customer token").await? == 0 {
                        // Nothing was written.
                        let token = find_token_on(c, &project, &value_hash, kind).await?;
                        return Ok(match token {
                            Some(t) if !t.used && t.customer_id == row.id => RedeemOutcome::Expired,
                            _ => RedeemOutcome::NotFound,
                        });
                    }
                    invalidate_customer_tokens(c, &project, &row.id, kind).await?;
                    update_customer_on(c, &project, &row, None, change.expected, &change.messages)
                        .await?;
                    if change.revoke_oauth_tokens {
                        c.run(revoke_sql(&project, &row.id), "revoke customer tokens")
                            .await?;
                    }
                    Ok(RedeemOutcome::Redeemed)
                })
            })
            .await;
        if revokes {
            self.tokens.forget_all();
        }
        outcome
    }
}

/// Deletes every OAuth token issued to a customer.
fn revoke_sql(project: &str, customer_id: &str) -> Sql {
    Sql::new("DELETE FROM oauth_tokens WHERE project_key = $1 AND customer_id = $2")
        .bind(project)
        .bind(customer_id)
}
