//! The admin web page at `/-/admin`: a static single-page application compiled into the binary
//! (HTML, CSS and JavaScript modules under `src/admin/`), served with a strict
//! Content-Security-Policy. The page signs in from the browser with an API client's credentials
//! against `/oauth/token` and then talks to the ordinary API with the bearer token.
//!
//! Owns only the serving of those files and their security headers. It must not read the store,
//! hold sessions or see credentials: everything the page shows comes through the public API,
//! under the scopes of the token the person signed in with.

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// Every admin response carries this policy: only this origin's files run, no inline script or
/// style (data is shown with `textContent`, so an injected value stays text), no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// One embedded file: its name under `/-/admin/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: HTML,
    body: include_str!("admin/index.html"),
};

/// The files under `/-/admin/`; anything else there is 404.
const ASSETS: &[Asset] = &[
    INDEX,
    Asset {
        name: "admin.css",
        content_type: CSS,
        body: include_str!("admin/admin.css"),
    },
    Asset {
        name: "app.js",
        content_type: JS,
        body: include_str!("admin/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: JS,
        body: include_str!("admin/api.js"),
    },
    Asset {
        name: "search.js",
        content_type: JS,
        body: include_str!("admin/search.js"),
    },
    Asset {
        name: "dom.js",
        content_type: JS,
        body: include_str!("admin/dom.js"),
    },
    Asset {
        name: "customers.js",
        content_type: JS,
        body: include_str!("admin/customers.js"),
    },
    Asset {
        name: "customer.js",
        content_type: JS,
        body: include_str!("admin/customer.js"),
    },
    Asset {
        name: "icon.svg",
        content_type: SVG,
        body: include_str!("admin/icon.svg"),
    },
];

/// The admin routes: the page at `/-/admin` (and `/-/admin/`) and its files below it.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/-/admin", get(index))
        .route("/-/admin/", get(index))
        .route("/-/admin/{file}", get(asset))
}

async fn index() -> Response {
    serve(&INDEX)
}

async fn asset(file: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Response {
    let found = file
        .ok()
        .and_then(|Path(name)| ASSETS.iter().find(|a| a.name == name));
    match found {
        Some(a) => serve(a),
        None => with_security_headers(
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, HeaderValue::from_static(HTML))],
                "Not found",
            )
                .into_response(),
        ),
    }
}

fn serve(asset: &Asset) -> Response {
    with_security_headers(
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                // The files change with the binary; revalidating is cheap and never shows a page
                // from an older server.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            asset.body,
        )
            .into_response(),
    )
}

fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}
