//! The volunteer service's figures in the dictionary: approved service in a period (person-
//! times 人次, those of party members — seed 000's 86 cadres sent down to the grids — and
//! hours), the points given for it, and hours per 1,000 residents — per grid of the
//! volunteer, as the service's own figures count them.

use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::db::{Builder, query};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::dictionary::{BEHIND_MAX, Behind, Count, FigureDef, FigureSource, Period, Tagged, Tally, Unit, Within};

pub static SOURCE: FigureSource = FigureSource {
    figures: &[
        FigureDef { code: "service_person_times", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "party_service_times", unit: Unit::Count, more_is_better: true, of: None },
        FigureDef { code: "service_hours", unit: Unit::Hours, more_is_better: true, of: None },
        FigureDef {
            code: "service_hours_per_1000",
            unit: Unit::HoursPerThousand,
            more_is_better: true,
            of: Some(("service_hours", "residents")),
        },
        FigureDef { code: "points_issued", unit: Unit::Points, more_is_better: true, of: None },
    ],
    count,
    behind,
    count_in: Some(count_in),
};

/// Joins to a volunteer `v` that tell whether they are a party member: a resident who is
/// one, or a serving member registered here (`BY_MEMBER`).
pub(crate) const PARTY_JOINS: &str =
    "LEFT JOIN residents x ON x.community_id = v.community_id AND x.id = v.resident_id AND x.community_id = $1
    LEFT JOIN registrations g ON g.community_id = v.community_id AND g.user_id = v.user_id AND g.community_id = $1
        AND g.kind = 'member' AND g.status = 'accepted'";

/// Approved service of the period, by the volunteer's grid, with `PARTY_JOINS`.
fn served() -> String {
    format!(
        "FROM service_records r JOIN volunteers v ON v.community_id = r.community_id AND v.id = r.volunteer_id {PARTY_JOINS}
         WHERE r.community_id = $1 AND v.community_id = $1 AND r.status = 'approved' AND r.started_at >= $2 AND r.started_at < $3"
    )
}

/// Whether the volunteer is a party member (after `PARTY_JOINS`).
pub(crate) const BY_MEMBER: &str = "(COALESCE(x.party_member, FALSE) OR g.id IS NOT NULL)";

fn count<'a>(state: &'a AppState, c: &'a CommunityRef, p: &'a Period) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let served: Vec<(i64, i64, i64, i64)> = query(format!(
            "SELECT COALESCE(v.grid_id, 0), COUNT(*), CAST(SUM(CASE WHEN {BY_MEMBER} THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(r.minutes) AS BIGINT) {} GROUP BY COALESCE(v.grid_id, 0)",
            served()
        ))
        .bind(c.id)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(&mut conn)
        .await?;
        // Points given, as the service's figures count them: for service, as bonuses and
        // adjustments up, into the volunteers' own accounts.
        let given: Vec<(i64, i64)> = query(
            "SELECT COALESCE(v.grid_id, 0), CAST(SUM(m.amount) AS BIGINT) FROM ledger_movements m
             JOIN ledger_accounts a ON a.community_id = m.community_id AND a.id = m.to_account AND a.unit = 'points' AND a.kind = 'person'
             JOIN volunteers v ON v.community_id = a.community_id AND v.user_id = a.owner_id
             WHERE m.community_id = $1 AND a.community_id = $1 AND v.community_id = $1
               AND m.cause IN ('service', 'bonus', 'adjustment') AND m.at >= $2 AND m.at < $3
             GROUP BY COALESCE(v.grid_id, 0)",
        )
        .bind(c.id)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(&mut conn)
        .await?;
        let grid = |g: i64| (g != 0).then_some(g);
        let mut out = Vec::new();
        for (g, times, members, minutes) in served {
            out.push(Count { code: "service_person_times", grid_id: grid(g), tally: Tally::count(times) });
            out.push(Count { code: "party_service_times", grid_id: grid(g), tally: Tally::count(members) });
            out.push(Count { code: "service_hours", grid_id: grid(g), tally: Tally::count(minutes) });
        }
        for (g, points) in given {
            out.push(Count { code: "points_issued", grid_id: grid(g), tally: Tally::count(points) });
        }
        Ok(out)
    })
}

/// A programme's service: that of its teams.
fn count_in<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    p: &'a Period,
    tagged: &'a Tagged,
) -> BoxFuture<'a, AppResult<Vec<Count>>> {
    Box::pin(async move {
        let mut b = Builder::new(
            "SELECT COUNT(*), CAST(COALESCE(SUM(r.minutes), 0) AS BIGINT) FROM service_records r WHERE r.community_id = ",
        );
        b.arg(c.id).push(" AND r.status = 'approved' AND r.started_at >= ").arg(p.from);
        b.push(" AND r.started_at < ").arg(p.to).push(" AND r.team_id IN ").list(tagged.teams.iter().copied());
        let (times, minutes): (i64, i64) = b.build().fetch_one(&mut state.db.read().await?).await?;
        Ok(vec![
            Count { code: "service_person_times", grid_id: None, tally: Tally::count(times) },
            Count { code: "service_hours", grid_id: None, tally: Tally::count(minutes) },
        ])
    })
}

/// The month's approved service records, longest first.
fn behind<'a>(
    state: &'a AppState,
    c: &'a CommunityRef,
    code: &'static str,
    p: &'a Period,
    within: Within,
) -> BoxFuture<'a, AppResult<Vec<Behind>>> {
    Box::pin(async move {
        let mut grid = within.condition("v.grid_id");
        if code == "party_service_times" {
            grid.push_str(&format!(" AND {BY_MEMBER}"));
        }
        let rows: Vec<(i64, String, i64, i64)> = query(format!(
            "SELECT r.id, r.content, r.started_at, r.minutes {}{grid}
             ORDER BY r.minutes DESC, r.started_at DESC LIMIT {BEHIND_MAX}",
            served()
        ))
        .bind(c.id)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(&mut state.db.read().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, content, at, minutes)| Behind {
                title: content.chars().take(40).collect(),
                detail: format!(
                    "{} · {}",
                    crate::web::fmt::datetime(at),
                    crate::i18n::tr(crate::i18n::current(), "figure.hours", &[("n", crate::time::hours(minutes))])
                ),
                href: format!("/c/{}/service-records/{id}", c.code),
            })
            .collect())
    })
}
