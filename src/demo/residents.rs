//! Invented households and residents: compounds, buildings, households and people for a
//! community, and filling 洲心街道 to full size.

use std::time::Instant;

use chrono::Datelike;
use rand::RngExt;
use serde_json::json;

use super::Loaded;
use super::generate::{self, Rand};
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::error::AppResult;
use crate::services::audit::{self, Action, By};
use crate::services::pii::PersonSeal;
use crate::web::AppState;

/// Compounds, buildings, households and residents, until `target` residents exist.
#[allow(clippy::too_many_arguments)]
pub(super) async fn registry(
    tx: &mut Tx,
    state: &AppState,
    r: &mut Rand,
    region: &str,
    loaded: &mut Loaded,
    compounds: &[&str],
    polygons: &[(serde_json::Value, [f64; 4])],
    target: usize,
    party_org: Option<i64>,
) -> AppResult<()> {
    let c = loaded.community_id;
    let now = now_ms();
    let this_year = crate::web::fmt::today().year();
    // Enough ids for the worst case: four residents per household plus the places.
    let ids = tx.next_ids(target * 2 + compounds.len() * 40 + 16).await?.into_iter();
    // Invented ID numbers must be unique in the community, with those already there.
    let seen_ids: std::collections::HashSet<Vec<u8>> =
        query("SELECT id_number_hash FROM residents WHERE community_id = $1 AND id_number_hash IS NOT NULL")
            .bind(c)
            .scalars(tx)
            .await?
            .into_iter()
            .collect();
    let mut inv = Inventing {
        state,
        region,
        c,
        now,
        this_year,
        party_org,
        target,
        ids,
        seen_ids,
        made: 0,
        rows: Rows::default(),
    };
    let per_compound = target.div_ceil(compounds.len().max(1));
    for (ci, name) in compounds.iter().enumerate() {
        let grid_index = ci % loaded.grids.len();
        let grid = loaded.grids[grid_index];
        let bbox = polygons[grid_index].1;
        inv.compound(r, loaded, name, grid, bbox, per_compound);
    }
    let made = inv.made;
    write_registry(tx, c, inv.rows, made, loaded.households.len()).await
}

/// The rows of an invented registry, written together once all are made.
#[derive(Default)]
struct Rows {
    compounds: Vec<Vec<Arg>>,
    buildings: Vec<Vec<Arg>>,
    households: Vec<Vec<Arg>>,
    residents: Vec<Vec<Arg>>,
}

/// One community's registry being invented: what every row shares, the ids reserved for
/// it, the ID numbers already taken, and the rows made so far.
struct Inventing<'a> {
    state: &'a AppState,
    region: &'a str,
    c: i64,
    now: i64,
    this_year: i32,
    party_org: Option<i64>,
    target: usize,
    ids: std::vec::IntoIter<i64>,
    seen_ids: std::collections::HashSet<Vec<u8>>,
    made: usize,
    rows: Rows,
}

/// Where a household lives: compound, building, unit and room, and the grid (with its
/// bounding box) the compound is in.
struct Flat<'a> {
    compound_name: &'a str,
    compound: i64,
    building_no: i32,
    building: i64,
    unit: i32,
    room: String,
    grid: i64,
    bbox: [f64; 4],
}

