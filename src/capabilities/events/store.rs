//! Events' queries: events and their sessions, sign-ups that race for exact seats (each
//! sign-up first takes its session's row, so sign-ups to one session go one at a time and
//! the queue keeps the order of arrival), offers from the waitlist, and check-in.

use serde::Serialize;
use serde_json::json;

use super::{
    Audience, EventKind, EventStatus, NewEvent, SessionPlan, SessionStatus, SignupStatus, check_event, check_session,
    may_sign_up, next_status, overlaps, seat_free,
};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission, Role};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Event {
    pub community_id: i64,
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    pub title: String,
    pub description: Option<String>,
    pub organiser: String,
    pub brand: Option<String>,
    #[sqlx(try_from = "String")]
    pub audience: Audience,
    pub per_household: Option<i64>,
    pub claim_hours: i64,
    #[sqlx(try_from = "String")]
    pub status: EventStatus,
    pub created_at: i64,
}

const EVENT: &str = "SELECT community_id, id, kind, title, description, organiser, brand, audience, per_household,
    claim_hours, status, created_at FROM events";

/// A session with its station and how many wait for a seat.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Session {
    pub community_id: i64,
    pub id: i64,
    pub event_id: i64,
    pub station_id: i64,
    pub station: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i64,
    pub held_back: i64,
    pub taken: i64,
    #[sqlx(try_from = "String")]
    pub status: SessionStatus,
    pub waiting: i64,
}

/// Its `WHERE` names the community as `$1` (the waiting are counted in it alone, a join
/// that stays on the community's shard on Citus).
const SESSION: &str = "SELECT s.community_id, s.id, s.event_id, s.station_id, st.name AS station, s.starts_at,
    s.ends_at, s.capacity, s.held_back, s.taken, s.status, COALESCE(w.waiting, 0) AS waiting
  FROM event_sessions s JOIN stations st ON st.community_id = s.community_id AND st.id = s.station_id
  LEFT JOIN (SELECT community_id, session_id, COUNT(*) AS waiting FROM event_signups
             WHERE community_id = $1 AND status = 'waiting' GROUP BY community_id, session_id) w
    ON w.community_id = s.community_id AND w.session_id = s.id";

/// A sign-up with its session's time and station.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Signup {
    pub community_id: i64,
    pub id: i64,
    pub event_id: i64,
    pub session_id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub household_id: Option<i64>,
    pub signed_up_by: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: SignupStatus,
    pub code: String,
    pub offered_until: Option<i64>,
    pub checked_in_at: Option<i64>,
    pub created_at: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub station: String,
    pub title: String,
}

const SIGNUP: &str = "SELECT u.community_id, u.id, u.event_id, u.session_id, u.user_id, u.name, u.household_id,
    u.signed_up_by, u.status, u.code, u.offered_until, u.checked_in_at, u.created_at, s.starts_at, s.ends_at,
    st.name AS station, e.title
  FROM event_signups u
  JOIN event_sessions s ON s.community_id = u.community_id AND s.id = u.session_id
  JOIN stations st ON st.community_id = s.community_id AND st.id = s.station_id
  JOIN events e ON e.community_id = u.community_id AND e.id = u.event_id";

