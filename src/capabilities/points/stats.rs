//! Figures of the volunteer service: volunteers and active volunteers, hours, points
//! issued and redeemed, top teams, per team, grid, community and subdistrict.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::auth::model::{Actor, Permission, Role};
use crate::db::{Builder, Db};
use crate::error::{AppError, AppResult};

/// What the figures cover: some communities, maybe one team or grid of one, a period of
/// days in China (both included).
#[derive(Debug, Clone)]
pub struct Scope {
    pub community_ids: Vec<i64>,
    pub team_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Row {
    pub key: String,
    pub name: String,
    pub volunteers: i64,
    pub records: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub volunteers: i64,
    /// Volunteers with approved service in the period.
    pub active_volunteers: i64,
    /// Approved service records in the period, and their minutes.
    pub records: i64,
    pub minutes: i64,
    pub pending: i64,
    /// Points given (for service, bonuses, adjustments) in the period.
    pub points_issued: i64,
    /// Points taken back (deductions, adjustments) in the period.
    pub points_deducted: i64,
    /// Points of rewards handed over in the period.
    pub points_redeemed: i64,
    pub by_type: Vec<Row>,
    pub top_teams: Vec<Row>,
    /// Per community (several) or per grid (one).
    pub by_place: Vec<Row>,
}

/// Staff of each community, a subdistrict's administrator, the platform's.
pub fn may_see(actor: &Actor, scope: &Scope) -> bool {
    !scope.community_ids.is_empty()
        && scope.community_ids.iter().all(|c| {
            actor.can(*c, Permission::ManagePoints)
                || actor.is_platform_admin()
                || (actor.has_role(Role::SubdistrictAdmin) && actor.can(*c, Permission::ViewPlaces))
        })
}

/// `AND <volunteer v> in scope`.
fn volunteer_scope(b: &mut Builder, s: &Scope) {
    b.push(" AND v.community_id IN ").list(s.community_ids.iter().copied());
    if let Some(g) = s.grid_id {
        b.push(" AND v.grid_id = ").arg(g);
    }
    if let Some(t) = s.team_id {
        b.push(" AND v.user_id IN (SELECT m.user_id FROM team_members m WHERE m.community_id IN ")
            .list(s.community_ids.iter().copied())
            .push(" AND m.community_id = v.community_id AND m.team_id = ")
            .arg(t)
            .push(")");
    }
}

pub async fn figures(db: &Db, actor: &Actor, s: &Scope) -> AppResult<Figures> {
    if !may_see(actor, s) {
        return Err(AppError::NotFound);
    }
    let from = crate::time::day_start_ms(s.from);
    let to = crate::time::day_start_ms(s.to.succ_opt().unwrap_or(s.to));
    let mut conn = db.read_over(&s.community_ids).await?;
    let mut f = Figures::default();

    let mut b = Builder::new("SELECT COUNT(*) FROM volunteers v WHERE v.archived_at IS NULL");
    volunteer_scope(&mut b, s);
    f.volunteers = b.build().scalar(&mut conn).await?;

    let served = |select: &str, group: &str| {
        let mut b = Builder::new(format!(
            "SELECT {select} FROM service_records r JOIN volunteers v ON v.community_id = r.community_id AND v.id = r.volunteer_id
             LEFT JOIN teams t ON t.community_id = r.community_id AND t.id = r.team_id
             LEFT JOIN grids g ON g.community_id = v.community_id AND g.id = v.grid_id
             LEFT JOIN communities c ON c.id = r.community_id
             WHERE r.status = 'approved' AND r.started_at >= "
        ));
        b.arg(from).push(" AND r.started_at < ").arg(to);
        volunteer_scope(&mut b, s);
        if s.team_id.is_some() {
            b.push(" AND r.team_id = ").arg(s.team_id);
        }
        b.push(group);
        b.build()
    };
    let (active, records, minutes): (i64, i64, Option<i64>) =
        served("COUNT(DISTINCT r.user_id), COUNT(*), CAST(SUM(r.minutes) AS BIGINT)", "").fetch_one(&mut conn).await?;
    f.active_volunteers = active;
    f.records = records;
    f.minutes = minutes.unwrap_or(0);
    let rows = |v: Vec<(Option<String>, Option<String>, i64, i64, i64)>| -> Vec<Row> {
        let mut out: Vec<Row> = v
            .into_iter()
            .map(|(key, name, volunteers, records, minutes)| Row {
                key: key.unwrap_or_default(),
                name: name.unwrap_or_else(|| "—".into()),
                volunteers,
                records,
                minutes,
            })
            .collect();
        out.sort_by(|a, b| b.minutes.cmp(&a.minutes).then(a.name.cmp(&b.name)));
        out
    };
    let agg = "COUNT(DISTINCT r.user_id), COUNT(*), CAST(SUM(r.minutes) AS BIGINT)";
    f.by_type = rows(
        served(&format!("r.service_type, r.service_type, {agg}"), " GROUP BY r.service_type")
            .fetch_all(&mut conn)
            .await?,
    );
    let mut teams = rows(
        served(
            &format!("CAST(r.team_id AS TEXT), t.name, {agg}"),
            " AND r.team_id IS NOT NULL GROUP BY r.team_id, t.name",
        )
        .fetch_all(&mut conn)
        .await?,
    );
    teams.truncate(10);
    f.top_teams = teams;
    f.by_place = if s.community_ids.len() > 1 {
        rows(
            served(&format!("CAST(r.community_id AS TEXT), c.name, {agg}"), " GROUP BY r.community_id, c.name")
                .fetch_all(&mut conn)
                .await?,
        )
    } else {
        rows(
            served(&format!("CAST(v.grid_id AS TEXT), g.name, {agg}"), " GROUP BY v.grid_id, g.name")
                .fetch_all(&mut conn)
                .await?,
        )
    };

    let mut b = Builder::new(
        "SELECT COUNT(*) FROM service_records r JOIN volunteers v ON v.community_id = r.community_id AND v.id = r.volunteer_id WHERE r.status = 'pending'",
    );
    volunteer_scope(&mut b, s);
    f.pending = b.build().scalar(&mut conn).await?;

    // Points, by the movements into and out of the people in scope.
    let mut b = Builder::new(
        "SELECT m.cause, CAST(CASE WHEN p.id = m.to_account THEN 1 ELSE 0 END AS BIGINT), CAST(SUM(m.amount) AS BIGINT) FROM ledger_movements m
         JOIN ledger_accounts p ON p.community_id = m.community_id AND (p.id = m.to_account OR p.id = m.from_account) AND p.unit = 'points' AND p.kind = 'person'
         JOIN volunteers v ON v.community_id = p.community_id AND v.user_id = p.owner_id
         WHERE m.at >= ",
    );
    b.arg(from).push(" AND m.at < ").arg(to);
    volunteer_scope(&mut b, s);
    b.push(" GROUP BY m.cause, CASE WHEN p.id = m.to_account THEN 1 ELSE 0 END");
    let moved: Vec<(String, i64, i64)> = b.build().fetch_all(&mut conn).await?;
    let mut by_cause: BTreeMap<(String, bool), i64> = BTreeMap::new();
    for (cause, incoming, n) in moved {
        *by_cause.entry((cause, incoming == 1)).or_default() += n;
    }
    let get = |c: &str, incoming: bool| by_cause.get(&(c.to_string(), incoming)).copied().unwrap_or(0);
    f.points_issued = get("service", true) + get("bonus", true) + get("adjustment", true);
    f.points_deducted = get("deduction", false) + get("adjustment", false);
    // Handed over: the holds of redemptions confirmed in the period.
    let mut b = Builder::new(
        "SELECT CAST(COALESCE(SUM(d.points), 0) AS BIGINT) FROM redemptions d
         JOIN volunteers v ON v.community_id = d.community_id AND v.user_id = d.user_id
         WHERE d.status = 'confirmed' AND d.decided_at >= ",
    );
    b.arg(from).push(" AND d.decided_at < ").arg(to);
    volunteer_scope(&mut b, s);
    f.points_redeemed = b.build().scalar(&mut conn).await?;
    Ok(f)
}

/// One line per volunteer in scope (the 台账), names masked.
pub async fn ledger_rows(db: &Db, actor: &Actor, s: &Scope) -> AppResult<Vec<Vec<String>>> {
    if !may_see(actor, s) {
        return Err(AppError::NotFound);
    }
    let from = crate::time::day_start_ms(s.from);
    let to = crate::time::day_start_ms(s.to.succ_opt().unwrap_or(s.to));
    // Served time per volunteer, summed in the communities' own shards, then joined.
    let mut b = Builder::new(
        "SELECT c.name, v.number, v.name, g.name, COALESCE(r.n, 0), COALESCE(r.minutes, 0), COALESCE(a.balance, 0)
         FROM volunteers v JOIN communities c ON c.id = v.community_id
         LEFT JOIN grids g ON g.community_id = v.community_id AND g.id = v.grid_id
         LEFT JOIN ledger_accounts a ON a.community_id = v.community_id AND a.unit = 'points' AND a.kind = 'person' AND a.owner_id = v.user_id
         LEFT JOIN (SELECT community_id, volunteer_id, COUNT(*) AS n, CAST(SUM(minutes) AS BIGINT) AS minutes FROM service_records
                    WHERE status = 'approved' AND started_at >= ",
    );
    b.arg(from).push(" AND started_at < ").arg(to).push(" AND community_id IN ").list(s.community_ids.iter().copied());
    b.push(
        " GROUP BY community_id, volunteer_id) r ON r.community_id = v.community_id AND r.volunteer_id = v.id
         WHERE v.archived_at IS NULL",
    );
    volunteer_scope(&mut b, s);
    b.push(" ORDER BY c.name, v.number");
    let rows: Vec<(String, String, String, Option<String>, i64, i64, i64)> =
        b.build().fetch_all(&mut db.read_over(&s.community_ids).await?).await?;
    Ok(rows
        .into_iter()
        .map(|(c, number, name, grid, records, minutes, balance)| {
            vec![
                c,
                number,
                crate::services::pii::mask_name(&name),
                grid.unwrap_or_default(),
                records.to_string(),
                crate::time::hours(minutes),
                balance.to_string(),
            ]
        })
        .collect())
}
