//! The money report 资金统计报告 as a PDF in Chinese: the figures of a community or a
//! subdistrict (gifts by who gave, income, funds, projects by state, on time or late,
//! spending against budget) and, for a subdistrict, each community's line.

use super::stats::{Figures, Timing, spent_percent};
use super::yuan;
use crate::error::AppResult;
use crate::i18n::{Lang, t};
use crate::services::pdf::Report;

fn zh(key: &str) -> String {
    t(Lang::Zh, key)
}

/// The report's bytes: `all` is the whole scope's figures, `per` each community's (a
/// subdistrict's) or empty.
pub fn pdf(all: &Figures, per: &[Figures], title: &str, on: &str) -> AppResult<Vec<u8>> {
    let mut r = Report::new();
    r.title(title);
    r.paragraph(&format!("统计日期：{on}。金额单位：元。数据取自 linli 资金台账，与社区资金公示一致。"));
    let (received, paid, balance) = all.money();
    let gifts = all.gifts();
    let (budget, spent) = all.budget();
    r.heading("总体情况");
    r.paragraph(&format!(
        "收到捐款 {} 笔，共 {} 元；实物捐赠 {} 批，估值 {} 元；服务收益与拨款 {} 元。各基金共收入 {} 元，支出 {} 元，余额 {} 元。",
        gifts.count,
        yuan(gifts.fen),
        all.in_kind.count,
        yuan(all.in_kind.fen),
        yuan(all.incomes().fen),
        yuan(received),
        yuan(paid),
        yuan(balance)
    ));
    r.paragraph(&format!(
        "惠民项目 {} 个，预算 {} 元，已支出 {} 元（{}%）；按计划推进 {} 个，滞后 {} 个。",
        all.projects.len(),
        yuan(budget),
        yuan(spent),
        spent_percent(spent, budget),
        all.count(Timing::OnTime),
        all.count(Timing::Late)
    ));
    r.heading("捐款来源");
    let rows: Vec<Vec<String>> = all
        .by_donor
        .iter()
        .map(|(k, s)| vec![zh(&format!("money.donor_kind.{}", k.as_str())), s.count.to_string(), yuan(s.fen)])
        .chain(all.by_channel.iter().map(|(k, s)| {
            vec![format!("{}（方式）", zh(&format!("money.channel.{}", k.as_str()))), s.count.to_string(), yuan(s.fen)]
        }))
        .chain(
            all.income
                .iter()
                .map(|(k, s)| vec![zh(&format!("money.fund_kind.{}", k.as_str())), s.count.to_string(), yuan(s.fen)]),
        )
        .collect();
    r.table(&[0.0, 0.5, 0.7], &["来源".into(), "笔数".into(), "金额".into()], &rows);
    if !per.is_empty() {
        r.heading("各社区");
        let rows: Vec<Vec<String>> = per
            .iter()
            .map(|f| {
                let (received, paid, balance) = f.money();
                vec![
                    f.name.clone(),
                    yuan(received),
                    yuan(paid),
                    yuan(balance),
                    f.projects.len().to_string(),
                    f.count(Timing::Late).to_string(),
                ]
            })
            .collect();
        let head = ["社区", "收入", "支出", "余额", "项目", "滞后"].map(String::from);
        r.table(&[0.0, 0.3, 0.5, 0.66, 0.82, 0.91], &head, &rows);
    }
    r.heading("基金");
    let rows: Vec<Vec<String>> = all
        .funds
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                zh(&format!("money.fund_kind.{}", f.kind.as_str())),
                yuan(f.totals.received),
                yuan(f.totals.paid),
                yuan(f.totals.balance),
            ]
        })
        .collect();
    let head = ["基金", "类别", "收入", "支出", "余额"].map(String::from);
    r.table(&[0.0, 0.36, 0.52, 0.68, 0.84], &head, &rows);
    r.heading("项目");
    let state_counts: Vec<String> = all
        .by_status()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{} {n} 个", zh(&format!("money.project.{}", s.as_str()))))
        .collect();
    r.paragraph(&state_counts.join("，"));
    let rows: Vec<Vec<String>> = all
        .projects
        .iter()
        .map(|p| {
            vec![
                p.title.clone(),
                zh(&format!("money.project.{}", p.status.as_str())),
                yuan(p.budget_fen),
                yuan(p.spent_fen),
                format!("{}%", p.progress),
                zh(&format!("money.timing.{}", p.timing.as_str())),
            ]
        })
        .collect();
    let head = ["项目", "状态", "预算", "支出", "进度", "计划"].map(String::from);
    r.table(&[0.0, 0.4, 0.52, 0.68, 0.83, 0.91], &head, &rows);
    r.finish(title.to_string())
}
