//! The PostgreSQL backend.
//!
//! Owns the pool, its migrations (`migrations/postgres`) and the PostgreSQL dialect details
//! (`$n` placeholders, `jsonb` documents, `statement_timeout`). Writers that touch an email take
//! a transaction-scoped advisory lock on (project, lowercase email) before anything else, so
//! the cross-scope email check-then-insert is serialized per email while unrelated writes run
//! in parallel. Shared shapes live in `rows`; this module must not diverge from SQLite in
//! behaviour, only in SQL.

use std::time::Duration;

use async_trait::async_trait;
use clientele_domain::{Customer, Message, Project, Version};
use clientele_query::schema::{customer_schema, message_schema};
use clientele_query::{Dialect, SqlParam};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgPoolOptions};
use sqlx::query::Query;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
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

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Unique constraints by name (indexes and primary keys from the migration).
const UQ_CUSTOMER_ID: &str = "customers_pkey";
const UQ_CUSTOMER_KEY: &str = "customers_key_uidx";
const UQ_CUSTOMER_NUMBER: &str = "customers_customer_number_uidx";
const UQ_EMAIL: &str = "customer_emails_pkey";
const UQ_PROJECT: &str = "projects_pkey";
const UQ_API_CLIENT: &str = "api_clients_pkey";
const UQ_TOKEN: &str = "oauth_tokens_pkey";
const UQ_MESSAGE: &str = "messages_pkey";

/// Pool size when the options do not say.
const DEFAULT_POOL_SIZE: u32 = 10;
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of [`Store`].
pub(crate) struct PostgresStore {
    pool: PgPool,
    query_timeout: Duration,
}

impl PostgresStore {
    /// Connects to `url` and migrates the database.
    pub(crate) async fn open(url: &str, opts: &StoreOptions) -> Result<Self, StoreError> {
        let pool = pool_options(opts)
            .connect(url)
            .await
            .or_backend("connect to PostgreSQL")?;
        MIGRATOR.run(&pool).await.map_err(|e| {
            tracing::error!(error = %e, "PostgreSQL migrations failed");
            StoreError::Backend(format!("PostgreSQL migrations: {e}"))
        })?;
        Ok(PostgresStore {
            pool,
            query_timeout: opts.query_timeout,
        })
    }

    /// Starts a write transaction at READ COMMITTED, named in the `BEGIN` so that a database
    /// whose `default_transaction_isolation` is stricter cannot change it (and at no extra
    /// round trip, which also works through a transaction-pooling proxy). The write paths
    /// depend on it: each statement sees what committed before it, so the email check after the
    /// advisory lock sees the previous holder's row, and a conditional `UPDATE … WHERE version =
    /// $n` that waited for a concurrent writer re-checks its condition and touches no row (409)
    /// instead of failing with a serialization error (500).
    async fn begin_write(&self) -> Result<WriteTx<Postgres>, StoreError> {
        WriteTx::begin(&self.pool, "BEGIN ISOLATION LEVEL READ COMMITTED").await
    }

    /// Runs a page query (and its count) under `statement_timeout`, which the server enforces
    /// per statement and reports as `query_canceled`.
    async fn run_page(
        &self,
        sql: PageSql,
    ) -> Result<(Vec<(String, Option<String>)>, Option<i64>), StoreError> {
        let mut tx = self.pool.begin().await.or_backend("begin query")?;
        // SET takes no bind parameters; the value is an integer we format ourselves.
        let ms = self.query_timeout.as_millis().max(1);
        sqlx::query(&format!("SET LOCAL statement_timeout = {ms}"))
            .execute(&mut *tx)
            .await
            .or_backend("set statement_timeout")?;
        let result = page_on(&mut tx, &sql).await?;
        tx.commit().await.or_backend("end query")?;
        Ok(result)
    }
}

/// The pool settings `opts` ask for: `pool_size` connections at most (each Clientele process
/// opens its own pool, so PostgreSQL's `max_connections` must cover all processes).
fn pool_options(opts: &StoreOptions) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(opts.pool_size.unwrap_or(DEFAULT_POOL_SIZE))
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

/// Serializes writers of one email in one project until the transaction ends. Hash collisions
/// only serialize unrelated writers a little more; they never let two writers through.
async fn lock_email(
    conn: &mut PgConnection,
    project: &str,
    lowercase_email: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{project}:{lowercase_email}"))
        .execute(&mut *conn)
        .await
        .or_backend("lock email")?;
    Ok(())
}

