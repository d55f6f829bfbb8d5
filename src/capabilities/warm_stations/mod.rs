//! Warm stations 暖心驿站 (seed 004: 振南社区's station where delivery riders, sanitation
//! workers and ride-hailing drivers study, rest, charge, drink water, take medicine, warm
//! up and cool down): a station with its amenities, hours that follow the holiday
//! calendar and a live state; a duty roster whose shifts staff, volunteers and party
//! members take, with check-in and check-out on the phone and the hours on duty made
//! service records; visitors counted by kind with one tap; a public map of a
//! subdistrict's stations, open now or not.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod pages;
pub mod stats;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::model::{Actor, Permission, Role};
use crate::error::FieldError;
use crate::services::hours::{Calendar, Hours};
use crate::services::records::model::{EntityDef, Kind, Search, Tenancy, field};
use crate::time::{HOUR_MS, MINUTE_MS};
use crate::web::AppState;
use crate::web::capability::{Capability, Job, SubjectLink};

pub static CAP: Capability = Capability {
    records: &[&WARM_STATION],
    links: &[SubjectLink::new("warm_station", "/c/{code}/roster/{id}", "inbox.group.warm_stations")],
    jobs: &[Job { name: "warm stations: shifts not covered", run: store::uncovered_job }],
    api: Some(api::routes),
    nav: Some(pages::nav),
    record_page: Some(pages::record_page),
    ..Capability::new("warm_stations", routes)
};

fn routes() -> Router<AppState> {
    crate::web::figures::routes::<stats::Stats>(Router::new())
        .route("/c/{code}/roster/{id}", get(pages::station))
        .route("/c/{code}/roster/{id}/hours", post(pages::add_rule))
        .route("/c/{code}/roster/{id}/exceptions", post(pages::add_exception))
        .route("/c/{code}/roster/{id}/hours/clear", post(pages::clear_hours))
        .route("/c/{code}/roster/{id}/shifts", post(pages::add_shifts))
        .route("/c/{code}/roster/{id}/state", post(pages::set_state))
        .route("/c/{code}/roster/{id}/visits", post(pages::count_visit))
        .route("/c/{code}/duty", get(pages::duty))
        .route("/c/{code}/duty-shifts/{id}/take", post(pages::take))
        .route("/c/{code}/duty-shifts/{id}/leave", post(pages::leave))
        .route("/c/{code}/duty-shifts/{id}/check-in", post(pages::check_in))
        .route("/c/{code}/duty-shifts/{id}/check-out", post(pages::check_out))
        .route("/p/{code}/warm-stations", get(pages::public_community))
        .route("/p/subdistricts/{id}/warm-stations", get(pages::public_subdistrict))
}

/// What a station may offer.
pub const AMENITIES: &[&str] = &[
    "water",
    "charging",
    "microwave",
    "toilet",
    "seats",
    "first_aid",
    "air_conditioning",
    "heating",
    "books",
    "medicine",
    "wifi",
];

