//! Figures of participation, per community and summed for a subdistrict: registrations
//! and how many are active this year, needs by state, pledges by kind and value, the
//! fulfilment rate, pairs and their visit compliance, proposals by stage and turnout.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{NeedStatus, RegistrationKind, RegistrationStatus};
use crate::auth::model::{Actor, Permission, Role};
use crate::db::{Builder, Conn, Db};
use crate::error::{AppError, AppResult};

/// Pledges of one kind: how many, how much (in the need's unit), and how much of money.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Pledged {
    pub count: i64,
    pub fulfilled: i64,
    /// Yuan pledged to money needs.
    pub yuan: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub community_id: i64,
    pub name: String,
    pub registrations: i64,
    pub units: i64,
    pub members: i64,
    pub pending: i64,
    /// Accepted registrants with a pledge or a visit this year.
    pub active: i64,
    /// Needs by state (every state, in order).
    pub needs: BTreeMap<String, i64>,
    /// Pledges by kind (claim, sponsor, take charge, adopt).
    pub pledges: BTreeMap<String, Pledged>,
    /// Fulfilled and closed needs over those published (withdrawn ones aside).
    pub fulfilment_pct: Option<f64>,
    pub pairs: i64,
    pub households_paired: i64,
    /// Visits logged this year.
    pub visits: i64,
    /// Live pairs whose visits are overdue, and the share on schedule.
    pub overdue_pairs: i64,
    pub compliance_pct: Option<f64>,
    pub proposals: BTreeMap<String, i64>,
    /// Votes cast over voters eligible, over all decided votes.
    pub turnout_pct: Option<f64>,
    #[serde(skip)]
    cast: i64,
    #[serde(skip)]
    eligible: i64,
    #[serde(skip)]
    live_pairs: i64,
    #[serde(skip)]
    published: i64,
}

impl Figures {
    fn finish(&mut self) {
        let pct = |a: i64, b: i64| (b > 0).then(|| a as f64 * 100.0 / b as f64);
        let done = self.needs.get("fulfilled").copied().unwrap_or(0) + self.needs.get("closed").copied().unwrap_or(0);
        self.fulfilment_pct = pct(done, self.published);
        self.compliance_pct = pct(self.live_pairs - self.overdue_pairs, self.live_pairs);
        self.turnout_pct = pct(self.cast, self.eligible);
    }

    /// Adds another community's figures (for a subdistrict's total).
    fn add(&mut self, o: &Figures) {
        self.registrations += o.registrations;
        self.units += o.units;
        self.members += o.members;
        self.pending += o.pending;
        self.active += o.active;
        for (k, v) in &o.needs {
            *self.needs.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.pledges {
            let p = self.pledges.entry(k.clone()).or_default();
            p.count += v.count;
            p.fulfilled += v.fulfilled;
            p.yuan += v.yuan;
        }
        for (k, v) in &o.proposals {
            *self.proposals.entry(k.clone()).or_default() += v;
        }
        self.pairs += o.pairs;
        self.households_paired += o.households_paired;
        self.visits += o.visits;
        self.overdue_pairs += o.overdue_pairs;
        self.live_pairs += o.live_pairs;
        self.cast += o.cast;
        self.eligible += o.eligible;
        self.published += o.published;
    }
}

/// Staff of each community, a subdistrict's administrator, the platform's.
pub fn may_see(actor: &Actor, community_ids: &[i64]) -> bool {
    !community_ids.is_empty()
        && community_ids.iter().all(|c| {
            actor.can(*c, Permission::ManageParticipation)
                || actor.is_platform_admin()
                || (actor.has_role(Role::SubdistrictAdmin) && actor.can(*c, Permission::ViewPlaces))
        })
}

/// The figures of each community, and their total.
pub async fn figures(db: &Db, actor: &Actor, community_ids: &[i64]) -> AppResult<(Figures, Vec<Figures>)> {
    if !may_see(actor, community_ids) {
        return Err(AppError::NotFound);
    }
    let mut conn = db.read_over(community_ids).await?;
    let names: Vec<(i64, String)> = {
        let mut b = Builder::new("SELECT id, name FROM communities WHERE id IN ");
        b.list(community_ids.iter().copied()).push(" ORDER BY code");
        b.build().fetch_all(&mut conn).await?
    };
    let mut by = blank_figures(&names);
    count_registrations(&mut conn, community_ids, &mut by).await?;
    let year = crate::time::day_start_ms(
        chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&crate::web::fmt::today()), 1, 1)
            .unwrap_or_else(crate::web::fmt::today),
    );
    count_active(&mut conn, community_ids, year, &mut by).await?;
    count_needs(&mut conn, community_ids, &mut by).await?;
    count_pledges(&mut conn, community_ids, &mut by).await?;
    count_proposals(&mut conn, community_ids, &mut by).await?;
    count_pairs(&mut conn, community_ids, year, &mut by).await?;
    let mut total = Figures::default();
    let mut each: Vec<Figures> = names.iter().filter_map(|(id, _)| by.remove(id)).collect();
    for f in &mut each {
        total.add(f);
        f.finish();
    }
    total.finish();
    Ok((total, each))
}

