//! The public disclosure 公示, open without sign-in: each fund with its money, every gift
//! (donors masked unless they agreed), every paid expense with its receipt's public copy,
//! every project with its budget, spending and progress; disclosures with objections and
//! their answers; the chain's head and the movements to recompute it. A yuan is followed
//! from a gift to its fund, and from the fund to the expense that used it.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::super::stats::Timing;
use super::super::store::{self, disclosure, donations, expenses, funds, projects};
use super::super::{ExpenseStatus, ProjectStatus};
use super::staff::{fund_cells, fund_kpis, project_item};
use super::work::{approval_steps, expense_cells, funding_items, milestone_items, project_steps};
use super::{Block, BlocksPage, expense_tag, kpi, money, project_tag, reached};
use crate::auth::guard::{CommunityRef, public_community};
use crate::db::chain;
use crate::error::{AppError, AppResult};
use crate::services::ledger::CHAIN;
use crate::services::media::{self, Media};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{Form, Input, InputKind, Item, Photo, Refusal};
use crate::web::{AppState, Notice, Page, PageCtx, PageResult, SignedPage, done, fmt, render};

/// The photos the public may see, served from the public page's own addresses.
fn public_photos(code: &str, list: &[Media]) -> Vec<Photo> {
    list.iter()
        .map(|m| Photo {
            href: format!("/p/{code}/money/media/{}", m.id),
            thumb: format!("/p/{code}/money/media/{}?thumb=1", m.id),
        })
        .collect()
}

fn gift_item(ctx: &PageCtx, code: &str, d: &donations::Donation) -> Item {
    let mut sub = format!("{} · {} · {}", d.number, d.given_on, d.fund);
    if let Some(r) = &d.reversal_reason {
        sub = format!("{sub} · {r}");
    }
    Item {
        title: format!("{} · {}", d.public_name(), money(d.amount_fen)),
        sub,
        href: Some(format!("/p/{code}/money/funds/{}", d.fund_id)),
        tag: super::reversed_tag(ctx, d),
    }
}

fn paid_item(ctx: &PageCtx, code: &str, e: &expenses::Expense) -> Item {
    Item {
        title: format!("{} · {}", money(e.amount_fen), e.purpose),
        sub: format!("{} · {} · {}", e.project, e.payee, fmt::datetime(e.updated_at)),
        href: Some(format!("/p/{code}/money/expenses/{}", e.id)),
        tag: Some(expense_tag(ctx, e.status)),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct Search {
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
}

impl Search {
    /// The filter, refused naming the field when a date does not parse.
    fn filter(&self) -> AppResult<disclosure::Filter> {
        let date = |name: &str, v: &Option<String>| -> AppResult<Option<chrono::NaiveDate>> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| AppError::field(name, "validation.date")),
            }
        };
        let q = self.q.clone().filter(|q| !q.trim().is_empty());
        if let Some(q) = &q {
            let mut errors = Vec::new();
            crate::input::check_text(&mut errors, "q", q, crate::input::limits::SEARCH_LEN, false);
            if !errors.is_empty() {
                return Err(AppError::Invalid(errors));
            }
        }
        Ok(disclosure::Filter { from: date("from", &self.from)?, to: date("to", &self.to)?, q })
    }
}

/// What the public page shows.
pub struct PublicData {
    pub funds: Vec<store::FundLine>,
    pub projects: Vec<(projects::Project, i64, Timing)>,
    pub gifts: Vec<donations::Donation>,
    pub paid: Vec<expenses::Expense>,
    pub disclosures: Vec<disclosure::Disclosure>,
    pub objections: Vec<disclosure::Objection>,
    pub goods: Vec<store::goods::Goods>,
    pub chain: (i64, Option<String>),
}

