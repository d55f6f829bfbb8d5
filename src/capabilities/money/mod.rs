//! Money and projects 资金与项目 (seed 002's 义聚爱嘉 drive and 3.94 million yuan of
//! co-building funds, seed 003's 18 惠民工程): funds, donations into them, projects funded
//! from them with milestones, expenses paid from them through approvals, and disclosure
//! 公示 that anyone can check against the ledger's chain. Money is kept in fen, in the
//! shared ledger's `fen` book (`book`).
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod book;
pub mod demo;
pub mod dictionary;
pub mod pages;
pub mod receipt;
pub mod report;
pub mod stats;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::model::Role;
use crate::error::FieldError;
use crate::services::records::model::Setting;
use crate::web::AppState;
use crate::web::capability::{Capability, SubjectLink};

pub static CAP: Capability = Capability {
    figures: Some(&dictionary::SOURCE),
    links: &[
        SubjectLink::new("expense", "/c/{code}/expenses/{id}", "inbox.group.money"),
        SubjectLink::new("project", "/c/{code}/projects/{id}", "inbox.group.money"),
        SubjectLink::new("disclosure", "/p/{code}/money", "inbox.group.money"),
        SubjectLink::new("objection", "/c/{code}/money", "inbox.group.money"),
    ],
    settings: &[&CHAIN, &SUBDISTRICT_ABOVE],
    api: Some(api::routes),
    media: &[
        ("expense", store::expenses::media_check),
        (store::expenses::PUBLIC_COPY, store::expenses::media_check),
        ("project", store::projects::media_check),
    ],
    home: Some(pages::home),
    related: Some(store::projects::related),
    board: Some(pages::board),
    ..Capability::new("money", routes)
};

