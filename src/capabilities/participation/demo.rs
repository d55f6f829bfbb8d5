//! Demo data of participation, from the seeds: 嘉福社区's dual registration (18 units and
//! 104 employed party members, a public needs list taken up by them, partner units paying
//! for long-standing problems), 怡馨家园第一社区's 党群1+1 pairs looking after households,
//! and in 海盛社区 (where the demo accounts are) a registered hospital, needs part pledged,
//! a fulfilled pledge, a resident's suggestion waiting, and a pair whose visits are late.

use chrono::Duration;
use rand::RngExt;

use super::store::{self, Evidence, NewNeed, NewPair, NewRegistration};
use crate::auth::model::{Actor, Grant, Role};
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::demo::{actor_named, actor_of, community_id, generate, invented_accounts, invented_staff};
use crate::web::AppState;
use crate::web::fmt::today;

fn need(title: &str, description: &str, kind: &str, quantity: i64, unit: Option<&str>, days: Option<i64>) -> NewNeed {
    NewNeed {
        title: title.into(),
        description: description.into(),
        kind: kind.into(),
        quantity: Some(quantity),
        unit: unit.map(String::from),
        deadline: days.map(|d| today() + Duration::days(d)),
    }
}

pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(hs) = community_id(state, "440804003001").await? else { return Ok(()) };
    let present: i64 = query("SELECT COUNT(*) FROM registrations WHERE community_id = $1")
        .bind(hs)
        .scalar(&mut state.db.read().await?)
        .await?;
    if present > 0 {
        return Ok(());
    }
    haisheng(state, hs).await?;
    if let Some(jf) = community_id(state, "350206004001").await? {
        jiafu(state, jf).await?;
    }
    if let Some(yx) = community_id(state, "110113003001").await? {
        yixin(state, yx).await?;
    }
    zhouxin(state).await?;
    Ok(())
}

/// 洲心街道's 22 communities: party members registered in each, a need or two on each
/// list, claimed, and some of it delivered, so the subdistrict's figures compare them.
async fn zhouxin(state: &AppState) -> anyhow::Result<()> {
    let communities: Vec<(i64, String)> = query(
        "SELECT c.id, c.name FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = '441802005' ORDER BY c.code",
    )
    .fetch_all(&mut state.db.read().await?)
    .await?;
    let mut r = generate::rng(5022);
    let orgs = ["清城区机关第一党支部", "洲心街道机关党支部", "清远市供电局党支部", "清城区教育系统党委"];
    for (i, (c, name)) in communities.iter().enumerate() {
        let staff = invented_staff(state, *c, &format!("zx-staff-{c}"), &format!("{name} 社工")).await?;
        let mut tx = state.db.begin().await?;
        let people = (0..4 + i % 6)
            .map(|k| {
                let who = generate::person(&mut r, "441802", (1960, 1998), None).name;
                (format!("zx-member-{c}-{k}"), who, None, Grant::community(Role::PartyMember, *c))
            })
            .collect();
        let members = invented_accounts(&mut tx, *c, people).await?;
        let ids = tx.next_ids(members.len()).await?;
        let acc = Accepted { community_id: *c, by: staff.user_id, now: now_ms() };
        let rows = member_registration_rows(&mut tx, &mut r, acc, &members, &ids, &orgs).await?;
        insert_registrations(&mut tx, rows).await?;
        tx.commit().await?;
        let meals = store::add_need(
            state,
            &staff,
            *c,
            need("高龄老人助餐", "为独居高龄老人送餐上门", "service", 20, Some("人次"), Some(60)),
            &[],
        )
        .await?;
        for (k, m) in members.iter().enumerate().take(2 + i % 3) {
            let member = actor_of(state, *m).await?;
            let p = store::make_pledge(state, &member, *c, meals.id, None, "claim", Some(2), false, None).await?;
            if k % 2 == 0 {
                let ev =
                    Evidence {
                        note: "已送餐，老人状况良好".into(), served_on: Some(today()), ..Default::default()
                    };
                store::fulfil(state, &member, *c, p.id, ev, &[]).await?;
                store::confirm(state, &staff, *c, p.id, true, None).await?;
            }
        }
    }
    Ok(())
}

