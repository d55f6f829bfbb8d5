//! What statistics count of each ticket: the tallies a ticket adds to, and the duration
//! buckets that response and resolution medians are read from.

use super::Status;

/// What statistics count of one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// 0 when the ticket has no grid.
    pub grid_id: i64,
    pub category_id: i64,
    pub status: Status,
    /// Completed no later than its deadline.
    pub on_time: bool,
    /// Someone has taken it (its first response is known).
    pub responded: bool,
    pub rating: Option<i64>,
    /// From submission to the first acceptance, and to resolution.
    pub response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
}

/// How many duration buckets there are: bucket 0 holds everything under a second, bucket
/// `b ≥ 1` starts at `1000 · 2^((b−1)/8)` ms (an eighth of an octave, about 9% wide).
pub const DURATION_BUCKETS: usize = 241;

/// Where each duration bucket starts, in milliseconds (the last reaches beyond a century).
pub fn bucket_starts() -> &'static [i64] {
    static STARTS: std::sync::LazyLock<Vec<i64>> = std::sync::LazyLock::new(|| {
        std::iter::once(0)
            .chain((1..DURATION_BUCKETS).map(|b| (1000.0 * 2f64.powf((b - 1) as f64 / 8.0)).floor() as i64))
            .collect()
    });
    &STARTS
}

/// The bucket a duration falls in.
pub fn duration_bucket(ms: i64) -> i64 {
    bucket_starts().partition_point(|&start| start <= ms.max(0)) as i64 - 1
}

/// The milliseconds `[from, to)` of a bucket.
pub fn bucket_range(bucket: i64) -> (i64, i64) {
    let starts = bucket_starts();
    let b = bucket.clamp(0, starts.len() as i64 - 1) as usize;
    (starts[b], starts.get(b + 1).copied().unwrap_or(i64::MAX))
}

/// Which bucket holds the `rank`-th smallest duration (from 0), and its rank inside that
/// bucket, given how many durations each bucket holds.
pub fn locate(counts: &std::collections::BTreeMap<i64, i64>, rank: i64) -> Option<(i64, i64)> {
    let mut before = 0;
    for (&bucket, &n) in counts {
        if rank < before + n {
            return Some((bucket, rank - before));
        }
        before += n;
    }
    None
}

/// The ranks (from 0) whose mean is the median of `n` values.
pub fn median_ranks(n: i64) -> Option<(i64, i64)> {
    (n > 0).then(|| ((n - 1) / 2, n / 2))
}

/// The tallies one ticket contributes to: (grid, category, metric). Durations are tallied
/// per grid and bucket only, under category 0 (no category has id 0), as
/// `response:<bucket>` and `resolution:<bucket>`: medians start from them.
fn contributions(f: &Facts) -> Vec<(i64, i64, String)> {
    let mut out = vec![format!("status:{}", f.status.as_str())];
    if f.responded {
        out.push("responded".into());
    }
    if f.status.is_completed() {
        out.push("completed".into());
        if f.on_time {
            out.push("on_time".into());
        }
    }
    if let Some(r) = f.rating {
        out.push("rated".into());
        if r >= 4 {
            out.push("satisfied".into());
        }
    }
    let mut out: Vec<(i64, i64, String)> = out.into_iter().map(|m| (f.grid_id, f.category_id, m)).collect();
    for (name, ms) in [("response", f.response_ms), ("resolution", f.resolution_ms)] {
        if let Some(ms) = ms {
            out.push((f.grid_id, 0, format!("{name}:{}", duration_bucket(ms))));
        }
    }
    out
}

