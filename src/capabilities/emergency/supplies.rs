//! Relief supplies 物资 in the database: stores and items, and every change of stock a
//! movement of the supplies book (received, moved between stores, handed out to a
//! household, or a count's difference), with who and why.

use super::book::{Acct, Cause, Holder, Posting, Supplies};
use super::{MAX_SUPPLY, StoreKind, adjustment};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::money::store::goods;
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::ledger::{self, store as books};
use crate::web::AppState;

/// Adds a store in `tx` (a shelter's own, or one staff enter); a name used is refused.
pub async fn add_store_in(
    tx: &mut Tx,
    community_id: i64,
    name: &str,
    kind: StoreKind,
    shelter_id: Option<i64>,
) -> AppResult<i64> {
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "name", name, 40, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = tx.next_id().await?;
    query("INSERT INTO supply_stores (community_id, id, name, kind, shelter_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(community_id)
        .bind(id)
        .bind(name.trim().to_string())
        .bind(kind.as_str())
        .bind(shelter_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| match crate::db::unique_violation_field(&e) {
            Some(_) => AppError::field("name", "emergency.name_used"),
            None => e.into(),
        })?;
    Ok(id)
}

/// Staff add a store.
pub async fn add_store(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    name: &str,
    kind: StoreKind,
) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let mut tx = state.db.begin().await?;
    let id = add_store_in(&mut tx, c.id, name, kind, None).await?;
    tx.commit().await?;
    Ok(id)
}

