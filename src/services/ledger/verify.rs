//! The check of a book (`linli ledger verify`): each stored balance is the sum of its
//! movements and none is below zero where none may be; each community's balances sum to
//! zero; every movement is positive, between two accounts its cause allows, names its
//! cause or its reason and author; a reversal mirrors the movement it reverses.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{AccountFacts, AccountKind, Book, Cause, account_problems};
use crate::db::citus::Span;
use crate::db::{Builder, Db};
use crate::error::AppResult;

/// What the check found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub communities: usize,
    pub accounts: usize,
    pub movements: i64,
    /// What the sources put in (points issued; money given).
    pub issued: i64,
    pub problems: Vec<String>,
}

impl Report {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

fn scope(b: &mut Builder, column: &str, community_id: Option<i64>) {
    if let Some(c) = community_id {
        b.push(&format!(" AND {column} = ")).arg(c);
    }
}

/// Checks one book, in one community or all.
pub async fn verify<B: Book>(db: &Db, community_id: Option<i64>) -> AppResult<Report> {
    let mut conn = match community_id {
        Some(_) => db.read().await?,
        None => db.span(Span::Maintenance).await?,
    };
    let mut report = Report::default();
    let mut b = Builder::new("SELECT community_id, id, kind, balance FROM ledger_accounts WHERE unit = ");
    b.arg(B::UNIT);
    scope(&mut b, "community_id", community_id);
    let accounts: Vec<(i64, i64, String, i64)> = b.build().fetch_all(&mut conn).await?;
    report.accounts = accounts.len();
    let kinds: HashMap<(i64, i64), B::Kind> =
        accounts.iter().filter_map(|(c, id, k, _)| B::Kind::parse(k).map(|k| ((*c, *id), k))).collect();
    // Sums per account and cause, each side, read from the covering indexes in their
    // order. Every unit is summed and the others' groups skipped: SQLite sorts the whole
    // index again when the unit, which sits inside the index's key, is filtered on.
    let mut sums: HashMap<(i64, i64), (i64, i64)> = HashMap::new();
    for (side, column) in [(0usize, "to_account"), (1, "from_account")] {
        let mut b = Builder::new(format!(
            "SELECT community_id, {column}, unit, cause, CAST(SUM(amount) AS BIGINT), COUNT(*), MIN(amount) FROM ledger_movements WHERE 1 = 1"
        ));
        scope(&mut b, "community_id", community_id);
        b.push(&format!(" GROUP BY community_id, {column}, unit, cause"));
        let rows: Vec<(i64, i64, String, String, i64, i64, i64)> = b.build().fetch_all(&mut conn).await?;
        for (c, account, _, cause, sum, n, min) in rows.into_iter().filter(|r| r.2 == B::UNIT) {
            let entry = sums.entry((c, account)).or_default();
            if side == 0 {
                entry.0 += sum;
                report.movements += n;
            } else {
                entry.1 += sum;
            }
            if min <= 0 {
                report.problems.push(format!("account {account}: a movement of {min} (must be above zero)"));
            }
            let Some(cause) = B::Cause::parse(&cause) else {
                report.problems.push(format!("account {account}: movements with an unknown cause {cause}"));
                continue;
            };
            let Some(kind) = kinds.get(&(c, account)).copied() else {
                report.problems.push(format!("community {c}: movements touch account {account}, which does not exist"));
                continue;
            };
            let fits = B::Kind::ALL
                .iter()
                .any(|other| if side == 0 { cause.allows(*other, kind) } else { cause.allows(kind, *other) });
            if !fits {
                report.problems.push(format!(
                    "account {account} ({}): {} movements {} it, which that cause never does",
                    kind.as_str(),
                    cause.as_str(),
                    if side == 0 { "into" } else { "out of" }
                ));
            }
            if side == 1 && kind.may_go_negative() && cause != B::Cause::REVERSAL {
                report.issued += sum;
            }
        }
    }
    let mut per_community: BTreeMap<i64, i64> = BTreeMap::new();
    for (c, id, kind, stored) in &accounts {
        let (credits, debits) = sums.get(&(*c, *id)).copied().unwrap_or_default();
        let facts = AccountFacts { community_id: *c, id: *id, kind: kind.clone(), stored: *stored, credits, debits };
        report.problems.extend(account_problems::<B::Kind>(&facts));
        *per_community.entry(*c).or_default() += stored;
    }
    report.communities = per_community.len();
    for (c, total) in &per_community {
        if *total != 0 {
            report.problems.push(format!("community {c}: {} balances sum to {total}, not zero", B::UNIT));
        }
    }
    // Reversals mirror what they reverse.
    let mut b = Builder::new(
        "SELECT r.id FROM ledger_movements r LEFT JOIN ledger_movements o ON o.community_id = r.community_id AND o.id = r.reverses
         WHERE r.reverses IS NOT NULL AND (o.id IS NULL OR o.amount <> r.amount OR o.from_account <> r.to_account OR o.to_account <> r.from_account OR r.cause <> ",
    );
    b.arg(B::Cause::REVERSAL.as_str()).push(") AND r.unit = ").arg(B::UNIT);
    scope(&mut b, "r.community_id", community_id);
    for id in b.build().scalars::<i64>(&mut conn).await? {
        report.problems.push(format!("movement {id}: a reversal that does not mirror the movement it cites"));
    }
    // Movements that do not say why.
    let (with_id, with_reason): (Vec<B::Cause>, Vec<B::Cause>) = B::Cause::ALL.iter().partition(|c| c.needs_cause_id());
    // Each half reads its own index: (cause, cause_id), and the partial index of
    // movements without a reason or an author, which holds none when all is well.
    let mut b = Builder::new("SELECT cause, COUNT(*) FROM ledger_movements WHERE cause IN ");
    b.list(with_id.iter().map(|c| c.as_str())).push(" AND cause_id IS NULL AND unit = ").arg(B::UNIT);
    scope(&mut b, "community_id", community_id);
    b.push(" GROUP BY cause");
    let mut unexplained = b.build().fetch_all::<(String, i64)>(&mut conn).await?;
    let mut b = Builder::new(
        "SELECT cause, COUNT(*) FROM ledger_movements WHERE (reason IS NULL OR reason = '' OR author_id IS NULL) AND cause IN ",
    );
    b.list(with_reason.iter().map(|c| c.as_str())).push(" AND unit = ").arg(B::UNIT);
    scope(&mut b, "community_id", community_id);
    b.push(" GROUP BY cause");
    unexplained.extend(b.build().fetch_all::<(String, i64)>(&mut conn).await?);
    for (cause, n) in unexplained {
        report.problems.push(format!("{n} {cause} movements do not name their cause, reason or author"));
    }
    Ok(report)
}
