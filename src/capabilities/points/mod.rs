//! Volunteer service and the points economy 红心微聚 (seed 000): volunteers and their
//! teams, service records 志愿服务记录 approved by staff, points by versioned rules, an
//! exact double-entry ledger 积分流水, the rewards shop 积分超市 with two-step redemption,
//! the honor roll 光荣榜 with commendations 表彰, and service certificates.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod certificate;
pub mod demo;
pub mod dictionary;
pub mod ledger;
pub mod pages;
pub mod stats;
pub mod store;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::web::AppState;
use crate::web::capability::{Capability, Job, SubjectLink, WayIn};

use crate::auth::model::Permission::*;
use crate::error::FieldError;
use crate::services::records::model::{EntityDef, Kind, Search, Tenancy, field};

use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

pub static CAP: Capability = Capability {
    figures: Some(&dictionary::SOURCE),
    api: Some(api::routes),
    records: &[&REWARD, &COMMENDATION],
    home: Some(pages::home),
    links: &[
        SubjectLink::new("service_record", "/c/{code}/service-records/{id}", "inbox.group.points"),
        SubjectLink::new("redemption", "/c/{code}/redemptions/{id}", "inbox.group.points"),
    ],
    ways_in: &[WayIn { path: "/c/{code}/volunteers/join", label: "joining.volunteer", hint: "joining.volunteer_hint" }],
    media: &[("service_record", store::media_check), ("reward", store::picture_check)],
    record_page: Some(record_page),
    jobs: &[Job { name: "points: redemption holds expire", run: expire_holds }],
    runtime: Some(|r| {
        r.insert(std::sync::Arc::new(store::Runtime::default()));
    }),
    board: Some(pages::board),
    ..Capability::new("points", routes)
};

/// A reward's page offers staff its picture for the shop.
fn record_page<'a>(
    _: &'a AppState,
    ctx: &'a crate::web::PageCtx,
    actor: &'a crate::auth::model::Actor,
    kind: &'a str,
    c: &'a crate::auth::guard::CommunityRef,
    id: i64,
) -> futures::future::BoxFuture<'a, crate::error::AppResult<crate::web::capability::RecordExtras>> {
    let links = if kind == "reward" && actor.can(c.id, ManagePoints) {
        vec![(format!("/c/{}/rewards/{id}/picture", c.code), ctx.t("points.picture"))]
    } else {
        Vec::new()
    };
    Box::pin(std::future::ready(Ok(crate::web::capability::RecordExtras { links, map: None })))
}

/// What the points keep while the server runs.
pub fn runtime(state: &AppState) -> &store::Runtime {
    state.runtime::<std::sync::Arc<store::Runtime>>()
}

fn expire_holds(state: &AppState, now: i64) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move { store::expire_due(state, now).await.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}")) })
}