/// A warm station; a record like any other (its hours, roster and visits are its page's).
pub static WARM_STATION: EntityDef = EntityDef {
    kind: "warm_station",
    path: "warm-stations",
    table: "warm_stations",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("address", Kind::Text { max: 200 }).required().listed(),
        field("grid_id", Kind::Ref("grid")).listed(),
        field("lat", Kind::Float { min: -90.0, max: 90.0 }),
        field("lng", Kind::Float { min: -180.0, max: 180.0 }),
        field("amenities", Kind::Set(AMENITIES)).listed(),
        field("phone", Kind::Text { max: 20 }),
        field("notes", Kind::LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: Permission::ViewPlaces,
    write: Permission::ManageServices,
    rules: None,
    after_write: None,
    holds_settings: false,
};

/// The owner kind of a station's hours in `services::hours`.
pub const HOURS_OWNER: &str = "warm_station";

crate::text_enum! {
    /// What the one on duty says the station is now.
    pub enum LiveState {
        Open = "open",
        Closed = "closed",
        Full = "full",
    }
}

crate::text_enum! {
    /// Who came in.
    pub enum VisitorKind {
        Rider = "rider",
        Sanitation = "sanitation",
        Driver = "driver",
        Other = "other",
    }
}

/// How a station stands now: what the one on duty set today, else what its hours say.
pub fn state_now(hours_open: bool, set_today: Option<LiveState>) -> LiveState {
    match set_today {
        Some(s) => s,
        None if hours_open => LiveState::Open,
        None => LiveState::Closed,
    }
}

/// Who may take a shift: the community's staff, its volunteers and its party members.
pub fn may_serve(actor: &Actor, community_id: i64) -> bool {
    actor.can(community_id, Permission::ManageServices)
        || actor
            .grants
            .iter()
            .any(|g| g.community_id == Some(community_id) && matches!(g.role(), Role::Volunteer | Role::PartyMember))
}

/// The most people one shift needs.
pub const MAX_NEEDED: i64 = 20;

/// A shift as staff type it (times in ms).
#[derive(Debug, Clone, Copy)]
pub struct ShiftPlan {
    pub starts_at: i64,
    pub ends_at: i64,
    pub needed: i64,
}

/// A shift's fields that break a rule: it ends after it starts, within 12 hours, starts
/// ahead, and needs 1 to 20 people.
pub fn check_shift(p: &ShiftPlan, now: i64) -> Vec<FieldError> {
    let mut e = Vec::new();
    if p.starts_at <= now {
        e.push(FieldError::new("starts_at", "warm.in_the_past"));
    }
    if p.ends_at <= p.starts_at {
        e.push(FieldError::new("ends_at", "warm.ends_before_start"));
    } else if p.ends_at - p.starts_at > 12 * HOUR_MS {
        e.push(FieldError::new("ends_at", "warm.shift_too_long"));
    }
    if !(1..=MAX_NEEDED).contains(&p.needed) {
        e.push(FieldError::new("needed", "warm.needed_range"));
    }
    e
}

/// Two spans overlap when each starts before the other ends.
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The span served on a shift: from check-in to check-out within the shift; without a
/// usable span (checked out at once), none.
pub fn served(shift: (i64, i64), checked_in: i64, checked_out: i64) -> Option<(i64, i64)> {
    let start = checked_in.clamp(shift.0, shift.1);
    let end = checked_out.clamp(shift.0, shift.1);
    (end - start >= MINUTE_MS).then_some((start, end))
}

/// The open spans (ms) of `days` days from `from`, by the hours and the holiday calendar.
pub fn open_spans(h: &Hours, calendar: &Calendar, from: chrono::NaiveDate, days: i64) -> Vec<(i64, i64)> {
    (0..days)
        .flat_map(|i| {
            let day = from + chrono::Duration::days(i);
            let start = crate::time::day_start_ms(day);
            h.spans(calendar, day)
                .into_iter()
                .map(move |(a, b)| (start + i64::from(a) * MINUTE_MS, start + i64::from(b) * MINUTE_MS))
        })
        .collect()
}

/// When one may check in: from 30 minutes before the shift until it ends.
pub fn may_check_in(shift: (i64, i64), now: i64) -> bool {
    now >= shift.0 - 30 * MINUTE_MS && now < shift.1
}

/// How much of the open time (spans in ms) the shifts cover with someone on duty, in
/// minutes: (open, covered).
pub fn coverage(open: &[(i64, i64)], shifts: &[(i64, i64)]) -> (i64, i64) {
    let mut merged: Vec<(i64, i64)> = shifts.to_vec();
    merged.sort_unstable();
    let mut union: Vec<(i64, i64)> = Vec::new();
    for (a, b) in merged {
        match union.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => union.push((a, b)),
        }
    }
    let (mut total, mut covered) = (0, 0);
    for &(a, b) in open {
        total += b - a;
        for &(x, y) in &union {
            covered += (b.min(y) - a.max(x)).max(0);
        }
    }
    (total / MINUTE_MS, covered / MINUTE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MS;

    #[test]
    fn a_shift_ends_after_it_starts_within_twelve_hours_and_needs_someone() {
        assert!(check_shift(&ShiftPlan { starts_at: 10 * H, ends_at: 14 * H, needed: 2 }, H).is_empty());
        let fields = |p: ShiftPlan| check_shift(&p, 11 * H).into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(
            fields(ShiftPlan { starts_at: 10 * H, ends_at: 9 * H, needed: 0 }),
            ["starts_at", "ends_at", "needed"]
        );
        assert_eq!(fields(ShiftPlan { starts_at: 12 * H, ends_at: 25 * H, needed: 21 }), ["ends_at", "needed"]);
    }

    #[test]
    fn the_one_on_duty_sets_the_state_for_the_day_else_the_hours_say() {
        assert_eq!(state_now(true, None), LiveState::Open);
        assert_eq!(state_now(false, None), LiveState::Closed);
        assert_eq!(state_now(true, Some(LiveState::Full)), LiveState::Full);
    }

    #[test]
    fn hours_served_lie_within_the_shift() {
        assert_eq!(served((10 * H, 14 * H), 9 * H, 13 * H), Some((10 * H, 13 * H)));
        assert_eq!(served((10 * H, 14 * H), 11 * H, 15 * H), Some((11 * H, 14 * H)));
        assert_eq!(served((10 * H, 14 * H), 11 * H, 11 * H), None);
        assert!(may_check_in((10 * H, 14 * H), 10 * H - 20 * MINUTE_MS));
        assert!(!may_check_in((10 * H, 14 * H), 14 * H));
    }

    #[test]
    fn coverage_counts_open_time_with_someone_on_duty_once() {
        let open = [(8 * H, 12 * H), (14 * H, 22 * H)];
        let shifts = [(8 * H, 12 * H), (9 * H, 11 * H), (18 * H, 23 * H)];
        assert_eq!(coverage(&open, &shifts), (12 * 60, 8 * 60));
        assert!(overlaps((1, 3), (2, 4)) && !overlaps((1, 2), (2, 3)));
    }
}
