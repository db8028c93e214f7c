//! Customer use cases, at project level and in a Store: create, read, exists, update, delete
//! and query. Every one takes the request's [`StoreContext`]: in a Store, the Store must exist
//! (else 404 naming it) and customers the Store cannot see are not found (see
//! `service::stores`).
//!
//! Each write is one store call that saves the customer and its Messages together, guarded by
//! the version the client sent. The rules for a single customer come from `clientele-domain`;
//! uniqueness across customers is the store's. This module must not parse HTTP nor talk SQL.
//!
//! Password hashing: the domain asks for hashes through a synchronous callback, which must not
//! run Argon2 on the async executor. The callback here only remembers the plain text and hands
//! back a placeholder; once the (cheap) validation has passed, [`settle_password`] hashes the
//! remembered password on the hashing pool and swaps it in. Invalid requests thus never pay for
//! a hash, and the placeholder can never be stored: it is replaced before any save.

use super::references::resolve;
use super::stores::StoreContext;
use super::{envelopes, load_project, paged, Actor};
use crate::error::{ApiError, Subject};
use crate::state::AppState;
use clientele_domain::resolve::STORE;
use clientele_domain::{
    apply_all_with, create_customer_with, ApplyContext, Customer, CustomerDraft, CustomerUpdate,
    DomainError, MessagePayload, PagedQueryResponse, PasswordHash, Project, ResourceIdentifier,
    Store, Version, Wanted,
};
use clientele_store::{CustomerJson, CustomerLookup, ResourceQuery, StoreError};
use time::OffsetDateTime;

/// How a request names one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    /// By id (`/customers/{id}`).
    Id(String),
    /// By key (`/customers/key={key}`).
    Key(String),
}

impl CustomerRef {
    /// The commercetools 404 for this reference.
    pub fn not_found(&self) -> ApiError {
        match self {
            CustomerRef::Id(id) => ApiError::not_found_id(id),
            CustomerRef::Key(key) => ApiError::not_found_key(key),
        }
    }

    fn lookup(&self) -> Option<CustomerLookup> {
        match self {
            // Ids are UUIDs; anything else cannot exist, so it is not worth a query.
            CustomerRef::Id(id) => uuid::Uuid::parse_str(id)
                .is_ok()
                .then(|| CustomerLookup::Id(id.clone())),
            CustomerRef::Key(key) => Some(CustomerLookup::Key(key.clone())),
        }
    }
}

/// The PHC string standing in for a hash until [`settle_password`] computes it. It is not a
/// valid PHC hash, so it cannot collide with a stored one.
const PENDING_HASH: &str = "$clientele-pending$";

pub(super) fn pending_hash() -> PasswordHash {
    PasswordHash::from_phc(PENDING_HASH.to_owned())
}

