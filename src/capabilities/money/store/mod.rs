//! Money and projects in the database: funds (`funds`), gifts and income (`donations`),
//! projects with their funding and milestones (`projects`), expenses and their approvals
//! (`expenses`), and disclosure with its objections (`disclosure`). Every amount moves in
//! the ledger's `fen` book in the same transaction as its record.

pub mod disclosure;
pub mod donations;
pub mod expenses;
pub mod funds;
pub mod goods;
pub mod projects;
pub mod stats;

use chrono::NaiveDate;
use serde::Serialize;

use super::{FundKind, FundStatus};
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::error::AppResult;

pub use funds::Fund;

/// Staff who keep the money (and may see what the public does not: who asked, the
/// approvals under way).
pub fn require_keeper(actor: &Actor, community_id: i64) -> AppResult<()> {
    guard::require(actor, community_id, Permission::ManageMoney)
}

/// A fund's money as the ledger has it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Money in (gifts and income, less those reversed).
    pub received: i64,
    /// Money out (expenses paid).
    pub paid: i64,
    pub balance: i64,
}

/// A fund as listed, with its money.
#[derive(Debug, Clone, Serialize)]
pub struct FundLine {
    pub id: i64,
    pub kind: FundKind,
    pub name: String,
    pub status: FundStatus,
    pub target_fen: Option<i64>,
    pub ends_on: Option<NaiveDate>,
    pub totals: Totals,
}
