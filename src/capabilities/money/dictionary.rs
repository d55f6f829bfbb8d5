//! The money's figures in the dictionary (seed 002's 3.94 million yuan): what was given
//! to the community's funds in a month, gifts reversed as mistakes left out.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::query;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[FigureDef { code: "funds_raised", unit: Unit::Yuan, more_is_better: true, of: None }],
    count,
    behind,
    count_in: None,
};

const GIVEN: &str =
    "FROM donations WHERE community_id = $1 AND reversed_at IS NULL AND given_on >= $2 AND given_on < $3";

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let fen: i64 = query(format!("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) {GIVEN}"))
            .bind(c.id)
            .bind(p.first)
            .bind(p.next)
            .scalar(&mut state.db.read().await?)
            .await?;
        // The funds are the community's: no grid.
        Ok(vec![Count { code: "funds_raised", grid_id: None, tally: Tally::count(fen) }])
    })
}

fn behind<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    _code: &'static str,
    p: &'a Period,
    within: Within,
) -> BoxFuture<'a, AppResult<Vec<Behind>>> {
    Box::pin(async move {
        if within.is_grid() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String, String, bool, i64)> = query(format!(
            "SELECT id, number, donor_name, named, amount_fen {GIVEN} ORDER BY amount_fen DESC, id LIMIT {BEHIND_MAX}"
        ))
        .bind(c.id)
        .bind(p.first)
        .bind(p.next)
        .fetch_all(&mut state.db.read().await?)
        .await?;
        let lang = crate::i18n::current();
        Ok(rows
            .into_iter()
            .map(|(id, number, donor, named, fen)| Behind {
                title: format!("{number} {}", if named { donor } else { crate::i18n::t(lang, "figure.anonymous") }),
                detail: format!("¥{}.{:02}", crate::web::fmt::thousands(fen / 100), fen % 100),
                href: format!("/c/{}/donations/{id}", c.code),
            })
            .collect())
    })
}
