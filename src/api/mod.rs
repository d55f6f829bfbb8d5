//! The JSON API under `/api/v1`, described by an OpenAPI 3.1 document
//! (`/api/openapi.json`) with browsable docs (`/api/docs`), all served from the binary.

pub mod openapi;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::{AppError, FieldError};
use crate::input;
use crate::{auth, entity};

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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/session", post(auth::api::sign_in).delete(auth::api::sign_out))
        .route("/me", get(auth::api::me))
        .route("/communities/{code}/users", get(entity::api::users).post(entity::api::create_user))
        .route("/communities/{code}/access-log", get(entity::api::access_log))
        .route(
            "/communities/{code}/import",
            post(entity::api::import)
                .layer(axum::extract::DefaultBodyLimit::max(crate::transfer::pages::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/communities/{code}/export/residents.xlsx", get(entity::api::export))
        .route("/communities/{code}/{path}", get(entity::api::c_list).post(entity::api::c_create))
        .route("/communities/{code}/{path}/{id}", get(entity::api::c_get).patch(entity::api::c_update))
        .route("/communities/{code}/{path}/{id}/archive", post(entity::api::c_archive))
        .route("/communities/{code}/{path}/{id}/unarchive", post(entity::api::c_unarchive))
        .route("/communities/{code}/{path}/{id}/reveal", post(entity::api::c_reveal))
        .route("/subdistricts/{id}/{path}", get(entity::api::subdistrict_list))
        .route("/communities/{code}", get(entity::api::community_get).patch(entity::api::community_update))
        .route("/communities/{code}/archive", post(entity::api::community_archive))
        .route("/communities/{code}/unarchive", post(entity::api::community_unarchive))
        .route("/{path}", get(entity::api::g_list).post(entity::api::g_create))
        .route("/{path}/{id}", get(entity::api::g_get).patch(entity::api::g_update))
        .route("/{path}/{id}/archive", post(entity::api::g_archive))
        .route("/{path}/{id}/unarchive", post(entity::api::g_unarchive))
}

pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi::document_json()).into_response()
}

/// Swagger UI, embedded.
pub async fn docs() -> Html<String> {
    let v = crate::web::assets::VERSION.as_str();
    Html(format!(
        r##"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>linli API</title><link rel="stylesheet" href="/assets/vendor/swagger-ui/swagger-ui.css?v={v}"></head>
<body><div id="ui"></div><script src="/assets/vendor/swagger-ui/swagger-ui-bundle.js?v={v}"></script>
<script>window.ui = SwaggerUIBundle({{ url: "/api/openapi.json", dom_id: "#ui", deepLinking: true }});</script></body></html>"##
    ))
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
