//! One dictionary of figures 指标字典: every figure a dashboard, a report, an export or the
//! API shows is defined once — a code, its names and definition (the locales'
//! `figure.name.{code}` and `figure.definition.{code}`), its unit, the capability it comes
//! from — and counted once, by that capability (`Capability::figures`). Everything that
//! shows a figure reads it through `by_grid`, `community` and `total` (`within` for what a
//! programme gathers) and writes it through `FigureDef::show`, so that no two screens compute
//! it their own way (seed 000's 办结率 quoted the same on the dashboard, the monthly report
//! and the API).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use futures::future::BoxFuture;
use serde::Serialize;

use crate::auth::guard::CommunityRef;
use crate::error::{AppError, AppResult, FieldError};
use crate::web::PageCtx;
use crate::web::state::AppState;
use crate::web::ui::Kpi;

crate::text_enum! {
    /// What a figure counts and how it is shown.
    pub enum Unit {
        /// How many (tickets, person-times, pledges): a whole number.
        Count = "count",
        /// The numerator of the denominator, as a percentage with one decimal.
        Percent = "percent",
        /// Minutes counted, shown as hours with one decimal.
        Hours = "hours",
        /// Points, a whole number.
        Points = "points",
        /// Fen counted, shown as yuan with two decimals.
        Yuan = "yuan",
        /// Minutes per resident counted, shown as hours per 1,000 residents, one decimal.
        HoursPerThousand = "hours_per_thousand",
    }
}

impl Unit {
    /// Decimals shown, the same everywhere.
    pub fn decimals(self) -> usize {
        match self {
            Unit::Count | Unit::Points => 0,
            Unit::Percent | Unit::Hours | Unit::HoursPerThousand => 1,
            Unit::Yuan => 2,
        }
    }
}

/// One figure of the dictionary.
#[derive(Debug)]
pub struct FigureDef {
    pub code: &'static str,
    pub unit: Unit,
    /// Whether more is better: a league table puts the best first.
    pub more_is_better: bool,
    /// Made of two other figures: this one's numerator is the first's numerator, its
    /// denominator the second's (hours per 1,000 residents).
    pub of: Option<(&'static str, &'static str)>,
}

/// What was counted of a figure: a numerator and, for a rate, its denominator. Tallies of
/// places add up, so a total's rate is pooled, never an average of rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub num: i64,
    pub den: i64,
}

impl Tally {
    pub fn count(n: i64) -> Tally {
        Tally { num: n, den: 0 }
    }

    pub fn ratio(num: i64, den: i64) -> Tally {
        Tally { num, den }
    }

    fn add(&mut self, o: Tally) {
        self.num += o.num;
        self.den += o.den;
    }
}

impl FigureDef {
    /// The figure's value, rounded to its decimals; none for a rate of nothing.
    pub fn value(&self, t: Tally) -> Option<f64> {
        let (num, den) = (t.num as f64, t.den as f64);
        let v = match self.unit {
            Unit::Count | Unit::Points => Some(num),
            Unit::Percent => (t.den > 0).then(|| num * 100.0 / den),
            Unit::Hours => Some(num / 60.0),
            Unit::Yuan => Some(num / 100.0),
            Unit::HoursPerThousand => (t.den > 0).then(|| num / 60.0 * 1000.0 / den),
        };
        let scale = 10f64.powi(self.unit.decimals() as i32);
        v.map(|v| (v * scale).round() / scale)
    }

    /// The value as every page, sheet and report writes it: `90.0`, `1234.50`, or `—`.
    pub fn show(&self, t: Tally) -> String {
        match self.value(t) {
            Some(v) => format!("{v:.*}", self.unit.decimals()),
            None => "—".into(),
        }
    }
}

/// A figure's name in the reader's language.
pub fn name(ctx: &PageCtx, f: &FigureDef) -> String {
    ctx.t(&format!("figure.name.{}", f.code))
}

/// A unit as written after a value (nothing after a count).
pub fn unit(ctx: &PageCtx, u: Unit) -> String {
    if u == Unit::Count { String::new() } else { ctx.t(&format!("figure.unit.{}", u)) }
}

/// A column's head: the figure's name with its unit.
pub fn heading(ctx: &PageCtx, f: &FigureDef) -> String {
    match unit(ctx, f.unit) {
        u if u.is_empty() => name(ctx, f),
        u => format!("{}（{u}）", name(ctx, f)),
    }
}

