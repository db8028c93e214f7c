//! Test support shared by the store and server suites: one place that creates a fresh
//! PostgreSQL database for a test and drops it again, also when the test panics.
//!
//! Only for tests (a dev-dependency); it never talks to anything but the server named by
//! [`POSTGRES_URL_VAR`].

// Test support: failing loudly on a broken test environment is its job.
#![allow(clippy::expect_used, clippy::panic)]

use sqlx::{Connection, Executor};

/// Names the PostgreSQL server of the suites (an admin URL: tests create and drop databases
/// through it).
pub const POSTGRES_URL_VAR: &str = "CLIENTELE_TEST_POSTGRES_URL";

/// The admin URL from [`POSTGRES_URL_VAR`], when it is set and not empty.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
}

/// A database of its own on the PostgreSQL server, dropped (`WITH (FORCE)`, which ends the
/// connections still open to it) when this value goes away.
#[derive(Debug)]
pub struct PgDatabase {
    /// The URL to open it with.
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates an empty database named `{prefix}{random}` on the server behind `admin_url`;
    /// each of `settings` (e.g. `synchronous_commit = off`) becomes a database default.
    pub async fn create(admin_url: &str, prefix: &str, settings: &[&str]) -> PgDatabase {
        let name = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create test database");
        for setting in settings {
            admin
                .execute(format!("ALTER DATABASE \"{name}\" SET {setting}").as_str())
                .await
                .expect("configure test database");
        }
        admin.close().await.ok();
        PgDatabase {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl PgDatabase {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop may run inside a runtime (or while it shuts down), where we may not block on a
        // future; a thread with its own runtime may.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// `url` with its database name replaced by `name` (query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
