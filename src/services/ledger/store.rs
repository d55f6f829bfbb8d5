//! The ledger in the database, for every book: accounts opened on first use, postings one
//! by one or in batches through the group commit, reversals, balances and statements.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde::Serialize;

use super::{AccountKind, Acct, Book, CHAIN, Cause, MOVEMENT_COLUMNS, Movement, Posting};
use crate::db::group::{Batch, Committer};
use crate::db::{Arg, Builder, Db, Exec, Tx, chain, insert_many, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::{self, limits};

/// The id of an account, opening it on first use.
pub async fn account_id<B: Book>(tx: &mut Tx, community_id: i64, a: Acct<B::Kind>) -> AppResult<i64> {
    let find = || {
        query("SELECT id FROM ledger_accounts WHERE community_id = $1 AND unit = $2 AND kind = $3 AND owner_id = $4")
            .bind(community_id)
            .bind(B::UNIT)
            .bind(a.kind.as_str())
            .bind(a.owner)
    };
    if let Some(id) = find().scalar_optional::<i64>(tx).await? {
        return Ok(id);
    }
    let id = tx.next_id().await?;
    let name = B::account_name(tx, community_id, a).await?;
    query(
        "INSERT INTO ledger_accounts (community_id, id, unit, kind, owner_id, name, balance, may_go_negative, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8) ON CONFLICT (community_id, unit, kind, owner_id) DO NOTHING",
    )
    .bind(community_id)
    .bind(id)
    .bind(B::UNIT)
    .bind(a.kind.as_str())
    .bind(a.owner)
    .bind(name)
    .bind(a.kind.may_go_negative())
    .bind(now_ms())
    .execute(tx)
    .await?;
    find()
        .scalar_optional::<i64>(tx)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("ledger account not opened")))
}

/// A person's name on statements (their account's display name; empty if none).
pub async fn person_name(ex: &mut impl Exec, user_id: i64) -> AppResult<String> {
    Ok(query("SELECT display_name FROM users WHERE id = $1")
        .bind(user_id)
        .scalar_optional::<String>(ex)
        .await?
        .unwrap_or_default())
}

