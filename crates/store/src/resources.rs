//! The generic `resources` table (migration 0002): Customer Groups, Types, Stores and later
//! resources stored as id, key, version, timestamps and the API JSON. One submodule per backend
//! holds the SQL; the backends' `Store` impls delegate here (paged queries stay in the backends,
//! which own the query deadline).
//!
//! Owns both halves of referential integrity between customers and these resources: the delete
//! guard (whether a Customer Group, Type or Store is still referenced, checked in the deleting
//! transaction) and the existence check of what a customer write references (in the customer's
//! transaction; on PostgreSQL under `FOR SHARE`, so the two cannot interleave). Must not
//! interpret documents beyond the reference paths it checks.

use crate::rows::ReferencedResource;
use crate::{ResourceLookup, StoreError};

/// The `typeId` of Customer Groups.
const CUSTOMER_GROUP: &str = "customer-group";
/// The `typeId` of Types.
const TYPE: &str = "type";
/// The `typeId` of Stores.
const STORE: &str = "store";

/// The `ReferenceExists` for a delete blocked by `referenced_by` rows.
fn referenced(referenced_by: &str) -> StoreError {
    StoreError::ReferenceExists {
        referenced_by: referenced_by.to_owned(),
    }
}

/// The `ReferencedResourceNotFound` for a missing `r`.
fn missing(r: &ReferencedResource) -> StoreError {
    let (id, key) = match &r.lookup {
        ResourceLookup::Id(id) => (Some(id.clone()), None),
        ResourceLookup::Key(key) => (None, Some(key.clone())),
    };
    StoreError::ReferencedResourceNotFound {
        type_id: r.type_id.to_owned(),
        id,
        key,
    }
}

/// The column and value that find `r`.
fn column_of(r: &ReferencedResource) -> (&'static str, &str) {
    match &r.lookup {
        ResourceLookup::Id(id) => ("id", id),
        ResourceLookup::Key(key) => ("key", key),
    }
}

/// The SQLite statements.
pub(crate) mod sqlite {
    use super::{column_of, missing, referenced, static_type_id, CUSTOMER_GROUP, STORE, TYPE};
    use crate::error::{SqlxResultExt, Unique};
    use crate::rows::{resource_from_row, to_i64, to_u64, ReferencedResource, ResourceRow};
    use crate::{ResourceLookup, ResourceRecord, StoreError};
    use clientele_domain::Version;
    use sqlx::{Row, SqliteConnection, SqlitePool};

    const UQ_KEY: &str = "resources.project, resources.type_id, resources.key";
    const UQ_ID: &str = "resources.id";

    fn uniques(row: &ResourceRow) -> [Unique<'_>; 2] {
        [
            Unique {
                constraint: UQ_KEY,
                field: "key",
                value: row.key.as_deref().unwrap_or_default(),
            },
            Unique {
                constraint: UQ_ID,
                field: "id",
                value: &row.id,
            },
        ]
    }

    pub(crate) async fn get(
        pool: &SqlitePool,
        project: &str,
        type_id: &str,
        lookup: &ResourceLookup,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let (column, value) = match lookup {
            ResourceLookup::Id(id) => ("id", id),
            ResourceLookup::Key(key) => ("key", key),
        };
        let row = sqlx::query(&format!(
            "SELECT json(doc) FROM resources WHERE project = ? AND type_id = ? AND {column} = ?"
        ))
        .bind(project)
        .bind(type_id)
        .bind(value.as_str())
        .fetch_optional(pool)
        .await
        .or_backend("get resource")?;
        let Some(r) = row else { return Ok(None) };
        let doc: String = r.try_get(0).or_backend("read resource")?;
        resource_from_row(&doc).map(Some)
    }

    /// Fails with `ReferencedResourceNotFound` for the first of `refs` that does not exist.
    /// Runs inside the customer's `BEGIN IMMEDIATE` transaction: writers are serialized, so
    /// no delete can come between this check and the customer write's commit.
    pub(crate) async fn check_exist(
        conn: &mut SqliteConnection,
        project: &str,
        refs: &[ReferencedResource],
    ) -> Result<(), StoreError> {
        for r in refs {
            let (column, value) = column_of(r);
            let found = sqlx::query(&format!(
                "SELECT 1 FROM resources WHERE project = ? AND type_id = ? AND {column} = ?"
            ))
            .bind(project)
            .bind(r.type_id)
            .bind(value)
            .fetch_optional(&mut *conn)
            .await
            .or_backend("check referenced resource")?;
            if found.is_none() {
                return Err(missing(r));
            }
        }
        Ok(())
    }

