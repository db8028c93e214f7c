//! The delivery side of Subscriptions (migrations 0009/0008 and 0013/0012): each
//! Subscription's filters, the per-Subscription outbox that every customer and resource write
//! fans out into in its own transaction, the leases that let one process at a time deliver a
//! Subscription, and when its current run of configuration errors started.
//!
//! Reads of a Subscription document are limited to what the fan-out needs (`messages`,
//! `changes`, `destination.type`, `status`); which Destinations are delivered and which health
//! states drop notifications are the domain's rules (`clientele_domain::subscription`). Must
//! not build payloads or talk to a broker.

use clientele_domain::subscription::SubscriptionHealthStatus as Health;
use clientele_domain::subscription::DELIVERED_DESTINATION_TYPES;
use serde_json::Value;
use time::OffsetDateTime;

use crate::db::{queued_notifications, Conn, Sql};
use crate::error::SqlxResultExt;
use crate::rows::{from_json, parse_ts, to_json, to_u64, ts, MessageRow};
use crate::statement::placeholders;
use crate::{PendingNotification, StatusChange, StoreError, WaitingSubscription};

/// The `typeId` (and `type_id` column) of Subscriptions.
pub(crate) const SUBSCRIPTION: &str = "subscription";

/// When a change happened: a stored timestamp, or the database's clock (deletions of generic
/// resources, whose write carries no time).
pub(crate) enum ModifiedAt<'a> {
    /// `2022-09-19T14:34:35.843Z`.
    At(&'a str),
    /// The database's current time.
    Now,
}

/// One change notification to fan out.
pub(crate) struct Change<'a> {
    /// `ResourceCreated`, `ResourceUpdated` or `ResourceDeleted`.
    pub(crate) notification: &'static str,
    /// The changed resource's `typeId`.
    pub(crate) type_id: &'a str,
    /// Its id.
    pub(crate) id: &'a str,
    /// Its version after the change (the last one, for a deletion).
    pub(crate) version: i64,
    /// Its version before an update; 0 otherwise.
    pub(crate) old_version: i64,
    /// When.
    pub(crate) modified_at: ModifiedAt<'a>,
    /// `resourceUserProvidedIdentifiers` as JSON, if any.
    pub(crate) identifiers: Option<String>,
    /// A deletion with `dataErasure=true`.
    pub(crate) data_erasure: bool,
}

/// `{"key": …}` for a resource with a key, else `None`.
pub(crate) fn key_identifiers(key: Option<&str>) -> Option<String> {
    key.map(|k| serde_json::json!({ "key": k }).to_string())
}

/// Queues a Message for every Subscription that wants it.
pub(crate) async fn fan_out_message(
    conn: &mut Conn,
    project: &str,
    message: &MessageRow,
) -> Result<(), StoreError> {
    let sql = Sql::new(
        "INSERT INTO subscription_outbox (subscription_id, project, notification, \
         resource_type_id, resource_id, message_id) \
         SELECT DISTINCT subscription_id, project, 'Message', resource_type_id, $2, $3 \
         FROM subscription_filters WHERE project = $1 AND kind = 'message' \
         AND resource_type_id = $4 AND message_type IN ('', $5)",
    )
    .bind(project)
    .bind(&message.resource_id)
    .bind(&message.id)
    .bind(&message.resource_type_id)
    .bind(&message.type_);
    if conn.run(sql, "queue message").await? > 0 {
        queued_notifications();
    }
    Ok(())
}

/// Queues a change notification for every Subscription that wants it.
pub(crate) async fn fan_out_change(
    conn: &mut Conn,
    project: &str,
    change: &Change<'_>,
) -> Result<(), StoreError> {
    let at = match change.modified_at {
        ModifiedAt::At(t) => t,
        ModifiedAt::Now => "",
    };
    let now = conn.dialect().now_text;
    let sql = Sql::new(format!(
        "INSERT INTO subscription_outbox (subscription_id, project, notification, \
         resource_type_id, resource_id, version, old_version, modified_at, identifiers, \
         data_erasure) \
         SELECT DISTINCT subscription_id, project, $2, resource_type_id, $3, $4, NULLIF($5, 0), \
         COALESCE(NULLIF($7, ''), {now}), $8, $9 FROM subscription_filters \
         WHERE project = $1 AND kind = 'change' AND resource_type_id = $6"
    ))
    .bind(project)
    .bind(change.notification)
    .bind(change.id)
    .bind(change.version)
    .bind(change.old_version)
    .bind(change.type_id)
    .bind(at)
    .bind(&change.identifiers)
    .bind(i64::from(change.data_erasure));
    if conn.run(sql, "queue change").await? > 0 {
        queued_notifications();
    }
    Ok(())
}

