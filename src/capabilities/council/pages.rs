//! Pages of the council: the proposals with the rules and the roster, a proposal from
//! screening through rounds, comments and the vote to its decision and project; and the
//! public pages where anyone follows proposals, tallies and progress.
//!
//! This file holds what they share (the community, a proposal's tag and tally line); the
//! council's own page is in `list`, a proposal's page and its steps in `proposal`, the
//! public pages in `public`. Each page loads its data, builds its view from `web::ui`
//! parts, and its template (`templates/council/`) draws it.

mod list;
mod proposal;
mod public;

use super::Stage;
use super::store::Proposal;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::ui::{Item, Tag, Tone};
use crate::web::{PageCtx, fmt};

pub use list::{members, proposals, raise, settings};
pub use proposal::{
    add_round, ballot, close_vote, comment, milestone, milestone_lines, open_vote, project, proposal_page, screen,
};
pub use public::{board, public_council, public_proposal};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn staff(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageParticipation)
}

fn stage_tag(ctx: &PageCtx, s: Stage) -> Tag {
    let tone = match s {
        Stage::Submitted | Stage::Agenda => Tone::Orange,
        Stage::Voting => Tone::Blue,
        Stage::Passed => Tone::Green,
        _ => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("council.stage.{}", s.as_str())), tone)
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The tally as a line: for, against, abstain, turnout, and the result.
fn tally_line(ctx: &PageCtx, p: &Proposal) -> Option<String> {
    let o = p.outcome()?;
    Some(format!(
        "{} {} · {} {} · {} {} · {} {}（{}/{}）",
        ctx.t("council.choice.for"),
        p.votes_for.unwrap_or(0),
        ctx.t("council.choice.against"),
        p.votes_against.unwrap_or(0),
        ctx.t("council.choice.abstain"),
        p.votes_abstain.unwrap_or(0),
        ctx.t("council.turnout"),
        pct(o.turnout),
        o.cast,
        p.eligible.unwrap_or(0),
    ))
}

fn proposal_item(ctx: &PageCtx, href: String, p: &Proposal, progress: Option<u32>, public: bool) -> Item {
    let by = if public { crate::services::pii::mask_name(&p.raised_by_name) } else { p.raised_by_name.clone() };
    let mut sub = vec![by, fmt::datetime(p.created_at)];
    if let Some(t) = tally_line(ctx, p) {
        sub.push(t);
    }
    if let Some(pr) = progress {
        sub.push(format!("{} {pr}%", ctx.t("council.progress")));
    }
    Item { title: p.title.clone(), sub: sub.join(" · "), href: Some(href), tag: Some(stage_tag(ctx, p.stage)) }
}

/// A proposal as plain data for the views' tests.
#[cfg(test)]
fn sample_proposal(title: &str, stage: Stage) -> Proposal {
    Proposal {
        community_id: 1,
        id: 7,
        title: title.into(),
        body: "<script>x</script>".into(),
        scope_kind: super::ScopeKind::Community,
        scope_id: None,
        raised_by: 2,
        raised_by_name: "王小明".into(),
        stage,
        merged_into: None,
        reason: None,
        voters: Some("household".into()),
        quorum_pct: Some(50),
        majority_pct: Some(50),
        secret: Some(true),
        eligible: Some(10),
        opens_at: None,
        closes_at: None,
        votes_for: Some(6),
        votes_against: Some(2),
        votes_abstain: Some(1),
        decided_at: None,
        decision: Some("<script>x</script>".into()),
        created_at: 0,
        updated_at: 0,
    }
}
