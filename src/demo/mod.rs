//! Demo data from the seeds: the subdistricts, communities, teams, partner units and party
//! organisations the five reports name, with invented households and residents, and the
//! demo accounts. Loading is idempotent: what is there is reused, nothing duplicated.

mod city;
pub mod generate;

use std::time::Instant;

use chrono::Datelike;
use rand::RngExt;
use serde_json::json;

use crate::auth::model::{Grant, Role};
use crate::capabilities::registry::people::users::{self, NewUser};
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::error::AppResult;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;
use generate::Rand;

pub const PASSWORD: &str = "demo1234";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// The seed communities, a few hundred residents each.
    Seeds,
    /// Also fill 洲心街道 to full size: 22 communities, about 240,000 residents.
    Subdistrict,
    /// Also a city for benchmarks: 50 more subdistricts of 20 communities, 5,000
    /// residents each (1,000 communities and 5 million residents).
    City,
}

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

struct Subdistrict {
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

fn seeds() -> Vec<Subdistrict> {
    vec![
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
        },
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
        },
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
        },
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
        },
        Subdistrict {
            name: "洲心街道",
            code: "441802005",
            district: "清远市清城区",
            region: "441802",
            communities: zhouxin(),
        },
    ]
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

/// What a community's generated registry holds, for later steps (accounts, other
/// capabilities' demo data).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub community_id: i64,
    pub grids: Vec<i64>,
    pub households: Vec<(i64, i64)>,
    pub residents: Vec<i64>,
    pub teams: Vec<i64>,
    pub units: Vec<i64>,
}

/// Loads the demo once. Answers whether anything was written.
pub async fn load(state: &AppState, scale: Scale) -> anyhow::Result<bool> {
    let mut wrote = false;
    let mut conn = state.db.read().await?;
    let present: Option<i64> =
        query("SELECT id FROM subdistricts WHERE code = $1").bind("440804003").scalar_optional(&mut conn).await?;
    drop(conn);
    if present.is_none() {
        let started = Instant::now();
        let mut tx = state.db.begin().await?;
        let mut loaded = Vec::new();
        for (i, s) in seeds().iter().enumerate() {
            loaded.extend(subdistrict(&mut tx, state, s, i as u64).await?);
        }
        tx.commit().await?;
        accounts(state, &loaded).await?;
        crate::capabilities::tickets::demo::load(state).await?;
        crate::capabilities::points::demo::load(state).await?;
        crate::capabilities::fieldwork::demo::load(state).await?;
        crate::capabilities::participation::demo::load(state).await?;
        crate::capabilities::council::demo::load(state).await?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "demo data loaded");
        wrote = true;
    }
    if scale == Scale::Subdistrict {
        wrote |= fill_subdistrict(state).await?;
    }
    if scale == Scale::City {
        wrote |= city::fill(state, city::Size::CITY).await?;
    }
    Ok(wrote)
}

