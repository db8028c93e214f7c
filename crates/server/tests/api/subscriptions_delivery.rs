//! Subscription delivery against the real RabbitMQ and NATS JetStream of the machine and a
//! local HTTP receiver: payload shape per format (Platform, CloudEvents), filters by Message
//! type, order per resource, retries when the Destination fails, and health transitions.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::subscriptions::{rabbit, Queue, NATS};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn subscribe(app: &TestApp, token: &str, draft: Value) -> Value {
    app.post("/demo/subscriptions", token, draft)
        .await
        .ok(201)
        .clone()
}

async fn health(app: &TestApp, id: &str) -> u16 {
    app.request(
        reqwest::Method::GET,
        &format!("/demo/subscriptions/{id}/health"),
        None,
        None,
    )
    .await
    .status
}

/// Polls `check` until it holds or `WAIT` passes.
async fn eventually<F: AsyncFnMut() -> bool>(mut check: F) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn messages_and_changes_reach_rabbitmq_in_platform_format_and_in_order() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": rabbit(&queue.name),
               "messages": [{"resourceTypeId": "customer"}],
               "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    assert_eq!(queue.take(1, WAIT).await.len(), 1, "test notification");
    let c = app
        .create_customer(
            &token,
            json!({"email": "ann@example.com", "password": "secret123", "key": "ann"}),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    app.update(
        &token,
        id,
        &json!(1),
        json!([{"action": "setLastName", "lastName": "Doe"}]),
    )
    .await
    .ok(200);
    let got = queue.take(4, WAIT).await;
    assert_eq!(got.len(), 4, "{got:?}");
    let created = &got[0];
    assert_eq!(created["notificationType"], "Message");
    assert_eq!(created["projectKey"], "demo");
    assert_eq!(created["type"], "CustomerCreated");
    assert_eq!(created["sequenceNumber"], 1);
    assert_eq!(created["resource"], json!({"typeId": "customer", "id": id}));
    assert_eq!(created["resourceVersion"], 1);
    assert_eq!(
        created["resourceUserProvidedIdentifiers"],
        json!({"key": "ann"})
    );
    assert_eq!(created["customer"]["email"], "ann@example.com");
    assert!(created["id"].is_string() && created["createdAt"].is_string());
    assert!(created.get("createdBy").is_none());
    assert_eq!(
        got[1],
        json!({"notificationType": "ResourceCreated", "projectKey": "demo",
               "resource": {"typeId": "customer", "id": id},
               "resourceUserProvidedIdentifiers": {"key": "ann"},
               "version": 1, "modifiedAt": "2023-11-14T22:13:20.000Z"})
    );
    assert_eq!(got[2]["type"], "CustomerLastNameSet");
    assert_eq!(got[2]["lastName"], "Doe");
    assert_eq!(got[2]["sequenceNumber"], 2);
    assert_eq!(got[3]["notificationType"], "ResourceUpdated");
    assert_eq!(got[3]["version"], 2);
    assert_eq!(got[3]["oldVersion"], 1);

    let d = app
        .delete(
            &format!("/demo/customers/{id}?version=2&dataErasure=true"),
            &token,
        )
        .await;
    d.ok(200);
    let got = queue.take(2, WAIT).await;
    assert_eq!(got[0]["type"], "CustomerDeleted");
    assert_eq!(got[1]["notificationType"], "ResourceDeleted");
    assert_eq!(got[1]["version"], 2);
    assert_eq!(got[1]["dataErasure"], true);
    assert_eq!(health(&app, s["id"].as_str().unwrap()).await, 200);
}