    pub(crate) async fn insert(
        conn: &mut SqliteConnection,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
    ) -> Result<(), StoreError> {
        let row = ResourceRow::of(record)?;
        sqlx::query(
            "INSERT INTO resources (id, project, type_id, key, version, created_at, \
             last_modified_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, jsonb(?))",
        )
        .bind(&row.id)
        .bind(project)
        .bind(type_id)
        .bind(&row.key)
        .bind(row.version)
        .bind(&row.created_at)
        .bind(&row.last_modified_at)
        .bind(&row.doc)
        .execute(&mut *conn)
        .await
        .on_unique("insert resource", &uniques(&row))?;
        Ok(())
    }

    pub(crate) async fn update(
        conn: &mut SqliteConnection,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        expected: Version,
    ) -> Result<(), StoreError> {
        let row = ResourceRow::of(record)?;
        let done = sqlx::query(
            "UPDATE resources SET key = ?, version = ?, created_at = ?, last_modified_at = ?, \
             doc = jsonb(?) WHERE id = ? AND project = ? AND type_id = ? AND version = ?",
        )
        .bind(&row.key)
        .bind(row.version)
        .bind(&row.created_at)
        .bind(&row.last_modified_at)
        .bind(&row.doc)
        .bind(&row.id)
        .bind(project)
        .bind(type_id)
        .bind(to_i64(expected.get())?)
        .execute(&mut *conn)
        .await
        .on_unique("update resource", &uniques(&row))?;
        if done.rows_affected() == 0 {
            return Err(missed(conn, project, type_id, &row.id).await?);
        }
        Ok(())
    }

    pub(crate) async fn delete(
        conn: &mut SqliteConnection,
        project: &str,
        type_id: &str,
        id: &str,
        expected: Version,
    ) -> Result<(), StoreError> {
        let current = sqlx::query(
            "SELECT version FROM resources WHERE id = ? AND project = ? AND type_id = ?",
        )
        .bind(id)
        .bind(project)
        .bind(type_id)
        .fetch_optional(&mut *conn)
        .await
        .or_backend("read resource version")?;
        let Some(current) = current else {
            return Err(StoreError::NotFound);
        };
        let current = to_u64(
            current
                .try_get::<i64, _>(0)
                .or_backend("read resource version")?,
            "resource version",
        )?;
        if current != expected.get() {
            return Err(StoreError::ConcurrentModification { current });
        }
        if let Some(by) = referencing(conn, project, type_id, id).await? {
            return Err(referenced(by));
        }
        sqlx::query("DELETE FROM resources WHERE id = ? AND project = ? AND type_id = ?")
            .bind(id)
            .bind(project)
            .bind(type_id)
            .execute(&mut *conn)
            .await
            .or_backend("delete resource")?;
        Ok(())
    }

    /// The `typeId` of something that still references resource `id`, if anything does.
    async fn referencing(
        conn: &mut SqliteConnection,
        project: &str,
        type_id: &str,
        id: &str,
    ) -> Result<Option<&'static str>, StoreError> {
        let checks: &[(&'static str, &str)] = match type_id {
            CUSTOMER_GROUP => &[(
                "customer",
                "SELECT 1 FROM customers WHERE project = ?1 AND \
                 (json_extract(doc, '$.customerGroup.id') = ?2 OR EXISTS (SELECT 1 FROM \
                 json_each(doc, '$.customerGroupAssignments') a \
                 WHERE json_extract(a.value, '$.customerGroup.id') = ?2)) LIMIT 1",
            )],
            TYPE => &[
                (
                    "customer",
                    "SELECT 1 FROM customers WHERE project = ?1 AND \
                     (json_extract(doc, '$.custom.type.id') = ?2 OR EXISTS (SELECT 1 FROM \
                     json_each(doc, '$.addresses') a \
                     WHERE json_extract(a.value, '$.custom.type.id') = ?2)) LIMIT 1",
                ),
                (
                    "",
                    "SELECT type_id FROM resources WHERE project = ?1 AND \
                     json_extract(doc, '$.custom.type.id') = ?2 LIMIT 1",
                ),
            ],
            // A customer of a store holds one email row whose scope is the store's key (keys are
            // immutable, so this is the only place a customer can name it).
            STORE => &[(
                "customer",
                "SELECT 1 FROM customer_emails WHERE project = ?1 AND scope = \
                 (SELECT key FROM resources WHERE project = ?1 AND type_id = 'store' \
                 AND id = ?2) LIMIT 1",
            )],
            _ => &[],
        };
        for (by, sql) in checks {
            let row = sqlx::query(sql)
                .bind(project)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .or_backend("check references")?;
            if let Some(r) = row {
                if by.is_empty() {
                    let t: String = r.try_get(0).or_backend("check references")?;
                    return Ok(Some(static_type_id(&t)));
                }
                return Ok(Some(by));
            }
        }
        Ok(None)
    }

