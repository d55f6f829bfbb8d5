//! The national holiday calendar, kept by the platform admin (page and API) and read by
//! anyone through the API: each year's public holidays and 调休 make-up working days.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{HolidayDay, Special};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::api::ApiJson;
use crate::web::fmt::{YearQuery, year_of};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Refusal, Tab, Table};
use crate::web::{AppState, Notice, PageCtx, PageResult, Signed, SignedPage, done, fmt, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/holidays", get(page).post(set_day)).route("/admin/holidays/remove", post(remove_day))
}

/// The API: read by anyone, kept by the platform admin.
pub fn api_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(list_api)).routes(routes!(put_api, delete_api))
}

/// A day of the calendar, as the path names it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DayParam {
    /// `2026-10-01`
    pub day: String,
}

pub fn holidays_view(ctx: PageCtx, year: i32, days: &[HolidayDay], r: &Refusal) -> BlocksPage {
    let this = fmt::today().year();
    let tabs: Vec<Tab> = [this, this + 1]
        .into_iter()
        .map(|y| Tab { href: format!("/admin/holidays?year={y}"), label: y.to_string(), on: y == year })
        .collect();
    let rows = days
        .iter()
        .map(|d| {
            let weekday = ctx.t(&format!("hours.weekday.{}", d.day.weekday().number_from_monday()));
            let mut name = d.name.clone();
            if d.provisional {
                name.push_str(&format!("（{}）", ctx.t("hours.provisional")));
            }
            vec![
                Cell::text(format!("{} {weekday}", d.day)),
                Cell::text(ctx.t(&format!("hours.special.{}", d.special.as_str()))),
                Cell::text(name),
            ]
        })
        .collect();
    let table = Table {
        head: vec![ctx.t("hours.day"), ctx.t("hours.special"), ctx.t("hours.holiday_name")],
        rows,
        empty: ctx.t("hours.no_days"),
        sort: Vec::new(),
    };
    let specials = Special::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), ctx.t(&format!("hours.special.{}", s.as_str()))))
        .collect();
    let set = Form::new(ctx.t("hours.set_day"), "/admin/holidays", ctx.t("hours.set_day"))
        .input(Input::new("day", ctx.t("hours.day"), InputKind::Date).required())
        .input(Input::new("special", ctx.t("hours.special"), InputKind::Select(specials)).required())
        .input(
            Input::new("name", ctx.t("hours.holiday_name"), InputKind::Text).required().hint(ctx.t("hours.name_hint")),
        )
        .input(Input::new("provisional", ctx.t("hours.provisional"), InputKind::Checkbox))
        .refused(r);
    let remove = Form::new(ctx.t("hours.remove_day"), "/admin/holidays/remove", ctx.t("hours.remove_day"))
        .input(Input::new("day", ctx.t("hours.day"), InputKind::Date).required())
        .danger(ctx.t("hours.remove_confirm"))
        .folded()
        .refused(r);
    let links: Vec<(String, String)> = tabs.iter().map(|t| (t.href.clone(), t.label.clone())).collect();
    let blocks = vec![
        Block::Card(ctx.t("hours.holidays"), None, Vec::new(), Some(ctx.t("hours.holidays_hint")), links),
        Block::Table(ctx.tr("hours.year_days", "year", year), table),
        Block::Form(set),
        Block::Form(remove),
    ];
    let title = ctx.tr("hours.title_year", "year", year);
    BlocksPage::new(ctx, title, Vec::new(), blocks, r)
}

async fn show(state: &AppState, ctx: PageCtx, year: i32, r: &Refusal) -> PageResult {
    let days = super::store::read_days(&mut state.db.read().await?, Some(year)).await?;
    render(&holidays_view(ctx, year, &days, r))
}

/// `GET /admin/holidays?year=`: the platform admin's calendar.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Query(q): Query<YearQuery>,
) -> PageResult {
    if !actor.is_platform_admin() {
        return Err(AppError::Forbidden.into());
    }
    show(&state, ctx, year_of(&q)?.0, &Refusal::none()).await
}

