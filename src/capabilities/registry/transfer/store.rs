//! Writing an import (one transaction) and reading the registry for export.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{Checked, Person, RowError};
use crate::auth::model::{Actor, Permission};
use crate::db::{Arg, Builder, Db, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Action, By};
use crate::services::pii::{self, PersonSeal, Pii};

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
    let places = Places::load(tx, c).await?;
    let ids = tx.next_ids(people.len() * 6).await?;
    let mut batch = Batch::new(c, now, by, places, ids);
    for p in people {
        let grid = grids.get(&p.grid).copied();
        let compound = batch.compound(p, grid);
        let building = batch.building(p, compound, grid);
        let household = batch.household(p, compound, building, grid);
        batch.resident(pii, p, household, grid);
    }
    report.compounds = batch.new_compounds.len();
    report.buildings = batch.new_buildings.len();
    report.households = batch.new_households.len();
    report.residents = batch.new_residents.len();
    batch.insert(tx).await
}

/// The community's compounds, buildings and households already on file, keyed the way
/// an import row names them, so rows reuse them rather than duplicate them.
struct Places {
    compounds: HashMap<String, i64>,
    buildings: HashMap<(i64, String), i64>,
    households: HashMap<(Option<i64>, Option<i64>, String, String), i64>,
}

impl Places {
    /// Reads the places of community `c` inside the import's transaction.
    async fn load(tx: &mut Tx, c: i64) -> AppResult<Places> {
        let compounds: HashMap<String, i64> = query("SELECT name, id FROM compounds WHERE community_id = $1")
            .bind(c)
            .fetch_all::<(String, i64)>(tx)
            .await?
            .into_iter()
            .collect();
        let buildings: HashMap<(i64, String), i64> =
            query("SELECT compound_id, name, id FROM buildings WHERE community_id = $1")
                .bind(c)
                .fetch_all::<(i64, String, i64)>(tx)
                .await?
                .into_iter()
                .map(|(cp, n, id)| ((cp, n), id))
                .collect();
        let households: HashMap<(Option<i64>, Option<i64>, String, String), i64> =
            query("SELECT compound_id, building_id, COALESCE(unit, ''), COALESCE(room, ''), id FROM households WHERE community_id = $1")
                .bind(c)
                .fetch_all::<(Option<i64>, Option<i64>, String, String, i64)>(tx)
                .await?
                .into_iter()
                .map(|(cp, b, u, r, id)| ((cp, b, u, r), id))
                .collect();
        Ok(Places { compounds, buildings, households })
    }
}

/// The rows an import adds, gathered person by person and then inserted in bulk, with
/// the reserved ids handed out in order and one audit row per thing created.
struct Batch<'a> {
    c: i64,
    now: i64,
    by: &'a By,
    places: Places,
    ids: std::vec::IntoIter<i64>,
    new_compounds: Vec<Vec<Arg>>,
    new_buildings: Vec<Vec<Arg>>,
    new_households: Vec<Vec<Arg>>,
    new_residents: Vec<Vec<Arg>>,
    audit_rows: Vec<Vec<Arg>>,
}

impl<'a> Batch<'a> {
    fn new(c: i64, now: i64, by: &'a By, places: Places, ids: Vec<i64>) -> Self {
        Batch {
            c,
            now,
            by,
            places,
            ids: ids.into_iter(),
            new_compounds: Vec::new(),
            new_buildings: Vec::new(),
            new_households: Vec::new(),
            new_residents: Vec::new(),
            audit_rows: Vec::new(),
        }
    }

    /// The next reserved id.
    fn next(&mut self) -> i64 {
        self.ids.next().expect("enough ids reserved")
    }

    /// Adds an import audit row (`tx_ids` is the audit row's own id).
    fn audit(&mut self, tx_ids: i64, entity: &str, id: i64, after: serde_json::Value) {
        self.audit_rows.push(vec![
            self.c.into(),
            tx_ids.into(),
            self.now.into(),
            self.by.id.into(),
            self.by.name.clone().into(),
            Action::Import.as_str().into(),
            entity.into(),
            id.into(),
            Arg::Json(None),
            after.into(),
        ]);
    }

