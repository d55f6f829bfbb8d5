//! The after-action report's page, Excel ledger and PDF (staff).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

use super::super::report::{self, AfterAction};
use super::{community, staff};
use crate::auth::guard::CommunityRef;
use crate::error::AppError;
use crate::web::ui::{Block, BlocksPage, Cell, Kpi, Refusal, Table, Tone};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, render};

pub fn report_view(ctx: PageCtx, c: &CommunityRef, r: &AfterAction) -> BlocksPage {
    let base = format!("/c/{}/incidents/{}", c.code, r.incident.id);
    let links = vec![
        (format!("{base}/report.xlsx"), ctx.t("emergency.report_xlsx")),
        (format!("{base}/report.pdf"), ctx.t("emergency.report_pdf")),
    ];
    let grids: Vec<String> = r.grids.iter().map(|g| g.1.clone()).collect();
    let cells = vec![(ctx.t("emergency.grids"), grids.join("、"))];
    let kpi = |label: &str, value: i64, tone: Tone| Kpi {
        label: ctx.t(label),
        value: value.to_string(),
        tone,
        ..Kpi::default()
    };
    let mut blocks = vec![
        Block::Card(r.incident.title.clone(), None, cells, Some(report::summary(r)), links),
        Block::Kpis(vec![
            kpi("emergency.households", r.tally.total, Tone::Blue),
            kpi("emergency.checked", r.tally.checked(), Tone::Green),
            kpi("emergency.tier_one_unreached", r.tally.tier_one_unreached, Tone::Red),
            kpi("emergency.people_moved", r.moved.1, Tone::Orange),
        ]),
    ];
    let t = |k: &str| ctx.t(k);
    for (title, head, rows) in report::tables(r, &t) {
        let rows = rows.into_iter().map(|row| row.into_iter().map(Cell::text).collect()).collect();
        blocks.push(Block::Table(title, Table { head, rows, empty: ctx.t("emergency.none_yet"), sort: Vec::new() }));
    }
    let crumbs = vec![(format!("/c/{}/incidents", c.code), ctx.t("emergency.title")), (base, r.incident.title.clone())];
    BlocksPage::new(ctx.clone(), ctx.t("emergency.report"), crumbs, blocks, &Refusal::none())
}

async fn read(
    state: &AppState,
    actor: &crate::auth::model::Actor,
    code: &str,
    id: i64,
) -> Result<(CommunityRef, AfterAction), AppError> {
    let c = community(state, actor, code).await?;
    if !staff(actor, &c) {
        return Err(AppError::Forbidden);
    }
    let r = report::read(&mut state.db.read().await?, c.id, id).await?;
    Ok((c, r))
}

/// `GET /c/{code}/incidents/{id}/report`: staff.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let (c, r) = read(&state, &actor, &code, id).await?;
    render(&report_view(ctx, &c, &r))
}

/// `GET /c/{code}/incidents/{id}/report.xlsx`: the ledger, one sheet per table.
pub async fn xlsx(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let (c, r) = read(&state, &actor, &code, id).await?;
    let t = |k: &str| ctx.t(k);
    let tables = report::tables(&r, &t);
    let heads: Vec<Vec<&str>> = tables.iter().map(|(_, h, _)| h.iter().map(String::as_str).collect()).collect();
    let sheets: Vec<(&str, &[&str], &[Vec<String>])> = tables
        .iter()
        .zip(&heads)
        .map(|((title, _, rows), head)| (title.as_str(), head.as_slice(), rows.as_slice()))
        .collect();
    let bytes = crate::services::sheets::xlsx_book(&sheets).map_err(AppError::Internal)?;
    Ok(crate::services::sheets::download(&c.name, &format!("{}-应急处置总结", r.incident.title), bytes))
}

/// `GET /c/{code}/incidents/{id}/report.pdf`: the report in Chinese.
pub async fn pdf(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let (c, r) = read(&state, &actor, &code, id).await?;
    let t = |k: &str| ctx.t(k);
    let bytes = report::pdf(&c.name, &r, &t)?;
    let name = crate::services::sheets::disposition("inline", &format!("{}-应急处置总结.pdf", r.incident.title));
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, name)], bytes)
        .into_response())
}
