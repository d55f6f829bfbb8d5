//! Volunteers, service records, rules, the shop, the honor roll and certificates in the
//! database. Every function takes the community first and checks the actor where the
//! data is read or written: outside their reach, a record does not exist.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;

use super::ledger::{self, Acct, Posting};
use super::{AccountKind, Cause, Offer, Period, RedemptionStatus, Rule, RuleKind, Source};
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::{self, check_text, limits};
use crate::services::audit::{self, Action, By};
use crate::services::media;
use crate::services::notify;
use crate::web::AppState;

/// The points capability's process-wide parts.
#[derive(Default)]
pub struct Runtime {
    pub postings: crate::services::ledger::store::Grouped<ledger::Points>,
}

// ---------- volunteers ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Volunteer {
    pub community_id: i64,
    pub id: i64,
    pub user_id: i64,
    pub number: String,
    pub name: String,
    pub resident_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub id_number_masked: Option<String>,
    pub skills: String,
    pub availability: Option<String>,
    pub show_name: bool,
    pub joined_at: i64,
    pub archived_at: Option<i64>,
}

impl Volunteer {
    pub fn skills(&self) -> Vec<String> {
        crate::services::records::model::tags_from_column(&self.skills)
    }
}

const VOLUNTEER_COLUMNS: &str = "community_id, id, user_id, number, name, resident_id, grid_id, id_number_masked, skills, availability, show_name, joined_at, archived_at";

