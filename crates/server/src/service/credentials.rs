//! Credential use cases, at project level and in a Store: sign-in, password change, the
//! password-reset and email-verification token flows, and the customer check behind the OAuth
//! password flows.
//!
//! Each takes the request's [`StoreContext`]: in a Store, the Store must exist (404 naming it),
//! customers the Store cannot see are not found (404), and sign-in accepts only the Store's own
//! customers (global customers sign in only at project level; digest §9.1).
//!
//! Every password check goes through [`HashPool::verify`](crate::hashing::HashPool::verify),
//! and a sign-in that has no password to check (unknown email, `ExternalAuth`, a store-specific
//! customer at the global endpoint) verifies against the pool's dummy hash instead, so every
//! failed sign-in costs one Argon2id verification and answers alike.
//!
//! Token values are 256-bit secrets returned once; the store keeps their SHA-256 only. A
//! redemption is one store call that claims the token, invalidates the customer's other tokens
//! of that kind and saves the customer change with its Message, so concurrent redemptions of
//! one token have exactly one winner and a failed change never burns the token.

use super::customers::{check_version, write_error};
use super::stores::StoreContext;
use super::{envelopes, load_project, Actor};
use crate::auth::secret::{hash_secret, new_secret};
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::ThrottleKey;
use clientele_domain::limits;
use clientele_domain::token::{
    CustomerChangePassword, CustomerCreateEmailToken, CustomerCreatePasswordResetToken,
    CustomerEmailVerify, CustomerResetPassword, CustomerSignin, TokenKind,
};
use clientele_domain::{
    AuthenticationMode, Customer, CustomerToken, Email, Message, MessagePayload, Reference, Version,
};
use clientele_store::{
    CustomerLookup, CustomerTokenRecord, RedeemOutcome, StoreError, TokenRedemption,
};
use time::{Duration, OffsetDateTime};

/// `ttlMinutes` of a password-reset token when the request has none: the reference page's
/// 34560 (24 days). The hosted platform has used 1440 since 2025-06-04 (digest §11 #1).
pub const DEFAULT_PASSWORD_TOKEN_TTL_MINUTES: i64 = 34_560;

/// Token-creation Messages carry the token `value` only for tokens valid this long or less.
const MESSAGE_VALUE_MAX_TTL_MINUTES: i64 = 60;

/// The customer whose password `password` is, among the customers of `project_key` that may
/// sign in in `ctx` (global ones at project level, the Store's own in a Store) with this email
/// (up to letter case), or `None`. Always runs exactly one verification, except that with
/// `--login-throttle` an attempt on a locked account or by a locked API client (`client_id`)
/// is refused with `TooManyAttempts` before any; every failure is counted against both.
///
/// Every sign-in flow goes through here — `/login`, the OAuth password flows, and any later
/// one such as `/me/login` — so each is throttled alike.
pub async fn authenticate(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    client_id: &str,
    email: &str,
    password: &str,
) -> Result<Option<Customer>, ApiError> {
    let account = ThrottleKey::account(project_key, ctx.store_key(), email);
    let keys = [account.clone(), ThrottleKey::Client(client_id.to_owned())];
    state.throttle.check(&keys, state.clock.now())?;
    // A password longer than any that can be set (the OAuth form is not a JSON body, so the
    // body limits did not see it) matches nobody; the dummy verification of an empty one keeps
    // the time of a wrong password without hashing megabytes.
    let too_long = password.chars().count() > limits::MAX_PASSWORD_CHARS;
    let found = find_by_email(state, project_key, email, ctx.store_key()).await?;
    // Only Password-mode customers of this context can sign in here; for anyone else the dummy
    // hash is verified, so the answer takes as long as a wrong password.
    let hash = found
        .as_ref()
        .filter(|c| c.authentication_mode == AuthenticationMode::Password && ctx.authenticates(c))
        .and_then(|c| c.password.clone())
        .filter(|_| !too_long);
    let attempt = if too_long {
        String::new()
    } else {
        password.to_owned()
    };
    let matches = state.hasher.verify(attempt, hash).await? && !too_long;
    if matches {
        state.throttle.succeeded(&account);
    } else {
        state.throttle.failed(&keys, state.clock.now());
    }
    Ok(found.filter(|_| matches))
}

