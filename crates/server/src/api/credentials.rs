//! Credential routes: `POST /{p}/login`, `POST /{p}/customers/password`, the password-reset
//! flow (`/customers/password-token`, `/customers/password/reset`) and the email-verification
//! flow (`/customers/email-token`, `/customers/email/confirm`), at project level and under
//! `/{p}/in-store/key={storeKey}` (same handlers; the Store reaches the services as a
//! `StoreContext`).
//!
//! The token lookups `GET /{p}/customers/password-token={value}` and `email-token={value}`
//! share their path shape with `GET /{p}/customers/{id}`, so `api::customers` serves them.
//! Handlers extract (scope first), call `service::credentials` and shape the response; no
//! rules live here.

use super::customers;
use super::params::QueryParams;
use super::request::{actor, expanded, expanded_sign_in, expansions, store_context};
use crate::auth::{Authorized, ManageCustomers};
use crate::error::ApiError;
use crate::json::AppJson;
use crate::service::credentials as service;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::routing::{post, MethodRouter};
use axum::{Json, Router};
use clientele_domain::token::{
    CustomerChangePassword, CustomerCreateEmailToken, CustomerCreatePasswordResetToken,
    CustomerEmailVerify, CustomerResetPassword, CustomerSignin,
};
use clientele_domain::{CustomerSignInResult, CustomerToken};
use serde_json::Value;

/// Credential routes, at project level and in a Store.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/{project}", "/{project}/in-store/{store}"] {
        router = router
            .route(&format!("{prefix}/login"), post(sign_in))
            .route(
                &format!("{prefix}/customers/password"),
                customer_lookalike(post(change_password)),
            )
            .route(
                &format!("{prefix}/customers/password-token"),
                customer_lookalike(post(create_password_token)),
            )
            .route(
                &format!("{prefix}/customers/password/reset"),
                post(reset_password),
            )
            .route(
                &format!("{prefix}/customers/email-token"),
                customer_lookalike(post(create_email_token)),
            )
            .route(
                &format!("{prefix}/customers/email/confirm"),
                post(verify_email),
            );
    }
    router
}

/// `GET`, `HEAD` and `DELETE` on `/customers/password`, `/password-token` and `/email-token`
/// answer as `/customers/{id}` does for an id that cannot exist (scope check, then 404), as
/// they did before these `POST` routes existed.
fn customer_lookalike(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route
        .get(customers::get_customer)
        .head(customers::head_customer)
        .delete(customers::delete_customer)
}

/// `POST /{p}/login`: 200 `CustomerSignInResult` (`expand` supported), or 400
/// `InvalidCredentials`.
async fn sign_in(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(signin): AppJson<CustomerSignin>,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    let customer = service::sign_in(&state, &auth.project_key, &ctx, &actor(&auth), signin).await?;
    expanded_sign_in(
        &state,
        &auth.project_key,
        &CustomerSignInResult { customer },
        &paths,
    )
    .await
}

/// `POST /{p}/customers/password`: `CustomerChangePassword` → the customer (`expand` supported).
async fn change_password(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(body): AppJson<CustomerChangePassword>,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    let customer =
        service::change_password(&state, &auth.project_key, &ctx, &actor(&auth), body).await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// `POST /{p}/customers/password-token`: `CustomerCreatePasswordResetToken` → 200
/// `CustomerToken`.
async fn create_password_token(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    AppJson(body): AppJson<CustomerCreatePasswordResetToken>,
) -> Result<Json<CustomerToken>, ApiError> {
    let ctx = store_context(&auth);
    let token =
        service::create_password_token(&state, &auth.project_key, &ctx, &actor(&auth), body)
            .await?;
    Ok(Json(token))
}

/// `POST /{p}/customers/password/reset`: `CustomerResetPassword` → the customer (`expand`
/// supported).
async fn reset_password(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(body): AppJson<CustomerResetPassword>,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    let customer =
        service::reset_password(&state, &auth.project_key, &ctx, &actor(&auth), body).await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}

/// `POST /{p}/customers/email-token`: `CustomerCreateEmailToken` → 200 `CustomerToken`.
async fn create_email_token(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    AppJson(body): AppJson<CustomerCreateEmailToken>,
) -> Result<Json<CustomerToken>, ApiError> {
    let ctx = store_context(&auth);
    let token =
        service::create_email_token(&state, &auth.project_key, &ctx, &actor(&auth), body).await?;
    Ok(Json(token))
}

/// `POST /{p}/customers/email/confirm`: `CustomerEmailVerify` → the customer (`expand`
/// supported).
async fn verify_email(
    auth: Authorized<ManageCustomers>,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(body): AppJson<CustomerEmailVerify>,
) -> Result<Json<Value>, ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let ctx = store_context(&auth);
    let customer =
        service::verify_email(&state, &auth.project_key, &ctx, &actor(&auth), body).await?;
    expanded(&state, &auth.project_key, &customer, &paths).await
}
