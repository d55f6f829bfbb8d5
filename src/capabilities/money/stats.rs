//! Money's figures 资金统计 for a community or a subdistrict: gifts by who gave and how,
//! gifts in kind, income by kind, each fund's money in and out, projects by state, on
//! time or late, and spending against budget. Plain types and functions; the store reads
//! one community's figures at a time and they are added up here.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Channel, DonorKind, FundKind, ProjectStatus};
use crate::capabilities::money::store::FundLine;

/// How many and how much.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sum {
    pub count: i64,
    pub fen: i64,
}

impl Sum {
    pub fn add(&mut self, count: i64, fen: i64) {
        self.count += count;
        self.fen += fen;
    }
}

/// Whether a project keeps to its plan: a milestone done after its date, or not done
/// when its date has passed, makes it late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Timing {
    /// No milestones planned yet.
    Unplanned,
    OnTime,
    Late,
}

impl Timing {
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::Unplanned => "unplanned",
            Timing::OnTime => "on_time",
            Timing::Late => "late",
        }
    }
}

/// A plan's timing on `today` from its milestones (due, done); a cancelled project's
/// plan no longer runs, so it is never late.
pub fn timing(milestones: &[(NaiveDate, Option<NaiveDate>)], status: ProjectStatus, today: NaiveDate) -> Timing {
    if milestones.is_empty() || status == ProjectStatus::Cancelled {
        return Timing::Unplanned;
    }
    let late = milestones.iter().any(|(due, done)| match done {
        Some(d) => d > due,
        None => *due < today,
    });
    if late { Timing::Late } else { Timing::OnTime }
}

/// A project in the figures.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectLine {
    pub id: i64,
    pub title: String,
    pub status: ProjectStatus,
    pub budget_fen: i64,
    pub funded_fen: i64,
    pub spent_fen: i64,
    pub progress: i64,
    pub timing: Timing,
}

/// Spent of budget in whole percent.
pub fn spent_percent(spent: i64, budget: i64) -> i64 {
    if budget <= 0 { 0 } else { spent.saturating_mul(100) / budget }
}

/// One community's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub code: String,
    pub name: String,
    /// Gifts of money by who gave, in `DonorKind::ALL`'s order.
    pub by_donor: Vec<(DonorKind, Sum)>,
    /// Gifts of money by how they came, in `Channel::ALL`'s order.
    pub by_channel: Vec<(Channel, Sum)>,
    /// Batches given in kind and their estimated value.
    pub in_kind: Sum,
    /// Income that is no gift, by the kind of fund it went to.
    pub income: Vec<(FundKind, Sum)>,
    pub funds: Vec<FundLine>,
    pub projects: Vec<ProjectLine>,
}

impl Figures {
    /// Empty figures of a community, every kind and channel listed at zero.
    pub fn new(code: String, name: String) -> Figures {
        Figures {
            code,
            name,
            by_donor: DonorKind::ALL.iter().map(|k| (*k, Sum::default())).collect(),
            by_channel: Channel::ALL.iter().map(|k| (*k, Sum::default())).collect(),
            in_kind: Sum::default(),
            income: FundKind::ALL.iter().filter(|k| !k.takes_gifts()).map(|k| (*k, Sum::default())).collect(),
            funds: Vec::new(),
            projects: Vec::new(),
        }
    }

    /// Counts a gift of money.
    pub fn gift(&mut self, kind: DonorKind, channel: Channel, count: i64, fen: i64) {
        add(&mut self.by_donor, kind, count, fen);
        add(&mut self.by_channel, channel, count, fen);
    }

    /// Counts income into a fund of `kind`.
    pub fn earned(&mut self, kind: FundKind, count: i64, fen: i64) {
        add(&mut self.income, kind, count, fen);
    }

    pub fn gifts(&self) -> Sum {
        total(self.by_donor.iter().map(|(_, s)| *s))
    }

    pub fn incomes(&self) -> Sum {
        total(self.income.iter().map(|(_, s)| *s))
    }

    /// Money in, out and left over every fund.
    pub fn money(&self) -> (i64, i64, i64) {
        self.funds
            .iter()
            .fold((0, 0, 0), |(r, p, b), f| (r + f.totals.received, p + f.totals.paid, b + f.totals.balance))
    }

