//! The public honor roll 光荣榜: who gave most, by hours or points, per period and
//! place, with the community's commendations.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::auth::guard::CommunityRef;
use crate::capabilities::points::Period;
use crate::capabilities::points::store::{self, Commendation, RankBy, Ranked};
use crate::error::AppResult;
use crate::time::hours;
use crate::web::AppState;
use crate::web::ui::{Bars, Cell, Item, Tab, Table, Tag, Tone};
use crate::web::{Page, PageCtx, PageResult, fmt, render};

// ---------- the honor roll (public) ----------

#[derive(Deserialize)]
pub struct HonorQuery {
    by: Option<String>,
    period: Option<String>,
    grid: Option<i64>,
    level: Option<String>,
}

/// What the board is asked for: ranked by what, over which period, and where (the
/// community, one of its grids, or the whole subdistrict).
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub by: RankBy,
    pub period: Period,
    pub grid: Option<i64>,
    pub subdistrict: bool,
}

impl Ask {
    fn of(q: &HonorQuery) -> Ask {
        let subdistrict = q.level.as_deref() == Some("subdistrict");
        Ask {
            by: if q.by.as_deref() == Some("points") { RankBy::Points } else { RankBy::Hours },
            period: q.period.as_deref().and_then(Period::parse).unwrap_or(Period::Month),
            grid: q.grid.filter(|_| !subdistrict),
            subdistrict,
        }
    }

    fn by_str(self) -> &'static str {
        if self.by == RankBy::Points { "points" } else { "hours" }
    }
}

/// What the board shows, as read.
pub struct HonorData {
    pub grids: Vec<(i64, String)>,
    pub subdistrict_name: String,
    pub ranked: Vec<Ranked>,
    pub commended: Vec<Commendation>,
}

#[derive(Template)]
#[template(path = "points/honor.html")]
pub struct HonorPage {
    pub ctx: PageCtx,
    pub title: String,
    pub places: Vec<Tab>,
    pub measures: Vec<Tab>,
    pub periods: Vec<Tab>,
    pub heading: String,
    /// The first ten, drawn as bars (none when nobody is ranked).
    pub chart: Option<Bars>,
    pub ranking: Table,
    pub commended: Vec<Item>,
}

async fn load_honor(state: &AppState, c: &CommunityRef, ask: Ask) -> AppResult<HonorData> {
    let mut conn = state.db.read().await?;
    let ids: Vec<i64> = if ask.subdistrict {
        crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL")
            .bind(c.subdistrict_id)
            .scalars(&mut conn)
            .await?
    } else {
        vec![c.id]
    };
    let ranked = store::honor_roll(&mut conn, &ids, ask.grid, ask.by, ask.period, 30).await?;
    let commended = store::commendations(&mut conn, &[c.id], 30).await?;
    let grids = crate::capabilities::registry::places::grid_names(&mut conn, c.id).await?;
    let subdistrict_name: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(c.subdistrict_id)
        .scalar(&mut conn)
        .await?;
    Ok(HonorData { grids, subdistrict_name, ranked, commended })
}

/// The three rows of tabs: where, by what, over which period.
fn honor_tabs(ctx: &PageCtx, c: &CommunityRef, ask: Ask, d: &HonorData) -> [Vec<Tab>; 3] {
    let base = format!("/p/{}/honor", c.code);
    let link = |by: &str, period: &str, grid: Option<i64>, level: &str| {
        let mut s = format!("{base}?by={by}&period={period}");
        if let Some(g) = grid {
            s.push_str(&format!("&grid={g}"));
        }
        if !level.is_empty() {
            s.push_str(&format!("&level={level}"));
        }
        s
    };
    let tab = |href: String, label: String, on: bool| Tab { href, label, on };
    let (by, period) = (ask.by_str(), ask.period.as_str());
    let level = if ask.subdistrict { "subdistrict" } else { "" };
    let mut places = vec![tab(link(by, period, None, ""), c.name.clone(), !ask.subdistrict && ask.grid.is_none())];
    places.extend(d.grids.iter().map(|(id, n)| tab(link(by, period, Some(*id), ""), n.clone(), ask.grid == Some(*id))));
    places.push(tab(link(by, period, None, "subdistrict"), d.subdistrict_name.clone(), ask.subdistrict));
    let measures = vec![
        tab(link("hours", period, ask.grid, level), ctx.t("points.by_hours"), ask.by == RankBy::Hours),
        tab(link("points", period, ask.grid, level), ctx.t("points.by_points"), ask.by == RankBy::Points),
    ];
    let periods = [Period::Month, Period::Year, Period::All]
        .iter()
        .map(|p| {
            let label = ctx.t(&format!("points.period.{}", p.as_str()));
            tab(link(by, p.as_str(), ask.grid, level), label, *p == ask.period)
        })
        .collect();
    [places, measures, periods]
}

