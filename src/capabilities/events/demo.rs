//! Demo events of 海盛社区 (seed 000): 邻聚欢享's mid-autumn fair "化整为零" at six stations
//! on the compounds' doorsteps, one of them full with people waiting; the monthly
//! public-service market 便民服务公益集市 with seats held back for the elderly that grid
//! workers sign up; and last month's square-dance contest, over, with who came. And 怡馨家园
//! 第一社区 (seed 003, "四队五班六节"): its five classes as weekly series and its six
//! festivals of the year.

use super::store::{self, Whom};
use super::{EventStatus, NewEvent, SessionPlan};
use crate::auth::guard::community_by_id;
use crate::db::{now_ms, query};
use crate::demo::{actor_named, community_id};
use crate::time::{DAY_MS, HOUR_MS};
use crate::web::AppState;

const HAISHENG: &str = "440804003001";

/// The six stations: the four compounds' squares, the community square, the practice station.
const STATIONS: [(&str, &str); 6] = [
    ("海盛花园中心广场", "海盛花园"),
    ("海油小区篮球场", "海油小区"),
    ("南调新村文化室", "南调新村"),
    ("海景苑架空层", "海景苑"),
    ("社区广场", ""),
    ("新时代文明实践站", ""),
];

/// Neighbours signed up by their grid worker (they have no phone).
const NEIGHBOURS: [&str; 8] = ["陈婆婆", "李伯", "黄阿姨", "张大爷", "吴奶奶", "刘叔", "林婶", "何伯"];

/// Loads 海盛社区's events, once.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(cid) = community_id(state, HAISHENG).await? else { return Ok(()) };
    let mut conn = state.db.read().await?;
    let present: i64 = query("SELECT COUNT(*) FROM events WHERE community_id = $1").bind(cid).scalar(&mut conn).await?;
    let Some(c) = community_by_id(&mut conn, cid).await? else { return Ok(()) };
    drop(conn);
    let (Some(staff), Some(grid), Some(resident), Some(volunteer)) = (
        actor_named(state, "staff").await?,
        actor_named(state, "grid").await?,
        actor_named(state, "resident").await?,
        actor_named(state, "volunteer").await?,
    ) else {
        return Ok(());
    };
    if present > 0 {
        return Ok(());
    }
    let stations = add_stations(state, cid).await?;
    // Next Saturday (at least two days ahead), 15:00 to 17:00 China time.
    let today = crate::web::fmt::today();
    let weekday = i64::from(chrono::Datelike::weekday(&today).num_days_from_monday());
    let ahead = match (5 - weekday + 7) % 7 {
        n if n < 2 => n + 7,
        n => n,
    };
    let saturday = crate::time::day_start_ms(today) + ahead * DAY_MS;
    let event = |kind: &str, title: &str, organiser: &str, brand: Option<&str>| NewEvent {
        kind: kind.into(),
        title: title.into(),
        organiser: organiser.into(),
        brand: brand.map(String::from),
        description: None,
        audience: "everyone".into(),
        per_household: None,
        claim_hours: 2,
        ..NewEvent::default()
    };
    let fair = NewEvent {
        description: Some("化整为零，把节日办到家门口：猜灯谜、做月饼、广场舞展演，六个分站同时开展。".into()),
        per_household: Some(2),
        ..event("festival", "邻聚欢享·中秋游园会", "海盛社区党委", Some("邻聚欢享"))
    };
    let fair = store::create(state, &staff, &c, fair).await?;
    let plan = SessionPlan {
        starts_at: saturday + 15 * HOUR_MS,
        ends_at: saturday + 17 * HOUR_MS,
        capacity: 30,
        held_back: 0,
    };
    let (five, one) = stations.split_at(5);
    store::add_sessions(state, &staff, &c, fair.id, &five[..3], plan, None).await?;
    store::add_sessions(state, &staff, &c, fair.id, &five[4..], plan, None).await?;
    // 海景苑's 架空层 is small: five seats, and it fills.
    let small =
        store::add_sessions(state, &staff, &c, fair.id, &five[3..4], SessionPlan { capacity: 5, ..plan }, None).await?;
    store::add_sessions(state, &staff, &c, fair.id, one, plan, None).await?;
    store::set_status(state, &staff, &c, fair.id, EventStatus::Published).await?;
    for name in &NEIGHBOURS[..6] {
        store::sign_up(state, &grid, &c, small[0], Whom::Other { name }).await?;
    }
    store::sign_up(state, &volunteer, &c, small[0], Whom::Me).await?;

    let market = NewEvent {
        description: Some("义诊、政策咨询、家电维修、理发，每月第二个周六上午，风雨无阻。".into()),
        ..event("market", "便民服务公益集市", "海盛社区 · 共建单位", None)
    };
    let market = store::create(state, &staff, &c, market).await?;
    let morning = SessionPlan {
        starts_at: saturday + 7 * DAY_MS + 9 * HOUR_MS,
        ends_at: saturday + 7 * DAY_MS + 12 * HOUR_MS,
        capacity: 120,
        held_back: 20,
    };
    let square = store::add_sessions(state, &staff, &c, market.id, &stations[4..5], morning, None).await?;
    store::set_status(state, &staff, &c, market.id, EventStatus::Published).await?;
    store::sign_up(state, &resident, &c, square[0], Whom::Me).await?;
    for name in &NEIGHBOURS[6..] {
        store::sign_up(state, &grid, &c, square[0], Whom::Other { name }).await?;
    }
    past_contest(state, cid, stations[4], &staff, &grid).await?;
    yixin(state).await
}