async fn subdistrict(
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

async fn community(
    tx: &mut Tx,
    state: &AppState,
    r: &mut Rand,
    sid: i64,
    region: &str,
    c: &Community,
) -> AppResult<Loaded> {
    let now = now_ms();
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
    crate::capabilities::tickets::store::ensure_categories(tx, id).await?;
    let mut loaded = Loaded { community_id: id, ..Loaded::default() };

    let zone_ids = tx.next_ids(c.zones.len()).await?;
    let zones: Vec<Vec<Arg>> = c
        .zones
        .iter()
        .zip(&zone_ids)
        .map(|(n, z)| vec![id.into(), (*z).into(), (*n).into(), now.into(), now.into()])
        .collect();
    insert_many(tx, "zones", &["community_id", "id", "name", "created_at", "updated_at"], zones).await?;

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
    loaded.grids = grid_ids.clone();

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
    loaded.teams = team_ids;

    let unit_ids = tx.next_ids(c.units.len()).await?;
    let units: Vec<Vec<Arg>> = c
        .units
        .iter()
        .zip(&unit_ids)
        .map(|((n, kind), u)| vec![id.into(), (*u).into(), (*n).into(), (*kind).into(), now.into(), now.into()])
        .collect();
    insert_many(tx, "partner_units", &["community_id", "id", "name", "kind", "created_at", "updated_at"], units)
        .await?;
    loaded.units = unit_ids;

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
    registry(tx, state, r, region, &mut loaded, c.compounds, &polygons, c.residents, party_ids.first().copied())
        .await?;
    Ok(loaded)
}

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
    let (mut cps, mut bds, mut hhs, mut rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Enough ids for the worst case: four residents per household plus the places.
    let mut ids = tx.next_ids(target * 2 + compounds.len() * 40 + 16).await?.into_iter();
    let mut next = || ids.next().expect("ids reserved");
    let mut made = 0usize;
    // Invented ID numbers must be unique in the community, with those already there.
    let mut seen_ids: std::collections::HashSet<Vec<u8>> =
        query("SELECT id_number_hash FROM residents WHERE community_id = $1 AND id_number_hash IS NOT NULL")
            .bind(c)
            .scalars(tx)
            .await?
            .into_iter()
            .collect();
    let per_compound = target.div_ceil(compounds.len().max(1));
    for (ci, name) in compounds.iter().enumerate() {
        let grid_index = ci % loaded.grids.len();
        let grid = loaded.grids[grid_index];
        let bbox = polygons[grid_index].1;
        let compound = next();
        cps.push(vec![c.into(), compound.into(), (*name).into(), grid.into(), now.into(), now.into()]);
        let mut in_compound = 0usize;
        let mut building_no = 0;
        while in_compound < per_compound && made < target {
            building_no += 1;
            let building = next();
            bds.push(vec![
                c.into(),
                building.into(),
                compound.into(),
                format!("{building_no}栋").into(),
                grid.into(),
                2i64.into(),
                6i64.into(),
                now.into(),
                now.into(),
            ]);
            'rooms: for unit in 1..=2 {
                for floor in 1..=6 {
                    for door in 1..=2 {
                        if in_compound >= per_compound || made >= target {
                            break 'rooms;
                        }
                        let household = next();
                        let room = format!("{floor}0{door}");
                        let (lng, lat) = generate::point_in(r, bbox);
                        hhs.push(vec![
                            c.into(),
                            household.into(),
                            format!("{name}{building_no}栋{unit}单元{room}").into(),
                            compound.into(),
                            building.into(),
                            unit.to_string().into(),
                            room.into(),
                            grid.into(),
                            lat.into(),
                            lng.into(),
                            now.into(),
                            now.into(),
                        ]);
                        loaded.households.push((household, grid));
                        let size = *generate::pick(r, &[1usize, 2, 2, 2, 3, 3, 3, 4]);
                        let head = generate::person(r, region, (1938, 1995), None);
                        let surname: String = head.name.chars().take(1).collect();
                        for k in 0..size {
                            let mut p = match k {
                                0 => {
                                    generate::person(r, region, (head.birth.year(), head.birth.year()), Some(&surname))
                                }
                                1 => generate::person(r, region, (head.birth.year() - 3, head.birth.year() + 3), None),
                                _ => generate::person(
                                    r,
                                    region,
                                    (head.birth.year() + 22, (head.birth.year() + 35).min(this_year - 1)),
                                    Some(&surname),
                                ),
                            };
                            while !seen_ids.insert(state.pii.blind_index("id_number", &p.id_number)) {
                                p.id_number = crate::services::pii::make_id_number(
                                    region,
                                    p.birth,
                                    r.random_range(0..1000),
                                    p.male,
                                );
                            }
                            let age = this_year - p.birth.year();
                            let tags = generate::care_tags(r, if size == 1 { age } else { 0 });
                            let member = age >= 18 && r.random_bool(0.08);
                            let id = next();
                            let idn = state.pii.seal_id_number(&p.id_number);
                            let phone = p.phone.as_deref().map(|x| state.pii.seal_phone(x));
                            rss.push(vec![
                                c.into(),
                                id.into(),
                                household.into(),
                                grid.into(),
                                p.name.into(),
                                (if p.male { "male" } else { "female" }).into(),
                                p.birth.into(),
                                idn.enc.into(),
                                idn.hash.into(),
                                idn.masked.into(),
                                phone.as_ref().map(|s| s.enc.clone()).into(),
                                phone.as_ref().map(|s| s.hash.clone()).into(),
                                phone.as_ref().map(|s| s.masked.clone()).into(),
                                p.phone.as_ref().map(|x| x[7..].to_string()).into(),
                                (["head", "spouse", "child", "child"][k]).into(),
                                (if r.random_bool(0.8) { "registered" } else { "floating" }).into(),
                                crate::services::records::model::tags_to_column(
                                    &tags.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                                )
                                .into(),
                                member.into(),
                                member.then_some(party_org).flatten().into(),
                                now.into(),
                                now.into(),
                            ]);
                            loaded.residents.push(id);
                            made += 1;
                            in_compound += 1;
                        }
                    }
                }
            }
        }
    }
    insert_many(tx, "compounds", &["community_id", "id", "name", "grid_id", "created_at", "updated_at"], cps).await?;
    insert_many(
        tx,
        "buildings",
        &["community_id", "id", "compound_id", "name", "grid_id", "units", "floors", "created_at", "updated_at"],
        bds,
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
        hhs,
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
            "relation",
            "category",
            "care_tags",
            "party_member",
            "party_org_id",
            "created_at",
            "updated_at",
        ],
        rss,
    )
    .await?;
    let by = By::system("demo");
    audit::record(
        tx,
        c,
        &by,
        Action::Import,
        "community",
        c,
        None,
        Some(&json!({"residents": made, "households": loaded.households.len()})),
    )
    .await?;
    Ok(())
}

