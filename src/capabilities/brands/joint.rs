//! A subdistrict's own brand 街道品牌 (seed 004: 洲心街道's 一社区一品牌, made of 连江营造计划,
//! 红管+ and 凤翔"益家人"): a name, a logo, a story and its people, and the communities'
//! brands it brings together. Its figures are theirs, each counted by the dictionary over what that
//! brand gathers, added up.

use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media::Checked;
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
    /// When its logo was set (none: it has none).
    pub logo_at: Option<i64>,
}

const COLUMNS: &str = "subdistrict_id, id, name, story, people, logo_at";

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

/// The draft and its members checked together (every refusal at once, each naming its
/// field): a name another brand of the subdistrict has, no member, or one not its own.
async fn checked(
    tx: &mut Tx,
    subdistrict_id: i64,
    other_than: i64,
    d: &Draft,
    asked: &[String],
) -> AppResult<Vec<(i64, i64)>> {
    let mut errors = check(d).err().unwrap_or_default();
    let taken: Option<i64> =
        query("SELECT id FROM subdistrict_brands WHERE subdistrict_id = $1 AND name = $2 AND id <> $3")
            .bind(subdistrict_id)
            .bind(d.name.trim())
            .bind(other_than)
            .scalar_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        errors.push(FieldError::new("name", "brands.joint_name_taken"));
    }
    let members = match chosen(&mut *tx, subdistrict_id, asked).await {
        Ok(m) => m,
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    if errors.is_empty() { Ok(members) } else { Err(AppError::Invalid(errors)) }
}

/// A new subdistrict brand over `members` (already checked): the form's and the demo's.
pub async fn insert(
    tx: &mut Tx,
    subdistrict_id: i64,
    d: &Draft,
    members: &[(i64, i64)],
    by: Option<i64>,
) -> AppResult<i64> {
    let id = tx.next_id().await?;
    query(
        "INSERT INTO subdistrict_brands (id, subdistrict_id, name, story, people, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(subdistrict_id)
    .bind(d.name.trim())
    .bind(d.story.trim())
    .bind(d.people.trim())
    .bind(by)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    set_members(tx, id, members).await?;
    Ok(id)
}

/// Its members become `members`, in one go.
async fn set_members(tx: &mut Tx, id: i64, members: &[(i64, i64)]) -> AppResult<()> {
    query("DELETE FROM subdistrict_brand_members WHERE subdistrict_brand_id = $1").bind(id).execute(&mut *tx).await?;
    for &(c, b) in members {
        query(
            "INSERT INTO subdistrict_brand_members (subdistrict_brand_id, member_community_id, member_brand_id)
             VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(c)
        .bind(b)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// A logo is kept as the checked upload's JPEG thumbnail (the last one sent).
async fn set_logo(tx: &mut Tx, id: i64, logo: &[(Vec<u8>, Checked)]) -> AppResult<()> {
    if let Some((_, checked)) = logo.last() {
        query("UPDATE subdistrict_brands SET logo = $2, logo_at = $3 WHERE id = $1")
            .bind(id)
            .bind(checked.thumbnail.clone())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Creates a subdistrict's brand over some of its communities' brands, with its logo if
/// one is sent: its administrators.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    subdistrict_id: i64,
    (d, asked): (&Draft, &[String]),
    logo: &[(Vec<u8>, Checked)],
) -> AppResult<i64> {
    if !actor.manages_subdistrict(subdistrict_id) {
        return Err(AppError::NotFound);
    }
    let mut tx = state.db.begin().await?;
    let members = checked(&mut tx, subdistrict_id, 0, d, asked).await?;
    let id = insert(&mut tx, subdistrict_id, d, &members, Some(actor.user_id)).await?;
    set_logo(&mut tx, id, logo).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes its name, story, people and members (a member left out leaves it), and its
/// logo when a new one is sent: its administrators.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    (subdistrict_id, id): (i64, i64),
    (d, asked): (&Draft, &[String]),
    logo: &[(Vec<u8>, Checked)],
) -> AppResult<()> {
    if !actor.manages_subdistrict(subdistrict_id) {
        return Err(AppError::NotFound);
    }
    let mut tx = state.db.begin().await?;
    get(&mut tx, subdistrict_id, id).await?;
    let members = checked(&mut tx, subdistrict_id, id, d, asked).await?;
    query("UPDATE subdistrict_brands SET name = $2, story = $3, people = $4, updated_at = $5 WHERE id = $1")
        .bind(id)
        .bind(d.name.trim())
        .bind(d.story.trim())
        .bind(d.people.trim())
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    set_members(&mut tx, id, &members).await?;
    set_logo(&mut tx, id, logo).await?;
    tx.commit().await?;
    Ok(())
}

/// Its logo (a JPEG), if it has one.
pub async fn logo(ex: &mut impl Exec, subdistrict_id: i64, id: i64) -> AppResult<Option<Vec<u8>>> {
    let row: Option<Option<Vec<u8>>> =
        query("SELECT logo FROM subdistrict_brands WHERE subdistrict_id = $1 AND id = $2")
            .bind(subdistrict_id)
            .bind(id)
            .scalar_optional(ex)
            .await?;
    Ok(row.flatten())
}

/// Each member's figures over its whole life, and their sum (the subdistrict brand's).
pub async fn figures(state: &AppState, members: &[Member]) -> AppResult<(Vec<Values>, Values)> {
    let mut each = Vec::new();
    for m in members {
        each.push(store::figures_of(state, &m.community, &m.brand).await?);
    }
    let total = dictionary::total(state, each.iter());
    Ok((each, total))
}
