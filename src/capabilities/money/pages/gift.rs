//! One gift of money as its receipt shows it: the page (for those who keep its fund), its
//! receipt in PDF (for them and the donor), and its reversal when it was recorded by
//! mistake (staff, with a reason; the gift keeps its line, tagged).

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::store::{donations, funds};
use super::{Block, BlocksPage, community, keeper, money};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::AppError;
use crate::web::form::CsrfForm;
use crate::web::ui::{self, Form, Input, InputKind, Refusal};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// The gift's page: what its receipt says, and for staff the form that reverses it.
pub fn gift_view(ctx: PageCtx, c: &CommunityRef, d: &donations::Donation, reverses: bool, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let mut cells = vec![
        (ctx.t("money.receipt_number"), d.number.clone()),
        (ctx.t("money.donor_name"), d.donor_name.clone()),
        (ctx.t("money.donor_kind"), ctx.t(&format!("money.donor_kind.{}", d.donor_kind.as_str()))),
        (ctx.t("money.amount"), money(d.amount_fen)),
        (ctx.t("money.fund"), d.fund.clone()),
        (ctx.t("money.given_on"), d.given_on.to_string()),
        (ctx.t("money.channel"), ctx.t(&format!("money.channel.{}", d.channel.as_str()))),
        (ctx.t("money.public_as"), d.public_name()),
    ];
    let mut links = vec![(format!("/c/{code}/funds/{}", d.fund_id), d.fund.clone())];
    match (d.reversed_at, &d.reversal_reason) {
        (Some(at), reason) => cells.push((
            ctx.t("money.reversed_tag"),
            format!("{} · {}", fmt::datetime(at), reason.clone().unwrap_or_default()),
        )),
        (None, _) => links.insert(0, (format!("/c/{code}/donations/{}/receipt.pdf", d.id), ctx.t("money.receipt_pdf"))),
    }
    // A gift that paid a pledge says why it has no reversal here.
    let note = match (&d.note, d.pledge_id) {
        (Some(n), Some(_)) => Some(format!("{n} {}", ctx.t("money.pledge_gift"))),
        (None, Some(_)) => Some(ctx.t("money.pledge_gift")),
        (n, None) => n.clone(),
    };
    let mut blocks = vec![Block::Card(format!("{} {}", ctx.t("money.receipt"), d.number), None, cells, note, links)];
    if reverses && d.reversed_at.is_none() && d.pledge_id.is_none() {
        let f =
            Form::new(ctx.t("money.reverse"), format!("/c/{code}/donations/{}/reverse", d.id), ctx.t("money.reverse"))
                .input(
                    Input::new("reason", ctx.t("money.reverse_reason"), InputKind::TextArea)
                        .required()
                        .hint(ctx.t("money.reverse_hint")),
                )
                .danger(ctx.t("money.reverse_confirm"));
        blocks.push(Block::Form(f.folded().refused(r)));
    }
    let crumbs = vec![
        (format!("/c/{code}/money"), ctx.t("money.title")),
        (format!("/c/{code}/funds/{}", d.fund_id), d.fund.clone()),
    ];
    BlocksPage::new(ctx, d.number.clone(), crumbs, blocks, r)
}

async fn show_gift(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let d = donations::donation(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    funds::require_keeps(&mut conn, actor, c.id, d.fund_id).await?;
    drop(conn);
    render(&gift_view(ctx, c, &d, keeper(actor, c), r))
}

/// `GET /c/{code}/donations/{id}`: a gift as its receipt shows it.
pub async fn donation_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_gift(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// `POST /c/{code}/donations/{id}/reverse`: staff reverse a gift recorded by mistake.
pub async fn reverse(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let reason = m.get("reason").and_then(Value::as_str).unwrap_or_default().to_string();
    match donations::reverse(&state, &actor, &c, id, &reason).await {
        Ok(_) => Ok(done(&format!("/c/{code}/donations/{id}"), Notice::Saved)),
        Err(e) => refused(&state, ctx, actor, c, id, &m, e).await,
    }
}

async fn refused(
    state: &AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    id: i64,
    m: &Map<String, Value>,
    e: AppError,
) -> PageResult {
    let action = format!("/c/{}/donations/{id}/reverse", c.code);
    ui::refused(e, ctx, m, &action, |ctx, r| async move { show_gift(state, ctx, &actor, &c, id, &r).await }).await
}

/// `GET /c/{code}/donations/{id}/receipt.pdf`: the receipt, for those who keep the fund and
/// for the donor; none for a gift reversed.
pub async fn receipt_pdf(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let d = donations::donation(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    if d.donor_user_id != Some(actor.user_id) && !funds::keeps(&mut conn, &actor, c.id, d.fund_id).await? {
        return Err(AppError::NotFound.into());
    }
    if d.reversed_at.is_some() {
        return Err(AppError::Conflict("money.reversed").into());
    }
    let f = funds::fund(&mut conn, c.id, d.fund_id).await?.ok_or(AppError::NotFound)?;
    let subdistrict: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(c.subdistrict_id)
        .scalar(&mut conn)
        .await?;
    drop(conn);
    let r = super::super::receipt::Receipt {
        community: c.name.clone(),
        subdistrict,
        number: d.number.clone(),
        donor: d.donor_name.clone(),
        amount_fen: d.amount_fen,
        fund: f.name.clone(),
        purpose: f.purpose.clone(),
        given_on: d.given_on.to_string(),
        channel: ctx.t(&format!("money.channel.{}", d.channel.as_str())),
        issued_on: fmt::today().to_string(),
        url: format!("{}/p/{code}/money/funds/{}", state.config.public_base(), f.id),
    };
    let bytes = super::super::receipt::pdf(&r)?;
    Ok(crate::services::pdf::answer("inline", &format!("捐赠收据-{}.pdf", d.number), bytes))
}
