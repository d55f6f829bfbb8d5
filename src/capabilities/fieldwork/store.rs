//! Patrols, their findings and field notes in the database. Every function takes the
//! community first and checks the actor: grid workers and staff do field work, and so do
//! the members of a team on its patrols; staff read everyone's field notes.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::{Source, store as points_store};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Patrol {
    pub community_id: i64,
    pub id: i64,
    pub user_id: i64,
    pub patroller: String,
    pub team_id: Option<i64>,
    pub team: Option<String>,
    pub grid_id: Option<i64>,
    pub grid: Option<String>,
    pub route: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub note: Option<String>,
}

const PATROL_SELECT: &str = "SELECT p.community_id, p.id, p.user_id, u.display_name AS patroller, p.team_id, t.name AS team, p.grid_id, g.name AS grid,
    p.route, p.started_at, p.ended_at, p.note
    FROM patrols p JOIN users u ON u.id = p.user_id
    LEFT JOIN teams t ON t.community_id = p.community_id AND t.id = p.team_id
    LEFT JOIN grids g ON g.community_id = p.community_id AND g.id = p.grid_id";

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Finding {
    pub id: i64,
    pub patrol_id: i64,
    pub at: i64,
    pub note: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub ticket_id: Option<i64>,
}

async fn on_team(ex: &mut impl Exec, community_id: i64, team_id: i64, user_id: i64) -> AppResult<bool> {
    let n: i64 = query("SELECT COUNT(*) FROM team_members WHERE community_id = $1 AND team_id = $2 AND user_id = $3")
        .bind(community_id)
        .bind(team_id)
        .bind(user_id)
        .scalar(ex)
        .await?;
    Ok(n > 0)
}

/// Whether the actor may patrol here: field workers, and members of the team named.
async fn may_patrol(ex: &mut impl Exec, actor: &Actor, community_id: i64, team_id: Option<i64>) -> AppResult<bool> {
    if actor.can(community_id, Permission::FieldWork) {
        return Ok(true);
    }
    match team_id {
        Some(t) => on_team(ex, community_id, t, actor.user_id).await,
        None => Ok(false),
    }
}

