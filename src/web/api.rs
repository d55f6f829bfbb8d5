//! What every JSON API handler shares: the strict JSON body, and times as the API takes them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};
use crate::input;

/// JSON bodies: only `application/json` (or a `+json` type) is JSON; unreadable JSON is a
/// 400; a control character anywhere, a value of the wrong type, an unknown or a missing
/// field is a 422 naming the field. Nothing is coerced: `{"name": {"$ne": null}}` is not
/// a name.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let value = json_body(req, state).await?;
        from_value(value).map(ApiJson)
    }
}

/// The body as a JSON value, checked for its type and for control characters.
pub async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<serde_json::Value, AppError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !input::is_json(content_type) {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|_| AppError::PayloadTooLarge)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let mut errors = Vec::new();
    input::scan_json(&value, "", &mut errors);
    if errors.is_empty() { Ok(value) } else { Err(AppError::Invalid(errors)) }
}

/// Reads a typed body from a JSON value; a data error names its field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        type_error(&path, &message)
    })
}

/// What serde said, as a field error: `missing field `x`` names `x`, an unknown field
/// names itself, a wrong type says what was expected.
fn type_error(path: &str, message: &str) -> AppError {
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string);
    let at = |field: String| if path == "." { field } else { format!("{path}.{field}") };
    let error = if message.starts_with("missing field") {
        FieldError::new(at(quoted(message).unwrap_or_default()), "validation.required")
    } else if message.starts_with("unknown field") {
        FieldError::new(
            if path == "." { quoted(message).unwrap_or_default() } else { path.to_string() },
            "validation.unknown_field",
        )
    } else if path == "." {
        return AppError::BadRequest(message.to_string());
    } else {
        let expected = message.rsplit("expected ").next().unwrap_or("");
        let key = if message.contains("variant") {
            "validation.choice"
        } else if expected.contains("string") || expected.contains("char") {
            "validation.expect_text"
        } else if ["i64", "i32", "u32", "u64", "u8", "i16", "u16", "usize", "integer"]
            .iter()
            .any(|t| expected.contains(t))
        {
            "validation.expect_integer"
        } else if expected.contains("f64") || expected.contains("f32") {
            "validation.expect_number"
        } else if expected.contains("bool") {
            "validation.expect_bool"
        } else if expected.contains("sequence") {
            "validation.expect_list"
        } else if expected.contains("map") || expected.contains("struct") {
            "validation.expect_object"
        } else {
            "validation.type"
        };
        FieldError::new(path, key)
    };
    AppError::Invalid(vec![error])
}

/// An RFC 3339 time, or a China time without offset (`2026-11-23T08:30`).
pub fn time(field: &'static str, v: &Option<String>) -> crate::error::AppResult<Option<i64>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp_millis())
            .ok()
            .or_else(|| crate::web::fmt::parse_local(s))
            .map(Some)
            .ok_or_else(|| {
                crate::error::AppError::Invalid(vec![crate::error::FieldError::new(field, "validation.datetime")])
            }),
    }
}

/// A community in an API path, by its code (as `/api/v1/communities/{code}/…`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Code {
    /// The community's code (12 digits, e.g. 440804003001).
    pub code: String,
}

/// A record of a community in an API path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodeId {
    /// The community's code (12 digits).
    pub code: String,
    /// The record's id.
    pub id: i64,
}

/// A subdistrict in an API path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubdistrictId {
    /// The subdistrict's id.
    pub id: i64,
}
