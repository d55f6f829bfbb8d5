//! The application assembled: the capabilities of `capabilities::ALL` in one state and
//! one router, served with graceful shutdown and the background jobs. The only module
//! (with the command line) that knows every capability.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::auth;
use crate::capabilities;
use crate::config::Config;
use crate::db;
use crate::error::AppError;
use crate::services::{chains, hours, media, notify, records};
pub use crate::web::AppState;
use crate::web::{self, PageError};

/// Connects, migrates and starts every capability: what each command needs first.
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    AppState::open(config, capabilities::ALL).await
}

pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/", get(web::home::page))
        .route("/login", get(auth::pages::login_page).post(auth::pages::login))
        .route("/password/forgot", get(auth::pages::forgot_page))
        .route("/join", get(web::joining::join_find))
        .route("/c/{code}/join", get(web::joining::ways_in))
        .route("/logout", post(auth::pages::logout))
        .route("/lang/{code}", get(auth::pages::switch_lang))
        .route("/text/{size}", get(auth::pages::switch_text))
        .route("/me", get(auth::pages::me))
        .route("/me/password", post(auth::pages::change_password))
        .route("/api/v1/session", post(auth::api::sign_in).delete(auth::api::sign_out))
        .route("/api/v1/me", get(auth::api::me))
        .merge(media::pages::routes())
        .merge(notify::pages::routes())
        .merge(hours::pages::routes())
        .merge(chains::routes())
        .merge(records::routes());
    let mut api = hours::pages::api_routes();
    for cap in state.caps {
        app = app.merge((cap.routes)());
        if let Some(routes) = cap.api {
            api = api.merge(routes());
        }
    }
    // The API's routes and its document come from the same declarations.
    let (api, declared) = api.split_for_parts();
    let document = std::sync::Arc::new(web::openapi::document_json(declared));
    app.merge(api)
        .route("/api/openapi.json", get(move || web::openapi::serve(document.clone())))
        .route("/api/docs", get(web::openapi::docs))
        .route("/assets/{*path}", get(web::assets::serve))
        .route("/healthz", get(web::ops::healthz))
        .route("/metrics", get(web::ops::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn(web::input_guard))
        .layer(middleware::from_fn(web::origin_guard))
        .layer(middleware::from_fn_with_state(state.clone(), web::session_layer))
        .layer(middleware::from_fn(web::ops::track))
        .layer(middleware::from_fn(json_rejections))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Unknown routes: a JSON error under `/api`, a page elsewhere. Marked as such, so that
/// a test can tell a path nobody routes from a record that is not there.
async fn not_found(req: Request) -> Response {
    let mut resp = if req.uri().path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        PageError(AppError::NotFound).into_response()
    };
    resp.headers_mut().insert("x-linli-unrouted", axum::http::HeaderValue::from_static("1"));
    resp
}

/// axum answers its own extractor rejections (bad JSON, wrong content type, body too
/// large) in plain text; API clients get them in the one JSON error format instead.
async fn json_rejections(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let is_plain = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    if !api || !is_plain || !(resp.status().is_client_error()) {
        return resp;
    }
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).to_string();
    let err = match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::BadRequest("method not allowed".into()),
        _ => AppError::BadRequest(detail),
    };
    let mut out = err.into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        *out.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    }
    out
}

/// How long requests in flight may take to finish once shutdown has begun.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves until Ctrl-C or SIGTERM, then ends the live event streams and lets requests in
/// flight finish (for at most [`DRAIN`]).
pub async fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<()> {
    let db = state.db.clone();
    spawn_jobs(state.clone());
    let stopping = state.stopping.clone();
    let mut stopped = stopping.subscribe();
    let app = router(state);
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            stopping.send_replace(true);
        });
    let drain_limit = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(DRAIN).await;
    };
    tokio::select! {
        served = std::future::IntoFuture::into_future(server) => served?,
        _ = drain_limit => tracing::warn!(seconds = DRAIN.as_secs(), "requests still running after the drain time; stopping anyway"),
    }
    tokio::time::timeout(Duration::from_secs(10), db.close()).await.ok();
    Ok(())
}

/// The capabilities' background jobs, every minute until the process ends. Each is safe
/// to run in several processes at once; one that fails is tried again the next minute.
fn spawn_jobs(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = db::now_ms();
            for cap in state.caps {
                for job in cap.jobs {
                    if let Err(e) = (job.run)(&state, now).await {
                        tracing::warn!(job = job.name, error = %e, "background job failed; retrying next minute");
                    }
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
