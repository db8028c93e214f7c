//! Customer and anonymous sessions: the anonymous-session token endpoint
//! (`POST /oauth/{projectKey}/anonymous/token`), issuing tokens bound to a customer or an
//! anonymous session, deciding whether a bound token is still alive, and the [`MyToken`]
//! extractor of the `/me` routes.
//!
//! A customer-bound token (password flow, and the refresh flow after it) stores the customer,
//! the Store of an in-store flow, and `credential`: the SHA-256 of the customer's password hash
//! at issue. It is alive only while the customer exists, may still sign in where the token was
//! issued (a global customer at project level, a member of the Store in a Store), and still has
//! that very password hash. Every node checks this on every use from the database, so a
//! password change or reset, a deletion or leaving the Store kills the token everywhere at
//! once, including a token issued from the old password while a reset committed. A token found
//! dead is deleted on the spot; the `/me` services also delete a customer's tokens eagerly when
//! they change its password or delete it. Must not hold business rules of the customer itself.

use super::client::{authenticate_client, grant_scopes, oauth_params, REFRESH_TOKEN_TTL_SECS};
use super::extract::{bearer_token, external_user_id_of, project_key_of, store_key_of};
use super::scope::{allows, Scope};
use super::secret::{hash_secret, new_secret};
use crate::error::ApiError;
use crate::service::stores::StoreContext;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::{request::Parts, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use clientele_domain::Customer;
use clientele_store::{AccessTokenRecord, ApiClientRecord, CustomerLookup, TokenBinding};
use serde_json::{json, Value};

/// The scope that allows every `/me` endpoint (project form, or the store form in its Store).
pub const MANAGE_MY_PROFILE: &str = "manage_my_profile";

/// The scope a client needs for the anonymous-session flow.
pub const CREATE_ANONYMOUS_TOKEN: &str = "create_anonymous_token";

/// Longest anonymous session id accepted.
const MAX_ANONYMOUS_ID_LEN: usize = 256;

/// The anonymous-session route of the auth host.
pub fn router() -> Router<AppState> {
    Router::new().route("/oauth/{project}/anonymous/token", post(anonymous_token))
}

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A client-credentials token: the API client itself.
    Client,
    /// An anonymous-session token.
    Anonymous(String),
    /// A password-flow (or refreshed) token of a customer.
    Customer {
        /// The customer id.
        id: String,
        /// The Store of an in-store password flow.
        store: Option<String>,
    },
}

/// The fingerprint a token keeps of the customer's password hash (see the module docs).
pub fn credential_of(customer: &Customer) -> Option<String> {
    customer.password.as_ref().map(|p| hash_secret(p.as_phc()))
}

/// Stores a token of `kind` with its binding; returns its value. Refresh tokens are shaped
/// `{projectKey}:{secret}` as commercetools' are.
async fn issue(
    state: &AppState,
    client: &ApiClientRecord,
    kind: &str,
    scope: &str,
    customer_id: Option<&str>,
    binding: &TokenBinding,
) -> Result<String, ApiError> {
    let secret = new_secret(state.random.as_ref());
    let (value, ttl) = if kind == "refresh" {
        (
            format!("{}:{secret}", client.project_key),
            REFRESH_TOKEN_TTL_SECS,
        )
    } else {
        (secret, state.access_token_ttl_secs)
    };
    let record = AccessTokenRecord {
        token_hash: hash_secret(&value),
        kind: kind.to_owned(),
        client_id: client.client_id.clone(),
        project_key: client.project_key.clone(),
        scope: scope.to_owned(),
        customer_id: customer_id.map(str::to_owned),
        expires_at: state.clock.now() + time::Duration::seconds(ttl),
    };
    state.store.insert_bound_token(&record, binding).await?;
    state.metrics.token_issued(kind);
    Ok(value)
}

/// Issues an access token with `binding`; returns the `TokenResponse` body.
pub async fn issue_access(
    state: &AppState,
    client: &ApiClientRecord,
    scope: String,
    customer_id: Option<String>,
    binding: &TokenBinding,
) -> Result<Value, ApiError> {
    let token = issue(
        state,
        client,
        "access",
        &scope,
        customer_id.as_deref(),
        binding,
    )
    .await?;
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.access_token_ttl_secs,
        "scope": scope,
    }))
}

/// Issues an access and a refresh token with the same scope and binding; returns the
/// `RefreshTokenResponse` body.
async fn issue_pair(
    state: &AppState,
    client: &ApiClientRecord,
    scope: String,
    customer_id: Option<String>,
    binding: &TokenBinding,
) -> Result<Value, ApiError> {
    let refresh = issue(
        state,
        client,
        "refresh",
        &scope,
        customer_id.as_deref(),
        binding,
    )
    .await?;
    let mut response = issue_access(state, client, scope, customer_id, binding).await?;
    response["refresh_token"] = json!(refresh);
    Ok(response)
}