#[tokio::test]
async fn only_the_subscribed_types_are_delivered_and_older_writes_are_not() {
    let app = spawn_app().await;
    let token = app.admin().await;
    // Written before the Subscription existed: never delivered.
    app.create_customer(
        &token,
        json!({"email": "before@example.com", "password": "secret123"}),
    )
    .await;
    let queue = Queue::declare().await;
    subscribe(
        &app,
        &token,
        json!({"destination": rabbit(&queue.name),
               "messages": [{"resourceTypeId": "customer", "types": ["CustomerLastNameSet"]}]}),
    )
    .await;
    queue.take(1, WAIT).await;
    let c = app
        .create_customer(
            &token,
            json!({"email": "after@example.com", "password": "secret123"}),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    for (v, name) in [(1, "A"), (2, "B"), (3, "C")] {
        app.update(
            &token,
            id,
            &json!(v),
            json!([{"action": "setFirstName", "firstName": name},
                   {"action": "setLastName", "lastName": name}]),
        )
        .await;
    }
    let got = queue.take(4, Duration::from_secs(3)).await;
    let names: Vec<&str> = got
        .iter()
        .map(|m| m["lastName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "C"], "{got:?}");
    assert!(got.iter().all(|m| m["type"] == "CustomerLastNameSet"));
    let seqs: Vec<u64> = got
        .iter()
        .map(|m| m["sequenceNumber"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

/// The delivery loop wakes on the commit that queued a notification, not at its next poll:
/// with a 30 s poll, every write still arrives within a couple of seconds, also once the
/// Subscription's task is idle between writes.
#[tokio::test]
async fn a_committed_write_is_delivered_at_once_not_at_the_next_poll() {
    let app = spawn_app_with(|c| c.delivery.poll = Duration::from_secs(30)).await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    subscribe(
        &app,
        &token,
        json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer-group"}]}),
    )
    .await;
    assert_eq!(queue.take(1, WAIT).await.len(), 1, "test notification");
    for name in ["G1", "G2", "G3"] {
        let started = std::time::Instant::now();
        app.post("/demo/customer-groups", &token, json!({"groupName": name}))
            .await
            .ok(201);
        let got = queue.take(1, Duration::from_secs(3)).await;
        assert_eq!(got.len(), 1, "{name} not delivered within 3 s of its write");
        assert_eq!(got[0]["resource"]["typeId"], "customer-group");
        assert!(started.elapsed() < Duration::from_secs(3));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn an_unroutable_queue_is_a_configuration_error_then_delivery_stops() {
    let app = spawn_app_with(|c| c.delivery.stop_after = Duration::from_secs(60)).await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer-group"}]}),
    )
    .await;
    let id = s["id"].as_str().unwrap().to_owned();
    queue.take(1, WAIT).await;
    queue.delete().await;
    app.post("/demo/customer-groups", &token, json!({"groupName": "G1"}))
        .await
        .ok(201);
    assert!(
        eventually(async || health(&app, &id).await == 400).await,
        "ConfigurationError"
    );
    let g = app.get(&format!("/demo/subscriptions/{id}"), &token).await;
    assert_eq!(g.ok(200)["status"], "ConfigurationError");
    // Past the window the delivery stops and says so.
    app.clock.advance(time::Duration::seconds(61));
    assert!(
        eventually(async || {
            let g = app.get(&format!("/demo/subscriptions/{id}"), &token).await;
            g.body["status"] == "ConfigurationErrorDeliveryStopped"
        })
        .await
    );
    assert_eq!(health(&app, &id).await, 400);
}

#[tokio::test]
async fn notifications_wait_through_a_configuration_error_and_arrive_once_the_queue_is_back() {
    let app = spawn_app_with(|c| c.delivery.max_backoff = Duration::from_millis(300)).await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    let id = s["id"].as_str().unwrap().to_owned();
    queue.take(1, WAIT).await;
    queue.delete().await;
    let mut created = Vec::new();
    for i in 0..3 {
        let c = app
            .create_customer(
                &token,
                json!({"email": format!("w{i}@example.com"), "password": "secret123"}),
            )
            .await;
        created.push(c["id"].clone());
    }
    assert!(
        eventually(async || health(&app, &id).await == 400).await,
        "ConfigurationError while the queue is gone"
    );
    let back = Queue::declare_named(queue.name.clone()).await;
    let got = back.take(3, WAIT).await;
    let ids: Vec<Value> = got.iter().map(|m| m["resource"]["id"].clone()).collect();
    assert_eq!(ids, created, "kept, then delivered in order");
    assert!(eventually(async || health(&app, &id).await == 200).await);
}

/// What a webhook received: each body with its `Authorization` header.
/// Each accepted body with its `authorization` and `content-type` headers.
type Received = Arc<Mutex<Vec<(Option<String>, Value, Option<String>)>>>;

/// A local webhook: records every body it accepts; answers 503 while `fail_next` is above
/// zero (counting it down).
struct Receiver {
    url: String,
    bodies: Received,
    fail_next: Arc<AtomicUsize>,
}

async fn receiver() -> Receiver {
    let bodies: Received = Arc::default();
    let fail_next = Arc::new(AtomicUsize::new(0));
    let (recorded, failing) = (bodies.clone(), fail_next.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let (recorded, failing) = (recorded.clone(), failing.clone());
                async move {
                    let fail = failing
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if fail {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let header =
                        |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
                    let (auth, content_type) = (header("authorization"), header("content-type"));
                    recorded.lock().unwrap().push((auth, body, content_type));
                    StatusCode::ACCEPTED
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url,
        bodies,
        fail_next,
    }
}

#[tokio::test]
async fn http_deliveries_retry_after_failures_with_cloud_events() {
    let app = spawn_app_with(|c| c.delivery.max_backoff = Duration::from_millis(200)).await;
    let token = app.admin().await;
    let hook = receiver().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": {"type": "HTTP", "url": hook.url,
                               "authentication": {"type": "AuthorizationHeader", "headerValue": "Bearer hook-secret-123456"}},
               "messages": [{"resourceTypeId": "customer"}],
               "format": {"type": "CloudEvents", "cloudEventsVersion": "1.0"}}),
    )
    .await;
    assert_eq!(
        s["destination"]["authentication"]["headerValue"],
        "****3456"
    );
    let c = app
        .create_customer(
            &token,
            json!({"email": "cloud@example.com", "password": "secret123"}),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    assert!(eventually(async || hook.bodies.lock().unwrap().len() >= 2).await);
    let (auth, event, content_type) = hook.bodies.lock().unwrap()[1].clone();
    assert_eq!(auth.as_deref(), Some("Bearer hook-secret-123456"));
    // Structured mode of the CloudEvents HTTP binding.
    assert_eq!(
        content_type.as_deref(),
        Some("application/cloudevents+json")
    );
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(
        event["type"],
        "com.commercetools.customer.message.CustomerCreated"
    );
    assert_eq!(event["source"], "/demo/customers");
    assert_eq!(event["subject"], id);
    assert_eq!(event["sequence"], "1");
    assert_eq!(event["sequencetype"], "Integer");
    let mid = event["data"]["id"].as_str().unwrap();
    assert_eq!(event["id"], mid);
    assert_eq!(event["dataref"], format!("/demo/messages/{mid}"));
    assert_eq!(event["time"], "2023-11-14T22:13:20.000Z");
    assert_eq!(event["data"]["notificationType"], "Message");
    assert_eq!(event["data"]["projectKey"], "demo");
}

#[tokio::test]
async fn a_failing_webhook_is_a_temporary_error_and_is_retried_until_it_recovers() {
    let app = spawn_app_with(|c| c.delivery.max_backoff = Duration::from_millis(800)).await;
    let token = app.admin().await;
    let hook = receiver().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": {"type": "HTTP", "url": hook.url}, "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    let id = s["id"].as_str().unwrap().to_owned();
    hook.fail_next.store(5, Ordering::SeqCst);
    let c = app
        .create_customer(
            &token,
            json!({"email": "retry@example.com", "password": "secret123"}),
        )
        .await;
    assert!(
        eventually(async || health(&app, &id).await == 503).await,
        "TemporaryError while the webhook fails"
    );
    assert!(eventually(async || hook.bodies.lock().unwrap().len() >= 2).await);
    assert_eq!(
        hook.fail_next.load(Ordering::SeqCst),
        0,
        "every failure was retried"
    );
    let bodies = hook.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "delivered once after the retries");
    assert_eq!(bodies[1].1["notificationType"], "ResourceCreated");
    assert_eq!(bodies[1].1["resource"]["id"], c["id"]);
    assert_eq!(bodies[1].2.as_deref(), Some("application/json"));
    assert!(eventually(async || health(&app, &id).await == 200).await);
    // A webhook that refuses the test notification refuses the change of Destination.
    hook.fail_next.store(usize::MAX, Ordering::SeqCst);
    app.post(
        &format!("/demo/subscriptions/{id}"),
        &token,
        json!({"version": 1, "actions": [{"action": "changeDestination",
               "destination": {"type": "HTTP", "url": hook.url}}]}),
    )
    .await
    .error(400, "InvalidInput");
}

/// A fresh JetStream stream capturing a subject of its own: the context, the stream, its
/// subject and its name (delete it with `js.delete_stream(name)`).
async fn jetstream_stream() -> (
    async_nats::jetstream::Context,
    async_nats::jetstream::stream::Stream,
    String,
    String,
) {
    let client = async_nats::connect(NATS)
        .await
        .expect("NATS at 127.0.0.1:4222");
    let js = async_nats::jetstream::new(client);
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("clientele.test.{unique}");
    let stream_name = format!("clientele-test-{unique}");
    let stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: stream_name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    (js, stream, subject, stream_name)
}

#[tokio::test]
async fn nats_jetstream_gets_changes_after_the_stream_ack() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let (js, stream, subject, stream_name) = jetstream_stream().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": {"type": "NATS", "url": NATS, "subject": subject},
               "changes": [{"resourceTypeId": "customer"}, {"resourceTypeId": "store"}]}),
    )
    .await;
    app.post(
        "/demo/stores",
        &token,
        json!({"key": "eu", "name": {"en": "EU"}}),
    )
    .await
    .ok(201);
    let mut stream = stream;
    let ok = eventually(async || stream.info().await.unwrap().state.messages >= 2).await;
    let count = stream.info().await.unwrap().state.messages;
    let second = stream.get_raw_message(2).await;
    js.delete_stream(&stream_name).await.unwrap();
    assert!(
        ok,
        "expected the test notification and one change, got {count}"
    );
    let second: Value = serde_json::from_slice(&second.unwrap().payload).unwrap();
    assert_eq!(second["notificationType"], "ResourceCreated");
    assert_eq!(second["resource"]["typeId"], "store");
    assert_eq!(
        second["resourceUserProvidedIdentifiers"],
        json!({"key": "eu"})
    );
    assert_eq!(second["version"], 1);
    assert_eq!(health(&app, s["id"].as_str().unwrap()).await, 200);
}

/// `changeDestination` while delivery is running: the next notification goes to the new
/// Destination, not over the connection still open to the old one.
#[tokio::test]
async fn a_changed_destination_gets_the_next_notification_at_once() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let old = Queue::declare().await;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": rabbit(&old.name), "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(old.take(1, WAIT).await.len(), 1, "test notification");
    app.create_customer(
        &token,
        json!({"email": "first@example.com", "password": "secret123"}),
    )
    .await;
    assert_eq!(
        old.take(1, WAIT).await.len(),
        1,
        "delivered to the old queue"
    );

    let new = Queue::declare().await;
    app.post(
        &format!("/demo/subscriptions/{id}"),
        &token,
        json!({"version": 1, "actions": [{"action": "changeDestination", "destination": rabbit(&new.name)}]}),
    )
    .await
    .ok(200);
    assert_eq!(new.take(1, WAIT).await.len(), 1, "test notification");
    let c = app
        .create_customer(
            &token,
            json!({"email": "second@example.com", "password": "secret123"}),
        )
        .await;
    let got = new.take(1, WAIT).await;
    assert_eq!(got.len(), 1, "delivered to the new queue");
    assert_eq!(got[0]["resource"]["id"], c["id"]);
    assert_eq!(old.count().await, 0, "nothing more to the old queue");
}

