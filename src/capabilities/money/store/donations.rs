//! Money coming in: gifts 捐赠 (each numbered for its receipt; a 认捐 pledge paid becomes
//! one) and income (the service company's takings per service and month, allocations).
//! The record and its movement into the fund are written together.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;

use super::super::book::{self, AccountKind, Acct, Cause, Posting};
use super::super::{Channel, DonorKind, FundKind, fen, receipt_number};
use super::funds::open_fund;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::participation::store as pledge_store;
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::ledger::store as ledger;
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Donation {
    pub community_id: i64,
    pub id: i64,
    pub number: String,
    pub fund_id: i64,
    pub fund: String,
    #[sqlx(try_from = "String")]
    pub donor_kind: DonorKind,
    pub donor_user_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    pub donor_name: String,
    pub named: bool,
    pub amount_fen: i64,
    pub given_on: NaiveDate,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub pledge_id: Option<i64>,
    pub movement_id: i64,
    pub note: Option<String>,
    pub created_at: i64,
    /// When it was reversed as recorded by mistake, and why (it no longer counts).
    pub reversed_at: Option<i64>,
    pub reversal_reason: Option<String>,
}

impl Donation {
    /// The donor as the public sees them: a unit by its name, a person by name only if
    /// they agreed (else 张*), the anonymous as 爱心人士.
    pub fn public_name(&self) -> String {
        super::super::public_donor(self.donor_kind, &self.donor_name, self.named)
    }
}

pub(crate) const DONATION: &str = "SELECT d.community_id, d.id, d.number, d.fund_id, f.name AS fund, d.donor_kind, d.donor_user_id,
    d.partner_unit_id, d.donor_name, d.named, d.amount_fen, d.given_on, d.channel, d.pledge_id, d.movement_id, d.note, d.created_at,
    d.reversed_at, d.reversal_reason
    FROM donations d JOIN funds f ON f.community_id = d.community_id AND f.id = d.fund_id";

/// A gift as staff type it.
#[derive(Debug, Clone, Default)]
pub struct NewDonation {
    pub donor_kind: String,
    pub donor_name: String,
    pub donor_user_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    pub named: bool,
    /// Yuan, as typed.
    pub amount: String,
    pub given_on: Option<NaiveDate>,
    pub channel: String,
    /// The 认捐 pledge this gift pays.
    pub pledge_id: Option<i64>,
    pub note: Option<String>,
    /// The form's (or client's) key: the same key records one gift.
    pub key: Option<String>,
}

/// The fields of a gift that break a rule, each named; else its donor kind, channel, fen.
fn check(d: &NewDonation, today: NaiveDate) -> Result<(DonorKind, Channel, i64), Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = DonorKind::parse(&d.donor_kind);
    if kind.is_none() {
        errors.push(FieldError::new("donor_kind", "validation.choice"));
    }
    let channel = Channel::parse(&d.channel);
    if channel.is_none() {
        errors.push(FieldError::new("channel", "validation.choice"));
    }
    let needs_name = d.pledge_id.is_none() && kind.is_some_and(|k| k != DonorKind::Anonymous);
    crate::input::check_text(&mut errors, "donor_name", &d.donor_name, 60, needs_name);
    crate::input::check_text(&mut errors, "note", d.note.as_deref().unwrap_or(""), 500, false);
    crate::input::check_text(&mut errors, "key", d.key.as_deref().unwrap_or(""), crate::input::limits::KEY_LEN, false);
    let amount = fen("amount", &d.amount).map_err(|e| errors.push(e)).ok();
    if kind == Some(DonorKind::Unit) && d.partner_unit_id.is_none() && d.pledge_id.is_none() {
        errors.push(FieldError::new("partner_unit_id", "validation.required"));
    }
    match d.given_on {
        None => errors.push(FieldError::new("given_on", "validation.required")),
        Some(day) if day > today => errors.push(FieldError::new("given_on", "money.in_the_future")),
        _ => {}
    }
    match (kind, channel, amount) {
        (Some(k), Some(c), Some(a)) if errors.is_empty() => Ok((k, c, a)),
        _ => Err(errors),
    }
}

