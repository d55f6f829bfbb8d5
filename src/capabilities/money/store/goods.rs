//! Gifts in kind 实物捐赠 (40 cotton coats): recorded with an estimated value and where
//! they are kept, numbered like gifts of money; handed out batch by batch to a household
//! (named by its address 门牌) or used by a project, with who received them; the stock
//! never goes below zero, whoever hands out at the same time.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;

use super::super::{DonorKind, fen, receipt_number};
use super::require_keeper;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Goods {
    pub id: i64,
    pub number: String,
    #[sqlx(try_from = "String")]
    pub donor_kind: DonorKind,
    pub donor_name: String,
    pub named: bool,
    pub item: String,
    pub unit: String,
    pub quantity: i64,
    pub left_qty: i64,
    pub value_fen: i64,
    pub stored_at: String,
    pub given_on: NaiveDate,
}

impl Goods {
    /// The donor as the public sees them (as for gifts of money).
    pub fn public_name(&self) -> String {
        super::super::public_donor(self.donor_kind, &self.donor_name, self.named)
    }
}

const GOODS: &str = "SELECT id, number, donor_kind, donor_name, named, item, unit, quantity, left_qty, value_fen, stored_at, given_on FROM goods";

/// A gift in kind as staff type it.
#[derive(Debug, Clone, Default)]
pub struct NewGoods {
    pub donor_kind: String,
    pub donor_name: String,
    pub partner_unit_id: Option<i64>,
    pub named: bool,
    pub item: String,
    pub unit: String,
    pub quantity: Option<i64>,
    /// The estimated value of all of it, in yuan as typed.
    pub value: String,
    pub stored_at: String,
    pub given_on: Option<NaiveDate>,
}

fn check(g: &NewGoods, today: NaiveDate) -> Result<(DonorKind, i64, i64, NaiveDate), Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = DonorKind::parse(&g.donor_kind);
    if kind.is_none() {
        errors.push(FieldError::new("donor_kind", "validation.choice"));
    }
    let named_needed = kind.is_some_and(|k| !matches!(k, DonorKind::Anonymous | DonorKind::Unit));
    crate::input::check_text(&mut errors, "donor_name", &g.donor_name, 60, named_needed);
    crate::input::check_text(&mut errors, "item", &g.item, 60, true);
    crate::input::check_text(&mut errors, "unit", &g.unit, 10, true);
    crate::input::check_text(&mut errors, "stored_at", &g.stored_at, 100, true);
    if kind == Some(DonorKind::Unit) && g.partner_unit_id.is_none() {
        errors.push(FieldError::new("partner_unit_id", "validation.required"));
    }
    let quantity = match g.quantity {
        None => {
            errors.push(FieldError::new("quantity", "validation.required"));
            0
        }
        Some(q) => {
            crate::input::check_range(&mut errors, "quantity", q, 1..=1_000_000);
            q
        }
    };
    let value = if g.value.trim().is_empty() || g.value.trim() == "0" {
        0
    } else {
        fen("value", &g.value).map_err(|e| errors.push(e)).unwrap_or(0)
    };
    let day = match g.given_on {
        None => {
            errors.push(FieldError::new("given_on", "validation.required"));
            today
        }
        Some(d) if d > today => {
            errors.push(FieldError::new("given_on", "money.in_the_future"));
            d
        }
        Some(d) => d,
    };
    match kind {
        Some(k) if errors.is_empty() => Ok((k, quantity, value, day)),
        _ => Err(errors),
    }
}