fn routes() -> Router<AppState> {
    let photos = || axum::extract::DefaultBodyLimit::max(3 * crate::services::media::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/c/{code}/money", get(pages::desk))
        .route("/c/{code}/money/stats", get(pages::community_stats))
        .route("/c/{code}/money/stats/ledger.xlsx", get(pages::community_ledger))
        .route("/c/{code}/money/stats/report.pdf", get(pages::community_report))
        .route("/subdistricts/{id}/money/stats", get(pages::subdistrict_stats))
        .route("/subdistricts/{id}/money/stats/ledger.xlsx", get(pages::subdistrict_ledger))
        .route("/subdistricts/{id}/money/stats/report.pdf", get(pages::subdistrict_report))
        .route("/c/{code}/funds", post(pages::create_fund))
        .route("/c/{code}/funds/{id}", get(pages::fund_page))
        .route("/c/{code}/funds/{id}/donations", post(pages::donate))
        .route("/c/{code}/funds/{id}/close", post(pages::close_fund))
        .route("/c/{code}/funds/{id}/managers", post(pages::set_managers))
        .route("/c/{code}/funds/{id}/income", post(pages::receive))
        .route("/c/{code}/donations/{id}", get(pages::donation_page))
        .route("/c/{code}/donations/{id}/receipt.pdf", get(pages::receipt_pdf))
        .route("/c/{code}/donations/{id}/reverse", post(pages::reverse))
        .route("/c/{code}/goods", post(pages::record_goods))
        .route("/c/{code}/goods/{id}", get(pages::goods_page))
        .route("/c/{code}/goods/{id}/hand-out", post(pages::hand_out))
        .route("/c/{code}/projects", post(pages::create_project))
        .route("/c/{code}/projects/{id}", get(pages::project_page))
        .route("/c/{code}/projects/{id}/funding", post(pages::fund_project))
        .route("/c/{code}/projects/{id}/milestones", post(pages::add_milestone))
        .route("/c/{code}/projects/{id}/milestones/{m}/done", post(pages::milestone_done))
        .route("/c/{code}/projects/{id}/status", post(pages::move_project))
        .route("/c/{code}/projects/{id}/photos", post(pages::project_photos).layer(photos()))
        .route("/c/{code}/projects/{id}/expenses", post(pages::ask_expense).layer(photos()))
        .route("/c/{code}/expenses/{id}", get(pages::expense_page))
        .route("/c/{code}/expenses/{id}/decide", post(pages::decide_expense))
        .route("/c/{code}/expenses/{id}/withdraw", post(pages::withdraw_expense))
        .route("/c/{code}/expenses/{id}/public-copy", post(pages::public_copy).layer(photos()))
        .route("/c/{code}/disclosures", post(pages::publish_disclosure))
        .route("/c/{code}/disclosures/{id}/objections", post(pages::object))
        .route("/c/{code}/objections/{id}/answer", post(pages::answer_objection))
        .route("/p/{code}/money", get(pages::public_money))
        .route("/p/{code}/money/movements.csv", get(pages::movements_csv))
        .route("/p/{code}/money/ledger.xlsx", get(pages::public_ledger))
        .route("/p/{code}/money/media/{id}", get(pages::public_media))
        .route("/p/{code}/money/funds/{id}", get(pages::public_fund))
        .route("/p/{code}/money/projects/{id}", get(pages::public_project))
        .route("/p/{code}/money/projects/{id}/comments", post(pages::comment))
        .route("/p/{code}/money/expenses/{id}", get(pages::public_expense))
}

/// The approval steps of an expense the community sets: staff, then the secretary.
pub static CHAIN: Setting =
    Setting::choice("money:chain", "expense_chain", &["staff", "staff_secretary"], "staff_secretary").on_record();
/// Above this many yuan, the subdistrict approves last (0: never).
pub static SUBDISTRICT_ABOVE: Setting =
    Setting::int("money:subdistrict_above", "expense_subdistrict_above", 0, 100_000_000, "50000").on_record();

crate::text_enum! {
    /// What a fund is: a donation drive (义聚爱嘉, 一日捐), a co-building fund of partner
    /// units 共建资金, a public-benefit fund, the service company's income 服务收益, or an
    /// allocation from government 财政拨款.
    pub enum FundKind {
        Drive = "drive",
        CoBuilding = "co_building",
        PublicBenefit = "public_benefit",
        ServiceIncome = "service_income",
        Government = "government",
    }
}

impl FundKind {
    /// Money comes in as gifts (the others as income: services sold, allocations).
    pub fn takes_gifts(self) -> bool {
        matches!(self, FundKind::Drive | FundKind::CoBuilding | FundKind::PublicBenefit)
    }
}

crate::text_enum! {
    pub enum FundStatus {
        Open = "open",
        Closed = "closed",
    }
}

crate::text_enum! {
    /// Who gave: a resident, a party member, a partner unit, or someone unnamed.
    pub enum DonorKind {
        Person = "person",
        PartyMember = "party_member",
        Unit = "unit",
        Anonymous = "anonymous",
    }
}

crate::text_enum! {
    /// How money came in: cash, a bank or WeChat transfer, the on-site box 募捐箱.
    pub enum Channel {
        Cash = "cash",
        Transfer = "transfer",
        Box = "box",
    }
}

crate::text_enum! {
    /// What an expense pays for; a fund's restriction names the ones it may.
    pub enum Category {
        Construction = "construction",
        Repairs = "repairs",
        Equipment = "equipment",
        Care = "care",
        Activities = "activities",
        Services = "services",
        Other = "other",
    }
}

crate::text_enum! {
    /// Where a project came from: a council decision, a need on the needs list, or staff.
    pub enum Origin {
        Council = "council",
        Need = "need",
        Staff = "staff",
    }
}

crate::text_enum! {
    /// proposed → approved → in progress → completed → accepted 验收; or suspended (and
    /// resumed), or cancelled.
    pub enum ProjectStatus {
        Proposed = "proposed",
        Approved = "approved",
        InProgress = "in_progress",
        Completed = "completed",
        Accepted = "accepted",
        Suspended = "suspended",
        Cancelled = "cancelled",
    }
}

impl ProjectStatus {
    /// The states a project may go to from this one.
    pub fn next(self) -> &'static [ProjectStatus] {
        use ProjectStatus::*;
        match self {
            Proposed => &[Approved, Cancelled],
            Approved => &[InProgress, Suspended, Cancelled],
            InProgress => &[Completed, Suspended, Cancelled],
            Completed => &[Accepted, InProgress],
            Suspended => &[InProgress, Cancelled],
            Accepted | Cancelled => &[],
        }
    }

    /// Approved and under way or done: a project the community carries (the dictionary's
    /// 实施项目).
    pub const CARRIED: [ProjectStatus; 4] =
        [ProjectStatus::Approved, ProjectStatus::InProgress, ProjectStatus::Completed, ProjectStatus::Accepted];

    /// Money may be spent on it (approved and not yet over).
    pub fn spends(self) -> bool {
        matches!(self, ProjectStatus::Approved | ProjectStatus::InProgress | ProjectStatus::Completed)
    }
}

