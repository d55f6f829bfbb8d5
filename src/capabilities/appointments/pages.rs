//! Pages of appointments: booking a slot (for oneself, a resident of one's grid, or a
//! caller), one's own appointments, an appointment with what may be done to it, staff's
//! grid of the day, and a type's hours.

mod day;

use axum::extract::{Path, Query, State};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::store::{self, Appointment, Type, Whom};
use super::{HOURS_OWNER, Status, slots};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::services::hours::view::{self, Edit};
use crate::services::hours::{self, Calendar};
use crate::web::capability::{NavEntry, RecordExtras, Whereabouts};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Form, Input, InputKind, Item, Refusal, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

pub use day::day;

pub fn nav(actor: &Actor, w: &Whereabouts<'_>) -> Vec<NavEntry> {
    let Some(c) = w.community else { return Vec::new() };
    let (href, key) = if actor.can(c.id, Permission::ManageServices) {
        (format!("/c/{}/appointments/day", c.code), "appt.day")
    } else {
        (format!("/c/{}/appointments", c.code), "appt.title")
    };
    if actor.sees_community(c.id) {
        vec![NavEntry { order: 47, href, label_key: key, icon: "clock" }]
    } else {
        Vec::new()
    }
}

/// An appointment type's record page leads to its hours and bookings.
pub fn record_page<'a>(
    _: &'a AppState,
    ctx: &'a PageCtx,
    _: &'a Actor,
    kind: &'a str,
    c: &'a CommunityRef,
    id: i64,
) -> futures::future::BoxFuture<'a, AppResult<RecordExtras>> {
    Box::pin(async move {
        let links = match kind {
            "appointment_type" => {
                vec![(format!("/c/{}/appointments/types/{id}", c.code), ctx.t("appt.hours_and_slots"))]
            }
            _ => Vec::new(),
        };
        Ok(RecordExtras { links, map: None })
    })
}

pub fn status_tag(ctx: &PageCtx, s: Status) -> Tag {
    let tone = match s {
        Status::Booked | Status::Confirmed => Tone::Blue,
        Status::CheckedIn | Status::Done => Tone::Green,
        Status::NoShow => Tone::Orange,
        Status::Cancelled | Status::Rescheduled => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("appt.status.{}", s.as_str())), tone)
}

pub fn line(ctx: &PageCtx, code: &str, a: &Appointment) -> Item {
    let mut sub = vec![fmt::datetime(a.starts_at), a.desk.clone(), a.name.clone()];
    if a.proxy {
        sub.push(ctx.tr("appt.booked_by", "name", &a.booked_by_name));
    }
    Item {
        title: a.type_name.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/c/{code}/appointments/{}", a.id)),
        tag: Some(status_tag(ctx, a.status)),
    }
}

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

/// `GET /c/{code}/appointments`: the types to book and one's own appointments.
pub async fn mine(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let types = store::types(&mut conn, c.id).await?;
    let mine = store::of_user(&mut conn, c.id, actor.user_id).await?;
    drop(conn);
    let type_items = types
        .iter()
        .map(|t| {
            Item::link(
                t.name.clone(),
                format!("{} · {}", t.desk, ctx.t(&format!("choice.appointment_type.kind.{}", t.kind))),
                format!("/c/{code}/appointments/types/{}", t.id),
            )
        })
        .collect();
    let blocks = vec![
        Block::List(ctx.t("appt.types"), type_items, ctx.t("appt.no_types")),
        Block::List(ctx.t("appt.mine"), mine.iter().map(|a| line(&ctx, &code, a)).collect(), ctx.t("appt.none_mine")),
    ];
    let title = ctx.t("appt.title");
    render(&BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none()))
}

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    pub day: Option<String>,
}

/// The day asked for (today when none), named when it is not a date.
pub fn day_of(q: &DayQuery) -> AppResult<NaiveDate> {
    match q.day.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(fmt::today()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| AppError::field("day", "validation.date")),
    }
}

