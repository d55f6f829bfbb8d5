//! `linli demo --scale city`: a city's worth of invented places and people, for the
//! benchmarks on PostgreSQL and Citus (docs/benchmarks.md). Each community is written in
//! a transaction of its own, so a load that stops half-way is taken up where it stopped.

use std::time::Instant;

use serde_json::json;

use super::{Loaded, generate, registry};
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::error::AppResult;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

/// How big a city to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub subdistricts: usize,
    pub communities: usize,
    pub residents: usize,
}

impl Size {
    /// 50 subdistricts of 20 communities of 5,000 residents: 5 million people.
    pub const CITY: Size = Size { subdistricts: 50, communities: 20, residents: 5_000 };
}

const GRIDS: usize = 6;
const COMPOUNDS: [&str; 8] = ["春晖苑", "秋实园", "和顺里", "安居小区", "幸福家园", "福泰花园", "滨江苑", "翠竹园"];
const AREAS: [&str; 10] = ["东城", "西城", "南湖", "北塘", "江岸", "河西", "新港", "桥头", "凤凰", "青山"];

fn subdistrict_code(i: usize) -> String {
    format!("99{:02}{:05}", i / 100, 1 + i % 100)
}

/// Fills the city; answers whether anything was written.
pub async fn fill(state: &AppState, size: Size) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut wrote = false;
    for s in 0..size.subdistricts {
        let code = subdistrict_code(s);
        let mut conn = state.db.read().await?;
        let sid: Option<i64> =
            query("SELECT id FROM subdistricts WHERE code = $1").bind(&code).scalar_optional(&mut conn).await?;
        drop(conn);
        let sid = match sid {
            Some(id) => id,
            None => {
                let mut tx = state.db.begin().await?;
                let id = subdistrict(&mut tx, s, &code).await?;
                tx.commit().await?;
                id
            }
        };
        for c in 0..size.communities {
            let code = format!("{code}{:03}", c + 1);
            let mut conn = state.db.read().await?;
            let have: Option<i64> =
                query("SELECT id FROM communities WHERE code = $1").bind(&code).scalar_optional(&mut conn).await?;
            drop(conn);
            if have.is_some() {
                continue;
            }
            let mut tx = state.db.begin().await?;
            community(&mut tx, state, sid, s, c, &code, size.residents).await?;
            tx.commit().await?;
            wrote = true;
        }
        tracing::info!(subdistrict = s + 1, of = size.subdistricts, seconds = started.elapsed().as_secs_f64(), "city");
    }
    Ok(wrote)
}

async fn subdistrict(tx: &mut Tx, s: usize, code: &str) -> AppResult<i64> {
    let now = now_ms();
    let id = tx.next_id().await?;
    let name = format!("{}{}街道", AREAS[s % AREAS.len()], s / AREAS.len() + 1);
    query(
        "INSERT INTO subdistricts (id, name, code, district, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&name)
    .bind(code)
    .bind("示范区")
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let by = By::system("demo");
    let after = json!({"name": name, "code": code});
    audit::record(tx, audit::PLATFORM, &by, Action::Create, "subdistrict", id, None, Some(&after)).await?;
    Ok(id)
}

async fn community(
    tx: &mut Tx,
    state: &AppState,
    sid: i64,
    s: usize,
    c: usize,
    code: &str,
    residents: usize,
) -> AppResult<()> {
    let now = now_ms();
    let id = tx.next_id().await?;
    let mut r = generate::rng(500_000 + (s * 1000 + c) as u64);
    // Spread over a city some 50 km across.
    let centre = (
        113.0 + (s % 10) as f64 * 0.05 + (c % 5) as f64 * 0.008,
        23.0 + (s / 10) as f64 * 0.05 + (c / 5) as f64 * 0.008,
    );
    let name = format!("{}{}街道第{}社区", AREAS[s % AREAS.len()], s / AREAS.len() + 1, c + 1);
    query(
        "INSERT INTO communities (id, subdistrict_id, name, code, kind, address, center_lat, center_lng, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'urban', $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(sid)
    .bind(&name)
    .bind(code)
    .bind(format!("{name}党群服务中心"))
    .bind(centre.1)
    .bind(centre.0)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let by = By::system("demo");
    let after = json!({"name": name, "code": code});
    audit::record(tx, audit::PLATFORM, &by, Action::Create, "community", id, None, Some(&after)).await?;
    crate::capabilities::tickets::store::ensure_categories(tx, id).await?;
    let grid_ids = tx.next_ids(GRIDS).await?;
    let polygons = generate::grid_polygons(&mut r, centre.0, centre.1, GRIDS);
    let grids: Vec<Vec<Arg>> = grid_ids
        .iter()
        .enumerate()
        .map(|(i, g)| {
            vec![
                id.into(),
                (*g).into(),
                format!("第{}网格", i + 1).into(),
                format!("{code}{:02}", i + 1).into(),
                polygons[i].0.clone().into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(tx, "grids", &["community_id", "id", "name", "code", "polygon", "created_at", "updated_at"], grids)
        .await?;
    let mut loaded = Loaded { community_id: id, grids: grid_ids, ..Loaded::default() };
    registry(tx, state, &mut r, "440100", &mut loaded, &COMPOUNDS, &polygons, residents, None).await
}
