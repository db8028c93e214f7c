//! `AppJson<T>`: a JSON body extractor whose rejections are commercetools `InvalidJsonInput`
//! errors (with `detailedErrorMessage`) instead of axum's plain-text ones.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// A JSON request body of type `T`.
pub struct AppJson<T>(pub T);

/// Parses `bytes` as `T`, mapping every failure to `InvalidJsonInput`, then checks every
/// string of the body against the input limits of its field kind
/// ([`clientele_domain::limits`]): 400 `InvalidInput` naming the field, before anything is
/// stored.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error_free(&mut de)?;
    de.end()
        .map_err(|e| ApiError::invalid_json(format!("Unexpected trailing content: {e}")))?;
    // The typed parse succeeded, so this one does too; its errors keep their wording above.
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_json(describe(&e)))?;
    clientele_domain::limits::check_body(&raw)?;
    Ok(value)
}

fn serde_path_to_error_free<'de, T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
) -> Result<T, ApiError> {
    T::deserialize(de).map_err(|e| ApiError::invalid_json(describe(&e)))
}

fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!("Malformed JSON: {e}"),
        Category::Data => format!("{e}"),
        Category::Io => "Could not read the request body.".to_owned(),
    }
}

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::ContentTooLarge
            } else {
                ApiError::invalid_json(e.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}
