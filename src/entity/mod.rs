//! The generic record engine: definitions and validation (`model`), queries (`store`),
//! pages and API handlers for every record kind of places, people and organisation.

pub mod api;
pub mod model;
pub mod pages;
pub mod store;

use model::EntityDef;

/// Every record kind the engine serves.
pub fn all() -> [&'static EntityDef; 14] {
    use crate::{org, people, places, points, tickets};
    [
        &places::SUBDISTRICT,
        &places::COMMUNITY,
        &places::ZONE,
        &places::GRID,
        &places::COMPOUND,
        &places::BUILDING,
        &places::HOUSEHOLD,
        &people::RESIDENT,
        &org::PARTY_ORG,
        &org::TEAM,
        &org::PARTNER_UNIT,
        &tickets::CATEGORY,
        &points::REWARD,
        &points::COMMENDATION,
    ]
}

pub fn by_kind(kind: &str) -> Option<&'static EntityDef> {
    all().into_iter().find(|d| d.kind == kind)
}

pub fn by_path(path: &str) -> Option<&'static EntityDef> {
    all().into_iter().find(|d| d.path == path)
}
