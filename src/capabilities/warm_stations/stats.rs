//! Figures of warm stations for the year, station by station: visitors by kind, the
//! roster (shifts, places needed and taken, hours served on duty) and how much of the
//! opening hours it covered (to the roster's week ahead); for a community's staff and a
//! subdistrict, with Excel.

use std::collections::HashMap;
use std::future::Future;

use super::store::{self, Place, Shift};
use super::{HOURS_OWNER, VisitorKind, coverage, open_spans, served};
use crate::auth::model::Permission;
use crate::db::{Exec, query};
use crate::error::AppResult;
use crate::services::hours::{Calendar, Hours};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use crate::web::figures::{self, Scope};
use crate::web::fmt::percent;
use crate::web::ui::{Bars, Block, BlocksPage, Cell, Refusal, Table};
use crate::web::{AppState, PageCtx};

/// One station's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub community: String,
    pub station: String,
    /// Visitors by kind, in `VisitorKind::ALL`'s order.
    pub visits: [i64; 4],
    pub shifts: i64,
    pub needed: i64,
    pub taken: i64,
    /// Minutes served on duty (check-in to check-out within the shift).
    pub served: i64,
    /// Minutes open, and of them covered by a shift someone took.
    pub open: i64,
    pub covered: i64,
}

impl Figures {
    pub fn visitors(&self) -> i64 {
        self.visits.iter().sum()
    }
    pub fn coverage(&self) -> Option<f64> {
        (self.open > 0).then(|| self.covered as f64 / self.open as f64)
    }
}

/// One station's roster figures from its shifts and their places, and the open spans
/// (ms) of the period: (shifts, needed, taken, served, open, covered) in minutes.
pub fn roster(shifts: &[&Shift], places: &[&Place], open: &[(i64, i64)]) -> (i64, i64, i64, i64, i64, i64) {
    let span = |id: i64| shifts.iter().find(|s| s.id == id).map(|s| (s.starts_at, s.ends_at));
    let served: i64 = places
        .iter()
        .filter_map(|p| served(span(p.shift_id)?, p.checked_in_at?, p.checked_out_at?))
        .map(|(a, b)| (b - a) / MINUTE_MS)
        .sum();
    let taken: Vec<(i64, i64)> = shifts.iter().filter(|s| s.taken > 0).map(|s| (s.starts_at, s.ends_at)).collect();
    let (open, covered) = coverage(open, &taken);
    let needed = shifts.iter().map(|s| s.needed).sum();
    let taken_places = shifts.iter().map(|s| s.taken.min(s.needed)).sum();
    (shifts.len() as i64, needed, taken_places, served, open, covered)
}

async fn of_community(
    ex: &mut impl Exec,
    c: &crate::auth::guard::CommunityRef,
    calendar: &Calendar,
    (from, to): (i64, i64),
) -> AppResult<Vec<Figures>> {
    let stations = store::stations(&mut *ex, &[c.id]).await?;
    let counts: Vec<(i64, String, i64)> = query(
        "SELECT station_id, kind, COUNT(*) FROM station_visits \
         WHERE community_id = $1 AND at >= $2 AND at < $3 GROUP BY station_id, kind",
    )
    .bind(c.id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *ex)
    .await?;
    // The roster reaches a week ahead; the year's coverage stops there.
    let until = to.min(crate::time::day_start_ms(crate::web::fmt::today()) + 7 * DAY_MS);
    let shifts = store::shifts(&mut *ex, c.id, None, from, until).await?;
    let ids: Vec<i64> = shifts.iter().map(|s| s.id).collect();
    let places = store::places(&mut *ex, c.id, &ids).await?;
    let hours: HashMap<i64, Hours> =
        crate::services::hours::store::hours_of(&mut *ex, c.id, HOURS_OWNER, None, crate::time::day_of(from)).await?;
    let none = Hours::default();
    Ok(stations
        .iter()
        .map(|w| {
            let mut visits = [0; 4];
            for (_, kind, n) in counts.iter().filter(|(s, _, _)| *s == w.id) {
                let i = VisitorKind::parse(kind).and_then(|k| VisitorKind::ALL.iter().position(|x| *x == k));
                visits[i.unwrap_or(3)] += n;
            }
            let mine: Vec<&Shift> = shifts.iter().filter(|s| s.station_id == w.id).collect();
            let mine_places: Vec<&Place> = places.iter().filter(|p| mine.iter().any(|s| s.id == p.shift_id)).collect();
            // Open time counts from the day the station was entered.
            let first = crate::time::day_of(from.max(w.created_at));
            let days = ((until - crate::time::day_start_ms(first)) / DAY_MS).max(0);
            let open = open_spans(hours.get(&w.id).unwrap_or(&none), calendar, first, days);
            let (shifts, needed, taken, served, open, covered) = roster(&mine, &mine_places, &open);
            Figures {
                community: c.name.clone(),
                station: w.name.clone(),
                visits,
                shifts,
                needed,
                taken,
                served,
                open,
                covered,
            }
        })
        .collect())
}

async fn of(state: &AppState, scope: &Scope, from: i64, to: i64) -> AppResult<Vec<Figures>> {
    let calendar = state.holidays.calendar(&state.db).await?;
    let mut out = Vec::new();
    let mut conn = state.db.read().await?;
    for c in &scope.communities {
        out.extend(of_community(&mut conn, c, &calendar, (from, to)).await?);
    }
    Ok(out)
}