fn search_form(ctx: &PageCtx, code: &str, s: &Search) -> Form {
    Form::new(ctx.t("money.search"), format!("/p/{code}/money"), ctx.t("money.search"))
        .input(
            Input::new("from", ctx.t("money.period_from"), InputKind::Date).value(s.from.clone().unwrap_or_default()),
        )
        .input(Input::new("to", ctx.t("money.period_to"), InputKind::Date).value(s.to.clone().unwrap_or_default()))
        .input(Input::new("q", ctx.t("money.search_what"), InputKind::Text).value(s.q.clone().unwrap_or_default()))
        .get()
}

/// The public page: money at a glance, the funds and projects, the gifts and expenses of
/// the period searched, disclosures with objections, and how to check the books.
pub fn public_view(ctx: PageCtx, c: &CommunityRef, d: &PublicData, s: &Search, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let (mut received, mut paid, mut balance) = (0, 0, 0);
    for f in &d.funds {
        (received, paid, balance) = (received + f.totals.received, paid + f.totals.paid, balance + f.totals.balance);
    }
    let head = d.chain.1.clone().unwrap_or_else(|| "-".into());
    let verify = vec![
        (ctx.t("money.chain_length"), d.chain.0.to_string()),
        (ctx.t("money.chain_head"), head),
        (ctx.t("money.community_id"), c.id.to_string()),
    ];
    let links = vec![
        (format!("/p/{code}/money/movements.csv"), ctx.t("money.movements_file")),
        (format!("/p/{code}/money/ledger.xlsx"), ctx.t("money.export")),
    ];
    let funds = d
        .funds
        .iter()
        .map(|f| Item {
            title: f.name.clone(),
            sub: format!(
                "{} {} · {} {} · {} {}",
                ctx.t("money.balance"),
                money(f.totals.balance),
                ctx.t("money.received"),
                money(f.totals.received),
                ctx.t("money.paid"),
                money(f.totals.paid)
            ),
            href: Some(format!("/p/{code}/money/funds/{}", f.id)),
            tag: reached(f.totals.received, f.target_fen)
                .map(|p| crate::web::ui::Tag::new(format!("{p}%"), crate::web::ui::Tone::Blue)),
        })
        .collect();
    let projects = d
        .projects
        .iter()
        .map(|(p, percent, timing)| {
            let mut i = project_item(&ctx, format!("/p/{code}/money/projects/{}", p.id), p);
            i.sub = format!("{} · {} {percent}%", i.sub, ctx.t("money.progress"));
            if *timing == Timing::Late {
                i.sub = format!("{} · {}", i.sub, ctx.t("money.timing.late"));
            }
            i
        })
        .collect();
    let mut blocks = vec![
        Block::Card(ctx.t("money.disclosure"), None, vec![], Some(ctx.t("money.disclosure_hint")), vec![]),
        Block::Kpis(vec![
            kpi(ctx.t("money.received"), money(received)),
            kpi(ctx.t("money.paid"), money(paid)),
            kpi(ctx.t("money.balance"), money(balance)),
        ]),
        Block::List(ctx.t("money.funds"), funds, ctx.t("money.no_funds")),
        Block::List(ctx.t("money.projects"), projects, ctx.t("money.no_projects")),
        Block::Form(search_form(&ctx, code, s)),
        Block::List(
            ctx.t("money.donations"),
            d.gifts.iter().map(|g| gift_item(&ctx, code, g)).collect(),
            ctx.t("money.no_donations"),
        ),
        Block::List(
            ctx.t("money.expenses_paid"),
            d.paid.iter().map(|e| paid_item(&ctx, code, e)).collect(),
            ctx.t("money.no_expenses"),
        ),
    ];
    let goods = d.goods.iter().map(|g| super::goods::goods_item(&ctx, None, g, true)).collect();
    blocks.push(Block::List(ctx.t("money.goods"), goods, ctx.t("money.no_goods")));
    blocks.extend(super::staff::disclosure_blocks(&ctx, code, &d.disclosures, &d.objections, false, r));
    let today = fmt::today();
    if ctx.user.is_some() {
        for x in d.disclosures.iter().filter(|x| x.objections_until >= today) {
            let f = Form::new(
                format!("{} {} – {}", ctx.t("money.object"), x.period_from, x.period_to),
                format!("/c/{code}/disclosures/{}/objections", x.id),
                ctx.t("money.object_submit"),
            )
            .input(Input::new("body", ctx.t("money.objection"), InputKind::TextArea).required())
            .folded()
            .refused(r);
            blocks.push(Block::Form(f));
        }
    }
    blocks.push(Block::Card(ctx.t("money.verify"), None, verify, Some(ctx.t("money.verify_hint")), links));
    let title = format!("{} · {}", c.name, ctx.t("money.disclosure"));
    BlocksPage::new(ctx, title, vec![], blocks, r)
}

