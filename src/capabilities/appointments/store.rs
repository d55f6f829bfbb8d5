//! Appointments' reads and writes: types with their terms and hours, booking a seat of a
//! slot (exactly, under contention), states with who and when, cancellation with its
//! reason, rescheduling linked to the new booking, a proxy errand's result and ticket, and
//! the reminders job.

use chrono::NaiveDate;
use serde_json::json;

use super::{HOURS_OWNER, Status, Terms, check_result, check_slot, minutes_ms, next_status, reminders_due, slots};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::hours::{Calendar, Hours};
use crate::services::notify::{self, Audience, Note, Subject};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Type {
    pub id: i64,
    pub name: String,
    pub desk: String,
    pub kind: String,
    pub duration_minutes: i64,
    pub interval_minutes: i64,
    pub seats: i64,
    pub min_notice_hours: i64,
    pub max_ahead_days: i64,
    pub proxy_allowed: bool,
    pub documents: Option<String>,
}

impl Type {
    pub fn terms(&self) -> Terms {
        Terms {
            duration: self.duration_minutes,
            interval: self.interval_minutes,
            seats: self.seats,
            min_notice_hours: self.min_notice_hours,
            max_ahead_days: self.max_ahead_days,
        }
    }
}

const TYPE: &str = "SELECT id, name, desk, kind, duration_minutes, interval_minutes, seats, min_notice_hours, max_ahead_days, \
     proxy_allowed, documents FROM appointment_types";

