//! Lists of tickets: the views (mine, work, pool, grid, all), the filters, and a page of
//! tickets newest first.

use super::access::{is_overseer, is_staff, my_grids, my_teams, my_units};
use super::{COLUMNS, Ticket};
use crate::auth::model::Actor;
use crate::capabilities::tickets::{Channel, Status};
use crate::db::{Builder, Db, Exec, now_ms, query};
use crate::error::{AppError, AppResult};

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Submitted by me.
    Mine,
    /// Mine to do (I am the owner).
    Work,
    /// In a pool I can take from.
    Pool,
    /// In my grids.
    Grid,
    /// The whole community (staff) or subdistrict (administrators).
    All,
}

impl View {
    pub const ALL: [View; 5] = [View::Work, View::Pool, View::Grid, View::Mine, View::All];

    pub fn as_str(self) -> &'static str {
        match self {
            View::Mine => "mine",
            View::Work => "work",
            View::Pool => "pool",
            View::Grid => "grid",
            View::All => "all",
        }
    }
}

crate::text_enum! {
    /// The order of a list: newest first, or by what staff work by (the deadline, the
    /// grid, who has it).
    #[derive(Default)]
    pub enum Sort {
        #[default]
        Newest = "newest",
        Due = "due",
        Grid = "grid",
        Owner = "owner",
    }
}

impl Sort {
    /// Those without a grid or an owner come last on every database.
    fn order_by(self) -> &'static str {
        match self {
            Sort::Newest => "created_at DESC, id DESC",
            Sort::Due => "due_at, id",
            Sort::Grid => "grid_id IS NULL, grid_id, created_at DESC, id DESC",
            Sort::Owner => "owner_user_id IS NULL, owner_user_id, created_at DESC, id DESC",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub status: Option<Status>,
    /// Every open state.
    pub open: bool,
    pub category_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub overdue: bool,
    /// Created on or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub to: Option<i64>,
    pub q: Option<String>,
    pub channel: Option<Channel>,
    pub sort: Sort,
}

/// Adds the view's scope over `community_ids`; `Err(NotFound)` when the actor has no such
/// view there.
async fn push_view(
    ex: &mut impl Exec,
    b: &mut Builder,
    actor: &Actor,
    community_ids: &[i64],
    view: View,
) -> AppResult<()> {
    match view {
        View::Mine => {
            b.push(" AND community_id IN ").list(community_ids.iter().copied());
            b.push(" AND submitter_user_id = ").arg(actor.user_id);
        }
        View::Work => {
            b.push(" AND community_id IN ").list(community_ids.iter().copied());
            b.push(" AND owner_user_id = ").arg(actor.user_id);
        }
        View::Pool => {
            let [c] = community_ids else { return Err(AppError::NotFound) };
            let teams = my_teams(ex, *c, actor.user_id).await?;
            let units = my_units(actor, *c);
            b.push(" AND community_id = ").arg(*c).push(" AND status = 'dispatched' AND (pool_team_id IN ").list(teams);
            b.push(" OR pool_unit_id IN ").list(units).push(")");
        }
        View::Grid => {
            let [c] = community_ids else { return Err(AppError::NotFound) };
            let grids = my_grids(actor, *c);
            if grids.is_empty() {
                return Err(AppError::NotFound);
            }
            b.push(" AND community_id = ").arg(*c).push(" AND grid_id IN ").list(grids);
        }
        View::All => {
            if community_ids.iter().any(|c| !is_staff(actor, *c) && !is_overseer(actor, *c)) || community_ids.is_empty()
            {
                return Err(AppError::NotFound);
            }
            b.push(" AND community_id IN ").list(community_ids.iter().copied());
        }
    }
    Ok(())
}

fn push_filters(b: &mut Builder, f: &Filters, now: i64) {
    if let Some(s) = f.status {
        b.push(" AND status = ").arg(s.as_str());
    } else if f.open {
        b.push(" AND status IN ('submitted', 'dispatched', 'accepted', 'in_progress', 'reopened')");
    }
    if let Some(c) = f.category_id {
        b.push(" AND category_id = ").arg(c);
    }
    if let Some(g) = f.grid_id {
        b.push(" AND grid_id = ").arg(g);
    }
    if f.overdue {
        b.push(" AND status IN ('submitted', 'dispatched', 'accepted', 'in_progress', 'reopened') AND due_at < ")
            .arg(now);
    }
    if let Some(from) = f.from {
        b.push(" AND created_at >= ").arg(from);
    }
    if let Some(to) = f.to {
        b.push(" AND created_at < ").arg(to);
    }
    if let Some(ch) = f.channel {
        b.push(" AND channel = ").arg(ch.as_str());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        match q.trim_start_matches('#').parse::<i64>() {
            Ok(id) => {
                b.push(" AND id = ").arg(id);
            }
            Err(_) => {
                let pattern = format!("%{}%", crate::db::escape_like(q));
                b.push(" AND (description LIKE ")
                    .arg(pattern.clone())
                    .push(" ESCAPE '\\' OR address LIKE ")
                    .arg(pattern)
                    .push(" ESCAPE '\\')");
            }
        }
    }
}

pub struct ListPage {
    pub items: Vec<Ticket>,
    pub total: i64,
}

/// A page of tickets, in the filters' order (newest first unless asked).
pub async fn list(
    db: &Db,
    actor: &Actor,
    community_ids: &[i64],
    view: View,
    f: &Filters,
    page: u32,
    per_page: u32,
) -> AppResult<ListPage> {
    let per_page = per_page.clamp(1, 500);
    let page = page.max(1);
    let mut conn = db.read_over(community_ids).await?;
    let mut b = Builder::new(" FROM tickets WHERE 1 = 1");
    push_view(&mut conn, &mut b, actor, community_ids, view).await?;
    push_filters(&mut b, f, now_ms());
    let count = query(format!("SELECT COUNT(*){}", b.sql)).bind_all(b.args.clone()).scalar::<i64>(&mut conn).await?;
    b.sql = format!(
        "SELECT {COLUMNS}{} ORDER BY {} LIMIT {per_page} OFFSET {}",
        b.sql,
        f.sort.order_by(),
        u64::from(page - 1) * u64::from(per_page)
    );
    let items = b.build().fetch_all(&mut conn).await?;
    Ok(ListPage { items, total: count })
}
