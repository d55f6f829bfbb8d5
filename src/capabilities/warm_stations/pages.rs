//! Pages of warm stations: staff's page of a station (its state, roster, hours and
//! visits), the phone page of those on duty (`duty`), and the public pages (`public`).

pub mod duty;
mod public;

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::store::{self, Place, Shift, Station, Visits};
use super::{LiveState, ShiftPlan, VisitorKind, coverage, open_spans, state_now};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::services::hours::view::{self, Edit};
use crate::services::hours::{self, Calendar, Hours};
use crate::web::capability::{NavEntry, RecordExtras, Whereabouts};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Bars, Block, BlocksPage, Cell, Form, Input, InputKind, Kpi, Refusal, Table, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

pub use duty::{check_in, check_out, count_visit, duty, leave, set_state, take};
pub use public::{public_community, public_subdistrict};

pub fn nav(actor: &Actor, w: &Whereabouts<'_>) -> Vec<NavEntry> {
    let Some(c) = w.community else { return Vec::new() };
    let mut out = Vec::new();
    if actor.can(c.id, Permission::ManageServices) {
        out.push(NavEntry {
            order: 46,
            href: format!("/c/{}/warm-stations", c.code),
            label_key: "warm.title",
            icon: "home",
        });
    } else if super::may_serve(actor, c.id) {
        out.push(NavEntry { order: 46, href: format!("/c/{}/duty", c.code), label_key: "warm.duty", icon: "clock" });
    }
    out
}

/// A warm station's record page leads to its roster, hours and visits.
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
            "warm_station" => vec![(format!("/c/{}/roster/{id}", c.code), ctx.t("warm.roster_hours_visits"))],
            _ => Vec::new(),
        };
        Ok(RecordExtras { links, map: None })
    })
}

/// A state as a tag.
pub fn state_tag(ctx: &PageCtx, s: LiveState) -> Tag {
    let tone = match s {
        LiveState::Open => Tone::Green,
        LiveState::Full => Tone::Orange,
        LiveState::Closed => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("warm.state.{}", s.as_str())), tone)
}

pub fn amenities_text(ctx: &PageCtx, s: &Station) -> String {
    s.amenities().iter().map(|a| ctx.t(&format!("choice.warm_station.amenities.{a}"))).collect::<Vec<_>>().join("、")
}

/// A shift as a line: when, and how many of how many.
pub fn shift_line(s: &Shift) -> String {
    let end = fmt::datetime(s.ends_at);
    format!("{} – {} · {}/{}", fmt::datetime(s.starts_at), end.split(' ').nth(1).unwrap_or(&end), s.taken, s.needed)
}

pub struct StationData {
    pub station: Station,
    pub hours: Hours,
    pub shifts: Vec<Shift>,
    pub places: Vec<Place>,
    pub visits: Visits,
    /// (open, covered) minutes of the week ahead.
    pub coverage: (i64, i64),
    pub open_now: bool,
}

fn roster_table(ctx: &PageCtx, d: &StationData) -> Table {
    let rows = d
        .shifts
        .iter()
        .map(|s| {
            let who: Vec<String> = d
                .places
                .iter()
                .filter(|p| p.shift_id == s.id)
                .map(|p| match (p.checked_in_at, p.checked_out_at) {
                    (Some(_), None) => format!("{}（{}）", p.name, ctx.t("warm.on_duty")),
                    _ => p.name.clone(),
                })
                .collect();
            let short = (s.taken < s.needed).then(|| ctx.tr("warm.short", "n", s.needed - s.taken));
            vec![Cell::text(shift_line(s)), Cell::text(who.join("、")), Cell::text(short.unwrap_or_default())]
        })
        .collect();
    Table {
        head: vec![ctx.t("warm.shift"), ctx.t("warm.who"), ctx.t("warm.still_needed")],
        rows,
        empty: ctx.t("warm.no_shifts"),
        sort: Vec::new(),
    }
}

