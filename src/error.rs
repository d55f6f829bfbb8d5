//! One error type for the whole application.
//!
//! Handlers and stores return [`AppError`]; it turns itself into a JSON answer
//! `{"error": {"code", "message", "fields"}}` for the API, and pages render the same
//! error through the error template (see `web::page_error`). A 500 logs its cause and
//! answers a fixed message, never a stack trace.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::i18n::{Lang, tr};

/// A problem with one input field: the field's name and an i18n message key with its
/// parameters, so the same error reads in Chinese or English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub key: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, key: &'static str) -> Self {
        FieldError { field: field.into(), key, params: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    pub fn message(&self, lang: Lang) -> String {
        tr(lang, self.key, &self.params)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in (or the session expired).
    #[error("unauthorized")]
    Unauthorized,
    /// Signed in, but the action is not allowed on something the user may see.
    #[error("forbidden")]
    Forbidden,
    /// Missing, or outside the user's scope: both answer 404 so that existence never leaks.
    #[error("not found")]
    NotFound,
    /// Input that fails validation; nothing was written.
    #[error("invalid input: {}", summary(.0))]
    Invalid(Vec<FieldError>),
    /// A state conflict (e.g. someone else already took the order).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Too many attempts; retry later.
    #[error("too many requests")]
    TooManyRequests,
    /// A request the server cannot read (malformed body, wrong content type).
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The database (or, on Citus, the node holding the community) does not answer:
    /// nothing was written; the same request may be tried again.
    #[error("database unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// `field: message; …` in Chinese, for logs and the command line.
fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message(Lang::Zh))).collect::<Vec<_>>().join("; ")
}

impl AppError {
    pub fn field(field: impl Into<String>, key: &'static str) -> Self {
        AppError::Invalid(vec![FieldError::new(field, key)])
    }

    /// One error of each kind (the exhaustive match keeps it complete): what the error
    /// pages and their translations must cover.
    pub fn examples() -> Vec<AppError> {
        let all = vec![
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::Invalid(Vec::new()),
            AppError::Conflict(""),
            AppError::TooManyRequests,
            AppError::BadRequest(String::new()),
            AppError::PayloadTooLarge,
            AppError::UnsupportedMediaType,
            AppError::Unavailable,
            AppError::Internal(anyhow::anyhow!("example")),
        ];
        for e in &all {
            match e {
                AppError::Unauthorized
                | AppError::Forbidden
                | AppError::NotFound
                | AppError::Invalid(_)
                | AppError::Conflict(_)
                | AppError::TooManyRequests
                | AppError::BadRequest(_)
                | AppError::PayloadTooLarge
                | AppError::UnsupportedMediaType
                | AppError::Unavailable
                | AppError::Internal(_) => {}
            }
        }
        all
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests => "too_many_requests",
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The human message in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AppError::Conflict(key) => tr(lang, key, &[]),
            AppError::BadRequest(detail) => {
                format!("{}: {}", tr(lang, "error.bad_request", &[]), detail)
            }
            other => tr(lang, &format!("error.{}", other.code()), &[]),
        }
    }

    pub fn field_messages(&self, lang: Lang) -> BTreeMap<String, String> {
        match self {
            AppError::Invalid(errors) => {
                let mut out = BTreeMap::new();
                for e in errors {
                    out.entry(e.field.clone()).or_insert_with(|| e.message(lang));
                }
                out
            }
            _ => BTreeMap::new(),
        }
    }

    /// Logs a server error once, where it is turned into a response.
    pub fn log(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
    }
}

/// The one error format, as the API document describes it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    error: ProblemDetail,
}

/// `code` is `invalid`, `not_found`, `conflict`, …; `fields` names each bad field.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ProblemDetail {
    code: String,
    message: String,
    fields: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    code: &'static str,
    message: String,
    fields: BTreeMap<String, String>,
}

impl AppError {
    pub fn json_body(&self, lang: Lang) -> serde_json::Value {
        serde_json::to_value(ErrorBody {
            error: ErrorDetail { code: self.code(), message: self.message(lang), fields: self.field_messages(lang) },
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let lang = crate::i18n::current();
        (self.status(), axum::Json(self.json_body(lang))).into_response()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(field) = crate::db::unique_violation_field(&e) {
            return AppError::Invalid(vec![FieldError::new(field, "validation.taken")]);
        }
        if crate::db::is_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return AppError::Unavailable;
        }
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}
