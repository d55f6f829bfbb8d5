//! Pledges to needs (认领, 认捐, 认管, 认养): making them without over-filling the need, the
//! pledger's evidence of fulfilment, staff confirmation, and the public board.

use chrono::NaiveDate;
use serde::Serialize;

use super::clean;
use super::needs_list::{Need, event, may_see, need, needs};
use super::registrants::mine;
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::participation::{
    NeedKind, NeedStatus, PledgeKind, PledgeStatus, RegistrationKind, RegistrationStatus,
};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::{media, notify};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pledge {
    pub community_id: i64,
    pub id: i64,
    pub need_id: i64,
    pub need_title: String,
    pub registration_id: i64,
    pub registrant: String,
    #[sqlx(try_from = "String")]
    pub registrant_kind: RegistrationKind,
    pub show_name: bool,
    pub user_id: i64,
    /// The unit's record, for a unit's pledge.
    pub partner_unit_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: PledgeKind,
    pub amount: i64,
    #[sqlx(try_from = "String")]
    pub status: PledgeStatus,
    pub note: Option<String>,
    pub evidence: Option<String>,
    pub evidence_amount: Option<i64>,
    pub served_on: Option<NaiveDate>,
    pub minutes: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub service_record_id: Option<i64>,
    pub created_at: i64,
}

impl Pledge {
    /// Who pledged, as the public board shows it.
    pub fn public_name(&self) -> String {
        if self.registrant_kind == RegistrationKind::Unit {
            self.registrant.clone()
        } else {
            crate::services::pii::public_name(&self.registrant, self.show_name)
        }
    }
}

const PLEDGE_SELECT: &str = "SELECT p.community_id, p.id, p.need_id, n.title AS need_title, p.registration_id, r.name AS registrant, r.kind AS registrant_kind,
    r.show_name, r.user_id, r.partner_unit_id, p.kind, p.amount, p.status, p.note, p.evidence, p.evidence_amount, p.served_on, p.minutes, p.confirmed_at,
    p.service_record_id, p.created_at
    FROM pledges p JOIN needs n ON n.community_id = p.community_id AND n.id = p.need_id
    JOIN registrations r ON r.community_id = p.community_id AND r.id = p.registration_id";

