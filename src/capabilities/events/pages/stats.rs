//! Events' figures 活动统计 for a community or a subdistrict over a year: the totals, each
//! event, station, brand (and community), the months as a chart ("周周有活动，月月有主题"),
//! and the event ledger 活动台账 in Excel, one row per session.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::Datelike;

use super::{community, when};
use crate::auth::guard;
use crate::auth::model::Permission;
use crate::capabilities::events::figures::{self, Figures, Line};
use crate::capabilities::events::store;
use crate::error::{AppError, AppResult};
use crate::web::ui::{Bars, Cell, Form, Input, InputKind, Kpi, Table, Tone};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, fmt, render};

fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{r:.0}%")).unwrap_or_else(|| "—".into())
}

/// The figures as key figures (on the event's page for staff, here, and on the public
/// page, which shows how many came and how they found it, not who stayed away).
pub(super) fn figure_kpis(ctx: &PageCtx, f: &Figures, public: bool) -> Vec<Kpi> {
    let kpi = |label: &str, value: String, tone| Kpi { label: ctx.t(label), value, tone, ..Kpi::default() };
    let mut out = vec![
        kpi("events.sessions", f.sessions.to_string(), Tone::Blue),
        kpi("events.attended", f.attended.to_string(), Tone::Green),
        kpi("events.volunteer_hours", crate::time::hours(f.volunteer_minutes), Tone::Green),
        kpi("events.rating", f.average_rating().map(|r| format!("{r:.1}")).unwrap_or_else(|| "—".into()), Tone::Orange),
    ];
    if !public {
        out.insert(1, kpi("events.signed_up", f.signed_up.to_string(), Tone::Blue));
        out.insert(3, kpi("events.attendance_rate", pct(f.attendance_rate()), Tone::Green));
        out.insert(4, kpi("events.no_show_rate", pct(f.no_show_rate()), Tone::Orange));
        out.insert(5, kpi("events.promoted", f.promoted.to_string(), Tone::Blue));
    }
    out
}

fn table(ctx: &PageCtx, first: &str, rows: Vec<(Cell, &Figures)>) -> Table {
    let mut head = vec![ctx.t(first)];
    head.extend(
        [
            "events.sessions",
            "events.signed_up",
            "events.attended",
            "events.attendance_rate",
            "events.promoted",
            "events.volunteer_hours",
            "events.rating",
        ]
        .iter()
        .map(|k| ctx.t(k)),
    );
    Table {
        head,
        rows: rows
            .into_iter()
            .map(|(name, f)| {
                vec![
                    name,
                    Cell::text(f.sessions.to_string()),
                    Cell::text(f.signed_up.to_string()),
                    Cell::text(f.attended.to_string()),
                    Cell::text(pct(f.attendance_rate())),
                    Cell::text(f.promoted.to_string()),
                    Cell::text(crate::time::hours(f.volunteer_minutes)),
                    Cell::text(f.average_rating().map(|r| format!("{r:.1}")).unwrap_or_default()),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
        sort: Vec::new(),
    }
}

#[derive(Template)]
#[template(path = "events/stats.html")]
pub struct StatsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub filter: Form,
    pub kpis: Vec<Kpi>,
    pub links: Vec<(String, String)>,
    pub months: Bars,
    pub tables: Vec<(String, Table)>,
}

/// The page from the lines of each community (one for a community's page).
pub fn stats_view(
    ctx: PageCtx,
    title: String,
    base: &str,
    year: i32,
    per_community: &[(String, String, Vec<Line>)],
) -> StatsPage {
    let lines: Vec<Line> = per_community.iter().flat_map(|(_, _, l)| l.iter().cloned()).collect();
    let month_of = |l: &Line| Some(fmt::to_cst(l.starts_at).month());
    let months = figures::by(&lines, month_of);
    let bars: Vec<(String, f64)> = (1..=12)
        .map(|m| (ctx.tr("events.month_n", "n", m), months.get(&m).map_or(0.0, |f| f.sessions as f64)))
        .collect();
    let mut tables = Vec::new();
    if per_community.len() > 1 {
        let rows: Vec<(Cell, Figures)> = per_community
            .iter()
            .map(|(name, code, l)| {
                (Cell::link(name.clone(), format!("/c/{code}/events/stats?year={year}")), figures::total(l))
            })
            .collect();
        tables.push((
            ctx.t("events.by_community"),
            table(&ctx, "events.community", rows.iter().map(|(c, f)| (c.clone(), f)).collect()),
        ));
    }
    // Events once each, by their first session (lines come by time), with their community.
    let mut events: BTreeMap<i64, (i64, String, String)> = BTreeMap::new();
    for (_, code, ls) in per_community {
        for l in ls {
            events.entry(l.event_id).or_insert_with(|| (l.starts_at, l.title.clone(), code.clone()));
        }
    }
    let event_totals = figures::by(&lines, |l| Some(l.event_id));
    let mut ordered: Vec<(&i64, &(i64, String, String))> = events.iter().collect();
    ordered.sort_by_key(|(_, (first, ..))| *first);
    let rows = ordered
        .iter()
        .filter_map(|(id, (_, title, code))| {
            event_totals.get(*id).map(|f| (Cell::link(title.clone(), format!("/c/{code}/events/{id}")), f))
        })
        .collect();
    tables.push((ctx.t("events.by_event"), table(&ctx, "events.event", rows)));
    let stations = figures::by(&lines, |l| Some(l.station.clone()));
    tables.push((
        ctx.t("events.by_station"),
        table(&ctx, "events.station", stations.iter().map(|(n, f)| (Cell::text(n.clone()), f)).collect()),
    ));
    let brands = figures::by(&lines, |l| l.brand.clone());
    tables.push((
        ctx.t("events.by_brand"),
        table(&ctx, "events.brand", brands.iter().map(|(n, f)| (Cell::text(n.clone()), f)).collect()),
    ));
    let filter = Form::new("", base.to_string(), ctx.t("events.show"))
        .get()
        .input(Input::new("year", ctx.t("events.year"), InputKind::Number).value(year));
    StatsPage {
        title,
        crumbs: Vec::new(),
        filter,
        kpis: figure_kpis(&ctx, &figures::total(&lines), false),
        links: vec![(format!("{}?year={year}", base.replace("/stats", "/ledger.xlsx")), ctx.t("events.ledger"))],
        months: Bars::new(ctx.t("events.sessions_by_month"), &bars, ""),
        tables,
        ctx,
    }
}

/// `GET /c/{code}/events/stats?year=`: staff's figures of the community.
pub async fn stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<fmt::YearQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    guard::require(&actor, c.id, Permission::ManageEvents)?;
    let (year, from, to) = fmt::year_of(&q)?;
    let lines = store::figure_lines(&mut state.db.read().await?, c.id, store::Lines::Between(from, to)).await?;
    let title = format!("{} · {}", c.name, ctx.t("events.stats"));
    let mut page =
        stats_view(ctx, title, &format!("/c/{code}/events/stats"), year, &[(c.name.clone(), c.code.clone(), lines)]);
    page.crumbs = vec![(format!("/c/{code}/events"), page.ctx.t("events.title"))];
    render(&page)
}

/// `GET /subdistricts/{id}/events/stats?year=`: the subdistrict's figures, community by
/// community.
pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<fmt::YearQuery>,
) -> PageResult {
    let (name, ids) = guard::subdistrict_communities(&state.db, &actor, id).await?;
    let (year, from, to) = fmt::year_of(&q)?;
    let per = lines_of(&state, &ids, from, to).await?;
    let title = format!("{name} · {}", ctx.t("events.stats"));
    render(&stats_view(ctx, title, &format!("/subdistricts/{id}/events/stats"), year, &per))
}

