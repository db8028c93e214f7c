//! The scope-checking extractor. A handler states what it needs in its signature —
//! `Authorized<ManageCustomers>` — and runs only for a valid, unexpired bearer token of the
//! path's project carrying a scope that allows it.

use super::scope::{allows, Scope};
use super::secret::hash_secret;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use std::marker::PhantomData;

/// A permission a route requires: the scope names any one of which allows it.
pub trait Requirement: Send + Sync + 'static {
    /// Scope names (without project key) that allow the route; `manage_project` always does.
    const ANY_OF: &'static [&'static str];
    /// What the 403 message names as missing.
    const MISSING: &'static str;
}

/// Read access to customers (`view_customers`, implied by `manage_customers`).
pub struct ViewCustomers;
impl Requirement for ViewCustomers {
    const ANY_OF: &'static [&'static str] = &["view_customers", "manage_customers"];
    const MISSING: &'static str = "view_customers";
}

/// Write access to customers (`manage_customers`).
pub struct ManageCustomers;
impl Requirement for ManageCustomers {
    const ANY_OF: &'static [&'static str] = &["manage_customers"];
    const MISSING: &'static str = "manage_customers";
}

/// Read access to messages (`view_messages`).
pub struct ViewMessages;
impl Requirement for ViewMessages {
    const ANY_OF: &'static [&'static str] = &["view_messages"];
    const MISSING: &'static str = "view_messages";
}

/// Read access to customer groups (`view_customer_groups`, implied by
/// `manage_customer_groups`).
pub struct ViewCustomerGroups;
impl Requirement for ViewCustomerGroups {
    const ANY_OF: &'static [&'static str] = &["view_customer_groups", "manage_customer_groups"];
    const MISSING: &'static str = "view_customer_groups";
}

/// Write access to customer groups (`manage_customer_groups`).
pub struct ManageCustomerGroups;
impl Requirement for ManageCustomerGroups {
    const ANY_OF: &'static [&'static str] = &["manage_customer_groups"];
    const MISSING: &'static str = "manage_customer_groups";
}

/// Read access to Types (`view_types`, implied by `manage_types`).
pub struct ViewTypes;
impl Requirement for ViewTypes {
    const ANY_OF: &'static [&'static str] = &["view_types", "manage_types"];
    const MISSING: &'static str = "view_types";
}

/// Write access to Types (`manage_types`).
pub struct ManageTypes;
impl Requirement for ManageTypes {
    const ANY_OF: &'static [&'static str] = &["manage_types"];
    const MISSING: &'static str = "manage_types";
}

/// Read access to Stores (`view_stores`, implied by `manage_stores`).
pub struct ViewStores;
impl Requirement for ViewStores {
    const ANY_OF: &'static [&'static str] = &["view_stores", "manage_stores"];
    const MISSING: &'static str = "view_stores";
}

/// Write access to Stores (`manage_stores`).
pub struct ManageStores;
impl Requirement for ManageStores {
    const ANY_OF: &'static [&'static str] = &["manage_stores"];
    const MISSING: &'static str = "manage_stores";
}

/// Access to Subscriptions, reads included (`manage_subscriptions`; the removed
/// `view_subscriptions` is not accepted).
pub struct ManageSubscriptions;
impl Requirement for ManageSubscriptions {
    const ANY_OF: &'static [&'static str] = &["manage_subscriptions"];
    const MISSING: &'static str = "manage_subscriptions";
}

/// Proof that the request carries a token allowed to do `R` in the path's project.
pub struct Authorized<R: Requirement> {
    /// The project key from the path.
    pub project_key: String,
    /// The API client that obtained the token.
    pub client_id: String,
    /// All granted scopes.
    pub scopes: Vec<Scope>,
    /// The customer, for password-flow tokens.
    pub customer_id: Option<String>,
    /// The Store of an in-store path (`/{p}/in-store/key={storeKey}/…`); `None` at project
    /// level. Store-scoped grants were checked against it.
    pub store: Option<String>,
    /// The `X-External-User-ID` header, recorded in `createdBy` / `lastModifiedBy`.
    pub external_user_id: Option<String>,
    _requirement: PhantomData<R>,
}

/// Longest `externalUserId` commercetools records (ClientLogging).
const MAX_EXTERNAL_USER_ID_CHARS: usize = 128;

/// The `X-External-User-ID` header of a request, when it is a usable `externalUserId`
/// (non-empty text of at most 128 characters); anything else is not recorded.
pub fn external_user_id_of(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get("x-external-user-id")?
        .to_str()
        .ok()?
        .trim();
    let usable = !value.is_empty() && value.chars().count() <= MAX_EXTERNAL_USER_ID_CHARS;
    usable.then(|| value.to_owned())
}

/// The first path segment: every API path starts with `/{projectKey}`.
pub fn project_key_of(parts: &Parts) -> String {
    parts
        .uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The store key of an in-store path (`/{p}/in-store/key={storeKey}/...`), if any.
pub fn store_key_of(parts: &Parts) -> Option<String> {
    in_store_segment(parts)?
        .strip_prefix("key=")
        .map(str::to_owned)
}

/// The segment after `/{p}/in-store/`, if the path is an in-store one.
fn in_store_segment(parts: &Parts) -> Option<&str> {
    let mut segs = parts.uri.path().trim_start_matches('/').split('/');
    let _project = segs.next();
    if segs.next()? != "in-store" {
        return None;
    }
    segs.next()
}

/// Resolves the bearer token of a request to its record, if valid and unexpired.
pub async fn bearer_token(
    parts: &Parts,
    state: &AppState,
) -> Result<clientele_store::AccessTokenRecord, ApiError> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::InvalidToken)?;
    let (scheme, token) = header.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    let record = state
        .store
        .get_token(&hash_secret(token.trim()))
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if record.kind != "access" || record.expires_at <= state.clock.now() {
        return Err(ApiError::InvalidToken);
    }
    Ok(record)
}

impl<R: Requirement> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // An in-store path names its Store as `key={storeKey}`; any other segment there is a
        // path that does not exist. Checked first: a route that would otherwise be served at
        // project level must never be reached through an in-store path.
        if in_store_segment(parts).is_some_and(|s| !s.starts_with("key=")) {
            return Err(ApiError::ResourceNotFound(
                "The requested resource was not found.".to_owned(),
            ));
        }
        let record = bearer_token(parts, state).await?;
        let project_key = project_key_of(parts);
        let scopes = Scope::parse_list(&record.scope).unwrap_or_default();
        let store = store_key_of(parts);
        // Tokens of a customer or an anonymous session act only through `/me` (auth::session).
        if record.project_key != project_key
            || record.customer_id.is_some()
            || super::scope::names_identity(&scopes)
            || !allows(&scopes, R::ANY_OF, &project_key, store.as_deref())
        {
            return Err(ApiError::InsufficientScope {
                scopes: vec![R::MISSING.to_owned()],
            });
        }
        Ok(Authorized {
            project_key,
            client_id: record.client_id,
            scopes,
            customer_id: record.customer_id,
            store,
            external_user_id: external_user_id_of(parts),
            _requirement: PhantomData,
        })
    }
}