async fn haisheng(state: &AppState, hs: i64) -> anyhow::Result<()> {
    let (Some(staff), Some(unit), Some(volunteer), Some(resident)) = (
        actor_named(state, "staff").await?,
        actor_named(state, "unit").await?,
        actor_named(state, "volunteer").await?,
        actor_named(state, "resident").await?,
    ) else {
        return Ok(());
    };
    haisheng_registrations(state, &staff, &unit, &volunteer, hs).await?;
    // Loaded again, now that the volunteer's registration has been accepted.
    let volunteer = actor_of(state, volunteer.user_id).await?;
    haisheng_needs(state, &staff, &unit, &volunteer, &resident, hs).await?;
    haisheng_late_pair(state, &staff, &volunteer, hs).await?;
    Ok(())
}

/// 海盛社区's dual registrations, each accepted by staff: the hospital (through the unit
/// account) and the demo volunteer as a party member living here.
async fn haisheng_registrations(
    state: &AppState,
    staff: &Actor,
    unit: &Actor,
    volunteer: &Actor,
    hs: i64,
) -> anyhow::Result<()> {
    let mut conn = state.db.read().await?;
    let c = crate::auth::guard::community_by_id(&mut conn, hs).await?.ok_or(anyhow::anyhow!("海盛社区"))?;
    drop(conn);
    let hospital = store::register(
        state,
        unit,
        &c,
        NewRegistration {
            kind: "unit".into(),
            name: "久和医院".into(),
            party_org: "久和医院党支部".into(),
            skills: vec!["义诊".into(), "健康讲座".into()],
            offers: Some("每月一次社区义诊，慢病随访".into()),
            contact_name: Some("刘主任".into()),
            contact_phone: Some("13900000008".into()),
            show_name: true,
            ..Default::default()
        },
    )
    .await?;
    store::decide(state, staff, hs, hospital.id, true, None).await?;
    let member = store::register(
        state,
        volunteer,
        &c,
        NewRegistration {
            kind: "member".into(),
            name: volunteer.display_name.clone(),
            party_org: "南调街道机关第二党支部".into(),
            relation: Some("lives".into()),
            skills: vec!["理发".into()],
            offers: Some("周末可参加志愿服务".into()),
            show_name: true,
            ..Default::default()
        },
    )
    .await?;
    store::decide(state, staff, hs, member.id, true, None).await?;
    Ok(())
}

/// 海盛社区's needs list: four needs posted by staff, part pledged (the hospital's clinic
/// fulfilled and confirmed), and a resident's suggestion waiting.
async fn haisheng_needs(
    state: &AppState,
    staff: &Actor,
    unit: &Actor,
    volunteer: &Actor,
    resident: &Actor,
    hs: i64,
) -> anyhow::Result<()> {
    let haircut = store::add_need(
        state,
        staff,
        hs,
        need("助老理发", "为行动不便的老人上门理发，每月一次", "service", 24, Some("人次"), Some(60)),
        &[],
    )
    .await?;
    let lunch = store::add_need(
        state,
        staff,
        hs,
        need("长者爱心午餐", "为 30 位独居和高龄老人提供一个季度的午餐补贴", "money", 18_000, None, Some(90)),
        &[],
    )
    .await?;
    store::add_need(
        state,
        staff,
        hs,
        need("南调新村小游园认养", "小游园的日常保洁和花木养护", "place", 1, None, None),
        &[],
    )
    .await?;
    let clinic = store::add_need(
        state,
        staff,
        hs,
        need("社区义诊", "为社区居民量血压、测血糖，讲解慢病用药", "service", 2, Some("场"), Some(30)),
        &[],
    )
    .await?;
    store::make_pledge(
        state,
        unit,
        hs,
        lunch.id,
        None,
        "sponsor",
        Some(8_000),
        false,
        Some("院党支部和职工捐款".into()),
    )
    .await?;
    store::make_pledge(state, volunteer, hs, haircut.id, None, "claim", Some(6), false, None).await?;
    let p = store::make_pledge(state, unit, hs, clinic.id, None, "claim", Some(2), false, None).await?;
    store::fulfil(
        state,
        unit,
        hs,
        p.id,
        Evidence {
            note: "在海盛花园广场义诊两场，服务居民 86 人次".into(),
            served_on: Some(today() - Duration::days(3)),
            ..Default::default()
        },
        &[],
    )
    .await?;
    store::confirm(state, staff, hs, p.id, true, None).await?;
    store::add_need(
        state,
        resident,
        hs,
        need("增设电动车充电桩", "楼下电动车飞线充电，存在安全隐患，希望增设充电桩", "item", 4, Some("处"), None),
        &[],
    )
    .await?;
    Ok(())
}

