//! The tickets' figures in the dictionary: of the tickets received in a month, how many,
//! how many completed (办结率), rated satisfied (满意率) and overdue — counted per grid in
//! one pass over the month's tickets.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::{now_ms, query};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "tickets_received", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "completion_rate", unit: Unit::Percent, more_is_better: true, of: None },
        FigureDef { code: "satisfaction_rate", unit: Unit::Percent, more_is_better: true, of: None },
        FigureDef { code: "overdue_tickets", unit: Unit::Count, more_is_better: false, of: None },
    ],
    count,
    behind,
};

/// Completed past its deadline, or still open past it (at `now`).
const OVERDUE: &str = "(status IN ('resolved', 'closed') AND resolved_at > due_at)
    OR (status NOT IN ('resolved', 'closed', 'rejected', 'duplicate') AND due_at < $4)";

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let sql = format!(
            "SELECT COALESCE(grid_id, 0), COUNT(*),
                CAST(SUM(CASE WHEN status IN ('resolved', 'closed') THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN status IN ('rejected', 'duplicate') THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN {OVERDUE} THEN 1 ELSE 0 END) AS BIGINT)
             FROM tickets WHERE community_id = $1 AND created_at >= $2 AND created_at < $3
             GROUP BY COALESCE(grid_id, 0)"
        );
        let rows: Vec<(i64, i64, i64, i64, i64, i64, i64)> =
            query(sql).bind(c.id).bind(p.from).bind(p.to).bind(now_ms()).fetch_all(&mut state.db.read().await?).await?;
        let mut out = Vec::new();
        for (grid, received, completed, excluded, rated, satisfied, overdue) in rows {
            let grid_id = (grid != 0).then_some(grid);
            let at = |code, tally| Count { code, grid_id, tally };
            out.push(at("tickets_received", Tally::count(received)));
            out.push(at("completion_rate", Tally::ratio(completed, received - excluded)));
            out.push(at("satisfaction_rate", Tally::ratio(satisfied, rated)));
            out.push(at("overdue_tickets", Tally::count(overdue)));
        }
        Ok(out)
    })
}

/// The month's tickets behind a figure: the overdue ones, those not completed first, the
/// rated ones worst first, or all of them newest first.
fn behind<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    code: &'static str,
    p: &'a Period,
    within: Within,
) -> BoxFuture<'a, AppResult<Vec<Behind>>> {
    Box::pin(async move {
        let (filter, order) = match code {
            "overdue_tickets" => (format!(" AND ({OVERDUE})"), "due_at"),
            "completion_rate" => (
                " AND status NOT IN ('rejected', 'duplicate')".to_string(),
                "CASE WHEN status IN ('resolved', 'closed') THEN 1 ELSE 0 END, created_at DESC",
            ),
            "satisfaction_rate" => (" AND rating IS NOT NULL".to_string(), "rating, created_at DESC"),
            _ => (String::new(), "created_at DESC"),
        };
        let grid = within.condition("grid_id");
        let sql = format!(
            "SELECT id, description, status, due_at, rating FROM tickets
             WHERE community_id = $1 AND created_at >= $2 AND created_at < $3{filter}{grid}
             ORDER BY {order} LIMIT {BEHIND_MAX}"
        );
        let mut q = query(sql).bind(c.id).bind(p.from).bind(p.to);
        if code == "overdue_tickets" {
            q = q.bind(now_ms());
        }
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = q.fetch_all(&mut state.db.read().await?).await?;
        let lang = crate::i18n::current();
        Ok(rows
            .into_iter()
            .map(|(id, description, status, due, rating)| {
                let status = crate::i18n::t(lang, &format!("ticket.status.{}", status));
                let rating = rating.map(|r| format!(" · {}", "★".repeat(r.clamp(0, 5) as usize))).unwrap_or_default();
                Behind {
                    title: format!("#{id} {}", description.chars().take(40).collect::<String>()),
                    detail: format!(
                        "{status} · {} {}{rating}",
                        crate::i18n::t(lang, "ticket.due"),
                        crate::web::fmt::datetime(due)
                    ),
                    href: format!("/c/{}/tickets/{id}", c.code),
                }
            })
            .collect())
    })
}
