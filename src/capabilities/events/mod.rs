//! Events 活动 at many small stations (seed 000's 邻聚欢享 "化整为零", seed 003's classes and
//! festivals): an event with its sessions at stations 分站, sign-up 报名 with exact seats and
//! a waitlist that offers a freed seat to the first waiting for a while, and check-in 签到 by
//! the code (or QR) each sign-up holds.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod feed;
pub mod figures;
pub mod pages;
pub mod series;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::model::Permission;
use crate::error::FieldError;
use crate::services::records::model::{EntityDef, Kind, Tenancy, field};
use crate::web::AppState;
use crate::web::capability::{Capability, Job, SubjectLink};

pub static CAP: Capability = Capability {
    records: &[&STATION],
    links: &[SubjectLink::new("event", "/c/{code}/events/{id}", "inbox.group.events")],
    jobs: &[
        Job { name: "events: lapsed offers", run: store::lapse_offers_job },
        Job { name: "events: close sessions over", run: store::close_over_job },
    ],
    api: Some(api::routes),
    runtime: Some(|r| {
        r.insert(std::sync::Arc::new(store::Runtime::default()));
    }),
    media: &[("event", store::media_check)],
    nav: Some(pages::nav),
    home: Some(pages::home),
    ..Capability::new("events", routes)
};

fn routes() -> Router<AppState> {
    let photos = || axum::extract::DefaultBodyLimit::max(3 * crate::services::media::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/c/{code}/events", get(pages::events).post(pages::create))
        .route("/c/{code}/events/month", get(pages::month))
        .route("/c/{code}/events/stations/{id}", get(pages::station_month))
        .route("/c/{code}/events/mine", get(pages::mine))
        .route("/c/{code}/events/mine/feed", post(pages::new_feed))
        .route("/c/{code}/events/mine/feed/stop", post(pages::revoke_feed))
        .route("/c/{code}/events/stats", get(pages::stats))
        .route("/c/{code}/events/ledger.xlsx", get(pages::ledger))
        .route("/c/{code}/events/{id}", get(pages::event_page))
        .route("/c/{code}/events/{id}/manage", get(pages::manage))
        .route("/c/{code}/events/{id}/sessions", post(pages::add_sessions))
        .route("/c/{code}/events/{id}/publish", post(pages::publish))
        .route("/c/{code}/events/{id}/cancel", post(pages::cancel))
        .route("/c/{code}/events/{id}/report", post(pages::report).layer(photos()))
        .route("/c/{code}/events/{id}/decide/{what}", post(pages::decide))
        .route("/c/{code}/events/{id}/invite", post(pages::invite))
        .route("/c/{code}/events/{id}/attendance/{what}", post(pages::correct))
        .route("/c/{code}/events/{id}/sign-up", post(pages::sign_up_other))
        .route("/c/{code}/events/{id}/serve", post(pages::serve))
        .route("/c/{code}/events/{id}/check-in", get(pages::door).post(pages::check_in))
        .route("/c/{code}/events/{id}/walk-in", post(pages::walk_in))
        .route("/c/{code}/events/{id}/check-out", post(pages::check_out))
        .route("/c/{code}/event-sessions/{id}/sign-up", post(pages::sign_up))
        .route("/c/{code}/event-sessions/{id}/change", post(pages::change_session))
        .route("/c/{code}/event-sessions/{id}/cancel", post(pages::cancel_session))
        .route("/c/{code}/event-sessions/{id}/close", post(pages::close_session))
        .route("/c/{code}/event-signups/{id}", get(pages::signup_page))
        .route("/c/{code}/event-signups/{id}/cancel", post(pages::leave))
        .route("/c/{code}/event-signups/{id}/claim", post(pages::claim))
        .route("/c/{code}/event-signups/{id}/rating", post(pages::rate))
        .route("/subdistricts/{id}/events/stats", get(pages::subdistrict_stats))
        .route("/subdistricts/{id}/events/ledger.xlsx", get(pages::subdistrict_ledger))
        .route("/p/{code}/events", get(pages::public_events))
        .route("/p/{code}/events/{id}", get(pages::public_event))
        .route("/p/{code}/events/feed/{token}", get(feed::person_feed))
        .route("/p/{code}/events.ics", get(feed::community_feed))
}

/// A station 分站: where sessions are held; a record like any other.
pub static STATION: EntityDef = EntityDef {
    kind: "station",
    path: "stations",
    table: "stations",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("address", Kind::Text { max: 200 }).listed(),
        field("compound_id", Kind::Ref("compound")).listed(),
        field("grid_id", Kind::Ref("grid")).listed(),
        field("lat", Kind::Float { min: -90.0, max: 90.0 }),
        field("lng", Kind::Float { min: -180.0, max: 180.0 }),
        field("notes", Kind::LongText { max: 1000 }),
    ],
    title: "name",
    search: &[crate::services::records::model::Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: Permission::ViewPlaces,
    write: Permission::ManageEvents,
    rules: None,
    after_write: None,
    holds_settings: false,
};

crate::text_enum! {
    /// What an event is.
    pub enum EventKind {
        Festival = "festival",
        Market = "market",
        Class = "class",
        Activity = "activity",
        Meeting = "meeting",
    }
}

crate::text_enum! {
    /// Where an event stands: prepared, open to sign-up, called off, or over.
    pub enum EventStatus {
        Draft = "draft",
        Published = "published",
        Cancelled = "cancelled",
        Finished = "finished",
    }
}

crate::text_enum! {
    /// Who may sign up: anyone with an account, the community's residents, the members of
    /// one team (a class for its team), or those invited by name (a meeting of some).
    pub enum Audience {
        Everyone = "everyone",
        Residents = "residents",
        Team = "team",
        Invited = "invited",
    }
}

crate::text_enum! {
    pub enum SessionStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
    }
}

