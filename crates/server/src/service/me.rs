//! My Customer Profile (`/me`, at project level and in a Store): the use cases of a storefront
//! acting for the customer its token names. Each one resolves "the customer" from the token
//! only (never from the body or the path), checks that the token is still alive
//! (`auth::session`), and then calls the very service the project endpoint uses
//! (`service::customers`, `service::credentials`), so validation, versions, uniqueness and
//! Messages are shared, not copied. Must not parse HTTP nor talk SQL.
//!
//! Rules of its own: a token without a customer on a customer endpoint is 403
//! `insufficient_scope` naming `customer_id`; on an in-store path the token's customer must be
//! visible in that Store (a member, or a global customer), else 404 `ResourceNotFound` as for
//! any customer of another Store, so a customer of Store A never acts through Store B; a dead
//! token was refused (401) by the extractor already; a password change or deletion through
//! `/me` deletes all the customer's OAuth tokens at once (a reset does inside its redemption).

use super::customers::{self, CustomerRef};
use super::stores::StoreContext;
use super::{credentials, load_project, Actor};
use crate::auth::secret::hash_secret;
use crate::auth::session::{Identity, MyToken};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::token::{
    CustomerChangePassword, CustomerEmailVerify, CustomerResetPassword, CustomerSignin, TokenKind,
};
use clientele_domain::{Customer, CustomerDraft, CustomerUpdate};
use clientele_query::Predicate;
use clientele_store::ResourceQuery;

/// Who a `/me` request acts as: the client, plus the customer of a customer token or the
/// session of an anonymous one (`createdBy` / `lastModifiedBy`).
pub fn actor(token: &MyToken) -> Actor {
    let mut actor = Actor::client(token.client_id.clone());
    actor.external_user_id = token.external_user_id.clone();
    match &token.identity {
        Identity::Customer { id, .. } => actor.customer_id = Some(id.clone()),
        Identity::Anonymous(session) => actor.anonymous_id = Some(session.clone()),
        Identity::Client => {}
    }
    actor
}

/// The Store context of the request's path.
fn context(token: &MyToken) -> StoreContext {
    StoreContext::of(token.store.clone())
}

/// The 403 for a token that names no customer usable here.
fn no_customer() -> ApiError {
    ApiError::InsufficientScope {
        scopes: vec!["customer_id".to_owned()],
    }
}

/// The id of the customer the token names (before any body is read or anything loaded: 403
/// `insufficient_scope` naming `customer_id` for a token without one).
pub fn customer_id(token: &MyToken) -> Result<&str, ApiError> {
    match &token.identity {
        Identity::Customer { id, .. } => Ok(id),
        _ => Err(no_customer()),
    }
}

/// The token's customer, if the token names one that is alive and visible on this path (404
/// `ResourceNotFound` in a Store it does not belong to).
pub async fn customer(state: &AppState, token: &MyToken) -> Result<Customer, ApiError> {
    let id = customer_id(token)?;
    load_project(state, &token.project_key).await?;
    let ctx = context(token);
    ctx.require(state, &token.project_key).await?;
    let me = token.customer.clone().ok_or(ApiError::InvalidToken)?;
    if !ctx.sees(&me) {
        return Err(ApiError::not_found_id(id));
    }
    Ok(me)
}

/// `GET /me`: the token's customer; with a `where` predicate (already restricted to the
/// customer's id by the caller) 404 when the customer does not match it.
pub async fn get(
    state: &AppState,
    token: &MyToken,
    predicate: Option<Predicate>,
) -> Result<Customer, ApiError> {
    let me = customer(state, token).await?;
    if let Some(predicate) = predicate {
        let query = ResourceQuery {
            predicate: Some(predicate),
            limit: 1,
            store: token.store.clone(),
            ..ResourceQuery::default()
        };
        let page = state
            .store
            .query_customers(&token.project_key, &query)
            .await?;
        if !page.results.iter().any(|c| c.id == me.id) {
            return Err(ApiError::not_found_id(&me.id));
        }
    }
    Ok(me)
}

