//! A subdistrict's own brand 街道品牌 (seed 004: 洲心街道's 一社区一品牌, made of 连江营造计划,
//! 红管+ and 凤翔"益家人"): a name, a story and its people, and the communities' brands it
//! brings together. Its figures are theirs, each counted by the dictionary over what that
//! brand gathers, added up.

use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::dictionary::{self, Values};

use super::store::{self, Brand};
use super::{Draft, check};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Joint {
    pub subdistrict_id: i64,
    pub id: i64,
    pub name: String,
    pub story: String,
    pub people: String,
}

const COLUMNS: &str = "subdistrict_id, id, name, story, people";

/// A community's brand that a subdistrict's brand brings together.
#[derive(Debug, Clone)]
pub struct Member {
    pub community: CommunityRef,
    pub brand: Brand,
}

/// A member as the form sends it: `{community id}:{brand id}`.
pub fn member_key(community_id: i64, brand_id: i64) -> String {
    format!("{community_id}:{brand_id}")
}

fn parse_key(v: &str) -> Option<(i64, i64)> {
    let (c, b) = v.split_once(':')?;
    Some((c.parse().ok()?, b.parse().ok()?))
}

pub async fn list(ex: &mut impl Exec, subdistrict_id: i64) -> AppResult<Vec<Joint>> {
    Ok(query(format!("SELECT {COLUMNS} FROM subdistrict_brands WHERE subdistrict_id = $1 ORDER BY created_at, id"))
        .bind(subdistrict_id)
        .fetch_all(ex)
        .await?)
}

pub async fn get(ex: &mut impl Exec, subdistrict_id: i64, id: i64) -> AppResult<Joint> {
    query(format!("SELECT {COLUMNS} FROM subdistrict_brands WHERE subdistrict_id = $1 AND id = $2"))
        .bind(subdistrict_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// Its members still there, in the order they were chosen (a brand since removed, or a
/// community that left the subdistrict, drops out).
pub async fn members(ex: &mut impl Exec, j: &Joint) -> AppResult<Vec<Member>> {
    let keys: Vec<(i64, i64)> = query(
        "SELECT member_community_id, member_brand_id FROM subdistrict_brand_members
         WHERE subdistrict_brand_id = $1 ORDER BY member_community_id, member_brand_id",
    )
    .bind(j.id)
    .fetch_all(&mut *ex)
    .await?;
    let mut out = Vec::new();
    for (c, b) in keys {
        let Some(community) = guard::community_by_id(&mut *ex, c).await? else { continue };
        if community.subdistrict_id != j.subdistrict_id {
            continue;
        }
        if let Ok(brand) = store::get(&mut *ex, c, b).await {
            out.push(Member { community, brand });
        }
    }
    Ok(out)
}

/// Each chosen member, refused naming `members` when none is chosen or one is not a
/// brand of a community of this subdistrict.
async fn chosen(ex: &mut impl Exec, subdistrict_id: i64, asked: &[String]) -> AppResult<Vec<(i64, i64)>> {
    let refused = || AppError::Invalid(vec![FieldError::new("members", "brands.member_unknown")]);
    if asked.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new("members", "validation.required")]));
    }
    let mut out = Vec::new();
    for v in asked {
        let (c, b) = parse_key(v).ok_or_else(refused)?;
        let community = guard::community_by_id(&mut *ex, c).await?.ok_or_else(refused)?;
        if community.subdistrict_id != subdistrict_id || store::get(&mut *ex, c, b).await.is_err() {
            return Err(refused());
        }
        if !out.contains(&(c, b)) {
            out.push((c, b));
        }
    }
    Ok(out)
}

/// Creates a subdistrict's brand over some of its communities' brands: its administrators.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    subdistrict_id: i64,
    d: &Draft,
    asked: &[String],
) -> AppResult<i64> {
    if !actor.manages_subdistrict(subdistrict_id) {
        return Err(AppError::NotFound);
    }
    let mut errors = check(d).err().unwrap_or_default();
    let mut tx = state.db.begin().await?;
    let taken: Option<i64> = query("SELECT id FROM subdistrict_brands WHERE subdistrict_id = $1 AND name = $2")
        .bind(subdistrict_id)
        .bind(d.name.trim())
        .scalar_optional(&mut tx)
        .await?;
    if taken.is_some() {
        errors.push(FieldError::new("name", "brands.name_taken"));
    }
    let members = match chosen(&mut tx, subdistrict_id, asked).await {
        Ok(m) => m,
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO subdistrict_brands (id, subdistrict_id, name, story, people, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(subdistrict_id)
    .bind(d.name.trim())
    .bind(d.story.trim())
    .bind(d.people.trim())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    for (c, b) in members {
        query(
            "INSERT INTO subdistrict_brand_members (subdistrict_brand_id, member_community_id, member_brand_id)
             VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(c)
        .bind(b)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Each member's figures over its whole life, and their sum (the subdistrict brand's).
pub async fn figures(state: &AppState, members: &[Member]) -> AppResult<(Vec<Values>, Values)> {
    let mut each = Vec::new();
    for m in members {
        let g = store::gathered(&mut state.db.read().await?, &m.community, &m.brand).await?;
        each.push(store::figures(state, &m.community, &m.brand, &g).await?);
    }
    let total = dictionary::total(state, each.iter());
    Ok((each, total))
}
