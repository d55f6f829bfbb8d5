//! Emergencies 应急 (seed 000: when typhoon 麦德姆 struck, the secretary helped vulnerable
//! residents move, door to door; seed 001: the red patrol team's flood checks): an incident
//! over some of a community's grids with its timeline; on activation a welfare check for
//! every household there, those whose residents' care tags say they need it most first,
//! each assigned to the grid's worker; a broadcast to everyone there, answered "I am safe"
//! or "I need help"; the grid worker's list of checks; the command page's live figures;
//! shelters with their capacity and the people moved into them; relief supplies per store,
//! each change a movement of the ledger's supplies book; the printed rounds list and the
//! after-action report.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod book;
pub mod demo;
pub mod hours;
pub mod pages;
pub mod plans;
pub mod report;
pub mod rounds;
pub mod shelters;
pub mod store;
pub mod subdistrict;
pub mod supplies;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::model::Permission;
use crate::error::FieldError;
use crate::services::records::model::{EntityDef, Kind, Search, Tenancy, field};
use crate::services::settings::Setting;
use crate::web::AppState;
use crate::web::capability::{Capability, SubjectLink};

/// A plan 预案 for a kind of incident, prepared beforehand: the tasks to set going, who is
/// on call (the one named is told at activation), the supplies to ready; an incident of
/// its kind takes its tasks and weighs its supplies against the stock.
pub static PLAN: EntityDef = EntityDef {
    kind: "incident_plan",
    path: "incident-plans",
    table: "incident_plans",
    tenancy: Tenancy::Community,
    fields: &[
        field("kind", Kind::Choice(&IncidentKind::TEXTS)).required().listed(),
        field("title", Kind::Text { max: 60 }).required().listed(),
        field("tasks", Kind::FreeTags),
        field("on_call_user_id", Kind::UserRef),
        field("on_call", Kind::Text { max: 200 }),
        field("supplies", Kind::LongText { max: 500 }),
        field("notes", Kind::LongText { max: 1000 }),
    ],
    title: "title",
    search: &[Search::Contains("title")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: Permission::ManageEmergency,
    write: Permission::ManageEmergency,
    rules: Some(plan_rules),
    after_write: None,
    holds_settings: false,
};

/// A plan's supplies to ready must read as items and numbers, or the plan cannot weigh
/// them against the stock.
fn plan_rules<'a>(
    _: &'a mut crate::db::Tx,
    _: Option<i64>,
    _: Option<i64>,
    merged: &'a serde_json::Map<String, serde_json::Value>,
) -> futures::future::BoxFuture<'a, crate::error::AppResult<Vec<FieldError>>> {
    let text = merged.get("supplies").and_then(serde_json::Value::as_str).unwrap_or("");
    let e = to_ready(text)
        .err()
        .map(|entry| FieldError::new("supplies", "emergency.plan_supplies_format").with("entry", entry));
    Box::pin(std::future::ready(Ok(e.into_iter().collect())))
}

pub static CAP: Capability = Capability {
    links: &[
        SubjectLink::new("incident", "/c/{code}/incidents/{id}", "inbox.group.emergency"),
        SubjectLink::new("welfare_check", "/c/{code}/welfare-checks/{id}", "inbox.group.emergency"),
    ],
    api: Some(api::routes),
    nav: Some(pages::nav),
    settings: &[&TIER_ONE, &TIER_TWO],
    records: &[&PLAN],
    ..Capability::new("emergency", routes)
};

