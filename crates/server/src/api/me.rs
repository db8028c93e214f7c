//! My Customer Profile routes: `GET|POST|DELETE /{p}/me`, `POST /{p}/me/signup`, `/me/login`,
//! `/me/password`, `/me/password/reset` and `/me/email/confirm`, and their twins under
//! `/{p}/in-store/key={storeKey}/`. Handlers extract the token first ([`MyToken`]: 401 / 403
//! before anything else; the customer endpoints also check that the token names a customer
//! before reading the body), turn the `My*` body into the project endpoint's body with the rules of
//! `clientele_domain::me`, call `service::me` and shape the response. No rules live here.

use super::params::QueryParams;
use super::request::{custom_types, expanded, expansions, json_body, required_version};
use crate::auth::session::{Identity, MyToken};
use crate::error::ApiError;
use crate::json::{parse_json, AppJson};
use crate::service::me as service;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use clientele_domain::me as rules;
use clientele_domain::CustomerSignInResult;
use clientele_query::schema::customer_schema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The `/me` routes, at project level and in a Store.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/{project}", "/{project}/in-store/{store}"] {
        router = router
            .route(
                &format!("{prefix}/me"),
                get(get_me).post(update_me).delete(delete_me),
            )
            .route(&format!("{prefix}/me/signup"), post(sign_up))
            .route(&format!("{prefix}/me/login"), post(sign_in))
            .route(&format!("{prefix}/me/password"), post(change_password))
            .route(&format!("{prefix}/me/password/reset"), post(reset_password))
            .route(&format!("{prefix}/me/email/confirm"), post(verify_email));
    }
    router
}

/// A body, already JSON, as the typed body of the project endpoint (same `InvalidJsonInput`
/// errors as [`AppJson`]).
fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    let bytes = serde_json::to_vec(&value)
        .map_err(|e| ApiError::Internal(format!("re-encode a request body: {e}")))?;
    parse_json(&bytes)
}

/// `GET /me[?where=…&expand=…]`: the token's customer; 404 when a `where` does not match it.
async fn get_me(
    token: MyToken,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    service::customer_id(&token)?;
    let params = QueryParams::parse(raw.as_deref());
    let paths = expansions(&params)?;
    let custom = custom_types(&state, &token.project_key, &params, "customer").await?;
    // The endpoint declares the collection parameters too; they select nothing from one
    // customer, but malformed ones get the same 400 as on `/customers`.
    params.limit()?;
    params.offset()?;
    params.bool("withTotal", true)?;
    clientele_query::parse_sort_with(&params.all("sort"), &customer_schema(), &custom)?;
    let wheres = params.all("where");
    let predicate = match &token.identity {
        Identity::Customer { id, .. } if !wheres.is_empty() => {
            // The customer's own id is one more `where` (each is parsed on its own and the
            // results ANDed), so no predicate can reach another customer.
            let mut all = vec![format!("id = \"{id}\"")];
            all.extend(wheres);
            Some(clientele_query::parse_where_with(
                &all,
                &params.vars(),
                &customer_schema(),
                &custom,
            )?)
        }
        _ => None,
    };
    let customer = service::get(&state, &token, predicate).await?;
    expanded(&state, &token.project_key, &customer, &paths).await
}

/// `POST /me`: a `MyCustomerUpdate`; actions other than the 21 `MyCustomerUpdateAction`s are
/// 400 `InvalidJsonInput` naming the action.
async fn update_me(
    token: MyToken,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    service::customer_id(&token)?;
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let body: Value = json_body(body)?;
    rules::check_update_actions(&body)?;
    let customer = service::update(&state, &token, typed(body)?).await?;
    expanded(&state, &token.project_key, &customer, &paths).await
}

/// `DELETE /me?version=N`.
async fn delete_me(
    token: MyToken,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    service::customer_id(&token)?;
    let params = QueryParams::parse(raw.as_deref());
    let version = required_version(&params)?;
    let customer = service::delete(&state, &token, version).await?;
    expanded(&state, &token.project_key, &customer, &[]).await
}

/// `POST /me/signup`: a `MyCustomerDraft` → 201 `CustomerSignInResult` (no `cart`).
async fn sign_up(
    token: MyToken,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let paths = expansions(&QueryParams::parse(raw.as_deref()))?;
    let draft = typed(rules::customer_draft(body)?)?;
    let customer = service::sign_up(&state, &token, draft).await?;
    let body = CustomerSignInResult { customer };
    let body = expanded(&state, &token.project_key, &body, &paths).await?;
    Ok((StatusCode::CREATED, body))
}

/// `POST /me/login`: a `MyCustomerSignin` → 200 `CustomerSignInResult`, or 400
/// `InvalidCredentials`.
async fn sign_in(
    token: MyToken,
    State(state): State<AppState>,
    AppJson(body): AppJson<Value>,
) -> Result<Json<CustomerSignInResult>, ApiError> {
    let signin = typed(rules::customer_signin(body)?)?;
    let customer = service::sign_in(&state, &token, signin).await?;
    Ok(Json(CustomerSignInResult { customer }))
}

/// `POST /me/password`: a `MyCustomerChangePassword` → the customer.
async fn change_password(
    token: MyToken,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = service::customer_id(&token)?;
    let body = typed(rules::change_password(json_body(body)?, id)?)?;
    let customer = service::change_password(&state, &token, body).await?;
    expanded(&state, &token.project_key, &customer, &[]).await
}

/// `POST /me/password/reset`: a `MyCustomerResetPassword` → the customer.
async fn reset_password(
    token: MyToken,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    service::customer_id(&token)?;
    let body = typed(rules::token_body(
        json_body(body)?,
        "MyCustomerResetPassword",
    )?)?;
    let customer = service::reset_password(&state, &token, body).await?;
    expanded(&state, &token.project_key, &customer, &[]).await
}

/// `POST /me/email/confirm`: a `MyCustomerEmailVerify` → the customer.
async fn verify_email(
    token: MyToken,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    service::customer_id(&token)?;
    let body = typed(rules::token_body(
        json_body(body)?,
        "MyCustomerEmailVerify",
    )?)?;
    let customer = service::verify_email(&state, &token, body).await?;
    expanded(&state, &token.project_key, &customer, &[]).await
}
