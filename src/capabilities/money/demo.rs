//! Demo money and projects, from the seeds: 嘉福社区's 义聚爱嘉 drive (104 party members,
//! 59,100 yuan) and its co-building fund (18 partner units, 3.94 million yuan) that fixed
//! 36 long-standing problems (seed 002); 怡馨家园第一社区's 18 惠民工程 and the secretary's
//! 3,000 yuan (seed 003); 回龙社区's lotus-pond project from its council decision (seed
//! 001); 海盛社区's service company, a year of income and what went back in (seed 000).
//! Everything is written through the store, so the ledger holds every yuan.

use chrono::{Datelike, Months};

use super::store::{disclosure, donations, expenses, funds, goods, projects};
use crate::auth::guard::{CommunityRef, community_by_id};
use crate::auth::model::{Actor, Grant, Role};
use crate::db::query;
use crate::demo::{actor_of, community_id, invented_accounts, invented_staff};
use crate::web::AppState;

/// Loads the money of the seed communities, once.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(jf) = community_id(state, "350206004001").await? else { return Ok(()) };
    let present: i64 = query("SELECT COUNT(*) FROM funds WHERE community_id = $1")
        .bind(jf)
        .scalar(&mut state.db.read().await?)
        .await?;
    if present > 0 {
        return Ok(());
    }
    jiafu(state, jf).await?;
    if let Some(yx) = community_id(state, "110113003001").await? {
        yixin(state, yx).await?;
    }
    if let Some(hl) = community_id(state, "321111005001").await? {
        huilong(state, hl).await?;
    }
    if let Some(hs) = community_id(state, "440804003001").await? {
        haisheng(state, hs).await?;
    }
    Ok(())
}

/// Who keeps a demo community's money: a staff member who asks, a second who checks, the
/// secretary who approves, and the subdistrict that approves the large amounts.
struct Keepers {
    c: CommunityRef,
    asker: Actor,
    checker: Actor,
    secretary: Actor,
    street: Actor,
}

/// The keepers of a community's money, made once; the demo's own staff and secretary
/// where the community has them.
async fn keepers(
    state: &AppState,
    cid: i64,
    prefix: &str,
    name: &str,
    own: Option<(Actor, Actor)>,
) -> anyhow::Result<Keepers> {
    let c = community_by_id(&mut state.db.read().await?, cid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no community {cid}"))?;
    let checker = invented_staff(state, cid, &format!("{prefix}-staff2"), &format!("{name} 林会计")).await?;
    let (asker, secretary) = match own {
        Some(pair) => pair,
        None => {
            let asker = invented_staff(state, cid, &format!("{prefix}-staff"), &format!("{name} 陈社工")).await?;
            let mut tx = state.db.begin().await?;
            let who = vec![(
                format!("{prefix}-secretary"),
                format!("{name} 书记"),
                None,
                Grant::community(Role::CommunitySecretary, cid),
            )];
            let sec = invented_accounts(&mut tx, cid, who).await?[0];
            tx.commit().await?;
            (asker, actor_of(state, sec).await?)
        }
    };
    let mut tx = state.db.begin().await?;
    let who = vec![(format!("{prefix}-street"), "街道 财务审批".into(), None, Grant::subdistrict(c.subdistrict_id))];
    let street = invented_accounts(&mut tx, cid, who).await?[0];
    tx.commit().await?;
    Ok(Keepers { c, asker, checker, secretary, street: actor_of(state, street).await? })
}

fn fund(kind: &str, name: &str, purpose: &str, restriction: &[&str], target: Option<&str>) -> funds::NewFund {
    funds::NewFund {
        kind: kind.into(),
        name: name.into(),
        purpose: purpose.into(),
        restriction: restriction.iter().map(|r| r.to_string()).collect(),
        target: target.map(String::from),
        ..Default::default()
    }
}

fn gift(kind: &str, name: &str, unit: Option<i64>, yuan: i64, named: bool, days_ago: u64) -> donations::NewDonation {
    donations::NewDonation {
        donor_kind: kind.into(),
        donor_name: name.into(),
        partner_unit_id: unit,
        named,
        amount: yuan.to_string(),
        given_on: crate::web::fmt::today().checked_sub_days(chrono::Days::new(days_ago)),
        channel: if unit.is_some() { "transfer".into() } else { "cash".into() },
        ..Default::default()
    }
}

/// A project to show: what, where, its budget in yuan, the council proposal it carries
/// out, and whether it is finished.
struct Plan<'a> {
    title: &'a str,
    place: &'a str,
    yuan: i64,
    proposal: Option<i64>,
    done: bool,
}

