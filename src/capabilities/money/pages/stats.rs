//! Money's figures 资金统计 for a community (its keepers, the subdistrict over it) or a
//! subdistrict, community by community: charts and tables on a page, the money ledger
//! 资金台账 in Excel, and the report as a PDF in Chinese.

use axum::extract::{Path, State};

use super::super::stats::{Figures, Timing, spent_percent};
use super::super::store::stats::{self as store, Scope, community_scope, figures_of, subdistrict_scope};
use super::{Block, BlocksPage, kpi, money, project_tag};
use crate::i18n::{Lang, t};
use crate::web::ui::{Bars, Cell, Refusal, Table};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, fmt, render};

fn label(ctx: &PageCtx, prefix: &str, key: &str) -> String {
    ctx.t(&format!("{prefix}.{key}"))
}

/// The page's blocks: key figures, charts, then the tables.
pub fn stats_view(
    ctx: PageCtx,
    title: String,
    base: &str,
    crumbs: Vec<(String, String)>,
    all: &Figures,
    per: &[Figures],
) -> BlocksPage {
    let (received, paid, balance) = all.money();
    let (budget, spent) = all.budget();
    let gifts = all.gifts();
    let mut blocks = vec![
        Block::Card(
            title.clone(),
            None,
            vec![],
            Some(ctx.t("money.stats_hint")),
            vec![
                (format!("{base}/ledger.xlsx"), ctx.t("money.stats_ledger")),
                (format!("{base}/report.pdf"), ctx.t("money.stats_report")),
            ],
        ),
        Block::Kpis(vec![
            kpi(ctx.tr("money.gifts_n", "n", gifts.count), money(gifts.fen)),
            kpi(ctx.tr("money.goods_n", "n", all.in_kind.count), money(all.in_kind.fen)),
            kpi(ctx.t("money.income"), money(all.incomes().fen)),
            kpi(ctx.t("money.received"), money(received)),
            kpi(ctx.t("money.paid"), money(paid)),
            kpi(ctx.t("money.balance"), money(balance)),
            kpi(ctx.t("money.projects"), all.projects.len().to_string()),
            kpi(ctx.t("money.timing.late"), all.count(Timing::Late).to_string()),
            kpi(ctx.t("money.spent_of_budget"), format!("{}%", spent_percent(spent, budget))),
        ]),
    ];
    blocks.extend(charts(&ctx, all));
    let sources: Vec<Vec<Cell>> = all
        .by_donor
        .iter()
        .map(|(k, s)| (label(&ctx, "money.donor_kind", k.as_str()), s))
        .chain(
            all.by_channel
                .iter()
                .map(|(k, s)| (ctx.tr("money.by_channel_row", "name", label(&ctx, "money.channel", k.as_str())), s)),
        )
        .chain(all.income.iter().map(|(k, s)| (label(&ctx, "money.fund_kind", k.as_str()), s)))
        .map(|(name, s)| vec![Cell::text(name), Cell::text(s.count.to_string()), Cell::text(money(s.fen))])
        .collect();
    let head = |keys: &[&str]| keys.iter().map(|k| ctx.t(k)).collect::<Vec<_>>();
    blocks.push(Block::Table(
        ctx.t("money.sources"),
        table(head(&["money.source", "money.count", "money.amount"]), sources, &ctx),
    ));
    if !per.is_empty() {
        blocks.extend(communities(&ctx, per));
    }
    let funds = all
        .funds
        .iter()
        .map(|f| {
            vec![
                Cell::text(f.name.clone()),
                Cell::text(label(&ctx, "money.fund_kind", f.kind.as_str())),
                Cell::text(money(f.totals.received)),
                Cell::text(money(f.totals.paid)),
                Cell::text(money(f.totals.balance)),
            ]
        })
        .collect();
    let h = head(&["money.fund_name", "money.fund_kind", "money.received", "money.paid", "money.balance"]);
    blocks.push(Block::Table(ctx.t("money.funds"), table(h, funds, &ctx)));
    let projects = all
        .projects
        .iter()
        .map(|p| {
            vec![
                Cell::text(p.title.clone()),
                Cell::text(project_tag(&ctx, p.status).text),
                Cell::text(money(p.budget_fen)),
                Cell::text(money(p.spent_fen)),
                Cell::text(format!("{}%", spent_percent(p.spent_fen, p.budget_fen))),
                Cell::text(format!("{}%", p.progress)),
                Cell::text(label(&ctx, "money.timing", p.timing.as_str())),
            ]
        })
        .collect();
    let h = head(&[
        "money.project",
        "money.status",
        "money.budget",
        "money.spent",
        "money.spent_of_budget",
        "money.progress",
        "money.timing",
    ]);
    blocks.push(Block::Table(ctx.t("money.projects"), table(h, projects, &ctx)));
    BlocksPage::new(ctx, title, crumbs, blocks, &Refusal::none())
}

