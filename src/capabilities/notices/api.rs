//! The JSON API of notices: the notices one may see (a reader's with whether they read and
//! acknowledged), one notice (opened by a reader: read), publishing one, acknowledging
//! one, and its readers for its author and those who run notices.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Acked, Notice};
use super::{Draft, Shown, shown};
use crate::auth::guard;
use crate::error::{AppError, AppResult, Problem};
use crate::web::api::{ApiJson, Code, CodeId};
use crate::web::{AppState, Signed, fmt};

fn notice_json(n: &Notice, now: i64) -> Value {
    let state = match shown(n.publish_at, n.expires_at, now) {
        Shown::Scheduled => "scheduled",
        Shown::Current => "current",
        Shown::Expired => "expired",
    };
    json!({"id": n.id, "category": n.category, "title": n.title, "body": n.body, "audience": n.audience,
        "targets": n.targets(), "publish_at": fmt::rfc3339(n.publish_at), "expires_at": n.expires_at.map(fmt::rfc3339),
        "pinned": n.pinned, "asks_ack": n.asks_ack, "version": n.version, "author": n.author, "state": state})
}

/// The notices one may see
///
/// Those published to one (the pinned first, then the newest), with their `state`
/// (scheduled, current, expired); for their authors and those who run notices, also those
/// not yet published.
#[utoipa::path(get, path = "/api/v1/communities/{code}/notices", tag = "notices", params(Code),
    responses((status = 200, description = "The notices")))]
pub async fn list_notices(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let now = crate::db::now_ms();
    let notices = store::list(&mut s.db.read().await?, a.actor(), c.id).await?;
    Ok(Json(json!({"items": notices.iter().map(|n| notice_json(n, now)).collect::<Vec<_>>()})))
}

/// One notice
///
/// Opened by one of its readers, it counts as read; `acked` says whether they
/// acknowledged it (none for those who are no reader).
#[utoipa::path(get, path = "/api/v1/communities/{code}/notices/{id}", tag = "notices", params(CodeId),
    responses((status = 200, description = "The notice"), (status = 404, description = "Not one's to see", body = Problem)))]
pub async fn get_notice(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let mut conn = s.db.read().await?;
    let n = store::visible(&mut conn, a.actor(), c.id, id).await?;
    let acked = store::acked_by(&mut conn, c.id, id, a.actor().user_id).await?;
    drop(conn);
    if acked.is_some() {
        store::mark_read(&s, a.actor(), c.id, id).await?;
    }
    let mut out = notice_json(&n, crate::db::now_ms());
    out["acked"] = json!(acked);
    Ok(Json(out))
}

/// A notice as an app sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// party_affairs, finance, honours, services, safety, daily_life
    pub category: String,
    pub title: String,
    pub body: String,
    /// community, grids, buildings, team, party_members, partner_units
    pub audience: String,
    /// The grids' or buildings' ids, or the team's.
    #[serde(default)]
    pub targets: Vec<i64>,
    /// RFC 3339; none: now.
    pub publish_at: Option<String>,
    pub expires_at: Option<String>,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub asks_ack: bool,
}

fn time_of(field: &'static str, v: &Option<String>) -> AppResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| Some(d.timestamp_millis()))
            .map_err(|_| AppError::field(field, "validation.datetime")),
    }
}

/// Publish a notice
///
/// Now, or at `publish_at`; to the audience named, within the author's reach (a grid
/// worker: their grids and the buildings in them). 422 names every field refused.
#[utoipa::path(post, path = "/api/v1/communities/{code}/notices", tag = "notices", params(Code), request_body = NewNotice,
    responses((status = 201, description = "Published (or scheduled): its id"),
        (status = 403, description = "Not one who publishes notices", body = Problem),
        (status = 422, description = "A field refused, named", body = Problem)))]
pub async fn create_notice(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<NewNotice>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let d = Draft {
        category: b.category,
        title: b.title,
        body: b.body,
        audience: b.audience,
        targets: b.targets,
        publish_at: time_of("publish_at", &b.publish_at)?,
        expires_at: time_of("expires_at", &b.expires_at)?,
        pinned: b.pinned,
        asks_ack: b.asks_ack,
    };
    let id = store::create(&s, a.actor(), &c, d, &[]).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

/// Acknowledge a notice
///
/// One of its readers, when it asks it: `acked` is `now`, or `before` when they had.
#[utoipa::path(post, path = "/api/v1/communities/{code}/notices/{id}/ack", tag = "notices", params(CodeId),
    responses((status = 200, description = "Acknowledged"), (status = 404, description = "Not one of its readers", body = Problem),
        (status = 409, description = "It asks no acknowledgement", body = Problem)))]
pub async fn ack_notice(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let acked = match store::ack(&s, a.actor(), c.id, id).await? {
        Acked::Now => "now",
        Acked::Before => "before",
    };
    Ok(Json(json!({"acked": acked})))
}

/// A notice's readers
///
/// For its author and those who run notices: each reader's grid, building and address,
/// when they read and acknowledged it.
#[utoipa::path(get, path = "/api/v1/communities/{code}/notices/{id}/readers", tag = "notices", params(CodeId),
    responses((status = 200, description = "The readers"), (status = 403, description = "Not its manager", body = Problem)))]
pub async fn notice_readers(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let mut conn = s.db.read().await?;
    let n = store::visible(&mut conn, a.actor(), c.id, id).await?;
    if n.created_by != a.actor().user_id && !store::runs_all(a.actor(), c.id) {
        return Err(AppError::Forbidden);
    }
    let readers = store::readers_of(&mut conn, c.id, id).await?;
    Ok(Json(json!({"items": readers})))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notices, create_notice))
        .routes(routes!(get_notice))
        .routes(routes!(ack_notice))
        .routes(routes!(notice_readers))
}
