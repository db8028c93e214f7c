//! Request extractors and response shaping shared by the API handlers: path parameters, the
//! JSON body, query parameters (`where`, `sort`, paging, `expand`, the `version` a `DELETE`
//! needs), the Store a request runs in and its actor, and the expansion of response bodies.
//!
//! Pure request plumbing: no routes and no business rules live here, and no handler module is
//! imported, so every handler module can use it.

use super::params::QueryParams;
use crate::auth::Authorized;
use crate::error::ApiError;
use crate::json::parse_json;
use crate::service::customers::CustomerRef;
use crate::service::expand;
use crate::service::stores::StoreContext;
use crate::service::Actor;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clientele_domain::{CustomerSignInResult, PagedQueryResponse};
use clientele_query::schema::{customer_schema, Schema};
use clientele_query::{CustomFieldTypes, ExpandPath};
use clientele_store::{CustomerJson, ResourceQuery};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The path parameters of a customer route (`project`, in a Store `store`, and for single
/// customers `id_or_key`), or why they did not decode.
pub type PathParams = Result<Path<Vec<(String, String)>>, PathRejection>;

/// The `{id_or_key}` segment, if the route has one and it decoded.
pub fn id_or_key(path: &PathParams) -> Option<&str> {
    let Ok(Path(params)) = path else {
        return None;
    };
    params
        .iter()
        .find(|(name, _)| name == "id_or_key")
        .map(|(_, value)| value.as_str())
}

/// The [`StoreContext`] of a request: the Store its path names, if any.
pub fn store_context<R: crate::auth::Requirement>(auth: &Authorized<R>) -> StoreContext {
    StoreContext::of(auth.store.clone())
}

/// Segments under `/customers/` reserved for the credentials endpoints.
const RESERVED: &[&str] = &["password", "password-token", "email-token", "email"];
/// Segment prefixes reserved for the token lookups of the credentials endpoints.
const RESERVED_PREFIXES: &[&str] = &["password-token=", "email-token="];

/// Reads the `{id_or_key}` segment: `key=…` names a key, anything else an id. Reserved
/// segments and ids that are not UUIDs cannot name a customer and give the 404 at once, so a
/// request to them never gets as far as parsing its body.
pub fn customer_ref(path: &PathParams) -> Result<CustomerRef, ApiError> {
    // A segment that does not even decode (invalid UTF-8) cannot name a customer either, and
    // the credential routes that share these handlers have no segment at all.
    let Some(segment) = id_or_key(path) else {
        return Err(ApiError::ResourceNotFound(
            "The requested resource was not found.".to_owned(),
        ));
    };
    if let Some(key) = segment.strip_prefix("key=") {
        return Ok(CustomerRef::Key(key.to_owned()));
    }
    let reserved =
        RESERVED.contains(&segment) || RESERVED_PREFIXES.iter().any(|p| segment.starts_with(p));
    if reserved || uuid::Uuid::parse_str(segment).is_err() {
        return Err(ApiError::not_found_id(segment));
    }
    Ok(CustomerRef::Id(segment.to_owned()))
}

/// Parses a body read as bytes, with the same errors as [`AppJson`] (413 over the limit,
/// `InvalidJsonInput` otherwise).
pub fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::ContentTooLarge
        } else {
            ApiError::invalid_json(e.body_text())
        }
    })?;
    parse_json(&bytes)
}

/// The parsed `expand` parameters (none → empty). Only the syntax is checked here; paths
/// that lead nowhere are skipped when the response is expanded, as commercetools does.
pub fn expansions(params: &QueryParams) -> Result<Vec<ExpandPath>, ApiError> {
    Ok(clientele_query::parse_expand(&params.all("expand"))?)
}

/// What a response body is, for expansion: one resource, or a page whose `results` each get
/// the paths expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One resource.
    One,
    /// A `PagedQueryResponse`.
    Page,
}

/// `body` as a JSON value with `paths` expanded in it as `shape` says.
async fn expanded_value<T: Serialize>(
    state: &AppState,
    project: &str,
    body: &T,
    paths: &[ExpandPath],
    shape: Shape,
) -> Result<Value, ApiError> {
    let mut value = to_json(body)?;
    if !paths.is_empty() {
        match shape {
            Shape::One => expand::expand(state, project, &mut value, paths).await?,
            Shape::Page => expand::expand_page(state, project, &mut value, paths).await?,
        }
    }
    Ok(value)
}

/// `body` as JSON with `paths` expanded in it.
pub async fn expanded<T: Serialize>(
    state: &AppState,
    project: &str,
    body: &T,
    paths: &[ExpandPath],
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        expanded_value(state, project, body, paths, Shape::One).await?,
    ))
}

/// `body` (one resource or a page, as `shape` says) as a response with `paths` expanded.
/// Without `paths` the body is serialized straight to bytes, skipping the `Value` tree in
/// between: the same bytes (fields in declaration order either way), at a fraction of the
/// allocations on the most frequent reads.
pub async fn expanded_response<T: Serialize>(
    state: &AppState,
    project: &str,
    body: &T,
    paths: &[ExpandPath],
    shape: Shape,
) -> Result<Response, ApiError> {
    if paths.is_empty() {
        return json_bytes(body);
    }
    Ok(Json(expanded_value(state, project, body, paths, shape).await?).into_response())
}

