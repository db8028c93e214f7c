//! The delivered payloads (subscriptions.md §4–§5): a pending notification as the Platform
//! `SubscriptionNotification` JSON, optionally wrapped as a CloudEvents 1.0 event.
//!
//! Pure: no IO, no clock; what a payload says comes only from the stored notification.

use clientele_domain::subscription::DeliveryFormat;
use clientele_store::PendingNotification;
use serde_json::{json, Map, Value};

/// Fields of a stored Message that delivery payloads do not show (§4: not in any example).
const HIDDEN_MESSAGE_FIELDS: &[&str] = &["createdBy", "lastModifiedBy"];

/// The Platform payload of `n` in project `project`; `None` for a Message erased since it was
/// queued (`dataErasure`), which is then not delivered.
pub fn platform(project: &str, n: &PendingNotification) -> Option<Value> {
    let mut out = Map::new();
    out.insert("notificationType".into(), json!(n.notification));
    out.insert("projectKey".into(), json!(project));
    if n.notification == "Message" {
        let Value::Object(message) = n.message.clone()? else {
            return None;
        };
        for (k, v) in message {
            if !HIDDEN_MESSAGE_FIELDS.contains(&k.as_str()) {
                out.insert(k, v);
            }
        }
        out.entry("resourceUserProvidedIdentifiers")
            .or_insert_with(|| json!({}));
        return Some(Value::Object(out));
    }
    out.insert(
        "resource".into(),
        json!({"typeId": n.resource_type_id, "id": n.resource_id}),
    );
    out.insert(
        "resourceUserProvidedIdentifiers".into(),
        n.identifiers.clone().unwrap_or_else(|| json!({})),
    );
    out.insert("version".into(), json!(n.version));
    if let Some(old) = n.old_version {
        out.insert("oldVersion".into(), json!(old));
    }
    out.insert("modifiedAt".into(), json!(n.modified_at));
    if n.notification == "ResourceDeleted" && n.data_erasure {
        out.insert("dataErasure".into(), json!(true));
    }
    Some(Value::Object(out))
}

/// The fields a Message notification keeps when the Message itself does not fit the
/// Destination (§4 `PayloadNotIncluded`): the envelope, not the Message's type or payload.
const ENVELOPE_FIELDS: &[&str] = &[
    "notificationType",
    "projectKey",
    "resource",
    "resourceUserProvidedIdentifiers",
    "id",
    "version",
    "sequenceNumber",
    "resourceVersion",
    "createdAt",
    "lastModifiedAt",
];

/// A Platform Message payload without its Message-specific fields and with
/// `payloadNotIncluded` saying why (consumers fetch the Message by its id); `None` for a
/// payload that is not a Message's.
pub fn without_message(platform: &Value) -> Option<Value> {
    let Value::Object(fields) = platform else {
        return None;
    };
    if fields.get("notificationType").and_then(Value::as_str) != Some("Message") {
        return None;
    }
    let mut out: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| ENVELOPE_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.insert(
        "payloadNotIncluded".into(),
        json!({"reason": "Payload too large.", "payloadType": fields.get("type").cloned().unwrap_or(Value::Null)}),
    );
    Some(Value::Object(out))
}

/// The media type of payloads in `format`: CloudEvents travel in structured mode, whose
/// bindings (HTTP, AMQP) name the event format rather than plain JSON.
pub fn content_type(format: &DeliveryFormat) -> &'static str {
    match format {
        DeliveryFormat::Platform => "application/json",
        DeliveryFormat::CloudEvents { .. } => "application/cloudevents+json",
    }
}

/// `platform` wrapped as the Subscription's `format` asks.
pub fn formatted(format: &DeliveryFormat, project: &str, platform: Value) -> Value {
    match format {
        DeliveryFormat::Platform => platform,
        DeliveryFormat::CloudEvents { .. } => cloud_event(project, platform),
    }
}

