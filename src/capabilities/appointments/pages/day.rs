//! Staff's grid of a day (each type's slots with who is coming, and the reminders that
//! could not be delivered), and an appointment's page with what may be done to it.

use axum::extract::{Path, Query, State};
use serde_json::{Map, Value};

use super::super::store::{self, Appointment};
use super::super::{Status, next_status, slots};
use super::{DayQuery, community, day_of, line, status_tag};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::error::AppResult;
use crate::services::hours;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Item, Refusal, Table};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// `GET /c/{code}/appointments/day?day=`: staff's grid of the day.
pub async fn day(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    require(&actor, c.id, Permission::ManageServices)?;
    let day = day_of(&q)?;
    let mut conn = state.db.read().await?;
    let types = store::types(&mut conn, c.id).await?;
    let all_hours = store::hours_of(&mut conn, c.id, None).await?;
    let booked = store::of_day(&mut conn, c.id, day).await?;
    drop(conn);
    let calendar = state.holidays.calendar(&state.db).await?;
    let mut blocks = vec![Block::Card(
        ctx.tr("appt.day_of", "day", day),
        None,
        Vec::new(),
        None,
        vec![
            (format!("/c/{code}/appointments/day?day={}", day.pred_opt().unwrap_or(day)), ctx.t("appt.prev_day")),
            (format!("/c/{code}/appointments/day?day={}", day.succ_opt().unwrap_or(day)), ctx.t("appt.next_day")),
            (format!("/c/{code}/appointment-types"), ctx.t("appt.types")),
            (format!("/c/{code}/appointments/stats"), ctx.t("appt.stats")),
        ],
    )];
    for t in &types {
        let h = all_hours.get(&t.id).cloned().unwrap_or_default();
        let rows: Vec<Vec<Cell>> = slots(&h, &calendar, day, &t.terms())
            .into_iter()
            .map(|(a, b)| {
                let start = store::slot_start(day, a);
                let here: Vec<&Appointment> =
                    booked.iter().filter(|x| x.type_id == t.id && x.starts_at == start).collect();
                let holding = here.iter().filter(|x| x.status.holds_seat()).count();
                let who: Vec<String> = here
                    .iter()
                    .map(|x| {
                        let status = ctx.t(&format!("appt.status.{}", x.status.as_str()));
                        let proxy = if x.proxy { format!("·{}", ctx.t("appt.proxy_short")) } else { String::new() };
                        format!("{}（{status}{proxy}）", x.name)
                    })
                    .collect();
                let first = here.first().map(|x| format!("/c/{code}/appointments/{}", x.id));
                let label = format!("{}–{}", hours::show_time(a), hours::show_time(b));
                vec![
                    match first {
                        Some(href) => Cell::link(label, href),
                        None => Cell::text(label),
                    },
                    Cell::text(format!("{holding}/{}", t.seats)),
                    Cell::text(who.join("、")),
                ]
            })
            .collect();
        let table = Table {
            head: vec![ctx.t("appt.slot"), ctx.t("appt.seats"), ctx.t("appt.who")],
            rows,
            empty: ctx.t("appt.closed_day"),
            sort: Vec::new(),
        };
        blocks.push(Block::Table(format!("{} · {}", t.name, t.desk), table));
    }
    let failed: Vec<Item> = booked
        .iter()
        .filter(|a| a.remind_failed_at.is_some() && a.status.ahead())
        .map(|a| line(&ctx, &code, a))
        .collect();
    blocks.push(Block::List(ctx.t("appt.remind_failed"), failed, ctx.t("appt.none_failed")));
    let title = ctx.t("appt.day");
    render(&BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none()))
}

fn forms(ctx: &PageCtx, code: &str, a: &Appointment, staff: bool, r: &Refusal) -> Vec<Form> {
    let base = format!("/c/{code}/appointments/{}", a.id);
    let mut out = Vec::new();
    if staff {
        for to in [Status::Confirmed, Status::CheckedIn, Status::Done, Status::NoShow] {
            if next_status(a.status, to).is_ok() {
                let f = Form::new("", format!("{base}/status"), ctx.t(&format!("appt.to.{}", to.as_str())))
                    .input(Input::hidden("status", to.as_str()));
                out.push(f);
            }
        }
    }
    if a.status.ahead() {
        out.push(
            Form::new(ctx.t("appt.reschedule"), format!("{base}/reschedule"), ctx.t("appt.reschedule"))
                .input(Input::new("starts_at", ctx.t("appt.new_time"), InputKind::DateTime).required())
                .folded()
                .refused(r),
        );
        out.push(
            Form::new(ctx.t("appt.cancel"), format!("{base}/cancel"), ctx.t("appt.cancel"))
                .input(Input::new("reason", ctx.t("appt.reason"), InputKind::Text).required())
                .danger(ctx.t("appt.cancel_confirm"))
                .folded()
                .refused(r),
        );
    }
    if staff && a.kind == "proxy" {
        out.push(
            Form::new(ctx.t("appt.result"), format!("{base}/result"), ctx.t("appt.result"))
                .input(
                    Input::new("result", ctx.t("appt.result_done"), InputKind::TextArea)
                        .required()
                        .value(a.result.clone().unwrap_or_default()),
                )
                .input(
                    Input::new("documents", ctx.t("appt.documents_handled"), InputKind::Text)
                        .value(a.documents.clone().unwrap_or_default()),
                )
                .input(
                    Input::new("ticket_category_id", ctx.t("appt.to_ticket"), InputKind::Number)
                        .hint(ctx.t("appt.to_ticket_hint")),
                )
                .folded()
                .refused(r),
        );
    }
    out
}

