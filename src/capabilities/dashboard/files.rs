//! The month's report 月度报告 as files: Excel (the total, a sheet per community with its
//! grids, the dictionary's definitions on a sheet of their own) and PDF in Chinese (the
//! totals, a chart per key figure, the tables, the definitions). Both are the dashboard's
//! table: the same places, the same `FigureDef::show`.

use axum::extract::{Path, Query, State};

use super::{Ask, Asked, Place, store};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Access, Actor};
use crate::error::{AppError, AppResult};
use crate::i18n::{self, Lang};
use crate::web::dictionary::{self, FigureDef, Period, Unit, Values, heading, name, unit};
use crate::web::{AppState, PageCtx, PageResult, SignedPage};

/// The figures a report draws as charts, place by place.
pub const CHARTED: &[&str] = &["completion_rate", "satisfaction_rate", "overdue_tickets", "service_hours_per_1000"];

/// A month's report of some communities: the dictionary, each community's grids and
/// total, and the sum of them all.
pub struct MonthReport {
    pub title: String,
    pub period: Period,
    pub figures: Vec<(&'static str, &'static FigureDef)>,
    pub communities: Vec<(CommunityRef, Vec<Place>, Values)>,
    pub total: Values,
}

impl MonthReport {
    /// The communities as places, each with its total (the subdistrict's league).
    pub fn places(&self) -> Vec<Place> {
        self.communities
            .iter()
            .map(|(c, _, v)| Place {
                id: c.id,
                name: c.name.clone(),
                href: None,
                area: super::Area::parse(&c.kind),
                values: v.clone(),
            })
            .collect()
    }
}

pub async fn read(state: &AppState, title: String, cs: &[CommunityRef], a: &Asked) -> AppResult<MonthReport> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let everyone = &Access::all();
    let communities: Vec<(CommunityRef, Vec<Place>, Values)> = stream::iter(cs.iter().cloned())
        .map(|c: CommunityRef| async move {
            let (grids, total) = store::grids(state, &c, everyone, &a.period).await?;
            Ok::<_, AppError>((c, grids, total))
        })
        .buffered(store::AT_ONCE)
        .try_collect()
        .await?;
    let total = dictionary::total(state, communities.iter().map(|(_, _, v)| v));
    Ok(MonthReport { title, period: a.period.clone(), figures: dictionary::all(state), communities, total })
}

fn shown(f: &FigureDef, v: &Values) -> String {
    f.show(v.get(f.code).copied().unwrap_or_default())
}

/// Rows of places under `first` (their name), a figure a column, the total last.
fn table(ctx: &PageCtx, r: &MonthReport, places: &[Place], total: &Values) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = places
        .iter()
        .map(|p| std::iter::once(p.name.clone()).chain(r.figures.iter().map(|(_, f)| shown(f, &p.values))).collect())
        .collect();
    rows.push(
        std::iter::once(ctx.t("dashboard.total")).chain(r.figures.iter().map(|(_, f)| shown(f, total))).collect(),
    );
    rows
}

/// The dictionary as a sheet: code, names in Chinese and English, definition, unit, source.
fn definitions(ctx: &PageCtx, r: &MonthReport) -> Vec<Vec<String>> {
    r.figures
        .iter()
        .map(|(source, f)| {
            let key = format!("figure.name.{}", f.code);
            vec![
                f.code.to_string(),
                i18n::t(Lang::Zh, &key),
                i18n::t(Lang::En, &key),
                ctx.t(&format!("figure.definition.{}", f.code)),
                if f.unit == Unit::Count { ctx.t("figure.count") } else { unit(ctx, f.unit) },
                ctx.t(&format!("figure.source.{}", source)),
            ]
        })
        .collect()
}

/// The workbook: the total (communities, or the one community's grids), a sheet per
/// community of several, the definitions.
pub fn xlsx(ctx: &PageCtx, r: &MonthReport) -> anyhow::Result<Vec<u8>> {
    let several = r.communities.len() != 1;
    let mut head = vec![ctx.t(if several { "dashboard.community" } else { "dashboard.grid" })];
    head.extend(r.figures.iter().map(|(_, f)| heading(ctx, f)));
    let grid_head: Vec<String> =
        std::iter::once(ctx.t("dashboard.grid")).chain(r.figures.iter().map(|(_, f)| heading(ctx, f))).collect();
    let summary = match r.communities.as_slice() {
        [(_, grids, total)] => table(ctx, r, grids, total),
        _ => table(ctx, r, &r.places(), &r.total),
    };
    let mut sheets: Vec<(String, Vec<String>, Vec<Vec<String>>)> = vec![(ctx.t("dashboard.total"), head, summary)];
    if several {
        for (c, grids, total) in &r.communities {
            sheets.push((sheet_name(&c.name), grid_head.clone(), table(ctx, r, grids, total)));
        }
    }
    let def_head =
        ["figure.code", "figure.name", "figure.english", "figure.definition", "figure.unit", "figure.source"]
            .iter()
            .map(|k| ctx.t(k))
            .collect();
    sheets.push((ctx.t("figure.dictionary"), def_head, definitions(ctx, r)));
    let heads: Vec<Vec<&str>> = sheets.iter().map(|(_, h, _)| h.iter().map(String::as_str).collect()).collect();
    let book: Vec<(&str, &[&str], &[Vec<String>])> =
        sheets.iter().zip(&heads).map(|((n, _, rows), h)| (n.as_str(), h.as_slice(), rows.as_slice())).collect();
    crate::services::sheets::xlsx_book(&book)
}

