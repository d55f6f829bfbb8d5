//! Dual registration's figures in the dictionary (seed 002's 18 units, 104 members and 134
//! items pledged): the units and party members registered by the period's end, pledges
//! made to the needs list in the period, and pledges confirmed fulfilled in it.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::{Builder, query};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tagged, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "units_registered", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "members_registered", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "pledges_made", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "pledges_fulfilled", unit: Unit::Count, more_is_better: true, of: None },
    ],
    count,
    behind,
    count_in: Some(count_in),
};

const CODES: [&str; 2] = ["pledges_made", "pledges_fulfilled"];

/// ` AND …`: each figure's pledges of the month, made (not called off) or confirmed.
fn of_month(b: &mut Builder, code: &str, p: &Period) {
    let (filter, at) = match code {
        "pledges_fulfilled" => (" AND p.status = 'fulfilled'", "p.confirmed_at"),
        _ => (" AND p.status <> 'cancelled'", "p.created_at"),
    };
    b.push(filter).push(&format!(" AND {at} >= ")).arg(p.from).push(&format!(" AND {at} < ")).arg(p.to);
}

/// Registrations accepted by the period's end: a stock, not a flow (a unit registered
/// last year still stands with the community this month).
const REGISTERED: &str = "FROM registrations WHERE community_id = $1 AND status = 'accepted' AND decided_at < $2";

/// The figure counting registrations of this kind.
fn registered(kind: &str) -> &'static str {
    if kind == "unit" { "units_registered" } else { "members_registered" }
}

/// Counts each figure's pledges of the month; `more` narrows them.
async fn counts(state: &AppState, c: &CommunityRef, p: &Period, more: impl Fn(&mut Builder)) -> AppResult<Vec<Count>> {
    let mut conn = state.db.read().await?;
    let mut out = Vec::new();
    // Pledges belong to the whole community: the needs list has no grids.
    for code in CODES {
        let mut b = Builder::new("SELECT COUNT(*) FROM pledges p WHERE p.community_id = ");
        b.arg(c.id);
        of_month(&mut b, code, p);
        more(&mut b);
        let n: i64 = b.build().scalar(&mut conn).await?;
        out.push(Count { code, grid_id: None, tally: Tally::count(n) });
    }
    Ok(out)
}

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let mut out = counts(state, c, p, |_| {}).await?;
        let kinds: Vec<(String, i64)> = query(format!("SELECT kind, COUNT(*) {REGISTERED} GROUP BY kind"))
            .bind(c.id)
            .bind(p.to)
            .fetch_all(&mut state.db.read().await?)
            .await?;
        out.extend(kinds.iter().map(|(kind, n)| Count {
            code: registered(kind),
            grid_id: None,
            tally: Tally::count(*n),
        }));
        Ok(out)
    })
}

/// A programme's pledges: those to the needs tagged with it.
fn count_in<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    p: &'a Period,
    tagged: &'a Tagged,
) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(counts(state, c, p, |b| {
        b.push(" AND p.need_id IN ").list(tagged.needs.iter().copied());
    }))
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
        if code == "units_registered" || code == "members_registered" {
            return registrations(state, c, code, p).await;
        }
        let mut b = Builder::new(
            "SELECT n.id, n.title, r.name, p.amount, n.unit FROM pledges p
             JOIN needs n ON n.community_id = p.community_id AND n.id = p.need_id
             JOIN registrations r ON r.community_id = p.community_id AND r.id = p.registration_id
             WHERE p.community_id = ",
        );
        b.arg(c.id).push(" AND n.community_id = ").arg(c.id).push(" AND r.community_id = ").arg(c.id);
        of_month(&mut b, code, p);
        b.push(&format!(" ORDER BY p.created_at DESC LIMIT {BEHIND_MAX}"));
        let rows: Vec<(i64, String, String, i64, String)> = b.build().fetch_all(&mut state.db.read().await?).await?;
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

/// The registrations behind a registered count, latest first.
async fn registrations(state: &AppState, c: &CommunityRef, code: &str, p: &Period) -> AppResult<Vec<Behind>> {
    let kind = if code == "units_registered" { "unit" } else { "member" };
    let rows: Vec<(i64, String, String)> = query(format!(
        "SELECT id, name, party_org {REGISTERED} AND kind = $3 ORDER BY decided_at DESC, id LIMIT {BEHIND_MAX}"
    ))
    .bind(c.id)
    .bind(p.to)
    .bind(kind)
    .fetch_all(&mut state.db.read().await?)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, org)| Behind { title: name, detail: org, href: format!("/c/{}/registrations/{id}", c.code) })
        .collect())
}
