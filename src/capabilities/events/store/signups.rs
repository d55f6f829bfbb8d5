//! Sign-ups: a seat while there is one, else a place in the queue; a freed seat offered to
//! the first waiting; and check-in at the door. Each takes its session's row first.

use serde::Serialize;

use super::{Event, SESSION, SIGNUP, Session, Signup, event, signup};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::events::{
    Audience, EventStatus, SessionStatus, SignupStatus, may_sign_up, overlaps, seat_free,
};
use crate::db::{Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::web::AppState;

/// Whom a sign-up is for: the signed-in person, or someone without a phone that a grid
/// worker or staff signs up by name.
pub enum Whom<'a> {
    Me,
    Other { name: &'a str },
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
        .bind(crate::services::codes::eight_digits())
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
        Whom::Me => (Some(actor.user_id), actor.display_name.clone(), actor.household_in(c.id), None),
        Whom::Other { name } => {
            guard::require(actor, c.id, Permission::HelpAtEvents)?;
            let mut errors = Vec::new();
            crate::input::check_text(&mut errors, "name", name, 40, true);
            if !errors.is_empty() {
                return Err(AppError::Invalid(errors));
            }
            (None, name.trim().to_string(), None, Some(actor.user_id))
        }
    };
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id).await?;
    may_sign_up(e.status, s.status, s.starts_at, now_ms()).map_err(AppError::Conflict)?;
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
