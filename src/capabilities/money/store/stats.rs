//! Reads one community's money figures (`stats::Figures`), summed in the database, and
//! the rows of its money ledger 资金台账 for staff.

use chrono::NaiveDate;

use super::super::stats::{self, Figures, ProjectLine};
use super::super::{Channel, DonorKind, FundKind, gift_cells, yuan};
use super::{donations, funds, projects};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, query};
use crate::error::{AppError, AppResult};
use crate::web::AppState;

/// Where the figures of a scope are, and what they are called.
pub struct Scope {
    pub title: String,
    /// The figures' page.
    pub base: String,
    /// Each community with whether the actor keeps its money (sees donors' names).
    pub communities: Vec<(CommunityRef, bool)>,
    /// A subdistrict's (its communities are listed side by side, even one).
    pub subdistrict: bool,
}

/// A community's figures are for its keepers and the subdistrict over it.
pub async fn community_scope(state: &AppState, actor: &Actor, code: &str) -> AppResult<Scope> {
    let c = guard::visible_community(&state.db, actor, code).await?;
    let keeps = actor.can(c.id, Permission::ManageMoney);
    if !keeps && !actor.manages_subdistrict(c.subdistrict_id) {
        return Err(AppError::NotFound);
    }
    Ok(Scope {
        title: c.name.clone(),
        base: format!("/c/{code}/money/stats"),
        communities: vec![(c, keeps)],
        subdistrict: false,
    })
}

pub async fn subdistrict_scope(state: &AppState, actor: &Actor, id: i64) -> AppResult<Scope> {
    let (name, ids) = guard::subdistrict_communities(&state.db, actor, id).await?;
    let mut communities = Vec::new();
    let mut conn = state.db.read().await?;
    for cid in ids {
        if let Some(c) = guard::community_by_id(&mut conn, cid).await? {
            let keeps = actor.can(c.id, Permission::ManageMoney);
            communities.push((c, keeps));
        }
    }
    Ok(Scope { title: name, base: format!("/subdistricts/{id}/money/stats"), communities, subdistrict: true })
}

/// Each community's figures, one community at a time, and the scope's as one.
pub async fn figures_of(state: &AppState, scope: &Scope) -> AppResult<(Figures, Vec<Figures>)> {
    let mut per = Vec::new();
    for (c, _) in &scope.communities {
        let mut conn = state.db.read_over(&[c.id]).await?;
        per.push(figures(&mut conn, c, crate::web::fmt::today()).await?);
    }
    let all = match per.as_slice() {
        [one] => one.clone(),
        _ => stats::combined(String::new(), scope.title.clone(), &per),
    };
    Ok((all, per))
}

/// The figures of one community on `today`.
pub async fn figures(ex: &mut impl Exec, c: &CommunityRef, today: NaiveDate) -> AppResult<Figures> {
    let mut f = Figures::new(c.code.clone(), c.name.clone());
    let gifts: Vec<(String, String, i64, i64)> = query(
        "SELECT donor_kind, channel, COUNT(*), CAST(SUM(amount_fen) AS BIGINT) FROM donations
         WHERE community_id = $1 AND reversed_at IS NULL GROUP BY donor_kind, channel",
    )
    .bind(c.id)
    .fetch_all(&mut *ex)
    .await?;
    for (kind, channel, n, fen) in gifts {
        if let (Some(k), Some(ch)) = (DonorKind::parse(&kind), Channel::parse(&channel)) {
            f.gift(k, ch, n, fen);
        }
    }
    let (n, value): (i64, i64) =
        query("SELECT COUNT(*), CAST(COALESCE(SUM(value_fen), 0) AS BIGINT) FROM goods WHERE community_id = $1")
            .bind(c.id)
            .fetch_one(&mut *ex)
            .await?;
    f.in_kind.add(n, value);
    let income: Vec<(String, i64, i64)> = query(
        "SELECT f.kind, COUNT(*), CAST(SUM(i.amount_fen) AS BIGINT) FROM incomes i
         JOIN funds f ON f.community_id = i.community_id AND f.id = i.fund_id
         WHERE i.community_id = $1 GROUP BY f.kind",
    )
    .bind(c.id)
    .fetch_all(&mut *ex)
    .await?;
    for (kind, n, fen) in income {
        if let Some(k) = FundKind::parse(&kind) {
            f.earned(k, n, fen);
        }
    }
    f.funds = funds::list(&mut *ex, c.id).await?;
    f.projects = projects::list_with_progress(ex, c.id, today)
        .await?
        .into_iter()
        .map(|(p, progress, timing)| ProjectLine {
            id: p.id,
            title: p.title,
            status: p.status,
            budget_fen: p.budget_fen,
            funded_fen: p.funded_fen,
            spent_fen: p.spent_fen,
            progress,
            timing,
        })
        .collect();
    Ok(f)
}

