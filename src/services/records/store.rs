//! Queries for every record kind, with scope enforced here: each function takes the
//! actor and the community first and answers `NotFound` for anything outside the
//! actor's reach, so no handler can forget it.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::model::{self, Context, EntityDef, FilterKind, Kind, Mode, NewCommunityFn, Search, Tenancy, Val, Values};
use crate::auth::model::{Access, Actor, Permission};
use crate::db::{Arg, Builder, Db, DbKind, DynRow, Exec, Tx, escape_like, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::pii::Pii;
use crate::services::settings;

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

// ---------- reading ----------

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
            Kind::Tags | Kind::FreeTags => {
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

/// The reach of `perm` for this kind in this community, or `NotFound`.
fn reach(actor: &Actor, def: &EntityDef, community_id: i64, perm: Permission) -> AppResult<Access> {
    let access = actor.access(community_id, perm);
    if access.is_none() {
        return Err(AppError::NotFound);
    }
    if def.grid_column.is_none() && def.household_column.is_none() && !access.all {
        // Partial (grid/household) reach only means something for registry records.
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// Adds the scope condition for a partial reach.
fn push_scope(b: &mut Builder, def: &EntityDef, access: &Access) {
    if access.all {
        return;
    }
    // Conditions are joined without a constant `1 = 0 OR …` head: SQLite would not use an
    // index behind one.
    let grids = def.grid_column.filter(|_| !access.grids.is_empty());
    let households = def.household_column.filter(|_| !access.households.is_empty());
    match (grids, households) {
        (None, None) => {
            b.push(" AND 1 = 0");
        }
        (Some(g), None) => {
            b.push(&format!(" AND {g} IN ")).list(access.grids.iter().copied());
        }
        (None, Some(h)) => {
            b.push(&format!(" AND {h} IN ")).list(access.households.iter().copied());
        }
        (Some(g), Some(h)) => {
            b.push(&format!(" AND ({g} IN ")).list(access.grids.iter().copied());
            b.push(&format!(" OR {h} IN ")).list(access.households.iter().copied()).push(")");
        }
    }
}

/// One record, if the actor may read it.
pub async fn get(db: &Db, actor: &Actor, def: &EntityDef, community_id: Option<i64>, id: i64) -> AppResult<Record> {
    let mut conn = db.read().await?;
    let record = fetch(&mut conn, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &record)?;
    let mut one = vec![record];
    resolve_refs(&mut conn, def, &mut one).await?;
    Ok(one.pop().expect("one record"))
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
                _ => json!(settings::text(ex, record.id, s).await?),
            };
            record.values.insert(s.field.name.to_string(), v);
        }
    }
    Ok(Some(record))
}

/// A page of records in the given communities (one, or several for subdistrict views).
pub async fn list(
    db: &Db,
    pii: &Pii,
    actor: &Actor,
    def: &EntityDef,
    community_ids: &[i64],
    params: &ListParams,
) -> AppResult<Page> {
    let per_page = params.per_page.clamp(1, 200);
    let page = params.page.max(1);
    let mut b = Builder::new(String::new());
    b.push(" FROM ").push(def.table).push(" WHERE 1 = 1");
    match def.tenancy {
        Tenancy::Community => {
            let mut visible: Vec<(i64, Access)> = Vec::new();
            for &c in community_ids {
                if let Ok(a) = reach(actor, def, c, def.read) {
                    visible.push((c, a));
                }
            }
            if visible.is_empty() {
                return Err(AppError::NotFound);
            }
            if let [(c, access)] = visible.as_slice() {
                b.push(" AND community_id = ").arg(*c);
                push_scope(&mut b, def, access);
            } else {
                // Across communities only whole-community reach is listed.
                let whole: Vec<i64> = visible.iter().filter(|(_, a)| a.all).map(|(c, _)| *c).collect();
                b.push(" AND community_id IN ").list(whole);
            }
        }
        Tenancy::Global => match (def.kind, actor.community_ids()) {
            (_, None) => {}
            ("community", Some(ids)) => {
                b.push(" AND id IN ").list(ids);
            }
            (_, Some(ids)) => {
                b.push(" AND id IN (SELECT subdistrict_id FROM communities WHERE id IN ");
                b.list(ids).push(")");
                let managed: Vec<i64> = actor.grants.iter().filter_map(|g| g.subdistrict_id).collect();
                if !managed.is_empty() {
                    b.push(" OR id IN ").list(managed);
                }
            }
        },
    }
    if !params.include_archived {
        b.push(" AND archived_at IS NULL");
    }
    if let Some((column, id)) = params.parent {
        b.push(&format!(" AND {column} = ")).arg(id);
    }
    for (column, value) in &params.filters {
        let Some(filter) = def.filters.iter().find(|f| f.column == column) else {
            return Err(AppError::field(column.clone(), "validation.unknown_field"));
        };
        if value.is_empty() {
            continue;
        }
        match filter.kind {
            FilterKind::Ref(_) => {
                let id: i64 = value.parse().map_err(|_| AppError::field(column.clone(), "validation.reference"))?;
                b.push(&format!(" AND {} = ", filter.column)).arg(id);
            }
            FilterKind::Tag => {
                b.push(&format!(" AND {} LIKE ", filter.column)).arg(format!("%|{value}|%"));
            }
            FilterKind::Bool => {
                let on = matches!(value.as_str(), "true" | "1" | "on" | "yes");
                b.push(&format!(" AND {} = ", filter.column)).arg(on);
            }
        }
    }
    let mut order = "id DESC".to_string();
    if let Some(q) = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if q.chars().count() > 100 {
            return Err(AppError::Invalid(vec![FieldError::new("q", "validation.too_long").with("max", 100)]));
        }
        push_search(&mut b, db.kind(), def, pii, q, &mut order);
    }
    let count_sql = format!("SELECT COUNT(*){}", b.sql);
    let count_args = b.args.clone();
    b.sql = format!(
        "SELECT {}{} ORDER BY {order} LIMIT {per_page} OFFSET {}",
        select_columns(def),
        b.sql,
        u64::from(page - 1) * u64::from(per_page)
    );
    let mut conn = db.read_over(community_ids).await?;
    let total: i64 = query(count_sql).bind_all(count_args).scalar(&mut conn).await?;
    let rows = b.build().rows(&mut conn).await?;
    let mut items = rows.iter().map(|r| decode(def, r)).collect::<Result<Vec<_>, _>>()?;
    resolve_refs(&mut conn, def, &mut items).await?;
    Ok(Page { items, total, page, per_page })
}

