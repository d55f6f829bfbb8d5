//! Figures of the directory, by need: how many listings, how many are fresh and how many
//! wait to be checked, how many may be booked or had for points, and how often they were
//! used in the year (bookings served through the listing's appointment type, rewards handed
//! over through its reward); for a community's staff and a subdistrict, with Excel.

use std::future::Future;

use super::is_fresh;
use crate::auth::model::Permission;
use crate::capabilities::appointments::Status;
use crate::capabilities::points::RedemptionStatus;
use crate::db::{Exec, now_ms, query};
use crate::error::AppResult;
use crate::web::figures::{self, Scope};
use crate::web::fmt::percent;
use crate::web::ui::{Bars, Block, BlocksPage, Cell, Refusal, Table};
use crate::web::{AppState, PageCtx};

/// One need's figures in one community.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub community: String,
    pub need: String,
    pub listings: i64,
    pub fresh: i64,
    /// Never verified since entered (fresh or not).
    pub never_verified: i64,
    pub bookable: i64,
    pub for_points: i64,
    /// Bookings served (done or checked in) through the listings' appointment types.
    pub booked: i64,
    /// Rewards handed over through the listings' rewards.
    pub redeemed: i64,
}

impl Figures {
    pub fn stale(&self) -> i64 {
        self.listings - self.fresh
    }
    pub fn used(&self) -> i64 {
        self.booked + self.redeemed
    }
}

/// A listing as counted: its need, when verified and entered, whether it books or is a reward.
pub type Row = (String, Option<i64>, i64, Option<i64>, Option<i64>);

/// The figures of one community from its listings and its uses by need, in the order of
/// the needs.
pub fn figures(community: &str, listings: &[Row], used: &[(String, i64, i64)], now: i64) -> Vec<Figures> {
    let mut out: Vec<Figures> = super::NEEDS
        .iter()
        .map(|n| Figures { community: community.into(), need: n.to_string(), ..Figures::default() })
        .collect();
    for (need, verified_at, created_at, booking, reward) in listings {
        let Some(f) = out.iter_mut().find(|f| &f.need == need) else { continue };
        f.listings += 1;
        f.fresh += i64::from(is_fresh(*verified_at, *created_at, now));
        f.never_verified += i64::from(verified_at.is_none());
        f.bookable += i64::from(booking.is_some());
        f.for_points += i64::from(reward.is_some());
    }
    for (need, booked, redeemed) in used {
        if let Some(f) = out.iter_mut().find(|f| &f.need == need) {
            f.booked += booked;
            f.redeemed += redeemed;
        }
    }
    out.retain(|f| f.listings > 0 || f.used() > 0);
    out
}