const YIXIN: &str = "110113003001";

/// The five classes 五班 (title, weekday from Monday 0, hour) and the six festivals 六节
/// (title, month, day).
const CLASSES: [(&str, i64, i64); 5] =
    [("西点班", 0, 9), ("书画班", 1, 14), ("京剧班", 2, 9), ("葫芦丝班", 3, 14), ("二胡班", 4, 9)];
const FESTIVALS: [(&str, u32, u32); 6] = [
    ("迎新春联欢会", 1, 20),
    ("元宵节猜灯谜", 2, 12),
    ("端午节包粽子", 6, 8),
    ("七一红歌会", 7, 1),
    ("中秋邻里宴", 9, 15),
    ("重阳敬老宴", 10, 18),
];

/// 怡馨家园第一社区's classes (twelve weeks each, from next week) and festivals (each on its
/// next date), at its activity room, published; prepared by the platform's administrator
/// acting as the community's staff.
async fn yixin(state: &AppState) -> anyhow::Result<()> {
    use crate::auth::model::{Actor, Grant, Role};
    use chrono::Datelike;
    let (Some(cid), Some(admin)) = (community_id(state, YIXIN).await?, actor_named(state, "admin").await?) else {
        return Ok(());
    };
    let Some(c) = community_by_id(&mut state.db.read().await?, cid).await? else { return Ok(()) };
    let staff = Actor { grants: vec![Grant::community(Role::CommunityStaff, cid)], ..admin };
    let mut tx = state.db.begin().await?;
    let room = tx.next_id().await?;
    query(
        "INSERT INTO stations (community_id, id, name, address, created_at, updated_at)
         VALUES ($1, $2, '社区活动室', '怡馨家园二区社区服务中心二楼', $3, $3)",
    )
    .bind(cid)
    .bind(room)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    let today = crate::web::fmt::today();
    let monday = crate::time::day_start_ms(today) + (7 - i64::from(today.weekday().num_days_from_monday())) * DAY_MS;
    let new = |kind: &str, title: &str| NewEvent {
        kind: kind.into(),
        title: title.into(),
        organiser: "怡馨家园第一社区".into(),
        audience: "residents".into(),
        claim_hours: 24,
        ..NewEvent::default()
    };
    for (title, weekday, hour) in CLASSES {
        let e = store::create(state, &staff, &c, NewEvent { brand: Some("周周有活动".into()), ..new("class", title) })
            .await?;
        let starts_at = monday + weekday * DAY_MS + hour * HOUR_MS;
        let plan = SessionPlan { starts_at, ends_at: starts_at + 2 * HOUR_MS, capacity: 20, held_back: 2 };
        store::add_sessions(state, &staff, &c, e.id, &[room], plan, Some("FREQ=WEEKLY;COUNT=12")).await?;
        store::set_status(state, &staff, &c, e.id, EventStatus::Published).await?;
    }
    for (title, month, day) in FESTIVALS {
        let this_year = chrono::NaiveDate::from_ymd_opt(today.year(), month, day);
        let next = this_year.filter(|d| *d > today).or_else(|| this_year.and_then(|d| d.with_year(d.year() + 1)));
        let Some(date) = next else { continue };
        let e =
            store::create(state, &staff, &c, NewEvent { brand: Some("月月有主题".into()), ..new("festival", title) })
                .await?;
        let starts_at = crate::time::day_start_ms(date) + 15 * HOUR_MS;
        let plan = SessionPlan { starts_at, ends_at: starts_at + 3 * HOUR_MS, capacity: 120, held_back: 20 };
        store::add_sessions(state, &staff, &c, e.id, &[room], plan, None).await?;
        store::set_status(state, &staff, &c, e.id, EventStatus::Published).await?;
    }
    Ok(())
}

