//! The one API error type and its one table from variant to commercetools error `code`, HTTP
//! status and the error object's extra fields.
//!
//! Every failure a client can see is an [`ApiError`]; its body is commercetools'
//! `{statusCode, message, errors:[{code, message, ...}]}` (plus `error`/`error_description` for
//! OAuth and scope failures). Each code is listed once, in [`ApiError::wire`] (domain codes in
//! [`domain_wire`]); rules of the domain stay [`DomainError`]s, wrapped, not copied. 5xx bodies
//! say nothing specific; the cause goes to the log. This module knows no store or handler.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clientele_domain::DomainError;
use clientele_store::StoreError;
use serde_json::{json, Map, Value};

/// Everything an API request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A rule of the Customers API the request broke (400; `InvalidInput`, `InvalidJsonInput`,
    /// `DuplicateField`, …), as the domain states it.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// 400 `ReferenceExists`: the resource is still referenced and cannot be deleted.
    #[error("Can not delete a {resource} while it is referenced by at least one {referenced_by}.")]
    ReferenceExists {
        /// The `typeId` of the resource being deleted.
        resource: String,
        /// The `typeId` of a resource that references it.
        referenced_by: String,
    },
    /// 400 `LanguageUsedInStores`: a project update removes languages Stores still use.
    #[error("Language(s) in use by a store cannot be deleted. Remove them in all the stores of this project first.")]
    LanguageUsedInStores,
    /// 400 `InvalidCredentials`.
    #[error("Account with the given credentials not found.")]
    InvalidCredentials,
    /// 400 `AnonymousIdAlreadyInUse`: an anonymous session id that was already issued.
    #[error("The given anonymous ID is already in use.")]
    AnonymousIdAlreadyInUse,
    /// 400 `InvalidCurrentPassword`.
    #[error("The given current password does not match.")]
    InvalidCurrentPassword,
    /// 400 `ExpiredCustomerPasswordToken`.
    #[error("The given password token has expired.")]
    ExpiredCustomerPasswordToken,
    /// 400 `ExpiredCustomerEmailToken`.
    #[error("The given email token has expired.")]
    ExpiredCustomerEmailToken,
    /// 400 `QueryComplexityLimitExceeded`.
    #[error("{0}")]
    QueryComplexityLimitExceeded(String),
    /// 404 `ResourceNotFound`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// 409 `ConcurrentModification`.
    #[error("Object {id} has a different version than expected. Expected: {expected} - Actual: {current}.")]
    ConcurrentModification {
        /// The resource id.
        id: String,
        /// The version the client sent.
        expected: u64,
        /// The stored version.
        current: u64,
    },
    /// 409 `SearchNotReady`: Customer Search is deactivated or still indexing.
    #[error("Customer Search is not ready. Check the indexing-status endpoint and that the feature has been activated in the project settings.")]
    SearchNotReady,
    /// 409 `LockedField`.
    #[error("'{field}' is locked by another request. Please try again later.")]
    LockedField {
        /// The field.
        field: String,
    },
    /// 413 `ContentTooLarge`: the request body is over the limit.
    #[error("Content too large.")]
    ContentTooLarge,
    /// 405: the path exists but not for this method.
    #[error("Method not allowed.")]
    MethodNotAllowed,
    /// 503 `OverCapacity`: the password-hashing queue is full.
    #[error("The service is over capacity. Please try again later.")]
    OverCapacity,
    /// 503 `OverCapacity`: the database cannot write (or answer) right now — an I/O error, a
    /// full disk, a lost connection. Nothing was changed; the same request may work later.
    #[error("The service cannot write right now. Please try again later.")]
    StorageUnavailable,
    /// 503 `ServiceUnavailable`: the server is shutting down and its grace period ended
    /// before this request finished; nothing of it was committed unless it had finished.
    #[error("The server is shutting down. Please retry the request.")]
    ShuttingDown,
    /// 429 `TooManyRequests`: too many failed sign-ins for this account or API client
    /// (`--login-throttle`); `Retry-After` says when to try again.
    #[error("Too many failed sign-in attempts. Please try again in {retry_after_secs} seconds.")]
    TooManyAttempts {
        /// Seconds until a new attempt is allowed.
        retry_after_secs: u64,
    },
    /// 504 `QueryTimedOut`.
    #[error("The query timed out. If your query constantly times out, please check that it follows the performance best practices.")]
    QueryTimedOut,
    /// 401 `invalid_token`: missing, unknown or expired bearer token.
    #[error("invalid_token")]
    InvalidToken,
    /// 403 `insufficient_scope`: the token lacks every scope that would allow the request.
    #[error("Insufficient scope. One of the following scopes is missing: {}.", .scopes.join(", "))]
    InsufficientScope {
        /// Scope names (without the project key) any one of which would do.
        scopes: Vec<String>,
    },
    /// 401 `invalid_client`: bad client credentials at the token endpoint.
    #[error("Please provide valid client credentials using HTTP Basic Authentication.")]
    InvalidClient,
    /// 400 `invalid_scope`: the client asked for a scope it does not have (made by
    /// [`ApiError::invalid_scope`]); commercetools answers every such case with one text.
    #[error("Malformed parameter: scope: Invalid scope.")]
    InvalidScope,
    /// 400 `unsupported_grant_type`.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// 400 `invalid_request`: a required OAuth parameter is missing or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// 400 `invalid_grant`: bad or expired refresh token.
    #[error("The refresh token was not found. It may have expired.")]
    InvalidGrant,
    /// 400 `invalid_customer_account_credentials` (password flow).
    #[error("Customer account with the given credentials not found.")]
    InvalidCustomerAccountCredentials,
    /// 500 `General`: a bug or an unreachable database. The cause is logged, not sent.
    #[error("internal: {0}")]
    Internal(String),
}