pub async fn pledge(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Pledge>> {
    Ok(query(format!("{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

pub async fn pledges_of_need(ex: &mut impl Exec, community_id: i64, need_id: i64) -> AppResult<Vec<Pledge>> {
    Ok(query(format!("{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.need_id = $2 ORDER BY p.created_at"))
        .bind(community_id)
        .bind(need_id)
        .fetch_all(ex)
        .await?)
}

pub async fn pledges_of(ex: &mut impl Exec, community_id: i64, registration_id: i64) -> AppResult<Vec<Pledge>> {
    Ok(query(format!(
        "{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.registration_id = $2 ORDER BY p.created_at DESC"
    ))
    .bind(community_id)
    .bind(registration_id)
    .fetch_all(ex)
    .await?)
}

/// The public board: the public needs, each with its pledges (none cancelled), read in two
/// queries whatever the number of needs.
pub async fn board(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(Need, Vec<Pledge>)>> {
    let list = needs(&mut *ex, None, community_id, None).await?;
    let mut b = Builder::new(format!("{PLEDGE_SELECT} WHERE p.status <> 'cancelled' AND p.community_id = "));
    b.arg(community_id).push(" AND p.need_id IN ").list(list.iter().map(|n| n.id)).push(" ORDER BY p.created_at");
    let all: Vec<Pledge> = b.build().fetch_all(ex).await?;
    Ok(list
        .into_iter()
        .map(|n| {
            let of: Vec<Pledge> = all.iter().filter(|p| p.need_id == n.id).cloned().collect();
            (n, of)
        })
        .collect())
}

/// Pledges waiting for staff to confirm their fulfilment.
pub async fn to_confirm(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Pledge>> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    Ok(query(format!("{PLEDGE_SELECT} WHERE p.community_id = $1 AND p.status = 'submitted' ORDER BY p.updated_at"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// A registered, accepted unit or member pledges to a need in one of the four ways. The
/// need is never over-filled: a pledge beyond what is left is refused, or trimmed to it.
#[allow(clippy::too_many_arguments)]
pub async fn make_pledge(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    need_id: i64,
    registration_id: Option<i64>,
    kind: &str,
    amount: Option<i64>,
    trim: bool,
    note: Option<String>,
) -> AppResult<Pledge> {
    let Some(kind) = PledgeKind::parse(kind) else {
        return Err(AppError::field("kind", "validation.choice"));
    };
    let mut tx = state.db.begin().await?;
    let mine = mine(&mut tx, community_id, actor.user_id).await?;
    let reg = match registration_id {
        Some(r) => mine.into_iter().find(|x| x.id == r),
        None => mine.into_iter().find(|x| x.status == RegistrationStatus::Accepted),
    };
    let Some(reg) = reg.filter(|r| r.status == RegistrationStatus::Accepted) else {
        return Err(AppError::Conflict("participation.not_registered"));
    };
    let n =
        need(&mut tx, community_id, need_id).await?.filter(|n| may_see(Some(actor), n)).ok_or(AppError::NotFound)?;
    if !n.status.takes_pledges() {
        return Err(AppError::Conflict(if n.status == NeedStatus::Pledged {
            "participation.nothing_left_need"
        } else {
            "participation.need_closed"
        }));
    }
    let asked = amount.unwrap_or(if n.kind == NeedKind::Place { 1 } else { 0 });
    let take = super::super::fit(asked, n.quantity, n.pledged, trim).map_err(|e| AppError::Invalid(vec![e]))?;
    // Guarded: a pledge that would over-fill (another got there first) changes nothing.
    let took = query(
        "UPDATE needs SET pledged = pledged + $1, updated_at = $2 WHERE community_id = $3 AND id = $4 AND pledged + $1 <= quantity AND status IN ('open', 'in_progress')",
    )
    .bind(take)
    .bind(now_ms())
    .bind(community_id)
    .bind(need_id)
    .execute(&mut tx)
    .await?;
    if took == 0 {
        let left = need(&mut tx, community_id, need_id).await?.map(|n| n.quantity - n.pledged).unwrap_or(0);
        return Err(AppError::Invalid(vec![FieldError::new("amount", "participation.over_left").with("left", left)]));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query("INSERT INTO pledges (community_id, id, need_id, registration_id, kind, amount, note, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(community_id)
        .bind(id)
        .bind(need_id)
        .bind(reg.id)
        .bind(kind.as_str())
        .bind(take)
        .bind(clean(&note))
        .bind(now)
        .execute(&mut tx)
        .await?;
    resettle(&mut tx, community_id, need_id).await?;
    let what = format!("pledge:{}", kind.as_str());
    let shown = if take < asked {
        format!("{} {take}{}（按剩余认领）", reg.name, n.unit)
    } else {
        format!("{} {take}{}", reg.name, n.unit)
    };
    event(&mut tx, community_id, need_id, actor, &what, Some(&shown)).await?;
    let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Puts a need in the state its amounts call for.
async fn resettle(tx: &mut Tx, community_id: i64, need_id: i64) -> AppResult<()> {
    let n = need(&mut *tx, community_id, need_id).await?.ok_or(AppError::NotFound)?;
    let to = super::super::settle(n.status, n.quantity, n.pledged, n.fulfilled);
    if to != n.status {
        query("UPDATE needs SET status = $1 WHERE community_id = $2 AND id = $3")
            .bind(to.as_str())
            .bind(community_id)
            .bind(need_id)
            .execute(tx)
            .await?;
    }
    Ok(())
}

/// A 认捐 pledge of money paid, inside the transaction that records the money (the money
/// capability's donation): the pledge is fulfilled and the need counts it. Refused naming
/// `pledge_id` unless it is a sponsorship of a money need, pledged or reported done.
pub async fn settle_paid(tx: &mut Tx, actor: &Actor, community_id: i64, id: i64) -> AppResult<Pledge> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let p = pledge(&mut *tx, community_id, id)
        .await?
        .ok_or_else(|| AppError::field("pledge_id", "validation.reference"))?;
    let n = need(&mut *tx, community_id, p.need_id).await?.ok_or(AppError::NotFound)?;
    if p.kind != PledgeKind::Sponsor || n.kind != NeedKind::Money {
        return Err(AppError::field("pledge_id", "participation.not_money_pledge"));
    }
    if !matches!(p.status, PledgeStatus::Pledged | PledgeStatus::Submitted) {
        return Err(AppError::field("pledge_id", "participation.not_pledged"));
    }
    let now = now_ms();
    query("UPDATE pledges SET status = 'fulfilled', confirmed_by = $1, confirmed_at = $2, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(actor.user_id)
        .bind(now)
        .bind(community_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    query("UPDATE needs SET fulfilled = fulfilled + $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(p.amount)
        .bind(now)
        .bind(community_id)
        .bind(p.need_id)
        .execute(&mut *tx)
        .await?;
    resettle(tx, community_id, p.need_id).await?;
    event(tx, community_id, p.need_id, actor, "paid", None).await?;
    Ok(p)
}

/// What the pledger shows as done.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub note: String,
    pub amount: Option<i64>,
    pub served_on: Option<NaiveDate>,
    pub minutes: Option<i64>,
}

/// The pledger (and only they) reports a pledge done, with evidence; staff confirm it.
pub async fn fulfil(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    ev: Evidence,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<Pledge> {
    let mut e = Vec::new();
    check_text(&mut e, "note", &ev.note, 1000, true);
    match ev.amount {
        Some(a) if a <= 0 => e.push(FieldError::new("amount", "participation.positive")),
        Some(a) => crate::input::check_range(&mut e, "amount", a, crate::input::limits::QUANTITY),
        None => {}
    }
    if ev.minutes.is_some_and(|m| m <= 0 || m > 24 * 60) {
        e.push(FieldError::new("minutes", "validation.range").with("min", 1).with("max", 1440));
    }
    if ev.served_on.is_some_and(|d| d > crate::web::fmt::today()) {
        e.push(FieldError::new("served_on", "points.in_future"));
    }
    let mut tx = state.db.begin().await?;
    let p = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.user_id != actor.user_id {
        // Someone else's pledge is not theirs to fulfil; staff confirm instead.
        return Err(if actor.can(community_id, Permission::ManageParticipation) {
            AppError::Conflict("participation.not_yours")
        } else {
            AppError::NotFound
        });
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    if p.status != PledgeStatus::Pledged {
        return Err(AppError::Conflict("participation.not_pledged"));
    }
    query(
        "UPDATE pledges SET status = 'submitted', evidence = $1, evidence_amount = $2, served_on = $3, minutes = $4, submitted_at = $5, updated_at = $5
         WHERE community_id = $6 AND id = $7 AND status = 'pledged'",
    )
    .bind(ev.note.trim())
    .bind(ev.amount)
    .bind(ev.served_on)
    .bind(ev.minutes)
    .bind(now_ms())
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if !photos.is_empty() {
        media::attach(state, &mut tx, community_id, "pledge", id, Some(actor.user_id), photos).await?;
    }
    event(&mut tx, community_id, p.need_id, actor, "fulfilment", Some(ev.note.trim())).await?;
    let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Staff confirm a fulfilled pledge: the need counts it, and a volunteer's service becomes
/// a service record waiting for approval. Or they send it back with a reason.
pub async fn confirm(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    accept: bool,
    reason: Option<&str>,
) -> AppResult<Pledge> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !accept && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let p = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.status != PledgeStatus::Submitted {
        return Err(AppError::Conflict("participation.not_submitted"));
    }
    let now = now_ms();
    if !accept {
        query("UPDATE pledges SET status = 'pledged', updated_at = $1 WHERE community_id = $2 AND id = $3")
            .bind(now)
            .bind(community_id)
            .bind(id)
            .execute(&mut tx)
            .await?;
        event(&mut tx, community_id, p.need_id, actor, "returned", reason).await?;
        notify::send(
            &mut tx,
            &state.bus,
            notify::Note::new(
                community_id,
                Some(notify::Subject { kind: "need", id: p.need_id }),
                "participation",
                format!("「{}」的完成情况需补充：{}", p.need_title, reason.unwrap_or("")),
            ),
            notify::Audience::Users(vec![p.user_id]),
        )
        .await?;
        let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        return Ok(out);
    }
    query("UPDATE pledges SET status = 'fulfilled', confirmed_by = $1, confirmed_at = $2, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(actor.user_id)
        .bind(now)
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    query("UPDATE needs SET fulfilled = fulfilled + $1, updated_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(p.amount)
        .bind(now)
        .bind(community_id)
        .bind(p.need_id)
        .execute(&mut tx)
        .await?;
    resettle(&mut tx, community_id, p.need_id).await?;
    // Service given by a volunteer is service: a record for staff to approve.
    if let (Some(day), Some(minutes)) = (p.served_on, p.minutes)
        && crate::capabilities::points::store::volunteer_of(&mut tx, community_id, p.user_id).await?.is_some()
    {
        let start = crate::time::day_start_ms(day) + 9 * crate::time::HOUR_MS;
        let pledger = crate::auth::session::load_actor(&mut tx, p.user_id, String::new(), p.registrant.clone()).await?;
        let service = crate::capabilities::points::store::NewService {
            volunteer_id: None,
            team_id: None,
            service_type: "other".into(),
            content: format!("认领需求：{}", p.need_title),
            place: None,
            started_at: Some(start),
            ended_at: Some(start + minutes * crate::time::MINUTE_MS),
            minutes: Some(minutes),
        };
        let sp = tx.savepoint().await?;
        match crate::capabilities::points::store::record_service(
            state,
            &mut tx,
            &pledger,
            community_id,
            &service,
            crate::capabilities::points::Source::Pledge,
            Some(id),
            &[],
        )
        .await
        {
            Ok(r) => {
                tx.release(sp).await?;
                query("UPDATE pledges SET service_record_id = $1 WHERE community_id = $2 AND id = $3")
                    .bind(r.id)
                    .bind(community_id)
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
            }
            Err(AppError::Invalid(_)) => tx.rollback_to(sp).await?,
            Err(e) => return Err(e),
        }
    }
    event(&mut tx, community_id, p.need_id, actor, "confirmed", Some(&format!("{} {}", p.registrant, p.amount)))
        .await?;
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(
            community_id,
            Some(notify::Subject { kind: "need", id: p.need_id }),
            "participation",
            format!("「{}」已确认完成，感谢！", p.need_title),
        ),
        notify::Audience::Users(vec![p.user_id]),
    )
    .await?;
    let out = pledge(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Evidence of a pledge: seen by those of the community who may see its need.
pub fn pledge_media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let Some(p) = pledge(&mut conn, m.community_id, m.owner_id).await? else { return Ok(false) };
        Ok(need(&mut conn, m.community_id, p.need_id).await?.is_some_and(|n| may_see(Some(actor), &n)))
    })
}
