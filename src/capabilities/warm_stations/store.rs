//! A warm station's reads and writes: stations with their state, the roster (shifts, who
//! took them, check-in and check-out made service records), visits counted, and the job
//! that tells staff of a shift that will not be covered.

use chrono::Timelike;
use serde_json::json;

use super::{HOURS_OWNER, LiveState, ShiftPlan, VisitorKind, check_shift, may_check_in, may_serve, overlaps, served};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::points::{Source, store as points};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::hours::Hours;
use crate::services::notify::{self, Audience, Note, Subject};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Station {
    pub community_id: i64,
    pub id: i64,
    pub name: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub amenities: Option<String>,
    pub phone: Option<String>,
    pub live_state: Option<String>,
    pub live_at: Option<i64>,
    pub created_at: i64,
}

impl Station {
    pub fn amenities(&self) -> Vec<String> {
        crate::services::records::model::tags_from_column(self.amenities.as_deref().unwrap_or(""))
    }

    /// What the one on duty set today, if anything.
    pub fn set_today(&self) -> Option<LiveState> {
        let at = self.live_at?;
        (crate::time::day_of(at) == crate::web::fmt::today()).then_some(())?;
        LiveState::parse(self.live_state.as_deref()?)
    }
}

const STATION: &str = "SELECT community_id, id, name, address, lat, lng, amenities, phone, live_state, live_at, created_at FROM warm_stations";

pub async fn stations(ex: &mut impl Exec, community_ids: &[i64]) -> AppResult<Vec<Station>> {
    let mut b = Builder::new(STATION);
    b.push(" WHERE community_id IN ")
        .list(community_ids.iter().copied())
        .push(" AND archived_at IS NULL ORDER BY community_id, id");
    Ok(b.build().fetch_all(ex).await?)
}