/// A sheet's name: at most 31 characters, none of those Excel refuses.
fn sheet_name(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\')).take(31).collect()
}

/// The PDF's bytes.
pub fn pdf(ctx: &PageCtx, r: &MonthReport) -> AppResult<Vec<u8>> {
    let (title, doc) = laid_out(ctx, r);
    doc.finish(title)
}

/// The PDF laid out, with its title: totals, a chart per charted figure, the tables
/// five figures at a time, the definitions.
pub fn laid_out(ctx: &PageCtx, r: &MonthReport) -> (String, crate::services::pdf::Report) {
    let mut doc = crate::services::pdf::Report::new();
    let title = i18n::tr(
        ctx.lang,
        "dashboard.report_title",
        &[("place", r.title.clone()), ("month", r.period.label(ctx.lang))],
    );
    doc.title(&title);
    doc.paragraph(&ctx.t("dashboard.report_hint"));
    doc.heading(&ctx.t("dashboard.totals"));
    let totals: Vec<Vec<String>> =
        r.figures.iter().map(|(_, f)| vec![name(ctx, f), shown(f, &r.total), unit(ctx, f.unit)]).collect();
    doc.table(&[0.0, 0.55, 0.8], &[ctx.t("figure.name"), ctx.t("dashboard.value"), ctx.t("figure.unit")], &totals);
    let (places, total, first) = match r.communities.as_slice() {
        [(_, grids, total)] => (grids.clone(), total.clone(), ctx.t("dashboard.grid")),
        _ => (r.places(), r.total.clone(), ctx.t("dashboard.community")),
    };
    for (_, f) in r.figures.iter().filter(|(_, f)| CHARTED.contains(&f.code)) {
        doc.heading(&heading(ctx, f));
        let mut bars: Vec<(String, f64, String)> =
            places.iter().filter_map(|p| p.value(f).map(|v| (p.name.clone(), v, shown(f, &p.values)))).collect();
        bars.sort_by(|a, b| b.1.total_cmp(&a.1));
        doc.bars(&bars);
    }
    let rows = table(ctx, r, &places, &total);
    for (i, chunk) in r.figures.chunks(5).enumerate() {
        doc.heading(&format!("{} {}", ctx.t("dashboard.league"), i + 1));
        let mut head = vec![first.clone()];
        head.extend(chunk.iter().map(|(_, f)| heading(ctx, f)));
        let cols: Vec<f32> = std::iter::once(0.0).chain((0..chunk.len()).map(|j| 0.25 + j as f32 * 0.15)).collect();
        let part: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                std::iter::once(row[0].clone()).chain(row[1 + i * 5..].iter().take(chunk.len()).cloned()).collect()
            })
            .collect();
        doc.table(&cols, &head, &part);
    }
    doc.heading(&ctx.t("figure.dictionary"));
    for d in definitions(ctx, r) {
        doc.paragraph(&format!("{}（{}）：{}", d[1], d[0], d[3]));
    }
    (title, doc)
}

async fn subdistrict_report(state: &AppState, actor: &Actor, id: i64, q: &Ask) -> AppResult<MonthReport> {
    let (name, cs) = guard::subdistrict_community_refs(&state.db, actor, id).await?;
    let a = Asked::read(state, q)?;
    let cs: Vec<CommunityRef> = cs.into_iter().filter(|c| super::in_area(c, a.area)).collect();
    read(state, name, &cs, &a).await
}

async fn community_report(state: &AppState, actor: &Actor, code: &str, q: &Ask) -> AppResult<MonthReport> {
    let c = store::whole_community(state, actor, code).await?;
    let a = Asked::read(state, q)?;
    read(state, c.name.clone(), std::slice::from_ref(&c), &a).await
}

fn xlsx_answer(ctx: &PageCtx, r: &MonthReport) -> PageResult {
    let bytes = xlsx(ctx, r).map_err(AppError::from)?;
    Ok(crate::services::sheets::download(&r.title, &format!("{}-{}", ctx.t("dashboard.report"), r.period.month), bytes))
}

fn pdf_answer(ctx: &PageCtx, r: &MonthReport) -> PageResult {
    let bytes = pdf(ctx, r)?;
    let file = format!("{}-{}-{}.pdf", r.title, ctx.t("dashboard.report"), r.period.month);
    Ok(crate::services::pdf::answer("attachment", &file, bytes))
}

/// `GET /subdistricts/{id}/dashboard.xlsx?month=`.
pub async fn subdistrict_xlsx(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<Ask>,
) -> PageResult {
    xlsx_answer(&ctx, &subdistrict_report(&state, &actor, id, &q).await?)
}

/// `GET /subdistricts/{id}/dashboard.pdf?month=`.
pub async fn subdistrict_pdf(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<Ask>,
) -> PageResult {
    pdf_answer(&ctx, &subdistrict_report(&state, &actor, id, &q).await?)
}

/// `GET /c/{code}/dashboard.xlsx?month=`: the community's staff.
pub async fn community_xlsx(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<Ask>,
) -> PageResult {
    xlsx_answer(&ctx, &community_report(&state, &actor, &code, &q).await?)
}

/// `GET /c/{code}/dashboard.pdf?month=`.
pub async fn community_pdf(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<Ask>,
) -> PageResult {
    pdf_answer(&ctx, &community_report(&state, &actor, &code, &q).await?)
}
