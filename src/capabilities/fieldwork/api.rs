//! The JSON API of field work: patrols, findings that become tickets, field notes.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::store;
use crate::auth::guard::CommunityRef;
use crate::error::Problem;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::api::{ApiJson, Code, CodeId};
use crate::web::{Signed, fmt};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&s.db, a.actor(), code).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatrolBody {
    pub team_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub route: Option<String>,
}

/// Start a patrol.
#[utoipa::path(post, path = "/api/v1/communities/{code}/patrols", tag = "field work", params(Code), request_body = PatrolBody,
    responses((status = 201, description = "The patrol, under way"), (status = 422, description = "Invalid input", body = Problem)))]
async fn start_patrol(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<PatrolBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let p = store::start(&s, a.actor(), c.id, b.team_id, b.grid_id, b.route).await?;
    Ok((StatusCode::CREATED, Json(patrol_json(&p, &[]))).into_response())
}

fn patrol_json(p: &store::Patrol, findings: &[store::Finding]) -> Value {
    let mut v = json!(p);
    v["started_at"] = json!(fmt::rfc3339(p.started_at));
    v["ended_at"] = json!(p.ended_at.map(fmt::rfc3339));
    v["findings"] = json!(findings);
    v
}

/// Patrols in view, and each team's streak of days.
#[utoipa::path(get, path = "/api/v1/communities/{code}/patrols", tag = "field work", params(Code),
    responses((status = 200, description = "Patrols and streaks")))]
async fn patrols(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let list = store::patrols(&mut conn, a.actor(), c.id, 200).await?;
    let streaks = store::team_streaks(&mut conn, c.id).await?;
    let streaks: Vec<Value> = streaks
        .into_iter()
        .map(|(id, name, current, longest, days)| json!({"team_id": id, "team": name, "current": current, "longest": longest, "days": days}))
        .collect();
    Ok(Json(json!({"items": list.iter().map(|p| patrol_json(p, &[])).collect::<Vec<_>>(), "streaks": streaks})))
}

/// A patrol with its findings.
#[utoipa::path(get, path = "/api/v1/communities/{code}/patrols/{id}", tag = "field work", params(CodeId),
    responses((status = 200, description = "The patrol"), (status = 404, description = "Not there, or not yours to see", body = Problem)))]
async fn patrol(State(s): State<AppState>, a: Signed, Path((code, id)): Path<(String, i64)>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let p = store::patrol_for(&mut conn, a.actor(), c.id, id).await?;
    let f = store::findings(&mut conn, c.id, id).await?;
    Ok(Json(patrol_json(&p, &f)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    pub note: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// Record a finding on a patrol under way.
#[utoipa::path(post, path = "/api/v1/communities/{code}/patrols/{id}/findings", tag = "field work", params(CodeId), request_body = FindingBody,
    responses((status = 201, description = "The finding"), (status = 422, description = "Invalid input", body = Problem)))]
async fn add_finding(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<FindingBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let point = match (b.lat, b.lng) {
        (None, None) => None,
        (lat, lng) => {
            let text = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            super::parse_point(&text(lat), &text(lng)).map_err(AppError::Invalid)?
        }
    };
    let f = store::add_finding(&s, a.actor(), c.id, id, &b.note, point).await?;
    Ok((StatusCode::CREATED, Json(json!(f))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndBody {
    pub note: Option<String>,
}

/// End a patrol (a volunteer's becomes a service record waiting for staff).
#[utoipa::path(post, path = "/api/v1/communities/{code}/patrols/{id}/end", tag = "field work", params(CodeId), request_body = EndBody,
    responses((status = 200, description = "The patrol, ended"), (status = 409, description = "Already ended", body = Problem)))]
async fn end_patrol(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<EndBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let p = store::end(&s, a.actor(), c.id, id, b.note).await?;
    Ok(Json(patrol_json(&p, &[])))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    pub category_id: i64,
}

/// Make a finding a ticket (once).
#[utoipa::path(post, path = "/api/v1/communities/{code}/findings/{id}/ticket", tag = "field work", params(CodeId), request_body = TicketBody,
    responses((status = 201, description = "The ticket made"), (status = 409, description = "Already a ticket", body = Problem)))]
async fn finding_ticket(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<TicketBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let t = store::finding_to_ticket(&s, a.actor(), c.id, id, Some(b.category_id)).await?;
    Ok((StatusCode::CREATED, Json(json!({"ticket_id": t, "url": format!("/api/v1/communities/{code}/tickets/{t}")})))
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The day (YYYY-MM-DD); today when absent.
    day: Option<NaiveDate>,
}

/// The field notes of a day.
#[utoipa::path(get, path = "/api/v1/communities/{code}/field-notes", tag = "field work", params(Code, DayQuery),
    responses((status = 200, description = "The day's notes")))]
async fn field_notes(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let day = q.day.unwrap_or_else(fmt::today);
    let notes = store::notes_of_day(&mut s.db.read().await?, a.actor(), c.id, day).await?;
    Ok(Json(json!({"day": day, "items": notes})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub household_id: Option<i64>,
    pub place: Option<String>,
    pub heard: String,
    pub follow_up: Option<String>,
}

/// Write a field note (one thing, one record).
#[utoipa::path(post, path = "/api/v1/communities/{code}/field-notes", tag = "field work", params(Code), request_body = NoteBody,
    responses((status = 201, description = "The note"), (status = 422, description = "Invalid input", body = Problem)))]
async fn add_field_note(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let n = store::add_note(&s, a.actor(), c.id, b.household_id, b.place, &b.heard, b.follow_up).await?;
    Ok((StatusCode::CREATED, Json(json!(n))).into_response())
}

/// The routes of this API, each with its operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(patrols, start_patrol))
        .routes(routes!(patrol))
        .routes(routes!(add_finding))
        .routes(routes!(end_patrol))
        .routes(routes!(finding_ticket))
        .routes(routes!(field_notes, add_field_note))
}