/// `SELECT community_id, {select} FROM {from} WHERE community_id IN (…){group}`: a
/// count per community, the caller adding its arguments after `group` when needed.
fn grouped(community_ids: &[i64], select: &str, from: &str, group: &str) -> Builder {
    let mut b = Builder::new(format!("SELECT community_id, {select} FROM {from} WHERE community_id IN "));
    b.list(community_ids.iter().copied()).push(group);
    b
}

/// Zero figures for each community, with every need state, pledge kind and proposal
/// stage present so that tables show them all.
fn blank_figures(names: &[(i64, String)]) -> BTreeMap<i64, Figures> {
    names
        .iter()
        .map(|(id, name)| {
            let needs = NeedStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
            let pledges = super::PLEDGE_KINDS.iter().map(|k| (k.to_string(), Pledged::default())).collect();
            let proposals =
                crate::capabilities::council::Stage::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
            (*id, Figures { community_id: *id, name: name.clone(), needs, pledges, proposals, ..Figures::default() })
        })
        .collect()
}

/// Registrations: all, pending, and accepted units and members.
async fn count_registrations(conn: &mut Conn, community_ids: &[i64], by: &mut BTreeMap<i64, Figures>) -> AppResult<()> {
    let rows: Vec<(i64, String, String, i64)> =
        grouped(community_ids, "kind, status, COUNT(*)", "registrations", " GROUP BY community_id, kind, status")
            .build()
            .fetch_all(conn)
            .await?;
    for (c, kind, status, n) in rows {
        let Some(f) = by.get_mut(&c) else { continue };
        f.registrations += n;
        match (RegistrationStatus::parse(&status), RegistrationKind::parse(&kind)) {
            (Some(RegistrationStatus::Pending), _) => f.pending += n,
            (Some(RegistrationStatus::Accepted), Some(RegistrationKind::Unit)) => f.units += n,
            (Some(RegistrationStatus::Accepted), _) => f.members += n,
            _ => {}
        }
    }
    Ok(())
}

/// Accepted registrants active since `year` (ms): a pledge, or for members a visit of
/// one of their pairs.
async fn count_active(
    conn: &mut Conn,
    community_ids: &[i64],
    year: i64,
    by: &mut BTreeMap<i64, Figures>,
) -> AppResult<()> {
    let mut b = grouped(
        community_ids,
        "COUNT(*)",
        "registrations r",
        " AND r.status = 'accepted' AND (EXISTS (SELECT 1 FROM pledges p WHERE",
    );
    b.same_community("p", "r", community_ids);
    b.push(" AND p.registration_id = r.id AND p.status <> 'cancelled' AND p.created_at >= ");
    b.arg(year).push(
        ") OR (r.kind = 'member' AND EXISTS (SELECT 1 FROM pair_visits v JOIN pairs q ON q.community_id = v.community_id AND q.id = v.pair_id
           WHERE",
    );
    b.same_community("v", "r", community_ids);
    b.push(" AND q.user_id = r.user_id AND v.created_at >= ");
    b.arg(year).push("))) GROUP BY community_id");
    for (c, n) in b.build().fetch_all::<(i64, i64)>(conn).await? {
        if let Some(f) = by.get_mut(&c) {
            f.active = n;
        }
    }
    Ok(())
}