fn routes() -> Router<AppState> {
    let photo = || DefaultBodyLimit::max(3 * crate::services::media::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/c/{code}/volunteer", get(pages::my_service))
        .route("/c/{code}/volunteer/register", post(pages::register))
        .route("/c/{code}/volunteer/profile", post(pages::update_profile))
        .route("/c/{code}/volunteer/teams", post(pages::teams))
        .route("/c/{code}/teams/{id}/members", get(pages::team_members))
        .route("/c/{code}/volunteers", get(pages::volunteer_list).post(pages::staff_sign_up))
        .route("/c/{code}/volunteers/join", get(pages::join_page).post(pages::join))
        .route("/c/{code}/volunteers/{id}", get(pages::volunteer_page))
        .route("/c/{code}/volunteers/{id}/certificates", post(pages::issue_certificate))
        .route("/c/{code}/certificates/{file}", get(pages::certificate_pdf))
        .route("/c/{code}/service-records", get(pages::review).post(pages::add_record).layer(photo()))
        .route("/c/{code}/service-records/approve", post(pages::approve_picked))
        .route("/c/{code}/service-records/{id}", get(pages::record_page))
        .route("/c/{code}/service-records/{id}/decide", post(pages::decide))
        .route("/c/{code}/points", get(pages::ledger_page))
        .route("/c/{code}/points/rules", post(pages::add_rule))
        .route("/c/{code}/points/give", post(pages::give))
        .route("/c/{code}/points/reverse", post(pages::reverse))
        .route("/c/{code}/points/stats", get(pages::community_stats))
        .route("/c/{code}/points.xlsx", get(pages::community_export))
        .route("/c/{code}/shop", get(pages::shop))
        .route("/c/{code}/rewards/{id}/picture", get(pages::picture_page).post(pages::set_picture).layer(photo()))
        .route("/c/{code}/shop/{id}/redeem", post(pages::redeem))
        .route("/c/{code}/redemptions/{id}", get(pages::redemption_page))
        .route("/c/{code}/redemptions/{id}/cancel", post(pages::cancel))
        .route("/c/{code}/handover", get(pages::handover_page).post(pages::handover))
        .route("/subdistricts/{id}/points/stats", get(pages::subdistrict_stats))
        .route("/subdistricts/{id}/points.xlsx", get(pages::subdistrict_export))
        .route("/p/{code}/honor", get(pages::honor))
        .route("/p/{code}/certificates/{cert}", get(pages::verify_certificate))
}

/// Kinds of service, for rules and statistics (labels: `choice.service_record.service_type.*`).
pub const SERVICE_TYPES: &[&str] =
    &["care", "patrol", "environment", "errand", "culture", "mediation", "event", "other"];

/// The rewards of the shop are records like any other (list, edit, archive, audit).
pub static REWARD: EntityDef = EntityDef {
    kind: "reward",
    path: "rewards",
    table: "rewards",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("kind", Kind::Choice(&["service", "goods"])).required().listed(),
        field("provider_unit_id", Kind::Ref("partner_unit")).listed(),
        field("price", Kind::Int { min: 1, max: 1_000_000 }).required().listed(),
        field("stock", Kind::Int { min: 0, max: 1_000_000 }).required().listed(),
        field("per_person_limit", Kind::Int { min: 1, max: 1000 }),
        field("valid_from", Kind::Date),
        field("valid_to", Kind::Date),
        field("hold_days", Kind::Int { min: 1, max: 90 }).required(),
        field("description", Kind::LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: ManagePoints,
    write: ManagePoints,
    rules: None,
    after_write: None,
    holds_settings: false,
};

/// 表彰: who was honoured, for what, when, by whom.
pub static COMMENDATION: EntityDef = EntityDef {
    kind: "commendation",
    path: "commendations",
    table: "commendations",
    tenancy: Tenancy::Community,
    fields: &[
        field("honoree_kind", Kind::Choice(&["person", "team", "unit"])).required().listed(),
        field("honoree_name", Kind::Text { max: 100 }).required().listed(),
        field("show_name", Kind::Bool),
        field("team_id", Kind::Ref("team")),
        field("partner_unit_id", Kind::Ref("partner_unit")),
        field("title", Kind::Text { max: 100 }).required().listed(),
        field("awarded_on", Kind::Date).required().listed(),
        field("issuer", Kind::Text { max: 100 }).required().listed(),
        field("notes", Kind::LongText { max: 1000 }),
    ],
    title: "title",
    search: &[Search::Contains("honoree_name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: ManagePoints,
    write: ManagePoints,
    rules: None,
    after_write: None,
    holds_settings: false,
};

// ---------- service records ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A ticket the volunteer resolved.
    Ticket,
    /// A patrol log.
    Patrol,
    /// Entered by staff.
    Staff,
    /// Reported by the volunteer; staff must approve it.
    #[serde(rename = "self")]
    SelfReported,
    /// A fulfilled pledge to a need.
    Pledge,
    /// Serving at an event's session (checked in at its door).
    Event,
    /// A shift on duty at a warm station (checked in and out).
    Duty,
    /// Helping in an emergency (hours entered by staff after it).
    Emergency,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ticket => "ticket",
            Source::Patrol => "patrol",
            Source::Staff => "staff",
            Source::SelfReported => "self",
            Source::Pledge => "pledge",
            Source::Event => "event",
            Source::Duty => "duty",
            Source::Emergency => "emergency",
        }
    }
}

crate::text_enum! {
    /// Where a service record stands: waiting for staff, approved (and paid), or rejected.
    pub enum ServiceStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// What makes a service record possible at all: a span of time that has begun, and no
/// more minutes than the span holds.
pub fn check_service(started_at: i64, ended_at: i64, minutes: i64, now: i64) -> Vec<FieldError> {
    let mut e = Vec::new();
    if ended_at <= started_at {
        e.push(FieldError::new("ended_at", "points.ends_before_start"));
    } else if minutes > (ended_at - started_at) / MINUTE_MS {
        e.push(FieldError::new("minutes", "points.longer_than_span"));
    }
    if minutes <= 0 {
        e.push(FieldError::new("minutes", "points.positive"));
    } else {
        crate::input::check_range(&mut e, "minutes", minutes, crate::input::limits::SERVICE_MINUTES);
    }
    if started_at > now {
        e.push(FieldError::new("started_at", "points.in_future"));
    }
    if ended_at > now + 5 * MINUTE_MS {
        e.push(FieldError::new("ended_at", "points.in_future"));
    }
    e
}

/// Whether two spans `[start, end)` share any time.
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Nobody approves their own service.
pub fn may_decide(decider_user: i64, record_user: i64) -> Result<(), &'static str> {
    if decider_user == record_user { Err("points.own_record") } else { Ok(()) }
}

// ---------- rules ----------

crate::text_enum! {
    pub enum RuleKind {
        /// Points for each hour of a type of service.
        PerHour = "per_hour",
        /// Fixed points for each service (activity) of a type.
        PerActivity = "per_activity",
        /// Fixed points given by staff, with a reason.
        Bonus = "bonus",
        /// Fixed points taken for misconduct, with a reason (rural 文明积分).
        Deduction = "deduction",
    }
}

impl RuleKind {
    /// Paid for service (the others are given by hand).
    pub fn pays_for_service(self) -> bool {
        matches!(self, RuleKind::PerHour | RuleKind::PerActivity)
    }

    /// Given or taken by staff by hand.
    pub fn is_manual(self) -> bool {
        matches!(self, RuleKind::Bonus | RuleKind::Deduction)
    }
}

/// One version of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Rule {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: RuleKind,
    pub service_type: Option<String>,
    pub points: i64,
    pub daily_cap: Option<i64>,
    pub monthly_cap: Option<i64>,
    pub effective_from: i64,
    pub effective_to: Option<i64>,
}