/// `POST /me`: the customer update service on the token's customer (the actions were checked
/// to be `MyCustomerUpdateAction`s by the caller).
pub async fn update(
    state: &AppState,
    token: &MyToken,
    update: CustomerUpdate,
) -> Result<Customer, ApiError> {
    let me = customer(state, token).await?;
    customers::update(
        state,
        &token.project_key,
        &context(token),
        &actor(token),
        &CustomerRef::Id(me.id),
        update,
    )
    .await
}

/// `DELETE /me?version=`: deletes the token's customer (no data erasure). Its tokens stay, so
/// that using one answers 404 as on commercetools; they can never act again, since the
/// customer is gone (a refresh answers `invalid_grant` and deletes the refresh token).
pub async fn delete(state: &AppState, token: &MyToken, version: i64) -> Result<Customer, ApiError> {
    let me = customer(state, token).await?;
    let deleted = customers::delete(
        state,
        &token.project_key,
        &context(token),
        &actor(token),
        &CustomerRef::Id(me.id),
        version,
        false,
    )
    .await?;
    Ok(deleted)
}

/// `POST /me/password`: the password change service for the token's customer (`body.id` was
/// set from the token), then every OAuth token of the customer is deleted.
pub async fn change_password(
    state: &AppState,
    token: &MyToken,
    body: CustomerChangePassword,
) -> Result<Customer, ApiError> {
    let me = customer(state, token).await?;
    if body.id != me.id {
        return Err(no_customer());
    }
    let changed = credentials::change_password(
        state,
        &token.project_key,
        &context(token),
        &actor(token),
        body,
    )
    .await?;
    state
        .store
        .revoke_customer_tokens(&token.project_key, &changed.id)
        .await?;
    Ok(changed)
}

/// 404 unless the customer token `value` of `kind` belongs to `me` (or does not exist, which
/// the shared service answers alike).
async fn own_token(
    state: &AppState,
    token: &MyToken,
    me: &Customer,
    kind: TokenKind,
    value: &str,
) -> Result<(), ApiError> {
    let found = state
        .store
        .find_customer_token(&token.project_key, &hash_secret(value), kind)
        .await?;
    if found.is_some_and(|t| t.customer_id != me.id) {
        return Err(ApiError::ResourceNotFound(
            "The token is invalid or does not exist.".to_owned(),
        ));
    }
    Ok(())
}

/// `POST /me/password/reset`: the reset service, for a token of the token's customer only.
pub async fn reset_password(
    state: &AppState,
    token: &MyToken,
    body: CustomerResetPassword,
) -> Result<Customer, ApiError> {
    let me = customer(state, token).await?;
    own_token(
        state,
        token,
        &me,
        TokenKind::PasswordReset,
        &body.token_value,
    )
    .await?;
    credentials::reset_password(
        state,
        &token.project_key,
        &context(token),
        &actor(token),
        body,
    )
    .await
}

/// `POST /me/email/confirm`: the email verification service, for a token of the token's
/// customer only.
pub async fn verify_email(
    state: &AppState,
    token: &MyToken,
    body: CustomerEmailVerify,
) -> Result<Customer, ApiError> {
    let me = customer(state, token).await?;
    own_token(
        state,
        token,
        &me,
        TokenKind::EmailVerification,
        &body.token_value,
    )
    .await?;
    credentials::verify_email(
        state,
        &token.project_key,
        &context(token),
        &actor(token),
        body,
    )
    .await
}

/// `POST /me/signup`: the customer creation service (in a Store `stores` defaults to it).
/// With an anonymous-session token the customer's `createdBy.anonymousId` records the session;
/// Clientele has no Carts, Orders, Shopping Lists or Payments, so there is nothing else to hand
/// over. A customer token signs up as its client, like a client token.
pub async fn sign_up(
    state: &AppState,
    token: &MyToken,
    draft: CustomerDraft,
) -> Result<Customer, ApiError> {
    let mut actor = actor(token);
    actor.customer_id = None;
    customers::create(state, &token.project_key, &context(token), &actor, draft).await
}

/// `POST /me/login`: the sign-in service (`InvalidCredentials` as `/login`; in a Store only its
/// own customers). Writes nothing.
pub async fn sign_in(
    state: &AppState,
    token: &MyToken,
    signin: CustomerSignin,
) -> Result<Customer, ApiError> {
    credentials::sign_in(
        state,
        &token.project_key,
        &context(token),
        &actor(token),
        signin,
    )
    .await
}
