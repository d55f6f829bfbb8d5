//! The after-action report 应急处置总结 of an incident: its timeline, the households checked
//! (by status and grid) and moved, the needs recorded and met, the supplies handed out and
//! the people who did the work; one reading of the data for the page, the Excel ledger and
//! the PDF, so that the three agree.

use std::collections::{BTreeMap, HashSet};

use super::book::{Cause, Holder, Supplies};
use super::store::{self, Incident};
use super::{CheckStatus, Need, Tally};
use crate::db::{Exec, query};
use crate::error::AppResult;
use crate::services::ledger::Book;

/// A need: how many households recorded it, and how many of them were served (given
/// supplies for the incident, or moved to a shelter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedLine {
    pub need: Need,
    pub households: i64,
    pub met: i64,
}

/// Someone's part: checks recorded, people moved in, hand-outs made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    pub checks: i64,
    pub check_ins: i64,
    pub hand_outs: i64,
    /// The hours entered for them, in minutes (their service record).
    pub minutes: i64,
}

pub struct AfterAction {
    pub incident: Incident,
    pub grids: Vec<(i64, String)>,
    pub steps: Vec<(String, Option<String>, String, i64)>,
    pub tally: Tally,
    pub by_grid: Vec<(i64, String, Tally)>,
    /// Stays in shelters for the incident, and the people in them.
    pub moved: (i64, i64),
    pub needs: Vec<NeedLine>,
    /// Item, unit, how many handed out, to how many households.
    pub handed: Vec<(String, String, i64, i64)>,
    pub people: Vec<(String, Part)>,
    /// Households whose needs became tickets: (address, ticket).
    pub tickets: Vec<(String, i64)>,
    /// The tasks the plans set going, done or not.
    pub tasks: Vec<super::plans::Task>,
}

/// Needs recorded by households, and which of them were served.
pub fn needs_met(recorded: &[(i64, Vec<Need>)], served: &HashSet<i64>) -> Vec<NeedLine> {
    Need::ALL
        .iter()
        .map(|n| {
            let with: Vec<i64> = recorded.iter().filter(|(_, ns)| ns.contains(n)).map(|(h, _)| *h).collect();
            let met = with.iter().filter(|h| served.contains(h)).count() as i64;
            NeedLine { need: *n, households: with.len() as i64, met }
        })
        .filter(|l| l.households > 0)
        .collect()
}

/// The hand-outs of the incident not reversed: (household, item, unit, amount).
async fn hand_outs(ex: &mut impl Exec, c: i64, incident: i64) -> AppResult<Vec<(i64, String, String, i64)>> {
    Ok(query(
        // Every table pinned to the community, so that Citus runs it on the one shard.
        "SELECT l.holder_id, i.name, i.unit, m.amount FROM ledger_movements m \
         JOIN ledger_accounts a ON a.community_id = $1 AND a.id = m.to_account \
         JOIN supply_lines l ON l.community_id = $1 AND l.id = a.owner_id AND l.holder = $4 \
         JOIN supply_items i ON i.community_id = $1 AND i.id = l.item_id \
         WHERE m.community_id = $1 AND m.unit = $2 AND m.cause = $3 AND m.cause_id = $5 \
         AND m.id NOT IN (SELECT r.reverses FROM ledger_movements r WHERE r.community_id = $1 AND r.reverses IS NOT NULL) \
         ORDER BY m.id",
    )
    .bind(c)
    .bind(Supplies::UNIT)
    .bind(Cause::HandOut.as_str())
    .bind(Holder::Household.as_str())
    .bind(incident)
    .fetch_all(ex)
    .await?)
}

