//! The commercetools `Subscription` resource as data and its rules (subscriptions.md §2–§3,
//! §6): drafts, Destinations and their validation, the update actions, and the masking of
//! secrets on every read. Secrets are kept in clear only in the stored resource (the delivery
//! needs them); [`Secret`]'s `Debug` never shows them, so a logged value cannot leak one.
//!
//! Must not deliver anything or check whether a Destination is reachable (that is IO).

use crate::error::DomainError;
use crate::logging::ClientLogging;
use crate::newtypes::{Key, Version};
use crate::serde_formats::datetime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// A secret string (password-bearing URI, header value, key): stored as given, shown masked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The value in clear, for the delivery only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `****` followed by the last four characters, or only `****` when the secret is too
    /// short for four characters to be a small part of it.
    pub(crate) fn masked(&self) -> Secret {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return Secret("****".to_owned());
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        Secret(format!("****{tail}"))
    }

    /// A URI with its password (the part between `user:` and `@`) replaced by `****`.
    fn masked_uri(&self) -> Secret {
        Secret(mask_uri_password(&self.0))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// `scheme://user:****@host…` for `scheme://user:password@host…`, and `scheme://****@host…`
/// for userinfo without a colon (a NATS token, a webhook's credentials); other URIs unchanged.
pub fn mask_uri_password(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return uri.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}{path}"),
        None => format!("{scheme}://****@{host}{path}"),
    }
}

/// How an HTTP Destination authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum HttpAuthentication {
    /// The `Authorization` header's whole value.
    AuthorizationHeader {
        /// Sent as the `Authorization` header.
        header_value: Secret,
    },
}

/// `Credentials` (key and secret given) or `IAM` (access granted to the platform's principal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AwsAuthenticationMode {
    /// An access key and secret are given.
    Credentials,
    /// No credentials: access is granted by IAM policy.
    #[serde(rename = "IAM")]
    Iam,
}

/// Where a Subscription delivers (discriminator `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Destination {
    /// A RabbitMQ (AMQP 0-9-1) exchange; the empty exchange is the default one.
    RabbitMQ {
        /// `amqp://user:pass@host:5672/vhost`; the password is masked on reads.
        uri: Secret,
        /// The exchange; `""` is the default exchange (the routing key names a queue).
        #[serde(default)]
        exchange: String,
        /// The routing key.
        routing_key: String,
    },
    /// A NATS JetStream subject.
    #[serde(rename = "NATS")]
    Nats {
        /// `nats://host:4222`; a password in it is masked on reads.
        url: Secret,
        /// The subject a JetStream stream must capture.
        subject: String,
    },
    /// A webhook: POST of the payload as JSON, any 2xx is delivered.
    #[serde(rename = "HTTP")]
    Http {
        /// `http://…` or `https://…`.
        url: String,
        /// Optional `Authorization` header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authentication: Option<HttpAuthentication>,
    },
    /// AWS SQS.
    #[serde(rename = "SQS")]
    Sqs {
        /// The queue URL.
        queue_url: String,
        /// The AWS region.
        region: String,
        /// Access key (with `Credentials`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key: Option<String>,
        /// Access secret (with `Credentials`); masked on reads.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_secret: Option<Secret>,
        /// `Credentials` (default) or `IAM`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authentication_mode: Option<AwsAuthenticationMode>,
    },
    /// AWS SNS.
    #[serde(rename = "SNS")]
    Sns {
        /// The topic ARN.
        topic_arn: String,
        /// Access key (with `Credentials`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key: Option<String>,
        /// Access secret (with `Credentials`); masked on reads.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_secret: Option<Secret>,
        /// `Credentials` (default) or `IAM`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authentication_mode: Option<AwsAuthenticationMode>,
    },
    /// AWS EventBridge partner event source.
    EventBridge {
        /// The AWS region.
        region: String,
        /// The AWS account id.
        account_id: String,
        /// The event source name.
        source: String,
    },
    /// Google Cloud Pub/Sub.
    GoogleCloudPubSub {
        /// The GCP project.
        project_id: String,
        /// The topic.
        topic: String,
    },
    /// Azure Service Bus; the `SharedAccessKey` in the connection string is masked on reads.
    AzureServiceBus {
        /// The connection string.
        connection_string: Secret,
    },
    /// Azure Event Grid (CloudEvents format only).
    EventGrid {
        /// The topic endpoint.
        uri: String,
        /// The access key; masked on reads.
        access_key: Secret,
    },
    /// Confluent Cloud (Kafka).
    ConfluentCloud {
        /// `host:port`.
        bootstrap_server: String,
        /// API key; masked on reads.
        api_key: Secret,
        /// API secret; masked on reads.
        api_secret: Secret,
        /// `"0"`, `"1"` or `"all"`.
        acks: String,
        /// The topic.
        topic: String,
        /// The Kafka record key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
}