crate::text_enum! {
    /// Where a sign-up stands: waiting for the organiser's approval, a seat, a place in the
    /// queue, a seat offered from the queue (to claim before a time), or given up (or let
    /// pass, or declined).
    pub enum SignupStatus {
        Pending = "pending",
        Seated = "seated",
        Waiting = "waiting",
        Offered = "offered",
        Cancelled = "cancelled",
    }
}

crate::text_enum! {
    /// Why one is there: to take part, or to serve (a volunteer, whose hours become service
    /// records when the session closes; they take none of the participants' seats).
    pub enum SignupRole {
        Participant = "participant",
        Volunteer = "volunteer",
    }
}

impl SignupStatus {
    /// Holds one of the session's seats.
    pub fn holds_seat(self) -> bool {
        matches!(self, SignupStatus::Seated | SignupStatus::Offered)
    }
}

/// An event as staff type it.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub organiser: String,
    pub brand: Option<String>,
    pub audience: String,
    pub per_household: Option<i64>,
    pub claim_hours: i64,
    pub needs_approval: bool,
    /// The team whose members may come, for audience `team`.
    pub team_id: Option<i64>,
    /// The code of the community's bonus points rule that pays those who come.
    pub attendance_rule: Option<String>,
}

/// An event's fields that break a rule, each named; else its kind and audience.
pub fn check_event(e: &NewEvent) -> Result<(EventKind, Audience), Vec<FieldError>> {
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "title", &e.title, 60, true);
    crate::input::check_text(&mut errors, "organiser", &e.organiser, 60, true);
    crate::input::check_text(&mut errors, "description", e.description.as_deref().unwrap_or(""), 2000, false);
    crate::input::check_text(&mut errors, "brand", e.brand.as_deref().unwrap_or(""), 30, false);
    let kind = EventKind::parse(&e.kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "validation.choice"));
    }
    let audience = Audience::parse(&e.audience);
    if audience.is_none() {
        errors.push(FieldError::new("audience", "validation.choice"));
    }
    if e.per_household.is_some_and(|n| !(1..=100).contains(&n)) {
        errors.push(FieldError::new("per_household", "events.per_household_range"));
    }
    if !(1..=72).contains(&e.claim_hours) {
        errors.push(FieldError::new("claim_hours", "events.claim_hours_range"));
    }
    if audience == Some(Audience::Team) && e.team_id.is_none() {
        errors.push(FieldError::new("team_id", "validation.required"));
    }
    match (kind, audience) {
        (Some(k), Some(a)) if errors.is_empty() => Ok((k, a)),
        _ => Err(errors),
    }
}