/// A project funded whole by one fund, planned in two milestones, under way; when `done`
/// it is finished: both milestones done, its whole budget paid with a receipt through the
/// approvals, completed and accepted 验收.
async fn project(state: &AppState, k: &Keepers, fund_id: i64, plan: Plan<'_>) -> anyhow::Result<i64> {
    let Plan { title, place, yuan, proposal, done } = plan;
    let p = projects::NewProject {
        title: title.into(),
        place: place.into(),
        budget: yuan.to_string(),
        proposal_id: proposal,
        ..Default::default()
    };
    let p = projects::create(state, &k.asker, &k.c, p).await?;
    projects::set_funding(state, &k.asker, &k.c, p.id, fund_id, &yuan.to_string()).await?;
    let today = crate::web::fmt::today();
    for (step, weight) in [("采购与备料", 40), ("施工与验收准备", 60)] {
        projects::add_milestone(state, &k.asker, &k.c, p.id, step, Some(today), Some(weight)).await?;
    }
    for s in ["approved", "in_progress"] {
        projects::move_to(state, &k.asker, &k.c, p.id, s, None).await?;
    }
    if !done {
        return Ok(p.id);
    }
    let receipt = crate::services::media::png_for_tests(64, 48);
    let checked = crate::services::media::check("receipt", &receipt).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let e = expenses::NewExpense {
        fund_id: Some(fund_id),
        category: "construction".into(),
        payee: format!("{place}施工队"),
        amount: yuan.to_string(),
        purpose: format!("{title}工程款"),
    };
    let e = expenses::ask(state, &k.asker, &k.c, p.id, e, &[(receipt, checked)]).await?;
    expenses::decide(state, &k.checker, &k.c, e.id, true, None).await?;
    let e = expenses::decide(state, &k.secretary, &k.c, e.id, true, Some("同意")).await?;
    if e.status == super::ExpenseStatus::Pending {
        expenses::decide(state, &k.street, &k.c, e.id, true, Some("同意，按预算执行")).await?;
    }
    for m in projects::milestones(&mut state.db.read().await?, k.c.id, p.id).await? {
        projects::milestone_done(state, &k.asker, &k.c, p.id, m.id).await?;
    }
    for s in ["completed", "accepted"] {
        projects::move_to(state, &k.asker, &k.c, p.id, s, None).await?;
    }
    Ok(p.id)
}

/// The 36 long-standing problems 老大难 the co-building fund fixed.
const PROBLEMS: [&str; 9] = [
    "老旧小区水电改造",
    "路灯更新",
    "监控补盲",
    "电动车充电棚",
    "雨污分流",
    "楼道照明",
    "屋面防水",
    "消防通道整治",
    "化粪池清掏",
];

