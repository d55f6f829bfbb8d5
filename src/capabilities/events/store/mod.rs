//! Events' queries: events and their sessions, sign-ups that race for exact seats (each
//! sign-up first takes its session's row, so sign-ups to one session go one at a time and
//! the queue keeps the order of arrival), offers from the waitlist, and check-in.

use serde::Serialize;
use serde_json::json;

use super::{
    Audience, EventKind, EventStatus, NewEvent, SessionPlan, SessionStatus, SignupRole, SignupStatus, check_event,
    check_session, next_status,
};
use crate::auth::accounts;
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::media;
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::web::AppState;

mod calendar;
mod door;

/// What events keep while the server runs: the door's group commit.
#[derive(Default)]
pub struct Runtime {
    check_ins: tokio::sync::OnceCell<crate::db::group::Committer<door::CheckIns>>,
}

pub fn runtime(state: &AppState) -> &Runtime {
    state.runtime::<std::sync::Arc<Runtime>>()
}
mod sessions;
mod signups;
pub use calendar::{
    FeedOf, Lines, feed, feed_person, feed_since, figure_lines, my_signups, new_feed_token, revoke_feed_token,
};
pub use door::{CheckIn, Key, check_in, check_out, rate, walk_in};
pub use sessions::{Closed, cancel_session, change_session, close_over_job, close_session, correct};
pub use signups::{Whom, claim, decide, lapse_offers, lapse_offers_job, leave, sign_up};

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
    pub needs_approval: bool,
    pub team_id: Option<i64>,
    pub report: Option<String>,
    pub attendance_rule: Option<String>,
}

const EVENT: &str = "SELECT community_id, id, kind, title, description, organiser, brand, audience, per_household,
    claim_hours, status, created_at, needs_approval, team_id, report, attendance_rule FROM events";

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
    pub rule: Option<String>,
    pub moved_from: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Sessions where `which` (on `s`, with the community as `$1` and one more parameter as
/// `$2`) holds, each with those waiting counted among its own sign-ups only (by the index
/// of a session's sign-ups, in a join that stays on the community's shard on Citus).
fn session_sql(which: &str) -> String {
    format!(
        "SELECT s.community_id, s.id, s.event_id, s.station_id, st.name AS station, s.starts_at, s.ends_at, s.capacity,
           s.held_back, s.taken, s.status, COALESCE(w.waiting, 0) AS waiting, s.rule, s.moved_from, s.closed_at
         FROM event_sessions s JOIN stations st ON st.community_id = s.community_id AND st.id = s.station_id
         LEFT JOIN (SELECT u.community_id, u.session_id, COUNT(*) AS waiting FROM event_signups u
                    JOIN event_sessions s ON s.community_id = u.community_id AND s.id = u.session_id
                    WHERE u.community_id = $1 AND {which} AND u.status = 'waiting'
                    GROUP BY u.community_id, u.session_id) w
           ON w.community_id = s.community_id AND w.session_id = s.id
         WHERE s.community_id = $1 AND {which}"
    )
}

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
    #[sqlx(try_from = "String")]
    pub role: SignupRole,
    pub walk_in: bool,
    pub checked_out_at: Option<i64>,
    pub no_show: bool,
    pub rating: Option<i64>,
    pub comment: Option<String>,
    /// The session's status (a called-off event's sessions are called off too).
    #[sqlx(try_from = "String")]
    pub session_status: SessionStatus,
    pub closed_at: Option<i64>,
}

