//! The public pages of the council, which anyone may read: open proposals, decisions with
//! their tallies, and the progress of the projects that carry them out.

use askama::Template;
use axum::extract::{Path, State};

use super::{pct, proposal_item, stage_tag};
use crate::capabilities::council::store::{self, Proposal};
use crate::capabilities::council::{self, CHOICES, Stage};
use crate::error::AppResult;
use crate::web::ui::{Bars, Item, Stat, Tag, Tone};
use crate::web::{AppState, Page, PageCtx, PageResult, fmt, render};

/// A proposal's project with its milestones, as the store gives it.
pub type ProjectData = Option<(store::Project, Vec<store::Milestone>)>;

/// What everyone sees of a proposal: its text, rounds, decision and project (drawn by
/// `templates/council/public_parts.html`, which the proposal pages include).
pub struct PublicView {
    pub title: String,
    pub tag: Option<Tag>,
    pub body: String,
    pub cells: Vec<(String, String)>,
    pub rounds: Vec<RoundView>,
    pub decision: Option<DecisionView>,
    pub project: Option<ProjectView>,
    /// Other capabilities' records that come from it: (page, what it is · its title).
    pub related: Vec<(String, String)>,
}

pub struct RoundView {
    pub title: String,
    pub minutes: String,
    pub cells: Vec<(String, String)>,
}

/// The decision with its tally, in figures and as a chart.
pub struct DecisionView {
    pub tag: Option<Tag>,
    pub text: Option<String>,
    pub stats: Vec<Stat>,
    pub cells: Vec<(String, String)>,
    pub bars: Bars,
}

pub struct ProjectView {
    pub title: String,
    pub stats: Vec<Stat>,
    pub cells: Vec<(String, String)>,
    pub milestones: Vec<Item>,
}

fn stat(label: String, value: impl ToString) -> Stat {
    Stat { label, value: value.to_string(), href: None }
}

pub(super) fn public_view(
    ctx: &PageCtx,
    p: &Proposal,
    rounds: &[store::Round],
    project: &ProjectData,
    related: &[crate::web::capability::Related],
) -> PublicView {
    let scope = ctx.t(&format!("council.scope.{}", p.scope_kind.as_str()));
    let mut cells = vec![
        (ctx.t("council.raised_by"), crate::services::pii::mask_name(&p.raised_by_name)),
        (ctx.t("council.scope"), scope),
        (ctx.t("council.raised_at"), fmt::datetime(p.created_at)),
    ];
    if let (Some(o), Some(c)) = (p.opens_at, p.closes_at) {
        cells.push((ctx.t("council.window"), format!("{} — {}", fmt::datetime(o), fmt::datetime(c))));
    }
    if let Some(r) = &p.reason {
        cells.push((ctx.t("council.reason"), r.clone()));
    }
    let rounds = rounds
        .iter()
        .map(|r| RoundView {
            title: ctx.tr("council.round_n", "n", r.seq),
            minutes: r.minutes.clone(),
            cells: vec![
                (ctx.t("council.held_at"), fmt::datetime(r.held_at)),
                (ctx.t("council.place"), r.place.clone()),
                (ctx.t("council.present"), r.present.join("、")),
            ],
        })
        .collect();
    PublicView {
        title: p.title.clone(),
        tag: Some(stage_tag(ctx, p.stage)),
        body: p.body.clone(),
        cells,
        rounds,
        decision: decision_view(ctx, p),
        project: project.as_ref().map(|(pr, ms)| project_view(ctx, pr, ms)),
        related: related.iter().map(|r| (r.href.clone(), format!("{} · {}", ctx.t(r.kind_key), r.title))).collect(),
    }
}