/// Records a gift in kind, numbered in the community's series of receipts.
pub async fn record(state: &AppState, actor: &Actor, c: &CommunityRef, g: NewGoods) -> AppResult<Goods> {
    require_keeper(actor, c.id)?;
    let (kind, quantity, value, day) = check(&g, crate::web::fmt::today()).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let mut name = g.donor_name.trim().to_string();
    let unit = if kind == DonorKind::Unit { g.partner_unit_id } else { None };
    if let Some(u) = unit {
        name = crate::services::ledger::store::unit_name(&mut tx, c.id, u).await?;
        if name.is_empty() {
            return Err(AppError::field("partner_unit_id", "validation.reference"));
        }
    }
    if kind == DonorKind::Anonymous {
        name = "爱心人士".into();
    }
    let id = tx.next_id().await?;
    let n = tx.next_number(c.id, &format!("receipt:{}", day.year()), 0).await?;
    let number = receipt_number(day.year(), n);
    query(
        "INSERT INTO goods (community_id, id, number, donor_kind, partner_unit_id, donor_name, named, item, unit, quantity,
           left_qty, value_fen, stored_at, given_on, recorded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15)",
    )
    .bind(c.id)
    .bind(id)
    .bind(&number)
    .bind(kind.as_str())
    .bind(unit)
    .bind(&name)
    .bind(g.named && kind != DonorKind::Anonymous)
    .bind(g.item.trim())
    .bind(g.unit.trim())
    .bind(quantity)
    .bind(value)
    .bind(g.stored_at.trim())
    .bind(day)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let after = json!({"number": number, "item": g.item.trim(), "quantity": quantity, "value_fen": value});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "goods", id, None, Some(&after)).await?;
    let out = goods(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn goods(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Goods>> {
    Ok(query(format!("{GOODS} WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The community's gifts in kind, newest first.
pub async fn list(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Goods>> {
    Ok(query(format!("{GOODS} WHERE community_id = $1 ORDER BY given_on DESC, id DESC LIMIT 500"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// A hand-out as staff type it: how many, to the household at an address (its 门牌, as
/// the registry has it) or to a project, and who received them.
#[derive(Debug, Clone, Default)]
pub struct Giving {
    pub quantity: Option<i64>,
    pub address: Option<String>,
    pub project_id: Option<i64>,
    pub received_by: String,
}

/// Hands part of a gift in kind out. Refused naming `quantity` beyond what is left,
/// `address` not a household's, `project_id` not the community's.
pub async fn hand_out(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, to: Giving) -> AppResult<Goods> {
    require_keeper(actor, c.id)?;
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "received_by", &to.received_by, 60, true);
    match to.quantity {
        None => errors.push(FieldError::new("quantity", "validation.required")),
        Some(q) => crate::input::check_range(&mut errors, "quantity", q, 1..=1_000_000),
    }
    let address = to.address.as_deref().map(str::trim).filter(|a| !a.is_empty());
    if address.is_none() && to.project_id.is_none() {
        errors.push(FieldError::new("address", "money.to_whom"));
    }
    let (project_id, received_by) = (to.project_id, to.received_by.as_str());
    let Some(quantity) = to.quantity.filter(|_| errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let mut tx = state.db.begin().await?;
    let g = goods(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    let household = match address {
        Some(a) => Some(
            query("SELECT id FROM households WHERE community_id = $1 AND address = $2 AND archived_at IS NULL")
                .bind(c.id)
                .bind(a)
                .scalar_optional::<i64>(&mut tx)
                .await?
                .ok_or_else(|| AppError::field("address", "money.no_such_household"))?,
        ),
        None => None,
    };
    if let Some(p) = project_id {
        super::projects::project(&mut tx, c.id, p)
            .await?
            .ok_or_else(|| AppError::field("project_id", "validation.reference"))?;
    }
    let to = Batch { household, project_id, to_store: None, received_by: received_by.trim() };
    take(&mut tx, actor, (c.id, &g), quantity, to).await?;
    let out = goods(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Where a batch of a gift goes and who received it.
struct Batch<'a> {
    household: Option<i64>,
    project_id: Option<i64>,
    to_store: Option<&'a str>,
    received_by: &'a str,
}

/// Takes a batch out of a gift, under the guard that keeps it from going below zero
/// (refused naming `quantity`, with what is left), and records where it went.
async fn take(
    tx: &mut Tx,
    actor: &Actor,
    (community_id, g): (i64, &Goods),
    quantity: i64,
    to: Batch<'_>,
) -> AppResult<()> {
    let taken =
        query("UPDATE goods SET left_qty = left_qty - $1 WHERE community_id = $2 AND id = $3 AND left_qty >= $1")
            .bind(quantity)
            .bind(community_id)
            .bind(g.id)
            .execute(&mut *tx)
            .await?;
    if taken == 0 {
        return Err(AppError::Invalid(vec![FieldError::new("quantity", "money.over_stock").with("left", g.left_qty)]));
    }
    let out_id = tx.next_id().await?;
    query(
        "INSERT INTO goods_out (community_id, id, goods_id, quantity, household_id, project_id, to_store, received_by,
           handed_by, handed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(community_id)
    .bind(out_id)
    .bind(g.id)
    .bind(quantity)
    .bind(to.household)
    .bind(to.project_id)
    .bind(to.to_store)
    .bind(to.received_by)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let after = json!({"goods_id": g.id, "quantity": quantity, "household_id": to.household,
        "project_id": to.project_id, "to_store": to.to_store});
    audit::record(tx, community_id, &By::from(actor), Action::Create, "goods_out", out_id, None, Some(&after)).await
}

/// Part of a gift in kind goes into a relief store 应急物资 (the emergency capability's
/// receipt from a donation), in the caller's transaction; refused naming `quantity`
/// beyond what is left, `gift` not the community's. Answers the gift as it was.
pub async fn into_store(
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    id: i64,
    quantity: i64,
    store: &str,
) -> AppResult<Goods> {
    require_keeper(actor, community_id)?;
    let g = goods(&mut *tx, community_id, id).await?.ok_or_else(|| AppError::field("gift", "validation.reference"))?;
    let to = Batch { household: None, project_id: None, to_store: Some(store), received_by: store };
    take(tx, actor, (community_id, &g), quantity, to).await?;
    Ok(g)
}

/// The gifts in kind with some left, for a receipt to name.
pub async fn with_some_left(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Goods>> {
    Ok(query(format!("{GOODS} WHERE community_id = $1 AND left_qty > 0 ORDER BY given_on DESC, id DESC LIMIT 200"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// A hand-out: how many, to which household (its address) or project, received by whom, when.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct HandOut {
    pub quantity: i64,
    pub address: Option<String>,
    pub project: Option<String>,
    /// The relief store it went into.
    pub to_store: Option<String>,
    pub received_by: String,
    pub handed_at: i64,
}

pub async fn hand_outs(ex: &mut impl Exec, community_id: i64, goods_id: i64) -> AppResult<Vec<HandOut>> {
    Ok(query(
        "SELECT o.quantity, h.address, p.title AS project, o.to_store, o.received_by, o.handed_at FROM goods_out o
         LEFT JOIN households h ON h.community_id = o.community_id AND h.id = o.household_id
         LEFT JOIN projects p ON p.community_id = o.community_id AND p.id = o.project_id
         WHERE o.community_id = $1 AND o.goods_id = $2 ORDER BY o.handed_at, o.id",
    )
    .bind(community_id)
    .bind(goods_id)
    .fetch_all(ex)
    .await?)
}