/// The public page's data for a search.
async fn load_public(state: &AppState, c: &CommunityRef, f: &disclosure::Filter) -> AppResult<PublicData> {
    let mut conn = state.db.read().await?;
    let list = projects::list_with_progress(&mut conn, c.id, crate::web::fmt::today()).await?;
    let out = PublicData {
        funds: funds::list(&mut conn, c.id).await?,
        projects: list,
        gifts: disclosure::public_donations(&mut conn, c.id, f, 100).await?,
        paid: disclosure::public_expenses(&mut conn, c.id, f, 100).await?,
        disclosures: disclosure::list(&mut conn, c.id).await?,
        objections: disclosure::objections(&mut conn, c.id).await?,
        goods: store::goods::list(&mut conn, c.id).await?,
        chain: (0, None),
    };
    drop(conn);
    let (length, head) = chain::head(&state.db, c.id, CHAIN.chain).await?;
    Ok(PublicData { chain: (length, head.map(hex::encode)), ..out })
}

async fn show_public(state: &AppState, ctx: PageCtx, c: &CommunityRef, s: &Search, r: &Refusal) -> PageResult {
    let f = s.filter()?;
    render(&public_view(ctx, c, &load_public(state, c, &f).await?, s, r))
}

/// `GET /p/{code}/money[?from=&to=&q=]`: anyone.
pub async fn public_money(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    Query(s): Query<Search>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    show_public(&state, ctx, &c, &s, &Refusal::none()).await
}

/// `POST /c/{code}/disclosures/{id}/objections`: a signed-in resident objects.
pub async fn object(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = super::community(&state, &actor, &code).await?;
    match disclosure::object(&state, &actor, &c, id, &Fields::new(&m).text("body")).await {
        Ok(_) => Ok(done(&format!("/p/{code}/money"), Notice::Sent)),
        Err(e) => {
            let action = format!("/c/{code}/disclosures/{id}/objections");
            crate::web::ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                show_public(&state, ctx, &c, &Search::default(), &r).await
            })
            .await
        }
    }
}

