//! Subscriptions through HTTP: create (after the test notification reached the real RabbitMQ
//! or NATS of the machine), get/HEAD by id and key, query, the update actions, delete, the
//! validation of drafts and Destinations, secrets masked in every response, scopes and the
//! unauthenticated health endpoint. Delivery itself is in `subscriptions_delivery`.

use crate::helpers::{spawn_app, TestApp};
use lapin::options::{BasicConsumeOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The RabbitMQ every machine of the project runs.
pub(crate) const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// How the RabbitMQ URI is shown: password masked.
pub(crate) const AMQP_MASKED: &str = "amqp://guest:****@127.0.0.1:5672/%2f";
/// The NATS (with JetStream) every machine of the project runs.
pub(crate) const NATS: &str = "nats://127.0.0.1:4222";

/// A temporary RabbitMQ queue (exclusive: it goes with the connection).
pub(crate) struct Queue {
    /// Its name (a routing key on the default exchange).
    pub(crate) name: String,
    channel: Channel,
    _connection: Connection,
}

impl Queue {
    /// Declares a fresh queue.
    pub(crate) async fn declare() -> Queue {
        Queue::declare_named(format!("clientele-test-{}", uuid::Uuid::new_v4())).await
    }

    /// Declares the queue `name` (again, after [`Queue::delete`]).
    pub(crate) async fn declare_named(name: String) -> Queue {
        let connection = Connection::connect(AMQP, ConnectionProperties::default())
            .await
            .expect("RabbitMQ at 127.0.0.1:5672");
        let channel = connection.create_channel().await.unwrap();
        channel
            .queue_declare(
                name.as_str().into(),
                QueueDeclareOptions {
                    exclusive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        Queue {
            name,
            channel,
            _connection: connection,
        }
    }

    /// The next `n` messages as JSON, waiting up to `wait` for them.
    pub(crate) async fn take(&self, n: usize, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while out.len() < n {
            let got = self
                .channel
                .basic_get(self.name.as_str().into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap();
            match got {
                Some(m) => {
                    assert_eq!(
                        m.delivery.properties.delivery_mode(),
                        &Some(2),
                        "persistent"
                    );
                    out.push(serde_json::from_slice(&m.delivery.data).unwrap());
                }
                None if tokio::time::Instant::now() > deadline => break,
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        out
    }

    /// The next message's `content-type` property, waiting up to `wait` for it.
    pub(crate) async fn next_content_type(&self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let got = self
                .channel
                .basic_get(self.name.as_str().into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap();
            match got {
                Some(m) => {
                    return m
                        .delivery
                        .properties
                        .content_type()
                        .as_ref()
                        .map(|t| t.to_string())
                }
                None if tokio::time::Instant::now() > deadline => return None,
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// How many messages wait in the queue.
    pub(crate) async fn count(&self) -> u32 {
        self.channel
            .queue_declare(
                self.name.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap()
            .message_count()
    }

    /// A consumer of the queue that acknowledges nothing (deliveries arrive as the broker
    /// pushes them, so their arrival time is not rounded up to a polling interval).
    pub(crate) async fn consume(&self) -> lapin::Consumer {
        self.channel
            .basic_consume(
                self.name.as_str().into(),
                "clientele-test".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap()
    }

    /// Deletes the queue now (to make its routing key unroutable).
    pub(crate) async fn delete(&self) {
        self.channel
            .queue_delete(self.name.as_str().into(), Default::default())
            .await
            .unwrap();
    }
}

/// A RabbitMQ Destination on the default exchange routing to `queue`.
pub(crate) fn rabbit(queue: &str) -> Value {
    json!({"type": "RabbitMQ", "uri": AMQP, "exchange": "", "routingKey": queue})
}

fn results(v: &Value) -> Vec<Value> {
    v["results"].as_array().unwrap().clone()
}

async fn create(app: &TestApp, token: &str, draft: Value) -> Value {
    app.post("/demo/subscriptions", token, draft)
        .await
        .ok(201)
        .clone()
}

#[tokio::test]
async fn create_sends_a_test_notification_and_masks_the_password() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    let r = app
        .post(
            "/demo/subscriptions",
            &token,
            json!({"key": "crm-sync", "destination": rabbit(&queue.name),
                   "messages": [{"resourceTypeId": "customer", "types": ["CustomerCreated"]}]}),
        )
        .await;
    let s = r.ok(201).clone();
    assert!(!r.text.contains("guest:guest"), "{}", r.text);
    let id = s["id"].as_str().unwrap();
    assert_eq!(s["version"], 1);
    assert_eq!(s["key"], "crm-sync");
    assert_eq!(
        s["destination"],
        json!({"type": "RabbitMQ", "uri": AMQP_MASKED, "exchange": "", "routingKey": queue.name})
    );
    assert_eq!(
        s["messages"],
        json!([{"resourceTypeId": "customer", "types": ["CustomerCreated"]}])
    );
    assert_eq!(s["changes"], json!([]));
    assert_eq!(s["events"], json!([]));
    assert_eq!(s["format"], json!({"type": "Platform"}));
    assert_eq!(s["status"], "Healthy");
    assert_eq!(s["createdAt"], "2023-11-14T22:13:20.000Z");

    let test = queue.take(1, Duration::from_secs(5)).await;
    assert_eq!(
        test,
        vec![
            json!({"notificationType": "ResourceCreated", "projectKey": "demo",
            "resource": {"typeId": "subscription", "id": id},
            "resourceUserProvidedIdentifiers": {"key": "crm-sync"},
            "version": 1, "modifiedAt": "2023-11-14T22:13:20.000Z"})
        ]
    );

    for path in [
        format!("/demo/subscriptions/{id}"),
        "/demo/subscriptions/key=crm-sync".to_owned(),
    ] {
        let r = app.get(&path, &token).await;
        assert_eq!(r.ok(200), &s);
        assert!(!r.text.contains("guest:guest"));
        assert_eq!(app.head(&path, &token).await, 200);
    }
    assert_eq!(app.head("/demo/subscriptions/key=nope", &token).await, 404);
    app.get("/demo/subscriptions/key=nope", &token)
        .await
        .error(404, "ResourceNotFound");

    let q = app
        .get("/demo/subscriptions?where=key%3D%22crm-sync%22", &token)
        .await;
    assert_eq!(results(q.ok(200)), vec![s.clone()]);
    assert!(!q.text.contains("guest:guest"));
    let q = app
        .get(
            "/demo/subscriptions?where=destination(type%3D%22RabbitMQ%22)%20and%20messages(resourceTypeId%3D%22customer%22)",
            &token,
        )
        .await;
    assert_eq!(q.ok(200)["count"], 1);
    let q = app
        .get(
            "/demo/subscriptions?where=destination(uri%3D%22x%22)",
            &token,
        )
        .await;
    q.error(400, "InvalidInput");

    // Health needs no token.
    let h = app
        .request(
            reqwest::Method::GET,
            &format!("/demo/subscriptions/{id}/health"),
            None,
            None,
        )
        .await;
    assert_eq!(h.status, 200);

    let d = app
        .delete(&format!("/demo/subscriptions/{id}?version=1"), &token)
        .await;
    assert_eq!(d.ok(200)["destination"]["uri"], AMQP_MASKED);
    assert_eq!(
        app.head(&format!("/demo/subscriptions/{id}"), &token).await,
        404
    );
}

#[tokio::test]
async fn an_unreachable_destination_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.admin().await;
    // A routing key no queue is bound to: the mandatory publish comes back.
    let gone = format!("clientele-test-none-{}", uuid::Uuid::new_v4());
    let e = app
        .post(
            "/demo/subscriptions",
            &token,
            json!({"destination": rabbit(&gone), "changes": [{"resourceTypeId": "customer"}]}),
        )
        .await;
    let err = e.error(400, "InvalidInput");
    assert!(
        err["message"].as_str().unwrap().contains("RabbitMQ"),
        "{err}"
    );
    assert!(!e.text.contains("guest:guest"));
    // Nothing listens on port 1; NATS without a stream for the subject.
    for destination in [
        json!({"type": "RabbitMQ", "uri": "amqp://guest:guest@127.0.0.1:1/%2f", "routingKey": "q"}),
        json!({"type": "NATS", "url": NATS, "subject": format!("clientele.none.{}", uuid::Uuid::new_v4().simple())}),
        json!({"type": "HTTP", "url": "http://127.0.0.1:1/hook"}),
    ] {
        let r = app
            .post(
                "/demo/subscriptions",
                &token,
                json!({"destination": destination, "changes": [{"resourceTypeId": "customer"}]}),
            )
            .await;
        r.error(400, "InvalidInput");
    }
    let all = app.get("/demo/subscriptions", &token).await;
    assert_eq!(all.ok(200)["count"], 0);
}

/// A webhook that answers every POST with `status`, a body holding a secret-looking text and,
/// for a redirect, a `Location` pointing at a second route that counts the requests it gets.
async fn answering_webhook(status: u16) -> (String, Arc<AtomicUsize>) {
    let followed = Arc::new(AtomicUsize::new(0));
    let seen = followed.clone();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(move || async move {
                let mut r = axum::response::Response::new(axum::body::Body::from(
                    "receiver-internal-detail-42",
                ));
                *r.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                r.headers_mut().insert(
                    "location",
                    axum::http::HeaderValue::from_static("/elsewhere"),
                );
                r
            }),
        )
        .route(
            "/elsewhere",
            axum::routing::any(move || {
                let seen = seen.clone();
                async move {
                    seen.fetch_add(1, Ordering::SeqCst);
                    axum::http::StatusCode::OK
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, followed)
}

#[tokio::test]
async fn a_test_notification_follows_no_redirect_and_echoes_no_receiver_body() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for status in [307, 302, 500, 404] {
        let (url, followed) = answering_webhook(status).await;
        let e = app
            .post(
                "/demo/subscriptions",
                &token,
                json!({"destination": {"type": "HTTP", "url": url},
                       "changes": [{"resourceTypeId": "customer"}]}),
            )
            .await;
        let err = e.error(400, "InvalidInput");
        let message = err["message"].as_str().unwrap();
        assert!(message.contains(&status.to_string()), "{message}");
        assert!(!e.text.contains("receiver-internal-detail"), "{}", e.text);
        assert_eq!(followed.load(Ordering::SeqCst), 0, "{status} was followed");
    }
    let all = app.get("/demo/subscriptions", &token).await;
    assert_eq!(all.ok(200)["count"], 0);
}

#[tokio::test]
async fn update_actions_change_the_subscription() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    let s = create(
        &app,
        &token,
        json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    let id = s["id"].as_str().unwrap();
    let path = format!("/demo/subscriptions/{id}");
    let r = app
        .post(
            &path,
            &token,
            json!({"version": 1, "actions": [
                {"action": "setKey", "key": "k-1"},
                {"action": "setMessages", "messages": [{"resourceTypeId": "customer"}]},
                {"action": "setChanges"}
            ]}),
        )
        .await;
    let u = r.ok(200).clone();
    assert_eq!(u["version"], 2);
    assert_eq!(u["key"], "k-1");
    assert_eq!(u["messages"], json!([{"resourceTypeId": "customer"}]));
    assert_eq!(u["changes"], json!([]));
    // Removing the last subscribed kind is refused.
    app.post(
        &path,
        &token,
        json!({"version": 2, "actions": [{"action": "setMessages"}]}),
    )
    .await
    .error(400, "InvalidInput");
    // A stale version conflicts.
    app.post(
        &path,
        &token,
        json!({"version": 1, "actions": [{"action": "setKey"}]}),
    )
    .await
    .error(409, "ConcurrentModification");
    // changeDestination tests the new Destination first.
    let gone = format!("clientele-test-none-{}", uuid::Uuid::new_v4());
    app.post(
        &path,
        &token,
        json!({"version": 2, "actions": [{"action": "changeDestination", "destination": rabbit(&gone)}]}),
    )
    .await
    .error(400, "InvalidInput");
    let other = Queue::declare().await;
    let c = app
        .post(
            &path,
            &token,
            json!({"version": 2, "actions": [{"action": "changeDestination", "destination": rabbit(&other.name)}]}),
        )
        .await;
    assert_eq!(c.ok(200)["version"], 3);
    assert_eq!(c.body["destination"]["routingKey"], other.name.as_str());
    assert_eq!(c.body["status"], "Healthy");
    assert_eq!(other.take(1, Duration::from_secs(5)).await.len(), 1);
    // The same Destination again on a Healthy Subscription changes nothing: no new version
    // (as every update that changes nothing). It is still tested first. On a Subscription in
    // an error state it resets the health to Healthy (the spec's way out of
    // ConfigurationErrorDeliveryStopped), which is a change.
    let same = app
        .post(
            &path,
            &token,
            json!({"version": 3, "actions": [{"action": "changeDestination", "destination": rabbit(&other.name)}]}),
        )
        .await;
    assert_eq!(same.ok(200)["version"], 3);
    assert_eq!(other.take(1, Duration::from_secs(5)).await.len(), 1);
    // No action to change the format.
    app.post(
        &path,
        &token,
        json!({"version": 3, "actions": [{"action": "changeFormat", "format": {"type": "Platform"}}]}),
    )
    .await
    .error(400, "InvalidJsonInput");
    // Duplicate keys.
    let q2 = Queue::declare().await;
    let dup = app
        .post(
            "/demo/subscriptions",
            &token,
            json!({"key": "k-1", "destination": rabbit(&q2.name), "changes": [{"resourceTypeId": "customer"}]}),
        )
        .await;
    assert_eq!(dup.error(400, "DuplicateField")["field"], "key");
    app.delete(&format!("{path}?version=1"), &token)
        .await
        .error(409, "ConcurrentModification");
    app.delete(&format!("{path}?version=3"), &token)
        .await
        .ok(200);
}

#[tokio::test]
async fn drafts_and_destinations_are_validated() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let queue = Queue::declare().await;
    let cases = [
        (json!({"destination": rabbit(&queue.name)}), "InvalidInput"),
        (
            json!({"destination": rabbit(&queue.name), "messages": [], "changes": []}),
            "InvalidInput",
        ),
        (
            json!({"destination": rabbit(&queue.name), "messages": [{"resourceTypeId": "planet"}]}),
            "InvalidField",
        ),
        (
            json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer"}], "key": "a b"}),
            "InvalidInput",
        ),
        (
            json!({"destination": {"type": "Carrier-Pigeon"}, "changes": [{"resourceTypeId": "customer"}]}),
            "InvalidJsonInput",
        ),
        (
            json!({"destination": {"type": "RabbitMQ", "uri": "http://x", "routingKey": "q"}, "changes": [{"resourceTypeId": "customer"}]}),
            "InvalidInput",
        ),
        (
            json!({"destination": {"type": "NATS", "url": NATS, "subject": "a.*"}, "changes": [{"resourceTypeId": "customer"}]}),
            "InvalidInput",
        ),
        (
            json!({"destination": {"type": "EventGrid", "uri": "https://t.westeurope-1.eventgrid.azure.net/api/events", "accessKey": "k"}, "changes": [{"resourceTypeId": "customer"}]}),
            "InvalidInput",
        ),
        (
            json!({"destination": {"type": "SQS", "queueUrl": "https://sqs/q", "region": "eu-west-1"}, "changes": [{"resourceTypeId": "customer"}]}),
            "RequiredField",
        ),
        (
            json!({"destination": {"type": "ConfluentCloud", "bootstrapServer": "b:9092", "apiKey": "k", "apiSecret": "s", "acks": "2", "topic": "t"}, "changes": [{"resourceTypeId": "customer"}]}),
            "InvalidField",
        ),
        (
            json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer"}], "format": {"type": "CloudEvents", "cloudEventsVersion": "0.3"}}),
            "InvalidField",
        ),
    ];
    for (draft, code) in cases {
        let r = app.post("/demo/subscriptions", &token, draft.clone()).await;
        r.error(400, code);
        assert!(!r.text.contains("guest:guest"), "{draft}: {}", r.text);
    }
    assert_eq!(
        app.get("/demo/subscriptions", &token).await.ok(200)["count"],
        0
    );
}

#[tokio::test]
async fn cloud_destinations_are_stored_with_secrets_masked_and_say_they_are_not_delivered() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let secret = "SuperSecretValue1234567890";
    let destinations = [
        (
            json!({"type": "SQS", "queueUrl": "https://sqs.eu-west-1.amazonaws.com/1/q", "region": "eu-west-1", "accessKey": "AKIA1", "accessSecret": secret, "authenticationMode": "Credentials"}),
            "accessSecret",
        ),
        (
            json!({"type": "SNS", "topicArn": "arn:aws:sns:eu-west-1:1:t", "accessKey": "AKIA1", "accessSecret": secret}),
            "accessSecret",
        ),
        (
            json!({"type": "AzureServiceBus", "connectionString": format!("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey={secret}")}),
            "connectionString",
        ),
        (
            json!({"type": "ConfluentCloud", "bootstrapServer": "b:9092", "apiKey": secret, "apiSecret": secret, "acks": "all", "topic": "t"}),
            "apiSecret",
        ),
        (
            json!({"type": "EventBridge", "region": "eu-west-1", "accountId": "123456789012", "source": "s"}),
            "source",
        ),
        (
            json!({"type": "GoogleCloudPubSub", "projectId": "p", "topic": "t"}),
            "topic",
        ),
    ];
    for (destination, field) in destinations {
        let r = app
            .post(
                "/demo/subscriptions",
                &token,
                json!({"destination": destination, "changes": [{"resourceTypeId": "customer"}]}),
            )
            .await;
        let s = r.ok(201).clone();
        assert!(!r.text.contains(secret), "{}", r.text);
        assert!(s["destination"][field].is_string(), "{field}");
        if destination.to_string().contains(secret) {
            assert!(
                s["destination"].to_string().contains("****7890"),
                "{}",
                s["destination"]
            );
        }
        assert_eq!(s["status"], "ConfigurationError");
        let id = s["id"].as_str().unwrap();
        let g = app.get(&format!("/demo/subscriptions/{id}"), &token).await;
        assert!(!g.text.contains(secret));
        let h = app
            .request(
                reqwest::Method::GET,
                &format!("/demo/subscriptions/{id}/health"),
                None,
                None,
            )
            .await;
        assert_eq!(h.status, 400);
    }
    let all = app.get("/demo/subscriptions?limit=500", &token).await;
    assert_eq!(all.ok(200)["count"], 6);
    assert!(!all.text.contains(secret));
    // EventGrid needs the CloudEvents format, and its key is masked too.
    let r = app
        .post(
            "/demo/subscriptions",
            &token,
            json!({"destination": {"type": "EventGrid", "uri": "https://t.westeurope-1.eventgrid.azure.net/api/events", "accessKey": secret},
                   "changes": [{"resourceTypeId": "customer"}],
                   "format": {"type": "CloudEvents", "cloudEventsVersion": "1.0"}}),
        )
        .await;
    assert_eq!(r.ok(201)["destination"]["accessKey"], "****7890");
    assert_eq!(
        r.body["format"],
        json!({"type": "CloudEvents", "cloudEventsVersion": "1.0"})
    );
}

#[tokio::test]
async fn subscriptions_need_manage_subscriptions() {
    let app = spawn_app().await;
    let customers = app.token("manage_customers:demo").await;
    let subs = app.token("manage_subscriptions:demo").await;
    let e = app.get("/demo/subscriptions", &customers).await;
    e.error(403, "insufficient_scope");
    let e = app
        .post(
            "/demo/subscriptions",
            &customers,
            json!({"destination": rabbit("x"), "changes": [{"resourceTypeId": "customer"}]}),
        )
        .await;
    e.error(403, "insufficient_scope");
    app.get("/demo/subscriptions", &subs).await.ok(200);
    let missing = uuid::Uuid::new_v4();
    let h = app
        .request(
            reqwest::Method::GET,
            &format!("/demo/subscriptions/{missing}/health"),
            None,
            None,
        )
        .await;
    assert_eq!(h.status, 404);
}

#[tokio::test]
async fn a_project_has_at_most_fifty_subscriptions() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let draft = json!({"destination": {"type": "GoogleCloudPubSub", "projectId": "p", "topic": "t"},
                       "changes": [{"resourceTypeId": "customer"}]});
    for _ in 0..50 {
        create(&app, &token, draft.clone()).await;
    }
    let e = app.post("/demo/subscriptions", &token, draft).await;
    assert_eq!(
        e.error(400, "MaxResourceLimitExceeded")["exceededResource"],
        "subscription"
    );
    assert_eq!(
        app.get("/demo/subscriptions?limit=0", &token).await.ok(200)["total"],
        50
    );
}

/// The limit is counted in the transaction that inserts, so creates racing for the last
/// places cannot pass it together (on PostgreSQL writers run in parallel; SQLite serializes
/// them anyway).
#[tokio::test]
async fn concurrent_creates_cannot_pass_the_limit() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let draft = json!({"destination": {"type": "GoogleCloudPubSub", "projectId": "p", "topic": "t"},
                       "changes": [{"resourceTypeId": "customer"}]});
    for _ in 0..40 {
        create(&app, &token, draft.clone()).await;
    }
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (http, base, token, draft) = (
            app.http.clone(),
            app.base.clone(),
            token.clone(),
            draft.clone(),
        );
        racing.spawn(async move {
            let r = http
                .post(format!("{base}/demo/subscriptions"))
                .bearer_auth(token)
                .json(&draft)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let mut created = 0;
    for (status, body) in racing.join_all().await {
        match status {
            201 => created += 1,
            _ => assert_eq!(
                (status, body["errors"][0]["code"].as_str()),
                (400, Some("MaxResourceLimitExceeded")),
                "{body}"
            ),
        }
    }
    assert_eq!(created, 10);
    assert_eq!(
        app.get("/demo/subscriptions?limit=0", &token).await.ok(200)["total"],
        50
    );
}

/// A create or update that fails sends no test notification: a taken key is refused before
/// the Destination hears of the Subscription.
#[tokio::test]
async fn a_refused_key_sends_no_test_notification() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let first = Queue::declare().await;
    let second = Queue::declare().await;
    create(
        &app,
        &token,
        json!({"key": "taken", "destination": rabbit(&first.name),
               "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    assert_eq!(first.take(1, Duration::from_secs(5)).await.len(), 1);
    app.post(
        "/demo/subscriptions",
        &token,
        json!({"key": "taken", "destination": rabbit(&second.name),
               "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await
    .error(400, "DuplicateField");
    let other = create(
        &app,
        &token,
        json!({"key": "other", "destination": rabbit(&first.name),
               "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await;
    assert_eq!(first.take(1, Duration::from_secs(5)).await.len(), 1);
    app.post(
        &format!("/demo/subscriptions/{}", other["id"].as_str().unwrap()),
        &token,
        json!({"version": 1, "actions": [
            {"action": "changeDestination", "destination": rabbit(&second.name)},
            {"action": "setKey", "key": "taken"}]}),
    )
    .await
    .error(400, "DuplicateField");
    assert_eq!(
        second.count().await,
        0,
        "no test notification for a refused request"
    );
}

/// RabbitMQ messages say their format in `content-type`: structured-mode CloudEvents as
/// `application/cloudevents+json` (the CloudEvents AMQP binding), Platform payloads as JSON.
#[tokio::test]
async fn rabbitmq_messages_name_their_format_in_their_content_type() {
    let app = spawn_app().await;
    let token = app.admin().await;
    for (format, expected) in [
        (json!({"type": "Platform"}), "application/json"),
        (
            json!({"type": "CloudEvents", "cloudEventsVersion": "1.0"}),
            "application/cloudevents+json",
        ),
    ] {
        let queue = Queue::declare().await;
        create(
            &app,
            &token,
            json!({"destination": rabbit(&queue.name), "changes": [{"resourceTypeId": "customer"}],
                   "format": format}),
        )
        .await;
        assert_eq!(
            queue
                .next_content_type(Duration::from_secs(5))
                .await
                .as_deref(),
            Some(expected),
            "the test notification"
        );
    }
}
