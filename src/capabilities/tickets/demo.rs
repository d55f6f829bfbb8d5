//! Demo tickets: a history of requests in each seed community (海盛社区: 84 matters, 76
//! of them resolved — the 90% its secretary quotes), a volunteer pool, a whistle, and
//! what the demo accounts need to find on their pages. Written in bulk with their
//! history and statistics, as if they had happened over the past months.

use std::collections::HashMap;

use rand::RngExt;

use super::store::{self, Category, EVENT_COLUMNS, event_row};
use super::{Action, Channel, DAY_MS, Facts, HOUR_MS, Status};
use crate::db::{Arg, Builder, Tx, insert_many, now_ms, query};
use crate::demo::generate::{self, Rand};
use crate::error::AppResult;
use crate::web::AppState;

const TEXTS: &[(&str, &str)] = &[
    ("01", "小区门口垃圾桶满了两天没有清运，气味很大"),
    ("02", "楼道里贴满了开锁、疏通的小广告"),
    ("03", "隔壁工地晚上十点以后还在施工，噪音扰民"),
    ("04", "路口有商贩占道经营，早高峰通行困难"),
    ("05", "台风过后有大树倒在人行道上"),
    ("11", "楼道灯坏了一个多星期，老人晚上上下楼不方便"),
    ("11", "小区健身器材有螺丝松动，存在安全隐患"),
    ("12", "楼上漏水到我家天花板，协商不成希望社区调解"),
    ("13", "独居老人需要代办医保报销材料"),
    ("14", "地下室积水，蚊子很多，希望消杀"),
    ("15", "有人在楼道给电动车充电，担心起火"),
    ("16", "想咨询低保申请需要准备哪些材料"),
];

/// One demo ticket as drawn: what it is about, where, through which channel, and the
/// moments of its life so far.
struct Plan {
    category: i64,
    grid: Option<i64>,
    household: Option<i64>,
    channel: Channel,
    text: String,
    status: Status,
    /// The household's address.
    address: Option<String>,
    submitter: Option<i64>,
    /// The submitter's name, or a made-up caller's.
    name: String,
    owner: Option<i64>,
    created: i64,
    due: i64,
    accepted: Option<i64>,
    resolved: Option<i64>,
    closed: Option<i64>,
    rating: Option<i64>,
}

/// What demo tickets in a community are drawn from: its categories, its grids (with their
/// workers) and some of its households (with grid and address).
struct Places {
    cats: Vec<Category>,
    grids: Vec<(i64, Option<i64>)>,
    households: Vec<(i64, Option<i64>, String)>,
}

/// Writes `n` tickets with their history into a community, spread over the past `days`
/// days. `done` of them end resolved or closed. Answers the ids written.
pub async fn history(
    tx: &mut Tx,
    r: &mut Rand,
    community_id: i64,
    n: usize,
    done: usize,
    days: i64,
    people: &People,
) -> AppResult<Vec<i64>> {
    let places = load_places(tx, community_id).await?;
    let now = now_ms();
    let ids = tx.next_ids(n * 8).await?;
    let mut ids = ids.into_iter();
    let (mut tickets, mut events, mut tallies) = (Vec::new(), Vec::new(), HashMap::<(i64, i64, String), i64>::new());
    let mut out = Vec::new();
    for i in 0..n {
        let plan = draw_plan(r, &places, people, i < done, now, days);
        let id = ids.next().expect("ids");
        out.push(id);
        tickets.push(ticket_row(community_id, id, &plan));
        plan_events(community_id, id, &plan, people, &mut ids, &mut events);
        for (g, c, m, d) in super::tally_delta(None, &plan_facts(&plan)) {
            *tallies.entry((g, c, m)).or_default() += d;
        }
    }
    store::changed(tx);
    insert_many(tx, "tickets", &TICKET_COLUMNS, tickets).await?;
    insert_many(tx, "ticket_events", &EVENT_COLUMNS, events).await?;
    store::apply_tallies(tx, tallies.into_iter().map(|((g, c, m), d)| (community_id, g, c, m, d)).collect()).await?;
    Ok(out)
}

