//! The rewards shop in the database: what is on offer, two-step redemption (hold, then
//! handover against a code), cancelling, and holds that expire.

use chrono::NaiveDate;
use serde::Serialize;

use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::points::ledger::{self, Acct, Posting};
use crate::capabilities::points::{Cause, Offer, RedemptionStatus, RewardKind, code_matches, may_redeem};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::notify;
use crate::web::AppState;

// ---------- the shop ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Reward {
    pub community_id: i64,
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: RewardKind,
    pub provider_unit_id: Option<i64>,
    pub provider: Option<String>,
    pub price: i64,
    pub stock: i64,
    pub per_person_limit: Option<i64>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub hold_days: i64,
    pub description: Option<String>,
    pub archived_at: Option<i64>,
}

impl Reward {
    pub fn offer(&self) -> Offer {
        Offer {
            price: self.price,
            stock: self.stock,
            limit: self.per_person_limit,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            archived: self.archived_at.is_some(),
        }
    }
}

const REWARD_SELECT: &str = "SELECT r.community_id, r.id, r.name, r.kind, r.provider_unit_id, u.name AS provider, r.price, r.stock, r.per_person_limit,
    r.valid_from, r.valid_to, r.hold_days, r.description, r.archived_at
    FROM rewards r LEFT JOIN partner_units u ON u.community_id = r.community_id AND u.id = r.provider_unit_id";

/// What the shop offers today (anyone of the community may look).
pub async fn shop(ex: &mut impl Exec, community_id: i64, today: NaiveDate) -> AppResult<Vec<Reward>> {
    let all: Vec<Reward> =
        query(format!("{REWARD_SELECT} WHERE r.community_id = $1 AND r.archived_at IS NULL ORDER BY r.price, r.name"))
            .bind(community_id)
            .fetch_all(ex)
            .await?;
    Ok(all
        .into_iter()
        .filter(|r| r.valid_from.is_none_or(|d| d <= today) && r.valid_to.is_none_or(|d| d >= today))
        .collect())
}

/// Each reward's picture (its latest photo), for the shop's cards.
pub async fn pictures(
    ex: &mut impl Exec,
    community_id: i64,
    rewards: &[i64],
) -> AppResult<std::collections::HashMap<i64, crate::services::media::model::Media>> {
    let mut b = Builder::new(
        "SELECT community_id, id, owner_kind, owner_id, mime, bytes, width, height, created_at FROM media WHERE community_id = ",
    );
    b.arg(community_id).push(" AND owner_kind = 'reward' AND owner_id IN ").list(rewards.iter().copied());
    b.push(" ORDER BY id");
    let all: Vec<crate::services::media::model::Media> = b.build().fetch_all(ex).await?;
    Ok(all.into_iter().map(|m| (m.owner_id, m)).collect())
}

/// Photos of rewards are the shop's: anyone with a role in the community sees them.
pub fn picture_check<'a>(
    _: &'a AppState,
    actor: &'a Actor,
    m: &'a crate::services::media::model::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(std::future::ready(Ok(actor.sees_community(m.community_id))))
}

