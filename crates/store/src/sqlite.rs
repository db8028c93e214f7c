//! The SQLite backend: the embedded default.
//!
//! Owns the SQLite connection settings (WAL, `synchronous=FULL` so an acknowledged write
//! survives a crash, foreign keys, busy timeout), its migrations (`migrations/sqlite`) and the
//! SQL dialect details. Every write runs in a `BEGIN IMMEDIATE` transaction, which takes the
//! database write lock up front: writers are serialized, so the email check-then-insert cannot
//! race. It must not hold any logic that the PostgreSQL backend would need to repeat
//! differently; shared shapes live in `rows`.

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clientele_domain::{Customer, Message, Project, Version};
use clientele_query::schema::{customer_schema, message_schema};
use clientele_query::{Dialect, SqlParam};
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use crate::error::{SqlxResultExt, Unique};
use crate::resources;
use crate::rows::{
    cap_total, customer_from_row, message_from_row, parse_ts, to_i64, to_u64, ts, CustomerRow,
    MessageRow, PageSql, PageTarget, ProjectLists, GLOBAL_SCOPE,
};
use crate::rows::{resource_from_row, resource_schema};
use crate::tokens::{kind_column, TokenRow, TOKEN_COLUMNS};
use crate::write::WriteTx;
use crate::{
    AccessTokenRecord, ApiClientRecord, CustomerLookup, CustomerTokenRecord, Page, RedeemOutcome,
    ResourceQuery, Store, StoreError, StoreOptions, TokenKind, TokenRedemption,
};
use crate::{ResourceLookup, ResourceRecord};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite reports a unique violation by its columns, not by the index name.
const UQ_CUSTOMER_ID: &str = "customers.id";
const UQ_CUSTOMER_KEY: &str = "customers.project, customers.key";
const UQ_CUSTOMER_NUMBER: &str = "customers.project, customers.customer_number";
const UQ_EMAIL: &str =
    "customer_emails.project, customer_emails.lowercase_email, customer_emails.scope";
const UQ_PROJECT: &str = "projects.key";
const UQ_API_CLIENT: &str = "api_clients.client_id";
const UQ_TOKEN: &str = "oauth_tokens.token_hash";
const UQ_MESSAGE: &str = "messages.id";

/// How long a writer waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pool size when the options do not say.
const DEFAULT_POOL_SIZE: u32 = 8;
/// VM instructions between two checks of the query deadline.
const PROGRESS_STEPS: i32 = 1000;

/// The SQLite implementation of [`Store`].
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    /// One connection for write transactions: SQLite has one writer at a time anyway, and
    /// queueing writers on this pool (FIFO, async) instead of on the file lock avoids the busy
    /// handler's sleep-and-retry, which otherwise puts 100 ms spikes into write latency.
    writer: SqlitePool,
    query_timeout: Duration,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    pub(crate) async fn open(url: &str, opts: &StoreOptions) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let connect = SqliteConnectOptions::from_str(url)
            .or_backend("parse SQLite URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = if in_memory {
            // An in-memory database lives as long as one connection does, and its shared-cache
            // locks ignore busy_timeout, so it gets exactly one connection that never closes.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(opts.pool_size.unwrap_or(DEFAULT_POOL_SIZE))
        };
        let pool = pool
            .connect_with(connect.clone())
            .await
            .or_backend("open SQLite database")?;
        let writer = if in_memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(connect)
                .await
                .or_backend("open SQLite write connection")?
        };
        MIGRATOR.run(&pool).await.map_err(|e| {
            tracing::error!(error = %e, "SQLite migrations failed");
            StoreError::Backend(format!("SQLite migrations: {e}"))
        })?;
        Ok(SqliteStore {
            pool,
            writer,
            query_timeout: opts.query_timeout,
        })
    }

    /// Starts a write transaction holding the database write lock.
    async fn begin_write(&self) -> Result<WriteTx<Sqlite>, StoreError> {
        WriteTx::begin(&self.writer, "BEGIN IMMEDIATE").await
    }

    /// Runs a page query (and its count) under the query deadline.
    ///
    /// The work runs in its own task so that a caller who gives up (client disconnect) cannot
    /// leave the progress handler installed on a pooled connection.
    async fn run_page(
        &self,
        sql: PageSql,
    ) -> Result<(Vec<(String, Option<String>)>, Option<i64>), StoreError> {
        let pool = self.pool.clone();
        let timeout = self.query_timeout;
        tokio::spawn(async move {
            let mut conn = tokio::time::timeout(timeout, pool.acquire())
                .await
                .map_err(|_| StoreError::QueryTimedOut)?
                .or_backend("acquire connection")?;
            let deadline = Instant::now() + timeout;
            conn.lock_handle()
                .await
                .or_backend("install query deadline")?
                // Returning false interrupts the statement with SQLITE_INTERRUPT, which
                // error.rs maps to QueryTimedOut; unlike dropping a future, this really stops
                // SQLite from working on.
                .set_progress_handler(PROGRESS_STEPS, move || Instant::now() < deadline);
            let result = page_on(&mut conn, &sql).await;
            conn.lock_handle()
                .await
                .or_backend("remove query deadline")?
                .remove_progress_handler();
            result
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "SQLite query task failed");
            StoreError::Backend(format!("query task: {e}"))
        })?
    }
}

