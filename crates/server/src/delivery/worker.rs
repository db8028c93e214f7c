//! The delivery loop: leases Subscriptions that have undelivered notifications (one process at
//! a time per Subscription; a dead process's lease expires), and for each runs one task that
//! sends its notifications in outbox order, marks them delivered only after the broker's
//! acknowledgement, retries failures with capped exponential backoff and keeps the health
//! status current. Tasks are independent, so a broken Destination holds up only its own
//! Subscription, and nothing here runs on a request's path.
//!
//! Must not build payload shapes (that is `payload`) or speak a broker protocol (`sink`).

use super::payload;
use super::sink::{SendError, Sink};
use crate::state::AppState;
use clientele_domain::subscription::Destination;
use clientele_domain::subscription::SubscriptionHealthStatus as Health;
use clientele_domain::Subscription;
use clientele_store::{PendingNotification, ResourceLookup};
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the delivery loop behaves (`clientele serve --delivery-*`).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// How often to look for Subscriptions with undelivered notifications.
    pub poll: Duration,
    /// How long a lease lasts without renewal (another process takes over after it).
    pub lease: Duration,
    /// How long a configuration error may last before delivery stops for good
    /// (`ConfigurationErrorDeliveryStopped`).
    pub stop_after: Duration,
    /// The first retry delay; doubled after each failure up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest retry delay.
    pub max_backoff: Duration,
    /// Notifications sent per round trip to the database.
    pub batch: u32,
}

/// Empty rounds (each `poll` long) a delivery task waits for more before it ends.
const IDLE_ROUNDS: u32 = 40;

/// The running delivery loop; dropping it does not stop it, [`Worker::stop`] does.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts delivering for `state`'s store.
    pub fn spawn(state: AppState, settings: DeliverySettings) -> Worker {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise(state, settings, stopped));
        Worker { stop, task }
    }

    /// Stops leasing and aborts running deliveries (unacknowledged ones are sent again by
    /// whoever leases their Subscription next).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Leases Subscriptions each `poll` and keeps one delivery task per leased Subscription.
async fn supervise(
    state: AppState,
    settings: DeliverySettings,
    mut stopped: watch::Receiver<bool>,
) {
    let owner = state.random.uuid();
    let mut running: HashMap<String, JoinHandle<()>> = HashMap::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            () = tokio::time::sleep(settings.poll) => {}
        }
        running.retain(|_, task| !task.is_finished());
        let waiting = match state.store.waiting_subscriptions(64).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "subscription delivery: reading the outbox failed");
                continue;
            }
        };
        // Running tasks renew their own leases; only the others are leased here, so an idle
        // poll writes nothing.
        for waiting in waiting {
            if running.contains_key(&waiting.id) {
                continue;
            }
            let now = state.clock.now();
            let leased = state
                .store
                .renew_subscription_lease(&waiting.id, &owner, now, now + settings.lease)
                .await;
            match leased {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "subscription delivery: leasing failed");
                    continue;
                }
            }
            let task = tokio::spawn(deliver(
                state.clone(),
                settings.clone(),
                owner.clone(),
                waiting.project,
                waiting.id.clone(),
            ));
            running.insert(waiting.id, task);
        }
    }
    for (id, task) in running {
        task.abort();
        let _ = state.store.release_subscription_lease(&id, &owner).await;
    }
}

/// Where a delivery task stands between rounds.
struct Progress {
    /// The Destination that `sink` and `configuration_error_since` belong to.
    destination: Option<Destination>,
    sink: Option<Sink>,
    /// Rounds in a row that found nothing to send.
    idle: u32,
    /// When this task last renewed its lease.
    renewed_at: Option<OffsetDateTime>,
    backoff: Duration,
    configuration_error_since: Option<OffsetDateTime>,
}

/// Delivers Subscription `id` until its outbox is empty, its lease is lost or its delivery
/// stops.
async fn deliver(
    state: AppState,
    settings: DeliverySettings,
    owner: String,
    project: String,
    id: String,
) {
    let mut progress = Progress {
        destination: None,
        sink: None,
        idle: 0,
        renewed_at: None,
        backoff: settings.min_backoff,
        configuration_error_since: None,
    };
    loop {
        match round(&state, &settings, &owner, &project, &id, &mut progress).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(subscription = %id, error = %e, "subscription delivery: store error");
                tokio::time::sleep(progress.backoff).await;
                progress.backoff = (progress.backoff * 2).min(settings.max_backoff);
            }
        }
    }
}

