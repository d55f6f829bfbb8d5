//! Participation beyond the office: dual registration 双报到 of party organisations,
//! partner units and employed party members; the public needs list 需求清单 and its four
//! pledges (认领 claim, 认捐 sponsor, 认管 take charge, 认养 adopt); pairing 结对 of members
//! and volunteers with households, with their visits (seeds 002, 003, 004).
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod dictionary;
pub mod pages;
pub mod stats;
pub mod store;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use chrono::NaiveDate;

use crate::error::FieldError;
use crate::services::settings::Setting;
use crate::web::AppState;
use crate::web::capability::{Capability, SubjectLink};

/// Registrants with fewer pledges and visits a year than this are reminded.
pub static MIN_ACTIVITY: Setting = Setting::int("participation:min_activity", "threshold", 0, 1000, "2");

pub static CAP: Capability = Capability {
    figures: Some(&dictionary::SOURCE),
    api: Some(api::routes),
    settings: &[&MIN_ACTIVITY],
    home: Some(pages::home),
    links: &[
        SubjectLink::new("registration", "/c/{code}/registrations/{id}", "inbox.group.participation"),
        SubjectLink::new("need", "/c/{code}/needs/{id}", "inbox.group.participation"),
    ],
    media: &[("need", store::need_media_check), ("pledge", store::pledge_media_check)],
    board: Some(pages::board),
    ..Capability::new("participation", routes)
};