fn visits_blocks(ctx: &PageCtx, v: &Visits) -> Vec<Block> {
    let mut head = vec![ctx.t("hours.day")];
    head.extend(VisitorKind::ALL.iter().map(|k| ctx.t(&format!("warm.visitor.{}", k.as_str()))));
    let rows = v
        .by_day
        .iter()
        .map(|(day, counts)| {
            let mut row = vec![Cell::text(day.to_string())];
            row.extend(counts.iter().map(|n| Cell::text(n.to_string())));
            row
        })
        .collect();
    let table = Table { head, rows, empty: ctx.t("warm.no_visits"), sort: Vec::new() };
    let hours: Vec<(String, f64)> =
        v.by_hour.iter().enumerate().filter(|(_, n)| **n > 0).map(|(h, n)| (format!("{h:02}:00"), *n as f64)).collect();
    let mut out = vec![Block::Table(ctx.t("warm.visits_by_day"), table)];
    if !hours.is_empty() {
        out.push(Block::Chart(Bars::new(ctx.t("warm.visits_by_hour"), &hours, "")));
    }
    out
}

fn shifts_form(ctx: &PageCtx, code: &str, id: i64, r: &Refusal) -> Form {
    Form::new(ctx.t("warm.add_shifts"), format!("/c/{code}/roster/{id}/shifts"), ctx.t("warm.add_shifts"))
        .input(Input::new("starts_at", ctx.t("warm.starts_at"), InputKind::DateTime).required())
        .input(Input::new("ends_at", ctx.t("warm.ends_at"), InputKind::DateTime).required())
        .input(Input::new("needed", ctx.t("warm.needed"), InputKind::Number).required().value("1"))
        .input(Input::new("days", ctx.t("warm.days"), InputKind::Number).value("1").hint(ctx.t("warm.days_hint")))
        .folded()
        .refused(r)
}

pub fn station_view(ctx: PageCtx, c: &CommunityRef, d: &StationData, calendar: &Calendar, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let s = &d.station;
    let now_state = state_now(d.open_now, s.set_today());
    let cells = vec![
        (ctx.t("field.warm_station.address"), s.address.clone()),
        (ctx.t("field.warm_station.amenities"), amenities_text(&ctx, s)),
        (ctx.t("directory.hours"), view::hours_text(&ctx, &d.hours)),
    ];
    let links = vec![
        (format!("/c/{code}/warm-stations/{}", s.id), ctx.t("warm.edit_station")),
        (format!("/c/{code}/duty"), ctx.t("warm.duty")),
        (format!("/p/{code}/warm-stations"), ctx.t("directory.public_page")),
        (format!("/c/{code}/warm-stations/stats"), ctx.t("warm.stats")),
    ];
    let (open, covered) = d.coverage;
    let percent = if open > 0 { covered * 100 / open } else { 0 };
    let kpis = vec![
        Kpi { label: ctx.t("warm.visits_week"), value: d.visits.total.to_string(), ..Kpi::default() },
        Kpi {
            label: ctx.t("warm.coverage"),
            value: format!("{percent}%"),
            note: ctx.t("warm.coverage_note"),
            ..Kpi::default()
        },
    ];
    let mut blocks = vec![Block::Card(s.name.clone(), Some(state_tag(&ctx, now_state)), cells, None, links)];
    // Staff may say, for today, that it is open, full or closed.
    for st in LiveState::ALL.into_iter().filter(|st| *st != now_state) {
        let f = Form::new("", format!("/c/{code}/roster/{}/state", s.id), ctx.t(&format!("warm.set.{}", st.as_str())))
            .input(Input::hidden("state", st.as_str()))
            .input(Input::hidden("from", "roster"));
        blocks.push(Block::Form(f));
    }
    blocks.extend([
        Block::Kpis(kpis),
        Block::Table(ctx.t("warm.roster"), roster_table(&ctx, d)),
        Block::Form(shifts_form(&ctx, code, s.id, r)),
    ]);
    blocks.extend(visits_blocks(&ctx, &d.visits));
    blocks.push(Block::Table(ctx.t("directory.week_ahead"), view::week_table(&ctx, &d.hours, calendar, fmt::today())));
    let rules = d
        .hours
        .rules
        .iter()
        .map(|x| ui::Item { title: view::rule_text(&ctx, x), sub: String::new(), href: None, tag: None })
        .collect();
    blocks.push(Block::List(ctx.t("hours.rules"), rules, ctx.t("directory.no_hours")));
    blocks.extend(view::hours_forms(&ctx, &format!("/c/{code}/roster/{}", s.id), r).into_iter().map(Block::Form));
    let crumbs = vec![(format!("/c/{code}/warm-stations"), ctx.t("warm.title"))];
    BlocksPage::new(ctx, s.name.clone(), crumbs, blocks, r)
}

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