/// One round: renew the lease, send the next batch, record the outcome. `Ok(false)` when the
/// task should end.
async fn round(
    state: &AppState,
    settings: &DeliverySettings,
    owner: &str,
    project: &str,
    id: &str,
    progress: &mut Progress,
) -> Result<bool, clientele_store::StoreError> {
    let store = &state.store;
    let now = state.clock.now();
    // Renewed once a third of the lease has passed (not every round: on SQLite each renewal
    // is a write); the acknowledging delete checks the lease anyway.
    let due = progress
        .renewed_at
        .is_none_or(|at| now - at >= settings.lease / 3);
    if due {
        if !store
            .renew_subscription_lease(id, owner, now, now + settings.lease)
            .await?
        {
            return Ok(false);
        }
        progress.renewed_at = Some(now);
    }
    let batch = store.pending_notifications(id, settings.batch).await?;
    if batch.is_empty() {
        // Stay a while with the connection open, so a steady trickle of writes does not pay a
        // connect per notification; then give the Subscription back.
        progress.idle += 1;
        if progress.idle > IDLE_ROUNDS {
            store.release_subscription_lease(id, owner).await?;
            return Ok(false);
        }
        tokio::time::sleep(settings.poll).await;
        return Ok(true);
    }
    progress.idle = 0;
    // Read each round, so an update (changeDestination, a new status) applies at once.
    let Some(subscription) = load(state, project, id).await? else {
        return Ok(false);
    };
    if progress.destination.as_ref() != Some(&subscription.destination) {
        // changeDestination: the open connection and the error clock were the old one's.
        progress.sink = None;
        progress.configuration_error_since = None;
        progress.destination = Some(subscription.destination.clone());
    }
    if matches!(
        subscription.status,
        Health::ConfigurationErrorDeliveryStopped | Health::ManuallySuspended
    ) {
        return Ok(false);
    }
    let (sent, result) = send(project, &subscription, &batch, progress).await;
    if !sent.is_empty() && !store.ack_notifications(id, owner, &sent).await? {
        return Ok(false);
    }
    match result {
        Ok(()) => {
            progress.backoff = settings.min_backoff;
            progress.configuration_error_since = None;
            if subscription.status != Health::Healthy {
                store
                    .set_subscription_status(id, Health::Healthy.as_str())
                    .await?;
            }
            Ok(true)
        }
        Err(e) => {
            progress.sink = None;
            let status = match &e {
                SendError::Temporary(_) => {
                    progress.configuration_error_since = None;
                    Health::TemporaryError
                }
                SendError::Configuration(_) | SendError::NotDelivered(_) => {
                    let since = *progress.configuration_error_since.get_or_insert(now);
                    if now - since >= settings.stop_after {
                        Health::ConfigurationErrorDeliveryStopped
                    } else {
                        Health::ConfigurationError
                    }
                }
            };
            tracing::warn!(subscription = %id, status = status.as_str(), reason = e.message(), "subscription delivery failed");
            if subscription.status != status {
                store.set_subscription_status(id, status.as_str()).await?;
            }
            if status == Health::ConfigurationErrorDeliveryStopped {
                return Ok(false);
            }
            tokio::time::sleep(progress.backoff).await;
            progress.backoff = (progress.backoff * 2).min(settings.max_backoff);
            Ok(true)
        }
    }
}

/// The Subscription, secrets in clear.
async fn load(
    state: &AppState,
    project: &str,
    id: &str,
) -> Result<Option<Subscription>, clientele_store::StoreError> {
    let lookup = ResourceLookup::Id(id.to_owned());
    let Some(doc) = state
        .store
        .get_resource(project, "subscription", &lookup)
        .await?
    else {
        return Ok(None);
    };
    match serde_json::from_value::<Subscription>(doc) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            tracing::error!(subscription = %id, error = %e, "unreadable subscription");
            Ok(None)
        }
    }
}

/// Sends `batch` in order: the `seq`s that are done (acknowledged by the Destination, or
/// never deliverable: a Message erased since it was queued) and the first failure.
async fn send(
    project: &str,
    subscription: &Subscription,
    batch: &[PendingNotification],
    progress: &mut Progress,
) -> (Vec<i64>, Result<(), SendError>) {
    if progress.sink.as_ref().is_none_or(Sink::is_broken) {
        match Sink::connect(&subscription.destination).await {
            Ok(s) => progress.sink = Some(s),
            Err(e) => return (Vec::new(), Err(e)),
        }
    }
    let Some(sink) = progress.sink.as_ref() else {
        return (Vec::new(), Ok(()));
    };
    let mut payloads = Vec::with_capacity(batch.len());
    let mut seqs = Vec::with_capacity(batch.len());
    let mut done = Vec::new();
    for n in batch {
        let body = payload::platform(project, n)
            .map(|p| payload::formatted(&subscription.format, project, p))
            .and_then(|body| serde_json::to_vec(&body).ok());
        match body {
            Some(bytes) => {
                payloads.push(bytes);
                seqs.push(n.seq);
            }
            None => done.push(n.seq),
        }
    }
    let (acked, result) = sink.send_all(&payloads).await;
    done.extend(seqs.into_iter().take(acked));
    (done, result)
}
