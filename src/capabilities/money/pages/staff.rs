//! Staff's money desk 资金台账: the funds with their money and the form that makes one,
//! the projects, the expenses waiting for a decision, and disclosure with its objections;
//! a fund with its gifts, income, projects and expenses; one gift as its receipt shows it.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::store::{self, FundLine, disclosure, donations, expenses, funds, projects};
use super::super::{Category, Channel, DonorKind, FundKind, FundStatus};
use super::{Block, BlocksPage, choices, community, expense_tag, fund_kind, keeper, kpi, money, project_tag, reached};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render, see_other};

/// What the desk shows.
pub struct Desk {
    pub funds: Vec<FundLine>,
    pub projects: Vec<projects::Project>,
    pub pending: Vec<expenses::Expense>,
    pub disclosures: Vec<disclosure::Disclosure>,
    pub objections: Vec<disclosure::Objection>,
    pub goods: Vec<store::goods::Goods>,
}

fn fund_item(ctx: &PageCtx, code: &str, f: &FundLine) -> Item {
    let mut sub = vec![fund_kind(ctx, f.kind), format!("{} {}", ctx.t("money.balance"), money(f.totals.balance))];
    if let Some(p) = reached(f.totals.received, f.target_fen) {
        sub.push(format!("{} {p}%", ctx.t("money.of_target")));
    }
    let tag = match f.status {
        FundStatus::Open => Tag::new(ctx.t("money.fund.open"), Tone::Green),
        FundStatus::Closed => Tag::new(ctx.t("money.fund.closed"), Tone::Grey),
    };
    Item {
        title: f.name.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/c/{code}/funds/{}", f.id)),
        tag: Some(tag),
    }
}

pub(super) fn project_item(ctx: &PageCtx, href: String, p: &projects::Project) -> Item {
    let sub = [
        p.place.clone(),
        format!("{} {}", ctx.t("money.budget"), money(p.budget_fen)),
        format!("{} {}", ctx.t("money.spent"), money(p.spent_fen)),
    ];
    Item { title: p.title.clone(), sub: sub.join(" · "), href: Some(href), tag: Some(project_tag(ctx, p.status)) }
}

pub(super) fn expense_item(ctx: &PageCtx, href: String, e: &expenses::Expense) -> Item {
    let sub = [e.project.clone(), e.fund.clone(), e.payee.clone(), fmt::datetime(e.created_at)];
    Item {
        title: format!("{} · {}", money(e.amount_fen), e.purpose),
        sub: sub.join(" · "),
        href: Some(href),
        tag: Some(expense_tag(ctx, e.status)),
    }
}

fn fund_form(ctx: &PageCtx, code: &str) -> Form {
    let kinds: Vec<&str> = FundKind::ALL.iter().map(|k| k.as_str()).collect();
    let cats: Vec<&str> = Category::ALL.iter().map(|k| k.as_str()).collect();
    Form::new(ctx.t("money.new_fund"), format!("/c/{code}/funds"), ctx.t("money.create"))
        .input(Input::new("name", ctx.t("money.fund_name"), InputKind::Text).required())
        .input(
            Input::new("kind", ctx.t("money.fund_kind"), InputKind::Select(choices(ctx, "money.fund_kind", &kinds)))
                .required(),
        )
        .input(Input::new("purpose", ctx.t("money.purpose"), InputKind::TextArea).required())
        .input(
            Input::new(
                "restriction",
                ctx.t("money.restriction"),
                InputKind::Many(choices(ctx, "money.category", &cats)),
            )
            .hint(ctx.t("money.restriction_hint")),
        )
        .input(Input::new("target", ctx.t("money.target"), InputKind::Text).hint(ctx.t("money.yuan_hint")))
        .input(Input::new("starts_on", ctx.t("money.starts_on"), InputKind::Date))
        .input(Input::new("ends_on", ctx.t("money.ends_on"), InputKind::Date))
        .input(Input::new("managers", ctx.t("money.managers"), InputKind::TextArea).hint(ctx.t("money.managers_hint")))
}

