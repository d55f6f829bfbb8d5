//! Staff's pages of the work money pays for: a project (its funding, milestones and
//! progress, states, photos, expenses and the form that asks for one) and an expense
//! (its receipt, its approvals and the decision waiting, the copy to publish).

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::store::{self, expenses, funds, projects};
use super::super::{Category, ExpenseStatus, ProjectStatus};
use super::staff::expense_item;
use super::{Block, BlocksPage, choices, community, expense_tag, keeper, kpi, money, project_tag};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::services::media;
use crate::web::form::{CsrfForm, CsrfMultipart, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Step, StepState};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// What a project's page shows.
pub struct ProjectData {
    pub project: projects::Project,
    pub funding: Vec<projects::Funding>,
    pub milestones: Vec<projects::Milestone>,
    pub steps: Vec<(String, Option<String>, String, i64)>,
    pub expenses: Vec<expenses::Expense>,
    pub photos: Vec<media::Media>,
    /// The community's funds, to fund it from: (id, name).
    pub funds: Vec<(i64, String)>,
}

pub(super) fn milestone_items(ctx: &PageCtx, ms: &[projects::Milestone]) -> Vec<Item> {
    ms.iter()
        .map(|m| Item {
            title: format!("{} · {}%", m.title, m.weight),
            sub: match m.done_on {
                Some(d) => format!("{} {d}", ctx.t("money.done_on")),
                None => format!("{} {}", ctx.t("money.due_on"), m.due_on),
            },
            href: None,
            tag: m.done_on.map(|_| ui::Tag::new(ctx.t("money.done"), ui::Tone::Green)),
        })
        .collect()
}

pub(super) fn project_steps(ctx: &PageCtx, steps: &[(String, Option<String>, String, i64)], who: bool) -> Vec<Step> {
    steps
        .iter()
        .map(|(s, note, name, at)| Step {
            title: ctx.t(&format!("money.project.{s}")),
            at: if who { format!("{} · {name}", fmt::datetime(*at)) } else { fmt::datetime(*at) },
            note: note.clone().unwrap_or_default(),
            state: StepState::Done,
        })
        .collect()
}

pub(super) fn funding_items(ctx: &PageCtx, funding: &[projects::Funding], href: impl Fn(i64) -> String) -> Vec<Item> {
    funding
        .iter()
        .map(|f| Item {
            title: format!("{} · {}", f.fund, money(f.amount_fen)),
            sub: format!("{} {}", ctx.t("money.spent"), money(f.spent_fen)),
            href: Some(href(f.fund_id)),
            tag: None,
        })
        .collect()
}

