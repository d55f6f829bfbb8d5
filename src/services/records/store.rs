//! Queries for every record kind, with scope enforced here: each function takes the
//! actor and the community first and answers `NotFound` for anything outside the
//! actor's reach, so no handler can forget it.
//!
//! This file holds the record as shown and what reading and writing share (a row decoded,
//! one record's scope checked, references resolved to titles); lists and single records
//! are read in `reading`, records created, updated and archived in `writing`, and the
//! checks a write passes first are in `checks`.

mod checks;
mod reading;
mod writing;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::model::{self, EntityDef, Kind, Tenancy};
use crate::auth::model::Actor;
use crate::db::{Builder, DynRow, Exec};
use crate::error::{AppError, AppResult};
use crate::services::settings;

pub use reading::{get, list, options, reveal, user_options};
pub use writing::{GENERATION, create, set_archived, to_columns, update};

/// A record as shown: personal values masked, references by id (titles in `refs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: i64,
    pub community_id: Option<i64>,
    pub values: Map<String, Value>,
    /// Titles of referenced records, by field name.
    pub refs: BTreeMap<&'static str, String>,
    pub grid_id: Option<i64>,
    pub household_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
}

impl Record {
    pub fn title(&self, def: &EntityDef) -> String {
        match self.values.get(def.title) {
            Some(Value::String(s)) => s.clone(),
            _ => format!("#{}", self.id),
        }
    }