crate::text_enum! {
    /// Where an expense stands: waiting for its approvals, paid, refused, or withdrawn by
    /// whoever asked (the last two keep their history).
    pub enum ExpenseStatus {
        Pending = "pending",
        Paid = "paid",
        Refused = "refused",
        Withdrawn = "withdrawn",
    }
}

crate::text_enum! {
    /// Who approves a step of an expense.
    pub enum Approver {
        Staff = "staff",
        Secretary = "secretary",
        Subdistrict = "subdistrict",
    }
}

impl Approver {
    /// The role that decides this step.
    pub fn role(self) -> Role {
        match self {
            Approver::Staff => Role::CommunityStaff,
            Approver::Secretary => Role::CommunitySecretary,
            Approver::Subdistrict => Role::SubdistrictAdmin,
        }
    }
}

/// The steps an expense of `amount_fen` needs, from the community's settings: staff (and
/// the secretary), then the subdistrict above `subdistrict_above_yuan` (0: never).
pub fn chain_for(setting: &str, subdistrict_above_yuan: i64, amount_fen: i64) -> Vec<Approver> {
    let mut out = vec![Approver::Staff];
    if setting != "staff" {
        out.push(Approver::Secretary);
    }
    if subdistrict_above_yuan > 0 && amount_fen > subdistrict_above_yuan * 100 {
        out.push(Approver::Subdistrict);
    }
    out
}

/// A gift's amount and note in a spreadsheet: a reversed gift counts nothing, so that the
/// column adds up to the figures, and says what it was and why.
pub fn gift_cells(amount_fen: i64, reversal_reason: Option<&str>) -> (String, String) {
    match reversal_reason {
        Some(r) => (yuan(0), format!("已冲正（原 {} 元）：{r}", yuan(amount_fen))),
        None => (yuan(amount_fen), String::new()),
    }
}

/// The largest amount one movement of money carries: 100 million yuan.
pub const MAX_FEN: i64 = 10_000_000_000;

/// Yuan as typed ("59100", "59,100.00", "0.5", "￥12.30") in fen. Refused naming `field`:
/// not a number, zero or below, a fraction of a fen, or above 100 million yuan.
pub fn fen(field: &str, typed: &str) -> Result<i64, FieldError> {
    let t: String = typed.trim().trim_start_matches(['￥', '¥']).chars().filter(|c| *c != ',' && *c != '，').collect();
    let bad = || FieldError::new(field, "money.not_an_amount");
    if t.starts_with('-') {
        return Err(FieldError::new(field, "money.positive"));
    }
    let (whole, part) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && part.is_empty() || !whole.chars().chain(part.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    if part.len() > 2 {
        return Err(FieldError::new(field, "money.fraction_of_fen"));
    }
    if whole.len() > 9 {
        return Err(crate::input::range_error(field, 1..=MAX_FEN / 100));
    }
    let cents = format!("{part:0<2}");
    let value = whole.parse::<i64>().unwrap_or(0) * 100 + cents.parse::<i64>().map_err(|_| bad())?;
    if value <= 0 {
        return Err(FieldError::new(field, "money.positive"));
    }
    if value > MAX_FEN {
        return Err(crate::input::range_error(field, 1..=MAX_FEN / 100));
    }
    Ok(value)
}

/// Fen as yuan to read: "59,100.00".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    let whole = (f / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", f % 100)
}

/// A project's progress in whole percent from its milestones (weight, done): the weight
/// done over the weight planned, never typed by hand.
pub fn progress(milestones: &[(i64, bool)]) -> i64 {
    let total: i64 = milestones.iter().map(|(w, _)| w).sum();
    if total == 0 {
        return 0;
    }
    milestones.iter().filter(|(_, d)| *d).map(|(w, _)| w).sum::<i64>() * 100 / total
}

