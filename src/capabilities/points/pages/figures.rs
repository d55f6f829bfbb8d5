//! The figures of volunteer service for a community or a subdistrict, and their export
//! to Excel.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{community, type_label};
use crate::auth::model::Actor;
use crate::capabilities::points::stats;
use crate::error::AppResult;
use crate::time::hours;
use crate::web::AppState;
use crate::web::ui::{Bars, Cell, Form, Input, InputKind, Stat, Table};
use crate::web::{PageCtx, PageResult, SignedPage, fmt, render};

// ---------- figures ----------

#[derive(Deserialize)]
pub struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    team_id: Option<i64>,
    grid_id: Option<i64>,
}

fn period_of(q: &StatsQuery) -> (NaiveDate, NaiveDate) {
    let today = fmt::today();
    let parse = |s: &Option<String>| s.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let from = parse(&q.from)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today));
    (from, parse(&q.to).unwrap_or(today).max(from))
}

#[derive(Template)]
#[template(path = "points/stats.html")]
pub struct StatsPage {
    pub ctx: PageCtx,
    pub title: String,
    /// The period asked (a plain GET form).
    pub filter: Form,
    /// "from — to", the figures' card title.
    pub period: String,
    pub figures: Vec<Stat>,
    pub links: Vec<(String, String)>,
    pub by_type: Bars,
    pub teams_chart: Bars,
    pub by_place: Table,
    pub top_teams: Table,
}

/// Hours per row, as bars.
fn hour_bars(rows: &[stats::Row]) -> Bars {
    Bars::new(String::new(), &rows.iter().map(|r| (r.name.clone(), r.minutes as f64 / 60.0)).collect::<Vec<_>>(), "")
}

fn row_table(ctx: &PageCtx, rows: &[stats::Row]) -> Table {
    Table {
        head: vec![String::new(), ctx.t("points.active"), ctx.t("points.records"), ctx.t("points.hours")],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::text(r.name.clone()),
                    Cell::text(r.volunteers.to_string()),
                    Cell::text(r.records.to_string()),
                    Cell::text(hours(r.minutes)),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
        sort: Vec::new(),
    }
}

/// The figures page from the figures read for `scope`; `base` is the page's own path.
fn stats_view(ctx: PageCtx, title: String, base: &str, scope: &stats::Scope, f: &stats::Figures) -> StatsPage {
    let by_type: Vec<stats::Row> =
        f.by_type.iter().map(|r| stats::Row { name: type_label(&ctx, &r.key), ..r.clone() }).collect();
    let query = format!("from={}&to={}", scope.from, scope.to);
    let stat = |label: &str, value: String| Stat { label: ctx.t(label), value, href: None };
    let figures = vec![
        stat("points.volunteers", fmt::thousands(f.volunteers)),
        stat("points.active", fmt::thousands(f.active_volunteers)),
        stat("points.hours", hours(f.minutes)),
        stat("points.records", fmt::thousands(f.records)),
        stat("points.issued", fmt::thousands(f.points_issued)),
        stat("points.redeemed", fmt::thousands(f.points_redeemed)),
        stat("points.deducted", fmt::thousands(f.points_deducted)),
        stat("points.status.pending", fmt::thousands(f.pending)),
    ];
    let filter = Form::new("", base, ctx.t("common.search"))
        .input(Input::new("from", ctx.t("points.period_from"), InputKind::Date).value(scope.from))
        .input(Input::new("to", ctx.t("points.period_to"), InputKind::Date).value(scope.to))
        .get();
    StatsPage {
        title,
        filter,
        period: format!("{} — {}", scope.from, scope.to),
        figures,
        links: vec![(format!("{base}.xlsx?{query}").replace("/stats.xlsx", ".xlsx"), ctx.t("points.export"))],
        by_type: hour_bars(&by_type),
        teams_chart: hour_bars(&f.top_teams),
        by_place: row_table(&ctx, &f.by_place),
        top_teams: row_table(&ctx, &f.top_teams),
        ctx,
    }
}

async fn stats_page(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    scope: stats::Scope,
    title: String,
    base: String,
) -> PageResult {
    let f = stats::figures(&state.db, &actor, &scope).await?;
    render(&stats_view(ctx, title, &base, &scope, &f))
}

pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: vec![c.id], team_id: q.team_id, grid_id: q.grid_id, from, to };
    let title = format!("{} · {}", c.name, ctx.t("points.stats"));
    stats_page(state, ctx, actor, scope, title, format!("/c/{code}/points/stats")).await
}

pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let (name, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: ids, team_id: None, grid_id: None, from, to };
    let title = format!("{name} · {}", ctx.t("points.stats"));
    stats_page(state, ctx, actor, scope, title, format!("/subdistricts/{id}/points/stats")).await
}

async fn export(state: &AppState, actor: &Actor, scope: stats::Scope, name: &str) -> AppResult<Response> {
    let rows = stats::ledger_rows(&state.db, actor, &scope).await?;
    let bytes = crate::services::sheets::xlsx_table(
        "志愿服务台账",
        &["社区", "志愿者编号", "姓名", "网格", "服务次数", "服务时长（小时）", "积分余额"],
        &rows,
    )?;
    Ok(crate::services::sheets::download(name, "志愿服务台账", bytes))
}

pub async fn community_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: vec![c.id], team_id: q.team_id, grid_id: q.grid_id, from, to };
    Ok(export(&state, &actor, scope, &c.name).await?)
}

pub async fn subdistrict_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let (name, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: ids, team_id: None, grid_id: None, from, to };
    Ok(export(&state, &actor, scope, &name).await?)
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    /// The figures from plain data: names stay text, both charts are drawn, and the
    /// export keeps the period asked.
    #[test]
    fn the_figures_draw_from_plain_data() {
        let x = "<script>x</script>";
        let day = |d| NaiveDate::from_ymd_opt(2025, 1, d).unwrap();
        let scope = stats::Scope { community_ids: vec![1], team_id: None, grid_id: None, from: day(1), to: day(31) };
        let row =
            |name: &str| stats::Row { key: "care".into(), name: name.into(), volunteers: 3, records: 4, minutes: 150 };
        let f = stats::Figures {
            volunteers: 12_345,
            by_type: vec![row("")],
            top_teams: vec![row(&format!("{x}队"))],
            by_place: vec![row(&format!("{x}网格"))],
            ..stats::Figures::default()
        };
        let page = stats_view(crate::web::tests::ctx(), "统计".into(), "/c/c1/points/stats", &scope, &f);
        assert_eq!(page.links[0].0, "/c/c1/points.xlsx?from=2025-01-01&to=2025-01-31");
        assert!(page.filter.get, "a plain GET form");
        let html = page.render().unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"), "{html}");
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 2, "by type and by team");
        assert!(html.contains("12,345"));
    }
}