/// Needs by state, and how many were published (withdrawn ones aside).
async fn count_needs(conn: &mut Conn, community_ids: &[i64], by: &mut BTreeMap<i64, Figures>) -> AppResult<()> {
    let rows: Vec<(i64, String, i64)> =
        grouped(community_ids, "status, COUNT(*)", "needs", " GROUP BY community_id, status")
            .build()
            .fetch_all(conn)
            .await?;
    for (c, status, n) in rows {
        let Some(f) = by.get_mut(&c) else { continue };
        *f.needs.entry(status.clone()).or_default() += n;
        if NeedStatus::parse(&status).is_some_and(|s| s.is_public() && s != NeedStatus::Withdrawn) {
            f.published += n;
        }
    }
    Ok(())
}

/// Pledges (not cancelled) by kind: how many, how many fulfilled, yuan to money needs.
async fn count_pledges(conn: &mut Conn, community_ids: &[i64], by: &mut BTreeMap<i64, Figures>) -> AppResult<()> {
    let rows: Vec<(i64, String, i64, i64, i64)> = {
        let mut b = Builder::new(
            "SELECT p.community_id, p.kind, COUNT(*), CAST(SUM(CASE WHEN p.status = 'fulfilled' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN n.kind = 'money' THEN p.amount ELSE 0 END) AS BIGINT)
             FROM pledges p JOIN needs n ON n.community_id = p.community_id AND n.id = p.need_id
             WHERE p.status <> 'cancelled' AND p.community_id IN ",
        );
        b.list(community_ids.iter().copied()).push(" GROUP BY p.community_id, p.kind");
        b.build().fetch_all(conn).await?
    };
    for (c, kind, count, fulfilled, yuan) in rows {
        if let Some(f) = by.get_mut(&c) {
            f.pledges.insert(kind, Pledged { count, fulfilled, yuan });
        }
    }
    Ok(())
}

/// Proposals by stage, and the votes cast and voters eligible over decided ones.
async fn count_proposals(conn: &mut Conn, community_ids: &[i64], by: &mut BTreeMap<i64, Figures>) -> AppResult<()> {
    let rows: Vec<(i64, String, i64)> =
        grouped(community_ids, "stage, COUNT(*)", "proposals", " GROUP BY community_id, stage")
            .build()
            .fetch_all(conn)
            .await?;
    for (c, stage, n) in rows {
        if let Some(f) = by.get_mut(&c) {
            *f.proposals.entry(stage).or_default() += n;
        }
    }
    let rows: Vec<(i64, i64, i64)> = grouped(
        community_ids,
        "CAST(COALESCE(SUM(COALESCE(votes_for, 0) + COALESCE(votes_against, 0) + COALESCE(votes_abstain, 0)), 0) AS BIGINT), CAST(COALESCE(SUM(eligible), 0) AS BIGINT)",
        "proposals",
        " AND stage IN ('passed', 'rejected') GROUP BY community_id",
    )
    .build()
    .fetch_all(conn)
    .await?;
    for (c, cast, eligible) in rows {
        if let Some(f) = by.get_mut(&c) {
            (f.cast, f.eligible) = (cast, eligible);
        }
    }
    Ok(())
}

