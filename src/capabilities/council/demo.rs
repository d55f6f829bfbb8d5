//! Demo data of the council, from seed 001: 回龙社区's 党群议事会 takes the lotus-pond
//! renovation through two rounds and a household vote to a decision, carried out as a
//! project whose milestones residents follow; street lights are on the agenda, with
//! comments; a proposal about the drains waits to be screened.

use chrono::Duration;

use super::store;
use crate::auth::model::{Actor, Grant, Role};
use crate::db::{now_ms, query};
use crate::demo::{actor_of, community_id, invented_accounts, invented_staff};
use crate::web::AppState;
use crate::web::fmt::today;

const DAY: i64 = 86_400_000;

/// Loads the council demo of 回龙社区, once.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(c) = community_id(state, "321111005001").await? else { return Ok(()) };
    let present: i64 = query("SELECT COUNT(*) FROM proposals WHERE community_id = $1")
        .bind(c)
        .scalar(&mut state.db.read().await?)
        .await?;
    if present > 0 {
        return Ok(());
    }
    let staff = invented_staff(state, c, "hl-staff", "回龙社区 王社工").await?;
    let grid: i64 =
        query("SELECT MIN(id) FROM grids WHERE community_id = $1").bind(c).scalar(&mut state.db.read().await?).await?;
    let heads = household_heads(state, c, grid).await?;
    let (voters, members) = council_accounts(state, c, &heads).await?;
    seat_council(state, &staff, c, &members).await?;
    let (pond, now) = raise_pond(state, &staff, c, grid, &voters).await?;
    deliberate_pond(state, &staff, c, pond, now, &members).await?;
    if vote_on_pond(state, &staff, c, pond, &voters).await? {
        pond_project(state, &staff, c, pond).await?;
    }
    lights_and_drains(state, &staff, c, now, &voters, &members).await?;
    Ok(())
}

/// The households of the first grid vote, each by its head: (resident id, household id,
/// name) of each head, in resident order.
async fn household_heads(state: &AppState, c: i64, grid: i64) -> anyhow::Result<Vec<(i64, i64, String)>> {
    let heads: Vec<(i64, i64, String)> = query(
        "SELECT r.id, r.household_id, r.name FROM residents r JOIN households h ON h.community_id = r.community_id AND h.id = r.household_id
         WHERE r.community_id = $1 AND h.grid_id = $2 AND h.archived_at IS NULL AND r.archived_at IS NULL AND r.relation = 'head' ORDER BY r.id",
    )
    .bind(c)
    .bind(grid)
    .fetch_all(&mut state.db.read().await?)
    .await?;
    Ok(heads)
}

/// In one transaction, an invented account for each household head (the voters) and for
/// each of the seven council members. Returns (voter user ids, member user ids).
async fn council_accounts(
    state: &AppState,
    c: i64,
    heads: &[(i64, i64, String)],
) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let mut tx = state.db.begin().await?;
    let people = heads
        .iter()
        .enumerate()
        .map(|(i, (rid, h, name))| (format!("hl-home{i:03}"), name.clone(), Some(*rid), Grant::household(c, *h)))
        .collect();
    let voters = invented_accounts(&mut tx, c, people).await?;
    let council: Vec<(String, String, Option<i64>, Grant)> = [
        "回龙村党总支书记 张建国",
        "老党员 李秀英",
        "村民代表 陈明",
        "乡贤 周德华",
        "网格员 孙丽",
        "村民代表 吴志强",
        "妇女代表 郑红梅",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| {
        (
            format!("hl-council{i}"),
            n.split(' ').nth(1).unwrap_or(n).to_string(),
            None,
            Grant::community(Role::Resident, c),
        )
    })
    .collect();
    let members = invented_accounts(&mut tx, c, council).await?;
    tx.commit().await?;
    Ok((voters, members))
}

/// Seats the council members, each with the title they sit under.
async fn seat_council(state: &AppState, staff: &Actor, c: i64, members: &[i64]) -> anyhow::Result<()> {
    let titles: Vec<String> = ["回龙村党总支书记", "老党员", "村民代表", "乡贤", "网格员", "村民代表", "妇女代表"]
        .iter()
        .map(|t| t.to_string())
        .collect();
    for (m, t) in members.iter().zip(&titles) {
        store::set_member(state, staff, c, *m, Some(t.clone()), true).await?;
    }
    Ok(())
}