/// `GET /p/{code}/money/funds/{id}`: a fund, its gifts, the projects it pays for and
/// what it paid (each expense leads to its receipt).
pub async fn public_fund(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let f = funds::fund(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let totals = funds::totals(&mut conn, c.id).await?.get(&id).copied().unwrap_or_default();
    let gifts = donations::of_fund(&mut conn, c.id, id, 500).await?;
    let incomes = donations::incomes(&mut conn, c.id, id).await?;
    let funded = projects::of_fund(&mut conn, c.id, id).await?;
    let paid = expenses::paid_from(&mut conn, c.id, id, 500).await?;
    drop(conn);
    let mut blocks =
        vec![Block::Card(f.name.clone(), None, fund_cells(&ctx, &f), None, vec![]), fund_kpis(&ctx, &totals)];
    if let Some(p) = reached(totals.received, f.target_fen) {
        blocks.push(Block::Progress(ctx.t("money.of_target"), p, money(f.target_fen.unwrap_or(0))));
    }
    if f.kind.takes_gifts() {
        let counted: Vec<&donations::Donation> = gifts.iter().filter(|g| g.reversed_at.is_none()).collect();
        let thanks: Vec<String> = counted
            .iter()
            .filter(|g| g.named || g.donor_kind == super::super::DonorKind::Unit)
            .map(|g| g.donor_name.clone())
            .collect();
        let mut unique: Vec<String> = Vec::new();
        for t in thanks {
            if !unique.contains(&t) {
                unique.push(t);
            }
        }
        let hidden = counted.len().saturating_sub(unique.len());
        let text = format!(
            "{}{}",
            unique.join("、"),
            if hidden > 0 { ctx.tr("money.and_others", "n", hidden) } else { String::new() }
        );
        blocks.push(Block::Card(ctx.t("money.thanks"), None, vec![], Some(text), vec![]));
        blocks.push(Block::List(
            ctx.t("money.donations"),
            gifts.iter().map(|g| gift_item(&ctx, &code, g)).collect(),
            ctx.t("money.no_donations"),
        ));
    } else {
        let items = incomes
            .iter()
            .map(|i| Item {
                title: format!("{} · {}", i.source, money(i.amount_fen)),
                sub: i.month.clone(),
                ..Item::default()
            })
            .collect();
        blocks.push(Block::List(ctx.t("money.incomes"), items, ctx.t("money.no_incomes")));
    }
    let funded = funded
        .iter()
        .map(|(pid, title, amount, spent)| Item {
            title: title.clone(),
            sub: format!("{} {} · {} {}", ctx.t("money.share"), money(*amount), ctx.t("money.spent"), money(*spent)),
            href: Some(format!("/p/{code}/money/projects/{pid}")),
            tag: None,
        })
        .collect();
    blocks.push(Block::List(ctx.t("money.projects_funded"), funded, ctx.t("money.no_projects")));
    blocks.push(Block::List(
        ctx.t("money.expenses_paid"),
        paid.iter().map(|e| paid_item(&ctx, &code, e)).collect(),
        ctx.t("money.no_expenses"),
    ));
    let crumbs = vec![(format!("/p/{code}/money"), ctx.t("money.disclosure"))];
    render(&BlocksPage::new(ctx, f.name.clone(), crumbs, blocks, &Refusal::none()))
}

async fn show_public_project(state: &AppState, ctx: PageCtx, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let code = &c.code;
    let mut conn = state.db.read().await?;
    let p = projects::project(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let funding = projects::funding(&mut conn, c.id, id).await?;
    let ms = projects::milestones(&mut conn, c.id, id).await?;
    let steps = projects::steps(&mut conn, c.id, id).await?;
    let spent: Vec<expenses::Expense> = expenses::of_project(&mut conn, c.id, id)
        .await?
        .into_iter()
        .filter(|e| e.status == ExpenseStatus::Paid)
        .collect();
    let photos = media::of(&mut conn, c.id, "project", id).await?;
    let comments = projects::comments(&mut conn, c.id, id).await?;
    drop(conn);
    let cells = vec![
        (ctx.t("money.place"), p.place.clone()),
        (ctx.t("money.origin"), ctx.t(&format!("money.origin.{}", p.origin.as_str()))),
    ];
    let origin = p.proposal_id.map(|id| (format!("/p/{code}/council/{id}"), ctx.t("money.council_decision")));
    let mut blocks = vec![
        Block::Card(
            p.title.clone(),
            Some(project_tag(&ctx, p.status)),
            cells,
            p.description.clone(),
            origin.into_iter().collect(),
        ),
        Block::Kpis(vec![
            kpi(ctx.t("money.budget"), money(p.budget_fen)),
            kpi(ctx.t("money.spent"), money(p.spent_fen)),
        ]),
        Block::Progress(ctx.t("money.progress"), projects::percent(&ms), ctx.t("money.progress_hint")),
        Block::List(
            ctx.t("money.funding"),
            funding_items(&ctx, &funding, |f| format!("/p/{code}/money/funds/{f}")),
            ctx.t("money.no_funding"),
        ),
        Block::List(ctx.t("money.milestones"), milestone_items(&ctx, &ms), ctx.t("money.no_milestones")),
        Block::Timeline(ctx.t("money.steps"), project_steps(&ctx, &steps, false)),
        Block::Photos(ctx.t("money.photos"), public_photos(code, &photos)),
        Block::List(
            ctx.t("money.expenses_paid"),
            spent.iter().map(|e| paid_item(&ctx, code, e)).collect(),
            ctx.t("money.no_expenses"),
        ),
    ];
    let said = comments
        .iter()
        .map(|(name, body, at)| Item {
            title: body.clone(),
            sub: format!("{} · {}", crate::services::pii::mask_name(name), fmt::datetime(*at)),
            ..Item::default()
        })
        .collect();
    blocks.push(Block::List(ctx.t("money.comments"), said, ctx.t("money.no_comments")));
    if ctx.user.is_some() && p.status != ProjectStatus::Cancelled {
        let f = Form::new(
            ctx.t("money.comment"),
            format!("/p/{code}/money/projects/{id}/comments"),
            ctx.t("money.comment_submit"),
        )
        .input(Input::new("body", ctx.t("money.comment"), InputKind::TextArea).required())
        .refused(r);
        blocks.push(Block::Form(f));
    }
    let crumbs = vec![(format!("/p/{code}/money"), ctx.t("money.disclosure"))];
    render(&BlocksPage::new(ctx, p.title.clone(), crumbs, blocks, r))
}

/// `GET /p/{code}/money/projects/{id}`: a project as residents follow it.
pub async fn public_project(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    show_public_project(&state, ctx, &c, id, &Refusal::none()).await
}

/// `POST /p/{code}/money/projects/{id}/comments`: a signed-in resident comments.
pub async fn comment(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = super::community(&state, &actor, &code).await?;
    match projects::comment(&state, &actor, &c, id, &Fields::new(&m).text("body")).await {
        Ok(()) => Ok(done(&format!("/p/{code}/money/projects/{id}"), Notice::Sent)),
        Err(e) => {
            let action = format!("/p/{code}/money/projects/{id}/comments");
            crate::web::ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                show_public_project(&state, ctx, &c, id, &r).await
            })
            .await
        }
    }
}