impl Inventing<'_> {
    /// The next of the ids reserved up front.
    fn next_id(&mut self) -> i64 {
        self.ids.next().expect("ids reserved")
    }

    /// A compound in `grid`, filled building by building (two units of six floors, two
    /// doors a floor) until it holds its share of residents or the target is reached.
    fn compound(
        &mut self,
        r: &mut Rand,
        loaded: &mut Loaded,
        name: &str,
        grid: i64,
        bbox: [f64; 4],
        per_compound: usize,
    ) {
        let compound = self.next_id();
        self.rows.compounds.push(vec![
            self.c.into(),
            compound.into(),
            name.into(),
            grid.into(),
            self.now.into(),
            self.now.into(),
        ]);
        let mut in_compound = 0usize;
        let mut building_no = 0;
        while in_compound < per_compound && self.made < self.target {
            building_no += 1;
            let building = self.next_id();
            self.rows.buildings.push(vec![
                self.c.into(),
                building.into(),
                compound.into(),
                format!("{building_no}栋").into(),
                grid.into(),
                2i64.into(),
                6i64.into(),
                self.now.into(),
                self.now.into(),
            ]);
            'rooms: for unit in 1..=2 {
                for floor in 1..=6 {
                    for door in 1..=2 {
                        if in_compound >= per_compound || self.made >= self.target {
                            break 'rooms;
                        }
                        let flat = Flat {
                            compound_name: name,
                            compound,
                            building_no,
                            building,
                            unit,
                            room: format!("{floor}0{door}"),
                            grid,
                            bbox,
                        };
                        in_compound += self.household(r, loaded, &flat);
                    }
                }
            }
        }
    }

    /// A household of one to four people at `flat`, the head first. Answers how many
    /// residents it added.
    fn household(&mut self, r: &mut Rand, loaded: &mut Loaded, flat: &Flat) -> usize {
        let household = self.next_id();
        let (lng, lat) = generate::point_in(r, flat.bbox);
        self.rows.households.push(vec![
            self.c.into(),
            household.into(),
            format!("{}{}栋{}单元{}", flat.compound_name, flat.building_no, flat.unit, flat.room).into(),
            flat.compound.into(),
            flat.building.into(),
            flat.unit.to_string().into(),
            flat.room.clone().into(),
            flat.grid.into(),
            lat.into(),
            lng.into(),
            self.now.into(),
            self.now.into(),
        ]);
        loaded.households.push((household, flat.grid));
        let size = *generate::pick(r, &[1usize, 2, 2, 2, 3, 3, 3, 4]);
        let head = generate::person(r, self.region, (1938, 1995), None);
        let surname: String = head.name.chars().take(1).collect();
        for k in 0..size {
            let p = self.member(r, &head, &surname, k);
            self.resident(r, loaded, (household, flat.grid), p, k, size);
        }
        size
    }

    /// The `k`th member of a household sketched by `head`: the head (0), a spouse of about
    /// the same age (1) or a grown child, with an ID number nobody in the community has.
    fn member(&mut self, r: &mut Rand, head: &generate::Person, surname: &str, k: usize) -> generate::Person {
        let region = self.region;
        let mut p = match k {
            0 => generate::person(r, region, (head.birth.year(), head.birth.year()), Some(surname)),
            1 => generate::person(r, region, (head.birth.year() - 3, head.birth.year() + 3), None),
            _ => generate::person(
                r,
                region,
                (head.birth.year() + 22, (head.birth.year() + 35).min(self.this_year - 1)),
                Some(surname),
            ),
        };
        while !self.seen_ids.insert(self.state.pii.blind_index("id_number", &p.id_number)) {
            p.id_number = crate::services::pii::make_id_number(region, p.birth, r.random_range(0..1000), p.male);
        }
        p
    }

    /// The resident row of `p`, the `k`th of a household of `size` living at `home`
    /// (household id, grid id): ID number and phone sealed, care tags for those living
    /// alone, and now and then party membership.
    fn resident(
        &mut self,
        r: &mut Rand,
        loaded: &mut Loaded,
        (household, grid): (i64, i64),
        p: generate::Person,
        k: usize,
        size: usize,
    ) {
        let age = self.this_year - p.birth.year();
        let tags = generate::care_tags(r, if size == 1 { age } else { 0 });
        let member = age >= 18 && r.random_bool(0.08);
        let id = self.next_id();
        let sealed = self.state.pii.seal_person(Some(&p.id_number), p.phone.as_deref());
        let mut row: Vec<Arg> = vec![
            self.c.into(),
            id.into(),
            household.into(),
            grid.into(),
            p.name.into(),
            (if p.male { "male" } else { "female" }).into(),
            p.birth.into(),
        ];
        row.extend(sealed.args());
        row.extend([
            (["head", "spouse", "child", "child"][k]).into(),
            (if r.random_bool(0.8) { "registered" } else { "floating" }).into(),
            crate::services::records::model::tags_to_column(&tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
                .into(),
            member.into(),
            member.then_some(self.party_org).flatten().into(),
            self.now.into(),
            self.now.into(),
        ]);
        self.rows.residents.push(row);
        loaded.residents.push(id);
        self.made += 1;
    }
}

