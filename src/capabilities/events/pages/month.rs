//! The community's month of events 活动日历 (or one station's): each day with its sessions
//! (time, event, station), each leading to its event; a month back or ahead with the
//! arrows; the stations' own calendars one tap away.

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::{Datelike, NaiveDate};

use super::community;
use crate::auth::guard::CommunityRef;
use crate::capabilities::events::SessionStatus;
use crate::capabilities::events::store::{self, MonthLine};
use crate::error::AppError;
use crate::web::ui::{Calendar, CalendarLine, Tone};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, fmt, render};

#[derive(Template)]
#[template(path = "events/month.html")]
pub struct MonthPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub calendar: Calendar,
    /// The community's calendar and each station's, with its feed.
    pub links: Vec<(String, String)>,
}

/// The month's calendar from its sessions (of one station, when `station` is given); a
/// called-off one is greyed.
pub fn month_view(
    ctx: PageCtx,
    c: &CommunityRef,
    month: NaiveDate,
    lines: &[MonthLine],
    stations: &[(i64, String)],
    station: Option<i64>,
) -> MonthPage {
    let code = &c.code;
    let day_lines = |d: NaiveDate| {
        lines
            .iter()
            .filter(|l| station.is_none_or(|s| s == l.station_id))
            .filter(|l| fmt::to_cst(l.starts_at).date_naive() == d)
            .map(|l| CalendarLine {
                text: format!("{} {} · {}", fmt::to_cst(l.starts_at).format("%H:%M"), l.title, l.station),
                href: format!("/c/{code}/events/{}", l.event_id),
                tone: if l.status == SessionStatus::Cancelled { Tone::Grey } else { Tone::Blue },
            })
            .collect()
    };
    let (name, base, feed) = match station.and_then(|s| stations.iter().find(|(id, _)| *id == s)) {
        Some((id, n)) => {
            (n.clone(), format!("/c/{code}/events/stations/{id}"), format!("/p/{code}/events.ics?station={id}"))
        }
        None => (c.name.clone(), format!("/c/{code}/events/month"), format!("/p/{code}/events.ics")),
    };
    let mut links = vec![(feed, ctx.t("events.feed"))];
    if station.is_some() {
        links.push((format!("/c/{code}/events/month"), c.name.clone()));
    }
    links.extend(
        stations
            .iter()
            .filter(|(id, _)| Some(*id) != station)
            .map(|(id, n)| (format!("/c/{code}/events/stations/{id}"), n.clone())),
    );
    MonthPage {
        title: format!("{name} · {}", ctx.t("events.month")),
        crumbs: vec![(format!("/c/{code}/events"), ctx.t("events.title"))],
        calendar: Calendar::month(&ctx, month, fmt::today(), &base, day_lines, |_| None),
        links,
        ctx,
    }
}

#[derive(serde::Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

pub async fn month(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, &q, None).await
}

/// One station's month.
pub async fn station_month(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, &q, Some(id)).await
}

async fn show(
    state: &AppState,
    ctx: PageCtx,
    actor: &crate::auth::model::Actor,
    c: &CommunityRef,
    q: &MonthQuery,
    station: Option<i64>,
) -> PageResult {
    let first = match q.month.as_deref().filter(|m| !m.is_empty()) {
        None => fmt::today().with_day(1).unwrap_or_else(fmt::today),
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2100).contains(&d.year()))
            .ok_or_else(|| AppError::field("month", "validation.date"))?,
    };
    let next = (first + chrono::Duration::days(32)).with_day(1).unwrap_or(first);
    // The weeks shown reach a few days into the months around it.
    let from = crate::time::day_start_ms(first) - 7 * crate::time::DAY_MS;
    let to = crate::time::day_start_ms(next) + 7 * crate::time::DAY_MS;
    let mut conn = state.db.read().await?;
    let lines = store::month(&mut conn, actor, c.id, from, to).await?;
    let stations = store::stations(&mut conn, c.id).await?;
    if station.is_some_and(|s| !stations.iter().any(|(id, _)| *id == s)) {
        return Err(AppError::NotFound.into());
    }
    render(&month_view(ctx, c, first, &lines, &stations, station))
}