fn decision_view(ctx: &PageCtx, p: &Proposal) -> Option<DecisionView> {
    let o = p.outcome()?;
    let votes: Vec<(String, f64)> = CHOICES
        .iter()
        .zip([p.votes_for, p.votes_against, p.votes_abstain])
        .map(|(c, n)| (ctx.t(&format!("council.choice.{c}")), n.unwrap_or(0) as f64))
        .collect();
    Some(DecisionView {
        tag: Some(stage_tag(ctx, p.stage)),
        text: p.decision.clone(),
        stats: vec![
            stat(ctx.t("council.choice.for"), p.votes_for.unwrap_or(0)),
            stat(ctx.t("council.choice.against"), p.votes_against.unwrap_or(0)),
            stat(ctx.t("council.choice.abstain"), p.votes_abstain.unwrap_or(0)),
            stat(ctx.t("council.turnout"), pct(o.turnout)),
        ],
        cells: vec![
            (
                ctx.t("council.eligible"),
                format!(
                    "{}（{}）",
                    p.eligible.unwrap_or(0),
                    ctx.t(&format!("council.voters.{}", p.voters.as_deref().unwrap_or("household")))
                ),
            ),
            (
                ctx.t("council.quorum"),
                format!(
                    "{}% · {}",
                    p.quorum_pct.unwrap_or(0),
                    ctx.t(if o.quorum_met { "council.quorum_met" } else { "council.quorum_missed" })
                ),
            ),
            (ctx.t("council.share_for"), pct(o.share_for)),
            (ctx.t("council.decided_at"), p.decided_at.map(fmt::datetime).unwrap_or_default()),
        ],
        bars: Bars::new(String::new(), &votes, ""),
    })
}

