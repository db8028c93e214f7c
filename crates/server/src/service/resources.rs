//! The use cases shared by resources of the generic table (Customer Groups, Stores, Types):
//! read by id or key, create, versioned update and delete, query. Each resource plugs in
//! through [`StoredResource`] (usually via [`stored_resource!`]) and [`ManagedResource`]; its
//! own service module supplies the domain logic.
//!
//! Must not hold resource-specific rules, parse HTTP or talk SQL.

use super::{load_project, paged, Actor};
use crate::error::{ApiError, Subject};
use crate::state::AppState;
use clientele_domain::{PagedQueryResponse, Version};
use clientele_store::{ResourceLookup, ResourceQuery, ResourceRecord, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use time::OffsetDateTime;

/// A resource stored in the generic table.
pub trait StoredResource: Serialize + DeserializeOwned + Clone + PartialEq {
    /// The commercetools `typeId`, also the `type_id` column.
    const TYPE_ID: &'static str;
    /// Its id.
    fn id(&self) -> &str;
    /// Its key, if any.
    fn key(&self) -> Option<&str>;
    /// Its version.
    fn version(&self) -> Version;
    /// `createdAt`.
    fn created_at(&self) -> OffsetDateTime;
    /// `lastModifiedAt`.
    fn last_modified_at(&self) -> OffsetDateTime;
    /// Records who created it (`createdBy` and `lastModifiedBy`).
    fn stamp_created(&mut self, actor: &Actor);
    /// Records who changed it last.
    fn stamp_modified(&mut self, actor: &Actor);
}

/// A resource of the generic table with its own create and update use cases (its draft and
/// its update actions are all that differ between resources).
pub trait ManagedResource: StoredResource + Send + Sync + 'static {
    /// What creating one accepts.
    type Draft: DeserializeOwned + Send;
    /// What updating one accepts (`{version, actions}`).
    type Update: DeserializeOwned + Send;

    /// Creates the resource `draft` describes.
    fn create(
        state: &AppState,
        project: &str,
        actor: &Actor,
        draft: Self::Draft,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;

    /// Applies an update request to the resource `target` names, atomically (one version
    /// increment when anything changed).
    fn update(
        state: &AppState,
        project: &str,
        actor: &Actor,
        target: &ResourceRef,
        update: Self::Update,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

/// The `key` field of a resource, required (`String`) or optional (`Option<String>`), as
/// [`StoredResource::key`] reads it.
pub trait KeyField {
    /// The key, if any.
    fn as_key(&self) -> Option<&str>;
}

impl KeyField for String {
    fn as_key(&self) -> Option<&str> {
        Some(self)
    }
}

impl KeyField for Option<String> {
    fn as_key(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// Implements [`StoredResource`] for a domain resource with the common metadata fields (`id`,
/// `key`, `version`, `created_at`, `last_modified_at`, `created_by`, `last_modified_by`),
/// stored under `type_id`.
macro_rules! stored_resource {
    ($resource:ty, $type_id:expr) => {
        impl $crate::service::resources::StoredResource for $resource {
            const TYPE_ID: &'static str = $type_id;
            fn id(&self) -> &str {
                &self.id
            }
            fn key(&self) -> Option<&str> {
                $crate::service::resources::KeyField::as_key(&self.key)
            }
            fn version(&self) -> ::clientele_domain::Version {
                self.version
            }
            fn created_at(&self) -> ::time::OffsetDateTime {
                self.created_at
            }
            fn last_modified_at(&self) -> ::time::OffsetDateTime {
                self.last_modified_at
            }
            fn stamp_created(&mut self, actor: &$crate::service::Actor) {
                self.created_by = Some(actor.logging());
                self.last_modified_by = Some(actor.logging());
            }
            fn stamp_modified(&mut self, actor: &$crate::service::Actor) {
                self.last_modified_by = Some(actor.logging());
            }
        }
    };
}
pub(crate) use stored_resource;

/// How a path names one resource: `{id}` or `key={key}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// By id.
    Id(String),
    /// By key.
    Key(String),
}

impl ResourceRef {
    /// Reads a `{id}` / `key={key}` path segment.
    pub fn parse(segment: &str) -> ResourceRef {
        match segment.strip_prefix("key=") {
            Some(key) => ResourceRef::Key(key.to_owned()),
            None => ResourceRef::Id(segment.to_owned()),
        }
    }

    /// The commercetools 404 for this reference.
    pub fn not_found(&self) -> ApiError {
        match self {
            ResourceRef::Id(id) => ApiError::not_found_id(id),
            ResourceRef::Key(key) => ApiError::not_found_key(key),
        }
    }

    fn lookup(&self) -> Option<ResourceLookup> {
        match self {
            // Ids are UUIDs; anything else cannot exist, so it is not worth a query.
            ResourceRef::Id(id) => uuid::Uuid::parse_str(id)
                .is_ok()
                .then(|| ResourceLookup::Id(id.clone())),
            ResourceRef::Key(key) => Some(ResourceLookup::Key(key.clone())),
        }
    }
}

fn record<T: StoredResource>(r: &T) -> Result<ResourceRecord, ApiError> {
    Ok(ResourceRecord {
        id: r.id().to_owned(),
        key: r.key().map(str::to_owned),
        version: r.version(),
        created_at: r.created_at(),
        last_modified_at: r.last_modified_at(),
        doc: serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?,
    })
}

/// Loads the resource `target` names, or `None`.
pub async fn find<T: StoredResource>(
    state: &AppState,
    project: &str,
    target: &ResourceRef,
) -> Result<Option<T>, ApiError> {
    load_project(state, project).await?;
    match target.lookup() {
        Some(l) => super::references::load(state, project, T::TYPE_ID, &l).await,
        None => Ok(None),
    }
}

/// Loads the resource `target` names, or the commercetools 404.
pub async fn get<T: StoredResource>(
    state: &AppState,
    project: &str,
    target: &ResourceRef,
) -> Result<T, ApiError> {
    find(state, project, target)
        .await?
        .ok_or_else(|| target.not_found())
}

/// Stores a new resource built by the caller.
pub async fn insert<T: StoredResource>(
    state: &AppState,
    project: &str,
    actor: &Actor,
    mut resource: T,
) -> Result<T, ApiError> {
    resource.stamp_created(actor);
    state
        .store
        .insert_resource(project, T::TYPE_ID, &record(&resource)?)
        .await?;
    Ok(resource)
}

/// Inserts `resource` unless its project holds `max` resources of its type already (`None`
/// then, nothing written); counting and inserting are one atomic step of the store.
pub async fn insert_within<T: StoredResource>(
    state: &AppState,
    project: &str,
    actor: &Actor,
    mut resource: T,
    max: u64,
) -> Result<Option<T>, ApiError> {
    resource.stamp_created(actor);
    let inserted = state
        .store
        .insert_resource_within(project, T::TYPE_ID, &record(&resource)?, max)
        .await?;
    Ok(inserted.then_some(resource))
}

/// The version a client sent, checked against the stored one (409 on mismatch).
pub fn check_version<T: StoredResource>(current: &T, expected: i64) -> Result<Version, ApiError> {
    let sent = u64::try_from(expected).map_err(|_| {
        ApiError::invalid_input(format!(
            "Invalid version '{expected}'. The version must be a positive integer."
        ))
    })?;
    if sent != current.version().get() {
        return Err(conflict(current.id(), sent, current.version().get()));
    }
    Ok(current.version())
}

fn conflict(id: &str, expected: u64, current: u64) -> ApiError {
    ApiError::ConcurrentModification {
        id: id.to_owned(),
        expected,
        current,
    }
}

fn write_error(e: StoreError, id: &str, expected: u64, type_id: &str) -> ApiError {
    let subject = Subject {
        type_id,
        id,
        expected,
    };
    ApiError::from_store_write(e, &subject)
}

/// Saves `next` (the result of applying actions to the stored version `expected`) unless it
/// is unchanged.
pub async fn save<T: StoredResource>(
    state: &AppState,
    project: &str,
    actor: &Actor,
    mut next: T,
    expected: Version,
) -> Result<T, ApiError> {
    if next.version() == expected {
        return Ok(next);
    }
    next.stamp_modified(actor);
    state
        .store
        .update_resource(project, T::TYPE_ID, &record(&next)?, expected)
        .await
        .map_err(|e| write_error(e, next.id(), expected.get(), T::TYPE_ID))?;
    Ok(next)
}

/// Deletes the resource `target` names at `version`; returns it as it was.
pub async fn delete<T: StoredResource>(
    state: &AppState,
    project: &str,
    target: &ResourceRef,
    version: i64,
) -> Result<T, ApiError> {
    let current: T = get(state, project, target).await?;
    let expected = check_version(&current, version)?;
    state
        .store
        .delete_resource(project, T::TYPE_ID, current.id(), expected)
        .await
        .map_err(|e| write_error(e, current.id(), expected.get(), T::TYPE_ID))?;
    Ok(current)
}

/// Queries resources of `T` (`where`, `sort` and paging already checked by the caller).
pub async fn query<T: StoredResource>(
    state: &AppState,
    project: &str,
    query: &ResourceQuery,
) -> Result<PagedQueryResponse<T>, ApiError> {
    load_project(state, project).await?;
    let page = state
        .store
        .query_resources(project, T::TYPE_ID, query)
        .await?;
    let results = page
        .results
        .into_iter()
        .map(|doc| serde_json::from_value(doc).map_err(|e| ApiError::Internal(e.to_string())))
        .collect::<Result<Vec<T>, _>>()?;
    Ok(paged(
        clientele_store::Page {
            results,
            total: page.total,
        },
        query.limit,
        query.offset,
    ))
}

/// Whether any resource of `T` matches `query`'s predicate (`HEAD` on the collection).
pub async fn any<T: StoredResource>(
    state: &AppState,
    project: &str,
    query: &ResourceQuery,
) -> Result<bool, ApiError> {
    let probe = ResourceQuery {
        limit: 1,
        offset: 0,
        with_total: false,
        sort: Vec::new(),
        ..query.clone()
    };
    Ok(!self::query::<T>(state, project, &probe)
        .await?
        .results
        .is_empty())
}