/// A Message larger than the NATS server's `max_payload` goes without its payload
/// (`payloadNotIncluded`, subscriptions.md §4) instead of blocking the Subscription.
#[tokio::test]
async fn a_message_too_large_for_nats_is_delivered_without_its_payload() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let (js, stream, subject, stream_name) = jetstream_stream().await;
    let max = js.client().server_info().max_payload;
    let s = subscribe(
        &app,
        &token,
        json!({"destination": {"type": "NATS", "url": NATS, "subject": subject},
               "messages": [{"resourceTypeId": "customer", "types": ["CustomerCreated"]}]}),
    )
    .await;
    // Enough addresses of long street names to pass `max_payload` (1 MiB by default).
    let street = "s".repeat(1000);
    let addresses: Vec<Value> = (0..max / 900)
        .map(|i| json!({"key": format!("a{i}"), "country": "DE", "streetName": street}))
        .collect();
    let big = app
        .create_customer(
            &token,
            json!({"email": "big@example.com", "password": "secret123", "addresses": addresses}),
        )
        .await;
    let small = app
        .create_customer(
            &token,
            json!({"email": "small@example.com", "password": "secret123"}),
        )
        .await;
    let mut stream = stream;
    let ok = eventually(async || stream.info().await.unwrap().state.messages >= 3).await;
    let raw = [
        stream.get_raw_message(2).await,
        stream.get_raw_message(3).await,
    ];
    js.delete_stream(&stream_name).await.unwrap();
    assert!(ok, "the test notification and both Messages arrive");
    let [second, third] =
        raw.map(|m| serde_json::from_slice::<Value>(&m.unwrap().payload).unwrap());
    assert_eq!(second["resource"]["id"], big["id"]);
    assert_eq!(
        second["payloadNotIncluded"],
        json!({"reason": "Payload too large.", "payloadType": "CustomerCreated"})
    );
    assert!(second.get("customer").is_none() && second.get("type").is_none());
    assert_eq!(second["sequenceNumber"], 1);
    assert_eq!(third["resource"]["id"], small["id"]);
    assert_eq!(third["type"], "CustomerCreated");
    assert!(third.get("payloadNotIncluded").is_none());
    assert_eq!(health(&app, s["id"].as_str().unwrap()).await, 200);
}