/// Reads the community's categories, grids and households.
async fn load_places(tx: &mut Tx, community_id: i64) -> AppResult<Places> {
    let cats: Vec<Category> = store::categories(tx, community_id).await?;
    let grids: Vec<(i64, Option<i64>)> =
        query("SELECT id, worker_user_id FROM grids WHERE community_id = $1 ORDER BY id")
            .bind(community_id)
            .fetch_all(tx)
            .await?;
    let households: Vec<(i64, Option<i64>, String)> =
        query("SELECT id, grid_id, address FROM households WHERE community_id = $1 ORDER BY id LIMIT 2000")
            .bind(community_id)
            .fetch_all(tx)
            .await?;
    Ok(Places { cats, grids, households })
}

/// Draws one ticket, `completed` ones ending resolved or closed, created within the past
/// `days` days. The draws come in a fixed order, so a seed gives the same tickets.
fn draw_plan(r: &mut Rand, places: &Places, people: &People, completed: bool, now: i64, days: i64) -> Plan {
    let (cats, grids, households) = (&places.cats, &places.grids, &places.households);
    let (code, text) = TEXTS[r.random_range(0..TEXTS.len())];
    let cat = cats.iter().find(|c| c.code == code).unwrap_or(&cats[0]);
    let h = (!households.is_empty()).then(|| &households[r.random_range(0..households.len())]);
    let created = now - r.random_range(HOUR_MS..days.max(1) * DAY_MS);
    let status = if completed {
        *generate::pick(r, &[Status::Closed, Status::Closed, Status::Closed, Status::Resolved])
    } else {
        *generate::pick(
            r,
            &[Status::Dispatched, Status::Accepted, Status::InProgress, Status::Submitted, Status::Rejected],
        )
    };
    let grid = h.and_then(|h| h.1);
    let channel = *generate::pick(r, &[Channel::Web, Channel::Web, Channel::Hotline, Channel::Patrol, Channel::Plate]);
    let worker = grid.and_then(|g| grids.iter().find(|x| x.0 == g)).and_then(|x| x.1).or(people.grid_worker);
    let owner = (status != Status::Submitted).then_some(worker).flatten();
    let due = created + cat.deadline_hours * HOUR_MS;
    let accepted = matches!(status, Status::Accepted | Status::InProgress | Status::Resolved | Status::Closed)
        .then(|| created + r.random_range(10 * 60_000..6 * HOUR_MS));
    let resolved = matches!(status, Status::Resolved | Status::Closed).then(|| {
        let late = r.random_bool(0.12);
        let span = cat.deadline_hours * HOUR_MS;
        created + if late { span + r.random_range(HOUR_MS..2 * DAY_MS) } else { r.random_range(span / 10..span.max(2)) }
    });
    let rating =
        (status == Status::Closed && r.random_bool(0.85)).then(|| *generate::pick(r, &[5i64, 5, 5, 4, 4, 3, 2]));
    let closed = (status == Status::Closed).then(|| resolved.unwrap_or(created) + r.random_range(HOUR_MS..3 * DAY_MS));
    let submitter = match channel {
        Channel::Web => people.resident.filter(|_| r.random_bool(0.3)),
        _ => None,
    };
    let name = if submitter.is_some() {
        people.resident_name.clone()
    } else {
        generate::person(r, "440804", (1950, 2000), None).name
    };
    Plan {
        category: cat.id,
        grid,
        household: h.map(|h| h.0),
        channel,
        text: text.to_string(),
        status,
        address: h.map(|h| h.2.clone()),
        submitter,
        name,
        owner,
        created,
        due,
        accepted,
        resolved,
        closed,
        rating,
    }
}

/// The columns of a demo ticket's row, in the order of `ticket_row`.
const TICKET_COLUMNS: [&str; 27] = [
    "community_id",
    "id",
    "category_id",
    "channel",
    "status",
    "description",
    "household_id",
    "grid_id",
    "address",
    "submitter_user_id",
    "submitter_name",
    "owner_user_id",
    "due_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "response_ms",
    "resolution_ms",
    "rating",
    "q_need",
    "q_cause",
    "q_plan",
    "q_progress",
    "q_outcome",
    "token",
    "created_at",
    "updated_at",
];

