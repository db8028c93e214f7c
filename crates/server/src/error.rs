//! The one API error type and its table from commercetools error `code` to HTTP status.
//!
//! Every failure a client can see is an [`ApiError`]; its body is commercetools'
//! `{statusCode, message, errors:[{code, message, ...}]}` (plus `error`/`error_description` for
//! OAuth and scope failures). 5xx bodies say nothing specific; the cause goes to the log.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clientele_domain::DomainError;
use clientele_store::StoreError;
use serde_json::{json, Map, Value};

/// Everything an API request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `InvalidJsonInput`: the body is not JSON of the documented shape.
    #[error("Request body does not contain valid JSON.")]
    InvalidJsonInput {
        /// For `detailedErrorMessage`.
        detail: String,
    },
    /// 400 `InvalidInput`: a parameter or value is not acceptable.
    #[error("{0}")]
    InvalidInput(String),
    /// 400 `InvalidOperation`: not allowed in the current state.
    #[error("{0}")]
    InvalidOperation(String),
    /// 400 `RequiredField`.
    #[error("A value is required for field {field}.")]
    RequiredField {
        /// The missing field.
        field: String,
    },
    /// 400 `InvalidField`.
    #[error("The value {invalid_value} is not valid for field {field}.")]
    InvalidField {
        /// The field.
        field: String,
        /// The rejected value.
        invalid_value: Value,
        /// Allowed values, where finite.
        allowed_values: Option<Vec<Value>>,
    },
    /// 400 `DuplicateField`.
    #[error("{message}")]
    DuplicateField {
        /// The field.
        field: String,
        /// The duplicate value.
        duplicate_value: Value,
        /// The message (commercetools words the email case specially).
        message: String,
    },
    /// 400 `ReferencedResourceNotFound`.
    #[error("{message}")]
    ReferencedResourceNotFound {
        /// The referenced type.
        type_id: String,
        /// Id, if by id.
        id: Option<String>,
        /// Key, if by key.
        key: Option<String>,
        /// Full message.
        message: String,
    },
    /// 400 `ReferenceExists`: the resource is still referenced and cannot be deleted.
    #[error("Can not delete a {resource} while it is referenced by at least one {referenced_by}.")]
    ReferenceExists {
        /// The `typeId` of the resource being deleted.
        resource: String,
        /// The `typeId` of a resource that references it.
        referenced_by: String,
    },
    /// 400 `ProjectNotConfiguredForLanguages`: a Store names languages the project lacks.
    #[error("{message}")]
    ProjectNotConfiguredForLanguages {
        /// The languages the project lacks.
        languages: Vec<String>,
        /// Full message.
        message: String,
    },
    /// 400 `LanguageUsedInStores`: a project update removes languages Stores still use.
    #[error("Language(s) in use by a store cannot be deleted. Remove them in all the stores of this project first.")]
    LanguageUsedInStores,
    /// 400 `InvalidCredentials`.
    #[error("Account with the given credentials not found.")]
    InvalidCredentials,
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
    /// 400 `invalid_scope`: the client asked for a scope it does not have.
    #[error("{0}")]
    InvalidScope(String),
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