/// Runs `f` with an [`ApplyContext`] whose hashing callback records the password to hash later.
/// Returns `f`'s result and the last password the domain asked to hash.
fn with_context<T>(
    state: &AppState,
    project: &Project,
    now: OffsetDateTime,
    f: impl FnOnce(&mut ApplyContext<'_>) -> Result<T, DomainError>,
) -> Result<(T, Option<String>), DomainError> {
    let random = state.random.clone();
    let mut new_id = move || random.uuid();
    let mut requested: Option<String> = None;
    let result = {
        let mut hash_password = |plain: &str| {
            requested = Some(plain.to_owned());
            Ok(pending_hash())
        };
        let mut ctx = ApplyContext {
            project,
            now,
            new_id: &mut new_id,
            hash_password: &mut hash_password,
        };
        f(&mut ctx)?
    };
    Ok((result, requested))
}

/// Replaces a pending placeholder hash with the real Argon2id hash, computed off the executor.
pub(super) async fn settle_password(
    state: &AppState,
    customer: &mut Customer,
    requested: Option<String>,
) -> Result<(), ApiError> {
    if customer.password != Some(pending_hash()) {
        return Ok(());
    }
    let plain = requested.ok_or_else(|| {
        ApiError::Internal("a pending password hash without a password".to_owned())
    })?;
    let mut salt = [0u8; 16];
    state.random.fill(&mut salt);
    customer.password = Some(state.hasher.hash(plain, salt).await?);
    Ok(())
}

/// The 409 for `id` when the client expected `expected` and the store holds `current`.
fn conflict(id: &str, expected: u64, current: u64) -> ApiError {
    ApiError::ConcurrentModification {
        id: id.to_owned(),
        expected,
        current,
    }
}

/// Checks the version a client sent against the stored one.
pub(crate) fn check_version(customer: &Customer, expected: i64) -> Result<(), ApiError> {
    let expected = u64::try_from(expected).map_err(|_| {
        ApiError::invalid_input(format!(
            "Invalid version '{expected}'. The version must be a positive integer."
        ))
    })?;
    if expected == customer.version.get() {
        Ok(())
    } else {
        Err(conflict(&customer.id, expected, customer.version.get()))
    }
}

/// A store write failure, with version conflicts turned into the full 409 for `id`.
pub(crate) fn write_error(e: StoreError, id: &str, expected: u64) -> ApiError {
    let subject = Subject {
        type_id: "customer",
        id,
        expected,
    };
    ApiError::from_store_write(e, &subject)
}

/// Loads the customer `target` names if `ctx` can see it, or `None`.
async fn find(
    state: &AppState,
    project: &str,
    ctx: &StoreContext,
    target: &CustomerRef,
) -> Result<Option<Customer>, ApiError> {
    match target.lookup() {
        Some(lookup) => Ok(state
            .store
            .get_customer(project, &lookup)
            .await?
            .filter(|c| ctx.sees(c))),
        None => Ok(None),
    }
}

/// Loads the customer `target` names if `ctx` can see it, or the commercetools 404.
async fn load(
    state: &AppState,
    project: &str,
    ctx: &StoreContext,
    target: &CustomerRef,
) -> Result<Customer, ApiError> {
    find(state, project, ctx, target)
        .await?
        .ok_or_else(|| target.not_found())
}

/// The draft's `stores` for a sign-up in `store`: absent or empty means `[store]`; otherwise
/// the list must name `store` (by key or id), so an in-store request cannot create a customer
/// its Store would not see. `InvalidOperation` otherwise.
fn stores_in(draft: &mut CustomerDraft, store: &Store) -> Result<(), ApiError> {
    let names_store = |ri: &ResourceIdentifier| {
        ri.key.as_deref() == Some(store.key.as_str()) || ri.id.as_deref() == Some(store.id.as_str())
    };
    match &draft.stores {
        Some(list) if !list.is_empty() => {
            if list.iter().any(names_store) {
                Ok(())
            } else {
                Err(ApiError::invalid_operation(format!(
                    "The field 'stores' must include the Store '{}' of this endpoint.",
                    store.key
                )))
            }
        }
        _ => {
            draft.stores = Some(vec![ResourceIdentifier {
                type_id: Some(STORE.to_owned()),
                id: None,
                key: Some(store.key.clone()),
            }]);
            Ok(())
        }
    }
}

/// Creates a customer from a whole `CustomerDraft` and writes `CustomerCreated`. In a Store,
/// `stores` defaults to that Store and must include it.
pub async fn create(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    mut draft: CustomerDraft,
) -> Result<Customer, ApiError> {
    let project = load_project(state, project_key).await?;
    if let Some(store) = ctx.require(state, project_key).await? {
        stores_in(&mut draft, &store)?;
    }
    let now = state.clock.now();
    let id = state.random.time_ordered_uuid(now);
    // Customer Groups and Types the draft names are loaded first; the domain resolves them.
    let resolved = resolve(state, project_key, &Wanted::for_draft(&draft)).await?;
    let ((mut customer, payloads), requested) = with_context(state, &project, now, |ctx| {
        create_customer_with(draft, id, ctx, &resolved)
    })?;
    settle_password(state, &mut customer, requested).await?;
    customer.created_by = Some(actor.logging());
    customer.last_modified_by = Some(actor.logging());
    // The domain's CustomerCreated carries the customer as it built it; the message must show
    // the customer as stored (real hash fingerprint, createdBy).
    let payloads = payloads
        .into_iter()
        .map(|p| match p {
            MessagePayload::CustomerCreated { .. } => MessagePayload::CustomerCreated {
                customer: Box::new(customer.clone()),
            },
            other => other,
        })
        .collect();
    let messages = envelopes(
        state,
        &customer,
        customer.version.get(),
        payloads,
        actor,
        now,
    );
    state
        .store
        .insert_customer(project_key, &customer, messages)
        .await?;
    Ok(customer)
}

/// Reads one customer.
pub async fn get(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    target: &CustomerRef,
) -> Result<Customer, ApiError> {
    ctx.require(state, project_key).await?;
    load(state, project_key, ctx, target).await
}

/// [`get`], as the stored JSON when the store has it in the API's form (see
/// [`CustomerJson`]). In a Store the customer is parsed: its `stores` decide whether the
/// Store sees it.
pub async fn get_json(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    target: &CustomerRef,
) -> Result<CustomerJson, ApiError> {
    if !matches!(ctx, StoreContext::Project) {
        return get(state, project_key, ctx, target)
            .await
            .map(|c| CustomerJson::Parsed(Box::new(c)));
    }
    let Some(lookup) = target.lookup() else {
        return Err(target.not_found());
    };
    state
        .store
        .get_customer_json(project_key, &lookup)
        .await?
        .ok_or_else(|| target.not_found())
}

/// Whether the customer exists (`HEAD`); in an unknown Store it is 404 like any other.
pub async fn exists(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    target: &CustomerRef,
) -> Result<bool, ApiError> {
    ctx.require(state, project_key).await?;
    Ok(find(state, project_key, ctx, target).await?.is_some())
}

/// Applies an update request atomically: all actions or none, one version increment when
/// anything changed, the Messages saved with the change. An update that changes nothing
/// returns the customer as it is.
pub async fn update(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    target: &CustomerRef,
    update: CustomerUpdate,
) -> Result<Customer, ApiError> {
    let project = load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let current = load(state, project_key, ctx, target).await?;
    check_version(&current, update.version)?;
    let expected = current.version;
    let id = current.id.clone();
    let now = state.clock.now();
    let resolved = resolve(
        state,
        project_key,
        &Wanted::for_update(&current, &update.actions),
    )
    .await?;
    // Kept to tell the store what changed (it writes only that).
    let previous = current.clone();
    let ((mut next, payloads), requested) = with_context(state, &project, now, |ctx| {
        apply_all_with(current, &update.actions, ctx, &resolved)
    })?;
    if next.version == expected {
        return Ok(next);
    }
    settle_password(state, &mut next, requested).await?;
    next.last_modified_by = Some(actor.logging());
    let messages = envelopes(state, &next, next.version.get(), payloads, actor, now);
    state
        .store
        .update_customer_from(project_key, &previous, &next, expected, messages)
        .await
        .map_err(|e| write_error(e, &id, expected.get()))?;
    Ok(next)
}

/// Deletes a customer at `version` (optionally erasing its earlier Messages) and writes
/// `CustomerDeleted`. Returns the customer as it was.
pub async fn delete(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    target: &CustomerRef,
    version: i64,
    data_erasure: bool,
) -> Result<Customer, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let customer = load(state, project_key, ctx, target).await?;
    check_version(&customer, version)?;
    let now = state.clock.now();
    let deleted = MessagePayload::CustomerDeleted {
        email: Some(customer.email.clone()),
    };
    // Deleting is a change too: its Message carries the version after it, so resourceVersion
    // keeps growing with sequenceNumber for consumers that order by it.
    let resource_version = customer.version.next().get();
    let messages = envelopes(
        state,
        &customer,
        resource_version,
        vec![deleted],
        actor,
        now,
    );
    let expected: Version = customer.version;
    state
        .store
        .delete_customer(project_key, &customer.id, expected, data_erasure, messages)
        .await
        .map_err(|e| write_error(e, &customer.id, expected.get()))?;
    Ok(customer)
}

