//! Pairing 结对: party members and volunteers paired with households, their visit schedule
//! and visits, tickets raised from what a visit found, and households left without a pair.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::clean;
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::participation::PairKind;
use crate::db::{Builder, Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pair {
    pub community_id: i64,
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: PairKind,
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

/// The members paired with a household (党群1+1) on a day, as (user, name): an emergency
/// check of the household is handed to them first.
pub async fn paired_with(
    ex: &mut impl Exec,
    community_id: i64,
    household_id: i64,
    on: NaiveDate,
) -> AppResult<Vec<(i64, String)>> {
    Ok(query(
        "SELECT DISTINCT u.id, u.display_name FROM pair_households x \
         JOIN pairs p ON p.community_id = x.community_id AND p.id = x.pair_id JOIN users u ON u.id = p.user_id \
         WHERE x.community_id = $1 AND x.household_id = $2 AND p.starts_on <= $3 \
         AND (p.ends_on IS NULL OR p.ends_on >= $3) AND u.disabled_at IS NULL ORDER BY u.id",
    )
    .bind(community_id)
    .bind(household_id)
    .bind(on)
    .fetch_all(ex)
    .await?)
}

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
            overdue_days: super::super::visit_overdue(p.starts_on, p.ends_on, p.last_visit, p.every_days, today),
            pair: p,
        })
        .collect())
}

/// What judging a pair's visits needs (`visit_overdue`): its schedule and its last visit,
/// for the pairs of `communities`.
pub fn pair_schedule(b: &mut Builder, communities: &[i64]) {
    b.push("starts_on, ends_on, every_days, (SELECT MAX(v.visited_on) FROM pair_visits v WHERE");
    b.same_community("v", "pairs", communities).push(" AND v.pair_id = pairs.id)");
}

/// How many of a community's pairs are late with their visits today (for staff).
pub async fn overdue_pairs(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<usize> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut b = Builder::new("SELECT ");
    pair_schedule(&mut b, &[community_id]);
    b.push(" FROM pairs WHERE community_id = ").arg(community_id);
    let schedules: Vec<(NaiveDate, Option<NaiveDate>, i64, Option<NaiveDate>)> = b.build().fetch_all(ex).await?;
    let today = crate::web::fmt::today();
    Ok(schedules
        .into_iter()
        .filter(|&(s, e, every, last)| super::super::visit_overdue(s, e, last, every, today).is_some())
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
    let kind = PairKind::parse(&n.kind);
    if kind.is_none() {
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
            let ok = match kind {
                Some(PairKind::Party) => query("SELECT u.display_name FROM users u WHERE u.id = $1 AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = 'party_member' AND g.community_id = $2)"),
                _ => query("SELECT v.name FROM volunteers v WHERE v.user_id = $1 AND v.community_id = $2 AND v.archived_at IS NULL"),
            }
            .bind(u)
            .bind(community_id)
            .scalar_optional::<String>(&mut tx)
            .await?;
            if ok.is_none() {
                e.push(FieldError::new(
                    "user_id",
                    if kind == Some(PairKind::Party) {
                        "participation.not_party_member"
                    } else {
                        "points.not_volunteer"
                    },
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
    let Some(kind) = kind.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO pairs (community_id, id, kind, user_id, name, starts_on, ends_on, every_days, note, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(community_id)
    .bind(id)
    .bind(kind.as_str())
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
        Some(&json!({"kind": kind.as_str(), "user_id": n.user_id, "households": n.households, "every_days": every})),
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
