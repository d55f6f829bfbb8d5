//! Pages of money and projects: staff's pages (`staff`: the money desk, a fund, a gift;
//! `work`: a project and an expense with their forms) and the public disclosure 公示
//! (`public`), open without sign-in. Each page is a list of blocks built by plain
//! functions from loaded data; one template (`ui::BlocksPage`) draws them.

mod gift;
mod goods;
mod public;
mod staff;
mod stats;
mod work;

use super::{ExpenseStatus, FundKind, ProjectStatus, yuan};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::AppResult;
use crate::web::PageCtx;
use crate::web::ui::{Block, BlocksPage, Kpi, Tag, Tone};

pub use gift::{donation_page, receipt_pdf, reverse};
pub use goods::{goods_page, hand_out, record_goods};
pub use public::{
    board, comment, movements_csv, object, public_expense, public_fund, public_ledger, public_media, public_money,
    public_project,
};
pub use staff::{close_fund, create_fund, desk, donate, fund_page, home, publish_disclosure, receive, set_managers};
pub use stats::{
    community_ledger, community_report, community_stats, subdistrict_ledger, subdistrict_report, subdistrict_stats,
};
pub use work::{
    add_milestone, answer_objection, ask_expense, create_project, decide_expense, expense_page, fund_project,
    milestone_done, move_project, project_page, project_photos, public_copy, withdraw_expense,
};

fn keeper(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageMoney)
}

async fn community(state: &crate::web::AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn choices(ctx: &PageCtx, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| (v.to_string(), ctx.t(&format!("{prefix}.{v}")))).collect()
}

/// Yuan with its sign: "¥59,100.00".
fn money(fen: i64) -> String {
    format!("¥{}", yuan(fen))
}

fn kpi(label: String, value: String) -> Kpi {
    Kpi { label, value, ..Kpi::default() }
}

fn project_tag(ctx: &PageCtx, s: ProjectStatus) -> Tag {
    let tone = match s {
        ProjectStatus::Proposed | ProjectStatus::Suspended => Tone::Orange,
        ProjectStatus::Approved | ProjectStatus::InProgress => Tone::Blue,
        ProjectStatus::Completed | ProjectStatus::Accepted => Tone::Green,
        ProjectStatus::Cancelled => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("money.project.{}", s.as_str())), tone)
}

fn expense_tag(ctx: &PageCtx, s: ExpenseStatus) -> Tag {
    let tone = match s {
        ExpenseStatus::Pending => Tone::Orange,
        ExpenseStatus::Paid => Tone::Green,
        ExpenseStatus::Refused | ExpenseStatus::Withdrawn => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("money.expense.{}", s.as_str())), tone)
}

/// A gift reversed as recorded by mistake keeps its line, tagged.
fn reversed_tag(ctx: &PageCtx, d: &super::store::donations::Donation) -> Option<Tag> {
    d.reversed_at.map(|_| Tag::new(ctx.t("money.reversed_tag"), Tone::Grey))
}

fn fund_kind(ctx: &PageCtx, k: FundKind) -> String {
    ctx.t(&format!("money.fund_kind.{}", k.as_str()))
}

/// How far a drive is to its target, in whole percent (at most 100).
fn reached(received: i64, target: Option<i64>) -> Option<i64> {
    target.filter(|t| *t > 0).map(|t| (received.saturating_mul(100) / t).min(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drive_reaches_its_target_in_whole_percent() {
        assert_eq!(reached(2_955_000, Some(5_910_000)), Some(50));
        assert_eq!(reached(9_000_000, Some(5_910_000)), Some(100));
        assert_eq!(reached(1, None), None);
        assert_eq!(money(5_910_000), "¥59,100.00");
    }
}