/// A figure as a tile: its name, its value as written everywhere, its unit (none for a
/// rate of nothing).
pub fn kpi(ctx: &PageCtx, f: &FigureDef, t: Tally) -> Kpi {
    let value = f.show(t);
    let unit = if value == "—" { String::new() } else { unit(ctx, f.unit) };
    Kpi { label: name(ctx, f), value, unit, ..Kpi::default() }
}

/// A figure counted in a community: for one grid, or none (outside every grid, or a
/// figure of the whole community).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub code: &'static str,
    pub grid_id: Option<i64>,
    pub tally: Tally,
}

/// `?month=all`: everything so far.
pub const ALL: &str = "all";

/// A month in China: the period every figure is counted over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `2026-11`.
    pub month: String,
    /// Its first day and the next month's, for columns that keep days.
    pub first: NaiveDate,
    pub next: NaiveDate,
    /// Their first milliseconds.
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// `?month=2026-11` (this month when empty), a whole year, `?month=2026` (the figures
    /// people quote for a year), or everything to the end of this month, `?month=all` (累计:
    /// what a secretary quotes as "so far"); refused naming `month` when it is none of
    /// these or lies in the future.
    pub fn parse(month: Option<&str>) -> AppResult<Period> {
        let today = super::fmt::today();
        let asked = month.map(str::trim).filter(|m| !m.is_empty());
        if asked == Some(ALL) {
            return Ok(Period::to_date());
        }
        let year = asked.filter(|m| m.len() == 4).and_then(|y| y.parse::<i32>().ok());
        let first = match (asked, year) {
            (None, _) => today.with_day(1),
            (_, Some(y)) => NaiveDate::from_ymd_opt(y, 1, 1),
            (Some(m), None) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok(),
        };
        let invalid = |key: &'static str| AppError::Invalid(vec![FieldError::new("month", key)]);
        let first = first.filter(|d| (2000..=2100).contains(&d.year())).ok_or_else(|| invalid("validation.month"))?;
        if first > today {
            return Err(invalid("validation.future_month"));
        }
        Ok(match year {
            Some(y) => Period {
                month: y.to_string(),
                next: NaiveDate::from_ymd_opt(y + 1, 1, 1).unwrap_or(first),
                to: crate::time::day_start_ms(NaiveDate::from_ymd_opt(y + 1, 1, 1).unwrap_or(first)),
                ..Period::of(first)
            },
            None => Period::of(first),
        })
    }

    /// Whether the period is a whole year.
    pub fn is_year(&self) -> bool {
        self.month.len() == 4
    }

    /// Everything up to the end of this month (`?month=all`).
    fn to_date() -> Period {
        let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
        Period { month: ALL.into(), first: start, from: crate::time::day_start_ms(start), ..Period::this_month() }
    }

    fn this_month() -> Period {
        let today = super::fmt::today();
        Period::of(today.with_day(1).unwrap_or(today))
    }

    /// The period as a title writes it: `2026-11`, `2026`, or 累计（截至 2026-12）.
    pub fn label(&self, lang: crate::i18n::Lang) -> String {
        if self.month == ALL {
            let to = Period::this_month().month;
            return crate::i18n::tr(lang, "figure.to_date", &[("month", to)]);
        }
        self.month.clone()
    }

    /// The month that starts on `first`.
    pub fn of(first: NaiveDate) -> Period {
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
        Period {
            month: first.format("%Y-%m").to_string(),
            first,
            next,
            from: crate::time::day_start_ms(first),
            to: crate::time::day_start_ms(next),
        }
    }

    /// From the first day of `since`'s month to the end of this month: a programme's
    /// whole life.
    pub fn since(since: NaiveDate) -> Period {
        let first = since.with_day(1).unwrap_or(since);
        let this = Period::of(super::fmt::today().with_day(1).unwrap_or(since));
        Period {
            month: format!("{}–{}", first.format("%Y-%m"), this.month),
            first,
            from: crate::time::day_start_ms(first),
            ..this
        }
    }

    /// This month and the eleven before it, oldest first (a trend).
    /// A year's months: those of the year up to this one.
    pub fn year_to(&self) -> Vec<Period> {
        if self.month == ALL {
            return Period::this_month().year_to();
        }
        let first = super::fmt::to_cst(self.from).date_naive();
        if self.is_year() {
            let this = super::fmt::today();
            return (0..12)
                .filter_map(|i| first.checked_add_months(chrono::Months::new(i)))
                .filter(|m| *m <= this)
                .map(Period::of)
                .collect();
        }
        (0..12).rev().filter_map(|i| first.checked_sub_months(chrono::Months::new(i))).map(Period::of).collect()
    }
}