    async fn missed(
        conn: &mut SqliteConnection,
        project: &str,
        type_id: &str,
        id: &str,
    ) -> Result<StoreError, StoreError> {
        let current = sqlx::query(
            "SELECT version FROM resources WHERE id = ? AND project = ? AND type_id = ?",
        )
        .bind(id)
        .bind(project)
        .bind(type_id)
        .fetch_optional(&mut *conn)
        .await
        .or_backend("read resource version")?;
        Ok(match current {
            None => StoreError::NotFound,
            Some(r) => StoreError::ConcurrentModification {
                current: to_u64(
                    r.try_get::<i64, _>(0).or_backend("read resource version")?,
                    "resource version",
                )?,
            },
        })
    }
}

/// The PostgreSQL statements.
pub(crate) mod postgres {
    use super::{column_of, missing, referenced, static_type_id, CUSTOMER_GROUP, STORE, TYPE};
    use crate::error::{SqlxResultExt, Unique};
    use crate::rows::{resource_from_row, to_i64, to_u64, ReferencedResource, ResourceRow};
    use crate::{ResourceLookup, ResourceRecord, StoreError};
    use clientele_domain::Version;
    use sqlx::{PgConnection, PgPool, Row};

    const UQ_KEY: &str = "resources_key_uidx";
    const UQ_ID: &str = "resources_pkey";

    fn uniques(row: &ResourceRow) -> [Unique<'_>; 2] {
        [
            Unique {
                constraint: UQ_KEY,
                field: "key",
                value: row.key.as_deref().unwrap_or_default(),
            },
            Unique {
                constraint: UQ_ID,
                field: "id",
                value: &row.id,
            },
        ]
    }

    pub(crate) async fn get(
        pool: &PgPool,
        project: &str,
        type_id: &str,
        lookup: &ResourceLookup,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let (column, value) = match lookup {
            ResourceLookup::Id(id) => ("id", id),
            ResourceLookup::Key(key) => ("key", key),
        };
        let row = sqlx::query(&format!(
            "SELECT doc::text FROM resources WHERE project = $1 AND type_id = $2 AND {column} = $3"
        ))
        .bind(project)
        .bind(type_id)
        .bind(value.as_str())
        .fetch_optional(pool)
        .await
        .or_backend("get resource")?;
        let Some(r) = row else { return Ok(None) };
        let doc: String = r.try_get(0).or_backend("read resource")?;
        resource_from_row(&doc).map(Some)
    }

    /// Fails with `ReferencedResourceNotFound` for the first of `refs` that does not exist,
    /// and share-locks the ones that do until the customer's transaction ends.
    ///
    /// A delete of one of them takes the row lock (`FOR UPDATE` in its version check) before
    /// its reference check, so either it got there first and this statement, after waiting,
    /// finds the row gone; or it waits for this transaction to commit and then (READ COMMITTED:
    /// a fresh snapshot per statement) sees the new reference and refuses. Share locks do not
    /// conflict with each other, so concurrent customers of one Store do not queue here.
    pub(crate) async fn lock_existing(
        conn: &mut PgConnection,
        project: &str,
        refs: &[ReferencedResource],
    ) -> Result<(), StoreError> {
        for r in refs {
            let (column, value) = column_of(r);
            let found = sqlx::query(&format!(
                "SELECT 1 FROM resources WHERE project = $1 AND type_id = $2 AND {column} = $3 \
                 FOR SHARE"
            ))
            .bind(project)
            .bind(r.type_id)
            .bind(value)
            .fetch_optional(&mut *conn)
            .await
            .or_backend("lock referenced resource")?;
            if found.is_none() {
                return Err(missing(r));
            }
        }
        Ok(())
    }

    pub(crate) async fn insert(
        conn: &mut PgConnection,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
    ) -> Result<(), StoreError> {
        let row = ResourceRow::of(record)?;
        sqlx::query(
            "INSERT INTO resources (id, project, type_id, key, version, created_at, \
             last_modified_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
        )
        .bind(&row.id)
        .bind(project)
        .bind(type_id)
        .bind(&row.key)
        .bind(row.version)
        .bind(&row.created_at)
        .bind(&row.last_modified_at)
        .bind(&row.doc)
        .execute(&mut *conn)
        .await
        .on_unique("insert resource", &uniques(&row))?;
        Ok(())
    }