/// Pairs (live and overdue ones, their schedule against their last visit, judged as
/// the pages judge it), households paired, and visits since `year` (ms).
async fn count_pairs(
    conn: &mut Conn,
    community_ids: &[i64],
    year: i64,
    by: &mut BTreeMap<i64, Figures>,
) -> AppResult<()> {
    let today = crate::web::fmt::today();
    let mut b = Builder::new("SELECT community_id, ");
    super::store::pair_schedule(&mut b, community_ids);
    b.push(" FROM pairs WHERE community_id IN ").list(community_ids.iter().copied());
    let pairs: Vec<(i64, chrono::NaiveDate, Option<chrono::NaiveDate>, i64, Option<chrono::NaiveDate>)> =
        b.build().fetch_all(conn).await?;
    for (c, starts, ends, every, last) in pairs {
        let Some(f) = by.get_mut(&c) else { continue };
        f.pairs += 1;
        if today >= starts && ends.is_none_or(|e| today <= e) {
            f.live_pairs += 1;
            if super::visit_overdue(starts, ends, last, every, today).is_some() {
                f.overdue_pairs += 1;
            }
        }
    }
    for (c, n) in grouped(community_ids, "COUNT(DISTINCT household_id)", "pair_households", " GROUP BY community_id")
        .build()
        .fetch_all::<(i64, i64)>(conn)
        .await?
    {
        if let Some(f) = by.get_mut(&c) {
            f.households_paired = n;
        }
    }
    let mut b = grouped(community_ids, "COUNT(*)", "pair_visits", " AND created_at >= ");
    b.arg(year).push(" GROUP BY community_id");
    for (c, n) in b.build().fetch_all::<(i64, i64)>(conn).await? {
        if let Some(f) = by.get_mut(&c) {
            f.visits = n;
        }
    }
    Ok(())
}

/// The spreadsheet's columns, and one row of figures under them.
pub const COLUMNS: &[&str] = &[
    "社区",
    "报到总数",
    "报到单位",
    "报到党员",
    "待审核",
    "今年活跃",
    "需求总数",
    "认领中",
    "已完成",
    "完成率（%）",
    "认领",
    "认捐",
    "认管",
    "认养",
    "认捐金额（元）",
    "结对",
    "结对户数",
    "今年走访",
    "走访逾期",
    "走访按时率（%）",
    "议题",
    "已表决",
    "投票率（%）",
];

pub fn row(f: &Figures) -> Vec<String> {
    let pct = |v: Option<f64>| v.map(|p| format!("{p:.1}")).unwrap_or_default();
    let need = |k: &str| f.needs.get(k).copied().unwrap_or(0);
    let pledge = |k: &str| f.pledges.get(k).map(|p| p.count).unwrap_or(0);
    let needs: i64 = f.needs.values().sum();
    let decided = f.proposals.get("passed").copied().unwrap_or(0) + f.proposals.get("rejected").copied().unwrap_or(0);
    [
        f.name.clone(),
        f.registrations.to_string(),
        f.units.to_string(),
        f.members.to_string(),
        f.pending.to_string(),
        f.active.to_string(),
        needs.to_string(),
        (need("open") + need("pledged") + need("in_progress")).to_string(),
        (need("fulfilled") + need("closed")).to_string(),
        pct(f.fulfilment_pct),
        pledge("claim").to_string(),
        pledge("sponsor").to_string(),
        pledge("take_charge").to_string(),
        pledge("adopt").to_string(),
        f.pledges.values().map(|p| p.yuan).sum::<i64>().to_string(),
        f.pairs.to_string(),
        f.households_paired.to_string(),
        f.visits.to_string(),
        f.overdue_pairs.to_string(),
        pct(f.compliance_pct),
        f.proposals.values().sum::<i64>().to_string(),
        decided.to_string(),
        pct(f.turnout_pct),
    ]
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_the_sums_not_the_average_of_rates() {
        let mut a =
            Figures { published: 10, cast: 90, eligible: 100, live_pairs: 4, overdue_pairs: 1, ..Figures::default() };
        a.needs.insert("fulfilled".into(), 5);
        let mut b = Figures { published: 30, cast: 10, eligible: 100, live_pairs: 0, ..Figures::default() };
        b.needs.insert("closed".into(), 30);
        let mut total = Figures::default();
        total.add(&a);
        total.add(&b);
        total.finish();
        a.finish();
        assert_eq!(a.fulfilment_pct, Some(50.0));
        assert_eq!(a.compliance_pct, Some(75.0));
        assert_eq!(total.fulfilment_pct, Some(87.5), "35 of 40, not the mean of 50% and 100%");
        assert_eq!(total.turnout_pct, Some(50.0));
        assert_eq!(total.compliance_pct, Some(75.0));
        b.finish();
        assert_eq!(b.compliance_pct, None, "no pairs, no rate");
        assert_eq!(row(&total).len(), COLUMNS.len());
    }
}