async fn page_on(
    conn: &mut SqliteConnection,
    sql: &PageSql,
) -> Result<(Vec<(String, Option<String>)>, Option<i64>), StoreError> {
    let rows = bind_all(sqlx::query(&sql.select), &sql.select_params)
        .fetch_all(&mut *conn)
        .await
        .or_backend("page query")?;
    let rows = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .or_backend("read page row")?;
    let total = match &sql.count {
        Some((count_sql, params)) => Some(
            bind_all(sqlx::query(count_sql), params)
                .fetch_one(&mut *conn)
                .await
                .and_then(|r| r.try_get::<i64, _>(0))
                .or_backend("count query")?,
        ),
        None => None,
    };
    Ok((rows, total))
}

fn bind_all<'q>(
    mut q: Query<'q, Sqlite, SqliteArguments<'q>>,
    params: &'q [SqlParam],
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    for p in params {
        q = match p {
            SqlParam::Text(s) => q.bind(s.as_str()),
            SqlParam::Int(i) => q.bind(*i),
            SqlParam::Float(f) => q.bind(*f),
            SqlParam::Bool(b) => q.bind(*b),
        };
    }
    q
}

/// Fails with `DuplicateField{email}` when another customer holds `row`'s email in an
/// overlapping scope. A global customer overlaps every store, so a global row conflicts with
/// any row and a store row conflicts with the global row and the same store.
async fn check_email_free(
    conn: &mut SqliteConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let mut qb =
        QueryBuilder::<Sqlite>::new("SELECT customer_id FROM customer_emails WHERE project = ");
    qb.push_bind(project)
        .push(" AND lowercase_email = ")
        .push_bind(&row.lowercase_email)
        .push(" AND customer_id <> ")
        .push_bind(&row.id);
    if row.scopes.iter().any(|s| s != GLOBAL_SCOPE) {
        qb.push(" AND (scope = ")
            .push_bind(GLOBAL_SCOPE)
            .push(" OR scope IN (");
        let mut list = qb.separated(", ");
        for s in &row.scopes {
            list.push_bind(s);
        }
        qb.push("))");
    }
    qb.push(" LIMIT 1");
    let taken = qb
        .build()
        .fetch_optional(&mut *conn)
        .await
        .or_backend("check email")?;
    match taken {
        Some(_) => Err(StoreError::DuplicateField {
            field: "email".to_owned(),
            value: row.email.clone(),
        }),
        None => Ok(()),
    }
}

