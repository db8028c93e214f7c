//! Conformance-suite plumbing: a fresh database per test on every backend, and builders for
//! the values the stories store.
//!
//! SQLite always runs, on a new file in the temp dir. PostgreSQL runs when
//! `CLIENTELE_TEST_POSTGRES_URL` names a server: each test creates its own database there and
//! drops it afterwards, even when the test fails.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use clientele_domain::{
    AuthenticationMode, Customer, KeyReference, Message, MessagePayload, Reference, Version,
};
use clientele_store::{open, ResourceRecord, Store, StoreOptions};
use clientele_testing::{postgres_admin_url, PgDatabase, POSTGRES_URL_VAR};
use time::{Duration, OffsetDateTime};

/// Runs `story` once per available backend, each time on a fresh, migrated database.
pub(crate) async fn each_backend<F, Fut>(story: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    each_backend_at(|store, _| story(store)).await;
}

/// [`each_backend`] for stories that also need the database's URL (to reach the database
/// beside the store, e.g. to install a failure).
pub(crate) async fn each_backend_at<F, Fut>(story: F)
where
    F: Fn(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let file = SqliteFile::new();
    run("sqlite", &file.url, &story).await;
    if let Some(admin_url) = postgres_or_notice() {
        let db = PgDatabase::create(&admin_url, "clientele_test_", &[]).await;
        run("postgres", &db.url, &story).await;
    }
}

/// The PostgreSQL admin URL, or `None` after a notice (once per test binary, on the real
/// stderr: the harness captures `eprintln!` of passing tests, and a skipped backend must be
/// visible).
pub(crate) fn postgres_or_notice() -> Option<String> {
    let url = postgres_admin_url();
    if url.is_none() {
        static NOTICE: std::sync::Once = std::sync::Once::new();
        NOTICE.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "notice: skipping PostgreSQL: {POSTGRES_URL_VAR} not set"
            );
        });
    }
    url
}

/// A new SQLite file in the temp dir, removed (with its WAL and shared memory) on drop.
pub(crate) struct SqliteFile {
    path: PathBuf,
    /// The URL to open it with.
    pub(crate) url: String,
}

impl SqliteFile {
    pub(crate) fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "clientele-store-test-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let url = format!("sqlite://{}", path.display());
        SqliteFile { path, url }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            std::fs::remove_file(PathBuf::from(p)).ok();
        }
    }
}

/// Opens the database at `url` and runs the story in its own task, so that a failing
/// assertion still closes the store before the database goes.
async fn run<F, Fut>(backend: &str, url: &str, story: &F)
where
    F: Fn(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    eprintln!("story on {backend}");
    let store = open(url, StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("open {backend} test database: {e}"));
    let outcome = tokio::spawn(story(store.clone(), url.to_owned())).await;
    store.close().await;
    if let Err(e) = outcome {
        eprintln!("story failed on {backend}");
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A fixed instant plus `ms` milliseconds: tests never read the clock.
pub(crate) fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_663_598_075).expect("valid timestamp")
        + Duration::milliseconds(ms)
}

/// A fresh random id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A minimal customer at version 1, created at `at(0)`; `stores` empty means global.
pub(crate) fn customer(email: &str, stores: &[&str]) -> Customer {
    Customer {
        id: new_id(),
        version: Version::FIRST,
        key: None,
        customer_number: None,
        external_id: None,
        created_at: at(0),
        last_modified_at: at(0),
        last_modified_by: None,
        created_by: None,
        email: email.to_owned(),
        password: None,
        first_name: None,
        last_name: None,
        middle_name: None,
        title: None,
        date_of_birth: None,
        company_name: None,
        vat_id: None,
        addresses: Vec::new(),
        default_shipping_address_id: None,
        shipping_address_ids: Vec::new(),
        default_billing_address_id: None,
        billing_address_ids: Vec::new(),
        is_email_verified: false,
        customer_group: None,
        customer_group_assignments: Vec::new(),
        custom: None,
        locale: None,
        salutation: None,
        stores: stores
            .iter()
            .map(|k| KeyReference {
                type_id: "store".to_owned(),
                key: (*k).to_owned(),
            })
            .collect(),
        authentication_mode: AuthenticationMode::Password,
    }
}

