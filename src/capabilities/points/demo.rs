//! Demo data of volunteer service and field work, from the seeds: 海盛社区's 红心微聚
//! (volunteers, months of approved service paid by versioned rules, a stocked shop, a
//! redemption waiting for handover), 回龙社区's forest patrol on more than 1,000 unbroken
//! days, 嘉福社区's commendation of 16 organisations and 23 volunteers, and the 147
//! volunteers of 怡馨家园第一社区's seven teams. Written through the same store functions
//! the pages use, so the ledger it leaves is sound.

use rand::RngExt;

use super::store::{self, NewService};
use super::{DAY_MS, HOUR_MS, Source};
use crate::auth::model::Actor;
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::demo::generate::{self, Rand};
use crate::demo::{actor_named, community_id};
use crate::error::AppResult;
use crate::web::AppState;

mod written;
pub use written::{bulk_service, paper_ledger};

async fn team_ids(state: &AppState, community_id: i64) -> anyhow::Result<Vec<(i64, String)>> {
    Ok(store::teams(&mut state.db.read().await?, community_id).await?)
}

/// Volunteers from the community's own residents: an account each (that signs nobody in:
/// these people are invented), the volunteer role, a record, and a team.
async fn volunteers_from_residents(
    tx: &mut Tx,
    r: &mut Rand,
    community_id: i64,
    code: &str,
    n: usize,
    teams: &[(i64, String)],
    first_seq: i64,
) -> AppResult<Vec<(i64, i64)>> {
    let residents: Vec<(i64, String, Option<i64>)> = query(
        "SELECT id, name, grid_id FROM residents WHERE community_id = $1 AND archived_at IS NULL AND birth_date < '2006-01-01' ORDER BY id LIMIT $2",
    )
    .bind(community_id)
    .bind(n as i64 * 3)
    .fetch_all(&mut *tx)
    .await?;
    let picked: Vec<&(i64, String, Option<i64>)> = residents.iter().step_by(3).take(n).collect();
    let ids = tx.next_ids(picked.len() * 3).await?;
    let now = now_ms();
    let (mut users, mut grants, mut vols, mut members) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut out = Vec::new();
    for (i, (rid, name, grid)) in picked.iter().enumerate() {
        let (user, grant, vol) = (ids[i * 3], ids[i * 3 + 1], ids[i * 3 + 2]);
        let joined = now - r.random_range(200..700) * DAY_MS;
        users.push(vec![
            Arg::from(user),
            format!("v{code}{:04}", first_seq + i as i64).into(),
            name.clone().into(),
            "!".into(),
            community_id.into(),
            (*rid).into(),
            joined.into(),
            joined.into(),
        ]);
        grants.push(vec![Arg::from(grant), user.into(), "volunteer".into(), community_id.into(), joined.into()]);
        let skills = generate::pick(
            r,
            &[
                "|理发|",
                "|陪伴聊天|",
                "|家电维修|",
                "|法律咨询|",
                "|医疗护理|",
                "|文艺表演|",
                "|环境整治|",
                "|代购代办|",
            ],
        )
        .to_string();
        vols.push(vec![
            Arg::from(community_id),
            vol.into(),
            user.into(),
            super::volunteer_number(code, first_seq + i as i64).into(),
            name.clone().into(),
            (*rid).into(),
            (*grid).into(),
            skills.into(),
            generate::pick(r, &["周末全天", "工作日晚上", "每周二、四上午", "随叫随到"]).to_string().into(),
            r.random_bool(0.6).into(),
            joined.into(),
            joined.into(),
            joined.into(),
        ]);
        if !teams.is_empty() {
            let t = teams[i % teams.len()].0;
            members.push(vec![Arg::from(community_id), t.into(), user.into(), (i < teams.len()).into(), joined.into()]);
        }
        out.push((vol, user));
    }
    insert_many(
        tx,
        "users",
        &["id", "username", "display_name", "password_hash", "community_id", "resident_id", "created_at", "updated_at"],
        users,
    )
    .await?;
    insert_many(tx, "grants", &["id", "user_id", "role", "community_id", "created_at"], grants).await?;
    insert_many(
        tx,
        "volunteers",
        &[
            "community_id",
            "id",
            "user_id",
            "number",
            "name",
            "resident_id",
            "grid_id",
            "skills",
            "availability",
            "show_name",
            "joined_at",
            "created_at",
            "updated_at",
        ],
        vols,
    )
    .await?;
    insert_many(tx, "team_members", &["community_id", "team_id", "user_id", "leader", "joined_at"], members).await?;
    Ok(out)
}