/// `query` for a read in `ctx`, once the project and the Store are known to exist: in a Store,
/// restricted to the customers that Store can see.
async fn scoped(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    query: &ResourceQuery,
) -> Result<ResourceQuery, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    Ok(ResourceQuery {
        store: ctx.store_key().map(str::to_owned),
        ..query.clone()
    })
}

/// Queries customers (`where`, `sort` and paging already checked by the caller); in a Store,
/// only the customers it can see.
pub async fn query(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    query: &ResourceQuery,
) -> Result<PagedQueryResponse<Customer>, ApiError> {
    let query = scoped(state, project_key, ctx, query).await?;
    let page = state.store.query_customers(project_key, &query).await?;
    Ok(paged(page, query.limit, query.offset))
}

/// [`query`], each customer as its stored JSON when the store has it in the API's form (see
/// [`CustomerJson`]).
pub async fn query_json(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    query: &ResourceQuery,
) -> Result<PagedQueryResponse<CustomerJson>, ApiError> {
    let query = scoped(state, project_key, ctx, query).await?;
    let page = state
        .store
        .query_customers_json(project_key, &query)
        .await?;
    Ok(paged(page, query.limit, query.offset))
}

/// Whether any customer matches `query`'s predicate (`HEAD` on the collection).
pub async fn any(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    query: &ResourceQuery,
) -> Result<bool, ApiError> {
    let probe = ResourceQuery {
        limit: 1,
        offset: 0,
        with_total: false,
        sort: Vec::new(),
        ..scoped(state, project_key, ctx, query).await?
    };
    let page = state.store.query_customers(project_key, &probe).await?;
    Ok(!page.results.is_empty())
}
