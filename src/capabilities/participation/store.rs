//! Registrations, needs and pledges, pairs and visits in the database. Every function
//! takes the community first and checks the actor where data is read or written.

mod needs_list;
mod pairing;
mod pledges;
mod registrants;

pub use needs_list::{Need, NeedEvent, NewNeed, add_need, history, may_see, need, need_act, need_media_check, needs};
pub use pairing::{
    NewPair, Pair, PairView, Visit, add_pair, add_visit, overdue_pairs, pair_for, pair_schedule, paired_with, pairs,
    uncovered, visit_to_ticket, visits,
};
pub use pledges::{
    Evidence, Pledge, board, confirm, fulfil, make_pledge, pledge, pledge_media_check, pledges_of, pledges_of_need,
    settle_paid, to_confirm,
};
pub use registrants::{
    Listed, NewRegistration, Registration, decide, listed_publicly, mine, register, registration, registration_for,
    registrations, remind, set_threshold,
};

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}