/// A message about customer `resource_id` at `resource_version`; its sequence number is junk
/// on purpose, since the store must assign it.
pub(crate) fn message(
    resource_id: &str,
    resource_version: u64,
    payload: MessagePayload,
) -> Message {
    Message {
        id: new_id(),
        version: 1,
        sequence_number: 999,
        resource: Reference::new("customer", resource_id),
        resource_version,
        resource_user_provided_identifiers: None,
        created_at: at(resource_version as i64),
        last_modified_at: at(resource_version as i64),
        created_by: None,
        last_modified_by: None,
        payload,
    }
}

/// The CustomerCreated message for `c`.
pub(crate) fn created(c: &Customer) -> Message {
    message(
        &c.id,
        c.version.get(),
        MessagePayload::CustomerCreated {
            customer: Box::new(c.clone()),
        },
    )
}

/// Creates a minimal Store resource with each of `keys` in `project`, so that customers of
/// those Stores can be written (customer writes check that what they reference exists).
/// Repeated keys are created once.
pub(crate) async fn seed_stores(store: &Arc<dyn Store>, project: &str, keys: &[&str]) {
    let unique: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    for key in unique {
        let id = new_id();
        let doc = serde_json::json!({
            "id": id, "version": 1, "key": key, "name": {"en": format!("{key} shop")},
            "languages": [], "countries": [],
            "distributionChannels": [], "supplyChannels": [], "productSelections": [],
            "createdAt": "2022-09-19T14:34:35.075Z", "lastModifiedAt": "2022-09-19T14:34:35.075Z"
        });
        store
            .insert_resource(project, "store", &minimal_record(id, Some(key), doc))
            .await
            .expect("seed store");
    }
}

/// Creates a minimal resource of `type_id` (`customer-group`, `type`) with the given `id`, so
/// that customers naming it by id can be written.
pub(crate) async fn seed_resource(store: &Arc<dyn Store>, project: &str, type_id: &str, id: &str) {
    let doc = serde_json::json!({
        "id": id, "version": 1, "key": format!("{type_id}-{id}"),
        "createdAt": "2022-09-19T14:34:35.075Z", "lastModifiedAt": "2022-09-19T14:34:35.075Z"
    });
    let key = format!("{type_id}-{id}");
    store
        .insert_resource(
            project,
            type_id,
            &minimal_record(id.to_owned(), Some(&key), doc),
        )
        .await
        .expect("seed resource");
}

pub(crate) fn minimal_record(
    id: String,
    key: Option<&str>,
    doc: serde_json::Value,
) -> ResourceRecord {
    ResourceRecord {
        id,
        key: key.map(str::to_owned),
        version: Version::FIRST,
        created_at: at(0),
        last_modified_at: at(0),
        doc,
    }
}

/// Creates project `key` with Customer Search switched on, so that customer writes maintain the
/// search index (they skip it while search is off).
pub(crate) async fn project_with_search(store: &Arc<dyn Store>, key: &str) {
    use clientele_domain::project_settings::{
        ProjectRecord, SearchIndexingConfiguration, SearchIndexingValues, SearchStatus,
    };
    let project = clientele_domain::Project {
        key: key.to_owned(),
        name: key.to_owned(),
        languages: vec!["en".to_owned()],
        countries: vec!["DE".to_owned()],
        currencies: vec!["EUR".to_owned()],
    };
    store.create_project(&project, at(0)).await.unwrap();
    let mut record = ProjectRecord::new(project, at(0));
    record.settings.search_indexing = Some(SearchIndexingConfiguration {
        customers: Some(SearchIndexingValues {
            status: SearchStatus::Activated,
            last_modified_at: at(0),
            last_modified_by: None,
        }),
    });
    record.version = 2;
    store.update_project(&record, 1).await.unwrap();
}
