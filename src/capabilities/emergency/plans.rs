//! Plans 预案 acted on: at an incident's first activation each plan of its kind sets its
//! tasks going as the incident's tasks and tells the one on call; the command page weighs
//! the supplies each plan wants ready against the stock of every store.

use serde_json::json;

use super::store::Incident;
use super::{IncidentKind, Readiness, readiness, supplies, to_ready};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Action, By};
use crate::services::notify::{self, Audience, Note, Subject};
use crate::web::AppState;

/// A plan as an incident of its kind reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Plan {
    pub id: i64,
    pub title: String,
    pub tasks: String,
    pub on_call_user_id: Option<i64>,
    pub on_call_name: Option<String>,
    pub on_call: Option<String>,
    pub supplies: Option<String>,
}

impl Plan {
    pub fn tasks(&self) -> Vec<String> {
        crate::services::records::model::tags_from_column(&self.tasks)
    }
}

/// The community's plans for a kind of incident.
pub async fn plans(ex: &mut impl Exec, community_id: i64, kind: IncidentKind) -> AppResult<Vec<Plan>> {
    Ok(query(
        "SELECT p.id, p.title, p.tasks, p.on_call_user_id, u.display_name AS on_call_name, p.on_call, p.supplies \
         FROM incident_plans p LEFT JOIN users u ON u.id = p.on_call_user_id \
         WHERE p.community_id = $1 AND p.kind = $2 AND p.archived_at IS NULL ORDER BY p.id",
    )
    .bind(community_id)
    .bind(kind.as_str())
    .fetch_all(ex)
    .await?)
}

/// Each plan with how ready its supplies are.
pub async fn with_readiness(
    ex: &mut impl Exec,
    community_id: i64,
    kind: IncidentKind,
) -> AppResult<Vec<(Plan, Vec<Readiness>)>> {
    let plans = plans(&mut *ex, community_id, kind).await?;
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let stock: Vec<(String, String, i64)> =
        supplies::stock(ex, community_id).await?.into_iter().map(|s| (s.item, s.unit, s.level)).collect();
    Ok(plans
        .into_iter()
        .map(|p| {
            // A plan written before its supplies were read as items: weighed as far as it reads.
            let wanted = to_ready(p.supplies.as_deref().unwrap_or("")).unwrap_or_default();
            let r = readiness(&wanted, &stock);
            (p, r)
        })
        .collect())
}

/// At an incident's first activation, in its transaction: every plan of its kind sets its
/// tasks going (each title once) and tells the one it names on call.
pub async fn act(tx: &mut Tx, state: &AppState, c: &CommunityRef, i: &Incident) -> AppResult<()> {
    let now = now_ms();
    for p in plans(&mut *tx, c.id, i.kind).await? {
        for title in p.tasks() {
            let id = tx.next_id().await?;
            query(
                "INSERT INTO incident_tasks (community_id, id, incident_id, title, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (community_id, incident_id, title) DO NOTHING",
            )
            .bind(c.id)
            .bind(id)
            .bind(i.id)
            .bind(&title)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(u) = p.on_call_user_id {
            let subject = Some(Subject { kind: "incident", id: i.id });
            let text = format!("【应急值班】{}已启动，按“{}”请您到岗值班。", i.title, p.title);
            notify::send(&mut *tx, &state.bus, Note::new(c.id, subject, "emergency", text), Audience::Users(vec![u]))
                .await?;
        }
    }
    Ok(())
}

/// One of an incident's tasks, and who marked it done when.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub done_by: Option<String>,
    pub done_at: Option<i64>,
}

pub async fn tasks(ex: &mut impl Exec, community_id: i64, incident_id: i64) -> AppResult<Vec<Task>> {
    Ok(query(
        "SELECT t.id, t.title, u.display_name AS done_by, t.done_at FROM incident_tasks t \
         LEFT JOIN users u ON u.id = t.done_by WHERE t.community_id = $1 AND t.incident_id = $2 ORDER BY t.id",
    )
    .bind(community_id)
    .bind(incident_id)
    .fetch_all(ex)
    .await?)
}

/// Staff mark one of an incident's tasks done, once (done already: says so, changes nothing).
pub async fn done(state: &AppState, actor: &Actor, c: &CommunityRef, incident_id: i64, task_id: i64) -> AppResult<()> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let mut tx = state.db.begin().await?;
    let n = query(
        "UPDATE incident_tasks SET done_by = $1, done_at = $2 \
         WHERE community_id = $3 AND incident_id = $4 AND id = $5 AND done_at IS NULL",
    )
    .bind(actor.user_id)
    .bind(now_ms())
    .bind(c.id)
    .bind(incident_id)
    .bind(task_id)
    .execute(&mut tx)
    .await?;
    if n == 0 {
        let known: Option<i64> =
            query("SELECT id FROM incident_tasks WHERE community_id = $1 AND incident_id = $2 AND id = $3")
                .bind(c.id)
                .bind(incident_id)
                .bind(task_id)
                .scalar_optional(&mut tx)
                .await?;
        return Err(match known {
            Some(_) => AppError::Conflict("emergency.task_done_already"),
            None => AppError::field("task", "validation.reference"),
        });
    }
    let after = json!({"incident_id": incident_id, "done": true});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "incident_task", task_id, None, Some(&after))
        .await?;
    tx.commit().await?;
    Ok(())
}
