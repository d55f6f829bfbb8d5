//! The dashboard's pages: the league table of a subdistrict's communities or of a
//! community's grids, the twelve months' trend of one figure, and what stands behind a
//! figure. Views take plain data; handlers read it.

use axum::extract::{Path, Query, State};

use super::store;
use super::{Ask, Asked, Place, in_area, rank, tones};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::capabilities::registry::places::map::{self, Shape};
use crate::error::{AppError, AppResult};
use crate::web::dictionary::{self, Behind, FigureDef, Period, Values, Within, heading, name};
use crate::web::ui::{
    Bars, Block, BlocksPage, Cell, Form, Input, InputKind, Item, Kpi, MapView, Refusal, Table, sort_heads,
};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, render};

/// What a page of figures shows: whose, where it is, and how a click goes down.
pub struct Scope<'a> {
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    /// `/subdistricts/{id}/dashboard` or `/c/{code}/dashboard`.
    pub base: String,
    /// Whether the places are communities, urban or rural.
    pub areas: bool,
    /// Where a click on a place's figure leads.
    pub down: &'a dyn Fn(&Place, &FigureDef) -> Option<String>,
}

fn filter(ctx: &PageCtx, s: &Scope<'_>, a: &Asked, figures: &[&FigureDef], action: &str) -> Form {
    let areas = super::Area::TEXTS.iter().map(|v| (v.to_string(), ctx.t(&format!("dashboard.area.{v}")))).collect();
    let orders = super::Order::TEXTS.iter().map(|v| (v.to_string(), ctx.t(&format!("dashboard.order.{v}")))).collect();
    let mut form = Form::new("", action.to_string(), ctx.t("dashboard.show"))
        .get()
        .input(
            Input::new("month", ctx.t("dashboard.month"), InputKind::Text)
                .value(&a.period.month)
                .hint(ctx.t("dashboard.month_hint")),
        )
        .input(
            Input::new(
                "figure",
                ctx.t("dashboard.figure"),
                InputKind::Select(figures.iter().map(|f| (f.code.to_string(), name(ctx, f))).collect()),
            )
            .value(a.figure.code),
        );
    if s.areas {
        form = form.input(Input::new("area", ctx.t("dashboard.area"), InputKind::Select(areas)).value(a.area));
    }
    form.input(Input::new("order", ctx.t("dashboard.order"), InputKind::Select(orders)).value(a.order))
}

/// The league table: every figure of each place, ranked by the one asked, the total
/// last; its chart and map; the totals; the report's files and the trend.
pub fn league_view(
    ctx: PageCtx,
    s: &Scope<'_>,
    a: &Asked,
    (figures, places, total): (&[&FigureDef], &[Place], &Values),
    shaded: MapView,
) -> BlocksPage {
    let f = a.figure;
    let month = &a.period.month;
    let links = vec![
        (format!("{}.xlsx?month={month}", s.base), ctx.t("dashboard.download_xlsx")),
        (format!("{}.pdf?month={month}", s.base), ctx.t("dashboard.download_pdf")),
        (format!("{}/trend{}", s.base, a.query_with(f.code)), ctx.t("dashboard.trend")),
        (format!("{}/reports", s.base), ctx.t("dashboard.archive")),
    ];
    let kpis =
        figures.iter().map(|g| dictionary::kpi(&ctx, g, total.get(g.code).copied().unwrap_or_default())).collect();
    let bars: Vec<(String, f64)> = places.iter().filter_map(|p| p.value(f).map(|v| (p.name.clone(), v))).collect();
    let mut keys = vec![None];
    keys.extend(figures.iter().map(|g| Some(g.code)));
    let sort = sort_heads(&keys, f.code, &[f.code], |code| format!("{}{}", s.base, a.query_with(code)));
    let mut head = vec![ctx.t(if s.areas { "dashboard.community" } else { "dashboard.grid" })];
    head.extend(figures.iter().map(|g| heading(&ctx, g)));
    let row = |label: Cell, p: Option<&Place>, values: &Values| {
        let mut cells = vec![label];
        for g in figures {
            let shown = g.show(values.get(g.code).copied().unwrap_or_default());
            cells.push(match p.and_then(|p| (s.down)(p, g)) {
                Some(href) => Cell::link(shown, href),
                None => Cell::text(shown),
            });
        }
        cells
    };
    let mut rows: Vec<Vec<Cell>> = places
        .iter()
        .map(|p| {
            let label = match &p.href {
                Some(h) => Cell::link(p.name.clone(), format!("{h}?month={month}&figure={}", f.code)),
                None => Cell::text(p.name.clone()),
            };
            row(label, Some(p), &p.values)
        })
        .collect();
    rows.push(row(Cell::text(ctx.t("dashboard.total")), None, total));
    let mut blocks = vec![
        Block::Form(filter(&ctx, s, a, figures, &s.base)),
        Block::Card(format!("{} · {month}", s.title), None, Vec::new(), Some(ctx.t("dashboard.hint")), links),
        Block::Kpis(kpis),
        Block::Chart(Bars::new(heading(&ctx, f), &bars, "")),
        Block::Table(ctx.t("dashboard.league"), Table { head, rows, empty: ctx.t("dashboard.none"), sort }),
    ];
    if !shaded.shapes.is_empty() {
        blocks.insert(4, Block::Map(shaded));
    }
    BlocksPage::new(
        ctx.clone(),
        format!("{} · {}", s.title, ctx.t("dashboard.title")),
        s.crumbs.clone(),
        blocks,
        &Refusal::none(),
    )
}

