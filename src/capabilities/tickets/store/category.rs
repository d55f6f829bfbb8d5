//! Ticket categories: what a community's requests are sorted by, with their deadlines and
//! default handlers, and the default set every community starts with.

use serde_json::Value;
use sqlx::types::Json;

use crate::capabilities::tickets::{self, Handler};
use crate::db::{Db, Exec, Tx, insert_many, now_ms, query};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub grp: String,
    pub description: Option<String>,
    pub deadline_hours: i64,
    pub handler_kind: String,
    pub handler_team_id: Option<i64>,
    pub handler_unit_id: Option<i64>,
    pub handler_user_id: Option<i64>,
    pub attributes: Option<Json<Value>>,
}

impl Category {
    pub fn handler(&self) -> Option<Handler> {
        Handler::from_parts(&self.handler_kind, self.handler_team_id, self.handler_unit_id, self.handler_user_id)
    }
}

const CATEGORY_COLUMNS: &str = "id, code, name, grp, description, deadline_hours, handler_kind, handler_team_id, handler_unit_id, handler_user_id, attributes";

/// The community's categories in use, by code.
pub async fn categories(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Category>> {
    Ok(query(format!(
        "SELECT {CATEGORY_COLUMNS} FROM ticket_categories WHERE community_id = $1 AND archived_at IS NULL ORDER BY code"
    ))
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

/// Gives a community without categories the default set (urban-management event
/// classes and community services).
pub async fn ensure_categories(tx: &mut Tx, community_id: i64) -> AppResult<()> {
    let have: i64 =
        query("SELECT COUNT(*) FROM ticket_categories WHERE community_id = $1").bind(community_id).scalar(tx).await?;
    if have > 0 {
        return Ok(());
    }
    let ids = tx.next_ids(tickets::DEFAULT_CATEGORIES.len()).await?;
    let now = now_ms();
    let rows = tickets::DEFAULT_CATEGORIES
        .iter()
        .zip(ids)
        .map(|(c, id)| {
            vec![
                community_id.into(),
                id.into(),
                c.code.into(),
                c.name.into(),
                c.group.into(),
                c.description.into(),
                c.hours.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "ticket_categories",
        &["community_id", "id", "code", "name", "grp", "description", "deadline_hours", "created_at", "updated_at"],
        rows,
    )
    .await?;
    Ok(())
}

/// Gives every community without categories the defaults (at start, after migrations).
pub async fn ensure_all_categories(db: &Db) -> AppResult<()> {
    // Every community at once: a look over all shards, then one community at a time.
    let mut conn = db.span(crate::db::citus::Span::Maintenance).await?;
    let all: Vec<i64> = query("SELECT id FROM communities ORDER BY id").scalars(&mut conn).await?;
    let with: std::collections::HashSet<i64> =
        query("SELECT DISTINCT community_id FROM ticket_categories").scalars(&mut conn).await?.into_iter().collect();
    drop(conn);
    let missing = all.into_iter().filter(|c| !with.contains(c));
    for c in missing {
        let mut tx = db.begin().await?;
        ensure_categories(&mut tx, c).await?;
        tx.commit().await?;
    }
    Ok(())
}
