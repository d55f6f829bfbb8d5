//! The seed places: the subdistricts and communities the five reports name (with their
//! teams, partner units and party organisations), and writing each one with its registry.

use rand::RngExt;
use serde_json::json;

use super::Loaded;
use super::generate::{self, Rand};
use super::residents::registry;
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::error::AppResult;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

struct Community {
    name: &'static str,
    code: &'static str,
    rural: bool,
    brands: &'static str,
    centre: (f64, f64),
    grids: usize,
    compounds: &'static [&'static str],
    teams: &'static [(&'static str, &'static str, &'static str)],
    units: &'static [(&'static str, &'static str)],
    party: &'static [(&'static str, &'static str, Option<usize>)],
    zones: &'static [&'static str],
    residents: usize,
}

pub(super) struct Subdistrict {
    name: &'static str,
    code: &'static str,
    district: &'static str,
    region: &'static str,
    communities: Vec<Community>,
}

const PATROL: &str = "patrol";
const VOLUNTEER: &str = "volunteer";
const CULTURE: &str = "culture";
const SERVICE: &str = "service";
const MEDIATION: &str = "mediation";

/// The seed subdistricts, in the order they are written.
pub(super) fn seeds() -> Vec<Subdistrict> {
    vec![
        nandiao(),
        nanshan(),
        dianqian(),
        shengli(),
        Subdistrict {
            name: "洲心街道",
            code: "441802005",
            district: "清远市清城区",
            region: "441802",
            communities: zhouxin(),
        },
    ]
}

/// 南调街道 (seed 000): 海盛社区, where the demo accounts are.
fn nandiao() -> Subdistrict {
    Subdistrict {
        name: "南调街道",
        code: "440804003",
        district: "湛江市坡头区",
        region: "440804",
        communities: vec![Community {
            name: "海盛社区",
            code: "440804003001",
            rural: false,
            brands: "红心微聚、邻聚欢享",
            centre: (110.452, 21.244),
            grids: 4,
            compounds: &["海盛花园", "海油小区", "南调新村", "海景苑"],
            teams: &[
                ("红心微聚志愿服务队", VOLUNTEER, "红心微聚"),
                ("青年志愿者队伍", VOLUNTEER, "红心微聚"),
                ("邻聚欢享文艺队", CULTURE, "邻聚欢享"),
            ],
            units: &[("久和医院", "hospital"), ("海盛物业服务中心", "enterprise"), ("南调派出所", "agency")],
            party: &[
                ("海盛社区党支部", "branch", None),
                ("第一网格党小组", "grid_group", Some(0)),
                ("第二网格党小组", "grid_group", Some(0)),
            ],
            zones: &[],
            residents: 640,
        }],
    }
}

/// 南山街道 (seed 001): 回龙社区, the rural one.
fn nanshan() -> Subdistrict {
    Subdistrict {
        name: "南山街道",
        code: "321111005",
        district: "镇江市润州区",
        region: "321111",
        communities: vec![Community {
            name: "回龙社区",
            code: "321111005001",
            rural: true,
            brands: "家引领、家治理、家服务",
            centre: (119.418, 32.168),
            grids: 3,
            compounds: &["回龙山组", "傅家组", "荷花塘组"],
            teams: &[
                ("红色巡逻队", PATROL, ""),
                ("青年突击队", VOLUNTEER, ""),
                ("守护绿色行动支部森林巡防队", PATROL, "守护绿色"),
            ],
            units: &[("区检察院", "agency"), ("瑞康医院", "hospital")],
            party: &[
                ("回龙社区党支部", "branch", None),
                ("回龙山组网格党小组", "grid_group", Some(0)),
                ("傅家组网格党小组", "grid_group", Some(0)),
                ("“守护绿色”行动支部", "branch", None),
                ("朱家党员中心户", "lead_household", Some(1)),
            ],
            zones: &[],
            residents: 420,
        }],
    }
}