/// A capability's counts of its figures in a community over a period, per grid.
pub type CountFn = for<'a> fn(&'a AppState, &'a CommunityRef, &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>>;

/// What stands behind a figure: one ticket, record or pledge, and its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behind {
    pub title: String,
    pub detail: String,
    pub href: String,
}

/// Where to look for what stands behind a figure: a grid (`Some(0)`: outside every grid)
/// or the whole community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    Community,
    Grid(i64),
}

impl Within {
    /// Whether this is one grid: what belongs to the whole community only (funds,
    /// pledges) has nothing behind a grid's figure.
    pub fn is_grid(self) -> bool {
        matches!(self, Within::Grid(g) if g != 0)
    }

    /// The SQL condition (` AND …`) on a record's grid column.
    pub fn condition(self, column: &str) -> String {
        match self {
            Within::Community => String::new(),
            Within::Grid(0) => format!(" AND {column} IS NULL"),
            Within::Grid(g) => format!(" AND {column} = {g}"),
        }
    }
}

/// The records behind one figure of a community (at most `BEHIND_MAX`, those needing
/// attention first).
pub type BehindFn = for<'a> fn(
    &'a AppState,
    &'a CommunityRef,
    &'static str,
    &'a Period,
    Within,
) -> BoxFuture<'a, AppResult<Vec<Behind>>>;

pub const BEHIND_MAX: i64 = 200;

/// What a programme (a brand 品牌) gathers: its teams and events, and the needs, council
/// projects and tickets tagged with it, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tagged {
    pub teams: Vec<i64>,
    pub events: Vec<i64>,
    pub needs: Vec<i64>,
    pub projects: Vec<i64>,
    pub tickets: Vec<i64>,
}

/// A capability's counts of its figures over what a programme gathers (its tickets, its
/// teams' service), for the whole community.
pub type CountInFn =
    for<'a> fn(&'a AppState, &'a CommunityRef, &'a Period, &'a Tagged) -> BoxFuture<'a, AppResult<Vec<Count>>>;

/// A capability's part of the dictionary.
pub struct FigureSource {
    pub figures: &'static [FigureDef],
    pub count: CountFn,
    pub behind: BehindFn,
    /// Its figures of what a programme gathers, where they can be counted so.
    pub count_in: Option<CountInFn>,
}

/// Every figure of the dictionary with the capability it comes from, in the capability
/// table's order.
pub fn all(state: &AppState) -> Vec<(&'static str, &'static FigureDef)> {
    state
        .caps
        .iter()
        .filter_map(|c| c.figures.map(|s| (c.name, s)))
        .flat_map(|(n, s)| s.figures.iter().map(move |f| (n, f)))
        .collect()
}

/// A figure by its code, with its capability's part.
pub fn find(state: &AppState, code: &str) -> Option<(&'static FigureDef, &'static FigureSource)> {
    state.caps.iter().filter_map(|c| c.figures).find_map(|s| s.figures.iter().find(|f| f.code == code).map(|f| (f, s)))
}

/// Tallies by figure code.
pub type Values = BTreeMap<&'static str, Tally>;

/// Fills in the figures made of two others.
fn derive(state: &AppState, v: &mut Values) {
    for (_, f) in all(state) {
        if let Some((a, b)) = f.of {
            let num = v.get(a).map_or(0, |t| t.num);
            let den = v.get(b).map_or(0, |t| t.num);
            v.insert(f.code, Tally::ratio(num, den));
        }
    }
}

/// Every figure of one community over a period, per grid (`0`: outside every grid or
/// the whole community's own).
pub async fn by_grid(state: &AppState, c: &CommunityRef, p: &Period) -> AppResult<BTreeMap<i64, Values>> {
    counted(state, c, p, |_| true).await
}

/// The counts of the capabilities `asked` picks, per grid, the derived figures filled in.
async fn counted(
    state: &AppState,
    c: &CommunityRef,
    p: &Period,
    asked: impl Fn(&FigureSource) -> bool,
) -> AppResult<BTreeMap<i64, Values>> {
    let mut out: BTreeMap<i64, Values> = BTreeMap::new();
    for s in state.caps.iter().filter_map(|c| c.figures).filter(|s| asked(s)) {
        for n in (s.count)(state, c, p).await? {
            out.entry(n.grid_id.unwrap_or(0)).or_default().entry(n.code).or_default().add(n.tally);
        }
    }
    for v in out.values_mut() {
        derive(state, v);
    }
    Ok(out)
}

