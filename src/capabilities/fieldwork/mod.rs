//! Field work: patrols 巡查 started and ended from a phone, with findings that become
//! tickets in one tap, and unbroken-day streaks (seed 001's forest patrol on 1,000+ days);
//! field notes 民情笔记, "one thing, one record" (seed 002), read by staff day by day.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod pages;
pub mod store;

use axum::Router;
use axum::routing::{get, post};
use chrono::NaiveDate;

use futures::future::BoxFuture;

use crate::auth::model::{Actor, Permission};
use crate::error::{AppResult, FieldError};
use crate::web::capability::{Capability, RecordExtras};
use crate::web::{AppState, PageCtx};

pub static CAP: Capability =
    Capability { api: Some(api::routes), record_page: Some(record_page), ..Capability::new("fieldwork", routes) };

/// A household's page offers its grid worker a field note about it, the household chosen.
fn record_page<'a>(
    _: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
    kind: &'a str,
    c: &'a crate::auth::guard::CommunityRef,
    id: i64,
) -> BoxFuture<'a, AppResult<RecordExtras>> {
    let links = if kind == "household" && actor.can(c.id, Permission::FieldWork) {
        vec![(format!("/c/{}/field-notes?household={id}", c.code), ctx.t("fieldwork.note_here"))]
    } else {
        Vec::new()
    };
    Box::pin(std::future::ready(Ok(RecordExtras { links, map: None })))
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/c/{code}/patrols", get(pages::patrols).post(pages::start))
        .route("/c/{code}/patrols/{id}", get(pages::patrol_page))
        .route("/c/{code}/patrols/{id}/findings", post(pages::add_finding))
        .route("/c/{code}/patrols/{id}/end", post(pages::end))
        .route("/c/{code}/findings/{id}/ticket", post(pages::to_ticket))
        .route("/c/{code}/field-notes", get(pages::notes).post(pages::add_note))
}

/// The unbroken run of days ending today (or yesterday, when today has none yet), and the
/// longest run, from the days that had a patrol.
pub fn streaks(days: &[NaiveDate], today: NaiveDate) -> (i64, i64) {
    let mut days: Vec<NaiveDate> = days.to_vec();
    days.sort_unstable();
    days.dedup();
    let (mut longest, mut run) = (0i64, 0i64);
    let mut prev: Option<NaiveDate> = None;
    for d in &days {
        run = match prev {
            Some(p) if p.succ_opt() == Some(*d) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        prev = Some(*d);
    }
    let current = match days.last() {
        Some(last) if *last == today || Some(*last) == today.pred_opt() => run,
        _ => 0,
    };
    (current, longest)
}

/// A point given as text: both or neither, numbers, on the earth.
pub fn parse_point(lat: &str, lng: &str) -> Result<Option<(f64, f64)>, Vec<FieldError>> {
    let (lat, lng) = (lat.trim(), lng.trim());
    if lat.is_empty() && lng.is_empty() {
        return Ok(None);
    }
    let mut e = Vec::new();
    let a = lat.parse::<f64>().ok().filter(|x| x.is_finite() && (-90.0..=90.0).contains(x));
    let b = lng.parse::<f64>().ok().filter(|x| x.is_finite() && (-180.0..=180.0).contains(x));
    if a.is_none() {
        e.push(FieldError::new("lat", "validation.range").with("min", -90).with("max", 90));
    }
    if b.is_none() {
        e.push(FieldError::new("lng", "validation.range").with("min", -180).with("max", 180));
    }
    match (a, b) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        _ => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaks_count_unbroken_days() {
        let d = |n: u32| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        let today = d(20);
        assert_eq!(streaks(&[d(18), d(19), d(20), d(10), d(11)], today), (3, 3));
        assert_eq!(streaks(&[d(17), d(18), d(19)], today), (3, 3), "today not yet patrolled keeps the run");
        assert_eq!(streaks(&[d(1), d(2), d(3), d(4), d(17)], today), (0, 4));
        assert_eq!(streaks(&[], today), (0, 0));
        assert_eq!(streaks(&[d(20), d(20)], today), (1, 1));
    }

    #[test]
    fn points_are_checked() {
        assert_eq!(parse_point("", ""), Ok(None));
        assert_eq!(parse_point("23.7", "113.05"), Ok(Some((23.7, 113.05))));
        assert_eq!(parse_point("north", "113").unwrap_err()[0].field, "lat");
        assert_eq!(parse_point("23", "").unwrap_err()[0].field, "lng");
    }
}