pub(super) fn project_form(ctx: &PageCtx, code: &str) -> Form {
    Form::new(ctx.t("money.new_project"), format!("/c/{code}/projects"), ctx.t("money.create"))
        .input(Input::new("title", ctx.t("money.project_title"), InputKind::Text).required())
        .input(Input::new("place", ctx.t("money.place"), InputKind::Text).required())
        .input(Input::new("budget", ctx.t("money.budget"), InputKind::Text).required().hint(ctx.t("money.yuan_hint")))
        .input(Input::new("description", ctx.t("money.description"), InputKind::TextArea))
        .input(
            Input::new("proposal_id", ctx.t("money.proposal_id"), InputKind::Number).hint(ctx.t("money.proposal_hint")),
        )
        .input(Input::new("need_id", ctx.t("money.need_id"), InputKind::Number).hint(ctx.t("money.need_hint")))
}

fn disclosure_form(ctx: &PageCtx, code: &str) -> Form {
    Form::new(ctx.t("money.publish"), format!("/c/{code}/disclosures"), ctx.t("money.publish_submit"))
        .input(Input::new("period_from", ctx.t("money.period_from"), InputKind::Date).required())
        .input(Input::new("period_to", ctx.t("money.period_to"), InputKind::Date).required())
        .input(Input::new("days", ctx.t("money.objection_days"), InputKind::Number).required().value(7))
        .confirm(ctx.t("money.publish_confirm"))
}

/// The disclosures, each with its objections and their answers (and, for staff, the
/// forms that answer those still open).
pub(super) fn disclosure_blocks(
    ctx: &PageCtx,
    code: &str,
    list: &[disclosure::Disclosure],
    objections: &[disclosure::Objection],
    answer: bool,
    r: &Refusal,
) -> Vec<Block> {
    let items = list
        .iter()
        .map(|d| Item {
            title: format!("{} – {}", d.period_from, d.period_to),
            sub: format!(
                "{} {} · {} {}",
                ctx.t("money.objections_until"),
                d.objections_until,
                ctx.t("money.chain_head"),
                d.chain_head.as_deref().map(|h| &h[..16.min(h.len())]).unwrap_or("-")
            ),
            href: None,
            tag: None,
        })
        .collect();
    let mut out = vec![Block::List(ctx.t("money.disclosures"), items, ctx.t("money.no_disclosures"))];
    let said = objections
        .iter()
        .map(|o| Item {
            title: format!("{} · {}", crate::services::pii::mask_name(&o.name), o.body),
            sub: match &o.answer {
                Some(a) => format!("{}：{a}", ctx.t("money.answer")),
                None => ctx.t("money.unanswered"),
            },
            href: None,
            tag: Some(match o.answer {
                Some(_) => Tag::new(ctx.t("money.answered"), Tone::Green),
                None => Tag::new(ctx.t("money.unanswered"), Tone::Orange),
            }),
        })
        .collect();
    out.push(Block::List(ctx.t("money.objections"), said, ctx.t("money.no_objections")));
    if answer {
        for o in objections.iter().filter(|o| o.answer.is_none()) {
            let f = Form::new(
                format!("{} · {}", ctx.t("money.answer"), o.body),
                format!("/c/{code}/objections/{}/answer", o.id),
                ctx.t("money.answer_submit"),
            )
            .input(Input::new("answer", ctx.t("money.answer"), InputKind::TextArea).required())
            .refused(r);
            out.push(Block::Form(f));
        }
    }
    out
}