/// `body` serialized as an `application/json` response.
fn json_bytes<T: Serialize>(body: &T) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| ApiError::Internal(format!("serialize response: {e}")))?;
    Ok(json_text(bytes))
}

/// JSON text that is already the response body, as an `application/json` response.
pub fn json_text(body: impl Into<axum::body::Body>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.into(),
    )
        .into_response()
}

/// A customer as [`crate::service::customers::get_json`] read it, as the response to a GET
/// without `expand`: the stored text as it is, or the parsed customer serialized.
pub fn customer_json_response(customer: CustomerJson) -> Result<Response, ApiError> {
    match customer {
        CustomerJson::Stored(text) => Ok(json_text(text)),
        CustomerJson::Parsed(customer) => json_bytes(&customer),
    }
}

/// A page of customers as [`crate::service::customers::query_json`] read it, as the response
/// to a query without `expand`: the bytes `serde_json` writes for a
/// `PagedQueryResponse<Customer>`, with each stored text put in as it is.
pub fn customer_page_response(
    page: &PagedQueryResponse<CustomerJson>,
) -> Result<Response, ApiError> {
    let texts: usize = page
        .results
        .iter()
        .map(|c| match c {
            CustomerJson::Stored(text) => text.len() + 1,
            CustomerJson::Parsed(_) => 1024,
        })
        .sum();
    let mut body = Vec::with_capacity(texts + 96);
    body.extend_from_slice(
        format!(
            "{{\"limit\":{},\"offset\":{},\"count\":{},",
            page.limit, page.offset, page.count
        )
        .as_bytes(),
    );
    if let Some(total) = page.total {
        body.extend_from_slice(format!("\"total\":{total},").as_bytes());
    }
    body.extend_from_slice(b"\"results\":[");
    for (i, customer) in page.results.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        match customer {
            CustomerJson::Stored(text) => body.extend_from_slice(text.as_bytes()),
            CustomerJson::Parsed(customer) => serde_json::to_writer(&mut body, customer)
                .map_err(|e| ApiError::Internal(format!("serialize response: {e}")))?,
        }
    }
    body.extend_from_slice(b"]}");
    Ok(json_text(body))
}

/// A `CustomerSignInResult` as JSON with `paths` expanded. Paths are relative to the result
/// (`customer.customerGroup`, as commercetools documents), and a path that starts anywhere
/// else is read relative to its `customer` (`customerGroup`), so an SDK that sends the
/// Customer's own paths on create or sign-in gets them expanded too.
pub async fn expanded_sign_in(
    state: &AppState,
    project: &str,
    body: &CustomerSignInResult,
    paths: &[ExpandPath],
) -> Result<Json<Value>, ApiError> {
    let paths: Vec<ExpandPath> = paths.iter().map(sign_in_relative).collect();
    expanded(state, project, body, &paths).await
}

/// `path` as a path inside a `CustomerSignInResult`.
fn sign_in_relative(path: &ExpandPath) -> ExpandPath {
    let first = path.segments.first().map(|s| s.name.as_str());
    if matches!(first, Some("customer") | Some("cart")) {
        return path.clone();
    }
    let mut segments = vec![clientele_query::ExpandSegment {
        name: "customer".to_owned(),
        all_elements: false,
    }];
    segments.extend(path.segments.iter().cloned());
    ExpandPath { segments }
}

/// A paged response as JSON with `paths` expanded in every result.
pub async fn expanded_page<T: Serialize>(
    state: &AppState,
    project: &str,
    page: &PagedQueryResponse<T>,
    paths: &[ExpandPath],
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        expanded_value(state, project, page, paths, Shape::Page).await?,
    ))
}

fn to_json<T: Serialize>(body: &T) -> Result<Value, ApiError> {
    serde_json::to_value(body).map_err(|e| ApiError::Internal(format!("serialize response: {e}")))
}

/// The `where` predicate of a request (all `where` parameters ANDed, `var.*` bound), if any;
/// custom fields untyped.
pub fn predicate(
    params: &QueryParams,
    schema: &Schema,
) -> Result<Option<clientele_query::Predicate>, ApiError> {
    predicate_with(params, schema, &CustomFieldTypes::new())
}

/// [`predicate`] with the resource's custom fields typed by `custom`.
pub fn predicate_with(
    params: &QueryParams,
    schema: &Schema,
    custom: &CustomFieldTypes,
) -> Result<Option<clientele_query::Predicate>, ApiError> {
    let wheres = params.all("where");
    if wheres.is_empty() {
        return Ok(None);
    }
    Ok(Some(clientele_query::parse_where_with(
        &wheres,
        &params.vars(),
        schema,
        custom,
    )?))
}

