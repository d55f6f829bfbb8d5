//! Who may do what, checked where data is read and written: `require` for a permission in
//! a community, and the community a path names as a user sees it. A community outside the
//! user's scope is "not found", so that its existence never leaks.

use crate::auth::model::{Actor, Permission};
use crate::db::{Db, Exec, query};
use crate::error::{AppError, AppResult};

/// Refuses unless `actor` holds `permission` in the community: 403 when they can see the
/// community (so they know why), 404 when they cannot.
pub fn require(actor: &Actor, community_id: i64, permission: Permission) -> AppResult<()> {
    if actor.can(community_id, permission) {
        Ok(())
    } else if actor.sees_community(community_id) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

/// A community as pages and stores need it to scope everything under it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct CommunityRef {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub subdistrict_id: i64,
    pub kind: String,
}

const COMMUNITY_REF: &str = "SELECT id, code, name, subdistrict_id, kind FROM communities";

pub async fn community_by_code(ex: &mut impl Exec, code: &str) -> AppResult<Option<CommunityRef>> {
    Ok(query(format!("{COMMUNITY_REF} WHERE code = $1")).bind(code).fetch_optional(ex).await?)
}

pub async fn community_by_id(ex: &mut impl Exec, id: i64) -> AppResult<Option<CommunityRef>> {
    Ok(query(format!("{COMMUNITY_REF} WHERE id = $1")).bind(id).fetch_optional(ex).await?)
}

/// The community named by a URL, for the public pages (no sign-in).
pub async fn public_community(db: &Db, code: &str) -> AppResult<CommunityRef> {
    let mut conn = db.read().await?;
    community_by_code(&mut conn, code).await?.ok_or(AppError::NotFound)
}

/// The community named by a URL, if the actor has any role in it (else "not found").
pub async fn visible_community(db: &Db, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    let mut conn = db.read().await?;
    match community_by_code(&mut conn, code).await? {
        Some(c) if actor.sees_community(c.id) => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// A subdistrict's name (else "not found").
pub async fn subdistrict_name(ex: &mut impl Exec, id: i64) -> AppResult<String> {
    query("SELECT name FROM subdistricts WHERE id = $1").bind(id).scalar_optional(ex).await?.ok_or(AppError::NotFound)
}

/// A subdistrict's name and its communities, for its administrator (else "not found").
pub async fn subdistrict_communities(db: &Db, actor: &Actor, id: i64) -> AppResult<(String, Vec<i64>)> {
    let (name, cs) = subdistrict_community_refs(db, actor, id).await?;
    Ok((name, cs.into_iter().map(|c| c.id).collect()))
}

/// A subdistrict's name and its communities, in the order of their codes, for its
/// administrator (else "not found").
pub async fn subdistrict_community_refs(db: &Db, actor: &Actor, id: i64) -> AppResult<(String, Vec<CommunityRef>)> {
    if !actor.manages_subdistrict(id) {
        return Err(AppError::NotFound);
    }
    let mut conn = db.read().await?;
    let name = subdistrict_name(&mut conn, id).await?;
    let cs = query(format!("{COMMUNITY_REF} WHERE subdistrict_id = $1 AND archived_at IS NULL ORDER BY code"))
        .bind(id)
        .fetch_all(&mut conn)
        .await?;
    Ok((name, cs))
}