pub async fn station(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Station>> {
    Ok(query(format!("{STATION} WHERE community_id = $1 AND id = $2 AND archived_at IS NULL"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The hours of stations of a community.
pub async fn hours_of(
    ex: &mut impl Exec,
    community_id: i64,
    ids: Option<&[i64]>,
) -> AppResult<std::collections::HashMap<i64, Hours>> {
    crate::services::hours::store::hours_of(ex, community_id, HOURS_OWNER, ids, crate::web::fmt::today()).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Shift {
    pub id: i64,
    pub station_id: i64,
    pub station: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub needed: i64,
    pub taken: i64,
}

const SHIFT: &str = "SELECT s.id, s.station_id, w.name AS station, s.starts_at, s.ends_at, s.needed, s.taken FROM duty_shifts s \
     JOIN warm_stations w ON w.community_id = s.community_id AND w.id = s.station_id";

/// The shifts of a community (or one station) ending after `from` and starting before `to`.
pub async fn shifts(
    ex: &mut impl Exec,
    community_id: i64,
    station: Option<i64>,
    from: i64,
    to: i64,
) -> AppResult<Vec<Shift>> {
    let mut b = Builder::new(SHIFT);
    b.push(" WHERE s.community_id = ").arg(community_id);
    if let Some(id) = station {
        b.push(" AND s.station_id = ").arg(id);
    }
    b.push(" AND s.ends_at > ").arg(from).push(" AND s.starts_at < ").arg(to).push(" ORDER BY s.starts_at, s.id");
    Ok(b.build().fetch_all(ex).await?)
}

/// One's place on a shift.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Place {
    pub id: i64,
    pub shift_id: i64,
    pub user_id: i64,
    pub name: String,
    pub checked_in_at: Option<i64>,
    pub checked_out_at: Option<i64>,
    pub service_record_id: Option<i64>,
}

/// Who holds places on these shifts.
pub async fn places(ex: &mut impl Exec, community_id: i64, shift_ids: &[i64]) -> AppResult<Vec<Place>> {
    let mut b = Builder::new(
        "SELECT d.id, d.shift_id, d.user_id, u.display_name AS name, d.checked_in_at, d.checked_out_at, d.service_record_id \
         FROM duty_signups d JOIN users u ON u.id = d.user_id WHERE d.community_id = ",
    );
    b.arg(community_id).push(" AND d.left_at IS NULL AND d.shift_id IN ").list(shift_ids.iter().copied());
    b.push(" ORDER BY d.shift_id, d.id");
    Ok(b.build().fetch_all(ex).await?)
}

/// Staff add a shift on each of `days` days from the one planned.
pub async fn add_shifts(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    station_id: i64,
    plan: ShiftPlan,
    days: i64,
) -> AppResult<Vec<i64>> {
    require(actor, c.id, Permission::ManageServices)?;
    let mut errors = check_shift(&plan, now_ms());
    if !(1..=14).contains(&days) {
        errors.push(FieldError::new("days", "validation.range").with("min", 1).with("max", 14));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    station(&mut tx, c.id, station_id).await?.ok_or(AppError::NotFound)?;
    let ids = tx.next_ids(days as usize).await?;
    for (i, id) in ids.iter().enumerate() {
        let shift = i as i64 * crate::time::DAY_MS;
        query(
            "INSERT INTO duty_shifts (community_id, id, station_id, starts_at, ends_at, needed, taken, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
        )
        .bind(c.id)
        .bind(*id)
        .bind(station_id)
        .bind(plan.starts_at + shift)
        .bind(plan.ends_at + shift)
        .bind(plan.needed)
        .bind(actor.user_id)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    }
    let after = json!({"shifts": ids, "starts_at": plan.starts_at, "ends_at": plan.ends_at, "needed": plan.needed});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "warm_station", station_id, None, Some(&after))
        .await?;
    tx.commit().await?;
    Ok(ids)
}

async fn shift_of(tx: &mut Tx, community_id: i64, id: i64) -> AppResult<Shift> {
    query(format!("{SHIFT} WHERE s.community_id = $1 AND s.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(tx)
        .await?
        .ok_or(AppError::NotFound)
}

/// Someone who may serve takes a place on a shift: one of the places left (exactly, when
/// two take the last), before it starts, and not while on another shift.
pub async fn take(state: &AppState, actor: &Actor, c: &CommunityRef, shift_id: i64) -> AppResult<()> {
    if !may_serve(actor, c.id) {
        return Err(AppError::Forbidden);
    }
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let s = shift_of(&mut tx, c.id, shift_id).await?;
    if s.starts_at <= now {
        return Err(AppError::Conflict("warm.shift_started"));
    }
    let mine: Vec<(i64, i64, i64, Option<i64>)> = query(
        "SELECT s.id, s.starts_at, s.ends_at, d.left_at FROM duty_signups d \
         JOIN duty_shifts s ON s.community_id = d.community_id AND s.id = d.shift_id \
         WHERE d.community_id = $1 AND d.user_id = $2 AND s.ends_at > $3 AND s.starts_at < $4",
    )
    .bind(c.id)
    .bind(actor.user_id)
    .bind(s.starts_at)
    .bind(s.ends_at)
    .fetch_all(&mut tx)
    .await?;
    if mine.iter().any(|m| m.0 == shift_id && m.3.is_none()) {
        return Err(AppError::Conflict("warm.already_taken"));
    }
    if let Some(other) =
        mine.iter().find(|m| m.0 != shift_id && m.3.is_none() && overlaps((m.1, m.2), (s.starts_at, s.ends_at)))
    {
        return Err(AppError::Invalid(vec![
            FieldError::new("shift_id", "warm.overlaps").with("time", crate::web::fmt::datetime(other.1)),
        ]));
    }
    let won = query("UPDATE duty_shifts SET taken = taken + 1 WHERE community_id = $1 AND id = $2 AND taken < needed")
        .bind(c.id)
        .bind(shift_id)
        .execute(&mut tx)
        .await?;
    if won == 0 {
        return Err(AppError::Conflict("warm.shift_full"));
    }
    if mine.iter().any(|m| m.0 == shift_id) {
        query("UPDATE duty_signups SET left_at = NULL WHERE community_id = $1 AND shift_id = $2 AND user_id = $3")
            .bind(c.id)
            .bind(shift_id)
            .bind(actor.user_id)
            .execute(&mut tx)
            .await?;
    } else {
        let id = tx.next_id().await?;
        query("INSERT INTO duty_signups (community_id, id, shift_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(c.id)
            .bind(id)
            .bind(shift_id)
            .bind(actor.user_id)
            .bind(now)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One gives their place up before the shift starts; the place is free again.
pub async fn leave(state: &AppState, actor: &Actor, c: &CommunityRef, shift_id: i64) -> AppResult<()> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let s = shift_of(&mut tx, c.id, shift_id).await?;
    if s.starts_at <= now {
        return Err(AppError::Conflict("warm.shift_started"));
    }
    let n = query("UPDATE duty_signups SET left_at = $1 WHERE community_id = $2 AND shift_id = $3 AND user_id = $4 AND left_at IS NULL")
        .bind(now)
        .bind(c.id)
        .bind(shift_id)
        .bind(actor.user_id)
        .execute(&mut tx)
        .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    query("UPDATE duty_shifts SET taken = taken - 1, alerted_at = NULL WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(shift_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn my_place(tx: &mut Tx, c: i64, shift_id: i64, user: i64) -> AppResult<Place> {
    query(
        "SELECT d.id, d.shift_id, d.user_id, u.display_name AS name, d.checked_in_at, d.checked_out_at, d.service_record_id \
         FROM duty_signups d JOIN users u ON u.id = d.user_id \
         WHERE d.community_id = $1 AND d.shift_id = $2 AND d.user_id = $3 AND d.left_at IS NULL",
    )
    .bind(c)
    .bind(shift_id)
    .bind(user)
    .fetch_optional(tx)
    .await?
    .ok_or(AppError::NotFound)
}

/// The one on duty checks in, from half an hour before the shift until it ends (again:
/// nothing changes).
pub async fn check_in(state: &AppState, actor: &Actor, c: &CommunityRef, shift_id: i64) -> AppResult<()> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let s = shift_of(&mut tx, c.id, shift_id).await?;
    let p = my_place(&mut tx, c.id, shift_id, actor.user_id).await?;
    if p.checked_in_at.is_some() {
        return Ok(());
    }
    if !may_check_in((s.starts_at, s.ends_at), now) {
        return Err(AppError::Conflict("warm.not_now"));
    }
    query("UPDATE duty_signups SET checked_in_at = $1 WHERE community_id = $2 AND id = $3 AND checked_in_at IS NULL")
        .bind(now)
        .bind(c.id)
        .bind(p.id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The one on duty checks out: the time served on the shift becomes a service record,
/// waiting for staff's approval like any other (for a registered volunteer; staff's own
/// duty is their work). Answers the record, if one was made.
pub async fn check_out(state: &AppState, actor: &Actor, c: &CommunityRef, shift_id: i64) -> AppResult<Option<i64>> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let s = shift_of(&mut tx, c.id, shift_id).await?;
    let p = my_place(&mut tx, c.id, shift_id, actor.user_id).await?;
    let Some(checked_in) = p.checked_in_at else { return Err(AppError::Conflict("warm.not_checked_in")) };
    if p.checked_out_at.is_some() {
        return Ok(p.service_record_id);
    }
    let n = query(
        "UPDATE duty_signups SET checked_out_at = $1 WHERE community_id = $2 AND id = $3 AND checked_out_at IS NULL",
    )
    .bind(now)
    .bind(c.id)
    .bind(p.id)
    .execute(&mut tx)
    .await?;
    if n == 0 {
        return Ok(None);
    }
    let record = match served((s.starts_at, s.ends_at), checked_in, now) {
        Some(span) => record_service(state, &mut tx, actor, c.id, &s, p.id, span).await?,
        None => None,
    };
    if let Some(id) = record {
        query("UPDATE duty_signups SET service_record_id = $1 WHERE community_id = $2 AND id = $3")
            .bind(id)
            .bind(c.id)
            .bind(p.id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(record)
}

async fn record_service(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    s: &Shift,
    place_id: i64,
    (start, end): (i64, i64),
) -> AppResult<Option<i64>> {
    let service = points::NewService {
        volunteer_id: None,
        team_id: None,
        service_type: "care".into(),
        content: format!("暖心驿站值守：{}", s.station),
        place: Some(s.station.clone()),
        started_at: Some(start),
        ended_at: Some(end),
        minutes: None,
    };
    let sp = tx.savepoint().await?;
    match points::record_service(state, tx, actor, community_id, &service, Source::Duty, Some(place_id), &[]).await {
        Ok(r) => {
            tx.release(sp).await?;
            Ok(Some(r.id))
        }
        // Not a registered volunteer, or the time already recorded otherwise: the duty
        // is kept, with no record.
        Err(AppError::Invalid(_) | AppError::Conflict(_)) => {
            tx.rollback_to(sp).await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Whether the actor may set the station's state and count its visitors now: staff, or
/// whoever is checked in on a shift of it going on.
async fn on_duty(ex: &mut impl Exec, actor: &Actor, community_id: i64, station_id: i64, now: i64) -> AppResult<bool> {
    if actor.can(community_id, Permission::ManageServices) {
        return Ok(true);
    }
    let n: i64 = query(
        "SELECT COUNT(*) FROM duty_signups d JOIN duty_shifts s ON s.community_id = d.community_id AND s.id = d.shift_id \
         WHERE d.community_id = $1 AND s.station_id = $2 AND d.user_id = $3 AND d.left_at IS NULL \
         AND d.checked_in_at IS NOT NULL AND d.checked_out_at IS NULL AND s.starts_at - 1800000 <= $4 AND s.ends_at > $4",
    )
    .bind(community_id)
    .bind(station_id)
    .bind(actor.user_id)
    .bind(now)
    .scalar(ex)
    .await?;
    Ok(n > 0)
}

/// The one on duty (or staff) says the station is open, closed or full, for today.
pub async fn set_state(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    station_id: i64,
    to: LiveState,
) -> AppResult<()> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    station(&mut tx, c.id, station_id).await?.ok_or(AppError::NotFound)?;
    if !on_duty(&mut tx, actor, c.id, station_id, now).await? {
        return Err(AppError::Forbidden);
    }
    query("UPDATE warm_stations SET live_state = $1, live_at = $2, live_by = $3 WHERE community_id = $4 AND id = $5")
        .bind(to.as_str())
        .bind(now)
        .bind(actor.user_id)
        .bind(c.id)
        .bind(station_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The one on duty (or staff) counts a visitor with one tap.
pub async fn count_visit(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    station_id: i64,
    kind: VisitorKind,
) -> AppResult<()> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    station(&mut tx, c.id, station_id).await?.ok_or(AppError::NotFound)?;
    if !on_duty(&mut tx, actor, c.id, station_id, now).await? {
        return Err(AppError::Forbidden);
    }
    let id = tx.next_id().await?;
    query("INSERT INTO station_visits (community_id, id, station_id, kind, at, counted_by) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(c.id)
        .bind(id)
        .bind(station_id)
        .bind(kind.as_str())
        .bind(now)
        .bind(actor.user_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// How many visitors a station counted since a time.
pub async fn visit_count(ex: &mut impl Exec, community_id: i64, station_id: i64, since: i64) -> AppResult<i64> {
    Ok(query("SELECT COUNT(*) FROM station_visits WHERE community_id = $1 AND station_id = $2 AND at >= $3")
        .bind(community_id)
        .bind(station_id)
        .bind(since)
        .scalar(ex)
        .await?)
}

/// Visits since a time: by China day and kind, and by hour of the day.
#[derive(Debug, Clone, Default)]
pub struct Visits {
    pub by_day: Vec<(chrono::NaiveDate, [i64; 4])>,
    pub by_hour: [i64; 24],
    pub total: i64,
}

pub async fn visits(ex: &mut impl Exec, community_id: i64, station_id: i64, since: i64) -> AppResult<Visits> {
    let rows: Vec<(String, i64)> = query(
        "SELECT kind, at FROM station_visits WHERE community_id = $1 AND station_id = $2 AND at >= $3 ORDER BY at",
    )
    .bind(community_id)
    .bind(station_id)
    .bind(since)
    .fetch_all(ex)
    .await?;
    let mut v = Visits::default();
    for (kind, at) in rows {
        let Some(k) = VisitorKind::parse(&kind) else { continue };
        let t = crate::web::fmt::to_cst(at);
        let day = t.date_naive();
        let i = VisitorKind::ALL.iter().position(|x| *x == k).unwrap_or(3);
        match v.by_day.last_mut() {
            Some((d, counts)) if *d == day => counts[i] += 1,
            _ => {
                let mut counts = [0; 4];
                counts[i] = 1;
                v.by_day.push((day, counts));
            }
        }
        v.by_hour[t.hour() as usize] += 1;
        v.total += 1;
    }
    Ok(v)
}

/// Every minute: shifts starting within 24 hours that still need people, told to the
/// community's staff once (again after someone gives a place up).
pub async fn uncovered(state: &AppState, now: i64) -> AppResult<usize> {
    let mut conn = state.db.span(crate::db::citus::Span::Maintenance).await?;
    let due: Vec<(i64, i64, i64, String, i64, i64, i64)> = query(
        "SELECT s.community_id, s.id, s.station_id, w.name, s.starts_at, s.needed, s.taken FROM duty_shifts s \
         JOIN warm_stations w ON w.community_id = s.community_id AND w.id = s.station_id \
         WHERE s.starts_at > $1 AND s.starts_at <= $2 AND s.taken < s.needed AND s.alerted_at IS NULL \
         ORDER BY s.starts_at LIMIT 200",
    )
    .bind(now)
    .bind(now + crate::time::DAY_MS)
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    for (community_id, id, station_id, station, starts_at, needed, taken) in &due {
        let mut tx = state.db.begin().await?;
        let n =
            query("UPDATE duty_shifts SET alerted_at = $1 WHERE community_id = $2 AND id = $3 AND alerted_at IS NULL")
                .bind(now)
                .bind(*community_id)
                .bind(*id)
                .execute(&mut tx)
                .await?;
        if n == 1 {
            let text =
                format!("{station} {} 的值班还差 {} 人，请安排", crate::web::fmt::datetime(*starts_at), needed - taken);
            for role in [Role::CommunityStaff, Role::CommunitySecretary] {
                let note = Note::new(
                    *community_id,
                    Some(Subject { kind: "warm_station", id: *station_id }),
                    "uncovered",
                    text.clone(),
                );
                notify::send(&mut tx, &state.bus, note, Audience::Role(role)).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(due.len())
}

pub fn uncovered_job(state: &AppState, now: i64) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        uncovered(state, now).await?;
        Ok(())
    })
}
