//! Non-unique secondary indexes set aside for an exclusive bulk load on SQLite
//! (`clientele import --exclusive`), and their restoration.
//!
//! Owns the record of what was dropped: the table `clientele_suspended_indexes`, created when
//! first needed (it is not part of the migrated schema, so that a database that never saw an
//! exclusive import has no trace of it), written in the same transaction as the `DROP INDEX`
//! statements, holding each index's `CREATE` statement from `sqlite_master` and its
//! `sqlite_stat1` row (a `DROP INDEX` deletes that row, and the migrations set those rows to
//! steer the planner). Every opening of a SQLite database restores what the record holds before
//! anything else runs, so an interrupted import never leaves a database without its indexes.
//!
//! Must never touch a unique index (they enforce uniqueness while the load runs), nor an index
//! led by `customer_id` (the write path looks a customer's rows up through it when it replaces
//! them), nor run on a database that other connections can read meanwhile: a query that needs
//! a dropped index would scan whole tables. The caller (`SqlStore` of an exclusive store) sees
//! to that.

use sqlx::sqlite::SqlitePool;

use crate::db::{Conn, Sql};
use crate::error::SqlxResultExt;
use crate::StoreError;

/// The tables a customer import writes, whose indexes an exclusive import may suspend.
const TABLES: [&str; 4] = [
    "customers",
    "customer_emails",
    "customer_addresses",
    "messages",
];

/// The record of suspended indexes.
const RECORD: &str = "clientele_suspended_indexes";

/// Whether the table `name` exists.
async fn table_exists(conn: &mut Conn, name: &str) -> Result<bool, StoreError> {
    let sql = Sql::new("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1").bind(name);
    conn.exists(sql, "look for a table").await
}

/// Drops the suspendable indexes of [`TABLES`] inside the caller's write transaction, recording
/// each one's definition and planner statistics first; how many it dropped.
pub(crate) async fn suspend(conn: &mut Conn) -> Result<usize, StoreError> {
    conn.run(
        Sql::new(format!(
            "CREATE TABLE IF NOT EXISTS {RECORD} (name TEXT NOT NULL PRIMARY KEY, \
             tbl TEXT NOT NULL, sql TEXT NOT NULL, stat TEXT NULL)"
        )),
        "create the record of suspended indexes",
    )
    .await?;
    let stat = if table_exists(conn, "sqlite_stat1").await? {
        "(SELECT s.stat FROM sqlite_stat1 AS s WHERE s.idx = m.name LIMIT 1)"
    } else {
        "NULL"
    };
    let tables = TABLES.map(|t| format!("'{t}'")).join(", ");
    // `sql IS NULL` marks the indexes behind PRIMARY KEY and UNIQUE constraints.
    let indexes: Vec<(String, String, String, Option<String>)> = conn
        .rows(
            Sql::new(format!(
                "SELECT m.name, m.tbl_name, m.sql, {stat} FROM sqlite_master AS m \
                 WHERE m.type = 'index' AND m.sql IS NOT NULL AND m.tbl_name IN ({tables}) \
                 AND upper(m.sql) NOT LIKE 'CREATE UNIQUE%' \
                 AND (SELECT i.name FROM pragma_index_info(m.name) AS i WHERE i.seqno = 0) \
                     IS NOT 'customer_id' \
                 ORDER BY m.name"
            )),
            "list suspendable indexes",
        )
        .await?;
    for (name, tbl, sql, stat) in &indexes {
        conn.run(
            Sql::new(format!(
                "INSERT INTO {RECORD} (name, tbl, sql, stat) VALUES ($1, $2, $3, $4)"
            ))
            .bind(name.as_str())
            .bind(tbl.as_str())
            .bind(sql.as_str())
            .bind(stat),
            "record a suspended index",
        )
        .await?;
        conn.run(
            Sql::new(format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))),
            "drop a suspended index",
        )
        .await?;
    }
    Ok(indexes.len())
}

/// Re-creates every index the record holds (with its planner statistics) inside the caller's
/// write transaction and empties the record; how many it re-created.
pub(crate) async fn restore(conn: &mut Conn) -> Result<usize, StoreError> {
    if !table_exists(conn, RECORD).await? {
        return Ok(0);
    }
    let recorded: Vec<(String, String, String, Option<String>)> = conn
        .rows(
            Sql::new(format!(
                "SELECT name, tbl, sql, stat FROM {RECORD} ORDER BY name"
            )),
            "read the record of suspended indexes",
        )
        .await?;
    if recorded.is_empty() {
        return Ok(0);
    }
    let stats = table_exists(conn, "sqlite_stat1").await?;
    for (name, tbl, sql, stat) in &recorded {
        let present = Sql::new("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = $1")
            .bind(name.as_str());
        if !conn.exists(present, "look for an index").await? {
            conn.run(Sql::new(sql.as_str()), "re-create a suspended index")
                .await?;
        }
        if let (Some(stat), true) = (stat, stats) {
            conn.run(
                Sql::new("DELETE FROM sqlite_stat1 WHERE idx = $1").bind(name.as_str()),
                "replace an index's statistics",
            )
            .await?;
            conn.run(
                Sql::new("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)")
                    .bind(tbl.as_str())
                    .bind(name.as_str())
                    .bind(stat.as_str()),
                "restore an index's statistics",
            )
            .await?;
        }
    }
    conn.run(
        Sql::new(format!("DELETE FROM {RECORD}")),
        "empty the record of suspended indexes",
    )
    .await?;
    if stats {
        // Makes this connection's planner read the restored rows; other connections read them
        // with the schema that the CREATE INDEX statements changed.
        conn.run(Sql::new("ANALYZE sqlite_master"), "reload statistics")
            .await?;
    }
    Ok(recorded.len())
}

/// Restores what an interrupted exclusive import left suspended, in one transaction of its own
/// on a connection of `pool`, before anything else uses the database.
pub(crate) async fn restore_on_open(pool: &SqlitePool) -> Result<usize, StoreError> {
    let mut conn = Conn::Sqlite(pool.acquire().await.or_backend("acquire connection")?);
    if !table_exists(&mut conn, RECORD).await? {
        return Ok(0);
    }
    conn.run(Sql::new("BEGIN IMMEDIATE"), "begin restoring indexes")
        .await?;
    match restore(&mut conn).await {
        Ok(n) => {
            conn.run(Sql::new("COMMIT"), "commit restored indexes")
                .await?;
            if n > 0 {
                tracing::warn!(
                    indexes = n,
                    "re-created the indexes an interrupted exclusive import had dropped"
                );
            }
            Ok(n)
        }
        Err(e) => {
            let _ = conn.execute(Sql::new("ROLLBACK")).await;
            conn.close_on_drop();
            Err(e)
        }
    }
}
