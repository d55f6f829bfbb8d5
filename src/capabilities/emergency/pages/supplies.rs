//! The page of relief supplies: each store's stock, what staff do to it (receive, move
//! between stores, count; add an item or a store) and the journal of movements; and the
//! hand-out to a household, sent from its welfare check.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::StoreKind;
use super::super::book::{Holder, Supplies};
use super::super::supplies::{self, Change, Movement, Stock};
use super::{community, show_check};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::money::store::goods;
use crate::error::{AppError, AppResult};
use crate::services::ledger::store as books;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Refusal, Table};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// What the page shows: stores, items, stock and the latest movements.
pub struct SuppliesData {
    pub stores: Vec<(i64, String, String)>,
    pub items: Vec<(i64, String, String)>,
    pub stock: Vec<Stock>,
    /// (when, from, to, how many, why, cause)
    pub journal: Vec<(i64, String, String, i64, String, String)>,
    /// The gifts in kind with some left that a receipt may name (for those who keep the
    /// money's records), as (id, what).
    pub gifts: Vec<(i64, String)>,
}

fn choices(rows: &[(i64, String, String)]) -> Vec<(String, String)> {
    rows.iter().map(|(id, name, _)| (id.to_string(), name.clone())).collect()
}

fn item_choices(rows: &[(i64, String, String)]) -> Vec<(String, String)> {
    rows.iter().map(|(id, name, unit)| (id.to_string(), format!("{name}（{unit}）"))).collect()
}

/// A new key for each form shown: sent twice, it moves once.
fn key() -> Input {
    Input::hidden("key", format!("supplies-{}-{}", crate::db::now_ms(), rand::random::<u32>()))
}

fn movement_forms(ctx: &PageCtx, code: &str, d: &SuppliesData, r: &Refusal) -> Vec<Form> {
    let (stores, items) = (choices(&d.stores), item_choices(&d.items));
    let sources: Vec<(String, String)> = Holder::SOURCES
        .iter()
        .map(|h| (h.as_str().to_string(), ctx.t(&format!("emergency.source.{}", h.as_str()))))
        .collect();
    let base = format!("/c/{code}/supplies");
    let amount = || Input::new("amount", ctx.t("emergency.amount"), InputKind::Number).required();
    let reason = || Input::new("reason", ctx.t("emergency.reason"), InputKind::Text).required();
    let receive = Form::new(ctx.t("emergency.receive"), format!("{base}/receive"), ctx.t("emergency.receive"))
        .input(Input::new("item", ctx.t("emergency.item"), InputKind::Select(items.clone())).required())
        .input(Input::new("store", ctx.t("emergency.into_store"), InputKind::Select(stores.clone())).required())
        .input(Input::new("source", ctx.t("emergency.from_source"), InputKind::Select(sources)).required())
        .input(amount())
        .input(reason().hint(ctx.t("emergency.receive_hint")));
    let receive = if d.gifts.is_empty() {
        receive
    } else {
        let mut gifts = vec![(String::new(), ctx.t("emergency.no_gift"))];
        gifts.extend(d.gifts.iter().map(|(id, what)| (id.to_string(), what.clone())));
        let gift = Input::new("gift", ctx.t("emergency.gift"), InputKind::Select(gifts));
        receive.input(gift.hint(ctx.t("emergency.gift_hint")))
    };
    let transfer = Form::new(ctx.t("emergency.transfer"), format!("{base}/transfer"), ctx.t("emergency.transfer"))
        .input(Input::new("item", ctx.t("emergency.item"), InputKind::Select(items.clone())).required())
        .input(Input::new("store", ctx.t("emergency.from_store"), InputKind::Select(stores.clone())).required())
        .input(Input::new("to_store", ctx.t("emergency.into_store"), InputKind::Select(stores.clone())).required())
        .input(amount())
        .input(reason());
    let count = Form::new(ctx.t("emergency.count"), format!("{base}/count"), ctx.t("emergency.count"))
        .input(Input::new("store", ctx.t("emergency.store"), InputKind::Select(stores)).required())
        .input(Input::new("item", ctx.t("emergency.item"), InputKind::Select(items)).required())
        .input(Input::new("counted", ctx.t("emergency.counted"), InputKind::Number).required())
        .input(Input::new("reason", ctx.t("emergency.reason"), InputKind::Text).hint(ctx.t("emergency.count_hint")))
        .confirm(ctx.t("emergency.count_confirm"));
    let kinds: Vec<(String, String)> = StoreKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), ctx.t(&format!("emergency.store_kind.{}", k.as_str()))))
        .collect();
    let store = Form::new(ctx.t("emergency.add_store"), format!("{base}/stores"), ctx.t("common.save"))
        .input(Input::new("name", ctx.t("emergency.store_name"), InputKind::Text).required())
        .input(Input::new("kind", ctx.t("emergency.store_kind"), InputKind::Select(kinds)));
    let item = Form::new(ctx.t("emergency.add_item"), format!("{base}/items"), ctx.t("common.save"))
        .input(Input::new("name", ctx.t("emergency.item_name"), InputKind::Text).required())
        .input(Input::new("unit", ctx.t("emergency.unit"), InputKind::Text).required().hint("箱"));
    [receive, transfer, count]
        .into_iter()
        .map(|f| f.folded().refused(r).input(key()))
        .chain([store, item].into_iter().map(|f| f.folded().refused(r)))
        .collect()
}