/// One figure over twelve months: a column a month, a row a place, the total's chart.
pub fn trend_view(
    ctx: PageCtx,
    s: &Scope<'_>,
    a: &Asked,
    figures: &[&FigureDef],
    months: &[Period],
    rows: &[(String, Vec<Values>)],
    total: &[Values],
) -> BlocksPage {
    let f = a.figure;
    let shown = |v: &Values| f.show(v.get(f.code).copied().unwrap_or_default());
    let mut head = vec![ctx.t(if s.areas { "dashboard.community" } else { "dashboard.grid" })];
    head.extend(months.iter().map(|m| m.month.clone()));
    let mut table: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(place, per)| {
            std::iter::once(Cell::text(place.clone())).chain(per.iter().map(|v| Cell::text(shown(v)))).collect()
        })
        .collect();
    table.push(
        std::iter::once(Cell::text(ctx.t("dashboard.total")))
            .chain(total.iter().map(|v| Cell::text(shown(v))))
            .collect(),
    );
    let bars: Vec<(String, f64)> = months
        .iter()
        .zip(total)
        .filter_map(|(m, v)| f.value(v.get(f.code).copied().unwrap_or_default()).map(|x| (m.month.clone(), x)))
        .collect();
    let blocks = vec![
        Block::Form(filter(&ctx, s, a, figures, &format!("{}/trend", s.base))),
        Block::Chart(Bars::new(format!("{} · {}", heading(&ctx, f), ctx.t("dashboard.by_month")), &bars, "")),
        Block::Table(
            ctx.t("dashboard.trend"),
            Table { head, rows: table, empty: ctx.t("dashboard.none"), sort: Vec::new() },
        ),
    ];
    let mut crumbs = s.crumbs.clone();
    crumbs.push((format!("{}{}", s.base, a.query_with(f.code)), ctx.t("dashboard.title")));
    BlocksPage::new(
        ctx.clone(),
        format!("{} · {}", s.title, ctx.t("dashboard.trend")),
        crumbs,
        blocks,
        &Refusal::none(),
    )
}

/// What stands behind one figure of a community or a grid.
pub fn behind_view(
    ctx: PageCtx,
    title: String,
    crumbs: Vec<(String, String)>,
    shown: Kpi,
    items: &[Behind],
) -> BlocksPage {
    let items = items.iter().map(|b| Item::link(b.title.clone(), b.detail.clone(), b.href.clone())).collect();
    let blocks =
        vec![Block::Kpis(vec![shown]), Block::List(ctx.t("dashboard.behind"), items, ctx.t("dashboard.behind_none"))];
    BlocksPage::new(ctx, title, crumbs, blocks, &Refusal::none())
}

fn figures(state: &AppState) -> Vec<&'static FigureDef> {
    dictionary::all(state).into_iter().map(|(_, f)| f).collect()
}