/// How one error looks on the wire: its code, status and the error object's extra fields.
#[derive(Debug)]
pub struct Wire {
    /// The commercetools error `code`.
    pub code: &'static str,
    /// The HTTP status.
    pub status: StatusCode,
    /// OAuth-style errors repeat code and message as `error` / `error_description`.
    oauth: bool,
    /// Error-specific fields of the error object (`field`, `currentVersion`, …).
    fields: Map<String, Value>,
}

impl Wire {
    fn new(code: &'static str, status: StatusCode) -> Self {
        Wire {
            code,
            status,
            oauth: false,
            fields: Map::new(),
        }
    }

    fn bad_request(code: &'static str) -> Self {
        Wire::new(code, StatusCode::BAD_REQUEST)
    }

    fn oauth(code: &'static str, status: StatusCode) -> Self {
        Wire {
            oauth: true,
            ..Wire::new(code, status)
        }
    }

    fn field(mut self, name: &str, value: Value) -> Self {
        self.fields.insert(name.to_owned(), value);
        self
    }

    fn field_if(self, name: &str, value: Option<Value>) -> Self {
        match value {
            Some(value) => self.field(name, value),
            None => self,
        }
    }
}

/// The table row of each domain error: every domain code, listed once.
fn domain_wire(e: &DomainError) -> Wire {
    use DomainError::*;
    match e {
        InvalidInput(_) => Wire::bad_request("InvalidInput"),
        InvalidOperation(_) => Wire::bad_request("InvalidOperation"),
        InvalidJsonInput { detail } => {
            Wire::bad_request("InvalidJsonInput").field("detailedErrorMessage", json!(detail))
        }
        RequiredField { field } => Wire::bad_request("RequiredField").field("field", json!(field)),
        InvalidField {
            field,
            invalid_value,
            allowed_values,
        } => Wire::bad_request("InvalidField")
            .field("field", json!(field))
            .field("invalidValue", invalid_value.clone())
            .field_if("allowedValues", allowed_values.as_ref().map(|a| json!(a))),
        DuplicateField {
            field,
            duplicate_value,
        } => Wire::bad_request("DuplicateField")
            .field("field", json!(field))
            .field("duplicateValue", duplicate_value.clone()),
        ReferencedResourceNotFound {
            type_id, id, key, ..
        } => Wire::bad_request("ReferencedResourceNotFound")
            .field("typeId", json!(type_id))
            .field_if("id", id.as_ref().map(|id| json!(id)))
            .field_if("key", key.as_ref().map(|key| json!(key))),
        ProjectNotConfiguredForLanguages { languages } => {
            Wire::bad_request("ProjectNotConfiguredForLanguages")
                .field("languages", json!(languages))
        }
        MaxResourceLimitExceeded {
            exceeded_resource, ..
        } => Wire::bad_request("MaxResourceLimitExceeded")
            .field("exceededResource", json!(exceeded_resource)),
    }
}