    pub(crate) async fn update(
        conn: &mut PgConnection,
        project: &str,
        type_id: &str,
        record: &ResourceRecord,
        expected: Version,
    ) -> Result<(), StoreError> {
        let row = ResourceRow::of(record)?;
        let done = sqlx::query(
            "UPDATE resources SET key = $1, version = $2, created_at = $3, \
             last_modified_at = $4, doc = $5::jsonb \
             WHERE id = $6 AND project = $7 AND type_id = $8 AND version = $9",
        )
        .bind(&row.key)
        .bind(row.version)
        .bind(&row.created_at)
        .bind(&row.last_modified_at)
        .bind(&row.doc)
        .bind(&row.id)
        .bind(project)
        .bind(type_id)
        .bind(to_i64(expected.get())?)
        .execute(&mut *conn)
        .await
        .on_unique("update resource", &uniques(&row))?;
        if done.rows_affected() == 0 {
            return Err(version_error(conn, project, type_id, &row.id, None)
                .await?
                .unwrap_or(StoreError::NotFound));
        }
        Ok(())
    }

    pub(crate) async fn delete(
        conn: &mut PgConnection,
        project: &str,
        type_id: &str,
        id: &str,
        expected: Version,
    ) -> Result<(), StoreError> {
        // Lock the row first, so concurrent deletes and updates of it wait for this check, and
        // so the reference check below runs after every customer write that share-locked it
        // (`lock_existing`) has committed: its new reference is then visible.
        if let Some(e) = version_error(conn, project, type_id, id, Some(expected)).await? {
            return Err(e);
        }
        if let Some(by) = referencing(conn, project, type_id, id).await? {
            return Err(referenced(by));
        }
        sqlx::query("DELETE FROM resources WHERE id = $1 AND project = $2 AND type_id = $3")
            .bind(id)
            .bind(project)
            .bind(type_id)
            .execute(&mut *conn)
            .await
            .or_backend("delete resource")?;
        Ok(())
    }

    /// Reads (and row-locks) the stored version: `NotFound`, or `ConcurrentModification`
    /// unless it equals `expected` (with `expected` None, any existing version is a conflict:
    /// the caller's conditional write already missed).
    async fn version_error(
        conn: &mut PgConnection,
        project: &str,
        type_id: &str,
        id: &str,
        expected: Option<Version>,
    ) -> Result<Option<StoreError>, StoreError> {
        let current = sqlx::query(
            "SELECT version FROM resources WHERE id = $1 AND project = $2 AND type_id = $3 \
             FOR UPDATE",
        )
        .bind(id)
        .bind(project)
        .bind(type_id)
        .fetch_optional(&mut *conn)
        .await
        .or_backend("read resource version")?;
        let Some(r) = current else {
            return Ok(Some(StoreError::NotFound));
        };
        let current = to_u64(
            r.try_get::<i64, _>(0).or_backend("read resource version")?,
            "resource version",
        )?;
        if expected.map(Version::get) == Some(current) {
            return Ok(None);
        }
        Ok(Some(StoreError::ConcurrentModification { current }))
    }

    async fn referencing(
        conn: &mut PgConnection,
        project: &str,
        type_id: &str,
        id: &str,
    ) -> Result<Option<&'static str>, StoreError> {
        let checks: &[(&'static str, &str)] = match type_id {
            CUSTOMER_GROUP => &[(
                "customer",
                "SELECT 1 FROM customers WHERE project = $1 AND \
                 (doc->'customerGroup'->>'id' = $2 OR doc->'customerGroupAssignments' @> \
                 jsonb_build_array(jsonb_build_object('customerGroup', \
                 jsonb_build_object('id', $2::text)))) LIMIT 1",
            )],
            TYPE => &[
                (
                    "customer",
                    "SELECT 1 FROM customers WHERE project = $1 AND \
                     (doc->'custom'->'type'->>'id' = $2 OR doc->'addresses' @> \
                     jsonb_build_array(jsonb_build_object('custom', jsonb_build_object('type', \
                     jsonb_build_object('id', $2::text))))) LIMIT 1",
                ),
                (
                    "",
                    "SELECT type_id FROM resources WHERE project = $1 AND \
                     doc->'custom'->'type'->>'id' = $2 LIMIT 1",
                ),
            ],
            STORE => &[(
                "customer",
                "SELECT 1 FROM customer_emails WHERE project = $1 AND scope = \
                 (SELECT key FROM resources WHERE project = $1 AND type_id = 'store' \
                 AND id = $2) LIMIT 1",
            )],
            _ => &[],
        };
        for (by, sql) in checks {
            let row = sqlx::query(sql)
                .bind(project)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .or_backend("check references")?;
            if let Some(r) = row {
                if by.is_empty() {
                    let t: String = r.try_get(0).or_backend("check references")?;
                    return Ok(Some(static_type_id(&t)));
                }
                return Ok(Some(by));
            }
        }
        Ok(None)
    }
}

/// The `referencedBy` name of a referencing resource type from the generic table.
fn static_type_id(t: &str) -> &'static str {
    match t {
        CUSTOMER_GROUP => CUSTOMER_GROUP,
        STORE => STORE,
        _ => "resource",
    }
}
