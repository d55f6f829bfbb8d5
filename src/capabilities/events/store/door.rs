//! The door 签到台: check-in by code, QR or the roll, each scan with its own key so that a
//! phone that was offline may send its queue again without counting anyone twice; walk-ins
//! written at the door; volunteers checking out; and participants' ratings afterwards.

use futures::future::BoxFuture;
use serde::Serialize;

use super::signups::take_session;
use super::{Signup, signup};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::events::{EventStatus, SessionStatus, SignupRole, SignupStatus, check_rating, seat_free};
use crate::db::group::{Batch, Committer};
use crate::db::{Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::web::AppState;

/// What a check-in found: the sign-up, and whether it had been checked in before (then
/// when it was).
#[derive(Debug, Clone, Serialize)]
pub struct CheckIn {
    pub signup: Signup,
    pub already: bool,
}

/// How the door finds a sign-up: by the code shown (or scanned), or ticked on the roll.
pub enum Key {
    Code(String),
    Signup(i64),
}

/// The answer given to a scan already seen: the check-in it made, or found made before.
async fn seen(tx: &mut Tx, community_id: i64, scan_key: &str) -> AppResult<Option<CheckIn>> {
    let found: Option<(i64, i64)> =
        query("SELECT signup_id, created_at FROM event_scans WHERE community_id = $1 AND scan_key = $2")
            .bind(community_id)
            .bind(scan_key)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((id, at)) = found else { return Ok(None) };
    let s = signup(&mut *tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    Ok(Some(CheckIn { already: s.checked_in_at != Some(at), signup: s }))
}

/// Checks a sign-up in at the door: once; a second scan says when it was. A scan sent
/// again with the same key answers as it did the first time. Check-ins are written through
/// a group commit (a festival's stations all scan at once): each is answered once on disk.
pub async fn check_in(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    key: Key,
    scan_key: Option<&str>,
) -> AppResult<CheckIn> {
    guard::require(actor, c.id, Permission::HelpAtEvents)?;
    let scan_key = scan_key.map(str::trim).filter(|k| !k.is_empty());
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "scan_key", scan_key.unwrap_or(""), crate::input::limits::KEY_LEN, false);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let key = match key {
        Key::Code(code) if code.trim().is_empty() => return Err(AppError::field("code", "validation.required")),
        Key::Code(code) => Key::Code(code.trim().to_string()),
        other => other,
    };
    let scan = Scan { community_id: c.id, event_id, key, scan_key: scan_key.map(String::from), by: actor.user_id };
    let committer = super::runtime(state)
        .check_ins
        .get_or_init(|| async { Committer::start(state.db.clone(), CheckIns, 500) })
        .await;
    committer.submit(scan).await
}

/// One scan waiting for the next commit.
pub struct Scan {
    community_id: i64,
    event_id: i64,
    key: Key,
    scan_key: Option<String>,
    by: i64,
}

/// Check-ins written together, each in its own savepoint (one refused leaves the others).
pub struct CheckIns;

impl Batch for CheckIns {
    type Item = Scan;
    type Out = CheckIn;

    fn write<'a>(&'a self, tx: &'a mut Tx, items: &'a [Scan]) -> BoxFuture<'a, AppResult<Vec<AppResult<CheckIn>>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(items.len());
            for scan in items {
                let sp = tx.savepoint().await?;
                match write_scan(tx, scan).await {
                    Ok(done) => {
                        tx.release(sp).await?;
                        out.push(Ok(done));
                    }
                    Err(e) => {
                        tx.rollback_to(sp).await?;
                        out.push(Err(e));
                    }
                }
            }
            Ok(out)
        })
    }
}

