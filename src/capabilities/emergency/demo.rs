//! Demo emergencies: 海盛社区 during typhoon 麦德姆 (seed 000) — activated over its grids,
//! the first tier checked first by the grid worker, some households needing help —, a past
//! mosquito-control campaign 消杀 closed; 回龙社区's flood checks prepared (seed 001).

use super::book::Holder;
use super::shelters::{self, CheckIn, NewShelter};
use super::store::{self, NewIncident, Source};
use super::supplies::{self, Change, Movement};
use super::{CheckChange, CheckStatus, IncidentKind, IncidentStatus, Level, Need, StoreKind};
use crate::auth::guard::{CommunityRef, community_by_id};
use crate::auth::model::Actor;
use crate::capabilities::money::store::goods::{self, NewGoods};
use crate::db::query;
use crate::demo::{actor_named, community_id};
use crate::web::AppState;

const HAISHENG: &str = "440804003001";
const HUILONG: &str = "321111005001";

pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let (Some(hs), Some(staff), Some(grid)) = (
        community_id(state, HAISHENG).await?,
        actor_named(state, "secretary").await?,
        actor_named(state, "grid").await?,
    ) else {
        return Ok(());
    };
    let mut conn = state.db.read().await?;
    let Some(c) = community_by_id(&mut conn, hs).await? else { return Ok(()) };
    let present: i64 =
        query("SELECT COUNT(*) FROM incidents WHERE community_id = $1").bind(hs).scalar(&mut conn).await?;
    drop(conn);
    if present > 0 {
        return Ok(());
    }
    plan(
        state,
        (hs, staff.user_id),
        IncidentKind::Typhoon,
        ("台风防御预案", "|转移低洼和危房住户|加固户外广告牌和树木|清理排水沟|"),
        (
            "社区值班：吴社工 13900000003；红心微聚志愿服务队队长",
            "矿泉水 80 箱；方便面 40 箱；棉被 60 床；手电筒 30 个",
        ),
    )
    .await?;
    // Last summer's campaign, over the whole community, done and closed.
    let campaign = NewIncident {
        kind: IncidentKind::Campaign,
        level: Level::Own,
        title: "登革热防控灭蚊消杀专项行动".into(),
        grids: Vec::new(),
        commander_id: Some(staff.user_id),
        group_id: None,
    };
    let id = store::create(state, &staff, &c, campaign).await?;
    for to in [IncidentStatus::Activated, IncidentStatus::StoodDown, IncidentStatus::Closed] {
        store::set_status(state, &staff, &c, id, to, None).await?;
    }
    // The typhoon, under way: the grid worker has reached the first tier of the grid first.
    let typhoon = NewIncident {
        kind: IncidentKind::Typhoon,
        level: Level::Two,
        title: "台风麦德姆防御".into(),
        grids: Vec::new(),
        commander_id: Some(staff.user_id),
        group_id: None,
    };
    let id = store::create(state, &staff, &c, typhoon).await?;
    store::set_status(state, &staff, &c, id, IncidentStatus::Activated, Some("台风橙色预警，全员到岗")).await?;
    let mine = store::checks(&mut state.db.read().await?, hs, id, &store::whose(&grid, hs)).await?;
    let (school, warehouse) = shelters_and_supplies(state, &staff, &c).await?;
    for (i, w) in mine.iter().take(12).enumerate() {
        let (status, needs) = match i % 6 {
            1 => (CheckStatus::NeedsHelp, vec![Need::Medicine]),
            3 => {
                // Moved to the school, and given food from the warehouse.
                let n = CheckIn { check_id: Some(w.id), people: 2, ..CheckIn::default() };
                shelters::check_in(state, &grid, &c, school, &n).await?;
                let m = Movement {
                    change: Change::HandOut { store: warehouse.0, household: w.household_id, incident: Some(id) },
                    item: warehouse.1,
                    amount: 1,
                    reason: "应急发放".into(),
                    key: format!("demo:hand-out:{}", w.id),
                };
                supplies::record(state, &staff, &c, &m).await?;
                continue;
            }
            5 => (CheckStatus::Unreachable, Vec::new()),
            _ => (CheckStatus::Safe, Vec::new()),
        };
        let ch = CheckChange { status, needs, note: None, seen: w.version };
        store::change(state, &grid, &c, w.id, &ch, &format!("demo:{}", w.id), Source::Field).await?;
    }
    // 回龙社区's flood checks, ready for the rains.
    if let (Some(hl), Some(staff2)) = (community_id(state, HUILONG).await?, actor_named(state, "staff2").await?) {
        let Some(c) = community_by_id(&mut state.db.read().await?, hl).await? else { return Ok(()) };
        let flood = NewIncident {
            kind: IncidentKind::Flood,
            level: Level::Four,
            title: "汛期防汛排查".into(),
            grids: Vec::new(),
            commander_id: Some(staff2.user_id),
            group_id: None,
        };
        store::create(state, &staff2, &c, flood).await?;
    }
    Ok(())
}