pub fn supplies_view(ctx: PageCtx, c: &CommunityRef, d: &SuppliesData, r: &Refusal) -> BlocksPage {
    let stock = Table {
        head: vec![ctx.t("emergency.store"), ctx.t("emergency.item"), ctx.t("emergency.level")],
        rows: d
            .stock
            .iter()
            .map(|s| {
                vec![
                    Cell::text(s.store.clone()),
                    Cell::text(s.item.clone()),
                    Cell::text(format!("{} {}", s.level, s.unit)),
                ]
            })
            .collect(),
        empty: ctx.t("emergency.no_stock"),
        sort: Vec::new(),
    };
    let journal = Table {
        head: [
            "emergency.at",
            "emergency.from",
            "emergency.to",
            "emergency.amount",
            "emergency.reason",
            "emergency.by",
        ]
        .iter()
        .map(|k| ctx.t(k))
        .collect(),
        rows: d
            .journal
            .iter()
            .map(|(at, from, to, n, why, by)| {
                [fmt::datetime(*at), from.clone(), to.clone(), n.to_string(), why.clone(), by.clone()]
                    .into_iter()
                    .map(Cell::text)
                    .collect()
            })
            .collect(),
        empty: ctx.t("emergency.no_movements"),
        sort: Vec::new(),
    };
    let mut blocks = vec![Block::Table(ctx.t("emergency.stock"), stock)];
    blocks.extend(movement_forms(&ctx, &c.code, d, r).into_iter().map(Block::Form));
    blocks.push(Block::Table(ctx.t("emergency.journal"), journal));
    let crumbs = vec![(format!("/c/{}/incidents", c.code), ctx.t("emergency.title"))];
    BlocksPage::new(ctx.clone(), ctx.t("emergency.supplies"), crumbs, blocks, r)
}

/// The page's data (the journal's latest 50 movements, with who made them).
pub async fn read(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<SuppliesData> {
    let mut conn = state.db.read().await?;
    let stores = supplies::stores(&mut conn, c.id).await?;
    let items = supplies::items(&mut conn, c.id).await?;
    let stock = supplies::stock(&mut conn, c.id).await?;
    let mut journal = Vec::new();
    for (m, from, to) in books::journal::<Supplies>(&mut conn, c.id, 50).await? {
        let by = match m.author_id {
            Some(u) => books::person_name(&mut conn, u).await?,
            None => String::new(),
        };
        journal.push((m.at, from, to, m.amount, m.reason.unwrap_or_default(), by));
    }
    let mut gifts = Vec::new();
    if actor.can(c.id, Permission::ManageMoney) {
        for g in goods::with_some_left(&mut conn, c.id).await? {
            gifts.push((g.id, format!("{} {} {} 余{}{}", g.number, g.public_name(), g.item, g.left_qty, g.unit)));
        }
    }
    Ok(SuppliesData { stores, items, stock, journal, gifts })
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    require(actor, c.id, Permission::ManageEmergency)?;
    let d = read(state, actor, c).await?;
    render(&supplies_view(ctx, c, &d, r))
}

/// `GET /c/{code}/supplies`: staff.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, &Refusal::none()).await
}