/// The customer of `project_key` in `store`'s email scope (global when `None`) whose stored
/// email is `email` up to letter case ([`Email::same_address`]), or `None`.
///
/// The store matches lowercased emails, and distinct characters can lowercase alike (KELVIN
/// SIGN U+212A and `K` both give `k`): such a hit is another person's account, so a credential
/// flow must treat it as an unknown email.
pub async fn find_by_email(
    state: &AppState,
    project_key: &str,
    email: &str,
    store: Option<&str>,
) -> Result<Option<Customer>, ApiError> {
    // No stored email holds a NUL or a control character or is longer than the limit (drafts
    // refuse them), so such an email is unknown without asking the store.
    if email.chars().count() > limits::MAX_EMAIL_CHARS || email.chars().any(char::is_control) {
        return Ok(None);
    }
    let lookup = CustomerLookup::Email {
        email: email.to_owned(),
        store: store.map(str::to_owned),
    };
    let found = state.store.get_customer(project_key, &lookup).await?;
    Ok(found.filter(|c| Email::same_address(&c.email, email)))
}

/// `POST /{p}/login`: the customer, or `InvalidCredentials` (the same for an unknown email and a
/// wrong password).
pub async fn sign_in(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    signin: CustomerSignin,
) -> Result<Customer, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    // Clientele has no Carts: naming one fails before any password work.
    signin.check_cart()?;
    authenticate(
        state,
        project_key,
        ctx,
        &actor.client_id,
        &signin.email,
        &signin.password,
    )
    .await?
    .ok_or(ApiError::InvalidCredentials)
}

/// `POST /{p}/customers/password`: checks `version` and the current password, stores the new
/// one and writes `CustomerPasswordUpdated{reset: false}`.
pub async fn change_password(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    body: CustomerChangePassword,
) -> Result<Customer, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let customer = load_by_id(state, project_key, ctx, &body.id).await?;
    check_version(&customer, version_number(body.version))?;
    let new_password = required_password(body.new_password, "newPassword")?;
    // An ExternalAuth customer has no password: the dummy hash is verified and the current
    // password never matches.
    let current = customer.password.clone();
    if !state.hasher.verify(body.current_password, current).await? {
        return Err(ApiError::InvalidCurrentPassword);
    }
    let now = state.clock.now();
    let expected = customer.version;
    let next = with_password(state, customer, new_password, actor, now).await?;
    let messages = envelopes(
        state,
        &next,
        next.version.get(),
        vec![MessagePayload::CustomerPasswordUpdated { reset: false }],
        actor,
        now,
    );
    state
        .store
        .update_customer(project_key, &next, expected, messages)
        .await
        .map_err(|e| write_error(e, &next.id, expected.get()))?;
    Ok(next)
}

/// `POST /{p}/customers/password-token`: a password-reset token for the global customer with
/// this email (in a Store: the Store's customer with this email, else the global one), and
/// `CustomerPasswordTokenCreated`.
pub async fn create_password_token(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    body: CustomerCreatePasswordResetToken,
) -> Result<CustomerToken, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let ttl = ttl_minutes(
        body.ttl_minutes
            .unwrap_or(DEFAULT_PASSWORD_TOKEN_TTL_MINUTES),
    )?;
    // Email uniqueness keeps the Store's scope and the global one disjoint, so at most one of
    // the two lookups finds someone.
    let mut scopes = vec![None];
    if let Some(store) = ctx.store_key() {
        scopes.insert(0, Some(store.to_owned()));
    }
    let mut found = None;
    for store in scopes {
        found = find_by_email(state, project_key, &body.email, store.as_deref()).await?;
        if found.is_some() {
            break;
        }
    }
    let customer = found.filter(|c| ctx.sees(c)).ok_or_else(|| {
        ApiError::ResourceNotFound(format!(
            "The Customer with email '{}' was not found.",
            body.email
        ))
    })?;
    ensure_password_mode(&customer)?;
    let invalidate = body.invalidate_older_tokens.unwrap_or(false);
    create_token(
        state,
        project_key,
        actor,
        &customer,
        TokenKind::PasswordReset,
        ttl,
        invalidate,
    )
    .await
}