fn routes() -> Router<AppState> {
    Router::new()
        .route("/c/{code}/incidents", get(pages::list).post(pages::create))
        .route("/c/{code}/incidents/{id}", get(pages::command))
        .route("/c/{code}/incidents/{id}/status", post(pages::set_status))
        .route("/c/{code}/incidents/{id}/tasks", post(pages::plans::done_task))
        .route("/c/{code}/incidents/{id}/field", get(pages::field::page))
        .route("/c/{code}/incidents/{id}/field-sw.js", get(pages::field::service_worker))
        .route("/c/{code}/incidents/{id}/rounds.pdf", get(pages::rounds))
        .route("/c/{code}/incidents/{id}/report", get(pages::report::page))
        .route("/c/{code}/incidents/{id}/report.xlsx", get(pages::report::xlsx))
        .route("/c/{code}/incidents/{id}/report.pdf", get(pages::report::pdf))
        .route("/c/{code}/incidents/{id}/hours", post(pages::report::record_hours))
        .route("/c/{code}/incidents/{id}/reply", get(pages::reply_page).post(pages::reply))
        .route("/c/{code}/welfare-checks/{id}", get(pages::check_page).post(pages::check))
        .route("/c/{code}/welfare-checks/{id}/assignee", post(pages::hand))
        .route("/c/{code}/welfare-checks/{id}/ticket", post(pages::raise_ticket))
        .route("/c/{code}/shelters", get(pages::shelters::list).post(pages::shelters::add))
        .route("/c/{code}/shelters/{id}", get(pages::shelters::shelter))
        .route("/c/{code}/shelters/{id}/stays", post(pages::shelters::check_in))
        .route("/c/{code}/shelter-stays/{id}/out", post(pages::shelters::check_out))
        .route("/subdistricts/{id}/incidents", get(pages::subdistrict::list).post(pages::subdistrict::create))
        .route("/subdistricts/{id}/incidents/{g}", get(pages::subdistrict::page))
        .route("/subdistricts/{id}/incidents/{g}/status", post(pages::subdistrict::set_status))
        .route("/c/{code}/supplies", get(pages::supplies::page))
        .route("/c/{code}/supplies/{what}", post(pages::supplies::post))
}

crate::text_enum! {
    /// What happened (a campaign 消杀 is run the same way, household by household).
    pub enum IncidentKind {
        Typhoon = "typhoon",
        Flood = "flood",
        Fire = "fire",
        Epidemic = "epidemic",
        Outage = "outage",
        Campaign = "campaign",
        Other = "other",
    }
}

crate::text_enum! {
    /// The response level: I (most severe) to IV, or the community's own.
    pub enum Level {
        One = "1",
        Two = "2",
        Three = "3",
        Four = "4",
        Own = "own",
    }
}

crate::text_enum! {
    /// Where an incident stands; each step is logged.
    pub enum IncidentStatus {
        Prepared = "prepared",
        Activated = "activated",
        StoodDown = "stood_down",
        Closed = "closed",
    }
}

crate::text_enum! {
    /// Where a household's welfare check stands.
    pub enum CheckStatus {
        ToCheck = "to_check",
        Safe = "safe",
        NeedsHelp = "needs_help",
        Unreachable = "unreachable",
        Sheltered = "sheltered",
        Refused = "refused",
    }
}

crate::text_enum! {
    /// What a household needs.
    pub enum Need {
        Medicine = "medicine",
        Food = "food",
        Transport = "transport",
        Power = "power",
        Other = "other",
    }
}

/// The one step on from where an incident stands: prepared → activated → stood down →
/// closed (stood down may be activated again, when the storm turns back).
pub fn next_status(from: IncidentStatus, to: IncidentStatus) -> Result<(), &'static str> {
    use IncidentStatus::*;
    match (from, to) {
        (Prepared, Activated) | (Activated, StoodDown) | (StoodDown, Activated) | (StoodDown, Closed) => Ok(()),
        _ => Err("emergency.not_a_step"),
    }
}

/// Care tags of the first tier (checked first): by default those who cannot leave or call
/// alone; each community ranks its own on its form.
pub static TIER_ONE: Setting =
    Setting::tags("emergency:tier_one", "emergency_tier_one", "|独居老人|卧床|残疾人|孕妇|").on_record();
/// The second tier: by default those who may lack means or help.
pub static TIER_TWO: Setting =
    Setting::tags("emergency:tier_two", "emergency_tier_two", "|五保户|低保|婴幼儿|高龄|").on_record();