/// A day as the form or the API sends it, each bad field named.
fn day_of(f: &mut Fields<'_>, day: Option<NaiveDate>) -> AppResult<HolidayDay> {
    let mut errors = Vec::new();
    let special = Special::parse(&f.text("special"));
    if special.is_none() {
        errors.push(FieldError::new("special", "validation.choice"));
    }
    if day.is_none() && f.opt("day").is_none() {
        errors.push(FieldError::new("day", "validation.required"));
    }
    let day = day.or_else(|| f.date("day"));
    let name = f.text("name");
    crate::input::check_text(&mut errors, "name", &name, 20, true);
    if let Err(AppError::Invalid(e)) = f.checked() {
        errors.extend(e);
    }
    match (day, special) {
        (Some(day), Some(special)) if errors.is_empty() => {
            Ok(HolidayDay { day, special, name, provisional: f.yes("provisional") })
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    m: &Map<String, Value>,
    action: &str,
    year: i32,
    result: AppResult<()>,
) -> PageResult {
    match result {
        Ok(()) => Ok(done(&format!("/admin/holidays?year={year}"), Notice::Saved)),
        Err(e) => ui::refused(e, ctx, m, action, |ctx, r| async move { show(state, ctx, year, &r).await }).await,
    }
}

/// `POST /admin/holidays`: the platform admin sets a day.
pub async fn set_day(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let mut f = Fields::new(&m);
    let result = match day_of(&mut f, None) {
        Ok(d) => state.holidays.set(&state.db, &actor, &d).await.map(|_| d.day.year()),
        Err(e) => Err(e),
    };
    let year = result.as_ref().copied().unwrap_or_else(|_| fmt::today().year());
    after(&state, ctx, &m, "/admin/holidays", year, result.map(|_| ())).await
}

/// `POST /admin/holidays/remove`: the platform admin takes a day out.
pub async fn remove_day(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let mut f = Fields::new(&m);
    let day = f.date("day");
    let result = match (f.checked(), day) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::field("day", "validation.required")),
        (Ok(()), Some(d)) => state.holidays.remove(&state.db, &actor, d).await.map_err(|e| match e {
            AppError::NotFound => AppError::field("day", "hours.not_special"),
            e => e,
        }),
    };
    let year = day.map_or_else(|| fmt::today().year(), |d| d.year());
    after(&state, ctx, &m, "/admin/holidays/remove", year, result).await
}

fn day_json(d: &HolidayDay) -> Value {
    json!({"day": d.day, "special": d.special, "name": d.name, "provisional": d.provisional})
}

/// The national holiday calendar of a year (no sign-in)
///
/// Each public holiday (`off`) and 调休 make-up working day (`work`) of `year` (this year
/// when none); `provisional` days are the statutory ones before the State Council's
/// announcement.
#[utoipa::path(get, path = "/api/v1/holidays", tag = "holidays",
    params(("year" = Option<i32>, Query, description = "2000 to 2100")),
    responses((status = 200, description = "The year's special days"),
        (status = 422, description = "A year out of range", body = crate::error::Problem)))]
pub async fn list_api(State(state): State<AppState>, Query(q): Query<YearQuery>) -> AppResult<Json<Value>> {
    let year = year_of(&q)?.0;
    let days = super::store::read_days(&mut state.db.read().await?, Some(year)).await?;
    Ok(Json(json!({"year": year, "items": days.iter().map(day_json).collect::<Vec<_>>()})))
}

fn path_day(day: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| AppError::field("day", "validation.date"))
}

/// Set a day of the calendar (platform admin)
///
/// `{special: off|work, name, provisional}`, replacing what the day was.
#[utoipa::path(put, path = "/api/v1/holidays/{day}", tag = "holidays", params(DayParam),
    responses((status = 200, description = "The day as set"),
        (status = 403, description = "Not the platform admin", body = crate::error::Problem),
        (status = 422, description = "A field out of range, named", body = crate::error::Problem)))]
pub async fn put_api(
    State(state): State<AppState>,
    a: Signed,
    Path(day): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let day = path_day(&day)?;
    let mut body = body;
    if let Some(Value::Bool(b)) = body.get("provisional") {
        let b = *b;
        body.insert("provisional".into(), Value::String(b.to_string()));
    }
    let d = day_of(&mut Fields::new(&body), Some(day))?;
    state.holidays.set(&state.db, a.actor(), &d).await?;
    Ok(Json(day_json(&d)))
}

/// Take a day out of the calendar (platform admin)
#[utoipa::path(delete, path = "/api/v1/holidays/{day}", tag = "holidays", params(DayParam),
    responses((status = 204, description = "The day is what its weekday says again"),
        (status = 403, description = "Not the platform admin", body = crate::error::Problem),
        (status = 404, description = "The day was not in the calendar", body = crate::error::Problem)))]
pub async fn delete_api(State(state): State<AppState>, a: Signed, Path(day): Path<String>) -> AppResult<StatusCode> {
    state.holidays.remove(&state.db, a.actor(), path_day(&day)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