fn push_search(b: &mut Builder, kind: DbKind, def: &EntityDef, pii: &Pii, q: &str, order: &mut String) {
    // A personal value, if the query looks like one, wins over names.
    if def.search.contains(&Search::Personal) {
        if let Ok(phone) = crate::services::pii::normalize_phone(q) {
            b.push(" AND phone_hash = ").arg(pii.blind_index("phone", &phone));
            return;
        }
        if let Ok(id) = crate::services::pii::normalize_id_number(q) {
            b.push(" AND id_number_hash = ").arg(pii.blind_index("id_number", &id));
            return;
        }
        let bytes = q.as_bytes();
        if q.len() == 11 && bytes[..3].iter().all(u8::is_ascii_digit) && &q[3..7] == "****" {
            b.push(" AND phone_masked = ").arg(q);
            return;
        }
        if q.len() == 4 && bytes.iter().all(u8::is_ascii_digit) {
            b.push(" AND phone_tail = ").arg(q);
            return;
        }
        if q.len() == 18 && q.contains('*') {
            b.push(" AND id_number_masked = ").arg(q.to_ascii_uppercase());
            return;
        }
    }
    b.push(" AND (");
    let mut first = true;
    for s in def.search {
        if *s == Search::Personal {
            continue;
        }
        if !first {
            b.push(" OR ");
        }
        first = false;
        match s {
            Search::Contains(col) => {
                b.push(&format!("{col} LIKE ")).arg(format!("%{}%", escape_like(q))).push(" ESCAPE '\\'");
            }
            Search::Prefix(col) => {
                kind.push_prefix(b, col, q);
                *order = format!("{col}, id");
            }
            Search::Personal => {}
        }
    }
    b.push(if first { "1 = 0)" } else { ")" });
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

/// Choices for a reference field: (id, title), at most `limit` of them, from the
/// communities listed (a community kind's records come from nowhere else).
pub async fn options(db: &Db, def: &EntityDef, communities: &[i64], limit: i64) -> AppResult<Vec<(i64, String)>> {
    let mut b = Builder::new(format!("SELECT id, {} FROM {} WHERE archived_at IS NULL", def.title, def.table));
    if def.tenancy == Tenancy::Community {
        b.push(" AND community_id IN ").list(communities.iter().copied());
    }
    b.push(&format!(" ORDER BY {} LIMIT {limit}", def.title));
    let mut conn = db.read_over(communities).await?;
    Ok(b.build().fetch_all(&mut conn).await?)
}

/// Who may be named in a user field of community `$1` (a grid's worker): an account that
/// works there. Anyone else would gain a role in a community they do not belong to.
const WORKS_IN_COMMUNITY: &str = "u.disabled_at IS NULL AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id
    AND g.community_id = $1 AND g.role IN ('grid_worker', 'community_staff', 'community_secretary'))";