/// The CloudEvents 1.0 structured-mode event carrying a Platform payload.
fn cloud_event(project: &str, data: Value) -> Value {
    let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    let type_id = data
        .pointer("/resource/typeId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let subject = data
        .pointer("/resource/id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let notification = text("notificationType").to_owned();
    let mut event = Map::new();
    event.insert("specversion".into(), json!("1.0"));
    if notification == "Message" {
        let id = text("id").to_owned();
        let message_type = data
            .get("type")
            .or_else(|| data.pointer("/payloadNotIncluded/payloadType"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        event.insert("id".into(), json!(id));
        event.insert(
            "type".into(),
            json!(format!(
                "com.commercetools.{type_id}.message.{message_type}"
            )),
        );
        event.insert("source".into(), json!(format!("/{project}/{type_id}s")));
        event.insert("subject".into(), json!(subject));
        event.insert("time".into(), json!(text("createdAt")));
        let sequence = data.get("sequenceNumber").and_then(Value::as_u64);
        if let Some(s) = sequence {
            event.insert("sequence".into(), json!(s.to_string()));
            event.insert("sequencetype".into(), json!("Integer"));
        }
        event.insert("dataref".into(), json!(format!("/{project}/messages/{id}")));
    } else {
        let version = data.get("version").and_then(Value::as_u64).unwrap_or(0);
        // A change has no id of its own; resource, version and kind name it uniquely and the
        // same on every redelivery, so consumers can deduplicate by it.
        event.insert(
            "id".into(),
            json!(format!("{subject}/{version}/{notification}")),
        );
        event.insert(
            "type".into(),
            json!(format!("com.commercetools.{type_id}.change.{notification}")),
        );
        event.insert("source".into(), json!(format!("/{project}/{type_id}s")));
        event.insert("subject".into(), json!(subject));
        event.insert("time".into(), json!(text("modifiedAt")));
    }
    event.insert("data".into(), data);
    Value::Object(event)
}

/// The test notification sent to a Destination before a Subscription is stored (§10).
pub fn test_notification(
    project: &str,
    id: &str,
    key: Option<&str>,
    version: u64,
    modified_at: &str,
) -> Value {
    let identifiers = match key {
        Some(k) => json!({"key": k}),
        None => json!({}),
    };
    json!({
        "notificationType": "ResourceCreated",
        "projectKey": project,
        "resource": {"typeId": "subscription", "id": id},
        "resourceUserProvidedIdentifiers": identifiers,
        "version": version,
        "modifiedAt": modified_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> PendingNotification {
        PendingNotification {
            seq: 1,
            notification: "ResourceUpdated".into(),
            resource_type_id: "customer".into(),
            resource_id: "c1".into(),
            message: None,
            version: Some(3),
            old_version: Some(2),
            modified_at: Some("2022-09-20T08:00:00.000Z".into()),
            identifiers: Some(json!({"key": "john-doe"})),
            data_erasure: false,
        }
    }

    #[test]
    fn change_payload_has_every_field() {
        let p = platform("my-project", &change()).unwrap();
        assert_eq!(
            p,
            json!({"notificationType":"ResourceUpdated","projectKey":"my-project",
                "resource":{"typeId":"customer","id":"c1"},
                "resourceUserProvidedIdentifiers":{"key":"john-doe"},"version":3,"oldVersion":2,
                "modifiedAt":"2022-09-20T08:00:00.000Z"})
        );
        let e = formatted(
            &DeliveryFormat::CloudEvents {
                cloud_events_version: "1.0".into(),
            },
            "my-project",
            p.clone(),
        );
        assert_eq!(
            e["type"],
            "com.commercetools.customer.change.ResourceUpdated"
        );
        assert_eq!(e["source"], "/my-project/customers");
        assert_eq!(e["time"], "2022-09-20T08:00:00.000Z");
        assert!(e.get("sequence").is_none() && e.get("dataref").is_none());
        assert_eq!(e["data"], p);
    }

    #[test]
    fn a_message_without_its_payload_keeps_the_envelope_and_names_its_type() {
        let mut n = change();
        n.notification = "Message".into();
        n.message = Some(json!({"id": "m1", "version": 1, "type": "CustomerCreated",
            "resource": {"typeId": "customer", "id": "c1"}, "resourceVersion": 1,
            "sequenceNumber": 1, "createdAt": "2022-09-20T08:00:00.000Z",
            "lastModifiedAt": "2022-09-20T08:00:00.000Z", "customer": {"email": "x"}}));
        let p = platform("my-project", &n).unwrap();
        let small = without_message(&p).unwrap();
        assert_eq!(
            small,
            json!({"notificationType": "Message", "projectKey": "my-project", "id": "m1",
                "version": 1, "resource": {"typeId": "customer", "id": "c1"},
                "resourceUserProvidedIdentifiers": {}, "resourceVersion": 1, "sequenceNumber": 1,
                "createdAt": "2022-09-20T08:00:00.000Z", "lastModifiedAt": "2022-09-20T08:00:00.000Z",
                "payloadNotIncluded": {"reason": "Payload too large.", "payloadType": "CustomerCreated"}})
        );
        let e = formatted(
            &DeliveryFormat::CloudEvents {
                cloud_events_version: "1.0".into(),
            },
            "my-project",
            small,
        );
        assert_eq!(
            e["type"],
            "com.commercetools.customer.message.CustomerCreated"
        );
        assert!(without_message(&platform("my-project", &change()).unwrap()).is_none());
    }

    #[test]
    fn erased_message_is_not_delivered() {
        let mut n = change();
        n.notification = "Message".into();
        assert!(platform("p", &n).is_none());
    }
}