async fn insert_email_rows(
    conn: &mut SqliteConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    for scope in &row.scopes {
        sqlx::query(
            "INSERT INTO customer_emails (project, scope, lowercase_email, customer_id) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(project)
        .bind(scope)
        .bind(&row.lowercase_email)
        .bind(&row.id)
        .execute(&mut *conn)
        .await
        .on_unique(
            "insert customer email",
            &[Unique {
                constraint: UQ_EMAIL,
                field: "email",
                value: &row.email,
            }],
        )?;
    }
    Ok(())
}

/// Brings the customer's email rows in line with `row`, checking the new scopes first.
async fn sync_email_rows(
    conn: &mut SqliteConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let current = sqlx::query(
        "SELECT scope, lowercase_email FROM customer_emails WHERE customer_id = ? ORDER BY scope",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await
    .or_backend("read customer emails")?;
    let current = current
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .or_backend("read customer emails")?;
    let wanted: Vec<(String, String)> = row
        .scopes
        .iter()
        .map(|s| (s.clone(), row.lowercase_email.clone()))
        .collect();
    if current == wanted {
        return Ok(());
    }
    check_email_free(conn, project, row).await?;
    sqlx::query("DELETE FROM customer_emails WHERE customer_id = ?")
        .bind(&row.id)
        .execute(&mut *conn)
        .await
        .or_backend("delete customer emails")?;
    insert_email_rows(conn, project, row).await
}

async fn insert_customer_row(
    conn: &mut SqliteConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customers (id, project, version, key, email, lowercase_email, \
         customer_number, external_id, first_name, last_name, created_at, last_modified_at, \
         password_hash, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, jsonb(?))",
    )
    .bind(&row.id)
    .bind(project)
    .bind(row.version)
    .bind(&row.key)
    .bind(&row.email)
    .bind(&row.lowercase_email)
    .bind(&row.customer_number)
    .bind(&row.external_id)
    .bind(&row.first_name)
    .bind(&row.last_name)
    .bind(&row.created_at)
    .bind(&row.last_modified_at)
    .bind(&row.password_hash)
    .bind(&row.doc)
    .execute(&mut *conn)
    .await
    .on_unique("insert customer", &customer_uniques(row))?;
    Ok(())
}

fn customer_uniques(row: &CustomerRow) -> [Unique<'_>; 3] {
    [
        Unique {
            constraint: UQ_CUSTOMER_KEY,
            field: "key",
            value: row.key.as_deref().unwrap_or_default(),
        },
        Unique {
            constraint: UQ_CUSTOMER_NUMBER,
            field: "customerNumber",
            value: row.customer_number.as_deref().unwrap_or_default(),
        },
        Unique {
            constraint: UQ_CUSTOMER_ID,
            field: "id",
            value: &row.id,
        },
    ]
}

/// Stores `messages`, numbering each one after the last message of its resource.
async fn insert_messages(
    conn: &mut SqliteConnection,
    project: &str,
    messages: &[Message],
) -> Result<(), StoreError> {
    for m in messages {
        let next = next_sequence_number(conn, &m.resource.id).await?;
        let row = MessageRow::of(m, next)?;
        sqlx::query(
            "INSERT INTO messages (id, project, resource_id, resource_type_id, sequence_number, \
             resource_version, type, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, jsonb(?))",
        )
        .bind(&row.id)
        .bind(project)
        .bind(&row.resource_id)
        .bind(&row.resource_type_id)
        .bind(row.sequence_number)
        .bind(row.resource_version)
        .bind(&row.type_)
        .bind(&row.created_at)
        .bind(&row.doc)
        .execute(&mut *conn)
        .await
        .on_unique(
            "insert message",
            &[Unique {
                constraint: UQ_MESSAGE,
                field: "id",
                value: &row.id,
            }],
        )?;
    }
    Ok(())
}

async fn next_sequence_number(
    conn: &mut SqliteConnection,
    resource_id: &str,
) -> Result<i64, StoreError> {
    sqlx::query("SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM messages WHERE resource_id = ?")
        .bind(resource_id)
        .fetch_one(&mut *conn)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .or_backend("next sequence number")
}

/// After a conditional write touched no row: why not?
async fn missed_write(
    conn: &mut SqliteConnection,
    project: &str,
    id: &str,
) -> Result<StoreError, StoreError> {
    let current = sqlx::query("SELECT version FROM customers WHERE id = ? AND project = ?")
        .bind(id)
        .bind(project)
        .fetch_optional(&mut *conn)
        .await
        .or_backend("read customer version")?;
    Ok(match current {
        None => StoreError::NotFound,
        Some(r) => StoreError::ConcurrentModification {
            current: to_u64(
                r.try_get::<i64, _>(0).or_backend("read customer version")?,
                "customer version",
            )?,
        },
    })
}

/// Replaces a customer if its stored version is `expected` and stores its Messages, inside the
/// caller's write transaction (shared by `update_customer` and token redemption).
async fn update_customer_on(
    conn: &mut SqliteConnection,
    project: &str,
    row: &CustomerRow,
    expected: Version,
    messages: &[Message],
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE customers SET version = ?, key = ?, email = ?, lowercase_email = ?, \
         customer_number = ?, external_id = ?, first_name = ?, last_name = ?, \
         created_at = ?, last_modified_at = ?, password_hash = ?, doc = jsonb(?) \
         WHERE id = ? AND project = ? AND version = ?",
    )
    .bind(row.version)
    .bind(&row.key)
    .bind(&row.email)
    .bind(&row.lowercase_email)
    .bind(&row.customer_number)
    .bind(&row.external_id)
    .bind(&row.first_name)
    .bind(&row.last_name)
    .bind(&row.created_at)
    .bind(&row.last_modified_at)
    .bind(&row.password_hash)
    .bind(&row.doc)
    .bind(&row.id)
    .bind(project)
    .bind(to_i64(expected.get())?)
    .execute(&mut *conn)
    .await
    .on_unique("update customer", &customer_uniques(row))?;
    if done.rows_affected() == 0 {
        return Err(missed_write(conn, project, &row.id).await?);
    }
    sync_email_rows(conn, project, row).await?;
    // Under the write lock, so what the customer references cannot be deleted before commit.
    resources::sqlite::check_exist(conn, project, &row.references).await?;
    insert_messages(conn, project, messages).await
}