impl ApiError {
    /// The one table: each variant's code, status and extra fields.
    pub fn wire(&self) -> Wire {
        use ApiError::*;
        match self {
            Domain(e) => domain_wire(e),
            ReferenceExists { referenced_by, .. } => {
                Wire::bad_request("ReferenceExists").field("referencedBy", json!(referenced_by))
            }
            LanguageUsedInStores => Wire::bad_request("LanguageUsedInStores"),
            InvalidCredentials => Wire::bad_request("InvalidCredentials"),
            AnonymousIdAlreadyInUse => Wire::bad_request("AnonymousIdAlreadyInUse"),
            InvalidCurrentPassword => Wire::bad_request("InvalidCurrentPassword"),
            ExpiredCustomerPasswordToken => Wire::bad_request("ExpiredCustomerPasswordToken"),
            ExpiredCustomerEmailToken => Wire::bad_request("ExpiredCustomerEmailToken"),
            QueryComplexityLimitExceeded(_) => Wire::bad_request("QueryComplexityLimitExceeded"),
            ResourceNotFound(_) => Wire::new("ResourceNotFound", StatusCode::NOT_FOUND),
            ConcurrentModification { current, .. } => {
                Wire::new("ConcurrentModification", StatusCode::CONFLICT)
                    .field("currentVersion", json!(current))
            }
            SearchNotReady => Wire::new("SearchNotReady", StatusCode::CONFLICT),
            LockedField { field } => {
                Wire::new("LockedField", StatusCode::CONFLICT).field("field", json!(field))
            }
            ContentTooLarge => Wire::new("ContentTooLarge", StatusCode::PAYLOAD_TOO_LARGE),
            MethodNotAllowed => Wire::new("MethodNotAllowed", StatusCode::METHOD_NOT_ALLOWED),
            OverCapacity | StorageUnavailable => {
                Wire::new("OverCapacity", StatusCode::SERVICE_UNAVAILABLE)
            }
            QueryTimedOut => Wire::new("QueryTimedOut", StatusCode::GATEWAY_TIMEOUT),
            ShuttingDown => Wire::new("ServiceUnavailable", StatusCode::SERVICE_UNAVAILABLE),
            TooManyAttempts { .. } => Wire::new("TooManyRequests", StatusCode::TOO_MANY_REQUESTS),
            InvalidToken => Wire::oauth("invalid_token", StatusCode::UNAUTHORIZED),
            InsufficientScope { .. } => Wire::oauth("insufficient_scope", StatusCode::FORBIDDEN),
            InvalidClient => Wire::oauth("invalid_client", StatusCode::UNAUTHORIZED),
            InvalidScope => Wire::oauth("invalid_scope", StatusCode::BAD_REQUEST),
            UnsupportedGrantType(_) => {
                Wire::oauth("unsupported_grant_type", StatusCode::BAD_REQUEST)
            }
            InvalidRequest(_) => Wire::oauth("invalid_request", StatusCode::BAD_REQUEST),
            InvalidGrant => Wire::oauth("invalid_grant", StatusCode::BAD_REQUEST),
            InvalidCustomerAccountCredentials => Wire::oauth(
                "invalid_customer_account_credentials",
                StatusCode::BAD_REQUEST,
            ),
            Internal(_) => Wire::new("General", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The commercetools error `code` and HTTP status (from [`ApiError::wire`]).
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        let wire = self.wire();
        (wire.code, wire.status)
    }

    /// The commercetools JSON body for this error.
    pub fn body(&self) -> Value {
        let Wire {
            code,
            status,
            oauth,
            fields,
        } = self.wire();
        let message = match self {
            ApiError::Internal(_) => "Internal Server Error".to_owned(),
            other => other.to_string(),
        };
        let mut obj = Map::new();
        obj.insert("code".into(), json!(code));
        obj.insert("message".into(), json!(message));
        obj.extend(fields);
        let mut body = json!({
            "statusCode": status.as_u16(),
            "message": message,
            "errors": [Value::Object(obj)],
        });
        if oauth {
            body["error"] = json!(code);
            body["error_description"] = json!(message);
        }
        body
    }

    /// The 400 `invalid_scope` for a scope request refused because of `why`, which goes to
    /// the log only: the answer carries commercetools' one text for every such case.
    pub fn invalid_scope(why: impl std::fmt::Display) -> Self {
        tracing::info!(reason = %why, "scope request refused");
        ApiError::InvalidScope
    }

    /// A 400 `InvalidInput` with `message`.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        ApiError::Domain(DomainError::InvalidInput(message.into()))
    }

    /// A 400 `InvalidOperation` with `message`.
    pub fn invalid_operation(message: impl Into<String>) -> Self {
        ApiError::Domain(DomainError::invalid_operation(message))
    }

    /// A 400 `InvalidJsonInput` whose `detailedErrorMessage` is `detail`.
    pub fn invalid_json(detail: impl Into<String>) -> Self {
        ApiError::Domain(DomainError::invalid_json(detail))
    }

    /// A 400 `RequiredField` for `field`.
    pub fn required_field(field: impl Into<String>) -> Self {
        ApiError::Domain(DomainError::RequiredField {
            field: field.into(),
        })
    }

    /// A `ResourceNotFound` for a lookup by id.
    pub fn not_found_id(id: &str) -> Self {
        ApiError::ResourceNotFound(format!("The Resource with ID '{id}' was not found."))
    }

    /// A `ResourceNotFound` for a lookup by key.
    pub fn not_found_key(key: &str) -> Self {
        ApiError::ResourceNotFound(format!("The Resource with key '{key}' was not found."))
    }

    /// A failed store write on the resource `subject`: version conflicts, `NotFound` and
    /// `ReferenceExists` name it; everything else maps as [`From<StoreError>`].
    pub fn from_store_write(e: StoreError, subject: &Subject<'_>) -> Self {
        match e {
            StoreError::ConcurrentModification { current } => ApiError::ConcurrentModification {
                id: subject.id.to_owned(),
                expected: subject.expected,
                current,
            },
            StoreError::NotFound => ApiError::not_found_id(subject.id),
            StoreError::ReferenceExists { referenced_by } => ApiError::ReferenceExists {
                resource: subject.type_id.to_owned(),
                referenced_by,
            },
            other => other.into(),
        }
    }
}

/// The resource a conditional store write was about: what a version conflict or a refused
/// delete must name.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Its `typeId` (`customer`, `customer-group`, …).
    pub type_id: &'a str,
    /// Its id.
    pub id: &'a str,
    /// The version the write expected.
    pub expected: u64,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, status) = self.code_and_status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let ApiError::TooManyAttempts { retry_after_secs } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            let value = if matches!(self, ApiError::InvalidClient) {
                "Basic realm=\"clientele\""
            } else {
                "Bearer error=\"invalid_token\""
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    /// Store failures that need no subject. A version conflict or a refused delete must be
    /// mapped with [`ApiError::from_store_write`], which knows the resource; reaching here with
    /// one is a bug, answered as one rather than with a 409 naming no resource.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => {
                ApiError::ResourceNotFound("The Resource was not found.".to_owned())
            }
            e
            @ (StoreError::ConcurrentModification { .. } | StoreError::ReferenceExists { .. }) => {
                ApiError::Internal(format!(
                    "{e}: a conditional write's error was mapped without its subject"
                ))
            }
            StoreError::DuplicateField { field, value } => {
                ApiError::Domain(DomainError::DuplicateField {
                    field,
                    duplicate_value: Value::String(value),
                })
            }
            StoreError::LockedField { field } => ApiError::LockedField { field },
            // A referenced resource deleted after the request resolved it: the same answer
            // as when it was missing from the start.
            StoreError::ReferencedResourceNotFound { type_id, id, key } => {
                let predicate = match (&id, &key) {
                    (Some(id), _) => format!("with id '{id}'"),
                    (None, Some(key)) => format!("with key '{key}'"),
                    (None, None) => String::new(),
                };
                ApiError::Domain(DomainError::ReferencedResourceNotFound {
                    type_id,
                    predicate,
                    id,
                    key,
                })
            }
            StoreError::LanguageUsedInStores { .. } => ApiError::LanguageUsedInStores,
            StoreError::QueryTimedOut => ApiError::QueryTimedOut,
            StoreError::Unavailable => ApiError::StorageUnavailable,
            StoreError::Backend(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<clientele_query::QueryError> for ApiError {
    fn from(e: clientele_query::QueryError) -> Self {
        if e.complexity {
            ApiError::QueryComplexityLimitExceeded(e.message)
        } else {
            ApiError::invalid_input(e.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_modification_body_matches_commercetools() {
        let e = ApiError::ConcurrentModification {
            id: "e649".into(),
            expected: 1,
            current: 2,
        };
        assert_eq!(
            e.body(),
            json!({
                "statusCode": 409,
                "message": "Object e649 has a different version than expected. Expected: 1 - Actual: 2.",
                "errors": [{
                    "code": "ConcurrentModification",
                    "message": "Object e649 has a different version than expected. Expected: 1 - Actual: 2.",
                    "currentVersion": 2
                }]
            })
        );
    }

    #[test]
    fn auth_errors_carry_oauth_fields() {
        let body = ApiError::InvalidToken.body();
        assert_eq!(
            body,
            json!({
                "statusCode": 401,
                "message": "invalid_token",
                "errors": [{"code": "invalid_token", "message": "invalid_token"}],
                "error": "invalid_token",
                "error_description": "invalid_token"
            })
        );
        let body = ApiError::InsufficientScope {
            scopes: vec!["manage_customers".into()],
        }
        .body();
        assert_eq!(body["statusCode"], 403);
        assert_eq!(
            body["message"],
            "Insufficient scope. One of the following scopes is missing: manage_customers."
        );
        assert_eq!(body["error"], "insufficient_scope");
    }

    #[test]
    fn store_timeouts_are_504_and_backend_failures_500_without_detail() {
        let timeout = ApiError::from(StoreError::QueryTimedOut);
        assert_eq!(
            timeout.code_and_status(),
            ("QueryTimedOut", StatusCode::GATEWAY_TIMEOUT)
        );
        let backend = ApiError::from(StoreError::Backend("connection refused".into()));
        assert_eq!(
            backend.code_and_status().1,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert!(!backend.body().to_string().contains("refused"));
    }

    #[test]
    fn an_unavailable_database_is_503_with_a_commercetools_body() {
        let e = ApiError::from(StoreError::Unavailable);
        assert_eq!(
            e.body(),
            json!({
                "statusCode": 503,
                "message": "The service cannot write right now. Please try again later.",
                "errors": [{
                    "code": "OverCapacity",
                    "message": "The service cannot write right now. Please try again later."
                }]
            })
        );
    }

    #[test]
    fn internal_errors_say_nothing() {
        let body = ApiError::Internal("db password is hunter2".into()).body();
        assert_eq!(body["statusCode"], 500);
        assert!(!body.to_string().contains("hunter2"));
    }

    #[test]
    fn conflicts_name_their_subject_and_are_never_anonymous() {
        let subject = Subject {
            type_id: "customer-group",
            id: "g1",
            expected: 3,
        };
        let e =
            ApiError::from_store_write(StoreError::ConcurrentModification { current: 4 }, &subject);
        assert_eq!(e.body()["errors"][0]["currentVersion"], 4);
        assert!(e
            .to_string()
            .starts_with("Object g1 has a different version"));
        let e = ApiError::from_store_write(
            StoreError::ReferenceExists {
                referenced_by: "customer".into(),
            },
            &subject,
        );
        assert_eq!(
            e.to_string(),
            "Can not delete a customer-group while it is referenced by at least one customer."
        );
        // Without a subject there is nothing true to say in a 409: it is a bug.
        let e = ApiError::from(StoreError::ConcurrentModification { current: 4 });
        assert_eq!(e.code_and_status().1, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn store_duplicates_read_as_domain_duplicates() {
        let email = ApiError::from(StoreError::DuplicateField {
            field: "email".into(),
            value: "a@b.c".into(),
        });
        assert_eq!(
            email.body()["errors"][0],
            json!({
                "code": "DuplicateField",
                "message": "There is already an existing customer with the provided email.",
                "field": "email",
                "duplicateValue": "a@b.c"
            })
        );
        let key = ApiError::from(StoreError::DuplicateField {
            field: "key".into(),
            value: "k1".into(),
        });
        assert_eq!(
            key.to_string(),
            "A duplicate value '\"k1\"' exists for field 'key'."
        );
    }
}
