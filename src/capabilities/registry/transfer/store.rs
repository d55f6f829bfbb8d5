//! Writing an import (one transaction) and reading the registry for export.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{Checked, Person, RowError};
use crate::auth::model::{Actor, Permission};
use crate::db::{Arg, Builder, Db, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Action, By};
use crate::services::pii::{self, Pii};

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    pub errors: Vec<RowError>,
    pub residents: usize,
    pub households: usize,
    pub compounds: usize,
    pub buildings: usize,
    /// Whether anything was written.
    pub applied: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Check only.
    DryRun,
    /// Write if the file is clean.
    Import,
    /// Write the good rows, leave out the bad ones.
    SkipInvalid,
}

/// Imports households and residents into a community. `actor` is checked when given
/// (pages, API); the operator's command passes `None`.
pub async fn import(
    db: &Db,
    pii: &Pii,
    actor: Option<&Actor>,
    by: &By,
    community_id: i64,
    bytes: &[u8],
    mode: Mode,
) -> AppResult<Report> {
    if let Some(a) = actor
        && !a.access(community_id, Permission::EditRegistry).all
    {
        return Err(if a.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let table = match super::read_table(bytes) {
        Ok(t) => t,
        Err(reason) => {
            return Ok(Report {
                errors: vec![RowError { row: 0, column: String::new(), reason }],
                ..Report::default()
            });
        }
    };
    let mut conn = db.read().await?;
    let grid_rows: Vec<(i64, String, Option<String>)> =
        query("SELECT id, name, code FROM grids WHERE community_id = $1 AND archived_at IS NULL")
            .bind(community_id)
            .fetch_all(&mut conn)
            .await?;
    let mut grids: HashMap<String, i64> = HashMap::new();
    for (id, name, code) in grid_rows {
        grids.insert(name, id);
        if let Some(c) = code.filter(|c| !c.is_empty()) {
            grids.insert(c, id);
        }
    }
    let known: HashSet<Vec<u8>> =
        query("SELECT id_number_hash FROM residents WHERE community_id = $1 AND id_number_hash IS NOT NULL")
            .bind(community_id)
            .scalars::<Vec<u8>>(&mut conn)
            .await?
            .into_iter()
            .collect();
    drop(conn);
    let names: HashSet<String> = grids.keys().cloned().collect();
    let Checked { people, errors, rows } =
        super::check(&table, &names, &|id| known.contains(&pii.blind_index("id_number", id)));
    let mut report = Report { rows, errors, ..Report::default() };
    let header_broken = report.errors.iter().any(|e| e.row <= 1);
    if mode == Mode::DryRun || header_broken || (!report.errors.is_empty() && mode == Mode::Import) || people.is_empty()
    {
        return Ok(report);
    }
    let mut tx = db.begin().await?;
    write_people(&mut tx, pii, by, community_id, &grids, &people, &mut report).await?;
    tx.commit().await?;
    report.applied = true;
    Ok(report)
}

/// Finds or creates compounds, buildings and households, and adds the residents.
async fn write_people(
    tx: &mut Tx,
    pii: &Pii,
    by: &By,
    c: i64,
    grids: &HashMap<String, i64>,
    people: &[Person],
    report: &mut Report,
) -> AppResult<()> {
    let now = now_ms();
    let mut compounds: HashMap<String, i64> = query("SELECT name, id FROM compounds WHERE community_id = $1")
        .bind(c)
        .fetch_all::<(String, i64)>(tx)
        .await?
        .into_iter()
        .collect();
    let mut buildings: HashMap<(i64, String), i64> =
        query("SELECT compound_id, name, id FROM buildings WHERE community_id = $1")
            .bind(c)
            .fetch_all::<(i64, String, i64)>(tx)
            .await?
            .into_iter()
            .map(|(cp, n, id)| ((cp, n), id))
            .collect();
    let mut households: HashMap<(Option<i64>, Option<i64>, String, String), i64> =
        query("SELECT compound_id, building_id, COALESCE(unit, ''), COALESCE(room, ''), id FROM households WHERE community_id = $1")
            .bind(c)
            .fetch_all::<(Option<i64>, Option<i64>, String, String, i64)>(tx)
            .await?
            .into_iter()
            .map(|(cp, b, u, r, id)| ((cp, b, u, r), id))
            .collect();
    let mut audit_rows: Vec<Vec<Arg>> = Vec::new();
    let mut audit = |tx_ids: i64, entity: &str, id: i64, after: serde_json::Value| {
        audit_rows.push(vec![
            c.into(),
            tx_ids.into(),
            now.into(),
            by.id.into(),
            by.name.clone().into(),
            Action::Import.as_str().into(),
            entity.into(),
            id.into(),
            Arg::Json(None),
            after.into(),
        ]);
    };
    let mut new_compounds = Vec::new();
    let mut new_buildings = Vec::new();
    let mut new_households = Vec::new();
    let mut new_residents = Vec::new();
    let ids = tx.next_ids(people.len() * 6).await?;
    let mut ids = ids.into_iter();
    let mut next = || ids.next().expect("enough ids reserved");
    for p in people {
        let grid = grids.get(&p.grid).copied();
        let compound = match compounds.get(&p.compound) {
            Some(id) => *id,
            None => {
                let id = next();
                compounds.insert(p.compound.clone(), id);
                new_compounds.push(vec![
                    c.into(),
                    id.into(),
                    p.compound.clone().into(),
                    grid.into(),
                    now.into(),
                    now.into(),
                ]);
                audit(next(), "compound", id, json!({"name": p.compound}));
                id
            }
        };
        let building = if p.building.is_empty() {
            None
        } else {
            Some(match buildings.get(&(compound, p.building.clone())) {
                Some(id) => *id,
                None => {
                    let id = next();
                    buildings.insert((compound, p.building.clone()), id);
                    new_buildings.push(vec![
                        c.into(),
                        id.into(),
                        compound.into(),
                        p.building.clone().into(),
                        grid.into(),
                        now.into(),
                        now.into(),
                    ]);
                    audit(next(), "building", id, json!({"name": p.building, "compound_id": compound}));
                    id
                }
            })
        };
        let key = (Some(compound), building, p.unit.clone(), p.room.clone());
        let household = match households.get(&key) {
            Some(id) => *id,
            None => {
                let id = next();
                households.insert(key, id);
                let address = p.address();
                new_households.push(vec![
                    c.into(),
                    id.into(),
                    address.clone().into(),
                    compound.into(),
                    building.into(),
                    Some(p.unit.clone()).filter(|u| !u.is_empty()).into(),
                    Some(p.room.clone()).filter(|r| !r.is_empty()).into(),
                    grid.into(),
                    now.into(),
                    now.into(),
                ]);
                audit(next(), "household", id, json!({"address": address, "grid_id": grid}));
                id
            }
        };
        let id = next();
        let phone = p.phone.as_deref().map(|x| pii.seal_phone(x));
        let idn = p.id_number.as_deref().map(|x| pii.seal_id_number(x));
        new_residents.push(vec![
            c.into(),
            id.into(),
            household.into(),
            grid.into(),
            p.name.clone().into(),
            p.gender.into(),
            p.birth_date.into(),
            idn.as_ref().map(|s| s.enc.clone()).into(),
            idn.as_ref().map(|s| s.hash.clone()).into(),
            idn.as_ref().map(|s| s.masked.clone()).into(),
            phone.as_ref().map(|s| s.enc.clone()).into(),
            phone.as_ref().map(|s| s.hash.clone()).into(),
            phone.as_ref().map(|s| s.masked.clone()).into(),
            p.phone.as_ref().map(|x| x[x.len() - 4..].to_string()).into(),
            p.category.into(),
            now.into(),
            now.into(),
        ]);
        audit(
            next(),
            "resident",
            id,
            json!({"name": p.name, "gender": p.gender, "id_number": idn.as_ref().map(|s| s.masked.clone()),
                   "phone": phone.as_ref().map(|s| s.masked.clone()), "household_id": household, "category": p.category}),
        );
    }
    report.compounds = new_compounds.len();
    report.buildings = new_buildings.len();
    report.households = new_households.len();
    report.residents = new_residents.len();
    insert_many(tx, "compounds", &["community_id", "id", "name", "grid_id", "created_at", "updated_at"], new_compounds)
        .await?;
    insert_many(
        tx,
        "buildings",
        &["community_id", "id", "compound_id", "name", "grid_id", "created_at", "updated_at"],
        new_buildings,
    )
    .await?;
    insert_many(
        tx,
        "households",
        &[
            "community_id",
            "id",
            "address",
            "compound_id",
            "building_id",
            "unit",
            "room",
            "grid_id",
            "created_at",
            "updated_at",
        ],
        new_households,
    )
    .await?;
    insert_many(
        tx,
        "residents",
        &[
            "community_id",
            "id",
            "household_id",
            "grid_id",
            "name",
            "gender",
            "birth_date",
            "id_number_enc",
            "id_number_hash",
            "id_number_masked",
            "phone_enc",
            "phone_hash",
            "phone_masked",
            "phone_tail",
            "category",
            "created_at",
            "updated_at",
        ],
        new_residents,
    )
    .await?;
    audit::record_rows(tx, audit_rows).await?;
    Ok(())
}

/// The export's columns.
pub const EXPORT_COLUMNS: [&str; 13] = [
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "小区",
    "楼栋",
    "单元",
    "门牌",
    "网格",
    "人员类别",
    "出生日期",
    "关怀标签",
    "党员",
];

type ExportRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<chrono::NaiveDate>,
    String,
    bool,
);

/// The registry of a community (within the actor's reach), masked: names, ID numbers
/// and phones appear as 张*, 110***********002X, 138****1234.
pub async fn export_rows(db: &Db, actor: &Actor, community_id: i64) -> AppResult<Vec<Vec<String>>> {
    let access = actor.access(community_id, Permission::ViewRegistry);
    if access.is_none() {
        return Err(AppError::NotFound);
    }
    let mut b = Builder::new(
        "SELECT r.name, r.gender, r.id_number_masked, r.phone_masked, cp.name, b.name, h.unit, h.room, g.name, r.category, r.birth_date, r.care_tags, r.party_member
         FROM residents r
         LEFT JOIN households h ON h.community_id = r.community_id AND h.id = r.household_id
         LEFT JOIN compounds cp ON cp.community_id = h.community_id AND cp.id = h.compound_id
         LEFT JOIN buildings b ON b.community_id = h.community_id AND b.id = h.building_id
         LEFT JOIN grids g ON g.community_id = r.community_id AND g.id = r.grid_id
         WHERE r.community_id = ",
    );
    b.arg(community_id).push(" AND r.archived_at IS NULL");
    if !access.all {
        b.push(" AND (r.grid_id IN ")
            .list(access.grids.iter().copied())
            .push(" OR r.household_id IN ")
            .list(access.households.iter().copied())
            .push(")");
    }
    b.push(" ORDER BY g.name, cp.name, b.name, h.unit, h.room, r.id");
    let mut conn = db.read().await?;
    let rows: Vec<ExportRow> = b.build().fetch_all(&mut conn).await?;
    Ok(rows
        .into_iter()
        .map(|(name, gender, idn, phone, compound, building, unit, room, grid, category, birth, tags, member)| {
            vec![
                pii::mask_name(&name),
                match gender.as_deref() {
                    Some("male") => "男".into(),
                    Some("female") => "女".into(),
                    _ => String::new(),
                },
                idn.unwrap_or_default(),
                phone.unwrap_or_default(),
                compound.unwrap_or_default(),
                building.unwrap_or_default(),
                unit.unwrap_or_default(),
                room.unwrap_or_default(),
                grid.unwrap_or_default(),
                category.as_deref().map(super::category_label).unwrap_or_default().to_string(),
                birth.map(|d| d.to_string()).unwrap_or_default(),
                crate::services::records::model::tags_from_column(&tags).join("、"),
                if member { "是".into() } else { String::new() },
            ]
        })
        .collect())
}