/// The most seats one session has.
pub const MAX_CAPACITY: i64 = 10_000;

/// A session as staff type it, before it is written (times in ms).
#[derive(Debug, Clone, Copy)]
pub struct SessionPlan {
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i64,
    pub held_back: i64,
}

/// The fields of a session that break a rule: it ends after it starts, starts in the
/// future, has 1 to 10,000 seats, and holds back no more seats than it has.
pub fn check_session(p: &SessionPlan, now: i64) -> Vec<FieldError> {
    let mut e = Vec::new();
    if p.starts_at <= now {
        e.push(FieldError::new("starts_at", "events.in_the_past"));
    }
    if p.ends_at <= p.starts_at {
        e.push(FieldError::new("ends_at", "events.ends_before_start"));
    }
    if !(1..=MAX_CAPACITY).contains(&p.capacity) {
        e.push(FieldError::new("capacity", "events.capacity_range"));
    }
    if p.held_back < 0 || p.held_back >= p.capacity.max(1) {
        e.push(FieldError::new("held_back", "events.held_back_range"));
    }
    e
}

/// A session's seats may shrink no lower than those already taken.
pub fn check_capacity(capacity: i64, held_back: i64, taken: i64) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !(1..=MAX_CAPACITY).contains(&capacity) {
        e.push(FieldError::new("capacity", "events.capacity_range"));
    } else if capacity < taken {
        e.push(FieldError::new("capacity", "events.capacity_below_taken").with("n", taken));
    }
    if held_back < 0 || held_back >= capacity.max(1) {
        e.push(FieldError::new("held_back", "events.held_back_range"));
    }
    e
}

/// The span a volunteer served at a session: from check-in to check-out within the
/// session; without a check-out, to the session's end; without a usable span, the session.
pub fn service_span(session: (i64, i64), checked_in: i64, checked_out: Option<i64>) -> (i64, i64) {
    let start = checked_in.clamp(session.0, session.1);
    let end = checked_out.unwrap_or(session.1).clamp(session.0, session.1);
    if end - start < crate::time::MINUTE_MS { session } else { (start, end) }
}

/// A participant's rating: 1 to 5, with a short comment.
pub fn check_rating(stars: i64, comment: &str) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !(1..=5).contains(&stars) {
        e.push(FieldError::new("rating", "events.rating_range"));
    }
    crate::input::check_text(&mut e, "comment", comment, 200, false);
    e
}

/// Whether a sign-up may take a seat now: seats held back (for those signed up by a grid
/// worker or staff) are only for sign-ups made on someone's behalf.
pub fn seat_free(capacity: i64, held_back: i64, taken: i64, on_behalf: bool) -> bool {
    let open = if on_behalf { capacity } else { capacity - held_back };
    taken < open
}

/// Why a sign-up cannot be made now, as a translation key: the event must be published
/// and the session scheduled and not yet begun.
pub fn may_sign_up(event: EventStatus, session: SessionStatus, starts_at: i64, now: i64) -> Result<(), &'static str> {
    match (event, session) {
        (EventStatus::Published, SessionStatus::Scheduled) if starts_at > now => Ok(()),
        (EventStatus::Published, SessionStatus::Scheduled) => Err("events.session_started"),
        (EventStatus::Draft, _) => Err("events.not_published"),
        _ => Err("events.session_cancelled"),
    }
}