/// A pair whose weekly visits have fallen behind: the demo volunteer (if registered as a
/// volunteer) paired with a household needing care, visited three times in 40 days.
async fn haisheng_late_pair(state: &AppState, staff: &Actor, volunteer: &Actor, hs: i64) -> anyhow::Result<()> {
    let households: Vec<i64> = query(
        "SELECT DISTINCT h.id FROM households h JOIN residents r ON r.community_id = h.community_id AND r.household_id = h.id
         WHERE h.community_id = $1 AND r.care_tags <> '' ORDER BY h.id LIMIT 2",
    )
    .bind(hs)
    .scalars(&mut state.db.read().await?)
    .await?;
    if crate::capabilities::points::store::volunteer_of(&mut state.db.read().await?, hs, volunteer.user_id)
        .await?
        .is_some()
        && !households.is_empty()
    {
        let pair = store::add_pair(
            state,
            staff,
            hs,
            NewPair {
                kind: "volunteer".into(),
                user_id: Some(volunteer.user_id),
                households: households[..1].to_vec(),
                starts_on: Some(today() - Duration::days(40)),
                every_days: Some(7),
                note: Some("每周上门看望，陪伴聊天".into()),
                ..Default::default()
            },
        )
        .await?;
        for days in [33, 24, 10] {
            store::add_visit(
                state,
                volunteer,
                hs,
                pair.pair.id,
                None,
                Some(today() - Duration::days(days)),
                "上门看望，陪老人聊天，帮忙打扫卫生",
                None,
            )
            .await?;
        }
    }
    Ok(())
}

/// 嘉福社区 (seed 002): 18 units and 104 members registered; needs claimed, sponsored,
/// taken charge of and adopted; partner units paying for long-standing problems.
async fn jiafu(state: &AppState, jf: i64) -> anyhow::Result<()> {
    let staff = invented_staff(state, jf, "jf-staff", "嘉福社区 陈社工").await?;
    let mut r = generate::rng(5005);
    let (contacts, members) = jiafu_registrations(state, &staff, &mut r, jf).await?;
    jiafu_needs(state, &staff, jf, &contacts, &members).await?;
    Ok(())
}

/// What every demo registration in 嘉福社区 shares: the community, the staff member who
/// accepted it, and the moment its dates count back from.
#[derive(Clone, Copy)]
struct Accepted {
    community_id: i64,
    by: i64,
    now: i64,
}

/// In one transaction: 嘉福社区's partner units (with 16 more), a contact account for each
/// and 104 party members, all registered and accepted. Returns (contact user ids, member
/// user ids), the contacts in unit order.
async fn jiafu_registrations(
    state: &AppState,
    staff: &Actor,
    r: &mut generate::Rand,
    jf: i64,
) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let mut tx = state.db.begin().await?;
    let (units, now) = jiafu_units(&mut tx, jf).await?;
    let contacts = invented_accounts(
        &mut tx,
        jf,
        units
            .iter()
            .enumerate()
            .map(|(i, (id, name))| {
                (format!("jf-unit{i:02}"), format!("{name} 联络员"), None, Grant::partner_unit(jf, *id))
            })
            .collect(),
    )
    .await?;
    let members = invented_accounts(
        &mut tx,
        jf,
        (0..104)
            .map(|i| {
                (
                    format!("jf-member{i:03}"),
                    generate::person(r, "350206", (1965, 1998), None).name,
                    None,
                    Grant::community(Role::PartyMember, jf),
                )
            })
            .collect(),
    )
    .await?;
    let reg_ids = tx.next_ids(units.len() + members.len()).await?;
    let acc = Accepted { community_id: jf, by: staff.user_id, now };
    let mut rows = unit_registration_rows(r, acc, &units, &contacts, &reg_ids);
    let orgs =
        ["湖里区机关第一党支部", "厦门航空第三党支部", "市水文局党支部", "殿前街道机关党支部", "湖里区教育系统党委"];
    rows.extend(member_registration_rows(&mut tx, r, acc, &members, &reg_ids[units.len()..], &orgs).await?);
    insert_registrations(&mut tx, rows).await?;
    tx.commit().await?;
    Ok((contacts, members))
}

