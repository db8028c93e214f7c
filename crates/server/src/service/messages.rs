//! Reading the Message log: one message by id, pages of messages, and existence. Messages are
//! written only by the customer services, in the same store call as the change; nothing here
//! writes.

use super::{load_project, paged};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::{Message, PagedQueryResponse};
use clientele_store::ResourceQuery;

/// Reads one message; ids that are not UUIDs cannot exist and are simply not found.
pub async fn get(state: &AppState, project_key: &str, id: &str) -> Result<Message, ApiError> {
    find(state, project_key, id)
        .await?
        .ok_or_else(|| ApiError::not_found_id(id))
}

/// Whether the message exists (`HEAD`).
pub async fn exists(state: &AppState, project_key: &str, id: &str) -> Result<bool, ApiError> {
    Ok(find(state, project_key, id).await?.is_some())
}

async fn find(state: &AppState, project_key: &str, id: &str) -> Result<Option<Message>, ApiError> {
    load_project(state, project_key).await?;
    if uuid::Uuid::parse_str(id).is_err() {
        return Ok(None);
    }
    Ok(state.store.get_message(project_key, id).await?)
}

/// Queries messages (`where`, `sort` and paging already checked by the caller).
pub async fn query(
    state: &AppState,
    project_key: &str,
    query: &ResourceQuery,
) -> Result<PagedQueryResponse<Message>, ApiError> {
    load_project(state, project_key).await?;
    let page = state.store.query_messages(project_key, query).await?;
    Ok(paged(page, query.limit, query.offset))
}

/// Whether any message matches `query`'s predicate (`HEAD` on the collection).
pub async fn any(
    state: &AppState,
    project_key: &str,
    query: &ResourceQuery,
) -> Result<bool, ApiError> {
    load_project(state, project_key).await?;
    let probe = ResourceQuery {
        limit: 1,
        offset: 0,
        with_total: false,
        sort: Vec::new(),
        ..query.clone()
    };
    let page = state.store.query_messages(project_key, &probe).await?;
    Ok(!page.results.is_empty())
}
