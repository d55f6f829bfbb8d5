//! Funds: made by staff with their kind, purpose, restriction, target, period and
//! managers; closed when their drive is over (a closed fund takes no more money); listed
//! with the money the ledger holds for each.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::super::{FundKind, FundStatus, restriction};
use super::{FundLine, Totals, require_keeper};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Fund {
    pub community_id: i64,
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: FundKind,
    pub name: String,
    pub purpose: String,
    pub restriction: Option<String>,
    pub target_fen: Option<i64>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub status: FundStatus,
    pub created_at: i64,
}

const FUND: &str = "SELECT community_id, id, kind, name, purpose, restriction, target_fen, starts_on, ends_on, status, created_at FROM funds";

/// A fund as staff type it.
#[derive(Debug, Clone, Default)]
pub struct NewFund {
    pub kind: String,
    pub name: String,
    pub purpose: String,
    /// The categories it may pay for (none ticked: any).
    pub restriction: Vec<String>,
    /// The target in yuan, as typed.
    pub target: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// The managers' mobile numbers, one a line (none: staff keep it alone).
    pub managers: String,
}

/// A new fund's fields that break a rule, each named; else its kind, restriction, target.
fn check(f: &NewFund) -> Result<(FundKind, Option<String>, Option<i64>), Vec<FieldError>> {
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "name", &f.name, 60, true);
    crate::input::check_text(&mut errors, "purpose", &f.purpose, 1000, true);
    let kind = FundKind::parse(&f.kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "validation.choice"));
    }
    let restriction = restriction(&f.restriction).map_err(|e| errors.push(e)).ok().flatten();
    let target = match f.target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => super::super::fen("target", t).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    if let (Some(a), Some(b)) = (f.starts_on, f.ends_on)
        && b < a
    {
        errors.push(FieldError::new("ends_on", "money.ends_before_start"));
    }
    match kind {
        Some(k) if errors.is_empty() => Ok((k, restriction, target)),
        _ => Err(errors),
    }
}

