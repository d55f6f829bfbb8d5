//! The money's figures in the dictionary (seed 002's 3.94 million yuan from partner units
//! and 36 projects): what was given to the community's funds in a period — all of it, and
//! the partner units' part — gifts reversed as mistakes left out, and the projects put
//! forward in it that were approved and carried out.

use futures::future::BoxFuture;

use super::{DonorKind, ProjectStatus};
use crate::auth::guard::CommunityRef;
use crate::db::query;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "funds_raised", unit: Unit::Yuan, more_is_better: true, of: None },
        FigureDef { code: "funds_from_units", unit: Unit::Yuan, more_is_better: true, of: None },
        FigureDef { code: "projects_carried", unit: Unit::Count, more_is_better: true, of: None },
    ],
    count,
    behind,
    count_in: None,
};

/// Projects approved and under way or done (not those waiting, suspended or called off),
/// by when they were put forward.
fn carried() -> String {
    let states: Vec<String> = ProjectStatus::CARRIED.iter().map(|s| format!("'{s}'")).collect();
    format!(
        "FROM projects WHERE community_id = $1 AND status IN ({}) AND created_at >= $2 AND created_at < $3",
        states.join(", ")
    )
}

/// A gift from a partner unit.
fn by_units() -> String {
    format!("donor_kind = '{}'", DonorKind::Unit)
}

const GIVEN: &str =
    "FROM donations WHERE community_id = $1 AND reversed_at IS NULL AND given_on >= $2 AND given_on < $3";

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let (fen, by_units): (i64, i64) = query(format!(
            "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN {} THEN amount_fen ELSE 0 END), 0) AS BIGINT) {GIVEN}",
            by_units()
        ))
        .bind(c.id)
        .bind(p.first)
        .bind(p.next)
        .fetch_one(&mut conn)
        .await?;
        let projects: i64 = query(format!("SELECT COUNT(*) {}", carried()))
            .bind(c.id)
            .bind(p.from)
            .bind(p.to)
            .scalar(&mut conn)
            .await?;
        // The funds and projects are the community's: no grid.
        Ok(vec![
            Count { code: "funds_raised", grid_id: None, tally: Tally::count(fen) },
            Count { code: "funds_from_units", grid_id: None, tally: Tally::count(by_units) },
            Count { code: "projects_carried", grid_id: None, tally: Tally::count(projects) },
        ])
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
        if within.is_grid() {
            return Ok(Vec::new());
        }
        if code == "projects_carried" {
            return projects(state, c, p).await;
        }
        let units = if code == "funds_from_units" { format!(" AND {}", by_units()) } else { String::new() };
        let rows: Vec<(i64, String, String, bool, i64)> = query(format!(
            "SELECT id, number, donor_name, named, amount_fen {GIVEN}{units} ORDER BY amount_fen DESC, id LIMIT {BEHIND_MAX}"
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

/// The projects behind the count, latest first, with their state.
async fn projects(state: &AppState, c: &CommunityRef, p: &Period) -> AppResult<Vec<Behind>> {
    let rows: Vec<(i64, String, String, i64)> = query(format!(
        "SELECT id, title, status, budget_fen {} ORDER BY created_at DESC, id LIMIT {BEHIND_MAX}",
        carried()
    ))
    .bind(c.id)
    .bind(p.from)
    .bind(p.to)
    .fetch_all(&mut state.db.read().await?)
    .await?;
    let lang = crate::i18n::current();
    Ok(rows
        .into_iter()
        .map(|(id, title, status, fen)| Behind {
            title,
            detail: format!(
                "{} · ¥{}",
                crate::i18n::t(lang, &format!("money.project.{status}")),
                crate::web::fmt::thousands(fen / 100)
            ),
            href: format!("/c/{}/projects/{id}", c.code),
        })
        .collect())
}