/// The desk: money at a glance, funds, projects, expenses waiting, disclosure.
pub fn desk_view(ctx: PageCtx, c: &CommunityRef, d: &Desk, keeps: bool, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let (mut received, mut paid, mut balance) = (0, 0, 0);
    for f in &d.funds {
        (received, paid, balance) = (received + f.totals.received, paid + f.totals.paid, balance + f.totals.balance);
    }
    let mut blocks = vec![
        Block::Card(
            ctx.t("money.title"),
            None,
            vec![],
            Some(ctx.t("money.desk_hint")),
            vec![
                (format!("/p/{code}/money"), ctx.t("money.public_page")),
                (format!("/c/{code}/money/stats"), ctx.t("money.stats")),
            ],
        ),
        Block::Kpis(vec![
            kpi(ctx.t("money.received"), money(received)),
            kpi(ctx.t("money.paid"), money(paid)),
            kpi(ctx.t("money.balance"), money(balance)),
            kpi(ctx.t("money.projects"), d.projects.len().to_string()),
        ]),
        Block::List(
            ctx.t("money.funds"),
            d.funds.iter().map(|f| fund_item(&ctx, code, f)).collect(),
            ctx.t("money.no_funds"),
        ),
    ];
    if keeps {
        blocks.push(Block::Form(fund_form(&ctx, code).folded().refused(r)));
    }
    let goods = d
        .goods
        .iter()
        .map(|g| super::goods::goods_item(&ctx, Some(format!("/c/{code}/goods/{}", g.id)), g, !keeps))
        .collect();
    blocks.push(Block::List(ctx.t("money.goods"), goods, ctx.t("money.no_goods")));
    if keeps {
        blocks.push(Block::Form(super::goods::goods_form(&ctx, code).folded().refused(r)));
    }
    let projects = d.projects.iter().map(|p| project_item(&ctx, format!("/c/{code}/projects/{}", p.id), p)).collect();
    blocks.push(Block::List(ctx.t("money.projects"), projects, ctx.t("money.no_projects")));
    if keeps {
        blocks.push(Block::Form(project_form(&ctx, code).folded().refused(r)));
    }
    let pending = d.pending.iter().map(|e| expense_item(&ctx, format!("/c/{code}/expenses/{}", e.id), e)).collect();
    blocks.push(Block::List(ctx.t("money.pending"), pending, ctx.t("money.none_pending")));
    blocks.extend(disclosure_blocks(&ctx, code, &d.disclosures, &d.objections, keeps, r));
    if keeps {
        blocks.push(Block::Form(disclosure_form(&ctx, code).folded().refused(r)));
    }
    let title = format!("{} · {}", c.name, ctx.t("money.title"));
    BlocksPage::new(ctx, title, vec![], blocks, r)
}

pub(super) async fn show_desk(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let d = Desk {
        funds: funds::list(&mut conn, c.id).await?,
        projects: projects::list(&mut conn, c.id).await?,
        pending: expenses::pending(&mut conn, c.id).await?,
        disclosures: disclosure::list(&mut conn, c.id).await?,
        objections: disclosure::objections(&mut conn, c.id).await?,
        goods: store::goods::list(&mut conn, c.id).await?,
    };
    render(&desk_view(ctx, c, &d, keeper(actor, c), r))
}

/// Who may open the desk: those who keep the money, and the subdistrict that approves.
fn may_open(actor: &Actor, c: &CommunityRef) -> bool {
    keeper(actor, c) || actor.manages_subdistrict(c.subdistrict_id)
}

/// `GET /c/{code}/money`: the desk; others are sent to the public page.
pub async fn desk(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    if !may_open(&actor, &c) {
        return Ok(see_other(&format!("/p/{code}/money")));
    }
    show_desk(&state, ctx, &actor, &c, &Refusal::none()).await
}

fn new_fund(m: &Map<String, Value>) -> AppResult<funds::NewFund> {
    let mut f = Fields::new(m);
    let out = funds::NewFund {
        kind: f.text("kind"),
        name: f.text("name"),
        purpose: f.text("purpose"),
        restriction: f.list("restriction"),
        target: f.opt("target"),
        starts_on: f.date("starts_on"),
        ends_on: f.date("ends_on"),
        managers: f.text("managers"),
    };
    f.checked()?;
    Ok(out)
}

/// Refuses a form of the desk by showing the desk again with it.
async fn desk_refused(
    state: &AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    m: &Map<String, Value>,
    action: &str,
    e: AppError,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { show_desk(state, ctx, &actor, &c, &r).await }).await
}

/// `POST /c/{code}/funds`: staff make a fund.
pub async fn create_fund(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match async { funds::create(&state, &actor, &c, new_fund(&m)?).await }.await {
        Ok(f) => Ok(done(&format!("/c/{code}/funds/{}", f.id), Notice::Created)),
        Err(e) => desk_refused(&state, ctx, actor, c, &m, &format!("/c/{code}/funds"), e).await,
    }
}

/// `POST /c/{code}/disclosures`: staff publish a period's accounts.
pub async fn publish_disclosure(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&m);
        let (from, to, days) = (f.date("period_from"), f.date("period_to"), f.int("days"));
        f.checked()?;
        disclosure::publish(&state, &actor, &c, from, to, days).await
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/money"), Notice::Published)),
        Err(e) => desk_refused(&state, ctx, actor, c, &m, &format!("/c/{code}/disclosures"), e).await,
    }
}

// ---------- a fund ----------

