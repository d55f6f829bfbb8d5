//! The needs list 需求清单: needs published by staff or suggested by residents, what staff
//! do to them, their history of events, and who may see them and their photos.

use chrono::NaiveDate;
use serde::Serialize;

use super::clean;
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::participation::{NeedKind, NeedStatus};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::{media, notify};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Need {
    pub community_id: i64,
    pub id: i64,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub kind: NeedKind,
    pub quantity: i64,
    pub unit: String,
    pub pledged: i64,
    pub fulfilled: i64,
    pub deadline: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub status: NeedStatus,
    pub reason: Option<String>,
    pub suggested_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
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
    n.status.is_public()
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

pub(super) async fn event(
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
    let kind = NeedKind::parse(&n.kind);
    if kind.is_none() {
        e.push(FieldError::new("kind", "validation.choice"));
    }
    let quantity = if kind == Some(NeedKind::Place) { n.quantity.unwrap_or(1) } else { n.quantity.unwrap_or(0) };
    if quantity <= 0 {
        e.push(FieldError::new("quantity", "participation.positive"));
    } else {
        crate::input::check_range(&mut e, "quantity", quantity, crate::input::limits::QUANTITY);
    }
    if n.deadline.is_some_and(|d| d < crate::web::fmt::today()) {
        e.push(FieldError::new("deadline", "participation.deadline_past"));
    }
    let Some(kind) = kind.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let unit = clean(&n.unit).unwrap_or_else(|| match kind {
        NeedKind::Money => "元".into(),
        NeedKind::Item => "件".into(),
        NeedKind::Place => "处".into(),
        NeedKind::Service => "人次".into(),
    });
    let status = if staff { NeedStatus::Open } else { NeedStatus::Suggested };
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
    .bind(kind.as_str())
    .bind(quantity)
    .bind(unit)
    .bind(n.deadline)
    .bind(status.as_str())
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
    let to = super::super::staff_step(n.status, action).map_err(|k| AppError::field("action", k))?;
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