/// `POST /{p}/customers/email-token`: an email-verification token for the customer `id`
/// (`version` checked when given), and `CustomerEmailTokenCreated`.
pub async fn create_email_token(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    body: CustomerCreateEmailToken,
) -> Result<CustomerToken, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let ttl = ttl_minutes(body.ttl_minutes)?;
    let customer = load_by_id(state, project_key, ctx, &body.id).await?;
    if let Some(version) = body.version {
        check_version(&customer, version_number(version))?;
    }
    let invalidate = body.invalidate_older_tokens.unwrap_or(false);
    create_token(
        state,
        project_key,
        actor,
        &customer,
        TokenKind::EmailVerification,
        ttl,
        invalidate,
    )
    .await
}

/// `GET /{p}/customers/password-token={value}` and `email-token={value}`: the token's customer.
pub async fn customer_by_token(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    kind: TokenKind,
    value: &str,
) -> Result<Customer, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    usable_token(state, project_key, ctx, kind, value).await
}

/// `POST /{p}/customers/password/reset`: redeems a password token, stores the new password,
/// writes `CustomerPasswordUpdated{reset: true}` and revokes the customer's OAuth tokens.
pub async fn reset_password(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    body: CustomerResetPassword,
) -> Result<Customer, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let kind = TokenKind::PasswordReset;
    let customer = usable_token(state, project_key, ctx, kind, &body.token_value).await?;
    if let Some(version) = body.version {
        check_version(&customer, version_number(version))?;
    }
    // Checked again here: the mode may have changed since the token was created.
    ensure_password_mode(&customer)?;
    let new_password = required_password(body.new_password, "newPassword")?;
    let now = state.clock.now();
    let expected = customer.version;
    let next = with_password(state, customer, new_password, actor, now).await?;
    let payload = MessagePayload::CustomerPasswordUpdated { reset: true };
    let change = redemption(state, kind, &next, expected, payload, actor, now);
    redeem(state, project_key, kind, &body.token_value, now, change).await?;
    Ok(next)
}

/// `POST /{p}/customers/email/confirm`: redeems an email token, sets `isEmailVerified` and
/// writes `CustomerEmailVerified`.
pub async fn verify_email(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    actor: &Actor,
    body: CustomerEmailVerify,
) -> Result<Customer, ApiError> {
    load_project(state, project_key).await?;
    ctx.require(state, project_key).await?;
    let kind = TokenKind::EmailVerification;
    let customer = usable_token(state, project_key, ctx, kind, &body.token_value).await?;
    if let Some(version) = body.version {
        check_version(&customer, version_number(version))?;
    }
    let now = state.clock.now();
    let expected = customer.version;
    let mut next = customer;
    next.is_email_verified = true;
    touch(&mut next, actor, now);
    let payload = MessagePayload::CustomerEmailVerified {};
    let change = redemption(state, kind, &next, expected, payload, actor, now);
    redeem(state, project_key, kind, &body.token_value, now, change).await?;
    Ok(next)
}

/// The store change of a redemption: `next` (computed from `expected`) with its one Message,
/// revoking the customer's OAuth tokens when a password is reset.
fn redemption(
    state: &AppState,
    kind: TokenKind,
    next: &Customer,
    expected: Version,
    payload: MessagePayload,
    actor: &Actor,
    now: OffsetDateTime,
) -> TokenRedemption {
    TokenRedemption {
        customer: next.clone(),
        expected,
        messages: envelopes(state, next, next.version.get(), vec![payload], actor, now),
        revoke_oauth_tokens: kind == TokenKind::PasswordReset,
    }
}