pub async fn volunteer_of(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Option<Volunteer>> {
    Ok(query(format!("SELECT {VOLUNTEER_COLUMNS} FROM volunteers WHERE community_id = $1 AND user_id = $2"))
        .bind(community_id)
        .bind(user_id)
        .fetch_optional(ex)
        .await?)
}

pub async fn volunteer(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Volunteer>> {
    Ok(query(format!("SELECT {VOLUNTEER_COLUMNS} FROM volunteers WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A volunteer as the actor may see them: themselves, or anyone for staff.
pub async fn volunteer_for(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<Volunteer> {
    let v = volunteer(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if v.user_id == actor.user_id || actor.can(community_id, Permission::ManagePoints) {
        Ok(v)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn volunteers(ex: &mut impl Exec, actor: &Actor, community_id: i64, q: &str) -> AppResult<Vec<Volunteer>> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    let mut b = Builder::new(format!("SELECT {VOLUNTEER_COLUMNS} FROM volunteers WHERE community_id = "));
    b.arg(community_id).push(" AND archived_at IS NULL");
    if !q.trim().is_empty() {
        b.push(" AND (name LIKE ")
            .arg(format!("%{}%", crate::db::escape_like(q.trim())))
            .push(" ESCAPE '\\' OR number = ")
            .arg(q.trim())
            .push(")");
    }
    b.push(" ORDER BY number LIMIT 500");
    Ok(b.build().fetch_all(ex).await?)
}

/// What a volunteer registers with.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub name: String,
    pub id_number: Option<String>,
    pub skills: Vec<String>,
    pub availability: Option<String>,
    pub show_name: bool,
}

fn check_registration(r: &Registration) -> Result<Option<String>, Vec<FieldError>> {
    let mut e = Vec::new();
    check_text(&mut e, "name", &r.name, 40, true);
    check_text(&mut e, "availability", r.availability.as_deref().unwrap_or(""), 200, false);
    if r.skills.len() > 20 || r.skills.iter().any(|s| s.chars().count() > 20) {
        e.push(FieldError::new("skills", "validation.too_long").with("max", 20));
    }
    let id = match r.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => match crate::services::pii::normalize_id_number(raw) {
            Ok(id) => Some(id),
            Err(key) => {
                e.push(FieldError::new("id_number", key));
                None
            }
        },
        None => None,
    };
    if e.is_empty() { Ok(id) } else { Err(e) }
}

/// The community's next volunteer number (a counter, so sign-ups at the same moment get
/// different numbers; it starts after the highest number the volunteers already hold).
async fn next_volunteer_number(tx: &mut Tx, community: &CommunityRef) -> AppResult<String> {
    // Zero-padded, so text order is number order below 100,000 (the counter goes on from there).
    let highest: Option<String> =
        query("SELECT MAX(number) FROM volunteers WHERE community_id = $1").bind(community.id).scalar(&mut *tx).await?;
    let seq = highest.and_then(|n| n.rsplit('-').next().and_then(|s| s.parse::<i64>().ok())).unwrap_or(0);
    Ok(super::volunteer_number(&community.code, tx.next_number(community.id, "volunteer", seq).await?))
}

/// Writes the volunteer record for a user (and the volunteer role, if they lack it), with
/// its number when already taken (`next_volunteer_number`).
#[allow(clippy::too_many_arguments)]
async fn insert_volunteer(
    tx: &mut Tx,
    state: &AppState,
    community: &CommunityRef,
    user_id: i64,
    r: &Registration,
    id_number: Option<String>,
    number: Option<String>,
    by: &By,
) -> AppResult<Volunteer> {
    if volunteer_of(tx, community.id, user_id).await?.is_some() {
        return Err(AppError::Conflict("points.already_volunteer"));
    }
    // A resident of this community brings their grid along.
    let resident: Option<(Option<i64>, Option<i64>)> =
        query("SELECT u.resident_id, r.grid_id FROM users u LEFT JOIN residents r ON r.community_id = u.community_id AND r.id = u.resident_id WHERE u.id = $1 AND u.community_id = $2")
            .bind(user_id)
            .bind(community.id)
            .fetch_optional(tx)
            .await?;
    let (resident_id, grid_id) = resident.unwrap_or((None, None));
    let number = match number {
        Some(n) => n,
        None => next_volunteer_number(tx, community).await?,
    };
    let id = tx.next_id().await?;
    let now = now_ms();
    let sealed = id_number.as_deref().map(|n| state.pii.seal_id_number(n));
    query(
        "INSERT INTO volunteers (community_id, id, user_id, number, name, resident_id, grid_id, id_number_enc, id_number_hash, id_number_masked,
                                 skills, availability, show_name, joined_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $14)",
    )
    .bind(community.id)
    .bind(id)
    .bind(user_id)
    .bind(number.as_str())
    .bind(r.name.trim())
    .bind(resident_id)
    .bind(grid_id)
    .bind(sealed.as_ref().map(|s| s.enc.clone()))
    .bind(sealed.as_ref().map(|s| s.hash.clone()))
    .bind(sealed.as_ref().map(|s| s.masked.clone()))
    .bind(crate::services::records::model::tags_to_column(&r.skills))
    .bind(r.availability.clone().filter(|a| !a.trim().is_empty()))
    .bind(r.show_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let has_role: i64 =
        query("SELECT COUNT(*) FROM grants WHERE user_id = $1 AND role = 'volunteer' AND community_id = $2")
            .bind(user_id)
            .bind(community.id)
            .scalar(&mut *tx)
            .await?;
    if has_role == 0 {
        crate::capabilities::registry::people::users::insert_grant(
            tx,
            user_id,
            &Grant::community(Role::Volunteer, community.id),
        )
        .await?;
    }
    let after = json!({"number": number, "name": r.name.trim(), "skills": r.skills, "show_name": r.show_name,
        "id_number": sealed.as_ref().map(|s| s.masked.clone())});
    audit::record(tx, community.id, by, Action::Create, "volunteer", id, None, Some(&after)).await?;
    volunteer(tx, community.id, id).await?.ok_or(AppError::NotFound)
}

/// The signed-in user joins the community's volunteer service.
pub async fn register_self(
    state: &AppState,
    actor: &Actor,
    community: &CommunityRef,
    r: Registration,
) -> AppResult<Volunteer> {
    let id_number = check_registration(&r).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let v = insert_volunteer(&mut tx, state, community, actor.user_id, &r, id_number, None, &By::from(actor)).await?;
    tx.commit().await?;
    Ok(v)
}

/// Someone without an account signs up (or staff sign them up): the account, whose mobile
/// number signs them in, and the volunteer record, together or not at all.
pub async fn sign_up(
    state: &AppState,
    staff: Option<&Actor>,
    community: &CommunityRef,
    r: Registration,
    phone: &str,
    password: &str,
) -> AppResult<Volunteer> {
    if let Some(a) = staff {
        guard::require(a, community.id, Permission::ManagePoints)?;
    }
    let mut errors = Vec::new();
    let id_number = match check_registration(&r) {
        Ok(id) => id,
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let normalized = match crate::services::pii::normalize_phone(phone) {
        Ok(p) => Some(p),
        Err(key) => {
            errors.push(FieldError::new("phone", key));
            None
        }
    };
    let mut new = crate::capabilities::registry::people::users::NewUser {
        // The account's name comes with its volunteer number below; people sign in with
        // their mobile number, which is never a name (`people::users::check_username`).
        username: "volunteer".into(),
        display_name: r.name.trim().to_string(),
        password: password.to_string(),
        phone: normalized.clone(),
        grants: vec![Grant::community(Role::Volunteer, community.id)],
        ..Default::default()
    };
    if let Err(e) = crate::auth::password::check_strength("password", password) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let checked = crate::capabilities::registry::people::users::check(None, &new).await?;
    let by = staff.map(By::from).unwrap_or_else(|| By::system("volunteer sign-up"));
    let mut tx = state.db.begin().await?;
    let number = next_volunteer_number(&mut tx, community).await?;
    new.username = format!("v{number}");
    let user_id = crate::capabilities::registry::people::users::create_in(&mut tx, &state.pii, &by, &new, checked)
        .await
        .map_err(|e| match e {
            // A mobile number holds one account: taken means already signed up.
            AppError::Invalid(f) if f.iter().any(|f| f.field == "phone") => {
                AppError::Invalid(vec![FieldError::new("phone", "points.phone_taken")])
            }
            other => other,
        })?;
    let v = insert_volunteer(&mut tx, state, community, user_id, &r, id_number, Some(number), &by).await?;
    tx.commit().await?;
    Ok(v)
}

/// Changes what a volunteer offers (themselves, or staff).
pub async fn update_volunteer(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    skills: Vec<String>,
    availability: Option<String>,
    show_name: bool,
) -> AppResult<Volunteer> {
    let mut tx = state.db.begin().await?;
    let before = volunteer_for(&mut tx, actor, community_id, id).await?;
    let r = Registration {
        name: before.name.clone(),
        skills: skills.clone(),
        availability: availability.clone(),
        show_name,
        ..Default::default()
    };
    check_registration(&r).map_err(AppError::Invalid)?;
    query("UPDATE volunteers SET skills = $1, availability = $2, show_name = $3, updated_at = $4 WHERE community_id = $5 AND id = $6")
        .bind(crate::services::records::model::tags_to_column(&skills))
        .bind(availability.filter(|a| !a.trim().is_empty()))
        .bind(show_name)
        .bind(now_ms())
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let old = json!({"skills": before.skills(), "availability": before.availability, "show_name": before.show_name});
    let after_v = volunteer(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    let new = json!({"skills": after_v.skills(), "availability": after_v.availability, "show_name": after_v.show_name});
    audit::record(&mut tx, community_id, &By::from(actor), Action::Update, "volunteer", id, Some(&old), Some(&new))
        .await?;
    tx.commit().await?;
    Ok(after_v)
}

// ---------- teams ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Membership {
    pub team_id: i64,
    pub team: String,
    pub user_id: i64,
    pub name: String,
    pub leader: bool,
    pub joined_at: i64,
}

const MEMBERSHIP: &str = "SELECT m.team_id, t.name AS team, m.user_id, u.display_name AS name, m.leader, m.joined_at
    FROM team_members m JOIN teams t ON t.community_id = m.community_id AND t.id = m.team_id JOIN users u ON u.id = m.user_id";

pub async fn teams_of(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<Membership>> {
    Ok(query(format!("{MEMBERSHIP} WHERE m.community_id = $1 AND m.user_id = $2 ORDER BY t.name"))
        .bind(community_id)
        .bind(user_id)
        .fetch_all(ex)
        .await?)
}

pub async fn members(ex: &mut impl Exec, community_id: i64, team_id: i64) -> AppResult<Vec<Membership>> {
    Ok(query(format!(
        "{MEMBERSHIP} WHERE m.community_id = $1 AND m.team_id = $2 ORDER BY m.leader DESC, u.display_name"
    ))
    .bind(community_id)
    .bind(team_id)
    .fetch_all(ex)
    .await?)
}

/// The community's teams (id, name).
pub async fn teams(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(query("SELECT id, name FROM teams WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// Joins or leaves a team: a volunteer for themselves, staff for anyone (and only staff
/// name leaders).
pub async fn set_membership(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    team_id: i64,
    user_id: i64,
    member: bool,
    leader: bool,
) -> AppResult<()> {
    let staff = actor.can(community_id, Permission::ManagePoints);
    if !staff && (user_id != actor.user_id || leader) {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let mut tx = state.db.begin().await?;
    let team: Option<String> =
        query("SELECT name FROM teams WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
            .bind(community_id)
            .bind(team_id)
            .scalar_optional(&mut tx)
            .await?;
    if team.is_none() {
        return Err(AppError::field("team_id", "validation.reference"));
    }
    if volunteer_of(&mut tx, community_id, user_id).await?.is_none() {
        return Err(AppError::Conflict("points.not_volunteer"));
    }
    let by = By::from(actor);
    if member {
        query(
            "INSERT INTO team_members (community_id, team_id, user_id, leader, joined_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (community_id, team_id, user_id) DO UPDATE SET leader = excluded.leader",
        )
        .bind(community_id)
        .bind(team_id)
        .bind(user_id)
        .bind(leader)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
        let after = json!({"user_id": user_id, "leader": leader});
        audit::record(&mut tx, community_id, &by, Action::Update, "team", team_id, None, Some(&after)).await?;
    } else {
        query("DELETE FROM team_members WHERE community_id = $1 AND team_id = $2 AND user_id = $3")
            .bind(community_id)
            .bind(team_id)
            .bind(user_id)
            .execute(&mut tx)
            .await?;
        let before = json!({"user_id": user_id});
        audit::record(&mut tx, community_id, &by, Action::Update, "team", team_id, Some(&before), None).await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---------- service records ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ServiceRecord {
    pub community_id: i64,
    pub id: i64,
    pub volunteer_id: i64,
    pub user_id: i64,
    pub volunteer_name: String,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub service_type: String,
    pub content: String,
    pub place: Option<String>,
    pub started_at: i64,
    pub ended_at: i64,
    pub minutes: i64,
    pub source: String,
    pub source_id: Option<i64>,
    pub status: String,
    pub reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub points: Option<i64>,
    pub created_at: i64,
}

const RECORD_SELECT: &str =
    "SELECT s.community_id, s.id, s.volunteer_id, s.user_id, v.name AS volunteer_name, s.team_id, t.name AS team_name,
    s.service_type, s.content, s.place, s.started_at, s.ended_at, s.minutes, s.source, s.source_id, s.status, s.reason,
    s.decided_by, s.decided_at, s.points, s.created_at
    FROM service_records s JOIN volunteers v ON v.community_id = s.community_id AND v.id = s.volunteer_id
    LEFT JOIN teams t ON t.community_id = s.community_id AND t.id = s.team_id";

pub async fn record(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<ServiceRecord>> {
    Ok(query(format!("{RECORD_SELECT} WHERE s.community_id = $1 AND s.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A record as the actor may see it: their own, or any for staff.
pub async fn record_for(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<ServiceRecord> {
    let r = record(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if r.user_id == actor.user_id || actor.can(community_id, Permission::ManagePoints) {
        Ok(r)
    } else {
        Err(AppError::NotFound)
    }
}

/// Which records a list shows.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub user_id: Option<i64>,
    pub status: Option<String>,
    pub team_id: Option<i64>,
}

/// Records, newest service first: a volunteer sees their own; staff all.
pub async fn records(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
    f: &RecordFilter,
    limit: i64,
) -> AppResult<Vec<ServiceRecord>> {
    let own = f.user_id == Some(actor.user_id);
    if !own {
        guard::require(actor, community_id, Permission::ManagePoints)?;
    }
    let mut b = Builder::new(format!("{RECORD_SELECT} WHERE s.community_id = "));
    b.arg(community_id);
    if let Some(u) = f.user_id {
        b.push(" AND s.user_id = ").arg(u);
    }
    if let Some(st) = f.status.as_deref().filter(|s| !s.is_empty()) {
        b.push(" AND s.status = ").arg(st);
    }
    if let Some(t) = f.team_id {
        b.push(" AND s.team_id = ").arg(t);
    }
    b.push(&format!(" ORDER BY s.started_at DESC, s.id DESC LIMIT {}", limit.clamp(1, 1000)));
    Ok(b.build().fetch_all(ex).await?)
}

/// A service to record.
#[derive(Debug, Clone, Default)]
pub struct NewService {
    /// Whose service (staff entering for someone); `None`: the actor's own.
    pub volunteer_id: Option<i64>,
    pub team_id: Option<i64>,
    pub service_type: String,
    pub content: String,
    pub place: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub minutes: Option<i64>,
}

/// Records a service, pending approval. Staff enter anyone's; a volunteer their own;
/// tickets and patrols record for the one who served (`source_id` names them once).
#[allow(clippy::too_many_arguments)]
pub async fn record_service(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    input: &NewService,
    source: Source,
    source_id: Option<i64>,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<ServiceRecord> {
    let staff = actor.can(community_id, Permission::ManagePoints);
    let v = match input.volunteer_id {
        Some(id) if staff => volunteer(tx, community_id, id).await?,
        Some(id) => volunteer(tx, community_id, id).await?.filter(|v| v.user_id == actor.user_id),
        None => volunteer_of(tx, community_id, actor.user_id).await?,
    };
    let Some(v) = v.filter(|v| v.archived_at.is_none()) else {
        return Err(if input.volunteer_id.is_some() {
            AppError::field("volunteer_id", "validation.reference")
        } else {
            AppError::Conflict("points.not_volunteer")
        });
    };
    let mut errors = Vec::new();
    if !super::SERVICE_TYPES.contains(&input.service_type.as_str()) {
        errors.push(FieldError::new("service_type", "validation.choice"));
    }
    check_text(&mut errors, "content", &input.content, 500, true);
    check_text(&mut errors, "place", input.place.as_deref().unwrap_or(""), 200, false);
    let (Some(start), Some(end)) = (input.started_at, input.ended_at) else {
        if input.started_at.is_none() {
            errors.push(FieldError::new("started_at", "validation.required"));
        }
        if input.ended_at.is_none() {
            errors.push(FieldError::new("ended_at", "validation.required"));
        }
        return Err(AppError::Invalid(errors));
    };
    let minutes = input.minutes.unwrap_or((end - start) / crate::time::MINUTE_MS);
    errors.extend(super::check_service(start, end, minutes, now_ms()));
    if let Some(t) = input.team_id {
        let ok: Option<i64> = query("SELECT id FROM teams WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(t)
            .scalar_optional(&mut *tx)
            .await?;
        if ok.is_none() {
            errors.push(FieldError::new("team_id", "validation.reference"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // One person's records queue here, so that two overlapping ones cannot both pass.
    query("UPDATE volunteers SET updated_at = updated_at WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(v.id)
        .execute(&mut *tx)
        .await?;
    let overlapping: Option<i64> = query(
        "SELECT id FROM service_records WHERE community_id = $1 AND user_id = $2 AND status <> 'rejected' AND started_at < $3 AND ended_at > $4 LIMIT 1",
    )
    .bind(community_id)
    .bind(v.user_id)
    .bind(end)
    .bind(start)
    .scalar_optional(&mut *tx)
    .await?;
    if let Some(other) = overlapping {
        return Err(AppError::Invalid(vec![FieldError::new("started_at", "points.overlaps").with("id", other)]));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO service_records (community_id, id, volunteer_id, user_id, team_id, service_type, content, place, started_at, ended_at, minutes,
                                      source, source_id, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', $14, $15, $15)",
    )
    .bind(community_id)
    .bind(id)
    .bind(v.id)
    .bind(v.user_id)
    .bind(input.team_id)
    .bind(input.service_type.as_str())
    .bind(input.content.trim())
    .bind(input.place.clone().filter(|p| !p.trim().is_empty()))
    .bind(start)
    .bind(end)
    .bind(minutes)
    .bind(source.as_str())
    .bind(source_id)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if !photos.is_empty() {
        media::attach(state, tx, community_id, "service_record", id, Some(actor.user_id), photos).await?;
    }
    let after = json!({"volunteer": v.number, "service_type": input.service_type, "content": input.content.trim(),
        "started_at": start, "ended_at": end, "minutes": minutes, "source": source.as_str()});
    audit::record(tx, community_id, &By::from(actor), Action::Create, "service_record", id, None, Some(&after)).await?;
    record(tx, community_id, id).await?.ok_or(AppError::NotFound)
}

/// A request a volunteer handled, as the points know it (the tickets hand it over).
pub struct Errand<'a> {
    pub ticket_id: i64,
    pub description: &'a str,
    pub address: Option<String>,
    pub team_id: Option<i64>,
    pub started_at: i64,
    pub ended_at: i64,
}

/// A volunteer who resolves a ticket has served: from taking it to resolving it (a
/// working day at most), as a record waiting for staff. A record already covering that
/// time (entered by hand) is left as it is.
pub async fn from_ticket(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    e: Errand<'_>,
) -> AppResult<()> {
    if volunteer_of(&mut *tx, community_id, actor.user_id).await?.is_none() {
        return Ok(());
    }
    let minutes = ((e.ended_at - e.started_at) / crate::time::MINUTE_MS).min(8 * 60);
    if minutes < 1 {
        return Ok(());
    }
    let summary: String = e.description.chars().take(60).collect();
    let service = NewService {
        volunteer_id: None,
        team_id: e.team_id,
        service_type: "errand".into(),
        content: format!("办理工单 #{}：{summary}", e.ticket_id),
        place: e.address,
        started_at: Some(e.started_at),
        ended_at: Some(e.ended_at),
        minutes: Some(minutes),
    };
    let sp = tx.savepoint().await?;
    match record_service(state, tx, actor, community_id, &service, Source::Ticket, Some(e.ticket_id), &[]).await {
        Ok(_) => tx.release(sp).await?,
        Err(AppError::Invalid(_)) => tx.rollback_to(sp).await?,
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Records a service in its own transaction.
pub async fn submit_service(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    input: &NewService,
    source: Source,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<ServiceRecord> {
    let mut tx = state.db.begin().await?;
    let r = record_service(state, &mut tx, actor, community_id, input, source, None, photos).await?;
    tx.commit().await?;
    Ok(r)
}

/// What the rules give for a record, rule by rule, within each rule's caps.
async fn award(tx: &mut Tx, community_id: i64, r: &ServiceRecord) -> AppResult<Vec<(Rule, i64)>> {
    let rules = all_rules(tx, community_id).await?;
    let day = crate::time::day_of(r.started_at);
    let day_from = crate::time::day_start_ms(day);
    let month_from = crate::time::day_start_ms(day.with_day0(0).unwrap_or(day));
    let next_month = crate::time::day_start_ms(
        if day.month() == 12 {
            NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
        }
        .unwrap_or(day),
    );
    let mut out = Vec::new();
    for rule in super::paying_rules(&rules, &r.service_type, r.started_at) {
        let raw = super::earned(rule, r.minutes);
        if raw <= 0 {
            continue;
        }
        // Given under this rule (any version) to this person, for service that day and month.
        let given = |from: i64, to: i64| {
            query(
                "SELECT CAST(COALESCE(SUM(m.amount), 0) AS BIGINT) FROM ledger_movements m
                 JOIN service_records s ON s.community_id = m.community_id AND s.id = m.cause_id
                 JOIN points_rules p ON p.community_id = m.community_id AND p.id = m.rule_id
                 WHERE m.community_id = $1 AND m.cause = 'service' AND p.code = $2 AND s.user_id = $3 AND s.started_at >= $4 AND s.started_at < $5",
            )
            .bind(community_id)
            .bind(rule.code.as_str())
            .bind(r.user_id)
            .bind(from)
            .bind(to)
        };
        let today: i64 = given(day_from, day_from + crate::time::DAY_MS).scalar(&mut *tx).await?;
        let month: i64 = given(month_from, next_month).scalar(&mut *tx).await?;
        let amount = super::capped(raw, today, month, rule.daily_cap, rule.monthly_cap);
        if amount > 0 {
            out.push((rule.clone(), amount));
        }
    }
    Ok(out)
}

/// Approves (paying what the rules in force when it was served give) or rejects (with a
/// reason) a pending record. Nobody decides their own.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> AppResult<ServiceRecord> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let r = record(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    super::may_decide(actor.user_id, r.user_id).map_err(AppError::Conflict)?;
    if r.status != "pending" {
        return Err(AppError::Conflict("points.already_decided"));
    }
    let now = now_ms();
    let mut points = 0;
    if approve {
        for (rule, amount) in award(&mut tx, community_id, &r).await? {
            ledger::post(
                &mut tx,
                &Posting {
                    community_id,
                    from: Acct::ISSUING,
                    to: Acct::person(r.user_id),
                    amount,
                    cause: Cause::Service,
                    cause_id: Some(r.id),
                    rule_id: Some(rule.id),
                    reason: None,
                    author_id: Some(actor.user_id),
                    key: format!("service:{}:{}", r.id, rule.code),
                },
            )
            .await?;
            points += amount;
        }
    }
    let changed = query(
        "UPDATE service_records SET status = $1, reason = $2, decided_by = $3, decided_at = $4, points = $5, updated_at = $4
         WHERE community_id = $6 AND id = $7 AND status = 'pending'",
    )
    .bind(if approve { "approved" } else { "rejected" })
    .bind(reason)
    .bind(actor.user_id)
    .bind(now)
    .bind(approve.then_some(points))
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if changed == 0 {
        return Err(AppError::Conflict("points.already_decided"));
    }
    let after = json!({"status": if approve { "approved" } else { "rejected" }, "reason": reason, "points": points});
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "service_record",
        id,
        Some(&json!({"status": "pending"})),
        Some(&after),
    )
    .await?;
    let text = if approve {
        format!("服务记录 #{id} 已通过，获得 {points} 积分")
    } else {
        format!("服务记录 #{id} 未通过：{}", reason.unwrap_or(""))
    };
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(community_id, Some(notify::Subject { kind: "service_record", id }), "points", text),
        notify::Audience::Users(vec![r.user_id]),
    )
    .await?;
    tx.commit().await?;
    record(&mut state.db.read().await?, community_id, id).await?.ok_or(AppError::NotFound)
}

// ---------- rules ----------

const RULE_COLUMNS: &str =
    "id, code, version, name, kind, service_type, points, daily_cap, monthly_cap, effective_from, effective_to";

/// Every version of every rule, oldest first.
pub async fn all_rules(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Rule>> {
    Ok(query(format!("SELECT {RULE_COLUMNS} FROM points_rules WHERE community_id = $1 ORDER BY code, version"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn rule(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Rule>> {
    Ok(query(format!("SELECT {RULE_COLUMNS} FROM points_rules WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A rule, or a new version of one (same code).
#[derive(Debug, Clone, Default)]
pub struct NewRule {
    pub code: Option<String>,
    pub name: String,
    pub kind: String,
    pub service_type: Option<String>,
    pub points: i64,
    pub daily_cap: Option<i64>,
    pub monthly_cap: Option<i64>,
    /// When the version takes over (now when absent); never before the version it follows,
    /// and never in the past, so points already given keep their rule.
    pub effective_from: Option<i64>,
}

pub async fn add_rule(state: &AppState, actor: &Actor, community_id: i64, input: NewRule) -> AppResult<Rule> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    let kind = RuleKind::parse(&input.kind);
    let service_type = input.service_type.clone().filter(|s| !s.trim().is_empty());
    let mut errors = super::check_rule(kind, service_type.as_deref(), input.points);
    check_text(&mut errors, "name", &input.name, 60, true);
    for (f, cap) in [("daily_cap", input.daily_cap), ("monthly_cap", input.monthly_cap)] {
        if cap.is_some_and(|c| c <= 0) {
            errors.push(FieldError::new(f, "points.positive"));
        } else if let Some(c) = cap {
            input::check_range(&mut errors, f, c, limits::RULE_CAP);
        }
    }
    let now = now_ms();
    let from = input.effective_from.unwrap_or(now).max(now);
    let mut tx = state.db.begin().await?;
    let code = match input.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            if c.chars().count() > 20 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
                errors.push(FieldError::new("code", "validation.code"));
            }
            c.to_string()
        }
        None => format!("r{}", tx.next_id().await?),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let latest: Option<Rule> = query(format!(
        "SELECT {RULE_COLUMNS} FROM points_rules WHERE community_id = $1 AND code = $2 ORDER BY version DESC LIMIT 1"
    ))
    .bind(community_id)
    .bind(code.as_str())
    .fetch_optional(&mut tx)
    .await?;
    if let Some(prev) = &latest {
        if from < prev.effective_from {
            return Err(AppError::field("effective_from", "points.before_previous_version"));
        }
        if prev.kind != input.kind {
            return Err(AppError::field("kind", "points.kind_fixed"));
        }
        // The previous version ends where this one starts; what it paid stays paid.
        query("UPDATE points_rules SET effective_to = $1 WHERE community_id = $2 AND id = $3 AND (effective_to IS NULL OR effective_to > $1)")
            .bind(from)
            .bind(community_id)
            .bind(prev.id)
            .execute(&mut tx)
            .await?;
    }
    let id = tx.next_id().await?;
    let version =
        tx.next_number(community_id, &format!("rule:{code}"), latest.as_ref().map_or(0, |r| r.version)).await?;
    query(
        "INSERT INTO points_rules (community_id, id, code, version, name, kind, service_type, points, daily_cap, monthly_cap, effective_from, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(community_id)
    .bind(id)
    .bind(code.as_str())
    .bind(version)
    .bind(input.name.trim())
    .bind(input.kind.as_str())
    .bind(service_type.clone().filter(|_| kind.is_some_and(RuleKind::pays_for_service)))
    .bind(input.points)
    .bind(input.daily_cap)
    .bind(input.monthly_cap)
    .bind(from)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    let after = json!({"code": code, "version": version, "name": input.name.trim(), "kind": input.kind, "service_type": service_type,
        "points": input.points, "daily_cap": input.daily_cap, "monthly_cap": input.monthly_cap, "effective_from": from});
    audit::record(&mut tx, community_id, &By::from(actor), Action::Create, "points_rule", id, None, Some(&after))
        .await?;
    let r = rule(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

// ---------- giving and taking by hand ----------

/// What staff give or take by hand: a bonus or deduction under a rule (its points), or an
/// adjustment of any amount (positive gives, negative takes). Always with a reason.
#[derive(Debug, Clone)]
pub struct ByHand {
    /// Whose account: a person, or a team or partner unit (one of the three).
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub amount: Option<i64>,
    pub reason: String,
    pub key: String,
}

pub async fn give(state: &AppState, actor: &Actor, community_id: i64, g: ByHand) -> AppResult<i64> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    if g.reason.trim().is_empty() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut conn = state.db.read().await?;
    let (field, kind, owner, sql) = match (g.user_id, g.team_id, g.partner_unit_id) {
        (Some(u), None, None) => ("user_id", AccountKind::Person, u, "SELECT id FROM users WHERE id = $1 AND $2 > 0"),
        (None, Some(t), None) => (
            "team_id",
            AccountKind::Team,
            t,
            "SELECT id FROM teams WHERE id = $1 AND community_id = $2 AND archived_at IS NULL",
        ),
        (None, None, Some(p)) => (
            "partner_unit_id",
            AccountKind::Unit,
            p,
            "SELECT id FROM partner_units WHERE id = $1 AND community_id = $2 AND archived_at IS NULL",
        ),
        _ => return Err(AppError::field("user_id", "points.one_holder")),
    };
    let known: Option<i64> = query(sql).bind(owner).bind(community_id).scalar_optional(&mut conn).await?;
    if known.is_none() {
        return Err(AppError::field(field, "validation.reference"));
    }
    let holder = ledger::Acct { kind, owner };
    let (cause, amount, rule_id) = match g.rule_id {
        Some(rid) => {
            let r =
                rule(&mut conn, community_id, rid).await?.ok_or(AppError::field("rule_id", "validation.reference"))?;
            match r.kind() {
                Some(RuleKind::Bonus) if r.in_force(now_ms()) => (Cause::Bonus, r.points, Some(r.id)),
                Some(RuleKind::Deduction) if r.in_force(now_ms()) => (Cause::Deduction, -r.points, Some(r.id)),
                _ => return Err(AppError::field("rule_id", "points.rule_not_manual")),
            }
        }
        None => match g.amount {
            Some(a) if a != 0 && (-limits::POINTS.end()..=*limits::POINTS.end()).contains(&a) => {
                (Cause::Adjustment, a, None)
            }
            Some(a) if a != 0 => {
                let range = -limits::POINTS.end()..=*limits::POINTS.end();
                return Err(AppError::Invalid(vec![input::range_error("amount", range)]));
            }
            _ => return Err(AppError::field("amount", "points.positive")),
        },
    };
    drop(conn);
    let (from, to) = if amount > 0 { (Acct::ISSUING, holder) } else { (holder, Acct::ISSUING) };
    let id = ledger::post_grouped(
        state,
        Posting {
            community_id,
            from,
            to,
            amount: amount.abs(),
            cause,
            cause_id: None,
            rule_id,
            reason: Some(g.reason.trim().to_string()),
            author_id: Some(actor.user_id),
            key: g.key,
        },
    )
    .await?;
    Ok(id)
}

/// Corrects a movement by reversing it (staff, with a reason).
pub async fn correct(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    movement_id: i64,
    reason: &str,
) -> AppResult<i64> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    let mut tx = state.db.begin().await?;
    let id = ledger::reverse(&mut tx, community_id, movement_id, reason, Some(actor.user_id)).await?;
    tx.commit().await?;
    Ok(id)
}

// ---------- the shop ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Reward {
    pub community_id: i64,
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub provider_unit_id: Option<i64>,
    pub provider: Option<String>,
    pub price: i64,
    pub stock: i64,
    pub per_person_limit: Option<i64>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub hold_days: i64,
    pub description: Option<String>,
    pub archived_at: Option<i64>,
}

impl Reward {
    pub fn offer(&self) -> Offer {
        Offer {
            price: self.price,
            stock: self.stock,
            limit: self.per_person_limit,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            archived: self.archived_at.is_some(),
        }
    }
}

const REWARD_SELECT: &str = "SELECT r.community_id, r.id, r.name, r.kind, r.provider_unit_id, u.name AS provider, r.price, r.stock, r.per_person_limit,
    r.valid_from, r.valid_to, r.hold_days, r.description, r.archived_at
    FROM rewards r LEFT JOIN partner_units u ON u.community_id = r.community_id AND u.id = r.provider_unit_id";

/// What the shop offers today (anyone of the community may look).
pub async fn shop(ex: &mut impl Exec, community_id: i64, today: NaiveDate) -> AppResult<Vec<Reward>> {
    let all: Vec<Reward> =
        query(format!("{REWARD_SELECT} WHERE r.community_id = $1 AND r.archived_at IS NULL ORDER BY r.price, r.name"))
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    Ok(all
        .into_iter()
        .filter(|r| r.valid_from.is_none_or(|d| d <= today) && r.valid_to.is_none_or(|d| d >= today))
        .collect())
}

pub async fn reward(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Reward>> {
    Ok(query(format!("{REWARD_SELECT} WHERE r.community_id = $1 AND r.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Redemption {
    pub community_id: i64,
    pub id: i64,
    pub reward_id: i64,
    pub reward: String,
    pub provider_unit_id: Option<i64>,
    pub user_id: i64,
    pub holder: String,
    pub points: i64,
    pub code: String,
    pub status: String,
    pub held_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
}

const REDEMPTION_SELECT: &str = "SELECT d.community_id, d.id, d.reward_id, r.name AS reward, r.provider_unit_id, d.user_id, u.display_name AS holder,
    d.points, d.code, d.status, d.held_at, d.expires_at, d.decided_at
    FROM redemptions d JOIN rewards r ON r.community_id = d.community_id AND r.id = d.reward_id JOIN users u ON u.id = d.user_id";

pub async fn redemption(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Redemption>> {
    Ok(query(format!("{REDEMPTION_SELECT} WHERE d.community_id = $1 AND d.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

pub async fn my_redemptions(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<Redemption>> {
    Ok(query(format!(
        "{REDEMPTION_SELECT} WHERE d.community_id = $1 AND d.user_id = $2 ORDER BY d.held_at DESC LIMIT 100"
    ))
    .bind(community_id)
    .bind(user_id)
    .fetch_all(ex)
    .await?)
}

/// Redemptions waiting for handover that the actor may hand over: all for staff, their
/// own unit's for a merchant.
pub async fn handovers(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Redemption>> {
    let mut b = Builder::new(format!("{REDEMPTION_SELECT} WHERE d.community_id = "));
    b.arg(community_id).push(" AND d.status = 'held'");
    if !actor.can(community_id, Permission::ManagePoints) {
        let units = merchant_units(actor, community_id);
        if units.is_empty() {
            return Err(AppError::NotFound);
        }
        b.push(" AND r.provider_unit_id IN ").list(units);
    }
    b.push(" ORDER BY d.held_at DESC LIMIT 200");
    Ok(b.build().fetch_all(ex).await?)
}

fn merchant_units(actor: &Actor, community_id: i64) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::PartnerUnit && g.community_id == Some(community_id))
        .filter_map(|g| g.partner_unit_id)
        .collect()
}

fn handover_code() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("system random source");
    format!("{:08}", u32::from_le_bytes(b) % 100_000_000)
}

/// Redeems one unit: the points and the unit are held until handover. Exactly right when
/// many race for the last units: the person's account is locked first (their limit
/// counts right), the stock is taken by a guarded update, the points by a guarded debit.
pub async fn redeem(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    reward_id: i64,
    key: Option<String>,
) -> AppResult<Redemption> {
    if !actor.sees_community(community_id) {
        return Err(AppError::NotFound);
    }
    let key = key.filter(|k| !k.trim().is_empty());
    if let Some(k) = &key {
        let mut conn = state.db.read().await?;
        let done: Option<i64> = query("SELECT id FROM redemptions WHERE community_id = $1 AND idempotency_key = $2")
            .bind(community_id)
            .bind(k.as_str())
            .scalar_optional(&mut conn)
            .await?;
        if let Some(id) = done {
            return redemption(&mut conn, community_id, id).await?.ok_or(AppError::NotFound);
        }
    }
    let mut tx = state.db.begin().await?;
    let account = ledger::account_id(&mut tx, community_id, Acct::person(actor.user_id)).await?;
    query("UPDATE ledger_accounts SET balance = balance WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(account)
        .execute(&mut tx)
        .await?;
    let r = reward(&mut tx, community_id, reward_id).await?.ok_or(AppError::NotFound)?;
    let taken: i64 = query(
        "SELECT COUNT(*) FROM redemptions WHERE community_id = $1 AND user_id = $2 AND reward_id = $3 AND status IN ('held', 'confirmed')",
    )
    .bind(community_id)
    .bind(actor.user_id)
    .bind(reward_id)
    .scalar(&mut tx)
    .await?;
    let balance = ledger::balance(&mut tx, community_id, actor.user_id).await?;
    super::may_redeem(&r.offer(), crate::web::fmt::today(), taken, balance).map_err(AppError::Conflict)?;
    let took = query(
        "UPDATE rewards SET stock = stock - 1, updated_at = $1 WHERE community_id = $2 AND id = $3 AND stock > 0",
    )
    .bind(now_ms())
    .bind(community_id)
    .bind(reward_id)
    .execute(&mut tx)
    .await?;
    if took == 0 {
        return Err(AppError::Conflict("points.out_of_stock"));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    // A handover code names one held redemption (a unique index): a code drawn twice is
    // drawn again.
    let mut tries = 0;
    loop {
        let sp = tx.savepoint().await?;
        let inserted = query(
            "INSERT INTO redemptions (community_id, id, reward_id, user_id, points, code, status, held_at, expires_at, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, 'held', $7, $8, $9)",
        )
        .bind(community_id)
        .bind(id)
        .bind(reward_id)
        .bind(actor.user_id)
        .bind(r.price)
        .bind(handover_code())
        .bind(now)
        .bind(now + r.hold_days * crate::time::DAY_MS)
        .bind(key.clone())
        .execute(&mut tx)
        .await;
        match inserted {
            Err(e)
                if tries < 5
                    && matches!(crate::db::unique_violation_field(&e).as_deref(), Some("held_code" | "code")) =>
            {
                tx.rollback_to(sp).await?;
                tries += 1;
            }
            other => {
                other?;
                tx.release(sp).await?;
                break;
            }
        }
    }
    ledger::post(
        &mut tx,
        &Posting {
            community_id,
            from: Acct::person(actor.user_id),
            to: Acct::HOLDING,
            amount: r.price,
            cause: Cause::Hold,
            cause_id: Some(id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("hold:{id}"),
        },
    )
    .await?;
    let out = redemption(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Hands a held redemption over against its code: staff, or the merchant who provides it.
/// The held points go to the provider. Twice, or with the wrong code, is refused.
pub async fn confirm(state: &AppState, actor: &Actor, community_id: i64, code: &str) -> AppResult<Redemption> {
    let staff = actor.can(community_id, Permission::ManagePoints);
    let units = merchant_units(actor, community_id);
    if !staff && units.is_empty() {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::field("code", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let found: Option<i64> =
        query("SELECT id FROM redemptions WHERE community_id = $1 AND code = $2 ORDER BY CASE WHEN status = 'held' THEN 0 ELSE 1 END, held_at DESC LIMIT 1")
            .bind(community_id)
            .bind(code)
            .scalar_optional(&mut tx)
            .await?;
    let d = match found {
        Some(id) => redemption(&mut tx, community_id, id).await?,
        None => None,
    };
    let Some(d) = d.filter(|d| super::code_matches(code, &d.code)) else {
        return Err(AppError::field("code", "points.wrong_code"));
    };
    if !staff && !d.provider_unit_id.is_some_and(|u| units.contains(&u)) {
        return Err(AppError::field("code", "points.wrong_code"));
    }
    if d.status != RedemptionStatus::Held.as_str() {
        return Err(AppError::Conflict(if d.status == "confirmed" {
            "points.already_handed_over"
        } else {
            "points.no_longer_held"
        }));
    }
    let now = now_ms();
    let changed = query(
        "UPDATE redemptions SET status = 'confirmed', decided_at = $1, decided_by = $2 WHERE community_id = $3 AND id = $4 AND status = 'held'",
    )
    .bind(now)
    .bind(actor.user_id)
    .bind(community_id)
    .bind(d.id)
    .execute(&mut tx)
    .await?;
    if changed == 0 {
        return Err(AppError::Conflict("points.already_handed_over"));
    }
    ledger::post(
        &mut tx,
        &Posting {
            community_id,
            from: Acct::HOLDING,
            to: Acct::provider(d.provider_unit_id),
            amount: d.points,
            cause: Cause::Settle,
            cause_id: Some(d.id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("settle:{}", d.id),
        },
    )
    .await?;
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(
            community_id,
            Some(notify::Subject { kind: "redemption", id: d.id }),
            "points",
            format!("「{}」已兑换领取", d.reward),
        ),
        notify::Audience::Users(vec![d.user_id]),
    )
    .await?;
    let out = redemption(&mut tx, community_id, d.id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Gives the points and the unit back: the holder cancelling, staff, or expiry.
async fn release(
    tx: &mut Tx,
    community_id: i64,
    d: &Redemption,
    to: RedemptionStatus,
    by: Option<i64>,
) -> AppResult<bool> {
    let changed = query(
        "UPDATE redemptions SET status = $1, decided_at = $2, decided_by = $3 WHERE community_id = $4 AND id = $5 AND status = 'held'",
    )
    .bind(to.as_str())
    .bind(now_ms())
    .bind(by)
    .bind(community_id)
    .bind(d.id)
    .execute(&mut *tx)
    .await?;
    if changed == 0 {
        return Ok(false);
    }
    query("UPDATE rewards SET stock = stock + 1, updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(community_id)
        .bind(d.reward_id)
        .execute(&mut *tx)
        .await?;
    ledger::post(
        tx,
        &Posting {
            community_id,
            from: Acct::HOLDING,
            to: Acct::person(d.user_id),
            amount: d.points,
            cause: Cause::Release,
            cause_id: Some(d.id),
            rule_id: None,
            reason: None,
            author_id: by,
            key: format!("release:{}", d.id),
        },
    )
    .await?;
    Ok(true)
}

pub async fn cancel(state: &AppState, actor: &Actor, community_id: i64, id: i64) -> AppResult<Redemption> {
    let mut tx = state.db.begin().await?;
    let d = redemption(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if d.user_id != actor.user_id && !actor.can(community_id, Permission::ManagePoints) {
        return Err(AppError::NotFound);
    }
    if !release(&mut tx, community_id, &d, RedemptionStatus::Cancelled, Some(actor.user_id)).await? {
        return Err(AppError::Conflict("points.no_longer_held"));
    }
    let out = redemption(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Lets holds past their time expire. Safe on several processes at once: each release is
/// a conditional update.
pub async fn expire_due(state: &AppState, now: i64) -> AppResult<usize> {
    let mut conn = state.db.span(crate::db::citus::Span::Maintenance).await?;
    let due: Vec<(i64, i64)> =
        query("SELECT community_id, id FROM redemptions WHERE status = 'held' AND expires_at < $1 ORDER BY expires_at LIMIT 500")
            .bind(now)
            .fetch_all(&mut conn)
            .await?;
    drop(conn);
    let mut n = 0;
    for (c, id) in due {
        let mut tx = state.db.begin().await?;
        if let Some(d) = redemption(&mut tx, c, id).await?
            && release(&mut tx, c, &d, RedemptionStatus::Expired, None).await?
        {
            notify::send(
                &mut tx,
                &state.bus,
                notify::Note::new(
                    c,
                    Some(notify::Subject { kind: "redemption", id: d.id }),
                    "points",
                    format!("「{}」兑换已过期，积分已退回", d.reward),
                ),
                notify::Audience::Users(vec![d.user_id]),
            )
            .await?;
            tx.commit().await?;
            n += 1;
        }
    }
    Ok(n)
}

// ---------- the honor roll ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    Hours,
    Points,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub name: String,
    pub number: String,
    pub grid: Option<String>,
    pub value: i64,
}

/// Who gave most (hours of approved service, or points earned) in a period, in the
/// communities (and grid) asked. Names are masked unless the volunteer agreed.
pub async fn honor_roll(
    ex: &mut impl Exec,
    community_ids: &[i64],
    grid_id: Option<i64>,
    by: RankBy,
    period: Period,
    limit: i64,
) -> AppResult<Vec<Ranked>> {
    let from = period.start(crate::web::fmt::today()).map(crate::time::day_start_ms);
    let mut b = match by {
        RankBy::Hours => Builder::new(
            "SELECT v.name, v.number, v.show_name, g.name, CAST(SUM(s.minutes) AS BIGINT) AS total FROM service_records s
             JOIN volunteers v ON v.community_id = s.community_id AND v.id = s.volunteer_id
             LEFT JOIN grids g ON g.community_id = v.community_id AND g.id = v.grid_id
             WHERE s.status = 'approved' AND s.community_id IN ",
        ),
        RankBy::Points => Builder::new(
            "SELECT v.name, v.number, v.show_name, g.name, CAST(SUM(m.amount) AS BIGINT) AS total FROM ledger_movements m
             JOIN ledger_accounts a ON a.community_id = m.community_id AND a.id = m.to_account AND a.unit = 'points' AND a.kind = 'person'
             JOIN volunteers v ON v.community_id = a.community_id AND v.user_id = a.owner_id
             LEFT JOIN grids g ON g.community_id = v.community_id AND g.id = v.grid_id
             WHERE m.cause IN ('service', 'bonus') AND m.community_id IN ",
        ),
    };
    b.list(community_ids.iter().copied());
    if let Some(g) = grid_id {
        b.push(" AND v.grid_id = ").arg(g);
    }
    if let Some(from) = from {
        b.push(if by == RankBy::Hours { " AND s.started_at >= " } else { " AND m.at >= " }).arg(from);
    }
    b.push(&format!(" AND v.archived_at IS NULL GROUP BY v.community_id, v.id, v.name, v.number, v.show_name, g.name ORDER BY total DESC, v.number LIMIT {}", limit.clamp(1, 200)));
    let rows: Vec<(String, String, bool, Option<String>, i64)> = b.build().fetch_all(ex).await?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, number, agreed, grid, value))| Ranked {
            rank: i + 1,
            name: crate::services::pii::public_name(&name, agreed),
            number,
            grid,
            value,
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Commendation {
    pub id: i64,
    pub honoree_kind: String,
    pub honoree_name: String,
    pub title: String,
    pub awarded_on: NaiveDate,
    pub issuer: String,
}

/// Commendations for the board, newest first; a person is named as they agreed.
pub async fn commendations(ex: &mut impl Exec, community_ids: &[i64], limit: i64) -> AppResult<Vec<Commendation>> {
    let mut b = Builder::new(
        "SELECT c.id, c.honoree_kind, c.honoree_name, c.title, c.awarded_on, c.issuer, c.show_name
         FROM commendations c WHERE c.archived_at IS NULL AND c.community_id IN ",
    );
    b.list(community_ids.iter().copied());
    b.push(&format!(" ORDER BY c.awarded_on DESC, c.id DESC LIMIT {}", limit.clamp(1, 500)));
    let rows: Vec<(i64, String, String, String, NaiveDate, String, bool)> = b.build().fetch_all(ex).await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, name, title, awarded_on, issuer, agreed)| Commendation {
            id,
            honoree_name: if kind == "person" { crate::services::pii::public_name(&name, agreed) } else { name },
            honoree_kind: kind,
            title,
            awarded_on,
            issuer,
        })
        .collect())
}

// ---------- certificates ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Certificate {
    pub community_id: i64,
    pub id: i64,
    pub volunteer_id: i64,
    pub code: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub records: i64,
    pub minutes: i64,
    pub issued_at: i64,
}

const CERTIFICATE_COLUMNS: &str =
    "community_id, id, volunteer_id, code, period_from, period_to, records, minutes, issued_at";

fn certificate_code() -> String {
    // No 0/O or 1/I to misread from paper.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).expect("system random source");
    b.iter().map(|x| ALPHABET[(*x as usize) % ALPHABET.len()] as char).collect()
}

/// The approved service of a volunteer over a period (days in China, both included).
pub async fn served(
    ex: &mut impl Exec,
    community_id: i64,
    volunteer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ServiceRecord>> {
    let end = crate::time::day_start_ms(to.succ_opt().unwrap_or(to));
    Ok(query(format!(
        "{RECORD_SELECT} WHERE s.community_id = $1 AND s.volunteer_id = $2 AND s.status = 'approved' AND s.started_at >= $3 AND s.started_at < $4 ORDER BY s.started_at"
    ))
    .bind(community_id)
    .bind(volunteer_id)
    .bind(crate::time::day_start_ms(from))
    .bind(end)
    .fetch_all(ex)
    .await?)
}

/// Issues a certificate of a volunteer's approved service over a period: for the
/// volunteer themselves, or by staff.
pub async fn issue_certificate(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    volunteer_id: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<Certificate> {
    let mut errors = Vec::new();
    if from.is_none() {
        errors.push(FieldError::new("from", "validation.date"));
    }
    if to.is_none() {
        errors.push(FieldError::new("to", "validation.date"));
    }
    let (Some(from), Some(to)) = (from, to) else { return Err(AppError::Invalid(errors)) };
    if to < from {
        return Err(AppError::field("to", "points.ends_before_start"));
    }
    let mut tx = state.db.begin().await?;
    let v = volunteer_for(&mut tx, actor, community_id, volunteer_id).await?;
    let records = served(&mut tx, community_id, v.id, from, to).await?;
    if records.is_empty() {
        return Err(AppError::field("from", "points.no_service_in_period"));
    }
    let minutes: i64 = records.iter().map(|r| r.minutes).sum();
    let id = tx.next_id().await?;
    let code = certificate_code();
    query(
        "INSERT INTO certificates (community_id, id, volunteer_id, code, period_from, period_to, records, minutes, issued_by, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(community_id)
    .bind(id)
    .bind(v.id)
    .bind(code.as_str())
    .bind(from)
    .bind(to)
    .bind(records.len() as i64)
    .bind(minutes)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let after = json!({"volunteer": v.number, "from": from, "to": to, "records": records.len(), "minutes": minutes, "code": code});
    audit::record(&mut tx, community_id, &By::from(actor), Action::Create, "certificate", id, None, Some(&after))
        .await?;
    let c = certificate(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(c)
}

pub async fn certificate(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Certificate>> {
    Ok(query(format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A certificate found by its code (public: anyone holding the paper may check it).
pub async fn certificate_by_code(ex: &mut impl Exec, community_id: i64, code: &str) -> AppResult<Option<Certificate>> {
    Ok(query(format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE community_id = $1 AND code = $2"))
        .bind(community_id)
        .bind(code.trim().to_uppercase())
        .fetch_optional(ex)
        .await?)
}

/// Whether the actor may see the service record a photo belongs to (for `media`).
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(
        async move { media::seen(record_for(&mut state.db.read().await?, actor, m.community_id, m.owner_id).await) },
    )
}