/// A demo ticket's row (`TICKET_COLUMNS`); completed ones have their 五连问 filled in.
fn ticket_row(community_id: i64, id: i64, plan: &Plan) -> Vec<Arg> {
    let (created, accepted, resolved) = (plan.created, plan.accepted, plan.resolved);
    let updated = [Some(created), accepted, resolved, plan.closed].into_iter().flatten().max().unwrap_or(created);
    let pick_q = |on: bool, s: &str| -> Arg { Arg::Text(on.then(|| s.to_string())) };
    let q = plan.status.is_completed();
    vec![
        community_id.into(),
        id.into(),
        plan.category.into(),
        plan.channel.as_str().into(),
        plan.status.as_str().into(),
        plan.text.clone().into(),
        plan.household.into(),
        plan.grid.into(),
        plan.address.clone().into(),
        plan.submitter.into(),
        Some(plan.name.clone()).into(),
        plan.owner.into(),
        plan.due.into(),
        accepted.into(),
        resolved.into(),
        plan.closed.into(),
        accepted.map(|a| a - created).into(),
        resolved.map(|x| x - created).into(),
        plan.rating.into(),
        pick_q(q, "了解居民具体诉求和时间地点"),
        pick_q(q, "现场查看，查明原因"),
        pick_q(q, "协调物业和相关单位制定处置方案"),
        pick_q(q, "已按方案处置"),
        pick_q(q, "回访居民，问题已解决"),
        format!("demo{id}").into(),
        created.into(),
        updated.into(),
    ]
}

/// A demo ticket's history, from submission to where its plan ends, each event taking
/// its id from `ids`.
fn plan_events(
    community_id: i64,
    id: i64,
    plan: &Plan,
    people: &People,
    ids: &mut impl Iterator<Item = i64>,
    events: &mut Vec<Vec<Arg>>,
) {
    let (created, owner, submitter, name) = (plan.created, plan.owner, plan.submitter, &plan.name);
    let mut step =
        |at: i64, actor: Option<i64>, who: &str, a: Action, from: Option<Status>, to: Status, note: Option<&str>| {
            events.push(event_row(community_id, ids.next().expect("ids"), id, at, actor, who, a, from, to, note));
        };
    step(created, submitter, name, Action::Submit, None, Status::Submitted, None);
    if plan.status == Status::Rejected {
        step(
            created + HOUR_MS,
            people.staff,
            "社区工作者",
            Action::Reject,
            Some(Status::Submitted),
            Status::Rejected,
            Some("不属于社区受理范围，已告知反映人"),
        );
    } else if plan.status != Status::Submitted {
        step(created, None, "平台派单", Action::Dispatch, Some(Status::Submitted), Status::Dispatched, None);
    }
    if let Some(a) = plan.accepted {
        step(a, owner, "网格员", Action::Accept, Some(Status::Dispatched), Status::Accepted, None);
    }
    if let Some(x) = plan.resolved {
        step(x, owner, "网格员", Action::Resolve, Some(Status::Accepted), Status::Resolved, Some("已处理完毕"));
    }
    if let Some(c) = plan.closed {
        let a = if plan.rating.is_some() { Action::Rate } else { Action::Close };
        step(c, submitter, name, a, Some(Status::Resolved), Status::Closed, None);
    }
}

/// What the statistics count of a demo ticket.
fn plan_facts(plan: &Plan) -> Facts {
    let (created, accepted, resolved) = (plan.created, plan.accepted, plan.resolved);
    Facts {
        grid_id: plan.grid.unwrap_or(0),
        category_id: plan.category,
        status: plan.status,
        on_time: resolved.is_some_and(|x| x <= plan.due),
        responded: accepted.is_some(),
        rating: plan.rating,
        response_ms: accepted.map(|a| a - created),
        resolution_ms: resolved.map(|x| x - created),
    }
}

/// The people demo tickets involve.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub resident: Option<i64>,
    pub resident_name: String,
    pub staff: Option<i64>,
    pub grid_worker: Option<i64>,
}