/// Each community's lines (name, code, lines), one community at a time.
async fn lines_of(state: &AppState, ids: &[i64], from: i64, to: i64) -> AppResult<Vec<(String, String, Vec<Line>)>> {
    let mut out = Vec::new();
    for cid in ids {
        let mut conn = state.db.read().await?;
        let Some(c) = guard::community_by_id(&mut conn, *cid).await? else { continue };
        out.push((c.name, c.code, store::figure_lines(&mut conn, *cid, store::Lines::Between(from, to)).await?));
    }
    Ok(out)
}

/// The ledger's rows: one per session.
pub fn ledger_rows(per_community: &[(String, String, Vec<Line>)]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (name, _, lines) in per_community {
        let first: BTreeMap<i64, &Line> = lines.iter().rev().map(|l| (l.session_id, l)).collect();
        for (session, f) in figures::by(lines, |l| Some((l.starts_at, l.session_id))) {
            let Some(l) = first.get(&session.1) else { continue };
            rows.push(vec![
                name.clone(),
                when(l.starts_at),
                l.title.clone(),
                l.brand.clone().unwrap_or_default(),
                l.station.clone(),
                f.signed_up.to_string(),
                f.attended.to_string(),
                f.no_shows.to_string(),
                f.promoted.to_string(),
                crate::time::hours(f.volunteer_minutes),
                f.average_rating().map(|r| format!("{r:.1}")).unwrap_or_default(),
            ]);
        }
    }
    rows
}

const LEDGER_HEAD: [&str; 11] = [
    "社区",
    "时间",
    "活动",
    "品牌",
    "分站",
    "报名人数",
    "到场人数",
    "未到人数",
    "候补转正",
    "志愿服务（小时）",
    "满意度",
];

/// `GET /c/{code}/events/ledger.xlsx?year=`: the community's event ledger 活动台账.
pub async fn ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<fmt::YearQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    guard::require(&actor, c.id, Permission::ManageEvents)?;
    let (_, from, to) = fmt::year_of(&q)?;
    let lines = store::figure_lines(&mut state.db.read().await?, c.id, store::Lines::Between(from, to)).await?;
    ledger_file(&c.name, &[(c.name.clone(), c.code.clone(), lines)])
}

/// `GET /subdistricts/{id}/events/ledger.xlsx?year=`: the subdistrict's, community by community.
pub async fn subdistrict_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<fmt::YearQuery>,
) -> PageResult {
    let (name, ids) = guard::subdistrict_communities(&state.db, &actor, id).await?;
    let (_, from, to) = fmt::year_of(&q)?;
    ledger_file(&name, &lines_of(&state, &ids, from, to).await?)
}

fn ledger_file(place: &str, per_community: &[(String, String, Vec<Line>)]) -> PageResult {
    let rows = ledger_rows(per_community);
    let bytes = crate::services::sheets::xlsx_table("活动台账", &LEDGER_HEAD, &rows).map_err(AppError::from)?;
    Ok(crate::services::sheets::download(place, "活动台账", bytes))
}
