//! Expenses: asked for a project from one of its funds, with the receipt's photo; decided
//! step by step along the chain the community sets, never by whoever asked nor twice by
//! one person; paid when the last step approves — a movement from the fund to the payee,
//! guarded so that no fund goes below zero and no project spends beyond its share. A
//! refused or withdrawn expense keeps its history.

use serde::Serialize;
use serde_json::json;

use super::super::book::{self, Cause, Posting};
use super::super::{Approver, Category, ExpenseStatus, allows, chain_for, fen, yuan};
use super::projects::project;
use super::require_keeper;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Role};
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::ledger::store as ledger;
use crate::services::notify::{self, Audience as To, Note, Subject};
use crate::services::{media, settings};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Expense {
    pub community_id: i64,
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    pub fund_id: i64,
    pub fund: String,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub payee: String,
    pub amount_fen: i64,
    pub purpose: String,
    #[sqlx(try_from = "String")]
    pub status: ExpenseStatus,
    pub chain: String,
    pub asked_by: i64,
    pub asker: String,
    pub movement_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Expense {
    /// The approval steps it needs.
    pub fn steps(&self) -> Vec<Approver> {
        self.chain.split(',').filter_map(Approver::parse).collect()
    }
}

pub(crate) const EXPENSE: &str =
    "SELECT e.community_id, e.id, e.project_id, p.title AS project, e.fund_id, f.name AS fund,
    e.category, e.payee, e.amount_fen, e.purpose, e.status, e.chain, e.asked_by, u.display_name AS asker, e.movement_id,
    e.created_at, e.updated_at
    FROM expenses e JOIN projects p ON p.community_id = e.community_id AND p.id = e.project_id
    JOIN funds f ON f.community_id = e.community_id AND f.id = e.fund_id
    JOIN users u ON u.id = e.asked_by";

pub async fn expense(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Expense>> {
    Ok(query(format!("{EXPENSE} WHERE e.community_id = $1 AND e.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A project's expenses, newest first.
pub async fn of_project(ex: &mut impl Exec, community_id: i64, project_id: i64) -> AppResult<Vec<Expense>> {
    Ok(query(format!(
        "{EXPENSE} WHERE e.community_id = $1 AND e.project_id = $2 ORDER BY e.created_at DESC, e.id DESC"
    ))
    .bind(community_id)
    .bind(project_id)
    .fetch_all(ex)
    .await?)
}

/// A fund's paid expenses, newest first.
pub async fn paid_from(ex: &mut impl Exec, community_id: i64, fund_id: i64, limit: i64) -> AppResult<Vec<Expense>> {
    Ok(query(format!(
        "{EXPENSE} WHERE e.community_id = $1 AND e.fund_id = $2 AND e.status = 'paid' ORDER BY e.updated_at DESC, e.id DESC LIMIT $3"
    ))
    .bind(community_id)
    .bind(fund_id)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// Expenses waiting for a decision, oldest first.
pub async fn pending(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Expense>> {
    Ok(query(format!("{EXPENSE} WHERE e.community_id = $1 AND e.status = 'pending' ORDER BY e.created_at, e.id"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// How many expenses wait for a decision (the desk's badge).
pub async fn pending_count(ex: &mut impl Exec, community_id: i64) -> AppResult<i64> {
    Ok(query("SELECT COUNT(*) FROM expenses WHERE community_id = $1 AND status = 'pending'")
        .bind(community_id)
        .scalar(ex)
        .await?)
}

/// One step decided: (seq, role, decision, note, who, when).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Step {
    pub seq: i64,
    pub role: String,
    pub decision: String,
    pub note: Option<String>,
    pub decided_by: i64,
    pub who: String,
    pub decided_at: i64,
}

pub async fn steps(ex: &mut impl Exec, community_id: i64, expense_id: i64) -> AppResult<Vec<Step>> {
    Ok(query(
        "SELECT s.seq, s.role, s.decision, s.note, s.decided_by, u.display_name AS who, s.decided_at FROM expense_steps s
         JOIN users u ON u.id = s.decided_by WHERE s.community_id = $1 AND s.expense_id = $2 ORDER BY s.seq",
    )
    .bind(community_id)
    .bind(expense_id)
    .fetch_all(ex)
    .await?)
}

/// An expense as its asker types it.
#[derive(Debug, Clone, Default)]
pub struct NewExpense {
    pub fund_id: Option<i64>,
    pub category: String,
    pub payee: String,
    pub amount: String,
    pub purpose: String,
}

fn check(e: &NewExpense, receipts: usize) -> Result<(i64, Category, i64), Vec<FieldError>> {
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "payee", &e.payee, 100, true);
    crate::input::check_text(&mut errors, "purpose", &e.purpose, 500, true);
    let category = Category::parse(&e.category);
    if category.is_none() {
        errors.push(FieldError::new("category", "validation.choice"));
    }
    if e.fund_id.is_none() {
        errors.push(FieldError::new("fund_id", "validation.required"));
    }
    let amount = fen("amount", &e.amount).map_err(|x| errors.push(x)).ok();
    if receipts == 0 {
        errors.push(FieldError::new("receipt", "money.receipt_required"));
    }
    match (e.fund_id, category, amount) {
        (Some(f), Some(c), Some(a)) if errors.is_empty() => Ok((f, c, a)),
        _ => Err(errors),
    }
}

/// Asks for an expense of a project that may spend, from a fund that pays for it: within
/// the fund's restriction, its share of the project and its balance, with the receipt.
pub async fn ask(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    project_id: i64,
    e: NewExpense,
    receipts: &[(Vec<u8>, media::Checked)],
) -> AppResult<Expense> {
    require_keeper(actor, c.id)?;
    let (fund_id, category, amount) = check(&e, receipts.len()).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let p = project(&mut tx, c.id, project_id).await?.ok_or(AppError::NotFound)?;
    if !p.status.spends() {
        return Err(AppError::Conflict("money.project_not_spending"));
    }
    let f = super::funds::fund(&mut tx, c.id, fund_id)
        .await?
        .ok_or_else(|| AppError::field("fund_id", "validation.reference"))?;
    let share = super::projects::funding(&mut tx, c.id, project_id).await?.into_iter().find(|s| s.fund_id == fund_id);
    let Some(share) = share else { return Err(AppError::field("fund_id", "money.not_funding")) };
    if !allows(f.restriction.as_deref(), category) {
        return Err(AppError::field("category", "money.restricted"));
    }
    let left = share.amount_fen - share.spent_fen;
    if amount > left {
        return Err(AppError::Invalid(vec![FieldError::new("amount", "money.over_share").with("left", yuan(left))]));
    }
    let balance = book::balance(&mut tx, c.id, fund_id).await?;
    if amount > balance {
        return Err(AppError::Invalid(vec![
            FieldError::new("amount", "money.over_balance").with("balance", yuan(balance)),
        ]));
    }
    let chain_setting = settings::text(&mut tx, c.id, &super::super::CHAIN).await?;
    let above = settings::int(&mut tx, c.id, &super::super::SUBDISTRICT_ABOVE).await?;
    let chain = chain_for(&chain_setting, above, amount);
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO expenses (community_id, id, project_id, fund_id, category, payee, amount_fen, purpose, status, chain,
           asked_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $11)",
    )
    .bind(c.id)
    .bind(id)
    .bind(project_id)
    .bind(fund_id)
    .bind(category.as_str())
    .bind(e.payee.trim())
    .bind(amount)
    .bind(e.purpose.trim())
    .bind(chain.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(","))
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    media::attach(state, &mut tx, c.id, "expense", id, Some(actor.user_id), receipts).await?;
    let after = json!({"project_id": project_id, "fund_id": fund_id, "amount_fen": amount, "payee": e.payee.trim()});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "expense", id, None, Some(&after)).await?;
    let out = expense(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tell_next(state, &mut tx, c, &out, chain[0]).await?;
    tx.commit().await?;
    Ok(out)
}

/// Tells those who decide the next step that an expense waits for them.
async fn tell_next(state: &AppState, tx: &mut Tx, c: &CommunityRef, e: &Expense, next: Approver) -> AppResult<()> {
    let text = format!("支出待审批：{} · {} 元 · {}", e.project, yuan(e.amount_fen), e.payee);
    let note = Note::new(c.id, Some(Subject { kind: "expense", id: e.id }), "money", text);
    let to = match next.role() {
        Role::SubdistrictAdmin => {
            let admins: Vec<i64> =
                query("SELECT user_id FROM grants WHERE role = 'subdistrict_admin' AND subdistrict_id = $1")
                    .bind(c.subdistrict_id)
                    .scalars(&mut *tx)
                    .await?;
            To::Users(admins)
        }
        role => To::Role(role),
    };
    notify::send(tx, &state.bus, note, to).await?;
    Ok(())
}

/// Whether the actor holds the role that decides a step of this community's expenses
/// (staff steps may be decided by the secretary too).
fn decides(actor: &Actor, c: &CommunityRef, step: Approver) -> bool {
    let holds = |r: Role| actor.grants.iter().any(|g| g.role() == r && g.community_id == Some(c.id));
    match step {
        Approver::Staff => holds(Role::CommunityStaff) || holds(Role::CommunitySecretary),
        Approver::Secretary => holds(Role::CommunitySecretary),
        Approver::Subdistrict => actor.manages_subdistrict(c.subdistrict_id),
    }
}

/// Decides the next step of a pending expense. The last approval pays it; a refusal
/// (with its reason) ends it. Each step is decided once, whoever races to it.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    approve: bool,
    note: Option<&str>,
) -> AppResult<Expense> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "note", note.unwrap_or(""), 500, !approve);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let e = expense(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    if e.status != ExpenseStatus::Pending {
        return Err(AppError::Conflict("money.not_pending"));
    }
    let done = steps(&mut tx, c.id, id).await?;
    let chain = e.steps();
    let Some(&step) = chain.get(done.len()) else { return Err(AppError::Conflict("money.not_pending")) };
    if !decides(actor, c, step) {
        return Err(AppError::Forbidden);
    }
    if e.asked_by == actor.user_id {
        return Err(AppError::Conflict("money.own_expense"));
    }
    if done.iter().any(|s| s.decided_by == actor.user_id) {
        return Err(AppError::Conflict("money.decided_before"));
    }
    let decision = if approve { "approved" } else { "refused" };
    let written = query(
        "INSERT INTO expense_steps (community_id, expense_id, seq, role, decision, note, decided_by, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (community_id, expense_id, seq) DO NOTHING",
    )
    .bind(c.id)
    .bind(id)
    .bind(done.len() as i64)
    .bind(step.as_str())
    .bind(decision)
    .bind(note)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    if written == 0 {
        return Err(AppError::Conflict("money.step_decided"));
    }
    let last = done.len() + 1 == chain.len();
    let status = if !approve {
        Some(ExpenseStatus::Refused)
    } else if last {
        pay(&mut tx, actor, &e).await?;
        Some(ExpenseStatus::Paid)
    } else {
        tell_next(state, &mut tx, c, &e, chain[done.len() + 1]).await?;
        None
    };
    if let Some(s) = status {
        query("UPDATE expenses SET status = $1, updated_at = $2 WHERE community_id = $3 AND id = $4 AND status = 'pending'")
            .bind(s.as_str())
            .bind(now_ms())
            .bind(c.id)
            .bind(id)
            .execute(&mut tx)
            .await?;
        let text = match s {
            ExpenseStatus::Paid => format!("支出已批准并支付：{} · {} 元", e.project, yuan(e.amount_fen)),
            _ => format!("支出未获批准：{} · {} 元 · {}", e.project, yuan(e.amount_fen), note.unwrap_or("")),
        };
        let n = Note::new(c.id, Some(Subject { kind: "expense", id }), "money", text);
        notify::send(&mut tx, &state.bus, n, To::Users(vec![e.asked_by])).await?;
    }
    let after = json!({"step": done.len(), "decision": decision, "status": status.map(|s| s.as_str())});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "expense", id, None, Some(&after)).await?;
    let out = expense(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Pays an approved expense: its project's share of the fund first (never beyond it),
/// then the movement out of the fund (never below zero).
async fn pay(tx: &mut Tx, actor: &Actor, e: &Expense) -> AppResult<()> {
    let within = query(
        "UPDATE project_funding SET spent_fen = spent_fen + $1
         WHERE community_id = $2 AND project_id = $3 AND fund_id = $4 AND spent_fen + $1 <= amount_fen",
    )
    .bind(e.amount_fen)
    .bind(e.community_id)
    .bind(e.project_id)
    .bind(e.fund_id)
    .execute(&mut *tx)
    .await?;
    if within == 0 {
        return Err(AppError::Conflict("money.over_share_now"));
    }
    let movement = ledger::post(
        tx,
        &Posting {
            community_id: e.community_id,
            from: book::fund(e.fund_id),
            to: book::PAYEES,
            amount: e.amount_fen,
            cause: Cause::Expense,
            cause_id: Some(e.id),
            rule_id: None,
            reason: None,
            author_id: Some(actor.user_id),
            key: format!("expense:{}", e.id),
        },
    )
    .await?;
    query("UPDATE expenses SET movement_id = $1 WHERE community_id = $2 AND id = $3")
        .bind(movement)
        .bind(e.community_id)
        .bind(e.id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Whoever asked withdraws an expense still pending; it keeps its history.
pub async fn withdraw(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Expense> {
    require_keeper(actor, c.id)?;
    let mut tx = state.db.begin().await?;
    let e = expense(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    if e.asked_by != actor.user_id {
        return Err(AppError::Forbidden);
    }
    let n = query("UPDATE expenses SET status = 'withdrawn', updated_at = $1 WHERE community_id = $2 AND id = $3 AND status = 'pending'")
        .bind(now_ms())
        .bind(c.id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    if n == 0 {
        return Err(AppError::Conflict("money.not_pending"));
    }
    audit::record(
        &mut tx,
        c.id,
        &By::from(actor),
        Action::Update,
        "expense",
        id,
        None,
        Some(&json!({"status": "withdrawn"})),
    )
    .await?;
    let out = expense(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Adds the copy of a receipt to publish, with personal data (an account number, a
/// mobile number, an ID number) covered: only it is shown on the public page.
pub async fn add_public_copy(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    photos: &[(Vec<u8>, media::Checked)],
) -> AppResult<()> {
    require_keeper(actor, c.id)?;
    if photos.is_empty() {
        return Err(AppError::field("public_copy", "validation.required"));
    }
    let mut tx = state.db.begin().await?;
    expense(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    media::attach(state, &mut tx, c.id, PUBLIC_COPY, id, Some(actor.user_id), photos).await?;
    tx.commit().await?;
    Ok(())
}

/// The kind of media of a receipt's copy for the public.
pub const PUBLIC_COPY: &str = "expense_public";

/// Receipts as taken are seen by those who keep the money (and the subdistrict that
/// approves); the public copies by anyone.
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let Some(c) = crate::auth::guard::community_by_id(&mut conn, m.community_id).await? else {
            return Ok(false);
        };
        let e = expense(&mut conn, m.community_id, m.owner_id).await?;
        Ok(e.is_some()
            && (m.owner_kind == PUBLIC_COPY
                || actor.can(c.id, crate::auth::model::Permission::ManageMoney)
                || actor.manages_subdistrict(c.subdistrict_id)))
    })
}