/// A restriction as stored (categories, comma-separated) from what was ticked; none when
/// nothing was, so that the fund pays for anything.
pub fn restriction(ticked: &[String]) -> Result<Option<String>, FieldError> {
    let mut cats = Vec::new();
    for t in ticked.iter().filter(|t| !t.is_empty()) {
        let c = Category::parse(t).ok_or_else(|| FieldError::new("restriction", "validation.choice"))?;
        if !cats.contains(&c) {
            cats.push(c);
        }
    }
    Ok((!cats.is_empty()).then(|| cats.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")))
}

/// Whether a fund with this restriction may pay for this category.
pub fn allows(restriction: Option<&str>, category: Category) -> bool {
    restriction.is_none_or(|r| r.split(',').any(|c| c == category.as_str()))
}

/// A donor as the public sees them: a unit by its name, a person by name only if they
/// agreed (else 张*), the anonymous as 爱心人士.
pub fn public_donor(kind: DonorKind, name: &str, named: bool) -> String {
    match kind {
        DonorKind::Unit => name.to_string(),
        DonorKind::Anonymous => "爱心人士".into(),
        _ => crate::services::pii::public_name(name, named),
    }
}

/// A donation's receipt number: the year and its place in the community's series,
/// "JZ2026-000123" (捐赠).
pub fn receipt_number(year: i32, n: i64) -> String {
    format!("JZ{year}-{n:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_as_typed_become_fen_exactly_and_bad_amounts_name_the_field() {
        assert_eq!(fen("amount", "59100"), Ok(5_910_000));
        assert_eq!(fen("amount", "59,100.00"), Ok(5_910_000));
        assert_eq!(fen("amount", "￥0.5"), Ok(50));
        assert_eq!(fen("amount", "0.01"), Ok(1));
        assert_eq!(fen("amount", "3940000"), Ok(394_000_000));
        for (typed, key) in [
            ("0", "money.positive"),
            ("-5", "money.positive"),
            ("0.00", "money.positive"),
            ("1.005", "money.fraction_of_fen"),
            ("abc", "money.not_an_amount"),
            ("", "money.not_an_amount"),
            ("1e5", "money.not_an_amount"),
            ("100000001", "validation.range"),
        ] {
            let e = fen("amount", typed).unwrap_err();
            assert_eq!((e.field.as_str(), e.key), ("amount", key), "{typed}");
        }
        assert_eq!(yuan(5_910_000), "59,100.00");
        assert_eq!(yuan(1), "0.01");
        assert_eq!(yuan(-12_345_678), "-123,456.78");
    }

    #[test]
    fn progress_is_the_weight_of_the_milestones_done() {
        assert_eq!(progress(&[]), 0);
        assert_eq!(progress(&[(30, true), (50, false), (20, true)]), 50);
        assert_eq!(progress(&[(1, true), (2, false)]), 33);
        assert_eq!(progress(&[(10, true)]), 100);
    }

    #[test]
    fn a_project_moves_only_along_its_states() {
        use ProjectStatus::*;
        assert!(Proposed.next().contains(&Approved));
        assert!(!Proposed.next().contains(&Completed));
        assert!(Suspended.next().contains(&InProgress));
        assert!(Accepted.next().is_empty() && Cancelled.next().is_empty());
        assert!(!Proposed.spends() && InProgress.spends() && !Cancelled.spends());
    }

    #[test]
    fn the_chain_grows_with_the_setting_and_the_amount() {
        assert_eq!(chain_for("staff", 0, 1), vec![Approver::Staff]);
        assert_eq!(chain_for("staff_secretary", 50_000, 5_000_000), vec![Approver::Staff, Approver::Secretary]);
        assert_eq!(
            chain_for("staff_secretary", 50_000, 5_000_001),
            vec![Approver::Staff, Approver::Secretary, Approver::Subdistrict]
        );
    }

    #[test]
    fn a_restriction_names_what_a_fund_may_pay_for() {
        let r = restriction(&["repairs".into(), "construction".into(), "repairs".into()]).unwrap();
        assert_eq!(r.as_deref(), Some("repairs,construction"));
        assert!(allows(r.as_deref(), Category::Repairs));
        assert!(!allows(r.as_deref(), Category::Activities));
        assert!(allows(None, Category::Activities));
        assert_eq!(restriction(&[]).unwrap(), None);
        assert_eq!(restriction(&["gold".into()]).unwrap_err().field, "restriction");
        assert_eq!(receipt_number(2026, 123), "JZ2026-000123");
    }
}
