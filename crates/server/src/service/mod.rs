//! Services: the transaction-shaped use cases behind the handlers (load → check version →
//! apply → save with messages). They take `AppState` and domain types, never HTTP types, and
//! hold no business rules of their own: those live in `clientele-domain` (per customer) and in
//! the store (uniqueness across customers).

pub mod api_clients;
pub mod credentials;
pub mod customer_groups;
pub mod customers;
pub mod expand;
pub mod import;
pub mod me;
pub mod messages;
pub mod project;
pub mod references;
pub mod resources;
pub mod search;
pub mod stores;
pub mod subscriptions;
pub mod types;

use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::{
    ClientLogging, Customer, Message, MessagePayload, PagedQueryResponse, Project, Reference,
    UserProvidedIdentifiers,
};
use clientele_store::Page;
use time::OffsetDateTime;

/// Who is making a change: the API client behind the request's token (`createdBy` /
/// `lastModifiedBy` of customers and messages).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Actor {
    /// The API client id.
    pub client_id: String,
    /// The customer acting through a password-flow token (`/me` endpoints).
    pub customer_id: Option<String>,
    /// The anonymous session acting through an anonymous-session token (`/me/signup`).
    pub anonymous_id: Option<String>,
    /// The end user the client acts for (`X-External-User-ID`).
    pub external_user_id: Option<String>,
}

impl Actor {
    /// An API client acting on its own (client-credentials token).
    pub fn client(client_id: String) -> Self {
        Actor {
            client_id,
            ..Actor::default()
        }
    }

    /// The `ClientLogging` commercetools shows for this actor.
    pub fn logging(&self) -> ClientLogging {
        ClientLogging {
            client_id: Some(self.client_id.clone()),
            customer: self
                .customer_id
                .as_ref()
                .map(|id| Reference::new("customer", id.clone())),
            anonymous_id: self.anonymous_id.clone(),
            external_user_id: self.external_user_id.clone(),
            is_platform_client: false,
        }
    }
}

/// The project named in the path. Tokens are issued per project, so an unknown project with a
/// valid token means it was removed underneath; that is a plain 404.
pub async fn load_project(state: &AppState, key: &str) -> Result<Project, ApiError> {
    state
        .store
        .get_project(key)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound(format!("The project '{key}' was not found.")))
}

/// Wraps the payloads one change produced into stored-message envelopes.
///
/// `sequenceNumber` is left 0: the store numbers messages per resource inside the write
/// transaction, which is the only place that can do it without races.
pub fn envelopes(
    state: &AppState,
    customer: &Customer,
    resource_version: u64,
    payloads: Vec<MessagePayload>,
    actor: &Actor,
    now: OffsetDateTime,
) -> Vec<Message> {
    let identifiers = UserProvidedIdentifiers::of(customer);
    payloads
        .into_iter()
        .map(|payload| Message {
            id: state.random.time_ordered_uuid(now),
            version: 1,
            sequence_number: 0,
            resource: Reference::new("customer", customer.id.clone()),
            resource_version,
            resource_user_provided_identifiers: identifiers.clone(),
            created_at: now,
            last_modified_at: now,
            created_by: Some(actor.logging()),
            last_modified_by: Some(actor.logging()),
            payload,
        })
        .collect()
}

/// A store page as the commercetools paged response.
pub fn paged<T>(page: Page<T>, limit: u64, offset: u64) -> PagedQueryResponse<T> {
    PagedQueryResponse {
        limit,
        offset,
        count: page.results.len() as u64,
        total: page.total,
        results: page.results,
    }
}
