//! The residents' council 党群议事会 (seed 001): a proposal 议题 with its scope, screened by
//! staff onto the agenda (or merged, or declined), discussed over rounds 协商 with minutes
//! and online comments, put to a vote 表决 under the community's rules (who votes, quorum,
//! majority, secret ballots), decided 决议 with its tally, and carried out as a project
//! whose milestones residents follow on the public page.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod dictionary;
pub mod pages;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::services::settings::Setting;
use crate::web::AppState;
use crate::web::capability::{Capability, SubjectLink};

/// Who votes on a proposal, by default: each household, each adult resident, or the council.
pub static VOTERS: Setting =
    Setting::choice("council:voters", "voters", &["household", "resident", "council"], "household");
/// The share of those who may vote that must vote, in whole percent.
pub static QUORUM_PCT: Setting = Setting::int("council:quorum_pct", "quorum_pct", 0, 100, "50");
/// The share of votes cast a decision needs beyond, in whole percent.
pub static MAJORITY_PCT: Setting = Setting::int("council:majority_pct", "majority_pct", 0, 99, "50");
/// Whether ballots are secret.
pub static SECRET: Setting = Setting::bool("council:secret", "secret", "true");

pub static CAP: Capability = Capability {
    figures: Some(&dictionary::SOURCE),
    links: &[SubjectLink::new("proposal", "/c/{code}/council/{id}", "inbox.group.council")],
    settings: &[&VOTERS, &QUORUM_PCT, &MAJORITY_PCT, &SECRET],
    api: Some(api::routes),
    board: Some(pages::board),
    ..Capability::new("council", routes)
};

fn routes() -> Router<AppState> {
    Router::new()
        .route("/c/{code}/council", get(pages::proposals).post(pages::raise))
        .route("/c/{code}/council/settings", post(pages::settings))
        .route("/c/{code}/council/members", post(pages::members))
        .route("/c/{code}/council/{id}", get(pages::proposal_page))
        .route("/c/{code}/council/{id}/screen", post(pages::screen))
        .route("/c/{code}/council/{id}/rounds", post(pages::add_round))
        .route("/c/{code}/council/{id}/comments", post(pages::comment))
        .route("/c/{code}/council/{id}/vote", post(pages::open_vote))
        .route("/c/{code}/council/{id}/ballot", post(pages::ballot))
        .route("/c/{code}/council/{id}/close", post(pages::close_vote))
        .route("/c/{code}/council/{id}/project", post(pages::project))
        .route("/c/{code}/council/{id}/milestones", post(pages::milestone))
        .route("/p/{code}/council", get(pages::public_council))
        .route("/p/{code}/council/{id}", get(pages::public_proposal))
}

crate::text_enum! {
    /// Where a proposal stands.
    pub enum Stage {
        /// Raised, waiting for staff to screen it.
        Submitted = "submitted",
        /// On the agenda: discussed in rounds.
        Agenda = "agenda",
        Merged = "merged",
        Declined = "declined",
        /// Put to the vote.
        Voting = "voting",
        /// Decided for.
        Passed = "passed",
        /// Decided against (or short of its quorum).
        Rejected = "rejected",
    }
}

impl Stage {
    /// Decided one way or the other.
    pub fn is_decided(self) -> bool {
        matches!(self, Stage::Passed | Stage::Rejected)
    }

    /// Still being worked on (shown as open on the public page).
    pub fn is_open(self) -> bool {
        matches!(self, Stage::Submitted | Stage::Agenda | Stage::Voting)
    }
}

crate::text_enum! {
    /// What a proposal is about: the whole community, one grid, or one compound.
    pub enum ScopeKind {
        Community = "community",
        Grid = "grid",
        Compound = "compound",
    }
}

/// What screening does: accept onto the agenda, merge into another, decline.
pub fn screened(stage: Stage, action: &str) -> Result<Stage, &'static str> {
    match (stage, action) {
        (Stage::Submitted, "accept") => Ok(Stage::Agenda),
        (Stage::Submitted | Stage::Agenda, "merge") => Ok(Stage::Merged),
        (Stage::Submitted, "decline") => Ok(Stage::Declined),
        _ => Err("council.not_now"),
    }
}

/// Who votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voters {
    /// One vote per household in the scope (any adult of it with an account casts it).
    Household,
    /// One vote per resident of the scope with an account.
    Resident,
    /// Council members only.
    Council,
}

impl Voters {
    pub fn parse(s: &str) -> Option<Voters> {
        match s {
            "household" => Some(Voters::Household),
            "resident" => Some(Voters::Resident),
            "council" => Some(Voters::Council),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Voters::Household => "household",
            Voters::Resident => "resident",
            Voters::Council => "council",
        }
    }

