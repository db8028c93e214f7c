//! `GET /-/openapi.json`: an OpenAPI 3.1 document of every route this server serves, built
//! from [`operations`], a table that also names the axum route template serving each
//! operation. The API test `openapi` requests every documented operation and checks (through
//! `/-/metrics`' route labels) that exactly that template answered it, and that the methods a
//! template does not document answer 405: a route added, removed or moved without updating
//! the table fails that test.
//!
//! Owns the table and the schemas; it must not serve anything else nor describe behaviour the
//! handlers do not have.

use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

/// One documented operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `get`, `head`, `post` or `delete`.
    pub method: &'static str,
    /// The OpenAPI path (`/{projectKey}/customers/key={key}`).
    pub path: String,
    /// The axum route template that serves it (`/{project}/customers/{id_or_key}`).
    pub route: String,
    /// One line on what it does.
    pub summary: String,
    /// The request body's schema (component name), if it takes one.
    pub request: Option<&'static str>,
    /// The success status and its body's schema (component name; `None` for no body).
    pub response: (u16, Option<&'static str>),
    /// Which query parameters it takes.
    pub query: Query,
}

/// The query parameters of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// None.
    None,
    /// `expand`.
    Expand,
    /// `where`, `sort`, `limit`, `offset`, `withTotal`, `expand`.
    Listing,
    /// `version` (required), `dataErasure`, `expand`.
    Delete,
    /// `version` (required) only: `DELETE /me`.
    Version,
}

