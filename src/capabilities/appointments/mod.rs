//! Appointments 预约 at the service centre (seed 001's "1+1+N": booked after-hours service
//! 预约延时服务, proxy and assisted errands 代办帮办服务, weekend extra hours 周末加时服务):
//! appointment types with their hours (`services::hours`), slots of a duration every
//! interval with seats, booked by residents on the phone, by staff for a caller or a
//! walk-in (proxy, with the person's name and number), by a grid worker for a resident of
//! the grid; states kept, never deleted; reminders through the inbox the day before and
//! two hours before, those that cannot be delivered listed; the day's grid for staff; a
//! proxy errand's result recorded, and a ticket when more is needed.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod pages;
pub mod stats;
pub mod store;

use axum::Router;
use axum::routing::{get, post};
use chrono::NaiveDate;

use crate::error::FieldError;
use crate::services::hours::{Calendar, Hours, Minute};
use crate::services::records::model::{EntityDef, Kind, Search, Tenancy, field};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use crate::web::AppState;
use crate::web::capability::{Capability, Job, SubjectLink};

pub static CAP: Capability = Capability {
    records: &[&APPOINTMENT_TYPE],
    links: &[SubjectLink::new("appointment", "/c/{code}/appointments/{id}", "inbox.group.appointments")],
    jobs: &[Job { name: "appointments: reminders", run: store::remind_job }],
    api: Some(api::routes),
    nav: Some(pages::nav),
    record_page: Some(pages::record_page),
    ..Capability::new("appointments", routes)
};

fn routes() -> Router<AppState> {
    crate::web::figures::routes::<stats::Stats>(Router::new())
        .route("/c/{code}/appointments", get(pages::mine))
        .route("/c/{code}/appointments/day", get(pages::day))
        .route("/c/{code}/appointments/types/{id}", get(pages::book_page).post(pages::book))
        .route("/c/{code}/appointments/types/{id}/hours", post(pages::add_rule))
        .route("/c/{code}/appointments/types/{id}/exceptions", post(pages::add_exception))
        .route("/c/{code}/appointments/types/{id}/hours/clear", post(pages::clear_hours))
        .route("/c/{code}/appointments/{id}", get(pages::appointment))
        .route("/c/{code}/appointments/{id}/status", post(pages::set_status))
        .route("/c/{code}/appointments/{id}/cancel", post(pages::cancel))
        .route("/c/{code}/appointments/{id}/reschedule", post(pages::reschedule))
        .route("/c/{code}/appointments/{id}/result", post(pages::record_result))
}

/// The kinds of the centre's "1+1+N".
pub const KINDS: &[&str] = &["booked", "after_hours", "weekend", "proxy"];

/// An appointment type 预约服务事项; a record like any other, its hours on its page.
pub static APPOINTMENT_TYPE: EntityDef = EntityDef {
    kind: "appointment_type",
    path: "appointment-types",
    table: "appointment_types",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("desk", Kind::Text { max: 60 }).required().listed(),
        field("kind", Kind::Choice(KINDS)).required().listed(),
        field("duration_minutes", Kind::Int { min: 5, max: 480 }).required().default("30"),
        field("interval_minutes", Kind::Int { min: 5, max: 480 }).required().default("30"),
        field("seats", Kind::Int { min: 1, max: 50 }).required().default("1").listed(),
        field("min_notice_hours", Kind::Int { min: 0, max: 720 }).required().default("2"),
        field("max_ahead_days", Kind::Int { min: 1, max: 90 }).required().default("14"),
        field("proxy_allowed", Kind::Bool),
        field("documents", Kind::Text { max: 200 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: crate::auth::model::Permission::ViewPlaces,
    write: crate::auth::model::Permission::ManageServices,
    rules: None,
    after_write: None,
    holds_settings: false,
};

/// The owner kind of a type's hours in `services::hours`.
pub const HOURS_OWNER: &str = "appointment_type";

crate::text_enum! {
    /// Where an appointment stands; none is ever deleted.
    pub enum Status {
        Booked = "booked",
        Confirmed = "confirmed",
        CheckedIn = "checked_in",
        Done = "done",
        Cancelled = "cancelled",
        NoShow = "no_show",
        Rescheduled = "rescheduled",
    }
}

impl Status {
    /// Holds its seat of the slot.
    pub fn holds_seat(self) -> bool {
        matches!(self, Status::Booked | Status::Confirmed | Status::CheckedIn | Status::Done | Status::NoShow)
    }

    /// Still to come (reminded, cancellable, movable).
    pub fn ahead(self) -> bool {
        matches!(self, Status::Booked | Status::Confirmed)
    }
}

/// What staff may move an appointment to from where it is: confirm, check in, done, or
/// a no-show — which is corrected by checking in or done when a colleague served instead.
pub fn next_status(from: Status, to: Status) -> Result<Status, &'static str> {
    use Status::*;
    match (from, to) {
        (Booked, Confirmed) | (Booked | Confirmed | NoShow, CheckedIn) | (CheckedIn | NoShow, Done) => Ok(to),
        (Booked | Confirmed, NoShow) => Ok(to),
        _ => Err("appt.not_now"),
    }
}

/// A type's terms of booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub duration: i64,
    pub interval: i64,
    pub seats: i64,
    pub min_notice_hours: i64,
    pub max_ahead_days: i64,
}

