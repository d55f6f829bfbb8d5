//! Reading one ticket: the row itself, the actor's view of it, its history and the units
//! whistled in.

use super::access::standing;
use super::{COLUMNS, Ticket};
use crate::auth::model::Actor;
use crate::capabilities::tickets::Standing;
use crate::db::{Db, Exec, query};
use crate::error::{AppError, AppResult};

pub async fn fetch(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Ticket>> {
    Ok(query(format!("SELECT {COLUMNS} FROM tickets WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// One ticket, if the actor may see it, with their standing.
pub async fn get(db: &Db, actor: &Actor, community_id: i64, id: i64) -> AppResult<(Ticket, Standing)> {
    let mut conn = db.read().await?;
    let t = fetch(&mut conn, community_id, id).await?.ok_or(AppError::NotFound)?;
    let s = standing(&mut conn, actor, &t).await?;
    if !s.may_see() {
        return Err(AppError::NotFound);
    }
    Ok((t, s))
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Event {
    pub at: i64,
    pub actor_name: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

pub async fn history(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Vec<Event>> {
    Ok(query("SELECT at, actor_name, action, from_status, to_status, note FROM ticket_events WHERE community_id = $1 AND ticket_id = $2 ORDER BY at, id")
        .bind(community_id)
        .bind(id)
        .fetch_all(ex)
        .await?)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Whistle {
    pub id: i64,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub department: Option<String>,
    pub called_at: i64,
    pub note: Option<String>,
    pub responded_at: Option<i64>,
    pub response: Option<String>,
}

pub async fn whistles(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Vec<Whistle>> {
    Ok(query(
        "SELECT w.id, w.unit_id, u.name AS unit_name, w.department, w.called_at, w.note, w.responded_at, w.response
         FROM ticket_whistles w LEFT JOIN partner_units u ON u.community_id = w.community_id AND u.id = w.unit_id
         WHERE w.community_id = $1 AND w.ticket_id = $2 ORDER BY w.called_at, w.id",
    )
    .bind(community_id)
    .bind(id)
    .fetch_all(ex)
    .await?)
}
