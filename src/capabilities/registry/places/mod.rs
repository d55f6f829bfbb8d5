//! Places: subdistrict → community → zone → grid → compound → building → household.
//! Their records are served by the generic engine (`entity`); this module defines them
//! and adds what is particular to places: the browser and the grid map.

pub mod map;
pub mod pages;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::auth::model::Permission::*;
use crate::auth::model::Role;
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::AppResult;
use crate::services::records::model::{
    Child, EntityDef, Filter, FilterKind, Kind::*, Search, Tenancy, Val, Values, field,
};

/// A community's grids as (id, name), in the order people count them (第一, 第二, … 第十).
pub async fn grid_names(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut grids: Vec<(i64, String)> =
        query("SELECT id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL")
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    crate::natural::sort_by_name(&mut grids, |g| g.1.as_str());
    Ok(grids)
}

/// A community's compounds as (id, name), in natural order.
pub async fn compound_names(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut rows: Vec<(i64, String)> =
        query("SELECT id, name FROM compounds WHERE community_id = $1 AND archived_at IS NULL")
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    crate::natural::sort_by_name(&mut rows, |r| r.1.as_str());
    Ok(rows)
}

/// Where a compound is: the middle of its households that have a point on the map
/// (latitude, longitude); none when it has no such household or is not the community's.
/// Public: a compound's middle says nothing of anyone.
pub async fn compound_centre(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<(f64, f64)>> {
    let row: Option<(Option<f64>, Option<f64>)> = query(
        "SELECT AVG(lat), AVG(lng) FROM households WHERE community_id = $1 AND compound_id = $2 AND lat IS NOT NULL AND lng IS NOT NULL",
    )
    .bind(community_id)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(row.and_then(|(a, b)| a.zip(b)))
}

/// The households an actor's permission reaches in a community, as (id, address) in
/// natural order: those of their grids and households, or up to 500 of the community for
/// those who cover it all (a picker, not a list to page through).
pub async fn households_within(
    ex: &mut impl Exec,
    actor: &crate::auth::model::Actor,
    community_id: i64,
    perm: crate::auth::model::Permission,
) -> AppResult<Vec<(i64, String)>> {
    let reach = actor.access(community_id, perm);
    let mut b = crate::db::Builder::new("SELECT id, address FROM households WHERE community_id = ");
    b.arg(community_id).push(" AND archived_at IS NULL");
    if !reach.all {
        b.push(" AND (grid_id IN ").list(reach.grids.iter().copied());
        b.push(" OR id IN ").list(reach.households.iter().copied()).push(")");
    }
    b.push(" ORDER BY address LIMIT 500");
    let mut rows: Vec<(i64, String)> = b.build().fetch_all(ex).await?;
    crate::natural::sort_by_name(&mut rows, |r| r.1.as_str());
    Ok(rows)
}

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
    rules: None,
    after_write: None,
    holds_settings: false,
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
    rules: None,
    after_write: None,
    holds_settings: true,
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
    rules: None,
    after_write: None,
    holds_settings: false,
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
    rules: None,
    after_write: Some(grid_after_write),
    holds_settings: false,
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
    rules: None,
    after_write: None,
    holds_settings: false,
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
    rules: None,
    after_write: None,
    holds_settings: false,
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
    rules: None,
    after_write: Some(household_after_write),
    holds_settings: false,
};

/// A household's residents follow it to its grid.
fn household_after_write<'a>(
    tx: &'a mut Tx,
    community_id: i64,
    id: i64,
    _: Option<&'a Map<String, Value>>,
    values: &'a Values,
) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if let Some(v) = values.get("grid_id") {
            let grid = match v {
                Val::Int(g) => Some(*g),
                _ => None,
            };
            query("UPDATE residents SET grid_id = $1 WHERE community_id = $2 AND household_id = $3")
                .bind(grid)
                .bind(community_id)
                .bind(id)
                .execute(tx)
                .await?;
        }
        Ok(())
    })
}

/// A grid's worker holds the grid-worker role on it (and the one before no longer does).
fn grid_after_write<'a>(
    tx: &'a mut Tx,
    community_id: i64,
    id: i64,
    before: Option<&'a Map<String, Value>>,
    values: &'a Values,
) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let Some(v) = values.get("worker_user_id") else { return Ok(()) };
        let new = match v {
            Val::Int(u) => Some(*u),
            _ => None,
        };
        let old = before.and_then(|b| b.get("worker_user_id")).and_then(Value::as_i64);
        if old == new {
            return Ok(());
        }
        query("DELETE FROM grants WHERE role = 'grid_worker' AND community_id = $1 AND grid_id = $2")
            .bind(community_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(user) = new {
            let gid = tx.next_id().await?;
            query("INSERT INTO grants (id, user_id, role, community_id, grid_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(gid)
                .bind(user)
                .bind(Role::GridWorker.as_str())
                .bind(community_id)
                .bind(id)
                .bind(now_ms())
                .execute(tx)
                .await?;
        }
        Ok(())
    })
}
