//! The plans on the command page: each plan's card (who is on call), its supplies weighed
//! against the stock, and the incident's tasks the plans set going, with the form staff
//! mark one done by.

use axum::extract::{Path, State};

use super::super::Readiness;
use super::super::plans::{self, Plan, Task};
use super::community;
use crate::error::AppError;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, Cell, Form, Input, InputKind, Item, Refusal, Table, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt};

fn plan_card(ctx: &PageCtx, code: &str, p: &Plan) -> Block {
    let on_call = [p.on_call_name.clone(), p.on_call.clone()].into_iter().flatten().collect::<Vec<_>>().join("；");
    let cells = [
        (ctx.t("field.incident_plan.tasks"), p.tasks().join("、")),
        (ctx.t("field.incident_plan.on_call"), on_call),
        (ctx.t("field.incident_plan.supplies"), p.supplies.clone().unwrap_or_default()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let links = vec![(format!("/c/{code}/incident-plans/{}", p.id), ctx.t("emergency.open_plan"))];
    Block::Card(ctx.tr("emergency.plan_n", "title", &p.title), None, cells, None, links)
}

fn readiness_table(ctx: &PageCtx, p: &Plan, ready: &[Readiness]) -> Block {
    let head = ["emergency.item", "emergency.wanted", "emergency.in_stock", "emergency.ready"];
    let rows = ready
        .iter()
        .map(|r| {
            let state = match r.short() {
                0 => ctx.t("emergency.enough"),
                n => ctx.tr("emergency.short_n", "n", format!("{n}{}", r.unit)),
            };
            vec![
                Cell::text(r.item.clone()),
                Cell::text(r.wanted.to_string()),
                Cell::text(format!("{}{}", r.have, r.unit)),
                Cell::text(state),
            ]
        })
        .collect();
    let table = Table { head: head.iter().map(|k| ctx.t(k)).collect(), rows, empty: String::new(), sort: Vec::new() };
    Block::Table(ctx.tr("emergency.readiness_n", "title", &p.title), table)
}

fn task_item(ctx: &PageCtx, t: &Task) -> Item {
    let (sub, tag) = match (&t.done_by, t.done_at) {
        (Some(who), Some(at)) => {
            (format!("{who} · {}", fmt::datetime(at)), Tag::new(ctx.t("emergency.task_done"), Tone::Green))
        }
        _ => (String::new(), Tag::new(ctx.t("emergency.task_open"), Tone::Orange)),
    };
    Item { title: t.title.clone(), sub, href: None, tag: Some(tag) }
}

/// The plans' blocks of the command page: before activation the plans as written; after,
/// the incident's tasks with the form to mark one done.
pub fn blocks(
    ctx: &PageCtx,
    code: &str,
    incident_id: i64,
    (plans, tasks): (&[(Plan, Vec<Readiness>)], &[Task]),
    r: &Refusal,
) -> Vec<Block> {
    let mut out = Vec::new();
    for (p, ready) in plans {
        out.push(plan_card(ctx, code, p));
        if !ready.is_empty() {
            out.push(readiness_table(ctx, p, ready));
        }
    }
    if !tasks.is_empty() {
        let items = tasks.iter().map(|t| task_item(ctx, t)).collect();
        out.push(Block::List(ctx.t("emergency.tasks"), items, String::new()));
        let open: Vec<(String, String)> =
            tasks.iter().filter(|t| t.done_at.is_none()).map(|t| (t.id.to_string(), t.title.clone())).collect();
        if !open.is_empty() {
            let action = format!("/c/{code}/incidents/{incident_id}/tasks");
            let f = Form::new(ctx.t("emergency.mark_task"), action, ctx.t("emergency.task_done"))
                .input(Input::new("task", ctx.t("emergency.task"), InputKind::Select(open)).required())
                .refused(r);
            out.push(Block::Form(f));
        }
    }
    out
}

/// `POST /c/{code}/incidents/{id}/tasks`: staff mark one of the incident's tasks done.
pub async fn done_task(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let task = f.id("task");
    let result = match (f.checked(), task) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::field("task", "validation.required")),
        (Ok(()), Some(t)) => plans::done(&state, &actor, &c, id, t).await,
    };
    let action = format!("/c/{code}/incidents/{id}/tasks");
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/incidents/{id}"), Notice::Saved)),
        Err(e) => {
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { super::show_command(&state, ctx, &c, id, &r).await })
                .await
        }
    }
}