/// A household's tier from its residents' care tags: 1 and 2 for the tags of the
/// community's first and second tiers, 3 for any other tag, 4 for none.
pub fn tier<'a>(tags: impl IntoIterator<Item = &'a str>, (one, two): (&[String], &[String])) -> i64 {
    let mut best = 4;
    for t in tags {
        let t = t.trim();
        let this = if one.iter().any(|o| o == t) {
            1
        } else if two.iter().any(|o| o == t) {
            2
        } else if t.is_empty() {
            4
        } else {
            3
        };
        best = best.min(this);
    }
    best
}

/// Whether a check's status leaves the household still to be reached.
pub fn unreached(s: CheckStatus) -> bool {
    matches!(s, CheckStatus::ToCheck | CheckStatus::Unreachable)
}

/// A change to a household's check, as the field page or a reply sends it: the version it
/// was made on (what the sender saw), so that two people changing one household at once
/// are both kept and neither silently overwritten.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckChange {
    pub status: CheckStatus,
    pub needs: Vec<Need>,
    pub note: Option<String>,
    pub seen: i64,
}

/// A change applies when made on the check as it stands; made on an older version, it is
/// kept in the history as a conflict and shown, and the check stays as the other left it.
pub fn applies(version: i64, change: &CheckChange) -> bool {
    change.seen == version
}

/// A change's fields that break a rule: needs only when help is needed; a note of at most
/// 200 characters without control characters.
pub fn check_change(c: &CheckChange) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !c.needs.is_empty() && c.status != CheckStatus::NeedsHelp && c.status != CheckStatus::Sheltered {
        e.push(FieldError::new("needs", "emergency.needs_only_for_help"));
    }
    if let Some(n) = &c.note {
        crate::input::check_text(&mut e, "note", n, 200, false);
    }
    if c.seen < 0 {
        e.push(FieldError::new("seen", "validation.range").with("min", 0).with("max", i64::MAX));
    }
    e
}

/// The command page's figures: checks by status, and the first tier still unreached.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub by_status: [i64; 6],
    pub total: i64,
    pub tier_one_unreached: i64,
}

impl Tally {
    pub fn add(&mut self, status: CheckStatus, tier: i64, n: i64) {
        let i = CheckStatus::ALL.iter().position(|s| *s == status).unwrap_or(0);
        self.by_status[i] += n;
        self.total += n;
        if tier == 1 && unreached(status) {
            self.tier_one_unreached += n;
        }
    }

    pub fn checked(&self) -> i64 {
        self.total - self.by_status[0]
    }

    /// Another's figures added (a subdistrict's, community by community).
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.by_status.iter_mut().zip(other.by_status) {
            *a += b;
        }
        self.total += other.total;
        self.tier_one_unreached += other.tier_one_unreached;
    }
}

crate::text_enum! {
    /// Where relief supplies are kept.
    pub enum StoreKind {
        Warehouse = "warehouse",
        Shelter = "shelter",
        FireStation = "fire_station",
        Other = "other",
    }
}

/// A shelter as a check-in weighs it: where it is and its free places.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    pub id: i64,
    pub name: String,
    pub at: Option<(f64, f64)>,
    pub free: i64,
}

/// The shelter to suggest when one is full: among the others with room for `people`, the
/// nearest on foot from `from` (those without a point on the map after, the roomiest first).
pub fn nearest_with_room(from: Option<(f64, f64)>, rooms: &[Room], full: i64, people: i64) -> Option<&Room> {
    let walk = |r: &Room| match (from, r.at) {
        (Some(a), Some(b)) => crate::capabilities::registry::places::map::walk_minutes(a, b),
        _ => f64::INFINITY,
    };
    rooms
        .iter()
        .filter(|r| r.id != full && r.free >= people)
        .min_by(|a, b| walk(a).total_cmp(&walk(b)).then(b.free.cmp(&a.free)))
}

