//! Projects 惠民工程: made from a council decision, a need or by staff; funded by funds
//! (how much each); planned as milestones with dates and weights, whose done weight is
//! the progress; moved along their states, each step logged; with photos before and
//! after, and residents' comments on the public page.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use std::collections::HashMap;

use super::super::stats::{Timing, timing};
use super::super::{Origin, ProjectStatus, fen, progress};
use super::require_keeper;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::media;
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Project {
    pub community_id: i64,
    pub id: i64,
    pub title: String,
    pub place: String,
    pub description: Option<String>,
    pub budget_fen: i64,
    #[sqlx(try_from = "String")]
    pub status: ProjectStatus,
    #[sqlx(try_from = "String")]
    pub origin: Origin,
    pub proposal_id: Option<i64>,
    pub need_id: Option<i64>,
    pub created_at: i64,
    /// Summed from its funding.
    pub funded_fen: i64,
    pub spent_fen: i64,
}

const PROJECT: &str = "SELECT p.community_id, p.id, p.title, p.place, p.description, p.budget_fen, p.status, p.origin,
    p.proposal_id, p.need_id, p.created_at, CAST(COALESCE(SUM(f.amount_fen), 0) AS BIGINT) AS funded_fen,
    CAST(COALESCE(SUM(f.spent_fen), 0) AS BIGINT) AS spent_fen
    FROM projects p LEFT JOIN project_funding f ON f.community_id = p.community_id AND f.project_id = p.id";
const GROUP: &str = "GROUP BY p.community_id, p.id, p.title, p.place, p.description, p.budget_fen, p.status, p.origin,
    p.proposal_id, p.need_id, p.created_at";

/// A project as staff type it.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub title: String,
    pub place: String,
    pub description: Option<String>,
    pub budget: String,
    pub proposal_id: Option<i64>,
    pub need_id: Option<i64>,
}

