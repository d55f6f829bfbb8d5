//! One session by itself: moved (those signed up hear of it), its seats changed (no lower
//! than those taken; more seats go to the waiting), called off alone, and closed once over:
//! no-shows marked and the volunteers' hours recorded as service, in one transaction, once.

use serde::Serialize;
use serde_json::json;

use super::signups::{offer_next, take_session};
use super::{SIGNUP, Session, Signup};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::events::{
    EventStatus, SessionPlan, SessionStatus, SignupRole, SignupStatus, check_capacity, check_session, next_status,
    service_span,
};
use crate::capabilities::points::{Source, store as points};
use crate::db::{Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Action, By};
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::web::AppState;

/// Those holding or waiting for a place at a session, to tell them of a change.
async fn people(tx: &mut Tx, community_id: i64, session_id: i64) -> AppResult<Vec<i64>> {
    Ok(query(
        "SELECT user_id FROM event_signups WHERE community_id = $1 AND session_id = $2 AND status <> 'cancelled'
           AND user_id IS NOT NULL",
    )
    .bind(community_id)
    .bind(session_id)
    .scalars(&mut *tx)
    .await?)
}

/// Changes a session's time or seats. A new time must lie ahead (those signed up are told);
/// seats shrink no lower than those taken, and new seats go to the first waiting.
pub async fn change_session(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    session_id: i64,
    plan: SessionPlan,
) -> AppResult<Session> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id).await?;
    let open = matches!(e.status, EventStatus::Draft | EventStatus::Published);
    if !open || s.status == SessionStatus::Cancelled || s.closed_at.is_some() {
        return Err(AppError::Conflict("events.not_now"));
    }
    let moved = (plan.starts_at, plan.ends_at) != (s.starts_at, s.ends_at);
    let mut errors = check_capacity(plan.capacity, plan.held_back, s.taken);
    if moved {
        errors.extend(
            check_session(&plan, now_ms()).into_iter().filter(|e| e.field != "capacity" && e.field != "held_back"),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    query(
        "UPDATE event_sessions SET starts_at = $1, ends_at = $2, capacity = $3, held_back = $4,
           moved_from = CASE WHEN $5 THEN COALESCE(moved_from, starts_at) ELSE moved_from END
         WHERE community_id = $6 AND id = $7",
    )
    .bind(plan.starts_at)
    .bind(plan.ends_at)
    .bind(plan.capacity)
    .bind(plan.held_back)
    .bind(moved)
    .bind(c.id)
    .bind(session_id)
    .execute(&mut tx)
    .await?;
    if moved {
        let text = format!(
            "「{}」{} 的场次改到 {}（{}）",
            e.title,
            crate::web::fmt::datetime(s.starts_at),
            crate::web::fmt::datetime(plan.starts_at),
            s.station
        );
        let note = Note::new(c.id, Some(Subject { kind: "event", id: e.id }), "moved", text);
        let to = people(&mut tx, c.id, session_id).await?;
        notify::send(&mut tx, &state.bus, note, To::Users(to)).await?;
    }
    offer_next(state, &mut tx, c.id, session_id, now_ms()).await?;
    let before =
        json!({"starts_at": s.starts_at, "ends_at": s.ends_at, "capacity": s.capacity, "held_back": s.held_back});
    let after = json!({"starts_at": plan.starts_at, "ends_at": plan.ends_at, "capacity": plan.capacity,
        "held_back": plan.held_back});
    audit::record(
        &mut tx,
        c.id,
        &By::from(actor),
        Action::Update,
        "event_session",
        session_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    let (out, _) = take_session(&mut tx, c.id, session_id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Calls one session off (one class of a series): its sign-ups go and their holders are
/// told; the rest of the event stands.
pub async fn cancel_session(state: &AppState, actor: &Actor, c: &CommunityRef, session_id: i64) -> AppResult<Session> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id).await?;
    if s.status == SessionStatus::Cancelled || s.closed_at.is_some() {
        return Err(AppError::Conflict("events.not_now"));
    }
    let to = people(&mut tx, c.id, session_id).await?;
    let now = now_ms();
    query("UPDATE event_signups SET status = 'cancelled', updated_at = $1 WHERE community_id = $2 AND session_id = $3 AND status <> 'cancelled'")
        .bind(now)
        .bind(c.id)
        .bind(session_id)
        .execute(&mut tx)
        .await?;
    query("UPDATE event_sessions SET status = 'cancelled', taken = 0 WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(session_id)
        .execute(&mut tx)
        .await?;
    let text = format!(
        "「{}」{}（{}）这一场取消了，您的报名随之取消",
        e.title,
        crate::web::fmt::datetime(s.starts_at),
        s.station
    );
    let note = Note::new(c.id, Some(Subject { kind: "event", id: e.id }), "cancelled", text);
    notify::send(&mut tx, &state.bus, note, To::Users(to)).await?;
    let after = json!({"status": "cancelled"});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "event_session", session_id, None, Some(&after))
        .await?;
    let (out, _) = take_session(&mut tx, c.id, session_id).await?;
    tx.commit().await?;
    Ok(out)
}

/// What closing a session did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Closed {
    pub no_shows: usize,
    /// Service records made for the volunteers who served (waiting for approval).
    pub service_records: Vec<i64>,
    /// Participants who came and were given points by the community's attendance rule.
    pub points_given: usize,
    /// Whether the event is now finished (no session left open).
    pub finished: bool,
}

/// Closes a session that is over: those with a seat who never came are marked no-shows,
/// and each volunteer who checked in gets a service record (check-in to check-out, or the
/// session's hours) for the usual approval, traceable to their sign-up; the event is
/// finished when no session is left open. All in one transaction, once.
pub async fn close_session(
    state: &AppState,
    actor: Option<&Actor>,
    c: &CommunityRef,
    session_id: i64,
    now: i64,
) -> AppResult<Closed> {
    if let Some(a) = actor {
        guard::require(a, c.id, Permission::ManageEvents)?;
    }
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id).await?;
    if s.closed_at.is_some() || s.status == SessionStatus::Cancelled {
        return Err(AppError::Conflict("events.already_closed"));
    }
    if s.ends_at > now {
        return Err(AppError::Conflict("events.not_over"));
    }
    query("UPDATE event_sessions SET closed_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now)
        .bind(c.id)
        .bind(session_id)
        .execute(&mut tx)
        .await?;
    let no_shows = query(
        "UPDATE event_signups SET no_show = TRUE, updated_at = $1
         WHERE community_id = $2 AND session_id = $3 AND status = 'seated' AND checked_in_at IS NULL",
    )
    .bind(now)
    .bind(c.id)
    .bind(session_id)
    .execute(&mut tx)
    .await? as usize;
    let served: Vec<Signup> = query(format!(
        "{SIGNUP} WHERE u.community_id = $1 AND u.session_id = $2 AND u.role = $3 AND u.checked_in_at IS NOT NULL
           AND u.user_id IS NOT NULL ORDER BY u.id"
    ))
    .bind(c.id)
    .bind(session_id)
    .bind(SignupRole::Volunteer.as_str())
    .fetch_all(&mut tx)
    .await?;
    let mut service_records = Vec::new();
    for u in served {
        if let Some(id) = record_service(state, &mut tx, &s, &u).await? {
            service_records.push(id);
        }
    }
    let points_given = match &e.attendance_rule {
        Some(code) => attendance_points(&mut tx, &s, code, actor.map(|a| a.user_id), now).await?,
        None => 0,
    };
    let open: i64 = query(
        "SELECT COUNT(*) FROM event_sessions WHERE community_id = $1 AND event_id = $2 AND status = 'scheduled'
           AND closed_at IS NULL",
    )
    .bind(c.id)
    .bind(e.id)
    .scalar(&mut tx)
    .await?;
    let finished = next_status(e.status, EventStatus::Finished, open as usize).is_ok();
    if finished {
        query("UPDATE events SET status = 'finished', updated_at = $1 WHERE community_id = $2 AND id = $3")
            .bind(now)
            .bind(c.id)
            .bind(e.id)
            .execute(&mut tx)
            .await?;
    }
    let by = actor.map(By::from).unwrap_or_else(|| By::system("events: close"));
    let after = json!({"closed_at": now, "no_shows": no_shows, "service_records": service_records,
        "points_given": points_given, "finished": finished});
    audit::record(&mut tx, c.id, &by, Action::Update, "event_session", session_id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(Closed { no_shows, service_records, points_given, finished })
}

/// Points for each participant with an account who came, by the version in force of the
/// bonus rule the event names (none in force: none), each once (keyed by the sign-up), in
/// the close's transaction.
async fn attendance_points(tx: &mut Tx, s: &Session, code: &str, author: Option<i64>, now: i64) -> AppResult<usize> {
    use crate::capabilities::points::ledger::{Acct, Posting, post};
    use crate::capabilities::points::{Cause, RuleKind};
    let rules = points::all_rules(&mut *tx, s.community_id).await?;
    let Some(rule) = rules.iter().find(|r| r.code == code && r.kind == RuleKind::Bonus && r.in_force(now)) else {
        return Ok(0);
    };
    let came: Vec<(i64, i64, String)> = query(
        "SELECT u.id, u.user_id, e.title FROM event_signups u
           JOIN events e ON e.community_id = u.community_id AND e.id = u.event_id
         WHERE u.community_id = $1 AND u.session_id = $2 AND u.role = 'participant' AND u.status = 'seated'
           AND u.checked_in_at IS NOT NULL AND u.user_id IS NOT NULL ORDER BY u.id",
    )
    .bind(s.community_id)
    .bind(s.id)
    .fetch_all(&mut *tx)
    .await?;
    for (signup, user, title) in &came {
        let p = Posting {
            community_id: s.community_id,
            from: Acct::ISSUING,
            to: Acct::person(*user),
            amount: rule.points,
            cause: Cause::Bonus,
            cause_id: Some(*signup),
            rule_id: Some(rule.id),
            reason: Some(format!("参加活动：{title}")),
            author_id: author,
            key: format!("event-attendance:{signup}"),
        };
        post(tx, &p).await?;
    }
    Ok(came.len())
}

/// A volunteer's service at a session, as a record waiting for approval; none when they
/// are not (or no longer) a volunteer or a record of theirs already covers that time.
async fn record_service(state: &AppState, tx: &mut Tx, s: &Session, u: &Signup) -> AppResult<Option<i64>> {
    let (Some(user), Some(checked_in)) = (u.user_id, u.checked_in_at) else { return Ok(None) };
    let (start, end) = service_span((s.starts_at, s.ends_at), checked_in, u.checked_out_at);
    let volunteer = crate::auth::session::load_actor(&mut *tx, user, String::new(), u.name.clone()).await?;
    let service = points::NewService {
        volunteer_id: None,
        team_id: None,
        service_type: "event".into(),
        content: format!("活动志愿服务：{}", u.title),
        place: Some(s.station.clone()),
        started_at: Some(start),
        ended_at: Some(end),
        minutes: None,
    };
    let sp = tx.savepoint().await?;
    match points::record_service(state, tx, &volunteer, s.community_id, &service, Source::Event, Some(u.id), &[]).await
    {
        Ok(r) => {
            tx.release(sp).await?;
            Ok(Some(r.id))
        }
        Err(AppError::Invalid(_) | AppError::Conflict(_)) => {
            tx.rollback_to(sp).await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Sessions over for a day that nobody closed are closed by the platform.
pub async fn close_over(state: &AppState, now: i64) -> AppResult<usize> {
    let mut conn = state.db.span(crate::db::citus::Span::Maintenance).await?;
    let due: Vec<(i64, i64)> = query(
        "SELECT community_id, id FROM event_sessions WHERE status = 'scheduled' AND closed_at IS NULL AND ends_at < $1
         ORDER BY ends_at LIMIT 200",
    )
    .bind(now - crate::time::DAY_MS)
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    let mut n = 0;
    for (community_id, id) in due {
        let Some(c) = guard::community_by_id(&mut state.db.read().await?, community_id).await? else { continue };
        match close_session(state, None, &c, id, now).await {
            Ok(_) => n += 1,
            Err(AppError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

pub fn close_over_job(state: &AppState, now: i64) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move { close_over(state, now).await.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}")) })
}

/// Corrects one's attendance at the event after the session: came after all (checked in at
/// the session's start, no longer a no-show), or did not come after all.
pub async fn correct(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    signup_id: i64,
    present: bool,
) -> AppResult<Signup> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut tx = state.db.begin().await?;
    let u =
        super::signup(&mut tx, c.id, signup_id).await?.filter(|u| u.event_id == event_id).ok_or(AppError::NotFound)?;
    let (s, _) = take_session(&mut tx, c.id, u.session_id).await?;
    if u.status != SignupStatus::Seated || s.starts_at > now_ms() {
        return Err(AppError::Conflict("events.not_now"));
    }
    let (at, by) =
        if present { (Some(u.checked_in_at.unwrap_or(s.starts_at)), Some(actor.user_id)) } else { (None, None) };
    query(
        "UPDATE event_signups SET checked_in_at = $1, checked_in_by = $2, no_show = $3, updated_at = $4
         WHERE community_id = $5 AND id = $6",
    )
    .bind(at)
    .bind(by)
    .bind(!present && s.closed_at.is_some())
    .bind(now_ms())
    .bind(c.id)
    .bind(signup_id)
    .execute(&mut tx)
    .await?;
    let before = json!({"checked_in_at": u.checked_in_at, "no_show": u.no_show});
    let after = json!({"checked_in_at": at, "no_show": !present && s.closed_at.is_some()});
    audit::record(
        &mut tx,
        c.id,
        &By::from(actor),
        Action::Update,
        "event_signup",
        signup_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    let out = super::signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}