pub async fn reward(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Reward>> {
    Ok(query(format!("{REWARD_SELECT} WHERE r.community_id = $1 AND r.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Redemption {
    pub community_id: i64,
    pub id: i64,
    pub reward_id: i64,
    pub reward: String,
    pub provider_unit_id: Option<i64>,
    pub user_id: i64,
    pub holder: String,
    pub points: i64,
    pub code: String,
    #[sqlx(try_from = "String")]
    pub status: RedemptionStatus,
    pub held_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
}

const REDEMPTION_SELECT: &str = "SELECT d.community_id, d.id, d.reward_id, r.name AS reward, r.provider_unit_id, d.user_id, u.display_name AS holder,
    d.points, d.code, d.status, d.held_at, d.expires_at, d.decided_at
    FROM redemptions d JOIN rewards r ON r.community_id = d.community_id AND r.id = d.reward_id JOIN users u ON u.id = d.user_id";

pub async fn redemption(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Redemption>> {
    Ok(query(format!("{REDEMPTION_SELECT} WHERE d.community_id = $1 AND d.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

pub async fn my_redemptions(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<Redemption>> {
    Ok(query(format!(
        "{REDEMPTION_SELECT} WHERE d.community_id = $1 AND d.user_id = $2 ORDER BY d.held_at DESC LIMIT 100"
    ))
    .bind(community_id)
    .bind(user_id)
    .fetch_all(ex)
    .await?)
}

/// Redemptions waiting for handover that the actor may hand over: all for staff, their
/// own unit's for a merchant.
pub async fn handovers(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Redemption>> {
    let mut b = Builder::new(format!("{REDEMPTION_SELECT} WHERE d.community_id = "));
    b.arg(community_id).push(" AND d.status = 'held'");
    if !actor.can(community_id, Permission::ManagePoints) {
        let units = merchant_units(actor, community_id);
        if units.is_empty() {
            return Err(AppError::NotFound);
        }
        b.push(" AND r.provider_unit_id IN ").list(units);
    }
    b.push(" ORDER BY d.held_at DESC LIMIT 200");
    Ok(b.build().fetch_all(ex).await?)
}

fn merchant_units(actor: &Actor, community_id: i64) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::PartnerUnit && g.community_id == Some(community_id))
        .filter_map(|g| g.partner_unit_id)
        .collect()
}

/// How many of each reward a person holds or has been handed (what their limits count);
/// of one reward only when `reward_id` is given (a redemption counts just its own).
pub async fn taken_by_person(
    ex: &mut impl Exec,
    community_id: i64,
    user_id: i64,
    reward_id: Option<i64>,
) -> AppResult<std::collections::HashMap<i64, i64>> {
    let mut b = Builder::new("SELECT reward_id, COUNT(*) FROM redemptions WHERE community_id = ");
    b.arg(community_id).push(" AND user_id = ").arg(user_id).push(" AND status IN ('held', 'confirmed')");
    if let Some(r) = reward_id {
        b.push(" AND reward_id = ").arg(r);
    }
    b.push(" GROUP BY reward_id");
    Ok(b.build().fetch_all::<(i64, i64)>(ex).await?.into_iter().collect())
}

/// Redeems one unit: the points and the unit are held until handover. Exactly right when
/// many race for the last units: the person's account is locked first (their limit
/// counts right), the stock is taken by a guarded update, the points by a guarded debit.
pub async fn redeem(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    reward_id: i64,
    key: Option<String>,
) -> AppResult<Redemption> {
    if !actor.sees_community(community_id) {
        return Err(AppError::NotFound);
    }
    let key = key.filter(|k| !k.trim().is_empty());
    if let Some(k) = &key {
        let mut conn = state.db.read().await?;
        let done: Option<i64> = query("SELECT id FROM redemptions WHERE community_id = $1 AND idempotency_key = $2")
            .bind(community_id)
            .bind(k.as_str())
            .scalar_optional(&mut conn)
            .await?;
        if let Some(id) = done {
            return redemption(&mut conn, community_id, id).await?.ok_or(AppError::NotFound);
        }
    }
    let mut tx = state.db.begin().await?;
    let account = ledger::account_id(&mut tx, community_id, Acct::person(actor.user_id)).await?;
    query("UPDATE ledger_accounts SET balance = balance WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(account)
        .execute(&mut tx)
        .await?;
    let r = reward(&mut tx, community_id, reward_id).await?.ok_or(AppError::NotFound)?;
    let taken = taken_by_person(&mut tx, community_id, actor.user_id, Some(reward_id))
        .await?
        .get(&reward_id)
        .copied()
        .unwrap_or(0);
    let balance = ledger::balance(&mut tx, community_id, actor.user_id).await?;
    may_redeem(&r.offer(), crate::web::fmt::today(), taken, balance).map_err(AppError::Conflict)?;
    let took = query(
        "UPDATE rewards SET stock = stock - 1, updated_at = $1 WHERE community_id = $2 AND id = $3 AND stock > 0",
    )
    .bind(now_ms())
    .bind(community_id)
    .bind(reward_id)
    .execute(&mut tx)
    .await?;
    if took == 0 {
        return Err(AppError::Conflict("points.out_of_stock"));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    // A handover code names one held redemption (a unique index): a code drawn twice is
    // drawn again.
    let mut tries = 0;
    loop {
        let sp = tx.savepoint().await?;
        let inserted = query(
            "INSERT INTO redemptions (community_id, id, reward_id, user_id, points, code, status, held_at, expires_at, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, 'held', $7, $8, $9)",
        )
        .bind(community_id)
        .bind(id)
        .bind(reward_id)
        .bind(actor.user_id)
        .bind(r.price)
        .bind(crate::services::codes::eight_digits())
        .bind(now)
        .bind(now + r.hold_days * crate::time::DAY_MS)
        .bind(key.clone())
        .execute(&mut tx)
        .await;
        match inserted {
            Err(e)
                if tries < 5
                    && matches!(crate::db::unique_violation_field(&e).as_deref(), Some("held_code" | "code")) =>
            {
                tx.rollback_to(sp).await?;
                tries += 1;
            }
            other => {
                other?;
                tx.release(sp).await?;
                break;
            }
        }
    }
    ledger::post(
        &mut tx,
        &Posting {
            community_id,
            from: Acct::person(actor.user_id),
            to: Acct::HOLDING,
            amount: r.price,
            cause: Cause::Hold,
            cause_id: Some(id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("hold:{id}"),
        },
    )
    .await?;
    let out = redemption(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Hands a held redemption over against its code: staff, or the merchant who provides it.
/// The held points go to the provider. Twice, or with the wrong code, is refused.
pub async fn confirm(state: &AppState, actor: &Actor, community_id: i64, code: &str) -> AppResult<Redemption> {
    let staff = actor.can(community_id, Permission::ManagePoints);
    let units = merchant_units(actor, community_id);
    if !staff && units.is_empty() {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::field("code", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    let found: Option<i64> =
        query("SELECT id FROM redemptions WHERE community_id = $1 AND code = $2 ORDER BY CASE WHEN status = 'held' THEN 0 ELSE 1 END, held_at DESC LIMIT 1")
            .bind(community_id)
            .bind(code)
            .scalar_optional(&mut tx)
            .await?;
    let d = match found {
        Some(id) => redemption(&mut tx, community_id, id).await?,
        None => None,
    };
    let Some(d) = d.filter(|d| code_matches(code, &d.code)) else {
        return Err(AppError::field("code", "points.wrong_code"));
    };
    if !staff && !d.provider_unit_id.is_some_and(|u| units.contains(&u)) {
        return Err(AppError::field("code", "points.wrong_code"));
    }
    if d.status != RedemptionStatus::Held {
        return Err(AppError::Conflict(if d.status == RedemptionStatus::Confirmed {
            "points.already_handed_over"
        } else {
            "points.no_longer_held"
        }));
    }
    let now = now_ms();
    let changed = query(
        "UPDATE redemptions SET status = 'confirmed', decided_at = $1, decided_by = $2 WHERE community_id = $3 AND id = $4 AND status = 'held'",
    )
    .bind(now)
    .bind(actor.user_id)
    .bind(community_id)
    .bind(d.id)
    .execute(&mut tx)
    .await?;
    if changed == 0 {
        return Err(AppError::Conflict("points.already_handed_over"));
    }
    ledger::post(
        &mut tx,
        &Posting {
            community_id,
            from: Acct::HOLDING,
            to: Acct::provider(d.provider_unit_id),
            amount: d.points,
            cause: Cause::Settle,
            cause_id: Some(d.id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("settle:{}", d.id),
        },
    )
    .await?;
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(
            community_id,
            Some(notify::Subject { kind: "redemption", id: d.id }),
            "points",
            format!("「{}」已兑换领取", d.reward),
        ),
        notify::Audience::Users(vec![d.user_id]),
    )
    .await?;
    let out = redemption(&mut tx, community_id, d.id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Gives the points and the unit back: the holder cancelling, staff, or expiry.
async fn release(
    tx: &mut Tx,
    community_id: i64,
    d: &Redemption,
    to: RedemptionStatus,
    by: Option<i64>,
) -> AppResult<bool> {
    let changed = query(
        "UPDATE redemptions SET status = $1, decided_at = $2, decided_by = $3 WHERE community_id = $4 AND id = $5 AND status = 'held'",
    )
    .bind(to.as_str())
    .bind(now_ms())
    .bind(by)
    .bind(community_id)
    .bind(d.id)
    .execute(&mut *tx)
    .await?;
    if changed == 0 {
        return Ok(false);
    }
    query("UPDATE rewards SET stock = stock + 1, updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(community_id)
        .bind(d.reward_id)
        .execute(&mut *tx)
        .await?;
    ledger::post(
        tx,
        &Posting {
            community_id,
            from: Acct::HOLDING,
            to: Acct::person(d.user_id),
            amount: d.points,
            cause: Cause::Release,
            cause_id: Some(d.id),
            rule_id: None,
            reason: None,
            author_id: by,
            key: format!("release:{}", d.id),
        },
    )
    .await?;
    Ok(true)
}

pub async fn cancel(state: &AppState, actor: &Actor, community_id: i64, id: i64) -> AppResult<Redemption> {
    let mut tx = state.db.begin().await?;
    let d = redemption(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if d.user_id != actor.user_id && !actor.can(community_id, Permission::ManagePoints) {
        return Err(AppError::NotFound);
    }
    if !release(&mut tx, community_id, &d, RedemptionStatus::Cancelled, Some(actor.user_id)).await? {
        return Err(AppError::Conflict("points.no_longer_held"));
    }
    let out = redemption(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Lets holds past their time expire. Safe on several processes at once: each release is
/// a conditional update.
pub async fn expire_due(state: &AppState, now: i64) -> AppResult<usize> {
    let mut conn = state.db.span(crate::db::citus::Span::Maintenance).await?;
    let due: Vec<(i64, i64)> =
        query("SELECT community_id, id FROM redemptions WHERE status = 'held' AND expires_at < $1 ORDER BY expires_at LIMIT 500")
            .bind(now)
            .fetch_all(&mut conn)
            .await?;
    drop(conn);
    let mut n = 0;
    for (c, id) in due {
        let mut tx = state.db.begin().await?;
        if let Some(d) = redemption(&mut tx, c, id).await?
            && release(&mut tx, c, &d, RedemptionStatus::Expired, None).await?
        {
            notify::send(
                &mut tx,
                &state.bus,
                notify::Note::new(
                    c,
                    Some(notify::Subject { kind: "redemption", id: d.id }),
                    "points",
                    format!("「{}」兑换已过期，积分已退回", d.reward),
                ),
                notify::Audience::Users(vec![d.user_id]),
            )
            .await?;
            tx.commit().await?;
            n += 1;
        }
    }
    Ok(n)
}