/// Rewrites Subscription `id`'s filters from its document (`None`: it was deleted, so its
/// undelivered notifications, its lease and its error clock go too). A Subscription whose
/// Destination is not delivered, whose health drops notifications, or that wants no Messages
/// and no changes, gets no filters and keeps no notifications; one that is not in
/// `ConfigurationError` has no error clock.
pub(crate) async fn sync_filters(
    conn: &mut Conn,
    project: &str,
    id: &str,
    doc: Option<&Value>,
) -> Result<(), StoreError> {
    let sql = Sql::new("DELETE FROM subscription_filters WHERE subscription_id = $1").bind(id);
    conn.run(sql, "clear filters").await?;
    let Some(doc) = doc else {
        clear_error_clock(conn, id).await?;
        return drop_pending(conn, id, true).await;
    };
    let str_at = |v: &Value, path: &[&str]| -> String {
        path.iter()
            .try_fold(v, |v, p| v.get(p))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // An unknown status reads as none: it neither drops nor keeps an error clock.
    let status = doc
        .get("status")
        .and_then(|s| serde_json::from_value::<Health>(s.clone()).ok());
    if status != Some(Health::ConfigurationError) {
        clear_error_clock(conn, id).await?;
    }
    if !DELIVERED_DESTINATION_TYPES.contains(&str_at(doc, &["destination", "type"]).as_str())
        || status.is_some_and(Health::drops_notifications)
    {
        return drop_pending(conn, id, false).await;
    }
    let mut rows: Vec<(&str, String, String)> = Vec::new();
    for m in items(doc, "messages") {
        let rtid = str_at(m, &["resourceTypeId"]);
        let types: Vec<String> = items(m, "types")
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        if types.is_empty() {
            rows.push(("message", rtid, String::new()));
        } else {
            rows.extend(types.into_iter().map(|t| ("message", rtid.clone(), t)));
        }
    }
    for c in items(doc, "changes") {
        rows.push(("change", str_at(c, &["resourceTypeId"]), String::new()));
    }
    rows.sort();
    rows.dedup();
    if rows.is_empty() {
        // Events only: nothing of this server's reaches it, and the delivery loop finds
        // waiting Subscriptions through their filters.
        return drop_pending(conn, id, false).await;
    }
    for (kind, rtid, message_type) in rows {
        let sql = Sql::new(
            "INSERT INTO subscription_filters (subscription_id, project, kind, \
             resource_type_id, message_type) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(project)
        .bind(kind)
        .bind(&rtid)
        .bind(&message_type);
        conn.run(sql, "insert filter").await?;
    }
    Ok(())
}

/// The elements of the array `v[key]` (none when it is missing or not an array).
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Forgets when `id`'s configuration errors started.
async fn clear_error_clock(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    let sql = Sql::new("DELETE FROM subscription_errors WHERE subscription_id = $1").bind(id);
    conn.run(sql, "clear error clock").await?;
    Ok(())
}

/// Drops a Subscription's undelivered notifications (and, with `lease`, its lease row).
async fn drop_pending(conn: &mut Conn, id: &str, lease: bool) -> Result<(), StoreError> {
    let sql = Sql::new("DELETE FROM subscription_outbox WHERE subscription_id = $1").bind(id);
    conn.run(sql, "drop notifications").await?;
    if lease {
        let sql = Sql::new("DELETE FROM subscription_leases WHERE subscription_id = $1").bind(id);
        conn.run(sql, "drop lease").await?;
    }
    Ok(())
}

/// Every Subscription with undelivered notifications that no owner but `owner` holds a lease
/// on past `now`. All of them, not the first few: the candidates are the delivering
/// Subscriptions (their filters, at most a few per Subscription), each checked with one probe
/// of the outbox index, so the cost does not grow with the backlog, and a Subscription that
/// keeps failing cannot hide the others.
pub(crate) async fn waiting(
    conn: &mut Conn,
    owner: &str,
    now: OffsetDateTime,
) -> Result<Vec<WaitingSubscription>, StoreError> {
    let sql = Sql::new(
        "SELECT f.subscription_id, MIN(f.project) FROM subscription_filters f \
         WHERE EXISTS (SELECT 1 FROM subscription_outbox o \
                       WHERE o.subscription_id = f.subscription_id) \
         AND NOT EXISTS (SELECT 1 FROM subscription_leases l \
                         WHERE l.subscription_id = f.subscription_id \
                         AND l.owner <> $1 AND l.expires_at >= $2) \
         GROUP BY f.subscription_id",
    )
    .bind(owner)
    .bind(&ts(now));
    let rows = conn.rows(sql, "find waiting subscriptions").await?;
    Ok(rows
        .into_iter()
        .map(|(id, project)| WaitingSubscription { id, project })
        .collect())
}

/// Takes or renews the lease of Subscription `id` for `owner` until `until`, unless another
/// owner holds it past `now`. Whether `owner` holds it now.
pub(crate) async fn claim(
    conn: &mut Conn,
    id: &str,
    owner: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool, StoreError> {
    let sql = Sql::new(
        "INSERT INTO subscription_leases (subscription_id, owner, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (subscription_id) DO UPDATE SET owner = excluded.owner, \
         expires_at = excluded.expires_at \
         WHERE subscription_leases.owner = excluded.owner OR subscription_leases.expires_at < $4",
    )
    .bind(id)
    .bind(owner)
    .bind(&ts(until))
    .bind(&ts(now));
    Ok(conn.run(sql, "claim lease").await? > 0)
}

/// Gives up `owner`'s lease of `id` (so another process need not wait for it to expire).
pub(crate) async fn release(conn: &mut Conn, id: &str, owner: &str) -> Result<(), StoreError> {
    let sql = Sql::new("DELETE FROM subscription_leases WHERE subscription_id = $1 AND owner = $2")
        .bind(id)
        .bind(owner);
    conn.run(sql, "release lease").await?;
    Ok(())
}

/// Subscription `id`'s oldest undelivered notifications, with each Message's document.
pub(crate) async fn pending(
    conn: &mut Conn,
    id: &str,
    limit: i64,
) -> Result<Vec<PendingNotification>, StoreError> {
    let doc = (conn.dialect().doc_out)("m.doc");
    let sql = Sql::new(format!(
        "SELECT o.seq, o.notification, o.resource_type_id, o.resource_id, {doc}, o.version, \
         o.old_version, o.modified_at, o.identifiers, o.data_erasure \
         FROM subscription_outbox o LEFT JOIN messages m ON m.id = o.message_id \
         WHERE o.subscription_id = $1 ORDER BY o.seq LIMIT $2"
    ))
    .bind(id)
    .bind(limit);
    let rows = conn.all(sql).await.or_backend("read notifications")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let read = "read notification";
        let message: Option<String> = r.get(4).or_backend(read)?;
        let identifiers: Option<String> = r.get(8).or_backend(read)?;
        let version: Option<i64> = r.get(5).or_backend(read)?;
        let old_version: Option<i64> = r.get(6).or_backend(read)?;
        out.push(PendingNotification {
            seq: r.get(0).or_backend(read)?,
            notification: r.get(1).or_backend(read)?,
            resource_type_id: r.get(2).or_backend(read)?,
            resource_id: r.get(3).or_backend(read)?,
            message: message.map(|m| from_json(&m, "message")).transpose()?,
            version: version.map(|v| to_u64(v, "version")).transpose()?,
            old_version: old_version.map(|v| to_u64(v, "version")).transpose()?,
            modified_at: r.get(7).or_backend(read)?,
            identifiers: identifiers
                .map(|i| from_json(&i, "identifiers"))
                .transpose()?,
            data_erasure: r.get::<i64>(9).or_backend(read)? != 0,
        });
    }
    Ok(out)
}

/// Deletes `id`'s notifications `seqs` if `owner` still holds its lease; whether it did.
/// The exact list, not a range: on PostgreSQL a transaction can commit a lower `seq` after a
/// higher one was delivered, and that row must stay.
pub(crate) async fn ack(
    conn: &mut Conn,
    id: &str,
    owner: &str,
    seqs: &[i64],
) -> Result<bool, StoreError> {
    let lock = conn.dialect().update_lock;
    let sql = Sql::new(format!(
        "SELECT 1 FROM subscription_leases WHERE subscription_id = $1 AND owner = $2{lock}"
    ))
    .bind(id)
    .bind(owner);
    if !conn.exists(sql, "check lease").await? {
        return Ok(false);
    }
    for chunk in seqs.chunks(ACK_CHUNK) {
        let sql = Sql::new(format!(
            "DELETE FROM subscription_outbox WHERE subscription_id = $1 AND seq IN ({})",
            placeholders(2, chunk.len())
        ))
        .bind(id)
        .bind_all(chunk.iter().copied());
        conn.run(sql, "ack notifications").await?;
    }
    Ok(true)
}

/// Sequence numbers per acknowledging statement (well under both databases' parameter limits).
const ACK_CHUNK: usize = 500;

/// Sets the `status` of Subscription `id` without a new version (health is not an edit), if
/// the Subscription is still at `version`, the one the status was decided for: a decision
/// about an older Destination must not touch a repaired Subscription. A dropping state also
/// drops its filters and undelivered notifications. Entering `ConfigurationError` starts the
/// error clock at `now` unless it runs already; the answer carries its start.
pub(crate) async fn set_status(
    conn: &mut Conn,
    id: &str,
    version: i64,
    status: Health,
    now: OffsetDateTime,
) -> Result<StatusChange, StoreError> {
    let doc = (conn.dialect().doc_out)("doc");
    let lock = conn.dialect().update_lock;
    let sql = Sql::new(format!(
        "SELECT project, version, {doc} FROM resources WHERE id = $1 \
         AND type_id = '{SUBSCRIPTION}'{lock}"
    ))
    .bind(id);
    let Some((project, stored, text)) = conn
        .first::<(String, i64, String)>(sql, "read subscription")
        .await?
    else {
        return Ok(StatusChange::Stale);
    };
    if stored != version {
        return Ok(StatusChange::Stale);
    }
    let error_since = if status == Health::ConfigurationError {
        let sql = Sql::new(
            "INSERT INTO subscription_errors (subscription_id, since) VALUES ($1, $2) \
             ON CONFLICT (subscription_id) DO NOTHING",
        )
        .bind(id)
        .bind(&ts(now));
        conn.run(sql, "start error clock").await?;
        let sql =
            Sql::new("SELECT since FROM subscription_errors WHERE subscription_id = $1").bind(id);
        let since = conn.first::<(String,)>(sql, "read error clock").await?;
        let since = since.map_or_else(|| ts(now), |(since,)| since);
        Some(parse_ts(&since, "subscription_errors.since")?)
    } else {
        None
    };
    let mut doc: Value = from_json(&text, "subscription")?;
    if doc.get("status").and_then(Value::as_str) != Some(status.as_str()) {
        if let Some(o) = doc.as_object_mut() {
            o.insert(
                "status".to_owned(),
                Value::String(status.as_str().to_owned()),
            );
        }
        let doc_in = (conn.dialect().doc_in)(1);
        let sql = Sql::new(format!(
            "UPDATE resources SET doc = {doc_in} WHERE id = $2 AND type_id = '{SUBSCRIPTION}'"
        ))
        .bind(&to_json(&doc)?)
        .bind(id);
        conn.run(sql, "set subscription status").await?;
        sync_filters(conn, &project, id, Some(&doc)).await?;
    } else if status != Health::ConfigurationError {
        clear_error_clock(conn, id).await?;
    }
    Ok(StatusChange::Set { error_since })
}