/// The ledger's head in Excel (in Chinese, as offices file it), and the page's by key.
const HEAD: [&str; 13] = [
    "社区",
    "驿站",
    "骑手",
    "环卫工人",
    "网约车司机",
    "其他",
    "到访合计",
    "班次",
    "需值守人次",
    "已报名人次",
    "值守小时",
    "开放小时",
    "排班覆盖率",
];
const HEAD_KEYS: [&str; 13] = [
    "warm.community",
    "warm.station",
    "warm.visitor.rider",
    "warm.visitor.sanitation",
    "warm.visitor.driver",
    "warm.visitor.other",
    "warm.visitors",
    "warm.shifts",
    "warm.needed",
    "warm.taken",
    "warm.hours_served",
    "warm.hours_open",
    "warm.coverage",
];

fn hours(minutes: i64) -> String {
    format!("{:.1}", minutes as f64 * MINUTE_MS as f64 / HOUR_MS as f64)
}

fn rows(all: &[Figures]) -> Vec<Vec<String>> {
    all.iter()
        .map(|f| {
            let mut row = vec![f.community.clone(), f.station.clone()];
            row.extend(f.visits.iter().chain([f.visitors(), f.shifts, f.needed, f.taken].iter()).map(i64::to_string));
            row.extend([hours(f.served), hours(f.open), percent(f.coverage())]);
            row
        })
        .collect()
}

pub fn stats_view(ctx: PageCtx, title: String, base: &str, year: i32, all: &[Figures]) -> BlocksPage {
    let table = Table {
        head: HEAD_KEYS.iter().map(|k| ctx.t(k)).collect(),
        rows: rows(all).into_iter().map(|r| r.into_iter().map(Cell::text).collect()).collect(),
        empty: ctx.t("warm.no_stations"),
        sort: Vec::new(),
    };
    let sum = |f: fn(&Figures) -> i64| all.iter().map(f).sum::<i64>();
    let (open, covered) = (sum(|f| f.open), sum(|f| f.covered));
    let cells = vec![
        (ctx.t("warm.visitors"), sum(Figures::visitors).to_string()),
        (ctx.t("warm.hours_served"), hours(sum(|f| f.served))),
        (ctx.t("warm.coverage"), percent((open > 0).then(|| covered as f64 / open as f64))),
    ];
    let links = vec![
        (format!("{base}.xlsx?year={year}"), ctx.t("warm.ledger")),
        (format!("{base}?year={}", year - 1), (year - 1).to_string()),
    ];
    let by_kind: Vec<(String, f64)> = VisitorKind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (ctx.t(&format!("warm.visitor.{}", k.as_str())), all.iter().map(|f| f.visits[i]).sum::<i64>() as f64)
        })
        .collect();
    let blocks = vec![
        Block::Card(ctx.tr("appt.stats_year", "year", year), None, cells, Some(ctx.t("warm.stats_note")), links),
        Block::Chart(Bars::new(ctx.t("warm.visitors_by_kind"), &by_kind, "")),
        Block::Table(ctx.t("warm.by_station"), table),
    ];
    BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none())
}

/// The page of figures and its ledger (`web::figures` gives them their routes).
pub struct Stats;

impl figures::Figures for Stats {
    const WHAT: &'static str = "warm-stations";
    const PERMISSION: Permission = Permission::ManageServices;
    const TITLE: &'static str = "warm.stats";
    const LEDGER: &'static str = "暖心驿站台账";
    const HEAD: &'static [&'static str] = &HEAD;
    type Row = Figures;

    fn read(
        state: &AppState,
        scope: &Scope,
        from: i64,
        to: i64,
    ) -> impl Future<Output = AppResult<Vec<Figures>>> + Send {
        of(state, scope, from, to)
    }

    fn view(ctx: PageCtx, title: String, base: &str, year: i32, rows: &[Figures]) -> BlocksPage {
        stats_view(ctx, title, base, year, rows)
    }

    fn ledger(rows: &[Figures]) -> Vec<Vec<String>> {
        self::rows(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(id: i64, starts_at: i64, hours: i64, needed: i64, taken: i64) -> Shift {
        let ends_at = starts_at + hours * HOUR_MS;
        Shift { id, station_id: 1, station: "驿站".into(), starts_at, ends_at, needed, taken }
    }

    fn place(shift_id: i64, inside: Option<(i64, i64)>) -> Place {
        Place {
            id: shift_id * 10,
            shift_id,
            user_id: 1,
            name: "王".into(),
            checked_in_at: inside.map(|s| s.0),
            checked_out_at: inside.map(|s| s.1),
            service_record_id: None,
        }
    }

    #[test]
    fn the_roster_counts_places_hours_served_and_open_time_covered() {
        // Open 8:00–22:00 (14 hours); a morning shift taken (8–12), an afternoon one not.
        let day = 100 * DAY_MS;
        let open = [(day + 8 * HOUR_MS, day + 22 * HOUR_MS)];
        let (a, b) = (shift(1, day + 8 * HOUR_MS, 4, 2, 1), shift(2, day + 12 * HOUR_MS, 4, 1, 0));
        // Checked in early and out late: only the shift's time counts; one never checked out.
        let p1 = place(1, Some((day + 7 * HOUR_MS, day + 13 * HOUR_MS)));
        let p2 = place(1, None);
        let (shifts, needed, taken, served, open, covered) = roster(&[&a, &b], &[&p1, &p2], &open);
        assert_eq!((shifts, needed, taken), (2, 3, 1));
        assert_eq!(served, 4 * 60);
        assert_eq!((open, covered), (14 * 60, 4 * 60));
        let f = Figures { open, covered, visits: [3, 1, 0, 2], ..Figures::default() };
        assert_eq!((f.visitors(), percent(f.coverage())), (6, "28.6%".into()));
    }
}