/// A partner unit's name on statements (empty if none).
pub async fn unit_name(ex: &mut impl Exec, community_id: i64, unit_id: i64) -> AppResult<String> {
    Ok(query("SELECT name FROM partner_units WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(unit_id)
        .scalar_optional::<String>(ex)
        .await?
        .unwrap_or_default())
}

async fn by_key(ex: &mut impl Exec, community_id: i64, unit: &str, key: &str) -> AppResult<Option<Movement>> {
    Ok(query(format!(
        "SELECT {MOVEMENT_COLUMNS} FROM ledger_movements WHERE community_id = $1 AND unit = $2 AND idempotency_key = $3"
    ))
    .bind(community_id)
    .bind(unit)
    .bind(key)
    .fetch_optional(ex)
    .await?)
}

/// The movement of a book posted under a key, if any (for a caller whose posting goes with
/// a change elsewhere that must not be made twice).
pub async fn posted<B: Book>(ex: &mut impl Exec, community_id: i64, key: &str) -> AppResult<Option<i64>> {
    Ok(by_key(ex, community_id, B::UNIT, key).await?.map(|m| m.id))
}

pub async fn movement(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Movement>> {
    Ok(query(format!("SELECT {MOVEMENT_COLUMNS} FROM ledger_movements WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Checks a posting before anything is written.
fn check<B: Book>(p: &Posting<B>) -> AppResult<()> {
    if p.amount <= 0 {
        return Err(AppError::Invalid(vec![FieldError::new("amount", B::MESSAGES.positive)]));
    }
    if p.amount > B::MAX_AMOUNT {
        return Err(AppError::Invalid(vec![input::range_error("amount", 1..=B::MAX_AMOUNT)]));
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

/// Moves `amount` from one account to another. No balance leaves ±`limits::BALANCE`
/// (only a source goes below zero), so a balance is always a whole number that any sum
/// of them can hold.
async fn debit_credit<B: Book>(tx: &mut Tx, community_id: i64, from: i64, to: i64, amount: i64) -> AppResult<()> {
    let debited = query(
        "UPDATE ledger_accounts SET balance = balance - $1 WHERE community_id = $2 AND id = $3
         AND (balance >= $1 OR (may_go_negative AND balance >= $1 - $4))",
    )
    .bind(amount)
    .bind(community_id)
    .bind(from)
    .bind(limits::BALANCE)
    .execute(tx)
    .await?;
    if debited == 0 {
        let source: Option<bool> =
            query("SELECT may_go_negative FROM ledger_accounts WHERE community_id = $1 AND id = $2")
                .bind(community_id)
                .bind(from)
                .scalar_optional(&mut *tx)
                .await?;
        let m = B::MESSAGES;
        return Err(AppError::Conflict(if source == Some(true) { m.balance_limit } else { m.insufficient }));
    }
    let credited = query(
        "UPDATE ledger_accounts SET balance = balance + $1 WHERE community_id = $2 AND id = $3 AND balance <= $4 - $1",
    )
    .bind(amount)
    .bind(community_id)
    .bind(to)
    .bind(limits::BALANCE)
    .execute(tx)
    .await?;
    if credited == 0 {
        return Err(AppError::Conflict(B::MESSAGES.balance_limit));
    }
    Ok(())
}

/// Posts one movement in `tx`, with both balances. A key posted before answers the
/// movement it posted (and refuses a different movement under the same key).
pub async fn post<B: Book>(tx: &mut Tx, p: &Posting<B>) -> AppResult<i64> {
    check(p)?;
    if let Some(m) = by_key(tx, p.community_id, B::UNIT, &p.key).await? {
        return same_as(&m, p);
    }
    let from = account_id::<B>(tx, p.community_id, p.from).await?;
    let to = account_id::<B>(tx, p.community_id, p.to).await?;
    insert(tx, p, from, to, None).await
}

fn same_as<B: Book>(m: &Movement, p: &Posting<B>) -> AppResult<i64> {
    if m.amount == p.amount && m.cause == p.cause.as_str() && m.cause_id == p.cause_id {
        Ok(m.id)
    } else {
        Err(AppError::Conflict(B::MESSAGES.key_reused))
    }
}

/// A movement's columns as the table and its chain take them (after `community_id, id`).
fn row<B: Book>(p: &Posting<B>, at: i64, from: i64, to: i64, reverses: Option<i64>) -> Vec<Arg> {
    vec![
        B::UNIT.into(),
        at.into(),
        from.into(),
        to.into(),
        p.amount.into(),
        p.cause.as_str().into(),
        p.cause_id.into(),
        p.rule_id.into(),
        p.reason.clone().into(),
        p.author_id.into(),
        p.key.as_str().into(),
        reverses.into(),
    ]
}

async fn insert<B: Book>(tx: &mut Tx, p: &Posting<B>, from: i64, to: i64, reverses: Option<i64>) -> AppResult<i64> {
    debit_credit::<B>(tx, p.community_id, from, to, p.amount).await?;
    let id = tx.next_id().await?;
    let values = row(p, now_ms(), from, to, reverses);
    query(format!("INSERT INTO ledger_movements ({MOVEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"))
        .bind(p.community_id)
        .bind(id)
        .bind_all(values.iter().cloned())
        .execute(tx)
        .await?;
    tx.chain(&CHAIN, p.community_id, id, &values);
    Ok(id)
}

/// Corrects a movement by posting it backwards, citing it. Nothing is edited; a movement
/// is reversed once at most, and only one whose cause allows it.
pub async fn reverse<B: Book>(
    tx: &mut Tx,
    community_id: i64,
    id: i64,
    reason: &str,
    author_id: Option<i64>,
) -> AppResult<i64> {
    if reason.trim().is_empty() {
        return Err(AppError::field("reason", "validation.required"));
    }
    let m = movement(tx, community_id, id).await?.filter(|m| m.unit == B::UNIT).ok_or(AppError::NotFound)?;
    if !B::Cause::parse(&m.cause).is_some_and(|c| c.reversible()) {
        return Err(AppError::Conflict(B::MESSAGES.not_reversible));
    }
    let key = format!("reverse:{id}");
    if let Some(done) = by_key(tx, community_id, B::UNIT, &key).await? {
        return Ok(done.id);
    }
    // The accounts are those of the movement reversed; its kinds are only for the check.
    let any = Acct { kind: B::Kind::ALL[0], owner: 0 };
    let p = Posting::<B> {
        community_id,
        from: any,
        to: any,
        amount: m.amount,
        cause: B::Cause::REVERSAL,
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
pub struct Postings<B: Book> {
    /// Account ids by what they belong to: accounts are never removed, so they are kept.
    accounts: std::sync::Mutex<HashMap<(i64, Acct<B::Kind>), i64>>,
    book: PhantomData<B>,
}

impl<B: Book> Default for Postings<B> {
    fn default() -> Self {
        Postings { accounts: std::sync::Mutex::new(HashMap::new()), book: PhantomData }
    }
}

impl<B: Book> Postings<B> {
    async fn account(&self, tx: &mut Tx, community_id: i64, a: Acct<B::Kind>) -> AppResult<i64> {
        if let Some(id) = self.accounts.lock().expect("lock").get(&(community_id, a)) {
            return Ok(*id);
        }
        let id = account_id::<B>(tx, community_id, a).await?;
        self.accounts.lock().expect("lock").insert((community_id, a), id);
        Ok(id)
    }

    /// One posting on its own, in a savepoint: a retry racing its first attempt answers
    /// the first.
    async fn one(&self, tx: &mut Tx, p: &Posting<B>) -> AppResult<AppResult<i64>> {
        let sp = tx.savepoint().await?;
        match post(tx, p).await {
            Ok(id) => {
                tx.release(sp).await?;
                Ok(Ok(id))
            }
            Err(e) => {
                tx.rollback_to(sp).await?;
                Ok(match (&e, by_key(tx, p.community_id, B::UNIT, &p.key).await?) {
                    (AppError::Invalid(f), Some(m)) if f.iter().any(|f| f.field == "idempotency_key") => same_as(&m, p),
                    _ => Err(e),
                })
            }
        }
    }

    /// The batch's postings of one community that were not posted before, each with its
    /// two accounts' ids, played through against the balances: those accepted, and each
    /// account's net change.
    async fn reckon(
        &self,
        tx: &mut Tx,
        c: i64,
        fresh: &[usize],
        items: &[Posting<B>],
        out: &mut [Option<AppResult<i64>>],
    ) -> AppResult<(Vec<(usize, i64, i64)>, HashMap<i64, i64>)> {
        let mut ids = Vec::with_capacity(fresh.len());
        for &i in fresh {
            let from = self.account(tx, c, items[i].from).await?;
            let to = self.account(tx, c, items[i].to).await?;
            ids.push((i, from, to));
        }
        let mut b = Builder::new("SELECT id, may_go_negative, balance FROM ledger_accounts WHERE community_id = ");
        b.arg(c).push(" AND id IN ").list(ids.iter().flat_map(|(_, f, t)| [*f, *t]));
        b.push(tx.kind().lock_rows());
        let mut balances: HashMap<i64, (bool, i64)> = b
            .build()
            .fetch_all::<(i64, bool, i64)>(&mut *tx)
            .await?
            .into_iter()
            .map(|(id, n, bal)| (id, (n, bal)))
            .collect();
        let (mut accepted, mut net) = (Vec::new(), HashMap::<i64, i64>::new());
        for (i, from, to) in ids {
            let amount = items[i].amount;
            let (negative_ok, bal) = balances.get(&from).copied().unwrap_or((false, 0));
            if !negative_ok && bal < amount {
                out[i] = Some(Err(AppError::Conflict(B::MESSAGES.insufficient)));
                continue;
            }
            let to_bal = balances.get(&to).map_or(0, |t| t.1);
            if bal - amount < -limits::BALANCE || to_bal > limits::BALANCE - amount {
                out[i] = Some(Err(AppError::Conflict(B::MESSAGES.balance_limit)));
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
        Ok((accepted, net))
    }

    async fn many(&self, tx: &mut Tx, items: &[Posting<B>]) -> AppResult<Vec<AppResult<i64>>> {
        let n = items.len();
        let mut out: Vec<Option<AppResult<i64>>> = (0..n).map(|i| check(&items[i]).err().map(Err)).collect();
        // Keys posted before answer what they posted; a key twice in the batch is one posting.
        let mut first_of: HashMap<(i64, &str), usize> = HashMap::new();
        let mut copies: Vec<(usize, usize)> = Vec::new();
        let mut by_community: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
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
        let mut accepted: Vec<(usize, i64, i64)> = Vec::new();
        let mut deltas: Vec<(i64, i64, i64)> = Vec::new();
        for (&c, idx) in &by_community {
            let mut b = Builder::new(format!("SELECT {MOVEMENT_COLUMNS} FROM ledger_movements WHERE community_id = "));
            b.arg(c).push(" AND unit = ").arg(B::UNIT);
            b.push(" AND idempotency_key IN ").list(idx.iter().map(|&i| items[i].key.clone()));
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
            let (ok, net) = self.reckon(tx, c, &fresh, items, &mut out).await?;
            accepted.extend(ok);
            deltas.extend(net.into_iter().filter(|(_, d)| *d != 0).map(|(a, d)| (c, a, d)));
        }
        apply_deltas(tx, &deltas).await?;
        let ids = tx.next_ids(accepted.len()).await?;
        let now = now_ms();
        let mut by_community: BTreeMap<i64, Vec<(i64, Vec<Arg>)>> = BTreeMap::new();
        for ((i, from, to), id) in accepted.into_iter().zip(ids) {
            let p = &items[i];
            by_community.entry(p.community_id).or_default().push((id, row(p, now, from, to, None)));
            out[i] = Some(Ok(id));
        }
        // Every balance is locked by now, so the chain's head is still the last lock.
        for (c, movements) in by_community {
            write_linked(tx, c, movements).await?;
        }
        for (i, f) in copies {
            out[i] = Some(match &out[f] {
                Some(Ok(id))
                    if items[i].amount == items[f].amount
                        && items[i].cause == items[f].cause
                        && items[i].cause_id == items[f].cause_id =>
                {
                    Ok(*id)
                }
                Some(Ok(_)) => Err(AppError::Conflict(B::MESSAGES.key_reused)),
                Some(Err(AppError::Conflict(k))) => Err(AppError::Conflict(k)),
                _ => Err(AppError::Conflict(B::MESSAGES.insufficient)),
            });
        }
        Ok(out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("a posting was not answered")))))
            .collect())
    }
}

/// Writes a community's movements (id and `row` columns) linked into its chain as they
/// are written, rather than written and then updated when the transaction commits: for
/// writers that hold every other lock they need already (the chain's head is the last).
pub async fn write_linked(tx: &mut Tx, community_id: i64, movements: Vec<(i64, Vec<Arg>)>) -> AppResult<()> {
    let contents: Vec<Vec<u8>> =
        movements.iter().map(|(id, values)| chain::content(community_id, *id, values)).collect();
    let slices: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
    let links = chain::link_now(tx, &CHAIN, community_id, &slices).await?;
    let rows = movements
        .into_iter()
        .zip(links)
        .map(|((id, values), link)| {
            [vec![Arg::from(community_id), id.into()], values, link.columns().to_vec()].concat()
        })
        .collect();
    let columns: Vec<&str> = MOVEMENT_COLUMNS.split(", ").chain(["seq", "prev_hash", "hash"]).collect();
    insert_many(tx, "ledger_movements", &columns, rows).await?;
    Ok(())
}

/// Each account's net change in one statement per few hundred accounts; the table's own
/// checks (no balance below zero but a source's, none beyond the limit) stand behind the
/// reckoning.
async fn apply_deltas(tx: &mut Tx, deltas: &[(i64, i64, i64)]) -> AppResult<()> {
    // One statement per community, so that Citus sends each to its one shard.
    let mut by_community: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for (c, account, delta) in deltas {
        by_community.entry(*c).or_default().push((*account, *delta));
    }
    for (community_id, changes) in by_community {
        for chunk in changes.chunks(500) {
            let mut b = Builder::new("UPDATE ledger_accounts SET balance = balance + d.column2 FROM (VALUES ");
            for (k, (account, delta)) in chunk.iter().enumerate() {
                if k > 0 {
                    b.push(", ");
                }
                b.list([*account, *delta]);
            }
            b.push(") AS d WHERE ledger_accounts.community_id = ").arg(community_id);
            b.push(" AND ledger_accounts.id = d.column1");
            let changed = b.build().execute(&mut *tx).await?;
            if changed != chunk.len() as u64 {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "{changed} of {} ledger accounts updated",
                    chunk.len()
                )));
            }
        }
    }
    Ok(())
}

impl<B: Book> Batch for Postings<B> {
    type Item = Posting<B>;
    type Out = i64;

    fn write<'a>(&'a self, tx: &'a mut Tx, items: &'a [Posting<B>]) -> BoxFuture<'a, AppResult<Vec<AppResult<i64>>>> {
        Box::pin(async move {
            match items {
                [p] => Ok(vec![self.one(tx, p).await?]),
                _ => self.many(tx, items).await,
            }
        })
    }
}

/// A book's group commit, started on first use.
pub type Grouped<B> = tokio::sync::OnceCell<Committer<Postings<B>>>;

/// Posts through the group commit (many postings share one disk sync); answers the
/// movement's id once it is on disk.
pub async fn post_grouped<B: Book>(db: &Db, grouped: &Grouped<B>, p: Posting<B>) -> AppResult<i64> {
    let committer = grouped.get_or_init(|| async { Committer::start(db.clone(), Postings::default(), 1000) }).await;
    committer.submit(p).await
}

/// An account's balance (0 before its first movement).
pub async fn balance<B: Book>(ex: &mut impl Exec, community_id: i64, a: Acct<B::Kind>) -> AppResult<i64> {
    Ok(query(
        "SELECT balance FROM ledger_accounts WHERE community_id = $1 AND unit = $2 AND kind = $3 AND owner_id = $4",
    )
    .bind(community_id)
    .bind(B::UNIT)
    .bind(a.kind.as_str())
    .bind(a.owner)
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

/// An account's movements, newest first.
pub async fn statement<B: Book>(
    ex: &mut impl Exec,
    community_id: i64,
    a: Acct<B::Kind>,
    limit: i64,
) -> AppResult<Vec<Line>> {
    Ok(query(
        "SELECT m.id, m.at, CASE WHEN m.to_account = a.id THEN m.amount ELSE -m.amount END AS amount, m.cause, m.cause_id,
                m.rule_id, m.reason, m.author_id, m.reverses, o.name AS counterpart
         FROM ledger_accounts a
         JOIN ledger_movements m ON m.community_id = a.community_id AND (m.to_account = a.id OR m.from_account = a.id)
         JOIN ledger_accounts o ON o.community_id = m.community_id AND o.id = CASE WHEN m.to_account = a.id THEN m.from_account ELSE m.to_account END
         WHERE a.community_id = $1 AND a.unit = $2 AND a.kind = $3 AND a.owner_id = $4
         ORDER BY m.at DESC, m.id DESC LIMIT $5",
    )
    .bind(community_id)
    .bind(B::UNIT)
    .bind(a.kind.as_str())
    .bind(a.owner)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// The community's latest movements of a book, with the names of both sides.
pub async fn journal<B: Book>(
    ex: &mut impl Exec,
    community_id: i64,
    limit: i64,
) -> AppResult<Vec<(Movement, String, String)>> {
    let rows: Vec<(i64, String, String)> = query(
        "SELECT m.id, f.name, t.name FROM ledger_movements m
         JOIN ledger_accounts f ON f.community_id = m.community_id AND f.id = m.from_account
         JOIN ledger_accounts t ON t.community_id = m.community_id AND t.id = m.to_account
         WHERE m.community_id = $1 AND m.unit = $2 ORDER BY m.at DESC, m.id DESC LIMIT $3",
    )
    .bind(community_id)
    .bind(B::UNIT)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    let mut b = Builder::new(format!("SELECT {MOVEMENT_COLUMNS} FROM ledger_movements WHERE community_id = "));
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
