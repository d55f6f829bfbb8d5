//! Shelters 避难场所 in the database: each with its capacity and the people in it, kept by
//! a guarded count so that two check-ins at once never overfill it; a household checked
//! in from its welfare check moves the check to "moved to shelter" in the same transaction;
//! a full shelter is refused naming the nearest with room.

use serde_json::json;

use super::store::{self, Outcome, Source};
use super::{CheckChange, CheckStatus, Room, StoreKind, nearest_with_room};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Shelter {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub capacity: i64,
    pub occupied: i64,
}

impl Shelter {
    pub fn free(&self) -> i64 {
        (self.capacity - self.occupied).max(0)
    }

    fn room(&self) -> Room {
        Room { id: self.id, name: self.name.clone(), at: self.lat.zip(self.lng), free: self.free() }
    }
}

const SHELTER: &str = "SELECT id, name, address, lat, lng, capacity, occupied FROM shelters";

/// A community's shelters in use, by name.
pub async fn shelters(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Shelter>> {
    Ok(query(format!("{SHELTER} WHERE community_id = $1 AND archived_at IS NULL ORDER BY name, id"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn shelter(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Shelter> {
    query(format!("{SHELTER} WHERE community_id = $1 AND id = $2 AND archived_at IS NULL"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// A shelter as staff enter it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewShelter {
    pub name: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// How many people it takes, 1–100000.
    pub capacity: i64,
}

fn check_new(n: &NewShelter) -> Vec<FieldError> {
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "name", &n.name, 40, true);
    crate::input::check_text(&mut e, "address", &n.address, 100, true);
    if !(1..=100_000).contains(&n.capacity) {
        e.push(FieldError::new("capacity", "validation.range").with("min", 1).with("max", 100_000));
    }
    if n.lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
        e.push(FieldError::new("lat", "validation.range").with("min", -90).with("max", 90));
    }
    if n.lng.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
        e.push(FieldError::new("lng", "validation.range").with("min", -180).with("max", 180));
    }
    e
}

/// Staff enter a shelter; it gets a store of supplies of its own.
pub async fn add(state: &AppState, actor: &Actor, c: &CommunityRef, n: &NewShelter) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let e = check_new(n);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO shelters (community_id, id, name, address, lat, lng, capacity, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id)
    .bind(id)
    .bind(n.name.trim().to_string())
    .bind(n.address.trim().to_string())
    .bind(n.lat)
    .bind(n.lng)
    .bind(n.capacity)
    .bind(now)
    .execute(&mut tx)
    .await?;
    super::supplies::add_store_in(&mut tx, c.id, &n.name, StoreKind::Shelter, Some(id)).await?;
    let after = json!({"name": n.name, "address": n.address, "capacity": n.capacity});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "shelter", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

/// People checked in: from a household's welfare check (named by its address), or by name.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    pub check_id: Option<i64>,
    /// Who they are, when not from a check.
    #[serde(default)]
    pub name: String,
    /// How many people, 1–50.
    pub people: i64,
    pub note: Option<String>,
}

/// The people in a shelter: who, how many, since when.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Stay {
    pub id: i64,
    pub name: String,
    pub people: i64,
    pub check_id: Option<i64>,
    pub note: Option<String>,
    pub checked_in_at: i64,
    pub checked_in_by: String,
}

/// Those in a shelter now, the latest first.
pub async fn stays(ex: &mut impl Exec, community_id: i64, shelter_id: i64) -> AppResult<Vec<Stay>> {
    Ok(query(
        "SELECT s.id, s.name, s.people, s.check_id, s.note, s.checked_in_at, u.display_name AS checked_in_by \
         FROM shelter_stays s JOIN users u ON u.id = s.checked_in_by \
         WHERE s.community_id = $1 AND s.shelter_id = $2 AND s.checked_out_at IS NULL ORDER BY s.checked_in_at DESC, s.id DESC",
    )
    .bind(community_id)
    .bind(shelter_id)
    .fetch_all(ex)
    .await?)
}

fn may_move(actor: &Actor, c: &CommunityRef) -> AppResult<()> {
    if actor.can(c.id, Permission::ManageEmergency) || actor.can(c.id, Permission::CheckWelfare) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The refusal of a full shelter: its free places, and the nearest with room if any.
async fn full(tx: &mut Tx, community_id: i64, shelter_id: i64, people: i64) -> AppResult<AppError> {
    let all = shelters(&mut *tx, community_id).await?;
    let Some(this) = all.iter().find(|s| s.id == shelter_id) else { return Ok(AppError::NotFound) };
    let rooms: Vec<Room> = all.iter().map(Shelter::room).collect();
    let e = match nearest_with_room(this.lat.zip(this.lng), &rooms, shelter_id, people) {
        Some(n) => {
            FieldError::new("people", "emergency.shelter_full_try").with("nearest", &n.name).with("room", n.free)
        }
        None => FieldError::new("people", "emergency.shelter_full"),
    };
    Ok(AppError::Invalid(vec![e.with("free", this.free())]))
}

/// Checks people in, within the shelter's capacity (else refused naming the nearest with
/// room); from a welfare check, the household's check says they moved to the shelter.
pub async fn check_in(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    shelter_id: i64,
    n: &CheckIn,
) -> AppResult<i64> {
    may_move(actor, c)?;
    let mut e = Vec::new();
    if !(1..=50).contains(&n.people) {
        e.push(FieldError::new("people", "validation.range").with("min", 1).with("max", 50));
    }
    if n.check_id.is_none() {
        crate::input::check_text(&mut e, "name", &n.name, 40, true);
    }
    if let Some(note) = &n.note {
        crate::input::check_text(&mut e, "note", note, 200, false);
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let from = match n.check_id {
        Some(id) => Some(store::check(&mut tx, actor, c.id, id).await?),
        None => None,
    };
    let taken = query(
        "UPDATE shelters SET occupied = occupied + $1 WHERE community_id = $2 AND id = $3 AND archived_at IS NULL \
         AND occupied + $1 <= capacity",
    )
    .bind(n.people)
    .bind(c.id)
    .bind(shelter_id)
    .execute(&mut tx)
    .await?;
    if taken == 0 {
        return Err(full(&mut tx, c.id, shelter_id, n.people).await?);
    }
    let id = tx.next_id().await?;
    let name = from.as_ref().map(|w| w.address.clone()).unwrap_or_else(|| n.name.trim().to_string());
    query(
        "INSERT INTO shelter_stays (community_id, id, shelter_id, incident_id, check_id, household_id, name, people, note, \
         checked_in_at, checked_in_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(c.id)
    .bind(id)
    .bind(shelter_id)
    .bind(from.as_ref().map(|w| w.incident_id))
    .bind(n.check_id)
    .bind(from.as_ref().map(|w| w.household_id))
    .bind(name)
    .bind(n.people)
    .bind(n.note.clone())
    .bind(now_ms())
    .bind(actor.user_id)
    .execute(&mut tx)
    .await?;
    if let Some(w) = &from {
        let ch =
            CheckChange { status: CheckStatus::Sheltered, needs: w.needs(), note: n.note.clone(), seen: w.version };
        let key = format!("shelter:{id}");
        if let Outcome::Conflict(_) = store::change_in(&mut tx, actor, c, w.id, &ch, &key, Source::Shelter).await? {
            return Err(AppError::Conflict("emergency.changed"));
        }
    }
    tx.commit().await?;
    Ok(id)
}

/// Checks people out: their places are free again. Once.
pub async fn check_out(state: &AppState, actor: &Actor, c: &CommunityRef, stay_id: i64) -> AppResult<i64> {
    may_move(actor, c)?;
    let mut tx = state.db.begin().await?;
    let row: Option<(i64, i64)> = query(
        "SELECT shelter_id, people FROM shelter_stays WHERE community_id = $1 AND id = $2 AND checked_out_at IS NULL",
    )
    .bind(c.id)
    .bind(stay_id)
    .fetch_optional(&mut tx)
    .await?;
    let Some((shelter, people)) = row else { return Err(AppError::Conflict("emergency.already_out")) };
    let n = query(
        "UPDATE shelter_stays SET checked_out_at = $1, checked_out_by = $2 \
         WHERE community_id = $3 AND id = $4 AND checked_out_at IS NULL",
    )
    .bind(now_ms())
    .bind(actor.user_id)
    .bind(c.id)
    .bind(stay_id)
    .execute(&mut tx)
    .await?;
    if n == 0 {
        return Err(AppError::Conflict("emergency.already_out"));
    }
    query("UPDATE shelters SET occupied = occupied - $1 WHERE community_id = $2 AND id = $3")
        .bind(people)
        .bind(c.id)
        .bind(shelter)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(shelter)
}