fn project_forms(ctx: &PageCtx, code: &str, d: &ProjectData, r: &Refusal) -> Vec<Block> {
    let p = &d.project;
    let base = format!("/c/{code}/projects/{}", p.id);
    let funds: Vec<(String, String)> = d.funds.iter().map(|(i, n)| (i.to_string(), n.clone())).collect();
    let mut out = Vec::new();
    if p.status.spends() && !d.funding.is_empty() {
        let funded: Vec<(String, String)> = d.funding.iter().map(|f| (f.fund_id.to_string(), f.fund.clone())).collect();
        let cats: Vec<&str> = Category::ALL.iter().map(|k| k.as_str()).collect();
        let f = Form::new(ctx.t("money.ask_expense"), format!("{base}/expenses"), ctx.t("money.ask_submit"))
            .input(Input::new("fund_id", ctx.t("money.fund"), InputKind::Select(funded)).required())
            .input(
                Input::new(
                    "category",
                    ctx.t("money.category"),
                    InputKind::Select(choices(ctx, "money.category", &cats)),
                )
                .required(),
            )
            .input(Input::new("payee", ctx.t("money.payee"), InputKind::Text).required())
            .input(
                Input::new("amount", ctx.t("money.amount"), InputKind::Text).required().hint(ctx.t("money.yuan_hint")),
            )
            .input(Input::new("purpose", ctx.t("money.what_for"), InputKind::TextArea).required())
            .input(
                Input::new("receipt", ctx.t("money.receipt_photo"), InputKind::Document)
                    .required()
                    .hint(ctx.t("money.receipt_hint")),
            );
        out.push(Block::Form(f.folded().refused(r)));
    }
    if !matches!(p.status, ProjectStatus::Accepted | ProjectStatus::Cancelled) {
        let f = Form::new(ctx.t("money.set_funding"), format!("{base}/funding"), ctx.t("money.save"))
            .input(Input::new("fund_id", ctx.t("money.fund"), InputKind::Select(funds)).required())
            .input(
                Input::new("amount", ctx.t("money.share"), InputKind::Text).required().hint(ctx.t("money.yuan_hint")),
            );
        out.push(Block::Form(f.folded().refused(r)));
        let f = Form::new(ctx.t("money.add_milestone"), format!("{base}/milestones"), ctx.t("money.add"))
            .input(Input::new("title", ctx.t("money.milestone"), InputKind::Text).required())
            .input(Input::new("due_on", ctx.t("money.due_on"), InputKind::Date).required())
            .input(
                Input::new("weight", ctx.t("money.weight"), InputKind::Number)
                    .required()
                    .hint(ctx.t("money.weight_hint")),
            );
        out.push(Block::Form(f.folded().refused(r)));
    }
    if matches!(p.status, ProjectStatus::Approved | ProjectStatus::InProgress) {
        for m in d.milestones.iter().filter(|m| m.done_on.is_none()) {
            let f = Form::new(
                format!("{} · {}", ctx.t("money.milestone"), m.title),
                format!("{base}/milestones/{}/done", m.id),
                ctx.t("money.mark_done"),
            )
            .confirm(ctx.t("money.mark_done_confirm"));
            out.push(Block::Form(f));
        }
    }
    let next: Vec<(String, String)> = p
        .status
        .next()
        .iter()
        .map(|s| (s.as_str().to_string(), ctx.t(&format!("money.project.{}", s.as_str()))))
        .collect();
    if !next.is_empty() {
        let f = Form::new(ctx.t("money.move_project"), format!("{base}/status"), ctx.t("money.save"))
            .input(Input::new("status", ctx.t("money.next_status"), InputKind::Select(next)).required())
            .input(Input::new("note", ctx.t("money.note"), InputKind::TextArea).hint(ctx.t("money.move_hint")))
            .confirm(ctx.t("money.move_confirm"));
        out.push(Block::Form(f.folded().refused(r)));
    }
    let f = Form::new(ctx.t("money.add_photos"), format!("{base}/photos"), ctx.t("money.upload"))
        .input(Input::new("photos", ctx.t("money.photos"), InputKind::File).required());
    out.push(Block::Form(f.folded().refused(r)));
    out
}

/// A project for staff: what it is, its money and progress, funding, milestones, steps,
/// photos, expenses, and the forms that move it.
pub fn project_view(ctx: PageCtx, c: &CommunityRef, d: &ProjectData, keeps: bool, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let p = &d.project;
    let mut cells = vec![
        (ctx.t("money.place"), p.place.clone()),
        (ctx.t("money.origin"), ctx.t(&format!("money.origin.{}", p.origin.as_str()))),
    ];
    let mut links = vec![(format!("/p/{code}/money/projects/{}", p.id), ctx.t("money.public_page"))];
    if let Some(id) = p.proposal_id {
        links.push((format!("/c/{code}/council/{id}"), ctx.t("money.council_decision")));
    }
    if let Some(id) = p.need_id {
        links.push((format!("/c/{code}/needs/{id}"), ctx.t("money.the_need")));
    }
    cells.push((ctx.t("money.created"), fmt::datetime(p.created_at)));
    let percent = projects::percent(&d.milestones);
    let mut blocks = vec![
        Block::Card(p.title.clone(), Some(project_tag(&ctx, p.status)), cells, p.description.clone(), links),
        Block::Kpis(vec![
            kpi(ctx.t("money.budget"), money(p.budget_fen)),
            kpi(ctx.t("money.funded"), money(p.funded_fen)),
            kpi(ctx.t("money.spent"), money(p.spent_fen)),
        ]),
        Block::Progress(ctx.t("money.progress"), percent, ctx.t("money.progress_hint")),
        Block::List(
            ctx.t("money.funding"),
            funding_items(&ctx, &d.funding, |f| format!("/c/{code}/funds/{f}")),
            ctx.t("money.no_funding"),
        ),
        Block::List(ctx.t("money.milestones"), milestone_items(&ctx, &d.milestones), ctx.t("money.no_milestones")),
        Block::Timeline(ctx.t("money.steps"), project_steps(&ctx, &d.steps, true)),
        Block::Photos(ctx.t("money.photos"), media::thumbnails(&d.photos, code)),
    ];
    let expenses = d.expenses.iter().map(|e| expense_item(&ctx, format!("/c/{code}/expenses/{}", e.id), e)).collect();
    blocks.push(Block::List(ctx.t("money.expenses"), expenses, ctx.t("money.no_expenses")));
    if keeps {
        blocks.extend(project_forms(&ctx, code, d, r));
    }
    let crumbs = vec![(format!("/c/{code}/money"), ctx.t("money.title"))];
    BlocksPage::new(ctx, p.title.clone(), crumbs, blocks, r)
}