/// 殿前街道 (seed 002): 嘉福社区, with five zones.
fn dianqian() -> Subdistrict {
    Subdistrict {
        name: "殿前街道",
        code: "350206004",
        district: "厦门市湖里区",
        region: "350206",
        communities: vec![Community {
            name: "嘉福社区",
            code: "350206004001",
            rural: false,
            brands: "双报到、义聚爱嘉",
            centre: (118.106, 24.516),
            grids: 5,
            compounds: &["嘉福花园", "嘉福盐业小区", "嘉园里", "福满楼", "殿前新苑"],
            teams: &[("嘉福志愿者服务队", VOLUNTEER, "")],
            units: &[("市水文局党支部", "agency"), ("厦门锦祥建设工程有限公司", "enterprise")],
            party: &[("嘉福社区党总支", "general_branch", None), ("嘉福花园党支部", "branch", Some(0))],
            zones: &["第一片区", "第二片区", "第三片区", "第四片区", "第五片区"],
            residents: 820,
        }],
    }
}

/// 胜利街道 (seed 003): 怡馨家园第一社区 and its eleven teams.
fn shengli() -> Subdistrict {
    Subdistrict {
        name: "胜利街道",
        code: "110113003",
        district: "北京市顺义区",
        region: "110113",
        communities: vec![Community {
            name: "怡馨家园第一社区",
            code: "110113003001",
            rural: false,
            brands: "宣联情实、最美怡馨人",
            centre: (116.654, 40.128),
            grids: 4,
            compounds: &["怡馨家园一区", "怡馨家园二区", "怡馨家园三区"],
            teams: &[
                ("亲情维稳服务队", SERVICE, ""),
                ("爱心暖夕阳为老帮扶队", VOLUNTEER, ""),
                ("夕阳之春宣传队", CULTURE, ""),
                ("霞光民事调解队", MEDIATION, ""),
                ("8姐妹环境巡查队", PATROL, ""),
                ("牛皮癣治理服务队", SERVICE, ""),
                ("鹊桥家园婚姻介绍服务队", SERVICE, ""),
                ("合唱队", CULTURE, ""),
                ("太极拳队", CULTURE, ""),
                ("舞蹈队", CULTURE, ""),
                ("模特队", CULTURE, ""),
            ],
            units: &[("一刻钟服务圈医疗保健站", "enterprise"), ("怡馨法律服务所", "social_org")],
            party: &[("怡馨家园第一社区党总支", "general_branch", None), ("老干部支部", "branch", Some(0))],
            zones: &[],
            residents: 900,
        }],
    }
}

/// 洲心街道: 11 urban and 11 rural communities; five named in seed 004, the rest invented.
fn zhouxin() -> Vec<Community> {
    const NAMED: [(&str, &str, &str); 6] = [
        ("连江社区", "441802005001", "连江营造计划"),
        ("振南社区", "441802005002", "红管+、暖心驿站"),
        ("启明社区", "441802005003", "党建+网格化"),
        ("光明社区", "441802005004", "人大代表五连问"),
        ("江南社区", "441802005005", "和美社区·幸福江南"),
        ("凤翔社区", "441802005006", "益家人"),
    ];
    const OTHERS: [&str; 16] = [
        "城北社区",
        "新城社区",
        "东城社区",
        "滨江社区",
        "沿江社区",
        "石角社区",
        "大有社区",
        "塘头社区",
        "山塘社区",
        "白沙社区",
        "沙坝社区",
        "黄岗社区",
        "陂塘社区",
        "新围社区",
        "竹园社区",
        "长埔社区",
    ];
    static CODES: [&str; 16] = [
        "441802005007",
        "441802005008",
        "441802005009",
        "441802005010",
        "441802005011",
        "441802005012",
        "441802005013",
        "441802005014",
        "441802005015",
        "441802005016",
        "441802005017",
        "441802005018",
        "441802005019",
        "441802005020",
        "441802005021",
        "441802005022",
    ];
    let mut out = Vec::new();
    for (i, (name, code, brand)) in NAMED.into_iter().enumerate() {
        out.push(zhouxin_community(i, name, code, brand, 240));
    }
    for (i, name) in OTHERS.into_iter().enumerate() {
        out.push(zhouxin_community(i + NAMED.len(), name, CODES[i], "", 120));
    }
    out
}