/// `GET /subdistricts/{id}/dashboard`: its administrators.
pub async fn subdistrict(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<Ask>,
) -> PageResult {
    let (name, cs) = guard::subdistrict_community_refs(&state.db, &actor, id).await?;
    let a = Asked::read(&state, &q)?;
    let cs: Vec<_> = cs.into_iter().filter(|c| in_area(c, a.area)).collect();
    let mut places = store::communities(&state, &cs, &a.period).await?;
    let total = dictionary::total(&state, places.iter().map(|p| &p.values));
    rank(&mut places, a.figure, a.order);
    let map = subdistrict_map(&state, &ctx, &cs, &a, &places).await?;
    let month = a.period.month.clone();
    let down = move |p: &Place, f: &FigureDef| p.href.as_ref().map(|h| format!("{h}?month={month}&figure={}", f.code));
    let s = Scope {
        title: name,
        crumbs: Vec::new(),
        base: format!("/subdistricts/{id}/dashboard"),
        areas: true,
        down: &down,
    };
    render(&league_view(ctx, &s, &a, (&figures(&state), &places, &total), map))
}

/// `GET /c/{code}/dashboard`: its staff (a grid worker: their grids); a subdistrict's
/// administrators come down to it from their own.
pub async fn community(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<Ask>,
) -> PageResult {
    let (c, access) = store::community(&state, &actor, &code).await?;
    let a = Asked::read(&state, &q)?;
    let (mut places, total) = store::grids(&state, &c, &access, &a.period).await?;
    rank(&mut places, a.figure, a.order);
    let map = community_map(&state, &ctx, &c, &a, &places).await?;
    let month = a.period.month.clone();
    let at = c.code.clone();
    let down = move |p: &Place, f: &FigureDef| {
        Some(format!("/c/{at}/dashboard/figures/{}?month={month}&grid={}", f.code, p.id))
    };
    let crumbs = up(&ctx, &actor, &c, &a);
    let s = Scope { title: c.name.clone(), crumbs, base: format!("/c/{code}/dashboard"), areas: false, down: &down };
    render(&league_view(ctx, &s, &a, (&figures(&state), &places, &total), map))
}

fn map_title(ctx: &PageCtx, a: &Asked) -> String {
    format!("{} · {}", heading(ctx, a.figure), ctx.t("dashboard.map_hint"))
}

/// The community's grids shaded by the figure asked, each leading to what is behind it.
async fn community_map(
    state: &AppState,
    ctx: &PageCtx,
    c: &CommunityRef,
    a: &Asked,
    places: &[Place],
) -> AppResult<MapView> {
    let shades = tones(places, a.figure);
    let shapes: Vec<Shape> = map::grid_shapes(&state.db, c.id, None)
        .await?
        .into_iter()
        .filter(|g| places.iter().any(|p| p.id == g.id))
        .map(|g| Shape {
            href: format!("/c/{}/dashboard/figures/{}?month={}&grid={}", c.code, a.figure.code, a.period.month, g.id),
            tone: shades.get(&g.id).copied(),
            ..g
        })
        .collect();
    Ok(map::draw(&map_title(ctx, a), &shapes, &[]))
}

/// The subdistrict's communities, each one shape of its grids, shaded by the figure asked.
async fn subdistrict_map(
    state: &AppState,
    ctx: &PageCtx,
    cs: &[CommunityRef],
    a: &Asked,
    places: &[Place],
) -> AppResult<MapView> {
    let shades = tones(places, a.figure);
    let mut shapes = Vec::new();
    for c in cs {
        let rings: Vec<Vec<(f64, f64)>> =
            map::grid_shapes(&state.db, c.id, None).await?.into_iter().flat_map(|g| g.rings).collect();
        if !rings.is_empty() {
            shapes.push(Shape {
                id: c.id,
                title: c.name.clone(),
                href: format!("/c/{}/dashboard?month={}&figure={}", c.code, a.period.month, a.figure.code),
                rings,
                highlight: false,
                tone: shades.get(&c.id).copied(),
            });
        }
    }
    Ok(map::draw(&map_title(ctx, a), &shapes, &[]))
}

/// The way back up to the subdistrict's league, for one who administers it.
fn up(ctx: &PageCtx, actor: &Actor, c: &CommunityRef, a: &Asked) -> Vec<(String, String)> {
    if actor.manages_subdistrict(c.subdistrict_id) {
        let href = format!("/subdistricts/{}/dashboard{}", c.subdistrict_id, a.query_with(a.figure.code));
        vec![(href, ctx.t("dashboard.subdistrict"))]
    } else {
        Vec::new()
    }
}