/// A collection query from the query string: paging, `withTotal`, `where`, `sort` (`expand`
/// is applied to the response, see [`expansions`]); custom fields untyped.
pub fn resource_query(params: &QueryParams, schema: &Schema) -> Result<ResourceQuery, ApiError> {
    resource_query_with(params, schema, &CustomFieldTypes::new())
}

/// [`resource_query`] with the resource's custom fields typed by `custom`.
pub fn resource_query_with(
    params: &QueryParams,
    schema: &Schema,
    custom: &CustomFieldTypes,
) -> Result<ResourceQuery, ApiError> {
    let limit = params.limit()?;
    let offset = params.offset()?;
    let with_total = params.bool("withTotal", true)?;
    let predicate = predicate_with(params, schema, custom)?;
    let sort = clientele_query::parse_sort_with(&params.all("sort"), schema, custom)?;
    Ok(ResourceQuery {
        predicate,
        sort,
        limit,
        offset,
        with_total,
        store: None,
    })
}

/// The custom field types of the project's Types for `resource_type_id` (`customer`,
/// `customer-group`, …), read only when a `where` or `sort` parameter may name a custom field,
/// so other queries cost no extra store round trip.
pub async fn custom_types(
    state: &AppState,
    project: &str,
    params: &QueryParams,
    resource_type_id: &str,
) -> Result<CustomFieldTypes, ApiError> {
    let mentions_custom = ["where", "sort"]
        .iter()
        .flat_map(|p| params.all(p))
        .any(|v| v.contains("custom"));
    if !mentions_custom {
        return Ok(CustomFieldTypes::new());
    }
    crate::service::types::custom_field_types(state, project, resource_type_id).await
}

/// The query of a customer collection request (`GET`, also in a store): [`resource_query`]
/// with the custom fields typed by the project's customer Types.
pub async fn customer_query(
    state: &AppState,
    project: &str,
    params: &QueryParams,
) -> Result<ResourceQuery, ApiError> {
    let custom = custom_types(state, project, params, CUSTOMER_TYPE_ID).await?;
    resource_query_with(params, &customer_schema(), &custom)
}

/// The `where` predicate of a customer `HEAD` request, custom fields typed like
/// [`customer_query`].
pub async fn customer_predicate(
    state: &AppState,
    project: &str,
    params: &QueryParams,
) -> Result<Option<clientele_query::Predicate>, ApiError> {
    let custom = custom_types(state, project, params, CUSTOMER_TYPE_ID).await?;
    predicate_with(params, &customer_schema(), &custom)
}

/// The `resourceTypeIds` entry of Types customers can use.
const CUSTOMER_TYPE_ID: &str = "customer";

/// The `Actor` of a request: the API client behind its token.
pub fn actor<R: crate::auth::Requirement>(auth: &Authorized<R>) -> Actor {
    Actor {
        external_user_id: auth.external_user_id.clone(),
        ..Actor::client(auth.client_id.clone())
    }
}

/// 200 or 404 without a body, as commercetools answers `HEAD`.
pub fn presence(found: bool) -> StatusCode {
    if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// The `version` query parameter a `DELETE` must carry.
pub fn required_version(params: &QueryParams) -> Result<i64, ApiError> {
    let raw = params.get("version").ok_or_else(|| {
        ApiError::invalid_input("Missing required query parameter 'version'.".to_owned())
    })?;
    raw.trim().parse().map_err(|_| {
        ApiError::invalid_input(format!(
            "Malformed parameter: version: '{raw}' is not an integer."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::Customer;

    fn customer(id: &str, total: Option<u64>) -> Customer {
        serde_json::from_value(serde_json::json!({
            "id": id, "version": 2, "email": format!("{id}@example.com"),
            "createdAt": "2024-02-29T23:59:59.123Z", "lastModifiedAt": "2024-03-01T00:00:00.001Z",
            "firstName": format!("quote \" {total:?} é"), "password": "****abc=",
            "addresses": [{"id": "a", "country": "DE", "city": "Berlin"}],
            "authenticationMode": "Password"
        }))
        .unwrap()
    }

    /// The page written around stored texts is byte for byte the serialized page.
    #[tokio::test]
    async fn a_page_of_stored_texts_is_the_serialized_page() {
        for (total, n) in [(Some(7), 3), (None, 2), (Some(0), 0)] {
            let customers: Vec<Customer> =
                (0..n).map(|i| customer(&format!("c{i}"), total)).collect();
            let page = PagedQueryResponse {
                limit: 20,
                offset: 5,
                count: customers.len() as u64,
                total,
                results: customers.clone(),
            };
            let expected = serde_json::to_vec(&page).unwrap();
            // Alternate stored texts and parsed customers: both kinds go into one page.
            let mixed = PagedQueryResponse {
                limit: 20,
                offset: 5,
                count: page.count,
                total,
                results: customers
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % 2 == 0 {
                            CustomerJson::Stored(serde_json::to_string(&c).unwrap())
                        } else {
                            CustomerJson::Parsed(Box::new(c))
                        }
                    })
                    .collect(),
            };
            let response = customer_page_response(&mixed).unwrap();
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                "application/json"
            );
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(
                String::from_utf8(body.to_vec()).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