fn zhouxin_community(
    i: usize,
    name: &'static str,
    code: &'static str,
    brands: &'static str,
    residents: usize,
) -> Community {
    let (row, col) = ((i / 6) as f64, (i % 6) as f64);
    Community {
        name,
        code,
        // The 11 urban communities come first; the rest are rural.
        rural: i >= 11,
        brands,
        centre: (113.02 + col * 0.018, 23.72 - row * 0.016),
        grids: 10,
        compounds: &["一区", "二区", "三区", "四区", "五区", "六区", "七区", "八区", "九区", "十区"],
        teams: match name {
            "振南社区" => &[
                ("党员志愿服务队", VOLUNTEER, "红管+"),
                ("科普志愿服务队", VOLUNTEER, "红管+"),
                ("党团突击队", VOLUNTEER, "红管+"),
                ("义剪志愿队", SERVICE, "红管+"),
                ("环境整治志愿队", VOLUNTEER, "红管+"),
            ],
            "凤翔社区" => &[("“益家人”社区志愿服务队", VOLUNTEER, "益家人")],
            _ => &[],
        },
        units: match name {
            "连江社区" => &[("清远市老干部大学", "school")],
            _ => &[],
        },
        party: &[],
        zones: &[],
        residents,
    }
}

pub(super) async fn subdistrict(
    tx: &mut Tx,
    state: &AppState,
    s: &Subdistrict,
    seed: u64,
) -> AppResult<Vec<(&'static str, Loaded)>> {
    let now = now_ms();
    let sid = tx.next_id().await?;
    query(
        "INSERT INTO subdistricts (id, name, code, district, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sid)
    .bind(s.name)
    .bind(s.code)
    .bind(s.district)
    .bind(now)
    .bind(now)
    .execute(tx)
    .await?;
    let by = By::system("demo");
    audit::record(
        tx,
        audit::PLATFORM,
        &by,
        Action::Create,
        "subdistrict",
        sid,
        None,
        Some(&json!({"name": s.name, "code": s.code})),
    )
    .await?;
    let mut out = Vec::new();
    for (i, c) in s.communities.iter().enumerate() {
        let mut r = generate::rng(seed * 1000 + i as u64);
        let loaded = community(tx, state, &mut r, sid, s.region, c).await?;
        out.push((c.code, loaded));
    }
    Ok(out)
}

/// Writes one seed community: its row, ticket categories, zones, grids, teams, partner
/// units, party organisations and invented registry. Answers what was written.
async fn community(
    tx: &mut Tx,
    state: &AppState,
    r: &mut Rand,
    sid: i64,
    region: &str,
    c: &Community,
) -> AppResult<Loaded> {
    let now = now_ms();
    let id = write_community(tx, r, sid, c, now).await?;
    crate::capabilities::tickets::store::ensure_categories(tx, id).await?;
    let mut loaded = Loaded { community_id: id, ..Loaded::default() };
    let zone_ids = write_zones(tx, id, c, now).await?;
    let (grid_ids, polygons) = write_grids(tx, r, id, c, now, &zone_ids).await?;
    loaded.grids = grid_ids.clone();
    loaded.teams = write_teams(tx, id, c, now).await?;
    loaded.units = write_units(tx, id, c, now).await?;
    let party_ids = write_party_orgs(tx, id, c, now, &grid_ids).await?;
    registry(tx, state, r, region, &mut loaded, c.compounds, &polygons, c.residents, party_ids.first().copied())
        .await?;
    Ok(loaded)
}

/// The community's own row (with an invented office phone), audited. Answers its id.
async fn write_community(tx: &mut Tx, r: &mut Rand, sid: i64, c: &Community, now: i64) -> AppResult<i64> {
    let id = tx.next_id().await?;
    query(
        "INSERT INTO communities (id, subdistrict_id, name, code, kind, brands, address, office_phone, center_lat, center_lng, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(sid)
    .bind(c.name)
    .bind(c.code)
    .bind(if c.rural { "rural" } else { "urban" })
    .bind(Some(c.brands).filter(|b| !b.is_empty()))
    .bind(format!("{}党群服务中心", c.name))
    .bind(format!("0{}-{}", r.random_range(100..999), r.random_range(1_000_000..9_999_999)))
    .bind(c.centre.1)
    .bind(c.centre.0)
    .bind(now)
    .bind(now)
    .execute(tx)
    .await?;
    let by = By::system("demo");
    audit::record(
        tx,
        audit::PLATFORM,
        &by,
        Action::Create,
        "community",
        id,
        None,
        Some(&json!({"name": c.name, "code": c.code})),
    )
    .await?;
    Ok(id)
}

/// The community's zones (片区), if the seed names any. Answers their ids in seed order.
async fn write_zones(tx: &mut Tx, id: i64, c: &Community, now: i64) -> AppResult<Vec<i64>> {
    let zone_ids = tx.next_ids(c.zones.len()).await?;
    let zones: Vec<Vec<Arg>> = c
        .zones
        .iter()
        .zip(&zone_ids)
        .map(|(n, z)| vec![id.into(), (*z).into(), (*n).into(), now.into(), now.into()])
        .collect();
    insert_many(tx, "zones", &["community_id", "id", "name", "created_at", "updated_at"], zones).await?;
    Ok(zone_ids)
}

/// The community's grids, laid out around its centre and shared out over the zones.
/// Answers their ids and polygons (with bounding boxes), in the same order.
async fn write_grids(
    tx: &mut Tx,
    r: &mut Rand,
    id: i64,
    c: &Community,
    now: i64,
    zone_ids: &[i64],
) -> AppResult<(Vec<i64>, Vec<(serde_json::Value, [f64; 4])>)> {
    let grid_ids = tx.next_ids(c.grids).await?;
    let polygons = generate::grid_polygons(r, c.centre.0, c.centre.1, c.grids);
    const NUMBERS: [&str; 12] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"];
    let grids: Vec<Vec<Arg>> = grid_ids
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let zone = (!zone_ids.is_empty()).then(|| zone_ids[i % zone_ids.len()]);
            vec![
                id.into(),
                (*g).into(),
                zone.into(),
                format!("第{}网格", NUMBERS[i % NUMBERS.len()]).into(),
                format!("{}{:02}", c.code, i + 1).into(),
                polygons[i].0.clone().into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "grids",
        &["community_id", "id", "zone_id", "name", "code", "polygon", "created_at", "updated_at"],
        grids,
    )
    .await?;
    Ok((grid_ids, polygons))
}

/// The community's teams with their kind and brand. Answers their ids in seed order.
async fn write_teams(tx: &mut Tx, id: i64, c: &Community, now: i64) -> AppResult<Vec<i64>> {
    let team_ids = tx.next_ids(c.teams.len()).await?;
    let teams: Vec<Vec<Arg>> = c
        .teams
        .iter()
        .zip(&team_ids)
        .map(|((n, kind, brand), t)| {
            vec![
                id.into(),
                (*t).into(),
                (*n).into(),
                (*kind).into(),
                Some(*brand).filter(|b| !b.is_empty()).into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(tx, "teams", &["community_id", "id", "name", "kind", "brand", "created_at", "updated_at"], teams)
        .await?;
    Ok(team_ids)
}

/// The community's partner units. Answers their ids in seed order.
async fn write_units(tx: &mut Tx, id: i64, c: &Community, now: i64) -> AppResult<Vec<i64>> {
    let unit_ids = tx.next_ids(c.units.len()).await?;
    let units: Vec<Vec<Arg>> = c
        .units
        .iter()
        .zip(&unit_ids)
        .map(|((n, kind), u)| vec![id.into(), (*u).into(), (*n).into(), (*kind).into(), now.into(), now.into()])
        .collect();
    insert_many(tx, "partner_units", &["community_id", "id", "name", "kind", "created_at", "updated_at"], units)
        .await?;
    Ok(unit_ids)
}

/// The community's party organisations, each under its parent; grid groups are tied to a
/// grid. Answers their ids in seed order (the first is the community's own).
async fn write_party_orgs(tx: &mut Tx, id: i64, c: &Community, now: i64, grid_ids: &[i64]) -> AppResult<Vec<i64>> {
    let party_ids = tx.next_ids(c.party.len()).await?;
    for (i, (name, level, parent)) in c.party.iter().enumerate() {
        let grid = (*level == "grid_group").then(|| grid_ids[i % grid_ids.len()]);
        query("INSERT INTO party_orgs (community_id, id, name, level, parent_id, grid_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id)
            .bind(party_ids[i])
            .bind(*name)
            .bind(*level)
            .bind(parent.map(|p| party_ids[p]))
            .bind(grid)
            .bind(now)
            .bind(now)
            .execute(tx)
            .await?;
    }
    Ok(party_ids)
}