/// Users who may be named in a user field of this community.
pub async fn user_options(db: &Db, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut conn = db.read().await?;
    Ok(query(format!("SELECT u.id, u.display_name FROM users u WHERE {WORKS_IN_COMMUNITY} ORDER BY u.display_name"))
        .bind(community_id)
        .fetch_all(&mut conn)
        .await?)
}

// ---------- writing ----------

/// Bumped after every write, so that caches of records (the tickets' directory of
/// categories and grids) know to reload.
pub static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn bump() {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

async fn context(ex: &mut impl Exec, community_id: Option<i64>) -> AppResult<Context> {
    let Some(c) = community_id else { return Ok(Context::default()) };
    let tags: Option<String> =
        query("SELECT care_tags FROM communities WHERE id = $1").bind(c).scalar_optional(ex).await?;
    Ok(Context { care_tags: model::tags_from_column(&tags.unwrap_or_default()) })
}

/// The columns and parameters a value is stored as (a personal value: sealed, hashed, masked).
pub fn to_columns(pii: &Pii, f: &model::Field, v: &Val) -> Vec<(String, Arg)> {
    let col = f.name.to_string();
    match (f.kind, v) {
        (Kind::Phone, Val::Personal(p)) => {
            let s = pii.seal_phone(p);
            vec![
                (format!("{col}_enc"), Arg::from(s.enc)),
                (format!("{col}_hash"), Arg::from(s.hash)),
                (format!("{col}_masked"), Arg::from(s.masked)),
                (format!("{col}_tail"), Arg::from(p[p.len() - 4..].to_string())),
            ]
        }
        (Kind::IdNumber, Val::Personal(id)) => {
            let s = pii.seal_id_number(id);
            vec![
                (format!("{col}_enc"), Arg::from(s.enc)),
                (format!("{col}_hash"), Arg::from(s.hash)),
                (format!("{col}_masked"), Arg::from(s.masked)),
            ]
        }
        (Kind::Phone, _) => ["enc", "hash", "masked", "tail"]
            .iter()
            .map(|sfx| {
                (
                    format!("{col}_{sfx}"),
                    if *sfx == "enc" || *sfx == "hash" { Arg::Bytes(None) } else { Arg::Text(None) },
                )
            })
            .collect(),
        (Kind::IdNumber, _) => ["enc", "hash", "masked"]
            .iter()
            .map(|sfx| (format!("{col}_{sfx}"), if *sfx == "masked" { Arg::Text(None) } else { Arg::Bytes(None) }))
            .collect(),
        (_, Val::Null) => vec![(col, null_of(f.kind))],
        (_, Val::Int(n)) => vec![(col, Arg::from(*n))],
        (_, Val::Float(x)) => vec![(col, Arg::from(*x))],
        (_, Val::Bool(b)) => vec![(col, Arg::from(*b))],
        (_, Val::Text(s)) => vec![(col, Arg::from(s.clone()))],
        (_, Val::Date(d)) => vec![(col, Arg::from(*d))],
        (_, Val::Tags(t)) => vec![(col, Arg::from(model::tags_to_column(t)))],
        (_, Val::Json(j)) => vec![(col, Arg::from(j.clone()))],
        (_, Val::Personal(p)) => vec![(col, Arg::from(p.clone()))],
    }
}

/// A typed NULL (PostgreSQL wants the parameter's type to fit the column).
fn null_of(kind: Kind) -> Arg {
    match kind {
        Kind::Int { .. } | Kind::Ref(_) | Kind::UserRef => Arg::I64(None),
        Kind::Float { .. } => Arg::F64(None),
        Kind::Bool => Arg::Bool(None),
        Kind::Date => Arg::Date(None),
        Kind::Polygon | Kind::Questions => Arg::Json(None),
        _ => Arg::Text(None),
    }
}

/// Checks that referenced records exist (and are not archived) in the same community.
async fn check_refs(
    tx: &mut Tx,
    def: &EntityDef,
    community_id: Option<i64>,
    values: &Values,
) -> AppResult<Vec<FieldError>> {
    let mut errors = Vec::new();
    for f in def.fields {
        let Some(Val::Int(id)) = values.get(f.name) else { continue };
        let found: Option<i64> = match f.kind {
            Kind::Ref(kind) => {
                let target = super::by_kind(kind).expect("reference to a known kind");
                let mut b = Builder::new(format!("SELECT id FROM {} WHERE id = ", target.table));
                b.arg(*id).push(" AND archived_at IS NULL");
                if let (Tenancy::Community, Some(c)) = (target.tenancy, community_id) {
                    b.push(" AND community_id = ").arg(c);
                }
                b.build().scalar_optional(tx).await?
            }
            Kind::UserRef => match community_id {
                Some(c) => {
                    query(format!("SELECT u.id FROM users u WHERE u.id = $2 AND {WORKS_IN_COMMUNITY}"))
                        .bind(c)
                        .bind(*id)
                        .scalar_optional(tx)
                        .await?
                }
                None => {
                    query("SELECT id FROM users WHERE id = $1 AND disabled_at IS NULL")
                        .bind(*id)
                        .scalar_optional(tx)
                        .await?
                }
            },
            _ => continue,
        };
        if found.is_none() {
            errors.push(FieldError::new(f.name, "validation.reference"));
        }
    }
    Ok(errors)
}

/// The grid and household a registry row will have after the write (for scope checks).
async fn placement(
    tx: &mut Tx,
    def: &EntityDef,
    community_id: i64,
    id: i64,
    merged: &Map<String, Value>,
) -> AppResult<(Option<i64>, Option<i64>)> {
    match def.kind {
        "household" => Ok((merged.get("grid_id").and_then(Value::as_i64), Some(id))),
        "resident" => {
            let household = merged.get("household_id").and_then(Value::as_i64);
            let grid = match household {
                Some(h) => query("SELECT grid_id FROM households WHERE community_id = $1 AND id = $2")
                    .bind(community_id)
                    .bind(h)
                    .scalar_optional::<Option<i64>>(tx)
                    .await?
                    .flatten(),
                None => None,
            };
            Ok((grid, household))
        }
        _ => Ok((None, None)),
    }
}

/// The display form of validated values (what `Record::values` holds), for the audit
/// log and to check scope before writing.
fn shown(def: &EntityDef, values: &Values) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, v) in values {
        let kind = def.field(name).map(|f| f.kind);
        let j = match (kind, v) {
            (_, Val::Null) => Value::Null,
            (_, Val::Int(n)) => json!(n),
            (_, Val::Float(x)) => json!(x),
            (_, Val::Bool(b)) => json!(b),
            (_, Val::Text(s)) => json!(s),
            (_, Val::Date(d)) => json!(d.to_string()),
            (_, Val::Tags(t)) => json!(t),
            (_, Val::Json(j)) => j.clone(),
            (Some(Kind::Phone), Val::Personal(p)) => json!(crate::services::pii::mask_phone(p)),
            (_, Val::Personal(p)) => json!(crate::services::pii::mask_id_number(p)),
        };
        out.insert(name.to_string(), j);
    }
    out
}

