//! Figures of appointments, by service: booked, done, no-shows and cancellations with their
//! rates, and the share booked after hours or at weekends; for a community (its staff) and
//! community by community for a subdistrict; the same in Excel.

use std::future::Future;

use super::Status;
use crate::auth::model::Permission;
use crate::db::{Exec, query};
use crate::error::AppResult;
use crate::web::figures::{self, Scope};
use crate::web::fmt::percent;
use crate::web::ui::{Block, BlocksPage, Cell, Refusal, Table};
use crate::web::{AppState, PageCtx};

/// One service's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub community: String,
    pub service: String,
    pub kind: String,
    /// Bookings (each once: one moved counts as its new booking).
    pub booked: i64,
    pub done: i64,
    pub no_shows: i64,
    pub cancelled: i64,
    /// Those due that were served (done or checked in) or missed.
    pub due: i64,
}

impl Figures {
    pub fn no_show_rate(&self) -> Option<f64> {
        (self.due > 0).then(|| self.no_shows as f64 / self.due as f64)
    }
    pub fn cancel_rate(&self) -> Option<f64> {
        (self.booked > 0).then(|| self.cancelled as f64 / self.booked as f64)
    }
    pub fn after_hours(&self) -> bool {
        matches!(self.kind.as_str(), "after_hours" | "weekend")
    }
}

/// The figures from counts of (service, kind, status).
pub fn figures(community: &str, counts: &[(String, String, String, i64)]) -> Vec<Figures> {
    let mut out: Vec<Figures> = Vec::new();
    for (service, kind, status, n) in counts {
        let Some(status) = Status::parse(status) else { continue };
        let i = match out.iter().position(|f| &f.service == service) {
            Some(i) => i,
            None => {
                out.push(Figures {
                    community: community.into(),
                    service: service.clone(),
                    kind: kind.clone(),
                    ..Figures::default()
                });
                out.len() - 1
            }
        };
        let f = &mut out[i];
        if status != Status::Rescheduled {
            f.booked += n;
        }
        match status {
            Status::Done | Status::CheckedIn => {
                f.done += n;
                f.due += n;
            }
            Status::NoShow => {
                f.no_shows += n;
                f.due += n;
            }
            Status::Cancelled => f.cancelled += n,
            _ => {}
        }
    }
    out
}

/// The share of bookings after hours or at weekends.
pub fn after_hours_share(all: &[Figures]) -> Option<f64> {
    let total: i64 = all.iter().map(|f| f.booked).sum();
    (total > 0).then(|| all.iter().filter(|f| f.after_hours()).map(|f| f.booked).sum::<i64>() as f64 / total as f64)
}

pub async fn counts(
    ex: &mut impl Exec,
    community_id: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<(String, String, String, i64)>> {
    Ok(query(
        "SELECT t.name, t.kind, a.status, COUNT(*) FROM appointments a \
         JOIN appointment_types t ON t.community_id = a.community_id AND t.id = a.type_id \
         WHERE a.community_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 GROUP BY t.id, t.name, t.kind, a.status ORDER BY t.id",
    )
    .bind(community_id)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?)
}

/// The ledger's head in Excel (in Chinese, as offices file it), and the page's by key.
const HEAD: [&str; 8] = ["社区", "服务", "类型", "预约", "办结", "未到场", "未到场率", "取消率"];
const HEAD_KEYS: [&str; 8] = [
    "warm.community",
    "appt.service",
    "field.appointment_type.kind",
    "appt.booked",
    "appt.status.done",
    "appt.status.no_show",
    "appt.no_show_rate",
    "appt.cancel_rate",
];

fn rows(ctx: Option<&PageCtx>, all: &[Figures]) -> Vec<Vec<String>> {
    all.iter()
        .map(|f| {
            let kind = ctx.map_or_else(|| f.kind.clone(), |c| c.t(&format!("choice.appointment_type.kind.{}", f.kind)));
            vec![
                f.community.clone(),
                f.service.clone(),
                kind,
                f.booked.to_string(),
                f.done.to_string(),
                f.no_shows.to_string(),
                percent(f.no_show_rate()),
                percent(f.cancel_rate()),
            ]
        })
        .collect()
}

pub fn stats_view(ctx: PageCtx, title: String, base: &str, year: i32, all: &[Figures]) -> BlocksPage {
    let table = Table {
        head: HEAD_KEYS.iter().map(|k| ctx.t(k)).collect(),
        rows: rows(Some(&ctx), all).into_iter().map(|r| r.into_iter().map(Cell::text).collect()).collect(),
        empty: ctx.t("appt.no_figures"),
        sort: Vec::new(),
    };
    let links = vec![
        (format!("{base}.xlsx?year={year}"), ctx.t("appt.ledger")),
        (format!("{base}?year={}", year - 1), (year - 1).to_string()),
    ];
    let cells = vec![(ctx.t("appt.after_hours_share"), percent(after_hours_share(all)))];
    let blocks = vec![
        Block::Card(ctx.tr("appt.stats_year", "year", year), None, cells, None, links),
        Block::Table(ctx.t("appt.by_service"), table),
    ];
    BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none())
}

async fn of(state: &AppState, scope: &Scope, from: i64, to: i64) -> AppResult<Vec<Figures>> {
    let mut out = Vec::new();
    let mut conn = state.db.read().await?;
    for c in &scope.communities {
        out.extend(figures(&c.name, &counts(&mut conn, c.id, from, to).await?));
    }
    Ok(out)
}

/// The page of figures and its ledger (`web::figures` gives them their routes).
pub struct Stats;

impl figures::Figures for Stats {
    const WHAT: &'static str = "appointments";
    const PERMISSION: Permission = Permission::ManageServices;
    const TITLE: &'static str = "appt.stats";
    const LEDGER: &'static str = "预约台账";
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
        self::rows(None, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_each_booking_once_and_a_corrected_no_show_as_served() {
        let c = |s: &str, k: &str, st: &str, n| (s.to_string(), k.to_string(), st.to_string(), n);
        let all = figures(
            "回龙社区",
            &[
                c("延时", "after_hours", "done", 6),
                c("延时", "after_hours", "no_show", 2),
                c("延时", "after_hours", "cancelled", 1),
                c("延时", "after_hours", "rescheduled", 3),
                c("代办", "proxy", "booked", 4),
                c("代办", "proxy", "checked_in", 2),
            ],
        );
        assert_eq!((all[0].booked, all[0].due, all[0].no_shows), (9, 8, 2));
        assert_eq!(all[0].no_show_rate(), Some(0.25));
        assert_eq!(all[0].cancel_rate(), Some(1.0 / 9.0));
        assert_eq!(all[1].no_show_rate(), Some(0.0));
        assert_eq!(after_hours_share(&all), Some(9.0 / 15.0));
        assert_eq!(percent(None), "—");
    }
}