/// Claims the token and saves the change in one store call.
async fn redeem(
    state: &AppState,
    project_key: &str,
    kind: TokenKind,
    value: &str,
    now: OffsetDateTime,
    change: TokenRedemption,
) -> Result<(), ApiError> {
    let (id, expected) = (change.customer.id.clone(), change.expected.get());
    let outcome = state
        .store
        .redeem_customer_token(project_key, &hash_secret(value), kind, now, change)
        .await
        .map_err(|e| write_error(e, &id, expected))?;
    match outcome {
        RedeemOutcome::Redeemed => Ok(()),
        RedeemOutcome::Expired => Err(expired(kind)),
        // Another redemption won the race (or invalidated this token) meanwhile.
        RedeemOutcome::NotFound => Err(token_not_found()),
    }
}

/// Issues a token of `kind` for `customer`, valid `ttl` minutes.
async fn create_token(
    state: &AppState,
    project_key: &str,
    actor: &Actor,
    customer: &Customer,
    kind: TokenKind,
    ttl: i64,
    invalidate_older: bool,
) -> Result<CustomerToken, ApiError> {
    let now = state.clock.now();
    let expires_at = expiry(now, ttl)?;
    let value = new_secret(state.random.as_ref());
    let record = CustomerTokenRecord {
        id: state.random.uuid(),
        customer_id: customer.id.clone(),
        kind,
        value_hash: hash_secret(&value),
        expires_at,
        created_at: now,
        used: false,
    };
    // The value goes into the Message only for short-lived tokens (digest §5.2): long-lived
    // secrets must not sit in a log every Messages reader can see.
    let message_value = (ttl <= MESSAGE_VALUE_MAX_TTL_MINUTES).then(|| value.clone());
    let payload = match kind {
        TokenKind::PasswordReset => MessagePayload::CustomerPasswordTokenCreated {
            customer_id: customer.id.clone(),
            expires_at,
            value: message_value,
            invalidate_older_tokens: invalidate_older,
        },
        TokenKind::EmailVerification => MessagePayload::CustomerEmailTokenCreated {
            customer_id: customer.id.clone(),
            expires_at,
            value: message_value,
            invalidate_older_tokens: invalidate_older,
        },
    };
    let message = token_message(state, &record, payload, actor, now);
    state
        .store
        .insert_customer_token(project_key, &record, invalidate_older, vec![message])
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found_id(&customer.id),
            other => other.into(),
        })?;
    Ok(CustomerToken {
        id: record.id,
        created_at: now,
        last_modified_at: now,
        last_modified_by: Some(actor.logging()),
        created_by: Some(actor.logging()),
        customer_id: customer.id.clone(),
        expires_at,
        value,
        invalidate_older_tokens: invalidate_older,
    })
}

/// The Message of a token's creation: its resource is the token (`customer-password-token` /
/// `customer-email-token`), at the token's only version.
fn token_message(
    state: &AppState,
    token: &CustomerTokenRecord,
    payload: MessagePayload,
    actor: &Actor,
    now: OffsetDateTime,
) -> Message {
    Message {
        id: state.random.time_ordered_uuid(now),
        version: 1,
        sequence_number: 0,
        resource: Reference::new(token.kind.type_id(), token.id.clone()),
        resource_version: 1,
        resource_user_provided_identifiers: None,
        created_at: now,
        last_modified_at: now,
        created_by: Some(actor.logging()),
        last_modified_by: Some(actor.logging()),
        payload,
    }
}

/// The customer of the unused, unexpired token with this value, or the 404 / expired error.
/// Visibility is checked before expiry: a token of a customer `ctx` cannot see is 404 whether
/// it has expired or not, so another Store's tokens reveal nothing.
async fn usable_token(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    kind: TokenKind,
    value: &str,
) -> Result<Customer, ApiError> {
    let token = state
        .store
        .find_customer_token(project_key, &hash_secret(value), kind)
        .await?
        .filter(|t| !t.used)
        .ok_or_else(token_not_found)?;
    let customer = token_customer(state, project_key, ctx, &token).await?;
    if token.expires_at <= state.clock.now() {
        return Err(expired(kind));
    }
    Ok(customer)
}

/// The customer of `token`. Tokens go with their customer (ON DELETE CASCADE), so a missing
/// one is a race with a delete, and the token is as gone as its customer. A token of a
/// customer `ctx` cannot see is as unknown as a made-up one.
async fn token_customer(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    token: &CustomerTokenRecord,
) -> Result<Customer, ApiError> {
    state
        .store
        .get_customer(project_key, &CustomerLookup::Id(token.customer_id.clone()))
        .await?
        .filter(|c| ctx.sees(c))
        .ok_or_else(token_not_found)
}