pub struct BookData {
    pub t: Type,
    pub day: NaiveDate,
    /// (start ms, label, seats left)
    pub slots: Vec<(i64, String, i64)>,
    pub residents: Vec<(i64, String, String)>,
    pub staff: bool,
    pub hours: hours::Hours,
}

fn book_form(ctx: &PageCtx, code: &str, d: &BookData, r: &Refusal) -> Form {
    let options: Vec<(String, String)> = d
        .slots
        .iter()
        .filter(|s| s.2 > 0)
        .map(|(start, label, left)| {
            (fmt::local_input(*start), format!("{label}（{}）", ctx.tr("appt.left", "n", left)))
        })
        .collect();
    let mut f = Form::new(ctx.t("appt.book"), format!("/c/{code}/appointments/types/{}", d.t.id), ctx.t("appt.book"))
        .input(Input::new("starts_at", ctx.t("appt.slot"), InputKind::Select(options)).required())
        .confirm(ctx.t("appt.book_confirm"));
    if !d.residents.is_empty() && (d.t.proxy_allowed || d.staff) {
        let mut whom = vec![(String::new(), ctx.t("appt.for_me"))];
        whom.extend(d.residents.iter().map(|(id, name, address)| (id.to_string(), format!("{name} · {address}"))));
        f = f.input(Input::new("for", ctx.t("appt.for"), InputKind::Select(whom)));
    }
    if d.staff {
        f = f
            .input(Input::new("name", ctx.t("appt.caller_name"), InputKind::Text).hint(ctx.t("appt.caller_hint")))
            .input(Input::new("phone", ctx.t("appt.caller_phone"), InputKind::Tel));
    }
    if d.slots.iter().all(|s| s.2 == 0) {
        f = f.unavailable(ctx.t("appt.no_slots"));
    }
    f.refused(r)
}

pub fn book_view(ctx: PageCtx, c: &CommunityRef, d: &BookData, calendar: &Calendar, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let t = &d.t;
    let cells = vec![
        (ctx.t("field.appointment_type.desk"), t.desk.clone()),
        (ctx.t("field.appointment_type.kind"), ctx.t(&format!("choice.appointment_type.kind.{}", t.kind))),
        (ctx.t("field.appointment_type.duration_minutes"), ctx.tr("appt.minutes", "n", t.duration_minutes)),
        (ctx.t("field.appointment_type.documents"), t.documents.clone().unwrap_or_default()),
        (ctx.t("directory.hours"), view::hours_text(&ctx, &d.hours)),
    ];
    let days: Vec<(String, String)> = (0..7)
        .map(|i| d.day + Duration::days(i))
        .map(|day| (format!("/c/{code}/appointments/types/{}?day={day}", t.id), day.format("%m-%d").to_string()))
        .collect();
    let mut blocks = vec![
        Block::Card(t.name.clone(), None, cells, Some(ctx.tr("appt.notice", "n", t.min_notice_hours)), days),
        Block::Form(book_form(&ctx, code, d, r)),
    ];
    if d.staff {
        blocks.push(Block::Table(
            ctx.t("directory.week_ahead"),
            view::week_table(&ctx, &d.hours, calendar, fmt::today()),
        ));
        blocks.extend(
            view::hours_forms(&ctx, &format!("/c/{code}/appointments/types/{}", t.id), r).into_iter().map(Block::Form),
        );
    }
    let crumbs = vec![(format!("/c/{code}/appointments"), ctx.t("appt.title"))];
    let title = format!("{} · {}", t.name, d.day);
    BlocksPage::new(ctx, title, crumbs, blocks, r)
}