fn check_write(
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    id: Option<i64>,
    merged: &Map<String, Value>,
    placement: (Option<i64>, Option<i64>),
) -> AppResult<()> {
    let ok = match (def.tenancy, community_id) {
        (Tenancy::Community, Some(c)) => {
            let access = actor.access(c, def.write);
            if access.is_none() {
                // Say "not found" unless the actor can see the record at all.
                return Err(if actor.can(c, def.read) { AppError::Forbidden } else { AppError::NotFound });
            }
            access.all || (def.grid_column.is_some() && access.covers(placement.0, placement.1))
        }
        _ => match (def.kind, id) {
            ("subdistrict", None) => actor.is_platform_admin(),
            ("subdistrict", Some(id)) => actor.manages_subdistrict(id),
            (_, None) => {
                merged.get("subdistrict_id").and_then(Value::as_i64).is_some_and(|s| actor.manages_subdistrict(s))
            }
            (_, Some(id)) => actor.can(id, Permission::ManageCommunity),
        },
    };
    if ok { Ok(()) } else { Err(AppError::Forbidden) }
}

/// Creates a record from raw input. Everything is checked first; one transaction.
/// `hooks` are what a new community gets from each capability (`AppState::new_community_hooks`).
pub async fn create(
    db: &Db,
    pii: &Pii,
    hooks: &[NewCommunityFn],
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    input: &Map<String, Value>,
) -> AppResult<Record> {
    if def.tenancy == Tenancy::Community && community_id.is_none() {
        return Err(AppError::NotFound);
    }
    let mut tx = db.begin().await?;
    let ctx = context(&mut tx, community_id).await?;
    let mut values = model::validate(def, input, Mode::Full, &ctx).map_err(AppError::Invalid)?;
    let mut errors = check_refs(&mut tx, def, community_id, &values).await?;
    if def.kind == "resident" {
        errors.extend(model::derive_from_id_number(&mut values));
    }
    errors.extend(check_rules(&mut tx, def, community_id, None, &shown(def, &values)).await?);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = tx.next_id().await?;
    let after = shown(def, &values);
    let place = match community_id {
        Some(c) if def.grid_column.is_some() => placement(&mut tx, def, c, id, &after).await?,
        _ => (None, None),
    };
    check_write(actor, def, community_id, None, &after, place)?;

    let now = now_ms();
    let mut cols: Vec<String> = vec!["id".into(), "created_at".into(), "updated_at".into()];
    let mut args: Vec<Arg> = vec![id.into(), now.into(), now.into()];
    if let Some(c) = community_id.filter(|_| def.tenancy == Tenancy::Community) {
        cols.push("community_id".into());
        args.push(c.into());
    }
    if def.kind == "resident" {
        cols.push("grid_id".into());
        args.push(place.0.into());
    }
    for f in def.fields {
        if let Some(v) = values.get(f.name) {
            for (c, a) in to_columns(pii, f, v) {
                cols.push(c);
                args.push(a);
            }
        }
    }
    let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}")).collect();
    query(format!("INSERT INTO {} ({}) VALUES ({})", def.table, cols.join(", "), placeholders.join(", ")))
        .bind_all(args)
        .execute(&mut tx)
        .await?;
    after_write(&mut tx, hooks, def, community_id, id, None, &values).await?;
    let audit_community = community_id.filter(|_| def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    audit::record(
        &mut tx,
        audit_community,
        &By::from(actor),
        Action::Create,
        def.kind,
        id,
        None,
        Some(&Value::Object(after)),
    )
    .await?;
    let mut record = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    bump();
    let mut conn = db.read().await?;
    resolve_refs(&mut conn, def, std::slice::from_mut(&mut record)).await?;
    Ok(record)
}

