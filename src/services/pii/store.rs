//! The access log of reveals: append-only, read by the community secretary.

use crate::auth::model::{Actor, Permission};
use crate::db::{Db, Tx, now_ms, query};
use crate::error::{AppError, AppResult};

pub async fn log_reveal(
    tx: &mut Tx,
    community_id: i64,
    actor: &Actor,
    entity: &str,
    entity_id: i64,
    field: &str,
) -> AppResult<()> {
    let id = tx.next_id().await?;
    query(
        "INSERT INTO pii_access_log (community_id, id, at, user_id, user_name, entity, entity_id, field)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(community_id)
    .bind(id)
    .bind(now_ms())
    .bind(actor.user_id)
    .bind(actor.display_name.as_str())
    .bind(entity)
    .bind(entity_id)
    .bind(field)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Reveal {
    pub at: i64,
    pub user_name: String,
    pub entity: String,
    pub entity_id: i64,
    pub field: String,
}

/// The latest reveals in a community (secretaries only).
pub async fn access_log(db: &Db, actor: &Actor, community_id: i64, limit: i64) -> AppResult<Vec<Reveal>> {
    if !actor.can(community_id, Permission::ViewAccessLog) {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let mut conn = db.read().await?;
    Ok(query(
        "SELECT at, user_name, entity, entity_id, field FROM pii_access_log
         WHERE community_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(community_id)
    .bind(limit)
    .fetch_all(&mut conn)
    .await?)
}
