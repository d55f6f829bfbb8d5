//! Volunteers, service records, rules, the shop, the honor roll and certificates in the
//! database. Every function takes the community first and checks the actor where the
//! data is read or written: outside their reach, a record does not exist.

mod honours;
mod rewards;
mod rules;
mod service;
mod volunteering;

pub use honours::{
    Certificate, Commendation, RankBy, Ranked, certificate, certificate_by_code, commendations, honor_roll,
    issue_certificate, served,
};
pub use rewards::{
    Redemption, Reward, cancel, confirm, expire_due, handovers, my_redemptions, picture_check, pictures, redeem,
    redemption, reward, shop, taken_by_person,
};
pub use rules::{ByHand, NewRule, add_rule, all_rules, correct, give, rule};
pub use service::{
    Errand, NewService, RecordFilter, ServiceRecord, decide, from_ticket, media_check, record, record_for,
    record_service, records, submit_service,
};
pub use volunteering::{
    Membership, Registration, Volunteer, members, register_self, set_membership, sign_up, teams, teams_of,
    update_volunteer, volunteer, volunteer_for, volunteer_of, volunteers,
};

use super::ledger;

/// The points capability's process-wide parts.
#[derive(Default)]
pub struct Runtime {
    pub postings: crate::services::ledger::store::Grouped<ledger::Points>,
}