/// Places' values added up (the derived figures from the sums).
pub fn total<'a>(state: &AppState, places: impl IntoIterator<Item = &'a Values>) -> Values {
    let mut sum = Values::new();
    for v in places {
        for (code, t) in v {
            sum.entry(code).or_default().add(*t);
        }
    }
    derive(state, &mut sum);
    sum
}

/// One figure of one community over a period, per grid: only the capabilities that
/// count it (or the two it is made of) are asked — a trend or a drill-down asks for one
/// figure at a time.
pub async fn by_grid_of(
    state: &AppState,
    c: &CommunityRef,
    p: &Period,
    f: &FigureDef,
) -> AppResult<BTreeMap<i64, Values>> {
    let codes: Vec<&str> = match f.of {
        Some((a, b)) => vec![a, b],
        None => vec![f.code],
    };
    counted(state, c, p, |s| s.figures.iter().any(|x| codes.contains(&x.code))).await
}

/// One figure of one community over a period.
pub async fn community_of(state: &AppState, c: &CommunityRef, p: &Period, f: &FigureDef) -> AppResult<Values> {
    Ok(total(state, by_grid_of(state, c, p, f).await?.values()))
}

/// The figures of what a programme gathers in a community over a period (those the
/// capabilities can count so; the derived ones need the whole community and are left out).
pub async fn within(state: &AppState, c: &CommunityRef, p: &Period, tagged: &Tagged) -> AppResult<Values> {
    let mut out = Values::new();
    for f in state.caps.iter().filter_map(|c| c.figures).filter_map(|s| s.count_in) {
        for n in f(state, c, p, tagged).await? {
            out.entry(n.code).or_default().add(n.tally);
        }
    }
    Ok(out)
}

/// Every figure of one community over a period.
pub async fn community(state: &AppState, c: &CommunityRef, p: &Period) -> AppResult<Values> {
    Ok(total(state, by_grid(state, c, p).await?.values()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: FigureDef = FigureDef { code: "r", unit: Unit::Percent, more_is_better: true, of: None };
    const PER: FigureDef = FigureDef { code: "p", unit: Unit::HoursPerThousand, more_is_better: true, of: None };

    #[test]
    fn a_figure_is_shown_the_same_way_everywhere() {
        assert_eq!(RATE.show(Tally::ratio(9, 10)), "90.0");
        assert_eq!(RATE.show(Tally::ratio(2, 3)), "66.7");
        assert_eq!(RATE.show(Tally::ratio(0, 0)), "—");
        assert_eq!(PER.show(Tally::ratio(30_000, 1000)), "500.0");
        assert_eq!(PER.show(Tally::ratio(90, 3000)), "0.5");
        let yuan = FigureDef { code: "y", unit: Unit::Yuan, more_is_better: true, of: None };
        assert_eq!(yuan.show(Tally::count(394_000_000)), "3940000.00");
    }

    #[test]
    fn a_month_is_this_one_or_one_before_never_after() {
        let this = Period::parse(None).unwrap();
        assert_eq!(this.month, super::super::fmt::today().format("%Y-%m").to_string());
        let nov = Period::parse(Some("2026-11")).unwrap();
        assert_eq!(nov.to - nov.from, 30 * 86_400_000);
        assert_eq!(nov.year_to().len(), 12);
        assert_eq!(nov.year_to()[0].month, "2025-12");
        let year = Period::parse(Some("2025")).unwrap();
        assert!(year.is_year() && year.month == "2025");
        assert_eq!((year.to - year.from) / 86_400_000, 365);
        assert_eq!(year.year_to().iter().map(|p| p.month.as_str()).collect::<Vec<_>>().len(), 12);
        assert_eq!(year.year_to()[11].month, "2025-12");
        let refused = |m: &str| match Period::parse(Some(m)) {
            Err(AppError::Invalid(e)) => e[0].field.clone(),
            _ => String::new(),
        };
        assert_eq!(refused("2999-01"), "month");
        assert_eq!(refused("2999"), "month");
        assert_eq!(refused("1999"), "month");
        assert_eq!(refused("11/2026"), "month");
    }
}