pub fn appointment_view(ctx: PageCtx, c: &CommunityRef, a: &Appointment, staff: bool, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let mut cells = vec![
        (
            ctx.t("appt.when"),
            format!("{} – {}", fmt::datetime(a.starts_at), fmt::datetime(a.ends_at).split(' ').nth(1).unwrap_or("")),
        ),
        (ctx.t("field.appointment_type.desk"), a.desk.clone()),
        (ctx.t("appt.for"), a.name.clone()),
        (
            ctx.t("appt.booked_by_label"),
            if a.proxy {
                format!("{}（{}）", a.booked_by_name, ctx.t("appt.proxy"))
            } else {
                a.booked_by_name.clone()
            },
        ),
    ];
    if let Some(p) = &a.phone_masked {
        cells.push((ctx.t("appt.caller_phone"), p.clone()));
    }
    if let Some(reason) = &a.reason {
        cells.push((ctx.t("appt.reason"), reason.clone()));
    }
    let reminders = [
        a.reminded_day_at.map(|_| ctx.t("appt.reminded_day")),
        a.reminded_hours_at.map(|_| ctx.t("appt.reminded_hours")),
        a.remind_failed_at.map(|_| ctx.t("appt.remind_failed")),
    ];
    let reminders: Vec<String> = reminders.into_iter().flatten().collect();
    if !reminders.is_empty() {
        cells.push((ctx.t("appt.reminders"), reminders.join("、")));
    }
    if let Some(res) = &a.result {
        cells.push((ctx.t("appt.result"), res.clone()));
    }
    let mut links = Vec::new();
    if let Some(to) = a.rescheduled_to {
        links.push((format!("/c/{code}/appointments/{to}"), ctx.t("appt.moved_to")));
    }
    if let Some(t) = a.ticket_id {
        links.push((format!("/c/{code}/tickets/{t}"), ctx.t("appt.ticket")));
    }
    let mut blocks = vec![Block::Card(a.type_name.clone(), Some(status_tag(&ctx, a.status)), cells, None, links)];
    blocks.extend(forms(&ctx, code, a, staff, r).into_iter().map(Block::Form));
    let crumbs = vec![(
        if staff {
            format!("/c/{code}/appointments/day?day={}", crate::time::day_of(a.starts_at))
        } else {
            format!("/c/{code}/appointments")
        },
        ctx.t("appt.title"),
    )];
    BlocksPage::new(ctx, a.type_name.clone(), crumbs, blocks, r)
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let a = store::for_actor(&mut state.db.read().await?, actor, c.id, id).await?;
    render(&appointment_view(ctx, c, &a, actor.can(c.id, Permission::ManageServices), r))
}

/// `GET /c/{code}/appointments/{id}`: staff, whoever booked it, whom it is for.
pub async fn appointment(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    id: i64,
    what: &str,
    m: &Map<String, Value>,
    result: AppResult<i64>,
) -> PageResult {
    match result {
        Ok(to) => Ok(done(&format!("/c/{}/appointments/{to}", c.code), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{}/appointments/{id}/{what}", c.code);
            ui::refused(e, ctx, m, &action, |ctx, r| async move { show(state, ctx, &actor, &c, id, &r).await }).await
        }
    }
}

/// `POST /c/{code}/appointments/{id}/status` `status`: staff move it on.
pub async fn set_status(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let to = m.get("status").and_then(Value::as_str).and_then(Status::parse);
    let result = match to {
        Some(s) => store::set_status(&state, &actor, &c, id, s).await.map(|_| id),
        None => Err(crate::error::AppError::field("status", "validation.choice")),
    };
    after(&state, ctx, actor, c, id, "status", &m, result).await
}

/// `POST /c/{code}/appointments/{id}/cancel` `reason`.
pub async fn cancel(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let reason = m.get("reason").and_then(Value::as_str).unwrap_or_default().to_string();
    let result = store::cancel(&state, &actor, &c, id, &reason).await.map(|_| id);
    after(&state, ctx, actor, c, id, "cancel", &m, result).await
}

/// `POST /c/{code}/appointments/{id}/reschedule` `starts_at`: the new booking's page.
pub async fn reschedule(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let at = f.when("starts_at");
    let result = match (f.checked(), at) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(crate::error::AppError::field("starts_at", "validation.required")),
        (Ok(()), Some(at)) => store::reschedule(&state, &actor, &c, id, at).await,
    };
    after(&state, ctx, actor, c, id, "reschedule", &m, result).await
}

/// `POST /c/{code}/appointments/{id}/result` `result`, `documents`, `ticket_category_id`.
pub async fn record_result(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let category = f.id("ticket_category_id");
    let result = match f.checked() {
        Err(e) => Err(e),
        Ok(()) => store::record_result(&state, &actor, &c, id, &f.text("result"), &f.text("documents"), category)
            .await
            .map(|_| id),
    };
    after(&state, ctx, actor, c, id, "result", &m, result).await
}