/// Staff add an item with its unit (箱, 瓶, 件).
pub async fn add_item(state: &AppState, actor: &Actor, c: &CommunityRef, name: &str, unit: &str) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "name", name, 40, true);
    crate::input::check_text(&mut e, "unit", unit, 8, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    query("INSERT INTO supply_items (community_id, id, name, unit, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(c.id)
        .bind(id)
        .bind(name.trim().to_string())
        .bind(unit.trim().to_string())
        .bind(now_ms())
        .execute(&mut tx)
        .await
        .map_err(|e| match crate::db::unique_violation_field(&e) {
            Some(_) => AppError::field("name", "emergency.name_used"),
            None => e.into(),
        })?;
    tx.commit().await?;
    Ok(id)
}

/// A community's stores (id, name, kind) and items (id, name, unit), by name.
pub async fn stores(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String, String)>> {
    Ok(query("SELECT id, name, kind FROM supply_stores WHERE community_id = $1 ORDER BY name, id")
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn items(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<(i64, String, String)>> {
    Ok(query("SELECT id, name, unit FROM supply_items WHERE community_id = $1 ORDER BY name, id")
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// The line of a holder's item (the ledger account's owner), opened on first use.
async fn line(tx: &mut Tx, community_id: i64, holder: Holder, holder_id: i64, item_id: i64) -> AppResult<Acct> {
    let find = || {
        query("SELECT id FROM supply_lines WHERE community_id = $1 AND holder = $2 AND holder_id = $3 AND item_id = $4")
            .bind(community_id)
            .bind(holder.as_str())
            .bind(holder_id)
            .bind(item_id)
    };
    if let Some(id) = find().scalar_optional::<i64>(&mut *tx).await? {
        return Ok(Acct { kind: holder, owner: id });
    }
    let id = tx.next_id().await?;
    query(
        "INSERT INTO supply_lines (community_id, id, holder, holder_id, item_id) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (community_id, holder, holder_id, item_id) DO NOTHING",
    )
    .bind(community_id)
    .bind(id)
    .bind(holder.as_str())
    .bind(holder_id)
    .bind(item_id)
    .execute(&mut *tx)
    .await?;
    let id = find().scalar::<i64>(&mut *tx).await?;
    Ok(Acct { kind: holder, owner: id })
}

/// A change of stock as staff ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Received into a store from a source; from a donation, it may name the gift in kind
    /// (a record of the money capability) it is taken out of.
    Receive { from: Holder, store: i64, gift: Option<i64> },
    /// Moved from one store to another.
    Transfer { from: i64, to: i64 },
    /// Handed out from a store to a household (for an incident).
    HandOut { store: i64, household: i64, incident: Option<i64> },
}

/// One change of stock: an item, how many, why, and its key (a form sent twice moves once).
#[derive(Debug, Clone)]
pub struct Movement {
    pub change: Change,
    pub item: i64,
    pub amount: i64,
    pub reason: String,
    pub key: String,
}

async fn exists(tx: &mut Tx, table: &str, field: &'static str, community_id: i64, id: i64) -> AppResult<()> {
    let n: i64 = query(format!("SELECT COUNT(*) FROM {table} WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .scalar(&mut *tx)
        .await?;
    if n == 1 { Ok(()) } else { Err(AppError::field(field, "validation.reference")) }
}

fn check_movement(m: &Movement) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !(1..=MAX_SUPPLY).contains(&m.amount) {
        e.push(FieldError::new("amount", "validation.range").with("min", 1).with("max", MAX_SUPPLY));
    }
    crate::input::check_text(&mut e, "reason", &m.reason, 100, true);
    crate::input::check_text(&mut e, "key", &m.key, crate::input::limits::KEY_LEN, true);
    match m.change {
        Change::Receive { from, .. } if !Holder::SOURCES.contains(&from) => {
            e.push(FieldError::new("source", "validation.choice"));
        }
        Change::Receive { from, gift: Some(_), .. } if from != Holder::Donation => {
            e.push(FieldError::new("gift", "emergency.gift_is_a_donation"));
        }
        Change::Transfer { from, to } if from == to => e.push(FieldError::new("to_store", "emergency.same_store")),
        _ => {}
    }
    e
}

/// Records a change of stock as a movement of the book; a store never goes below zero
/// (refused naming `amount`), and a key sent again answers the first movement.
pub async fn record(state: &AppState, actor: &Actor, c: &CommunityRef, m: &Movement) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let e = check_movement(m);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    exists(&mut tx, "supply_items", "item", c.id, m.item).await?;
    let (from, to, cause, cause_id) = match m.change {
        Change::Receive { from, store, gift } => {
            exists(&mut tx, "supply_stores", "store", c.id, store).await?;
            if let Some(g) = gift {
                // A form sent again answers its first movement, and takes nothing more.
                if let Some(first) = books::posted::<Supplies>(&mut tx, c.id, &m.key).await? {
                    return Ok(first);
                }
                let name: String = query("SELECT name FROM supply_stores WHERE community_id = $1 AND id = $2")
                    .bind(c.id)
                    .bind(store)
                    .scalar(&mut tx)
                    .await?;
                // Sent twice at once: the second waits here on the gift's row, then finds the
                // first's movement and takes nothing.
                goods::into_store(&mut tx, actor, c.id, g, m.amount, &name).await.map_err(quantity_is_amount)?;
                if let Some(first) = books::posted::<Supplies>(&mut tx, c.id, &m.key).await? {
                    return Ok(first);
                }
            }
            (
                // A gift's supplies come from its own line, so the books say what each gift gave.
                line(&mut tx, c.id, from, gift.unwrap_or(0), m.item).await?,
                line(&mut tx, c.id, Holder::Store, store, m.item).await?,
                Cause::Receive,
                None,
            )
        }
        Change::Transfer { from, to } => {
            exists(&mut tx, "supply_stores", "store", c.id, from).await?;
            exists(&mut tx, "supply_stores", "to_store", c.id, to).await?;
            let a = line(&mut tx, c.id, Holder::Store, from, m.item).await?;
            (a, line(&mut tx, c.id, Holder::Store, to, m.item).await?, Cause::Transfer, None)
        }
        Change::HandOut { store, household, incident } => {
            exists(&mut tx, "supply_stores", "store", c.id, store).await?;
            exists(&mut tx, "households", "household", c.id, household).await?;
            let a = line(&mut tx, c.id, Holder::Store, store, m.item).await?;
            (a, line(&mut tx, c.id, Holder::Household, household, m.item).await?, Cause::HandOut, incident)
        }
    };
    let p = Posting {
        community_id: c.id,
        from,
        to,
        amount: m.amount,
        cause,
        cause_id,
        rule_id: None,
        reason: Some(m.reason.trim().to_string()).filter(|r| !r.is_empty()),
        author_id: Some(actor.user_id),
        key: m.key.clone(),
    };
    let id = books::post::<Supplies>(&mut tx, &p).await.map_err(short_is_amount)?;
    tx.commit().await?;
    Ok(id)
}

/// A gift's "not that many left" is about the amount received.
fn quantity_is_amount(e: AppError) -> AppError {
    match e {
        AppError::Invalid(mut errors) => {
            errors.iter_mut().filter(|f| f.field == "quantity").for_each(|f| f.field = "amount".into());
            AppError::Invalid(errors)
        }
        e => e,
    }
}

/// "Not enough in the store" is about how many were asked.
fn short_is_amount(e: AppError) -> AppError {
    match e {
        AppError::Conflict(k) if k == <Supplies as ledger::Book>::MESSAGES.insufficient => AppError::field("amount", k),
        e => e,
    }
}

/// Staff count a store's item: a difference from the books is recorded as an adjustment
/// with its reason, so that the books say what is there. Answers the difference.
pub async fn count(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    (store, item): (i64, i64),
    counted: i64,
    reason: &str,
    key: &str,
) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageEmergency)?;
    let mut e = Vec::new();
    if counted > MAX_SUPPLY {
        e.push(FieldError::new("counted", "validation.range").with("min", 0).with("max", MAX_SUPPLY));
    }
    crate::input::check_text(&mut e, "reason", reason, 100, false);
    crate::input::check_text(&mut e, "key", key, crate::input::limits::KEY_LEN, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    exists(&mut tx, "supply_items", "item", c.id, item).await?;
    exists(&mut tx, "supply_stores", "store", c.id, store).await?;
    let stock = line(&mut tx, c.id, Holder::Store, store, item).await?;
    let books_say = books::balance::<Supplies>(&mut tx, c.id, stock).await?;
    let Some(diff) = adjustment(books_say, counted, reason).map_err(|e| AppError::Invalid(vec![e]))? else {
        return Ok(0);
    };
    let other = line(&mut tx, c.id, Holder::Adjustment, 0, item).await?;
    let (from, to) = if diff > 0 { (other, stock) } else { (stock, other) };
    let p = Posting {
        community_id: c.id,
        from,
        to,
        amount: diff.abs(),
        cause: Cause::Count,
        cause_id: None,
        rule_id: None,
        reason: Some(reason.trim().to_string()),
        author_id: Some(actor.user_id),
        key: key.to_string(),
    };
    books::post::<Supplies>(&mut tx, &p).await?;
    // Something moved between reading the books and posting: count again.
    if books::balance::<Supplies>(&mut tx, c.id, stock).await? != counted {
        return Err(AppError::Conflict("emergency.count_moved"));
    }
    tx.commit().await?;
    Ok(diff)
}

/// A store's stock of one item.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Stock {
    pub store_id: i64,
    pub store: String,
    pub item_id: i64,
    pub item: String,
    pub unit: String,
    pub level: i64,
}

/// Every store's stock of every item it has had, by store and item.
pub async fn stock(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Stock>> {
    Ok(query(
        // Every table pinned to the community, so that Citus runs it on the one shard.
        "SELECT s.id AS store_id, s.name AS store, i.id AS item_id, i.name AS item, i.unit, a.balance AS level \
         FROM supply_lines l \
         JOIN ledger_accounts a ON a.community_id = $1 AND a.unit = $2 AND a.kind = $3 AND a.owner_id = l.id \
         JOIN supply_stores s ON s.community_id = $1 AND s.id = l.holder_id \
         JOIN supply_items i ON i.community_id = $1 AND i.id = l.item_id \
         WHERE l.community_id = $1 AND l.holder = $3 ORDER BY s.name, i.name",
    )
    .bind(community_id)
    .bind(<Supplies as ledger::Book>::UNIT)
    .bind(Holder::Store.as_str())
    .fetch_all(ex)
    .await?)
}