fn project_view(ctx: &PageCtx, pr: &store::Project, ms: &[store::Milestone]) -> ProjectView {
    let done = ms.iter().filter(|m| m.done_on.is_some()).count();
    ProjectView {
        title: format!("{} · {}", ctx.t("council.project"), pr.title),
        stats: vec![stat(ctx.t("council.progress"), format!("{}%", council::progress(done, ms.len())))],
        cells: vec![
            (ctx.t("council.owner"), pr.owner_name.clone()),
            (ctx.t("council.budget"), format!("{} 元", fmt::thousands(pr.budget_yuan))),
            (ctx.t("council.budget_line"), pr.budget_line.clone().unwrap_or_default()),
        ],
        milestones: ms
            .iter()
            .map(|m| Item {
                title: format!("{}. {}", m.seq, m.title),
                sub: [
                    m.due_on.map(|d| format!("{} {d}", ctx.t("council.due_on"))),
                    m.done_on.map(|d| format!("{} {d}", ctx.t("council.done_on"))),
                    m.note.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
                href: None,
                tag: Some(if m.done_on.is_some() {
                    Tag::new(ctx.t("council.done"), Tone::Green)
                } else {
                    Tag::new(ctx.t("council.pending"), Tone::Grey)
                }),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "council/public_list.html")]
pub struct PublicCouncilPage {
    pub ctx: PageCtx,
    pub title: String,
    pub name: String,
    pub links: Vec<(String, String)>,
    pub open: Vec<Item>,
    pub decided: Vec<Item>,
}

/// The public page of the community's proposals, from them and their projects' progress
/// (`None` for those not decided).
fn public_council_view(ctx: PageCtx, name: &str, code: &str, list: &[(Proposal, Option<u32>)]) -> PublicCouncilPage {
    let mut open = Vec::new();
    let mut decided = Vec::new();
    for (p, progress) in list {
        let href = format!("/p/{code}/council/{}", p.id);
        if p.stage.is_decided() {
            decided.push(proposal_item(&ctx, href, p, *progress, true));
        } else {
            open.push(proposal_item(&ctx, href, p, None, true));
        }
    }
    PublicCouncilPage {
        title: format!("{name} · {}", ctx.t("council.public")),
        name: name.to_string(),
        links: vec![
            (format!("/p/{code}/needs"), ctx.t("participation.board")),
            (format!("/p/{code}/registered"), ctx.t("participation.registered_list")),
        ],
        open,
        decided,
        ctx,
    }
}

/// The public proposals, each decided one with its project's progress.
async fn public_list(state: &AppState, community_id: i64) -> AppResult<Vec<(Proposal, Option<u32>)>> {
    let mut conn = state.db.read().await?;
    let list = store::proposals(&mut conn, None, community_id).await?;
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        let progress = if p.stage.is_decided() {
            store::project(&mut conn, community_id, p.id)
                .await?
                .map(|(_, ms)| council::progress(ms.iter().filter(|m| m.done_on.is_some()).count(), ms.len()))
        } else {
            None
        };
        out.push((p, progress));
    }
    Ok(out)
}

/// Open proposals and their stage, and decisions with their tallies and progress.
pub async fn public_council(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let list = public_list(&state, c.id).await?;
    render(&public_council_view(ctx, &c.name, &code, &list))
}

/// The public board's 居务公开: the council's latest decisions, for and against.
pub fn board<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    c: &'a crate::auth::guard::CommunityRef,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::board::BoardPart>>> {
    use crate::web::board::{BoardLine, BoardPart, BoardSection};
    Box::pin(async move {
        let all = store::proposals(&mut state.db.read().await?, None, c.id).await?;
        let lines: Vec<BoardLine> = all
            .iter()
            .filter(|p| matches!(p.stage, Stage::Passed | Stage::Rejected))
            .take(8)
            .map(|p| BoardLine {
                title: p.title.clone(),
                detail: [Some(ctx.t(&format!("council.stage.{}", p.stage.as_str()))), p.decided_at.map(fmt::datetime)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                href: Some(format!("/p/{}/council/{}", c.code, p.id)),
            })
            .collect();
        let more = Some((format!("/p/{}/council", c.code), ctx.t("council.board_more")));
        Ok(if lines.is_empty() {
            Vec::new()
        } else {
            vec![BoardPart { section: BoardSection::Affairs, title: ctx.t("council.board_decisions"), lines, more }]
        })
    })
}

#[derive(Template)]
#[template(path = "council/public_proposal.html")]
pub struct PublicProposalPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub public: PublicView,
    /// Where to sign in and take part, while the proposal is discussed or voted on.
    pub take_part: Vec<(String, String)>,
}

fn public_proposal_view(
    ctx: PageCtx,
    code: &str,
    p: &Proposal,
    rounds: &[store::Round],
    project: &ProjectData,
    related: &[crate::web::capability::Related],
) -> PublicProposalPage {
    let take_part = if p.stage == Stage::Voting || p.stage == Stage::Agenda {
        vec![(format!("/c/{code}/council/{}", p.id), ctx.t("council.take_part"))]
    } else {
        Vec::new()
    };
    PublicProposalPage {
        title: p.title.clone(),
        crumbs: vec![(format!("/p/{code}/council"), ctx.t("council.public"))],
        public: public_view(&ctx, p, rounds, project, related),
        take_part,
        ctx,
    }
}

pub async fn public_proposal(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let p = store::proposal_for(&mut conn, None, c.id, id).await?;
    let rounds = store::rounds(&mut conn, c.id, id).await?;
    let project = store::project(&mut conn, c.id, id).await?;
    drop(conn);
    let related = crate::web::capability::related(&state, &c, "proposal", id).await?;
    render(&public_proposal_view(ctx, &code, &p, &rounds, &project, &related))
}

#[cfg(test)]
mod tests {
    use super::super::sample_proposal;
    use super::*;

    /// A decided proposal on the public page, from plain data: its decision, turnout and
    /// chart, with what residents typed kept as text.
    #[test]
    fn a_decision_shows_its_tally_and_chart_and_escapes_what_was_typed() {
        let ctx = crate::web::tests::ctx();
        let p = sample_proposal("<script>x</script>", Stage::Passed);
        let project = Some((
            store::Project {
                id: 1,
                proposal_id: p.id,
                title: "荷花池".into(),
                owner_name: "<i>黄</i>".into(),
                budget_yuan: 120_000,
                budget_line: None,
            },
            vec![store::Milestone { id: 1, seq: 1, title: "清淤".into(), due_on: None, done_on: None, note: None }],
        ));
        let html = public_proposal_view(ctx, "1", &p, &[], &project, &[]).render().unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&#60;script&#62;x") || html.contains("&lt;script&gt;x"), "{html}");
        assert!(html.contains("投票率") && html.contains(r#"<svg class="chart""#), "{html}");
        assert!(html.contains("120,000") || html.contains("120000"), "{html}");
        assert!(!html.contains("/c/1/council/7"), "no taking part once decided");
    }

    #[test]
    fn the_public_list_parts_open_proposals_from_decisions() {
        let ctx = crate::web::tests::ctx();
        let list = vec![
            (sample_proposal("开着的", Stage::Agenda), None),
            (sample_proposal("<b>定了</b>", Stage::Passed), Some(25)),
        ];
        let html = public_council_view(ctx, "海盛", "1", &list).render().unwrap();
        assert!(html.contains("开着的") && html.contains("25%"), "{html}");
        assert!(!html.contains("<b>定了"), "{html}");
    }
}
