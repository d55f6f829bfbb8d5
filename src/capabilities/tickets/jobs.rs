//! The background job: escalates overdue tickets 督办 (to the community secretary, then
//! the subdistrict) and closes resolved tickets nobody rated. Safe to run in several
//! server processes at once: each escalation is claimed by inserting its row (one per
//! ticket and level), each closing by a conditional update.

use super::store::{self, Ticket};
use super::{Action, DAY_MS, Status, escalation_due};
use crate::auth::model::Role;
use crate::db::citus::Span;
use crate::db::{insert_many, query};
use crate::error::AppResult;
use crate::services::notify;
use crate::web::AppState;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub escalated: usize,
    pub closed: usize,
}

/// One pass at time `now`.
pub async fn run_once(state: &AppState, now: i64) -> AppResult<Report> {
    let mut report = Report::default();
    // The one pass looks at every community; each change is then made in its own.
    let mut conn = state.db.span(Span::Maintenance).await?;
    let due: Vec<(i64, i64, i64)> = query(
        "SELECT t.community_id, t.id, c.deadline_hours FROM tickets t
         JOIN ticket_categories c ON c.community_id = t.community_id AND c.id = t.category_id
         WHERE t.escalation_level < 2 AND t.due_at < $1
           AND t.status IN ('submitted', 'dispatched', 'accepted', 'in_progress', 'reopened')
         ORDER BY t.due_at LIMIT 1000",
    )
    .bind(now)
    .fetch_all(&mut conn)
    .await?;
    let stale: Vec<(i64, i64)> = query(
        "SELECT t.community_id, t.id FROM tickets t
         LEFT JOIN settings s ON s.community_id = t.community_id AND s.key = $3
         WHERE t.status = 'resolved' AND t.resolved_at < $1 - COALESCE(CAST(s.value AS BIGINT), $4) * $2
         ORDER BY t.resolved_at LIMIT 1000",
    )
    .bind(now)
    .bind(DAY_MS)
    .bind(super::AUTOCLOSE_DAYS.key)
    .bind(super::AUTOCLOSE_DAYS.default_text().parse::<i64>().unwrap_or(7))
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    for (community, id, hours) in due {
        if escalate(state, community, id, hours, now).await? {
            report.escalated += 1;
        }
    }
    for (community, id) in stale {
        if auto_close(state, community, id, now).await? {
            report.closed += 1;
        }
    }
    Ok(report)
}

async fn escalate(state: &AppState, community_id: i64, id: i64, deadline_hours: i64, now: i64) -> AppResult<bool> {
    let mut tx = state.db.begin().await?;
    let Some(t) = store::fetch(&mut tx, community_id, id).await? else { return Ok(false) };
    let Some(level) = escalation_due(now, t.status(), t.due_at, t.escalation_level, deadline_hours) else {
        return Ok(false);
    };
    let claimed = query("INSERT INTO ticket_escalations (community_id, ticket_id, level, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(community_id)
        .bind(id)
        .bind(level)
        .bind(now)
        .execute(&mut tx)
        .await?;
    if claimed == 0 {
        return Ok(false);
    }
    query("UPDATE tickets SET escalation_level = $1, escalated_at = $2 WHERE community_id = $3 AND id = $4 AND escalation_level = $5")
        .bind(level)
        .bind(now)
        .bind(community_id)
        .bind(id)
        .bind(level - 1)
        .execute(&mut tx)
        .await?;
    let (to_whom, note) = if level == 1 {
        (secretaries(&mut tx, community_id).await?, "督办：已超过办理时限，上报社区书记")
    } else {
        (subdistrict_admins(&mut tx, community_id).await?, "督办：逾期未办结，上报街道")
    };
    let eid = tx.next_id().await?;
    let row = store::event_row(
        community_id,
        eid,
        id,
        now,
        None,
        "系统督办",
        Action::Escalate,
        Some(t.status()),
        t.status(),
        Some(note),
    );
    insert_many(&mut tx, "ticket_events", &store::EVENT_COLUMNS, vec![row]).await?;
    let mut users = to_whom;
    users.extend(t.owner_user_id);
    users.sort_unstable();
    users.dedup();
    let text = format!("工单 #{id} {note}");
    let note = notify::Note::new(community_id, Some(super::subject(id)), "escalate", text);
    notify::send(&mut tx, &state.bus, note, notify::Audience::Users(users)).await?;
    tx.commit().await?;
    Ok(true)
}

async fn secretaries(tx: &mut crate::db::Tx, community_id: i64) -> AppResult<Vec<i64>> {
    Ok(query("SELECT user_id FROM grants WHERE role = $1 AND community_id = $2")
        .bind(Role::CommunitySecretary.as_str())
        .bind(community_id)
        .scalars(tx)
        .await?)
}

async fn subdistrict_admins(tx: &mut crate::db::Tx, community_id: i64) -> AppResult<Vec<i64>> {
    Ok(query("SELECT g.user_id FROM grants g JOIN communities c ON c.subdistrict_id = g.subdistrict_id WHERE g.role = $1 AND c.id = $2")
        .bind(Role::SubdistrictAdmin.as_str())
        .bind(community_id)
        .scalars(tx)
        .await?)
}

async fn auto_close(state: &AppState, community_id: i64, id: i64, now: i64) -> AppResult<bool> {
    let mut tx = state.db.begin().await?;
    let Some(t) = store::fetch(&mut tx, community_id, id).await? else { return Ok(false) };
    if t.status() != Status::Resolved {
        return Ok(false);
    }
    let changed = query("UPDATE tickets SET status = 'closed', closed_at = $1, updated_at = $1 WHERE community_id = $2 AND id = $3 AND status = 'resolved' AND updated_at = $4")
        .bind(now)
        .bind(community_id)
        .bind(id)
        .bind(t.updated_at)
        .execute(&mut tx)
        .await?;
    if changed == 0 {
        return Ok(false);
    }
    store::changed(&mut tx);
    let after = Ticket { status: Status::Closed.as_str().into(), closed_at: Some(now), updated_at: now, ..t.clone() };
    let deltas = super::tally_delta(Some(&t.facts()), &after.facts());
    store::apply_tallies(&mut tx, deltas.into_iter().map(|(g, c, m, d)| (community_id, g, c, m, d)).collect()).await?;
    let eid = tx.next_id().await?;
    let row = store::event_row(
        community_id,
        eid,
        id,
        now,
        None,
        "系统",
        Action::Close,
        Some(Status::Resolved),
        Status::Closed,
        Some("无人评价，到期自动办结"),
    );
    insert_many(&mut tx, "ticket_events", &store::EVENT_COLUMNS, vec![row]).await?;
    tx.commit().await?;
    Ok(true)
}