fn routes() -> Router<AppState> {
    let photos = || DefaultBodyLimit::max(3 * crate::services::media::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/c/{code}/register", get(pages::register_page).post(pages::register))
        .route("/c/{code}/registrations", get(pages::registrations).post(pages::remind))
        .route("/c/{code}/registrations/{id}", get(pages::registration_page))
        .route("/c/{code}/registrations/{id}/decide", post(pages::decide_registration))
        .route("/c/{code}/needs", get(pages::needs).post(pages::add_need).layer(photos()))
        .route("/c/{code}/needs/{id}", get(pages::need_page))
        .route("/c/{code}/needs/{id}/act", post(pages::need_act))
        .route("/c/{code}/needs/{id}/pledges", post(pages::pledge))
        .route("/c/{code}/pledges/{id}/fulfil", post(pages::fulfil).layer(photos()))
        .route("/c/{code}/pledges/{id}/confirm", post(pages::confirm_pledge))
        .route("/c/{code}/pairs", get(pages::pairs).post(pages::add_pair))
        .route("/c/{code}/pairs/{id}", get(pages::pair_page))
        .route("/c/{code}/pairs/{id}/visits", post(pages::add_visit))
        .route("/c/{code}/visits/{id}/ticket", post(pages::visit_ticket))
        .route("/c/{code}/participation/stats", get(pages::community_stats))
        .route("/c/{code}/participation.xlsx", get(pages::community_export))
        .route("/subdistricts/{id}/participation/stats", get(pages::subdistrict_stats))
        .route("/subdistricts/{id}/participation.xlsx", get(pages::subdistrict_export))
        .route("/p/{code}/needs", get(pages::public_board))
        .route("/p/{code}/registered", get(pages::public_registered))
}

/// Who registers.
pub const REGISTRATION_KINDS: &[&str] = &["unit", "member"];
/// What a need asks for.
pub const NEED_KINDS: &[&str] = &["service", "item", "money", "place"];
/// The four ways to pledge.
pub const PLEDGE_KINDS: &[&str] = &["claim", "sponsor", "take_charge", "adopt"];

crate::text_enum! {
    /// Who registers: a unit (party organisation or partner unit), or a party member.
    pub enum RegistrationKind {
        Unit = "unit",
        Member = "member",
    }
}

crate::text_enum! {
    /// Where a registration stands: waiting for staff, accepted, or declined.
    pub enum RegistrationStatus {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
    }
}

crate::text_enum! {
    /// What a need asks for: service, items, money, or a place to look after.
    pub enum NeedKind {
        Service = "service",
        Item = "item",
        Money = "money",
        Place = "place",
    }
}

crate::text_enum! {
    /// The four ways to pledge: 认领 claim, 认捐 sponsor, 认管 take charge, 认养 adopt.
    pub enum PledgeKind {
        Claim = "claim",
        Sponsor = "sponsor",
        TakeCharge = "take_charge",
        Adopt = "adopt",
    }
}

crate::text_enum! {
    /// Where a pledge stands: pledged; reported done (submitted) and waiting for staff;
    /// fulfilled (confirmed); or cancelled (its need withdrawn).
    pub enum PledgeStatus {
        Pledged = "pledged",
        Submitted = "submitted",
        Fulfilled = "fulfilled",
        Cancelled = "cancelled",
    }
}

crate::text_enum! {
    /// Who is paired with households: a party member (党群1+1) or a volunteer.
    pub enum PairKind {
        Party = "party",
        Volunteer = "volunteer",
    }
}

crate::text_enum! {
    /// A need's states: suggested by a resident (then declined, or opened by staff); open for
    /// pledges; fully pledged; in progress; fulfilled; closed; or withdrawn.
    pub enum NeedStatus {
        Suggested = "suggested",
        Declined = "declined",
        Open = "open",
        Pledged = "pledged",
        InProgress = "in_progress",
        Fulfilled = "fulfilled",
        Closed = "closed",
        Withdrawn = "withdrawn",
    }
}

impl NeedStatus {
    /// On the public board (suggestions and refusals are not).
    pub fn is_public(self) -> bool {
        !matches!(self, NeedStatus::Suggested | NeedStatus::Declined)
    }

    /// Still taking pledges.
    pub fn takes_pledges(self) -> bool {
        matches!(self, NeedStatus::Open | NeedStatus::InProgress)
    }
}

/// The state that follows from how much is pledged and fulfilled, for a need that is
/// live (neither suggested, declined, closed nor withdrawn).
pub fn settle(current: NeedStatus, quantity: i64, pledged: i64, fulfilled: i64) -> NeedStatus {
    match current {
        NeedStatus::Suggested | NeedStatus::Declined | NeedStatus::Closed | NeedStatus::Withdrawn => current,
        _ if fulfilled >= quantity => NeedStatus::Fulfilled,
        _ if fulfilled > 0 || current == NeedStatus::InProgress => NeedStatus::InProgress,
        _ if pledged >= quantity => NeedStatus::Pledged,
        _ => NeedStatus::Open,
    }
}

/// What staff may do to a need in a state: the action and the state it leads to.
pub fn staff_step(current: NeedStatus, action: &str) -> Result<NeedStatus, &'static str> {
    use NeedStatus::*;
    Ok(match (action, current) {
        ("approve", Suggested) => Open,
        ("decline", Suggested) => Declined,
        ("start", Open | Pledged) => InProgress,
        ("close", Fulfilled) => Closed,
        ("withdraw", Open | Pledged | InProgress) => Withdrawn,
        _ => return Err("participation.not_now"),
    })
}

/// How much of a pledge of `amount` fits what is left; with `trim`, the last pledge is cut
/// to what is left instead of being refused.
pub fn fit(amount: i64, quantity: i64, pledged: i64, trim: bool) -> Result<i64, FieldError> {
    if amount <= 0 {
        return Err(FieldError::new("amount", "participation.positive"));
    }
    let left = (quantity - pledged).max(0);
    if left == 0 {
        return Err(FieldError::new("amount", "participation.nothing_left"));
    }
    if amount <= left {
        Ok(amount)
    } else if trim {
        Ok(left)
    } else {
        Err(FieldError::new("amount", "participation.over_left").with("left", left))
    }
}

