//! Volunteers and their teams in the database: registering (oneself, by sign-up, or by
//! staff), volunteer numbers, profiles, and team membership.

use serde::Serialize;
use serde_json::json;

use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::capabilities::points::volunteer_number;
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

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
    Ok(volunteer_number(&community.code, tx.next_number(community.id, "volunteer", seq).await?))
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
