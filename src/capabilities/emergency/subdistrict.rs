//! An incident over several communities of a subdistrict, commanded by its administrators:
//! one incident in each community (its checks stay with the community's data, on its
//! shard), gathered by a small global group; each step is taken in every community, one
//! transaction each, and the figures are read community by community.

use super::store::{self, NewIncident};
use super::{IncidentKind, IncidentStatus, Level, Tally, next_status};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub id: i64,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub kind: IncidentKind,
    #[sqlx(try_from = "String")]
    pub level: Level,
    pub created_at: i64,
}

/// A subdistrict's incidents, the newest first.
pub async fn groups(ex: &mut impl Exec, subdistrict_id: i64) -> AppResult<Vec<Group>> {
    Ok(query(
        "SELECT id, title, kind, level, created_at FROM incident_groups WHERE subdistrict_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT 100",
    )
    .bind(subdistrict_id)
    .fetch_all(ex)
    .await?)
}

pub async fn group(ex: &mut impl Exec, subdistrict_id: i64, id: i64) -> AppResult<Group> {
    query("SELECT id, title, kind, level, created_at FROM incident_groups WHERE subdistrict_id = $1 AND id = $2")
        .bind(subdistrict_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the subdistrict prepares: no communities named means all of them.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub kind: IncidentKind,
    pub level: Level,
    pub title: String,
    pub communities: Vec<i64>,
}

/// The subdistrict's administrator prepares an incident over some of its communities (a
/// community of another subdistrict is refused naming `communities`): the group, then the
/// incident of each community over all its grids.
pub async fn prepare(state: &AppState, actor: &Actor, subdistrict_id: i64, n: NewGroup) -> AppResult<i64> {
    let (_, all) = guard::subdistrict_communities(&state.db, actor, subdistrict_id).await?;
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "title", &n.title, 60, true);
    let chosen = if n.communities.is_empty() { all.clone() } else { n.communities.clone() };
    if chosen.iter().any(|c| !all.contains(c)) {
        e.push(FieldError::new("communities", "validation.reference"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    query(
        "INSERT INTO incident_groups (id, subdistrict_id, title, kind, level, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(subdistrict_id)
    .bind(n.title.trim().to_string())
    .bind(n.kind.as_str())
    .bind(n.level.as_str())
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    for c in chosen {
        let Some(c) = guard::community_by_id(&mut state.db.read().await?, c).await? else { continue };
        let one = NewIncident {
            kind: n.kind,
            level: n.level,
            title: n.title.clone(),
            grids: Vec::new(),
            commander_id: None,
            group_id: Some(id),
        };
        store::create(state, actor, &c, one).await?;
    }
    Ok(id)
}

/// Each community's part of the group: its incident and where it stands.
pub async fn parts(
    state: &AppState,
    actor: &Actor,
    subdistrict_id: i64,
    group_id: i64,
) -> AppResult<Vec<(CommunityRef, store::Incident)>> {
    let (_, all) = guard::subdistrict_communities(&state.db, actor, subdistrict_id).await?;
    let mut conn = state.db.read().await?;
    let mut out = Vec::new();
    for c in all {
        // One community at a time: each query stays on its shard.
        let id: Option<i64> = query("SELECT id FROM incidents WHERE community_id = $1 AND group_id = $2")
            .bind(c)
            .bind(group_id)
            .scalar_optional(&mut conn)
            .await?;
        let (Some(id), Some(c)) = (id, guard::community_by_id(&mut conn, c).await?) else { continue };
        let i = store::incident(&mut conn, c.id, id).await?;
        out.push((c, i));
    }
    out.sort_by(|a, b| a.0.code.cmp(&b.0.code));
    Ok(out)
}

/// Takes the step in every community of the group that can take it (those already there
/// are left as they are; none that can is a conflict); answers how many checks were made.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    subdistrict_id: i64,
    group_id: i64,
    to: IncidentStatus,
    note: Option<&str>,
) -> AppResult<usize> {
    group(&mut state.db.read().await?, subdistrict_id, group_id).await?;
    let parts = parts(state, actor, subdistrict_id, group_id).await?;
    if !parts.iter().any(|(_, i)| next_status(i.status, to).is_ok()) {
        return Err(AppError::Conflict("emergency.not_a_step"));
    }
    let mut made = 0;
    for (c, i) in parts.iter().filter(|(_, i)| next_status(i.status, to).is_ok()) {
        made += store::set_status(state, actor, c, i.id, to, note).await?;
    }
    Ok(made)
}

/// The figures of each community's part, and all together.
pub async fn tallies(state: &AppState, parts: &[(CommunityRef, store::Incident)]) -> AppResult<(Tally, Vec<Tally>)> {
    let mut conn = state.db.read().await?;
    let mut all = Tally::default();
    let mut each = Vec::new();
    for (c, i) in parts {
        let (t, _) = store::tally(&mut conn, c.id, i.id).await?;
        all.merge(&t);
        each.push(t);
    }
    Ok((all, each))
}