/// Records a gift of money to a fund that takes gifts and is open, with its receipt
/// number and its movement from the giver into the fund; a pledge it pays is fulfilled
/// in the same transaction (its donor is the pledger, its amount the pledge's).
pub async fn donate(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    fund_id: i64,
    d: NewDonation,
) -> AppResult<Donation> {
    super::funds::require_keeps(&mut state.db.read().await?, actor, c.id, fund_id).await?;
    let today = crate::web::fmt::today();
    let (mut kind, channel, amount) = check(&d, today).map_err(AppError::Invalid)?;
    let key = d.key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let mut tx = state.db.begin().await?;
    if let Some(k) = key {
        let first: Option<i64> = query("SELECT id FROM donations WHERE community_id = $1 AND idempotency_key = $2")
            .bind(c.id)
            .bind(k)
            .scalar_optional(&mut tx)
            .await?;
        if let Some(id) = first {
            let d = donation(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
            // The key of a gift to another fund is no retry of this one.
            return if d.fund_id == fund_id { Ok(d) } else { Err(AppError::field("key", "money.key_reused")) };
        }
    }
    let f = open_fund(&mut tx, c.id, fund_id, "fund_id").await?;
    if !f.kind.takes_gifts() {
        return Err(AppError::field("fund_id", "money.fund_takes_no_gifts"));
    }
    let (mut name, mut user, mut unit, mut named) =
        (d.donor_name.trim().to_string(), d.donor_user_id, d.partner_unit_id, d.named);
    if let Some(pid) = d.pledge_id {
        let p = pledge_store::settle_paid(&mut tx, actor, c.id, pid).await?;
        if amount != p.amount * 100 {
            return Err(AppError::Invalid(vec![
                FieldError::new("amount", "money.pledge_amount").with("amount", super::super::yuan(p.amount * 100)),
            ]));
        }
        name = p.registrant.clone();
        named = p.show_name || p.partner_unit_id.is_some();
        (kind, user, unit) = match p.partner_unit_id {
            Some(u) => (DonorKind::Unit, None, Some(u)),
            None => (DonorKind::PartyMember, Some(p.user_id), None),
        };
    }
    if kind == DonorKind::Anonymous {
        (name, user, unit, named) = ("爱心人士".into(), None, None, false);
    }
    if let Some(u) = user.filter(|_| d.pledge_id.is_none()) {
        let holds: i64 = query("SELECT COUNT(*) FROM grants WHERE user_id = $1 AND community_id = $2")
            .bind(u)
            .bind(c.id)
            .scalar(&mut tx)
            .await?;
        if holds == 0 {
            return Err(AppError::field("donor_user_id", "validation.reference"));
        }
    }
    if let Some(u) = unit {
        name = ledger::unit_name(&mut tx, c.id, u).await?;
        if name.is_empty() {
            return Err(AppError::field("partner_unit_id", "validation.reference"));
        }
    }
    let from = match (kind, user, unit) {
        (DonorKind::Unit, _, Some(u)) => Acct { kind: AccountKind::Unit, owner: u },
        (DonorKind::Person | DonorKind::PartyMember, Some(u), _) => Acct { kind: AccountKind::Donor, owner: u },
        _ => Acct { kind: AccountKind::Anonymous, owner: 0 },
    };
    let id = tx.next_id().await?;
    let given_on = d.given_on.unwrap_or(today);
    let n = tx.next_number(c.id, &format!("receipt:{}", given_on.year()), 0).await?;
    let number = receipt_number(given_on.year(), n);
    let movement = ledger::post(
        &mut tx,
        &Posting {
            community_id: c.id,
            from,
            to: book::fund(f.id),
            amount,
            cause: Cause::Donation,
            cause_id: Some(id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("donation:{id}"),
        },
    )
    .await?;
    query(
        "INSERT INTO donations (community_id, id, number, fund_id, donor_kind, donor_user_id, partner_unit_id, donor_name,
           named, amount_fen, given_on, channel, pledge_id, movement_id, note, recorded_by, created_at, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(c.id)
    .bind(id)
    .bind(&number)
    .bind(f.id)
    .bind(kind.as_str())
    .bind(user)
    .bind(unit)
    .bind(&name)
    .bind(named)
    .bind(amount)
    .bind(given_on)
    .bind(channel.as_str())
    .bind(d.pledge_id)
    .bind(movement)
    .bind(d.note.as_deref().map(str::trim).filter(|n| !n.is_empty()))
    .bind(actor.user_id)
    .bind(now_ms())
    .bind(key)
    .execute(&mut tx)
    .await?;
    let after = json!({"number": number, "fund_id": f.id, "amount_fen": amount, "donor_kind": kind.as_str()});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "donation", id, None, Some(&after)).await?;
    let out = donation(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn donation(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Donation>> {
    Ok(query(format!("{DONATION} WHERE d.community_id = $1 AND d.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Reverses a gift recorded by mistake (a wrong amount, the wrong fund): its movement is
/// posted backwards, citing it, while the fund still holds the money; the gift keeps who
/// reversed it, when and why, and no longer counts. A gift that paid a pledge is not
/// reversed here (the pledge would stay fulfilled).
pub async fn reverse(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, reason: &str) -> AppResult<Donation> {
    super::require_keeper(actor, c.id)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "reason", reason, 200, true);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let d = donation(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    if d.pledge_id.is_some() {
        return Err(AppError::Conflict("money.pledge_gift"));
    }
    let now = now_ms();
    // Guarded: of two reversals at once, one marks the gift and the other is told.
    let marked = query(
        "UPDATE donations SET reversed_at = $3, reversed_by = $4, reversal_reason = $5
         WHERE community_id = $1 AND id = $2 AND reversed_at IS NULL",
    )
    .bind(c.id)
    .bind(id)
    .bind(now)
    .bind(actor.user_id)
    .bind(reason.trim())
    .execute(&mut tx)
    .await?;
    if marked == 0 {
        return Err(AppError::Conflict("money.reversed"));
    }
    let movement = ledger::reverse::<book::Money>(&mut tx, c.id, d.movement_id, reason, Some(actor.user_id)).await?;
    query("UPDATE donations SET reversal_movement_id = $3 WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(id)
        .bind(movement)
        .execute(&mut tx)
        .await?;
    let after = json!({"reversed_at": now, "reason": reason.trim(), "movement_id": movement});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "donation", id, None, Some(&after)).await?;
    let out = donation(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Every gift of the community, in the order given (the money ledger 资金台账).
pub async fn all(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Donation>> {
    Ok(query(format!("{DONATION} WHERE d.community_id = $1 ORDER BY d.given_on, d.id"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// A fund's gifts, newest first.
pub async fn of_fund(ex: &mut impl Exec, community_id: i64, fund_id: i64, limit: i64) -> AppResult<Vec<Donation>> {
    Ok(query(format!(
        "{DONATION} WHERE d.community_id = $1 AND d.fund_id = $2 ORDER BY d.given_on DESC, d.id DESC LIMIT $3"
    ))
    .bind(community_id)
    .bind(fund_id)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// Income into a fund as staff type it.
#[derive(Debug, Clone, Default)]
pub struct NewIncome {
    pub source: String,
    /// The month it was earned, `2026-03`.
    pub month: String,
    pub amount: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Income {
    pub id: i64,
    pub fund_id: i64,
    pub source: String,
    pub month: String,
    pub amount_fen: i64,
    pub movement_id: i64,
    pub note: Option<String>,
    pub created_at: i64,
}

/// Records income into a fund of the service company or of an allocation: the takings of
/// one service in one month, as a movement from outside into the fund.
pub async fn receive(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    fund_id: i64,
    i: NewIncome,
) -> AppResult<Income> {
    super::funds::require_keeps(&mut state.db.read().await?, actor, c.id, fund_id).await?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "source", &i.source, 60, true);
    crate::input::check_text(&mut errors, "note", i.note.as_deref().unwrap_or(""), 500, false);
    if chrono::NaiveDate::parse_from_str(&format!("{}-01", i.month.trim()), "%Y-%m-%d").is_err() {
        errors.push(FieldError::new("month", "money.month_format"));
    }
    let amount = fen("amount", &i.amount).map_err(|e| errors.push(e)).ok();
    let Some(amount) = amount.filter(|_| errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let mut tx = state.db.begin().await?;
    let f = open_fund(&mut tx, c.id, fund_id, "fund_id").await?;
    if !matches!(f.kind, FundKind::ServiceIncome | FundKind::Government) {
        return Err(AppError::field("fund_id", "money.fund_takes_no_income"));
    }
    let id = tx.next_id().await?;
    let movement = ledger::post(
        &mut tx,
        &Posting {
            community_id: c.id,
            from: Acct { kind: AccountKind::Outside, owner: 0 },
            to: book::fund(f.id),
            amount,
            cause: Cause::Income,
            cause_id: Some(id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("income:{id}"),
        },
    )
    .await?;
    query(
        "INSERT INTO incomes (community_id, id, fund_id, source, month, amount_fen, movement_id, note, recorded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(c.id)
    .bind(id)
    .bind(f.id)
    .bind(i.source.trim())
    .bind(i.month.trim())
    .bind(amount)
    .bind(movement)
    .bind(i.note.as_deref().map(str::trim).filter(|n| !n.is_empty()))
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let after = json!({"fund_id": f.id, "source": i.source.trim(), "month": i.month.trim(), "amount_fen": amount});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "income", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(Income {
        id,
        fund_id: f.id,
        source: i.source.trim().into(),
        month: i.month.trim().into(),
        amount_fen: amount,
        movement_id: movement,
        note: i.note,
        created_at: now_ms(),
    })
}

/// A fund's income, newest month first.
pub async fn incomes(ex: &mut impl Exec, community_id: i64, fund_id: i64) -> AppResult<Vec<Income>> {
    Ok(query(
        "SELECT id, fund_id, source, month, amount_fen, movement_id, note, created_at FROM incomes
         WHERE community_id = $1 AND fund_id = $2 ORDER BY month DESC, id DESC",
    )
    .bind(community_id)
    .bind(fund_id)
    .fetch_all(ex)
    .await?)
}