/// What a fund's page shows.
pub struct FundData {
    pub fund: store::Fund,
    pub totals: store::Totals,
    pub managers: Vec<(i64, String)>,
    pub gifts: Vec<donations::Donation>,
    pub incomes: Vec<donations::Income>,
    pub projects: Vec<(i64, String, i64, i64)>,
    pub expenses: Vec<expenses::Expense>,
}

pub(super) fn fund_cells(ctx: &PageCtx, f: &store::Fund) -> Vec<(String, String)> {
    let restriction = match &f.restriction {
        Some(r) => r.split(',').map(|c| ctx.t(&format!("money.category.{c}"))).collect::<Vec<_>>().join("、"),
        None => ctx.t("money.unrestricted"),
    };
    let period = match (f.starts_on, f.ends_on) {
        (None, None) => ctx.t("money.no_period"),
        (a, b) => format!(
            "{} – {}",
            a.map(|d| d.to_string()).unwrap_or_default(),
            b.map(|d| d.to_string()).unwrap_or_default()
        ),
    };
    vec![
        (ctx.t("money.fund_kind"), fund_kind(ctx, f.kind)),
        (ctx.t("money.purpose"), f.purpose.clone()),
        (ctx.t("money.restriction"), restriction),
        (ctx.t("money.target"), f.target_fen.map(money).unwrap_or_else(|| "-".into())),
        (ctx.t("money.period"), period),
    ]
}

pub(super) fn fund_kpis(ctx: &PageCtx, t: &store::Totals) -> Block {
    Block::Kpis(vec![
        kpi(ctx.t("money.received"), money(t.received)),
        kpi(ctx.t("money.paid"), money(t.paid)),
        kpi(ctx.t("money.balance"), money(t.balance)),
    ])
}

/// A gift on a fund's page: its donor by name for those who keep the fund, else as the
/// public sees them (the subdistrict overseeing).
fn gift_item(ctx: &PageCtx, code: &str, d: &donations::Donation, names: bool) -> Item {
    let donor = if names { d.donor_name.clone() } else { d.public_name() };
    Item {
        title: format!("{donor} · {}", money(d.amount_fen)),
        sub: format!("{} · {} · {}", d.number, d.given_on, ctx.t(&format!("money.channel.{}", d.channel.as_str()))),
        href: Some(format!("/c/{code}/donations/{}", d.id)),
        tag: super::reversed_tag(ctx, d),
    }
}

/// Who gave, on the forms that record a gift (of money or in kind).
pub(super) fn donor_inputs(ctx: &PageCtx, f: Form) -> Form {
    let kinds: Vec<&str> = DonorKind::ALL.iter().map(|k| k.as_str()).collect();
    f.input(
        Input::new(
            "donor_kind",
            ctx.t("money.donor_kind"),
            InputKind::Select(choices(ctx, "money.donor_kind", &kinds)),
        )
        .required()
        .value("person"),
    )
    .input(Input::new("donor_name", ctx.t("money.donor_name"), InputKind::Text))
    .input(
        Input::new("partner_unit_id", ctx.t("money.partner_unit_id"), InputKind::Number)
            .hint(ctx.t("money.partner_unit_hint")),
    )
    .input(Input::new("named", ctx.t("money.named"), InputKind::Checkbox).hint(ctx.t("money.named_hint")))
}

fn donation_form(ctx: &PageCtx, code: &str, fund_id: i64) -> Form {
    let channels: Vec<&str> = Channel::ALL.iter().map(|k| k.as_str()).collect();
    let f =
        Form::new(ctx.t("money.new_donation"), format!("/c/{code}/funds/{fund_id}/donations"), ctx.t("money.record"));
    donor_inputs(ctx, f.input(Input::hidden("key", crate::services::codes::url_secret())))
        .input(Input::new("amount", ctx.t("money.amount"), InputKind::Text).required().hint(ctx.t("money.yuan_hint")))
        .input(Input::new("given_on", ctx.t("money.given_on"), InputKind::Date).required().value(fmt::today()))
        .input(
            Input::new("channel", ctx.t("money.channel"), InputKind::Select(choices(ctx, "money.channel", &channels)))
                .required()
                .value("transfer"),
        )
        .input(Input::new("pledge_id", ctx.t("money.pledge_id"), InputKind::Number).hint(ctx.t("money.pledge_hint")))
        .input(Input::new("note", ctx.t("money.note"), InputKind::TextArea))
        .confirm(ctx.t("money.donation_confirm"))
}