pub async fn create(state: &AppState, actor: &Actor, c: &CommunityRef, p: NewProject) -> AppResult<Project> {
    require_keeper(actor, c.id)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "title", &p.title, 60, true);
    crate::input::check_text(&mut errors, "place", &p.place, 100, true);
    crate::input::check_text(&mut errors, "description", p.description.as_deref().unwrap_or(""), 2000, false);
    let budget = fen("budget", &p.budget).map_err(|e| errors.push(e)).ok();
    if p.proposal_id.is_some() && p.need_id.is_some() {
        errors.push(FieldError::new("need_id", "money.one_origin"));
    }
    let Some(budget) = budget.filter(|_| errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let origin = match (p.proposal_id, p.need_id) {
        (Some(_), _) => Origin::Council,
        (_, Some(_)) => Origin::Need,
        _ => Origin::Staff,
    };
    let mut tx = state.db.begin().await?;
    for (field, table, id) in [("proposal_id", "proposals", p.proposal_id), ("need_id", "needs", p.need_id)] {
        if let Some(id) = id {
            let found: i64 = query(format!("SELECT COUNT(*) FROM {table} WHERE community_id = $1 AND id = $2"))
                .bind(c.id)
                .bind(id)
                .scalar(&mut tx)
                .await?;
            if found == 0 {
                return Err(AppError::field(field, "validation.reference"));
            }
        }
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO projects (community_id, id, title, place, description, budget_fen, status, origin, proposal_id, need_id,
           created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8, $9, $10, $11, $11)",
    )
    .bind(c.id)
    .bind(id)
    .bind(p.title.trim())
    .bind(p.place.trim())
    .bind(p.description.as_deref().map(str::trim).filter(|d| !d.is_empty()))
    .bind(budget)
    .bind(origin.as_str())
    .bind(p.proposal_id)
    .bind(p.need_id)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    step(&mut tx, c.id, id, ProjectStatus::Proposed, None, actor).await?;
    let after = json!({"title": p.title.trim(), "budget_fen": budget, "origin": origin.as_str()});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "project", id, None, Some(&after)).await?;
    let out = project(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

async fn step(
    tx: &mut Tx,
    community_id: i64,
    project_id: i64,
    status: ProjectStatus,
    note: Option<&str>,
    actor: &Actor,
) -> AppResult<()> {
    let id = tx.next_id().await?;
    query(
        "INSERT INTO project_events (community_id, id, project_id, status, note, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(community_id)
    .bind(id)
    .bind(project_id)
    .bind(status.as_str())
    .bind(note)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn project(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Project>> {
    Ok(query(format!("{PROJECT} WHERE p.community_id = $1 AND p.id = $2 {GROUP}"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The community's projects, newest first.
pub async fn list(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Project>> {
    Ok(query(format!("{PROJECT} WHERE p.community_id = $1 {GROUP} ORDER BY p.created_at DESC"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// The projects that came from a council proposal or a need (the link shown both ways).
pub async fn from_origin(ex: &mut impl Exec, community_id: i64, origin: Origin, id: i64) -> AppResult<Vec<Project>> {
    let column = if origin == Origin::Council { "proposal_id" } else { "need_id" };
    Ok(query(format!("{PROJECT} WHERE p.community_id = $1 AND p.{column} = $2 {GROUP} ORDER BY p.created_at"))
        .bind(community_id)
        .bind(id)
        .fetch_all(ex)
        .await?)
}

/// One fund's share of a project.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Funding {
    pub fund_id: i64,
    pub fund: String,
    pub amount_fen: i64,
    pub spent_fen: i64,
}

pub async fn funding(ex: &mut impl Exec, community_id: i64, project_id: i64) -> AppResult<Vec<Funding>> {
    Ok(query(
        "SELECT f.fund_id, d.name AS fund, f.amount_fen, f.spent_fen FROM project_funding f
         JOIN funds d ON d.community_id = f.community_id AND d.id = f.fund_id
         WHERE f.community_id = $1 AND f.project_id = $2 ORDER BY d.name",
    )
    .bind(community_id)
    .bind(project_id)
    .fetch_all(ex)
    .await?)
}

/// What each of a fund's projects has of it: (project, title, amount, spent).
pub async fn of_fund(ex: &mut impl Exec, community_id: i64, fund_id: i64) -> AppResult<Vec<(i64, String, i64, i64)>> {
    Ok(query(
        "SELECT p.id, p.title, f.amount_fen, f.spent_fen FROM project_funding f
         JOIN projects p ON p.community_id = f.community_id AND p.id = f.project_id
         WHERE f.community_id = $1 AND f.fund_id = $2 ORDER BY p.created_at DESC",
    )
    .bind(community_id)
    .bind(fund_id)
    .fetch_all(ex)
    .await?)
}

/// Sets how much of a project a fund pays for (again: a new amount, never below what is
/// spent of it). The shares of all funds stay within the budget.
pub async fn set_funding(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    project_id: i64,
    fund_id: i64,
    amount: &str,
) -> AppResult<Project> {
    require_keeper(actor, c.id)?;
    let amount = fen("amount", amount).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let p = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    if matches!(p.status, ProjectStatus::Accepted | ProjectStatus::Cancelled) {
        return Err(AppError::Conflict("money.project_over"));
    }
    super::funds::fund(&mut tx, c.id, fund_id)
        .await?
        .ok_or_else(|| AppError::field("fund_id", "validation.reference"))?;
    let shares = funding(&mut tx, c.id, project_id).await?;
    let current = shares.iter().find(|f| f.fund_id == fund_id);
    let others: i64 = shares.iter().filter(|f| f.fund_id != fund_id).map(|f| f.amount_fen).sum();
    if others + amount > p.budget_fen {
        return Err(AppError::Invalid(vec![
            FieldError::new("amount", "money.over_budget").with("left", super::super::yuan(p.budget_fen - others)),
        ]));
    }
    if let Some(f) = current {
        if amount < f.spent_fen {
            return Err(AppError::Invalid(vec![
                FieldError::new("amount", "money.below_spent").with("spent", super::super::yuan(f.spent_fen)),
            ]));
        }
        query("UPDATE project_funding SET amount_fen = $1 WHERE community_id = $2 AND project_id = $3 AND fund_id = $4 AND spent_fen <= $1")
            .bind(amount)
            .bind(c.id)
            .bind(project_id)
            .bind(fund_id)
            .execute(&mut tx)
            .await?;
    } else {
        query("INSERT INTO project_funding (community_id, project_id, fund_id, amount_fen, spent_fen) VALUES ($1, $2, $3, $4, 0)")
            .bind(c.id)
            .bind(project_id)
            .bind(fund_id)
            .bind(amount)
            .execute(&mut tx)
            .await?;
    }
    let after = json!({"fund_id": fund_id, "amount_fen": amount});
    let before = current.map(|f| json!({"fund_id": fund_id, "amount_fen": f.amount_fen}));
    audit::record(
        &mut tx,
        c.id,
        &By::from(actor),
        Action::Update,
        "project",
        project_id,
        before.as_ref(),
        Some(&after),
    )
    .await?;
    let out = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Milestone {
    pub id: i64,
    pub title: String,
    pub due_on: NaiveDate,
    pub weight: i64,
    pub done_on: Option<NaiveDate>,
}

pub async fn milestones(ex: &mut impl Exec, community_id: i64, project_id: i64) -> AppResult<Vec<Milestone>> {
    Ok(query(
        "SELECT id, title, due_on, weight, done_on FROM milestones WHERE community_id = $1 AND project_id = $2 ORDER BY due_on, id",
    )
    .bind(community_id)
    .bind(project_id)
    .fetch_all(ex)
    .await?)
}

/// The progress of a project's milestones, in percent.
pub fn percent(ms: &[Milestone]) -> i64 {
    progress(&ms.iter().map(|m| (m.weight, m.done_on.is_some())).collect::<Vec<_>>())
}

/// The community's projects, each with its progress in percent and whether it keeps to
/// its plan on `today` (their milestones read in one query for all of them).
pub async fn list_with_progress(
    ex: &mut impl Exec,
    community_id: i64,
    today: NaiveDate,
) -> AppResult<Vec<(Project, i64, Timing)>> {
    let projects = list(&mut *ex, community_id).await?;
    let rows: Vec<(i64, i64, NaiveDate, Option<NaiveDate>)> =
        query("SELECT project_id, weight, due_on, done_on FROM milestones WHERE community_id = $1")
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    let mut plans: HashMap<i64, Vec<(i64, NaiveDate, Option<NaiveDate>)>> = HashMap::new();
    for (project, weight, due, done) in rows {
        plans.entry(project).or_default().push((weight, due, done));
    }
    Ok(projects
        .into_iter()
        .map(|p| {
            let plan = plans.remove(&p.id).unwrap_or_default();
            let percent = progress(&plan.iter().map(|(w, _, done)| (*w, done.is_some())).collect::<Vec<_>>());
            let dates: Vec<_> = plan.iter().map(|(_, due, done)| (*due, *done)).collect();
            let t = timing(&dates, p.status, today);
            (p, percent, t)
        })
        .collect())
}

/// Adds a milestone to a project's plan.
pub async fn add_milestone(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    project_id: i64,
    title: &str,
    due_on: Option<NaiveDate>,
    weight: Option<i64>,
) -> AppResult<i64> {
    require_keeper(actor, c.id)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "title", title, 60, true);
    if due_on.is_none() {
        errors.push(FieldError::new("due_on", "validation.required"));
    }
    match weight {
        None => errors.push(FieldError::new("weight", "validation.required")),
        Some(w) => crate::input::check_range(&mut errors, "weight", w, 1..=100),
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let p = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    if matches!(p.status, ProjectStatus::Accepted | ProjectStatus::Cancelled) {
        return Err(AppError::Conflict("money.project_over"));
    }
    let id = tx.next_id().await?;
    query(
        "INSERT INTO milestones (community_id, id, project_id, title, due_on, weight) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(id)
    .bind(project_id)
    .bind(title.trim())
    .bind(due_on)
    .bind(weight)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Marks a milestone done today (once): the project's progress follows.
pub async fn milestone_done(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    project_id: i64,
    id: i64,
) -> AppResult<()> {
    require_keeper(actor, c.id)?;
    let mut tx = state.db.begin().await?;
    let p = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    if !matches!(p.status, ProjectStatus::InProgress | ProjectStatus::Approved) {
        return Err(AppError::Conflict("money.not_in_progress"));
    }
    let n = query(
        "UPDATE milestones SET done_on = $1, done_by = $2 WHERE community_id = $3 AND project_id = $4 AND id = $5 AND done_on IS NULL",
    )
    .bind(crate::web::fmt::today())
    .bind(actor.user_id)
    .bind(c.id)
    .bind(project_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Moves a project to another state it may go to. Approval needs its whole budget
/// funded; completion needs every milestone done.
pub async fn move_to(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    project_id: i64,
    to: &str,
    note: Option<&str>,
) -> AppResult<Project> {
    require_keeper(actor, c.id)?;
    let to = ProjectStatus::parse(to).ok_or_else(|| AppError::field("status", "validation.choice"))?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        let mut errors = Vec::new();
        crate::input::check_text(&mut errors, "note", n, 500, false);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
    }
    let mut tx = state.db.begin().await?;
    let p = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    if !p.status.next().contains(&to) {
        return Err(AppError::Conflict("money.no_such_step"));
    }
    if to == ProjectStatus::Approved && p.funded_fen < p.budget_fen {
        return Err(AppError::Invalid(vec![
            FieldError::new("status", "money.unfunded").with("left", super::super::yuan(p.budget_fen - p.funded_fen)),
        ]));
    }
    if matches!(to, ProjectStatus::Suspended | ProjectStatus::Cancelled) && note.is_none() {
        return Err(AppError::field("note", "validation.required"));
    }
    let ms = milestones(&mut tx, c.id, project_id).await?;
    if to == ProjectStatus::Completed && (ms.is_empty() || ms.iter().any(|m| m.done_on.is_none())) {
        return Err(AppError::field("status", "money.milestones_open"));
    }
    let n =
        query("UPDATE projects SET status = $1, updated_at = $2 WHERE community_id = $3 AND id = $4 AND status = $5")
            .bind(to.as_str())
            .bind(now_ms())
            .bind(c.id)
            .bind(project_id)
            .bind(p.status.as_str())
            .execute(&mut tx)
            .await?;
    if n == 0 {
        return Err(AppError::Conflict("money.no_such_step"));
    }
    step(&mut tx, c.id, project_id, to, note, actor).await?;
    let (before, after) = (json!({"status": p.status.as_str()}), json!({"status": to.as_str()}));
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "project", project_id, Some(&before), Some(&after))
        .await?;
    let out = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// A project's steps: (status, note, who, when).
pub async fn steps(
    ex: &mut impl Exec,
    community_id: i64,
    project_id: i64,
) -> AppResult<Vec<(String, Option<String>, String, i64)>> {
    Ok(query(
        "SELECT e.status, e.note, u.display_name, e.at FROM project_events e JOIN users u ON u.id = e.actor_id
         WHERE e.community_id = $1 AND e.project_id = $2 ORDER BY e.at, e.id",
    )
    .bind(community_id)
    .bind(project_id)
    .fetch_all(ex)
    .await?)
}

/// Adds photos (before, during, after) to a project.
pub async fn add_photos(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    project_id: i64,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<()> {
    require_keeper(actor, c.id)?;
    if photos.is_empty() {
        return Err(AppError::field("photos", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    media::attach(state, &mut tx, c.id, "project", project_id, Some(actor.user_id), photos).await?;
    tx.commit().await?;
    Ok(())
}

/// A project's photos are public, as its page is.
pub fn media_check<'a>(
    state: &'a AppState,
    _actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move { Ok(project(&mut state.db.read().await?, m.community_id, m.owner_id).await?.is_some()) })
}

/// A resident's comment on a project's public page.
pub async fn comment(state: &AppState, actor: &Actor, c: &CommunityRef, project_id: i64, body: &str) -> AppResult<()> {
    if !actor.sees_community(c.id) {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "body", body, 500, true);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    let id = tx.next_id().await?;
    query("INSERT INTO project_comments (community_id, id, project_id, user_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(c.id)
        .bind(id)
        .bind(project_id)
        .bind(actor.user_id)
        .bind(body.trim())
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A project's comments, oldest first: (who, what, when).
pub async fn comments(ex: &mut impl Exec, community_id: i64, project_id: i64) -> AppResult<Vec<(String, String, i64)>> {
    Ok(query(
        "SELECT u.display_name, c.body, c.created_at FROM project_comments c JOIN users u ON u.id = c.user_id
         WHERE c.community_id = $1 AND c.project_id = $2 ORDER BY c.created_at, c.id",
    )
    .bind(community_id)
    .bind(project_id)
    .fetch_all(ex)
    .await?)
}

/// The projects that carry out a council proposal or answer a need, for their pages.
pub fn related<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    kind: &'a str,
    id: i64,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::capability::Related>>> {
    Box::pin(async move {
        let origin = match kind {
            "proposal" => Origin::Council,
            "need" => Origin::Need,
            _ => return Ok(Vec::new()),
        };
        let list = from_origin(&mut state.db.read().await?, c.id, origin, id).await?;
        Ok(list
            .into_iter()
            .map(|p| crate::web::capability::Related {
                href: format!("/p/{}/money/projects/{}", c.code, p.id),
                kind_key: "money.project",
                title: p.title,
            })
            .collect())
    })
}