async fn add_stations(state: &AppState, cid: i64) -> anyhow::Result<Vec<i64>> {
    let mut tx = state.db.begin().await?;
    let ids = tx.next_ids(STATIONS.len()).await?;
    let now = now_ms();
    for ((name, compound), id) in STATIONS.iter().zip(&ids) {
        let place: Option<(i64, Option<i64>, Option<String>)> = query(
            "SELECT id, grid_id, address FROM compounds WHERE community_id = $1 AND name = $2 AND archived_at IS NULL",
        )
        .bind(cid)
        .bind(*compound)
        .fetch_optional(&mut tx)
        .await?;
        query(
            "INSERT INTO stations (community_id, id, name, address, compound_id, grid_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(cid)
        .bind(*id)
        .bind(*name)
        .bind(place.as_ref().and_then(|p| p.2.clone()))
        .bind(place.as_ref().map(|p| p.0))
        .bind(place.as_ref().and_then(|p| p.1))
        .bind(now)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}

/// Last month's square-dance contest: over, with 24 who came of the 28 signed up. Written
/// as it was kept then (a session in the past cannot be added now).
async fn past_contest(
    state: &AppState,
    cid: i64,
    station: i64,
    staff: &crate::auth::model::Actor,
    grid: &crate::auth::model::Actor,
) -> anyhow::Result<()> {
    // A month ago, 15:00 to 17:00 China time: before the feeds' month back, whatever the hour.
    let then = crate::time::day_start_ms(crate::web::fmt::today() - chrono::Duration::days(31)) + 15 * HOUR_MS;
    let mut tx = state.db.begin().await?;
    let ids = tx.next_ids(2 + 28).await?;
    let (event, session) = (ids[0], ids[1]);
    query(
        "INSERT INTO events (community_id, id, kind, title, description, organiser, brand, audience, per_household,
           claim_hours, status, created_by, created_at, updated_at, report)
         VALUES ($1, $2, 'activity', '广场舞比赛', '各小区广场舞队同台展演', '社区文体队', '邻聚欢享', 'everyone', NULL,
           2, 'finished', $3, $4, $4, '六支广场舞队同台展演，24 名队员到场，海盛花园队获一等奖。')",
    )
    .bind(cid)
    .bind(event)
    .bind(staff.user_id)
    .bind(then - 10 * DAY_MS)
    .execute(&mut tx)
    .await?;
    query(
        "INSERT INTO event_sessions (community_id, id, event_id, station_id, starts_at, ends_at, capacity, held_back,
           taken, status, created_at, closed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 30, 0, 28, 'scheduled', $7, $6)",
    )
    .bind(cid)
    .bind(session)
    .bind(event)
    .bind(station)
    .bind(then)
    .bind(then + 2 * HOUR_MS)
    .bind(then - 10 * DAY_MS)
    .execute(&mut tx)
    .await?;
    for (i, id) in ids[2..].iter().enumerate() {
        let came = i % 7 != 3;
        query(
            "INSERT INTO event_signups (community_id, id, event_id, session_id, name, signed_up_by, status, code,
               checked_in_at, checked_in_by, created_at, updated_at, no_show, rating)
             VALUES ($1, $2, $3, $4, $5, $6, 'seated', $7, $8, $9, $10, $10, $11, $12)",
        )
        .bind(cid)
        .bind(*id)
        .bind(event)
        .bind(session)
        .bind(format!("舞蹈队员{}", i + 1))
        .bind(grid.user_id)
        .bind(format!("P{:07}", i + 1))
        .bind(came.then_some(then + (i as i64) * 60_000))
        .bind(came.then_some(grid.user_id))
        .bind(then - 5 * DAY_MS)
        .bind(!came)
        .bind((came && i % 3 == 0).then_some(4 + (i % 2) as i64))
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