pub async fn patrol(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Patrol>> {
    Ok(query(format!("{PATROL_SELECT} WHERE p.community_id = $1 AND p.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A patrol as the actor may see it: their own, their team's, or any for staff.
pub async fn patrol_for(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<Patrol> {
    let p = patrol(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    let team = match p.team_id {
        Some(t) => on_team(ex, community_id, t, actor.user_id).await?,
        None => false,
    };
    if p.user_id == actor.user_id || team || actor.can(community_id, Permission::ReadFieldNotes) {
        Ok(p)
    } else {
        Err(AppError::NotFound)
    }
}

/// The actor's patrol still under way.
pub async fn open_patrol(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Option<Patrol>> {
    Ok(query(format!(
        "{PATROL_SELECT} WHERE p.community_id = $1 AND p.user_id = $2 AND p.ended_at IS NULL ORDER BY p.started_at DESC LIMIT 1"
    ))
    .bind(community_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await?)
}

/// The latest patrols the actor may see: their own and their teams'; all for staff.
pub async fn patrols(ex: &mut impl Exec, actor: &Actor, community_id: i64, limit: i64) -> AppResult<Vec<Patrol>> {
    let mut b = Builder::new(format!("{PATROL_SELECT} WHERE p.community_id = "));
    b.arg(community_id);
    if !actor.can(community_id, Permission::ReadFieldNotes) {
        b.push(" AND (p.user_id = ")
            .arg(actor.user_id)
            .push(" OR p.team_id IN (SELECT m.team_id FROM team_members m WHERE m.community_id = ")
            .arg(community_id)
            .push(" AND m.user_id = ")
            .arg(actor.user_id)
            .push("))");
    }
    b.push(&format!(" ORDER BY p.started_at DESC LIMIT {}", limit.clamp(1, 500)));
    Ok(b.build().fetch_all(ex).await?)
}

pub async fn findings(ex: &mut impl Exec, community_id: i64, patrol_id: i64) -> AppResult<Vec<Finding>> {
    Ok(query(
        "SELECT id, patrol_id, at, note, lat, lng, ticket_id FROM patrol_findings WHERE community_id = $1 AND patrol_id = $2 ORDER BY at",
    )
    .bind(community_id)
    .bind(patrol_id)
    .fetch_all(ex)
    .await?)
}

/// Starts a patrol (one at a time per person).
pub async fn start(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    team_id: Option<i64>,
    grid_id: Option<i64>,
    route: Option<String>,
) -> AppResult<Patrol> {
    let mut tx = state.db.begin().await?;
    if !may_patrol(&mut tx, actor, community_id, team_id).await? {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let mut errors = Vec::new();
    if let Some(t) = team_id {
        let ok: Option<i64> = query("SELECT id FROM teams WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
            .bind(community_id)
            .bind(t)
            .scalar_optional(&mut tx)
            .await?;
        if ok.is_none() {
            errors.push(FieldError::new("team_id", "validation.reference"));
        }
    }
    if let Some(g) = grid_id {
        let ok: Option<i64> = query("SELECT id FROM grids WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
            .bind(community_id)
            .bind(g)
            .scalar_optional(&mut tx)
            .await?;
        if ok.is_none() {
            errors.push(FieldError::new("grid_id", "validation.reference"));
        }
    }
    let route = route.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    if route.as_deref().is_some_and(|r| r.chars().count() > 200) {
        errors.push(FieldError::new("route", "validation.too_long").with("max", 200));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if open_patrol(&mut tx, community_id, actor.user_id).await?.is_some() {
        return Err(AppError::Conflict("fieldwork.patrol_open"));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO patrols (community_id, id, user_id, team_id, grid_id, route, started_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(community_id)
    .bind(id)
    .bind(actor.user_id)
    .bind(team_id)
    .bind(grid_id)
    .bind(route)
    .bind(now)
    .execute(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "patrol",
        id,
        None,
        Some(&json!({"team_id": team_id, "grid_id": grid_id})),
    )
    .await?;
    let p = patrol(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(p)
}

async fn own_open(tx: &mut Tx, actor: &Actor, community_id: i64, id: i64) -> AppResult<Patrol> {
    let p = patrol_for(tx, actor, community_id, id).await?;
    if p.user_id != actor.user_id {
        return Err(AppError::Forbidden);
    }
    if p.ended_at.is_some() {
        return Err(AppError::Conflict("fieldwork.patrol_ended"));
    }
    Ok(p)
}

/// Records what the patroller found.
pub async fn add_finding(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    patrol_id: i64,
    note: &str,
    point: Option<(f64, f64)>,
) -> AppResult<Finding> {
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "note", note, 500, true);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    own_open(&mut tx, actor, community_id, patrol_id).await?;
    let id = tx.next_id().await?;
    query("INSERT INTO patrol_findings (community_id, id, patrol_id, at, note, lat, lng) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(community_id)
        .bind(id)
        .bind(patrol_id)
        .bind(now_ms())
        .bind(note.trim())
        .bind(point.map(|p| p.0))
        .bind(point.map(|p| p.1))
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    let mut conn = state.db.read().await?;
    findings(&mut conn, community_id, patrol_id).await?.into_iter().find(|f| f.id == id).ok_or(AppError::NotFound)
}

/// Ends a patrol. A volunteer's patrol becomes a service record waiting for approval.
pub async fn end(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    note: Option<String>,
) -> AppResult<Patrol> {
    let mut tx = state.db.begin().await?;
    let p = own_open(&mut tx, actor, community_id, id).await?;
    let now = now_ms();
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    query("UPDATE patrols SET ended_at = $1, note = $2 WHERE community_id = $3 AND id = $4 AND ended_at IS NULL")
        .bind(now)
        .bind(note.clone())
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let minutes = (now - p.started_at) / crate::time::MINUTE_MS;
    if minutes >= 1 && points_store::volunteer_of(&mut tx, community_id, actor.user_id).await?.is_some() {
        let service = points_store::NewService {
            volunteer_id: None,
            team_id: p.team_id,
            service_type: "patrol".into(),
            content: format!("巡查{}", p.route.as_deref().map(|r| format!("：{r}")).unwrap_or_default()),
            place: p.grid.clone(),
            started_at: Some(p.started_at),
            ended_at: Some(now),
            minutes: Some(minutes),
        };
        // Another record already covering the time (entered by hand) is left as it is.
        let sp = tx.savepoint().await?;
        match points_store::record_service(state, &mut tx, actor, community_id, &service, Source::Patrol, Some(id), &[])
            .await
        {
            Ok(_) => tx.release(sp).await?,
            Err(AppError::Invalid(_)) => tx.rollback_to(sp).await?,
            Err(e) => return Err(e),
        }
    }
    let out = patrol(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Turns a finding into a ticket (once: a second tap answers the same ticket).
pub async fn finding_to_ticket(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    finding_id: i64,
    category_id: Option<i64>,
) -> AppResult<i64> {
    let mut conn = state.db.read().await?;
    let f: Option<(i64, String, Option<f64>, Option<f64>, Option<i64>)> =
        query("SELECT patrol_id, note, lat, lng, ticket_id FROM patrol_findings WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(finding_id)
            .fetch_optional(&mut conn)
            .await?;
    let (patrol_id, note, lat, lng, ticket) = f.ok_or(AppError::NotFound)?;
    let p = patrol_for(&mut conn, actor, community_id, patrol_id).await?;
    drop(conn);
    if let Some(t) = ticket {
        return Ok(t);
    }
    let new = crate::capabilities::tickets::store::NewTicket {
        category_id,
        description: note,
        channel: Some(crate::capabilities::tickets::Channel::Patrol),
        lat,
        lng,
        address: p.route.clone().or(p.grid.clone()),
        submitter_name: Some(actor.display_name.clone()),
        idempotency_key: Some(format!("finding:{finding_id}")),
        ..Default::default()
    };
    let (t, _) = crate::capabilities::tickets::store::submit(state, community_id, Some(actor), new, Vec::new()).await?;
    let mut tx = state.db.begin().await?;
    query("UPDATE patrol_findings SET ticket_id = $1 WHERE community_id = $2 AND id = $3 AND ticket_id IS NULL")
        .bind(t.id)
        .bind(community_id)
        .bind(finding_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(t.id)
}

/// The days a team (or a person) patrolled, for streaks.
pub async fn patrol_days(
    ex: &mut impl Exec,
    community_id: i64,
    team_id: Option<i64>,
    user_id: Option<i64>,
) -> AppResult<Vec<NaiveDate>> {
    let mut b = Builder::new("SELECT started_at FROM patrols WHERE community_id = ");
    b.arg(community_id);
    if let Some(t) = team_id {
        b.push(" AND team_id = ").arg(t);
    }
    if let Some(u) = user_id {
        b.push(" AND user_id = ").arg(u);
    }
    let times: Vec<i64> = b.build().scalars(ex).await?;
    let mut days: Vec<NaiveDate> = times.into_iter().map(crate::time::day_of).collect();
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// Each team that patrols, with its current and longest streak of days.
pub async fn team_streaks(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String, i64, i64, i64)>> {
    let teams: Vec<(i64, String)> = query(
        "SELECT DISTINCT t.id, t.name FROM patrols p JOIN teams t ON t.community_id = p.community_id AND t.id = p.team_id WHERE p.community_id = $1 ORDER BY t.name",
    )
    .bind(community_id)
    .fetch_all(&mut *ex)
    .await?;
    let today = crate::web::fmt::today();
    let mut out = Vec::new();
    for (id, name) in teams {
        let days = patrol_days(&mut *ex, community_id, Some(id), None).await?;
        let (current, longest) = super::streaks(&days, today);
        out.push((id, name, current, longest, days.len() as i64));
    }
    Ok(out)
}

// ---------- field notes ----------

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FieldNote {
    pub id: i64,
    pub user_id: i64,
    pub author: String,
    /// The author's post, if staff with one (`people::posts`).
    pub author_post: Option<String>,
    pub at: i64,
    pub household_id: Option<i64>,
    pub address: Option<String>,
    pub place: Option<String>,
    pub heard: String,
    pub follow_up: Option<String>,
}

/// One thing, one record: who heard what, where, and what is to follow.
pub async fn add_note(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    household_id: Option<i64>,
    place: Option<String>,
    heard: &str,
    follow_up: Option<String>,
) -> AppResult<FieldNote> {
    if !actor.can(community_id, Permission::FieldWork) {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let mut errors: Vec<FieldError> = Vec::new();
    crate::input::check_text(&mut errors, "heard", heard, 2000, true);
    let place = place.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let follow_up = follow_up.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    if place.as_deref().is_some_and(|p| p.chars().count() > 200) {
        errors.push(FieldError::new("place", "validation.too_long").with("max", 200));
    }
    if follow_up.as_deref().is_some_and(|p| p.chars().count() > 1000) {
        errors.push(FieldError::new("follow_up", "validation.too_long").with("max", 1000));
    }
    let mut tx = state.db.begin().await?;
    if let Some(h) = household_id {
        let grid: Option<Option<i64>> =
            query("SELECT grid_id FROM households WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                .bind(community_id)
                .bind(h)
                .scalar_optional(&mut tx)
                .await?;
        let reach = actor.access(community_id, Permission::ViewRegistry);
        if grid.is_none_or(|g| !reach.covers(g, Some(h))) {
            errors.push(FieldError::new("household_id", "validation.reference"));
        }
    }
    if household_id.is_none() && place.is_none() {
        errors.push(FieldError::new("place", "fieldwork.where"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO field_notes (community_id, id, user_id, at, household_id, place, heard, follow_up, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $4)",
    )
    .bind(community_id)
    .bind(id)
    .bind(actor.user_id)
    .bind(now)
    .bind(household_id)
    .bind(place)
    .bind(heard.trim())
    .bind(follow_up)
    .execute(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "field_note",
        id,
        None,
        Some(&json!({"household_id": household_id})),
    )
    .await?;
    tx.commit().await?;
    let day = crate::time::day_of(now);
    notes_of_day(&mut state.db.read().await?, actor, community_id, day)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or(AppError::NotFound)
}

/// The field notes of a day: everyone's for staff, the actor's own for others.
pub async fn notes_of_day(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
    day: NaiveDate,
) -> AppResult<Vec<FieldNote>> {
    if !actor.can(community_id, Permission::FieldWork) && !actor.can(community_id, Permission::ReadFieldNotes) {
        return Err(AppError::NotFound);
    }
    let from = crate::time::day_start_ms(day);
    let mut b = Builder::new(
        "SELECT n.id, n.user_id, u.display_name AS author, u.post AS author_post, n.at, n.household_id, h.address, n.place, n.heard, n.follow_up
         FROM field_notes n JOIN users u ON u.id = n.user_id
         LEFT JOIN households h ON h.community_id = n.community_id AND h.id = n.household_id
         WHERE n.community_id = ",
    );
    b.arg(community_id).push(" AND n.at >= ").arg(from).push(" AND n.at < ").arg(from + crate::time::DAY_MS);
    if !actor.can(community_id, Permission::ReadFieldNotes) {
        b.push(" AND n.user_id = ").arg(actor.user_id);
    }
    b.push(" ORDER BY n.at");
    Ok(b.build().fetch_all(ex).await?)
}

/// How many notes each of the last days has (for the day picker).
pub async fn note_days(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
    days: i64,
) -> AppResult<Vec<(NaiveDate, i64)>> {
    let today = crate::web::fmt::today();
    let from = crate::time::day_start_ms(today - chrono::Duration::days(days - 1));
    let mut b = Builder::new("SELECT at FROM field_notes WHERE community_id = ");
    b.arg(community_id).push(" AND at >= ").arg(from);
    if !actor.can(community_id, Permission::ReadFieldNotes) {
        b.push(" AND user_id = ").arg(actor.user_id);
    }
    let times: Vec<i64> = b.build().scalars(ex).await?;
    let mut counts: std::collections::BTreeMap<NaiveDate, i64> = std::collections::BTreeMap::new();
    for t in times {
        *counts.entry(crate::time::day_of(t)).or_default() += 1;
    }
    Ok(counts.into_iter().rev().collect())
}
