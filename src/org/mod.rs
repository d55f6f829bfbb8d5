//! Organisation: party organisations (committee → general branch → branch → grid party
//! group → lead household), volunteer teams and partner units.

use crate::auth::model::Permission::*;
use crate::entity::model::{Child, EntityDef, Filter, FilterKind, Kind::*, Search, Tenancy, field};

/// Party organisation levels, from the top. A level's parent must be higher.
pub const PARTY_LEVELS: &[&str] = &["committee", "general_branch", "branch", "grid_group", "lead_household"];

pub static PARTY_ORG: EntityDef = EntityDef {
    kind: "party_org",
    path: "party_orgs",
    table: "party_orgs",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Text { max: 100 }).required().listed(),
        field("level", Choice(PARTY_LEVELS)).required().listed(),
        field("parent_id", Ref("party_org")).listed(),
        field("grid_id", Ref("grid")),
        field("household_id", Ref("household")),
        field("partner_unit_id", Ref("partner_unit")),
        field("secretary", Text { max: 40 }).listed(),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[Filter { column: "parent_id", kind: FilterKind::Ref("party_org") }],
    children: &[Child { entity: "party_org", column: "parent_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};

pub static TEAM: EntityDef = EntityDef {
    kind: "team",
    path: "teams",
    table: "teams",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Text { max: 100 }).required().listed(),
        field("kind", Choice(&["volunteer", "patrol", "culture", "service", "mediation", "other"])).required().listed(),
        field("brand", Text { max: 60 }).listed(),
        field("leader", Text { max: 40 }).listed(),
        field("description", LongText { max: 2000 }),
        field("founded_on", Date),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};

pub static PARTNER_UNIT: EntityDef = EntityDef {
    kind: "partner_unit",
    path: "partner_units",
    table: "partner_units",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Text { max: 100 }).required().listed(),
        field("kind", Choice(&["enterprise", "hospital", "school", "agency", "social_org", "other"]))
            .required()
            .listed(),
        field("address", Text { max: 200 }),
        field("contact_name", Text { max: 40 }).listed(),
        field("contact_phone", Text { max: 30 }),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[Child { entity: "party_org", column: "partner_unit_id" }],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
};