impl Rule {
    pub fn in_force(&self, at: i64) -> bool {
        self.effective_from <= at && self.effective_to.is_none_or(|to| at < to)
    }
}

/// The rules that pay for a service of this type served at `at`: those naming the type,
/// else those for any type (`*`).
pub fn paying_rules<'a>(rules: &'a [Rule], service_type: &str, at: i64) -> Vec<&'a Rule> {
    let live = |want: &str| -> Vec<&'a Rule> {
        rules
            .iter()
            .filter(|r| r.kind.pays_for_service() && r.in_force(at))
            .filter(|r| r.service_type.as_deref() == Some(want))
            .collect()
    };
    let exact = live(service_type);
    if exact.is_empty() { live("*") } else { exact }
}

/// What a rule gives for a service of `minutes`, before caps (whole points, rounded down).
pub fn earned(rule: &Rule, minutes: i64) -> i64 {
    match rule.kind {
        // Both are bounded (a day's minutes, a rule's points); saturating all the same.
        RuleKind::PerHour => minutes.saturating_mul(rule.points) / 60,
        RuleKind::PerActivity => rule.points,
        RuleKind::Bonus | RuleKind::Deduction => 0,
    }
}

/// What may still be given under a rule's caps, when `today` and `this_month` points were
/// already given under it to the same person.
pub fn capped(amount: i64, today: i64, this_month: i64, daily_cap: Option<i64>, monthly_cap: Option<i64>) -> i64 {
    let mut out = amount;
    if let Some(cap) = daily_cap {
        out = out.min(cap - today);
    }
    if let Some(cap) = monthly_cap {
        out = out.min(cap - this_month);
    }
    out.max(0)
}

/// What is checked of a rule (or a new version of one) before it is kept.
pub fn check_rule(kind: Option<RuleKind>, service_type: Option<&str>, points: i64) -> Vec<FieldError> {
    let mut e = Vec::new();
    match kind {
        None => e.push(FieldError::new("kind", "validation.choice")),
        Some(k) if k.pays_for_service() => match service_type {
            Some(t) if t == "*" || SERVICE_TYPES.contains(&t) => {}
            _ => e.push(FieldError::new("service_type", "validation.choice")),
        },
        Some(_) => {}
    }
    if points <= 0 {
        e.push(FieldError::new("points", "points.positive"));
    } else {
        crate::input::check_range(&mut e, "points", points, crate::input::limits::RULE_POINTS);
    }
    e
}