/// The Destination `type`s this server delivers to; the others are stored only.
pub const DELIVERED_DESTINATION_TYPES: &[&str] = &["RabbitMQ", "NATS", "HTTP"];

impl Destination {
    /// The `type` discriminator.
    pub fn type_name(&self) -> &'static str {
        match self {
            Destination::RabbitMQ { .. } => "RabbitMQ",
            Destination::Nats { .. } => "NATS",
            Destination::Http { .. } => "HTTP",
            Destination::Sqs { .. } => "SQS",
            Destination::Sns { .. } => "SNS",
            Destination::EventBridge { .. } => "EventBridge",
            Destination::GoogleCloudPubSub { .. } => "GoogleCloudPubSub",
            Destination::AzureServiceBus { .. } => "AzureServiceBus",
            Destination::EventGrid { .. } => "EventGrid",
            Destination::ConfluentCloud { .. } => "ConfluentCloud",
        }
    }

    /// Whether this server delivers to this Destination type (the cloud ones are stored only).
    pub fn is_delivered(&self) -> bool {
        DELIVERED_DESTINATION_TYPES.contains(&self.type_name())
    }

    /// The Destination as every read shows it: secrets masked.
    pub fn masked(&self) -> Destination {
        let mut d = self.clone();
        match &mut d {
            Destination::RabbitMQ { uri, .. } => *uri = uri.masked_uri(),
            Destination::Nats { url, .. } => *url = url.masked_uri(),
            Destination::Http {
                url,
                authentication,
            } => {
                *url = mask_uri_password(url);
                if let Some(HttpAuthentication::AuthorizationHeader { header_value }) =
                    authentication
                {
                    *header_value = header_value.masked();
                }
            }
            Destination::EventBridge { .. } | Destination::GoogleCloudPubSub { .. } => {}
            Destination::Sqs { access_secret, .. } | Destination::Sns { access_secret, .. } => {
                *access_secret = access_secret.as_ref().map(Secret::masked);
            }
            Destination::AzureServiceBus { connection_string } => {
                *connection_string = Secret(mask_shared_access_key(connection_string.expose()));
            }
            Destination::EventGrid { access_key, .. } => *access_key = access_key.masked(),
            Destination::ConfluentCloud {
                api_key,
                api_secret,
                ..
            } => {
                *api_key = api_key.masked();
                *api_secret = api_secret.masked();
            }
        }
        d
    }

    /// Checks the fields beyond their JSON shape (schemes, required values, the format).
    pub fn validate(&self, format: &DeliveryFormat) -> Result<(), DomainError> {
        match self {
            Destination::RabbitMQ {
                uri, routing_key, ..
            } => {
                require_scheme(uri.expose(), &["amqp", "amqps"], "destination.uri")?;
                if routing_key.is_empty() {
                    return Err(required("destination.routingKey"));
                }
            }
            Destination::Nats { url, subject } => {
                require_scheme(url.expose(), &["nats"], "destination.url")?;
                let bad = subject.is_empty()
                    || subject.contains(['*', '>', ' '])
                    || subject.split('.').any(str::is_empty);
                if bad {
                    return Err(DomainError::InvalidInput(format!(
                        "Invalid NATS subject '{subject}'. A subject is one or more non-empty tokens separated by '.', without wildcards or spaces."
                    )));
                }
            }
            Destination::Http {
                url,
                authentication,
            } => {
                require_scheme(url, &["http", "https"], "destination.url")?;
                if let Some(HttpAuthentication::AuthorizationHeader { header_value }) =
                    authentication
                {
                    if header_value.expose().is_empty() {
                        return Err(required("destination.authentication.headerValue"));
                    }
                }
            }
            Destination::Sqs {
                queue_url,
                region,
                access_key,
                access_secret,
                authentication_mode,
            } => {
                non_empty(queue_url, "destination.queueUrl")?;
                non_empty(region, "destination.region")?;
                check_aws_credentials(access_key, access_secret, *authentication_mode)?;
            }
            Destination::Sns {
                topic_arn,
                access_key,
                access_secret,
                authentication_mode,
            } => {
                if !topic_arn.starts_with("arn:") {
                    return Err(DomainError::InvalidInput(format!(
                        "Invalid topicArn '{topic_arn}'. It must be an ARN (arn:aws:sns:…)."
                    )));
                }
                check_aws_credentials(access_key, access_secret, *authentication_mode)?;
            }
            Destination::EventBridge {
                region,
                account_id,
                source,
            } => {
                non_empty(region, "destination.region")?;
                non_empty(source, "destination.source")?;
                if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(DomainError::InvalidInput(format!(
                        "Invalid accountId '{account_id}'. An AWS account id is 12 digits."
                    )));
                }
            }
            Destination::GoogleCloudPubSub { project_id, topic } => {
                non_empty(project_id, "destination.projectId")?;
                non_empty(topic, "destination.topic")?;
            }
            Destination::AzureServiceBus { connection_string } => {
                let s = connection_string.expose();
                let has = |name: &str| {
                    s.split(';')
                        .any(|part| connection_value(part, name).is_some())
                };
                if !has("Endpoint") || !has("SharedAccessKey") {
                    return Err(DomainError::InvalidInput(
                        "Invalid connectionString. It must contain Endpoint=… and SharedAccessKey=…."
                            .to_owned(),
                    ));
                }
            }
            Destination::EventGrid { uri, access_key } => {
                require_scheme(uri, &["https"], "destination.uri")?;
                non_empty(access_key.expose(), "destination.accessKey")?;
                if !matches!(format, DeliveryFormat::CloudEvents { .. }) {
                    return Err(DomainError::InvalidInput(
                        "The EventGrid destination requires the CloudEvents format.".to_owned(),
                    ));
                }
            }
            Destination::ConfluentCloud {
                bootstrap_server,
                api_key,
                api_secret,
                acks,
                topic,
                ..
            } => {
                non_empty(bootstrap_server, "destination.bootstrapServer")?;
                non_empty(api_key.expose(), "destination.apiKey")?;
                non_empty(api_secret.expose(), "destination.apiSecret")?;
                non_empty(topic, "destination.topic")?;
                if !["0", "1", "all"].contains(&acks.as_str()) {
                    return Err(DomainError::InvalidField {
                        field: "destination.acks".to_owned(),
                        invalid_value: Value::String(acks.clone()),
                        allowed_values: Some(vec!["0".into(), "1".into(), "all".into()]),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `SharedAccessKey=****` (last four kept when long enough) inside a connection string.
fn mask_shared_access_key(s: &str) -> String {
    s.split(';')
        .map(|part| match connection_value(part, "SharedAccessKey") {
            Some(key) => format!("SharedAccessKey={}", Secret(key.to_owned()).masked().0),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The value of `part` (`Name=value` of a connection string) when its name is `name`, compared
/// as Azure does: ignoring surrounding spaces and letter case.
fn connection_value<'a>(part: &'a str, name: &str) -> Option<&'a str> {
    let (key, value) = part.split_once('=')?;
    key.trim().eq_ignore_ascii_case(name).then_some(value)
}

fn required(field: &str) -> DomainError {
    DomainError::RequiredField {
        field: field.to_owned(),
    }
}

fn non_empty(value: &str, field: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(required(field));
    }
    Ok(())
}

fn require_scheme(uri: &str, schemes: &[&str], field: &str) -> Result<(), DomainError> {
    let ok = uri.split_once("://").is_some_and(|(scheme, rest)| {
        schemes.contains(&scheme.to_ascii_lowercase().as_str()) && !rest.is_empty()
    });
    if ok {
        return Ok(());
    }
    Err(DomainError::InvalidInput(format!(
        "Invalid {field} '{}'. Expected a URI with scheme {}.",
        mask_uri_password(uri),
        schemes.join(" or ")
    )))
}

fn check_aws_credentials(
    key: &Option<String>,
    secret: &Option<Secret>,
    mode: Option<AwsAuthenticationMode>,
) -> Result<(), DomainError> {
    match mode.unwrap_or(AwsAuthenticationMode::Credentials) {
        AwsAuthenticationMode::Credentials => {
            if key.as_deref().is_none_or(str::is_empty) {
                return Err(required("destination.accessKey"));
            }
            if secret.as_ref().is_none_or(|s| s.expose().is_empty()) {
                return Err(required("destination.accessSecret"));
            }
        }
        AwsAuthenticationMode::Iam => {
            if key.is_some() || secret.is_some() {
                return Err(DomainError::InvalidInput(
                    "accessKey and accessSecret must not be set with authenticationMode IAM."
                        .to_owned(),
                ));
            }
        }
    }
    Ok(())
}

/// Subscriptions per project (commercetools: 50 since 2021-08-19).
pub const MAX_SUBSCRIPTIONS: u64 = 50;

/// `MaxResourceLimitExceeded` when a project that has `existing` Subscriptions may not get
/// another.
pub fn check_subscription_limit(existing: u64) -> Result<(), DomainError> {
    if existing >= MAX_SUBSCRIPTIONS {
        return Err(subscription_limit_exceeded());
    }
    Ok(())
}

/// The error of a Subscription beyond [`MAX_SUBSCRIPTIONS`] in one project.
pub fn subscription_limit_exceeded() -> DomainError {
    DomainError::MaxResourceLimitExceeded {
        exceeded_resource: "subscription".to_owned(),
        limit: MAX_SUBSCRIPTIONS,
    }
}

/// The resource types whose Messages a MessageSubscription may name (RAML enum).
pub const MESSAGE_RESOURCE_TYPES: &[&str] = &[
    "approval-flow",
    "approval-rule",
    "associate-role",
    "business-unit",
    "category",
    "customer",
    "customer-email-token",
    "customer-group",
    "customer-password-token",
    "inventory-entry",
    "order",
    "payment",
    "product",
    "product-selection",
    "product-tailoring",
    "quote",
    "quote-request",
    "review",
    "shopping-list",
    "staged-quote",
    "standalone-price",
    "store",
];

/// The resource types a ChangeSubscription may name (RAML enum).
pub const CHANGE_RESOURCE_TYPES: &[&str] = &[
    "approval-flow",
    "approval-rule",
    "associate-role",
    "attribute-group",
    "business-unit",
    "cart",
    "cart-discount",
    "category",
    "channel",
    "customer",
    "customer-email-token",
    "customer-group",
    "customer-password-token",
    "discount-code",
    "extension",
    "inventory-entry",
    "key-value-document",
    "order",
    "payment",
    "product",
    "product-discount",
    "product-price",
    "product-selection",
    "product-type",
    "quote",
    "quote-request",
    "review",
    "shipping-method",
    "shopping-list",
    "staged-quote",
    "standalone-price",
    "state",
    "store",
    "subscription",
    "tax-category",
    "type",
    "zone",
    "recurring-order",
    "recurrence-policy",
    "product-tailoring",
    "discount-group",
];

/// Which Messages of one resource type to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageSubscription {
    /// The resource type whose Messages are delivered.
    pub resource_type_id: String,
    /// The Message types; absent or empty means all of that resource type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
}

/// Which resource type's changes to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeSubscription {
    /// The resource type whose creations, updates and deletions are delivered.
    pub resource_type_id: String,
}

/// Checkout/Import events (BETA); stored as given, never produced by this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSubscription {
    /// `checkout` or `import-api`.
    pub resource_type_id: String,
    /// The event types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
}

/// The payload format (discriminator `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum DeliveryFormat {
    /// `SubscriptionNotification` JSON.
    #[default]
    Platform,
    /// CloudEvents JSON event format.
    CloudEvents {
        /// Always `"1.0"`.
        cloud_events_version: String,
    },
}

/// The delivery health of a Subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SubscriptionHealthStatus {
    /// Delivering.
    #[default]
    Healthy,
    /// Cannot deliver with the current configuration; notifications are kept and retried.
    ConfigurationError,
    /// Stopped after a configuration error lasted too long; notifications are dropped.
    ConfigurationErrorDeliveryStopped,
    /// A temporary outage at the Destination; retried.
    TemporaryError,
    /// Suspended by an operator.
    ManuallySuspended,
}