/// How many days a pair's visits are overdue today (none when not yet due, ended, or not
/// started): visits are due every `every_days` from the start or the last visit.
pub fn visit_overdue(
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    last_visit: Option<NaiveDate>,
    every_days: i64,
    today: NaiveDate,
) -> Option<i64> {
    if today < starts_on || ends_on.is_some_and(|e| today > e) {
        return None;
    }
    let from = last_visit.unwrap_or(starts_on).max(starts_on);
    let late = (today - from).num_days() - every_days;
    (late > 0).then_some(late)
}

/// Whether a registrant is to be reminded: accepted, and less active this year than the
/// community asks.
pub fn needs_reminder(accepted: bool, activity_this_year: i64, threshold: i64) -> bool {
    accepted && activity_this_year < threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_need_moves_with_what_is_pledged_and_fulfilled() {
        use NeedStatus::*;
        assert_eq!(settle(Open, 10, 4, 0), Open);
        assert_eq!(settle(Open, 10, 10, 0), Pledged);
        assert_eq!(settle(Pledged, 10, 10, 3), InProgress);
        assert_eq!(settle(InProgress, 10, 10, 10), Fulfilled);
        assert_eq!(settle(InProgress, 10, 6, 0), InProgress, "once started, it stays started");
        assert_eq!(settle(Withdrawn, 10, 10, 10), Withdrawn);
        assert_eq!(settle(Suggested, 10, 0, 0), Suggested);
        assert_eq!(staff_step(Suggested, "approve"), Ok(Open));
        assert_eq!(staff_step(Fulfilled, "close"), Ok(Closed));
        assert!(staff_step(Closed, "withdraw").is_err());
        assert!(staff_step(Open, "close").is_err(), "closed only once fulfilled");
        assert!(
            Open.takes_pledges() && InProgress.takes_pledges() && !Pledged.takes_pledges() && !Closed.takes_pledges()
        );
        assert!(!Suggested.is_public() && Open.is_public());
    }

    #[test]
    fn a_need_is_never_over_filled() {
        assert_eq!(fit(3, 10, 4, false), Ok(3));
        assert_eq!(fit(6, 10, 4, false), Ok(6));
        let e = fit(7, 10, 4, false).unwrap_err();
        assert_eq!((e.key, e.params[0].1.as_str()), ("participation.over_left", "6"));
        assert_eq!(fit(7, 10, 4, true), Ok(6), "the last pledge is trimmed");
        assert_eq!(fit(1, 10, 10, true).unwrap_err().key, "participation.nothing_left");
        assert_eq!(fit(0, 10, 0, true).unwrap_err().key, "participation.positive");
    }

    /// The kinds offered on forms are the kinds the enums store.
    #[test]
    fn the_kinds_offered_are_the_kinds_stored() {
        assert_eq!(REGISTRATION_KINDS.to_vec(), RegistrationKind::ALL.map(RegistrationKind::as_str).to_vec());
        assert_eq!(NEED_KINDS.to_vec(), NeedKind::ALL.map(NeedKind::as_str).to_vec());
        assert_eq!(PLEDGE_KINDS.to_vec(), PledgeKind::ALL.map(PledgeKind::as_str).to_vec());
    }

    #[test]
    fn visits_fall_due_on_schedule() {
        let d = |m: u32, n: u32| NaiveDate::from_ymd_opt(2026, m, n).unwrap();
        assert_eq!(visit_overdue(d(11, 1), None, None, 7, d(11, 8)), None, "due today is not late");
        assert_eq!(visit_overdue(d(11, 1), None, None, 7, d(11, 10)), Some(2));
        assert_eq!(visit_overdue(d(11, 1), None, Some(d(11, 9)), 7, d(11, 10)), None);
        assert_eq!(visit_overdue(d(11, 1), Some(d(11, 5)), None, 7, d(11, 20)), None, "ended pairs are not due");
        assert_eq!(visit_overdue(d(12, 1), None, None, 7, d(11, 20)), None, "not started");
        assert!(needs_reminder(true, 1, 2) && !needs_reminder(true, 2, 2) && !needs_reminder(false, 0, 2));
    }
}