/// 海盛社区's two shelters, its warehouse and micro fire station with what they hold
/// (from the subdistrict and the chamber of commerce); answers the school and the
/// warehouse with its instant noodles.
async fn shelters_and_supplies(state: &AppState, staff: &Actor, c: &CommunityRef) -> anyhow::Result<(i64, (i64, i64))> {
    let shelter = |name: &str, address: &str, capacity, (lat, lng)| NewShelter {
        name: name.into(),
        address: address.into(),
        lat: Some(lat),
        lng: Some(lng),
        capacity,
    };
    let school =
        shelters::add(state, staff, c, &shelter("海盛小学避难点", "海盛路12号", 120, (21.245, 110.451))).await?;
    shelters::add(state, staff, c, &shelter("社区党群服务中心", "海盛路1号", 60, (21.243, 110.453))).await?;
    let warehouse = supplies::add_store(state, staff, c, "社区应急仓库", StoreKind::Warehouse).await?;
    let station = supplies::add_store(state, staff, c, "微型消防站", StoreKind::FireStation).await?;
    let mut noodles = 0;
    let stock = [
        ("矿泉水", "箱", 80, Holder::Subdistrict),
        ("方便面", "箱", 40, Holder::Donation),
        ("棉被", "床", 60, Holder::Subdistrict),
        ("手电筒", "个", 30, Holder::Purchase),
    ];
    for (name, unit, n, from) in stock {
        let item = supplies::add_item(state, staff, c, name, unit).await?;
        noodles = if name == "方便面" { item } else { noodles };
        let (reason, gift) = if from == Holder::Donation {
            ("陈志强先生捐赠", Some(gift(state, staff, c, (name, unit, n)).await?))
        } else {
            ("台风前物资储备", None)
        };
        let m = Movement {
            change: Change::Receive { from, store: warehouse, gift },
            item,
            amount: n,
            reason: reason.into(),
            key: format!("demo:in:{item}"),
        };
        supplies::record(state, staff, c, &m).await?;
        let to = if name == "手电筒" { station } else { school_store(state, c.id, school).await? };
        let m = Movement {
            change: Change::Transfer { from: warehouse, to },
            item,
            amount: n / 4,
            reason: "台风前预置".into(),
            key: format!("demo:move:{item}"),
        };
        supplies::record(state, staff, c, &m).await?;
    }
    Ok((school, (warehouse, noodles)))
}

/// A gift in kind as the money's records have it, received into the warehouse in full.
async fn gift(
    state: &AppState,
    staff: &Actor,
    c: &CommunityRef,
    (item, unit, n): (&str, &str, i64),
) -> anyhow::Result<i64> {
    let g = NewGoods {
        donor_kind: "person".into(),
        donor_name: "陈志强".into(),
        named: true,
        item: item.into(),
        unit: unit.into(),
        quantity: Some(n),
        value: (n * 45).to_string(),
        stored_at: "社区应急仓库".into(),
        given_on: Some(crate::web::fmt::today()),
        ..NewGoods::default()
    };
    Ok(goods::record(state, staff, c, g).await?.id)
}

async fn school_store(state: &AppState, community_id: i64, shelter: i64) -> anyhow::Result<i64> {
    Ok(query("SELECT id FROM supply_stores WHERE community_id = $1 AND shelter_id = $2")
        .bind(community_id)
        .bind(shelter)
        .scalar(&mut state.db.read().await?)
        .await?)
}

/// A plan 预案 of the community for a kind of incident, with who is on call:
/// (title, tasks), (on call, supplies).
async fn plan(
    state: &AppState,
    (community_id, on_call_user): (i64, i64),
    kind: IncidentKind,
    (title, tasks): (&str, &str),
    (on_call, supplies): (&str, &str),
) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    let now = crate::db::now_ms();
    query(
        "INSERT INTO incident_plans (community_id, id, kind, title, tasks, on_call, supplies, on_call_user_id, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(community_id)
    .bind(id)
    .bind(kind.as_str())
    .bind(title)
    .bind(tasks)
    .bind(on_call)
    .bind(supplies)
    .bind(on_call_user)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
