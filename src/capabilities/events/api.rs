//! The JSON API of events: events and their sessions, sign-up, check-in at the door (each
//! scan with its `scan_key`, so that a phone sending again what it kept offline counts no
//! one twice), closing a session, and the figures. Times are RFC 3339 (China time when no
//! offset is given).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Event, Key, Session, Signup, Whom};
use super::{NewEvent, SessionPlan, figures};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Permission;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::web::api::{ApiJson, Code, CodeId, time};
use crate::web::{AppState, Signed, fmt};

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    guard::visible_community(&s.db, a.actor(), code).await
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id, "kind": e.kind, "title": e.title, "description": e.description, "organiser": e.organiser,
        "brand": e.brand, "audience": e.audience, "team_id": e.team_id, "per_household": e.per_household,
        "claim_hours": e.claim_hours, "needs_approval": e.needs_approval, "status": e.status, "report": e.report,
        "attendance_rule": e.attendance_rule,
    })
}

fn session_json(s: &Session) -> Value {
    json!({
        "id": s.id, "station_id": s.station_id, "station": s.station, "starts_at": fmt::rfc3339(s.starts_at),
        "ends_at": fmt::rfc3339(s.ends_at), "capacity": s.capacity, "held_back": s.held_back, "taken": s.taken,
        "waiting": s.waiting, "status": s.status, "rule": s.rule, "moved_from": s.moved_from.map(fmt::rfc3339),
        "closed_at": s.closed_at.map(fmt::rfc3339),
    })
}

fn signup_json(u: &Signup) -> Value {
    json!({
        "id": u.id, "event_id": u.event_id, "session_id": u.session_id, "name": u.name, "status": u.status,
        "role": u.role, "code": u.code, "station": u.station, "starts_at": fmt::rfc3339(u.starts_at),
        "offered_until": u.offered_until.map(fmt::rfc3339), "checked_in_at": u.checked_in_at.map(fmt::rfc3339),
        "checked_out_at": u.checked_out_at.map(fmt::rfc3339), "no_show": u.no_show, "walk_in": u.walk_in,
    })
}

/// The community's events
#[utoipa::path(get, path = "/api/v1/communities/{code}/events", tag = "events", params(Code),
    responses((status = 200, description = "The events, newest first (drafts only for staff)")))]
pub async fn list_events(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let list = store::events(&mut s.db.read().await?, a.actor(), c.id).await?;
    Ok(Json(json!({"items": list.iter().map(event_json).collect::<Vec<_>>(), "total": list.len()})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// festival, market, class, activity or meeting.
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub organiser: String,
    pub brand: Option<String>,
    /// everyone, residents or team.
    pub audience: String,
    pub team_id: Option<i64>,
    pub per_household: Option<i64>,
    /// Hours a seat offered from the waitlist waits to be claimed (1–72).
    pub claim_hours: i64,
    #[serde(default)]
    pub needs_approval: bool,
    /// The code of a bonus points rule that pays those who come (`GET …/points/rules`).
    pub attendance_rule: Option<String>,
}

/// Create an event (a draft)
#[utoipa::path(post, path = "/api/v1/communities/{code}/events", tag = "events", params(Code),
    request_body = EventBody,
    responses((status = 201, description = "The event"), (status = 422, description = "Invalid input", body = Problem)))]
pub async fn create_event(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<EventBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let e = NewEvent {
        kind: b.kind,
        title: b.title,
        description: b.description,
        organiser: b.organiser,
        brand: b.brand,
        audience: b.audience,
        per_household: b.per_household,
        claim_hours: b.claim_hours,
        needs_approval: b.needs_approval,
        team_id: b.team_id,
        attendance_rule: b.attendance_rule,
    };
    let e = store::create(&s, a.actor(), &c, e).await?;
    Ok((StatusCode::CREATED, Json(event_json(&e))).into_response())
}

/// An event with its sessions
#[utoipa::path(get, path = "/api/v1/communities/{code}/events/{id}", tag = "events", params(CodeId),
    responses((status = 200, description = "The event, its sessions and the caller's sign-ups"),
        (status = 404, description = "No such event", body = Problem)))]
pub async fn get_event(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let e = store::event_for(&mut conn, a.actor(), c.id, id).await?;
    let sessions = store::sessions(&mut conn, c.id, id).await?;
    let mine = store::mine(&mut conn, a.actor(), c.id, id).await?;
    let mut out = event_json(&e);
    out["sessions"] = sessions.iter().map(session_json).collect();
    out["mine"] = mine.iter().map(signup_json).collect();
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsBody {
    pub station_ids: Vec<i64>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub capacity: i64,
    #[serde(default)]
    pub held_back: i64,
    /// A recurrence rule (RFC 5545 RRULE, e.g. `FREQ=WEEKLY;COUNT=12`) for a class's series.
    pub rule: Option<String>,
}

/// Add sessions: one at each station, or a series by a rule
#[utoipa::path(post, path = "/api/v1/communities/{code}/events/{id}/sessions", tag = "events", params(CodeId),
    request_body = SessionsBody,
    responses((status = 201, description = "The sessions' ids"), (status = 422, description = "Invalid input", body = Problem)))]
pub async fn add_event_sessions(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<SessionsBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let (starts, ends) = (time("starts_at", &b.starts_at)?, time("ends_at", &b.ends_at)?);
    let (Some(starts_at), Some(ends_at)) = (starts, ends) else {
        let missing = [("starts_at", starts), ("ends_at", ends)].into_iter().filter(|(_, v)| v.is_none());
        return Err(AppError::Invalid(missing.map(|(f, _)| FieldError::new(f, "validation.required")).collect()));
    };
    let plan = SessionPlan { starts_at, ends_at, capacity: b.capacity, held_back: b.held_back };
    let ids = store::add_sessions(&s, a.actor(), &c, id, &b.station_ids, plan, b.rule.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!({"ids": ids}))).into_response())
}

