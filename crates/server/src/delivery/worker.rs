//! The delivery loop: leases Subscriptions that have undelivered notifications (one process at
//! a time per Subscription; a dead process's lease expires), and for each runs one task that
//! sends its notifications in outbox order, marks them delivered only after the broker's
//! acknowledgement, retries failures with capped exponential backoff and keeps the health
//! status current. Tasks are independent, so a broken Destination holds up only its own
//! Subscription, and nothing here runs on a request's path.
//!
//! The loop and its tasks wake on the store's outbox signal (a commit that queued
//! notifications, in this process or, on PostgreSQL, another one) and otherwise every `poll`.
//! A round never outlives the lease it started under, so a second process cannot deliver the
//! same Subscription while a slow round is still sending. A Subscription that cannot be
//! delivered at all (unreadable, stopped) is left alone for `max_backoff` instead of being
//! leased again every poll.
//!
//! Must not build payload shapes (that is `payload`) or speak a broker protocol (`sink`).

use super::payload;
use super::sink::{SendError, Sink};
use crate::state::AppState;
use clientele_domain::subscription::Destination;
use clientele_domain::subscription::SubscriptionHealthStatus as Health;
use clientele_domain::Subscription;
use clientele_store::{PendingNotification, ResourceLookup, StatusChange};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

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

/// How many `poll`s a delivery task waits for more after its outbox ran empty before it ends.
const IDLE_POLLS: u32 = 40;

/// The shortest time between two looks for waiting Subscriptions, and between two rounds of
/// one task that found less than a batch: at hundreds of commits a second each would
/// otherwise wake a read (and an acknowledging write) per commit; this many milliseconds
/// gather them into one.
const GATHER: Duration = Duration::from_millis(10);

/// The share of the lease a round may use; the rest is margin for the acknowledgement and for
/// clocks that differ between processes.
const ROUND_SHARE_OF_LEASE: f64 = 0.6;

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