/// The first voter raises the lotus-pond renovation for the grid; staff accept it, and it is
/// dated back before its rounds. Returns (proposal id, the "now" the demo's dates count from).
async fn raise_pond(state: &AppState, staff: &Actor, c: i64, grid: i64, voters: &[i64]) -> anyhow::Result<(i64, i64)> {
    let raiser = actor_of(state, voters[0]).await?;
    let pond = store::raise(
        state,
        &raiser,
        c,
        "荷花塘改造",
        "村口荷花塘淤积发臭，塘边没有护栏，夏天蚊虫多，孩子靠近有危险。建议清淤、砌护岸、装护栏，塘边修一条步道。",
        "grid",
        Some(grid),
    )
    .await?;
    store::screen(state, staff, c, pond.id, "accept", None, None).await?;
    let now = now_ms();
    // Raised before its rounds were held.
    let mut tx = state.db.begin().await?;
    query("UPDATE proposals SET created_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now - 45 * DAY)
        .bind(c)
        .bind(pond.id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok((pond.id, now))
}

/// The pond's two rounds of deliberation, then a household vote opened for three days.
async fn deliberate_pond(
    state: &AppState,
    staff: &Actor,
    c: i64,
    pond: i64,
    now: i64,
    members: &[i64],
) -> anyhow::Result<()> {
    store::add_round(
        state,
        staff,
        c,
        pond,
        Some(now - 30 * DAY),
        "回龙村党群服务中心",
        "第一轮：听取村民意见。多数赞成清淤和护栏，对是否修步道有分歧；请施工单位出两套方案和预算。",
        &members[..6],
    )
    .await?;
    store::add_round(
        state,
        staff,
        c,
        pond,
        Some(now - 16 * DAY),
        "荷花塘边现场",
        "第二轮：现场比选方案。采用方案二（清淤、生态护岸、木栏杆、300 米步道），预算 48 万元，村集体和街道各出一部分。提交全网格户代表表决。",
        members,
    )
    .await?;
    store::open_vote(state, staff, c, pond, None, Some(now + 3 * DAY)).await?;
    Ok(())
}

/// About four in five households vote on the pond, most for; staff close the vote with the
/// decision. Returns whether it passed.
async fn vote_on_pond(state: &AppState, staff: &Actor, c: i64, pond: i64, voters: &[i64]) -> anyhow::Result<bool> {
    let turnout = voters.len() * 4 / 5;
    for (i, v) in voters.iter().take(turnout).enumerate() {
        let choice = match i % 10 {
            0 => "against",
            7 => "abstain",
            _ => "for",
        };
        store::ballot(state, &actor_of(state, *v).await?, c, pond, choice).await?;
    }
    let decided = store::close_vote(
        state,
        staff,
        c,
        pond,
        "按方案二实施荷花塘改造：清淤、生态护岸、木栏杆和环塘步道，预算 48 万元，年底前完工。",
    )
    .await?;
    Ok(decided.stage == super::Stage::Passed)
}

/// The passed renovation carried out as a project with four milestones; the first is done.
async fn pond_project(state: &AppState, staff: &Actor, c: i64, pond: i64) -> anyhow::Result<()> {
    let start = today() - Duration::days(14);
    let milestones = vec![
        ("施工队进场，抽水清淤".to_string(), Some(start + Duration::days(10))),
        ("生态护岸和木栏杆".to_string(), Some(start + Duration::days(40))),
        ("环塘步道".to_string(), Some(start + Duration::days(60))),
        ("村民代表验收".to_string(), Some(start + Duration::days(70))),
    ];
    let (_, ms) = store::make_project(
        state,
        staff,
        c,
        pond,
        "荷花塘改造工程",
        "张建国",
        480_000,
        Some("村集体经济 28 万元，街道以奖代补 20 万元".into()),
        &milestones,
    )
    .await?;
    store::milestone(
        state,
        staff,
        c,
        pond,
        Some(ms[0].id),
        None,
        Some(today() - Duration::days(2)),
        Some("清出淤泥约 600 方".into()),
    )
    .await?;
    Ok(())
}

/// Street lights on the agenda (one round, two comments), and a proposal about the drains
/// waiting to be screened.
async fn lights_and_drains(
    state: &AppState,
    staff: &Actor,
    c: i64,
    now: i64,
    voters: &[i64],
    members: &[i64],
) -> anyhow::Result<()> {
    let lights = store::raise(
        state,
        &actor_of(state, voters[3]).await?,
        c,
        "增设村道路灯",
        "回龙村主路到村小学一段没有路灯，晚上接送孩子不安全。",
        "community",
        None,
    )
    .await?;
    store::screen(state, staff, c, lights.id, "accept", None, None).await?;
    store::add_round(
        state,
        staff,
        c,
        lights.id,
        Some(now - 5 * DAY),
        "回龙村党群服务中心",
        "第一轮：确定先装主路到学校一段，约 40 盏，电费由村集体承担。",
        &members[..5],
    )
    .await?;
    store::comment(state, &actor_of(state, voters[5]).await?, c, lights.id, "建议用太阳能路灯，省电费。").await?;
    store::comment(state, &actor_of(state, voters[8]).await?, c, lights.id, "学校门口那段最急，能不能先装？").await?;
    store::raise(
        state,
        &actor_of(state, voters[11]).await?,
        c,
        "疏通村东排水沟",
        "村东排水沟堵了，下大雨就倒灌进院子。",
        "community",
        None,
    )
    .await?;
    Ok(())
}