/// The 404 for a token that is unknown, used or invalidated. It never echoes the value: that is
/// a secret.
fn token_not_found() -> ApiError {
    ApiError::ResourceNotFound("The token is invalid or does not exist.".to_owned())
}

fn expired(kind: TokenKind) -> ApiError {
    match kind {
        TokenKind::PasswordReset => ApiError::ExpiredCustomerPasswordToken,
        TokenKind::EmailVerification => ApiError::ExpiredCustomerEmailToken,
    }
}

/// A validated `ttlMinutes`: at least 1.
fn ttl_minutes(ttl: i64) -> Result<i64, ApiError> {
    if ttl < 1 {
        return Err(ApiError::invalid_input(format!(
            "Invalid ttlMinutes '{ttl}'. It must be a positive integer."
        )));
    }
    Ok(ttl)
}

/// `now + ttl` minutes, as long as it is a date the API can write (year ≤ 9999).
fn expiry(now: OffsetDateTime, ttl: i64) -> Result<OffsetDateTime, ApiError> {
    ttl.checked_mul(60)
        .and_then(|secs| now.checked_add(Duration::seconds(secs)))
        .filter(|t| t.year() <= 9999)
        .ok_or_else(|| {
            ApiError::invalid_input(format!(
                "Invalid ttlMinutes '{ttl}'. The token would expire after the year 9999."
            ))
        })
}

/// `InvalidOperation` for a customer without a password to reset.
fn ensure_password_mode(customer: &Customer) -> Result<(), ApiError> {
    if customer.authentication_mode == AuthenticationMode::ExternalAuth {
        return Err(ApiError::invalid_operation(
            "The customer uses the authentication mode 'ExternalAuth' and has no password to reset."
                .to_owned(),
        ));
    }
    Ok(())
}

/// A non-empty new password, or `RequiredField` on `field`.
fn required_password(password: String, field: &str) -> Result<String, ApiError> {
    if password.is_empty() {
        return Err(ApiError::required_field(field));
    }
    Ok(password)
}

/// `customer` with `password` hashed (off the executor), one version later.
async fn with_password(
    state: &AppState,
    mut customer: Customer,
    password: String,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Customer, ApiError> {
    let mut salt = [0u8; 16];
    state.random.fill(&mut salt);
    customer.password = Some(state.hasher.hash(password, salt).await?);
    touch(&mut customer, actor, now);
    Ok(customer)
}

/// One change: the next version, `lastModifiedAt` and `lastModifiedBy`.
fn touch(customer: &mut Customer, actor: &Actor, now: OffsetDateTime) {
    customer.version = customer.version.next();
    customer.last_modified_at = now;
    customer.last_modified_by = Some(actor.logging());
}

/// The customer with this id if `ctx` can see it, or the commercetools 404.
async fn load_by_id(
    state: &AppState,
    project_key: &str,
    ctx: &StoreContext,
    id: &str,
) -> Result<Customer, ApiError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::not_found_id(id));
    }
    state
        .store
        .get_customer(project_key, &CustomerLookup::Id(id.to_owned()))
        .await?
        .filter(|c| ctx.sees(c))
        .ok_or_else(|| ApiError::not_found_id(id))
}

/// A body's version as the number [`check_version`] compares.
fn version_number(version: Version) -> i64 {
    // Versions come from JSON integers (≤ i64::MAX), so this never saturates.
    i64::try_from(version.get()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_must_be_positive_and_the_expiry_writable() {
        assert!(ttl_minutes(0).is_err());
        assert!(ttl_minutes(-5).is_err());
        assert_eq!(ttl_minutes(1).unwrap(), 1);
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(expiry(now, 60).unwrap(), now + Duration::hours(1));
        assert!(expiry(now, i64::MAX / 120).is_err());
        assert!(expiry(now, 60 * 24 * 366 * 8000).is_err());
    }
}
