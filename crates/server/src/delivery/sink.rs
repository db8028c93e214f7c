//! Connections to the Destinations this server delivers to — RabbitMQ (publisher confirms,
//! mandatory, persistent), NATS JetStream (counted after the stream's ack) and HTTP (any 2xx)
//! — and the classification of their failures into temporary and configuration errors.
//!
//! A send returns `Ok` only once the broker (or endpoint) has acknowledged the payload. Error
//! messages name the Destination type and what failed, never a URI or a credential.

use clientele_domain::subscription::{Destination, HttpAuthentication};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::Confirmation;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use std::future::IntoFuture;
use std::time::Duration;

/// How long a connect, a publish or its acknowledgement may take before it is a temporary
/// error: a slow Destination must not hold its subscription's worker for long.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// Why a payload was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The Destination is unreachable or refused for now; retrying may succeed.
    Temporary(String),
    /// The Destination cannot accept it as configured (no route, no stream, credentials, 4xx).
    Configuration(String),
    /// This server does not deliver to this Destination type.
    NotDelivered(String),
}

impl SendError {
    /// The human-readable reason (no secrets).
    pub fn message(&self) -> &str {
        match self {
            SendError::Temporary(m) | SendError::Configuration(m) | SendError::NotDelivered(m) => m,
        }
    }
}

/// RabbitMQ's default `max_message_size` (since 4.0).
const RABBITMQ_MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// A connected Destination, kept open between sends.
pub enum Sink {
    /// A RabbitMQ channel in confirm mode.
    RabbitMq {
        /// Kept so the channel's connection stays open.
        _connection: Connection,
        /// The confirm-mode channel.
        channel: Channel,
        /// The exchange (empty: the default exchange).
        exchange: String,
        /// The routing key.
        routing_key: String,
    },
    /// A JetStream context.
    Nats {
        /// JetStream over one NATS connection.
        js: async_nats::jetstream::Context,
        /// The subject.
        subject: String,
    },
    /// An HTTP endpoint.
    Http {
        /// The shared client.
        client: reqwest::Client,
        /// The URL.
        url: String,
        /// The `Authorization` header, if any.
        authorization: Option<String>,
    },
}

impl Sink {
    /// Connects to `destination`.
    pub async fn connect(destination: &Destination) -> Result<Sink, SendError> {
        match destination {
            Destination::RabbitMQ {
                uri,
                exchange,
                routing_key,
            } => {
                let connect = Connection::connect(uri.expose(), ConnectionProperties::default());
                let connection = timed("RabbitMQ connect", connect)
                    .await?
                    .map_err(|e| amqp_error("connect to RabbitMQ", &e))?;
                // Each step is bounded: a broker that accepted the connection and then went
                // silent must not hold a create or a delivery task forever.
                let channel = timed("RabbitMQ channel", connection.create_channel())
                    .await?
                    .map_err(|e| amqp_error("open a RabbitMQ channel", &e))?;
                timed(
                    "RabbitMQ publisher confirms",
                    channel.confirm_select(ConfirmSelectOptions::default()),
                )
                .await?
                .map_err(|e| amqp_error("enable RabbitMQ publisher confirms", &e))?;
                Ok(Sink::RabbitMq {
                    _connection: connection,
                    channel,
                    exchange: exchange.clone(),
                    routing_key: routing_key.clone(),
                })
            }
            Destination::Nats { url, subject } => {
                let connect = async_nats::ConnectOptions::new()
                    .connection_timeout(SEND_TIMEOUT)
                    .connect(url.expose());
                let client = timed("NATS connect", connect).await?.map_err(|e| {
                    SendError::Temporary(format!("Could not connect to NATS: {}", e.kind()))
                })?;
                Ok(Sink::Nats {
                    js: async_nats::jetstream::new(client),
                    subject: subject.clone(),
                })
            }
            Destination::Http {
                url,
                authentication,
            } => {
                // A redirect is an answer, not a delivery: following it would POST the payload
                // (and the Authorization header) somewhere the Subscription does not name.
                let client = reqwest::Client::builder()
                    .timeout(SEND_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| SendError::Temporary(format!("HTTP client: {e}")))?;
                let authorization = authentication.as_ref().map(|a| match a {
                    HttpAuthentication::AuthorizationHeader { header_value } => {
                        header_value.expose().to_owned()
                    }
                });
                Ok(Sink::Http {
                    client,
                    url: url.clone(),
                    authorization,
                })
            }
            other => Err(SendError::NotDelivered(format!(
                "The {} destination is stored but not delivered by this server; only RabbitMQ, NATS and HTTP destinations are.",
                other.type_name()
            ))),
        }
    }

