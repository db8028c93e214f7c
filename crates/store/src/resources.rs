//! The generic `resources` table (migration 0002): Customer Groups, Types, Stores and later
//! resources stored as id, key, version, timestamps and the API JSON, written once for both
//! databases (paged queries are the store's, which owns the query deadline).
//!
//! Owns both halves of referential integrity between customers and these resources: the delete
//! guard (whether a Customer Group, Type or Store is still referenced, checked in the deleting
//! transaction) and the existence check of what a customer write references (in the customer's
//! transaction; on PostgreSQL under `FOR SHARE`, so the two cannot interleave). Every write
//! also queues its change notification for Subscriptions (`subscriptions`) in the same
//! transaction. Must not interpret documents beyond the reference paths it checks.

use clientele_domain::resolve::{CUSTOMER_GROUP, STORE};
use clientele_domain::Version;

use crate::db::{Conn, Sql};
use crate::error::SqlxResultExt;
use crate::rows::{from_json, resource_from_row, to_i64, to_u64, ReferencedResource, ResourceRow};
use crate::subscriptions::{
    self, fan_out_change, key_identifiers, Change, ModifiedAt, SUBSCRIPTION,
};
use crate::{ResourceLookup, StoreError};

/// The column and value that find a resource.
fn column_of(lookup: &ResourceLookup) -> (&'static str, &str) {
    match lookup {
        ResourceLookup::Id(id) => ("id", id),
        ResourceLookup::Key(key) => ("key", key),
    }
}