/// Updates a record: all fields (`Mode::Full`, forms) or the given ones (`Mode::Partial`).
pub async fn update(
    db: &Db,
    pii: &Pii,
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    id: i64,
    input: &Map<String, Value>,
    mode: Mode,
) -> AppResult<Record> {
    let mut tx = db.begin().await?;
    let before = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &before)?;
    let ctx = context(&mut tx, community_id).await?;
    let mut values = model::validate(def, input, mode, &ctx).map_err(AppError::Invalid)?;
    // Personal fields left empty in a form keep their value: the form never shows them.
    for f in def.fields.iter().filter(|f| f.kind.is_personal()) {
        if mode == Mode::Full
            && values.get(f.name) == Some(&Val::Null)
            && input.get(f.name).is_none_or(|v| v.as_str() == Some(""))
        {
            values.remove(f.name);
        }
    }
    let mut errors = check_refs(&mut tx, def, community_id, &values).await?;
    if def.kind == "resident" {
        errors.extend(model::derive_from_id_number(&mut values));
    }
    let mut will_be = before.values.clone();
    will_be.extend(shown(def, &values));
    errors.extend(check_rules(&mut tx, def, community_id, Some(id), &will_be).await?);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut merged = before.values.clone();
    merged.extend(shown(def, &values));
    let before_place = (before.grid_id, before.household_id);
    check_write(actor, def, community_id, Some(id), &merged, before_place)?;
    let place = match community_id {
        Some(c) if def.grid_column.is_some() => placement(&mut tx, def, c, id, &merged).await?,
        _ => (None, None),
    };
    check_write(actor, def, community_id, Some(id), &merged, place)?;

    let mut b = Builder::new(format!("UPDATE {} SET updated_at = ", def.table));
    b.arg(now_ms());
    if def.kind == "resident" {
        b.push(", grid_id = ").arg(place.0);
    }
    for f in def.fields {
        if let Some(v) = values.get(f.name) {
            for (c, a) in to_columns(pii, f, v) {
                b.push(&format!(", {c} = ")).arg(a);
            }
        }
    }
    b.push(" WHERE id = ").arg(id);
    if def.tenancy == Tenancy::Community {
        b.push(" AND community_id = ").arg(community_id);
    }
    b.build().execute(&mut tx).await?;
    after_write(&mut tx, &[], def, community_id, id, Some(&before), &values).await?;
    let mut record = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    let audit_community = community_id.filter(|_| def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    if record.values != before.values {
        let (old, new) = (Value::Object(before.values.clone()), Value::Object(record.values.clone()));
        audit::record(&mut tx, audit_community, &By::from(actor), Action::Update, def.kind, id, Some(&old), Some(&new))
            .await?;
    }
    tx.commit().await?;
    bump();
    let mut conn = db.read().await?;
    resolve_refs(&mut conn, def, std::slice::from_mut(&mut record)).await?;
    Ok(record)
}