    /// The key that votes once: the household, the resident, or the member.
    pub fn key(self, household: Option<i64>, resident: Option<i64>, user: i64) -> Option<String> {
        match self {
            Voters::Household => household.map(|h| format!("household:{h}")),
            Voters::Resident => resident.map(|r| format!("resident:{r}")),
            Voters::Council => Some(format!("user:{user}")),
        }
    }
}

pub const CHOICES: [&str; 3] = ["for", "against", "abstain"];

/// The result of a vote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub cast: i64,
    /// Votes cast over those who may vote.
    pub turnout: f64,
    pub quorum_met: bool,
    /// Votes for over votes for and against (abstentions count towards the quorum only).
    pub share_for: f64,
    pub passed: bool,
}

/// Tallies a vote: it passes when the turnout reaches the quorum and more than the majority
/// share of the votes for and against are for.
pub fn outcome(eligible: i64, for_: i64, against: i64, abstain: i64, quorum_pct: i64, majority_pct: i64) -> Outcome {
    let cast = for_ + against + abstain;
    let turnout = if eligible > 0 { cast as f64 / eligible as f64 } else { 0.0 };
    // In whole numbers, so that 50% of 10 needs exactly 5 and nothing is lost to rounding.
    let quorum_met = eligible > 0 && cast * 100 >= quorum_pct * eligible;
    let decisive = for_ + against;
    let share_for = if decisive > 0 { for_ as f64 / decisive as f64 } else { 0.0 };
    let passed = quorum_met && decisive > 0 && for_ * 100 > majority_pct * decisive;
    Outcome { cast, turnout, quorum_met, share_for, passed }
}

/// What is checked of a community's council rules.
pub fn check_rules(voters: &str, quorum_pct: i64, majority_pct: i64) -> Vec<crate::error::FieldError> {
    use crate::error::FieldError;
    let mut e = Vec::new();
    if Voters::parse(voters).is_none() {
        e.push(FieldError::new("voters", "validation.choice"));
    }
    if !(0..=100).contains(&quorum_pct) {
        e.push(FieldError::new("quorum_pct", "validation.range").with("min", 0).with("max", 100));
    }
    if !(0..=99).contains(&majority_pct) {
        e.push(FieldError::new("majority_pct", "validation.range").with("min", 0).with("max", 99));
    }
    e
}

/// How far a project has come: milestones done of all.
pub fn progress(done: usize, total: usize) -> u32 {
    (done * 100).checked_div(total).unwrap_or(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening_and_stages() {
        assert_eq!(screened(Stage::Submitted, "accept"), Ok(Stage::Agenda));
        assert_eq!(screened(Stage::Agenda, "merge"), Ok(Stage::Merged));
        assert_eq!(screened(Stage::Submitted, "decline"), Ok(Stage::Declined));
        assert!(screened(Stage::Voting, "accept").is_err());
        assert!(Stage::Passed.is_decided() && !Stage::Voting.is_decided());
        assert!(Stage::Voting.is_open() && !Stage::Merged.is_open());
    }

    #[test]
    fn votes_pass_on_quorum_and_majority() {
        // 140 households, 115 voted: 98 for, 12 against, 5 abstained; quorum 50%, majority 50%.
        let o = outcome(140, 98, 12, 5, 50, 50);
        assert!(o.quorum_met && o.passed);
        assert_eq!(o.cast, 115);
        assert!((o.turnout - 115.0 / 140.0).abs() < 1e-12);
        // Short of the quorum: not passed, however many are for.
        assert!(!outcome(140, 60, 0, 0, 50, 50).passed);
        assert!(outcome(140, 70, 0, 0, 50, 50).quorum_met, "exactly half is a quorum of half");
        // A tie is not a majority; abstentions do not count against.
        assert!(!outcome(10, 4, 4, 2, 50, 50).passed);
        assert!(outcome(10, 5, 4, 1, 50, 50).passed);
        // Two thirds: 6 of 9 is more than 66% and not more than 67%.
        assert!(outcome(9, 6, 3, 0, 50, 66).passed);
        assert!(!outcome(9, 6, 3, 0, 50, 67).passed);
        assert!(!outcome(0, 0, 0, 0, 0, 50).passed);
    }

    #[test]
    fn each_voter_votes_by_their_key() {
        assert_eq!(Voters::Household.key(Some(5), Some(9), 1).as_deref(), Some("household:5"));
        assert_eq!(Voters::Resident.key(Some(5), Some(9), 1).as_deref(), Some("resident:9"));
        assert_eq!(Voters::Council.key(None, None, 1).as_deref(), Some("user:1"));
        assert_eq!(Voters::Household.key(None, Some(9), 1), None, "no household, no household vote");
        assert!(check_rules("household", 50, 50).is_empty());
        assert_eq!(check_rules("everyone", 150, 100).len(), 3);
        assert_eq!(progress(2, 4), 50);
        assert_eq!(progress(0, 0), 0);
    }
}
