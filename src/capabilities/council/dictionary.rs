//! The council's figures in the dictionary: decisions 决议 passed in a month, and
//! decisions carried out in it (their project's last milestone done then), by the grid a
//! proposal was about.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::{Arg, query};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "decisions_passed", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "decisions_carried_out", unit: Unit::Count, more_is_better: true, of: None },
    ],
    count,
    behind,
    count_in: None,
};

const GRID: &str = "COALESCE(CASE WHEN p.scope_kind = 'grid' THEN p.scope_id END, 0)";

/// Each figure's decisions in the month (`$2`, `$3`: its days for one carried out, its
/// milliseconds for one passed; `bind_month` binds them).
fn decisions(code: &str) -> &'static str {
    match code {
        "decisions_carried_out" => {
            "FROM proposals p JOIN council_projects j ON j.community_id = p.community_id AND j.proposal_id = p.id
             WHERE p.community_id = $1 AND j.community_id = $1 AND p.stage = 'passed'
               AND NOT EXISTS (SELECT 1 FROM project_milestones m WHERE m.community_id = $1 AND m.project_id = j.id AND m.done_on IS NULL)
               AND (SELECT MAX(m.done_on) FROM project_milestones m WHERE m.community_id = $1 AND m.project_id = j.id) >= $2
               AND (SELECT MAX(m.done_on) FROM project_milestones m WHERE m.community_id = $1 AND m.project_id = j.id) < $3"
        }
        _ => {
            "FROM proposals p WHERE p.community_id = $1 AND p.stage = 'passed' AND p.decided_at >= $2 AND p.decided_at < $3"
        }
    }
}

fn month(code: &str, p: &Period) -> [Arg; 2] {
    match code {
        "decisions_carried_out" => [p.first.into(), p.next.into()],
        _ => [p.from.into(), p.to.into()],
    }
}

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let mut out = Vec::new();
        for code in ["decisions_passed", "decisions_carried_out"] {
            let rows: Vec<(i64, i64)> = query(format!("SELECT {GRID}, COUNT(*) {} GROUP BY {GRID}", decisions(code)))
                .bind(c.id)
                .bind_all(month(code, p))
                .fetch_all(&mut conn)
                .await?;
            out.extend(rows.into_iter().map(|(g, n)| Count {
                code,
                grid_id: (g != 0).then_some(g),
                tally: Tally::count(n),
            }));
        }
        Ok(out)
    })
}

fn behind<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    code: &'static str,
    p: &'a Period,
    within: Within,
) -> BoxFuture<'a, AppResult<Vec<Behind>>> {
    Box::pin(async move {
        let grid = match within {
            Within::Community => String::new(),
            Within::Grid(g) => format!(" AND {GRID} = {g}"),
        };
        let rows: Vec<(i64, String, Option<i64>)> = query(format!(
            "SELECT p.id, p.title, p.decided_at {}{grid} ORDER BY p.decided_at DESC LIMIT {BEHIND_MAX}",
            decisions(code)
        ))
        .bind(c.id)
        .bind_all(month(code, p))
        .fetch_all(&mut state.db.read().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, title, at)| Behind {
                title,
                detail: at.map(crate::web::fmt::datetime).unwrap_or_default(),
                href: format!("/c/{}/council/{id}", c.code),
            })
            .collect())
    })
}
