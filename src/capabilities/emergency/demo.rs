//! Demo emergencies: 海盛社区 during typhoon 麦德姆 (seed 000) — activated over its grids,
//! the first tier checked first by the grid worker, some households needing help —, a past
//! mosquito-control campaign 消杀 closed; 回龙社区's flood checks prepared (seed 001).

use super::store::{self, NewIncident, Source};
use super::{CheckChange, CheckStatus, IncidentKind, IncidentStatus, Level, Need};
use crate::auth::guard::community_by_id;
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
    // Last summer's campaign, over the whole community, done and closed.
    let campaign = NewIncident {
        kind: IncidentKind::Campaign,
        level: Level::Own,
        title: "登革热防控灭蚊消杀专项行动".into(),
        grids: Vec::new(),
        commander_id: Some(staff.user_id),
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
    };
    let id = store::create(state, &staff, &c, typhoon).await?;
    store::set_status(state, &staff, &c, id, IncidentStatus::Activated, Some("台风橙色预警，全员到岗")).await?;
    let access = grid.access(hs, crate::auth::model::Permission::CheckWelfare);
    let mine = store::checks(&mut state.db.read().await?, hs, id, Some(&access.grids)).await?;
    for (i, w) in mine.iter().take(12).enumerate() {
        let (status, needs) = match i % 6 {
            1 => (CheckStatus::NeedsHelp, vec![Need::Medicine]),
            3 => (CheckStatus::Sheltered, vec![Need::Food]),
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
        };
        store::create(state, &staff2, &c, flood).await?;
    }
    Ok(())
}
