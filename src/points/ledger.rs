//! The points ledger 积分流水 in the database: double-entry, append-only and exact.
//!
//! Every movement takes points from one account and gives them to another in the same
//! transaction as both stored balances, so balances always sum to zero and each is the
//! sum of its movements. A balance that may not go below zero is debited with a guarded
//! update (`balance >= amount`), which is also what makes racing spenders safe: on
//! PostgreSQL the second waits for the first's row lock and then sees what is left. Every
//! movement carries an idempotency key: posting the same key again answers the first.

use futures::future::BoxFuture;
use serde::Serialize;

use super::{AccountFacts, AccountKind, Cause};
use crate::app::AppState;
use crate::db::group::{Batch, Committer};
use crate::db::{Arg, Builder, Db, Exec, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::{self, limits};

/// An account named by what it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Acct {
    pub kind: AccountKind,
    /// The user, team or unit; 0 for the community's own accounts.
    pub owner: i64,
}

impl Acct {
    pub fn person(user_id: i64) -> Acct {
        Acct { kind: AccountKind::Person, owner: user_id }
    }
    pub const ISSUING: Acct = Acct { kind: AccountKind::Issuing, owner: 0 };
    pub const HOLDING: Acct = Acct { kind: AccountKind::Holding, owner: 0 };
    /// The provider of a reward: a partner merchant, or the community itself.
    pub fn provider(unit: Option<i64>) -> Acct {
        Acct { kind: AccountKind::Provider, owner: unit.unwrap_or(0) }
    }
}

/// One movement to post.
#[derive(Debug, Clone)]
pub struct Posting {
    pub community_id: i64,
    pub from: Acct,
    pub to: Acct,
    pub amount: i64,
    pub cause: Cause,
    pub cause_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub reason: Option<String>,
    pub author_id: Option<i64>,
    /// The same key posts once: a retry answers the first movement.
    pub key: String,
}

/// A movement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Movement {
    pub community_id: i64,
    pub id: i64,
    pub at: i64,
    pub from_account: i64,
    pub to_account: i64,
    pub amount: i64,
    pub cause: String,
    pub cause_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub reason: Option<String>,
    pub author_id: Option<i64>,
    pub idempotency_key: String,
    pub reverses: Option<i64>,
}

const MOVEMENT_COLUMNS: &str = "community_id, id, at, from_account, to_account, amount, cause, cause_id, rule_id, reason, author_id, idempotency_key, reverses";

/// What an account is called on statements.
async fn account_name(ex: &mut impl Exec, community_id: i64, a: Acct) -> AppResult<String> {
    Ok(match a.kind {
        AccountKind::Person => query("SELECT display_name FROM users WHERE id = $1")
            .bind(a.owner)
            .scalar_optional::<String>(ex)
            .await?
            .unwrap_or_default(),
        AccountKind::Team => query("SELECT name FROM teams WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(a.owner)
            .scalar_optional::<String>(ex)
            .await?
            .unwrap_or_default(),
        AccountKind::Unit | AccountKind::Provider if a.owner != 0 => {
            query("SELECT name FROM partner_units WHERE community_id = $1 AND id = $2")
                .bind(community_id)
                .bind(a.owner)
                .scalar_optional::<String>(ex)
                .await?
                .unwrap_or_default()
        }
        AccountKind::Issuing => "社区积分发行".into(),
        AccountKind::Holding => "兑换冻结".into(),
        AccountKind::Unit | AccountKind::Provider => "社区".into(),
    })
}

/// The id of an account, opening it on first use.
pub async fn account_id(tx: &mut Tx, community_id: i64, a: Acct) -> AppResult<i64> {
    let find = || {
        query("SELECT id FROM points_accounts WHERE community_id = $1 AND kind = $2 AND owner_id = $3")
            .bind(community_id)
            .bind(a.kind.as_str())
            .bind(a.owner)
    };
    if let Some(id) = find().scalar_optional::<i64>(tx).await? {
        return Ok(id);
    }
    let id = tx.next_id().await?;
    let name = account_name(tx, community_id, a).await?;
    query(
        "INSERT INTO points_accounts (community_id, id, kind, owner_id, name, balance, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)
         ON CONFLICT (community_id, kind, owner_id) DO NOTHING",
    )
    .bind(community_id)
    .bind(id)
    .bind(a.kind.as_str())
    .bind(a.owner)
    .bind(name)
    .bind(now_ms())
    .execute(tx)
    .await?;
    find()
        .scalar_optional::<i64>(tx)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("points account not opened")))
}