fn movement_of(what: &str, m: &Map<String, Value>) -> AppResult<Movement> {
    let mut f = Fields::new(m);
    let (item, store, amount) = (f.id("item"), f.id("store"), f.int("amount"));
    let to = f.id("to_store");
    let (household, incident, gift) = (f.id("household"), f.id("incident"), f.id("gift"));
    f.checked()?;
    let need = |v: Option<i64>, name: &str| v.ok_or_else(|| AppError::field(name, "validation.required"));
    let change = match what {
        "receive" => {
            let from =
                Holder::parse(&f.text("source")).ok_or_else(|| AppError::field("source", "validation.choice"))?;
            Change::Receive { from, store: need(store, "store")?, gift }
        }
        "transfer" => Change::Transfer { from: need(store, "store")?, to: need(to, "to_store")? },
        "hand-out" => {
            Change::HandOut { store: need(store, "store")?, household: need(household, "household")?, incident }
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(Movement {
        change,
        item: need(item, "item")?,
        amount: need(amount, "amount")?,
        reason: f.text("reason"),
        key: f.text("key"),
    })
}

/// What a form on the page asks: a movement, a count, a store or an item.
async fn apply(state: &AppState, actor: &Actor, c: &CommunityRef, what: &str, m: &Map<String, Value>) -> AppResult<()> {
    match what {
        "count" => {
            let mut f = Fields::new(m);
            let (store, item, counted) = (f.id("store"), f.id("item"), f.int("counted"));
            f.checked()?;
            let need = |v: Option<i64>, name: &str| v.ok_or_else(|| AppError::field(name, "validation.required"));
            let at = (need(store, "store")?, need(item, "item")?);
            supplies::count(state, actor, c, at, need(counted, "counted")?, &f.text("reason"), &f.text("key")).await?;
        }
        "stores" => {
            let kind = StoreKind::parse(&crate::web::form::text(m, "kind")).unwrap_or(StoreKind::Warehouse);
            supplies::add_store(state, actor, c, &crate::web::form::text(m, "name"), kind).await?;
        }
        "items" => {
            let (name, unit) = (crate::web::form::text(m, "name"), crate::web::form::text(m, "unit"));
            supplies::add_item(state, actor, c, &name, &unit).await?;
        }
        _ => {
            supplies::record(state, actor, c, &movement_of(what, m)?).await?;
        }
    }
    Ok(())
}

/// `POST /c/{code}/supplies/{what}`: `receive`, `transfer`, `count`, `hand-out`, `stores`,
/// `items`. A hand-out sent from a household's check goes back to it.
pub async fn post(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, what)): Path<(String, String)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let check = crate::web::form::text(&m, "check").parse::<i64>().ok().filter(|_| what == "hand-out");
    let result = apply(&state, &actor, &c, &what, &m).await;
    let action = format!("/c/{code}/supplies/{what}");
    match (result, check) {
        (Ok(()), Some(w)) => Ok(done(&format!("/c/{code}/welfare-checks/{w}"), Notice::Saved)),
        (Ok(()), None) => Ok(done(&format!("/c/{code}/supplies"), Notice::Saved)),
        (Err(e), Some(w)) => {
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_check(&state, ctx, &actor, &c, w, &r).await })
                .await
        }
        (Err(e), None) => {
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show(&state, ctx, &actor, &c, &r).await }).await
        }
    }
}

/// The hand-out from a household's check (staff): an item from a store, for the incident.
pub fn hand_out_form(
    ctx: &PageCtx,
    code: &str,
    check: &super::super::store::Check,
    (stores, items): (&[(i64, String, String)], &[(i64, String, String)]),
    r: &Refusal,
) -> Form {
    Form::new(ctx.t("emergency.hand_out"), format!("/c/{code}/supplies/hand-out"), ctx.t("emergency.hand_out"))
        .input(Input::new("item", ctx.t("emergency.item"), InputKind::Select(item_choices(items))).required())
        .input(Input::new("store", ctx.t("emergency.from_store"), InputKind::Select(choices(stores))).required())
        .input(Input::new("amount", ctx.t("emergency.amount"), InputKind::Number).required().value(1))
        .input(
            Input::new("reason", ctx.t("emergency.reason"), InputKind::Text)
                .required()
                .value(ctx.t("emergency.hand_out_reason")),
        )
        .confirm(ctx.t("emergency.hand_out_confirm"))
        .folded()
        .refused(r)
        .input(Input::hidden("household", check.household_id))
        .input(Input::hidden("incident", check.incident_id))
        .input(Input::hidden("check", check.id))
        .input(key())
}