impl SubscriptionHealthStatus {
    /// The name as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::ConfigurationError => "ConfigurationError",
            Self::ConfigurationErrorDeliveryStopped => "ConfigurationErrorDeliveryStopped",
            Self::TemporaryError => "TemporaryError",
            Self::ManuallySuspended => "ManuallySuspended",
        }
    }

    /// Whether a Subscription in this state gets nothing delivered: its undelivered
    /// notifications are dropped and no new ones are queued.
    pub fn drops_notifications(self) -> bool {
        matches!(
            self,
            Self::ConfigurationErrorDeliveryStopped | Self::ManuallySuspended
        )
    }
}

/// The commercetools `Subscription` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Server-generated UUID.
    pub id: String,
    /// Current version.
    pub version: Version,
    /// When it was created.
    #[serde(with = "datetime")]
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<ClientLogging>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ClientLogging>,
    /// User-defined unique key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where notifications go (secrets in clear here; see [`Subscription::masked`]).
    pub destination: Destination,
    /// Message subscriptions.
    #[serde(default)]
    pub messages: Vec<MessageSubscription>,
    /// Change subscriptions.
    #[serde(default)]
    pub changes: Vec<ChangeSubscription>,
    /// Event subscriptions (BETA).
    #[serde(default)]
    pub events: Vec<EventSubscription>,
    /// The payload format.
    #[serde(default)]
    pub format: DeliveryFormat,
    /// The delivery health.
    #[serde(default)]
    pub status: SubscriptionHealthStatus,
}