/// `GET /p/{code}/money/expenses/{id}`: a paid expense with its approvals (by role) and
/// its receipt's public copy.
pub async fn public_expense(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let e = expenses::expense(&mut conn, c.id, id)
        .await?
        .filter(|e| e.status == ExpenseStatus::Paid)
        .ok_or(AppError::NotFound)?;
    let steps = expenses::steps(&mut conn, c.id, id).await?;
    let copies = media::of(&mut conn, c.id, expenses::PUBLIC_COPY, id).await?;
    drop(conn);
    let links = vec![
        (format!("/p/{code}/money/funds/{}", e.fund_id), e.fund.clone()),
        (format!("/p/{code}/money/projects/{}", e.project_id), e.project.clone()),
    ];
    let mut blocks = vec![
        Block::Card(
            format!("{} · {}", ctx.t("money.expense"), money(e.amount_fen)),
            Some(expense_tag(&ctx, e.status)),
            expense_cells(&ctx, &e),
            None,
            links,
        ),
        Block::Timeline(ctx.t("money.approvals"), approval_steps(&ctx, &e, &steps, false)),
    ];
    if copies.is_empty() {
        blocks.push(Block::Card(ctx.t("money.receipt_photo"), None, vec![], Some(ctx.t("money.copy_pending")), vec![]));
    } else {
        blocks.push(Block::Photos(ctx.t("money.receipt_photo"), public_photos(&code, &copies)));
    }
    let crumbs = vec![(format!("/p/{code}/money"), ctx.t("money.disclosure"))];
    render(&BlocksPage::new(ctx, format!("{} #{}", e.project, e.id), crumbs, blocks, &Refusal::none()))
}

#[derive(Debug, Deserialize)]
pub struct Thumb {
    thumb: Option<String>,
}

/// `GET /p/{code}/money/media/{id}[?thumb=1]`: a project's photo or a receipt's public
/// copy (never the receipt as taken).
pub async fn public_media(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    Query(t): Query<Thumb>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let m = media::pages::find(&mut state.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)?;
    let public = match m.owner_kind.as_str() {
        "project" => true,
        expenses::PUBLIC_COPY => expenses::expense(&mut state.db.read().await?, c.id, m.owner_id)
            .await?
            .is_some_and(|e| e.status == ExpenseStatus::Paid),
        _ => false,
    };
    if !public {
        return Err(AppError::NotFound.into());
    }
    media::pages::respond(&state, &m, t.thumb.is_some(), "public, max-age=86400").await
}