// ---- Customer tokens (password reset, email verification) ----

/// Marks every unused token of `kind` of `customer_id` used (invalidation).
async fn invalidate_customer_tokens(
    conn: &mut SqliteConnection,
    project: &str,
    customer_id: &str,
    kind: TokenKind,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE customer_tokens SET used = 1 \
         WHERE project = ? AND customer_id = ? AND kind = ? AND used = 0",
    )
    .bind(project)
    .bind(customer_id)
    .bind(kind_column(kind))
    .execute(&mut *conn)
    .await
    .or_backend("invalidate customer tokens")?;
    Ok(())
}

async fn find_token_on(
    conn: &mut SqliteConnection,
    project: &str,
    value_hash: &str,
    kind: TokenKind,
) -> Result<Option<CustomerTokenRecord>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM customer_tokens \
         WHERE project = ? AND value_hash = ? AND kind = ?"
    ))
    .bind(project)
    .bind(value_hash)
    .bind(kind_column(kind))
    .fetch_optional(&mut *conn)
    .await
    .or_backend("find customer token")?;
    let Some(r) = row else { return Ok(None) };
    let row = (|| {
        Ok::<_, sqlx::Error>(TokenRow {
            id: r.try_get(0)?,
            customer_id: r.try_get(1)?,
            kind: r.try_get(2)?,
            value_hash: r.try_get(3)?,
            expires_at: r.try_get(4)?,
            created_at: r.try_get(5)?,
            used: r.try_get(6)?,
        })
    })()
    .or_backend("read customer token")?;
    row.into_record().map(Some)
}

