//! Proposals, rounds, comments, votes, decisions and projects in the database. Every
//! function takes the community first and checks the actor.
//!
//! This file holds the proposal itself (raising, reading, screening); the roster, rounds
//! and comments are in `deliberation`, the vote and its decision in `voting`, the project
//! that carries a decision out in `projects`.

mod deliberation;
mod projects;
mod voting;

use serde::Serialize;
use serde_json::json;

use super::{Outcome, ScopeKind, Stage};
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::services::notify;
use crate::web::AppState;

pub use deliberation::{Comment, Member, Round, add_round, comment, comments, roster, rounds, set_member, user_in};
pub use projects::{Milestone, Project, make_project, milestone, project};
pub use voting::{ballot, close_vote, open_ballots, open_vote, rules, set_rules, tally, voter_state};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Proposal {
    pub community_id: i64,
    pub id: i64,
    pub title: String,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub scope_kind: ScopeKind,
    pub scope_id: Option<i64>,
    pub raised_by: i64,
    pub raised_by_name: String,
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    pub merged_into: Option<i64>,
    pub reason: Option<String>,
    pub voters: Option<String>,
    pub quorum_pct: Option<i64>,
    pub majority_pct: Option<i64>,
    pub secret: Option<bool>,
    pub eligible: Option<i64>,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub votes_for: Option<i64>,
    pub votes_against: Option<i64>,
    pub votes_abstain: Option<i64>,
    pub decided_at: Option<i64>,
    pub decision: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Proposal {
    /// The result, once decided.
    pub fn outcome(&self) -> Option<Outcome> {
        self.stage.is_decided().then(|| {
            super::outcome(
                self.eligible.unwrap_or(0),
                self.votes_for.unwrap_or(0),
                self.votes_against.unwrap_or(0),
                self.votes_abstain.unwrap_or(0),
                self.quorum_pct.unwrap_or(0),
                self.majority_pct.unwrap_or(50),
            )
        })
    }
}

const PROPOSAL_COLUMNS: &str = "community_id, id, title, body, scope_kind, scope_id, raised_by, raised_by_name, stage, merged_into, reason, voters,
    quorum_pct, majority_pct, secret, eligible, opens_at, closes_at, votes_for, votes_against, votes_abstain, decided_at, decision, created_at, updated_at";

pub async fn proposal(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Proposal>> {
    Ok(query(format!("SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Whether anyone may read it on the public page: all but those merged or declined, and
/// those still waiting to be screened.
pub fn is_public(p: &Proposal) -> bool {
    !matches!(p.stage, Stage::Submitted | Stage::Merged | Stage::Declined)
}

/// Proposals: those of the community for whoever has a role in it; only the public ones
/// for everyone else.
pub async fn proposals(ex: &mut impl Exec, actor: Option<&Actor>, community_id: i64) -> AppResult<Vec<Proposal>> {
    let all: Vec<Proposal> = query(format!(
        "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE community_id = $1 ORDER BY CASE stage WHEN 'voting' THEN 0 WHEN 'agenda' THEN 1 WHEN 'submitted' THEN 2 ELSE 3 END, updated_at DESC LIMIT 300"
    ))
    .bind(community_id)
    .fetch_all(ex)
    .await?;
    let member = actor.is_some_and(|a| a.sees_community(community_id));
    Ok(all.into_iter().filter(|p| member || is_public(p)).collect())
}

pub async fn proposal_for(
    ex: &mut impl Exec,
    actor: Option<&Actor>,
    community_id: i64,
    id: i64,
) -> AppResult<Proposal> {
    let p = proposal(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if is_public(&p) || actor.is_some_and(|a| a.sees_community(community_id)) { Ok(p) } else { Err(AppError::NotFound) }
}

/// A resident, member or staff raises a proposal for a grid, a compound or the community.
pub async fn raise(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    title: &str,
    body: &str,
    scope_kind: &str,
    scope_id: Option<i64>,
) -> AppResult<Proposal> {
    if !actor.sees_community(community_id) {
        return Err(AppError::NotFound);
    }
    let mut e = Vec::new();
    check_text(&mut e, "title", title, 100, true);
    check_text(&mut e, "body", body, 4000, true);
    let scope = ScopeKind::parse(scope_kind);
    let mut tx = state.db.begin().await?;
    match (scope, scope_id) {
        (Some(ScopeKind::Community), _) => {}
        (Some(kind @ (ScopeKind::Grid | ScopeKind::Compound)), Some(id)) => {
            let table = if kind == ScopeKind::Grid { "grids" } else { "compounds" };
            let ok: Option<i64> =
                query(format!("SELECT id FROM {table} WHERE community_id = $1 AND id = $2 AND archived_at IS NULL"))
                    .bind(community_id)
                    .bind(id)
                    .scalar_optional(&mut tx)
                    .await?;
            if ok.is_none() {
                e.push(FieldError::new("scope_id", "validation.reference"));
            }
        }
        (Some(ScopeKind::Grid | ScopeKind::Compound), None) => {
            e.push(FieldError::new("scope_id", "validation.required"))
        }
        (None, _) => e.push(FieldError::new("scope_kind", "validation.choice")),
    }
    let Some(scope) = scope.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO proposals (community_id, id, title, body, scope_kind, scope_id, raised_by, raised_by_name, stage, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', $9, $9)",
    )
    .bind(community_id)
    .bind(id)
    .bind(title.trim())
    .bind(body.trim())
    .bind(scope.as_str())
    .bind(scope_id.filter(|_| scope != ScopeKind::Community))
    .bind(actor.user_id)
    .bind(actor.display_name.as_str())
    .bind(now)
    .execute(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "proposal",
        id,
        None,
        Some(&json!({"title": title.trim(), "scope": scope.as_str()})),
    )
    .await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(p)
}

async fn set_stage(tx: &mut Tx, community_id: i64, id: i64, from: Stage, to: Stage) -> AppResult<()> {
    let changed =
        query("UPDATE proposals SET stage = $1, updated_at = $2 WHERE community_id = $3 AND id = $4 AND stage = $5")
            .bind(to.as_str())
            .bind(now_ms())
            .bind(community_id)
            .bind(id)
            .bind(from.as_str())
            .execute(tx)
            .await?;
    if changed == 0 { Err(AppError::Conflict("council.changed")) } else { Ok(()) }
}

/// Staff screen a proposal: onto the agenda, merged into another, or declined with a reason.
pub async fn screen(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    action: &str,
    merge_into: Option<i64>,
    reason: Option<&str>,
) -> AppResult<Proposal> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    let to = super::screened(p.stage, action).map_err(|k| AppError::field("action", k))?;
    if to == Stage::Declined && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    if to == Stage::Merged {
        let into = merge_into.filter(|m| *m != id).ok_or(AppError::field("merge_into", "validation.required"))?;
        let target = proposal(&mut tx, community_id, into)
            .await?
            .ok_or(AppError::field("merge_into", "validation.reference"))?;
        if !matches!(target.stage, Stage::Submitted | Stage::Agenda) {
            return Err(AppError::field("merge_into", "council.not_mergeable"));
        }
        query("UPDATE proposals SET merged_into = $1 WHERE community_id = $2 AND id = $3")
            .bind(into)
            .bind(community_id)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    set_stage(&mut tx, community_id, id, p.stage, to).await?;
    query("UPDATE proposals SET reason = $1 WHERE community_id = $2 AND id = $3")
        .bind(reason)
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "proposal",
        id,
        Some(&json!({"stage": p.stage.as_str()})),
        Some(&json!({"stage": to.as_str(), "reason": reason, "merge_into": merge_into})),
    )
    .await?;
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(
            community_id,
            Some(notify::Subject { kind: "proposal", id: p.id }),
            "council",
            format!(
                "你提出的议题「{}」：{}",
                p.title,
                crate::i18n::t(crate::i18n::Lang::Zh, &format!("council.stage.{}", to.as_str()))
            ),
        ),
        notify::Audience::Users(vec![p.raised_by]),
    )
    .await?;
    let out = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}