    /// Sends one payload of media type `content_type` and waits for its acknowledgement.
    pub async fn send(&self, payload: &[u8], content_type: &str) -> Result<(), SendError> {
        let (_, result) = self
            .send_all(std::slice::from_ref(&payload.to_vec()), content_type)
            .await;
        result
    }

    /// The largest payload, in bytes, this Destination takes: the NATS server's `max_payload`,
    /// RabbitMQ's default `max_message_size` (16 MiB; a broker configured lower refuses larger
    /// ones as a configuration error), none for HTTP.
    pub fn max_payload(&self) -> Option<usize> {
        match self {
            Sink::RabbitMq { .. } => Some(RABBITMQ_MAX_MESSAGE),
            Sink::Nats { js, .. } => Some(js.client().server_info().max_payload),
            Sink::Http { .. } => None,
        }
    }

    /// Sends `payloads` in order, pipelined (all published, then every acknowledgement
    /// awaited): how many, from the first, were acknowledged, and the first failure.
    pub async fn send_all(
        &self,
        payloads: &[Vec<u8>],
        content_type: &str,
    ) -> (usize, Result<(), SendError>) {
        match self {
            Sink::RabbitMq {
                channel,
                exchange,
                routing_key,
                ..
            } => {
                let mut confirms = Vec::with_capacity(payloads.len());
                let mut failure = None;
                for p in payloads {
                    let options = BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    };
                    let properties = BasicProperties::default()
                        .with_delivery_mode(PERSISTENT)
                        .with_content_type(content_type.into());
                    let publish = channel.basic_publish(
                        exchange.as_str().into(),
                        routing_key.as_str().into(),
                        options,
                        p,
                        properties,
                    );
                    match timed("RabbitMQ publish", publish).await {
                        Ok(Ok(c)) => confirms.push(c),
                        Ok(Err(e)) => {
                            failure = Some(amqp_error("publish to RabbitMQ", &e));
                            break;
                        }
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                let mut acked = 0;
                for c in confirms {
                    let confirmation = match timed("RabbitMQ publisher confirm", c).await {
                        Ok(Ok(c)) => c,
                        Ok(Err(e)) => {
                            return (acked, Err(amqp_error("confirm a RabbitMQ publish", &e)))
                        }
                        Err(e) => return (acked, Err(e)),
                    };
                    if let Err(e) = confirmed(confirmation, exchange, routing_key) {
                        return (acked, Err(e));
                    }
                    acked += 1;
                }
                (acked, failure.map_or(Ok(()), Err))
            }
            Sink::Nats { js, subject } => {
                let mut acks = Vec::with_capacity(payloads.len());
                let mut failure = None;
                for p in payloads {
                    let publish = js.publish(subject.clone(), p.clone().into());
                    match timed("NATS publish", publish).await {
                        Ok(Ok(ack)) => acks.push(ack),
                        Ok(Err(e)) => {
                            failure = Some(nats_error(&e));
                            break;
                        }
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                let mut acked = 0;
                for ack in acks {
                    match timed("JetStream ack", ack.into_future()).await {
                        Ok(Ok(_)) => acked += 1,
                        Ok(Err(e)) => return (acked, Err(nats_error(&e))),
                        Err(e) => return (acked, Err(e)),
                    }
                }
                (acked, failure.map_or(Ok(()), Err))
            }
            Sink::Http {
                client,
                url,
                authorization,
            } => {
                for (i, p) in payloads.iter().enumerate() {
                    let sent = post(client, url, authorization.as_deref(), p, content_type).await;
                    if let Err(e) = sent {
                        return (i, Err(e));
                    }
                }
                (payloads.len(), Ok(()))
            }
        }
    }

    /// Whether the connection is known to be broken (so the next send reconnects first).
    pub fn is_broken(&self) -> bool {
        match self {
            Sink::RabbitMq { channel, .. } => !channel.status().connected(),
            Sink::Nats { .. } | Sink::Http { .. } => false,
        }
    }
}

/// Whether a publisher confirm means delivered: acked and not returned as unroutable.
fn confirmed(c: Confirmation, exchange: &str, routing_key: &str) -> Result<(), SendError> {
    match c {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
            Err(SendError::Configuration(format!(
                "RabbitMQ returned the message: {} (no queue is bound for routing key '{routing_key}' on exchange '{exchange}').",
                returned.reply_text
            )))
        }
        Confirmation::Nack(None) => Err(SendError::Temporary(
            "RabbitMQ refused the message (nack).".to_owned(),
        )),
        Confirmation::NotRequested => Err(SendError::Temporary(
            "RabbitMQ did not confirm the message.".to_owned(),
        )),
    }
}

/// POSTs one payload; any 2xx is delivered, 5xx/408/429 temporary, other statuses
/// configuration.
async fn post(
    client: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
    payload: &[u8],
    content_type: &str,
) -> Result<(), SendError> {
    let mut request = client
        .post(url)
        .header("content-type", content_type)
        .body(payload.to_vec());
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    let response = request.send().await.map_err(|e| {
        SendError::Temporary(format!(
            "Could not reach the HTTP destination: {}",
            e.without_url()
        ))
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let message = format!("The HTTP destination answered {status}.");
    let temporary = status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT;
    Err(if temporary {
        SendError::Temporary(message)
    } else {
        SendError::Configuration(message)
    })
}

/// Runs `f`, a temporary error after [`SEND_TIMEOUT`].
async fn timed<F: std::future::Future>(what: &str, f: F) -> Result<F::Output, SendError> {
    tokio::time::timeout(SEND_TIMEOUT, f)
        .await
        .map_err(|_| SendError::Temporary(format!("{what} timed out.")))
}

/// IO errors are temporary; anything the broker said (access refused, no such exchange) is
/// configuration.
fn amqp_error(what: &str, e: &lapin::Error) -> SendError {
    match e.kind() {
        lapin::ErrorKind::IOError(io) => {
            SendError::Temporary(format!("Could not {what}: {}", io.kind()))
        }
        lapin::ErrorKind::ProtocolError(p) => {
            SendError::Configuration(format!("Could not {what}: {}", p.get_message()))
        }
        lapin::ErrorKind::MissingHeartbeatError
        | lapin::ErrorKind::InvalidChannelState(..)
        | lapin::ErrorKind::InvalidConnectionState(..) => {
            SendError::Temporary(format!("Could not {what}: the connection was lost."))
        }
        _ => SendError::Configuration(format!("Could not {what}.")),
    }
}

/// No stream for the subject is configuration; anything else temporary.
fn nats_error(e: &async_nats::jetstream::context::PublishError) -> SendError {
    use async_nats::jetstream::context::PublishErrorKind;
    match e.kind() {
        PublishErrorKind::StreamNotFound => {
            SendError::Configuration("No JetStream stream captures the NATS subject.".to_owned())
        }
        PublishErrorKind::MaxPayloadExceeded => {
            SendError::Configuration("The payload exceeds the NATS server's max_payload.".into())
        }
        kind => SendError::Temporary(format!("NATS JetStream publish failed: {kind}")),
    }
}