#[async_trait]
impl Store for SqliteStore {
    async fn health(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .or_backend("health check")?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    async fn create_project(&self, project: &Project) -> Result<(), StoreError> {
        let lists = ProjectLists::of(project)?;
        sqlx::query(
            "INSERT INTO projects (key, name, languages, countries, currencies) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&project.key)
        .bind(&project.name)
        .bind(&lists.languages)
        .bind(&lists.countries)
        .bind(&lists.currencies)
        .execute(&self.pool)
        .await
        .on_unique(
            "create project",
            &[Unique {
                constraint: UQ_PROJECT,
                field: "key",
                value: &project.key,
            }],
        )?;
        Ok(())
    }

    async fn get_project(&self, key: &str) -> Result<Option<Project>, StoreError> {
        let row = sqlx::query(
            "SELECT key, name, languages, countries, currencies FROM projects WHERE key = ?",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .or_backend("get project")?;
        let Some(r) = row else { return Ok(None) };
        let (key, name, languages, countries, currencies) = (|| {
            Ok::<_, sqlx::Error>((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
            ))
        })()
        .or_backend("read project")?;
        ProjectLists {
            languages,
            countries,
            currencies,
        }
        .into_project(key, name)
        .map(Some)
    }

    async fn count_projects(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM projects")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get(0))
            .or_backend("count projects")?;
        to_u64(n, "project count")
    }

    async fn create_api_client(&self, client: &ApiClientRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_clients (client_id, secret_hash, project_key, scope, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&client.client_id)
        .bind(&client.secret_hash)
        .bind(&client.project_key)
        .bind(&client.scope)
        .bind(ts(client.created_at))
        .execute(&self.pool)
        .await
        .on_unique(
            "create API client",
            &[Unique {
                constraint: UQ_API_CLIENT,
                field: "clientId",
                value: &client.client_id,
            }],
        )?;
        Ok(())
    }

    async fn get_api_client(&self, client_id: &str) -> Result<Option<ApiClientRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, secret_hash, project_key, scope, created_at FROM api_clients \
             WHERE client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .or_backend("get API client")?;
        let Some(r) = row else { return Ok(None) };
        let (client_id, secret_hash, project_key, scope, created_at) = (|| {
            Ok::<_, sqlx::Error>((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get::<String, _>(4)?,
            ))
        })()
        .or_backend("read API client")?;
        Ok(Some(ApiClientRecord {
            client_id,
            secret_hash,
            project_key,
            scope,
            created_at: parse_ts(&created_at, "API client created_at")?,
        }))
    }

    async fn extend_token(
        &self,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE oauth_tokens SET expires_at = ? WHERE token_hash = ?")
            .bind(ts(expires_at))
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .or_backend("extend token")?;
        Ok(())
    }

    async fn insert_token(&self, token: &AccessTokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, kind, client_id, project_key, scope, \
             customer_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.token_hash)
        .bind(&token.kind)
        .bind(&token.client_id)
        .bind(&token.project_key)
        .bind(&token.scope)
        .bind(&token.customer_id)
        .bind(ts(token.expires_at))
        .execute(&self.pool)
        .await
        .on_unique(
            "insert token",
            &[Unique {
                constraint: UQ_TOKEN,
                field: "tokenHash",
                value: &token.token_hash,
            }],
        )?;
        Ok(())
    }

    async fn get_token(&self, token_hash: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, kind, client_id, project_key, scope, customer_id, expires_at \
             FROM oauth_tokens WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .or_backend("get token")?;
        let Some(r) = row else { return Ok(None) };
        let (token_hash, kind, client_id, project_key, scope, customer_id, expires_at) = (|| {
            Ok::<_, sqlx::Error>((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get::<String, _>(6)?,
            ))
        })(
        )
        .or_backend("read token")?;
        Ok(Some(AccessTokenRecord {
            token_hash,
            kind,
            client_id,
            project_key,
            scope,
            customer_id,
            expires_at: parse_ts(&expires_at, "token expires_at")?,
        }))
    }

    async fn revoke_customer_tokens(
        &self,
        project: &str,
        customer_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM oauth_tokens WHERE project_key = ? AND customer_id = ?")
            .bind(project)
            .bind(customer_id)
            .execute(&self.pool)
            .await
            .or_backend("revoke customer tokens")?;
        Ok(())
    }

    async fn get_customer(
        &self,
        project: &str,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, StoreError> {
        let q = match lookup {
            CustomerLookup::Id(id) => sqlx::query(
                "SELECT json(doc), password_hash FROM customers WHERE project = ? AND id = ?",
            )
            .bind(project)
            .bind(id.as_str()),
            CustomerLookup::Key(key) => sqlx::query(
                "SELECT json(doc), password_hash FROM customers WHERE project = ? AND key = ?",
            )
            .bind(project)
            .bind(key.as_str()),
            CustomerLookup::Email { email, store } => sqlx::query(
                "SELECT json(c.doc), c.password_hash FROM customer_emails e \
                 JOIN customers c ON c.id = e.customer_id \
                 WHERE e.project = ? AND e.scope = ? AND e.lowercase_email = ?",
            )
            .bind(project)
            .bind(store.as_deref().unwrap_or(GLOBAL_SCOPE))
            .bind(email.to_lowercase()),
        };
        let row = q
            .fetch_optional(&self.pool)
            .await
            .or_backend("get customer")?;
        let Some(r) = row else { return Ok(None) };
        let (doc, hash): (String, Option<String>) =
            (|| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))()
                .or_backend("read customer")?;
        customer_from_row(&doc, hash).map(Some)
    }

    async fn insert_customer(
        &self,
        project: &str,
        customer: &Customer,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let row = CustomerRow::of(customer)?;
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            resources::sqlite::check_exist(&mut tx, project, &row.references).await?;
            check_email_free(&mut tx, project, &row).await?;
            insert_customer_row(&mut tx, project, &row).await?;
            insert_email_rows(&mut tx, project, &row).await?;
            insert_messages(&mut tx, project, &messages).await?;
            Ok(())
        }
        .await;
        tx.finish(result, "commit insert customer").await
    }