impl Subscription {
    /// The Subscription as every read shows it: its Destination's secrets masked.
    pub fn masked(mut self) -> Subscription {
        self.destination = self.destination.masked();
        self
    }
}

/// What `POST /{p}/subscriptions` accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionDraft {
    /// Where notifications go.
    pub destination: Destination,
    /// User-defined unique key.
    #[serde(default)]
    pub key: Option<String>,
    /// Message subscriptions.
    #[serde(default)]
    pub messages: Option<Vec<MessageSubscription>>,
    /// Change subscriptions.
    #[serde(default)]
    pub changes: Option<Vec<ChangeSubscription>>,
    /// Event subscriptions.
    #[serde(default)]
    pub events: Option<Vec<EventSubscription>>,
    /// The payload format (default Platform).
    #[serde(default)]
    pub format: Option<DeliveryFormat>,
}

/// One Subscription update action.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum SubscriptionUpdateAction {
    /// Replaces the Destination (after a test notification) and resets the health.
    ChangeDestination {
        /// The new Destination.
        destination: Destination,
    },
    /// Sets or removes the key.
    SetKey {
        /// Absent removes it.
        #[serde(default)]
        key: Option<String>,
    },
    /// Replaces the Message subscriptions.
    SetMessages {
        /// Absent removes them.
        #[serde(default)]
        messages: Option<Vec<MessageSubscription>>,
    },
    /// Replaces the change subscriptions.
    SetChanges {
        /// Absent removes them.
        #[serde(default)]
        changes: Option<Vec<ChangeSubscription>>,
    },
    /// Replaces the event subscriptions.
    SetEvents {
        /// Absent removes them.
        #[serde(default)]
        events: Option<Vec<EventSubscription>>,
    },
}