/// Writes registration rows (as the row builders below make them).
async fn insert_registrations(tx: &mut Tx, rows: Vec<Vec<Arg>>) -> anyhow::Result<()> {
    insert_many(
        tx,
        "registrations",
        &[
            "community_id",
            "id",
            "kind",
            "user_id",
            "partner_unit_id",
            "name",
            "party_org",
            "relation",
            "show_name",
            "status",
            "decided_by",
            "decided_at",
            "registered_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    Ok(())
}

/// 嘉福社区's partner units: those already known, then 16 more written here. Returns the
/// units as (id, name), known first, and the time the new ones were created at.
async fn jiafu_units(tx: &mut Tx, jf: i64) -> anyhow::Result<(Vec<(i64, String)>, i64)> {
    let known: Vec<(i64, String)> = query("SELECT id, name FROM partner_units WHERE community_id = $1 ORDER BY id")
        .bind(jf)
        .fetch_all(&mut *tx)
        .await?;
    let more = [
        "湖里区税务局党支部",
        "殿前街道社区卫生服务中心",
        "厦门航空第三党支部",
        "湖里区市场监管所",
        "中国银行殿前支行",
        "厦门市第五中学",
        "殿前派出所",
        "湖里区人民法院殿前法庭",
        "国网厦门供电公司湖里分部",
        "厦门公交集团第二党支部",
        "湖里区司法局",
        "嘉福幼儿园",
        "厦门水务集团湖里分公司",
        "殿前供销社",
        "湖里区消防救援大队",
        "厦门锦江物业",
    ];
    let ids = tx.next_ids(more.len()).await?;
    let now = now_ms();
    let rows: Vec<Vec<Arg>> = more
        .iter()
        .zip(&ids)
        .map(|(n, id)| {
            vec![Arg::from(jf), (*id).into(), n.to_string().into(), "agency".to_string().into(), now.into(), now.into()]
        })
        .collect();
    insert_many(tx, "partner_units", &["community_id", "id", "name", "kind", "created_at", "updated_at"], rows).await?;
    let units: Vec<(i64, String)> =
        known.into_iter().chain(more.iter().zip(&ids).map(|(n, id)| (*id, n.to_string()))).collect();
    Ok((units, now))
}

/// A registration row for each unit, by its contact, registered some time in the past year.
fn unit_registration_rows(
    r: &mut generate::Rand,
    acc: Accepted,
    units: &[(i64, String)],
    contacts: &[i64],
    reg_ids: &[i64],
) -> Vec<Vec<Arg>> {
    let mut rows = Vec::new();
    for (i, ((unit, name), user)) in units.iter().zip(contacts).enumerate() {
        let at = acc.now - r.random_range(30..400) * 86_400_000;
        rows.push(vec![
            Arg::from(acc.community_id),
            reg_ids[i].into(),
            "unit".to_string().into(),
            (*user).into(),
            Some(*unit).into(),
            name.clone().into(),
            if name.ends_with("党支部") { name.clone() } else { format!("{name}党支部") }.into(),
            None::<String>.into(),
            true.into(),
            "accepted".to_string().into(),
            Some(acc.by).into(),
            Some(at).into(),
            at.into(),
            at.into(),
        ]);
    }
    rows
}

/// A registration row for each party member (under the name their account was given),
/// a third working here and the rest living here. `reg_ids` are the members' own ids.
async fn member_registration_rows(
    tx: &mut Tx,
    r: &mut generate::Rand,
    acc: Accepted,
    members: &[i64],
    reg_ids: &[i64],
    orgs: &[&str],
) -> anyhow::Result<Vec<Vec<Arg>>> {
    let mut rows = Vec::new();
    for (i, user) in members.iter().enumerate() {
        let at = acc.now - r.random_range(30..400) * 86_400_000;
        let name: String = query("SELECT display_name FROM users WHERE id = $1").bind(*user).scalar(&mut *tx).await?;
        let relation = if i % 3 == 0 { "works" } else { "lives" };
        rows.push(vec![
            Arg::from(acc.community_id),
            reg_ids[i].into(),
            "member".to_string().into(),
            (*user).into(),
            None::<i64>.into(),
            name.into(),
            generate::pick(r, orgs).to_string().into(),
            Some(relation.to_string()).into(),
            r.random_bool(0.6).into(),
            "accepted".to_string().into(),
            Some(acc.by).into(),
            Some(at).into(),
            at.into(),
            at.into(),
        ]);
    }
    Ok(rows)
}

/// 嘉福社区's needs list, posted by staff: the drains and the roofs sponsored by partner
/// units, meals claimed by members (five delivered and confirmed), the pocket park adopted,
/// books and extinguishers sponsored, after-school care claimed, the bike shed taken charge of.
async fn jiafu_needs(
    state: &AppState,
    staff: &Actor,
    jf: i64,
    contacts: &[i64],
    members: &[i64],
) -> anyhow::Result<()> {
    let needs = [
        need(
            "嘉福花园雨污分流改造",
            "嘉福花园雨污管网混接，雨天污水漫溢，居民反映多年的老大难问题",
            "money",
            1_200_000,
            None,
            Some(120),
        ),
        need("盐业小区屋面防水", "顶楼住户漏水多年，需整体翻修防水层", "money", 860_000, None, Some(150)),
        need("老人助餐配送", "为 20 位高龄独居老人每天送餐", "service", 60, Some("人次"), Some(45)),
        need("嘉园里口袋公园认养", "口袋公园的保洁、绿植养护和设施巡查", "place", 1, None, None),
        need("社区图书角图书", "少儿和老年读物", "item", 500, Some("册"), Some(60)),
        need("楼道消防器材", "老旧楼道配置灭火器", "item", 120, Some("具"), Some(30)),
        need("周末四点半课堂", "双职工家庭孩子的课后托管和辅导", "service", 40, Some("人次"), Some(90)),
        need("福满楼停车棚认管", "非机动车停车棚的秩序和充电安全", "place", 1, None, None),
    ];
    let mut made = Vec::new();
    for n in needs {
        made.push(store::add_need(state, staff, jf, n, &[]).await?);
    }
    let contact = |i: usize| actor_of(state, contacts[i]);
    let member = |i: usize| actor_of(state, members[i]);
    for (i, amount) in [400_000, 300_000, 250_000, 250_000].iter().enumerate() {
        store::make_pledge(state, &contact(i).await?, jf, made[0].id, None, "sponsor", Some(*amount), false, None)
            .await?;
    }
    for (i, amount) in [300_000, 200_000].iter().enumerate() {
        store::make_pledge(state, &contact(4 + i).await?, jf, made[1].id, None, "sponsor", Some(*amount), false, None)
            .await?;
    }
    for i in 0..12 {
        let p =
            store::make_pledge(state, &member(i).await?, jf, made[2].id, None, "claim", Some(4), false, None).await?;
        if i < 5 {
            let ev = Evidence {
                note: "按时送餐，老人身体状况良好".into(),
                served_on: Some(today() - Duration::days(2)),
                ..Default::default()
            };
            store::fulfil(state, &member(i).await?, jf, p.id, ev, &[]).await?;
            store::confirm(state, staff, jf, p.id, true, None).await?;
        }
    }
    store::make_pledge(
        state,
        &contact(6).await?,
        jf,
        made[3].id,
        None,
        "adopt",
        Some(1),
        false,
        Some("每周组织党员清扫".into()),
    )
    .await?;
    for i in 0..6 {
        store::make_pledge(state, &member(20 + i).await?, jf, made[4].id, None, "sponsor", Some(50), false, None)
            .await?;
    }
    store::make_pledge(state, &contact(7).await?, jf, made[5].id, None, "sponsor", Some(120), false, None).await?;
    for i in 0..8 {
        store::make_pledge(state, &member(40 + i).await?, jf, made[6].id, None, "claim", Some(3), false, None).await?;
    }
    store::make_pledge(state, &contact(8).await?, jf, made[7].id, None, "take_charge", Some(1), false, None).await?;
    jiafu_claims(state, staff, jf, members).await
}

/// The rest of seed 002's 134 items: nine small services posted by staff, each claimed
/// by eleven members (35 pledges above and 99 here).
async fn jiafu_claims(state: &AppState, staff: &Actor, jf: i64, members: &[i64]) -> anyhow::Result<()> {
    let services = [
        ("独居老人上门理发", "每月为行动不便的独居老人上门理发一次"),
        ("法律咨询进小区", "每季度在小区开展一次法律咨询"),
        ("老年人智能手机课", "教老人用手机挂号、缴费、视频通话"),
        ("楼道杂物清理", "清理楼道堆放的杂物，消除消防隐患"),
        ("困难家庭子女辅导", "为困难家庭的孩子辅导功课"),
        ("义诊量血压", "为居民测量血压、血糖，讲解慢病用药"),
        ("垃圾分类督导", "早晚高峰在投放点督导垃圾分类"),
        ("防诈骗宣讲", "为老年人讲解常见骗局"),
        ("文明交通劝导", "上下学时段在校门口劝导文明交通"),
    ];
    for (k, (title, about)) in services.iter().enumerate() {
        let n =
            store::add_need(state, staff, jf, need(title, about, "service", 11, Some("人次"), Some(90)), &[]).await?;
        for i in 0..11 {
            let who = actor_of(state, members[(k * 11 + i) % members.len()]).await?;
            store::make_pledge(state, &who, jf, n.id, None, "claim", Some(1), false, None).await?;
        }
    }
    Ok(())
}

/// 怡馨家园第一社区 (seed 003): 党群1+1, party members each looking after a household.
async fn yixin(state: &AppState, yx: i64) -> anyhow::Result<()> {
    let mut r = generate::rng(6006);
    let households: Vec<i64> = query(
        "SELECT DISTINCT h.id FROM households h JOIN residents p ON p.community_id = h.community_id AND p.household_id = h.id
         WHERE h.community_id = $1 AND p.care_tags <> '' ORDER BY h.id LIMIT 102",
    )
    .bind(yx)
    .scalars(&mut state.db.read().await?)
    .await?;
    let mut tx = state.db.begin().await?;
    let people: Vec<(String, String, Option<i64>, Grant)> = (0..households.len())
        .map(|i| {
            (
                format!("yx-member{i:03}"),
                generate::person(&mut r, "110113", (1950, 1990), None).name,
                None,
                Grant::community(Role::PartyMember, yx),
            )
        })
        .collect();
    let names: Vec<String> = people.iter().map(|p| p.1.clone()).collect();
    let members = invented_accounts(&mut tx, yx, people).await?;
    let ids = tx.next_ids(households.len()).await?;
    let now = now_ms();
    let (mut pairs, mut links, mut visits) = (Vec::new(), Vec::new(), Vec::new());
    let visit_ids = tx.next_ids(households.len() * 6).await?;
    for (i, h) in households.iter().enumerate() {
        let starts = today() - Duration::days(r.random_range(60..300));
        pairs.push(vec![
            Arg::from(yx),
            ids[i].into(),
            "party".to_string().into(),
            members[i].into(),
            names[i].clone().into(),
            starts.into(),
            14_i64.into(),
            now.into(),
            now.into(),
        ]);
        links.push(vec![Arg::from(yx), ids[i].into(), (*h).into()]);
        // Most keep to their fortnightly visits; some have fallen behind.
        let late = i % 9 == 0;
        for k in 0..6 {
            let ago = if late { 30 + 14 * k } else { 3 + 14 * k } as i64;
            if today() - Duration::days(ago) < starts {
                break;
            }
            let day = today() - Duration::days(ago);
            let done = generate::pick(
                &mut r,
                &["上门看望，量血压", "帮忙买菜、打扫卫生", "陪同就医", "讲解养老政策", "电话问候"],
            )
            .to_string();
            visits.push(vec![
                Arg::from(yx),
                visit_ids[i * 6 + k].into(),
                ids[i].into(),
                (*h).into(),
                day.into(),
                done.into(),
                members[i].into(),
                now.into(),
            ]);
        }
    }
    insert_many(
        &mut tx,
        "pairs",
        &["community_id", "id", "kind", "user_id", "name", "starts_on", "every_days", "created_at", "updated_at"],
        pairs,
    )
    .await?;
    insert_many(&mut tx, "pair_households", &["community_id", "pair_id", "household_id"], links).await?;
    insert_many(
        &mut tx,
        "pair_visits",
        &["community_id", "id", "pair_id", "household_id", "visited_on", "done", "created_by", "created_at"],
        visits,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