/// Twelve months of one figure, place by place (communities counted one figure at a time,
/// several at once as the dashboard counts them).
async fn trend_rows(
    state: &AppState,
    a: &Asked,
    places: &[CommunityRef],
) -> Result<(Vec<Period>, Vec<(String, Vec<Values>)>, Vec<Values>), AppError> {
    let months = a.period.year_to();
    let (figure, months_ref) = (a.figure, &months);
    let rows = store::each(places, |c| async move {
        let mut per = Vec::new();
        for m in months_ref {
            per.push(dictionary::community_of(state, &c, m, figure).await?);
        }
        Ok((c.name, per))
    })
    .await?;
    let total = (0..months.len()).map(|i| dictionary::total(state, rows.iter().map(|(_, per)| &per[i]))).collect();
    Ok((months, rows, total))
}

/// `GET /subdistricts/{id}/dashboard/trend`.
pub async fn subdistrict_trend(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<Ask>,
) -> PageResult {
    let (name, cs) = guard::subdistrict_community_refs(&state.db, &actor, id).await?;
    let a = Asked::read(&state, &q)?;
    let places: Vec<CommunityRef> = cs.into_iter().filter(|c| in_area(c, a.area)).collect();
    let (months, rows, total) = trend_rows(&state, &a, &places).await?;
    let none = |_: &Place, _: &FigureDef| None;
    let s = Scope {
        title: name,
        crumbs: Vec::new(),
        base: format!("/subdistricts/{id}/dashboard"),
        areas: true,
        down: &none,
    };
    render(&trend_view(ctx, &s, &a, &figures(&state), &months, &rows, &total))
}

/// `GET /c/{code}/dashboard/trend`: the community's own twelve months.
pub async fn community_trend(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<Ask>,
) -> PageResult {
    let c = store::whole_community(&state, &actor, &code).await?;
    let a = Asked::read(&state, &q)?;
    let (months, rows, total) = trend_rows(&state, &a, std::slice::from_ref(&c)).await?;
    let none = |_: &Place, _: &FigureDef| None;
    let s = Scope {
        title: c.name.clone(),
        crumbs: up(&ctx, &actor, &c, &a),
        base: format!("/c/{code}/dashboard"),
        areas: false,
        down: &none,
    };
    render(&trend_view(ctx, &s, &a, &figures(&state), &months, &rows, &total))
}

/// `GET /c/{code}/dashboard/figures/{figure}?month=&grid=`: the tickets, records or
/// pledges behind a figure, of the community or of one grid.
pub async fn behind(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, figure)): Path<(String, String)>,
    Query(q): Query<Ask>,
) -> PageResult {
    let (c, access) = store::community(&state, &actor, &code).await?;
    let a = Asked::read(&state, &Ask { figure: Some(figure), ..q })?;
    let within = match a.grid {
        Some(g) if access.all || access.grids.contains(&g) => Within::Grid(g),
        None if access.all => Within::Community,
        _ => return Err(AppError::NotFound.into()),
    };
    let (f, source) = dictionary::find(&state, a.figure.code).ok_or(AppError::NotFound)?;
    let by_grid = dictionary::by_grid_of(&state, &c, &a.period, f).await?;
    let (place, values) = match within {
        Within::Grid(g) => {
            let grid_name = store::grid_name(&state, &c, g).await?;
            (grid_name, by_grid.get(&g).cloned().unwrap_or_default())
        }
        Within::Community => (c.name.clone(), dictionary::total(&state, by_grid.values())),
    };
    let items = (source.behind)(&state, &c, f.code, &a.period, within).await?;
    let shown = Kpi {
        label: format!("{place} · {}", a.period.label(ctx.lang)),
        ..dictionary::kpi(&ctx, f, values.get(f.code).copied().unwrap_or_default())
    };
    let crumbs = vec![(format!("/c/{code}/dashboard{}", a.query_with(f.code)), ctx.t("dashboard.title"))];
    let title = format!("{} · {}", c.name, name(&ctx, f));
    render(&behind_view(ctx, title, crumbs, shown, &items))
}
