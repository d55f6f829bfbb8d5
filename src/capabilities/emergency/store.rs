//! Emergencies in the database: incidents and their steps, the welfare checks made on
//! activation (one per household of the covered grids, tiered by care tags), the broadcast,
//! and each change to a check kept with its key, applied or kept as a conflict.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    CheckChange, CheckStatus, IncidentKind, IncidentStatus, Level, Need, Tally, applies, check_change, next_status,
    tier,
};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::participation;
use crate::db::{Arg, Builder, Exec, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::notify::{self, Audience, Note, Subject};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Incident {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: IncidentKind,
    #[sqlx(try_from = "String")]
    pub level: Level,
    pub title: String,
    pub commander_id: Option<i64>,
    pub commander: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: IncidentStatus,
    pub activated_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
}

const INCIDENT: &str = "SELECT i.id, i.kind, i.level, i.title, i.commander_id, u.display_name AS commander, i.status, \
     i.activated_at, i.closed_at, i.created_at FROM incidents i LEFT JOIN users u ON u.id = i.commander_id";

/// A community's incidents, the newest first.
pub async fn incidents(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Incident>> {
    Ok(query(format!("{INCIDENT} WHERE i.community_id = $1 ORDER BY i.created_at DESC LIMIT 100"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn incident(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Incident> {
    query(format!("{INCIDENT} WHERE i.community_id = $1 AND i.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// The grids an incident covers, by name.
pub async fn grids_of(ex: &mut impl Exec, community_id: i64, incident_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(query(
        "SELECT g.id, g.name FROM incident_grids x JOIN grids g ON g.community_id = x.community_id AND g.id = x.grid_id \
         WHERE x.community_id = $1 AND x.incident_id = $2 ORDER BY g.id",
    )
    .bind(community_id)
    .bind(incident_id)
    .fetch_all(ex)
    .await?)
}

/// The timeline: each step with who and when.
pub async fn steps(
    ex: &mut impl Exec,
    community_id: i64,
    incident_id: i64,
) -> AppResult<Vec<(String, Option<String>, String, i64)>> {
    Ok(query(
        "SELECT s.status, s.note, u.display_name, s.at FROM incident_steps s JOIN users u ON u.id = s.actor_id \
         WHERE s.community_id = $1 AND s.incident_id = $2 ORDER BY s.at, s.id",
    )
    .bind(community_id)
    .bind(incident_id)
    .fetch_all(ex)
    .await?)
}

/// An incident as staff prepare it: no grids means the whole community.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub kind: IncidentKind,
    pub level: Level,
    pub title: String,
    pub grids: Vec<i64>,
    pub commander_id: Option<i64>,
    /// The subdistrict's incident it is part of, if it is.
    pub group_id: Option<i64>,
}

async fn log_step(
    tx: &mut Tx,
    actor: &Actor,
    c: i64,
    incident: i64,
    to: IncidentStatus,
    note: Option<&str>,
) -> AppResult<()> {
    let id = tx.next_id().await?;
    query("INSERT INTO incident_steps (community_id, id, incident_id, status, note, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(c)
        .bind(id)
        .bind(incident)
        .bind(to.as_str())
        .bind(note.map(str::to_string))
        .bind(actor.user_id)
        .bind(now_ms())
        .execute(tx)
        .await?;
    Ok(())
}

/// Staff prepare an incident over some grids of the community (all, when none are named);
/// a grid of another community is refused naming `grids`.
pub async fn create(state: &AppState, actor: &Actor, c: &CommunityRef, n: NewIncident) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "title", &n.title, 60, true);
    let mut tx = state.db.begin().await?;
    let all: Vec<i64> = query("SELECT id FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY id")
        .bind(c.id)
        .scalars(&mut tx)
        .await?;
    let grids = if n.grids.is_empty() { all.clone() } else { n.grids.clone() };
    if grids.iter().any(|g| !all.contains(g)) {
        e.push(FieldError::new("grids", "validation.reference"));
    }
    if let Some(u) = n.commander_id {
        let staff: i64 =
            query("SELECT COUNT(*) FROM grants WHERE community_id = $1 AND user_id = $2 AND role IN ($3, $4)")
                .bind(c.id)
                .bind(u)
                .bind(Role::CommunityStaff.as_str())
                .bind(Role::CommunitySecretary.as_str())
                .scalar(&mut tx)
                .await?;
        if staff == 0 {
            e.push(FieldError::new("commander_id", "validation.reference"));
        }
    }
    if grids.is_empty() {
        e.push(FieldError::new("grids", "emergency.no_grids"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO incidents (community_id, id, kind, level, title, commander_id, status, created_by, created_at, updated_at, group_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
    )
    .bind(c.id)
    .bind(id)
    .bind(n.kind.as_str())
    .bind(n.level.as_str())
    .bind(n.title.trim().to_string())
    .bind(n.commander_id)
    .bind(IncidentStatus::Prepared.as_str())
    .bind(actor.user_id)
    .bind(now)
    .bind(n.group_id)
    .execute(&mut tx)
    .await?;
    let rows: Vec<Vec<Arg>> = grids.iter().map(|g| vec![c.id.into(), id.into(), (*g).into()]).collect();
    insert_many(&mut tx, "incident_grids", &["community_id", "incident_id", "grid_id"], rows).await?;
    log_step(&mut tx, actor, c.id, id, IncidentStatus::Prepared, None).await?;
    let after = json!({"kind": n.kind.as_str(), "level": n.level.as_str(), "title": n.title, "grids": grids});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "incident", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Moves an incident one step on, logged. Its first activation makes the welfare checks
/// and sends the broadcast, in the same transaction. Answers how many checks were made.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    to: IncidentStatus,
    note: Option<&str>,
) -> AppResult<usize> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let mut e = Vec::new();
    if let Some(n) = note {
        crate::input::check_text(&mut e, "note", n, 200, false);
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let i = incident(&mut tx, c.id, id).await?;
    next_status(i.status, to).map_err(AppError::Conflict)?;
    let now = now_ms();
    let first = to == IncidentStatus::Activated && i.activated_at.is_none();
    let n = query(
        "UPDATE incidents SET status = $1, updated_at = $2, activated_at = CASE WHEN $3 THEN $2 ELSE activated_at END, \
         closed_at = CASE WHEN $4 THEN $2 ELSE closed_at END WHERE community_id = $5 AND id = $6 AND status = $7",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(first)
    .bind(to == IncidentStatus::Closed)
    .bind(c.id)
    .bind(id)
    .bind(i.status.as_str())
    .execute(&mut tx)
    .await?;
    if n == 0 {
        return Err(AppError::Conflict("emergency.changed"));
    }
    log_step(&mut tx, actor, c.id, id, to, note).await?;
    let made = if first { make_checks(&mut tx, c.id, id).await? } else { 0 };
    if first {
        super::plans::act(&mut tx, state, c, &i).await?;
    }
    if to == IncidentStatus::Activated {
        broadcast(&mut tx, state, c, &i, note).await?;
    }
    let after = json!({"status": to.as_str(), "from": i.status.as_str(), "checks": made});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "incident", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(made)
}

/// One welfare check per household of the covered grids, tiered by its residents' care
/// tags, assigned to the grid's worker. Written in bulk.
async fn make_checks(tx: &mut Tx, community_id: i64, incident_id: i64) -> AppResult<usize> {
    let rows: Vec<(i64, i64, Option<i64>, Option<String>)> = query(
        // Every table pinned to the community, so that Citus runs it on the one shard.
        "SELECT h.id, h.grid_id, g.worker_user_id, r.care_tags FROM incident_grids x \
         JOIN households h ON h.community_id = $1 AND h.grid_id = x.grid_id AND h.archived_at IS NULL \
         JOIN grids g ON g.community_id = $1 AND g.id = h.grid_id \
         LEFT JOIN residents r ON r.community_id = $1 AND r.household_id = h.id AND r.archived_at IS NULL \
         WHERE x.community_id = $1 AND x.incident_id = $2 ORDER BY h.id",
    )
    .bind(community_id)
    .bind(incident_id)
    .fetch_all(&mut *tx)
    .await?;
    // A household's tags: every tag of its residents, each once.
    let mut households: BTreeMap<i64, (i64, Option<i64>, Vec<String>)> = BTreeMap::new();
    for (h, grid, worker, tags) in rows {
        let entry = households.entry(h).or_insert((grid, worker, Vec::new()));
        for t in crate::services::records::model::tags_from_column(tags.as_deref().unwrap_or("")) {
            if !entry.2.contains(&t) {
                entry.2.push(t);
            }
        }
    }
    let one = crate::services::settings::tags(&mut *tx, community_id, &super::TIER_ONE).await?;
    let two = crate::services::settings::tags(&mut *tx, community_id, &super::TIER_TWO).await?;
    let ids = tx.next_ids(households.len()).await?;
    let now = now_ms();
    let rows: Vec<Vec<Arg>> = households
        .into_iter()
        .zip(ids)
        .map(|((h, (grid, worker, tags)), id)| {
            let t = tier(tags.iter().map(String::as_str), (&one, &two));
            vec![
                community_id.into(),
                id.into(),
                incident_id.into(),
                h.into(),
                grid.into(),
                t.into(),
                crate::services::records::model::tags_to_column(&tags).into(),
                worker.into(),
                CheckStatus::ToCheck.as_str().to_string().into(),
                now.into(),
            ]
        })
        .collect();
    let n = rows.len();
    let columns = [
        "community_id",
        "id",
        "incident_id",
        "household_id",
        "grid_id",
        "tier",
        "tags",
        "assignee_id",
        "status",
        "updated_at",
    ];
    insert_many(tx, "welfare_checks", &columns, rows).await?;
    Ok(n)
}

/// Tells everyone of the covered grids (residents' accounts and grid workers) and the
/// community's staff, volunteers and partner units; residents answer on the reply page.
async fn broadcast(tx: &mut Tx, state: &AppState, c: &CommunityRef, i: &Incident, note: Option<&str>) -> AppResult<()> {
    let subject = Some(Subject { kind: "incident", id: i.id });
    let text = match note {
        Some(n) => format!("【应急】{}：{n}。请点开回复“我安全”或“我需要帮助”。", i.title),
        None => format!("【应急】{}：请注意安全，点开回复“我安全”或“我需要帮助”。", i.title),
    };
    let mut users: Vec<i64> = Vec::new();
    for (g, _) in grids_of(&mut *tx, c.id, i.id).await? {
        users.extend(notify::audience(&mut *tx, c.id, &Audience::Grid(g)).await?);
    }
    for role in [Role::CommunityStaff, Role::CommunitySecretary, Role::Volunteer, Role::PartnerUnit] {
        users.extend(notify::audience(&mut *tx, c.id, &Audience::Role(role)).await?);
    }
    users.sort_unstable();
    users.dedup();
    notify::send(tx, &state.bus, Note::new(c.id, subject, "emergency", text), Audience::Users(users)).await?;
    Ok(())
}

/// A household's check as the field page and the command page read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Check {
    pub id: i64,
    pub incident_id: i64,
    pub household_id: i64,
    pub address: String,
    pub grid_id: i64,
    pub grid: String,
    pub tier: i64,
    pub tags: String,
    pub assignee_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: CheckStatus,
    pub needs: String,
    pub note: Option<String>,
    pub attempts: i64,
    pub version: i64,
    pub updated_at: i64,
    pub updated_by: Option<String>,
    /// Changes kept as conflicts (made on an older version).
    pub conflicts: i64,
    /// The ticket its needs became, if they did.
    pub ticket_id: Option<i64>,
}

impl Check {
    pub fn needs(&self) -> Vec<Need> {
        crate::services::records::model::tags_from_column(&self.needs).iter().filter_map(|n| Need::parse(n)).collect()
    }
}

/// Checks of a community with their conflicts counted (the count pinned to the community
/// too, so that Citus keeps the whole on one shard).
fn select_checks(community_id: i64) -> Builder {
    let mut b = Builder::new(
        "SELECT w.id, w.incident_id, w.household_id, h.address, w.grid_id, g.name AS grid, w.tier, w.tags, w.assignee_id, \
         w.status, w.needs, w.note, w.attempts, w.version, w.updated_at, u.display_name AS updated_by, w.ticket_id, \
         (SELECT COUNT(*) FROM welfare_check_changes x WHERE x.community_id = ",
    );
    b.arg(community_id).push(
        " AND x.check_id = w.id AND NOT x.applied) AS conflicts \
         FROM welfare_checks w JOIN households h ON h.community_id = w.community_id AND h.id = w.household_id \
         JOIN grids g ON g.community_id = w.community_id AND g.id = w.grid_id LEFT JOIN users u ON u.id = w.updated_by \
         WHERE w.community_id = ",
    );
    b.arg(community_id);
    b
}

/// Whose checks one works on: staff all; a grid worker those of their grids and any
/// handed to them; a volunteer or party member those handed to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    All,
    Mine { grids: Vec<i64>, user: i64 },
}

pub fn whose(actor: &Actor, community_id: i64) -> Whose {
    let access = actor.access(community_id, Permission::CheckWelfare);
    if actor.can(community_id, Permission::ManageEmergency) || access.all {
        Whose::All
    } else {
        Whose::Mine { grids: access.grids, user: actor.user_id }
    }
}

/// An incident's checks one works on, the first tier first, then by address.
pub async fn checks(ex: &mut impl Exec, community_id: i64, incident_id: i64, whose: &Whose) -> AppResult<Vec<Check>> {
    let mut b = select_checks(community_id);
    b.push(" AND w.incident_id = ").arg(incident_id);
    if let Whose::Mine { grids, user } = whose {
        b.push(" AND (w.assignee_id = ").arg(*user);
        if !grids.is_empty() {
            b.push(" OR w.grid_id IN ").list(grids.iter().copied());
        }
        b.push(")");
    }
    b.push(" ORDER BY w.tier, h.address, w.id");
    Ok(b.build().fetch_all(ex).await?)
}

/// The first tier's households not yet reached (what the command page lists), read as
/// such rather than out of every check of the incident.
pub async fn tier_one_waiting(ex: &mut impl Exec, community_id: i64, incident_id: i64) -> AppResult<Vec<Check>> {
    let mut b = select_checks(community_id);
    b.push(" AND w.incident_id = ").arg(incident_id).push(" AND w.tier = 1 AND w.status IN (");
    b.arg(CheckStatus::ToCheck.as_str()).push(", ").arg(CheckStatus::Unreachable.as_str());
    b.push(") ORDER BY h.address, w.id");
    Ok(b.build().fetch_all(ex).await?)
}

/// A check the actor may see: staff, the grid's worker, its assignee (else not found).
pub async fn check(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<Check> {
    let mut b = select_checks(community_id);
    b.push(" AND w.id = ").arg(id);
    let w: Check = b.build().fetch_optional(ex).await?.ok_or(AppError::NotFound)?;
    if may_check(actor, community_id, w.grid_id, w.assignee_id) { Ok(w) } else { Err(AppError::NotFound) }
}

/// The incident's figures: overall, and by grid (id, name, tally).
pub async fn tally(
    ex: &mut impl Exec,
    community_id: i64,
    incident_id: i64,
) -> AppResult<(Tally, Vec<(i64, String, Tally)>)> {
    let rows: Vec<(i64, String, String, i64, i64)> = query(
        "SELECT w.grid_id, g.name, w.status, w.tier, COUNT(*) FROM welfare_checks w \
         JOIN grids g ON g.community_id = w.community_id AND g.id = w.grid_id \
         WHERE w.community_id = $1 AND w.incident_id = $2 GROUP BY w.grid_id, g.name, w.status, w.tier ORDER BY w.grid_id",
    )
    .bind(community_id)
    .bind(incident_id)
    .fetch_all(ex)
    .await?;
    let mut all = Tally::default();
    let mut by_grid: Vec<(i64, String, Tally)> = Vec::new();
    for (grid, name, status, tier, n) in rows {
        let Some(s) = CheckStatus::parse(&status) else { continue };
        all.add(s, tier, n);
        match by_grid.iter_mut().find(|g| g.0 == grid) {
            Some(g) => g.2.add(s, tier, n),
            None => {
                let mut t = Tally::default();
                t.add(s, tier, n);
                by_grid.push((grid, name, t));
            }
        }
    }
    Ok((all, by_grid))
}

/// Those a check may be handed to: the grid's worker (to hand it back), the members paired
/// with the household (党群1+1), then the community's volunteers and party members, those
/// of the check's grid first (its party group), each once, as (user, name).
pub async fn helpers(ex: &mut impl Exec, community_id: i64, w: &Check) -> AppResult<Vec<(i64, String)>> {
    let grid_id = w.grid_id;
    let worker: Option<(i64, String)> = query(
        "SELECT u.id, u.display_name FROM grids g JOIN users u ON u.id = g.worker_user_id \
         WHERE g.community_id = $1 AND g.id = $2",
    )
    .bind(community_id)
    .bind(grid_id)
    .fetch_optional(&mut *ex)
    .await?;
    let rows: Vec<(i64, String, Option<i64>)> = query(
        "SELECT u.id, u.display_name, g.grid_id FROM grants g JOIN users u ON u.id = g.user_id \
         WHERE g.community_id = $1 AND g.role IN ($2, $3) AND u.disabled_at IS NULL ORDER BY u.display_name, u.id",
    )
    .bind(community_id)
    .bind(Role::Volunteer.as_str())
    .bind(Role::PartyMember.as_str())
    .fetch_all(&mut *ex)
    .await?;
    let today = crate::web::fmt::today();
    let paired = participation::store::paired_with(&mut *ex, community_id, w.household_id, today).await?;
    let mut out: Vec<(i64, String, bool)> = Vec::new();
    for (id, name, grid) in rows {
        let here = grid == Some(grid_id);
        match out.iter_mut().find(|o| o.0 == id) {
            Some(o) => o.2 |= here,
            None => out.push((id, name, here)),
        }
    }
    out.sort_by_key(|o| !o.2);
    let worker = worker.map(|(id, name)| (id, format!("{name}（网格员）")));
    let paired = paired.into_iter().map(|(id, n)| (id, format!("{n}（结对）")));
    let mut all: Vec<(i64, String)> = Vec::new();
    for (id, name) in worker.into_iter().chain(paired).chain(out.into_iter().map(|(id, name, _)| (id, name))) {
        if all.iter().all(|a| a.0 != id) {
            all.push((id, name));
        }
    }
    Ok(all)
}

/// Staff or the grid's worker hand a household's check to a helper (or back to the
/// grid's worker); the helper is told through the inbox.
pub async fn hand(state: &AppState, actor: &Actor, c: &CommunityRef, check_id: i64, to: i64) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let w = check(&mut tx, actor, c.id, check_id).await?;
    let grid_worker = actor.access(c.id, Permission::CheckWelfare).covers(Some(w.grid_id), None);
    if !actor.can(c.id, Permission::ManageEmergency) && !grid_worker {
        return Err(AppError::Forbidden);
    }
    let helpers = helpers(&mut tx, c.id, &w).await?;
    if !helpers.iter().any(|h| h.0 == to) {
        return Err(AppError::field("assignee_id", "validation.reference"));
    }
    query("UPDATE welfare_checks SET assignee_id = $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(to)
        .bind(now_ms())
        .bind(c.id)
        .bind(check_id)
        .execute(&mut tx)
        .await?;
    let after = json!({"assignee_id": to, "from": w.assignee_id});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "welfare_check", check_id, None, Some(&after))
        .await?;
    if to != actor.user_id {
        let subject = Some(Subject { kind: "welfare_check", id: check_id });
        let text = format!("【应急】请协助入户排查：{}。", w.address);
        notify::send(&mut tx, &state.bus, Note::new(c.id, subject, "emergency", text), Audience::Users(vec![to]))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A household's needs become a ticket for the community to follow (once: asked again, the
/// same ticket); only a household that needs help has needs to raise.
pub async fn raise_ticket(state: &AppState, actor: &Actor, c: &CommunityRef, check_id: i64) -> AppResult<i64> {
    let mut conn = state.db.read().await?;
    let w = check(&mut conn, actor, c.id, check_id).await?;
    let i = incident(&mut conn, c.id, w.incident_id).await?;
    drop(conn);
    if let Some(t) = w.ticket_id {
        return Ok(t);
    }
    if w.status != CheckStatus::NeedsHelp && w.needs().is_empty() {
        return Err(AppError::Conflict("emergency.no_needs"));
    }
    // In Chinese, as the dictionary names them: tickets are read by those who take them.
    let zh = |n: &Need| crate::i18n::t(crate::i18n::Lang::Zh, &format!("emergency.need.{}", n.as_str()));
    let needs: Vec<String> = w.needs().iter().map(zh).collect();
    let mut text = format!("【应急·{}】{}需要帮助", i.title, w.address);
    if !needs.is_empty() {
        text.push_str(&format!("：{}", needs.join("、")));
    }
    if let Some(n) = &w.note {
        text.push_str(&format!("。{n}"));
    }
    // Filed as a sudden event 突发事件 (code 05 of the default list), else the first kind
    // the community keeps.
    let category: Option<i64> = query(
        "SELECT id FROM ticket_categories WHERE community_id = $1 AND archived_at IS NULL ORDER BY CASE WHEN code = '05' THEN 0 ELSE 1 END, code, id LIMIT 1",
    )
    .bind(c.id)
    .scalar_optional(&mut state.db.read().await?)
    .await?;
    let new = crate::capabilities::tickets::store::NewTicket {
        category_id: category,
        description: text,
        channel: Some(crate::capabilities::tickets::Channel::Patrol),
        household_id: Some(w.household_id),
        address: Some(w.address.clone()),
        submitter_name: Some(actor.display_name.clone()),
        idempotency_key: Some(format!("welfare_check:{check_id}")),
        ..Default::default()
    };
    let (t, _) = crate::capabilities::tickets::store::submit(state, c.id, Some(actor), new, Vec::new()).await?;
    let mut tx = state.db.begin().await?;
    query("UPDATE welfare_checks SET ticket_id = $1 WHERE community_id = $2 AND id = $3 AND ticket_id IS NULL")
        .bind(t.id)
        .bind(c.id)
        .bind(check_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(t.id)
}

crate::text_enum! {
    /// Who sends a change: the field page, a resident's reply, or a shelter's check-in.
    pub enum Source {
        Field = "field",
        Reply = "reply",
        Shelter = "shelter",
    }
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied: the check now stands as it says, at this version.
    Applied(i64),
    /// Made on an older version: kept in the history as a conflict, the check unchanged.
    Conflict(i64),
    /// Its key was sent before: nothing recorded again (what became of it then).
    Repeated(bool),
}

/// Whether the actor may check this household: staff, the grid's worker, its assignee.
fn may_check(actor: &Actor, community_id: i64, grid_id: i64, assignee: Option<i64>) -> bool {
    actor.can(community_id, Permission::ManageEmergency)
        || actor.access(community_id, Permission::CheckWelfare).covers(Some(grid_id), None)
        || assignee == Some(actor.user_id)
}

/// Records a change to a check under its key: applied when made on the check as it
/// stands, else kept as a conflict; a key sent again records nothing.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    check_id: i64,
    ch: &CheckChange,
    key: &str,
    source: Source,
) -> AppResult<Outcome> {
    let mut tx = state.db.begin().await?;
    let outcome = change_in(&mut tx, actor, c, check_id, ch, key, source).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// `change`, in a transaction of the caller's (a shelter's check-in moves the household's
/// check with it).
pub async fn change_in(
    tx: &mut Tx,
    actor: &Actor,
    c: &CommunityRef,
    check_id: i64,
    ch: &CheckChange,
    key: &str,
    source: Source,
) -> AppResult<Outcome> {
    let mut e = check_change(ch);
    crate::input::check_text(&mut e, "key", key, crate::input::limits::KEY_LEN, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let seen: Option<bool> =
        query("SELECT applied FROM welfare_check_changes WHERE community_id = $1 AND change_key = $2")
            .bind(c.id)
            .bind(key.to_string())
            .scalar_optional(&mut *tx)
            .await?;
    if let Some(applied) = seen {
        return Ok(Outcome::Repeated(applied));
    }
    let row: Option<(i64, i64, Option<i64>, i64, String)> = query(
        "SELECT w.incident_id, w.grid_id, w.assignee_id, w.version, i.status FROM welfare_checks w \
         JOIN incidents i ON i.community_id = w.community_id AND i.id = w.incident_id WHERE w.community_id = $1 AND w.id = $2",
    )
    .bind(c.id)
    .bind(check_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((_, grid, assignee, version, status)) = row else { return Err(AppError::NotFound) };
    let by_household = source == Source::Reply;
    if !by_household && !may_check(actor, c.id, grid, assignee) {
        return Err(AppError::NotFound);
    }
    if status != IncidentStatus::Activated.as_str() {
        return Err(AppError::Conflict("emergency.not_active"));
    }
    let needs: Vec<String> = ch.needs.iter().map(|n| n.as_str().to_string()).collect();
    let needs = crate::services::records::model::tags_to_column(&needs);
    let now = now_ms();
    let applied = applies(version, ch)
        && query(
            "UPDATE welfare_checks SET status = $1, needs = $2, note = $3, version = version + 1, updated_at = $4, updated_by = $5, \
             attempts = attempts + $6 WHERE community_id = $7 AND id = $8 AND version = $9",
        )
        .bind(ch.status.as_str())
        .bind(needs.clone())
        .bind(ch.note.clone())
        .bind(now)
        .bind(actor.user_id)
        .bind(i64::from(ch.status == CheckStatus::Unreachable))
        .bind(c.id)
        .bind(check_id)
        .bind(version)
        .execute(&mut *tx)
        .await?
            == 1;
    let id = tx.next_id().await?;
    query(
        "INSERT INTO welfare_check_changes (community_id, id, check_id, status, needs, note, seen, applied, source, change_key, by_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(c.id)
    .bind(id)
    .bind(check_id)
    .bind(ch.status.as_str())
    .bind(needs)
    .bind(ch.note.clone())
    .bind(ch.seen)
    .bind(applied)
    .bind(source.as_str())
    .bind(key.to_string())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match crate::db::unique_violation_field(&e) {
        Some(_) => AppError::field("key", "emergency.key_used"),
        None => e.into(),
    })?;
    Ok(if applied { Outcome::Applied(version + 1) } else { Outcome::Conflict(version) })
}

/// A resident's reply to the broadcast: their household's check is marked safe or as
/// needing help (on the check as it stands: the household knows best).
pub async fn reply(state: &AppState, actor: &Actor, c: &CommunityRef, incident_id: i64, safe: bool) -> AppResult<i64> {
    let household = actor.household_in(c.id).ok_or(AppError::Forbidden)?;
    let row: Option<(i64, i64)> = query(
        "SELECT id, version FROM welfare_checks WHERE community_id = $1 AND incident_id = $2 AND household_id = $3",
    )
    .bind(c.id)
    .bind(incident_id)
    .bind(household)
    .fetch_optional(&mut state.db.read().await?)
    .await?;
    let (check, version) = row.ok_or(AppError::NotFound)?;
    let status = if safe { CheckStatus::Safe } else { CheckStatus::NeedsHelp };
    let ch = CheckChange { status, needs: Vec::new(), note: None, seen: version };
    let key = format!("reply:{}:{check}:{version}", actor.user_id);
    change(state, actor, c, check, &ch, &key, Source::Reply).await?;
    Ok(check)
}

/// A check's history: each change with who, when, and whether it was applied.
pub async fn history(
    ex: &mut impl Exec,
    community_id: i64,
    check_id: i64,
) -> AppResult<Vec<(String, Option<String>, bool, String, i64)>> {
    Ok(query(
        "SELECT x.status, x.note, x.applied, u.display_name, x.at FROM welfare_check_changes x JOIN users u ON u.id = x.by_id \
         WHERE x.community_id = $1 AND x.check_id = $2 ORDER BY x.at, x.id",
    )
    .bind(community_id)
    .bind(check_id)
    .fetch_all(ex)
    .await?)
}