// ---------- the ledger ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Person,
    Team,
    Unit,
    /// The community's: where points come from (its balance is minus all it issued).
    Issuing,
    /// Points held for redemptions not yet handed over.
    Holding,
    /// Whoever hands rewards over: the community (owner 0) or a partner merchant.
    Provider,
}

impl AccountKind {
    pub const ALL: [AccountKind; 6] = [
        AccountKind::Person,
        AccountKind::Team,
        AccountKind::Unit,
        AccountKind::Issuing,
        AccountKind::Holding,
        AccountKind::Provider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Person => "person",
            AccountKind::Team => "team",
            AccountKind::Unit => "unit",
            AccountKind::Issuing => "issuing",
            AccountKind::Holding => "holding",
            AccountKind::Provider => "provider",
        }
    }

    pub fn parse(s: &str) -> Option<AccountKind> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Only the issuing account may go below zero.
    pub fn may_go_negative(self) -> bool {
        self == AccountKind::Issuing
    }
}

/// Why points moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// An approved service record, by a rule.
    Service,
    /// Given by staff under a bonus rule.
    Bonus,
    /// Taken by staff under a deduction rule.
    Deduction,
    /// A manual adjustment with its reason and author.
    Adjustment,
    /// Points held for a redemption.
    Hold,
    /// Handed over: the held points go to the provider.
    Settle,
    /// A redemption cancelled or expired: the held points go back.
    Release,
    /// A correction: the same amount back, citing the movement.
    Reversal,
}

impl Cause {
    pub const ALL: [Cause; 8] = [
        Cause::Service,
        Cause::Bonus,
        Cause::Deduction,
        Cause::Adjustment,
        Cause::Hold,
        Cause::Settle,
        Cause::Release,
        Cause::Reversal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Service => "service",
            Cause::Bonus => "bonus",
            Cause::Deduction => "deduction",
            Cause::Adjustment => "adjustment",
            Cause::Hold => "hold",
            Cause::Settle => "settle",
            Cause::Release => "release",
            Cause::Reversal => "reversal",
        }
    }

    pub fn parse(s: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether points may move for this cause from an account of kind `from` to one of
    /// kind `to`.
    pub fn allows(self, from: AccountKind, to: AccountKind) -> bool {
        use AccountKind::*;
        let earner = |k: AccountKind| matches!(k, Person | Team | Unit);
        match self {
            Cause::Service | Cause::Bonus => from == Issuing && earner(to),
            Cause::Deduction => earner(from) && to == Issuing,
            Cause::Adjustment => (from == Issuing && earner(to)) || (earner(from) && to == Issuing),
            Cause::Hold => from == Person && to == Holding,
            Cause::Settle => from == Holding && to == Provider,
            Cause::Release => from == Holding && to == Person,
            // A reversal runs another movement backwards; the store checks it against that one.
            Cause::Reversal => true,
        }
    }

    /// Causes that must name the record behind them (the others name a reason).
    pub fn needs_cause_id(self) -> bool {
        matches!(self, Cause::Service | Cause::Hold | Cause::Settle | Cause::Release | Cause::Reversal)
    }
}

impl crate::services::ledger::AccountKind for AccountKind {
    const ALL: &'static [AccountKind] = &AccountKind::ALL;
    fn as_str(self) -> &'static str {
        AccountKind::as_str(self)
    }
    fn may_go_negative(self) -> bool {
        AccountKind::may_go_negative(self)
    }
}

impl crate::services::ledger::Cause<AccountKind> for Cause {
    const ALL: &'static [Cause] = &Cause::ALL;
    const REVERSAL: Cause = Cause::Reversal;
    fn as_str(self) -> &'static str {
        Cause::as_str(self)
    }
    fn allows(self, from: AccountKind, to: AccountKind) -> bool {
        Cause::allows(self, from, to)
    }
    fn needs_cause_id(self) -> bool {
        Cause::needs_cause_id(self)
    }
    /// Holds, hand-overs and releases are undone by their own steps, never by a reversal.
    fn reversible(self) -> bool {
        matches!(self, Cause::Service | Cause::Bonus | Cause::Deduction | Cause::Adjustment)
    }
}