pub async fn event(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Event>> {
    Ok(query(format!("{EVENT} WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// An event the actor may see: drafts only for those who run events.
pub async fn event_for(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<Event> {
    let e = event(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if e.status == EventStatus::Draft && !actor.can(community_id, Permission::ManageEvents) {
        return Err(AppError::NotFound);
    }
    Ok(e)
}

/// The community's events, newest first; drafts only for those who run events.
pub async fn events(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Event>> {
    let drafts = if actor.can(community_id, Permission::ManageEvents) { "" } else { " AND status <> 'draft'" };
    Ok(query(format!("{EVENT} WHERE community_id = $1{drafts} ORDER BY created_at DESC, id DESC LIMIT 200"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn sessions(ex: &mut impl Exec, community_id: i64, event_id: i64) -> AppResult<Vec<Session>> {
    Ok(query(format!("{SESSION} WHERE s.community_id = $1 AND s.event_id = $2 ORDER BY s.starts_at, st.name, s.id"))
        .bind(community_id)
        .bind(event_id)
        .fetch_all(ex)
        .await?)
}

/// The stations of a community (id, name), by name, for pickers.
pub async fn stations(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut list: Vec<(i64, String)> =
        query("SELECT id, name FROM stations WHERE community_id = $1 AND archived_at IS NULL")
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    list.sort_by(|a, b| crate::natural::cmp(&a.1, &b.1));
    Ok(list)
}

/// The actor's own sign-ups to an event (given up ones aside), by session time.
pub async fn mine(ex: &mut impl Exec, actor: &Actor, community_id: i64, event_id: i64) -> AppResult<Vec<Signup>> {
    Ok(query(format!(
        "{SIGNUP} WHERE u.community_id = $1 AND u.event_id = $2 AND u.user_id = $3 AND u.status <> 'cancelled'
         ORDER BY s.starts_at, u.id"
    ))
    .bind(community_id)
    .bind(event_id)
    .bind(actor.user_id)
    .fetch_all(ex)
    .await?)
}

/// Everyone holding a seat at an event's sessions, by session and name: the roll call.
pub async fn roll(ex: &mut impl Exec, community_id: i64, event_id: i64) -> AppResult<Vec<Signup>> {
    let mut list: Vec<Signup> = query(format!(
        "{SIGNUP} WHERE u.community_id = $1 AND u.event_id = $2 AND u.status = 'seated' ORDER BY s.starts_at, u.id"
    ))
    .bind(community_id)
    .bind(event_id)
    .fetch_all(ex)
    .await?;
    list.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(crate::natural::cmp(&a.name, &b.name)));
    Ok(list)
}

/// A waiting sign-up's place in its queue (1 is next).
pub async fn queue_place(ex: &mut impl Exec, s: &Signup) -> AppResult<i64> {
    Ok(query(
        "SELECT COUNT(*) FROM event_signups WHERE community_id = $1 AND session_id = $2 AND status = 'waiting' AND id <= $3",
    )
    .bind(s.community_id)
    .bind(s.session_id)
    .bind(s.id)
    .scalar(ex)
    .await?)
}

async fn signup(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Signup>> {
    Ok(query(format!("{SIGNUP} WHERE u.community_id = $1 AND u.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Creates an event as a draft, refused naming each field that breaks a rule.
pub async fn create(state: &AppState, actor: &Actor, c: &CommunityRef, e: NewEvent) -> AppResult<Event> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let (kind, audience) = check_event(&e).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO events (community_id, id, kind, title, description, organiser, brand, audience, per_household,
           claim_hours, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12, $12)",
    )
    .bind(c.id)
    .bind(id)
    .bind(kind.as_str())
    .bind(e.title.trim())
    .bind(e.description.as_deref().map(str::trim).filter(|d| !d.is_empty()))
    .bind(e.organiser.trim())
    .bind(e.brand.as_deref().map(str::trim).filter(|b| !b.is_empty()))
    .bind(audience.as_str())
    .bind(e.per_household)
    .bind(e.claim_hours)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    let after = json!({"title": e.title.trim(), "kind": kind.as_str(), "status": "draft"});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "event", id, None, Some(&after)).await?;
    let out = event(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Adds one session at each chosen station, all at the same time: a festival's stations
/// in one action. Refused whole when a station is not the community's or the times break
/// a rule.
pub async fn add_sessions(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    station_ids: &[i64],
    plan: SessionPlan,
) -> AppResult<Vec<i64>> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let now = now_ms();
    let mut errors = check_session(&plan, now);
    if station_ids.is_empty() {
        errors.push(FieldError::new("station_ids", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let known = stations(&mut tx, c.id).await?;
    if station_ids.iter().any(|s| !known.iter().any(|(k, _)| k == s)) {
        errors.push(FieldError::new("station_ids", "events.station_unknown"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let e = event(&mut tx, c.id, event_id).await?.ok_or(AppError::NotFound)?;
    if matches!(e.status, EventStatus::Cancelled | EventStatus::Finished) {
        return Err(AppError::Conflict("events.not_now"));
    }
    let mut ids = Vec::new();
    for station in station_ids {
        let id = tx.next_id().await?;
        query(
            "INSERT INTO event_sessions (community_id, id, event_id, station_id, starts_at, ends_at, capacity, held_back,
               taken, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'scheduled', $9)",
        )
        .bind(c.id)
        .bind(id)
        .bind(event_id)
        .bind(*station)
        .bind(plan.starts_at)
        .bind(plan.ends_at)
        .bind(plan.capacity)
        .bind(plan.held_back)
        .bind(now)
        .execute(&mut tx)
        .await?;
        ids.push(id);
    }
    let after = json!({"sessions": ids, "starts_at": plan.starts_at, "capacity": plan.capacity});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "event", event_id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Publishes an event, or calls it off: everyone signed up hears of it and their seats go.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    to: EventStatus,
) -> AppResult<Event> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut tx = state.db.begin().await?;
    let e = event(&mut tx, c.id, event_id).await?.ok_or(AppError::NotFound)?;
    let count = sessions(&mut tx, c.id, event_id).await?.len();
    let to = next_status(e.status, to, count).map_err(AppError::Conflict)?;
    let now = now_ms();
    query("UPDATE events SET status = $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(to.as_str())
        .bind(now)
        .bind(c.id)
        .bind(event_id)
        .execute(&mut tx)
        .await?;
    if to == EventStatus::Cancelled {
        let people: Vec<i64> = query(
            "SELECT DISTINCT user_id FROM event_signups WHERE community_id = $1 AND event_id = $2
               AND status <> 'cancelled' AND user_id IS NOT NULL",
        )
        .bind(c.id)
        .bind(event_id)
        .scalars(&mut tx)
        .await?;
        query("UPDATE event_sessions SET status = 'cancelled' WHERE community_id = $1 AND event_id = $2")
            .bind(c.id)
            .bind(event_id)
            .execute(&mut tx)
            .await?;
        let text = format!("活动「{}」已取消，您的报名随之取消", e.title);
        let note = Note::new(c.id, Some(Subject { kind: "event", id: event_id }), "cancelled", text);
        notify::send(&mut tx, &state.bus, note, To::Users(people)).await?;
    }
    let (before, after) = (json!({"status": e.status.as_str()}), json!({"status": to.as_str()}));
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "event", event_id, Some(&before), Some(&after))
        .await?;
    let out = event(&mut tx, c.id, event_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Whom a sign-up is for: the signed-in person, or someone without a phone that a grid
/// worker or staff signs up (by name, with their household when known).
pub enum Whom<'a> {
    Me,
    Other { name: &'a str, household_id: Option<i64> },
}

/// The session's row and its event, the row taken until the transaction ends: sign-ups
/// to one session go one at a time.
async fn take_session(tx: &mut Tx, community_id: i64, session_id: i64) -> AppResult<(Session, Event)> {
    let locked = query("UPDATE event_sessions SET taken = taken WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    if locked == 0 {
        return Err(AppError::NotFound);
    }
    let s: Session = query(format!("{SESSION} WHERE s.community_id = $1 AND s.id = $2"))
        .bind(community_id)
        .bind(session_id)
        .fetch_one(&mut *tx)
        .await?;
    let e = event(&mut *tx, community_id, s.event_id).await?.ok_or(AppError::NotFound)?;
    Ok((s, e))
}

fn the_household(actor: &Actor, community_id: i64) -> Option<i64> {
    actor
        .grants
        .iter()
        .find(|g| g.role() == Role::Resident && g.community_id == Some(community_id))
        .and_then(|g| g.household_id)
}

/// What refuses a person's sign-up before a seat is looked for: who may come, a second
/// sign-up, a session that overlaps one they hold, the household's limit.
async fn refusal(
    tx: &mut Tx,
    community_id: i64,
    s: &Session,
    e: &Event,
    user: Option<i64>,
    household: Option<i64>,
) -> AppResult<Option<&'static str>> {
    if e.audience == Audience::Residents && user.is_some() && household.is_none() {
        return Ok(Some("events.residents_only"));
    }
    if let Some(u) = user {
        let held: Vec<(i64, i64, i64)> = query(
            "SELECT u.session_id, s.starts_at, s.ends_at FROM event_signups u
               JOIN event_sessions s ON s.community_id = u.community_id AND s.id = u.session_id
             WHERE u.community_id = $1 AND u.user_id = $2 AND u.status <> 'cancelled' AND s.status = 'scheduled'",
        )
        .bind(community_id)
        .bind(u)
        .fetch_all(&mut *tx)
        .await?;
        if held.iter().any(|h| h.0 == s.id) {
            return Ok(Some("events.already_signed_up"));
        }
        if held.iter().any(|h| overlaps((h.1, h.2), (s.starts_at, s.ends_at))) {
            return Ok(Some("events.overlaps"));
        }
    }
    if let (Some(limit), Some(h)) = (e.per_household, household) {
        let n: i64 = query(
            "SELECT COUNT(*) FROM event_signups WHERE community_id = $1 AND event_id = $2 AND household_id = $3
               AND status <> 'cancelled'",
        )
        .bind(community_id)
        .bind(e.id)
        .bind(h)
        .scalar(&mut *tx)
        .await?;
        if n >= limit {
            return Ok(Some("events.household_limit"));
        }
    }
    Ok(None)
}

fn signup_code() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("system random source");
    format!("{:08}", u32::from_le_bytes(b) % 100_000_000)
}

/// Writes a sign-up with a fresh code (a code drawn twice in the community is drawn again).
#[allow(clippy::too_many_arguments)]
async fn insert_signup(
    tx: &mut Tx,
    s: &Session,
    user: Option<i64>,
    name: &str,
    household: Option<i64>,
    by: Option<i64>,
    status: SignupStatus,
) -> AppResult<i64> {
    let id = tx.next_id().await?;
    let now = now_ms();
    for tries in 0.. {
        let sp = tx.savepoint().await?;
        let inserted = query(
            "INSERT INTO event_signups (community_id, id, event_id, session_id, user_id, name, household_id,
               signed_up_by, status, code, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(s.community_id)
        .bind(id)
        .bind(s.event_id)
        .bind(s.id)
        .bind(user)
        .bind(name)
        .bind(household)
        .bind(by)
        .bind(status.as_str())
        .bind(signup_code())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if tries < 5 && crate::db::unique_violation_field(&e).as_deref() == Some("code") => {
                tx.rollback_to(sp).await?;
            }
            Err(e) if crate::db::unique_violation_field(&e).as_deref() == Some("user") => {
                return Err(AppError::Conflict("events.already_signed_up"));
            }
            other => {
                other?;
                tx.release(sp).await?;
                break;
            }
        }
    }
    Ok(id)
}

/// Signs up for a session: a seat while there is one (exactly as many as it has), else a
/// place in the queue. Answers the sign-up.
pub async fn sign_up(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    session_id: i64,
    whom: Whom<'_>,
) -> AppResult<Signup> {
    let (user, name, household, by) = match whom {
        Whom::Me => (Some(actor.user_id), actor.display_name.clone(), the_household(actor, c.id), None),
        Whom::Other { name, household_id } => {
            guard::require(actor, c.id, Permission::HelpAtEvents)?;
            let mut errors = Vec::new();
            crate::input::check_text(&mut errors, "name", name, 40, true);
            if !errors.is_empty() {
                return Err(AppError::Invalid(errors));
            }
            (None, name.trim().to_string(), household_id, Some(actor.user_id))
        }
    };
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id).await?;
    may_sign_up(e.status, s.status, s.starts_at, now_ms()).map_err(AppError::Conflict)?;
    if let Some(h) = household
        && by.is_some()
    {
        let known: i64 =
            query("SELECT COUNT(*) FROM households WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                .bind(c.id)
                .bind(h)
                .scalar(&mut tx)
                .await?;
        if known == 0 {
            return Err(AppError::field("household_id", "events.household_unknown"));
        }
    }
    if let Some(why) = refusal(&mut tx, c.id, &s, &e, user, household).await? {
        return Err(AppError::Conflict(why));
    }
    let seated = seat_free(s.capacity, s.held_back, s.taken, by.is_some())
        && query("UPDATE event_sessions SET taken = taken + 1 WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(s.id)
            .execute(&mut tx)
            .await?
            == 1;
    let status = if seated { SignupStatus::Seated } else { SignupStatus::Waiting };
    let id = insert_signup(&mut tx, &s, user, &name, household, by, status).await?;
    let out = signup(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Offers the freed seats of a session to the first waiting, each for the event's claim
/// time; answers how many were offered.
async fn offer_next(state: &AppState, tx: &mut Tx, community_id: i64, session_id: i64, now: i64) -> AppResult<usize> {
    let (s, e) = take_session(tx, community_id, session_id).await?;
    if may_sign_up(e.status, s.status, s.starts_at, now).is_err() {
        return Ok(0);
    }
    let free = (s.capacity - s.held_back - s.taken).max(0);
    let first: Vec<(i64, Option<i64>)> = query(
        "SELECT id, user_id FROM event_signups WHERE community_id = $1 AND session_id = $2 AND status = 'waiting'
         ORDER BY id LIMIT $3",
    )
    .bind(community_id)
    .bind(session_id)
    .bind(free)
    .fetch_all(&mut *tx)
    .await?;
    let until = now + e.claim_hours * crate::time::HOUR_MS;
    for (id, user) in &first {
        query("UPDATE event_signups SET status = 'offered', offered_until = $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
            .bind(until)
            .bind(now)
            .bind(community_id)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        if let Some(u) = user {
            let text = format!(
                "「{}」{} 有空位了，请在 {} 前确认",
                e.title,
                crate::web::fmt::datetime(s.starts_at),
                crate::web::fmt::datetime(until)
            );
            let note = Note::new(community_id, Some(Subject { kind: "event", id: e.id }), "offered", text);
            notify::send(&mut *tx, &state.bus, note, To::Users(vec![*u])).await?;
        }
    }
    query("UPDATE event_sessions SET taken = taken + $1 WHERE community_id = $2 AND id = $3")
        .bind(first.len() as i64)
        .bind(community_id)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    Ok(first.len())
}

/// Gives a sign-up up (its holder, or someone who helps at events): a seat it held goes to
/// the first waiting.
pub async fn leave(state: &AppState, actor: &Actor, c: &CommunityRef, signup_id: i64) -> AppResult<Signup> {
    let mut tx = state.db.begin().await?;
    let u = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    let (s, _) = take_session(&mut tx, c.id, u.session_id).await?;
    let u = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    if u.user_id != Some(actor.user_id) && !actor.can(c.id, Permission::HelpAtEvents) {
        return Err(AppError::NotFound);
    }
    if u.status == SignupStatus::Cancelled || u.checked_in_at.is_some() {
        return Err(AppError::Conflict("events.not_now"));
    }
    release(&mut tx, &s, &u).await?;
    offer_next(state, &mut tx, c.id, s.id, now_ms()).await?;
    let out = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Marks a sign-up given up; the seat it held is free again.
async fn release(tx: &mut Tx, s: &Session, u: &Signup) -> AppResult<()> {
    query("UPDATE event_signups SET status = 'cancelled', updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(u.community_id)
        .bind(u.id)
        .execute(&mut *tx)
        .await?;
    if u.status.holds_seat() {
        query("UPDATE event_sessions SET taken = taken - 1 WHERE community_id = $1 AND id = $2")
            .bind(s.community_id)
            .bind(s.id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Claims a seat offered from the queue, before its time runs out.
pub async fn claim(state: &AppState, actor: &Actor, c: &CommunityRef, signup_id: i64) -> AppResult<Signup> {
    let mut tx = state.db.begin().await?;
    let u = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    if u.user_id != Some(actor.user_id) {
        return Err(AppError::NotFound);
    }
    match (u.status, u.offered_until) {
        (SignupStatus::Offered, Some(until)) if until >= now_ms() => {}
        (SignupStatus::Offered, _) => return Err(AppError::Conflict("events.offer_lapsed")),
        _ => return Err(AppError::Conflict("events.not_now")),
    }
    query("UPDATE event_signups SET status = 'seated', offered_until = NULL, updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(c.id)
        .bind(signup_id)
        .execute(&mut tx)
        .await?;
    let out = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Offers whose time ran out are let pass: each goes, and its seat to the next waiting.
pub async fn lapse_offers(state: &AppState, now: i64) -> AppResult<usize> {
    let mut conn = state.db.span(crate::db::citus::Span::Maintenance).await?;
    let due: Vec<(i64, i64)> = query(
        "SELECT community_id, id FROM event_signups WHERE status = 'offered' AND offered_until < $1
         ORDER BY offered_until LIMIT 500",
    )
    .bind(now)
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    let mut n = 0;
    for (c, id) in due {
        let mut tx = state.db.begin().await?;
        let Some(u) = signup(&mut tx, c, id).await? else { continue };
        let (s, _) = take_session(&mut tx, c, u.session_id).await?;
        let u = signup(&mut tx, c, id).await?.ok_or(AppError::NotFound)?;
        if u.status == SignupStatus::Offered && u.offered_until.is_some_and(|t| t < now) {
            release(&mut tx, &s, &u).await?;
            offer_next(state, &mut tx, c, s.id, now).await?;
            tx.commit().await?;
            n += 1;
        }
    }
    Ok(n)
}

pub fn lapse_offers_job(state: &AppState, now: i64) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move { lapse_offers(state, now).await.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}")) })
}

/// What a check-in found: the sign-up, and whether it had been checked in before (then
/// when it was).
#[derive(Debug, Clone, Serialize)]
pub struct CheckIn {
    pub signup: Signup,
    pub already: bool,
}

/// How the door finds a sign-up: by the code shown (or scanned), or ticked on the roll.
pub enum Key<'a> {
    Code(&'a str),
    Signup(i64),
}

/// Checks a sign-up in at the door: once; a second scan says when it was.
pub async fn check_in(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    key: Key<'_>,
) -> AppResult<CheckIn> {
    guard::require(actor, c.id, Permission::HelpAtEvents)?;
    let mut tx = state.db.begin().await?;
    let found: Option<Signup> = match key {
        Key::Code(code) if code.trim().is_empty() => return Err(AppError::field("code", "validation.required")),
        Key::Code(code) => {
            query(format!("{SIGNUP} WHERE u.community_id = $1 AND u.code = $2"))
                .bind(c.id)
                .bind(code.trim())
                .fetch_optional(&mut tx)
                .await?
        }
        Key::Signup(id) => signup(&mut tx, c.id, id).await?,
    };
    let u = found.filter(|u| u.event_id == event_id).ok_or(AppError::field("code", "events.code_unknown"))?;
    let (s, e) = take_session(&mut tx, c.id, u.session_id).await?;
    if s.status == SessionStatus::Cancelled || e.status == EventStatus::Cancelled {
        return Err(AppError::Conflict("events.session_cancelled"));
    }
    if u.status != SignupStatus::Seated {
        return Err(AppError::Conflict("events.not_seated"));
    }
    let now = now_ms();
    let first = query(
        "UPDATE event_signups SET checked_in_at = $1, checked_in_by = $2, updated_at = $1
         WHERE community_id = $3 AND id = $4 AND checked_in_at IS NULL",
    )
    .bind(now)
    .bind(actor.user_id)
    .bind(c.id)
    .bind(u.id)
    .execute(&mut tx)
    .await?;
    let signup = signup(&mut tx, c.id, u.id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(CheckIn { signup, already: first == 0 })
}

/// The event a session belongs to (for pages that answer about a session).
pub async fn session_event(ex: &mut impl Exec, community_id: i64, session_id: i64) -> AppResult<i64> {
    query("SELECT event_id FROM event_sessions WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(session_id)
        .scalar_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// The event a sign-up belongs to.
pub async fn signup_event(ex: &mut impl Exec, community_id: i64, signup_id: i64) -> AppResult<i64> {
    query("SELECT event_id FROM event_signups WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(signup_id)
        .scalar_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// How many published sessions of the community are still to come (the home's badge).
pub async fn open_sessions(ex: &mut impl Exec, community_id: i64, now: i64) -> AppResult<i64> {
    Ok(query(
        "SELECT COUNT(*) FROM event_sessions s JOIN events e ON e.community_id = s.community_id AND e.id = s.event_id
         WHERE s.community_id = $1 AND s.status = 'scheduled' AND s.starts_at > $2 AND e.status = 'published'",
    )
    .bind(community_id)
    .bind(now)
    .scalar(ex)
    .await?)
}