async fn by_key(ex: &mut impl Exec, community_id: i64, key: &str) -> AppResult<Option<Movement>> {
    Ok(query(format!(
        "SELECT {MOVEMENT_COLUMNS} FROM points_movements WHERE community_id = $1 AND idempotency_key = $2"
    ))
    .bind(community_id)
    .bind(key)
    .fetch_optional(ex)
    .await?)
}

pub async fn movement(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Movement>> {
    Ok(query(format!("SELECT {MOVEMENT_COLUMNS} FROM points_movements WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Checks a posting before anything is written.
fn check(p: &Posting) -> AppResult<()> {
    if p.amount <= 0 {
        return Err(AppError::Invalid(vec![FieldError::new("amount", "points.positive")]));
    }
    if !limits::POINTS.contains(&p.amount) {
        return Err(AppError::Invalid(vec![input::range_error("amount", limits::POINTS)]));
    }
    if !p.cause.allows(p.from.kind, p.to.kind) || p.from == p.to {
        return Err(AppError::Internal(anyhow::anyhow!("{:?} may not move {:?} → {:?}", p.cause, p.from, p.to)));
    }
    if p.cause.needs_cause_id() && p.cause_id.is_none() {
        return Err(AppError::Internal(anyhow::anyhow!("{:?} needs what caused it", p.cause)));
    }
    if !p.cause.needs_cause_id() && p.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(AppError::Invalid(vec![FieldError::new("reason", "validation.required")]));
    }
    if p.key.is_empty() {
        return Err(AppError::Internal(anyhow::anyhow!("a posting needs an idempotency key")));
    }
    Ok(())
}

/// Moves `amount` from one account to another. Answers the id of the debit or the
/// conflict that stopped it (`points.insufficient`).
/// No balance leaves ±`limits::BALANCE` (the issuer's is the one that goes below zero),
/// so a balance is always a whole number that any sum of them can hold.
async fn debit_credit(tx: &mut Tx, community_id: i64, from: i64, to: i64, amount: i64) -> AppResult<()> {
    let debited = query(
        "UPDATE points_accounts SET balance = balance - $1 WHERE community_id = $2 AND id = $3
         AND (balance >= $1 OR (kind = 'issuing' AND balance >= $1 - $4))",
    )
    .bind(amount)
    .bind(community_id)
    .bind(from)
    .bind(limits::BALANCE)
    .execute(tx)
    .await?;
    if debited == 0 {
        let issuing: Option<String> = query("SELECT kind FROM points_accounts WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(from)
            .scalar_optional(&mut *tx)
            .await?;
        let limit = issuing.as_deref() == Some("issuing");
        return Err(AppError::Conflict(if limit { "points.balance_limit" } else { "points.insufficient" }));
    }
    let credited = query(
        "UPDATE points_accounts SET balance = balance + $1 WHERE community_id = $2 AND id = $3 AND balance <= $4 - $1",
    )
    .bind(amount)
    .bind(community_id)
    .bind(to)
    .bind(limits::BALANCE)
    .execute(tx)
    .await?;
    if credited == 0 {
        return Err(AppError::Conflict("points.balance_limit"));
    }
    Ok(())
}

/// Posts one movement in `tx`, with both balances. A key posted before answers the
/// movement it posted (and refuses a different movement under the same key).
pub async fn post(tx: &mut Tx, p: &Posting) -> AppResult<i64> {
    check(p)?;
    if let Some(m) = by_key(tx, p.community_id, &p.key).await? {
        return same_as(&m, p);
    }
    let from = account_id(tx, p.community_id, p.from).await?;
    let to = account_id(tx, p.community_id, p.to).await?;
    insert(tx, p, from, to, None).await
}

fn same_as(m: &Movement, p: &Posting) -> AppResult<i64> {
    if m.amount == p.amount && m.cause == p.cause.as_str() && m.cause_id == p.cause_id {
        Ok(m.id)
    } else {
        Err(AppError::Conflict("points.key_reused"))
    }
}

async fn insert(tx: &mut Tx, p: &Posting, from: i64, to: i64, reverses: Option<i64>) -> AppResult<i64> {
    debit_credit(tx, p.community_id, from, to, p.amount).await?;
    let id = tx.next_id().await?;
    query(
        "INSERT INTO points_movements (community_id, id, at, from_account, to_account, amount, cause, cause_id, rule_id, reason, author_id, idempotency_key, reverses)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(p.community_id)
    .bind(id)
    .bind(now_ms())
    .bind(from)
    .bind(to)
    .bind(p.amount)
    .bind(p.cause.as_str())
    .bind(p.cause_id)
    .bind(p.rule_id)
    .bind(p.reason.clone())
    .bind(p.author_id)
    .bind(p.key.as_str())
    .bind(reverses)
    .execute(tx)
    .await?;
    Ok(id)
}

/// Corrects a movement by posting it backwards, citing it. Nothing is edited; a movement
/// is reversed once at most, and only what was given or taken by hand or for service.
pub async fn reverse(tx: &mut Tx, community_id: i64, id: i64, reason: &str, author_id: Option<i64>) -> AppResult<i64> {
    if reason.trim().is_empty() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let m = movement(tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    // Holds, hand-overs and releases are undone by their own steps, never by a reversal.
    if !matches!(Cause::parse(&m.cause), Some(Cause::Service | Cause::Bonus | Cause::Deduction | Cause::Adjustment)) {
        return Err(AppError::Conflict("points.not_reversible"));
    }
    let key = format!("reverse:{id}");
    if let Some(done) = by_key(tx, community_id, &key).await? {
        return Ok(done.id);
    }
    let p = Posting {
        community_id,
        from: Acct::ISSUING,
        to: Acct::ISSUING,
        amount: m.amount,
        cause: Cause::Reversal,
        cause_id: Some(id),
        rule_id: m.rule_id,
        reason: Some(reason.trim().to_string()),
        author_id,
        key,
    };
    insert(tx, &p, m.to_account, m.from_account, Some(id)).await
}

/// Postings written together. A batch reads the balances it touches once (locked on
/// PostgreSQL), plays the postings through in order, refusing those that would take an
/// account below zero, then writes each account's net change with one guarded update
/// and all movements in a few multi-row inserts. Should a guard still fail, the batch is
/// undone and its postings are written one by one.
#[derive(Default)]
pub struct Postings {
    /// Account ids by what they belong to: accounts are never removed, so they are kept.
    accounts: std::sync::Mutex<std::collections::HashMap<(i64, Acct), i64>>,
}

impl Postings {
    async fn account(&self, tx: &mut Tx, community_id: i64, a: Acct) -> AppResult<i64> {
        if let Some(id) = self.accounts.lock().expect("lock").get(&(community_id, a)) {
            return Ok(*id);
        }
        let id = account_id(tx, community_id, a).await?;
        self.accounts.lock().expect("lock").insert((community_id, a), id);
        Ok(id)
    }

    /// One posting on its own, in a savepoint: a retry racing its first attempt answers
    /// the first.
    async fn one(&self, tx: &mut Tx, p: &Posting) -> AppResult<AppResult<i64>> {
        let sp = tx.savepoint().await?;
        match post(tx, p).await {
            Ok(id) => {
                tx.release(sp).await?;
                Ok(Ok(id))
            }
            Err(e) => {
                tx.rollback_to(sp).await?;
                Ok(match (&e, by_key(tx, p.community_id, &p.key).await?) {
                    (AppError::Invalid(f), Some(m)) if f.iter().any(|f| f.field == "idempotency_key") => same_as(&m, p),
                    _ => Err(e),
                })
            }
        }
    }

    async fn many(&self, tx: &mut Tx, items: &[Posting]) -> AppResult<Vec<AppResult<i64>>> {
        use std::collections::HashMap;
        let n = items.len();
        let mut out: Vec<Option<AppResult<i64>>> = (0..n).map(|i| check(&items[i]).err().map(Err)).collect();
        // Keys posted before answer what they posted; a key twice in the batch is one posting.
        let mut first_of: HashMap<(i64, &str), usize> = HashMap::new();
        let mut copies: Vec<(usize, usize)> = Vec::new();
        let mut by_community: std::collections::BTreeMap<i64, Vec<usize>> = std::collections::BTreeMap::new();
        for (i, p) in items.iter().enumerate() {
            if out[i].is_some() {
                continue;
            }
            match first_of.get(&(p.community_id, p.key.as_str())) {
                Some(&f) => copies.push((i, f)),
                None => {
                    first_of.insert((p.community_id, p.key.as_str()), i);
                    by_community.entry(p.community_id).or_default().push(i);
                }
            }
        }
        let kind = tx.kind();
        let mut accepted: Vec<(usize, i64, i64)> = Vec::new();
        let mut deltas: Vec<(i64, i64, i64)> = Vec::new();
        for (&c, idx) in &by_community {
            let mut b = Builder::new(format!("SELECT {MOVEMENT_COLUMNS} FROM points_movements WHERE community_id = "));
            b.arg(c).push(" AND idempotency_key IN ").list(idx.iter().map(|&i| items[i].key.clone()));
            let done: HashMap<String, Movement> = b
                .build()
                .fetch_all::<Movement>(&mut *tx)
                .await?
                .into_iter()
                .map(|m| (m.idempotency_key.clone(), m))
                .collect();
            let mut fresh = Vec::new();
            for &i in idx {
                match done.get(&items[i].key) {
                    Some(m) => out[i] = Some(same_as(m, &items[i])),
                    None => fresh.push(i),
                }
            }
            let mut ids = Vec::with_capacity(fresh.len());
            for &i in &fresh {
                let from = self.account(tx, c, items[i].from).await?;
                let to = self.account(tx, c, items[i].to).await?;
                ids.push((i, from, to));
            }
            let mut b = Builder::new("SELECT id, kind, balance FROM points_accounts WHERE community_id = ");
            b.arg(c).push(" AND id IN ").list(ids.iter().flat_map(|(_, f, t)| [*f, *t]));
            b.push(kind.lock_rows());
            let mut balances: HashMap<i64, (bool, i64)> = b
                .build()
                .fetch_all::<(i64, String, i64)>(&mut *tx)
                .await?
                .into_iter()
                .map(|(id, k, bal)| (id, (AccountKind::parse(&k).is_some_and(AccountKind::may_go_negative), bal)))
                .collect();
            let mut net: HashMap<i64, i64> = HashMap::new();
            for (i, from, to) in ids {
                let amount = items[i].amount;
                let (negative_ok, bal) = balances.get(&from).copied().unwrap_or((false, 0));
                if !negative_ok && bal < amount {
                    out[i] = Some(Err(AppError::Conflict("points.insufficient")));
                    continue;
                }
                let to_bal = balances.get(&to).map_or(0, |t| t.1);
                if bal - amount < -limits::BALANCE || to_bal > limits::BALANCE - amount {
                    out[i] = Some(Err(AppError::Conflict("points.balance_limit")));
                    continue;
                }
                balances.insert(from, (negative_ok, bal - amount));
                if let Some(t) = balances.get_mut(&to) {
                    t.1 += amount;
                }
                *net.entry(from).or_default() -= amount;
                *net.entry(to).or_default() += amount;
                accepted.push((i, from, to));
            }
            deltas.extend(net.into_iter().filter(|(_, d)| *d != 0).map(|(a, d)| (c, a, d)));
        }
        // Each account's net change in one statement per few hundred accounts; the table's
        // own check (no balance below zero but the issuer's) stands behind the reckoning.
        for chunk in deltas.chunks(500) {
            let mut b = Builder::new("UPDATE points_accounts SET balance = balance + d.column3 FROM (VALUES ");
            for (k, (c, account, delta)) in chunk.iter().enumerate() {
                if k > 0 {
                    b.push(", ");
                }
                b.list([*c, *account, *delta]);
            }
            b.push(") AS d WHERE points_accounts.community_id = d.column1 AND points_accounts.id = d.column2");
            let changed = b.build().execute(&mut *tx).await?;
            if changed != chunk.len() as u64 {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "{changed} of {} points accounts updated",
                    chunk.len()
                )));
            }
        }
        let ids = tx.next_ids(accepted.len()).await?;
        let now = now_ms();
        let mut rows = Vec::with_capacity(accepted.len());
        for ((i, from, to), id) in accepted.into_iter().zip(ids) {
            let p = &items[i];
            rows.push(vec![
                Arg::from(p.community_id),
                id.into(),
                now.into(),
                from.into(),
                to.into(),
                p.amount.into(),
                p.cause.as_str().into(),
                p.cause_id.into(),
                p.rule_id.into(),
                p.reason.clone().into(),
                p.author_id.into(),
                p.key.clone().into(),
            ]);
            out[i] = Some(Ok(id));
        }
        insert_many(
            tx,
            "points_movements",
            &[
                "community_id",
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
            ],
            rows,
        )
        .await?;
        for (i, f) in copies {
            out[i] = Some(match &out[f] {
                Some(Ok(id))
                    if items[i].amount == items[f].amount
                        && items[i].cause == items[f].cause
                        && items[i].cause_id == items[f].cause_id =>
                {
                    Ok(*id)
                }
                Some(Ok(_)) => Err(AppError::Conflict("points.key_reused")),
                Some(Err(AppError::Conflict(k))) => Err(AppError::Conflict(k)),
                _ => Err(AppError::Conflict("points.insufficient")),
            });
        }
        Ok(out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("a posting was not answered")))))
            .collect())
    }
}