// ---------- the shop ----------

crate::text_enum! {
    pub enum RedemptionStatus {
        Held = "held",
        Confirmed = "confirmed",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

crate::text_enum! {
    /// What the shop offers: a service done for the holder, or goods handed over.
    pub enum RewardKind {
        Service = "service",
        Goods = "goods",
    }
}

/// What a redemption must find: an item on offer today, in stock, within the person's
/// limit, and enough points. The first reason it cannot go ahead, as an i18n key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub price: i64,
    pub stock: i64,
    pub limit: Option<i64>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub archived: bool,
}

pub fn may_redeem(offer: &Offer, today: NaiveDate, taken_by_person: i64, balance: i64) -> Result<(), &'static str> {
    if offer.archived || offer.valid_from.is_some_and(|d| today < d) || offer.valid_to.is_some_and(|d| today > d) {
        return Err("points.not_on_offer");
    }
    if offer.stock <= 0 {
        return Err("points.out_of_stock");
    }
    if offer.limit.is_some_and(|l| taken_by_person >= l) {
        return Err("points.over_limit");
    }
    if balance < offer.price {
        return Err("points.insufficient");
    }
    Ok(())
}

/// A handover code must match exactly (spaces around it are forgiven).
pub fn code_matches(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    let g = given.trim();
    g.len() == expected.len() && bool::from(g.as_bytes().ct_eq(expected.as_bytes()))
}

// ---------- the honor roll ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Year,
    All,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "month" => Some(Period::Month),
            "year" => Some(Period::Year),
            "all" => Some(Period::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Year => "year",
            Period::All => "all",
        }
    }

    /// The first day of the period that holds `today`; none for all time.
    pub fn start(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Month => today.with_day(1),
            Period::Year => NaiveDate::from_ymd_opt(today.year(), 1, 1),
            Period::All => None,
        }
    }
}

crate::text_enum! {
    /// Who a commendation honours: a person, a team or a (partner) unit.
    pub enum HonoreeKind {
        Person = "person",
        Team = "team",
        Unit = "unit",
    }
}