/// The sheets of the money ledger: (name, headers, rows).
pub type Sheets = Vec<(&'static str, &'static [&'static str], Vec<Vec<String>>)>;

pub const GIFT_HEAD: &[&str] =
    &["社区", "收据编号", "日期", "捐赠人", "类别", "方式", "基金", "金额（元）", "公开署名", "冲正"];
pub const INCOME_HEAD: &[&str] = &["社区", "月份", "来源", "基金", "金额（元）", "备注"];
pub const EXPENSE_HEAD: &[&str] =
    &["社区", "编号", "项目", "基金", "类别", "收款方", "用途", "金额（元）", "状态", "申请时间"];
pub const PROJECT_HEAD: &[&str] = &["社区", "项目", "状态", "预算（元）", "已筹（元）", "已支出（元）", "进度", "计划"];
pub const GOODS_HEAD: &[&str] =
    &["社区", "编号", "日期", "捐赠人", "物品", "数量", "单位", "剩余", "估值（元）", "存放地点"];

/// One community's rows of the ledger's gifts, income, expenses, goods and projects;
/// donors' names in full when `names` (its keepers), else as the public sees them.
pub async fn ledger_rows(
    ex: &mut impl Exec,
    c: &CommunityRef,
    names: bool,
    zh: impl Fn(&str) -> String,
) -> AppResult<[Vec<Vec<String>>; 5]> {
    let mut gifts = Vec::new();
    for d in donations::all(&mut *ex, c.id).await? {
        let who = if names { d.donor_name.clone() } else { d.public_name() };
        let (amount, reversal) = gift_cells(d.amount_fen, d.reversal_reason.as_deref());
        gifts.push(vec![
            c.name.clone(),
            d.number.clone(),
            d.given_on.to_string(),
            who,
            zh(&format!("money.donor_kind.{}", d.donor_kind.as_str())),
            zh(&format!("money.channel.{}", d.channel.as_str())),
            d.fund.clone(),
            amount,
            if d.named { "是" } else { "否" }.to_string(),
            reversal,
        ]);
    }
    let incomes: Vec<(String, String, String, i64, Option<String>)> = query(
        "SELECT i.month, i.source, f.name, i.amount_fen, i.note FROM incomes i
         JOIN funds f ON f.community_id = i.community_id AND f.id = i.fund_id
         WHERE i.community_id = $1 ORDER BY i.month, i.id",
    )
    .bind(c.id)
    .fetch_all(&mut *ex)
    .await?;
    let incomes = incomes
        .into_iter()
        .map(|(month, source, fund, fen, note)| {
            vec![c.name.clone(), month, source, fund, yuan(fen), note.unwrap_or_default()]
        })
        .collect();
    let expenses: Vec<(i64, String, String, String, String, String, i64, String, i64)> = query(
        "SELECT e.id, p.title, f.name, e.category, e.payee, e.purpose, e.amount_fen, e.status, e.created_at
         FROM expenses e JOIN projects p ON p.community_id = e.community_id AND p.id = e.project_id
         JOIN funds f ON f.community_id = e.community_id AND f.id = e.fund_id
         WHERE e.community_id = $1 ORDER BY e.created_at, e.id",
    )
    .bind(c.id)
    .fetch_all(&mut *ex)
    .await?;
    let expenses = expenses
        .into_iter()
        .map(|(id, project, fund, category, payee, purpose, fen, status, at)| {
            vec![
                c.name.clone(),
                id.to_string(),
                project,
                fund,
                zh(&format!("money.category.{category}")),
                payee,
                purpose,
                yuan(fen),
                zh(&format!("money.expense.{status}")),
                crate::web::fmt::datetime(at),
            ]
        })
        .collect();
    let goods = super::goods::list(&mut *ex, c.id)
        .await?
        .into_iter()
        .map(|g| {
            vec![
                c.name.clone(),
                g.number.clone(),
                g.given_on.to_string(),
                if names { g.donor_name.clone() } else { g.public_name() },
                g.item.clone(),
                g.quantity.to_string(),
                g.unit.clone(),
                g.left_qty.to_string(),
                yuan(g.value_fen),
                g.stored_at.clone(),
            ]
        })
        .collect();
    let projects = projects::list_with_progress(ex, c.id, crate::web::fmt::today())
        .await?
        .into_iter()
        .map(|(p, progress, timing)| {
            vec![
                c.name.clone(),
                p.title,
                zh(&format!("money.project.{}", p.status.as_str())),
                yuan(p.budget_fen),
                yuan(p.funded_fen),
                yuan(p.spent_fen),
                format!("{progress}%"),
                zh(&format!("money.timing.{}", timing.as_str())),
            ]
        })
        .collect();
    Ok([gifts, incomes, expenses, goods, projects])
}