/// The password flows' tokens for `customer`, who signed in in `ctx`: `granted` plus
/// `customer_id:{id}`, bound to the Store and to the customer's current password.
pub async fn issue_customer_tokens(
    state: &AppState,
    client: &ApiClientRecord,
    granted: String,
    customer: &Customer,
    ctx: &StoreContext,
) -> Result<Value, ApiError> {
    let scope = format!("{granted} customer_id:{}", customer.id);
    let binding = TokenBinding {
        store_key: ctx.store_key().map(str::to_owned),
        anonymous_id: None,
        credential: credential_of(customer),
    };
    issue_pair(state, client, scope, Some(customer.id.clone()), &binding).await
}

/// Why a customer-bound token no longer speaks for its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadSession {
    /// The customer was deleted: `/me` answers 404 as for any missing resource.
    CustomerGone,
    /// The password changed, the customer left the Store or may no longer sign in there.
    Revoked,
}

/// The customer of a customer-bound token if the token is still alive (module docs), else
/// why not. Read from the database on every call.
pub async fn live_customer(
    state: &AppState,
    project_key: &str,
    customer_id: &str,
    binding: &TokenBinding,
) -> Result<Result<Customer, DeadSession>, ApiError> {
    let Some(customer) = state
        .store
        .get_customer(project_key, &CustomerLookup::Id(customer_id.to_owned()))
        .await?
    else {
        return Ok(Err(DeadSession::CustomerGone));
    };
    let signed_in_at = StoreContext::of(binding.store_key.clone());
    let alive = signed_in_at.authenticates(&customer)
        && binding.credential.is_some()
        && credential_of(&customer) == binding.credential;
    Ok(if alive {
        Ok(customer)
    } else {
        Err(DeadSession::Revoked)
    })
}

/// The binding a refresh token passes on to the access token it yields: its own, when the
/// token is unbound or its customer's session is still alive; a dead refresh token is deleted
/// and answers `invalid_grant`.
pub async fn refresh_binding(
    state: &AppState,
    record: &AccessTokenRecord,
) -> Result<TokenBinding, ApiError> {
    let binding = state
        .store
        .get_token_binding(&record.token_hash)
        .await?
        .ok_or(ApiError::InvalidGrant)?;
    if let Some(customer_id) = &record.customer_id {
        if live_customer(state, &record.project_key, customer_id, &binding)
            .await?
            .is_err()
        {
            state.store.delete_token(&record.token_hash).await?;
            return Err(ApiError::InvalidGrant);
        }
    }
    Ok(binding)
}

/// A session id the token's scope can carry: 1 to 256 of `A-Z a-z 0-9 . _ ~ @ + = -` (no
/// space or `:`, which would break the scope list).
fn valid_anonymous_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ANONYMOUS_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._~@+=-".contains(c))
}

/// `POST /oauth/{projectKey}/anonymous/token`: an anonymous session for a client holding
/// `create_anonymous_token:{projectKey}` (or `manage_project`). `anonymous_id` is the client's
/// or a new UUID; one that was issued before is `AnonymousIdAlreadyInUse` (the refresh token is
/// the only way back into a session).
async fn anonymous_token(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let client = authenticate_client(&state, &headers, query.as_deref(), &body).await?;
    let Ok(Path(project)) = path else {
        return Err(ApiError::ResourceNotFound(
            "The requested resource was not found.".to_owned(),
        ));
    };
    let params = oauth_params(query.as_deref(), &body);
    match params.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(ApiError::UnsupportedGrantType(format!(
                "Unsupported grant type '{other}'."
            )))
        }
        None => {
            return Err(ApiError::InvalidRequest(
                "Missing required parameter: grant_type.".to_owned(),
            ))
        }
    }
    if client.project_key != project {
        return Err(ApiError::invalid_scope(format!(
            "The client has no scopes for project '{project}'."
        )));
    }
    let held = Scope::parse_list(&client.scope).unwrap_or_default();
    if !allows(&held, &[CREATE_ANONYMOUS_TOKEN], &project, None) {
        return Err(ApiError::invalid_scope(format!(
            "The client does not have the scope {CREATE_ANONYMOUS_TOKEN}:{project}."
        )));
    }
    let granted = grant_scopes(&client, params.get("scope").map(String::as_str))?;
    let anonymous_id = match params.get("anonymous_id") {
        Some(id) if !valid_anonymous_id(id) => {
            return Err(ApiError::InvalidRequest(
                "Malformed parameter: anonymous_id: 1 to 256 of the characters A-Z a-z 0-9 . _ ~ @ + = -."
                    .to_owned(),
            ))
        }
        Some(id) => id.clone(),
        None => state.random.uuid(),
    };
    if !state
        .store
        .claim_anonymous_id(&project, &anonymous_id, state.clock.now())
        .await?
    {
        return Err(ApiError::AnonymousIdAlreadyInUse);
    }
    let scope = format!("{granted} anonymous_id:{anonymous_id}");
    let binding = TokenBinding {
        anonymous_id: Some(anonymous_id),
        ..TokenBinding::default()
    };
    Ok(Json(
        issue_pair(&state, &client, scope, None, &binding).await?,
    ))
}