/// The unique fields a resource row may violate, with `row`'s values.
fn uniques(row: &ResourceRow) -> [(&'static str, &str); 2] {
    [
        ("key", row.key.as_deref().unwrap_or_default()),
        ("id", &row.id),
    ]
}

/// Reads one resource as its API JSON.
pub(crate) async fn get(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    lookup: &ResourceLookup,
) -> Result<Option<serde_json::Value>, StoreError> {
    let (column, value) = column_of(lookup);
    let doc = (conn.dialect().doc_out)("doc");
    let sql = Sql::new(format!(
        "SELECT {doc} FROM resources WHERE project = $1 AND type_id = $2 AND {column} = $3"
    ))
    .bind(project)
    .bind(type_id)
    .bind(value);
    let doc = conn.first::<(String,)>(sql, "get resource").await?;
    doc.map(|(doc,)| resource_from_row(&doc)).transpose()
}

/// Fails with `ReferencedResourceNotFound` for the first of `refs` that does not exist, and on
/// PostgreSQL share-locks the ones that do until the customer's transaction ends.
///
/// A delete of one of them takes the row lock (`FOR UPDATE` in its version check) before its
/// reference check, so either it got there first and this statement, after waiting, finds the
/// row gone; or it waits for this transaction to commit and then (READ COMMITTED: a fresh
/// snapshot per statement) sees the new reference and refuses. Share locks do not conflict with
/// each other, so concurrent customers of one Store do not queue here. On SQLite the write lock
/// keeps every delete out until commit.
pub(crate) async fn check_exist(
    conn: &mut Conn,
    project: &str,
    refs: &[ReferencedResource],
) -> Result<(), StoreError> {
    let lock = conn.dialect().share_lock;
    for r in refs {
        let (column, value) = column_of(&r.lookup);
        let sql = Sql::new(format!(
            "SELECT 1 FROM resources WHERE project = $1 AND type_id = $2 AND {column} = $3{lock}"
        ))
        .bind(project)
        .bind(r.type_id)
        .bind(value);
        if !conn.exists(sql, "check referenced resource").await? {
            let (id, key) = match &r.lookup {
                ResourceLookup::Id(id) => (Some(id.clone()), None),
                ResourceLookup::Key(key) => (None, Some(key.clone())),
            };
            return Err(StoreError::ReferencedResourceNotFound {
                type_id: r.type_id.to_owned(),
                id,
                key,
            });
        }
    }
    Ok(())
}

/// Inserts a new resource.
pub(crate) async fn insert(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    row: &ResourceRow,
) -> Result<(), StoreError> {
    let doc = (conn.dialect().doc_in)(8);
    let sql = Sql::new(format!(
        "INSERT INTO resources (id, project, type_id, key, version, created_at, \
         last_modified_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, {doc})"
    ))
    .bind(&row.id)
    .bind(project)
    .bind(type_id)
    .bind(&row.key)
    .bind(row.version)
    .bind(&row.created_at)
    .bind(&row.last_modified_at)
    .bind(&row.doc);
    conn.execute(sql)
        .await
        .on_unique("insert resource", &uniques(row))?;
    after_write(conn, project, type_id, row, "ResourceCreated", 0).await
}

/// Inserts a new resource unless its project holds `max` of its type already (`false` then,
/// nothing written). Counted under a lock on (project, type), so two concurrent inserts cannot
/// both pass the limit (SQLite's writers are serialized anyway).
pub(crate) async fn insert_within(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    row: &ResourceRow,
    max: i64,
) -> Result<bool, StoreError> {
    // Not an email lock's name: those hold an `@`.
    let name = format!("{project}:{type_id} limit");
    conn.advisory_lock(&name, "lock resource limit").await?;
    let sql = Sql::new("SELECT COUNT(*) FROM resources WHERE project = $1 AND type_id = $2")
        .bind(project)
        .bind(type_id);
    if conn.int(sql, "count resources").await? >= max {
        return Ok(false);
    }
    insert(conn, project, type_id, row).await?;
    Ok(true)
}

/// What a write of a generic resource owes Subscriptions: its change notification, and for a
/// Subscription itself its filters.
async fn after_write(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    row: &ResourceRow,
    notification: &'static str,
    old_version: i64,
) -> Result<(), StoreError> {
    if type_id == SUBSCRIPTION {
        let doc: serde_json::Value = from_json(&row.doc, "subscription")?;
        subscriptions::sync_filters(conn, project, &row.id, Some(&doc)).await?;
    }
    let change = Change {
        notification,
        type_id,
        id: &row.id,
        version: row.version,
        old_version,
        modified_at: ModifiedAt::At(&row.last_modified_at),
        identifiers: key_identifiers(row.key.as_deref()),
        data_erasure: false,
    };
    fan_out_change(conn, project, &change).await
}

/// Replaces a resource if its stored version is `expected`.
pub(crate) async fn update(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    row: &ResourceRow,
    expected: Version,
) -> Result<(), StoreError> {
    let doc = (conn.dialect().doc_in)(5);
    let sql = Sql::new(format!(
        "UPDATE resources SET key = $1, version = $2, created_at = $3, last_modified_at = $4, \
         doc = {doc} WHERE id = $6 AND project = $7 AND type_id = $8 AND version = $9"
    ))
    .bind(&row.key)
    .bind(row.version)
    .bind(&row.created_at)
    .bind(&row.last_modified_at)
    .bind(&row.doc)
    .bind(&row.id)
    .bind(project)
    .bind(type_id)
    .bind(to_i64(expected.get())?);
    let done = conn
        .execute(sql)
        .await
        .on_unique("update resource", &uniques(row))?;
    if done == 0 {
        return Err(version_error(conn, project, type_id, &row.id, None)
            .await?
            .unwrap_or(StoreError::NotFound));
    }
    let old = to_i64(expected.get())?;
    after_write(conn, project, type_id, row, "ResourceUpdated", old).await
}

/// Deletes a resource at version `expected` unless something still references it.
pub(crate) async fn delete(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    id: &str,
    expected: Version,
) -> Result<(), StoreError> {
    // Lock the row first (PostgreSQL), so concurrent deletes and updates of it wait for this
    // check, and so the reference check below runs after every customer write that
    // share-locked it (`check_exist`) has committed: its new reference is then visible. On
    // SQLite, BEGIN IMMEDIATE serializes writers, so no customer can start referencing the
    // resource between the reference check and the delete.
    if let Some(e) = version_error(conn, project, type_id, id, Some(expected)).await? {
        return Err(e);
    }
    if let Some(by) = referencing(conn, project, type_id, id).await? {
        return Err(StoreError::ReferenceExists {
            referenced_by: by.to_owned(),
        });
    }
    let sql = Sql::new(
        "DELETE FROM resources WHERE id = $1 AND project = $2 AND type_id = $3 RETURNING key",
    )
    .bind(id)
    .bind(project)
    .bind(type_id);
    let deleted = conn
        .first::<(Option<String>,)>(sql, "delete resource")
        .await?;
    let key = deleted.and_then(|(key,)| key);
    if type_id == SUBSCRIPTION {
        subscriptions::sync_filters(conn, project, id, None).await?;
    }
    let change = Change {
        notification: "ResourceDeleted",
        type_id,
        id,
        version: to_i64(expected.get())?,
        old_version: 0,
        modified_at: ModifiedAt::Now,
        identifiers: key_identifiers(key.as_deref()),
        data_erasure: false,
    };
    fan_out_change(conn, project, &change).await
}

/// Reads (and row-locks) the stored version: `NotFound`, or `ConcurrentModification` unless it
/// equals `expected` (with `expected` None, any existing version is a conflict: the caller's
/// conditional write already missed).
async fn version_error(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    id: &str,
    expected: Option<Version>,
) -> Result<Option<StoreError>, StoreError> {
    let lock = conn.dialect().update_lock;
    let sql = Sql::new(format!(
        "SELECT version FROM resources WHERE id = $1 AND project = $2 AND type_id = $3{lock}"
    ))
    .bind(id)
    .bind(project)
    .bind(type_id);
    let Some((current,)) = conn.first(sql, "read resource version").await? else {
        return Ok(Some(StoreError::NotFound));
    };
    let current = to_u64(current, "resource version")?;
    if expected.map(Version::get) == Some(current) {
        return Ok(None);
    }
    Ok(Some(StoreError::ConcurrentModification { current }))
}

/// The `typeId` of something that still references resource `id`, if anything does.
async fn referencing(
    conn: &mut Conn,
    project: &str,
    type_id: &str,
    id: &str,
) -> Result<Option<&'static str>, StoreError> {
    for (by, sql) in (conn.dialect().reference_checks)(type_id) {
        let row = conn
            .optional(Sql::new(*sql).bind(project).bind(id))
            .await
            .or_backend("check references")?;
        if let Some(r) = row {
            if by.is_empty() {
                let t: String = r.get(0).or_backend("check references")?;
                return Ok(Some(static_type_id(&t)));
            }
            return Ok(Some(by));
        }
    }
    Ok(None)
}

/// The `referencedBy` name of a referencing resource type from the generic table.
fn static_type_id(t: &str) -> &'static str {
    match t {
        CUSTOMER_GROUP => CUSTOMER_GROUP,
        STORE => STORE,
        _ => "resource",
    }
}