/// Reads one update action (`InvalidJsonInput` for an unknown action or a bad shape).
pub fn parse_subscription_action(v: &Value) -> Result<SubscriptionUpdateAction, DomainError> {
    serde_json::from_value(v.clone())
        .map_err(|e| DomainError::invalid_json(format!("actions: {e}")))
}

fn check_key(key: &Option<String>) -> Result<(), DomainError> {
    if let Some(k) = key {
        Key::parse(k, "key")?;
    }
    Ok(())
}

fn check_messages(messages: &[MessageSubscription]) -> Result<(), DomainError> {
    for m in messages {
        if !MESSAGE_RESOURCE_TYPES.contains(&m.resource_type_id.as_str()) {
            return Err(invalid_resource_type("messages", &m.resource_type_id));
        }
        if m.types.iter().flatten().any(|t| t.trim().is_empty()) {
            return Err(DomainError::InvalidInput(
                "A Message type in messages.types must not be empty.".to_owned(),
            ));
        }
    }
    Ok(())
}

fn check_changes(changes: &[ChangeSubscription]) -> Result<(), DomainError> {
    for c in changes {
        if !CHANGE_RESOURCE_TYPES.contains(&c.resource_type_id.as_str()) {
            return Err(invalid_resource_type("changes", &c.resource_type_id));
        }
    }
    Ok(())
}

