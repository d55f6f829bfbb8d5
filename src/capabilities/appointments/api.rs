//! The JSON API of appointments, for a phone app as for the pages: a type's free slots of a
//! day, booking one (for oneself, a resident of one's grid, or — staff — a caller), one's
//! appointments, and cancelling or moving one on. The same rules as the pages; types
//! themselves are records (`/api/v1/communities/{code}/appointment-types`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Status;
use super::pages::{DayQuery, book_data, day_of};
use super::store::{self, Appointment, Whom};
use crate::auth::guard::{self, CommunityRef};
use crate::error::{AppError, AppResult, Problem};
use crate::web::api::{ApiJson, Code, CodeId, time};
use crate::web::{AppState, Signed, fmt};

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    guard::visible_community(&s.db, a.actor(), code).await
}

fn appointment_json(a: &Appointment) -> Value {
    json!({
        "id": a.id, "type_id": a.type_id, "type": a.type_name, "desk": a.desk, "kind": a.kind,
        "starts_at": fmt::rfc3339(a.starts_at), "ends_at": fmt::rfc3339(a.ends_at), "user_id": a.user_id,
        "name": a.name, "phone": a.phone_masked, "booked_by": a.booked_by_name, "proxy": a.proxy,
        "status": a.status.as_str(), "status_at": fmt::rfc3339(a.status_at), "reason": a.reason,
        "rescheduled_to": a.rescheduled_to, "result": a.result, "documents": a.documents, "ticket_id": a.ticket_id,
    })
}

async fn one(s: &AppState, a: &Signed, c: &CommunityRef, id: i64) -> AppResult<Json<Value>> {
    let ap = store::for_actor(&mut s.db.read().await?, a.actor(), c.id, id).await?;
    Ok(Json(appointment_json(&ap)))
}

/// A type's slots of a day, with the seats left
///
/// Slots follow the type's hours and the national holiday calendar; those sooner than its
/// minimum notice are left out. `day` is `YYYY-MM-DD` (today when none).
#[utoipa::path(get, path = "/api/v1/communities/{code}/appointment-types/{id}/slots", tag = "appointments",
    params(CodeId, ("day" = Option<String>, Query, description = "YYYY-MM-DD")),
    responses((status = 200, description = "The slots with `seats_left`"),
        (status = 404, description = "No such type", body = Problem),
        (status = 422, description = "`day` is not a date", body = Problem)))]
pub async fn list_slots(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<DayQuery>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let (d, _) = book_data(&s, a.actor(), &c, id, day_of(&q)?).await?;
    let length = d.t.duration_minutes * crate::time::MINUTE_MS;
    let slots: Vec<Value> = d
        .slots
        .iter()
        .map(|(start, _, left)| {
            json!({"starts_at": fmt::rfc3339(*start), "ends_at": fmt::rfc3339(start + length), "seats_left": left})
        })
        .collect();
    Ok(Json(json!({"type_id": d.t.id, "type": d.t.name, "day": d.day.to_string(), "slots": slots})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BookingBody {
    /// The slot's start (RFC 3339, or China time `YYYY-MM-DDTHH:MM`).
    pub starts_at: Option<String>,
    /// A resident's account to book for (their grid worker, or staff; when the type allows).
    #[serde(rename = "for")]
    pub for_user: Option<i64>,
    /// A caller or walk-in without an account (staff only), with their mobile number.
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// Book a seat of a slot
///
/// Exactly: when many race for the last seats, as many win as there are seats and the
/// rest are told the slot is full (409). Refused naming the field: off the slots, a closed
/// day or holiday, sooner than the notice, further than the days ahead, a bad number.
#[utoipa::path(post, path = "/api/v1/communities/{code}/appointment-types/{id}/bookings", tag = "appointments",
    params(CodeId), request_body = BookingBody,
    responses((status = 201, description = "The appointment booked"),
        (status = 409, description = "The slot is full", body = Problem),
        (status = 422, description = "A field refused, named", body = Problem)))]
pub async fn book_slot(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<BookingBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = community(&s, &a, &code).await?;
    let at = time("starts_at", &b.starts_at)?.ok_or_else(|| AppError::field("starts_at", "validation.required"))?;
    let whom = Whom::of(b.name, b.phone, b.for_user);
    let booked = store::book(&s, a.actor(), &c, id, at, whom).await?;
    Ok((StatusCode::CREATED, one(&s, &a, &c, booked).await?))
}

/// One's appointments in the community (booked for oneself or by oneself)
#[utoipa::path(get, path = "/api/v1/communities/{code}/appointments", tag = "appointments", params(Code),
    responses((status = 200, description = "The appointments, latest first")))]
pub async fn list_my_appointments(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let all = store::of_user(&mut s.db.read().await?, c.id, a.actor().user_id).await?;
    Ok(Json(json!({"items": all.iter().map(appointment_json).collect::<Vec<_>>()})))
}

/// An appointment (staff, whoever booked it, or whom it is for)
#[utoipa::path(get, path = "/api/v1/communities/{code}/appointments/{id}", tag = "appointments", params(CodeId),
    responses((status = 200, description = "The appointment"),
        (status = 404, description = "No such appointment of one's own", body = Problem)))]
pub async fn get_appointment(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    one(&s, &a, &c, id).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CancelAppointmentBody {
    /// Why (required, kept with who and when).
    pub reason: String,
}

/// Cancel an appointment, with a reason (kept, never deleted; the seat freed)
#[utoipa::path(post, path = "/api/v1/communities/{code}/appointments/{id}/cancel", tag = "appointments",
    params(CodeId), request_body = CancelAppointmentBody,
    responses((status = 200, description = "The appointment, cancelled"),
        (status = 409, description = "It is past or changed meanwhile", body = Problem),
        (status = 422, description = "No reason", body = Problem)))]
pub async fn cancel_appointment(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<CancelAppointmentBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    store::cancel(&s, a.actor(), &c, id, &b.reason).await?;
    one(&s, &a, &c, id).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AppointmentStatusBody {
    /// `confirmed`, `checked_in`, `done` or `no_show` (a no-show corrected to `checked_in` or `done`).
    pub status: String,
}

/// Staff move an appointment on
#[utoipa::path(post, path = "/api/v1/communities/{code}/appointments/{id}/status", tag = "appointments",
    params(CodeId), request_body = AppointmentStatusBody,
    responses((status = 200, description = "The appointment in its new state"),
        (status = 403, description = "Not staff", body = Problem),
        (status = 409, description = "Not a step from where it stands", body = Problem)))]
pub async fn set_appointment_status(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<AppointmentStatusBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let to = Status::parse(&b.status).ok_or_else(|| AppError::field("status", "validation.choice"))?;
    store::set_status(&s, a.actor(), &c, id, to).await?;
    one(&s, &a, &c, id).await
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_slots))
        .routes(routes!(book_slot))
        .routes(routes!(list_my_appointments))
        .routes(routes!(get_appointment))
        .routes(routes!(cancel_appointment))
        .routes(routes!(set_appointment_status))
}
