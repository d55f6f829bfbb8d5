//! Service records in the database: recording a service (by hand, from a ticket),
//! listing and reading them, and staff's decision, which pays the points the rules award.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;

use super::rules::all_rules;
use super::volunteering::{volunteer, volunteer_of};
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::ledger::{self, Acct, Posting};
use crate::capabilities::points::{
    Cause, Rule, SERVICE_TYPES, ServiceStatus, Source, capped, check_service, earned, may_decide, paying_rules,
};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::services::media;
use crate::services::notify;
use crate::web::AppState;

// ---------- service records ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ServiceRecord {
    pub community_id: i64,
    pub id: i64,
    pub volunteer_id: i64,
    pub user_id: i64,
    pub volunteer_name: String,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub service_type: String,
    pub content: String,
    pub place: Option<String>,
    pub started_at: i64,
    pub ended_at: i64,
    pub minutes: i64,
    pub source: String,
    pub source_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: ServiceStatus,
    pub reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub points: Option<i64>,
    pub created_at: i64,
}

pub(super) const RECORD_SELECT: &str =
    "SELECT s.community_id, s.id, s.volunteer_id, s.user_id, v.name AS volunteer_name, s.team_id, t.name AS team_name,
    s.service_type, s.content, s.place, s.started_at, s.ended_at, s.minutes, s.source, s.source_id, s.status, s.reason,
    s.decided_by, s.decided_at, s.points, s.created_at
    FROM service_records s JOIN volunteers v ON v.community_id = s.community_id AND v.id = s.volunteer_id
    LEFT JOIN teams t ON t.community_id = s.community_id AND t.id = s.team_id";

