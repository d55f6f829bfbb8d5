//! Sign-ups: a seat while there is one, else a place in the queue; a freed seat offered to
//! the first waiting; and check-in at the door. Each takes its session's row first.

use super::{Event, Session, Signup, event, session_sql, signup};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Role;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::events::{Audience, SignupRole, SignupStatus, may_sign_up, overlaps, seat_free};
use crate::db::{Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::web::AppState;

/// Whom a sign-up is for: the signed-in person (to take part, or a volunteer to serve), or
/// someone without a phone that a grid worker or staff signs up by name.
pub enum Whom<'a> {
    Me,
    MeToServe,
    Other { name: &'a str },
}

/// The session's row and its event, the row taken until the transaction ends: sign-ups
/// to one session go one at a time.
pub(super) async fn take_session(tx: &mut Tx, community_id: i64, session_id: i64) -> AppResult<(Session, Event)> {
    let locked = query("UPDATE event_sessions SET taken = taken WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    if locked == 0 {
        return Err(AppError::NotFound);
    }
    let s: Session = query(session_sql("s.id = $2")).bind(community_id).bind(session_id).fetch_one(&mut *tx).await?;
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
    if let (Audience::Team, Some(u), Some(team)) = (e.audience, user, e.team_id) {
        let member: Option<i64> =
            query("SELECT user_id FROM team_members WHERE community_id = $1 AND team_id = $2 AND user_id = $3")
                .bind(community_id)
                .bind(team)
                .bind(u)
                .scalar_optional(&mut *tx)
                .await?;
        if member.is_none() {
            return Ok(Some("events.team_only"));
        }
    }
    if let (Audience::Invited, Some(u)) = (e.audience, user) {
        let invited: Option<i64> =
            query("SELECT user_id FROM event_invites WHERE community_id = $1 AND event_id = $2 AND user_id = $3")
                .bind(community_id)
                .bind(e.id)
                .bind(u)
                .scalar_optional(&mut *tx)
                .await?;
        if invited.is_none() {
            return Ok(Some("events.invited_only"));
        }
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

/// A sign-up about to be written.
struct NewSignup<'a> {
    user: Option<i64>,
    name: &'a str,
    household: Option<i64>,
    /// Who signed them up, when done on their behalf (or at the door).
    by: Option<i64>,
    status: SignupStatus,
    role: SignupRole,
    /// Came to the door without signing up: checked in as they are written.
    walk_in: bool,
}

/// Writes a sign-up with a fresh code (a code drawn twice in the community is drawn again).
async fn insert_signup(tx: &mut Tx, s: &Session, n: &NewSignup<'_>) -> AppResult<i64> {
    let id = tx.next_id().await?;
    let now = now_ms();
    for tries in 0.. {
        let sp = tx.savepoint().await?;
        let inserted = query(
            "INSERT INTO event_signups (community_id, id, event_id, session_id, user_id, name, household_id,
               signed_up_by, status, code, created_at, updated_at, role, walk_in, checked_in_at, checked_in_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15)",
        )
        .bind(s.community_id)
        .bind(id)
        .bind(s.event_id)
        .bind(s.id)
        .bind(n.user)
        .bind(n.name)
        .bind(n.household)
        .bind(n.by)
        .bind(n.status.as_str())
        .bind(crate::services::codes::eight_digits())
        .bind(now)
        .bind(n.role.as_str())
        .bind(n.walk_in)
        .bind(n.walk_in.then_some(now))
        .bind(n.by.filter(|_| n.walk_in))
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

/// Writes one who came to the door without signing up, seated and checked in.
pub(super) async fn insert_walk_in(tx: &mut Tx, s: &Session, name: &str, by: i64) -> AppResult<i64> {
    let n = NewSignup {
        user: None,
        name,
        household: None,
        by: Some(by),
        status: SignupStatus::Seated,
        role: SignupRole::Participant,
        walk_in: true,
    };
    insert_signup(tx, s, &n).await
}

/// Whether the actor is one of the community's volunteers (who may sign up to serve).
fn volunteers_in(actor: &Actor, community_id: i64) -> bool {
    actor.grants.iter().any(|g| g.role() == Role::Volunteer && g.community_id == Some(community_id))
}

/// Signs up for a session: a seat while there is one (exactly as many as it has), else a
/// place in the queue; where the organiser approves sign-ups, a request to approve first.
/// A volunteer signing up to serve takes none of the participants' seats. Answers the
/// sign-up.
pub async fn sign_up(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    session_id: i64,
    whom: Whom<'_>,
) -> AppResult<Signup> {
    let me = |role| NewSignup {
        user: Some(actor.user_id),
        name: &actor.display_name,
        household: actor.household_in(c.id),
        by: None,
        status: SignupStatus::Seated,
        role,
        walk_in: false,
    };
    let n = match whom {
        Whom::Me => me(SignupRole::Participant),
        Whom::MeToServe if volunteers_in(actor, c.id) => me(SignupRole::Volunteer),
        Whom::MeToServe => return Err(AppError::Conflict("events.volunteers_only")),
        Whom::Other { name } => {
            guard::require(actor, c.id, Permission::HelpAtEvents)?;
            let mut errors = Vec::new();
            crate::input::check_text(&mut errors, "name", name, 40, true);
            if !errors.is_empty() {
                return Err(AppError::Invalid(errors));
            }
            NewSignup {
                user: None,
                name: name.trim(),
                by: Some(actor.user_id),
                household: None,
                ..me(SignupRole::Participant)
            }
        }
    };
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id).await?;
    may_sign_up(e.status, s.status, s.starts_at, now_ms()).map_err(AppError::Conflict)?;
    if let Some(why) = refusal(&mut tx, c.id, &s, &e, n.user, n.household).await? {
        return Err(AppError::Conflict(why));
    }
    let status = if n.role == SignupRole::Volunteer {
        SignupStatus::Seated
    } else if e.needs_approval && n.by.is_none() {
        SignupStatus::Pending
    } else if take_seat(&mut tx, &s, n.by.is_some()).await? {
        SignupStatus::Seated
    } else {
        SignupStatus::Waiting
    };
    let id = insert_signup(&mut tx, &s, &NewSignup { status, ..n }).await?;
    let out = signup(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Takes one of a session's seats if one is free (held-back seats only on someone's
/// behalf); the session's row is already taken.
async fn take_seat(tx: &mut Tx, s: &Session, on_behalf: bool) -> AppResult<bool> {
    Ok(seat_free(s.capacity, s.held_back, s.taken, on_behalf)
        && query("UPDATE event_sessions SET taken = taken + 1 WHERE community_id = $1 AND id = $2")
            .bind(s.community_id)
            .bind(s.id)
            .execute(&mut *tx)
            .await?
            == 1)
}

/// The organiser approves a sign-up to the event (a seat if one is free, else the queue) or
/// declines it; its holder hears which.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    signup_id: i64,
    approve: bool,
) -> AppResult<Signup> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut tx = state.db.begin().await?;
    let u = signup(&mut tx, c.id, signup_id).await?.filter(|u| u.event_id == event_id).ok_or(AppError::NotFound)?;
    let (s, e) = take_session(&mut tx, c.id, u.session_id).await?;
    let u = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    if u.status != SignupStatus::Pending {
        return Err(AppError::Conflict("events.not_now"));
    }
    let status = match approve {
        false => SignupStatus::Cancelled,
        true if take_seat(&mut tx, &s, false).await? => SignupStatus::Seated,
        true => SignupStatus::Waiting,
    };
    query("UPDATE event_signups SET status = $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(status.as_str())
        .bind(now_ms())
        .bind(c.id)
        .bind(signup_id)
        .execute(&mut tx)
        .await?;
    if let Some(user) = u.user_id {
        let text = match status {
            SignupStatus::Seated => format!("「{}」{} 的报名已通过", e.title, crate::web::fmt::datetime(s.starts_at)),
            SignupStatus::Waiting => {
                format!("「{}」{} 的报名已通过，已满，正在候补", e.title, crate::web::fmt::datetime(s.starts_at))
            }
            _ => format!("「{}」{} 的报名未通过", e.title, crate::web::fmt::datetime(s.starts_at)),
        };
        let note = Note::new(c.id, Some(Subject { kind: "event", id: e.id }), "decided", text);
        notify::send(&mut tx, &state.bus, note, To::Users(vec![user])).await?;
    }
    let after = serde_json::json!({"status": status.as_str()});
    crate::services::audit::record(
        &mut tx,
        c.id,
        &crate::services::audit::By::from(actor),
        crate::services::audit::Action::Update,
        "event_signup",
        signup_id,
        None,
        Some(&after),
    )
    .await?;
    let out = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Offers the freed seats of a session to the first waiting, each for the event's claim
/// time; answers how many were offered.
pub(super) async fn offer_next(
    state: &AppState,
    tx: &mut Tx,
    community_id: i64,
    session_id: i64,
    now: i64,
) -> AppResult<usize> {
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
        query("UPDATE event_signups SET status = 'offered', offered_until = $1, promoted = TRUE, updated_at = $2 WHERE community_id = $3 AND id = $4")
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
    if u.status.holds_seat() && u.role == SignupRole::Participant {
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