async fn write_scan(tx: &mut Tx, scan: &Scan) -> AppResult<CheckIn> {
    let c = scan.community_id;
    let id: Option<i64> = match &scan.key {
        Key::Code(code) => {
            query("SELECT id FROM event_signups WHERE community_id = $1 AND code = $2")
                .bind(c)
                .bind(code.clone())
                .scalar_optional(&mut *tx)
                .await?
        }
        Key::Signup(id) => Some(*id),
    };
    let unknown = || AppError::field("code", "events.code_unknown");
    // The sign-up's row is taken first: scans of one code (at two stations, or one sent
    // again) go one at a time.
    let id = id.ok_or_else(unknown)?;
    query("UPDATE event_signups SET updated_at = updated_at WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let u = signup(&mut *tx, c, id).await?.filter(|u| u.event_id == scan.event_id).ok_or_else(unknown)?;
    if let Some(k) = &scan.scan_key
        && let Some(answer) = seen(tx, c, k).await?
    {
        return Ok(answer);
    }
    // A called-off event's sessions are called off with it.
    if u.session_status == SessionStatus::Cancelled {
        return Err(AppError::Conflict("events.session_cancelled"));
    }
    if u.closed_at.is_some() {
        return Err(AppError::Conflict("events.already_closed"));
    }
    if u.status != SignupStatus::Seated {
        return Err(AppError::Conflict("events.not_seated"));
    }
    let now = now_ms();
    let first = query(
        "UPDATE event_signups SET checked_in_at = $1, checked_in_by = $2, no_show = FALSE, updated_at = $1
         WHERE community_id = $3 AND id = $4 AND checked_in_at IS NULL",
    )
    .bind(now)
    .bind(scan.by)
    .bind(c)
    .bind(u.id)
    .execute(&mut *tx)
    .await?;
    if let Some(k) = &scan.scan_key {
        query("INSERT INTO event_scans (community_id, scan_key, signup_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(c)
            .bind(k.clone())
            .bind(u.id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match crate::db::unique_violation_field(&e) {
                // The same key sent for another code at the same moment: one of them stands.
                Some(_) => AppError::field("scan_key", "events.scan_key_used"),
                None => e.into(),
            })?;
    }
    let mut signup = u;
    if first == 1 {
        signup.checked_in_at = Some(now);
        signup.no_show = false;
    }
    Ok(CheckIn { signup, already: first == 0 })
}

/// Writes someone who came to the door without signing up, checked in at once, into a seat
/// of the session (held-back seats too); refused when none is left.
pub async fn walk_in(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    session_id: i64,
    name: &str,
) -> AppResult<Signup> {
    guard::require(actor, c.id, Permission::HelpAtEvents)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "name", name, 40, true);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let (s, e) = take_session(&mut tx, c.id, session_id)
        .await
        .map_err(|_| AppError::field("session_id", "validation.reference"))?;
    if s.event_id != event_id {
        return Err(AppError::field("session_id", "validation.reference"));
    }
    if e.status != EventStatus::Published || s.status == SessionStatus::Cancelled || s.closed_at.is_some() {
        return Err(AppError::Conflict("events.session_cancelled"));
    }
    if !seat_free(s.capacity, s.held_back, s.taken, true) {
        return Err(AppError::Conflict("events.full"));
    }
    query("UPDATE event_sessions SET taken = taken + 1 WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(s.id)
        .execute(&mut tx)
        .await?;
    let id = super::signups::insert_walk_in(&mut tx, &s, name.trim(), actor.user_id).await?;
    let out = signup(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// A volunteer leaves the door: their check-out ends the hours they served.
pub async fn check_out(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    signup_id: i64,
) -> AppResult<Signup> {
    guard::require(actor, c.id, Permission::HelpAtEvents)?;
    let mut tx = state.db.begin().await?;
    let u = signup(&mut tx, c.id, signup_id).await?.filter(|u| u.event_id == event_id).ok_or(AppError::NotFound)?;
    if u.role != SignupRole::Volunteer
        || u.checked_in_at.is_none()
        || u.checked_out_at.is_some()
        || u.closed_at.is_some()
    {
        return Err(AppError::Conflict("events.not_now"));
    }
    query("UPDATE event_signups SET checked_out_at = $1, updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(c.id)
        .bind(signup_id)
        .execute(&mut tx)
        .await?;
    let out = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// One who came rates the session once it is over (1 to 5, a comment); rating again
/// replaces it.
pub async fn rate(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    signup_id: i64,
    stars: i64,
    comment: &str,
) -> AppResult<Signup> {
    let errors = check_rating(stars, comment);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let u = signup(&mut tx, c.id, signup_id)
        .await?
        .filter(|u| u.user_id == Some(actor.user_id))
        .ok_or(AppError::NotFound)?;
    if u.checked_in_at.is_none() || u.ends_at > now_ms() {
        return Err(AppError::Conflict("events.rate_after"));
    }
    query("UPDATE event_signups SET rating = $1, comment = $2, updated_at = $3 WHERE community_id = $4 AND id = $5")
        .bind(stars)
        .bind(Some(comment.trim()).filter(|t| !t.is_empty()))
        .bind(now_ms())
        .bind(c.id)
        .bind(signup_id)
        .execute(&mut tx)
        .await?;
    let out = signup(&mut tx, c.id, signup_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}
