//! Places: subdistrict → community → zone → grid → compound → building → household.
//! Their records are served by the generic engine (`entity`); this module defines them
//! and adds what is particular to places: the browser and the grid map.

pub mod map;
pub mod pages;

use crate::auth::model::Permission::*;
use crate::entity::model::{Child, EntityDef, Filter, FilterKind, Kind::*, Search, Tenancy, field};

pub static SUBDISTRICT: EntityDef = EntityDef {
    kind: "subdistrict",
    path: "subdistricts",
    table: "subdistricts",
    tenancy: Tenancy::Global,
    fields: &[
        field("name", Text { max: 60 }).required().listed(),
        field("code", Digits { min: 6, max: 12 }).required().listed(),
        field("district", Text { max: 60 }).listed(),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[Child { entity: "community", column: "subdistrict_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: ManageCommunity,
};

pub static COMMUNITY: EntityDef = EntityDef {
    kind: "community",
    path: "communities",
    table: "communities",
    tenancy: Tenancy::Global,
    fields: &[
        field("subdistrict_id", Ref("subdistrict")).required(),
        field("name", Text { max: 60 }).required().listed(),
        field("code", Digits { min: 6, max: 12 }).required().listed(),
        field("kind", Choice(&["urban", "rural"])).required().listed(),
        field("brands", Text { max: 200 }).listed(),
        field("address", Text { max: 200 }),
        field("office_phone", Text { max: 30 }),
        field("center_lat", Float { min: -90.0, max: 90.0 }),
        field("center_lng", Float { min: -180.0, max: 180.0 }),
        field("care_tags", FreeTags),
        field("ticket_reopen_limit", Int { min: 0, max: 10 }).default("2"),
        field("ticket_autoclose_days", Int { min: 1, max: 90 }).default("7"),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[
        Child { entity: "zone", column: "community_id" },
        Child { entity: "grid", column: "community_id" },
        Child { entity: "compound", column: "community_id" },
        Child { entity: "party_org", column: "community_id" },
        Child { entity: "team", column: "community_id" },
        Child { entity: "partner_unit", column: "community_id" },
    ],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: ManageCommunity,
};

pub static ZONE: EntityDef = EntityDef {
    kind: "zone",
    path: "zones",
    table: "zones",
    tenancy: Tenancy::Community,
    fields: &[field("name", Text { max: 60 }).required().listed(), field("notes", LongText { max: 1000 })],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[Child { entity: "grid", column: "zone_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};

pub static GRID: EntityDef = EntityDef {
    kind: "grid",
    path: "grids",
    table: "grids",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Text { max: 60 }).required().listed(),
        // CJ/T 349-2010 codes are 20 digits; stored as given, not required.
        field("code", Text { max: 40 }).listed(),
        field("zone_id", Ref("zone")).listed(),
        field("worker_user_id", UserRef).listed(),
        field("polygon", Polygon),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[Filter { column: "zone_id", kind: FilterKind::Ref("zone") }],
    children: &[Child { entity: "compound", column: "grid_id" }, Child { entity: "household", column: "grid_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};

pub static COMPOUND: EntityDef = EntityDef {
    kind: "compound",
    path: "compounds",
    table: "compounds",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Text { max: 60 }).required().listed(),
        field("address", Text { max: 200 }).listed(),
        field("grid_id", Ref("grid")).listed(),
        field("property_company", Text { max: 100 }).listed(),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[Filter { column: "grid_id", kind: FilterKind::Ref("grid") }],
    children: &[Child { entity: "building", column: "compound_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};

pub static BUILDING: EntityDef = EntityDef {
    kind: "building",
    path: "buildings",
    table: "buildings",
    tenancy: Tenancy::Community,
    fields: &[
        field("compound_id", Ref("compound")).required().listed(),
        field("name", Text { max: 60 }).required().listed(),
        field("grid_id", Ref("grid")).listed(),
        field("units", Int { min: 1, max: 100 }),
        field("floors", Int { min: 1, max: 200 }).listed(),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[
        Filter { column: "compound_id", kind: FilterKind::Ref("compound") },
        Filter { column: "grid_id", kind: FilterKind::Ref("grid") },
    ],
    children: &[Child { entity: "household", column: "building_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};

pub static HOUSEHOLD: EntityDef = EntityDef {
    kind: "household",
    path: "households",
    table: "households",
    tenancy: Tenancy::Community,
    fields: &[
        field("address", Text { max: 200 }).required().listed(),
        field("compound_id", Ref("compound")),
        field("building_id", Ref("building")).listed(),
        field("unit", Text { max: 20 }),
        field("room", Text { max: 20 }).listed(),
        field("grid_id", Ref("grid")).listed(),
        field("lat", Float { min: -90.0, max: 90.0 }),
        field("lng", Float { min: -180.0, max: 180.0 }),
        field("notes", LongText { max: 1000 }),
    ],
    title: "address",
    search: &[Search::Contains("address")],
    filters: &[
        Filter { column: "grid_id", kind: FilterKind::Ref("grid") },
        Filter { column: "building_id", kind: FilterKind::Ref("building") },
    ],
    children: &[Child { entity: "resident", column: "household_id" }],
    grid_column: Some("grid_id"),
    household_column: Some("id"),
    read: ViewRegistry,
    write: EditRegistry,
};

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

pub async fn community_by_code(
    ex: &mut impl crate::db::Exec,
    code: &str,
) -> crate::error::AppResult<Option<CommunityRef>> {
    Ok(crate::db::query(format!("{COMMUNITY_REF} WHERE code = $1")).bind(code).fetch_optional(ex).await?)
}

pub async fn community_by_id(ex: &mut impl crate::db::Exec, id: i64) -> crate::error::AppResult<Option<CommunityRef>> {
    Ok(crate::db::query(format!("{COMMUNITY_REF} WHERE id = $1")).bind(id).fetch_optional(ex).await?)
}

/// The community named by a URL, for the public pages (no sign-in).
pub async fn public_community(db: &crate::db::Db, code: &str) -> crate::error::AppResult<CommunityRef> {
    let mut conn = db.read().await?;
    community_by_code(&mut conn, code).await?.ok_or(crate::error::AppError::NotFound)
}

/// A subdistrict's name and its communities, for its administrator (else "not found").
pub async fn subdistrict_communities(
    db: &crate::db::Db,
    actor: &crate::auth::model::Actor,
    id: i64,
) -> crate::error::AppResult<(String, Vec<i64>)> {
    if !actor.manages_subdistrict(id) {
        return Err(crate::error::AppError::NotFound);
    }
    let mut conn = db.read().await?;
    let name: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(id)
        .scalar_optional(&mut conn)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let ids = crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL")
        .bind(id)
        .scalars(&mut conn)
        .await?;
    Ok((name, ids))
}

/// The community named by a URL, if the actor has any role in it (else "not found").
pub async fn visible_community(
    db: &crate::db::Db,
    actor: &crate::auth::model::Actor,
    code: &str,
) -> crate::error::AppResult<CommunityRef> {
    let mut conn = db.read().await?;
    match community_by_code(&mut conn, code).await? {
        Some(c) if actor.sees_community(c.id) => Ok(c),
        _ => Err(crate::error::AppError::NotFound),
    }
}