/// A type's slots of a day with their seats left (those within the notice left out), and
/// whom the actor may book for: what the booking page and the API show.
pub async fn book_data(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    day: NaiveDate,
) -> AppResult<(BookData, std::sync::Arc<Calendar>)> {
    let mut conn = state.db.read().await?;
    let t = store::type_of(&mut conn, c.id, id).await?;
    let hours = store::hours_of(&mut conn, c.id, Some(&[id])).await?.remove(&id).unwrap_or_default();
    let from = crate::time::day_start_ms(day);
    let taken = store::taken(&mut conn, c.id, id, from, from + crate::time::DAY_MS).await?;
    let residents = store::residents_for(&mut conn, actor, c.id).await?;
    drop(conn);
    let calendar = state.holidays.calendar(&state.db).await?;
    let now = crate::db::now_ms();
    let slots = slots(&hours, &calendar, day, &t.terms())
        .into_iter()
        .map(|(a, b)| (store::slot_start(day, a), format!("{}–{}", hours::show_time(a), hours::show_time(b))))
        .filter(|(start, _)| *start - now >= t.min_notice_hours * crate::time::HOUR_MS)
        .map(|(start, label)| {
            let used = taken.iter().find(|x| x.0 == start).map_or(0, |x| x.1);
            (start, label, t.seats - used)
        })
        .collect();
    let staff = actor.can(c.id, Permission::ManageServices);
    Ok((BookData { t, day, slots, residents, staff, hours }, calendar))
}

async fn show_book(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    day: NaiveDate,
    r: &Refusal,
) -> PageResult {
    let (d, calendar) = book_data(state, actor, c, id, day).await?;
    render(&book_view(ctx, c, &d, &calendar, r))
}

/// `GET /c/{code}/appointments/types/{id}?day=`: a type's free slots of a day, to book.
pub async fn book_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<DayQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_book(&state, ctx, &actor, &c, id, day_of(&q)?, &Refusal::none()).await
}

/// Whom the form books for: a caller named by staff, a resident picked, or oneself.
/// What a booking form or body asks: `starts_at` (China time), and `for` (a resident's
/// account) or `name` and `phone` (a caller), else oneself.
pub fn booking_of(m: &Map<String, Value>) -> AppResult<(i64, Whom)> {
    let mut f = Fields::new(m);
    let starts_at = f.when("starts_at");
    f.checked()?;
    let at = starts_at.ok_or_else(|| AppError::field("starts_at", "validation.required"))?;
    Ok((at, whom_of(m)?))
}

fn whom_of(m: &Map<String, Value>) -> AppResult<Whom> {
    let mut f = Fields::new(m);
    let resident = f.id("for");
    f.checked()?;
    Ok(Whom::of(f.opt("name"), Some(f.text("phone")), resident))
}

/// `POST /c/{code}/appointments/types/{id}` `starts_at`, and `for` or `name`+`phone`.
pub async fn book(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match booking_of(&m) {
        Ok((at, whom)) => store::book(&state, &actor, &c, id, at, whom).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => Ok(done(&format!("/c/{code}/appointments/{a}"), Notice::Saved)),
        Err(e) => {
            let day = Fields::new(&m).when("starts_at").map_or_else(fmt::today, crate::time::day_of);
            let action = format!("/c/{code}/appointments/types/{id}");
            ui::refused(
                e,
                ctx,
                &m,
                &action,
                |ctx, r| async move { show_book(&state, ctx, &actor, &c, id, day, &r).await },
            )
            .await
        }
    }
}

/// One of the hours forms of a type, for staff.
async fn edit_hours(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    code: String,
    id: i64,
    m: Map<String, Value>,
    edit: Edit,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        require(&actor, c.id, Permission::ManageServices)?;
        store::type_of(&mut state.db.read().await?, c.id, id).await?;
        hours::store::change(&state, &actor, c.id, (HOURS_OWNER, id), edit.read(&m)?).await
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/appointments/types/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/appointments/types/{id}/{}", edit.path());
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                show_book(&state, ctx, &actor, &c, id, fmt::today(), &r).await
            })
            .await
        }
    }
}

/// `POST /c/{code}/appointments/types/{id}/hours`: staff add a weekly rule.
pub async fn add_rule(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Rule).await
}

/// `POST /c/{code}/appointments/types/{id}/exceptions`: staff add a day's exception.
pub async fn add_exception(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Exception).await
}

/// `POST /c/{code}/appointments/types/{id}/hours/clear`: staff clear the hours.
pub async fn clear_hours(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Clear).await
}

pub use day::{appointment, cancel, record_result, reschedule, set_status};
