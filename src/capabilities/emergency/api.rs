//! The JSON API of emergencies, for the field app (and the field page's queue when the
//! network comes back): the households one is to check, and a change to a check, sent with
//! its key (sent again, nothing is recorded twice) and the version it was made on (made on
//! an older one, it is kept as a conflict and said so).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shelters::{self, CheckIn};
use super::store::{self, Outcome, Source};
use super::supplies;
use super::{CheckChange, CheckStatus, Need};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Permission;
use crate::error::{AppError, AppResult, Problem};
use crate::web::api::{ApiJson, Code, CodeId};
use crate::web::{AppState, Signed, fmt};

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    let c = guard::visible_community(&s.db, a.actor(), code).await?;
    let may = a.actor().can(c.id, Permission::ManageEmergency) || a.actor().can(c.id, Permission::CheckWelfare);
    if may { Ok(c) } else { Err(AppError::Forbidden) }
}

/// The households one is to check in an incident
///
/// A grid worker's own grids (staff: all), the first tier first, each with its `version`
/// to send back with a change.
#[utoipa::path(get, path = "/api/v1/communities/{code}/incidents/{id}/checks", tag = "emergency", params(CodeId),
    responses((status = 200, description = "The checks"),
        (status = 403, description = "Neither staff nor a grid worker", body = Problem)))]
pub async fn list_welfare_checks(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    // A helper sees what was handed to them: no more than the community is asked.
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let mut conn = s.db.read().await?;
    let incident = store::incident(&mut conn, c.id, id).await?;
    let items: Vec<Value> = store::checks(&mut conn, c.id, id, &store::whose(a.actor(), c.id))
        .await?
        .iter()
        .map(|w| {
            json!({
                "id": w.id, "household_id": w.household_id, "address": w.address, "grid": w.grid, "tier": w.tier,
                "tags": crate::services::records::model::tags_from_column(&w.tags), "status": w.status.as_str(),
                "needs": w.needs().iter().map(|n| n.as_str()).collect::<Vec<_>>(), "note": w.note, "attempts": w.attempts,
                "version": w.version, "updated_at": fmt::rfc3339(w.updated_at), "conflicts": w.conflicts,
            })
        })
        .collect();
    Ok(Json(json!({"incident": incident.title, "status": incident.status.as_str(), "items": items})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WelfareChangeBody {
    /// `safe`, `needs_help`, `unreachable`, `sheltered` or `refused`.
    pub status: String,
    /// With `needs_help` or `sheltered`: `medicine`, `food`, `transport`, `power`, `other`.
    #[serde(default)]
    pub needs: Vec<String>,
    pub note: Option<String>,
    /// The check's `version` the change was made on.
    pub seen: i64,
    /// A key of the phone's own making, the same when it sends the change again.
    pub key: String,
}

/// Record a change to a household's check
///
/// Applied when made on the check as it stands (201, `applied`); made on an older version
/// (someone else changed it meanwhile) it is kept in the history as a conflict (200,
/// `conflict`) and the check stays as the other left it; a key sent before records nothing
/// (200, `repeated`).
#[utoipa::path(post, path = "/api/v1/communities/{code}/welfare-checks/{id}/changes", tag = "emergency",
    params(CodeId), request_body = WelfareChangeBody,
    responses((status = 201, description = "Applied, with the new `version`"),
        (status = 200, description = "Kept as a conflict, or a key sent before"),
        (status = 404, description = "Not a household one may check", body = Problem),
        (status = 409, description = "The incident is not active", body = Problem),
        (status = 422, description = "A field refused, named", body = Problem)))]
pub async fn change_welfare_check(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<WelfareChangeBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    // Whether one may check the household is asked of the check (its grid, its helper).
    let c = guard::visible_community(&s.db, a.actor(), &code).await?;
    let status = CheckStatus::parse(&b.status)
        .filter(|s| *s != CheckStatus::ToCheck)
        .ok_or_else(|| AppError::field("status", "validation.choice"))?;
    let needs: Vec<Need> = b.needs.iter().filter_map(|n| Need::parse(n)).collect();
    if needs.len() != b.needs.len() {
        return Err(AppError::field("needs", "validation.choice"));
    }
    let ch = CheckChange { status, needs, note: b.note, seen: b.seen };
    Ok(match store::change(&s, a.actor(), &c, id, &ch, &b.key, Source::Field).await? {
        Outcome::Applied(v) => (StatusCode::CREATED, Json(json!({"outcome": "applied", "version": v}))),
        Outcome::Conflict(v) => (StatusCode::OK, Json(json!({"outcome": "conflict", "version": v}))),
        Outcome::Repeated(applied) => (StatusCode::OK, Json(json!({"outcome": "repeated", "applied": applied}))),
    })
}

/// The community's shelters, with their free places
#[utoipa::path(get, path = "/api/v1/communities/{code}/shelters", tag = "emergency", params(Code),
    responses((status = 200, description = "The shelters: capacity, occupied, free"),
        (status = 403, description = "Neither staff nor a grid worker", body = Problem)))]
pub async fn list_shelters(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let items: Vec<Value> = shelters::shelters(&mut s.db.read().await?, c.id)
        .await?
        .iter()
        .map(|x| {
            json!({"id": x.id, "name": x.name, "address": x.address, "lat": x.lat, "lng": x.lng,
            "capacity": x.capacity, "occupied": x.occupied, "free": x.free()})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

/// Check people into a shelter
///
/// From a household's welfare check (`check_id`: the check then says they moved), or by
/// `name`. A shelter without room for them is refused (422 naming `people`), with the
/// nearest shelter that has room in the message.
#[utoipa::path(post, path = "/api/v1/communities/{code}/shelters/{id}/stays", tag = "emergency",
    params(CodeId), request_body = CheckIn,
    responses((status = 201, description = "Checked in: the stay's id"),
        (status = 404, description = "No such shelter, or a check one may not see", body = Problem),
        (status = 422, description = "A field refused, named; or no room", body = Problem)))]
pub async fn check_in_shelter(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<CheckIn>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = community(&s, &a, &code).await?;
    let stay = shelters::check_in(&s, a.actor(), &c, id, &b).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": stay}))))
}

/// Each store's stock of relief supplies (staff)
#[utoipa::path(get, path = "/api/v1/communities/{code}/supplies", tag = "emergency", params(Code),
    responses((status = 200, description = "Stock by store and item"),
        (status = 403, description = "Not the community's staff", body = Problem)))]
pub async fn list_stock(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    guard::require(a.actor(), c.id, Permission::ManageEmergency)?;
    let items = supplies::stock(&mut s.db.read().await?, c.id).await?;
    Ok(Json(json!({"items": items})))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_welfare_checks))
        .routes(routes!(change_welfare_check))
        .routes(routes!(list_shelters))
        .routes(routes!(check_in_shelter))
        .routes(routes!(list_stock))
}