/// Gifts by who gave and projects by state, as charts (none drawn for nothing).
fn charts(ctx: &PageCtx, all: &Figures) -> Vec<Block> {
    let mut out = Vec::new();
    let by_donor: Vec<(String, f64)> = all
        .by_donor
        .iter()
        .filter(|(_, s)| s.fen > 0)
        .map(|(k, s)| (label(ctx, "money.donor_kind", k.as_str()), s.fen as f64 / 100.0))
        .collect();
    if !by_donor.is_empty() {
        out.push(Block::Chart(Bars::new(ctx.t("money.by_donor"), &by_donor, " 元")));
    }
    let by_status: Vec<(String, f64)> = all
        .by_status()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| (label(ctx, "money.project", s.as_str()), n as f64))
        .collect();
    if !by_status.is_empty() {
        out.push(Block::Chart(Bars::new(ctx.t("money.by_status"), &by_status, "")));
    }
    out
}

/// A subdistrict's communities side by side: what each received, paid and holds.
fn communities(ctx: &PageCtx, per: &[Figures]) -> Vec<Block> {
    let bars: Vec<(String, f64)> = per.iter().map(|f| (f.name.clone(), f.money().0 as f64 / 100.0)).collect();
    let rows = per
        .iter()
        .map(|f| {
            let (r, p, b) = f.money();
            vec![
                Cell::link(f.name.clone(), format!("/c/{}/money/stats", f.code)),
                Cell::text(money(r)),
                Cell::text(money(p)),
                Cell::text(money(b)),
                Cell::text(f.projects.len().to_string()),
                Cell::text(f.count(Timing::Late).to_string()),
            ]
        })
        .collect();
    let head =
        ["entity.community", "money.received", "money.paid", "money.balance", "money.projects", "money.timing.late"]
            .iter()
            .map(|k| ctx.t(k))
            .collect();
    vec![
        Block::Chart(Bars::new(ctx.t("money.received"), &bars, " 元")),
        Block::Table(ctx.t("entity.community"), table(head, rows, ctx)),
    ]
}

fn table(head: Vec<String>, rows: Vec<Vec<Cell>>, ctx: &PageCtx) -> Table {
    Table { head, rows, empty: ctx.t("common.none"), sort: Vec::new() }
}

async fn page(state: AppState, ctx: PageCtx, scope: Scope) -> PageResult {
    let (all, per) = figures_of(&state, &scope).await?;
    let title = format!("{} · {}", scope.title, ctx.t("money.stats"));
    let per = if scope.subdistrict { per } else { Vec::new() };
    // Back to the community's money desk, or to home for a subdistrict.
    let crumbs = match scope.communities.as_slice() {
        [(c, _)] if !scope.subdistrict => vec![(format!("/c/{}/money", c.code), ctx.t("money.title"))],
        _ => Vec::new(),
    };
    render(&stats_view(ctx, title, &scope.base, crumbs, &all, &per))
}

/// `GET /c/{code}/money/stats`.
pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let scope = community_scope(&state, &actor, &code).await?;
    page(state, ctx, scope).await
}

/// `GET /subdistricts/{id}/money/stats`.
pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let scope = subdistrict_scope(&state, &actor, id).await?;
    page(state, ctx, scope).await
}

/// The money ledger: a sheet each of gifts, income, expenses, gifts in kind and
/// projects, every community of the scope in them, read one community at a time.
async fn ledger(state: AppState, scope: Scope) -> PageResult {
    let zh = |k: &str| t(Lang::Zh, k);
    let mut sheets: [Vec<Vec<String>>; 5] = Default::default();
    for (c, keeps) in &scope.communities {
        let mut conn = state.db.read_over(&[c.id]).await?;
        let rows = store::ledger_rows(&mut conn, c, *keeps, zh).await?;
        for (sheet, more) in sheets.iter_mut().zip(rows) {
            sheet.extend(more);
        }
    }
    let [gifts, incomes, expenses, goods, projects] = sheets;
    let bytes = crate::services::sheets::xlsx_book(&[
        ("捐款", store::GIFT_HEAD, &gifts),
        ("实物捐赠", store::GOODS_HEAD, &goods),
        ("收入", store::INCOME_HEAD, &incomes),
        ("支出", store::EXPENSE_HEAD, &expenses),
        ("项目", store::PROJECT_HEAD, &projects),
    ])?;
    Ok(crate::services::sheets::download(&scope.title, "资金台账", bytes))
}

/// `GET /c/{code}/money/stats/ledger.xlsx`.
pub async fn community_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let scope = community_scope(&state, &actor, &code).await?;
    ledger(state, scope).await
}

/// `GET /subdistricts/{id}/money/stats/ledger.xlsx`.
pub async fn subdistrict_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let scope = subdistrict_scope(&state, &actor, id).await?;
    ledger(state, scope).await
}

async fn report(state: AppState, scope: Scope) -> PageResult {
    let (all, per) = figures_of(&state, &scope).await?;
    let per = if scope.subdistrict { per } else { Vec::new() };
    let title = format!("{}资金统计报告", scope.title);
    let bytes = super::super::report::pdf(&all, &per, &title, &fmt::today().to_string())?;
    Ok(crate::services::pdf::answer("attachment", &format!("{title}.pdf"), bytes))
}

/// `GET /c/{code}/money/stats/report.pdf`.
pub async fn community_report(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let scope = community_scope(&state, &actor, &code).await?;
    report(state, scope).await
}

/// `GET /subdistricts/{id}/money/stats/report.pdf`.
pub async fn subdistrict_report(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let scope = subdistrict_scope(&state, &actor, id).await?;
    report(state, scope).await
}
