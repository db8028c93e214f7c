//! Customer Search use cases behind `POST|HEAD /{p}/customers/search` and
//! `GET /{p}/customers/search/indexing-status`: whether search is ready (the project's
//! `searchIndexing.customers.status`), answering a request (checked by
//! `clientele_query::search`, run by the store's index), reporting indexing progress, and
//! indexing the customers an activation finds unindexed. Must not parse HTTP or talk SQL.

use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::project_settings::{SearchIndexingValues, SearchStatus};
use clientele_domain::ProjectRecord;
use clientele_query::search::parse_search_request;
use serde_json::{json, Value};

/// Customers indexed per write transaction while an activation catches up: large enough that
/// the multi-row inserts dominate, small enough that a transaction holds the (SQLite) write
/// lock for about a second and progress moves visibly.
const INDEX_BATCH: u32 = 2000;

/// The project's Customer Search configuration, if it was ever switched.
fn customers_config(record: &ProjectRecord) -> Option<&SearchIndexingValues> {
    record
        .settings
        .search_indexing
        .as_ref()
        .and_then(|s| s.customers.as_ref())
}

async fn record(state: &AppState, project: &str) -> Result<ProjectRecord, ApiError> {
    state
        .store
        .get_project_record(project)
        .await?
        .ok_or_else(|| {
            ApiError::ResourceNotFound(format!("The project '{project}' was not found."))
        })
}

/// Whether search is activated and its index complete.
pub async fn is_ready(state: &AppState, project: &str) -> Result<bool, ApiError> {
    let record = record(state, project).await?;
    Ok(customers_config(&record).is_some_and(|c| c.status == SearchStatus::Activated))
}

/// Answers a `CustomerSearchRequest` body with a `CustomerPagedSearchResponse`; 409
/// `SearchNotReady` unless search is activated, 400 `InvalidInput` for a bad request.
pub async fn search(state: &AppState, project: &str, body: &Value) -> Result<Value, ApiError> {
    let request = parse_search_request(body).map_err(|e| ApiError::invalid_input(e.message))?;
    if !is_ready(state, project).await? {
        return Err(ApiError::SearchNotReady);
    }
    let page = state.store.search_customers(project, &request).await?;
    let results: Vec<Value> = page
        .results
        .iter()
        .map(|h| json!({"id": h.id, "relevance": h.relevance}))
        .collect();
    Ok(json!({
        "total": page.total.unwrap_or_default(),
        "offset": request.offset,
        "limit": request.limit,
        "results": results,
    }))
}

/// The `CustomerSearchIndexingStatusResponse`: `Ready` when activated, `Indexing` with its
/// progress while an activation indexes; 409 `SearchNotReady` while deactivated (there is no
/// index to report on).
pub async fn indexing_status(state: &AppState, project: &str) -> Result<Value, ApiError> {
    let record = record(state, project).await?;
    let Some(config) = customers_config(&record) else {
        return Err(ApiError::SearchNotReady);
    };
    let since = record.to_json()["searchIndexing"]["customers"]["lastModifiedAt"].clone();
    match config.status {
        SearchStatus::Activated => Ok(json!({
            "status": "Ready", "startedAt": since, "lastModifiedAt": since,
        })),
        SearchStatus::Indexing => {
            let (indexed, total) = state.store.search_index_progress(project).await?;
            Ok(json!({
                "status": "Indexing",
                "states": {"indexed": indexed, "failed": 0, "estimatedTotal": total},
                "startedAt": since,
                "lastModifiedAt": since,
            }))
        }
        SearchStatus::Deactivated => Err(ApiError::SearchNotReady),
    }
}

/// Called with a project update about to be saved: when it activates Customer Search and some
/// customers are not indexed yet (written before the index existed), the status becomes
/// `Indexing` and `true` says [`finish_indexing`] must run once the update is saved.
pub async fn prepare_activation(
    state: &AppState,
    before: &ProjectRecord,
    next: &mut ProjectRecord,
) -> Result<bool, ApiError> {
    let was = customers_config(before).map(|c| c.status);
    let Some(config) = next
        .settings
        .search_indexing
        .as_mut()
        .and_then(|s| s.customers.as_mut())
    else {
        return Ok(false);
    };
    if config.status != SearchStatus::Activated || was == Some(SearchStatus::Activated) {
        return Ok(false);
    }
    // Switching search on empties the index (writes skip it while search is off, so what it
    // holds may be stale), so every existing customer is indexed anew.
    let (_, total) = state.store.search_index_progress(&next.project.key).await?;
    if total == 0 {
        return Ok(false);
    }
    config.status = SearchStatus::Indexing;
    Ok(true)
}

/// Indexes the project's unindexed customers in batches on a task of its own, then switches
/// the status from `Indexing` to `Activated` (unless it was changed meanwhile).
pub fn finish_indexing(state: AppState, project: String) {
    tokio::spawn(async move {
        if let Err(e) = index_all(&state, &project).await {
            tracing::error!(error = %e, project, "customer search indexing failed");
        }
    });
}

/// Indexes every unindexed customer of `project` in one walk in id order, then switches the
/// status to `Activated`. The value indexes stay in place throughout: dropping them and
/// sorting them anew at the end was faster, but the final `CREATE INDEX` holds every write to
/// the index (on SQLite, every write of the database) for minutes at 1M customers.
async fn index_all(state: &AppState, project: &str) -> Result<(), ApiError> {
    walk(state, project).await?;
    // Another update may have raced this one: re-read and retry on a version conflict.
    for _ in 0..10 {
        let current = record(state, project).await?;
        let mut next = current.clone();
        let Some(config) = next
            .settings
            .search_indexing
            .as_mut()
            .and_then(|s| s.customers.as_mut())
        else {
            return Ok(());
        };
        if config.status != SearchStatus::Indexing {
            return Ok(());
        }
        config.status = SearchStatus::Activated;
        config.last_modified_at = state.clock.now();
        next.version = current.version + 1;
        match state.store.update_project(&next, current.version).await {
            Ok(()) => return Ok(()),
            Err(clientele_store::StoreError::ConcurrentModification { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Indexes the project's unindexed customers once through in id order, then those behind the
/// walk that no write of their own indexed (none, usually).
async fn walk(state: &AppState, project: &str) -> Result<(), ApiError> {
    // Every id is above the empty one.
    let mut after = String::new();
    while let Some(last) = state
        .store
        .index_unindexed_customers_after(project, &after, INDEX_BATCH)
        .await?
    {
        after = last;
    }
    while state
        .store
        .index_unindexed_customers(project, INDEX_BATCH)
        .await?
        > 0
    {}
    Ok(())
}