fn check_events(events: &[EventSubscription]) -> Result<(), DomainError> {
    for e in events {
        if !["checkout", "import-api"].contains(&e.resource_type_id.as_str()) {
            return Err(invalid_resource_type("events", &e.resource_type_id));
        }
    }
    Ok(())
}

fn invalid_resource_type(list: &str, value: &str) -> DomainError {
    DomainError::InvalidField {
        field: format!("{list}.resourceTypeId"),
        invalid_value: Value::String(value.to_owned()),
        allowed_values: None,
    }
}

fn check_something_subscribed(s: &Subscription) -> Result<(), DomainError> {
    if s.messages.is_empty() && s.changes.is_empty() && s.events.is_empty() {
        return Err(DomainError::InvalidInput(
            "Either messages, changes or events must be set.".to_owned(),
        ));
    }
    Ok(())
}

fn check_format(format: &DeliveryFormat) -> Result<(), DomainError> {
    if let DeliveryFormat::CloudEvents {
        cloud_events_version,
    } = format
    {
        if cloud_events_version != "1.0" {
            return Err(DomainError::InvalidField {
                field: "format.cloudEventsVersion".to_owned(),
                invalid_value: Value::String(cloud_events_version.clone()),
                allowed_values: Some(vec!["1.0".into()]),
            });
        }
    }
    Ok(())
}

/// Builds a Subscription from a draft (status `Healthy`); the caller checks the Destination is
/// reachable before storing it.
pub fn create_subscription(
    draft: SubscriptionDraft,
    id: String,
    now: OffsetDateTime,
) -> Result<Subscription, DomainError> {
    check_key(&draft.key)?;
    let format = draft.format.unwrap_or_default();
    check_format(&format)?;
    draft.destination.validate(&format)?;
    let s = Subscription {
        id,
        version: Version::FIRST,
        created_at: now,
        last_modified_at: now,
        last_modified_by: None,
        created_by: None,
        key: draft.key,
        destination: draft.destination,
        messages: draft.messages.unwrap_or_default(),
        changes: draft.changes.unwrap_or_default(),
        events: draft.events.unwrap_or_default(),
        format,
        status: SubscriptionHealthStatus::Healthy,
    };
    check_messages(&s.messages)?;
    check_changes(&s.changes)?;
    check_events(&s.events)?;
    check_something_subscribed(&s)?;
    Ok(s)
}