async fn show_project(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    if !keeper(actor, c) && !actor.manages_subdistrict(c.subdistrict_id) {
        return Ok(crate::web::see_other(&format!("/p/{}/money/projects/{id}", c.code)));
    }
    let mut conn = state.db.read().await?;
    let project = projects::project(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let d = ProjectData {
        funding: projects::funding(&mut conn, c.id, id).await?,
        milestones: projects::milestones(&mut conn, c.id, id).await?,
        steps: projects::steps(&mut conn, c.id, id).await?,
        expenses: expenses::of_project(&mut conn, c.id, id).await?,
        photos: media::of(&mut conn, c.id, "project", id).await?,
        funds: funds::list(&mut conn, c.id).await?.into_iter().map(|f| (f.id, f.name)).collect(),
        project,
    };
    render(&project_view(ctx, c, &d, keeper(actor, c), r))
}

pub async fn project_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_project(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// Shows a project's page again with a refused form.
async fn project_refused(
    state: &AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    id: i64,
    m: &Map<String, Value>,
    action: &str,
    e: AppError,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { show_project(state, ctx, &actor, &c, id, &r).await }).await
}

fn new_project(m: &Map<String, Value>) -> AppResult<projects::NewProject> {
    let mut f = Fields::new(m);
    let out = projects::NewProject {
        title: f.text("title"),
        place: f.text("place"),
        description: f.opt("description"),
        budget: f.text("budget"),
        proposal_id: f.id("proposal_id"),
        need_id: f.id("need_id"),
    };
    f.checked()?;
    Ok(out)
}

/// `POST /c/{code}/projects`: staff propose a project; its page follows.
pub async fn create_project(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match async { projects::create(&state, &actor, &c, new_project(&m)?).await }.await {
        Ok(p) => Ok(done(&format!("/c/{code}/projects/{}", p.id), Notice::Created)),
        Err(e) => {
            let action = format!("/c/{code}/projects");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                super::staff::show_desk(&state, ctx, &actor, &c, &r).await
            })
            .await
        }
    }
}

/// `POST /c/{code}/projects/{id}/funding`.
pub async fn fund_project(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&m);
        let fund = f.id("fund_id");
        f.checked()?;
        let fund = fund.ok_or_else(|| AppError::field("fund_id", "validation.required"))?;
        projects::set_funding(&state, &actor, &c, id, fund, &f.text("amount")).await
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/projects/{id}"), Notice::Saved)),
        Err(e) => project_refused(&state, ctx, actor, c, id, &m, &format!("/c/{code}/projects/{id}/funding"), e).await,
    }
}

/// `POST /c/{code}/projects/{id}/milestones`.
pub async fn add_milestone(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&m);
        let (due, weight) = (f.date("due_on"), f.int("weight"));
        f.checked()?;
        projects::add_milestone(&state, &actor, &c, id, &f.text("title"), due, weight).await
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/projects/{id}"), Notice::Saved)),
        Err(e) => {
            project_refused(&state, ctx, actor, c, id, &m, &format!("/c/{code}/projects/{id}/milestones"), e).await
        }
    }
}

/// `POST /c/{code}/projects/{id}/milestones/{m}/done`.
pub async fn milestone_done(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id, milestone)): Path<(String, i64, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    projects::milestone_done(&state, &actor, &c, id, milestone).await?;
    Ok(done(&format!("/c/{code}/projects/{id}"), Notice::Saved))
}

/// `POST /c/{code}/projects/{id}/status`.
pub async fn move_project(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let f = Fields::new(&m);
    match projects::move_to(&state, &actor, &c, id, &f.text("status"), f.opt("note").as_deref()).await {
        Ok(_) => Ok(done(&format!("/c/{code}/projects/{id}"), Notice::Saved)),
        Err(e) => project_refused(&state, ctx, actor, c, id, &m, &format!("/c/{code}/projects/{id}/status"), e).await,
    }
}

/// `POST /c/{code}/projects/{id}/photos`: photos before, during and after.
pub async fn project_photos(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        let photos = media::check_uploads(&form.files)?;
        projects::add_photos(&state, &actor, &c, id, &photos).await
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/projects/{id}"), Notice::Saved)),
        Err(e) => {
            project_refused(&state, ctx, actor, c, id, &form.fields, &format!("/c/{code}/projects/{id}/photos"), e)
                .await
        }
    }
}

