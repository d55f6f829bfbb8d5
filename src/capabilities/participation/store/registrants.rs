//! Dual registration 双报到: units and members registering with a community, staff
//! deciding, the yearly activity list with its reminders and threshold, and the public list.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::clean;
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::capabilities::participation::{RegistrationKind, RegistrationStatus};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::services::{notify, settings};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Registration {
    pub community_id: i64,
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: RegistrationKind,
    pub user_id: i64,
    pub partner_unit_id: Option<i64>,
    pub name: String,
    pub party_org: String,
    pub relation: Option<String>,
    pub skills: String,
    pub offers: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone_masked: Option<String>,
    pub show_name: bool,
    #[sqlx(try_from = "String")]
    pub status: RegistrationStatus,
    pub reason: Option<String>,
    pub reminded_at: Option<i64>,
    pub registered_at: i64,
}

impl Registration {
    /// The name as the public pages show it.
    pub fn public_name(&self) -> String {
        if self.kind == RegistrationKind::Unit {
            self.name.clone()
        } else {
            crate::services::pii::public_name(&self.name, self.show_name)
        }
    }
}

const REGISTRATION_COLUMNS: &str =
    "community_id, id, kind, user_id, partner_unit_id, name, party_org, relation, skills, offers, contact_name,
    contact_phone_masked, show_name, status, reason, reminded_at, registered_at";

