//! The application: its shared state, the router, and serving with graceful shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::auth::model::Actor;
use crate::config::Config;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::pii::Pii;
use crate::places::CommunityRef;
use crate::web::{self, PageError};
use crate::{auth, entity, home, media, places, tickets, transfer};

/// What every handler shares. One `Arc`, so that handing it to each request costs one
/// reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub pii: Arc<Pii>,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    pub started: Instant,
    pub tickets: Arc<tickets::store::Runtime>,
    pub points: Arc<crate::points::store::Runtime>,
    /// Turns true when the server starts to shut down, so that endless answers (the live
    /// event streams) end and the requests in flight can finish.
    pub stopping: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// Connects, migrates and loads keys: everything a command needs before it works.
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = Db::connect(config.database_url.expose_secret(), config.db_max_connections).await?;
        let applied = db::migrate::run(&db).await?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "database migrated");
        }
        let pii = Pii::load(&config)?;
        let sealed = crate::org::seal_contact_phones(&db, &pii).await?;
        if sealed > 0 {
            tracing::info!(count = sealed, "partner units' contact phones sealed");
        }
        let renamed = crate::people::users::rename_personal_usernames(&db, &pii).await?;
        if renamed > 0 {
            tracing::info!(count = renamed, "user names holding a phone or ID number renamed");
        }
        tickets::store::ensure_all_categories(&db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(AppState(Arc::new(Shared {
            db,
            pii: Arc::new(pii),
            config: Arc::new(config),
            metrics: web::ops::metrics_handle(),
            started: Instant::now(),
            tickets: Arc::new(tickets::store::Runtime::default()),
            points: Arc::new(crate::points::store::Runtime::default()),
            stopping: tokio::sync::watch::Sender::new(false),
        })))
    }

    /// The community a user works in first (their first community-level role).
    pub async fn home_community(&self, actor: &Actor) -> Option<CommunityRef> {
        let id = actor.grants.iter().find_map(|g| g.community_id)?;
        let mut conn = self.db.read().await.ok()?;
        places::community_by_id(&mut conn, id).await.ok().flatten()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(home::page))
        .route("/login", get(auth::pages::login_page).post(auth::pages::login))
        .route("/logout", post(auth::pages::logout))
        .route("/lang/{code}", get(auth::pages::switch_lang))
        .route("/me", get(auth::pages::me))
        .route("/me/password", post(auth::pages::change_password))
        .route("/me/data", get(home::my_data))
        .route("/places", get(places::pages::browser))
        .route("/c/{code}", get(entity::pages::c_home))
        .route("/c/{code}/map", get(places::pages::map_page))
        .route("/c/{code}/access-log", get(places::pages::access_log))
        .route("/c/{code}/users", get(places::pages::users).post(places::pages::create_user))
        .route(
            "/c/{code}/import",
            get(transfer::pages::import_page)
                .post(transfer::pages::import)
                .layer(DefaultBodyLimit::max(transfer::pages::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/c/{code}/export/residents.xlsx", get(transfer::pages::export))
        .route("/c/{code}/media/{id}", get(media::photo))
        .route("/c/{code}/media/{id}/thumb", get(media::thumbnail))
        .route("/c/{code}/{path}", get(entity::pages::community_list).post(entity::pages::c_create))
        .route("/c/{code}/{path}/new", get(entity::pages::c_new))
        .route("/c/{code}/{path}/{id}", get(entity::pages::c_show).post(entity::pages::c_update))
        .route("/c/{code}/{path}/{id}/edit", get(entity::pages::c_edit))
        .route("/c/{code}/{path}/{id}/archive", post(entity::pages::c_archive))
        .route("/c/{code}/{path}/{id}/unarchive", post(entity::pages::c_unarchive))
        .route("/c/{code}/{path}/{id}/reveal/{field}", post(entity::pages::c_reveal))
        .route("/subdistricts/{id}/{path}", get(entity::pages::subdistrict_list))
        .route("/{path}", get(entity::pages::global_list).post(entity::pages::g_create))
        .route("/{path}/new", get(entity::pages::g_new))
        .route("/{path}/{id}", get(entity::pages::g_show).post(entity::pages::g_update))
        .route("/{path}/{id}/edit", get(entity::pages::g_edit))
        .route("/{path}/{id}/archive", post(entity::pages::g_archive))
        .route("/{path}/{id}/unarchive", post(entity::pages::g_unarchive));

    Router::new()
        .merge(pages)
        .merge(tickets::routes())
        .merge(crate::points::routes())
        .merge(crate::fieldwork::routes())
        .merge(crate::participation::routes())
        .merge(crate::council::routes())
        .nest("/api/v1", crate::api::router())
        .route("/api/openapi.json", get(crate::api::openapi_json))
        .route("/api/docs", get(crate::api::docs))
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

/// Unknown routes: a JSON error under `/api`, a page elsewhere.
async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        PageError(AppError::NotFound).into_response()
    }
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

/// The background jobs, every minute until the process ends: escalating overdue tickets
/// and closing unrated ones, letting redemption holds expire. Each is safe to run in
/// several processes at once.
fn spawn_jobs(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = db::now_ms();
            if let Err(e) = tickets::jobs::run_once(&state, now).await {
                tracing::warn!(error = %e, "ticket job failed; retrying next minute");
            }
            if let Err(e) = crate::points::store::expire_due(&state, now).await {
                tracing::warn!(error = %e, "redemption expiry failed; retrying next minute");
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