fn income_form(ctx: &PageCtx, code: &str, fund_id: i64) -> Form {
    Form::new(ctx.t("money.new_income"), format!("/c/{code}/funds/{fund_id}/income"), ctx.t("money.record"))
        .input(Input::new("source", ctx.t("money.source"), InputKind::Text).required().hint(ctx.t("money.source_hint")))
        .input(Input::new("month", ctx.t("money.month"), InputKind::Text).required().hint("2026-03"))
        .input(Input::new("amount", ctx.t("money.amount"), InputKind::Text).required().hint(ctx.t("money.yuan_hint")))
        .input(Input::new("note", ctx.t("money.note"), InputKind::TextArea))
        .confirm(ctx.t("money.donation_confirm"))
}

/// A fund: what it is, its money, its gifts or income, the projects it pays for and
/// what it paid; for staff the forms that record money in and close it.
/// A fund for those who may open it; `(records, closes)`: whether they record its gifts
/// or income (staff and its managers) and may close it (staff).
pub fn fund_view(ctx: PageCtx, c: &CommunityRef, d: &FundData, may: (bool, bool), r: &Refusal) -> BlocksPage {
    let (keeps, closes) = may;
    let code = &c.code;
    let f = &d.fund;
    let mut cells = fund_cells(&ctx, f);
    if !d.managers.is_empty() {
        cells.push((ctx.t("money.managers"), d.managers.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join("、")));
    }
    let links = vec![(format!("/p/{code}/money/funds/{}", f.id), ctx.t("money.public_page"))];
    let mut blocks = vec![Block::Card(f.name.clone(), None, cells, None, links), fund_kpis(&ctx, &d.totals)];
    if let Some(p) = reached(d.totals.received, f.target_fen) {
        blocks.push(Block::Progress(ctx.t("money.of_target"), p, money(f.target_fen.unwrap_or(0))));
    }
    let open = f.status == FundStatus::Open;
    if f.kind.takes_gifts() {
        if keeps && open {
            blocks.push(Block::Form(donation_form(&ctx, code, f.id).folded().refused(r)));
        }
        let gifts = d.gifts.iter().map(|g| gift_item(&ctx, code, g, keeps)).collect();
        blocks.push(Block::List(ctx.t("money.donations"), gifts, ctx.t("money.no_donations")));
    } else {
        if keeps && open {
            blocks.push(Block::Form(income_form(&ctx, code, f.id).folded().refused(r)));
        }
        let income = d
            .incomes
            .iter()
            .map(|i| Item {
                title: format!("{} · {}", i.source, money(i.amount_fen)),
                sub: i.month.clone(),
                ..Item::default()
            })
            .collect();
        blocks.push(Block::List(ctx.t("money.incomes"), income, ctx.t("money.no_incomes")));
    }
    let projects = d
        .projects
        .iter()
        .map(|(id, title, amount, spent)| Item {
            title: title.clone(),
            sub: format!("{} {} · {} {}", ctx.t("money.share"), money(*amount), ctx.t("money.spent"), money(*spent)),
            href: Some(format!("/c/{code}/projects/{id}")),
            tag: None,
        })
        .collect();
    blocks.push(Block::List(ctx.t("money.projects_funded"), projects, ctx.t("money.no_projects")));
    let paid = d
        .expenses
        .iter()
        .map(|e| super::staff::expense_item(&ctx, format!("/c/{code}/expenses/{}", e.id), e))
        .collect();
    blocks.push(Block::List(ctx.t("money.expenses_paid"), paid, ctx.t("money.no_expenses")));
    if closes {
        let f =
            Form::new(ctx.t("money.set_managers"), format!("/c/{code}/funds/{}/managers", f.id), ctx.t("common.save"))
                .input(
                    Input::new("managers", ctx.t("money.managers"), InputKind::TextArea)
                        .hint(ctx.t("money.set_managers_hint")),
                );
        blocks.push(Block::Form(f.folded().refused(r)));
    }
    if closes && open {
        blocks.push(Block::Form(
            Form::new(ctx.t("money.close_fund"), format!("/c/{code}/funds/{}/close", f.id), ctx.t("money.close_fund"))
                .danger(ctx.t("money.close_confirm"))
                .folded(),
        ));
    }
    let crumbs = vec![(format!("/c/{code}/money"), ctx.t("money.title"))];
    BlocksPage::new(ctx, f.name.clone(), crumbs, blocks, r)
}