/// A count of a store's item against its books: the adjustment to record (positive when
/// more was found), none when they agree. A difference needs its reason.
pub fn adjustment(books: i64, counted: i64, reason: &str) -> Result<Option<i64>, FieldError> {
    if counted < 0 {
        return Err(FieldError::new("counted", "validation.range").with("min", 0).with("max", MAX_SUPPLY));
    }
    let diff = counted - books;
    if diff != 0 && reason.trim().is_empty() {
        return Err(FieldError::new("reason", "emergency.count_reason"));
    }
    Ok((diff != 0).then_some(diff))
}

/// The most of one item moved at once, and counted in one store.
pub const MAX_SUPPLY: i64 = 1_000_000;

/// An item a plan wants ready, by its name, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToReady {
    pub item: String,
    pub wanted: i64,
}

/// Reads a plan's supplies to ready: items one a line or between "；" as staff write them
/// (矿泉水 80 箱；棉被 60 床), the name, then how many, then the unit if they like.
/// Answers the first entry that does not read so.
pub fn to_ready(text: &str) -> Result<Vec<ToReady>, String> {
    let mut out: Vec<ToReady> = Vec::new();
    for entry in text.split(['\n', '；', ';', '，', ',', '、']).map(str::trim).filter(|e| !e.is_empty()) {
        // The last number is how many (an item's name may hold digits: N95口罩 100 个).
        let read = entry.rfind(|c: char| c.is_ascii_digit()).and_then(|last| {
            let before = entry[..=last].char_indices().rev().find(|(_, c)| !c.is_ascii_digit());
            let at = before.map_or(0, |(p, c)| p + c.len_utf8());
            let item = entry[..at].trim();
            let wanted = entry[at..=last].parse::<i64>().ok().filter(|n| (1..=MAX_SUPPLY).contains(n))?;
            (!item.is_empty()).then(|| ToReady { item: item.to_string(), wanted })
        });
        match read {
            Some(r) => match out.iter_mut().find(|o| o.item == r.item) {
                Some(o) => o.wanted += r.wanted,
                None => out.push(r),
            },
            None => return Err(entry.to_string()),
        }
    }
    Ok(out)
}

/// How ready one item of a plan is: what it wants, what every store holds of the item of
/// that name, in its unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub item: String,
    pub wanted: i64,
    pub have: i64,
    pub unit: String,
}

impl Readiness {
    /// How many are still missing.
    pub fn short(&self) -> i64 {
        (self.wanted - self.have).max(0)
    }
}