/// Two sessions overlap when each starts before the other ends.
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// What an event's status may become, or why not: it is finished once no session is left
/// open (`sessions` counts the sessions to publish with, or those still open to finish).
pub fn next_status(now: EventStatus, to: EventStatus, sessions: usize) -> Result<EventStatus, &'static str> {
    match (now, to) {
        (EventStatus::Draft, EventStatus::Published) if sessions > 0 => Ok(to),
        (EventStatus::Draft, EventStatus::Published) => Err("events.needs_sessions"),
        (EventStatus::Draft | EventStatus::Published, EventStatus::Cancelled) => Ok(to),
        (EventStatus::Published, EventStatus::Finished) if sessions == 0 => Ok(to),
        (EventStatus::Published, EventStatus::Finished) => Err("events.sessions_open"),
        _ => Err("events.not_now"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn a_session_must_end_after_it_starts_lie_ahead_and_have_seats() {
        let ok = SessionPlan { starts_at: 10 * H, ends_at: 12 * H, capacity: 30, held_back: 5 };
        assert!(check_session(&ok, H).is_empty());
        let fields = |p: SessionPlan| check_session(&p, 11 * H).into_iter().map(|e| e.field).collect::<Vec<_>>();
        let bad = SessionPlan { ends_at: 9 * H, capacity: 0, held_back: 0, ..ok };
        assert_eq!(fields(bad), ["starts_at", "ends_at", "capacity"]);
        assert_eq!(fields(SessionPlan { starts_at: 20 * H, ends_at: 21 * H, held_back: 30, ..ok }), ["held_back"]);
    }

    #[test]
    fn held_back_seats_are_only_for_those_signed_up_on_their_behalf() {
        assert!(seat_free(10, 2, 7, false));
        assert!(!seat_free(10, 2, 8, false));
        assert!(seat_free(10, 2, 9, true));
        assert!(!seat_free(10, 2, 10, true));
    }

    #[test]
    fn sign_up_only_to_a_published_session_that_has_not_begun() {
        assert_eq!(may_sign_up(EventStatus::Published, SessionStatus::Scheduled, 10, 5), Ok(()));
        assert_eq!(
            may_sign_up(EventStatus::Published, SessionStatus::Scheduled, 10, 10),
            Err("events.session_started")
        );
        assert_eq!(may_sign_up(EventStatus::Draft, SessionStatus::Scheduled, 10, 5), Err("events.not_published"));
        assert_eq!(
            may_sign_up(EventStatus::Published, SessionStatus::Cancelled, 10, 5),
            Err("events.session_cancelled")
        );
        assert_eq!(
            may_sign_up(EventStatus::Cancelled, SessionStatus::Scheduled, 10, 5),
            Err("events.session_cancelled")
        );
    }

    #[test]
    fn sessions_overlap_only_when_they_share_time() {
        assert!(overlaps((1, 3), (2, 4)));
        assert!(overlaps((1, 5), (2, 3)));
        assert!(!overlaps((1, 2), (2, 3)), "one ending as the next starts");
    }

    #[test]
    fn an_event_is_published_with_sessions_and_cancelled_before_it_is_over() {
        use EventStatus::*;
        assert_eq!(next_status(Draft, Published, 1), Ok(Published));
        assert_eq!(next_status(Draft, Published, 0), Err("events.needs_sessions"));
        assert_eq!(next_status(Published, Cancelled, 3), Ok(Cancelled));
        assert_eq!(next_status(Cancelled, Published, 3), Err("events.not_now"));
        assert_eq!(next_status(Finished, Cancelled, 3), Err("events.not_now"));
        assert_eq!(next_status(Published, Finished, 0), Ok(Finished));
        assert_eq!(next_status(Published, Finished, 1), Err("events.sessions_open"));
    }

    #[test]
    fn seats_shrink_no_lower_than_those_taken() {
        assert!(check_capacity(20, 2, 20).is_empty());
        let e = check_capacity(19, 2, 20);
        assert_eq!((e[0].field.as_str(), e[0].key), ("capacity", "events.capacity_below_taken"));
        assert_eq!(check_capacity(0, 0, 0)[0].key, "events.capacity_range");
    }

    #[test]
    fn a_volunteer_serves_from_check_in_to_check_out_within_the_session() {
        let s = (10 * H, 12 * H);
        assert_eq!(service_span(s, 10 * H + H / 2, Some(11 * H)), (10 * H + H / 2, 11 * H));
        assert_eq!(service_span(s, 9 * H, None), s, "early arrival counts from the start, to the end");
        assert_eq!(service_span(s, 11 * H, Some(13 * H)), (11 * H, 12 * H));
        assert_eq!(service_span(s, 12 * H, Some(12 * H)), s, "no usable span: the session's hours");
    }

    #[test]
    fn a_rating_is_one_to_five_stars() {
        assert!(check_rating(5, "很好").is_empty());
        assert_eq!(check_rating(0, "")[0].field, "rating");
        assert_eq!(check_rating(6, "")[0].field, "rating");
        assert_eq!(check_rating(3, "\u{1b}x")[0].field, "comment");
    }
}
