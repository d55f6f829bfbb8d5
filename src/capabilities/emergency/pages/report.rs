//! The after-action report's page, Excel ledger and PDF (staff).

use axum::extract::{Path, State};

use super::super::report::{self, AfterAction};
use super::{community, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::AppError;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Kpi, Refusal, Table, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, render};

/// Staff enter the hours a volunteer served: a service record like any other.
fn hours_form(ctx: &PageCtx, base: &str, helpers: &[(i64, String)], rf: &Refusal) -> Form {
    let people = helpers.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    Form::new(ctx.t("emergency.record_hours"), format!("{base}/hours"), ctx.t("common.save"))
        .input(Input::new("user_id", ctx.t("emergency.helper"), InputKind::Select(people)).required())
        .input(
            Input::new("hours", ctx.t("emergency.hours"), InputKind::Text)
                .required()
                .hint(ctx.t("emergency.hours_hint")),
        )
        .folded()
        .refused(rf)
}

pub fn report_view(
    ctx: PageCtx,
    c: &CommunityRef,
    r: &AfterAction,
    helpers: &[(i64, String)],
    rf: &Refusal,
) -> BlocksPage {
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
    if !helpers.is_empty() {
        blocks.push(Block::Form(hours_form(&ctx, &base, helpers, rf)));
    }
    let crumbs = vec![(format!("/c/{}/incidents", c.code), ctx.t("emergency.title")), (base, r.incident.title.clone())];
    BlocksPage::new(ctx.clone(), ctx.t("emergency.report"), crumbs, blocks, rf)
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
    show(&state, ctx, &actor, (&code, id), &Refusal::none()).await
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, (code, id): (&str, i64), rf: &Refusal) -> PageResult {
    let (c, r) = read(state, actor, code, id).await?;
    // The registered volunteers, whose hours become service records, for those who keep
    // service records (a subdistrict's administrator reads the report only).
    let helpers: Vec<(i64, String)> = if actor.can(c.id, Permission::ManagePoints) {
        let registered =
            crate::capabilities::points::store::volunteers(&mut state.db.read().await?, actor, c.id, "").await?;
        registered.into_iter().map(|v| (v.user_id, v.name)).collect()
    } else {
        Vec::new()
    };
    render(&report_view(ctx, &c, &r, &helpers, rf))
}

/// `POST /c/{code}/incidents/{id}/hours` `user_id`, `hours`: a helper's hours, once.
pub async fn record_hours(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (user, hours) = (f.id("user_id"), f.number("hours"));
    let result = match (f.checked(), user, hours) {
        (Err(e), ..) => Err(e),
        (Ok(()), None, _) => Err(AppError::field("user_id", "validation.required")),
        (Ok(()), _, None) => Err(AppError::field("hours", "validation.required")),
        (Ok(()), Some(u), Some(h)) => {
            super::super::hours::record(&state, &actor, &c, id, u, (h * 60.0).round() as i64).await.map(|_| ())
        }
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/incidents/{id}/report"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/incidents/{id}/hours");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show(&state, ctx, &actor, (&code, id), &r).await })
                .await
        }
    }
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
    Ok(crate::services::pdf::answer("inline", &format!("{}-应急处置总结.pdf", r.incident.title), bytes))
}