impl Batch for Postings {
    type Item = Posting;
    type Out = i64;

    fn write<'a>(&'a self, tx: &'a mut Tx, items: &'a [Posting]) -> BoxFuture<'a, AppResult<Vec<AppResult<i64>>>> {
        Box::pin(async move {
            match items {
                [p] => Ok(vec![self.one(tx, p).await?]),
                _ => self.many(tx, items).await,
            }
        })
    }
}

/// Posts through the group commit (many postings share one disk sync); answers the
/// movement's id once it is on disk.
pub async fn post_grouped(state: &AppState, p: Posting) -> AppResult<i64> {
    let committer = state
        .points
        .postings
        .get_or_init(|| async { Committer::start(state.db.clone(), Postings::default(), 1000) })
        .await;
    committer.submit(p).await
}

/// A person's balance (0 before their first points).
/// The community's teams and partner units with the balances of their accounts:
/// (team or unit, id, name, balance).
pub async fn group_balances(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(String, i64, String, i64)>> {
    Ok(query(
        "SELECT 'team', t.id, t.name, COALESCE(a.balance, 0) FROM teams t
         LEFT JOIN points_accounts a ON a.community_id = t.community_id AND a.kind = 'team' AND a.owner_id = t.id
         WHERE t.community_id = $1 AND t.archived_at IS NULL
         UNION ALL
         SELECT 'unit', u.id, u.name, COALESCE(a.balance, 0) FROM partner_units u
         LEFT JOIN points_accounts a ON a.community_id = u.community_id AND a.kind = 'unit' AND a.owner_id = u.id
         WHERE u.community_id = $1 AND u.archived_at IS NULL ORDER BY 1, 3",
    )
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

pub async fn balance(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<i64> {
    Ok(query("SELECT balance FROM points_accounts WHERE community_id = $1 AND kind = 'person' AND owner_id = $2")
        .bind(community_id)
        .bind(user_id)
        .scalar_optional::<i64>(ex)
        .await?
        .unwrap_or(0))
}

/// A line of a statement: a movement as seen from one account.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Line {
    pub id: i64,
    pub at: i64,
    /// Positive in, negative out.
    pub amount: i64,
    pub cause: String,
    pub cause_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub reason: Option<String>,
    pub author_id: Option<i64>,
    pub reverses: Option<i64>,
    /// The account on the other side.
    pub counterpart: String,
}

/// A person's movements, newest first.
pub async fn statement(ex: &mut impl Exec, community_id: i64, user_id: i64, limit: i64) -> AppResult<Vec<Line>> {
    Ok(query(
        "SELECT m.id, m.at, CASE WHEN m.to_account = a.id THEN m.amount ELSE -m.amount END AS amount, m.cause, m.cause_id,
                m.rule_id, m.reason, m.author_id, m.reverses, o.name AS counterpart
         FROM points_accounts a
         JOIN points_movements m ON m.community_id = a.community_id AND (m.to_account = a.id OR m.from_account = a.id)
         JOIN points_accounts o ON o.community_id = m.community_id AND o.id = CASE WHEN m.to_account = a.id THEN m.from_account ELSE m.to_account END
         WHERE a.community_id = $1 AND a.kind = 'person' AND a.owner_id = $2
         ORDER BY m.at DESC, m.id DESC LIMIT $3",
    )
    .bind(community_id)
    .bind(user_id)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// The community's latest movements (staff).
pub async fn journal(ex: &mut impl Exec, community_id: i64, limit: i64) -> AppResult<Vec<(Movement, String, String)>> {
    let rows: Vec<(i64, String, String)> = query(
        "SELECT m.id, f.name, t.name FROM points_movements m
         JOIN points_accounts f ON f.community_id = m.community_id AND f.id = m.from_account
         JOIN points_accounts t ON t.community_id = m.community_id AND t.id = m.to_account
         WHERE m.community_id = $1 ORDER BY m.at DESC, m.id DESC LIMIT $2",
    )
    .bind(community_id)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    let mut b = Builder::new(format!("SELECT {MOVEMENT_COLUMNS} FROM points_movements WHERE community_id = "));
    b.arg(community_id).push(" AND id IN ").list(rows.iter().map(|r| r.0));
    let mut movements: Vec<Movement> = b.build().fetch_all(ex).await?;
    movements.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    Ok(movements
        .into_iter()
        .filter_map(|m| {
            let (_, f, t) = rows.iter().find(|r| r.0 == m.id)?.clone();
            Some((m, f, t))
        })
        .collect())
}

// ---------- the check ----------

/// What `linli ledger verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub communities: usize,
    pub accounts: usize,
    pub movements: i64,
    pub points_issued: i64,
    pub problems: Vec<String>,
}

impl Report {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every rule of the ledger, in one community or all: each stored balance is the
/// sum of its movements and none is below zero where none may be; each community's
/// balances sum to zero; every movement is positive, between two accounts its cause
/// allows, names its cause, and a reversal mirrors the movement it reverses; the points
/// held are those of the redemptions on hold; approved service is paid what its
/// movements say.
pub async fn verify(db: &Db, community_id: Option<i64>) -> AppResult<Report> {
    let mut conn = db.read().await?;
    let scope = |b: &mut Builder, column: &str| {
        if let Some(c) = community_id {
            b.push(&format!(" AND {column} = ")).arg(c);
        }
    };
    let mut report = Report::default();
    let mut b = Builder::new("SELECT community_id, id, kind, balance FROM points_accounts WHERE 1 = 1");
    scope(&mut b, "community_id");
    let accounts: Vec<(i64, i64, String, i64)> = b.build().fetch_all(&mut conn).await?;
    report.accounts = accounts.len();
    let kinds: std::collections::HashMap<(i64, i64), AccountKind> =
        accounts.iter().filter_map(|(c, id, k, _)| AccountKind::parse(k).map(|k| ((*c, *id), k))).collect();
    // Sums per account and cause, each side, read from the covering indexes.
    let mut sums: std::collections::HashMap<(i64, i64), (i64, i64)> = std::collections::HashMap::new();
    let mut issued = 0i64;
    for (side, column) in [(0usize, "to_account"), (1, "from_account")] {
        let mut b = Builder::new(format!(
            "SELECT community_id, {column}, cause, CAST(SUM(amount) AS BIGINT), COUNT(*), MIN(amount) FROM points_movements WHERE 1 = 1"
        ));
        scope(&mut b, "community_id");
        b.push(&format!(" GROUP BY community_id, {column}, cause"));
        let rows: Vec<(i64, i64, String, i64, i64, i64)> = b.build().fetch_all(&mut conn).await?;
        for (c, account, cause, sum, n, min) in rows {
            let entry = sums.entry((c, account)).or_default();
            if side == 0 {
                entry.0 += sum;
                report.movements += n;
            } else {
                entry.1 += sum;
            }
            if min <= 0 {
                report.problems.push(format!("account {account}: a movement of {min} points (must be above zero)"));
            }
            let Some(cause) = Cause::parse(&cause) else {
                report.problems.push(format!("account {account}: movements with an unknown cause {cause}"));
                continue;
            };
            let Some(kind) = kinds.get(&(c, account)) else {
                report.problems.push(format!("community {c}: movements touch account {account}, which does not exist"));
                continue;
            };
            let fits = AccountKind::ALL
                .iter()
                .any(|other| if side == 0 { cause.allows(*other, *kind) } else { cause.allows(*kind, *other) });
            if !fits {
                report.problems.push(format!(
                    "account {account} ({}): {} movements {} it, which that cause never does",
                    kind.as_str(),
                    cause.as_str(),
                    if side == 0 { "into" } else { "out of" }
                ));
            }
            if side == 1 && *kind == AccountKind::Issuing && cause != Cause::Reversal {
                issued += sum;
            }
        }
    }
    report.points_issued = issued;
    let mut per_community: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (c, id, kind, stored) in &accounts {
        let (credits, debits) = sums.get(&(*c, *id)).copied().unwrap_or_default();
        let facts = AccountFacts { community_id: *c, id: *id, kind: kind.clone(), stored: *stored, credits, debits };
        report.problems.extend(super::account_problems(&facts));
        *per_community.entry(*c).or_default() += stored;
    }
    report.communities = per_community.len();
    for (c, total) in &per_community {
        if *total != 0 {
            report.problems.push(format!("community {c}: balances sum to {total}, not zero"));
        }
    }
    // Reversals mirror what they reverse.
    let mut b = Builder::new(
        "SELECT r.id FROM points_movements r LEFT JOIN points_movements o ON o.community_id = r.community_id AND o.id = r.reverses
         WHERE r.reverses IS NOT NULL AND (o.id IS NULL OR o.amount <> r.amount OR o.from_account <> r.to_account OR o.to_account <> r.from_account OR r.cause <> 'reversal')",
    );
    scope(&mut b, "r.community_id");
    for id in b.build().scalars::<i64>(&mut conn).await? {
        report.problems.push(format!("movement {id}: a reversal that does not mirror the movement it cites"));
    }
    // Movements that do not say why.
    let mut b = Builder::new(
        "SELECT cause, COUNT(*) FROM points_movements WHERE ((cause IN ('service', 'hold', 'settle', 'release', 'reversal') AND cause_id IS NULL)
         OR (cause IN ('bonus', 'deduction', 'adjustment') AND (reason IS NULL OR reason = '' OR author_id IS NULL)))",
    );
    scope(&mut b, "community_id");
    b.push(" GROUP BY cause");
    for (cause, n) in b.build().fetch_all::<(String, i64)>(&mut conn).await? {
        report.problems.push(format!("{n} {cause} movements do not name their cause, reason or author"));
    }
    // Points held are those of the redemptions on hold.
    let mut b = Builder::new(
        "SELECT a.community_id, a.balance, (SELECT CAST(COALESCE(SUM(r.points), 0) AS BIGINT) FROM redemptions r WHERE r.community_id = a.community_id AND r.status = 'held')
         FROM points_accounts a WHERE a.kind = 'holding'",
    );
    scope(&mut b, "a.community_id");
    for (c, held, expected) in b.build().fetch_all::<(i64, i64, i64)>(&mut conn).await? {
        if held != expected {
            report
                .problems
                .push(format!("community {c}: {held} points held, but redemptions on hold come to {expected}"));
        }
    }
    // Approved service was paid what its record says (a later correction is its own
    // reversing movement).
    let mut b = Builder::new(
        "SELECT s.community_id, s.id, s.points,
                (SELECT CAST(COALESCE(SUM(m.amount), 0) AS BIGINT) FROM points_movements m WHERE m.community_id = s.community_id AND m.cause = 'service' AND m.cause_id = s.id)
         FROM service_records s WHERE s.status = 'approved'",
    );
    scope(&mut b, "s.community_id");
    for (c, id, points, paid) in b.build().fetch_all::<(i64, i64, Option<i64>, i64)>(&mut conn).await? {
        if points.unwrap_or(0) != paid {
            report.problems.push(format!(
                "community {c}: service record {id} says {} points, its movements {paid}",
                points.unwrap_or(0)
            ));
        }
    }
    Ok(report)
}