pub async fn create(state: &AppState, actor: &Actor, c: &CommunityRef, f: NewFund) -> AppResult<Fund> {
    require_keeper(actor, c.id)?;
    let (kind, restriction, target) = check(&f).map_err(AppError::Invalid)?;
    let numbers = manager_lines(&f.managers)?;
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO funds (community_id, id, kind, name, purpose, restriction, target_fen, starts_on, ends_on, status,
           created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $11)",
    )
    .bind(c.id)
    .bind(id)
    .bind(kind.as_str())
    .bind(f.name.trim())
    .bind(f.purpose.trim())
    .bind(restriction.as_deref())
    .bind(target)
    .bind(f.starts_on)
    .bind(f.ends_on)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    write_managers(state, &mut tx, c.id, id, &numbers).await?;
    let after = json!({"name": f.name.trim(), "kind": kind.as_str(), "restriction": restriction, "target_fen": target});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "fund", id, None, Some(&after)).await?;
    let out = fund(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn fund(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Fund>> {
    Ok(query(format!("{FUND} WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A fund read inside a transaction that will move its money: refused when closed.
pub async fn open_fund(tx: &mut Tx, community_id: i64, id: i64, field: &str) -> AppResult<Fund> {
    let f = fund(tx, community_id, id).await?.ok_or_else(|| AppError::field(field, "validation.reference"))?;
    if f.status == FundStatus::Closed {
        return Err(AppError::field(field, "money.fund_closed"));
    }
    Ok(f)
}

/// Closes a fund: its drive is over; it takes no more money (what it holds may still
/// be spent).
pub async fn close(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Fund> {
    require_keeper(actor, c.id)?;
    let mut tx = state.db.begin().await?;
    let before = fund(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    query("UPDATE funds SET status = 'closed', updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(c.id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        c.id,
        &By::from(actor),
        Action::Update,
        "fund",
        id,
        Some(&json!({"status": before.status.as_str()})),
        Some(&json!({"status": "closed"})),
    )
    .await?;
    let out = fund(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// The money in and out of each fund of a community, as its movements sum (fund → totals):
/// a gift or income reversed as recorded by mistake is taken off what came in.
pub async fn totals(ex: &mut impl Exec, community_id: i64) -> AppResult<HashMap<i64, Totals>> {
    let mut out: HashMap<i64, Totals> = HashMap::new();
    for (into, column) in [(true, "to_account"), (false, "from_account")] {
        let rows: Vec<(i64, i64, String, i64)> = query(format!(
            "SELECT a.owner_id, a.balance, m.cause, CAST(SUM(m.amount) AS BIGINT) FROM ledger_accounts a
             JOIN ledger_movements m ON m.community_id = a.community_id AND m.{column} = a.id
             WHERE a.community_id = $1 AND a.unit = 'fen' AND a.kind = 'fund' GROUP BY a.owner_id, a.balance, m.cause"
        ))
        .bind(community_id)
        .fetch_all(&mut *ex)
        .await?;
        for (fund, balance, cause, sum) in rows {
            let t = out.entry(fund).or_default();
            t.balance = balance;
            match (into, cause == "reversal") {
                (true, false) => t.received += sum,
                (false, false) => t.paid += sum,
                // Money out of a fund reversing a gift; into one, reversing money out.
                (false, true) => t.received -= sum,
                (true, true) => t.paid -= sum,
            }
        }
    }
    Ok(out)
}

/// The community's funds with their money, open ones first.
pub async fn list(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<FundLine>> {
    let funds: Vec<Fund> = query(format!("{FUND} WHERE community_id = $1 ORDER BY status DESC, created_at DESC"))
        .bind(community_id)
        .fetch_all(&mut *ex)
        .await?;
    let totals = totals(ex, community_id).await?;
    Ok(funds
        .into_iter()
        .map(|f| FundLine {
            id: f.id,
            kind: f.kind,
            status: f.status,
            target_fen: f.target_fen,
            ends_on: f.ends_on,
            totals: totals.get(&f.id).copied().unwrap_or_default(),
            name: f.name,
        })
        .collect())
}

/// Managers' mobile numbers as typed, one a line; none when nothing was typed.
fn manager_lines(typed: &str) -> AppResult<Vec<String>> {
    match typed.trim() {
        "" => Ok(Vec::new()),
        t => crate::auth::accounts::phone_lines("managers", t).map_err(|e| AppError::Invalid(vec![e])),
    }
}

/// Makes the accounts of these numbers the fund's managers, in place of any before; each
/// must belong to the community.
async fn write_managers(
    state: &AppState,
    tx: &mut Tx,
    community_id: i64,
    fund_id: i64,
    numbers: &[String],
) -> AppResult<()> {
    let users = crate::auth::accounts::by_phones(&mut *tx, &state.pii, "managers", numbers).await?;
    query("DELETE FROM fund_managers WHERE community_id = $1 AND fund_id = $2")
        .bind(community_id)
        .bind(fund_id)
        .execute(&mut *tx)
        .await?;
    for user in users {
        let holds: i64 = query("SELECT COUNT(*) FROM grants WHERE user_id = $1 AND community_id = $2")
            .bind(user)
            .bind(community_id)
            .scalar(&mut *tx)
            .await?;
        if holds == 0 {
            return Err(AppError::field("managers", "money.manager_not_here"));
        }
        query("INSERT INTO fund_managers (community_id, fund_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(community_id)
            .bind(fund_id)
            .bind(user)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Staff name a fund's managers anew (an empty list leaves it to staff alone).
pub async fn set_managers(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, typed: &str) -> AppResult<()> {
    require_keeper(actor, c.id)?;
    let numbers = manager_lines(typed)?;
    let mut tx = state.db.begin().await?;
    fund(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    let before: Vec<i64> = managers(&mut tx, c.id, id).await?.into_iter().map(|(u, _)| u).collect();
    write_managers(state, &mut tx, c.id, id, &numbers).await?;
    let after: Vec<i64> = managers(&mut tx, c.id, id).await?.into_iter().map(|(u, _)| u).collect();
    let (b, a) = (json!({"managers": before}), json!({"managers": after}));
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "fund", id, Some(&b), Some(&a)).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the actor keeps this fund: staff who keep the money, or one of the fund's
/// managers (a party member running a drive records its gifts, and nothing else).
pub async fn keeps(ex: &mut impl Exec, actor: &Actor, community_id: i64, fund_id: i64) -> AppResult<bool> {
    if actor.can(community_id, Permission::ManageMoney) {
        return Ok(true);
    }
    let n: i64 = query("SELECT COUNT(*) FROM fund_managers WHERE community_id = $1 AND fund_id = $2 AND user_id = $3")
        .bind(community_id)
        .bind(fund_id)
        .bind(actor.user_id)
        .scalar(ex)
        .await?;
    Ok(n > 0)
}

/// The open funds a user manages in a community: (fund, name).
pub async fn managed_by(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(query(
        "SELECT f.id, f.name FROM fund_managers m JOIN funds f ON f.community_id = m.community_id AND f.id = m.fund_id
         WHERE m.community_id = $1 AND m.user_id = $2 AND f.status = 'open' ORDER BY f.id",
    )
    .bind(community_id)
    .bind(user_id)
    .fetch_all(ex)
    .await?)
}

/// Refuses whoever does not keep the fund (not found to those who cannot see the
/// community, as the guard does).
pub async fn require_keeps(ex: &mut impl Exec, actor: &Actor, community_id: i64, fund_id: i64) -> AppResult<()> {
    if keeps(ex, actor, community_id, fund_id).await? {
        Ok(())
    } else if actor.sees_community(community_id) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

/// Who keeps a fund besides staff: (user, name).
pub async fn managers(ex: &mut impl Exec, community_id: i64, fund_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut b = Builder::new(
        "SELECT u.id, u.display_name FROM fund_managers m JOIN users u ON u.id = m.user_id WHERE m.community_id = ",
    );
    b.arg(community_id).push(" AND m.fund_id = ").arg(fund_id).push(" ORDER BY u.display_name");
    Ok(b.build().fetch_all(ex).await?)
}