pub async fn registration(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Registration>> {
    Ok(query(format!("SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Own registrations (as a member, or as the contact of units), or any for staff.
pub async fn registration_for(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
    id: i64,
) -> AppResult<Registration> {
    let r = registration(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if r.user_id == actor.user_id || actor.can(community_id, Permission::ManageParticipation) {
        Ok(r)
    } else {
        Err(AppError::NotFound)
    }
}

/// The registrations a user acts for in a community (their own as a member, their units').
pub async fn mine(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<Registration>> {
    Ok(query(format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE community_id = $1 AND user_id = $2 ORDER BY kind, id"
    ))
    .bind(community_id)
    .bind(user_id)
    .fetch_all(ex)
    .await?)
}

/// What someone registers with.
#[derive(Debug, Clone, Default)]
pub struct NewRegistration {
    pub kind: String,
    pub name: String,
    pub party_org: String,
    pub relation: Option<String>,
    /// Staff registering a unit name it; a unit's contact registers their own.
    pub partner_unit_id: Option<i64>,
    pub skills: Vec<String>,
    pub offers: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub show_name: bool,
}

/// Registers with the community: a member for themselves, a unit's contact for their unit,
/// staff for a unit. Accepted by staff afterwards (staff's own entries are accepted).
pub async fn register(
    state: &AppState,
    actor: &Actor,
    community: &CommunityRef,
    r: NewRegistration,
) -> AppResult<Registration> {
    let c = community.id;
    let staff = actor.can(c, Permission::ManageParticipation);
    let mut e = Vec::new();
    let kind = RegistrationKind::parse(&r.kind);
    if kind.is_none() {
        e.push(FieldError::new("kind", "validation.choice"));
    }
    check_text(&mut e, "name", &r.name, 100, true);
    check_text(&mut e, "party_org", &r.party_org, 100, true);
    check_text(&mut e, "offers", r.offers.as_deref().unwrap_or(""), 500, false);
    check_text(&mut e, "contact_name", r.contact_name.as_deref().unwrap_or(""), 40, false);
    if kind == Some(RegistrationKind::Member) && !matches!(r.relation.as_deref(), Some("lives" | "works")) {
        e.push(FieldError::new("relation", "validation.choice"));
    }
    let phone = match clean(&r.contact_phone) {
        Some(p) => match crate::services::pii::normalize_phone(&p) {
            Ok(p) => Some(p),
            Err(key) => {
                e.push(FieldError::new("contact_phone", key));
                None
            }
        },
        None => None,
    };
    let own_unit = actor
        .grants
        .iter()
        .find(|g| g.role() == Role::PartnerUnit && g.community_id == Some(c))
        .and_then(|g| g.partner_unit_id);
    let unit = match kind {
        Some(RegistrationKind::Unit) if staff => r.partner_unit_id.or(own_unit),
        Some(RegistrationKind::Unit) => own_unit,
        _ => None,
    };
    if kind == Some(RegistrationKind::Unit) && unit.is_none() {
        e.push(FieldError::new(
            "partner_unit_id",
            if staff { "validation.required" } else { "participation.not_a_unit" },
        ));
    }
    let Some(kind) = kind.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let mut tx = state.db.begin().await?;
    if let Some(u) = unit {
        let exists: Option<i64> =
            query("SELECT id FROM partner_units WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                .bind(c)
                .bind(u)
                .scalar_optional(&mut tx)
                .await?;
        if exists.is_none() {
            return Err(AppError::field("partner_unit_id", "validation.reference"));
        }
    }
    // The unit's contact acts for it; staff registering a unit act for it until then.
    let acting = match unit {
        Some(u) => query("SELECT user_id FROM grants WHERE role = 'partner_unit' AND community_id = $1 AND partner_unit_id = $2 ORDER BY id LIMIT 1")
            .bind(c)
            .bind(u)
            .scalar_optional::<i64>(&mut tx)
            .await?
            .unwrap_or(actor.user_id),
        None => actor.user_id,
    };
    let sealed = phone.as_deref().map(|p| state.pii.seal_phone(p));
    let id = tx.next_id().await?;
    let now = now_ms();
    let status = if staff { RegistrationStatus::Accepted } else { RegistrationStatus::Pending };
    let inserted = query(
        "INSERT INTO registrations (community_id, id, kind, user_id, partner_unit_id, name, party_org, relation, skills, offers, contact_name,
                                    contact_phone_enc, contact_phone_hash, contact_phone_masked, show_name, status, decided_by, decided_at, registered_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)",
    )
    .bind(c)
    .bind(id)
    .bind(kind.as_str())
    .bind(acting)
    .bind(unit)
    .bind(r.name.trim())
    .bind(r.party_org.trim())
    .bind(r.relation.clone().filter(|_| kind == RegistrationKind::Member))
    .bind(crate::services::records::model::tags_to_column(&r.skills))
    .bind(clean(&r.offers))
    .bind(clean(&r.contact_name))
    .bind(sealed.as_ref().map(|s| s.enc.clone()))
    .bind(sealed.as_ref().map(|s| s.hash.clone()))
    .bind(sealed.as_ref().map(|s| s.masked.clone()))
    .bind(r.show_name)
    .bind(status.as_str())
    .bind(staff.then_some(actor.user_id))
    .bind(staff.then_some(now))
    .bind(now)
    .execute(&mut tx)
    .await;
    match inserted {
        Err(e) if crate::db::unique_violation_field(&e).is_some() => {
            return Err(AppError::Conflict("participation.already_registered"));
        }
        other => other?,
    };
    if staff && kind == RegistrationKind::Member {
        grant_member(&mut tx, acting, c).await?;
    }
    let after = json!({"kind": kind.as_str(), "name": r.name.trim(), "party_org": r.party_org.trim(), "status": status.as_str()});
    audit::record(&mut tx, c, &By::from(actor), Action::Create, "registration", id, None, Some(&after)).await?;
    let out = registration(&mut tx, c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

async fn grant_member(tx: &mut Tx, user_id: i64, community_id: i64) -> AppResult<()> {
    let has: i64 =
        query("SELECT COUNT(*) FROM grants WHERE user_id = $1 AND role = 'party_member' AND community_id = $2")
            .bind(user_id)
            .bind(community_id)
            .scalar(&mut *tx)
            .await?;
    if has == 0 {
        crate::capabilities::registry::people::users::insert_grant(
            tx,
            user_id,
            &Grant::community(Role::PartyMember, community_id),
        )
        .await?;
    }
    Ok(())
}

/// Staff accept a registration (a member becomes a party member of the community) or
/// decline it with a reason.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    accept: bool,
    reason: Option<&str>,
) -> AppResult<Registration> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !accept && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let r = registration(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if r.status != RegistrationStatus::Pending {
        return Err(AppError::Conflict("participation.already_decided"));
    }
    let decided = if accept { RegistrationStatus::Accepted } else { RegistrationStatus::Declined };
    query("UPDATE registrations SET status = $1, reason = $2, decided_by = $3, decided_at = $4, updated_at = $4 WHERE community_id = $5 AND id = $6")
        .bind(decided.as_str())
        .bind(reason)
        .bind(actor.user_id)
        .bind(now_ms())
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    if accept && r.kind == RegistrationKind::Member {
        grant_member(&mut tx, r.user_id, community_id).await?;
    }
    let text = if accept {
        format!("「{}」报到已通过", r.name)
    } else {
        format!("「{}」报到未通过：{}", r.name, reason.unwrap_or(""))
    };
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(community_id, Some(notify::Subject { kind: "registration", id }), "participation", text),
        notify::Audience::Users(vec![r.user_id]),
    )
    .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "registration",
        id,
        Some(&json!({"status": RegistrationStatus::Pending.as_str()})),
        Some(&json!({"status": decided.as_str(), "reason": reason})),
    )
    .await?;
    let out = registration(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// A registration with how active it has been this year: pledges made and fulfilled,
/// and visits to paired households.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub r: Registration,
    pub activity: i64,
    pub below: bool,
}

/// Staff read them, and those who oversee the community's figures (its subdistrict).
pub async fn registrations(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Listed>> {
    if !super::super::stats::may_see(actor, &[community_id]) {
        guard::require(actor, community_id, Permission::ManageParticipation)?;
    }
    let all: Vec<Registration> = query(format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE community_id = $1 ORDER BY status DESC, kind, name"
    ))
    .bind(community_id)
    .fetch_all(&mut *ex)
    .await?;
    let year = crate::time::day_start_ms(
        NaiveDate::from_ymd_opt(chrono::Datelike::year(&crate::web::fmt::today()), 1, 1)
            .unwrap_or_else(crate::web::fmt::today),
    );
    let pledges: Vec<(i64, i64)> = query(
        "SELECT registration_id, CAST(COUNT(*) + SUM(CASE WHEN status = 'fulfilled' THEN 1 ELSE 0 END) AS BIGINT) FROM pledges
         WHERE community_id = $1 AND created_at >= $2 AND status <> 'cancelled' GROUP BY registration_id",
    )
    .bind(community_id)
    .bind(year)
    .fetch_all(&mut *ex)
    .await?;
    let visits: Vec<(i64, i64)> = query(
        "SELECT p.user_id, COUNT(*) FROM pair_visits v JOIN pairs p ON p.community_id = v.community_id AND p.id = v.pair_id
         WHERE v.community_id = $1 AND v.created_at >= $2 GROUP BY p.user_id",
    )
    .bind(community_id)
    .bind(year)
    .fetch_all(&mut *ex)
    .await?;
    let threshold = settings::int(&mut *ex, community_id, &super::super::MIN_ACTIVITY).await?;
    Ok(all
        .into_iter()
        .map(|r| {
            let mut activity = pledges.iter().find(|p| p.0 == r.id).map(|p| p.1).unwrap_or(0);
            if r.kind == RegistrationKind::Member {
                activity += visits.iter().find(|v| v.0 == r.user_id).map(|v| v.1).unwrap_or(0);
            }
            let below = super::super::needs_reminder(r.status == RegistrationStatus::Accepted, activity, threshold);
            Listed { r, activity, below }
        })
        .collect())
}

/// Reminds each accepted registrant less active this year than the community asks.
pub async fn remind(state: &AppState, actor: &Actor, community_id: i64) -> AppResult<usize> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut conn = state.db.read().await?;
    let list = registrations(&mut conn, actor, community_id).await?;
    drop(conn);
    let due: Vec<&Listed> = list.iter().filter(|l| l.below).collect();
    let mut tx = state.db.begin().await?;
    let now = now_ms();
    for l in &due {
        let text = format!("「{}」今年参与社区需求认领和结对帮扶 {} 次，欢迎到需求清单认领", l.r.name, l.activity);
        notify::send(
            &mut tx,
            &state.bus,
            notify::Note::new(
                community_id,
                Some(notify::Subject { kind: "registration", id: l.r.id }),
                "participation",
                text,
            ),
            notify::Audience::Users(vec![l.r.user_id]),
        )
        .await?;
        query("UPDATE registrations SET reminded_at = $1 WHERE community_id = $2 AND id = $3")
            .bind(now)
            .bind(community_id)
            .bind(l.r.id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// The units and members who agreed to be listed (public).
pub async fn listed_publicly(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Registration>> {
    Ok(query(format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE community_id = $1 AND status = 'accepted' AND (kind = 'unit' OR show_name = TRUE) ORDER BY kind DESC, name"
    ))
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

/// Sets the activity a year below which registrants are reminded.
pub async fn set_threshold(state: &AppState, actor: &Actor, community_id: i64, threshold: i64) -> AppResult<()> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let value =
        settings::check(&super::super::MIN_ACTIVITY, &threshold.to_string()).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let before = settings::int(&mut tx, community_id, &super::super::MIN_ACTIVITY).await?;
    if before != threshold {
        settings::set(&mut tx, community_id, &super::super::MIN_ACTIVITY, &value).await?;
        audit::record(
            &mut tx,
            audit::PLATFORM,
            &By::from(actor),
            Action::Update,
            "community",
            community_id,
            Some(&json!({"participation_min_activity": before})),
            Some(&json!({"participation_min_activity": threshold})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