    /// How many projects are in each state, in `ProjectStatus::ALL`'s order.
    pub fn by_status(&self) -> Vec<(ProjectStatus, i64)> {
        ProjectStatus::ALL
            .iter()
            .map(|s| (*s, self.projects.iter().filter(|p| p.status == *s).count() as i64))
            .collect()
    }

    pub fn count(&self, t: Timing) -> i64 {
        self.projects.iter().filter(|p| p.timing == t).count() as i64
    }

    /// Budget and spending of the projects that are not cancelled.
    pub fn budget(&self) -> (i64, i64) {
        self.projects
            .iter()
            .filter(|p| p.status != ProjectStatus::Cancelled)
            .fold((0, 0), |(b, s), p| (b + p.budget_fen, s + p.spent_fen))
    }
}

/// Adds to the sum of `key`, listing it if it was not.
fn add<K: PartialEq>(sums: &mut Vec<(K, Sum)>, key: K, count: i64, fen: i64) {
    match sums.iter_mut().find(|(k, _)| *k == key) {
        Some((_, s)) => s.add(count, fen),
        None => sums.push((key, Sum { count, fen })),
    }
}

fn total(sums: impl Iterator<Item = Sum>) -> Sum {
    sums.fold(Sum::default(), |mut a, s| {
        a.add(s.count, s.fen);
        a
    })
}

/// Several communities' figures as one (a subdistrict's): sums by kind, channel and
/// state; funds and projects side by side, named with their community.
pub fn combined(code: String, name: String, all: &[Figures]) -> Figures {
    let mut out = Figures::new(code, name);
    for f in all {
        for (k, s) in &f.by_donor {
            add(&mut out.by_donor, *k, s.count, s.fen);
        }
        for (k, s) in &f.by_channel {
            add(&mut out.by_channel, *k, s.count, s.fen);
        }
        for (k, s) in &f.income {
            add(&mut out.income, *k, s.count, s.fen);
        }
        out.in_kind.add(f.in_kind.count, f.in_kind.fen);
        // Side by side, each named with its community (ten 共建资金 are told apart).
        out.funds.extend(f.funds.iter().cloned().map(|mut x| {
            x.name = format!("{} · {}", f.name, x.name);
            x
        }));
        out.projects.extend(f.projects.iter().cloned().map(|mut p| {
            p.title = format!("{} · {}", f.name, p.title);
            p
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn a_project_is_late_when_a_milestone_passed_its_date_undone_or_was_done_after_it() {
        let today = day("2026-12-04");
        let on_time = [(day("2026-11-01"), Some(day("2026-10-30"))), (day("2027-01-01"), None)];
        assert_eq!(timing(&on_time, ProjectStatus::InProgress, today), Timing::OnTime);
        let overdue = [(day("2026-12-01"), None)];
        assert_eq!(timing(&overdue, ProjectStatus::InProgress, today), Timing::Late);
        let done_late = [(day("2026-06-01"), Some(day("2026-06-02")))];
        assert_eq!(timing(&done_late, ProjectStatus::Accepted, today), Timing::Late);
        assert_eq!(timing(&overdue, ProjectStatus::Cancelled, today), Timing::Unplanned);
        assert_eq!(timing(&[], ProjectStatus::Proposed, today), Timing::Unplanned);
    }

    #[test]
    fn a_subdistrict_adds_up_its_communities() {
        let mut a = Figures::new("1".into(), "嘉福".into());
        a.gift(DonorKind::PartyMember, Channel::Cash, 104, 5_910_000);
        a.earned(FundKind::ServiceIncome, 12, 1_200_000);
        let mut b = Figures::new("2".into(), "海盛".into());
        b.gift(DonorKind::Unit, Channel::Transfer, 18, 394_000_000);
        b.gift(DonorKind::PartyMember, Channel::Transfer, 1, 300_000);
        b.earned(FundKind::ServiceIncome, 1, 100);
        let all = combined("s".into(), "殿前街道".into(), &[a, b]);
        assert_eq!(all.gifts(), Sum { count: 123, fen: 400_210_000 });
        assert_eq!(all.by_donor[1], (DonorKind::PartyMember, Sum { count: 105, fen: 6_210_000 }));
        assert_eq!(all.by_channel[0], (Channel::Cash, Sum { count: 104, fen: 5_910_000 }));
        assert_eq!(all.incomes(), Sum { count: 13, fen: 1_200_100 });
        assert_eq!(spent_percent(50, 200), 25);
        assert_eq!(spent_percent(1, 0), 0);
    }
}