/// A plan's supplies against the stock, given as (item, unit, level) of every store.
pub fn readiness(wanted: &[ToReady], stock: &[(String, String, i64)]) -> Vec<Readiness> {
    wanted
        .iter()
        .map(|w| {
            let of_it = stock.iter().filter(|s| s.0 == w.item);
            let unit = stock.iter().find(|s| s.0 == w.item).map(|s| s.1.clone()).unwrap_or_default();
            Readiness { item: w.item.clone(), wanted: w.wanted, have: of_it.map(|s| s.2).sum(), unit }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_shelter_suggests_the_nearest_with_room() {
        let room = |id, at: Option<(f64, f64)>, free| Room { id, name: format!("{id}"), at, free };
        let rooms = vec![
            room(1, Some((22.5, 113.9)), 0),
            room(2, Some((22.52, 113.9)), 30),
            room(3, Some((22.501, 113.9)), 2),
            room(4, None, 500),
        ];
        let from = Some((22.5, 113.9));
        assert_eq!(nearest_with_room(from, &rooms, 1, 2).map(|r| r.id), Some(3), "the nearest with room");
        assert_eq!(nearest_with_room(from, &rooms, 1, 5).map(|r| r.id), Some(2), "too few places nearby");
        assert_eq!(nearest_with_room(None, &rooms, 1, 5).map(|r| r.id), Some(4), "no map: the roomiest");
        assert_eq!(nearest_with_room(from, &rooms, 1, 501), None);
    }

    #[test]
    fn a_count_that_differs_from_the_books_is_an_adjustment_with_its_reason() {
        assert_eq!(adjustment(20, 20, ""), Ok(None));
        assert_eq!(adjustment(20, 18, "两箱受潮"), Ok(Some(-2)));
        assert_eq!(adjustment(20, 18, " ").unwrap_err().field, "reason");
        assert_eq!(adjustment(20, -1, "x").unwrap_err().field, "counted");
    }

    #[test]
    fn a_household_is_ranked_by_its_neediest_resident_as_the_community_ranks_tags() {
        let words = |s: &str| crate::services::records::model::tags_from_column(s);
        let (one, two) = (words(TIER_ONE.field.default.unwrap_or("")), words(TIER_TWO.field.default.unwrap_or("")));
        let tiers = (one.as_slice(), two.as_slice());
        assert_eq!(tier(["低保", "独居老人"], tiers), 1);
        assert_eq!(tier(["五保户"], tiers), 2);
        assert_eq!(tier(["退役军人"], tiers), 3);
        assert_eq!(tier(Vec::<&str>::new(), tiers), 4);
        assert_eq!(tier([""], tiers), 4);
        let own = vec!["退役军人".to_string()];
        assert_eq!(tier(["退役军人"], (own.as_slice(), &[])), 1, "a community's own first tier");
        assert_eq!(tier(["独居老人"], (own.as_slice(), &[])), 3);
    }

    #[test]
    fn a_plan_reads_its_supplies_as_staff_write_them_and_weighs_them_against_the_stock() {
        let wanted = to_ready("矿泉水 80 箱；方便面40箱\n棉被 60 床；矿泉水 20").unwrap();
        let names: Vec<(&str, i64)> = wanted.iter().map(|w| (w.item.as_str(), w.wanted)).collect();
        assert_eq!(names, [("矿泉水", 100), ("方便面", 40), ("棉被", 60)]);
        assert_eq!(to_ready("N95口罩 100 个").unwrap()[0], ToReady { item: "N95口罩".into(), wanted: 100 });
        assert_eq!(to_ready("沙袋 很多").unwrap_err(), "沙袋 很多");
        assert_eq!(to_ready("200 个").unwrap_err(), "200 个", "an entry names its item");
        assert_eq!(to_ready("沙袋 0 个").unwrap_err(), "沙袋 0 个");
        assert_eq!(to_ready("  \n；"), Ok(Vec::new()));
        let stock = [("矿泉水".to_string(), "箱".to_string(), 60), ("矿泉水".to_string(), "箱".to_string(), 50)];
        let r = readiness(&wanted, &stock);
        assert_eq!((r[0].have, r[0].short(), r[0].unit.as_str()), (110, 0, "箱"));
        assert_eq!((r[1].have, r[1].short()), (0, 40), "none in any store");
    }

    #[test]
    fn an_incident_moves_one_step_at_a_time() {
        use IncidentStatus::*;
        assert!(next_status(Prepared, Activated).is_ok());
        assert!(next_status(StoodDown, Activated).is_ok(), "the storm turns back");
        assert!(next_status(Prepared, Closed).is_err());
        assert!(next_status(Closed, Activated).is_err());
    }

    #[test]
    fn a_change_made_on_an_older_version_is_a_conflict_and_needs_go_with_help() {
        let c = CheckChange { status: CheckStatus::Safe, needs: vec![Need::Food], note: None, seen: 2 };
        assert!(!applies(3, &c) && applies(2, &c));
        assert_eq!(check_change(&c)[0].field, "needs");
        let help = CheckChange { status: CheckStatus::NeedsHelp, ..c };
        assert!(check_change(&help).is_empty());
    }

    #[test]
    fn the_tally_counts_the_first_tier_not_yet_reached() {
        let mut t = Tally::default();
        t.add(CheckStatus::ToCheck, 1, 3);
        t.add(CheckStatus::Unreachable, 1, 1);
        t.add(CheckStatus::Safe, 1, 2);
        t.add(CheckStatus::ToCheck, 4, 10);
        assert_eq!((t.total, t.checked(), t.tier_one_unreached), (16, 3, 4));
        let mut both = t.clone();
        both.merge(&t);
        assert_eq!((both.total, both.checked(), both.tier_one_unreached), (32, 6, 8));
    }
}
