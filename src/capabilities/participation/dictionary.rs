//! Dual registration's figures in the dictionary (seed 002's 134 items pledged): pledges
//! made to the needs list in a month, and pledges confirmed fulfilled in it.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::query;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "pledges_made", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "pledges_fulfilled", unit: Unit::Count, more_is_better: true, of: None },
    ],
    count,
    behind,
};

/// Each figure's pledges: made (not called off) or confirmed, in the month.
fn filter(code: &str) -> &'static str {
    match code {
        "pledges_fulfilled" => "p.status = 'fulfilled' AND p.confirmed_at >= $2 AND p.confirmed_at < $3",
        _ => "p.status <> 'cancelled' AND p.created_at >= $2 AND p.created_at < $3",
    }
}

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let mut out = Vec::new();
        // Pledges belong to the whole community: the needs list has no grids.
        for code in ["pledges_made", "pledges_fulfilled"] {
            let n: i64 =
                query(format!("SELECT COUNT(*) FROM pledges p WHERE p.community_id = $1 AND {}", filter(code)))
                    .bind(c.id)
                    .bind(p.from)
                    .bind(p.to)
                    .scalar(&mut conn)
                    .await?;
            out.push(Count { code, grid_id: None, tally: Tally::count(n) });
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
        if matches!(within, Within::Grid(g) if g != 0) {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String, String, i64, String)> = query(format!(
            "SELECT n.id, n.title, r.name, p.amount, n.unit FROM pledges p
             JOIN needs n ON n.community_id = p.community_id AND n.id = p.need_id
             JOIN registrations r ON r.community_id = p.community_id AND r.id = p.registration_id
             WHERE p.community_id = $1 AND n.community_id = $1 AND r.community_id = $1 AND {}
             ORDER BY p.created_at DESC LIMIT {BEHIND_MAX}",
            filter(code)
        ))
        .bind(c.id)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(&mut state.db.read().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(need, title, who, amount, unit)| Behind {
                title,
                detail: format!("{who} · {amount} {unit}"),
                href: format!("/c/{}/needs/{need}", c.code),
            })
            .collect())
    })
}