/// `GET /p/{code}/money/movements.csv`: the ledger's chain, every money movement with
/// its columns and hashes (docs/disclosure.md says how to recompute them).
pub async fn movements_csv(State(state): State<AppState>, Path(code): Path<String>) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let rows = disclosure::chain_rows(&mut state.db.read().await?, c.id).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(disclosure::CHAIN_HEADERS).map_err(io)?;
    for r in &rows {
        w.write_record(r).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let name = crate::services::sheets::disposition("attachment", &format!("{}-movements.csv", c.name));
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)], bytes)
        .into_response())
}

/// `GET /p/{code}/money/ledger.xlsx[?from=&to=&q=]`: the gifts and paid expenses shown on
/// the public page, as a workbook (only what the page shows: donors masked as there).
pub async fn public_ledger(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(s): Query<Search>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let f = s.filter()?;
    let mut conn = state.db.read().await?;
    let gifts = disclosure::public_donations(&mut conn, c.id, &f, 100_000).await?;
    let paid = disclosure::public_expenses(&mut conn, c.id, &f, 100_000).await?;
    drop(conn);
    let gift_rows: Vec<Vec<String>> = gifts
        .iter()
        .map(|d| {
            let (amount, reversal) = super::super::gift_cells(d.amount_fen, d.reversal_reason.as_deref());
            vec![d.number.clone(), d.given_on.to_string(), d.public_name(), d.fund.clone(), amount, reversal]
        })
        .collect();
    let paid_rows: Vec<Vec<String>> = paid
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                fmt::datetime(e.updated_at),
                e.project.clone(),
                e.fund.clone(),
                e.payee.clone(),
                e.purpose.clone(),
                super::super::yuan(e.amount_fen),
            ]
        })
        .collect();
    let bytes = crate::services::sheets::xlsx_book(&[
        ("捐赠", &["收据编号", "日期", "捐赠人", "资金", "金额（元）", "冲正"], &gift_rows),
        ("支出", &["编号", "支付时间", "项目", "资金", "收款方", "用途", "金额（元）"], &paid_rows),
    ])
    .map_err(AppError::Internal)?;
    Ok(crate::services::sheets::download(&c.name, "资金公示", bytes))
}

/// The public board's 财务公开: each fund's money in, out and left, and the latest
/// disclosure of the accounts.
pub fn board<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    c: &'a CommunityRef,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::board::BoardPart>>> {
    use crate::web::board::{BoardLine, BoardPart, BoardSection};
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        let funds = funds::list(&mut conn, c.id).await?;
        let latest = disclosure::list(&mut conn, c.id).await?.into_iter().next();
        let mut lines: Vec<BoardLine> = funds
            .iter()
            .take(8)
            .map(|f| BoardLine {
                title: f.name.clone(),
                detail: format!(
                    "{} {} · {} {} · {} {}",
                    ctx.t("money.board_in"),
                    money(f.totals.received),
                    ctx.t("money.board_out"),
                    money(f.totals.paid),
                    ctx.t("money.board_left"),
                    money(f.totals.balance)
                ),
                href: Some(format!("/p/{}/money/funds/{}", c.code, f.id)),
            })
            .collect();
        if let Some(d) = latest {
            lines.push(BoardLine {
                title: ctx.t("money.board_disclosed"),
                detail: format!("{} — {}", d.period_from, d.period_to),
                href: Some(format!("/p/{}/money", c.code)),
            });
        }
        let more = Some((format!("/p/{}/money", c.code), ctx.t("money.board_more")));
        Ok(if lines.is_empty() {
            Vec::new()
        } else {
            vec![BoardPart { section: BoardSection::Finance, title: ctx.t("money.board_funds"), lines, more }]
        })
    })
}