impl ApiError {
    /// The commercetools error `code` and HTTP status: the one table.
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        use ApiError::*;
        match self {
            InvalidJsonInput { .. } => ("InvalidJsonInput", StatusCode::BAD_REQUEST),
            InvalidInput(_) => ("InvalidInput", StatusCode::BAD_REQUEST),
            InvalidOperation(_) => ("InvalidOperation", StatusCode::BAD_REQUEST),
            RequiredField { .. } => ("RequiredField", StatusCode::BAD_REQUEST),
            InvalidField { .. } => ("InvalidField", StatusCode::BAD_REQUEST),
            DuplicateField { .. } => ("DuplicateField", StatusCode::BAD_REQUEST),
            ReferencedResourceNotFound { .. } => {
                ("ReferencedResourceNotFound", StatusCode::BAD_REQUEST)
            }
            ReferenceExists { .. } => ("ReferenceExists", StatusCode::BAD_REQUEST),
            ProjectNotConfiguredForLanguages { .. } => {
                ("ProjectNotConfiguredForLanguages", StatusCode::BAD_REQUEST)
            }
            LanguageUsedInStores => ("LanguageUsedInStores", StatusCode::BAD_REQUEST),
            InvalidCredentials => ("InvalidCredentials", StatusCode::BAD_REQUEST),
            InvalidCurrentPassword => ("InvalidCurrentPassword", StatusCode::BAD_REQUEST),
            ExpiredCustomerPasswordToken => {
                ("ExpiredCustomerPasswordToken", StatusCode::BAD_REQUEST)
            }
            ExpiredCustomerEmailToken => ("ExpiredCustomerEmailToken", StatusCode::BAD_REQUEST),
            QueryComplexityLimitExceeded(_) => {
                ("QueryComplexityLimitExceeded", StatusCode::BAD_REQUEST)
            }
            ResourceNotFound(_) => ("ResourceNotFound", StatusCode::NOT_FOUND),
            ConcurrentModification { .. } => ("ConcurrentModification", StatusCode::CONFLICT),
            LockedField { .. } => ("LockedField", StatusCode::CONFLICT),
            ContentTooLarge => ("ContentTooLarge", StatusCode::PAYLOAD_TOO_LARGE),
            MethodNotAllowed => ("MethodNotAllowed", StatusCode::METHOD_NOT_ALLOWED),
            OverCapacity => ("OverCapacity", StatusCode::SERVICE_UNAVAILABLE),
            StorageUnavailable => ("OverCapacity", StatusCode::SERVICE_UNAVAILABLE),
            QueryTimedOut => ("QueryTimedOut", StatusCode::GATEWAY_TIMEOUT),
            InvalidToken => ("invalid_token", StatusCode::UNAUTHORIZED),
            InsufficientScope { .. } => ("insufficient_scope", StatusCode::FORBIDDEN),
            InvalidClient => ("invalid_client", StatusCode::UNAUTHORIZED),
            InvalidScope(_) => ("invalid_scope", StatusCode::BAD_REQUEST),
            UnsupportedGrantType(_) => ("unsupported_grant_type", StatusCode::BAD_REQUEST),
            InvalidRequest(_) => ("invalid_request", StatusCode::BAD_REQUEST),
            InvalidGrant => ("invalid_grant", StatusCode::BAD_REQUEST),
            InvalidCustomerAccountCredentials => (
                "invalid_customer_account_credentials",
                StatusCode::BAD_REQUEST,
            ),
            Internal(_) => ("General", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// OAuth-style errors carry `error` / `error_description` at the top level too.
    fn is_auth_error(&self) -> bool {
        use ApiError::*;
        matches!(
            self,
            InvalidToken
                | InsufficientScope { .. }
                | InvalidClient
                | InvalidScope(_)
                | UnsupportedGrantType(_)
                | InvalidRequest(_)
                | InvalidGrant
                | InvalidCustomerAccountCredentials
        )
    }

    /// Error-specific fields of the error object.
    fn extra_fields(&self, obj: &mut Map<String, Value>) {
        use ApiError::*;
        match self {
            InvalidJsonInput { detail } => {
                obj.insert("detailedErrorMessage".into(), json!(detail));
            }
            RequiredField { field } | LockedField { field } => {
                obj.insert("field".into(), json!(field));
            }
            InvalidField {
                field,
                invalid_value,
                allowed_values,
            } => {
                obj.insert("field".into(), json!(field));
                obj.insert("invalidValue".into(), invalid_value.clone());
                if let Some(a) = allowed_values {
                    obj.insert("allowedValues".into(), json!(a));
                }
            }
            DuplicateField {
                field,
                duplicate_value,
                ..
            } => {
                obj.insert("field".into(), json!(field));
                obj.insert("duplicateValue".into(), duplicate_value.clone());
            }
            ReferencedResourceNotFound {
                type_id, id, key, ..
            } => {
                obj.insert("typeId".into(), json!(type_id));
                if let Some(id) = id {
                    obj.insert("id".into(), json!(id));
                }
                if let Some(key) = key {
                    obj.insert("key".into(), json!(key));
                }
            }
            ConcurrentModification { current, .. } => {
                obj.insert("currentVersion".into(), json!(current));
            }
            ReferenceExists { referenced_by, .. } => {
                obj.insert("referencedBy".into(), json!(referenced_by));
            }
            ProjectNotConfiguredForLanguages { languages, .. } => {
                obj.insert("languages".into(), json!(languages));
            }
            _ => {}
        }
    }

    /// The commercetools JSON body for this error.
    pub fn body(&self) -> Value {
        let (code, status) = self.code_and_status();
        let message = match self {
            ApiError::Internal(_) => "Internal Server Error".to_owned(),
            other => other.to_string(),
        };
        let mut obj = Map::new();
        obj.insert("code".into(), json!(code));
        obj.insert("message".into(), json!(message));
        self.extra_fields(&mut obj);
        let mut body = json!({
            "statusCode": status.as_u16(),
            "message": message,
            "errors": [Value::Object(obj)],
        });
        if self.is_auth_error() {
            body["error"] = json!(code);
            body["error_description"] = json!(message);
        }
        body
    }

    /// A `ResourceNotFound` for a lookup by id.
    pub fn not_found_id(id: &str) -> Self {
        ApiError::ResourceNotFound(format!("The Resource with ID '{id}' was not found."))
    }

    /// A `ResourceNotFound` for a lookup by key.
    pub fn not_found_key(key: &str) -> Self {
        ApiError::ResourceNotFound(format!("The Resource with key '{key}' was not found."))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, status) = self.code_and_status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
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

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::InvalidInput(m) => ApiError::InvalidInput(m),
            DomainError::InvalidOperation(m) => ApiError::InvalidOperation(m),
            DomainError::InvalidJsonInput { detail } => ApiError::InvalidJsonInput { detail },
            DomainError::RequiredField { field } => ApiError::RequiredField { field },
            DomainError::InvalidField {
                field,
                invalid_value,
                allowed_values,
            } => ApiError::InvalidField {
                field,
                invalid_value,
                allowed_values,
            },
            DomainError::DuplicateField {
                field,
                duplicate_value,
            } => ApiError::DuplicateField {
                message: format!("A duplicate value {duplicate_value} exists for field {field}."),
                field,
                duplicate_value,
            },
            e @ DomainError::ProjectNotConfiguredForLanguages { .. } => {
                let message = e.to_string();
                match e {
                    DomainError::ProjectNotConfiguredForLanguages { languages } => {
                        ApiError::ProjectNotConfiguredForLanguages { languages, message }
                    }
                    _ => ApiError::Internal("unreachable".into()),
                }
            }
            e @ DomainError::ReferencedResourceNotFound { .. } => {
                let message = e.to_string();
                match e {
                    DomainError::ReferencedResourceNotFound {
                        type_id, id, key, ..
                    } => ApiError::ReferencedResourceNotFound {
                        type_id,
                        id,
                        key,
                        message,
                    },
                    _ => ApiError::Internal("unreachable".into()),
                }
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => {
                ApiError::ResourceNotFound("The Resource was not found.".to_owned())
            }
            // Callers that know the id map ConcurrentModification themselves; this is the fallback.
            StoreError::ConcurrentModification { current } => ApiError::ConcurrentModification {
                id: String::new(),
                expected: 0,
                current,
            },
            StoreError::DuplicateField { field, value } => {
                let message = if field == "email" {
                    "There is already an existing customer with the provided email.".to_owned()
                } else {
                    format!("A duplicate value \"{value}\" exists for field {field}.")
                };
                ApiError::DuplicateField {
                    field,
                    duplicate_value: Value::String(value),
                    message,
                }
            }
            StoreError::LockedField { field } => ApiError::LockedField { field },
            // Callers that know the deleted resource's type name it; this is the fallback.
            StoreError::ReferenceExists { referenced_by } => ApiError::ReferenceExists {
                resource: "resource".to_owned(),
                referenced_by,
            },
            // A referenced resource deleted after the request resolved it: the same answer
            // as when it was missing from the start.
            StoreError::ReferencedResourceNotFound { type_id, id, key } => {
                let predicate = match (&id, &key) {
                    (Some(id), _) => format!("with id '{id}'"),
                    (None, Some(key)) => format!("with key '{key}'"),
                    (None, None) => String::new(),
                };
                ApiError::from(DomainError::ReferencedResourceNotFound {
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
            ApiError::InvalidInput(e.message)
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
}