/// The board from what was read.
fn honor_view(ctx: PageCtx, c: &CommunityRef, ask: Ask, d: &HonorData) -> HonorPage {
    let by_hours = ask.by == RankBy::Hours;
    let [places, measures, periods] = honor_tabs(&ctx, c, ask, d);
    let chart_data: Vec<(String, f64)> = d
        .ranked
        .iter()
        .take(10)
        .map(|r| (r.name.clone(), if by_hours { r.value as f64 / 60.0 } else { r.value as f64 }))
        .collect();
    let unit = if by_hours { ctx.t("points.hours") } else { ctx.t("points.points") };
    let ranking = Table {
        head: vec![ctx.t("points.rank"), ctx.t("points.volunteer"), ctx.t("entity.grid"), unit],
        rows: d
            .ranked
            .iter()
            .map(|r| {
                vec![
                    Cell::text(r.rank.to_string()),
                    Cell::text(r.name.clone()),
                    Cell::text(r.grid.clone().unwrap_or_default()),
                    Cell::text(if by_hours { hours(r.value) } else { fmt::thousands(r.value) }),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
        sort: Vec::new(),
    };
    let commended = d
        .commended
        .iter()
        .map(|m| Item {
            title: format!("{} · {}", m.honoree_name, m.title),
            sub: format!("{} · {}", m.awarded_on, m.issuer),
            href: None,
            tag: Some(Tag::new(
                ctx.t(&format!("choice.commendation.honoree_kind.{}", m.honoree_kind.as_str())),
                Tone::Orange,
            )),
        })
        .collect();
    let place = if ask.subdistrict { d.subdistrict_name.clone() } else { c.name.clone() };
    HonorPage {
        title: ctx.t("points.honor_roll"),
        places,
        measures,
        periods,
        heading: format!("{place} · {}", ctx.t("points.honor_roll")),
        chart: (!chart_data.is_empty()).then(|| Bars::new(String::new(), &chart_data, "")),
        ranking,
        commended,
        ctx,
    }
}

pub async fn honor(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    Query(q): Query<HonorQuery>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let ask = Ask::of(&q);
    let d = load_honor(&state, &c, ask).await?;
    render(&honor_view(ctx, &c, ask, &d))
}

/// The public board's honours 光荣榜: the latest commendations, and this year's volunteers
/// who served most (named as they agreed).
pub fn board<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    c: &'a CommunityRef,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::board::BoardPart>>> {
    use crate::web::board::{BoardLine, BoardPart, BoardSection};
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let commended = store::commendations(&mut conn, &[c.id], 10).await?;
        let stars = store::honor_roll(&mut conn, &[c.id], None, RankBy::Hours, Period::Year, 5).await?;
        let more = Some((format!("/p/{}/honor", c.code), ctx.t("points.board_more")));
        let mut out = Vec::new();
        if !commended.is_empty() {
            let lines = commended
                .iter()
                .map(|m| BoardLine {
                    title: format!("{} · {}", m.honoree_name, m.title),
                    detail: format!("{} {}", m.issuer, m.awarded_on),
                    href: None,
                })
                .collect();
            out.push(BoardPart {
                section: BoardSection::Honours,
                title: ctx.t("points.board_commended"),
                lines,
                more: None,
            });
        }
        if !stars.is_empty() {
            let lines =
                stars.iter().map(|r| BoardLine { title: r.name.clone(), detail: hours(r.value), href: None }).collect();
            out.push(BoardPart { section: BoardSection::Honours, title: ctx.t("points.board_stars"), lines, more });
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;
    use crate::capabilities::points::HonoreeKind;

    /// The board from plain data: names stay text, the first ten are drawn as bars, and
    /// the tabs keep what was asked.
    #[test]
    fn the_board_ranks_and_draws_from_plain_data() {
        let x = "<script>x</script>";
        let c =
            CommunityRef { id: 1, code: "c1".into(), name: "海晏".into(), subdistrict_id: 1, kind: String::new() };
        let d = HonorData {
            grids: vec![(4, format!("{x}网格"))],
            subdistrict_name: "街道".into(),
            ranked: vec![Ranked { rank: 1, name: format!("{x}郑"), number: "V1".into(), grid: None, value: 600 }],
            commended: vec![Commendation {
                id: 1,
                honoree_kind: HonoreeKind::Team,
                honoree_name: format!("{x}服务队"),
                title: "优秀".into(),
                awarded_on: chrono::NaiveDate::from_ymd_opt(2025, 3, 5).unwrap(),
                issuer: "社区".into(),
            }],
        };
        let ask = Ask { by: RankBy::Hours, period: Period::All, grid: Some(4), subdistrict: false };
        let page = honor_view(crate::web::tests::ctx(), &c, ask, &d);
        assert!(page.places[1].on && !page.places[0].on, "the grid asked is on");
        let html = page.render().unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"), "{html}");
        assert!(html.contains("<svg class=\"chart\""), "the first ten as bars");
        assert!(html.contains("/p/c1/honor?by=points") && html.contains("grid=4"), "{html}");
    }
}
