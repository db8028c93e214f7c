//! Subscription use cases: create (after a test notification reaches the Destination),
//! update (changeDestination, setKey, setMessages, setChanges, setEvents), and the health
//! answer. Storage is the generic table, whose writes also keep the delivery filters
//! (`clientele_store`); the rules are the domain's (`clientele_domain::subscription`).
//!
//! Must not parse HTTP or talk SQL; secrets leave here only masked (see `api::subscriptions`).

use super::resources::{self, stored_resource, ManagedResource, ResourceRef};
use super::{load_project, Actor};
use crate::delivery::payload::test_notification;
use crate::delivery::sink::{SendError, Sink};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::serde_formats::format_datetime;
use clientele_domain::subscription::{
    apply_subscription_actions, check_subscription_limit, create_subscription,
    parse_subscription_action, subscription_limit_exceeded, SubscriptionUpdateAction,
    MAX_SUBSCRIPTIONS,
};
use clientele_domain::{Subscription, SubscriptionDraft, SubscriptionHealthStatus};
use clientele_store::ResourceQuery;
use serde::Deserialize;
use serde_json::Value;

stored_resource!(Subscription, "subscription");

/// The body of `POST /{p}/subscriptions/{id}`. Actions stay JSON until the update use case
/// reads them, so a bad action is reported by name.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionUpdate {
    /// Must equal the Subscription's current version.
    pub version: i64,
    /// Applied in order, all or nothing.
    pub actions: Vec<Value>,
}

/// The 400 `DuplicateField` answer, before the test notification, when another Subscription
/// of `project` has `s`'s key: a request that fails must not have reached the Destination. (The
/// store's unique index still decides a race between two such requests.)
async fn check_key_free(state: &AppState, project: &str, s: &Subscription) -> Result<(), ApiError> {
    let Some(key) = s.key.as_deref() else {
        return Ok(());
    };
    let holder: Option<Subscription> =
        resources::find(state, project, &ResourceRef::Key(key.to_owned())).await?;
    match holder {
        Some(other) if other.id != s.id => Err(clientele_store::StoreError::DuplicateField {
            field: "key".to_owned(),
            value: key.to_owned(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Sends `s`'s test notification: `Ok(None)` when delivered, `Ok(Some(reason))` when its
/// Destination type is stored but not delivered by this server, the spec's 400 otherwise.
async fn check_destination(project: &str, s: &Subscription) -> Result<Option<String>, ApiError> {
    let payload = test_notification(
        project,
        &s.id,
        s.key.as_deref(),
        s.version.get(),
        &format_datetime(s.last_modified_at),
    );
    let body = crate::delivery::payload::formatted(&s.format, project, payload);
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sent = match Sink::connect(&s.destination).await {
        Ok(sink) => {
            sink.send(&bytes, crate::delivery::payload::content_type(&s.format))
                .await
        }
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => Ok(None),
        Err(SendError::NotDelivered(reason)) => Ok(Some(reason)),
        Err(e) => Err(ApiError::invalid_input(format!(
            "The test message could not be delivered to the {} destination: {}",
            s.destination.type_name(),
            e.message()
        ))),
    }
}

/// The health a Subscription starts with: `Healthy`, or `ConfigurationError` for a Destination
/// type this server stores but does not deliver to.
fn initial_status(not_delivered: Option<String>) -> SubscriptionHealthStatus {
    match not_delivered {
        None => SubscriptionHealthStatus::Healthy,
        Some(_) => SubscriptionHealthStatus::ConfigurationError,
    }
}

impl ManagedResource for Subscription {
    type Draft = SubscriptionDraft;
    type Update = SubscriptionUpdate;

    /// Creates a Subscription once its Destination accepted the test notification.
    async fn create(
        state: &AppState,
        project: &str,
        actor: &Actor,
        draft: SubscriptionDraft,
    ) -> Result<Subscription, ApiError> {
        load_project(state, project).await?;
        let mut s = create_subscription(draft, state.random.uuid(), state.clock.now())?;
        // A cheap early answer; the count that decides is the insert's own, atomic with it.
        let count = ResourceQuery {
            limit: 0,
            with_total: true,
            ..ResourceQuery::default()
        };
        let existing = resources::query::<Subscription>(state, project, &count).await?;
        check_subscription_limit(existing.total.unwrap_or(0))?;
        check_key_free(state, project, &s).await?;
        s.status = initial_status(check_destination(project, &s).await?);
        match resources::insert_within(state, project, actor, s, MAX_SUBSCRIPTIONS).await? {
            Some(s) => Ok(s),
            None => Err(subscription_limit_exceeded().into()),
        }
    }

    async fn update(
        state: &AppState,
        project: &str,
        actor: &Actor,
        target: &ResourceRef,
        update: SubscriptionUpdate,
    ) -> Result<Subscription, ApiError> {
        let actions = update
            .actions
            .iter()
            .map(parse_subscription_action)
            .collect::<Result<Vec<_>, _>>()?;
        let current: Subscription = resources::get(state, project, target).await?;
        let expected = resources::check_version(&current, update.version)?;
        let mut next = apply_subscription_actions(current, &actions, state.clock.now())?;
        let changes_destination = actions
            .iter()
            .any(|a| matches!(a, SubscriptionUpdateAction::ChangeDestination { .. }));
        if changes_destination {
            check_key_free(state, project, &next).await?;
            next.status = initial_status(check_destination(project, &next).await?);
        }
        resources::save(state, project, actor, next, expected).await
    }
}

/// `GET /{p}/subscriptions/{id}/health`: the Subscription's health status.
pub async fn health(
    state: &AppState,
    project: &str,
    id: &str,
) -> Result<SubscriptionHealthStatus, ApiError> {
    let target = ResourceRef::Id(id.to_owned());
    let s: Subscription = resources::get(state, project, &target).await?;
    Ok(s.status)
}