async fn read(
    ex: &mut impl Exec,
    community_id: i64,
    from: i64,
    to: i64,
) -> AppResult<(Vec<Row>, Vec<(String, i64, i64)>)> {
    let listings: Vec<Row> = query(
        "SELECT need, verified_at, created_at, appointment_type_id, reward_id FROM listings \
         WHERE community_id = $1 AND archived_at IS NULL",
    )
    .bind(community_id)
    .fetch_all(&mut *ex)
    .await?;
    let booked: Vec<(String, i64)> = query(
        "SELECT l.need, COUNT(*) FROM listings l JOIN appointments a \
         ON a.community_id = l.community_id AND a.type_id = l.appointment_type_id \
         WHERE l.community_id = $1 AND a.status IN ($2, $3) AND a.starts_at >= $4 AND a.starts_at < $5 GROUP BY l.need",
    )
    .bind(community_id)
    .bind(Status::Done.as_str())
    .bind(Status::CheckedIn.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(&mut *ex)
    .await?;
    let redeemed: Vec<(String, i64)> = query(
        "SELECT l.need, COUNT(*) FROM listings l JOIN redemptions r \
         ON r.community_id = l.community_id AND r.reward_id = l.reward_id \
         WHERE l.community_id = $1 AND r.status = $2 AND r.decided_at >= $3 AND r.decided_at < $4 GROUP BY l.need",
    )
    .bind(community_id)
    .bind(RedemptionStatus::Confirmed.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(&mut *ex)
    .await?;
    let mut used: Vec<(String, i64, i64)> = booked.into_iter().map(|(n, b)| (n, b, 0)).collect();
    for (need, n) in redeemed {
        match used.iter_mut().find(|u| u.0 == need) {
            Some(u) => u.2 += n,
            None => used.push((need, 0, n)),
        }
    }
    Ok((listings, used))
}

async fn of(state: &AppState, scope: &Scope, from: i64, to: i64) -> AppResult<Vec<Figures>> {
    let mut out = Vec::new();
    let mut conn = state.db.read().await?;
    for c in &scope.communities {
        let (listings, used) = read(&mut conn, c.id, from, to).await?;
        out.extend(figures(&c.name, &listings, &used, now_ms()));
    }
    Ok(out)
}

/// The ledger's head in Excel (in Chinese, as offices file it), and the page's by key.
const HEAD: [&str; 10] =
    ["社区", "需求", "服务", "有效", "待核实", "从未核实", "可预约", "可积分兑换", "预约办结", "积分兑换"];
const HEAD_KEYS: [&str; 10] = [
    "warm.community",
    "field.listing.need",
    "directory.listings",
    "directory.fresh",
    "directory.stale",
    "directory.never_verified",
    "directory.bookable",
    "directory.for_points",
    "directory.booked_done",
    "directory.redeemed",
];

fn rows(ctx: Option<&PageCtx>, all: &[Figures]) -> Vec<Vec<String>> {
    all.iter()
        .map(|f| {
            let key = format!("choice.listing.need.{}", f.need);
            let need = ctx.map_or_else(|| crate::i18n::t(crate::i18n::Lang::Zh, &key), |c| c.t(&key));
            let mut row = vec![f.community.clone(), need];
            row.extend(
                [f.listings, f.fresh, f.stale(), f.never_verified, f.bookable, f.for_points, f.booked, f.redeemed]
                    .map(|n| n.to_string()),
            );
            row
        })
        .collect()
}

pub fn stats_view(ctx: PageCtx, title: String, base: &str, year: i32, all: &[Figures]) -> BlocksPage {
    let table = Table {
        head: HEAD_KEYS.iter().map(|k| ctx.t(k)).collect(),
        rows: rows(Some(&ctx), all).into_iter().map(|r| r.into_iter().map(Cell::text).collect()).collect(),
        empty: ctx.t("directory.no_listings"),
        sort: Vec::new(),
    };
    let sum = |f: fn(&Figures) -> i64| all.iter().map(f).sum::<i64>();
    let (listings, fresh) = (sum(|f| f.listings), sum(|f| f.fresh));
    let cells = vec![
        (ctx.t("directory.listings"), listings.to_string()),
        (ctx.t("directory.fresh_share"), percent((listings > 0).then(|| fresh as f64 / listings as f64))),
        (ctx.t("directory.used"), sum(Figures::used).to_string()),
    ];
    let links = vec![
        (format!("{base}.xlsx?year={year}"), ctx.t("directory.ledger")),
        (format!("{base}?year={}", year - 1), (year - 1).to_string()),
    ];
    let mut by_need: Vec<(String, f64)> = Vec::new();
    for f in all {
        let label = ctx.t(&format!("choice.listing.need.{}", f.need));
        match by_need.iter_mut().find(|(l, _)| *l == label) {
            Some(b) => b.1 += f.listings as f64,
            None => by_need.push((label, f.listings as f64)),
        }
    }
    let blocks = vec![
        Block::Card(ctx.tr("appt.stats_year", "year", year), None, cells, None, links),
        Block::Chart(Bars::new(ctx.t("directory.by_need"), &by_need, "")),
        Block::Table(ctx.t("directory.by_need"), table),
    ];
    BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none())
}

/// The page of figures and its ledger (`web::figures` gives them their routes).
pub struct Stats;

impl figures::Figures for Stats {
    const WHAT: &'static str = "directory";
    const PERMISSION: Permission = Permission::ManageServices;
    const TITLE: &'static str = "directory.stats";
    const LEDGER: &'static str = "服务圈台账";
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
    fn listings_count_by_need_with_freshness_and_use() {
        let day = crate::time::DAY_MS;
        let now = 400 * day;
        let l = |need: &str, verified: Option<i64>, created: i64, b: Option<i64>, r: Option<i64>| {
            (need.to_string(), verified, created, b, r)
        };
        let all = figures(
            "怡馨家园第一社区",
            &[
                l("haircut", Some(now - day), 0, None, Some(7)),
                l("haircut", None, 0, Some(3), None),
                l("legal", None, now - 10 * day, None, None),
                l("bogus", None, 0, None, None),
            ],
            &[("haircut".into(), 4, 2), ("medical".into(), 0, 1)],
            now,
        );
        let haircut = all.iter().find(|f| f.need == "haircut").unwrap();
        assert_eq!((haircut.listings, haircut.fresh, haircut.stale(), haircut.never_verified), (2, 1, 1, 1));
        assert_eq!((haircut.bookable, haircut.for_points, haircut.used()), (1, 1, 6));
        let legal = all.iter().find(|f| f.need == "legal").unwrap();
        assert_eq!((legal.fresh, legal.never_verified), (1, 1));
        // A need with a use but no current listing stays; needs with neither do not.
        assert!(all.iter().any(|f| f.need == "medical" && f.listings == 0 && f.used() == 1));
        assert_eq!(all.len(), 3);
        // In the needs' order, not the input's.
        assert_eq!(all.iter().map(|f| f.need.as_str()).collect::<Vec<_>>(), ["medical", "legal", "haircut"]);
    }
}