    async fn update_customer(
        &self,
        project: &str,
        customer: &Customer,
        expected: Version,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let row = CustomerRow::of(customer)?;
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            update_customer_on(&mut tx, project, &row, expected, &messages).await?;
            Ok(())
        }
        .await;
        tx.finish(result, "commit update customer").await
    }

    async fn delete_customer(
        &self,
        project: &str,
        id: &str,
        expected: Version,
        data_erasure: bool,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            // Email rows go with the customer (ON DELETE CASCADE).
            let done =
                sqlx::query("DELETE FROM customers WHERE id = ? AND project = ? AND version = ?")
                    .bind(id)
                    .bind(project)
                    .bind(to_i64(expected.get())?)
                    .execute(&mut *tx)
                    .await
                    .or_backend("delete customer")?;
            if done.rows_affected() == 0 {
                return Err(missed_write(&mut tx, project, id).await?);
            }
            // Messages written now continue the numbering; everything numbered below goes when
            // the caller asked for data erasure.
            let first_new = next_sequence_number(&mut tx, id).await?;
            insert_messages(&mut tx, project, &messages).await?;
            if data_erasure {
                sqlx::query(
                    "DELETE FROM messages WHERE project = ? AND resource_id = ? AND sequence_number < ?",
                )
                .bind(project)
                .bind(id)
                .bind(first_new)
                .execute(&mut *tx)
                .await
                .or_backend("erase customer messages")?;
            }
            Ok(())
        }
        .await;
        tx.finish(result, "commit delete customer").await
    }

    async fn query_customers(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Customer>, StoreError> {
        let schema = customer_schema();
        let target = PageTarget::customers(Dialect::Sqlite, &schema);
        let sql = PageSql::build(&target, project, query)?;
        let (rows, total) = self.run_page(sql).await?;
        Ok(Page {
            results: rows
                .into_iter()
                .map(|(doc, hash)| customer_from_row(&doc, hash))
                .collect::<Result<_, _>>()?,
            total: total
                .map(|n| cap_total(n, query.predicate.is_some()))
                .transpose()?,
        })
    }

    async fn get_resource(
        &self,
        project: &str,
        type_id: &str,
        lookup: &ResourceLookup,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        resources::sqlite::get(&self.pool, project, type_id, lookup).await
    }

    async fn insert_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            resources::sqlite::insert(&mut tx, project, type_id, record).await?;
            Ok(())
        }
        .await;
        tx.finish(result, "commit insert resource").await
    }

    async fn update_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        expected: Version,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            resources::sqlite::update(&mut tx, project, type_id, record, expected).await?;
            Ok(())
        }
        .await;
        tx.finish(result, "commit update resource").await
    }

    async fn delete_resource(
        &self,
        project: &str,
        type_id: &str,
        id: &str,
        expected: Version,
    ) -> Result<(), StoreError> {
        // BEGIN IMMEDIATE serializes writers, so no customer can start referencing the
        // resource between the reference check and the delete.
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            resources::sqlite::delete(&mut tx, project, type_id, id, expected).await?;
            Ok(())
        }
        .await;
        tx.finish(result, "commit delete resource").await
    }

    async fn query_resources(
        &self,
        project: &str,
        type_id: &str,
        query: &ResourceQuery,
    ) -> Result<Page<serde_json::Value>, StoreError> {
        let schema = resource_schema(type_id);
        let target = PageTarget {
            dialect: Dialect::Sqlite,
            table: "resources",
            columns: "json(doc), NULL",
            schema: &schema,
            store_filter: false,
            type_filter: Some(type_id),
        };
        let sql = PageSql::build(&target, project, query)?;
        let (rows, total) = self.run_page(sql).await?;
        Ok(Page {
            results: rows
                .into_iter()
                .map(|(doc, _)| resource_from_row(&doc))
                .collect::<Result<_, _>>()?,
            total: total
                .map(|n| cap_total(n, query.predicate.is_some()))
                .transpose()?,
        })
    }

    async fn get_message(&self, project: &str, id: &str) -> Result<Option<Message>, StoreError> {
        let row = sqlx::query("SELECT json(doc) FROM messages WHERE project = ? AND id = ?")
            .bind(project)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .or_backend("get message")?;
        let Some(r) = row else { return Ok(None) };
        let doc: String = r.try_get(0).or_backend("read message")?;
        message_from_row(&doc).map(Some)
    }

    async fn query_messages(
        &self,
        project: &str,
        query: &ResourceQuery,
    ) -> Result<Page<Message>, StoreError> {
        let schema = message_schema();
        let target = PageTarget::messages(Dialect::Sqlite, &schema);
        let sql = PageSql::build(&target, project, query)?;
        let (rows, total) = self.run_page(sql).await?;
        Ok(Page {
            results: rows
                .into_iter()
                .map(|(doc, _)| message_from_row(&doc))
                .collect::<Result<_, _>>()?,
            total: total
                .map(|n| cap_total(n, query.predicate.is_some()))
                .transpose()?,
        })
    }

    // ---- Customer tokens (password reset, email verification) ----

    async fn insert_customer_token(
        &self,
        project: &str,
        token: &CustomerTokenRecord,
        invalidate_older: bool,
        messages: Vec<Message>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            // The write lock is held, so the customer cannot go away before the insert.
            let exists = sqlx::query("SELECT 1 FROM customers WHERE id = ? AND project = ?")
                .bind(&token.customer_id)
                .bind(project)
                .fetch_optional(&mut *tx)
                .await
                .or_backend("check token customer")?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            if invalidate_older {
                invalidate_customer_tokens(&mut tx, project, &token.customer_id, token.kind)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO customer_tokens (id, project, customer_id, kind, value_hash, \
                 expires_at, created_at, used) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&token.id)
            .bind(project)
            .bind(&token.customer_id)
            .bind(kind_column(token.kind))
            .bind(&token.value_hash)
            .bind(ts(token.expires_at))
            .bind(ts(token.created_at))
            .bind(token.used)
            .execute(&mut *tx)
            .await
            .or_backend("insert customer token")?;
            insert_messages(&mut tx, project, &messages).await?;
            Ok(())
        }
        .await;
        tx.finish(result, "commit insert customer token").await
    }

    async fn find_customer_token(
        &self,
        project: &str,
        value_hash: &str,
        kind: TokenKind,
    ) -> Result<Option<CustomerTokenRecord>, StoreError> {
        let mut conn = self.pool.acquire().await.or_backend("acquire connection")?;
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
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            // Timestamps are fixed-width API strings, so text order is time order.
            let claimed = sqlx::query(
                "UPDATE customer_tokens SET used = 1 WHERE project = ? AND value_hash = ? \
                 AND kind = ? AND customer_id = ? AND used = 0 AND expires_at > ?",
            )
            .bind(project)
            .bind(value_hash)
            .bind(kind_column(kind))
            .bind(&row.id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .or_backend("claim customer token")?;
            if claimed.rows_affected() == 0 {
                // Dropping the transaction rolls it back; nothing was written.
                let token = find_token_on(&mut tx, project, value_hash, kind).await?;
                return Ok(match token {
                    Some(t) if !t.used && t.customer_id == row.id => RedeemOutcome::Expired,
                    _ => RedeemOutcome::NotFound,
                });
            }
            invalidate_customer_tokens(&mut tx, project, &row.id, kind).await?;
            update_customer_on(&mut tx, project, &row, change.expected, &change.messages).await?;
            if change.revoke_oauth_tokens {
                sqlx::query("DELETE FROM oauth_tokens WHERE project_key = ? AND customer_id = ?")
                    .bind(project)
                    .bind(&row.id)
                    .execute(&mut *tx)
                    .await
                    .or_backend("revoke customer tokens")?;
            }
            Ok(RedeemOutcome::Redeemed)
        }
        .await;
        tx.finish(result, "commit redeem customer token").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp_store(query_timeout: Duration) -> (SqliteStore, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "clientele-store-unit-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let opts = StoreOptions {
            pool_size: Some(1),
            query_timeout,
        };
        let store = SqliteStore::open(&format!("sqlite:{}", path.display()), &opts)
            .await
            .unwrap();
        (store, path)
    }

    fn remove(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.to_path_buf().into_os_string();
            p.push(suffix);
            std::fs::remove_file(p).ok();
        }
    }

    #[tokio::test]
    async fn a_runaway_query_is_interrupted_and_the_connection_stays_usable() {
        let (store, path) = temp_store(Duration::from_millis(100)).await;
        let endless = PageSql {
            select: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) \
                     SELECT CAST(MAX(n) AS TEXT), NULL FROM r"
                .to_owned(),
            select_params: Vec::new(),
            count: None,
        };
        let started = Instant::now();
        let result = store.run_page(endless).await;
        assert!(
            matches!(result, Err(StoreError::QueryTimedOut)),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // The single pooled connection must have lost its deadline handler: a query of many
        // VM steps, run past the old deadline outside run_page, completes.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let n: i64 = sqlx::query(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000) \
             SELECT COUNT(*) FROM r",
        )
        .fetch_one(&store.pool)
        .await
        .and_then(|r| r.try_get(0))
        .unwrap();
        assert_eq!(n, 100_000);
        store.close().await;
        remove(&path);
    }

    #[tokio::test]
    async fn connections_are_durable_wal_with_foreign_keys() {
        let (store, path) = temp_store(Duration::from_secs(10)).await;
        let pragma = |name: &'static str| {
            let pool = store.pool.clone();
            async move {
                sqlx::query(&format!(
                    "SELECT CAST((SELECT * FROM pragma_{name}) AS TEXT)"
                ))
                .fetch_one(&pool)
                .await
                .and_then(|r| r.try_get::<String, _>(0))
                .unwrap()
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        // 2 = FULL: the WAL is synced on every commit, so an acknowledged write survives a crash.
        assert_eq!(pragma("synchronous").await, "2");
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("busy_timeout").await, "5000");
        store.close().await;
        remove(&path);
    }

    /// A full disk, simulated by capping the writer connection's database size: the write
    /// fails as `Unavailable` (503) and writes nothing, and the next write works.
    #[tokio::test]
    async fn a_full_disk_is_unavailable_and_the_next_write_works() {
        let (store, path) = temp_store(Duration::from_secs(10)).await;
        let project = |key: &str| Project {
            key: key.to_owned(),
            name: "x".repeat(200_000),
            languages: vec![],
            countries: vec![],
            currencies: vec![],
        };
        for round in 0..3 {
            {
                let mut writer = store.writer.acquire().await.unwrap();
                // The cap cannot go below the current size, so this forbids any growth.
                sqlx::query("PRAGMA max_page_count = 1")
                    .execute(&mut *writer)
                    .await
                    .unwrap();
            }
            let record = ResourceRecord {
                id: format!("big{round}"),
                key: Some(format!("big{round}")),
                version: Version::FIRST,
                created_at: OffsetDateTime::UNIX_EPOCH,
                last_modified_at: OffsetDateTime::UNIX_EPOCH,
                doc: serde_json::json!({"payload": "x".repeat(200_000)}),
            };
            let full = store.insert_resource("p", "store", &record).await;
            assert!(matches!(full, Err(StoreError::Unavailable)), "{full:?}");
            assert_eq!(
                store
                    .get_resource("p", "store", &ResourceLookup::Id(format!("big{round}")))
                    .await
                    .unwrap(),
                None
            );
            // The cap lived on the connection the failed write discarded.
            store.insert_resource("p", "store", &record).await.unwrap();
            store
                .create_project(&project(&format!("p{round}")))
                .await
                .unwrap();
        }
        store.close().await;
        remove(&path);
    }

    #[tokio::test]
    async fn in_memory_databases_work() {
        let store = SqliteStore::open("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        store.health().await.unwrap();
        assert_eq!(store.count_projects().await.unwrap(), 0);
    }
}