/// A volunteer number: the community's code and a sequence, e.g. `440804003001-00042`.
pub fn volunteer_number(community_code: &str, seq: i64) -> String {
    format!("{community_code}-{seq:05}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: RuleKind, ty: Option<&str>, points: i64, from: i64, to: Option<i64>) -> Rule {
        Rule {
            id: 1,
            code: "r".into(),
            version: 1,
            name: "r".into(),
            kind,
            service_type: ty.map(String::from),
            points,
            daily_cap: None,
            monthly_cap: None,
            effective_from: from,
            effective_to: to,
        }
    }

    #[test]
    fn a_service_is_a_real_span_and_no_longer_than_it() {
        let t0 = 1_000 * HOUR_MS;
        assert!(check_service(t0, t0 + 2 * HOUR_MS, 120, t0 + 3 * HOUR_MS).is_empty());
        let e = check_service(t0, t0 + HOUR_MS, 61, t0 + 3 * HOUR_MS);
        assert_eq!(e[0].field, "minutes");
        assert_eq!(e[0].key, "points.longer_than_span");
        assert_eq!(check_service(t0, t0, 10, t0)[0].field, "ended_at");
        assert!(check_service(t0, t0 + HOUR_MS, 0, t0 + HOUR_MS).iter().any(|e| e.key == "points.positive"));
        assert!(check_service(t0 + HOUR_MS, t0 + 2 * HOUR_MS, 30, t0).iter().any(|e| e.field == "started_at"));
        assert!(overlaps((0, 10), (9, 20)) && !overlaps((0, 10), (10, 20)));
        assert!(may_decide(5, 5).is_err() && may_decide(5, 6).is_ok());
    }

    #[test]
    fn the_rule_in_force_when_served_pays_and_caps_hold() {
        let old = rule(RuleKind::PerHour, Some("care"), 10, 0, Some(100));
        let new = Rule { id: 2, version: 2, points: 20, effective_from: 100, effective_to: None, ..old.clone() };
        let any = rule(RuleKind::PerActivity, Some("*"), 5, 0, None);
        let rules = vec![old.clone(), new.clone(), any.clone()];
        assert_eq!(paying_rules(&rules, "care", 50), vec![&old]);
        assert_eq!(paying_rules(&rules, "care", 150), vec![&new]);
        assert_eq!(paying_rules(&rules, "patrol", 150), vec![&any], "no exact rule: the rule for any service");
        assert_eq!(earned(&old, 90), 15);
        assert_eq!(earned(&old, 7), 1, "whole points, rounded down");
        assert_eq!(earned(&any, 600), 5);
        assert_eq!(capped(30, 0, 0, Some(20), None), 20);
        assert_eq!(capped(30, 15, 0, Some(20), None), 5);
        assert_eq!(capped(30, 0, 95, Some(50), Some(100)), 5);
        assert_eq!(capped(30, 25, 0, Some(20), None), 0);
        assert!(check_rule(Some(RuleKind::PerHour), Some("care"), 10).is_empty());
        assert_eq!(check_rule(Some(RuleKind::PerHour), None, 10)[0].field, "service_type");
        assert_eq!(check_rule(Some(RuleKind::Bonus), None, 0)[0].key, "points.positive");
    }

    #[test]
    fn points_move_only_between_the_accounts_their_cause_allows() {
        use AccountKind::*;
        assert!(Cause::Service.allows(Issuing, Person) && !Cause::Service.allows(Person, Issuing));
        assert!(Cause::Deduction.allows(Person, Issuing));
        assert!(Cause::Hold.allows(Person, Holding) && !Cause::Hold.allows(Issuing, Holding));
        assert!(Cause::Settle.allows(Holding, Provider) && Cause::Release.allows(Holding, Person));
        assert!(!Cause::Settle.allows(Holding, Person));
        assert!(Cause::Service.needs_cause_id() && !Cause::Adjustment.needs_cause_id());
        assert!(Issuing.may_go_negative() && !Person.may_go_negative() && !Holding.may_go_negative());
    }

    #[test]
    fn the_check_finds_a_balance_that_is_not_its_movements() {
        let ok = crate::services::ledger::AccountFacts {
            community_id: 1,
            id: 7,
            kind: "person".into(),
            stored: 30,
            credits: 50,
            debits: 20,
        };
        assert!(crate::services::ledger::account_problems::<AccountKind>(&ok).is_empty());
        let drifted = crate::services::ledger::AccountFacts { stored: 31, ..ok.clone() };
        assert!(crate::services::ledger::account_problems::<AccountKind>(&drifted)[0].contains("stored balance 31"));
        let negative = crate::services::ledger::AccountFacts { stored: -5, credits: 0, debits: 5, ..ok.clone() };
        assert!(crate::services::ledger::account_problems::<AccountKind>(&negative)[0].contains("below zero"));
        let issuing = crate::services::ledger::AccountFacts { kind: "issuing".into(), ..negative };
        assert!(crate::services::ledger::account_problems::<AccountKind>(&issuing).is_empty());
    }

    #[test]
    fn a_redemption_needs_offer_stock_limit_and_points() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let offer = Offer { price: 50, stock: 3, limit: Some(1), valid_from: None, valid_to: None, archived: false };
        assert_eq!(may_redeem(&offer, today, 0, 50), Ok(()));
        assert_eq!(may_redeem(&offer, today, 0, 49), Err("points.insufficient"));
        assert_eq!(may_redeem(&offer, today, 1, 500), Err("points.over_limit"));
        assert_eq!(may_redeem(&Offer { stock: 0, ..offer }, today, 0, 500), Err("points.out_of_stock"));
        let expired = Offer { valid_to: NaiveDate::from_ymd_opt(2026, 11, 30), ..offer };
        assert_eq!(may_redeem(&expired, today, 0, 500), Err("points.not_on_offer"));
        assert!(code_matches(" 12345678 ", "12345678") && !code_matches("12345679", "12345678"));
        assert!(!code_matches("", "12345678"));
    }

    #[test]
    fn periods_start_on_chinese_days() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        assert_eq!(Period::Month.start(d), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(Period::Year.start(d), NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(Period::All.start(d), None);
    }

    #[test]
    fn volunteer_numbers_carry_the_community_code() {
        assert_eq!(volunteer_number("440804003001", 42), "440804003001-00042");
    }
}