fn op(
    method: &'static str,
    path: impl Into<String>,
    route: impl Into<String>,
    summary: impl Into<String>,
    request: Option<&'static str>,
    response: (u16, Option<&'static str>),
    query: Query,
) -> Operation {
    Operation {
        method,
        path: path.into(),
        route: route.into(),
        summary: summary.into(),
        request,
        response,
        query,
    }
}

/// Every operation the server serves, with the route template that serves it.
pub fn operations() -> Vec<Operation> {
    use Query as Q;
    let mut ops = vec![
        op(
            "get",
            "/-/health",
            "/-/health",
            "Database reachable (200) or not (503)",
            None,
            (200, Some("Health")),
            Q::None,
        ),
        op(
            "get",
            "/-/metrics",
            "/-/metrics",
            "Metrics in the Prometheus text format",
            None,
            (200, None),
            Q::None,
        ),
        op(
            "get",
            "/-/openapi.json",
            "/-/openapi.json",
            "This document",
            None,
            (200, None),
            Q::None,
        ),
        op(
            "post",
            "/oauth/token",
            "/oauth/token",
            "Client credentials or refresh token grant",
            Some("TokenRequest"),
            (200, Some("TokenResponse")),
            Q::None,
        ),
        op(
            "post",
            "/oauth/introspect",
            "/oauth/introspect",
            "Introspect an access token",
            Some("IntrospectRequest"),
            (200, Some("IntrospectResponse")),
            Q::None,
        ),
        op(
            "post",
            "/oauth/{projectKey}/customers/token",
            "/oauth/{project}/customers/token",
            "Password flow for global customers",
            Some("TokenRequest"),
            (200, Some("TokenResponse")),
            Q::None,
        ),
        op(
            "post",
            "/oauth/{projectKey}/in-store/key={storeKey}/customers/token",
            "/oauth/{project}/in-store/{store}/customers/token",
            "Password flow for the customers of a Store",
            Some("TokenRequest"),
            (200, Some("TokenResponse")),
            Q::None,
        ),
        op(
            "post",
            "/oauth/{projectKey}/anonymous/token",
            "/oauth/{project}/anonymous/token",
            "Anonymous-session flow: a token for `/me` bound to an anonymous id",
            Some("TokenRequest"),
            (200, Some("TokenResponse")),
            Q::None,
        ),
        op(
            "get",
            "/{projectKey}",
            "/{project}",
            "The Project and its settings",
            None,
            (200, Some("Project")),
            Q::None,
        ),
        op(
            "post",
            "/{projectKey}",
            "/{project}",
            "Update the Project's settings",
            Some("ProjectUpdate"),
            (200, Some("Project")),
            Q::None,
        ),
        op(
            "post",
            "/{projectKey}/customers/search",
            "/{project}/customers/search",
            "Customer Search (409 SearchNotReady until activated)",
            Some("CustomerSearchRequest"),
            (200, Some("CustomerPagedSearchResponse")),
            Q::None,
        ),
        op(
            "head",
            "/{projectKey}/customers/search",
            "/{project}/customers/search",
            "Whether Customer Search is ready (200) or not (409)",
            None,
            (200, None),
            Q::None,
        ),
        op(
            "get",
            "/{projectKey}/customers/search/indexing-status",
            "/{project}/customers/search/indexing-status",
            "Customer Search indexing status",
            None,
            (200, Some("CustomerSearchIndexingStatusResponse")),
            Q::None,
        ),
        op(
            "get",
            "/{projectKey}/messages",
            "/{project}/messages",
            "Query Messages",
            None,
            (200, Some("MessagePagedQueryResponse")),
            Q::Listing,
        ),
        op(
            "head",
            "/{projectKey}/messages",
            "/{project}/messages",
            "Whether a Message matches the predicate",
            None,
            (200, None),
            Q::Listing,
        ),
        op(
            "get",
            "/{projectKey}/messages/{id}",
            "/{project}/messages/{id}",
            "Get a Message",
            None,
            (200, Some("Message")),
            Q::Expand,
        ),
        op(
            "head",
            "/{projectKey}/messages/{id}",
            "/{project}/messages/{id}",
            "Whether a Message exists",
            None,
            (200, None),
            Q::None,
        ),
    ];
    for (api, route, scope) in [
        ("/{projectKey}", "/{project}", ""),
        (
            "/{projectKey}/in-store/key={storeKey}",
            "/{project}/in-store/{store}",
            " in a Store",
        ),
    ] {
        let c = format!("{route}/customers");
        let one = format!("{route}/customers/{{id_or_key}}");
        let me = format!("{route}/me");
        ops.extend([
            op(
                "get",
                format!("{api}/me"),
                me.clone(),
                format!("The customer{scope} of a customer-bound token (`where` may narrow it)"),
                None,
                (200, Some("Customer")),
                Q::Expand,
            ),
            op(
                "post",
                format!("{api}/me"),
                me.clone(),
                format!("Update the token's customer{scope} (the My Customer actions)"),
                Some("CustomerUpdate"),
                (200, Some("Customer")),
                Q::None,
            ),
            op(
                "delete",
                format!("{api}/me"),
                me.clone(),
                format!("Delete the token's customer{scope}"),
                None,
                (200, Some("Customer")),
                Q::Version,
            ),
            op(
                "post",
                format!("{api}/me/signup"),
                format!("{me}/signup"),
                format!("Sign up a customer{scope} with an anonymous-session token"),
                Some("CustomerDraft"),
                (201, Some("CustomerSignInResult")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/me/login"),
                format!("{me}/login"),
                format!("Sign in{scope} with an anonymous-session token"),
                Some("CustomerSignin"),
                (200, Some("CustomerSignInResult")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/me/password"),
                format!("{me}/password"),
                format!("Change the token's customer's password{scope}"),
                Some("MyCustomerChangePassword"),
                (200, Some("Customer")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/me/password/reset"),
                format!("{me}/password/reset"),
                format!("Reset the token's customer's password with a token{scope}"),
                Some("CustomerResetPassword"),
                (200, Some("Customer")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/me/email/confirm"),
                format!("{me}/email/confirm"),
                format!("Verify the token's customer's email with a token{scope}"),
                Some("CustomerEmailVerify"),
                (200, Some("Customer")),
                Q::None,
            ),
        ]);
        ops.extend([
            op(
                "post",
                format!("{api}/login"),
                format!("{route}/login"),
                format!("Sign in a customer{scope}"),
                Some("CustomerSignin"),
                (200, Some("CustomerSignInResult")),
                Q::None,
            ),
            op(
                "get",
                format!("{api}/customers"),
                c.clone(),
                format!("Query customers{scope}"),
                None,
                (200, Some("CustomerPagedQueryResponse")),
                Q::Listing,
            ),
            op(
                "head",
                format!("{api}/customers"),
                c.clone(),
                format!("Whether a customer{scope} matches the predicate"),
                None,
                (200, None),
                Q::Listing,
            ),
            op(
                "post",
                format!("{api}/customers"),
                c.clone(),
                format!("Create a customer{scope}"),
                Some("CustomerDraft"),
                (201, Some("CustomerSignInResult")),
                Q::Expand,
            ),
            op(
                "post",
                format!("{api}/customers/password"),
                format!("{c}/password"),
                format!("Change a customer's password{scope}"),
                Some("CustomerChangePassword"),
                (200, Some("Customer")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/customers/password-token"),
                format!("{c}/password-token"),
                format!("Create a password-reset token{scope}"),
                Some("CustomerCreatePasswordResetToken"),
                (200, Some("CustomerToken")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/customers/password/reset"),
                format!("{c}/password/reset"),
                format!("Reset a password with a token{scope}"),
                Some("CustomerResetPassword"),
                (200, Some("Customer")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/customers/email-token"),
                format!("{c}/email-token"),
                format!("Create an email-verification token{scope}"),
                Some("CustomerCreateEmailToken"),
                (200, Some("CustomerToken")),
                Q::None,
            ),
            op(
                "post",
                format!("{api}/customers/email/confirm"),
                format!("{c}/email/confirm"),
                format!("Verify an email with a token{scope}"),
                Some("CustomerEmailVerify"),
                (200, Some("Customer")),
                Q::None,
            ),
            op(
                "get",
                format!("{api}/customers/password-token={{passwordToken}}"),
                one.clone(),
                format!("Get the customer of a password token{scope}"),
                None,
                (200, Some("Customer")),
                Q::Expand,
            ),
            op(
                "get",
                format!("{api}/customers/email-token={{emailToken}}"),
                one.clone(),
                format!("Get the customer of an email token{scope}"),
                None,
                (200, Some("Customer")),
                Q::Expand,
            ),
        ]);
        for (by, seg) in [("id", "{id}"), ("key", "key={key}")] {
            let path = format!("{api}/customers/{seg}");
            ops.extend([
                op(
                    "get",
                    path.clone(),
                    one.clone(),
                    format!("Get a customer{scope} by {by}"),
                    None,
                    (200, Some("Customer")),
                    Q::Expand,
                ),
                op(
                    "head",
                    path.clone(),
                    one.clone(),
                    format!("Whether a customer{scope} exists, by {by}"),
                    None,
                    (200, None),
                    Q::None,
                ),
                op(
                    "post",
                    path.clone(),
                    one.clone(),
                    format!("Update a customer{scope} by {by}"),
                    Some("CustomerUpdate"),
                    (200, Some("Customer")),
                    Q::Expand,
                ),
                op(
                    "delete",
                    path,
                    one.clone(),
                    format!("Delete a customer{scope} by {by}"),
                    None,
                    (200, Some("Customer")),
                    Q::Delete,
                ),
            ]);
        }
    }
    ops.push(op(
        "get",
        "/{projectKey}/subscriptions/{id}/health",
        "/{project}/subscriptions/{id}/health",
        "A Subscription's health: 200 Healthy, 400 configuration errors, 503 TemporaryError (no token needed)",
        None,
        (200, None),
        Q::None,
    ));
    for (segment, name) in [
        ("customer-groups", "CustomerGroup"),
        ("types", "Type"),
        ("stores", "Store"),
        ("subscriptions", "Subscription"),
    ] {
        let route = format!("/{{project}}/{segment}");
        let one = format!("{route}/{{id_or_key}}");
        let (draft, update, paged) = match name {
            "CustomerGroup" => (
                "CustomerGroupDraft",
                "CustomerGroupUpdate",
                "CustomerGroupPagedQueryResponse",
            ),
            "Type" => ("TypeDraft", "TypeUpdate", "TypePagedQueryResponse"),
            "Subscription" => (
                "SubscriptionDraft",
                "SubscriptionUpdate",
                "SubscriptionPagedQueryResponse",
            ),
            _ => ("StoreDraft", "StoreUpdate", "StorePagedQueryResponse"),
        };
        let schema = match name {
            "CustomerGroup" => "CustomerGroup",
            "Type" => "Type",
            "Subscription" => "Subscription",
            _ => "Store",
        };
        ops.extend([
            op(
                "get",
                format!("/{{projectKey}}/{segment}"),
                route.clone(),
                format!("Query {segment}"),
                None,
                (200, Some(paged)),
                Q::Listing,
            ),
            op(
                "head",
                format!("/{{projectKey}}/{segment}"),
                route.clone(),
                format!("Whether any of {segment} matches"),
                None,
                (200, None),
                Q::Listing,
            ),
            op(
                "post",
                format!("/{{projectKey}}/{segment}"),
                route.clone(),
                format!("Create a {name}"),
                Some(draft),
                (201, Some(schema)),
                Q::Expand,
            ),
        ]);
        for (by, seg) in [("id", "{id}"), ("key", "key={key}")] {
            let path = format!("/{{projectKey}}/{segment}/{seg}");
            ops.extend([
                op(
                    "get",
                    path.clone(),
                    one.clone(),
                    format!("Get a {name} by {by}"),
                    None,
                    (200, Some(schema)),
                    Q::Expand,
                ),
                op(
                    "head",
                    path.clone(),
                    one.clone(),
                    format!("Whether a {name} exists, by {by}"),
                    None,
                    (200, None),
                    Q::None,
                ),
                op(
                    "post",
                    path.clone(),
                    one.clone(),
                    format!("Update a {name} by {by}"),
                    Some(update),
                    (200, Some(schema)),
                    Q::Expand,
                ),
                op(
                    "delete",
                    path,
                    one.clone(),
                    format!("Delete a {name} by {by}"),
                    None,
                    (200, Some(schema)),
                    Q::Delete,
                ),
            ]);
        }
    }
    ops
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn query_parameters(query: Query) -> Vec<Value> {
    let param = |name: &str, schema: Value, required: bool, description: &str| {
        json!({"name": name, "in": "query", "required": required, "schema": schema,
               "description": description})
    };
    let expand = param(
        "expand",
        json!({"type": "array", "items": {"type": "string"}}),
        false,
        "Reference expansion paths",
    );
    match query {
        Query::None => vec![],
        Query::Expand => vec![expand],
        Query::Listing => vec![
            param(
                "where",
                json!({"type": "array", "items": {"type": "string"}}),
                false,
                "Query predicates (ANDed)",
            ),
            param(
                "sort",
                json!({"type": "array", "items": {"type": "string"}}),
                false,
                "`field asc|desc`",
            ),
            param(
                "limit",
                json!({"type": "integer", "minimum": 0, "maximum": 500, "default": 20}),
                false,
                "Page size",
            ),
            param(
                "offset",
                json!({"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}),
                false,
                "Results to skip",
            ),
            param(
                "withTotal",
                json!({"type": "boolean", "default": true}),
                false,
                "Count all matches",
            ),
            expand,
        ],
        Query::Delete => vec![
            param(
                "version",
                json!({"type": "integer", "minimum": 1}),
                true,
                "The expected version",
            ),
            param(
                "dataErasure",
                json!({"type": "boolean", "default": false}),
                false,
                "Also erase personal data in earlier Messages",
            ),
            expand,
        ],
        Query::Version => vec![param(
            "version",
            json!({"type": "integer", "minimum": 1}),
            true,
            "The expected version",
        )],
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn operation_object(op: &Operation) -> Value {
    let mut o = json!({
        "summary": op.summary,
        "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '=', '-', '.'], "_")),
        "parameters": path_parameters(&op.path).into_iter().chain(query_parameters(op.query)).collect::<Vec<_>>(),
        "x-route": op.route,
    });
    let form = op.path.starts_with("/oauth/");
    if let Some(request) = op.request {
        let media = if form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        o["requestBody"] =
            json!({"required": true, "content": {media: {"schema": reference(request)}}});
    }
    let (status, body) = op.response;
    let mut success = json!({"description": "Success"});
    if let Some(body) = body {
        success["content"] = json!({"application/json": {"schema": reference(body)}});
    } else if op.path == "/-/metrics" {
        success["content"] = json!({"text/plain": {"schema": {"type": "string"}}});
    } else if op.path == "/-/openapi.json" {
        success["content"] = json!({"application/json": {"schema": {"type": "object"}}});
    }
    let mut responses = Map::new();
    responses.insert(status.to_string(), success);
    if op.method != "head" && !op.path.starts_with("/-/") {
        responses.insert(
            "default".to_owned(),
            json!({"description": "A commercetools error", "content": {"application/json": {"schema": reference("ErrorResponse")}}}),
        );
    } else {
        responses.insert("default".to_owned(), json!({"description": "An error"}));
    }
    o["responses"] = Value::Object(responses);
    if op.path.starts_with("/oauth/") {
        o["security"] = json!([{"clientBasic": []}]);
    } else if !op.path.starts_with("/-/") {
        o["security"] = json!([{"bearer": []}]);
    } else {
        o["security"] = json!([]);
    }
    o
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let entry = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        entry[op.method] = operation_object(&op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Clientele",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A commercetools-compatible Customers API. Shapes follow the commercetools HTTP API reference; `x-route` names the server's route template.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An access token from /oauth/token"},
                "clientBasic": {"type": "http", "scheme": "basic", "description": "API client id and secret"},
            },
            "schemas": schemas(),
        },
    })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": reference(name)})
}

fn actions(names: &[&str]) -> Value {
    json!({"type": "object", "required": ["action"], "properties": {"action": {"type": "string", "enum": names}},
           "additionalProperties": true})
}

fn update(action: &str) -> Value {
    object(
        &["version", "actions"],
        json!({"version": {"type": "integer", "minimum": 1}, "actions": array_of(action)}),
    )
}

fn paged(item: &str) -> Value {
    object(
        &["limit", "offset", "count", "results"],
        json!({"limit": {"type": "integer"}, "offset": {"type": "integer"}, "count": {"type": "integer"},
               "total": {"type": "integer"}, "results": array_of(item)}),
    )
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    let int = json!({"type": "integer"});
    let boolean = json!({"type": "boolean"});
    let datetime = json!({"type": "string", "format": "date-time"});
    let localized = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let resource = |extra: Value| {
        let mut props = json!({"id": string, "version": int, "key": string, "createdAt": datetime,
                               "lastModifiedAt": datetime, "createdBy": reference("ClientLogging"),
                               "lastModifiedBy": reference("ClientLogging")});
        if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        json!({"type": "object", "required": ["id", "version", "createdAt", "lastModifiedAt"],
               "properties": props})
    };
    let address_props = json!({
        "id": string, "key": string, "title": string, "salutation": string, "firstName": string,
        "lastName": string, "streetName": string, "streetNumber": string,
        "additionalStreetInfo": string, "postalCode": string, "city": string, "region": string,
        "state": string, "country": {"type": "string", "pattern": "^[A-Z]{2}$"}, "company": string,
        "department": string, "building": string, "apartment": string, "pOBox": string,
        "phone": string, "mobile": string, "email": string, "fax": string,
        "additionalAddressInfo": string, "externalId": string, "custom": reference("CustomFields"),
    });
    let mut address_draft_props = address_props.clone();
    address_draft_props["custom"] = reference("CustomFieldsDraft");
    let customer_actions = [
        "changeEmail",
        "setFirstName",
        "setLastName",
        "setMiddleName",
        "setTitle",
        "setSalutation",
        "addAddress",
        "changeAddress",
        "removeAddress",
        "setDefaultShippingAddress",
        "addShippingAddressId",
        "removeShippingAddressId",
        "setDefaultBillingAddress",
        "addBillingAddressId",
        "removeBillingAddressId",
        "setCustomerGroup",
        "setCustomerGroupAssignments",
        "addCustomerGroupAssignment",
        "removeCustomerGroupAssignment",
        "setCustomerNumber",
        "setExternalId",
        "setCompanyName",
        "setDateOfBirth",
        "setVatId",
        "setCustomType",
        "setCustomField",
        "setAddressCustomType",
        "setAddressCustomField",
        "setLocale",
        "setKey",
        "setStores",
        "addStore",
        "removeStore",
        "setAuthenticationMode",
    ];
    json!({
        "ErrorResponse": object(&["statusCode", "message", "errors"], json!({
            "statusCode": int, "message": string,
            "errors": {"type": "array", "items": {"type": "object", "required": ["code", "message"],
                "properties": {"code": string, "message": string}, "additionalProperties": true}},
            "error": string, "error_description": string})),
        "Project": object(&["key", "name", "version", "countries", "currencies", "languages"],
            json!({"key": string, "name": string, "version": int, "createdAt": string,
                "countries": {"type": "array", "items": string}, "currencies": {"type": "array", "items": string},
                "languages": {"type": "array", "items": string}, "messages": {"type": "object"},
                "carts": {"type": "object"}, "shoppingLists": {"type": "object"},
                "shippingRateInputType": {"type": "object"}, "searchIndexing": {"type": "object"},
                "externalOAuth": object(&["url", "authorizationHeader"],
                    json!({"url": string, "authorizationHeader": string}))})),
        "ProjectUpdate": object(&["version", "actions"], json!({"version": int,
            "actions": {"type": "array", "items": {"type": "object", "required": ["action"],
                "properties": {"action": string}}}})),
        "CustomerSearchRequest": object(&[], json!({"query": {"type": "object"},
            "sort": {"type": "array", "items": {"type": "object"}}, "limit": int, "offset": int})),
        "CustomerPagedSearchResponse": object(&["total", "offset", "limit", "results"], json!({
            "total": int, "offset": int, "limit": int,
            "results": {"type": "array", "items": object(&["id", "relevance"],
                json!({"id": string, "relevance": {"type": "number"}}))}})),
        "CustomerSearchIndexingStatusResponse": object(&["status"], json!({
            "status": {"type": "string", "enum": ["Scheduled", "Indexing", "Ready", "Failed"]},
            "states": {"type": "object"}, "startedAt": string, "lastModifiedAt": string})),
        "Health": object(&["status"], json!({"status": {"type": "string", "enum": ["ok", "unavailable"]}})),
        "ClientLogging": object(&[], json!({"clientId": string, "isPlatformClient": boolean,
            "customer": reference("Reference"), "anonymousId": string,
            "externalUserId": {"type": "string", "maxLength": 128}})),
        "Reference": object(&["typeId", "id"], json!({"typeId": string, "id": string, "obj": {"type": "object"}})),
        "KeyReference": object(&["typeId", "key"], json!({"typeId": string, "key": string})),
        "ResourceIdentifier": object(&[], json!({"typeId": string, "id": string, "key": string})),
        "CustomFields": object(&["type", "fields"], json!({"type": reference("Reference"), "fields": {"type": "object"}})),
        "CustomFieldsDraft": object(&["type"], json!({"type": reference("ResourceIdentifier"), "fields": {"type": "object"}})),
        "Address": {"type": "object", "required": ["country"], "properties": address_props},
        "AddressDraft": {"type": "object", "required": ["country"], "properties": address_draft_props},
        "AuthenticationMode": {"type": "string", "enum": ["Password", "ExternalAuth"]},
        "Customer": resource(json!({
            "customerNumber": string, "externalId": string, "email": string,
            "password": {"type": "string", "description": "A masked fingerprint, never the hash"},
            "firstName": string, "lastName": string, "middleName": string, "title": string,
            "dateOfBirth": {"type": "string", "format": "date"}, "companyName": string, "vatId": string,
            "addresses": array_of("Address"), "defaultShippingAddressId": string,
            "shippingAddressIds": {"type": "array", "items": string}, "defaultBillingAddressId": string,
            "billingAddressIds": {"type": "array", "items": string}, "isEmailVerified": boolean,
            "customerGroup": reference("Reference"),
            "customerGroupAssignments": {"type": "array", "items": object(&["customerGroup"], json!({"customerGroup": reference("Reference")}))},
            "custom": reference("CustomFields"), "locale": string, "salutation": string,
            "stores": array_of("KeyReference"), "authenticationMode": reference("AuthenticationMode"),
        })),
        "CustomerDraft": object(&["email"], json!({
            "key": string, "customerNumber": string, "externalId": string, "email": string,
            "password": string, "firstName": string, "lastName": string, "middleName": string,
            "title": string, "anonymousCartId": string, "anonymousCart": reference("ResourceIdentifier"),
            "anonymousId": string, "dateOfBirth": {"type": "string", "format": "date"},
            "companyName": string, "vatId": string, "addresses": array_of("AddressDraft"),
            "defaultShippingAddress": int, "shippingAddresses": {"type": "array", "items": int},
            "defaultBillingAddress": int, "billingAddresses": {"type": "array", "items": int},
            "isEmailVerified": boolean, "customerGroup": reference("ResourceIdentifier"),
            "customerGroupAssignments": {"type": "array", "items": object(&["customerGroup"], json!({"customerGroup": reference("ResourceIdentifier")}))},
            "custom": reference("CustomFieldsDraft"), "locale": string, "salutation": string,
            "stores": array_of("ResourceIdentifier"), "authenticationMode": reference("AuthenticationMode"),
        })),
        "CustomerUpdateAction": actions(&customer_actions),
        "CustomerUpdate": update("CustomerUpdateAction"),
        "CustomerSignInResult": object(&["customer"], json!({"customer": reference("Customer"), "cart": {"type": "object"}})),
        "CustomerPagedQueryResponse": paged("Customer"),
        "CustomerSignin": object(&["email", "password"], json!({"email": string, "password": string,
            "anonymousCartId": string, "anonymousCart": reference("ResourceIdentifier"),
            "anonymousCartSignInMode": string, "anonymousId": string, "updateProductData": boolean})),
        "CustomerChangePassword": object(&["id", "version", "currentPassword", "newPassword"], json!({
            "id": string, "version": int, "currentPassword": string, "newPassword": string})),
        "MyCustomerChangePassword": object(&["version", "currentPassword", "newPassword"], json!({
            "version": int, "currentPassword": string, "newPassword": string})),
        "CustomerCreatePasswordResetToken": object(&["email"], json!({"email": string,
            "ttlMinutes": int, "invalidateOlderTokens": boolean})),
        "CustomerResetPassword": object(&["tokenValue", "newPassword"], json!({"tokenValue": string,
            "newPassword": string, "version": int})),
        "CustomerCreateEmailToken": object(&["id", "ttlMinutes"], json!({"id": string, "version": int,
            "ttlMinutes": int, "invalidateOlderTokens": boolean})),
        "CustomerEmailVerify": object(&["tokenValue"], json!({"tokenValue": string, "version": int})),
        "CustomerToken": object(&["id", "customerId", "expiresAt", "createdAt"], json!({"id": string,
            "customerId": string, "value": string, "expiresAt": datetime, "createdAt": datetime,
            "lastModifiedAt": datetime, "invalidateOlderTokens": boolean})),
        "Message": resource(json!({"sequenceNumber": int, "resource": reference("Reference"),
            "resourceVersion": int, "type": string,
            "resourceUserProvidedIdentifiers": {"type": "object"}})),
        "MessagePagedQueryResponse": paged("Message"),
        "CustomerGroup": resource(json!({"name": string, "custom": reference("CustomFields")})),
        "CustomerGroupDraft": object(&["groupName"], json!({"key": string, "groupName": string,
            "custom": reference("CustomFieldsDraft")})),
        "CustomerGroupUpdate": update("CustomerGroupUpdateAction"),
        "CustomerGroupUpdateAction": actions(&["changeName", "setKey", "setCustomType", "setCustomField"]),
        "CustomerGroupPagedQueryResponse": paged("CustomerGroup"),
        "Type": resource(json!({"name": localized, "description": localized,
            "resourceTypeIds": {"type": "array", "items": string},
            "fieldDefinitions": {"type": "array", "items": {"type": "object"}}})),
        "TypeDraft": object(&["key", "name", "resourceTypeIds"], json!({"key": string, "name": localized,
            "description": localized, "resourceTypeIds": {"type": "array", "items": string},
            "fieldDefinitions": {"type": "array", "items": {"type": "object"}}})),
        "TypeUpdate": update("TypeUpdateAction"),
        "TypeUpdateAction": actions(&["changeKey", "changeName", "setDescription", "addFieldDefinition",
            "removeFieldDefinition", "changeLabel", "changeInputHint", "addEnumValue",
            "addLocalizedEnumValue", "changeFieldDefinitionOrder", "changeEnumValueLabel",
            "changeLocalizedEnumValueLabel"]),
        "TypePagedQueryResponse": paged("Type"),
        "Store": resource(json!({"name": localized, "languages": {"type": "array", "items": string},
            "countries": {"type": "array", "items": object(&["code"], json!({"code": string}))},
            "distributionChannels": {"type": "array"}, "supplyChannels": {"type": "array"},
            "productSelections": {"type": "array"}, "custom": reference("CustomFields")})),
        "StoreDraft": object(&["key"], json!({"key": string, "name": localized,
            "languages": {"type": "array", "items": string},
            "countries": {"type": "array", "items": object(&["code"], json!({"code": string}))},
            "custom": reference("CustomFieldsDraft")})),
        "StoreUpdate": update("StoreUpdateAction"),
        "StoreUpdateAction": actions(&["setName", "setLanguages", "setCountries", "setCustomType", "setCustomField"]),
        "StorePagedQueryResponse": paged("Store"),
        "Subscription": resource(json!({"destination": {"type": "object",
                "description": "RabbitMQ {uri, exchange, routingKey}, NATS {url, subject}, HTTP {url, authentication}, or a commercetools cloud Destination (stored, not delivered); secrets masked"},
            "messages": {"type": "array"}, "changes": {"type": "array"}, "events": {"type": "array"},
            "format": {"type": "object"},
            "status": {"type": "string", "enum": ["Healthy", "ConfigurationError",
                "ConfigurationErrorDeliveryStopped", "TemporaryError", "ManuallySuspended"]}})),
        "SubscriptionDraft": object(&["destination"], json!({"destination": {"type": "object"},
            "key": string, "messages": {"type": "array"}, "changes": {"type": "array"},
            "events": {"type": "array"}, "format": {"type": "object"}})),
        "SubscriptionUpdate": update("SubscriptionUpdateAction"),
        "SubscriptionUpdateAction": actions(&["changeDestination", "setKey", "setMessages", "setChanges", "setEvents"]),
        "SubscriptionPagedQueryResponse": paged("Subscription"),
        "TokenRequest": object(&["grant_type"], json!({
            "grant_type": {"type": "string", "enum": ["client_credentials", "refresh_token", "password"]},
            "scope": string, "refresh_token": string, "username": string, "password": string})),
        "TokenResponse": object(&["access_token", "token_type", "expires_in", "scope"], json!({
            "access_token": string, "token_type": string, "expires_in": int, "scope": string,
            "refresh_token": string})),
        "IntrospectRequest": object(&["token"], json!({"token": string})),
        "IntrospectResponse": object(&["active"], json!({"active": boolean, "scope": string,
            "exp": int, "client_id": string})),
    })
}

/// The `/-/openapi.json` route. Unauthenticated: it describes the API, not its data.
pub fn router() -> Router<AppState> {
    Router::new().route("/-/openapi.json", get(|| async { Json(document()) }))
}