/// Leases Subscriptions on each outbox signal (at most every [`GATHER`]) or `poll`, and
/// keeps one delivery task per leased Subscription.
async fn supervise(
    state: AppState,
    settings: DeliverySettings,
    mut stopped: watch::Receiver<bool>,
) {
    let owner = state.random.uuid();
    let relay = tokio::spawn(relay_signals(state.clone(), settings.max_backoff));
    let signal = clientele_store::outbox_signal();
    let mut running: HashMap<String, JoinHandle<Ended>> = HashMap::new();
    // Subscriptions that cannot be delivered, and when to look at them again.
    let mut parked: HashMap<String, Instant> = HashMap::new();
    loop {
        // Armed before the look, so a commit during it is not missed.
        let woken = signal.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let finished: Vec<String> = running
            .iter()
            .filter(|(_, task)| task.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        for id in finished {
            if let Some(task) = running.remove(&id) {
                if let Ok(Ended::Undeliverable) = task.await {
                    parked.insert(id, Instant::now() + settings.max_backoff);
                }
            }
        }
        let now = Instant::now();
        parked.retain(|_, until| *until > now);
        match state
            .store
            .waiting_subscriptions(&owner, state.clock.now())
            .await
        {
            Ok(waiting) => {
                for waiting in waiting {
                    if running.contains_key(&waiting.id) || parked.contains_key(&waiting.id) {
                        continue;
                    }
                    if let Some(task) =
                        lease(&state, &settings, &owner, waiting.project, &waiting.id).await
                    {
                        running.insert(waiting.id, task);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "subscription delivery: reading the outbox failed");
            }
        }
        tokio::select! {
            _ = stopped.changed() => break,
            () = tokio::time::sleep(settings.poll) => {}
            () = woken => {}
        }
        tokio::select! {
            _ = stopped.changed() => break,
            () = tokio::time::sleep(GATHER) => {}
        }
    }
    relay.abort();
    for (id, task) in running {
        task.abort();
        let _ = state.store.release_subscription_lease(&id, &owner).await;
    }
}

/// Takes the lease of Subscription `id` and starts its delivery task; `None` if another
/// process holds it or the store failed.
async fn lease(
    state: &AppState,
    settings: &DeliverySettings,
    owner: &str,
    project: String,
    id: &str,
) -> Option<JoinHandle<Ended>> {
    // Running tasks renew their own leases; only the others are leased here, so an idle
    // poll writes nothing.
    let now = state.clock.now();
    match state
        .store
        .renew_subscription_lease(id, owner, now, now + settings.lease)
        .await
    {
        Ok(true) => Some(tokio::spawn(deliver(
            state.clone(),
            settings.clone(),
            owner.to_owned(),
            project,
            id.to_owned(),
            now,
        ))),
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(error = %e, "subscription delivery: leasing failed");
            None
        }
    }
}

/// Relays other processes' outbox signals (PostgreSQL) for as long as the worker runs,
/// reconnecting after `pause` when the listening connection fails.
async fn relay_signals(state: AppState, pause: Duration) {
    loop {
        match state.store.relay_outbox_signals().await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "subscription delivery: listening for other processes' writes failed; polling meanwhile");
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// Why a delivery task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Nothing more to send, or the lease went to another process.
    Done,
    /// The Subscription cannot be delivered now (unreadable, stopped, suspended, deleted).
    Undeliverable,
}

/// Where a delivery task stands between rounds.
struct Progress {
    /// The Destination that `sink` and `configuration_error_since` belong to.
    destination: Option<Destination>,
    sink: Option<Sink>,
    /// Since when the rounds have found nothing to send.
    idle_since: Option<Instant>,
    /// When this task last renewed its lease.
    renewed_at: Option<OffsetDateTime>,
    backoff: Duration,
    configuration_error_since: Option<OffsetDateTime>,
}

/// Delivers Subscription `id` until its outbox is empty, its lease is lost or its delivery
/// stops; `leased_at` is when its lease was taken.
async fn deliver(
    state: AppState,
    settings: DeliverySettings,
    owner: String,
    project: String,
    id: String,
    leased_at: OffsetDateTime,
) -> Ended {
    let mut progress = Progress {
        destination: None,
        sink: None,
        idle_since: None,
        renewed_at: Some(leased_at),
        backoff: settings.min_backoff,
        configuration_error_since: None,
    };
    let signal = clientele_store::outbox_signal();
    loop {
        let woken = signal.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let started = Instant::now();
        match round(&state, &settings, &owner, &project, &id, &mut progress).await {
            Ok(Next::Again) => {}
            Ok(Next::Wait) => {
                tokio::select! {
                    () = tokio::time::sleep(settings.poll) => {}
                    () = woken => {}
                }
                tokio::time::sleep_until(started + GATHER).await;
            }
            Ok(Next::End(ended)) => {
                if ended == Ended::Undeliverable {
                    let _ = state.store.release_subscription_lease(&id, &owner).await;
                }
                return ended;
            }
            Err(e) => {
                tracing::warn!(subscription = %id, error = %e, "subscription delivery: store error");
                tokio::time::sleep(progress.backoff).await;
                progress.backoff = (progress.backoff * 2).min(settings.max_backoff);
            }
        }
    }
}

/// What a task does after a round.
enum Next {
    /// Another round at once (a full batch went out, or a retry after its backoff).
    Again,
    /// Wait for a signal or `poll`: the outbox had less than a batch.
    Wait,
    /// End the task.
    End(Ended),
}

/// One round: renew the lease, send the next batch, record the outcome.
async fn round(
    state: &AppState,
    settings: &DeliverySettings,
    owner: &str,
    project: &str,
    id: &str,
    progress: &mut Progress,
) -> Result<Next, clientele_store::StoreError> {
    let store = &state.store;
    let now = state.clock.now();
    // Renewed once a third of the lease has passed (not every round: on SQLite each renewal
    // is a write); the acknowledging delete checks the lease anyway.
    let renewed_at = match progress.renewed_at {
        Some(at) if now - at < settings.lease / 3 => at,
        _ => {
            if !store
                .renew_subscription_lease(id, owner, now, now + settings.lease)
                .await?
            {
                return Ok(Next::End(Ended::Done));
            }
            progress.renewed_at = Some(now);
            now
        }
    };
    let batch = store.pending_notifications(id, settings.batch).await?;
    if batch.is_empty() {
        // Stay a while with the connection open, so a steady trickle of writes does not pay a
        // connect per notification; then give the Subscription back.
        let idle_since = *progress.idle_since.get_or_insert_with(Instant::now);
        if idle_since.elapsed() >= settings.poll * IDLE_POLLS {
            store.release_subscription_lease(id, owner).await?;
            return Ok(Next::End(Ended::Done));
        }
        return Ok(Next::Wait);
    }
    progress.idle_since = None;
    // Read each round, so an update (changeDestination, a new status) applies at once.
    let Some(subscription) = load(state, project, id).await? else {
        return Ok(Next::End(Ended::Undeliverable));
    };
    if progress.destination.as_ref() != Some(&subscription.destination) {
        // changeDestination: the open connection and the error clock were the old one's.
        progress.sink = None;
        progress.configuration_error_since = None;
        progress.destination = Some(subscription.destination.clone());
    }
    if subscription.status.drops_notifications() {
        return Ok(Next::End(Ended::Undeliverable));
    }
    // The round ends before the lease it runs under could expire: past that, another process
    // may lease the Subscription and send the same notifications concurrently.
    let lease_end = renewed_at + settings.lease.mul_f64(ROUND_SHARE_OF_LEASE);
    let budget = Duration::try_from(lease_end - now).unwrap_or_default();
    let full = batch.len() >= settings.batch as usize;
    let (sent, result) = match tokio::time::timeout(
        budget,
        send(project, &subscription, &batch, progress),
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(_) => {
            // What went out unacknowledged is sent again next round (at least once).
            (Vec::new(), Err(SendError::Temporary("The delivery round reached the lease time before the Destination acknowledged.".to_owned())))
        }
    };
    if !sent.is_empty() && !store.ack_notifications(id, owner, &sent).await? {
        return Ok(Next::End(Ended::Done));
    }
    let version = subscription.version.get();
    match result {
        Ok(()) => {
            progress.backoff = settings.min_backoff;
            progress.configuration_error_since = None;
            if subscription.status != Health::Healthy {
                store
                    .set_subscription_status(id, version, Health::Healthy, now)
                    .await?;
            }
            Ok(if full { Next::Again } else { Next::Wait })
        }
        Err(e) => {
            progress.sink = None;
            let status = match &e {
                SendError::Temporary(_) => {
                    progress.configuration_error_since = None;
                    Health::TemporaryError
                }
                SendError::Configuration(_) | SendError::NotDelivered(_) => {
                    // The clock is the store's, so a restart or another process continues it.
                    if progress.configuration_error_since.is_none()
                        || subscription.status != Health::ConfigurationError
                    {
                        match store
                            .set_subscription_status(id, version, Health::ConfigurationError, now)
                            .await?
                        {
                            StatusChange::Set { error_since } => {
                                progress.configuration_error_since = error_since;
                            }
                            // Edited meanwhile: decide again with the new version.
                            StatusChange::Stale => return Ok(Next::Again),
                        }
                    }
                    let since = progress.configuration_error_since.unwrap_or(now);
                    if now - since >= settings.stop_after {
                        Health::ConfigurationErrorDeliveryStopped
                    } else {
                        Health::ConfigurationError
                    }
                }
            };
            tracing::warn!(subscription = %id, status = status.as_str(), reason = e.message(), "subscription delivery failed");
            if status != Health::ConfigurationError && subscription.status != status {
                let change = store
                    .set_subscription_status(id, version, status, now)
                    .await?;
                if change == StatusChange::Stale {
                    return Ok(Next::Again);
                }
            }
            if status == Health::ConfigurationErrorDeliveryStopped {
                return Ok(Next::End(Ended::Undeliverable));
            }
            tokio::time::sleep(progress.backoff).await;
            progress.backoff = (progress.backoff * 2).min(settings.max_backoff);
            Ok(Next::Again)
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
    let limit = sink.max_payload();
    for n in batch {
        let encode = |p: Value| {
            serde_json::to_vec(&payload::formatted(&subscription.format, project, p)).ok()
        };
        let body = payload::platform(project, n)
            .and_then(encode)
            .and_then(|bytes| match limit {
                // Too large for the Destination: the Message goes without its payload, as
                // commercetools does, instead of blocking every later notification. (Built
                // again from the notification: this is rare, a copy of every payload is not.)
                Some(limit) if bytes.len() > limit => payload::platform(project, n)
                    .and_then(|p| payload::without_message(&p))
                    .and_then(encode)
                    .or(Some(bytes)),
                _ => Some(bytes),
            });
        match body {
            Some(bytes) => {
                payloads.push(bytes);
                seqs.push(n.seq);
            }
            None => done.push(n.seq),
        }
    }
    let content_type = payload::content_type(&subscription.format);
    let (acked, result) = sink.send_all(&payloads, content_type).await;
    done.extend(seqs.into_iter().take(acked));
    (done, result)
}