/// The slots of a day: from each open span's start, every interval, while the whole
/// duration fits in the span (minutes from midnight).
pub fn slots(hours: &Hours, calendar: &Calendar, day: NaiveDate, t: &Terms) -> Vec<(Minute, Minute)> {
    let (duration, interval) = (t.duration.max(1), t.interval.max(1));
    let mut out = Vec::new();
    for (a, b) in hours.spans(calendar, day) {
        let mut s = i64::from(a);
        while s + duration <= i64::from(b) {
            out.push((s as Minute, (s + duration) as Minute));
            s += interval;
        }
    }
    out
}

/// Why a slot starting at `start` (ms, China time `day` and `minute`) cannot be booked
/// now, by field: outside the slots (closed, a holiday, off the interval), sooner than
/// the notice, further than the days ahead.
pub fn check_slot(
    slots_of_day: &[(Minute, Minute)],
    minute: Minute,
    start: i64,
    now: i64,
    t: &Terms,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !slots_of_day.iter().any(|s| s.0 == minute) {
        e.push(FieldError::new("starts_at", "appt.not_a_slot"));
    } else if start - now < t.min_notice_hours * HOUR_MS {
        e.push(FieldError::new("starts_at", "appt.too_soon").with("n", t.min_notice_hours));
    } else if start - now > t.max_ahead_days * DAY_MS {
        e.push(FieldError::new("starts_at", "appt.too_far").with("n", t.max_ahead_days));
    }
    e
}

/// The reminders due for an appointment at `now`: the day before (within 24 hours), and
/// two hours before; each once.
pub fn reminders_due(starts_at: i64, now: i64, day_sent: bool, hours_sent: bool) -> (bool, bool) {
    let ahead = starts_at - now;
    let hours = !hours_sent && ahead > 0 && ahead <= 2 * HOUR_MS;
    let day = !day_sent && !hours && ahead > 2 * HOUR_MS && ahead <= DAY_MS;
    (day, hours)
}

/// A proxy errand's result: what was done and which documents, each within its length.
pub fn check_result(done: &str, documents: &str) -> Vec<FieldError> {
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "result", done, 500, true);
    crate::input::check_text(&mut e, "documents", documents, 200, false);
    e
}

/// Minutes as ms.
pub fn minutes_ms(m: Minute) -> i64 {
    i64::from(m) * MINUTE_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::hours::{HolidayDay, Rule, Special};

    fn terms() -> Terms {
        Terms { duration: 30, interval: 30, seats: 3, min_notice_hours: 2, max_ahead_days: 14 }
    }

    fn evenings() -> Hours {
        let r = Rule {
            weekdays: 0x1f,
            opens: 17 * 60 + 30,
            closes: 20 * 60,
            valid_from: None,
            valid_until: None,
            on_holidays: false,
        };
        Hours { rules: vec![r], exceptions: vec![] }
    }

    #[test]
    fn after_hours_slots_fill_the_evening_and_none_on_a_holiday() {
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let s = slots(&evenings(), &Calendar::default(), monday, &terms());
        assert_eq!(s.first(), Some(&(1050, 1080)));
        assert_eq!(s.len(), 5, "17:30 to 20:00 in half hours");
        let t = Terms { duration: 45, ..terms() };
        assert_eq!(slots(&evenings(), &Calendar::default(), monday, &t).len(), 4, "the last must fit whole");
        let cal =
            Calendar::new([HolidayDay { day: monday, special: Special::Off, name: "x".into(), provisional: false }]);
        assert!(slots(&evenings(), &cal, monday, &terms()).is_empty());
    }

    #[test]
    fn a_slot_off_the_grid_too_soon_or_too_far_is_named() {
        let s = [(1050, 1080)];
        let start = 100 * DAY_MS;
        assert!(check_slot(&s, 1050, start, start - 3 * HOUR_MS, &terms()).is_empty());
        assert_eq!(check_slot(&s, 1060, start, 0, &terms())[0].key, "appt.not_a_slot");
        assert_eq!(check_slot(&s, 1050, start, start - HOUR_MS, &terms())[0].key, "appt.too_soon");
        assert_eq!(check_slot(&s, 1050, start, start - 20 * DAY_MS, &terms())[0].key, "appt.too_far");
    }

    #[test]
    fn a_no_show_is_corrected_when_a_colleague_served_instead() {
        assert_eq!(next_status(Status::Booked, Status::Confirmed), Ok(Status::Confirmed));
        assert_eq!(next_status(Status::NoShow, Status::Done), Ok(Status::Done));
        assert_eq!(next_status(Status::Done, Status::NoShow), Err("appt.not_now"));
        assert_eq!(next_status(Status::Cancelled, Status::CheckedIn), Err("appt.not_now"));
        assert!(!Status::Cancelled.holds_seat() && Status::NoShow.holds_seat());
    }

    #[test]
    fn reminders_come_the_day_before_and_two_hours_before_once() {
        let start = 10 * DAY_MS;
        assert_eq!(reminders_due(start, start - 30 * HOUR_MS, false, false), (false, false));
        assert_eq!(reminders_due(start, start - 20 * HOUR_MS, false, false), (true, false));
        assert_eq!(reminders_due(start, start - 20 * HOUR_MS, true, false), (false, false));
        assert_eq!(reminders_due(start, start - HOUR_MS, true, false), (false, true));
        assert_eq!(reminders_due(start, start - HOUR_MS, false, false), (false, true), "booked late: the nearer one");
        assert_eq!(reminders_due(start, start + 1, false, false), (false, false));
    }
}
