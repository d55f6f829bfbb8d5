//! Staff's pages of gifts in kind 实物捐赠: recording one (from the desk), and one gift with
//! its stock and the form that hands part of it out.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::store::goods::{self, Goods};
use super::{Block, BlocksPage, community, keeper, kpi, money};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render, see_other};

/// A gift in kind as a line: what and how many, from whom, how many are left.
pub(super) fn goods_item(ctx: &PageCtx, href: Option<String>, g: &Goods, public: bool) -> Item {
    let donor = if public { g.public_name() } else { g.donor_name.clone() };
    Item {
        title: format!("{} · {} {}{}", donor, g.item, g.quantity, g.unit),
        sub: format!("{} · {} {} {}{}", g.number, g.given_on, ctx.t("money.left"), g.left_qty, g.unit),
        href,
        tag: None,
    }
}

/// Recording a gift in kind, on the desk.
pub(super) fn goods_form(ctx: &PageCtx, code: &str) -> Form {
    let f = Form::new(ctx.t("money.new_goods"), format!("/c/{code}/goods"), ctx.t("money.record"));
    super::staff::donor_inputs(ctx, f)
        .input(Input::new("item", ctx.t("money.item"), InputKind::Text).required().hint(ctx.t("money.item_hint")))
        .input(Input::new("quantity", ctx.t("money.quantity"), InputKind::Number).required())
        .input(Input::new("unit", ctx.t("money.unit"), InputKind::Text).required().value("件"))
        .input(Input::new("value", ctx.t("money.value"), InputKind::Text).hint(ctx.t("money.yuan_hint")))
        .input(Input::new("stored_at", ctx.t("money.stored_at"), InputKind::Text).required())
        .input(Input::new("given_on", ctx.t("money.given_on"), InputKind::Date).required().value(fmt::today()))
}

fn new_goods(m: &Map<String, Value>) -> AppResult<goods::NewGoods> {
    let mut f = Fields::new(m);
    let out = goods::NewGoods {
        donor_kind: f.text("donor_kind"),
        donor_name: f.text("donor_name"),
        partner_unit_id: f.id("partner_unit_id"),
        named: f.yes("named"),
        item: f.text("item"),
        unit: f.text("unit"),
        quantity: f.int("quantity"),
        value: f.text("value"),
        stored_at: f.text("stored_at"),
        given_on: f.date("given_on"),
    };
    f.checked()?;
    Ok(out)
}

/// `POST /c/{code}/goods`: staff record a gift in kind; its page follows.
pub async fn record_goods(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match async { goods::record(&state, &actor, &c, new_goods(&m)?).await }.await {
        Ok(g) => Ok(done(&format!("/c/{code}/goods/{}", g.id), Notice::Created)),
        Err(e) => {
            let action = format!("/c/{code}/goods");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                super::staff::show_desk(&state, ctx, &actor, &c, &r).await
            })
            .await
        }
    }
}

/// One gift in kind: what it is, its stock, its hand-outs, and handing part of it out.
pub fn goods_view(ctx: PageCtx, c: &CommunityRef, g: &Goods, outs: &[goods::HandOut], r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let cells = vec![
        (ctx.t("money.receipt_number"), g.number.clone()),
        (ctx.t("money.donor_name"), g.donor_name.clone()),
        (ctx.t("money.public_as"), g.public_name()),
        (ctx.t("money.value"), money(g.value_fen)),
        (ctx.t("money.stored_at"), g.stored_at.clone()),
        (ctx.t("money.given_on"), g.given_on.to_string()),
    ];
    let title = format!("{} {}{}", g.item, g.quantity, g.unit);
    let given: Vec<Item> = outs
        .iter()
        .map(|o| Item {
            title: format!(
                "{} {}{}",
                o.address
                    .clone()
                    .or_else(|| o.project.clone())
                    .or_else(|| o.to_store.as_ref().map(|s| ctx.tr("money.into_store", "store", s)))
                    .unwrap_or_default(),
                o.quantity,
                g.unit
            ),
            sub: format!("{} {} · {}", ctx.t("money.received_by"), o.received_by, fmt::datetime(o.handed_at)),
            ..Item::default()
        })
        .collect();
    let mut blocks = vec![
        Block::Card(title.clone(), None, cells, None, vec![]),
        Block::Kpis(vec![
            kpi(ctx.t("money.quantity"), format!("{}{}", g.quantity, g.unit)),
            kpi(ctx.t("money.left"), format!("{}{}", g.left_qty, g.unit)),
        ]),
        Block::List(ctx.t("money.hand_outs"), given, ctx.t("money.no_hand_outs")),
    ];
    if g.left_qty > 0 {
        let f =
            Form::new(ctx.t("money.hand_out"), format!("/c/{code}/goods/{}/hand-out", g.id), ctx.t("money.hand_out"))
                .input(Input::new("quantity", ctx.t("money.quantity"), InputKind::Number).required().value(1))
                .input(Input::new("address", ctx.t("money.address"), InputKind::Text).hint(ctx.t("money.address_hint")))
                .input(
                    Input::new("project_id", ctx.t("money.project_id"), InputKind::Number)
                        .hint(ctx.t("money.project_id_hint")),
                )
                .input(Input::new("received_by", ctx.t("money.received_by"), InputKind::Text).required())
                .confirm(ctx.t("money.hand_out_confirm"));
        blocks.push(Block::Form(f.refused(r)));
    }
    let crumbs = vec![(format!("/c/{code}/money"), ctx.t("money.title"))];
    BlocksPage::new(ctx, title, crumbs, blocks, r)
}

async fn show_goods(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    if !keeper(actor, c) {
        return Ok(see_other(&format!("/p/{}/money", c.code)));
    }
    let mut conn = state.db.read().await?;
    let g = goods::goods(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let outs = goods::hand_outs(&mut conn, c.id, id).await?;
    drop(conn);
    render(&goods_view(ctx, c, &g, &outs, r))
}

pub async fn goods_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_goods(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// `POST /c/{code}/goods/{id}/hand-out`.
pub async fn hand_out(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&m);
        let (quantity, project_id) = (f.int("quantity"), f.id("project_id"));
        f.checked()?;
        let to = goods::Giving { quantity, address: f.opt("address"), project_id, received_by: f.text("received_by") };
        goods::hand_out(&state, &actor, &c, id, to).await
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/goods/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/goods/{id}/hand-out");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_goods(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}