/// Rules in force for the past year; the care rule was raised three months ago (a new
/// version: what the old one paid stays paid).
async fn rules(tx: &mut Tx, community_id: i64, rural: bool) -> AppResult<()> {
    let now = now_ms();
    let year_ago = now - 400 * DAY_MS;
    let raised = now - 90 * DAY_MS;
    let rows: Vec<(&str, i64, &str, &str, Option<&str>, i64, Option<i64>, Option<i64>, i64, Option<i64>)> = vec![
        ("care", 1, "关爱帮扶（每小时）", "per_hour", Some("care"), 8, Some(40), None, year_ago, Some(raised)),
        ("care", 2, "关爱帮扶（每小时）", "per_hour", Some("care"), 10, Some(40), None, raised, None),
        ("any", 1, "志愿服务（每小时）", "per_hour", Some("*"), 5, Some(30), Some(300), year_ago, None),
        ("event", 1, "活动志愿（每次）", "per_activity", Some("event"), 20, None, None, year_ago, None),
        ("patrol", 1, "巡逻巡查（每小时）", "per_hour", Some("patrol"), 6, Some(36), None, year_ago, None),
        ("award", 1, "表彰奖励", "bonus", None, 100, None, None, year_ago, None),
    ];
    let mut rows = rows;
    if rural {
        rows.push(("civility", 1, "文明积分扣分（乱倒垃圾等）", "deduction", None, 10, None, None, year_ago, None));
    }
    let ids = tx.next_ids(rows.len()).await?;
    let data = rows
        .into_iter()
        .zip(ids)
        .map(|((code, version, name, kind, ty, points, daily, monthly, from, to), id)| {
            vec![
                Arg::from(community_id),
                id.into(),
                code.into(),
                version.into(),
                name.into(),
                kind.into(),
                ty.map(String::from).into(),
                points.into(),
                daily.into(),
                monthly.into(),
                from.into(),
                to.into(),
                year_ago.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "points_rules",
        &[
            "community_id",
            "id",
            "code",
            "version",
            "name",
            "kind",
            "service_type",
            "points",
            "daily_cap",
            "monthly_cap",
            "effective_from",
            "effective_to",
            "created_at",
        ],
        data,
    )
    .await?;
    Ok(())
}

pub(crate) const CONTENTS: &[(&str, &str)] = &[
    ("care", "看望独居老人，陪同聊天、打扫卫生"),
    ("care", "为高龄老人上门理发"),
    ("errand", "为行动不便居民代办医保报销"),
    ("environment", "小区楼道杂物清理"),
    ("environment", "荷花塘周边垃圾清捡"),
    ("event", "邻聚欢享文化节现场服务"),
    ("event", "便民服务公益集市摆摊服务"),
    ("culture", "社区文艺队排练演出"),
    ("mediation", "参与邻里纠纷调解"),
    ("patrol", "夜间治安巡逻"),
];

/// Months of service: recorded by staff for each volunteer, approved by staff (paid by the
/// rules in force when served); the latest few wait for approval, one was refused.
async fn history(
    state: &AppState,
    r: &mut Rand,
    staff: &Actor,
    community_id: i64,
    people: &[(i64, i64)],
    teams: &[(i64, String)],
) -> anyhow::Result<()> {
    let today = crate::time::day_start_ms(crate::web::fmt::today());
    for (i, (vol, _)) in people.iter().enumerate() {
        let n = r.random_range(2..9);
        let mut day = r.random_range(3..12);
        for k in 0..n {
            let (ty, content) = *generate::pick(r, CONTENTS);
            let start = today - day * DAY_MS + r.random_range(8..17) * HOUR_MS + r.random_range(0..4) * 15 * 60_000;
            let minutes = r.random_range(2..9) * 30;
            let input = NewService {
                volunteer_id: Some(*vol),
                team_id: (!teams.is_empty()).then(|| teams[i % teams.len()].0),
                service_type: ty.into(),
                content: content.into(),
                place: Some(
                    generate::pick(r, &["党群服务中心", "海盛花园", "社区广场", "老年活动室", "荷花塘"]).to_string(),
                ),
                started_at: Some(start),
                ended_at: Some(start + minutes * 60_000),
                minutes: Some(minutes),
            };
            let rec = store::submit_service(state, staff, community_id, &input, Source::Staff, &[]).await?;
            if k + 1 < n || i % 5 != 0 {
                let refuse = k == 1 && i % 17 == 3;
                store::decide(
                    state,
                    staff,
                    community_id,
                    rec.id,
                    !refuse,
                    refuse.then_some("时长与签到记录不符，请核实后重新提交"),
                )
                .await?;
            }
            day += r.random_range(6..25);
        }
    }
    Ok(())
}

async fn rewards(tx: &mut Tx, community_id: i64, merchant: Option<i64>) -> AppResult<Vec<i64>> {
    let now = now_ms();
    let items: Vec<(&str, &str, Option<i64>, i64, i64, Option<i64>, &str)> = vec![
        ("爱心理发服务", "service", None, 30, 40, Some(2), "社区理发志愿者上门或在服务站理发一次"),
        ("家电维修上门", "service", merchant, 50, 20, Some(1), "物业师傅上门检修家电一次（不含配件）"),
        ("米面油爱心礼包", "goods", None, 80, 15, Some(1), "大米5kg、面粉2.5kg、食用油1.8L"),
        ("红心微聚纪念T恤", "goods", None, 60, 10, Some(1), "红心微聚志愿服务纪念T恤"),
        ("社区食堂餐券", "goods", None, 20, 100, Some(5), "长者饭堂午餐一份"),
    ];
    let ids = tx.next_ids(items.len()).await?;
    let rows = items
        .iter()
        .zip(&ids)
        .map(|((name, kind, unit, price, stock, limit, desc), id)| {
            vec![
                Arg::from(community_id),
                (*id).into(),
                (*name).into(),
                (*kind).into(),
                (*unit).into(),
                (*price).into(),
                (*stock).into(),
                (*limit).into(),
                Arg::from(7i64),
                (*desc).into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "rewards",
        &[
            "community_id",
            "id",
            "name",
            "kind",
            "provider_unit_id",
            "price",
            "stock",
            "per_person_limit",
            "hold_days",
            "description",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    Ok(ids)
}

async fn commend(
    tx: &mut Tx,
    community_id: i64,
    rows: Vec<(&str, String, bool, &str, chrono::NaiveDate, &str)>,
) -> AppResult<()> {
    let now = now_ms();
    let ids = tx.next_ids(rows.len()).await?;
    let data = rows
        .into_iter()
        .zip(ids)
        .map(|((kind, name, shown, title, on, issuer), id)| {
            vec![
                Arg::from(community_id),
                id.into(),
                kind.into(),
                name.into(),
                shown.into(),
                title.into(),
                on.into(),
                issuer.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "commendations",
        &[
            "community_id",
            "id",
            "honoree_kind",
            "honoree_name",
            "show_name",
            "title",
            "awarded_on",
            "issuer",
            "created_at",
            "updated_at",
        ],
        data,
    )
    .await?;
    Ok(())
}

/// Loads the demo of volunteering and field work, once.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(hs) = community_id(state, "440804003001").await? else { return Ok(()) };
    let present: i64 = query("SELECT COUNT(*) FROM volunteers WHERE community_id = $1")
        .bind(hs)
        .scalar(&mut state.db.read().await?)
        .await?;
    if present > 0 {
        return Ok(());
    }
    let mut r = generate::rng(4004);
    let (Some(staff), Some(volunteer)) = (actor_named(state, "staff").await?, actor_named(state, "volunteer").await?)
    else {
        return Ok(());
    };
    let today = crate::web::fmt::today();

    haisheng(state, &mut r, &staff, &volunteer, hs, today).await?;
    if let Some(hl) = community_id(state, "321111005001").await? {
        huilong(state, &mut r, hl, today).await?;
    }
    if let Some(jf) = community_id(state, "350206004001").await? {
        jiafu(state, &mut r, jf, today).await?;
    }
    if let Some(yx) = community_id(state, "110113003001").await? {
        yixin(state, &mut r, yx).await?;
    }
    zhouxin(state, &mut r).await?;
    Ok(())
}

/// 洲心街道's 22 communities: a few volunteers each with months of service, so that the
/// subdistrict's volunteer figures compare them (a larger community has more).
async fn zhouxin(state: &AppState, r: &mut Rand) -> anyhow::Result<()> {
    let communities: Vec<(i64, String, String)> = query(
        "SELECT c.id, c.code, c.name FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = '441802005' ORDER BY c.code",
    )
    .fetch_all(&mut state.db.read().await?)
    .await?;
    for (i, (c, code, name)) in communities.iter().enumerate() {
        let staff = crate::demo::invented_staff(state, *c, &format!("zx-staff-{c}"), &format!("{name} 社工")).await?;
        let teams = team_ids(state, *c).await?;
        let mut tx = state.db.begin().await?;
        rules(&mut tx, *c, i >= 11).await?;
        let people = volunteers_from_residents(&mut tx, r, *c, code, 3 + (i % 5), &teams, 1).await?;
        tx.commit().await?;
        history(state, r, &staff, *c, &people, &teams).await?;
    }
    Ok(())
}

/// 海盛社区: 红心微聚. Rules, volunteers, shop and commendations in one transaction, then the
/// demo volunteer registers, months of service are recorded, awards given and rewards redeemed
/// through the store functions (each in its own transaction, as the pages do).
async fn haisheng(
    state: &AppState,
    r: &mut Rand,
    staff: &Actor,
    volunteer: &Actor,
    hs: i64,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let teams = team_ids(state, hs).await?;
    let (people, shop) = haisheng_setup(state, r, hs, &teams, today).await?;
    let me = haisheng_register(state, volunteer, hs).await?;
    let mut all = vec![me];
    all.extend(people.iter().copied());
    history(state, r, staff, hs, &all, &teams).await?;
    haisheng_awards(state, staff, hs, me.1, &teams).await?;
    haisheng_redemptions(state, staff, volunteer, hs, &people, &shop).await?;
    Ok(())
}

/// 海盛社区's one setup transaction: rules, 40 volunteers from residents, the shop (one
/// service provided by the property manager) and last month's commendations. Returns the
/// volunteers as (volunteer id, user id) and the reward ids in shop order.
async fn haisheng_setup(
    state: &AppState,
    r: &mut Rand,
    hs: i64,
    teams: &[(i64, String)],
    today: chrono::NaiveDate,
) -> anyhow::Result<(Vec<(i64, i64)>, Vec<i64>)> {
    let mut tx = state.db.begin().await?;
    rules(&mut tx, hs, false).await?;
    let people = volunteers_from_residents(&mut tx, r, hs, "440804003001", 40, teams, 2).await?;
    let merchant: Option<i64> =
        query("SELECT id FROM partner_units WHERE community_id = $1 AND name = '海盛物业服务中心'")
            .bind(hs)
            .scalar_optional(&mut tx)
            .await?;
    let shop = rewards(&mut tx, hs, merchant).await?;
    commend(
        &mut tx,
        hs,
        vec![
            (
                "team",
                "红心微聚志愿服务队".into(),
                true,
                "优秀志愿服务队",
                today - chrono::Duration::days(40),
                "南调街道党工委",
            ),
            ("unit", "久和医院".into(), true, "优秀共建单位", today - chrono::Duration::days(40), "海盛社区党支部"),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok((people, shop))
}

/// The demo volunteer registers herself in 海盛社区, as on the page. Returns her
/// (volunteer id, user id).
async fn haisheng_register(state: &AppState, volunteer: &Actor, hs: i64) -> anyhow::Result<(i64, i64)> {
    let c = crate::auth::guard::community_by_id(&mut state.db.read().await?, hs)
        .await?
        .ok_or_else(|| anyhow::anyhow!("海盛社区"))?;
    let me = store::register_self(
        state,
        volunteer,
        &c,
        store::Registration {
            name: "郑晓红".into(),
            skills: vec!["陪伴聊天".into(), "代购代办".into()],
            availability: Some("周末全天".into()),
            show_name: true,
            ..Default::default()
        },
    )
    .await?;
    Ok((me.id, me.user_id))
}

/// Points given by hand in 海盛社区: the demo volunteer's bonus under the award rule, and the
/// commended team's points for its activities.
async fn haisheng_awards(
    state: &AppState,
    staff: &Actor,
    hs: i64,
    me_user_id: i64,
    teams: &[(i64, String)],
) -> anyhow::Result<()> {
    // Commended last month: a bonus under the award rule.
    let award: Option<i64> = query("SELECT id FROM points_rules WHERE community_id = $1 AND code = 'award'")
        .bind(hs)
        .scalar_optional(&mut state.db.read().await?)
        .await?;
    store::give(
        state,
        staff,
        hs,
        store::ByHand {
            user_id: Some(me_user_id),
            team_id: None,
            partner_unit_id: None,
            rule_id: award,
            amount: None,
            reason: "获评“红心微聚之星”".into(),
            key: "demo:award".into(),
        },
    )
    .await?;
    // The team commended last month gets points of its own, for the team's activities.
    if let Some((team, _)) = teams.iter().find(|(_, n)| n == "红心微聚志愿服务队") {
        store::give(
            state,
            staff,
            hs,
            store::ByHand {
                user_id: None,
                team_id: Some(*team),
                partner_unit_id: None,
                rule_id: None,
                amount: Some(500),
                reason: "获评“优秀志愿服务队”，队伍活动经费积分".into(),
                key: "demo:team-award".into(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Redemptions in 海盛社区's shop: the demo volunteer holds a haircut for handover; the
/// first neighbour's meal (if the balance allows) has been handed over.
async fn haisheng_redemptions(
    state: &AppState,
    staff: &Actor,
    volunteer: &Actor,
    hs: i64,
    people: &[(i64, i64)],
    shop: &[i64],
) -> anyhow::Result<()> {
    store::redeem(state, volunteer, hs, shop[0], Some("demo:haircut".into())).await?;
    if let Some((_, neighbour)) = people.first() {
        let mut conn = state.db.read().await?;
        let a = crate::auth::session::load_actor(&mut conn, *neighbour, String::new(), String::new()).await?;
        drop(conn);
        let balance = super::ledger::balance(&mut state.db.read().await?, hs, *neighbour).await?;
        if balance >= 20 {
            let d = store::redeem(state, &a, hs, shop[4], Some("demo:meal".into())).await?;
            store::confirm(state, staff, hs, &d.code).await?;
        }
    }
    Ok(())
}

/// 回龙社区: rural 文明积分, volunteers, and (if the grid worker exists) the forest patrol on
/// more than 1,000 unbroken days, all in one transaction.
async fn huilong(state: &AppState, r: &mut Rand, hl: i64, today: chrono::NaiveDate) -> anyhow::Result<()> {
    let teams = team_ids(state, hl).await?;
    let mut tx = state.db.begin().await?;
    rules(&mut tx, hl, true).await?;
    volunteers_from_residents(&mut tx, r, hl, "321111005001", 20, &teams, 1).await?;
    let patroller: Option<i64> =
        query("SELECT id FROM users WHERE username = 'grid2'").scalar_optional(&mut tx).await?;
    if let Some(user) = patroller {
        huilong_patrols(&mut tx, r, hl, user, &teams, today).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The grid worker's patrols in 回龙社区: a morning forest patrol on each of the last 1,030
/// days, and an evening red patrol every third day of the last 120.
async fn huilong_patrols(
    tx: &mut Tx,
    r: &mut Rand,
    hl: i64,
    user: i64,
    teams: &[(i64, String)],
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let forest = teams.iter().find(|(_, n)| n.contains("森林巡防")).map(|t| t.0);
    let red = teams.iter().find(|(_, n)| n.contains("红色巡逻")).map(|t| t.0);
    let days = 1_030i64;
    let ids = tx.next_ids(days as usize + 120).await?;
    let start_of_today = crate::time::day_start_ms(today);
    let mut rows = Vec::new();
    for d in 1..=days {
        let at = start_of_today - d * DAY_MS + 7 * HOUR_MS;
        let route = generate::pick(r, &["回龙山北坡—防火通道", "傅家组—水库", "荷花塘—后山林场"]).to_string();
        rows.push(vec![
            Arg::from(hl),
            ids[d as usize - 1].into(),
            user.into(),
            forest.into(),
            route.into(),
            at.into(),
            (at + 2 * HOUR_MS).into(),
            at.into(),
        ]);
    }
    for (k, d) in (1..=120i64).step_by(3).enumerate() {
        let at = start_of_today - d * DAY_MS + 20 * HOUR_MS;
        rows.push(vec![
            Arg::from(hl),
            ids[days as usize + k].into(),
            user.into(),
            red.into(),
            "村组主干道".into(),
            at.into(),
            (at + HOUR_MS).into(),
            at.into(),
        ]);
    }
    insert_many(
        tx,
        "patrols",
        &["community_id", "id", "user_id", "team_id", "route", "started_at", "ended_at", "created_at"],
        rows,
    )
    .await?;
    Ok(())
}

/// 嘉福社区: 16 organisations and 23 volunteers commended (seed 002), with rules and
/// volunteers, in one transaction.
async fn jiafu(state: &AppState, r: &mut Rand, jf: i64, today: chrono::NaiveDate) -> anyhow::Result<()> {
    const UNITS: [&str; 16] = [
        "市水文局党支部",
        "厦门锦祥建设工程有限公司",
        "嘉福花园业主委员会",
        "嘉福花园物业服务中心",
        "殿前派出所",
        "湖里区妇幼保健院",
        "嘉福小学",
        "殿前中学",
        "市税务局第三党支部",
        "厦门农商银行殿前支行",
        "嘉园里商户联盟",
        "福满楼小区党支部",
        "殿前新苑业委会",
        "义聚爱嘉志愿服务队",
        "湖里区律师协会",
        "殿前社区卫生服务站",
    ];
    let on = today - chrono::Duration::days(25);
    let mut rows: Vec<(&str, String, bool, &str, chrono::NaiveDate, &str)> =
        UNITS.iter().map(|u| ("unit", u.to_string(), true, "双报到优秀共建单位", on, "殿前街道党工委")).collect();
    for i in 0..23 {
        let p = generate::person(r, "350206", (1955, 1995), None);
        rows.push(("person", p.name, i % 3 != 0, "优秀报到党员志愿者", on, "殿前街道党工委"));
    }
    let teams = team_ids(state, jf).await?;
    let mut tx = state.db.begin().await?;
    rules(&mut tx, jf, false).await?;
    commend(&mut tx, jf, rows).await?;
    volunteers_from_residents(&mut tx, r, jf, "350206004001", 23, &teams, 1).await?;
    tx.commit().await?;
    Ok(())
}

/// 怡馨家园第一社区: 147 volunteers in its teams, caring for 10 elderly residents.
async fn yixin(state: &AppState, r: &mut Rand, yx: i64) -> anyhow::Result<()> {
    let teams = team_ids(state, yx).await?;
    let mut tx = state.db.begin().await?;
    rules(&mut tx, yx, false).await?;
    volunteers_from_residents(&mut tx, r, yx, "110113003001", 147, &teams, 1).await?;
    tx.commit().await?;
    Ok(())
}
