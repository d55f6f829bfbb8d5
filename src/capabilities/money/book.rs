//! The money book 资金流水 of the ledger, in fen: givers (people, units, the anonymous),
//! sources of income (services sold, allocations), funds and payees; and what only money
//! is checked for (each donation and each paid expense is its movement, each project's
//! spending from a fund is its expenses). The engine is `services::ledger`.

use futures::future::BoxFuture;

use crate::db::{Builder, Db, Exec, Tx, query};
use crate::error::AppResult;
use crate::services::ledger::verify::Report;
use crate::services::ledger::{self, Book, Messages};

/// The book of money.
#[derive(Debug, Clone, Copy)]
pub struct Money;

crate::text_enum! {
    /// The kinds of account money moves between.
    pub enum AccountKind {
        /// A person who gave (owner: their account).
        Donor = "donor",
        /// A partner unit that gave (owner: the unit).
        Unit = "unit",
        /// Those who gave without a name (owner 0).
        Anonymous = "anonymous",
        /// Income that is no gift: services sold, a government allocation (owner 0).
        Outside = "outside",
        /// A fund (owner: the fund).
        Fund = "fund",
        /// Those paid by expenses (owner 0; each expense names its payee).
        Payee = "payee",
    }
}

impl AccountKind {
    /// Money comes from the sources, so their balances run below zero.
    pub fn may_go_negative(self) -> bool {
        matches!(self, AccountKind::Donor | AccountKind::Unit | AccountKind::Anonymous | AccountKind::Outside)
    }
}

crate::text_enum! {
    /// Why money moved: a gift, income, an expense paid, or a correction.
    pub enum Cause {
        Donation = "donation",
        Income = "income",
        Expense = "expense",
        Reversal = "reversal",
    }
}

impl ledger::AccountKind for AccountKind {
    const ALL: &'static [AccountKind] = &AccountKind::ALL;
    fn as_str(self) -> &'static str {
        AccountKind::as_str(self)
    }
    fn may_go_negative(self) -> bool {
        AccountKind::may_go_negative(self)
    }
}

impl ledger::Cause<AccountKind> for Cause {
    const ALL: &'static [Cause] = &Cause::ALL;
    const REVERSAL: Cause = Cause::Reversal;
    fn as_str(self) -> &'static str {
        Cause::as_str(self)
    }
    fn allows(self, from: AccountKind, to: AccountKind) -> bool {
        use AccountKind::*;
        match self {
            Cause::Donation => matches!(from, Donor | Unit | Anonymous) && to == Fund,
            Cause::Income => from == Outside && to == Fund,
            Cause::Expense => from == Fund && to == Payee,
            Cause::Reversal => true,
        }
    }
    /// Every movement of money names the record behind it (its donation, income or expense).
    fn needs_cause_id(self) -> bool {
        true
    }
    /// A donation recorded by mistake is reversed; an expense paid is not (it is money gone).
    fn reversible(self) -> bool {
        matches!(self, Cause::Donation | Cause::Income)
    }
}

impl Book for Money {
    const UNIT: &'static str = "fen";
    const MAX_AMOUNT: i64 = super::MAX_FEN;
    const MESSAGES: Messages = Messages {
        positive: "money.positive",
        insufficient: "money.insufficient",
        balance_limit: "money.balance_limit",
        key_reused: "money.key_reused",
        not_reversible: "money.not_reversible",
    };
    type Kind = AccountKind;
    type Cause = Cause;

    fn account_name<'a>(tx: &'a mut Tx, community_id: i64, a: Acct) -> BoxFuture<'a, AppResult<String>> {
        Box::pin(account_name(tx, community_id, a))
    }
}

pub type Acct = ledger::Acct<AccountKind>;
pub type Posting = ledger::Posting<Money>;

pub fn fund(id: i64) -> Acct {
    Acct { kind: AccountKind::Fund, owner: id }
}

pub const PAYEES: Acct = Acct { kind: AccountKind::Payee, owner: 0 };