pub async fn types(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Type>> {
    Ok(query(format!("{TYPE} WHERE community_id = $1 AND archived_at IS NULL ORDER BY id"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn type_of(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Type> {
    query(format!("{TYPE} WHERE community_id = $1 AND id = $2 AND archived_at IS NULL"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn hours_of(
    ex: &mut impl Exec,
    community_id: i64,
    ids: Option<&[i64]>,
) -> AppResult<std::collections::HashMap<i64, Hours>> {
    crate::services::hours::store::hours_of(ex, community_id, HOURS_OWNER, ids, crate::web::fmt::today()).await
}

/// The seats taken of a type's slots between two times.
pub async fn taken(
    ex: &mut impl Exec,
    community_id: i64,
    type_id: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<(i64, i64)>> {
    Ok(query("SELECT starts_at, taken FROM appointment_slots WHERE community_id = $1 AND type_id = $2 AND starts_at >= $3 AND starts_at < $4")
        .bind(community_id)
        .bind(type_id)
        .bind(from)
        .bind(to)
        .fetch_all(ex)
        .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Appointment {
    pub id: i64,
    pub type_id: i64,
    pub type_name: String,
    pub desk: String,
    pub kind: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub phone_masked: Option<String>,
    pub booked_by: i64,
    pub booked_by_name: String,
    pub proxy: bool,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub status_at: i64,
    pub reason: Option<String>,
    pub rescheduled_to: Option<i64>,
    pub result: Option<String>,
    pub documents: Option<String>,
    pub ticket_id: Option<i64>,
    pub reminded_day_at: Option<i64>,
    pub reminded_hours_at: Option<i64>,
    pub remind_failed_at: Option<i64>,
}

const APPOINTMENT: &str = "SELECT a.id, a.type_id, t.name AS type_name, t.desk, t.kind, a.starts_at, a.ends_at, a.user_id, a.name, \
     a.phone_masked, a.booked_by, b.display_name AS booked_by_name, a.proxy, a.status, a.status_at, a.reason, a.rescheduled_to, \
     a.result, a.documents, a.ticket_id, a.reminded_day_at, a.reminded_hours_at, a.remind_failed_at FROM appointments a \
     JOIN appointment_types t ON t.community_id = a.community_id AND t.id = a.type_id JOIN users b ON b.id = a.booked_by";

pub async fn appointment(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Appointment> {
    query(format!("{APPOINTMENT} WHERE a.community_id = $1 AND a.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// A day's appointments of a community, by type and time.
pub async fn of_day(ex: &mut impl Exec, community_id: i64, day: NaiveDate) -> AppResult<Vec<Appointment>> {
    let from = crate::time::day_start_ms(day);
    Ok(query(format!("{APPOINTMENT} WHERE a.community_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 ORDER BY a.type_id, a.starts_at, a.id"))
        .bind(community_id)
        .bind(from)
        .bind(from + crate::time::DAY_MS)
        .fetch_all(ex)
        .await?)
}

/// One's own appointments (made for them), newest first.
pub async fn of_user(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<Appointment>> {
    Ok(query(format!("{APPOINTMENT} WHERE a.community_id = $1 AND (a.user_id = $2 OR a.booked_by = $2) ORDER BY a.starts_at DESC LIMIT 100"))
        .bind(community_id)
        .bind(user_id)
        .fetch_all(ex)
        .await?)
}

/// Whom a booking is for.
#[derive(Debug, Clone)]
pub enum Whom {
    /// The one booking.
    Myself,
    /// A resident with an account, booked by their grid worker or staff.
    Resident(i64),
    /// A caller or a walk-in, by staff: their name and mobile number.
    Caller { name: String, phone: String },
}

impl Whom {
    /// A caller when a name is given, else the resident named, else oneself.
    pub fn of(name: Option<String>, phone: Option<String>, resident: Option<i64>) -> Whom {
        match (name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()), resident) {
            (Some(name), _) => Whom::Caller { name, phone: phone.unwrap_or_default() },
            (None, Some(id)) => Whom::Resident(id),
            (None, None) => Whom::Myself,
        }
    }
}

/// The residents with an account whom the actor may book for: those of their grids (a
/// grid worker), or the community's (staff), as (user id, name, address).
pub async fn residents_for(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
) -> AppResult<Vec<(i64, String, String)>> {
    // Grids or the whole community; a resident's own household is not a grid to book for.
    let reach = actor.access(community_id, Permission::ViewRegistry);
    if !reach.all && reach.grids.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = crate::db::Builder::new(
        "SELECT u.id, u.display_name, h.address FROM grants g JOIN users u ON u.id = g.user_id \
         JOIN households h ON h.community_id = g.community_id AND h.id = g.household_id \
         WHERE g.role = 'resident' AND g.community_id = ",
    );
    b.arg(community_id);
    if !reach.all {
        b.push(" AND h.grid_id IN ").list(reach.grids.iter().copied());
    }
    b.push(" ORDER BY h.address LIMIT 500");
    Ok(b.build().fetch_all(ex).await?)
}

/// Someone books a seat of a slot: the slot is one of the type's (open that day, on its
/// interval), with the notice and within the days ahead, and a seat is left (exactly,
/// when many race). Answers the appointment's id.
pub async fn book(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    type_id: i64,
    starts_at: i64,
    whom: Whom,
) -> AppResult<i64> {
    // The calendar first: read inside the transaction it would wait for a second
    // connection while holding one.
    let calendar = state.holidays.calendar(&state.db).await?;
    let mut tx = state.db.begin().await?;
    let t = type_of(&mut tx, c.id, type_id).await?;
    let (user_id, name, phone, proxy) = whom_of(&mut tx, actor, c.id, &t, whom).await?;
    let hours = hours_of(&mut tx, c.id, Some(&[type_id])).await?.remove(&type_id).unwrap_or_default();
    let id = book_in(&mut tx, &calendar, &hours, c.id, &t, starts_at, now_ms()).await?;
    let sealed = phone.as_deref().map(|p| state.pii.seal_phone(p));
    query(
        "INSERT INTO appointments (community_id, id, type_id, starts_at, ends_at, user_id, name, phone_enc, phone_masked, booked_by, proxy, \
         status, status_at, status_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'booked', $12, $10, $12)",
    )
    .bind(c.id)
    .bind(id)
    .bind(type_id)
    .bind(starts_at)
    .bind(starts_at + t.duration_minutes * crate::time::MINUTE_MS)
    .bind(user_id)
    .bind(name)
    .bind(sealed.as_ref().map(|s| s.enc.clone()))
    .bind(sealed.map(|s| s.masked))
    .bind(actor.user_id)
    .bind(proxy)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks the slot and takes one of its seats; answers a new appointment id.
async fn book_in(
    tx: &mut Tx,
    calendar: &Calendar,
    hours: &Hours,
    community_id: i64,
    t: &Type,
    starts_at: i64,
    now: i64,
) -> AppResult<i64> {
    let local = crate::web::fmt::to_cst(starts_at).naive_local();
    let day_slots = slots(hours, calendar, local.date(), &t.terms());
    let minute = crate::services::hours::minute_of(local.time());
    let on_minute = starts_at % crate::time::MINUTE_MS == 0;
    let mut errors = check_slot(&day_slots, if on_minute { minute } else { u16::MAX }, starts_at, now, &t.terms());
    if !errors.is_empty() {
        return Err(AppError::Invalid(std::mem::take(&mut errors)));
    }
    query("INSERT INTO appointment_slots (community_id, type_id, starts_at, taken) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING")
        .bind(community_id)
        .bind(t.id)
        .bind(starts_at)
        .execute(&mut *tx)
        .await?;
    let won = query(
        "UPDATE appointment_slots SET taken = taken + 1 WHERE community_id = $1 AND type_id = $2 AND starts_at = $3 AND taken < $4",
    )
    .bind(community_id)
    .bind(t.id)
    .bind(starts_at)
    .bind(t.seats)
    .execute(&mut *tx)
    .await?;
    if won == 0 {
        return Err(AppError::Conflict("appt.slot_full"));
    }
    Ok(tx.next_id().await?)
}

/// Who the booking is for, and whether on their behalf: the actor; a resident of the
/// grid worker's grids (or, for staff, of the community); a caller named by staff.
async fn whom_of(
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    t: &Type,
    whom: Whom,
) -> AppResult<(Option<i64>, String, Option<String>, bool)> {
    let on_behalf = !matches!(whom, Whom::Myself);
    if on_behalf && !t.proxy_allowed && !actor.can(community_id, Permission::ManageServices) {
        return Err(AppError::field("for", "appt.no_proxy"));
    }
    match whom {
        Whom::Myself => {
            if !actor.sees_community(community_id) {
                return Err(AppError::NotFound);
            }
            Ok((Some(actor.user_id), actor.display_name.clone(), None, false))
        }
        Whom::Resident(user) => {
            let reachable = residents_for(tx, actor, community_id).await?;
            let (_, name, _) = reachable
                .into_iter()
                .find(|r| r.0 == user)
                .ok_or_else(|| AppError::field("for", "validation.reference"))?;
            Ok((Some(user), name, None, true))
        }
        Whom::Caller { name, phone } => {
            require(actor, community_id, Permission::ManageServices)?;
            let mut e = Vec::new();
            crate::input::check_text(&mut e, "name", &name, 30, true);
            let phone = match crate::services::pii::normalize_phone(&phone) {
                Ok(p) => Some(p),
                Err(key) => {
                    e.push(FieldError::new("phone", key));
                    None
                }
            };
            if !e.is_empty() {
                return Err(AppError::Invalid(e));
            }
            Ok((None, name.trim().to_string(), phone, true))
        }
    }
}

/// Frees the seat an appointment held.
async fn free_seat(tx: &mut Tx, community_id: i64, a: &Appointment) -> AppResult<()> {
    query("UPDATE appointment_slots SET taken = taken - 1 WHERE community_id = $1 AND type_id = $2 AND starts_at = $3 AND taken > 0")
        .bind(community_id)
        .bind(a.type_id)
        .bind(a.starts_at)
        .execute(tx)
        .await?;
    Ok(())
}

/// Whether the actor may act on the appointment: staff; whoever booked it; whom it is for.
fn may_touch(actor: &Actor, community_id: i64, a: &Appointment) -> bool {
    actor.can(community_id, Permission::ManageServices)
        || a.booked_by == actor.user_id
        || a.user_id == Some(actor.user_id)
}

pub async fn for_actor(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<Appointment> {
    let a = appointment(ex, community_id, id).await?;
    if may_touch(actor, community_id, &a) { Ok(a) } else { Err(AppError::NotFound) }
}

/// Moves the state on a guarded update (the state it was read in), with who and when.
async fn move_status(
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    a: &Appointment,
    to: Status,
    reason: Option<&str>,
) -> AppResult<()> {
    let n = query(
        "UPDATE appointments SET status = $1, status_at = $2, status_by = $3, reason = COALESCE($4, reason) \
                   WHERE community_id = $5 AND id = $6 AND status = $7",
    )
    .bind(to.as_str())
    .bind(now_ms())
    .bind(actor.user_id)
    .bind(reason.map(str::to_string))
    .bind(community_id)
    .bind(a.id)
    .bind(a.status.as_str())
    .execute(&mut *tx)
    .await?;
    if n == 0 {
        return Err(AppError::Conflict("appt.changed"));
    }
    let after = json!({"status": to.as_str(), "from": a.status.as_str(), "reason": reason});
    audit::record(tx, community_id, &By::from(actor), Action::Update, "appointment", a.id, None, Some(&after)).await
}

/// Staff move an appointment on: confirmed, checked in, done, a no-show (and corrected).
pub async fn set_status(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, to: Status) -> AppResult<()> {
    require(actor, c.id, Permission::ManageServices)?;
    let mut tx = state.db.begin().await?;
    let a = appointment(&mut tx, c.id, id).await?;
    next_status(a.status, to).map_err(AppError::Conflict)?;
    move_status(&mut tx, actor, c.id, &a, to, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Whoever may touch it cancels it, with a reason: kept, with who and why; the seat freed.
pub async fn cancel(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, reason: &str) -> AppResult<()> {
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "reason", reason, 200, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let a = for_actor(&mut tx, actor, c.id, id).await?;
    if !a.status.ahead() {
        return Err(AppError::Conflict("appt.not_now"));
    }
    move_status(&mut tx, actor, c.id, &a, Status::Cancelled, Some(reason.trim())).await?;
    free_seat(&mut tx, c.id, &a).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an appointment to another slot of its type: a new booking (checked like any),
/// the old one kept as rescheduled and linked to it. Answers the new one.
pub async fn reschedule(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, starts_at: i64) -> AppResult<i64> {
    let calendar = state.holidays.calendar(&state.db).await?;
    let mut tx = state.db.begin().await?;
    let a = for_actor(&mut tx, actor, c.id, id).await?;
    if !a.status.ahead() {
        return Err(AppError::Conflict("appt.not_now"));
    }
    let t = type_of(&mut tx, c.id, a.type_id).await?;
    let hours = hours_of(&mut tx, c.id, Some(&[t.id])).await?.remove(&t.id).unwrap_or_default();
    let new = book_in(&mut tx, &calendar, &hours, c.id, &t, starts_at, now_ms()).await?;
    query(
        "INSERT INTO appointments (community_id, id, type_id, starts_at, ends_at, user_id, name, phone_enc, phone_masked, booked_by, proxy, \
         status, status_at, status_by, created_at) \
         SELECT community_id, $1, type_id, $2, $3, user_id, name, phone_enc, phone_masked, booked_by, proxy, 'booked', $4, $5, $4 \
         FROM appointments WHERE community_id = $6 AND id = $7",
    )
    .bind(new)
    .bind(starts_at)
    .bind(starts_at + t.duration_minutes * crate::time::MINUTE_MS)
    .bind(now_ms())
    .bind(actor.user_id)
    .bind(c.id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    move_status(&mut tx, actor, c.id, &a, Status::Rescheduled, None).await?;
    query("UPDATE appointments SET rescheduled_to = $1 WHERE community_id = $2 AND id = $3")
        .bind(new)
        .bind(c.id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    free_seat(&mut tx, c.id, &a).await?;
    tx.commit().await?;
    Ok(new)
}

/// Staff record a proxy errand's result (what was done, the documents handled); with a
/// category, what remains becomes a ticket, on the person's behalf, once.
pub async fn record_result(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    done: &str,
    documents: &str,
    ticket_category: Option<i64>,
) -> AppResult<Option<i64>> {
    require(actor, c.id, Permission::ManageServices)?;
    let e = check_result(done, documents);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let a = appointment(&mut state.db.read().await?, c.id, id).await?;
    let ticket = match ticket_category {
        Some(category_id) => {
            let new = crate::capabilities::tickets::store::NewTicket {
                category_id: Some(category_id),
                description: format!("{}（代办：{}）", done.trim(), a.type_name),
                submitter_name: Some(a.name.clone()),
                idempotency_key: Some(format!("appointment:{id}")),
                ..Default::default()
            };
            let (t, _) = crate::capabilities::tickets::store::submit(state, c.id, None, new, Vec::new()).await?;
            Some(t.id)
        }
        None => a.ticket_id,
    };
    let mut tx = state.db.begin().await?;
    query("UPDATE appointments SET result = $1, documents = $2, ticket_id = $3 WHERE community_id = $4 AND id = $5")
        .bind(done.trim())
        .bind(Some(documents.trim()).filter(|d| !d.is_empty()))
        .bind(ticket)
        .bind(c.id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let after = json!({"result": done.trim(), "documents": documents.trim(), "ticket_id": ticket});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "appointment", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(ticket)
}

/// Every minute: reminders due, through the inbox of whom each is for; one made for a
/// caller with no account cannot be delivered and is marked for staff to call.
pub async fn remind(state: &AppState, now: i64) -> AppResult<usize> {
    let mut conn = state.db.span(crate::db::citus::Span::Maintenance).await?;
    type Due = (i64, i64, i64, Option<i64>, String, String, Option<i64>, Option<i64>);
    let due: Vec<Due> = query(
        "SELECT a.community_id, a.id, a.starts_at, a.user_id, a.name, t.name, a.reminded_day_at, a.reminded_hours_at \
         FROM appointments a JOIN appointment_types t ON t.community_id = a.community_id AND t.id = a.type_id \
         WHERE a.starts_at > $1 AND a.starts_at <= $2 AND a.status IN ('booked', 'confirmed') \
         AND (a.reminded_hours_at IS NULL) AND a.remind_failed_at IS NULL ORDER BY a.starts_at LIMIT 500",
    )
    .bind(now)
    .bind(now + crate::time::DAY_MS)
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    let mut sent = 0;
    for (community_id, id, starts_at, user, name, what, day_at, hours_at) in due {
        let (day, hours) = reminders_due(starts_at, now, day_at.is_some(), hours_at.is_some());
        if !day && !hours {
            continue;
        }
        let mut tx = state.db.begin().await?;
        let column = if hours { "reminded_hours_at" } else { "reminded_day_at" };
        match user {
            Some(u) => {
                let n = query(format!(
                    "UPDATE appointments SET {column} = $1 WHERE community_id = $2 AND id = $3 AND {column} IS NULL"
                ))
                .bind(now)
                .bind(community_id)
                .bind(id)
                .execute(&mut tx)
                .await?;
                if n == 1 {
                    let when = crate::web::fmt::datetime(starts_at);
                    let text = format!("提醒：{name}，您预约的“{what}”在 {when}，请按时到场。");
                    let note = Note::new(community_id, Some(Subject { kind: "appointment", id }), "reminder", text);
                    notify::send(&mut tx, &state.bus, note, Audience::Users(vec![u])).await?;
                    sent += 1;
                }
            }
            None => {
                query("UPDATE appointments SET remind_failed_at = $1 WHERE community_id = $2 AND id = $3")
                    .bind(now)
                    .bind(community_id)
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

pub fn remind_job(state: &AppState, now: i64) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        remind(state, now).await?;
        Ok(())
    })
}

/// The start of a slot on a day, in ms.
pub fn slot_start(day: NaiveDate, minute: crate::services::hours::Minute) -> i64 {
    crate::time::day_start_ms(day) + minutes_ms(minute)
}