/// Proof that a `/me` request carries a live token of the path's project with
/// `manage_my_profile` (project form, or in a Store its store form), and who it speaks for.
/// A customer-bound token that is no longer alive (module docs) is deleted and refused with
/// 401 `invalid_token` on every `/me` route, sign-up and sign-in included; the token of a
/// deleted customer gets 404 `ResourceNotFound` (its refresh token `invalid_grant`).
pub struct MyToken {
    /// The project key from the path.
    pub project_key: String,
    /// The Store of an in-store path.
    pub store: Option<String>,
    /// The API client that obtained the token.
    pub client_id: String,
    /// Who the token speaks for.
    pub identity: Identity,
    /// The customer of a customer-bound token, as loaded when its liveness was checked.
    pub customer: Option<Customer>,
    /// The `X-External-User-ID` header, recorded in `createdBy` / `lastModifiedBy`.
    pub external_user_id: Option<String>,
}

impl FromRequestParts<AppState> for MyToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // As for every in-store route: `{storeKey}` without `key=` is a path that does not exist.
        let path = parts.uri.path().trim_start_matches('/');
        if path.split('/').nth(1) == Some("in-store") && store_key_of(parts).is_none() {
            return Err(ApiError::ResourceNotFound(
                "The requested resource was not found.".to_owned(),
            ));
        }
        let record = bearer_token(parts, state).await?;
        let project_key = project_key_of(parts);
        let store = store_key_of(parts);
        let scopes = Scope::parse_list(&record.scope).unwrap_or_default();
        if record.project_key != project_key
            || !allows(
                &scopes,
                &[MANAGE_MY_PROFILE],
                &project_key,
                store.as_deref(),
            )
        {
            return Err(ApiError::InsufficientScope {
                scopes: vec![MANAGE_MY_PROFILE.to_owned()],
            });
        }
        let binding = state
            .store
            .get_token_binding(&record.token_hash)
            .await?
            .ok_or(ApiError::InvalidToken)?;
        let identity = match (&record.customer_id, &binding.anonymous_id) {
            (Some(id), _) => Identity::Customer {
                id: id.clone(),
                store: binding.store_key.clone(),
            },
            (None, Some(anonymous)) => Identity::Anonymous(anonymous.clone()),
            (None, None) => Identity::Client,
        };
        let customer = match &record.customer_id {
            Some(id) => match live_customer(state, &project_key, id, &binding).await? {
                Ok(customer) => Some(customer),
                // As on commercetools, the token of a deleted customer finds no customer.
                Err(DeadSession::CustomerGone) => return Err(ApiError::not_found_id(id)),
                Err(DeadSession::Revoked) => {
                    state.store.delete_token(&record.token_hash).await?;
                    return Err(ApiError::InvalidToken);
                }
            },
            None => None,
        };
        Ok(MyToken {
            project_key,
            store,
            client_id: record.client_id,
            identity,
            customer,
            external_user_id: external_user_id_of(parts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::scope::names_identity;

    #[test]
    fn anonymous_ids_fit_in_a_scope_list() {
        assert!(valid_anonymous_id("phone-123"));
        assert!(valid_anonymous_id("3cdcdcc8-80c5-41bb-abb5-ac8772c9cc24"));
        assert!(valid_anonymous_id(&"a".repeat(256)));
        for bad in ["", "a b", "a:b", "ä", "a\tb", &"a".repeat(257)] {
            assert!(!valid_anonymous_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn identity_entries_are_recognised() {
        let s = |l: &str| Scope::parse_list(l).unwrap();
        assert!(names_identity(&s("manage_my_profile:p customer_id:c1")));
        assert!(names_identity(&s("manage_my_profile:p anonymous_id:a1")));
        assert!(!names_identity(&s(
            "manage_my_profile:p manage_customers:p"
        )));
    }
}