const SIGNUP: &str = "SELECT u.community_id, u.id, u.event_id, u.session_id, u.user_id, u.name, u.household_id,
    u.signed_up_by, u.status, u.code, u.offered_until, u.checked_in_at, u.created_at, s.starts_at, s.ends_at,
    st.name AS station, e.title, u.role, u.walk_in, u.checked_out_at, u.no_show, u.rating, u.comment,
    s.status AS session_status, s.closed_at
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
    Ok(query(format!("{} ORDER BY s.starts_at, st.name, s.id", session_sql("s.event_id = $2")))
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

/// The community's teams (id, name), by name, for an event of one team.
pub async fn teams(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut list: Vec<(i64, String)> =
        query("SELECT id, name FROM teams WHERE community_id = $1 AND archived_at IS NULL")
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    list.sort_by(|a, b| crate::natural::cmp(&a.1, &b.1));
    Ok(list)
}

/// The community's bonus points rules in force (code, name with its points), for the
/// points those who come earn.
pub async fn attendance_rules(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(String, String)>> {
    let now = now_ms();
    Ok(crate::capabilities::points::store::all_rules(ex, community_id)
        .await?
        .into_iter()
        .filter(|r| r.kind == crate::capabilities::points::RuleKind::Bonus && r.in_force(now))
        .map(|r| (r.code, format!("{}（+{}）", r.name, r.points)))
        .collect())
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
    let team_id = if audience == Audience::Team { e.team_id } else { None };
    if let Some(t) = team_id
        && !teams(&mut tx, c.id).await?.iter().any(|(id, _)| *id == t)
    {
        return Err(AppError::field("team_id", "validation.reference"));
    }
    let rule = e.attendance_rule.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if let Some(code) = rule
        && !attendance_rules(&mut tx, c.id).await?.iter().any(|(c, _)| c == code)
    {
        return Err(AppError::field("attendance_rule", "validation.reference"));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO events (community_id, id, kind, title, description, organiser, brand, audience, per_household,
           claim_hours, status, created_by, created_at, updated_at, needs_approval, team_id, attendance_rule)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12, $12, $13, $14, $15)",
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
    .bind(e.needs_approval)
    .bind(team_id)
    .bind(rule)
    .execute(&mut tx)
    .await?;
    let after = json!({"title": e.title.trim(), "kind": kind.as_str(), "status": "draft"});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "event", id, None, Some(&after)).await?;
    let out = event(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Adds one session at each chosen station, all at the same time (a festival's stations
/// in one action), or, with a recurrence rule, a class's series at each (every start the
/// rule makes). Refused whole when a station is not the community's or the times or the
/// rule break a rule.
pub async fn add_sessions(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    station_ids: &[i64],
    plan: SessionPlan,
    rule: Option<&str>,
) -> AppResult<Vec<i64>> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let now = now_ms();
    let mut errors = check_session(&plan, now);
    if station_ids.is_empty() {
        errors.push(FieldError::new("station_ids", "validation.required"));
    }
    let starts = match rule.map(|r| super::series::starts(plan.starts_at, r)).transpose() {
        Ok(list) => list.unwrap_or_else(|| vec![plan.starts_at]),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
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
        for start in &starts {
            let id = tx.next_id().await?;
            query(
                "INSERT INTO event_sessions (community_id, id, event_id, station_id, starts_at, ends_at, capacity,
                   held_back, taken, status, created_at, rule)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'scheduled', $9, $10)",
            )
            .bind(c.id)
            .bind(id)
            .bind(event_id)
            .bind(*station)
            .bind(*start)
            .bind(*start + plan.ends_at - plan.starts_at)
            .bind(plan.capacity)
            .bind(plan.held_back)
            .bind(now)
            .bind(rule.map(str::trim))
            .execute(&mut tx)
            .await?;
            ids.push(id);
        }
    }
    let after = json!({"sessions": ids, "starts_at": plan.starts_at, "capacity": plan.capacity, "rule": rule});
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

/// A session on the month's calendar.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonthLine {
    pub event_id: i64,
    pub station_id: i64,
    pub title: String,
    pub station: String,
    pub starts_at: i64,
    #[sqlx(try_from = "String")]
    pub status: SessionStatus,
}

/// The sessions between `from` and `to` of the events the actor may see, by time.
pub async fn month(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<MonthLine>> {
    let drafts = if actor.can(community_id, Permission::ManageEvents) { "" } else { " AND e.status <> 'draft'" };
    Ok(query(format!(
        "SELECT s.event_id, s.station_id, e.title, st.name AS station, s.starts_at,
           CASE WHEN e.status = 'cancelled' THEN 'cancelled' ELSE s.status END AS status
         FROM event_sessions s
         JOIN events e ON e.community_id = s.community_id AND e.id = s.event_id
         JOIN stations st ON st.community_id = s.community_id AND st.id = s.station_id
         WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3{drafts}
         ORDER BY s.starts_at, s.id LIMIT 2000"
    ))
    .bind(community_id)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?)
}

/// Sign-ups waiting for the organiser's approval, oldest first.
pub async fn pending(ex: &mut impl Exec, community_id: i64, event_id: i64) -> AppResult<Vec<Signup>> {
    Ok(query(format!(
        "{SIGNUP} WHERE u.community_id = $1 AND u.event_id = $2 AND u.status = 'pending' ORDER BY u.id LIMIT 500"
    ))
    .bind(community_id)
    .bind(event_id)
    .fetch_all(ex)
    .await?)
}

/// Writes the event's minutes or short report (empty removes it), with photos of the day.
pub async fn set_report(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    text: &str,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<Event> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "report", text, 5000, false);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let before = event(&mut tx, c.id, event_id).await?.ok_or(AppError::NotFound)?;
    if before.status == EventStatus::Draft {
        return Err(AppError::Conflict("events.not_published"));
    }
    let report = Some(text.trim()).filter(|t| !t.is_empty());
    query("UPDATE events SET report = $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(report)
        .bind(now_ms())
        .bind(c.id)
        .bind(event_id)
        .execute(&mut tx)
        .await?;
    if !photos.is_empty() {
        media::attach(state, &mut tx, c.id, "event", event_id, Some(actor.user_id), photos).await?;
    }
    let (b, a) = (json!({"report": before.report}), json!({"report": report, "photos": photos.len()}));
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "event", event_id, Some(&b), Some(&a)).await?;
    let out = event(&mut tx, c.id, event_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// The community's events the public sees (published and finished), each with its first
/// session's start and last session's end.
pub async fn public_events(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(Event, i64, i64)>> {
    let list: Vec<Event> = query(format!(
        "{EVENT} WHERE community_id = $1 AND status IN ('published', 'finished') ORDER BY created_at DESC LIMIT 300"
    ))
    .bind(community_id)
    .fetch_all(&mut *ex)
    .await?;
    let spans: std::collections::HashMap<i64, (i64, i64)> = query(
        "SELECT event_id, MIN(starts_at), MAX(ends_at) FROM event_sessions WHERE community_id = $1 GROUP BY event_id",
    )
    .bind(community_id)
    .fetch_all::<(i64, i64, i64)>(ex)
    .await?
    .into_iter()
    .map(|(event, first, last)| (event, (first, last)))
    .collect();
    Ok(list.into_iter().filter_map(|e| spans.get(&e.id).map(|&(first, last)| (e, first, last))).collect())
}

/// A photo of an event is seen by those who may see the event.
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        media::seen(event_for(&mut conn, actor, m.community_id, m.owner_id).await)
    })
}

/// Invites people by their mobile numbers (one a line) to an event for those invited; each
/// hears of it. Refused naming `phones` when a number is not one, or is no account's (all
/// or nothing). Answers how many were newly invited.
pub async fn invite(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    phones: &str,
) -> AppResult<usize> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let numbers = accounts::phone_lines("phones", phones).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let e = event(&mut tx, c.id, event_id).await?.ok_or(AppError::NotFound)?;
    if e.audience != Audience::Invited || matches!(e.status, EventStatus::Cancelled | EventStatus::Finished) {
        return Err(AppError::Conflict("events.not_now"));
    }
    let users = accounts::by_phones(&mut tx, &state.pii, "phones", &numbers).await?;
    let now = now_ms();
    let mut new = Vec::new();
    for u in users {
        let known: Option<i64> =
            query("SELECT user_id FROM event_invites WHERE community_id = $1 AND event_id = $2 AND user_id = $3")
                .bind(c.id)
                .bind(event_id)
                .bind(u)
                .scalar_optional(&mut tx)
                .await?;
        if known.is_none() {
            query("INSERT INTO event_invites (community_id, event_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(c.id)
                .bind(event_id)
                .bind(u)
                .bind(actor.user_id)
                .bind(now)
                .execute(&mut tx)
                .await?;
            new.push(u);
        }
    }
    let note = Note::new(
        c.id,
        Some(Subject { kind: "event", id: event_id }),
        "invited",
        format!("您受邀参加「{}」，请点开报名", e.title),
    );
    notify::send(&mut tx, &state.bus, note, To::Users(new.clone())).await?;
    let after = json!({"invited": new.len()});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "event", event_id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(new.len())
}

/// How many are invited to an event.
pub async fn invited(ex: &mut impl Exec, community_id: i64, event_id: i64) -> AppResult<i64> {
    Ok(query("SELECT COUNT(*) FROM event_invites WHERE community_id = $1 AND event_id = $2")
        .bind(community_id)
        .bind(event_id)
        .scalar(ex)
        .await?)
}
