//! The supplies book 物资台账 of the ledger: each account is one line of `supply_lines` (a
//! store's stock of one item, what a household received of it, where it came from, or
//! the counts' differences), so that it counts one item in its own unit; a store's level
//! is always the sum of its movements and never below zero. The engine is
//! `services::ledger`.

use futures::future::BoxFuture;

use crate::db::{Tx, query};
use crate::error::AppResult;
use crate::services::ledger::{self, Book, Messages};

/// The book of relief supplies.
#[derive(Debug, Clone, Copy)]
pub struct Supplies;

crate::text_enum! {
    /// Who holds a line of supplies.
    pub enum Holder {
        /// A store's stock (holder: the store).
        Store = "store",
        /// What a household received (holder: the household).
        Household = "household",
        /// Bought (holder 0).
        Purchase = "purchase",
        /// Given (holder: the gift in kind of the money capability it came from, or 0 and
        /// the giver in the movement's reason).
        Donation = "donation",
        /// Sent by the subdistrict (holder 0).
        Subdistrict = "subdistrict",
        /// Counts' differences: found more, or lost, spoilt (holder 0).
        Adjustment = "adjustment",
    }
}

impl Holder {
    /// Supplies come from the sources and the counts, so their balances run below zero.
    pub fn may_go_negative(self) -> bool {
        matches!(self, Holder::Purchase | Holder::Donation | Holder::Subdistrict | Holder::Adjustment)
    }

    /// Where supplies may be received from.
    pub const SOURCES: [Holder; 3] = [Holder::Purchase, Holder::Donation, Holder::Subdistrict];
}

crate::text_enum! {
    /// Why supplies moved.
    pub enum Cause {
        Receive = "receive",
        Transfer = "transfer",
        HandOut = "hand_out",
        Count = "count",
        Reversal = "reversal",
    }
}

impl ledger::AccountKind for Holder {
    const ALL: &'static [Holder] = &Holder::ALL;
    fn as_str(self) -> &'static str {
        Holder::as_str(self)
    }
    fn may_go_negative(self) -> bool {
        Holder::may_go_negative(self)
    }
}

impl ledger::Cause<Holder> for Cause {
    const ALL: &'static [Cause] = &Cause::ALL;
    const REVERSAL: Cause = Cause::Reversal;
    fn as_str(self) -> &'static str {
        Cause::as_str(self)
    }
    fn allows(self, from: Holder, to: Holder) -> bool {
        use Holder::*;
        match self {
            Cause::Receive => Holder::SOURCES.contains(&from) && to == Store,
            Cause::Transfer => from == Store && to == Store,
            Cause::HandOut => from == Store && to == Household,
            Cause::Count => (from == Store && to == Adjustment) || (from == Adjustment && to == Store),
            Cause::Reversal => true,
        }
    }
    /// Hand-outs name the incident they were for; the others their reason.
    fn needs_cause_id(self) -> bool {
        false
    }
    /// What was received, moved or handed out by mistake is reversed; a count is counted
    /// again.
    fn reversible(self) -> bool {
        matches!(self, Cause::Receive | Cause::Transfer | Cause::HandOut)
    }
}

impl Book for Supplies {
    const UNIT: &'static str = "supplies";
    const MAX_AMOUNT: i64 = super::MAX_SUPPLY;
    const MESSAGES: Messages = Messages {
        positive: "emergency.supplies_positive",
        insufficient: "emergency.supplies_short",
        balance_limit: "emergency.supplies_limit",
        key_reused: "emergency.key_used",
        not_reversible: "emergency.supplies_not_reversible",
    };
    type Kind = Holder;
    type Cause = Cause;

    fn account_name<'a>(tx: &'a mut Tx, community_id: i64, a: Acct) -> BoxFuture<'a, AppResult<String>> {
        Box::pin(account_name(tx, community_id, a))
    }
}

pub type Acct = ledger::Acct<Holder>;
pub type Posting = ledger::Posting<Supplies>;

/// An account's name: its holder's and its item's ("社区仓库 · 矿泉水").
async fn account_name(tx: &mut Tx, community_id: i64, a: Acct) -> AppResult<String> {
    let row: Option<(String, i64, String)> = query(
        "SELECT l.holder, l.holder_id, i.name FROM supply_lines l \
         JOIN supply_items i ON i.community_id = l.community_id AND i.id = l.item_id WHERE l.community_id = $1 AND l.id = $2",
    )
    .bind(community_id)
    .bind(a.owner)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((holder, holder_id, item)) = row else { return Ok(String::new()) };
    let who = match Holder::parse(&holder) {
        Some(Holder::Store) => query("SELECT name FROM supply_stores WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(holder_id)
            .scalar_optional::<String>(&mut *tx)
            .await?
            .unwrap_or_default(),
        Some(Holder::Household) => query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(holder_id)
            .scalar_optional::<String>(&mut *tx)
            .await?
            .unwrap_or_default(),
        Some(Holder::Purchase) => "采购".into(),
        Some(Holder::Donation) if holder_id > 0 => {
            match crate::capabilities::money::store::goods::goods(&mut *tx, community_id, holder_id).await? {
                Some(g) => format!("捐赠 {} {}", g.number, g.public_name()),
                None => "捐赠".into(),
            }
        }
        Some(Holder::Donation) => "捐赠".into(),
        Some(Holder::Subdistrict) => "街道调拨".into(),
        Some(Holder::Adjustment) => "盘点差异".into(),
        None => holder,
    };
    Ok(format!("{who} · {item}"))
}
