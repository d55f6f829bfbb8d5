//! The project that carries out a passed proposal: its owner, budget line and milestones,
//! which residents follow on the public page.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::proposal;
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::council::Stage;
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub proposal_id: i64,
    pub title: String,
    pub owner_name: String,
    pub budget_yuan: i64,
    pub budget_line: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Milestone {
    pub id: i64,
    pub seq: i64,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    pub done_on: Option<NaiveDate>,
    pub note: Option<String>,
}

pub async fn project(
    ex: &mut impl Exec,
    community_id: i64,
    proposal_id: i64,
) -> AppResult<Option<(Project, Vec<Milestone>)>> {
    let p: Option<Project> = query("SELECT id, proposal_id, title, owner_name, budget_yuan, budget_line FROM council_projects WHERE community_id = $1 AND proposal_id = $2")
        .bind(community_id)
        .bind(proposal_id)
        .fetch_optional(&mut *ex)
        .await?;
    let Some(p) = p else { return Ok(None) };
    let m: Vec<Milestone> = query("SELECT id, seq, title, due_on, done_on, note FROM project_milestones WHERE community_id = $1 AND project_id = $2 ORDER BY seq")
        .bind(community_id)
        .bind(p.id)
        .fetch_all(ex)
        .await?;
    Ok(Some((p, m)))
}

/// A decision carried out: the project with its owner, budget line and milestones.
#[allow(clippy::too_many_arguments)]
pub async fn make_project(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    proposal_id: i64,
    title: &str,
    owner_name: &str,
    budget_yuan: i64,
    budget_line: Option<String>,
    milestones: &[(String, Option<NaiveDate>)],
) -> AppResult<(Project, Vec<Milestone>)> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    check_text(&mut e, "title", title, 100, true);
    check_text(&mut e, "owner_name", owner_name, 40, true);
    crate::input::check_range(&mut e, "budget_yuan", budget_yuan, crate::input::limits::BUDGET_YUAN);
    crate::input::check_count(&mut e, "milestones", milestones.len());
    if milestones.iter().any(|m| m.0.trim().is_empty() || m.0.chars().count() > 100) {
        e.push(FieldError::new("milestones", "validation.required"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, proposal_id).await?.ok_or(AppError::NotFound)?;
    if p.stage != Stage::Passed {
        return Err(AppError::Conflict("council.not_passed"));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    let inserted = query(
        "INSERT INTO council_projects (community_id, id, proposal_id, title, owner_name, budget_yuan, budget_line, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(community_id)
    .bind(id)
    .bind(proposal_id)
    .bind(title.trim())
    .bind(owner_name.trim())
    .bind(budget_yuan)
    .bind(budget_line.filter(|b| !b.trim().is_empty()))
    .bind(now)
    .execute(&mut tx)
    .await;
    match inserted {
        Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
            return Err(AppError::Conflict("council.project_exists"));
        }
        other => other?,
    };
    for (i, (t, due)) in milestones.iter().enumerate() {
        let mid = tx.next_id().await?;
        query("INSERT INTO project_milestones (community_id, id, project_id, seq, title, due_on) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(community_id)
            .bind(mid)
            .bind(id)
            .bind(i as i64 + 1)
            .bind(t.trim())
            .bind(*due)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "council_project",
        id,
        None,
        Some(&json!({"title": title.trim(), "budget_yuan": budget_yuan})),
    )
    .await?;
    let out = project(&mut tx, community_id, proposal_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Marks a milestone done (or adds one), with a note residents read.
pub async fn milestone(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    proposal_id: i64,
    milestone_id: Option<i64>,
    title: Option<String>,
    done_on: Option<NaiveDate>,
    note: Option<String>,
) -> AppResult<Vec<Milestone>> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    check_text(&mut e, "title", title.as_deref().unwrap_or(""), 100, false);
    check_text(&mut e, "note", note.as_deref().unwrap_or(""), 1000, false);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let (p, ms) = project(&mut tx, community_id, proposal_id).await?.ok_or(AppError::NotFound)?;
    if done_on.is_some_and(|d| d > crate::web::fmt::today()) {
        return Err(AppError::field("done_on", "points.in_future"));
    }
    let note = note.filter(|n| !n.trim().is_empty());
    match milestone_id {
        Some(m) => {
            if !ms.iter().any(|x| x.id == m) {
                return Err(AppError::field("milestone_id", "validation.reference"));
            }
            query("UPDATE project_milestones SET done_on = $1, note = COALESCE($2, note) WHERE community_id = $3 AND id = $4")
                .bind(done_on)
                .bind(note)
                .bind(community_id)
                .bind(m)
                .execute(&mut tx)
                .await?;
        }
        None => {
            let t = title.filter(|t| !t.trim().is_empty()).ok_or(AppError::field("title", "validation.required"))?;
            let mid = tx.next_id().await?;
            let highest = ms.iter().map(|m| m.seq).max().unwrap_or(0);
            let seq = tx.next_number(community_id, &format!("milestone:{}", p.id), highest).await?;
            query("INSERT INTO project_milestones (community_id, id, project_id, seq, title, done_on, note) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(community_id)
                .bind(mid)
                .bind(p.id)
                .bind(seq)
                .bind(t.trim())
                .bind(done_on)
                .bind(note)
                .execute(&mut tx)
                .await?;
        }
    }
    query("UPDATE council_projects SET updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(community_id)
        .bind(p.id)
        .execute(&mut tx)
        .await?;
    let out = project(&mut tx, community_id, proposal_id).await?.map(|x| x.1).unwrap_or_default();
    tx.commit().await?;
    Ok(out)
}