/// How the tallies change when a ticket goes from `before` (none when new) to `after`.
pub fn tally_delta(before: Option<&Facts>, after: &Facts) -> Vec<(i64, i64, String, i64)> {
    let mut out: Vec<(i64, i64, String, i64)> = Vec::new();
    let mut add =
        |key: (i64, i64, String), d: i64| match out.iter_mut().find(|x| (x.0, x.1, &x.2) == (key.0, key.1, &key.2)) {
            Some(x) => x.3 += d,
            None => out.push((key.0, key.1, key.2, d)),
        };
    for k in before.map(contributions).unwrap_or_default() {
        add(k, -1);
    }
    for k in contributions(after) {
        add(k, 1);
    }
    out.retain(|x| x.3 != 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::tickets::{DAY_MS, HOUR_MS};

    #[test]
    fn tallies_follow_a_ticket_through_its_life() {
        let new = Facts {
            grid_id: 3,
            category_id: 7,
            status: Status::Dispatched,
            on_time: false,
            responded: false,
            rating: None,
            response_ms: None,
            resolution_ms: None,
        };
        assert_eq!(tally_delta(None, &new), vec![(3, 7, "status:dispatched".to_string(), 1)]);
        let done = Facts { status: Status::Resolved, on_time: true, responded: true, ..new };
        let mut d = tally_delta(Some(&new), &done);
        d.sort();
        assert_eq!(
            d,
            vec![
                (3, 7, "completed".to_string(), 1),
                (3, 7, "on_time".to_string(), 1),
                (3, 7, "responded".to_string(), 1),
                (3, 7, "status:dispatched".to_string(), -1),
                (3, 7, "status:resolved".to_string(), 1),
            ]
        );
        let rated = Facts { status: Status::Closed, rating: Some(5), ..done };
        let mut d = tally_delta(Some(&done), &rated);
        d.sort();
        assert_eq!(
            d,
            vec![
                (3, 7, "rated".to_string(), 1),
                (3, 7, "satisfied".to_string(), 1),
                (3, 7, "status:closed".to_string(), 1),
                (3, 7, "status:resolved".to_string(), -1),
            ]
        );
        // Moving to another grid moves every tally.
        let moved = Facts { grid_id: 4, ..rated };
        assert_eq!(tally_delta(Some(&rated), &moved).len(), 12);
    }

    #[test]
    fn durations_are_tallied_by_bucket_and_move_with_the_ticket() {
        let open = Facts {
            grid_id: 3,
            category_id: 7,
            status: Status::Accepted,
            on_time: false,
            responded: true,
            rating: None,
            response_ms: Some(90_000),
            resolution_ms: None,
        };
        let b = duration_bucket(90_000);
        let delta = tally_delta(None, &open);
        assert!(delta.contains(&(3, 0, format!("response:{b}"), 1)));
        let resolved = Facts { status: Status::Resolved, resolution_ms: Some(5 * HOUR_MS), ..open };
        let d = tally_delta(Some(&open), &resolved);
        assert!(d.contains(&(3, 0, format!("resolution:{}", duration_bucket(5 * HOUR_MS)), 1)));
        assert!(!d.iter().any(|x| x.2.starts_with("response:")), "an unchanged response time stays put");
    }

    #[test]
    fn buckets_cover_every_duration_without_gaps() {
        let starts = bucket_starts();
        assert_eq!(starts.len(), DURATION_BUCKETS);
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((starts[1], starts[9]), (1000, 2000), "an octave is eight buckets");
        for ms in [0, 999, 1000, 1090, 1091, 59_999, 86_400_000, 40 * DAY_MS, i64::MAX / 2] {
            let (from, to) = bucket_range(duration_bucket(ms));
            assert!(from <= ms && ms < to, "{ms} in [{from}, {to})");
        }
        assert_eq!(duration_bucket(-5), 0);
    }

    #[test]
    fn the_median_is_found_from_bucket_counts() {
        let counts = std::collections::BTreeMap::from([(2, 3), (5, 0), (7, 4)]);
        assert_eq!(locate(&counts, 0), Some((2, 0)));
        assert_eq!(locate(&counts, 2), Some((2, 2)));
        assert_eq!(locate(&counts, 3), Some((7, 0)));
        assert_eq!(locate(&counts, 6), Some((7, 3)));
        assert_eq!(locate(&counts, 7), None);
        assert_eq!(median_ranks(7), Some((3, 3)));
        assert_eq!(median_ranks(4), Some((1, 2)));
        assert_eq!(median_ranks(0), None);
    }

    #[test]
    fn the_migration_knows_the_same_buckets() {
        let sql = include_str!("../../../migrations/0004_ticket_figures.sql");
        let re = regex::Regex::new(r"\((\d+), (\d+), (\d+)\)").unwrap();
        let rows: Vec<(i64, i64, i64)> = re
            .captures_iter(sql)
            .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap(), c[3].parse().unwrap()))
            .collect();
        assert_eq!(rows.len(), DURATION_BUCKETS);
        for (b, from, to) in rows {
            assert_eq!(bucket_range(b), (from, to), "bucket {b}");
        }
    }
}