/// 嘉福社区: the drive's 104 gifts (59,100 yuan), the 18 units' 3.94 million yuan, and
/// the 36 problems fixed with it (the last still under way).
async fn jiafu(state: &AppState, jf: i64) -> anyhow::Result<()> {
    let k = keepers(state, jf, "jf-money", "嘉福社区", None).await?;
    let drive = fund("drive", "义聚爱嘉", "党员现场捐款，用于困难群众帮扶", &["care"], Some("59100"));
    let drive = funds::create(state, &k.asker, &k.c, drive).await?;
    let members: Vec<(i64, String)> = query(
        "SELECT u.id, u.display_name FROM users u JOIN grants g ON g.user_id = u.id
         WHERE g.community_id = $1 AND g.role = 'party_member' ORDER BY u.id LIMIT 104",
    )
    .bind(jf)
    .fetch_all(&mut state.db.read().await?)
    .await?;
    // 100 gave 500 yuan and four gave 2,275: 59,100 yuan.
    for (i, (user, name)) in members.iter().enumerate() {
        let yuan = if i < 100 { 500 } else { 2275 };
        let mut g = gift("party_member", name, None, yuan, i % 3 == 0, 20);
        g.donor_user_id = Some(*user);
        donations::donate(state, &k.asker, &k.c, drive.id, g).await?;
    }
    funds::close(state, &k.asker, &k.c, drive.id).await?;
    let co = fund(
        "co_building",
        "共建资金",
        "共建单位筹集，解决小区老大难问题",
        &["construction", "repairs", "equipment"],
        Some("3940000"),
    );
    let co = funds::create(state, &k.asker, &k.c, co).await?;
    let units: Vec<(i64, String)> =
        query("SELECT id, name FROM partner_units WHERE community_id = $1 ORDER BY id LIMIT 18")
            .bind(jf)
            .fetch_all(&mut state.db.read().await?)
            .await?;
    // 17 units gave 200,000 yuan and one 540,000: 3.94 million.
    for (i, (unit, name)) in units.iter().enumerate() {
        let yuan = if i == 0 { 540_000 } else { 200_000 };
        donations::donate(state, &k.asker, &k.c, co.id, gift("unit", name, Some(*unit), yuan, true, 200 - i as u64))
            .await?;
    }
    // 36 problems: 35 fixed at 100,000 yuan each, the last (440,000) still under way.
    for i in 0..36 {
        let title = format!("{}（第{}处）", PROBLEMS[i % PROBLEMS.len()], i / PROBLEMS.len() + 1);
        let (yuan, done) = if i < 35 { (100_000, true) } else { (440_000, false) };
        project(state, &k, co.id, Plan { title: &title, place: "嘉福社区", yuan, proposal: None, done }).await?;
    }
    Ok(())
}

/// 怡馨家园第一社区: its public-benefit fund (the secretary's 3,000 yuan among the gifts)
/// and the 18 projects it paid for.
async fn yixin(state: &AppState, yx: i64) -> anyhow::Result<()> {
    let k = keepers(state, yx, "yx-money", "怡馨家园第一社区", None).await?;
    let f = fund("public_benefit", "惠民工程公益金", "道路、扶手、楼道等惠民工程", &[], None);
    let f = funds::create(state, &k.asker, &k.c, f).await?;
    donations::donate(state, &k.asker, &k.c, f.id, gift("party_member", "怡馨家园第一社区 书记", None, 3000, true, 60))
        .await?;
    donations::donate(state, &k.asker, &k.c, f.id, gift("person", "业主代表", None, 897_000, false, 90)).await?;
    coats(state, &k).await?;
    let works =
        ["道路翻新2300平方米", "77个单元门口安装扶手", "102个楼道粉刷", "小区绿化补种", "健身器材更新", "停车位划线"];
    for i in 0..18 {
        let title = format!("{}（{}期）", works[i % works.len()], i / works.len() + 1);
        project(state, &k, f.id, Plan { title: &title, place: "怡馨家园", yuan: 50_000, proposal: None, done: i < 15 })
            .await?;
    }
    Ok(())
}

