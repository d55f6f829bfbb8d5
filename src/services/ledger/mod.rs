//! The ledger: double-entry, append-only and exact, for any unit a capability counts in
//! (points today, money in fen next). Each capability keeps a `Book`: its unit, its kinds
//! of account and the causes that may move its units between them. The engine does the
//! rest the same way for every book: both balances change in the transaction that records
//! the movement, so balances sum to zero and each is the sum of its movements; a balance
//! that may not go below zero is debited with a guarded update; every movement carries an
//! idempotency key; a correction is a reversing movement, at most once; and every movement
//! is chained per community (`db::chain`), so that changing one after the fact shows.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod store;
pub mod verify;

use std::fmt::Debug;
use std::hash::Hash;

use futures::future::BoxFuture;

use crate::db::Tx;
use crate::db::chain::{Chained, Col};
use crate::error::AppResult;

/// The kinds of account of a book (a person, a team, the issuer, …).
pub trait AccountKind: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    /// Only a source (the points issuer; a donor of money) may go below zero.
    fn may_go_negative(self) -> bool;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// Why units moved, and between which kinds of account they may.
pub trait Cause<K: AccountKind>: Copy + Eq + Debug + Send + Sync + 'static {
    const ALL: &'static [Self];
    /// The cause of a correction, which runs another movement backwards.
    const REVERSAL: Self;
    fn as_str(self) -> &'static str;
    fn allows(self, from: K, to: K) -> bool;
    /// Causes that must name the record behind them (the others name a reason).
    fn needs_cause_id(self) -> bool;
    /// Whether a movement of this cause may be corrected by a reversal (the others are
    /// undone by their own steps).
    fn reversible(self) -> bool;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// What goes wrong, as the book's own text keys (so points say "积分余额不足").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Messages {
    pub positive: &'static str,
    pub insufficient: &'static str,
    pub balance_limit: &'static str,
    pub key_reused: &'static str,
    pub not_reversible: &'static str,
}

/// One capability's accounts and movements in one unit.
pub trait Book: Send + Sync + 'static {
    /// What the amounts count, as stored (`points`, `fen`).
    const UNIT: &'static str;
    /// The largest single movement.
    const MAX_AMOUNT: i64;
    const MESSAGES: Messages;
    type Kind: AccountKind;
    type Cause: Cause<Self::Kind>;
    /// An account's name on statements.
    fn account_name<'a>(tx: &'a mut Tx, community_id: i64, acct: Acct<Self::Kind>) -> BoxFuture<'a, AppResult<String>>;
}

/// An account named by what it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Acct<K> {
    pub kind: K,
    /// The user, team or unit; 0 for the community's own accounts.
    pub owner: i64,
}

/// One movement to post.
#[derive(Debug, Clone)]
pub struct Posting<B: Book> {
    pub community_id: i64,
    pub from: Acct<B::Kind>,
    pub to: Acct<B::Kind>,
    pub amount: i64,
    pub cause: B::Cause,
    pub cause_id: Option<i64>,
    /// The rule (or other basis) the capability names for it.
    pub rule_id: Option<i64>,
    pub reason: Option<String>,
    pub author_id: Option<i64>,
    /// The same key posts once: a retry answers the first movement.
    pub key: String,
}

/// A movement as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Movement {
    pub community_id: i64,
    pub id: i64,
    pub unit: String,
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

pub const MOVEMENT_COLUMNS: &str = "community_id, id, unit, at, from_account, to_account, amount, cause, cause_id, rule_id, reason, author_id, idempotency_key, reverses";

/// The movements' chain: what each movement's hash covers.
pub static CHAIN: Chained = Chained {
    table: "ledger_movements",
    chain: "ledger",
    columns: &[
        ("unit", Col::Text),
        ("at", Col::Int),
        ("from_account", Col::Int),
        ("to_account", Col::Int),
        ("amount", Col::Int),
        ("cause", Col::Text),
        ("cause_id", Col::Int),
        ("rule_id", Col::Int),
        ("reason", Col::Text),
        ("author_id", Col::Int),
        ("idempotency_key", Col::Text),
        ("reverses", Col::Int),
    ],
};

/// What the ledger check found of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    pub community_id: i64,
    pub id: i64,
    pub kind: String,
    pub stored: i64,
    pub credits: i64,
    pub debits: i64,
}

/// The breaks of the ledger's rules in one account: a stored balance that is not the sum
/// of its movements, a balance below zero where none may be, an unknown kind.
pub fn account_problems<K: AccountKind>(a: &AccountFacts) -> Vec<String> {
    let mut out = Vec::new();
    let sum = a.credits - a.debits;
    if sum != a.stored {
        out.push(format!("account {} ({}): stored balance {} but its movements sum to {sum}", a.id, a.kind, a.stored));
    }
    match K::parse(&a.kind) {
        None => out.push(format!("account {}: unknown kind {}", a.id, a.kind)),
        Some(k) if !k.may_go_negative() && sum < 0 => {
            out.push(format!("account {} ({}): balance {sum} is below zero", a.id, a.kind));
        }
        _ => {}
    }
    out
}