/// Publish an event
#[utoipa::path(post, path = "/api/v1/communities/{code}/events/{id}/publish", tag = "events", params(CodeId),
    responses((status = 200, description = "The event"), (status = 409, description = "Not now", body = Problem)))]
pub async fn publish_event(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let e = store::set_status(&s, a.actor(), &c, id, super::EventStatus::Published).await?;
    Ok(Json(event_json(&e)))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    /// `volunteer` to serve at the session (volunteers only); else taking part.
    pub role: Option<String>,
}

/// Sign up for a session
#[utoipa::path(post, path = "/api/v1/communities/{code}/event-sessions/{id}/signups", tag = "events", params(CodeId),
    request_body = SignupBody,
    responses((status = 201, description = "The sign-up: seated, waiting (in the queue) or pending approval"),
        (status = 409, description = "Refused, with the reason", body = Problem)))]
pub async fn sign_up_for_session(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<SignupBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let whom = match b.role.as_deref() {
        None | Some("participant") => Whom::Me,
        Some("volunteer") => Whom::MeToServe,
        Some(_) => return Err(AppError::field("role", "validation.choice")),
    };
    let u = store::sign_up(&s, a.actor(), &c, id, whom).await?;
    Ok((StatusCode::CREATED, Json(signup_json(&u))).into_response())
}

/// Give a sign-up up (its seat goes to the first waiting, offered at once)
#[utoipa::path(post, path = "/api/v1/communities/{code}/event-signups/{id}/cancel", tag = "events", params(CodeId),
    responses((status = 200, description = "The sign-up, given up"), (status = 409, description = "Not now", body = Problem)))]
pub async fn give_up_signup(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(signup_json(&store::leave(&s, a.actor(), &c, id).await?)))
}

/// Claim a seat offered from the waitlist
#[utoipa::path(post, path = "/api/v1/communities/{code}/event-signups/{id}/claim", tag = "events", params(CodeId),
    responses((status = 200, description = "The sign-up, seated"), (status = 409, description = "Not offered, or the offer lapsed", body = Problem)))]
pub async fn claim_seat(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(signup_json(&store::claim(&s, a.actor(), &c, id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInBody {
    /// The code on the person's phone (or its QR).
    pub code: Option<String>,
    /// Or the sign-up ticked on the roll.
    pub signup_id: Option<i64>,
    /// This scan's own key: a scan sent again with it answers as the first time.
    pub scan_key: Option<String>,
}

/// Check someone in at the door
#[utoipa::path(post, path = "/api/v1/communities/{code}/events/{id}/check-ins", tag = "events", params(CodeId),
    request_body = CheckInBody,
    responses((status = 200, description = "Checked in; `already` says it had been, and when"),
        (status = 422, description = "A code that is not this event's", body = Problem),
        (status = 409, description = "A called-off or closed session, or no seat", body = Problem)))]
pub async fn check_in_at_door(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<CheckInBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let key = match (b.code, b.signup_id) {
        (Some(code), _) => Key::Code(code),
        (None, Some(id)) => Key::Signup(id),
        (None, None) => return Err(AppError::field("code", "validation.required")),
    };
    let done = store::check_in(&s, a.actor(), &c, id, key, b.scan_key.as_deref()).await?;
    Ok(Json(json!({"already": done.already, "signup": signup_json(&done.signup)})))
}

/// Close a session that is over
#[utoipa::path(post, path = "/api/v1/communities/{code}/event-sessions/{id}/close", tag = "events", params(CodeId),
    responses((status = 200, description = "No-shows marked, volunteers' service records made"),
        (status = 409, description = "Not over, or closed already", body = Problem)))]
pub async fn close_session(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let closed = store::close_session(&s, Some(a.actor()), &c, id, crate::db::now_ms()).await?;
    Ok(Json(json!(closed)))
}

/// An event's figures
#[utoipa::path(get, path = "/api/v1/communities/{code}/events/{id}/figures", tag = "events", params(CodeId),
    responses((status = 200, description = "Sessions, sign-ups, attendance (each person once), no-shows, promotions, volunteer hours, ratings")))]
pub async fn event_figures(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    guard::require(a.actor(), c.id, Permission::ManageEvents)?;
    let lines = store::figure_lines(&mut s.db.read().await?, c.id, store::Lines::Event(id)).await?;
    let f = figures::total(&lines);
    let stations = figures::by(&lines, |l| Some(l.station.clone()));
    let station_json = |name: &String, f: &figures::Figures| json!({"station": name, "signed_up": f.signed_up, "attended": f.attended});
    Ok(Json(json!({
        "sessions": f.sessions, "signed_up": f.signed_up, "attended": f.attended, "no_shows": f.no_shows,
        "attendance_rate": f.attendance_rate(), "promoted": f.promoted, "volunteer_minutes": f.volunteer_minutes,
        "average_rating": f.average_rating(),
        "stations": stations.iter().map(|(n, f)| station_json(n, f)).collect::<Vec<_>>(),
    })))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, create_event))
        .routes(routes!(get_event))
        .routes(routes!(add_event_sessions))
        .routes(routes!(publish_event))
        .routes(routes!(sign_up_for_session))
        .routes(routes!(give_up_signup))
        .routes(routes!(claim_seat))
        .routes(routes!(check_in_at_door))
        .routes(routes!(close_session))
        .routes(routes!(event_figures))
}
