//! The JSON API of duty at warm stations, for a phone app as for the page: one's shifts
//! and those still needing people, take and give up a place, check in and out (the hours
//! become service), count a visitor and set the station's state. The same rules as the
//! duty page; stations themselves are records (`/api/v1/communities/{code}/warm-stations`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pages::duty::{DutyData, duty_community, load};
use super::store::{self, Place, Shift};
use super::{LiveState, VisitorKind, may_check_in};
use crate::auth::guard::{self, CommunityRef};
use crate::error::{AppError, AppResult, Problem};
use crate::web::api::{ApiJson, Code, CodeId};
use crate::web::{AppState, Signed, fmt};

fn shift_json(s: &Shift) -> Value {
    json!({
        "id": s.id, "station_id": s.station_id, "station": s.station, "starts_at": fmt::rfc3339(s.starts_at),
        "ends_at": fmt::rfc3339(s.ends_at), "needed": s.needed, "taken": s.taken,
    })
}

fn duty_json(d: &DutyData) -> Value {
    let mine: Vec<Value> = d
        .mine
        .iter()
        .map(|(s, p): &(Shift, Place)| {
            let mut v = shift_json(s);
            v["checked_in_at"] = json!(p.checked_in_at.map(fmt::rfc3339));
            v["checked_out_at"] = json!(p.checked_out_at.map(fmt::rfc3339));
            v["service_record_id"] = json!(p.service_record_id);
            v["may_check_in"] = json!(p.checked_in_at.is_none() && may_check_in((s.starts_at, s.ends_at), d.now));
            v["counted_today"] = json!(d.today.iter().find(|t| t.0 == s.station_id).map(|t| t.1));
            v
        })
        .collect();
    json!({"mine": mine, "open": d.open.iter().map(shift_json).collect::<Vec<_>>()})
}

async fn answer(s: &AppState, a: &Signed, c: &CommunityRef) -> AppResult<Json<Value>> {
    Ok(Json(duty_json(&load(s, a.actor(), c).await?)))
}

/// One's duty: shifts held and shifts still needing people
///
/// For staff, volunteers and party members of the community: the shifts one holds this
/// week (with check-in and check-out, and today's visitors while on duty) and the shifts
/// ahead that still need people.
#[utoipa::path(get, path = "/api/v1/communities/{code}/duty", tag = "warm_stations", params(Code),
    responses((status = 200, description = "`mine` and `open` shifts"),
        (status = 403, description = "Not one who may serve here", body = Problem)))]
pub async fn get_duty(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = duty_community(&s, a.actor(), &code).await?;
    answer(&s, &a, &c).await
}

/// Take a place on a shift
///
/// Exactly: when many take the last place, one wins and the others are told the shift is
/// full (409). Not two shifts at once (422 naming `shift`).
#[utoipa::path(post, path = "/api/v1/communities/{code}/duty-shifts/{id}/take", tag = "warm_stations", params(CodeId),
    responses((status = 200, description = "One's duty, the place taken"),
        (status = 409, description = "The shift is full, or one holds a place already", body = Problem),
        (status = 422, description = "It overlaps a shift one holds", body = Problem)))]
pub async fn take_shift(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = duty_community(&s, a.actor(), &code).await?;
    store::take(&s, a.actor(), &c, id).await?;
    answer(&s, &a, &c).await
}

/// Give one's place up, before the shift starts
#[utoipa::path(post, path = "/api/v1/communities/{code}/duty-shifts/{id}/leave", tag = "warm_stations", params(CodeId),
    responses((status = 200, description = "One's duty, the place given up"),
        (status = 409, description = "The shift has started", body = Problem)))]
pub async fn leave_shift(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = duty_community(&s, a.actor(), &code).await?;
    store::leave(&s, a.actor(), &c, id).await?;
    answer(&s, &a, &c).await
}

/// Check in: on duty now (from half an hour before the shift)
#[utoipa::path(post, path = "/api/v1/communities/{code}/duty-shifts/{id}/check-in", tag = "warm_stations", params(CodeId),
    responses((status = 200, description = "One's duty, checked in"),
        (status = 409, description = "Too early, over, or checked in already", body = Problem)))]
pub async fn check_in_shift(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = duty_community(&s, a.actor(), &code).await?;
    store::check_in(&s, a.actor(), &c, id).await?;
    answer(&s, &a, &c).await
}

/// Check out: the time served becomes a service record waiting for approval
///
/// A second check-out records nothing more.
#[utoipa::path(post, path = "/api/v1/communities/{code}/duty-shifts/{id}/check-out", tag = "warm_stations", params(CodeId),
    responses((status = 200, description = "`service_record_id`: the record made (none when nothing was served)"),
        (status = 409, description = "Not checked in", body = Problem)))]
pub async fn check_out_shift(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = duty_community(&s, a.actor(), &code).await?;
    let record = store::check_out(&s, a.actor(), &c, id).await?;
    Ok(Json(json!({"service_record_id": record})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StationVisitBody {
    /// `rider`, `sanitation`, `driver` or `other`.
    pub kind: String,
}

/// Count a visitor (one tap)
///
/// By the one on duty at the station, or staff.
#[utoipa::path(post, path = "/api/v1/communities/{code}/warm-stations/{id}/visits", tag = "warm_stations", params(CodeId),
    request_body = StationVisitBody,
    responses((status = 201, description = "Counted; `counted_today` at the station"),
        (status = 403, description = "Not on duty there", body = Problem),
        (status = 422, description = "An unknown `kind`", body = Problem)))]
pub async fn count_station_visit(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<StationVisitBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let kind = VisitorKind::parse(&b.kind).ok_or_else(|| AppError::field("kind", "validation.choice"))?;
    store::count_visit(&s, a.actor(), &c, id, kind).await?;
    let since = crate::time::day_start_ms(fmt::today());
    let n = store::visit_count(&mut s.db.read().await?, c.id, id, since).await?;
    Ok((StatusCode::CREATED, Json(json!({"counted_today": n}))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StationStateBody {
    /// `open`, `closed` or `full`, for today.
    pub state: String,
}

/// Set the station's state for today
#[utoipa::path(put, path = "/api/v1/communities/{code}/warm-stations/{id}/state", tag = "warm_stations", params(CodeId),
    request_body = StationStateBody,
    responses((status = 200, description = "Set"),
        (status = 403, description = "Not on duty there", body = Problem),
        (status = 422, description = "An unknown `state`", body = Problem)))]
pub async fn set_station_state(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<StationStateBody>,
) -> AppResult<Json<Value>> {
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let to = LiveState::parse(&b.state).ok_or_else(|| AppError::field("state", "validation.choice"))?;
    store::set_state(&s, a.actor(), &c, id, to).await?;
    Ok(Json(json!({"state": to.as_str()})))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_duty))
        .routes(routes!(take_shift))
        .routes(routes!(leave_shift))
        .routes(routes!(check_in_shift))
        .routes(routes!(check_out_shift))
        .routes(routes!(count_station_visit))
        .routes(routes!(set_station_state))
}
