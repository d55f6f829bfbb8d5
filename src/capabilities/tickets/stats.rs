//! Figures a secretary can quote: counts by status and category, 办结率 (completion),
//! on-time and 满意率 (satisfaction) rates, median response and resolution times, and
//! whistles answered. Counts come from tallies kept exact in every writing transaction;
//! medians are exact, read in order from an index.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Status;
use crate::auth::model::{Actor, Permission, Role};
use crate::db::{Builder, Db, query};
use crate::error::{AppError, AppResult};

/// What the figures cover.
#[derive(Debug, Clone)]
pub struct Scope {
    pub community_ids: Vec<i64>,
    pub grid_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Row {
    /// The category's code (the same code in every community counts as one category), or
    /// the id of the grid or community.
    pub key: String,
    pub name: String,
    pub total: i64,
    pub completed: i64,
    /// Rejected and duplicates, which a completion rate leaves out.
    pub excluded: i64,
    pub on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
}

impl Row {
    /// The same rates as the whole scope's, so that places of different sizes compare.
    pub fn completion_rate(&self) -> Option<f64> {
        rate(self.completed, self.total - self.excluded)
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        rate(self.on_time, self.completed)
    }

    pub fn satisfaction_rate(&self) -> Option<f64> {
        rate(self.satisfied, self.rated)
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    /// Every ticket in scope.
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_category: Vec<Row>,
    /// Per grid (one community) or per community (several).
    pub by_place: Vec<Row>,
    pub completed: i64,
    pub on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub responded: i64,
    /// Completed ÷ (all but rejected and duplicates).
    pub completion_rate: Option<f64>,
    /// Completed by the deadline ÷ completed.
    pub on_time_rate: Option<f64>,
    /// Rated 4 or 5 ÷ rated.
    pub satisfaction_rate: Option<f64>,
    pub median_response_ms: Option<f64>,
    pub median_resolution_ms: Option<f64>,
    pub whistles: i64,
    pub whistles_answered: i64,
}

fn rate(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Who may see the figures of a scope: staff and overseers of each community, a grid
/// worker for their grid.
pub fn may_see(actor: &Actor, scope: &Scope) -> bool {
    !scope.community_ids.is_empty()
        && scope.community_ids.iter().all(|c| {
            let staffish = actor.grants.iter().any(|g| {
                matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(*c)
            }) || actor.is_platform_admin()
                || (actor.has_role(Role::SubdistrictAdmin) && actor.can(*c, Permission::ViewPlaces));
            let grid_worker = scope.grid_id.is_some_and(|g| {
                actor
                    .grants
                    .iter()
                    .any(|x| x.role() == Role::GridWorker && x.community_id == Some(*c) && x.grid_id == Some(g))
            });
            staffish || grid_worker
        })
}

/// The exact median of a duration column in scope, from the counts per bucket: only the
/// tickets of the bucket (or two) holding the middle are read.
async fn median_of(db: &Db, column: &str, scope: &Scope, counts: &BTreeMap<i64, i64>) -> AppResult<Option<f64>> {
    let Some((low, high)) = super::median_ranks(counts.values().sum()) else { return Ok(None) };
    let mut middle = Vec::new();
    for rank in if low == high { vec![low] } else { vec![low, high] } {
        let Some((bucket, within)) = super::locate(counts, rank) else { return Ok(None) };
        let (from, to) = super::bucket_range(bucket);
        let mut b =
            Builder::new(format!("SELECT {column} FROM tickets WHERE {column} IS NOT NULL AND community_id IN "));
        b.list(scope.community_ids.iter().copied());
        if let Some(g) = scope.grid_id {
            b.push(" AND grid_id = ").arg(g);
        }
        b.push(&format!(" AND {column} >= ")).arg(from).push(&format!(" AND {column} < ")).arg(to);
        b.push(&format!(" ORDER BY {column} LIMIT 1 OFFSET {within}"));
        let mut conn = db.read_over(&scope.community_ids).await?;
        match b.build().scalar_optional::<i64>(&mut conn).await? {
            Some(v) => middle.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(middle.iter().sum::<i64>() as f64 / middle.len() as f64))
}

pub async fn figures(db: &Db, actor: &Actor, scope: &Scope) -> AppResult<Figures> {
    if !may_see(actor, scope) {
        return Err(AppError::NotFound);
    }
    let several = scope.community_ids.len() > 1;
    // Summed in the database: per community (several) or per grid (one), category and
    // metric; the durations per metric and bucket.
    let place = if several { "t.community_id" } else { "t.grid_id" };
    let mut b = Builder::new(format!(
        "SELECT {place}, t.category_id, t.metric, CAST(SUM(t.n) AS BIGINT) FROM ticket_tallies t WHERE t.n <> 0 AND t.community_id IN "
    ));
    b.list(scope.community_ids.iter().copied());
    if let Some(g) = scope.grid_id {
        b.push(" AND t.grid_id = ").arg(g);
    }
    b.push(&format!(" GROUP BY {place}, t.category_id, t.metric"));
    let mut conn = db.read_over(&scope.community_ids).await?;
    let tallies: Vec<(i64, i64, String, i64)> = b.build().fetch_all(&mut conn).await?;
    let mut names = Builder::new("SELECT id, code, name FROM ticket_categories WHERE community_id IN ");
    names.list(scope.community_ids.iter().copied());
    let categories: BTreeMap<i64, (String, String)> = names
        .build()
        .fetch_all::<(i64, String, String)>(&mut conn)
        .await?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect();
    let category_names: BTreeMap<String, String> = categories.values().cloned().collect();
    let code_of = |id: &i64| categories.get(id).map(|c| c.0.clone()).unwrap_or_default();
    let mut f = Figures::default();
    let mut by_category: BTreeMap<String, Row> = BTreeMap::new();
    let mut by_place: BTreeMap<String, Row> = BTreeMap::new();
    let mut durations: BTreeMap<&str, BTreeMap<i64, i64>> = BTreeMap::new();
    for (place, category, metric, n) in &tallies {
        if *category == 0 {
            if let Some((name, bucket)) = metric.split_once(':')
                && let Ok(bucket) = bucket.parse::<i64>()
            {
                *durations.entry(name).or_default().entry(bucket).or_default() += n;
            }
            continue;
        }
        let place = place.to_string();
        let at = by_place.entry(place).or_default();
        if let Some(status) = metric.strip_prefix("status:") {
            *f.by_status.entry(status.to_string()).or_default() += n;
            f.total += n;
            by_category.entry(code_of(category)).or_default().total += n;
            at.total += n;
            if status == Status::Rejected.as_str() || status == Status::Duplicate.as_str() {
                at.excluded += n;
            }
        }
        match metric.as_str() {
            "completed" => {
                f.completed += n;
                by_category.entry(code_of(category)).or_default().completed += n;
                at.completed += n;
            }
            "on_time" => (f.on_time, at.on_time) = (f.on_time + n, at.on_time + n),
            "rated" => (f.rated, at.rated) = (f.rated + n, at.rated + n),
            "satisfied" => (f.satisfied, at.satisfied) = (f.satisfied + n, at.satisfied + n),
            "responded" => f.responded += n,
            _ => {}
        }
    }
    let place_names: BTreeMap<String, String> = if several {
        let mut b = Builder::new("SELECT id, name FROM communities WHERE id IN ");
        b.list(scope.community_ids.iter().copied());
        b.build().fetch_all::<(i64, String)>(&mut conn).await?.into_iter().map(|(id, n)| (id.to_string(), n)).collect()
    } else {
        query("SELECT id, name FROM grids WHERE community_id = $1")
            .bind(scope.community_ids[0])
            .fetch_all::<(i64, String)>(&mut conn)
            .await?
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect()
    };
    let finish = |m: BTreeMap<String, Row>, names: &BTreeMap<String, String>, none: &str| -> Vec<Row> {
        let mut rows: Vec<Row> = m
            .into_iter()
            .map(|(k, r)| Row { name: names.get(&k).cloned().unwrap_or_else(|| none.to_string()), key: k, ..r })
            .filter(|r| r.total > 0)
            .collect();
        rows.sort_by(|a, b| b.total.cmp(&a.total).then(a.name.cmp(&b.name)));
        rows
    };
    f.by_category = finish(by_category, &category_names, "—");
    f.by_place = finish(by_place, &place_names, "（未落入网格）");
    let excluded = f.by_status.get(Status::Rejected.as_str()).copied().unwrap_or(0)
        + f.by_status.get(Status::Duplicate.as_str()).copied().unwrap_or(0);
    f.completion_rate = rate(f.completed, f.total - excluded);
    f.on_time_rate = rate(f.on_time, f.completed);
    f.satisfaction_rate = rate(f.satisfied, f.rated);
    let mut w = Builder::new("SELECT COUNT(*), COUNT(responded_at) FROM ticket_whistles w WHERE w.community_id IN ");
    w.list(scope.community_ids.iter().copied());
    if let Some(g) = scope.grid_id {
        w.push(" AND EXISTS (SELECT 1 FROM tickets t WHERE t.community_id IN ")
            .list(scope.community_ids.iter().copied());
        w.push(" AND t.community_id = w.community_id AND t.id = w.ticket_id AND t.grid_id = ").arg(g).push(")");
    }
    let (whistles, answered): (i64, i64) = w.build().fetch_one(&mut conn).await?;
    f.whistles = whistles;
    f.whistles_answered = answered;
    drop(conn);
    let none = BTreeMap::new();
    f.median_response_ms = median_of(db, "response_ms", scope, durations.get("response").unwrap_or(&none)).await?;
    f.median_resolution_ms =
        median_of(db, "resolution_ms", scope, durations.get("resolution").unwrap_or(&none)).await?;
    Ok(f)
}

/// `12.5 小时` / `3.2 天` for a duration in milliseconds.
pub fn human_duration(ms: Option<f64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 3_600_000.0 => format!("{:.0} 分钟", ms / 60_000.0),
        Some(ms) if ms < 2.0 * 86_400_000.0 => format!("{:.1} 小时", ms / 3_600_000.0),
        Some(ms) => format!("{:.1} 天", ms / 86_400_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_read_well() {
        assert_eq!(human_duration(Some(30.0 * 60_000.0)), "30 分钟");
        assert_eq!(human_duration(Some(5.0 * 3_600_000.0)), "5.0 小时");
        assert_eq!(human_duration(Some(3.0 * 86_400_000.0)), "3.0 天");
        assert_eq!(crate::web::fmt::percent(rate(68, 76)), "89.5%");
        assert_eq!(crate::web::fmt::percent(rate(1, 0)), "—");
    }
}