/// Who did what: checks recorded (not residents' own replies), people checked in, and
/// hand-outs, by name.
async fn parts(ex: &mut impl Exec, c: i64, incident: i64) -> AppResult<Vec<(String, Part)>> {
    let checks: Vec<(String, i64)> = query(
        "SELECT u.display_name, COUNT(*) FROM welfare_check_changes x \
         JOIN welfare_checks w ON w.community_id = $1 AND w.id = x.check_id JOIN users u ON u.id = x.by_id \
         WHERE x.community_id = $1 AND w.incident_id = $2 AND x.source <> $3 GROUP BY u.display_name",
    )
    .bind(c)
    .bind(incident)
    .bind(super::store::Source::Reply.as_str())
    .fetch_all(&mut *ex)
    .await?;
    let moves: Vec<(String, i64)> = query(
        "SELECT u.display_name, COUNT(*) FROM shelter_stays s JOIN users u ON u.id = s.checked_in_by \
         WHERE s.community_id = $1 AND s.incident_id = $2 GROUP BY u.display_name",
    )
    .bind(c)
    .bind(incident)
    .fetch_all(&mut *ex)
    .await?;
    let handed: Vec<(String, i64)> = query(
        "SELECT u.display_name, COUNT(*) FROM ledger_movements m JOIN users u ON u.id = m.author_id \
         WHERE m.community_id = $1 AND m.unit = $2 AND m.cause = $3 AND m.cause_id = $4 GROUP BY u.display_name",
    )
    .bind(c)
    .bind(Supplies::UNIT)
    .bind(Cause::HandOut.as_str())
    .bind(incident)
    .fetch_all(&mut *ex)
    .await?;
    let hours: Vec<(String, i64)> = query(
        "SELECT u.display_name, x.minutes FROM incident_hours x JOIN users u ON u.id = x.user_id \
         WHERE x.community_id = $1 AND x.incident_id = $2",
    )
    .bind(c)
    .bind(incident)
    .fetch_all(&mut *ex)
    .await?;
    let mut out: BTreeMap<String, Part> = BTreeMap::new();
    for (who, m) in hours {
        out.entry(who).or_default().minutes += m;
    }
    for (who, n) in checks {
        out.entry(who).or_default().checks += n;
    }
    for (who, n) in moves {
        out.entry(who).or_default().check_ins += n;
    }
    for (who, n) in handed {
        out.entry(who).or_default().hand_outs += n;
    }
    Ok(out.into_iter().collect())
}

/// Reads the report of an incident of the community.
pub async fn read(ex: &mut impl Exec, c: i64, id: i64) -> AppResult<AfterAction> {
    let incident = store::incident(&mut *ex, c, id).await?;
    let grids = store::grids_of(&mut *ex, c, id).await?;
    let steps = store::steps(&mut *ex, c, id).await?;
    let (tally, by_grid) = store::tally(&mut *ex, c, id).await?;
    let moved: (i64, i64) = query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(people), 0) AS BIGINT) FROM shelter_stays WHERE community_id = $1 AND incident_id = $2",
    )
    .bind(c)
    .bind(id)
    .fetch_one(&mut *ex)
    .await?;
    let rows: Vec<(i64, String, String)> = query(
        "SELECT household_id, needs, status FROM welfare_checks WHERE community_id = $1 AND incident_id = $2 AND needs <> ''",
    )
    .bind(c)
    .bind(id)
    .fetch_all(&mut *ex)
    .await?;
    let handed_out = hand_outs(&mut *ex, c, id).await?;
    let mut served: HashSet<i64> = handed_out.iter().map(|h| h.0).collect();
    let mut recorded = Vec::new();
    for (household, needs, status) in rows {
        let ns =
            crate::services::records::model::tags_from_column(&needs).iter().filter_map(|n| Need::parse(n)).collect();
        if status == CheckStatus::Sheltered.as_str() {
            served.insert(household);
        }
        recorded.push((household, ns));
    }
    let mut handed: Vec<(String, String, i64, i64)> = Vec::new();
    let mut reached: BTreeMap<String, HashSet<i64>> = BTreeMap::new();
    for (household, item, unit, amount) in handed_out {
        reached.entry(item.clone()).or_default().insert(household);
        match handed.iter_mut().find(|h| h.0 == item) {
            Some(h) => h.2 += amount,
            None => handed.push((item, unit, amount, 0)),
        }
    }
    for h in &mut handed {
        h.3 = reached.get(&h.0).map_or(0, |s| s.len() as i64);
    }
    let people = parts(&mut *ex, c, id).await?;
    let tickets: Vec<(String, i64)> = query(
        "SELECT h.address, w.ticket_id FROM welfare_checks w JOIN households h ON h.community_id = $1 AND h.id = w.household_id \
         WHERE w.community_id = $1 AND w.incident_id = $2 AND w.ticket_id IS NOT NULL ORDER BY w.id",
    )
    .bind(c)
    .bind(id)
    .fetch_all(&mut *ex)
    .await?;
    let needs = needs_met(&recorded, &served);
    let tasks = super::plans::tasks(&mut *ex, c, id).await?;
    Ok(AfterAction { incident, grids, steps, tally, by_grid, moved, needs, handed, people, tickets, tasks })
}