/// `POST /c/{code}/projects/{id}/expenses`: staff ask for an expense with its receipt.
pub async fn ask_expense(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&form.fields);
        let fund_id = f.id("fund_id");
        f.checked()?;
        let e = expenses::NewExpense {
            fund_id,
            category: f.text("category"),
            payee: f.text("payee"),
            amount: f.text("amount"),
            purpose: f.text("purpose"),
        };
        let receipts = media::check_documents(&form.files)?;
        expenses::ask(&state, &actor, &c, id, e, &receipts).await
    }
    .await;
    match result {
        Ok(e) => Ok(done(&format!("/c/{code}/expenses/{}", e.id), Notice::Submitted)),
        Err(e) => {
            project_refused(&state, ctx, actor, c, id, &form.fields, &format!("/c/{code}/projects/{id}/expenses"), e)
                .await
        }
    }
}

// ---------- an expense ----------

/// What an expense's page shows.
pub struct ExpenseData {
    pub expense: expenses::Expense,
    pub steps: Vec<expenses::Step>,
    pub receipts: Vec<media::Media>,
    pub public_copies: Vec<media::Media>,
}

pub(super) fn approval_steps(ctx: &PageCtx, e: &expenses::Expense, done: &[expenses::Step], who: bool) -> Vec<Step> {
    let chain = e.steps();
    chain
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let role = ctx.t(&format!("money.approver.{}", a.as_str()));
            match done.get(i) {
                Some(s) => Step {
                    title: format!("{role} · {}", ctx.t(&format!("money.decision.{}", s.decision))),
                    at: if who {
                        format!("{} · {}", fmt::datetime(s.decided_at), s.who)
                    } else {
                        fmt::datetime(s.decided_at)
                    },
                    note: s.note.clone().unwrap_or_default(),
                    state: StepState::Done,
                },
                None => Step {
                    title: role,
                    at: String::new(),
                    note: String::new(),
                    state: if i == done.len() && e.status == ExpenseStatus::Pending {
                        StepState::Current
                    } else {
                        StepState::Todo
                    },
                },
            }
        })
        .collect()
}

pub(super) fn expense_cells(ctx: &PageCtx, e: &expenses::Expense) -> Vec<(String, String)> {
    vec![
        (ctx.t("money.project"), e.project.clone()),
        (ctx.t("money.fund"), e.fund.clone()),
        (ctx.t("money.category"), ctx.t(&format!("money.category.{}", e.category.as_str()))),
        (ctx.t("money.payee"), e.payee.clone()),
        (ctx.t("money.what_for"), e.purpose.clone()),
        (ctx.t("money.asked_on"), fmt::datetime(e.created_at)),
    ]
}

/// An expense for staff: what it is, its approvals, its receipt and the copy to publish,
/// and the decision waiting for the actor (or withdrawing it, for whoever asked).
pub fn expense_view(ctx: PageCtx, c: &CommunityRef, d: &ExpenseData, actor: &Actor, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let e = &d.expense;
    let mut cells = expense_cells(&ctx, e);
    cells.push((ctx.t("money.asker"), e.asker.clone()));
    let links = vec![
        (format!("/c/{code}/projects/{}", e.project_id), e.project.clone()),
        (format!("/p/{code}/money/expenses/{}", e.id), ctx.t("money.public_page")),
    ];
    let mut blocks = vec![
        Block::Card(
            format!("{} · {}", ctx.t("money.expense"), money(e.amount_fen)),
            Some(expense_tag(&ctx, e.status)),
            cells,
            None,
            links,
        ),
        Block::Timeline(ctx.t("money.approvals"), approval_steps(&ctx, e, &d.steps, true)),
        Block::Photos(ctx.t("money.receipt_photo"), media::thumbnails(&d.receipts, code)),
        Block::Photos(ctx.t("money.public_copy"), media::thumbnails(&d.public_copies, code)),
    ];
    if e.status == ExpenseStatus::Pending && e.asked_by != actor.user_id {
        let f = Form::new(
            ctx.t("money.decide"),
            format!("/c/{code}/expenses/{}/decide", e.id),
            ctx.t("money.decide_submit"),
        )
        .input(
            Input::new(
                "decision",
                ctx.t("money.decision"),
                InputKind::Select(choices(&ctx, "money.decision", &["approved", "refused"])),
            )
            .required()
            .value("approved"),
        )
        .input(Input::new("note", ctx.t("money.decision_note"), InputKind::TextArea).hint(ctx.t("money.decision_hint")))
        .confirm(ctx.tr("money.decide_confirm", "amount", money(e.amount_fen)));
        blocks.push(Block::Form(f.refused(r)));
    }
    if e.status == ExpenseStatus::Pending && e.asked_by == actor.user_id {
        let f = Form::new(
            ctx.t("money.withdraw"),
            format!("/c/{code}/expenses/{}/withdraw", e.id),
            ctx.t("money.withdraw"),
        )
        .danger(ctx.t("money.withdraw_confirm"));
        blocks.push(Block::Form(f));
    }
    if keeper(actor, c) {
        let f = Form::new(
            ctx.t("money.add_public_copy"),
            format!("/c/{code}/expenses/{}/public-copy", e.id),
            ctx.t("money.upload"),
        )
        .input(
            Input::new("public_copy", ctx.t("money.public_copy"), InputKind::File)
                .required()
                .hint(ctx.t("money.public_copy_hint")),
        );
        blocks.push(Block::Form(f.folded().refused(r)));
    }
    let crumbs = vec![
        (format!("/c/{code}/money"), ctx.t("money.title")),
        (format!("/c/{code}/projects/{}", e.project_id), e.project.clone()),
    ];
    BlocksPage::new(ctx, format!("{} #{}", e.project, e.id), crumbs, blocks, r)
}