async fn account_name(ex: &mut impl Exec, community_id: i64, a: Acct) -> AppResult<String> {
    Ok(match a.kind {
        AccountKind::Donor => crate::services::ledger::store::person_name(ex, a.owner).await?,
        AccountKind::Unit => crate::services::ledger::store::unit_name(ex, community_id, a.owner).await?,
        AccountKind::Fund => query("SELECT name FROM funds WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(a.owner)
            .scalar_optional::<String>(ex)
            .await?
            .unwrap_or_default(),
        AccountKind::Anonymous => "爱心人士".into(),
        AccountKind::Outside => "服务收益与拨款".into(),
        AccountKind::Payee => "支出".into(),
    })
}

/// A fund's balance in fen.
pub async fn balance(ex: &mut impl Exec, community_id: i64, fund_id: i64) -> AppResult<i64> {
    crate::services::ledger::store::balance::<Money>(ex, community_id, fund(fund_id)).await
}

/// Checks the money book: the engine's rules; each donation and each paid expense is the
/// movement it names, of its amount, into or out of its fund; each reversed donation is
/// its reversing movement; and each project's spending from a fund is the sum of its paid
/// expenses.
pub async fn verify(db: &Db, community_id: Option<i64>) -> AppResult<Report> {
    let mut report = ledger::verify::verify::<Money>(db, community_id).await?;
    let mut conn = match community_id {
        Some(_) => db.read().await?,
        None => db.span(crate::db::citus::Span::Maintenance).await?,
    };
    let scope = |b: &mut Builder, column: &str| {
        if let Some(c) = community_id {
            b.push(&format!(" AND {column} = ")).arg(c);
        }
    };
    for (table, side, cause) in [
        ("donations", "to_account", "donation"),
        ("incomes", "to_account", "income"),
        ("expenses", "from_account", "expense"),
    ] {
        let mut b = Builder::new(format!(
            "SELECT r.community_id, r.id, r.amount_fen, m.amount, a.kind, a.owner_id, r.fund_id FROM {table} r
             LEFT JOIN ledger_movements m ON m.community_id = r.community_id AND m.id = r.movement_id AND m.unit = 'fen'
               AND m.cause = '{cause}' AND m.cause_id = r.id
             LEFT JOIN ledger_accounts a ON a.community_id = m.community_id AND a.id = m.{side}
             WHERE r.movement_id IS NOT NULL"
        ));
        scope(&mut b, "r.community_id");
        let rows: Vec<(i64, i64, i64, Option<i64>, Option<String>, Option<i64>, i64)> =
            b.build().fetch_all(&mut conn).await?;
        for (c, id, amount, moved, kind, owner, fund_id) in rows {
            if moved != Some(amount) || kind.as_deref() != Some("fund") || owner != Some(fund_id) {
                report.problems.push(format!(
                    "community {c}: {cause} {id} says {amount} fen of fund {fund_id}, its movement {}",
                    moved.map_or("is missing".to_string(), |m| format!("moved {m} fen"))
                ));
            }
        }
    }
    // A reversed gift is its reversing movement: of its amount, citing its movement.
    let mut b = Builder::new(
        "SELECT r.community_id, r.id, r.amount_fen, m.amount FROM donations r
         LEFT JOIN ledger_movements m ON m.community_id = r.community_id AND m.id = r.reversal_movement_id
           AND m.unit = 'fen' AND m.cause = 'reversal' AND m.reverses = r.movement_id
         WHERE r.reversed_at IS NOT NULL",
    );
    scope(&mut b, "r.community_id");
    for (c, id, amount, moved) in b.build().fetch_all::<(i64, i64, i64, Option<i64>)>(&mut conn).await? {
        if moved != Some(amount) {
            report.problems.push(format!(
                "community {c}: donation {id} of {amount} fen was reversed, its reversing movement {}",
                moved.map_or("is missing".to_string(), |m| format!("moved {m} fen"))
            ));
        }
    }
    // And each movement reversing a gift's is that gift's reversal.
    let mut b = Builder::new(
        "SELECT m.community_id, m.id, d.id FROM ledger_movements m
         JOIN donations d ON d.community_id = m.community_id AND d.movement_id = m.reverses
         WHERE m.unit = 'fen' AND m.cause = 'reversal'
           AND (d.reversed_at IS NULL OR d.reversal_movement_id IS NULL OR d.reversal_movement_id <> m.id)",
    );
    scope(&mut b, "m.community_id");
    for (c, movement, id) in b.build().fetch_all::<(i64, i64, i64)>(&mut conn).await? {
        report.problems.push(format!(
            "community {c}: movement {movement} reverses donation {id}, which does not say it was reversed by it"
        ));
    }
    let mut b = Builder::new(
        "SELECT f.community_id, f.project_id, f.fund_id, f.spent_fen, COALESCE(e.spent, 0) FROM project_funding f
         LEFT JOIN (SELECT community_id, project_id, fund_id, CAST(SUM(amount_fen) AS BIGINT) AS spent FROM expenses
                    WHERE status = 'paid'",
    );
    scope(&mut b, "community_id");
    b.push(
        " GROUP BY community_id, project_id, fund_id) e ON e.community_id = f.community_id
           AND e.project_id = f.project_id AND e.fund_id = f.fund_id WHERE 1 = 1",
    );
    scope(&mut b, "f.community_id");
    for (c, project, fund_id, spent, paid) in b.build().fetch_all::<(i64, i64, i64, i64, i64)>(&mut conn).await? {
        if spent != paid {
            report.problems.push(format!(
                "community {c}: project {project} has spent {spent} fen of fund {fund_id}, its paid expenses {paid}"
            ));
        }
    }
    Ok(report)
}