async fn user(tx: &mut Tx, name: &str) -> AppResult<Option<(i64, String)>> {
    Ok(query("SELECT id, display_name FROM users WHERE username = $1").bind(name).fetch_optional(tx).await?)
}

/// The seed communities' tickets, once.
pub async fn load(state: &AppState) -> AppResult<()> {
    let mut tx = state.db.begin_span(crate::db::citus::Span::Maintenance).await?;
    let already: i64 = query("SELECT COUNT(*) FROM tickets WHERE token LIKE 'demo%'").scalar(&mut tx).await?;
    if already > 0 {
        return Ok(());
    }
    let resident = user(&mut tx, "resident").await?;
    let people = People {
        resident_name: resident.as_ref().map(|r| r.1.clone()).unwrap_or_default(),
        resident: resident.map(|r| r.0),
        staff: user(&mut tx, "staff").await?.map(|u| u.0),
        grid_worker: user(&mut tx, "grid").await?.map(|u| u.0),
    };
    let mut r = generate::rng(311);
    // 海盛社区: 84 matters, 76 resolved (seed 000's 90%).
    for (code, n, done) in [
        ("440804003001", 84usize, 76usize),
        ("321111005001", 40, 32),
        ("350206004001", 60, 50),
        ("110113003001", 50, 44),
    ] {
        let Some(c) =
            query("SELECT id FROM communities WHERE code = $1").bind(code).scalar_optional::<i64>(&mut tx).await?
        else {
            continue;
        };
        store::ensure_categories(&mut tx, c).await?;
        history(&mut tx, &mut r, c, n, done, 120, &people).await?;
    }
    // 洲心街道's 22 communities have a season of matters each, so the subdistrict's
    // dashboard compares them.
    for c in query("SELECT c.id FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = '441802005' ORDER BY c.id")
        .scalars::<i64>(&mut tx)
        .await?
    {
        store::ensure_categories(&mut tx, c).await?;
        let n = 24 + (c % 13) as usize;
        history(&mut tx, &mut r, c, n, n * 9 / 10, 90, &People::default()).await?;
    }
    // The volunteer takes 帮办代办 orders from the 红心微聚 pool.
    let hs: i64 = query("SELECT id FROM communities WHERE code = $1").bind("440804003001").scalar(&mut tx).await?;
    let team: Option<i64> = query("SELECT id FROM teams WHERE community_id = $1 AND name = $2")
        .bind(hs)
        .bind("红心微聚志愿服务队")
        .scalar_optional(&mut tx)
        .await?;
    if let (Some(team), Some((volunteer, _))) = (team, user(&mut tx, "volunteer").await?) {
        query("INSERT INTO team_members (community_id, team_id, user_id, leader, joined_at) VALUES ($1, $2, $3, FALSE, $4)")
            .bind(hs)
            .bind(team)
            .bind(volunteer)
            .bind(now_ms())
            .execute(&mut tx)
            .await?;
        let mut b = Builder::new("UPDATE ticket_categories SET handler_kind = 'team', handler_team_id = ");
        b.arg(team).push(" WHERE community_id = ").arg(hs).push(" AND code = '13'");
        b.build().execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Many historical tickets over the communities of 洲心街道 (for benchmarks).
pub async fn bulk(state: &AppState, total: usize) -> anyhow::Result<()> {
    let mut conn = state.db.read().await?;
    let communities: Vec<i64> = query("SELECT c.id FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = '441802005' ORDER BY c.id").scalars(&mut conn).await?;
    drop(conn);
    let per = total.div_ceil(communities.len().max(1));
    let mut r = generate::rng(1_000_000);
    for c in communities {
        let mut left = per;
        while left > 0 {
            let n = left.min(20_000);
            let mut tx = state.db.begin().await?;
            store::ensure_categories(&mut tx, c).await?;
            history(&mut tx, &mut r, c, n, n * 9 / 10, 365, &People::default()).await?;
            tx.commit().await?;
            left -= n;
        }
    }
    Ok(())
}
