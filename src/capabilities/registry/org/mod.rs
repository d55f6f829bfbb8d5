//! Organisation: party organisations (committee → general branch → branch → grid party
//! group → lead household), volunteer teams and partner units.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::auth::model::Permission::*;
use crate::db::citus::Span;
use crate::db::{Builder, Db, Tx, query};
use crate::error::{AppResult, FieldError};
use crate::services::pii::Pii;
use crate::services::records::model::{Child, EntityDef, Filter, FilterKind, Kind::*, Search, Tenancy, Val, field};

/// Party organisation levels, from the top. A level's parent must be higher.
pub const PARTY_LEVELS: &[&str] = &["committee", "general_branch", "branch", "grid_group", "lead_household"];

/// A party organisation is never its own parent, and ranks below its parent.
fn party_org_rules<'a>(
    tx: &'a mut Tx,
    community_id: Option<i64>,
    id: Option<i64>,
    merged: &'a Map<String, Value>,
) -> BoxFuture<'a, AppResult<Vec<FieldError>>> {
    Box::pin(async move {
        let (Some(parent), Some(level)) =
            (merged.get("parent_id").and_then(Value::as_i64), merged.get("level").and_then(Value::as_str))
        else {
            return Ok(Vec::new());
        };
        if Some(parent) == id {
            return Ok(vec![FieldError::new("parent_id", "validation.parent_self")]);
        }
        let parent_level: Option<String> = query("SELECT level FROM party_orgs WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(parent)
            .scalar_optional(tx)
            .await?;
        let rank = |l: &str| PARTY_LEVELS.iter().position(|x| *x == l);
        match parent_level {
            Some(p) if rank(&p) >= rank(level) => Ok(vec![FieldError::new("parent_id", "validation.parent_level")]),
            _ => Ok(Vec::new()),
        }
    })
}

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
    rules: Some(party_org_rules),
    after_write: None,
    holds_settings: false,
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
    rules: None,
    after_write: None,
    holds_settings: false,
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
        field("contact_phone", Phone),
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
    rules: None,
    after_write: None,
    holds_settings: false,
};

/// Seals the contact phones written before migration 0009 (plain text then). A number that
/// is not a mainland mobile (a landline) cannot be sealed as one, so it moves into the
/// unit's notes rather than being lost. Runs at every start; once done it finds nothing.
pub async fn seal_contact_phones(db: &Db, pii: &Pii) -> anyhow::Result<usize> {
    const FIND: &str = "SELECT community_id, id, contact_phone_unsealed, notes FROM partner_units WHERE contact_phone_unsealed IS NOT NULL";
    // Read first: at almost every start there is nothing to do, and no write lock is needed.
    let waiting: Vec<(i64, i64, String, Option<String>)> =
        query(FIND).fetch_all(&mut db.span(Span::Maintenance).await?).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let field = PARTNER_UNIT.field("contact_phone").expect("partner units have a contact phone");
    let mut tx = db.begin_span(Span::Maintenance).await?;
    let plain: Vec<(i64, i64, String, Option<String>)> = query(FIND).fetch_all(&mut tx).await?;
    for (community_id, id, phone, notes) in &plain {
        let mut b = Builder::new("UPDATE partner_units SET contact_phone_unsealed = NULL");
        match crate::services::pii::normalize_contact_number(phone) {
            // Stored as a phone typed in today would be.
            Ok(p) => {
                for (column, value) in crate::services::records::store::to_columns(pii, field, &Val::Personal(p)) {
                    b.push(&format!(", {column} = ")).arg(value);
                }
            }
            Err(_) => {
                let line = format!("联系电话：{}", phone.trim());
                let notes = match notes.as_deref().filter(|n| !n.is_empty()) {
                    Some(n) => format!("{n}\n{line}"),
                    None => line,
                };
                b.push(", notes = ").arg(notes);
            }
        }
        b.push(" WHERE community_id = ").arg(*community_id).push(" AND id = ").arg(*id);
        b.build().execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(plain.len())
}
