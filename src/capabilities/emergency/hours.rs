//! The hours helpers served in an incident: staff enter them once per helper after it, and
//! each becomes a service record like any other (points, certificates), pending approval.

use serde_json::json;

use super::store;
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::{Source, store as points};
use crate::db::{now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

/// The most one helper serves in one incident, in minutes (a day).
pub const MAX_MINUTES: i64 = 24 * 60;

/// Staff enter the hours a registered volunteer served in the incident: recorded once (a
/// second time for the same helper is refused naming `user_id`).
pub async fn record(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    incident_id: i64,
    user_id: i64,
    minutes: i64,
) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(AppError::Invalid(vec![
            FieldError::new("hours", "validation.range").with("min", 0.5).with("max", MAX_MINUTES / 60),
        ]));
    }
    let mut tx = state.db.begin().await?;
    let i = store::incident(&mut tx, c.id, incident_id).await?;
    let v = points::volunteer_of(&mut tx, c.id, user_id).await?.filter(|v| v.archived_at.is_none());
    let v = v.ok_or_else(|| AppError::field("user_id", "emergency.not_volunteer"))?;
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO incident_hours (community_id, id, incident_id, user_id, minutes, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id)
    .bind(id)
    .bind(incident_id)
    .bind(user_id)
    .bind(minutes)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| match crate::db::unique_violation_field(&e) {
        Some(_) => AppError::field("user_id", "emergency.hours_recorded"),
        None => e.into(),
    })?;
    // Entered after the work: it ended when the incident closed, or by now.
    let end = i.closed_at.unwrap_or(now).min(now);
    let service = points::NewService {
        volunteer_id: Some(v.id),
        team_id: None,
        service_type: "care".into(),
        content: format!("应急志愿服务：{}", i.title),
        place: None,
        started_at: Some(end - minutes * 60_000),
        ended_at: Some(end),
        minutes: Some(minutes),
    };
    let r = points::record_service(state, &mut tx, actor, c.id, &service, Source::Emergency, Some(id), &[]).await?;
    query("UPDATE incident_hours SET service_record_id = $1 WHERE community_id = $2 AND id = $3")
        .bind(r.id)
        .bind(c.id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let after = json!({"incident_id": incident_id, "user_id": user_id, "minutes": minutes, "service_record_id": r.id});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "incident_hours", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(r.id)
}
