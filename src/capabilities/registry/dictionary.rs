//! The registry's figure in the dictionary: residents 常住人口 on the day it is read (the
//! base of the figures counted per 1,000 residents), per grid.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::query;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{Behind, Count, FigureDef, FigureSource, Period, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[FigureDef { code: "residents", unit: Unit::Count, more_is_better: true, of: None }],
    count,
    behind,
    count_in: None,
};

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, _p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let rows: Vec<(i64, i64)> = query(
            "SELECT COALESCE(grid_id, 0), COUNT(*) FROM residents WHERE community_id = $1 AND archived_at IS NULL
             GROUP BY COALESCE(grid_id, 0)",
        )
        .bind(c.id)
        .fetch_all(&mut state.db.read().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(g, n)| Count { code: "residents", grid_id: (g != 0).then_some(g), tally: Tally::count(n) })
            .collect())
    })
}

/// Residents are people, not records to list on a dashboard: their register is the
/// registry's own page, read under its own permission.
fn behind<'a>(
    _state: &'a AppState,
    _c: &'a CommunityRef,
    _code: &'static str,
    _p: &'a Period,
    _within: Within,
) -> BoxFuture<'a, AppResult<Vec<Behind>>> {
    Box::pin(async { Ok(Vec::new()) })
}