async fn show_fund(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let manages = funds::keeps(&mut conn, actor, c.id, id).await?;
    if !may_open(actor, c) && !manages {
        return Ok(see_other(&format!("/p/{}/money/funds/{id}", c.code)));
    }
    let fund = funds::fund(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let d = FundData {
        totals: funds::totals(&mut conn, c.id).await?.get(&id).copied().unwrap_or_default(),
        managers: funds::managers(&mut conn, c.id, id).await?,
        gifts: donations::of_fund(&mut conn, c.id, id, 200).await?,
        incomes: donations::incomes(&mut conn, c.id, id).await?,
        projects: projects::of_fund(&mut conn, c.id, id).await?,
        expenses: expenses::paid_from(&mut conn, c.id, id, 200).await?,
        fund,
    };
    render(&fund_view(ctx, c, &d, (manages, keeper(actor, c)), r))
}

pub async fn fund_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_fund(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

fn new_donation(m: &Map<String, Value>) -> AppResult<donations::NewDonation> {
    let mut f = Fields::new(m);
    let out = donations::NewDonation {
        donor_kind: f.text("donor_kind"),
        donor_name: f.text("donor_name"),
        donor_user_id: None,
        partner_unit_id: f.id("partner_unit_id"),
        named: f.yes("named"),
        amount: f.text("amount"),
        given_on: f.date("given_on"),
        channel: f.text("channel"),
        pledge_id: f.id("pledge_id"),
        note: f.opt("note"),
        key: f.opt("key"),
    };
    f.checked()?;
    Ok(out)
}

/// `POST /c/{code}/funds/{id}/donations`: staff record a gift; its receipt follows.
pub async fn donate(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match async { donations::donate(&state, &actor, &c, id, new_donation(&m)?).await }.await {
        Ok(d) => Ok(done(&format!("/c/{code}/donations/{}", d.id), Notice::Created)),
        Err(e) => {
            let action = format!("/c/{code}/funds/{id}/donations");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_fund(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}

/// `POST /c/{code}/funds/{id}/income`: staff record a month's income of a service.
pub async fn receive(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let f = Fields::new(&m);
    let income = donations::NewIncome {
        source: f.text("source"),
        month: f.text("month"),
        amount: f.text("amount"),
        note: f.opt("note"),
    };
    match donations::receive(&state, &actor, &c, id, income).await {
        Ok(_) => Ok(done(&format!("/c/{code}/funds/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/funds/{id}/income");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_fund(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}

/// `POST /c/{code}/funds/{id}/close`.
/// `POST /c/{code}/funds/{id}/managers`: staff name the fund's managers anew.
pub async fn set_managers(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let typed = m.get("managers").and_then(Value::as_str).unwrap_or_default().to_string();
    match funds::set_managers(&state, &actor, &c, id, &typed).await {
        Ok(()) => Ok(done(&format!("/c/{code}/funds/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/funds/{id}/managers");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_fund(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}

pub async fn close_fund(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    funds::close(&state, &actor, &c, id).await?;
    Ok(done(&format!("/c/{code}/funds/{id}"), Notice::Saved))
}

/// Money on the home page: for those who keep it a tile to the desk, with the expenses
/// waiting for a decision as its badge; for everyone else of the community a tile to the
/// public disclosure, where they also object.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::home::Section>>> {
    Box::pin(async move {
        let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
        communities.sort_unstable();
        communities.dedup();
        let mut tiles = Vec::new();
        for cid in communities {
            let mut conn = state.db.read().await?;
            let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
            if keeper(actor, &c) {
                let waiting = expenses::pending_count(&mut conn, cid).await?;
                tiles
                    .push(ui::Tile::new(ctx.t("money.title"), format!("/c/{}/money", c.code), "wallet").badge(waiting));
            } else {
                tiles.push(ui::Tile::new(ctx.t("money.disclosure"), format!("/p/{}/money", c.code), "wallet"));
                // A fund's managers go straight to the funds they keep.
                for (id, name) in funds::managed_by(&mut conn, cid, actor.user_id).await? {
                    tiles.push(ui::Tile::new(name, format!("/c/{}/funds/{id}", c.code), "wallet"));
                }
            }
        }
        Ok(if tiles.is_empty() { Vec::new() } else { vec![crate::web::home::Section { tiles, ..Default::default() }] })
    })
}