/// The demo accounts (all with password `demo1234`).
pub const ACCOUNTS: [(&str, &str); 9] = [
    ("admin", "平台管理员 platform admin"),
    ("street", "洲心街道管理员 subdistrict admin"),
    ("secretary", "海盛社区书记 community secretary"),
    ("staff", "海盛社区工作者 community staff"),
    ("grid", "海盛社区第一网格网格员 grid worker"),
    ("volunteer", "海盛社区志愿者 volunteer"),
    ("resident", "海盛社区居民 resident"),
    ("unit", "共建单位久和医院 partner unit"),
    ("grid2", "回龙社区第一网格网格员 grid worker"),
];

async fn accounts(state: &AppState, loaded: &[(&str, Loaded)]) -> anyhow::Result<()> {
    let find = |code: &str| loaded.iter().find(|(c, _)| *c == code).map(|(_, l)| l).expect("seed community loaded");
    let haisheng = find("440804003001");
    let huilong = find("321111005001");
    let mut conn = state.db.read().await?;
    let zhouxin: i64 = query("SELECT id FROM subdistricts WHERE code = $1").bind("441802005").scalar(&mut conn).await?;
    let (resident_id, household): (i64, i64) = query(
        "SELECT id, household_id FROM residents WHERE community_id = $1 AND grid_id = $2 AND relation = 'head' AND phone_hash IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(haisheng.community_id)
    .bind(haisheng.grids[0])
    .fetch_one(&mut conn)
    .await?;
    let resident_name: String = query("SELECT name FROM residents WHERE community_id = $1 AND id = $2")
        .bind(haisheng.community_id)
        .bind(resident_id)
        .scalar(&mut conn)
        .await?;
    drop(conn);
    let c = haisheng.community_id;
    let list: Vec<(&str, String, Option<&str>, Grant, Option<i64>)> = vec![
        ("admin", "平台管理员".into(), None, Grant::platform(), None),
        ("street", "洲心街道 李街道".into(), Some("13900000002"), Grant::subdistrict(zhouxin), None),
        (
            "secretary",
            "海盛社区 黄书记".into(),
            Some("13900000003"),
            Grant::community(Role::CommunitySecretary, c),
            None,
        ),
        ("staff", "海盛社区 吴社工".into(), Some("13900000004"), Grant::community(Role::CommunityStaff, c), None),
        ("grid", "第一网格 周网格员".into(), Some("13900000005"), Grant::grid(c, haisheng.grids[0]), None),
        ("volunteer", "海盛 郑志愿者".into(), Some("13900000006"), Grant::community(Role::Volunteer, c), None),
        ("resident", resident_name, None, Grant::household(c, household), Some(resident_id)),
        ("unit", "久和医院 联络员".into(), Some("13900000008"), Grant::partner_unit(c, haisheng.units[0]), None),
        (
            "grid2",
            "回龙第一网格 孙网格员".into(),
            Some("13900000009"),
            Grant::grid(huilong.community_id, huilong.grids[0]),
            None,
        ),
    ];
    let by = By::system("demo");
    for (username, display_name, phone, grant, resident) in list {
        let grid = (grant.role() == Role::GridWorker).then_some((grant.community_id, grant.grid_id));
        let id = users::create(
            &state.db,
            &state.pii,
            None,
            &by,
            NewUser {
                username: username.into(),
                display_name,
                password: PASSWORD.into(),
                phone: phone.map(String::from),
                grants: vec![grant],
                resident_id: resident,
                ..Default::default()
            },
        )
        .await?;
        if let Some((Some(c), Some(g))) = grid {
            let mut tx = state.db.begin().await?;
            query("UPDATE grids SET worker_user_id = $1 WHERE community_id = $2 AND id = $3")
                .bind(id)
                .bind(c)
                .bind(g)
                .execute(&mut tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Fills 洲心街道 to full size: about 240,000 residents over its 22 communities.
async fn fill_subdistrict(state: &AppState) -> anyhow::Result<bool> {
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

/// Accounts for invented people, which sign nobody in (no password): a user and one grant
/// each, written in bulk. `people` are (username, name, resident, grant); answers their ids.
pub async fn invented_accounts(
    tx: &mut Tx,
    community_id: i64,
    people: Vec<(String, String, Option<i64>, Grant)>,
) -> AppResult<Vec<i64>> {
    let ids = tx.next_ids(people.len() * 2).await?;
    let now = now_ms();
    let (mut users, mut grants) = (Vec::new(), Vec::new());
    for (i, (username, name, resident, g)) in people.into_iter().enumerate() {
        let (user, grant) = (ids[i * 2], ids[i * 2 + 1]);
        users.push(vec![
            Arg::from(user),
            username.into(),
            name.into(),
            "!".into(),
            community_id.into(),
            resident.into(),
            now.into(),
            now.into(),
        ]);
        grants.push(vec![
            Arg::from(grant),
            user.into(),
            g.role().as_str().to_string().into(),
            g.community_id.into(),
            g.grid_id.into(),
            g.household_id.into(),
            g.partner_unit_id.into(),
            now.into(),
        ]);
    }
    insert_many(
        tx,
        "users",
        &["id", "username", "display_name", "password_hash", "community_id", "resident_id", "created_at", "updated_at"],
        users,
    )
    .await?;
    insert_many(
        tx,
        "grants",
        &["id", "user_id", "role", "community_id", "grid_id", "household_id", "partner_unit_id", "created_at"],
        grants,
    )
    .await?;
    Ok(ids.into_iter().step_by(2).collect())
}

/// A seed community's id by its code, if it is loaded.
pub async fn community_id(state: &AppState, code: &str) -> anyhow::Result<Option<i64>> {
    Ok(query("SELECT id FROM communities WHERE code = $1")
        .bind(code)
        .scalar_optional(&mut state.db.read().await?)
        .await?)
}

/// The actor behind a demo account, by its sign-in name, if it exists.
pub async fn actor_named(state: &AppState, username: &str) -> anyhow::Result<Option<crate::auth::model::Actor>> {
    let id: Option<i64> = query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .scalar_optional(&mut state.db.read().await?)
        .await?;
    Ok(match id {
        Some(id) => Some(actor_of(state, id).await?),
        None => None,
    })
}

/// The actor behind an account, as the store functions want it.
pub async fn actor_of(state: &AppState, user_id: i64) -> AppResult<crate::auth::model::Actor> {
    let mut conn = state.db.read().await?;
    let (username, name): (String, String) =
        query("SELECT username, display_name FROM users WHERE id = $1").bind(user_id).fetch_one(&mut conn).await?;
    crate::auth::session::load_actor(&mut conn, user_id, username, name).await
}

/// A staff member of a seed community with no demo sign-in of its own, for writing its
/// demo data through the store functions.
pub async fn invented_staff(
    state: &AppState,
    community_id: i64,
    username: &str,
    name: &str,
) -> AppResult<crate::auth::model::Actor> {
    let mut tx = state.db.begin().await?;
    let id = invented_accounts(
        &mut tx,
        community_id,
        vec![(username.into(), name.into(), None, Grant::community(Role::CommunityStaff, community_id))],
    )
    .await?[0];
    tx.commit().await?;
    actor_of(state, id).await
}