/// The week ahead's open spans (ms) of a station.
async fn show_station(state: &AppState, ctx: PageCtx, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let now = crate::db::now_ms();
    let today = fmt::today();
    let week_start = crate::time::day_start_ms(today);
    let mut conn = state.db.read().await?;
    let station = store::station(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let hours = store::hours_of(&mut conn, c.id, Some(&[id])).await?.remove(&id).unwrap_or_default();
    let shifts = store::shifts(&mut conn, c.id, Some(id), now, week_start + 7 * crate::time::DAY_MS).await?;
    let ids: Vec<i64> = shifts.iter().map(|s| s.id).collect();
    let places = store::places(&mut conn, c.id, &ids).await?;
    let visits = store::visits(&mut conn, c.id, id, week_start - 6 * crate::time::DAY_MS).await?;
    drop(conn);
    let calendar = state.holidays.calendar(&state.db).await?;
    let covered: Vec<(i64, i64)> = shifts.iter().filter(|s| s.taken > 0).map(|s| (s.starts_at, s.ends_at)).collect();
    let open_now = hours.open_at(&calendar, crate::web::fmt::to_cst(now).naive_local());
    let coverage = coverage(&open_spans(&hours, &calendar, today, 7), &covered);
    let d = StationData { station, hours, shifts, places, visits, coverage, open_now };
    render(&station_view(ctx, c, &d, &calendar, r))
}

/// `GET /c/{code}/roster/{id}`: staff's page of a station.
pub async fn station(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    require(&actor, c.id, Permission::ManageServices)?;
    show_station(&state, ctx, &c, id, &Refusal::none()).await
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    c: CommunityRef,
    id: i64,
    action: &str,
    m: &Map<String, Value>,
    result: AppResult<()>,
) -> PageResult {
    match result {
        Ok(()) => Ok(done(&format!("/c/{}/roster/{id}", c.code), Notice::Saved)),
        Err(e) => {
            ui::refused(e, ctx, m, action, |ctx, r| async move { show_station(state, ctx, &c, id, &r).await }).await
        }
    }
}

/// One of the hours forms of a station, for staff.
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
        store::station(&mut state.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)?;
        hours::store::change(&state, &actor, c.id, (super::HOURS_OWNER, id), edit.read(&m)?).await
    }
    .await;
    after(&state, ctx, c, id, &format!("/c/{code}/roster/{id}/{}", edit.path()), &m, result).await
}

/// `POST /c/{code}/roster/{id}/hours`: staff add a weekly rule.
pub async fn add_rule(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Rule).await
}

/// `POST /c/{code}/roster/{id}/exceptions`: staff add a day's exception.
pub async fn add_exception(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Exception).await
}

/// `POST /c/{code}/roster/{id}/hours/clear`: staff clear the hours to set them anew.
pub async fn clear_hours(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Clear).await
}

/// A shift as the form sends it, each bad field named.
fn shift_of(m: &Map<String, Value>) -> AppResult<(ShiftPlan, i64)> {
    let mut f = Fields::new(m);
    let (starts_at, ends_at, needed, days) = (f.when("starts_at"), f.when("ends_at"), f.int("needed"), f.int("days"));
    let mut errors = Vec::new();
    for (name, v) in [("starts_at", starts_at.is_none()), ("ends_at", ends_at.is_none()), ("needed", needed.is_none())]
    {
        if v && f.opt(name).is_none() {
            errors.push(crate::error::FieldError::new(name, "validation.required"));
        }
    }
    if let Err(AppError::Invalid(e)) = f.checked() {
        errors.extend(e);
    }
    match (starts_at, ends_at, needed) {
        (Some(starts_at), Some(ends_at), Some(needed)) if errors.is_empty() => {
            Ok((ShiftPlan { starts_at, ends_at, needed }, days.unwrap_or(1)))
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

/// `POST /c/{code}/roster/{id}/shifts`: staff add shifts, the same on several days.
pub async fn add_shifts(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match shift_of(&m) {
        Ok((plan, days)) => store::add_shifts(&state, &actor, &c, id, plan, days).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, ctx, c, id, &format!("/c/{code}/roster/{id}/shifts"), &m, result).await
}
