//! Registrations, needs and pledges, pairs and visits in the database. Every function
//! takes the community first and checks the actor where data is read or written.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::NeedStatus;
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::services::media;
use crate::services::{notify, settings};
use crate::web::AppState;

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

// ---------- registrations ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Registration {
    pub community_id: i64,
    pub id: i64,
    pub kind: String,
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
    pub status: String,
    pub reason: Option<String>,
    pub reminded_at: Option<i64>,
    pub registered_at: i64,
}

impl Registration {
    /// The name as the public pages show it.
    pub fn public_name(&self) -> String {
        if self.kind == "unit" {
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
    if !super::REGISTRATION_KINDS.contains(&r.kind.as_str()) {
        e.push(FieldError::new("kind", "validation.choice"));
    }
    check_text(&mut e, "name", &r.name, 100, true);
    check_text(&mut e, "party_org", &r.party_org, 100, true);
    check_text(&mut e, "offers", r.offers.as_deref().unwrap_or(""), 500, false);
    check_text(&mut e, "contact_name", r.contact_name.as_deref().unwrap_or(""), 40, false);
    if r.kind == "member" && !matches!(r.relation.as_deref(), Some("lives" | "works")) {
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
    let unit = match r.kind.as_str() {
        "unit" if staff => r.partner_unit_id.or(own_unit),
        "unit" => own_unit,
        _ => None,
    };
    if r.kind == "unit" && unit.is_none() {
        e.push(FieldError::new(
            "partner_unit_id",
            if staff { "validation.required" } else { "participation.not_a_unit" },
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
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
    let status = if staff { "accepted" } else { "pending" };
    let inserted = query(
        "INSERT INTO registrations (community_id, id, kind, user_id, partner_unit_id, name, party_org, relation, skills, offers, contact_name,
                                    contact_phone_enc, contact_phone_hash, contact_phone_masked, show_name, status, decided_by, decided_at, registered_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)",
    )
    .bind(c)
    .bind(id)
    .bind(r.kind.as_str())
    .bind(acting)
    .bind(unit)
    .bind(r.name.trim())
    .bind(r.party_org.trim())
    .bind(r.relation.clone().filter(|_| r.kind == "member"))
    .bind(crate::services::records::model::tags_to_column(&r.skills))
    .bind(clean(&r.offers))
    .bind(clean(&r.contact_name))
    .bind(sealed.as_ref().map(|s| s.enc.clone()))
    .bind(sealed.as_ref().map(|s| s.hash.clone()))
    .bind(sealed.as_ref().map(|s| s.masked.clone()))
    .bind(r.show_name)
    .bind(status)
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
    if staff && r.kind == "member" {
        grant_member(&mut tx, acting, c).await?;
    }
    let after = json!({"kind": r.kind, "name": r.name.trim(), "party_org": r.party_org.trim(), "status": status});
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
    if r.status != "pending" {
        return Err(AppError::Conflict("participation.already_decided"));
    }
    query("UPDATE registrations SET status = $1, reason = $2, decided_by = $3, decided_at = $4, updated_at = $4 WHERE community_id = $5 AND id = $6")
        .bind(if accept { "accepted" } else { "declined" })
        .bind(reason)
        .bind(actor.user_id)
        .bind(now_ms())
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    if accept && r.kind == "member" {
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
        Some(&json!({"status": "pending"})),
        Some(&json!({"status": if accept { "accepted" } else { "declined" }, "reason": reason})),
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
    if !super::stats::may_see(actor, &[community_id]) {
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
    let threshold = settings::int(&mut *ex, community_id, &super::MIN_ACTIVITY).await?;
    Ok(all
        .into_iter()
        .map(|r| {
            let mut activity = pledges.iter().find(|p| p.0 == r.id).map(|p| p.1).unwrap_or(0);
            if r.kind == "member" {
                activity += visits.iter().find(|v| v.0 == r.user_id).map(|v| v.1).unwrap_or(0);
            }
            let below = super::needs_reminder(r.status == "accepted", activity, threshold);
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

// ---------- needs ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Need {
    pub community_id: i64,
    pub id: i64,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub quantity: i64,
    pub unit: String,
    pub pledged: i64,
    pub fulfilled: i64,
    pub deadline: Option<NaiveDate>,
    pub status: String,
    pub reason: Option<String>,
    pub suggested_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Need {
    pub fn status(&self) -> NeedStatus {
        NeedStatus::parse(&self.status).unwrap_or(NeedStatus::Open)
    }
}

const NEED_COLUMNS: &str = "community_id, id, title, description, kind, quantity, unit, pledged, fulfilled, deadline, status, reason, suggested_by, created_at, updated_at";

pub async fn need(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Need>> {
    Ok(query(format!("SELECT {NEED_COLUMNS} FROM needs WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A need as someone may see it: public ones to all, suggestions to staff and whoever
/// suggested them.
pub fn may_see(actor: Option<&Actor>, n: &Need) -> bool {
    n.status().is_public()
        || actor.is_some_and(|a| {
            a.can(n.community_id, Permission::ManageParticipation) || n.suggested_by == Some(a.user_id)
        })
}

pub async fn needs(
    ex: &mut impl Exec,
    actor: Option<&Actor>,
    community_id: i64,
    status: Option<&str>,
) -> AppResult<Vec<Need>> {
    let mut b = Builder::new(format!("SELECT {NEED_COLUMNS} FROM needs WHERE community_id = "));
    b.arg(community_id);
    if let Some(s) = status.filter(|s| !s.is_empty()) {
        b.push(" AND status = ").arg(s);
    }
    b.push(" ORDER BY CASE WHEN status IN ('open', 'in_progress', 'pledged', 'suggested') THEN 0 ELSE 1 END, created_at DESC LIMIT 500");
    let all: Vec<Need> = b.build().fetch_all(ex).await?;
    Ok(all.into_iter().filter(|n| may_see(actor, n)).collect())
}

#[derive(Debug, Clone, Default)]
pub struct NewNeed {
    pub title: String,
    pub description: String,
    pub kind: String,
    pub quantity: Option<i64>,
    pub unit: Option<String>,
    pub deadline: Option<NaiveDate>,
}

async fn event(
    tx: &mut Tx,
    community_id: i64,
    need_id: i64,
    actor: &Actor,
    what: &str,
    note: Option<&str>,
) -> AppResult<()> {
    let id = tx.next_id().await?;
    query("INSERT INTO need_events (community_id, id, need_id, at, actor_id, actor_name, what, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(community_id)
        .bind(id)
        .bind(need_id)
        .bind(now_ms())
        .bind(actor.user_id)
        .bind(actor.display_name.as_str())
        .bind(what)
        .bind(note.map(String::from))
        .execute(tx)
        .await?;
    Ok(())
}

/// Staff publish a need; anyone of the community suggests one for staff to approve.
pub async fn add_need(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    n: NewNeed,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<Need> {
    if !actor.sees_community(community_id) {
        return Err(AppError::NotFound);
    }
    let staff = actor.can(community_id, Permission::ManageParticipation);
    let mut e = Vec::new();
    check_text(&mut e, "title", &n.title, 100, true);
    check_text(&mut e, "description", &n.description, 2000, true);
    check_text(&mut e, "unit", n.unit.as_deref().unwrap_or(""), 10, false);
    if !super::NEED_KINDS.contains(&n.kind.as_str()) {
        e.push(FieldError::new("kind", "validation.choice"));
    }
    let quantity = if n.kind == "place" { n.quantity.unwrap_or(1) } else { n.quantity.unwrap_or(0) };
    if quantity <= 0 {
        e.push(FieldError::new("quantity", "participation.positive"));
    } else {
        crate::input::check_range(&mut e, "quantity", quantity, crate::input::limits::QUANTITY);
    }
    if n.deadline.is_some_and(|d| d < crate::web::fmt::today()) {
        e.push(FieldError::new("deadline", "participation.deadline_past"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let unit = clean(&n.unit).unwrap_or_else(|| match n.kind.as_str() {
        "money" => "元".into(),
        "item" => "件".into(),
        "place" => "处".into(),
        _ => "人次".into(),
    });
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO needs (community_id, id, title, description, kind, quantity, unit, deadline, status, suggested_by, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(community_id)
    .bind(id)
    .bind(n.title.trim())
    .bind(n.description.trim())
    .bind(n.kind.as_str())
    .bind(quantity)
    .bind(unit)
    .bind(n.deadline)
    .bind(if staff { "open" } else { "suggested" })
    .bind((!staff).then_some(actor.user_id))
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    if !photos.is_empty() {
        media::attach(state, &mut tx, community_id, "need", id, Some(actor.user_id), photos).await?;
    }
    event(&mut tx, community_id, id, actor, if staff { "published" } else { "suggested" }, None).await?;
    let out = need(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Staff approve or decline a suggestion, start, close or withdraw a need (withdrawing
/// cancels the pledges not yet fulfilled).
pub async fn need_act(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    action: &str,
    reason: Option<&str>,
) -> AppResult<Need> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if matches!(action, "decline" | "withdraw") && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let n = need(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    let to = super::staff_step(n.status(), action).map_err(|k| AppError::field("action", k))?;
    let mut pledged = n.pledged;
    if to == NeedStatus::Withdrawn {
        query("UPDATE pledges SET status = 'cancelled', updated_at = $1 WHERE community_id = $2 AND need_id = $3 AND status IN ('pledged', 'submitted')")
            .bind(now_ms())
            .bind(community_id)
            .bind(id)
            .execute(&mut tx)
            .await?;
        pledged = n.fulfilled;
    }
    query("UPDATE needs SET status = $1, reason = COALESCE($2, reason), pledged = $3, updated_at = $4 WHERE community_id = $5 AND id = $6 AND status = $7")
        .bind(to.as_str())
        .bind(reason)
        .bind(pledged)
        .bind(now_ms())
        .bind(community_id)
        .bind(id)
        .bind(n.status.as_str())
        .execute(&mut tx)
        .await?;
    event(&mut tx, community_id, id, actor, to.as_str(), reason).await?;
    if let (Some(s), NeedStatus::Open | NeedStatus::Declined) = (n.suggested_by, to) {
        let text = if to == NeedStatus::Open {
            format!("你提出的需求「{}」已发布", n.title)
        } else {
            format!("你提出的需求「{}」未采纳：{}", n.title, reason.unwrap_or(""))
        };
        notify::send(
            &mut tx,
            &state.bus,
            notify::Note::new(community_id, Some(notify::Subject { kind: "need", id }), "participation", text),
            notify::Audience::Users(vec![s]),
        )
        .await?;
    }
    let out = need(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NeedEvent {
    pub at: i64,
    pub actor_name: String,
    pub what: String,
    pub note: Option<String>,
}

pub async fn history(ex: &mut impl Exec, community_id: i64, need_id: i64) -> AppResult<Vec<NeedEvent>> {
    Ok(query(
        "SELECT at, actor_name, what, note FROM need_events WHERE community_id = $1 AND need_id = $2 ORDER BY at, id",
    )
    .bind(community_id)
    .bind(need_id)
    .fetch_all(ex)
    .await?)
}

// ---------- pledges ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pledge {
    pub community_id: i64,
    pub id: i64,
    pub need_id: i64,
    pub need_title: String,
    pub registration_id: i64,
    pub registrant: String,
    pub registrant_kind: String,
    pub show_name: bool,
    pub user_id: i64,
    pub kind: String,
    pub amount: i64,
    pub status: String,
    pub note: Option<String>,
    pub evidence: Option<String>,
    pub evidence_amount: Option<i64>,
    pub served_on: Option<NaiveDate>,
    pub minutes: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub service_record_id: Option<i64>,
    pub created_at: i64,
}

impl Pledge {
    /// Who pledged, as the public board shows it.
    pub fn public_name(&self) -> String {
        if self.registrant_kind == "unit" {
            self.registrant.clone()
        } else {
            crate::services::pii::public_name(&self.registrant, self.show_name)
        }
    }
}

const PLEDGE_SELECT: &str = "SELECT p.community_id, p.id, p.need_id, n.title AS need_title, p.registration_id, r.name AS registrant, r.kind AS registrant_kind,
    r.show_name, r.user_id, p.kind, p.amount, p.status, p.note, p.evidence, p.evidence_amount, p.served_on, p.minutes, p.confirmed_at,
    p.service_record_id, p.created_at
    FROM pledges p JOIN needs n ON n.community_id = p.community_id AND n.id = p.need_id
    JOIN registrations r ON r.community_id = p.community_id AND r.id = p.registration_id";

pub async fn pledge(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Pledge>> {
    Ok(query(format!("{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

pub async fn pledges_of_need(ex: &mut impl Exec, community_id: i64, need_id: i64) -> AppResult<Vec<Pledge>> {
    Ok(query(format!("{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.need_id = $2 ORDER BY p.created_at"))
        .bind(community_id)
        .bind(need_id)
        .fetch_all(ex)
        .await?)
}

pub async fn pledges_of(ex: &mut impl Exec, community_id: i64, registration_id: i64) -> AppResult<Vec<Pledge>> {
    Ok(query(format!(
        "{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.registration_id = $2 ORDER BY p.created_at DESC"
    ))
    .bind(community_id)
    .bind(registration_id)
    .fetch_all(ex)
    .await?)
}

/// The public board: the public needs, each with its pledges (none cancelled), read in two
/// queries whatever the number of needs.
pub async fn board(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(Need, Vec<Pledge>)>> {
    let list = needs(&mut *ex, None, community_id, None).await?;
    let mut b = Builder::new(format!("{PLEDGE_SELECT} WHERE p.status <> 'cancelled' AND p.community_id = "));
    b.arg(community_id).push(" AND p.need_id IN ").list(list.iter().map(|n| n.id)).push(" ORDER BY p.created_at");
    let all: Vec<Pledge> = b.build().fetch_all(ex).await?;
    Ok(list
        .into_iter()
        .map(|n| {
            let of: Vec<Pledge> = all.iter().filter(|p| p.need_id == n.id).cloned().collect();
            (n, of)
        })
        .collect())
}

/// Pledges waiting for staff to confirm their fulfilment.
pub async fn to_confirm(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Pledge>> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    Ok(query(format!("{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.status = 'submitted' ORDER BY p.updated_at"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// A registered, accepted unit or member pledges to a need in one of the four ways. The
/// need is never over-filled: a pledge beyond what is left is refused, or trimmed to it.
#[allow(clippy::too_many_arguments)]
pub async fn make_pledge(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    need_id: i64,
    registration_id: Option<i64>,
    kind: &str,
    amount: Option<i64>,
    trim: bool,
    note: Option<String>,
) -> AppResult<Pledge> {
    if !super::PLEDGE_KINDS.contains(&kind) {
        return Err(AppError::field("kind", "validation.choice"));
    }
    let mut tx = state.db.begin().await?;
    let mine = mine(&mut tx, community_id, actor.user_id).await?;
    let reg = match registration_id {
        Some(r) => mine.into_iter().find(|x| x.id == r),
        None => mine.into_iter().find(|x| x.status == "accepted"),
    };
    let Some(reg) = reg.filter(|r| r.status == "accepted") else {
        return Err(AppError::Conflict("participation.not_registered"));
    };
    let n =
        need(&mut tx, community_id, need_id).await?.filter(|n| may_see(Some(actor), n)).ok_or(AppError::NotFound)?;
    if !n.status().takes_pledges() {
        return Err(AppError::Conflict(if n.status() == NeedStatus::Pledged {
            "participation.nothing_left_need"
        } else {
            "participation.need_closed"
        }));
    }
    let asked = amount.unwrap_or(if n.kind == "place" { 1 } else { 0 });
    let take = super::fit(asked, n.quantity, n.pledged, trim).map_err(|e| AppError::Invalid(vec![e]))?;
    // Guarded: a pledge that would over-fill (another got there first) changes nothing.
    let took = query(
        "UPDATE needs SET pledged = pledged + $1, updated_at = $2 WHERE community_id = $3 AND id = $4 AND pledged + $1 <= quantity AND status IN ('open', 'in_progress')",
    )
    .bind(take)
    .bind(now_ms())
    .bind(community_id)
    .bind(need_id)
    .execute(&mut tx)
    .await?;
    if took == 0 {
        let left = need(&mut tx, community_id, need_id).await?.map(|n| n.quantity - n.pledged).unwrap_or(0);
        return Err(AppError::Invalid(vec![FieldError::new("amount", "participation.over_left").with("left", left)]));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query("INSERT INTO pledges (community_id, id, need_id, registration_id, kind, amount, note, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(community_id)
        .bind(id)
        .bind(need_id)
        .bind(reg.id)
        .bind(kind)
        .bind(take)
        .bind(clean(&note))
        .bind(now)
        .execute(&mut tx)
        .await?;
    resettle(&mut tx, community_id, need_id).await?;
    let what = format!("pledge:{kind}");
    let shown = if take < asked {
        format!("{} {take}{}（按剩余认领）", reg.name, n.unit)
    } else {
        format!("{} {take}{}", reg.name, n.unit)
    };
    event(&mut tx, community_id, need_id, actor, &what, Some(&shown)).await?;
    let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Puts a need in the state its amounts call for.
async fn resettle(tx: &mut Tx, community_id: i64, need_id: i64) -> AppResult<()> {
    let n = need(&mut *tx, community_id, need_id).await?.ok_or(AppError::NotFound)?;
    let to = super::settle(n.status(), n.quantity, n.pledged, n.fulfilled);
    if to != n.status() {
        query("UPDATE needs SET status = $1 WHERE community_id = $2 AND id = $3")
            .bind(to.as_str())
            .bind(community_id)
            .bind(need_id)
            .execute(tx)
            .await?;
    }
    Ok(())
}

/// What the pledger shows as done.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub note: String,
    pub amount: Option<i64>,
    pub served_on: Option<NaiveDate>,
    pub minutes: Option<i64>,
}

/// The pledger (and only they) reports a pledge done, with evidence; staff confirm it.
pub async fn fulfil(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    ev: Evidence,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<Pledge> {
    let mut e = Vec::new();
    check_text(&mut e, "note", &ev.note, 1000, true);
    match ev.amount {
        Some(a) if a <= 0 => e.push(FieldError::new("amount", "participation.positive")),
        Some(a) => crate::input::check_range(&mut e, "amount", a, crate::input::limits::QUANTITY),
        None => {}
    }
    if ev.minutes.is_some_and(|m| m <= 0 || m > 24 * 60) {
        e.push(FieldError::new("minutes", "validation.range").with("min", 1).with("max", 1440));
    }
    if ev.served_on.is_some_and(|d| d > crate::web::fmt::today()) {
        e.push(FieldError::new("served_on", "points.in_future"));
    }
    let mut tx = state.db.begin().await?;
    let p = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.user_id != actor.user_id {
        // Someone else's pledge is not theirs to fulfil; staff confirm instead.
        return Err(if actor.can(community_id, Permission::ManageParticipation) {
            AppError::Conflict("participation.not_yours")
        } else {
            AppError::NotFound
        });
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    if p.status != "pledged" {
        return Err(AppError::Conflict("participation.not_pledged"));
    }
    query(
        "UPDATE pledges SET status = 'submitted', evidence = $1, evidence_amount = $2, served_on = $3, minutes = $4, submitted_at = $5, updated_at = $5
         WHERE community_id = $6 AND id = $7 AND status = 'pledged'",
    )
    .bind(ev.note.trim())
    .bind(ev.amount)
    .bind(ev.served_on)
    .bind(ev.minutes)
    .bind(now_ms())
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if !photos.is_empty() {
        media::attach(state, &mut tx, community_id, "pledge", id, Some(actor.user_id), photos).await?;
    }
    event(&mut tx, community_id, p.need_id, actor, "fulfilment", Some(ev.note.trim())).await?;
    let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Staff confirm a fulfilled pledge: the need counts it, and a volunteer's service becomes
/// a service record waiting for approval. Or they send it back with a reason.
pub async fn confirm(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    accept: bool,
    reason: Option<&str>,
) -> AppResult<Pledge> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !accept && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let p = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.status != "submitted" {
        return Err(AppError::Conflict("participation.not_submitted"));
    }
    let now = now_ms();
    if !accept {
        query("UPDATE pledges SET status = 'pledged', updated_at = $1 WHERE community_id = $2 AND id = $3")
            .bind(now)
            .bind(community_id)
            .bind(id)
            .execute(&mut tx)
            .await?;
        event(&mut tx, community_id, p.need_id, actor, "returned", reason).await?;
        notify::send(
            &mut tx,
            &state.bus,
            notify::Note::new(
                community_id,
                Some(notify::Subject { kind: "need", id: p.need_id }),
                "participation",
                format!("「{}」的完成情况需补充：{}", p.need_title, reason.unwrap_or("")),
            ),
            notify::Audience::Users(vec![p.user_id]),
        )
        .await?;
        let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        return Ok(out);
    }
    query("UPDATE pledges SET status = 'fulfilled', confirmed_by = $1, confirmed_at = $2, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(actor.user_id)
        .bind(now)
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    query("UPDATE needs SET fulfilled = fulfilled + $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(p.amount)
        .bind(now)
        .bind(community_id)
        .bind(p.need_id)
        .execute(&mut tx)
        .await?;
    resettle(&mut tx, community_id, p.need_id).await?;
    // Service given by a volunteer is service: a record for staff to approve.
    if let (Some(day), Some(minutes)) = (p.served_on, p.minutes)
        && crate::capabilities::points::store::volunteer_of(&mut tx, community_id, p.user_id).await?.is_some()
    {
        let start = crate::time::day_start_ms(day) + 9 * crate::time::HOUR_MS;
        let pledger = crate::auth::session::load_actor(&mut tx, p.user_id, String::new(), p.registrant.clone()).await?;
        let service = crate::capabilities::points::store::NewService {
            volunteer_id: None,
            team_id: None,
            service_type: "other".into(),
            content: format!("认领需求：{}", p.need_title),
            place: None,
            started_at: Some(start),
            ended_at: Some(start + minutes * crate::time::MINUTE_MS),
            minutes: Some(minutes),
        };
        let sp = tx.savepoint().await?;
        match crate::capabilities::points::store::record_service(
            state,
            &mut tx,
            &pledger,
            community_id,
            &service,
            crate::capabilities::points::Source::Pledge,
            Some(id),
            &[],
        )
        .await
        {
            Ok(r) => {
                tx.release(sp).await?;
                query("UPDATE pledges SET service_record_id = $1 WHERE community_id = $2 AND id = $3")
                    .bind(r.id)
                    .bind(community_id)
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
            }
            Err(AppError::Invalid(_)) => tx.rollback_to(sp).await?,
            Err(e) => return Err(e),
        }
    }
    event(&mut tx, community_id, p.need_id, actor, "confirmed", Some(&format!("{} {}", p.registrant, p.amount)))
        .await?;
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(
            community_id,
            Some(notify::Subject { kind: "need", id: p.need_id }),
            "participation",
            format!("「{}」已确认完成，感谢！", p.need_title),
        ),
        notify::Audience::Users(vec![p.user_id]),
    )
    .await?;
    let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

// ---------- pairs ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pair {
    pub community_id: i64,
    pub id: i64,
    pub kind: String,
    pub user_id: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub every_days: i64,
    pub note: Option<String>,
    pub last_visit: Option<NaiveDate>,
    pub visits: i64,
}

/// A pair with its households and whether its visits are overdue.
#[derive(Debug, Clone, Serialize)]
pub struct PairView {
    #[serde(flatten)]
    pub pair: Pair,
    pub households: Vec<(i64, String)>,
    pub overdue_days: Option<i64>,
}

/// Takes the community as `$1` (so that Citus routes the subqueries to its shard too).
const PAIR_SELECT: &str =
    "SELECT p.community_id, p.id, p.kind, p.user_id, p.name, p.starts_on, p.ends_on, p.every_days, p.note,
    (SELECT MAX(v.visited_on) FROM pair_visits v WHERE v.community_id = $1 AND v.pair_id = p.id) AS last_visit,
    (SELECT COUNT(*) FROM pair_visits v WHERE v.community_id = $1 AND v.pair_id = p.id) AS visits
    FROM pairs p";

async fn views(ex: &mut impl Exec, community_id: i64, pairs: Vec<Pair>) -> AppResult<Vec<PairView>> {
    let mut b = Builder::new(
        "SELECT ph.pair_id, h.id, h.address FROM pair_households ph JOIN households h ON h.community_id = ph.community_id AND h.id = ph.household_id WHERE ph.community_id = ",
    );
    b.arg(community_id).push(" AND ph.pair_id IN ").list(pairs.iter().map(|p| p.id));
    let households: Vec<(i64, i64, String)> = b.build().fetch_all(ex).await?;
    let today = crate::web::fmt::today();
    Ok(pairs
        .into_iter()
        .map(|p| PairView {
            households: households.iter().filter(|h| h.0 == p.id).map(|h| (h.1, h.2.clone())).collect(),
            overdue_days: super::visit_overdue(p.starts_on, p.ends_on, p.last_visit, p.every_days, today),
            pair: p,
        })
        .collect())
}

/// What judging a pair's visits needs (`visit_overdue`): its schedule and its last visit.
/// `community` is the community's parameter (`$1`) where there is one, so that Citus
/// routes the subquery to its shard, or `pairs.community_id` over several communities.
pub fn pair_schedule(community: &str) -> String {
    format!(
        "starts_on, ends_on, every_days, (SELECT MAX(v.visited_on) FROM pair_visits v WHERE v.community_id = {community} AND v.pair_id = pairs.id)"
    )
}

/// How many of a community's pairs are late with their visits today (for staff).
pub async fn overdue_pairs(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<usize> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let schedules: Vec<(NaiveDate, Option<NaiveDate>, i64, Option<NaiveDate>)> =
        query(format!("SELECT {} FROM pairs WHERE community_id = $1", pair_schedule("$1")))
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    let today = crate::web::fmt::today();
    Ok(schedules
        .into_iter()
        .filter(|&(s, e, every, last)| super::visit_overdue(s, e, last, every, today).is_some())
        .count())
}

/// Pairs: staff see all, others their own.
pub async fn pairs(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<PairView>> {
    if !actor.sees_community(community_id) {
        return Err(AppError::NotFound);
    }
    let mut b = Builder::new(format!("{PAIR_SELECT} WHERE p.community_id = "));
    b.arg(community_id);
    if !actor.can(community_id, Permission::ManageParticipation) {
        b.push(" AND p.user_id = ").arg(actor.user_id);
    }
    b.push(" ORDER BY p.name LIMIT 1000");
    let list: Vec<Pair> = b.build().fetch_all(&mut *ex).await?;
    views(ex, community_id, list).await
}

pub async fn pair_for(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<PairView> {
    let p: Pair = query(format!("{PAIR_SELECT} WHERE p.community_id = $1 AND p.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(&mut *ex)
        .await?
        .ok_or(AppError::NotFound)?;
    if p.user_id != actor.user_id && !actor.can(community_id, Permission::ManageParticipation) {
        return Err(AppError::NotFound);
    }
    Ok(views(ex, community_id, vec![p]).await?.remove(0))
}

#[derive(Debug, Clone, Default)]
pub struct NewPair {
    pub kind: String,
    pub user_id: Option<i64>,
    pub households: Vec<i64>,
    /// Households named by their address (门牌) as staff know them, each to match one.
    pub addresses: Vec<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub every_days: Option<i64>,
    pub note: Option<String>,
}

/// Staff pair a party member (党群1+1) or a volunteer with households.
pub async fn add_pair(state: &AppState, actor: &Actor, community_id: i64, n: NewPair) -> AppResult<PairView> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    if !matches!(n.kind.as_str(), "party" | "volunteer") {
        e.push(FieldError::new("kind", "validation.choice"));
    }
    if n.households.is_empty() && n.addresses.is_empty() {
        e.push(FieldError::new("households", "validation.required"));
    }
    crate::input::check_count(&mut e, "households", n.households.len());
    crate::input::check_count(&mut e, "addresses", n.addresses.len());
    let every = n.every_days.unwrap_or(7);
    if !(1..=365).contains(&every) {
        e.push(FieldError::new("every_days", "validation.range").with("min", 1).with("max", 365));
    }
    let starts = n.starts_on.unwrap_or_else(crate::web::fmt::today);
    if n.ends_on.is_some_and(|end| end < starts) {
        e.push(FieldError::new("ends_on", "points.ends_before_start"));
    }
    let mut tx = state.db.begin().await?;
    let name: Option<String> = match n.user_id {
        Some(u) => {
            let ok = match n.kind.as_str() {
                "party" => query("SELECT u.display_name FROM users u WHERE u.id = $1 AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = 'party_member' AND g.community_id = $2)"),
                _ => query("SELECT v.name FROM volunteers v WHERE v.user_id = $1 AND v.community_id = $2 AND v.archived_at IS NULL"),
            }
            .bind(u)
            .bind(community_id)
            .scalar_optional::<String>(&mut tx)
            .await?;
            if ok.is_none() {
                e.push(FieldError::new(
                    "user_id",
                    if n.kind == "party" { "participation.not_party_member" } else { "points.not_volunteer" },
                ));
            }
            ok
        }
        None => {
            e.push(FieldError::new("user_id", "validation.required"));
            None
        }
    };
    let mut wanted = n.households.clone();
    if !n.addresses.is_empty() {
        let mut b = Builder::new("SELECT id, address FROM households WHERE archived_at IS NULL AND community_id = ");
        b.arg(community_id).push(" AND address IN ").list(n.addresses.iter().cloned());
        let known: Vec<(i64, String)> = b.build().fetch_all(&mut tx).await?;
        for address in &n.addresses {
            let mut matching = known.iter().filter(|(_, a)| a == address);
            match (matching.next(), matching.next()) {
                (Some((id, _)), None) => wanted.push(*id),
                (None, _) => {
                    e.push(FieldError::new("household_ids", "participation.no_such_address").with("address", address))
                }
                (Some(_), Some(_)) => e.push(
                    FieldError::new("household_ids", "participation.address_not_unique").with("address", address),
                ),
            }
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut b = Builder::new("SELECT id FROM households WHERE archived_at IS NULL AND community_id = ");
    b.arg(community_id).push(" AND id IN ").list(wanted.iter().copied());
    let found: Vec<i64> = b.build().scalars(&mut tx).await?;
    if found.len() != wanted.len() {
        e.push(FieldError::new("households", "validation.reference"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO pairs (community_id, id, kind, user_id, name, starts_on, ends_on, every_days, note, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(community_id)
    .bind(id)
    .bind(n.kind.as_str())
    .bind(n.user_id)
    .bind(name.unwrap_or_default())
    .bind(starts)
    .bind(n.ends_on)
    .bind(every)
    .bind(clean(&n.note))
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    for h in found {
        query("INSERT INTO pair_households (community_id, pair_id, household_id) VALUES ($1, $2, $3)")
            .bind(community_id)
            .bind(id)
            .bind(h)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "pair",
        id,
        None,
        Some(&json!({"kind": n.kind, "user_id": n.user_id, "households": n.households, "every_days": every})),
    )
    .await?;
    let out = pair_for(&mut tx, actor, community_id, id).await?;
    tx.commit().await?;
    Ok(out)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Visit {
    pub id: i64,
    pub pair_id: i64,
    pub household_id: i64,
    pub visited_on: NaiveDate,
    pub done: String,
    pub found: Option<String>,
    pub ticket_id: Option<i64>,
}

pub async fn visits(ex: &mut impl Exec, community_id: i64, pair_id: i64) -> AppResult<Vec<Visit>> {
    Ok(query("SELECT id, pair_id, household_id, visited_on, done, found, ticket_id FROM pair_visits WHERE community_id = $1 AND pair_id = $2 ORDER BY visited_on DESC, id DESC")
        .bind(community_id)
        .bind(pair_id)
        .fetch_all(ex)
        .await?)
}

/// The paired person (or staff) logs a visit: when, what was done, what was found.
pub async fn add_visit(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    pair_id: i64,
    household_id: Option<i64>,
    visited_on: Option<NaiveDate>,
    done: &str,
    found: Option<String>,
) -> AppResult<Visit> {
    let mut tx = state.db.begin().await?;
    let p = pair_for(&mut tx, actor, community_id, pair_id).await?;
    let mut e = Vec::new();
    check_text(&mut e, "done", done, 1000, true);
    let day = visited_on.unwrap_or_else(crate::web::fmt::today);
    if day > crate::web::fmt::today() {
        e.push(FieldError::new("visited_on", "points.in_future"));
    } else if day < p.pair.starts_on {
        e.push(FieldError::new("visited_on", "participation.before_pair"));
    }
    let household = household_id.or_else(|| (p.households.len() == 1).then(|| p.households[0].0));
    if !household.is_some_and(|h| p.households.iter().any(|x| x.0 == h)) {
        e.push(FieldError::new("household_id", "validation.reference"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = tx.next_id().await?;
    query("INSERT INTO pair_visits (community_id, id, pair_id, household_id, visited_on, done, found, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(community_id)
        .bind(id)
        .bind(pair_id)
        .bind(household)
        .bind(day)
        .bind(done.trim())
        .bind(clean(&found))
        .bind(actor.user_id)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    let mut conn = state.db.read().await?;
    visits(&mut conn, community_id, pair_id).await?.into_iter().find(|v| v.id == id).ok_or(AppError::NotFound)
}

/// What a visit found becomes a ticket (once).
pub async fn visit_to_ticket(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    visit_id: i64,
    category_id: Option<i64>,
) -> AppResult<i64> {
    let mut conn = state.db.read().await?;
    let v: Option<(i64, i64, Option<String>, Option<i64>)> =
        query("SELECT pair_id, household_id, found, ticket_id FROM pair_visits WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(visit_id)
            .fetch_optional(&mut conn)
            .await?;
    let (pair, household, found, ticket) = v.ok_or(AppError::NotFound)?;
    pair_for(&mut conn, actor, community_id, pair).await?;
    drop(conn);
    if let Some(t) = ticket {
        return Ok(t);
    }
    let Some(found) = found.filter(|f| !f.trim().is_empty()) else {
        return Err(AppError::field("found", "participation.nothing_found"));
    };
    let new = crate::capabilities::tickets::store::NewTicket {
        category_id,
        description: found,
        channel: Some(crate::capabilities::tickets::Channel::Patrol),
        household_id: Some(household),
        submitter_name: Some(actor.display_name.clone()),
        idempotency_key: Some(format!("visit:{visit_id}")),
        ..Default::default()
    };
    // The visitor may not reach the household in the registry: the ticket is raised for them.
    let (t, _) = crate::capabilities::tickets::store::submit(state, community_id, None, new, Vec::new()).await?;
    let mut tx = state.db.begin().await?;
    query("UPDATE pair_visits SET ticket_id = $1 WHERE community_id = $2 AND id = $3 AND ticket_id IS NULL")
        .bind(t.id)
        .bind(community_id)
        .bind(visit_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(t.id)
}

/// Households with residents who need care (care tags) and no pair looking after them.
pub async fn uncovered(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<(i64, String, String)>> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let today = crate::web::fmt::today();
    let rows: Vec<(i64, String, String)> = query(
        "SELECT h.id, h.address, r.care_tags FROM households h JOIN residents r ON r.community_id = h.community_id AND r.household_id = h.id
         WHERE h.community_id = $1 AND h.archived_at IS NULL AND r.archived_at IS NULL AND r.care_tags <> ''
           AND NOT EXISTS (SELECT 1 FROM pair_households ph JOIN pairs p ON p.community_id = ph.community_id AND p.id = ph.pair_id
                           WHERE ph.community_id = $1 AND ph.household_id = h.id AND (p.ends_on IS NULL OR p.ends_on >= $2))
         ORDER BY h.address",
    )
    .bind(community_id)
    .bind(today)
    .fetch_all(ex)
    .await?;
    let mut out: Vec<(i64, String, String)> = Vec::new();
    for (id, address, tags) in rows {
        let tags = crate::services::records::model::tags_from_column(&tags).join("、");
        match out.last_mut() {
            Some(last) if last.0 == id => {
                if !last.2.contains(&tags) {
                    last.2 = format!("{}、{tags}", last.2);
                }
            }
            _ => out.push((id, address, tags)),
        }
    }
    Ok(out)
}

/// Sets the activity a year below which registrants are reminded.
pub async fn set_threshold(state: &AppState, actor: &Actor, community_id: i64, threshold: i64) -> AppResult<()> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let value =
        settings::check(&super::MIN_ACTIVITY, &threshold.to_string()).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let before = settings::int(&mut tx, community_id, &super::MIN_ACTIVITY).await?;
    if before != threshold {
        settings::set(&mut tx, community_id, &super::MIN_ACTIVITY, &value).await?;
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

/// Photos of a need: seen by whoever may see the need.
pub fn need_media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move {
        Ok(need(&mut state.db.read().await?, m.community_id, m.owner_id)
            .await?
            .is_some_and(|n| may_see(Some(actor), &n)))
    })
}

/// Evidence of a pledge: seen by those of the community who may see its need.
pub fn pledge_media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let Some(p) = pledge(&mut conn, m.community_id, m.owner_id).await? else { return Ok(false) };
        Ok(need(&mut conn, m.community_id, p.need_id).await?.is_some_and(|n| may_see(Some(actor), &n)))
    })
}