/// The report's tables, as (title, head, rows): the same for the page, the Excel ledger
/// and the PDF. `t` names statuses and needs in the reader's language.
pub fn tables(r: &AfterAction, t: &dyn Fn(&str) -> String) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let s = |v: &[&str]| v.iter().map(|k| t(k)).collect::<Vec<String>>();
    let timeline = r
        .steps
        .iter()
        .map(|(status, note, who, at)| {
            vec![
                crate::web::fmt::datetime(*at),
                t(&format!("emergency.status.{status}")),
                who.clone(),
                note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut grid_head = s(&["emergency.grid", "emergency.households"]);
    grid_head.extend(CheckStatus::ALL.iter().map(|c| t(&format!("emergency.check.{}", c.as_str()))));
    let grids = r
        .by_grid
        .iter()
        .map(|(_, name, g)| {
            let mut row = vec![name.clone(), g.total.to_string()];
            row.extend(g.by_status.iter().map(i64::to_string));
            row
        })
        .collect();
    let needs = r
        .needs
        .iter()
        .map(|n| vec![t(&format!("emergency.need.{}", n.need.as_str())), n.households.to_string(), n.met.to_string()])
        .collect();
    let supplies =
        r.handed.iter().map(|(item, unit, n, h)| vec![item.clone(), format!("{n} {unit}"), h.to_string()]).collect();
    let people = r
        .people
        .iter()
        .map(|(who, p)| {
            let hours = if p.minutes > 0 { format!("{:.1}", p.minutes as f64 / 60.0) } else { String::new() };
            vec![who.clone(), p.checks.to_string(), p.check_ins.to_string(), p.hand_outs.to_string(), hours]
        })
        .collect();
    vec![
        (
            t("emergency.timeline"),
            s(&["emergency.at", "emergency.check_status", "emergency.by", "emergency.note"]),
            timeline,
        ),
        (t("emergency.by_grid"), grid_head, grids),
        (t("emergency.needs"), s(&["emergency.need", "emergency.households", "emergency.needs_met"]), needs),
        (t("emergency.supplies_used"), s(&["emergency.item", "emergency.amount", "emergency.households"]), supplies),
        (
            t("emergency.tasks"),
            s(&["emergency.task", "emergency.by", "emergency.at"]),
            r.tasks
                .iter()
                .map(|k| {
                    let at = k.done_at.map(crate::web::fmt::datetime).unwrap_or_else(|| t("emergency.task_open"));
                    vec![k.title.clone(), k.done_by.clone().unwrap_or_default(), at]
                })
                .collect(),
        ),
        (
            t("emergency.tickets_raised"),
            s(&["emergency.address", "emergency.ticket"]),
            r.tickets.iter().map(|(a, id)| vec![a.clone(), format!("#{id}")]).collect(),
        ),
        (
            t("emergency.people_involved"),
            s(&[
                "emergency.by",
                "emergency.checks_made",
                "emergency.moved_in",
                "emergency.hand_outs",
                "emergency.hours",
            ]),
            people,
        ),
    ]
}

/// The summary line at the head of the report.
pub fn summary(r: &AfterAction) -> String {
    format!(
        "排查 {} 户中已到访 {} 户，一级关注未到访 {} 户；转移安置 {} 批 {} 人；发放物资 {} 项；转办工单 {} 件。",
        r.tally.total,
        r.tally.checked(),
        r.tally.tier_one_unreached,
        r.moved.0,
        r.moved.1,
        r.handed.len(),
        r.tickets.len()
    )
}

/// The report as PDF, in Chinese.
pub fn pdf(community: &str, r: &AfterAction, t: &dyn Fn(&str) -> String) -> AppResult<Vec<u8>> {
    let mut p = crate::services::pdf::Report::new();
    let title = format!("{community} · {} · 应急处置总结", r.incident.title);
    p.title(&title);
    p.paragraph(&summary(r));
    for (heading, head, rows) in tables(r, t) {
        p.heading(&heading);
        let n = head.len().max(1);
        let columns: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
        p.table(&columns, &head, &rows);
    }
    p.finish(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_need_is_met_when_its_household_was_served() {
        let recorded = vec![(1, vec![Need::Food, Need::Medicine]), (2, vec![Need::Food]), (3, vec![Need::Power])];
        let served: HashSet<i64> = [2, 3].into_iter().collect();
        let lines = needs_met(&recorded, &served);
        let of = |n: Need| lines.iter().find(|l| l.need == n).cloned();
        assert_eq!(of(Need::Food), Some(NeedLine { need: Need::Food, households: 2, met: 1 }));
        assert_eq!(of(Need::Medicine).map(|l| l.met), Some(0));
        assert_eq!(of(Need::Transport), None, "needs nobody recorded are left out");
    }
}