/// Writes an invented registry's rows (compounds, buildings, households, residents, in
/// that order) and audits the import of `made` residents in `households` households.
async fn write_registry(tx: &mut Tx, c: i64, rows: Rows, made: usize, households: usize) -> AppResult<()> {
    insert_many(
        tx,
        "compounds",
        &["community_id", "id", "name", "grid_id", "created_at", "updated_at"],
        rows.compounds,
    )
    .await?;
    insert_many(
        tx,
        "buildings",
        &["community_id", "id", "compound_id", "name", "grid_id", "units", "floors", "created_at", "updated_at"],
        rows.buildings,
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
            "lat",
            "lng",
            "created_at",
            "updated_at",
        ],
        rows.households,
    )
    .await?;
    let person = ["community_id", "id", "household_id", "grid_id", "name", "gender", "birth_date"];
    let more = ["relation", "category", "care_tags", "party_member", "party_org_id", "created_at", "updated_at"];
    let columns = [&person[..], &PersonSeal::COLUMNS, &more].concat();
    insert_many(tx, "residents", &columns, rows.residents).await?;
    let by = By::system("demo");
    audit::record(
        tx,
        c,
        &by,
        Action::Import,
        "community",
        c,
        None,
        Some(&json!({"residents": made, "households": households})),
    )
    .await?;
    Ok(())
}

/// Fills 洲心街道 to full size: about 240,000 residents over its 22 communities.
pub(super) async fn fill_subdistrict(state: &AppState) -> anyhow::Result<bool> {
    const TARGET: usize = 240_000;
    let mut conn = state.db.read().await?;
    let communities: Vec<(i64, String)> =
        query("SELECT c.id, c.code FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = $1 ORDER BY c.code").bind("441802005").fetch_all(&mut conn).await?;
    let ids: Vec<i64> = communities.iter().map(|c| c.0).collect();
    let mut b = crate::db::Builder::new("SELECT COUNT(*) FROM residents WHERE community_id IN ");
    b.list(ids.iter().copied());
    let have: i64 = b.build().scalar(&mut state.db.read_over(&ids).await?).await?;
    if have as usize >= TARGET * 9 / 10 {
        return Ok(false);
    }
    let started = Instant::now();
    let per = (TARGET - have as usize).div_ceil(communities.len());
    for (i, (cid, _code)) in communities.iter().enumerate() {
        let grids: Vec<(i64, sqlx::types::Json<serde_json::Value>)> =
            query("SELECT id, polygon FROM grids WHERE community_id = $1 ORDER BY id")
                .bind(*cid)
                .fetch_all(&mut conn)
                .await?;
        let polygons: Vec<(serde_json::Value, [f64; 4])> =
            grids.iter().map(|(_, p)| (p.0.clone(), bbox(&p.0))).collect();
        let mut loaded = Loaded { community_id: *cid, grids: grids.iter().map(|g| g.0).collect(), ..Loaded::default() };
        let mut r = generate::rng(90_000 + i as u64);
        const BIG: [&str; 12] = [
            "锦绣花园",
            "江湾新城",
            "翠林苑",
            "金域华府",
            "碧桂园",
            "凤城名都",
            "阳光小区",
            "丽景湾",
            "时代广场",
            "南岸花园",
            "君悦府",
            "和平里",
        ];
        let mut tx = state.db.begin().await?;
        registry(&mut tx, state, &mut r, "441802", &mut loaded, &BIG, &polygons, per, None).await?;
        tx.commit().await?;
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        residents = per * communities.len(),
        "subdistrict filled"
    );
    Ok(true)
}

fn bbox(polygon: &serde_json::Value) -> [f64; 4] {
    let rings = crate::capabilities::registry::places::map::outer_rings(polygon);
    let pts: Vec<(f64, f64)> = rings.into_iter().flatten().collect();
    [
        pts.iter().map(|p| p.0).fold(f64::MAX, f64::min),
        pts.iter().map(|p| p.1).fold(f64::MAX, f64::min),
        pts.iter().map(|p| p.0).fold(f64::MIN, f64::max),
        pts.iter().map(|p| p.1).fold(f64::MIN, f64::max),
    ]
}
