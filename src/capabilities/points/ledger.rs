//! The points book 积分流水 of the ledger: its accounts (people, teams, units, the issuer,
//! the holding account, providers), its causes, and what only points are checked for (the
//! points on hold are those of the redemptions on hold; approved service is paid what its
//! record says). The engine is `services::ledger`.

use futures::future::BoxFuture;

use super::{AccountKind, Cause};
use crate::db::{Builder, Db, Exec, Tx, query};
use crate::error::AppResult;
use crate::input::limits;
use crate::services::ledger::store::{self, Line};
use crate::services::ledger::verify::Report;
use crate::services::ledger::{self, Book, Messages, Movement};
use crate::web::AppState;

/// The book of points.
#[derive(Debug, Clone, Copy)]
pub struct Points;

impl Book for Points {
    const UNIT: &'static str = "points";
    const MAX_AMOUNT: i64 = *limits::POINTS.end();
    const MESSAGES: Messages = Messages {
        positive: "points.positive",
        insufficient: "points.insufficient",
        balance_limit: "points.balance_limit",
        key_reused: "points.key_reused",
        not_reversible: "points.not_reversible",
    };
    type Kind = AccountKind;
    type Cause = Cause;

    fn account_name<'a>(tx: &'a mut Tx, community_id: i64, a: Acct) -> BoxFuture<'a, AppResult<String>> {
        Box::pin(account_name(tx, community_id, a))
    }
}

pub type Acct = ledger::Acct<AccountKind>;
pub type Posting = ledger::Posting<Points>;

impl ledger::Acct<AccountKind> {
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

/// What an account is called on statements.
async fn account_name(ex: &mut impl Exec, community_id: i64, a: Acct) -> AppResult<String> {
    Ok(match a.kind {
        AccountKind::Person => store::person_name(ex, a.owner).await?,
        AccountKind::Team => query("SELECT name FROM teams WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(a.owner)
            .scalar_optional::<String>(ex)
            .await?
            .unwrap_or_default(),
        AccountKind::Unit | AccountKind::Provider if a.owner != 0 => {
            store::unit_name(ex, community_id, a.owner).await?
        }
        AccountKind::Issuing => "社区积分发行".into(),
        AccountKind::Holding => "兑换冻结".into(),
        AccountKind::Unit | AccountKind::Provider => "社区".into(),
    })
}

/// Posts one movement in `tx`, with both balances.
pub async fn post(tx: &mut Tx, p: &Posting) -> AppResult<i64> {
    store::post(tx, p).await
}

/// Posts through the group commit; answers once the movement is on disk.
pub async fn post_grouped(state: &AppState, p: Posting) -> AppResult<i64> {
    store::post_grouped(&state.db, &super::runtime(state).postings, p).await
}

/// Corrects a movement by posting it backwards (hand-given and service points only).
pub async fn reverse(tx: &mut Tx, community_id: i64, id: i64, reason: &str, author_id: Option<i64>) -> AppResult<i64> {
    store::reverse::<Points>(tx, community_id, id, reason, author_id).await
}

pub async fn account_id(tx: &mut Tx, community_id: i64, a: Acct) -> AppResult<i64> {
    store::account_id::<Points>(tx, community_id, a).await
}

pub async fn movement(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Movement>> {
    Ok(store::movement(ex, community_id, id).await?.filter(|m| m.unit == Points::UNIT))
}

/// A person's balance (0 before their first points).
pub async fn balance(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<i64> {
    store::balance::<Points>(ex, community_id, Acct::person(user_id)).await
}

/// A person's movements, newest first.
pub async fn statement(ex: &mut impl Exec, community_id: i64, user_id: i64, limit: i64) -> AppResult<Vec<Line>> {
    store::statement::<Points>(ex, community_id, Acct::person(user_id), limit).await
}

/// The community's latest movements (staff).
pub async fn journal(ex: &mut impl Exec, community_id: i64, limit: i64) -> AppResult<Vec<(Movement, String, String)>> {
    store::journal::<Points>(ex, community_id, limit).await
}

/// The community's teams and partner units with the balances of their accounts:
/// (team or unit, id, name, balance).
pub async fn group_balances(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(String, i64, String, i64)>> {
    Ok(query(
        "SELECT 'team', t.id, t.name, COALESCE(a.balance, 0) FROM teams t
         LEFT JOIN ledger_accounts a ON a.community_id = t.community_id AND a.unit = 'points' AND a.kind = 'team' AND a.owner_id = t.id
         WHERE t.community_id = $1 AND t.archived_at IS NULL
         UNION ALL
         SELECT 'unit', u.id, u.name, COALESCE(a.balance, 0) FROM partner_units u
         LEFT JOIN ledger_accounts a ON a.community_id = u.community_id AND a.unit = 'points' AND a.kind = 'unit' AND a.owner_id = u.id
         WHERE u.community_id = $1 AND u.archived_at IS NULL ORDER BY 1, 3",
    )
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

/// Checks the points book: the engine's rules, and that the points held are those of the
/// redemptions on hold and approved service was paid what its record says (a later
/// correction is its own reversing movement).
pub async fn verify(db: &Db, community_id: Option<i64>) -> AppResult<Report> {
    let mut report = ledger::verify::verify::<Points>(db, community_id).await?;
    let mut conn = match community_id {
        Some(_) => db.read().await?,
        None => db.span(crate::db::citus::Span::Maintenance).await?,
    };
    let scope = |b: &mut Builder, column: &str| {
        if let Some(c) = community_id {
            b.push(&format!(" AND {column} = ")).arg(c);
        }
    };
    // Summed per community, then joined: each part stays in its community's shard.
    let mut b = Builder::new(
        "SELECT a.community_id, a.balance, COALESCE(r.points, 0) FROM ledger_accounts a
         LEFT JOIN (SELECT community_id, CAST(SUM(points) AS BIGINT) AS points FROM redemptions WHERE status = 'held'",
    );
    scope(&mut b, "community_id");
    b.push(
        " GROUP BY community_id) r ON r.community_id = a.community_id WHERE a.unit = 'points' AND a.kind = 'holding'",
    );
    scope(&mut b, "a.community_id");
    for (c, held, expected) in b.build().fetch_all::<(i64, i64, i64)>(&mut conn).await? {
        if held != expected {
            report
                .problems
                .push(format!("community {c}: {held} points held, but redemptions on hold come to {expected}"));
        }
    }
    let mut b = Builder::new(
        "SELECT s.community_id, s.id, s.points, COALESCE(m.amount, 0) FROM service_records s
         LEFT JOIN (SELECT community_id, cause_id, CAST(SUM(amount) AS BIGINT) AS amount FROM ledger_movements
                    WHERE unit = 'points' AND cause = 'service'",
    );
    scope(&mut b, "community_id");
    b.push(
        " GROUP BY community_id, cause_id) m ON m.community_id = s.community_id AND m.cause_id = s.id
         WHERE s.status = 'approved'",
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