async fn page_on(
    conn: &mut PgConnection,
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
    mut q: Query<'q, Postgres, PgArguments>,
    params: &'q [SqlParam],
) -> Query<'q, Postgres, PgArguments> {
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
    conn: &mut PgConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let mut qb =
        QueryBuilder::<Postgres>::new("SELECT customer_id FROM customer_emails WHERE project = ");
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
    conn: &mut PgConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    for scope in &row.scopes {
        sqlx::query(
            "INSERT INTO customer_emails (project, scope, lowercase_email, customer_id) \
             VALUES ($1, $2, $3, $4)",
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
    conn: &mut PgConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    let current = sqlx::query(
        "SELECT scope, lowercase_email FROM customer_emails WHERE customer_id = $1 ORDER BY scope",
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
    lock_email(conn, project, &row.lowercase_email).await?;
    check_email_free(conn, project, row).await?;
    sqlx::query("DELETE FROM customer_emails WHERE customer_id = $1")
        .bind(&row.id)
        .execute(&mut *conn)
        .await
        .or_backend("delete customer emails")?;
    insert_email_rows(conn, project, row).await
}

async fn insert_customer_row(
    conn: &mut PgConnection,
    project: &str,
    row: &CustomerRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customers (id, project, version, key, email, lowercase_email, \
         customer_number, external_id, first_name, last_name, created_at, last_modified_at, \
         password_hash, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)",
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
    conn: &mut PgConnection,
    project: &str,
    messages: &[Message],
) -> Result<(), StoreError> {
    for m in messages {
        let next = next_sequence_number(conn, &m.resource.id).await?;
        let row = MessageRow::of(m, next)?;
        sqlx::query(
            "INSERT INTO messages (id, project, resource_id, resource_type_id, sequence_number, \
             resource_version, type, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
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
    conn: &mut PgConnection,
    resource_id: &str,
) -> Result<i64, StoreError> {
    sqlx::query("SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM messages WHERE resource_id = $1")
        .bind(resource_id)
        .fetch_one(&mut *conn)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .or_backend("next sequence number")
}

/// After a conditional write touched no row: why not?
async fn missed_write(
    conn: &mut PgConnection,
    project: &str,
    id: &str,
) -> Result<StoreError, StoreError> {
    let current = sqlx::query("SELECT version FROM customers WHERE id = $1 AND project = $2")
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
/// caller's transaction (shared by `update_customer` and token redemption).
async fn update_customer_on(
    conn: &mut PgConnection,
    project: &str,
    row: &CustomerRow,
    expected: Version,
    messages: &[Message],
) -> Result<(), StoreError> {
    // The conditional UPDATE comes first: it takes the row lock, and a writer whose version is
    // stale either finds no row at once or, waiting for the lock, re-checks after the holder
    // commits and touches no row (409) — it never queues for any other lock.
    let done = sqlx::query(
        "UPDATE customers SET version = $1, key = $2, email = $3, lowercase_email = $4, \
         customer_number = $5, external_id = $6, first_name = $7, last_name = $8, \
         created_at = $9, last_modified_at = $10, password_hash = $11, doc = $12::jsonb \
         WHERE id = $13 AND project = $14 AND version = $15",
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
    // Share locks on what the customer references: no delete of them can commit before this
    // transaction does, and one that committed earlier makes this write fail. Only delete and
    // update of those resources conflict with the locks, and neither waits for customer rows
    // or email locks, so taking them last cannot deadlock.
    resources::postgres::lock_existing(conn, project, &row.references).await?;
    insert_messages(conn, project, messages).await
}

// ---- Customer tokens (password reset, email verification) ----
//
// Lock order, shared with every customer writer: the customer row, then (only when the write
// adds an email row) the email's advisory lock, then share locks on referenced resources, then
// token rows (customer deletion cascades to tokens in that order too). A new customer takes
// the email lock first, but holds no other customer's row. Token writers take the customer row
// first, so none of them can wait in the opposite order.

/// Marks every unused token of `kind` of `customer_id` used (invalidation).
async fn invalidate_customer_tokens(
    conn: &mut PgConnection,
    project: &str,
    customer_id: &str,
    kind: TokenKind,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE customer_tokens SET used = true \
         WHERE project = $1 AND customer_id = $2 AND kind = $3 AND used = false",
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
    conn: &mut PgConnection,
    project: &str,
    value_hash: &str,
    kind: TokenKind,
) -> Result<Option<CustomerTokenRecord>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM customer_tokens \
         WHERE project = $1 AND value_hash = $2 AND kind = $3"
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
impl Store for PostgresStore {
    async fn health(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .or_backend("health check")?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_project(&self, project: &Project) -> Result<(), StoreError> {
        let lists = ProjectLists::of(project)?;
        sqlx::query(
            "INSERT INTO projects (key, name, languages, countries, currencies) \
             VALUES ($1, $2, $3, $4, $5)",
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
            "SELECT key, name, languages, countries, currencies FROM projects WHERE key = $1",
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
             VALUES ($1, $2, $3, $4, $5)",
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
             WHERE client_id = $1",
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
        sqlx::query("UPDATE oauth_tokens SET expires_at = $1 WHERE token_hash = $2")
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
             customer_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
             FROM oauth_tokens WHERE token_hash = $1",
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
        sqlx::query("DELETE FROM oauth_tokens WHERE project_key = $1 AND customer_id = $2")
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
                "SELECT doc::text, password_hash FROM customers WHERE project = $1 AND id = $2",
            )
            .bind(project)
            .bind(id.as_str()),
            CustomerLookup::Key(key) => sqlx::query(
                "SELECT doc::text, password_hash FROM customers WHERE project = $1 AND key = $2",
            )
            .bind(project)
            .bind(key.as_str()),
            CustomerLookup::Email { email, store } => sqlx::query(
                "SELECT c.doc::text, c.password_hash FROM customer_emails e \
                 JOIN customers c ON c.id = e.customer_id \
                 WHERE e.project = $1 AND e.scope = $2 AND e.lowercase_email = $3",
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
            lock_email(&mut tx, project, &row.lowercase_email).await?;
            resources::postgres::lock_existing(&mut tx, project, &row.references).await?;
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
                sqlx::query("DELETE FROM customers WHERE id = $1 AND project = $2 AND version = $3")
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
                    "DELETE FROM messages WHERE project = $1 AND resource_id = $2 AND sequence_number < $3",
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
        let target = PageTarget::customers(Dialect::Postgres, &schema);
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
        resources::postgres::get(&self.pool, project, type_id, lookup).await
    }

    async fn insert_resource(
        &self,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            resources::postgres::insert(&mut tx, project, type_id, record).await?;
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
            resources::postgres::update(&mut tx, project, type_id, record, expected).await?;
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
        // The row lock taken by the version check holds off concurrent writers of this
        // resource and waits for customer writes that share-lock it as a reference, so the
        // reference check after it sees every customer that references it.
        let mut tx = self.begin_write().await?;
        let result: Result<_, StoreError> = async {
            resources::postgres::delete(&mut tx, project, type_id, id, expected).await?;
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
            dialect: Dialect::Postgres,
            table: "resources",
            columns: "doc::text, NULL::text",
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
        let row = sqlx::query("SELECT doc::text FROM messages WHERE project = $1 AND id = $2")
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
        let target = PageTarget::messages(Dialect::Postgres, &schema);
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
            // FOR SHARE keeps the customer from being deleted before the insert commits.
            let exists =
                sqlx::query("SELECT 1 FROM customers WHERE id = $1 AND project = $2 FOR SHARE")
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
                 expires_at, created_at, used) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
            // The customer row, then tokens (see the lock order above). Concurrent redemptions
            // for one customer queue here; each then sees the previous one's claim.
            sqlx::query("SELECT 1 FROM customers WHERE id = $1 AND project = $2 FOR UPDATE")
                .bind(&row.id)
                .bind(project)
                .fetch_optional(&mut *tx)
                .await
                .or_backend("lock token customer")?;
            // Timestamps are fixed-width API strings in the "C" collation, so text order is time
            // order.
            let claimed = sqlx::query(
                "UPDATE customer_tokens SET used = true WHERE project = $1 AND value_hash = $2 \
                 AND kind = $3 AND customer_id = $4 AND used = false AND expires_at > $5",
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
                sqlx::query("DELETE FROM oauth_tokens WHERE project_key = $1 AND customer_id = $2")
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

    #[test]
    fn the_pool_is_sized_by_the_options_with_a_default() {
        let sized = StoreOptions {
            pool_size: Some(3),
            ..StoreOptions::default()
        };
        assert_eq!(pool_options(&sized).get_max_connections(), 3);
        assert_eq!(
            pool_options(&StoreOptions::default()).get_max_connections(),
            DEFAULT_POOL_SIZE
        );
    }

    /// Uses the server named by the conformance env var, without migrating it: the statement
    /// below touches no table.
    #[tokio::test]
    async fn a_runaway_query_is_cancelled_by_statement_timeout() {
        let Ok(url) = std::env::var("CLIENTELE_TEST_POSTGRES_URL") else {
            eprintln!("skipping PostgreSQL timeout test: CLIENTELE_TEST_POSTGRES_URL not set");
            return;
        };
        let store = PostgresStore {
            pool: PgPool::connect(&url).await.unwrap(),
            query_timeout: Duration::from_millis(100),
        };
        let slow = PageSql {
            select: "SELECT pg_sleep(5)::text, NULL::text".to_owned(),
            select_params: Vec::new(),
            count: None,
        };
        let result = store.run_page(slow).await;
        assert!(
            matches!(result, Err(StoreError::QueryTimedOut)),
            "{result:?}"
        );
        store.health().await.unwrap();
        store.close().await;
    }
}