async fn show_expense(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    if !keeper(actor, c) && !actor.manages_subdistrict(c.subdistrict_id) {
        return Ok(crate::web::see_other(&format!("/p/{}/money/expenses/{id}", c.code)));
    }
    let mut conn = state.db.read().await?;
    let expense = expenses::expense(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let d = ExpenseData {
        steps: expenses::steps(&mut conn, c.id, id).await?,
        receipts: media::of(&mut conn, c.id, "expense", id).await?,
        public_copies: media::of(&mut conn, c.id, expenses::PUBLIC_COPY, id).await?,
        expense,
    };
    render(&expense_view(ctx, c, &d, actor, r))
}

pub async fn expense_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_expense(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// `POST /c/{code}/expenses/{id}/decide`: the next step approves (the last pays) or refuses.
pub async fn decide_expense(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let f = Fields::new(&m);
    let result = match f.text("decision").as_str() {
        "approved" => expenses::decide(&state, &actor, &c, id, true, f.opt("note").as_deref()).await,
        "refused" => expenses::decide(&state, &actor, &c, id, false, f.opt("note").as_deref()).await,
        _ => Err(AppError::field("decision", "validation.choice")),
    };
    match result {
        Ok(e) if e.status == ExpenseStatus::Refused => Ok(done(&format!("/c/{code}/expenses/{id}"), Notice::Rejected)),
        Ok(_) => Ok(done(&format!("/c/{code}/expenses/{id}"), Notice::Approved)),
        Err(e) => {
            let action = format!("/c/{code}/expenses/{id}/decide");
            ui::refused(
                e,
                ctx,
                &m,
                &action,
                |ctx, r| async move { show_expense(&state, ctx, &actor, &c, id, &r).await },
            )
            .await
        }
    }
}

/// `POST /c/{code}/expenses/{id}/withdraw`.
pub async fn withdraw_expense(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    expenses::withdraw(&state, &actor, &c, id).await?;
    Ok(done(&format!("/c/{code}/expenses/{id}"), Notice::Cancelled))
}

/// `POST /c/{code}/expenses/{id}/public-copy`: the receipt with personal data covered.
pub async fn public_copy(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        // A photo only: a PDF's covered text would still be under the boxes.
        let photos = media::check_uploads(&form.files)?;
        expenses::add_public_copy(&state, &actor, &c, id, &photos).await
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/expenses/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/expenses/{id}/public-copy");
            ui::refused(e, ctx, &form.fields, &action, |ctx, r| async move {
                show_expense(&state, ctx, &actor, &c, id, &r).await
            })
            .await
        }
    }
}

/// `POST /c/{code}/objections/{id}/answer`: staff answer an objection in public.
pub async fn answer_objection(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::disclosure::answer(&state, &actor, &c, id, &Fields::new(&m).text("answer")).await {
        Ok(()) => Ok(done(&format!("/c/{code}/money"), Notice::Sent)),
        Err(e) => {
            let action = format!("/c/{code}/objections/{id}/answer");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                super::staff::show_desk(&state, ctx, &actor, &c, &r).await
            })
            .await
        }
    }
}