/// Applies `actions` in order: one version increment if anything changed, else `current`.
pub fn apply_subscription_actions(
    current: Subscription,
    actions: &[SubscriptionUpdateAction],
    now: OffsetDateTime,
) -> Result<Subscription, DomainError> {
    let mut next = current.clone();
    for a in actions {
        match a {
            SubscriptionUpdateAction::ChangeDestination { destination } => {
                destination.validate(&next.format)?;
                next.destination = destination.clone();
                next.status = SubscriptionHealthStatus::Healthy;
            }
            SubscriptionUpdateAction::SetKey { key } => {
                check_key(key)?;
                next.key = key.clone();
            }
            SubscriptionUpdateAction::SetMessages { messages } => {
                let m = messages.clone().unwrap_or_default();
                check_messages(&m)?;
                next.messages = m;
            }
            SubscriptionUpdateAction::SetChanges { changes } => {
                let c = changes.clone().unwrap_or_default();
                check_changes(&c)?;
                next.changes = c;
            }
            SubscriptionUpdateAction::SetEvents { events } => {
                let e = events.clone().unwrap_or_default();
                check_events(&e)?;
                next.events = e;
            }
        }
    }
    check_something_subscribed(&next)?;
    if next == current {
        return Ok(current);
    }
    next.version = current.version.next();
    next.last_modified_at = now;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_passwords_are_masked() {
        assert_eq!(
            mask_uri_password("amqp://guest:secret@127.0.0.1:5672/vh"),
            "amqp://guest:****@127.0.0.1:5672/vh"
        );
        assert_eq!(
            mask_uri_password("nats://127.0.0.1:4222"),
            "nats://127.0.0.1:4222"
        );
        // A token alone (NATS) or a user alone is userinfo too, and may be the secret.
        assert_eq!(
            mask_uri_password("nats://s3cr3tToken@127.0.0.1:4222"),
            "nats://****@127.0.0.1:4222"
        );
    }

    #[test]
    fn webhook_urls_lose_their_credentials_on_reads() {
        let d = Destination::Http {
            url: "https://user:pw@hooks.example.com/in".to_owned(),
            authentication: None,
        };
        let Destination::Http { url, .. } = d.masked() else {
            unreachable!()
        };
        assert_eq!(url, "https://user:****@hooks.example.com/in");
    }

    #[test]
    fn azure_keys_are_found_whatever_their_spacing_and_case() {
        let d = Destination::AzureServiceBus {
            connection_string: Secret::from(
                "Endpoint=sb://x/; sharedaccesskey=abcdefghijklmnopqrstuvwxyz",
            ),
        };
        assert!(d.validate(&DeliveryFormat::default()).is_ok());
        let Destination::AzureServiceBus { connection_string } = d.masked() else {
            unreachable!()
        };
        assert!(!connection_string.expose().contains("abcdefghij"));
        assert!(connection_string
            .expose()
            .ends_with("SharedAccessKey=****wxyz"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let s = Secret::from("Bearer abcdefghijklmnop");
        assert!(!format!("{s:?}").contains("abcdef"));
        assert_eq!(s.masked().expose(), "****mnop");
        assert_eq!(Secret::from("short").masked().expose(), "****");
    }

    #[test]
    fn azure_shared_access_key_is_masked() {
        let d = Destination::AzureServiceBus {
            connection_string: Secret::from(
                "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=abcdefghijklmnopqrstuvwxyz",
            ),
        };
        let Destination::AzureServiceBus { connection_string } = d.masked() else {
            unreachable!()
        };
        assert!(connection_string
            .expose()
            .ends_with("SharedAccessKey=****wxyz"));
        assert!(connection_string.expose().contains("SharedAccessKeyName=k"));
    }
}
