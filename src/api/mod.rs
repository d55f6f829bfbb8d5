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
use crate::error::AppError;
use crate::{auth, entity};

/// JSON bodies: wrong content type, unreadable JSON and unknown fields are answered in
/// the one error format, naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
            ct.starts_with("application/json") || (ct.starts_with("application/") && ct.contains("+json"))
        });
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| AppError::PayloadTooLarge)?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(ApiJson).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_data() && path != "." {
                AppError::BadRequest(format!("{path}: {inner}"))
            } else {
                AppError::BadRequest(inner.to_string())
            }
        })
    }
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