    /// The record as the API shows it.
    pub fn to_json(&self) -> Value {
        let mut out = self.values.clone();
        out.insert("id".into(), json!(self.id));
        if let Some(c) = self.community_id {
            out.insert("community_id".into(), json!(c));
        }
        out.insert("created_at".into(), json!(crate::web::fmt::rfc3339(self.created_at)));
        out.insert("updated_at".into(), json!(crate::web::fmt::rfc3339(self.updated_at)));
        out.insert("archived".into(), json!(self.archived_at.is_some()));
        Value::Object(out)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub q: Option<String>,
    /// Filter values by column (validated against the definition's filters).
    pub filters: Vec<(String, String)>,
    /// Only children of this record: (column, id).
    pub parent: Option<(&'static str, i64)>,
    pub include_archived: bool,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Record>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub fn pages(&self) -> u32 {
        ((self.total.max(0) as u64).div_ceil(u64::from(self.per_page.max(1)))).max(1) as u32
    }
}

/// The columns to select: personal values only in their masked form.
fn select_columns(def: &EntityDef) -> String {
    let mut cols = vec!["id".to_string()];
    if def.tenancy == Tenancy::Community {
        cols.push("community_id".into());
    }
    for f in def.fields {
        match f.kind {
            Kind::Phone | Kind::IdNumber => cols.push(format!("{}_masked", f.name)),
            _ => cols.push(f.name.to_string()),
        }
    }
    if let Some(g) = def.grid_column.filter(|g| def.field(g).is_none()) {
        cols.push(g.to_string());
    }
    cols.extend(["created_at", "updated_at", "archived_at"].map(String::from));
    cols.join(", ")
}

fn decode(def: &EntityDef, row: &DynRow) -> Result<Record, sqlx::Error> {
    let mut values = Map::new();
    for f in def.fields {
        let v = match f.kind {
            Kind::Text { .. } | Kind::LongText { .. } | Kind::Digits { .. } | Kind::Choice(_) => {
                json!(row.get::<Option<String>>(f.name)?)
            }
            Kind::Int { .. } | Kind::Ref(_) | Kind::UserRef => json!(row.get::<Option<i64>>(f.name)?),
            Kind::Float { .. } => json!(row.get::<Option<f64>>(f.name)?),
            Kind::Date => json!(row.get::<Option<chrono::NaiveDate>>(f.name)?.map(|d| d.to_string())),
            Kind::Bool => json!(row.get::<Option<bool>>(f.name)?.unwrap_or(false)),
            Kind::Tags | Kind::FreeTags | Kind::Set(_) => {
                json!(model::tags_from_column(&row.get::<Option<String>>(f.name)?.unwrap_or_default()))
            }
            Kind::Polygon | Kind::Questions => {
                row.get::<Option<sqlx::types::Json<Value>>>(f.name)?.map(|j| j.0).unwrap_or(Value::Null)
            }
            Kind::Phone | Kind::IdNumber => json!(row.get::<Option<String>>(&format!("{}_masked", f.name))?),
        };
        values.insert(f.name.to_string(), v);
    }
    let id: i64 = row.get("id")?;
    let grid_id = match def.grid_column {
        Some(g) => row.get::<Option<i64>>(g)?,
        None => None,
    };
    let household_id = match def.household_column {
        Some("id") => Some(id),
        Some(h) => row.get::<Option<i64>>(h)?,
        None => None,
    };
    Ok(Record {
        id,
        community_id: match def.tenancy {
            Tenancy::Community => Some(row.get("community_id")?),
            Tenancy::Global => None,
        },
        values,
        refs: BTreeMap::new(),
        grid_id,
        household_id,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        archived_at: row.get("archived_at")?,
    })
}

/// Whether the actor may read global records of this kind with this id.
fn global_visible(actor: &Actor, def: &EntityDef, id: i64, subdistrict_id: Option<i64>) -> bool {
    match def.kind {
        "subdistrict" => {
            actor.manages_subdistrict(id)
                || actor.community_ids().is_none()
                || actor.grants.iter().any(|g| g.subdistrict_id == Some(id))
        }
        _ => actor.sees_community(id) || subdistrict_id.is_some_and(|s| actor.manages_subdistrict(s)),
    }
}

fn check_read(actor: &Actor, def: &EntityDef, r: &Record) -> AppResult<()> {
    let ok = match (def.tenancy, r.community_id) {
        (Tenancy::Community, Some(c)) => {
            let access = actor.access(c, def.read);
            access.covers(r.grid_id, r.household_id) || (access.all)
        }
        _ => {
            let sub = r.values.get("subdistrict_id").and_then(Value::as_i64);
            global_visible(actor, def, r.id, sub)
        }
    };
    if ok { Ok(()) } else { Err(AppError::NotFound) }
}

/// Reads a row without checking scope (callers check).
async fn fetch(ex: &mut impl Exec, def: &EntityDef, community_id: Option<i64>, id: i64) -> AppResult<Option<Record>> {
    let mut b = Builder::new(format!("SELECT {} FROM {} WHERE ", select_columns(def), def.table));
    match (def.tenancy, community_id) {
        (Tenancy::Community, Some(c)) => {
            b.push("community_id = ").arg(c).push(" AND ");
        }
        (Tenancy::Community, None) => return Ok(None),
        (Tenancy::Global, _) => {}
    }
    b.push("id = ").arg(id);
    let rows = b.build().rows(ex).await?;
    let Some(mut record) = rows.first().map(|r| decode(def, r)).transpose()? else { return Ok(None) };
    if def.holds_settings {
        for s in model::settings().iter().filter(|s| s.on_record) {
            let v = match s.field.kind {
                Kind::Int { .. } => json!(settings::int(ex, record.id, s).await?),
                Kind::Bool => json!(settings::bool(ex, record.id, s).await?),
                Kind::FreeTags => json!(settings::tags(ex, record.id, s).await?),
                _ => json!(settings::text(ex, record.id, s).await?),
            };
            record.values.insert(s.field.name.to_string(), v);
        }
    }
    Ok(Some(record))
}

/// Fills `refs` with the titles of referenced records.
async fn resolve_refs(ex: &mut impl Exec, def: &EntityDef, items: &mut [Record]) -> AppResult<()> {
    for f in def.fields {
        let target = match f.kind {
            Kind::Ref(kind) => super::by_kind(kind),
            Kind::UserRef => None,
            _ => continue,
        };
        let mut by_community: BTreeMap<Option<i64>, Vec<i64>> = BTreeMap::new();
        for r in items.iter() {
            if let Some(id) = r.values.get(f.name).and_then(Value::as_i64) {
                by_community.entry(r.community_id).or_default().push(id);
            }
        }
        for (community, ids) in by_community {
            let titles = match target {
                Some(t) => titles(ex, t, community, &ids).await?,
                None => user_names(ex, &ids).await?,
            };
            for r in items.iter_mut().filter(|r| r.community_id == community) {
                if let Some(t) = r.values.get(f.name).and_then(Value::as_i64).and_then(|id| titles.get(&id)) {
                    r.refs.insert(f.name, t.clone());
                }
            }
        }
    }
    Ok(())
}

/// Titles of records by id.
pub async fn titles(
    ex: &mut impl Exec,
    def: &EntityDef,
    community_id: Option<i64>,
    ids: &[i64],
) -> AppResult<HashMap<i64, String>> {
    let mut b = Builder::new(format!("SELECT id, {} AS title FROM {} WHERE id IN ", def.title, def.table));
    b.list(ids.iter().copied());
    if let (Tenancy::Community, Some(c)) = (def.tenancy, community_id) {
        b.push(" AND community_id = ").arg(c);
    }
    let rows: Vec<(i64, String)> = b.build().fetch_all(ex).await?;
    Ok(rows.into_iter().collect())
}

async fn user_names(ex: &mut impl Exec, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    let mut b = Builder::new("SELECT id, display_name FROM users WHERE id IN ");
    b.list(ids.iter().copied());
    let rows: Vec<(i64, String)> = b.build().fetch_all(ex).await?;
    Ok(rows.into_iter().collect())
}

/// Who may be named in a user field of community `$1` (a grid's worker): an account that
/// works there. Anyone else would gain a role in a community they do not belong to.
const WORKS_IN_COMMUNITY: &str = "u.disabled_at IS NULL AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id
    AND g.community_id = $1 AND g.role IN ('grid_worker', 'community_staff', 'community_secretary'))";