/// The secretary's 40 cotton coats 棉衣, 30 of them handed to households for the winter.
async fn coats(state: &AppState, k: &Keepers) -> anyhow::Result<()> {
    let g = goods::NewGoods {
        donor_kind: "party_member".into(),
        donor_name: k.secretary.display_name.clone(),
        named: true,
        item: "棉衣".into(),
        unit: "件".into(),
        quantity: Some(40),
        value: "4000".into(),
        stored_at: "社区服务站仓库".into(),
        given_on: crate::web::fmt::today().checked_sub_days(chrono::Days::new(30)),
        ..Default::default()
    };
    let g = goods::record(state, &k.asker, &k.c, g).await?;
    let addresses: Vec<String> = query("SELECT address FROM households WHERE community_id = $1 ORDER BY id LIMIT 30")
        .bind(k.c.id)
        .scalars(&mut state.db.read().await?)
        .await?;
    for a in addresses {
        let to = goods::Giving { quantity: Some(1), address: Some(a), project_id: None, received_by: "户主".into() };
        goods::hand_out(state, &k.asker, &k.c, g.id, to).await?;
    }
    Ok(())
}

/// 回龙社区: the lotus pond, from the council's decision, paid by a government allocation.
async fn huilong(state: &AppState, hl: i64) -> anyhow::Result<()> {
    let pond: Option<i64> = query("SELECT id FROM proposals WHERE community_id = $1 AND title = '荷花塘改造'")
        .bind(hl)
        .scalar_optional(&mut state.db.read().await?)
        .await?;
    let k = keepers(state, hl, "hl-money", "回龙社区", None).await?;
    let f = fund("government", "村级公益事业专项资金", "财政拨付，用于议事会决定的公益项目", &["construction"], None);
    let f = funds::create(state, &k.asker, &k.c, f).await?;
    let grant = donations::NewIncome {
        source: "区财政专项拨款".into(),
        month: month_ago(2),
        amount: "480000".into(),
        note: None,
    };
    donations::receive(state, &k.asker, &k.c, f.id, grant).await?;
    let plan =
        Plan { title: "荷花塘改造工程", place: "村口荷花塘", yuan: 480_000, proposal: pond, done: false };
    project(state, &k, f.id, plan).await?;
    Ok(())
}

/// `2026-03`, `months` before this month.
fn month_ago(months: u32) -> String {
    let d = crate::web::fmt::today().checked_sub_months(Months::new(months)).unwrap_or_else(crate::web::fmt::today);
    format!("{}-{:02}", d.year(), d.month())
}

/// 海盛社区: the service company's fund, twelve months of income from its services, and
/// what went back in (the canteen's meals for the elderly), disclosed.
async fn haisheng(state: &AppState, hs: i64) -> anyhow::Result<()> {
    let (Some(staff), Some(secretary)) =
        (crate::demo::actor_named(state, "staff").await?, crate::demo::actor_named(state, "secretary").await?)
    else {
        return Ok(());
    };
    let k = keepers(state, hs, "hs-money", "海盛社区", Some((staff, secretary))).await?;
    let f = fund("service_income", "社区服务公司收益", "服务—收益—反哺：社区服务公司的收入全部用于社区", &[], None);
    let f = funds::create(state, &k.asker, &k.c, f).await?;
    for m in 1..=12 {
        for (source, yuan) in [("家政服务", 6_800), ("长者食堂", 9_200), ("停车管理", 4_500)] {
            let income = donations::NewIncome {
                source: source.into(),
                month: month_ago(m),
                amount: yuan.to_string(),
                note: None,
            };
            donations::receive(state, &k.asker, &k.c, f.id, income).await?;
        }
    }
    for (title, place, yuan) in [("长者食堂助餐补贴", "社区长者食堂", 60_000), ("中秋走访慰问", "海盛社区", 20_000)]
    {
        project(state, &k, f.id, Plan { title, place, yuan, proposal: None, done: true }).await?;
    }
    let from = crate::web::fmt::today().checked_sub_months(Months::new(12));
    disclosure::publish(state, &k.asker, &k.c, from, Some(crate::web::fmt::today()), Some(7)).await?;
    Ok(())
}