/// Archives (or brings back) a record. Nothing is ever deleted.
pub async fn set_archived(
    db: &Db,
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    id: i64,
    archived: bool,
) -> AppResult<Record> {
    let mut tx = db.begin().await?;
    let before = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &before)?;
    check_write(actor, def, community_id, Some(id), &before.values, (before.grid_id, before.household_id))?;
    let mut b = Builder::new(format!("UPDATE {} SET archived_at = ", def.table));
    b.arg(archived.then(now_ms)).push(", updated_at = ").arg(now_ms()).push(" WHERE id = ").arg(id);
    if def.tenancy == Tenancy::Community {
        b.push(" AND community_id = ").arg(community_id);
    }
    b.build().execute(&mut tx).await?;
    let action = if archived { Action::Archive } else { Action::Unarchive };
    let audit_community = community_id.filter(|_| def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    audit::record(&mut tx, audit_community, &By::from(actor), action, def.kind, id, None, None).await?;
    let record = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    bump();
    Ok(record)
}

/// Shows one personal value in full, and logs that it was shown.
pub async fn reveal(
    db: &Db,
    pii: &Pii,
    actor: &Actor,
    def: &EntityDef,
    community_id: i64,
    id: i64,
    field: &str,
) -> AppResult<Option<String>> {
    let f = def.field(field).filter(|f| f.kind.is_personal()).ok_or(AppError::NotFound)?;
    let mut tx = db.begin().await?;
    let record = fetch(&mut tx, def, Some(community_id), id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &record)?;
    if !actor.access(community_id, Permission::RevealPii).covers(record.grid_id, record.household_id) {
        return Err(AppError::Forbidden);
    }
    let sealed: Option<Vec<u8>> =
        query(format!("SELECT {}_enc FROM {} WHERE community_id = $1 AND id = $2", f.name, def.table))
            .bind(community_id)
            .bind(id)
            .scalar::<Option<Vec<u8>>>(&mut tx)
            .await?;
    let Some(sealed) = sealed else { return Ok(None) };
    let value = pii.decrypt(&sealed)?;
    crate::services::pii::store::log_reveal(&mut tx, community_id, actor, def.kind, id, field).await?;
    tx.commit().await?;
    Ok(Some(value))
}

/// The rules across fields or needing the database, on the record as it will be
/// (`merged`: what it was, with the new values): party organisation levels, a ticket
/// category's handler.
async fn check_rules(
    tx: &mut Tx,
    def: &EntityDef,
    community_id: Option<i64>,
    id: Option<i64>,
    merged: &Map<String, Value>,
) -> AppResult<Vec<FieldError>> {
    match def.rules {
        Some(rules) => rules(tx, community_id, id, merged).await,
        None => Ok(Vec::new()),
    }
}

/// Keeps derived data in step (the kind's own `after_write`), and gives a new community
/// what each capability gives one.
async fn after_write(
    tx: &mut Tx,
    hooks: &[NewCommunityFn],
    def: &EntityDef,
    community_id: Option<i64>,
    id: i64,
    before: Option<&Record>,
    values: &Values,
) -> AppResult<()> {
    if def.kind == "community" && before.is_none() {
        for hook in hooks {
            hook(tx, id).await?;
        }
    }
    if let (Some(c), Some(after)) = (community_id, def.after_write) {
        after(tx, c, id, before.map(|b| &b.values), values).await?;
    }
    // The settings it holds go to their table (the record is the community).
    for (name, v) in values {
        if let Some(s) = def.setting(name) {
            let text = match v {
                Val::Int(n) => n.to_string(),
                Val::Bool(b) => b.to_string(),
                Val::Text(t) => t.clone(),
                _ => continue,
            };
            settings::set(tx, id, s, &text).await?;
        }
    }
    Ok(())
}