    /// The id of the person's compound, created when new.
    fn compound(&mut self, p: &Person, grid: Option<i64>) -> i64 {
        if let Some(id) = self.places.compounds.get(&p.compound) {
            return *id;
        }
        let (c, now) = (self.c, self.now);
        let id = self.next();
        self.places.compounds.insert(p.compound.clone(), id);
        self.new_compounds.push(vec![
            c.into(),
            id.into(),
            p.compound.clone().into(),
            grid.into(),
            now.into(),
            now.into(),
        ]);
        let audit_id = self.next();
        self.audit(audit_id, "compound", id, json!({"name": p.compound}));
        id
    }

    /// The id of the person's building in `compound` (none when the row names none),
    /// created when new.
    fn building(&mut self, p: &Person, compound: i64, grid: Option<i64>) -> Option<i64> {
        if p.building.is_empty() {
            return None;
        }
        if let Some(id) = self.places.buildings.get(&(compound, p.building.clone())) {
            return Some(*id);
        }
        let (c, now) = (self.c, self.now);
        let id = self.next();
        self.places.buildings.insert((compound, p.building.clone()), id);
        self.new_buildings.push(vec![
            c.into(),
            id.into(),
            compound.into(),
            p.building.clone().into(),
            grid.into(),
            now.into(),
            now.into(),
        ]);
        let audit_id = self.next();
        self.audit(audit_id, "building", id, json!({"name": p.building, "compound_id": compound}));
        Some(id)
    }

    /// The id of the person's household (compound, building, unit, room), created when new.
    fn household(&mut self, p: &Person, compound: i64, building: Option<i64>, grid: Option<i64>) -> i64 {
        let key = (Some(compound), building, p.unit.clone(), p.room.clone());
        if let Some(id) = self.places.households.get(&key) {
            return *id;
        }
        let (c, now) = (self.c, self.now);
        let id = self.next();
        self.places.households.insert(key, id);
        let address = p.address();
        self.new_households.push(vec![
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
        let audit_id = self.next();
        self.audit(audit_id, "household", id, json!({"address": address, "grid_id": grid}));
        id
    }

    /// Adds the resident, ID number and phone sealed; the audit row shows them masked.
    fn resident(&mut self, pii: &Pii, p: &Person, household: i64, grid: Option<i64>) {
        let (c, now) = (self.c, self.now);
        let id = self.next();
        let sealed = pii.seal_person(p.id_number.as_deref(), p.phone.as_deref());
        let mut row: Vec<Arg> = vec![
            c.into(),
            id.into(),
            household.into(),
            grid.into(),
            p.name.clone().into(),
            p.gender.into(),
            p.birth_date.into(),
        ];
        row.extend(sealed.args());
        row.extend([p.category.into(), now.into(), now.into()]);
        self.new_residents.push(row);
        let (idn, phone) = (sealed.id_number, sealed.phone);
        let audit_id = self.next();
        self.audit(
            audit_id,
            "resident",
            id,
            json!({"name": p.name, "gender": p.gender, "id_number": idn.as_ref().map(|s| s.masked.clone()),
                   "phone": phone.as_ref().map(|s| s.masked.clone()), "household_id": household, "category": p.category}),
        );
    }

    /// Inserts the gathered rows (compounds, buildings, households, residents, then the
    /// audit rows) in the import's transaction.
    async fn insert(self, tx: &mut Tx) -> AppResult<()> {
        insert_many(
            tx,
            "compounds",
            &["community_id", "id", "name", "grid_id", "created_at", "updated_at"],
            self.new_compounds,
        )
        .await?;
        insert_many(
            tx,
            "buildings",
            &["community_id", "id", "compound_id", "name", "grid_id", "created_at", "updated_at"],
            self.new_buildings,
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
            self.new_households,
        )
        .await?;
        let person = ["community_id", "id", "household_id", "grid_id", "name", "gender", "birth_date"];
        let columns = [&person[..], &PersonSeal::COLUMNS, &["category", "created_at", "updated_at"]].concat();
        insert_many(tx, "residents", &columns, self.new_residents).await?;
        audit::record_rows(tx, self.audit_rows).await?;
        Ok(())
    }
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
