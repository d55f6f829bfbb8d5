//! Points rules and hand-given points in the database: versioned rules, bonuses,
//! deductions and adjustments staff give by hand, and corrections by reversal.

use serde_json::json;

use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::ledger::{self, Acct, Posting};
use crate::capabilities::points::{AccountKind, Cause, Rule, RuleKind, check_rule};
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::{self, check_text, limits};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

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
    let mut errors = check_rule(kind, service_type.as_deref(), input.points);
    check_text(&mut errors, "name", &input.name, 60, true);
    for (f, cap) in [("daily_cap", input.daily_cap), ("monthly_cap", input.monthly_cap)] {
        if cap.is_some_and(|c| c <= 0) {
            errors.push(FieldError::new(f, "points.positive"));
        } else if let Some(c) = cap {
            input::check_range(&mut errors, f, c, limits::RULE_CAP);
        }
    }
    let now = now_ms();
    let mut from = input.effective_from.unwrap_or(now).max(now);
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
    // The version's number first: writers of the same rule's versions wait for each other
    // here, so the latest version read below is the one this one follows.
    let highest: i64 =
        query("SELECT COALESCE(MAX(version), 0) FROM points_rules WHERE community_id = $1 AND code = $2")
            .bind(community_id)
            .bind(code.as_str())
            .scalar(&mut tx)
            .await?;
    let version = tx.next_number(community_id, &format!("rule:{code}"), highest).await?;
    let latest: Option<Rule> = query(format!(
        "SELECT {RULE_COLUMNS} FROM points_rules WHERE community_id = $1 AND code = $2 ORDER BY version DESC LIMIT 1"
    ))
    .bind(community_id)
    .bind(code.as_str())
    .fetch_optional(&mut tx)
    .await?;
    if let Some(prev) = &latest {
        if input.effective_from.is_none() {
            // "From now", after a version that a writer at the same moment started a
            // millisecond later.
            from = from.max(prev.effective_from);
        }
        if from < prev.effective_from {
            return Err(AppError::field("effective_from", "points.before_previous_version"));
        }
        if kind != Some(prev.kind) {
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
            match r.kind {
                RuleKind::Bonus if r.in_force(now_ms()) => (Cause::Bonus, r.points, Some(r.id)),
                RuleKind::Deduction if r.in_force(now_ms()) => (Cause::Deduction, -r.points, Some(r.id)),
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
