//! People: the resident registry (with personal data under PIPL) and user accounts.

pub mod joining;
pub mod joining_pages;
pub mod posts;
pub mod users;

use crate::auth::model::Permission::*;
use crate::services::records::model::{EntityDef, Filter, FilterKind, Kind::*, Search, Tenancy, field};

pub static RESIDENT: EntityDef = EntityDef {
    kind: "resident",
    path: "residents",
    table: "residents",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Text { max: 40 }).required().listed(),
        field("gender", Choice(&["male", "female"])).listed(),
        field("birth_date", Date).listed(),
        field("id_number", IdNumber),
        field("phone", Phone).listed(),
        field("household_id", Ref("household")).listed(),
        field("relation", Choice(&["head", "spouse", "child", "parent", "grandchild", "other"])),
        field("category", Choice(&["registered", "permanent", "floating", "lodging", "overseas"])),
        field("care_tags", Tags).listed(),
        field("party_member", Bool).listed(),
        field("party_org_id", Ref("party_org")),
        field("notes", LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Prefix("name"), Search::Personal],
    filters: &[
        Filter { column: "grid_id", kind: FilterKind::Ref("grid") },
        Filter { column: "care_tags", kind: FilterKind::Tag },
        Filter { column: "party_member", kind: FilterKind::Bool },
    ],
    children: &[],
    grid_column: Some("grid_id"),
    household_column: Some("household_id"),
    read: ViewRegistry,
    write: EditRegistry,
    rules: None,
    after_write: None,
    holds_settings: false,
};