pub async fn record(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<ServiceRecord>> {
    Ok(query(format!("{RECORD_SELECT} WHERE s.community_id = $1 AND s.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A record as the actor may see it: their own, or any for staff.
pub async fn record_for(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<ServiceRecord> {
    let r = record(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if r.user_id == actor.user_id || actor.can(community_id, Permission::ManagePoints) {
        Ok(r)
    } else {
        Err(AppError::NotFound)
    }
}

/// Which records a list shows.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub user_id: Option<i64>,
    pub status: Option<String>,
    pub team_id: Option<i64>,
}

/// Records, newest service first: a volunteer sees their own; staff all.
pub async fn records(
    ex: &mut impl Exec,
    actor: &Actor,
    community_id: i64,
    f: &RecordFilter,
    limit: i64,
) -> AppResult<Vec<ServiceRecord>> {
    let own = f.user_id == Some(actor.user_id);
    if !own {
        guard::require(actor, community_id, Permission::ManagePoints)?;
    }
    let mut b = Builder::new(format!("{RECORD_SELECT} WHERE s.community_id = "));
    b.arg(community_id);
    if let Some(u) = f.user_id {
        b.push(" AND s.user_id = ").arg(u);
    }
    if let Some(st) = f.status.as_deref().filter(|s| !s.is_empty()) {
        b.push(" AND s.status = ").arg(st);
    }
    if let Some(t) = f.team_id {
        b.push(" AND s.team_id = ").arg(t);
    }
    b.push(&format!(" ORDER BY s.started_at DESC, s.id DESC LIMIT {}", limit.clamp(1, 1000)));
    Ok(b.build().fetch_all(ex).await?)
}

/// A service to record.
#[derive(Debug, Clone, Default)]
pub struct NewService {
    /// Whose service (staff entering for someone); `None`: the actor's own.
    pub volunteer_id: Option<i64>,
    pub team_id: Option<i64>,
    pub service_type: String,
    pub content: String,
    pub place: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub minutes: Option<i64>,
}

/// Records a service, pending approval. Staff enter anyone's; a volunteer their own;
/// tickets and patrols record for the one who served (`source_id` names them once).
#[allow(clippy::too_many_arguments)]
pub async fn record_service(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    input: &NewService,
    source: Source,
    source_id: Option<i64>,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<ServiceRecord> {
    let staff = actor.can(community_id, Permission::ManagePoints);
    let v = match input.volunteer_id {
        Some(id) if staff => volunteer(tx, community_id, id).await?,
        Some(id) => volunteer(tx, community_id, id).await?.filter(|v| v.user_id == actor.user_id),
        None => volunteer_of(tx, community_id, actor.user_id).await?,
    };
    let Some(v) = v.filter(|v| v.archived_at.is_none()) else {
        return Err(if input.volunteer_id.is_some() {
            AppError::field("volunteer_id", "validation.reference")
        } else {
            AppError::Conflict("points.not_volunteer")
        });
    };
    let mut errors = Vec::new();
    if !SERVICE_TYPES.contains(&input.service_type.as_str()) {
        errors.push(FieldError::new("service_type", "validation.choice"));
    }
    check_text(&mut errors, "content", &input.content, 500, true);
    check_text(&mut errors, "place", input.place.as_deref().unwrap_or(""), 200, false);
    let (Some(start), Some(end)) = (input.started_at, input.ended_at) else {
        if input.started_at.is_none() {
            errors.push(FieldError::new("started_at", "validation.required"));
        }
        if input.ended_at.is_none() {
            errors.push(FieldError::new("ended_at", "validation.required"));
        }
        return Err(AppError::Invalid(errors));
    };
    let minutes = input.minutes.unwrap_or((end - start) / crate::time::MINUTE_MS);
    errors.extend(check_service(start, end, minutes, now_ms()));
    if let Some(t) = input.team_id {
        let ok: Option<i64> = query("SELECT id FROM teams WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(t)
            .scalar_optional(&mut *tx)
            .await?;
        if ok.is_none() {
            errors.push(FieldError::new("team_id", "validation.reference"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // One person's records queue here, so that two overlapping ones cannot both pass.
    query("UPDATE volunteers SET updated_at = updated_at WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(v.id)
        .execute(&mut *tx)
        .await?;
    let overlapping: Option<i64> = query(
        "SELECT id FROM service_records WHERE community_id = $1 AND user_id = $2 AND status <> 'rejected' AND started_at < $3 AND ended_at > $4 LIMIT 1",
    )
    .bind(community_id)
    .bind(v.user_id)
    .bind(end)
    .bind(start)
    .scalar_optional(&mut *tx)
    .await?;
    if let Some(other) = overlapping {
        return Err(AppError::Invalid(vec![FieldError::new("started_at", "points.overlaps").with("id", other)]));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO service_records (community_id, id, volunteer_id, user_id, team_id, service_type, content, place, started_at, ended_at, minutes,
                                      source, source_id, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', $14, $15, $15)",
    )
    .bind(community_id)
    .bind(id)
    .bind(v.id)
    .bind(v.user_id)
    .bind(input.team_id)
    .bind(input.service_type.as_str())
    .bind(input.content.trim())
    .bind(input.place.clone().filter(|p| !p.trim().is_empty()))
    .bind(start)
    .bind(end)
    .bind(minutes)
    .bind(source.as_str())
    .bind(source_id)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if !photos.is_empty() {
        media::attach(state, tx, community_id, "service_record", id, Some(actor.user_id), photos).await?;
    }
    let after = json!({"volunteer": v.number, "service_type": input.service_type, "content": input.content.trim(),
        "started_at": start, "ended_at": end, "minutes": minutes, "source": source.as_str()});
    audit::record(tx, community_id, &By::from(actor), Action::Create, "service_record", id, None, Some(&after)).await?;
    record(tx, community_id, id).await?.ok_or(AppError::NotFound)
}

/// A request a volunteer handled, as the points know it (the tickets hand it over).
pub struct Errand<'a> {
    pub ticket_id: i64,
    pub description: &'a str,
    pub address: Option<String>,
    pub team_id: Option<i64>,
    pub started_at: i64,
    pub ended_at: i64,
}

/// A volunteer who resolves a ticket has served: from taking it to resolving it (a
/// working day at most), as a record waiting for staff. A record already covering that
/// time (entered by hand) is left as it is.
pub async fn from_ticket(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    e: Errand<'_>,
) -> AppResult<()> {
    if volunteer_of(&mut *tx, community_id, actor.user_id).await?.is_none() {
        return Ok(());
    }
    let minutes = ((e.ended_at - e.started_at) / crate::time::MINUTE_MS).min(8 * 60);
    if minutes < 1 {
        return Ok(());
    }
    let summary: String = e.description.chars().take(60).collect();
    let service = NewService {
        volunteer_id: None,
        team_id: e.team_id,
        service_type: "errand".into(),
        content: format!("办理工单 #{}：{summary}", e.ticket_id),
        place: e.address,
        started_at: Some(e.started_at),
        ended_at: Some(e.ended_at),
        minutes: Some(minutes),
    };
    let sp = tx.savepoint().await?;
    match record_service(state, tx, actor, community_id, &service, Source::Ticket, Some(e.ticket_id), &[]).await {
        Ok(_) => tx.release(sp).await?,
        Err(AppError::Invalid(_)) => tx.rollback_to(sp).await?,
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Records a service in its own transaction.
pub async fn submit_service(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    input: &NewService,
    source: Source,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<ServiceRecord> {
    let mut tx = state.db.begin().await?;
    let r = record_service(state, &mut tx, actor, community_id, input, source, None, photos).await?;
    tx.commit().await?;
    Ok(r)
}

/// What the rules give for a record, rule by rule, within each rule's caps.
async fn award(tx: &mut Tx, community_id: i64, r: &ServiceRecord) -> AppResult<Vec<(Rule, i64)>> {
    let rules = all_rules(tx, community_id).await?;
    let day = crate::time::day_of(r.started_at);
    let day_from = crate::time::day_start_ms(day);
    let month_from = crate::time::day_start_ms(day.with_day0(0).unwrap_or(day));
    let next_month = crate::time::day_start_ms(
        if day.month() == 12 {
            NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
        }
        .unwrap_or(day),
    );
    let mut out = Vec::new();
    for rule in paying_rules(&rules, &r.service_type, r.started_at) {
        let raw = earned(rule, r.minutes);
        if raw <= 0 {
            continue;
        }
        // Given under this rule (any version) to this person, for service that day and month.
        let given = |from: i64, to: i64| {
            query(
                "SELECT CAST(COALESCE(SUM(m.amount), 0) AS BIGINT) FROM ledger_movements m
                 JOIN service_records s ON s.community_id = m.community_id AND s.id = m.cause_id
                 JOIN points_rules p ON p.community_id = m.community_id AND p.id = m.rule_id
                 WHERE m.community_id = $1 AND m.cause = 'service' AND p.code = $2 AND s.user_id = $3 AND s.started_at >= $4 AND s.started_at < $5",
            )
            .bind(community_id)
            .bind(rule.code.as_str())
            .bind(r.user_id)
            .bind(from)
            .bind(to)
        };
        let today: i64 = given(day_from, day_from + crate::time::DAY_MS).scalar(&mut *tx).await?;
        let month: i64 = given(month_from, next_month).scalar(&mut *tx).await?;
        let amount = capped(raw, today, month, rule.daily_cap, rule.monthly_cap);
        if amount > 0 {
            out.push((rule.clone(), amount));
        }
    }
    Ok(out)
}

/// Approves (paying what the rules in force when it was served give) or rejects (with a
/// reason) a pending record. Nobody decides their own.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> AppResult<ServiceRecord> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let r = record(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    may_decide(actor.user_id, r.user_id).map_err(AppError::Conflict)?;
    if r.status != ServiceStatus::Pending {
        return Err(AppError::Conflict("points.already_decided"));
    }
    let now = now_ms();
    let mut points = 0;
    if approve {
        for (rule, amount) in award(&mut tx, community_id, &r).await? {
            ledger::post(
                &mut tx,
                &Posting {
                    community_id,
                    from: Acct::ISSUING,
                    to: Acct::person(r.user_id),
                    amount,
                    cause: Cause::Service,
                    cause_id: Some(r.id),
                    rule_id: Some(rule.id),
                    reason: None,
                    author_id: Some(actor.user_id),
                    key: format!("service:{}:{}", r.id, rule.code),
                },
            )
            .await?;
            points += amount;
        }
    }
    let decided = if approve { ServiceStatus::Approved } else { ServiceStatus::Rejected };
    let changed = query(
        "UPDATE service_records SET status = $1, reason = $2, decided_by = $3, decided_at = $4, points = $5, updated_at = $4
         WHERE community_id = $6 AND id = $7 AND status = 'pending'",
    )
    .bind(decided.as_str())
    .bind(reason)
    .bind(actor.user_id)
    .bind(now)
    .bind(approve.then_some(points))
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if changed == 0 {
        return Err(AppError::Conflict("points.already_decided"));
    }
    let after = json!({"status": decided.as_str(), "reason": reason, "points": points});
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "service_record",
        id,
        Some(&json!({"status": ServiceStatus::Pending.as_str()})),
        Some(&after),
    )
    .await?;
    let text = if approve {
        format!("服务记录 #{id} 已通过，获得 {points} 积分")
    } else {
        format!("服务记录 #{id} 未通过：{}", reason.unwrap_or(""))
    };
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(community_id, Some(notify::Subject { kind: "service_record", id }), "points", text),
        notify::Audience::Users(vec![r.user_id]),
    )
    .await?;
    tx.commit().await?;
    record(&mut state.db.read().await?, community_id, id).await?.ok_or(AppError::NotFound)
}

/// Whether the actor may see the service record a photo belongs to (for `media`).
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(
        async move { media::seen(record_for(&mut state.db.read().await?, actor, m.community_id, m.owner_id).await) },
    )
}
