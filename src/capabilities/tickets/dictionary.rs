//! The tickets' figures in the dictionary: of the tickets received in a month, how many,
//! how many completed (办结率), rated satisfied (满意率) and overdue — counted per grid in
//! one pass over the month's tickets.

use futures::future::BoxFuture;

use super::Status;
use crate::auth::guard::CommunityRef;
use crate::db::{Builder, now_ms};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tagged, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "tickets_received", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "completion_rate", unit: Unit::Percent, more_is_better: true, of: None },
        FigureDef { code: "satisfaction_rate", unit: Unit::Percent, more_is_better: true, of: None },
        FigureDef { code: "overdue_tickets", unit: Unit::Count, more_is_better: false, of: None },
    ],
    count,
    behind,
    count_in: Some(count_in),
};

/// The states `pick` holds, as SQL writes a list: `('resolved', 'closed')` — the rules
/// stay `Status`'s.
fn states(pick: fn(Status) -> bool) -> String {
    let names: Vec<String> =
        Status::ALL.into_iter().filter(|s| pick(*s)).map(|s| format!("'{}'", s.as_str())).collect();
    format!("({})", names.join(", "))
}

/// Completed past its deadline, or still open past it now.
fn overdue(b: &mut Builder) {
    b.push(&format!("((status IN {} AND resolved_at > due_at)", states(Status::is_completed)));
    b.push(&format!(" OR (status IN {} AND due_at < ", states(Status::is_open))).arg(now_ms()).push("))");
}

/// The month's tickets counted per grid; `more` narrows them (` AND …`).
fn tallies(c: &CommunityRef, p: &Period, more: impl FnOnce(&mut Builder)) -> Builder {
    let mut b = Builder::new(format!(
        "SELECT COALESCE(grid_id, 0), COUNT(*),
            CAST(SUM(CASE WHEN status IN {} THEN 1 ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN status IN {} THEN 1 ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN ",
        states(Status::is_completed),
        states(Status::is_turned_away)
    ));
    overdue(&mut b);
    b.push(" THEN 1 ELSE 0 END) AS BIGINT) FROM tickets WHERE community_id = ").arg(c.id);
    b.push(" AND created_at >= ").arg(p.from).push(" AND created_at < ").arg(p.to);
    more(&mut b);
    b.push(" GROUP BY COALESCE(grid_id, 0)");
    b
}

async fn counts(state: &AppState, b: Builder) -> AppResult<Vec<Count>> {
    let rows: Vec<(i64, i64, i64, i64, i64, i64, i64)> = b.build().fetch_all(&mut state.db.read().await?).await?;
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
}

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(counts(state, tallies(c, p, |_| {})))
}

/// A programme's tickets: those tagged with it and those its teams take from their pool.
fn count_in<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    p: &'a Period,
    tagged: &'a Tagged,
) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    let b = tallies(c, p, |b| {
        b.push(" AND (id IN ").list(tagged.tickets.iter().copied());
        b.push(" OR pool_team_id IN ").list(tagged.teams.iter().copied()).push(")");
    });
    Box::pin(counts(state, b))
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
        let mut b = Builder::new("SELECT id, description, status, due_at, rating FROM tickets WHERE community_id = ");
        b.arg(c.id).push(" AND created_at >= ").arg(p.from).push(" AND created_at < ").arg(p.to);
        b.push(&within.condition("grid_id"));
        let order = match code {
            "overdue_tickets" => {
                b.push(" AND ");
                overdue(&mut b);
                "due_at".to_string()
            }
            "completion_rate" => {
                b.push(&format!(" AND status NOT IN {}", states(Status::is_turned_away)));
                format!("CASE WHEN status IN {} THEN 1 ELSE 0 END, created_at DESC", states(Status::is_completed))
            }
            "satisfaction_rate" => {
                b.push(" AND rating IS NOT NULL");
                "rating, created_at DESC".to_string()
            }
            _ => "created_at DESC".to_string(),
        };
        b.push(&format!(" ORDER BY {order} LIMIT {BEHIND_MAX}"));
        let rows: Vec<(i64, String, String, i64, Option<i64>)> =
            b.build().fetch_all(&mut state.db.read().await?).await?;
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
