//! Disclosure 公示: staff publish a period's accounts with the ledger chain's head at that
//! moment; residents object until a day, and each objection is answered in public. The
//! movements of money are published with their hashes, so that anyone can recompute them
//! (docs/disclosure.md).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::require_keeper;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::db::chain;
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::ledger::{CHAIN, MOVEMENT_COLUMNS};
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Disclosure {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub objections_until: NaiveDate,
    pub chain_length: i64,
    pub chain_head: Option<String>,
    pub published_at: i64,
}

/// Publishes the accounts of a period (already over or under way), open to objections
/// for `days` days (1 to 30), with the ledger chain's head as it stands.
pub async fn publish(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    days: Option<i64>,
) -> AppResult<Disclosure> {
    require_keeper(actor, c.id)?;
    let today = crate::web::fmt::today();
    let mut errors = Vec::new();
    if from.is_none() {
        errors.push(FieldError::new("period_from", "validation.required"));
    }
    match to {
        None => errors.push(FieldError::new("period_to", "validation.required")),
        Some(t) if from.is_some_and(|f| t < f) => errors.push(FieldError::new("period_to", "money.ends_before_start")),
        Some(t) if t > today => errors.push(FieldError::new("period_to", "money.in_the_future")),
        _ => {}
    }
    match days {
        None => errors.push(FieldError::new("days", "validation.required")),
        Some(d) => crate::input::check_range(&mut errors, "days", d, 1..=30),
    }
    let (Some(from), Some(to), Some(days)) = (from, to, days) else { return Err(AppError::Invalid(errors)) };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (length, head) = chain::head(&state.db, c.id, CHAIN.chain).await?;
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    let until = today + chrono::Days::new(days as u64);
    query(
        "INSERT INTO disclosures (community_id, id, period_from, period_to, objections_until, chain_length, chain_head,
           published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(c.id)
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(until)
    .bind(length)
    .bind(head.as_ref().map(hex::encode))
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let after = json!({"period_from": from.to_string(), "period_to": to.to_string(), "chain_length": length});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "disclosure", id, None, Some(&after)).await?;
    let text = format!("{} 至 {} 的资金收支已公示，{} 前可提出异议", from, to, until);
    let note = Note::new(c.id, Some(Subject { kind: "disclosure", id }), "money", text);
    notify::send(&mut tx, &state.bus, note, To::Community).await?;
    let out = disclosure(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

const DISCLOSURE: &str =
    "SELECT id, period_from, period_to, objections_until, chain_length, chain_head, published_at FROM disclosures";

pub async fn disclosure(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Disclosure>> {
    Ok(query(format!("{DISCLOSURE} WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The community's disclosures, newest first.
pub async fn list(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Disclosure>> {
    Ok(query(format!("{DISCLOSURE} WHERE community_id = $1 ORDER BY published_at DESC, id DESC"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Objection {
    pub id: i64,
    pub disclosure_id: i64,
    pub user_id: i64,
    pub name: String,
    pub body: String,
    pub created_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
}

/// A signed-in resident (anyone of the community) objects to a disclosure while it is
/// open to objections; staff are told.
pub async fn object(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    disclosure_id: i64,
    body: &str,
) -> AppResult<i64> {
    if !actor.sees_community(c.id) {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "body", body, 1000, true);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let d = disclosure(&mut tx, c.id, disclosure_id).await?.ok_or(AppError::NotFound)?;
    if crate::web::fmt::today() > d.objections_until {
        return Err(AppError::Conflict("money.objections_closed"));
    }
    let id = tx.next_id().await?;
    query(
        "INSERT INTO objections (community_id, id, disclosure_id, user_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(id)
    .bind(disclosure_id)
    .bind(actor.user_id)
    .bind(body.trim())
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let note = Note::new(c.id, Some(Subject { kind: "objection", id }), "money", format!("公示异议：{}", body.trim()));
    notify::send(&mut tx, &state.bus, note, To::Role(crate::auth::model::Role::CommunityStaff)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Staff answer an objection, in public; the resident is told.
pub async fn answer(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, text: &str) -> AppResult<()> {
    require_keeper(actor, c.id)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "answer", text, 1000, true);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let (user, disclosure_id): (i64, i64) =
        query("SELECT user_id, disclosure_id FROM objections WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(id)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(AppError::NotFound)?;
    let n = query(
        "UPDATE objections SET answer = $1, answered_by = $2, answered_at = $3 WHERE community_id = $4 AND id = $5 AND answer IS NULL",
    )
    .bind(text.trim())
    .bind(actor.user_id)
    .bind(now_ms())
    .bind(c.id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if n == 0 {
        return Err(AppError::Conflict("money.answered"));
    }
    let note = Note::new(
        c.id,
        Some(Subject { kind: "disclosure", id: disclosure_id }),
        "money",
        format!("您对公示的异议已答复：{}", text.trim()),
    );
    notify::send(&mut tx, &state.bus, note, To::Users(vec![user])).await?;
    audit::record(
        &mut tx,
        c.id,
        &By::from(actor),
        Action::Update,
        "objection",
        id,
        None,
        Some(&json!({"answered": true})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The objections to the community's disclosures, oldest first.
pub async fn objections(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Objection>> {
    Ok(query(
        "SELECT o.id, o.disclosure_id, o.user_id, u.display_name AS name, o.body, o.created_at, o.answer, o.answered_at
         FROM objections o JOIN users u ON u.id = o.user_id WHERE o.community_id = $1 ORDER BY o.created_at, o.id",
    )
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

/// The ledger's chain as the public may have it, in order: each money movement with its
/// columns and hashes, each other movement (points, whose reasons may name people) with
/// its hashes only.
pub async fn chain_rows(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Vec<String>>> {
    let rows: Vec<crate::db::DynRow> = query(format!(
        "SELECT {MOVEMENT_COLUMNS}, seq, prev_hash, hash FROM ledger_movements WHERE community_id = $1 AND seq IS NOT NULL ORDER BY seq"
    ))
    .bind(community_id)
    .rows(ex)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text = |c: &str| -> AppResult<String> { Ok(r.get::<Option<String>>(c)?.unwrap_or_default()) };
        let int =
            |c: &str| -> AppResult<String> { Ok(r.get::<Option<i64>>(c)?.map(|n| n.to_string()).unwrap_or_default()) };
        let hex =
            |c: &str| -> AppResult<String> { Ok(r.get::<Option<Vec<u8>>>(c)?.map(hex::encode).unwrap_or_default()) };
        let unit = text("unit")?;
        let mut row = vec![community_id.to_string(), int("seq")?, unit.clone()];
        if unit == <super::super::book::Money as crate::services::ledger::Book>::UNIT {
            row.extend([
                int("id")?,
                int("at")?,
                int("from_account")?,
                int("to_account")?,
                int("amount")?,
                text("cause")?,
            ]);
            row.extend([
                int("cause_id")?,
                int("rule_id")?,
                text("reason")?,
                int("author_id")?,
                text("idempotency_key")?,
            ]);
            row.push(int("reverses")?);
        } else {
            row.extend(std::iter::repeat_n(String::new(), 12));
        }
        row.extend([hex("prev_hash")?, hex("hash")?]);
        out.push(row);
    }
    Ok(out)
}

/// The columns of `chain_rows`.
pub const CHAIN_HEADERS: [&str; 17] = [
    "community_id",
    "seq",
    "unit",
    "id",
    "at",
    "from_account",
    "to_account",
    "amount",
    "cause",
    "cause_id",
    "rule_id",
    "reason",
    "author_id",
    "idempotency_key",
    "reverses",
    "prev_hash",
    "hash",
];

/// What the public page lists, narrowed: a period and a search (a receipt number, a named
/// donor or unit, a payee or what an expense was for). An unnamed donor is never found
/// by name.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Option<String>,
}

/// Gifts for the public page, newest first.
pub async fn public_donations(
    ex: &mut impl Exec,
    community_id: i64,
    f: &Filter,
    limit: i64,
) -> AppResult<Vec<super::donations::Donation>> {
    let mut b = crate::db::Builder::new(format!("{} WHERE d.community_id = ", super::donations::DONATION));
    b.arg(community_id);
    if let Some(d) = f.from {
        b.push(" AND d.given_on >= ").arg(d);
    }
    if let Some(d) = f.to {
        b.push(" AND d.given_on <= ").arg(d);
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{}%", crate::db::escape_like(q));
        b.push(" AND (d.number = ").arg(q.to_string());
        b.push(" OR ((d.named OR d.donor_kind = 'unit') AND d.donor_name LIKE ").arg(like).push(" ESCAPE '\\'))");
    }
    b.push(" ORDER BY d.given_on DESC, d.id DESC LIMIT ").arg(limit);
    Ok(b.build().fetch_all(ex).await?)
}

/// Paid expenses for the public page, newest first.
pub async fn public_expenses(
    ex: &mut impl Exec,
    community_id: i64,
    f: &Filter,
    limit: i64,
) -> AppResult<Vec<super::expenses::Expense>> {
    let mut b = crate::db::Builder::new(format!("{} WHERE e.community_id = ", super::expenses::EXPENSE));
    b.arg(community_id).push(" AND e.status = 'paid'");
    if let Some(d) = f.from {
        b.push(" AND e.updated_at >= ").arg(crate::time::day_start_ms(d));
    }
    if let Some(d) = f.to {
        b.push(" AND e.updated_at < ").arg(crate::time::day_start_ms(d) + crate::time::DAY_MS);
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{}%", crate::db::escape_like(q));
        b.push(" AND (e.payee LIKE ").arg(like.clone()).push(" ESCAPE '\\' OR e.purpose LIKE ");
        b.arg(like).push(" ESCAPE '\\')");
    }
    b.push(" ORDER BY e.updated_at DESC, e.id DESC LIMIT ").arg(limit);
    Ok(b.build().fetch_all(ex).await?)
}
