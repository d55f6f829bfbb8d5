//! One proposal's page for those of the community, and the steps taken on it from its
//! forms: screening, rounds, comments, the vote, the decision, the project and milestones.

use askama::Template;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::public::{ProjectData, PublicView, public_view};
use super::{community, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::council::store::{self, Proposal};
use crate::capabilities::council::{CHOICES, Stage};
use crate::error::AppResult;
use crate::web::form::{CsrfForm, Fields, text};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Stat, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// What a proposal's page shows, as read from the database.
pub struct ProposalData {
    pub p: Proposal,
    pub rounds: Vec<store::Round>,
    pub comments: Vec<store::Comment>,
    pub project: ProjectData,
    /// What other capabilities keep that comes from it (the money's project).
    pub related: Vec<crate::web::capability::Related>,
    /// Who voted how, where ballots are open (decided proposals only).
    pub open_ballots: Vec<(String, String)>,
    /// Whether the actor may vote (`Some`) and has voted (`Some(true)`).
    pub me: Option<bool>,
    /// Ballots cast so far, while the vote is open.
    pub voted: i64,
    pub roster: Vec<store::Member>,
    /// The community's proposals, for staff to merge this one into.
    pub others: Vec<Proposal>,
    pub staff: bool,
    /// The time the forms start from.
    pub now: i64,
    pub today: NaiveDate,
}

async fn load(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<ProposalData> {
    let mut conn = state.db.read().await?;
    let p = store::proposal_for(&mut conn, Some(actor), c.id, id).await?;
    let rounds = store::rounds(&mut conn, c.id, id).await?;
    let comments = store::comments(&mut conn, c.id, id).await?;
    let project = store::project(&mut conn, c.id, id).await?;
    let open_ballots = if p.stage.is_decided() { store::open_ballots(&mut conn, &p).await? } else { Vec::new() };
    let me = store::voter_state(&mut conn, actor, &p).await?;
    let (_, _, _, voted) =
        if p.stage == Stage::Voting { store::tally(&mut conn, c.id, id).await? } else { (0, 0, 0, 0) };
    let roster = store::roster(&mut conn, c.id).await?;
    let is_staff = staff(actor, c);
    let others = if is_staff { store::proposals(&mut conn, Some(actor), c.id).await? } else { Vec::new() };
    drop(conn);
    let related = crate::web::capability::related(state, c, "proposal", id).await?;
    Ok(ProposalData {
        p,
        rounds,
        comments,
        project,
        related,
        open_ballots,
        me,
        voted,
        roster,
        others,
        staff: is_staff,
        now: crate::db::now_ms(),
        today: fmt::today(),
    })
}

/// The vote under way: how many voted, whether ballots are secret, and where the actor stands.
pub struct VoteCard {
    pub tag: Option<Tag>,
    pub stats: Vec<Stat>,
    pub note: String,
}

#[derive(Template)]
#[template(path = "council/proposal.html")]
pub struct ProposalPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub public: PublicView,
    pub vote: Option<VoteCard>,
    pub ballot: Option<Form>,
    pub open_ballots: Vec<Item>,
    /// The comments' title and lines, while on the agenda or once there are any.
    pub comments: Option<(String, Vec<Item>)>,
    pub comment: Option<Form>,
    /// What staff do next, in order: screening, rounds, the vote, the project.
    pub steps: Vec<Form>,
}

impl ProposalPage {
    fn forms(&self) -> Vec<&Form> {
        self.ballot.iter().chain(self.comment.iter()).chain(self.steps.iter()).collect()
    }
}

fn vote_card(ctx: &PageCtx, d: &ProposalData) -> VoteCard {
    let tag = match d.me {
        Some(true) => Some(Tag::new(ctx.t("council.you_voted"), Tone::Green)),
        None => Some(Tag::new(ctx.t("council.not_eligible_tag"), Tone::Grey)),
        Some(false) => None,
    };
    VoteCard {
        tag,
        stats: vec![Stat {
            label: ctx.t("council.voted"),
            value: format!("{} / {}", d.voted, d.p.eligible.unwrap_or(0)),
            href: None,
        }],
        note: ctx.t(if d.p.secret.unwrap_or(true) { "council.secret_note" } else { "council.open_note" }),
    }
}

fn proposal_view(ctx: PageCtx, code: &str, d: &ProposalData, r: &Refusal) -> ProposalPage {
    let p = &d.p;
    let stage = p.stage;
    let action = |a: &str| format!("/c/{code}/council/{}/{a}", p.id);
    let voting = stage == Stage::Voting;
    let ballot = (voting && d.me == Some(false)).then(|| {
        let choices = CHOICES.iter().map(|c| (c.to_string(), ctx.t(&format!("council.choice.{c}")))).collect();
        Form::new(ctx.t("council.cast"), action("ballot"), ctx.t("council.cast_submit"))
            .input(Input::new("choice", ctx.t("council.choice"), InputKind::Select(choices)).required())
            .refused(r)
    });
    let open_ballots: Vec<Item> = d
        .open_ballots
        .iter()
        .map(|(name, choice)| Item {
            title: crate::services::pii::mask_name(name),
            sub: ctx.t(&format!("council.choice.{choice}")),
            ..Item::default()
        })
        .collect();
    let comments = (stage == Stage::Agenda || !d.comments.is_empty()).then(|| {
        let items: Vec<Item> = d
            .comments
            .iter()
            .map(|m| Item {
                title: m.body.clone(),
                sub: format!("{} · {}", m.name, fmt::datetime(m.at)),
                ..Item::default()
            })
            .collect();
        (ctx.tr("council.comments", "n", d.comments.len()), items)
    });
    let comment = (stage == Stage::Agenda && (d.me.is_some() || d.staff)).then(|| {
        Form::new(ctx.t("council.comment"), action("comments"), ctx.t("council.comment_submit"))
            .input(Input::new("body", ctx.t("council.comment"), InputKind::TextArea).required())
            .refused(r)
    });
    let steps = if d.staff { staff_steps(&ctx, d, &action) } else { Vec::new() };
    let mut page = ProposalPage {
        title: p.title.clone(),
        crumbs: vec![(format!("/c/{code}/council"), ctx.t("council.title"))],
        alert: None,
        public: public_view(&ctx, p, &d.rounds, &d.project, &d.related),
        vote: voting.then(|| vote_card(&ctx, d)),
        ballot,
        open_ballots,
        comments,
        comment,
        steps: steps.into_iter().map(|f| f.refused(r)).collect(),
        ctx,
    };
    page.alert = r.alert_for(&page.forms());
    page
}

/// The forms staff take the proposal on with, for its stage.
fn staff_steps(ctx: &PageCtx, d: &ProposalData, action: &dyn Fn(&str) -> String) -> Vec<Form> {
    let mut out = Vec::new();
    match d.p.stage {
        Stage::Submitted | Stage::Agenda => out.extend(screening(ctx, d, action)),
        Stage::Voting => out.push(
            Form::new(ctx.t("council.close_vote"), action("close"), ctx.t("council.close_vote"))
                .input(
                    Input::new("decision", ctx.t("council.decision_text"), InputKind::TextArea)
                        .required()
                        .hint(ctx.t("council.decision_hint")),
                )
                .folded(),
        ),
        Stage::Passed => out.extend(project_steps(ctx, d, action)),
        _ => {}
    }
    if d.p.stage == Stage::Agenda {
        out.extend(agenda(ctx, d, action));
    }
    out
}

/// Accepting or declining what was raised, and merging it into another proposal.
fn screening(ctx: &PageCtx, d: &ProposalData, action: &dyn Fn(&str) -> String) -> Vec<Form> {
    let mut out = Vec::new();
    if d.p.stage == Stage::Submitted {
        out.push(
            Form::new(ctx.t("council.accept"), format!("{}?a=accept", action("screen")), ctx.t("council.accept"))
                .input(Input::hidden("action", "accept")),
        );
        out.push(
            Form::new(ctx.t("council.decline"), format!("{}?a=decline", action("screen")), ctx.t("council.decline"))
                .input(Input::hidden("action", "decline"))
                .input(Input::new("reason", ctx.t("council.reason"), InputKind::TextArea).required())
                .danger(ctx.t("council.decline_confirm"))
                .folded(),
        );
    }
    let targets: Vec<(String, String)> = d
        .others
        .iter()
        .filter(|o| o.id != d.p.id && matches!(o.stage, Stage::Submitted | Stage::Agenda))
        .map(|o| (o.id.to_string(), o.title.clone()))
        .collect();
    if !targets.is_empty() {
        out.push(
            Form::new(ctx.t("council.merge"), format!("{}?a=merge", action("screen")), ctx.t("council.merge"))
                .input(Input::hidden("action", "merge"))
                .input(Input::new("merge_into", ctx.t("council.merge_into"), InputKind::Select(targets)).required())
                .input(Input::new("reason", ctx.t("council.reason"), InputKind::TextArea))
                .folded(),
        );
    }
    out
}

/// On the agenda: recording a round, and putting the proposal to the vote.
fn agenda(ctx: &PageCtx, d: &ProposalData, action: &dyn Fn(&str) -> String) -> [Form; 2] {
    let present = d.roster.iter().map(|m| (m.user_id.to_string(), m.name.clone())).collect();
    [
        Form::new(ctx.tr("council.add_round", "n", d.rounds.len() + 1), action("rounds"), ctx.t("common.save"))
            .input(
                Input::new("held_at", ctx.t("council.held_at"), InputKind::DateTime)
                    .required()
                    .value(fmt::local_input(d.now)),
            )
            .input(Input::new("place", ctx.t("council.place"), InputKind::Text).required())
            .input(Input::new("present", ctx.t("council.present"), InputKind::Many(present)))
            .input(Input::new("minutes", ctx.t("council.minutes"), InputKind::TextArea).required())
            .folded(),
        Form::new(ctx.t("council.open_vote"), action("vote"), ctx.t("council.open_vote"))
            .input(
                Input::new("opens_at", ctx.t("council.opens_at"), InputKind::DateTime).value(fmt::local_input(d.now)),
            )
            .input(
                Input::new("closes_at", ctx.t("council.closes_at"), InputKind::DateTime)
                    .required()
                    .value(fmt::local_input(d.now + 7 * 24 * 3_600_000)),
            )
            .folded(),
    ]
}

/// Passed: making the project, then marking its milestones done and adding more.
fn project_steps(ctx: &PageCtx, d: &ProposalData, action: &dyn Fn(&str) -> String) -> Vec<Form> {
    let Some((_, ms)) = &d.project else {
        return vec![
            Form::new(ctx.t("council.make_project"), action("project"), ctx.t("common.save"))
                .input(
                    Input::new("title", ctx.t("council.project_title"), InputKind::Text).required().value(&d.p.title),
                )
                .input(Input::new("owner_name", ctx.t("council.owner"), InputKind::Text).required())
                .input(Input::new("budget_yuan", ctx.t("council.budget"), InputKind::Number).value(0))
                .input(Input::new("budget_line", ctx.t("council.budget_line"), InputKind::Text))
                .input(
                    Input::new("milestones", ctx.t("council.milestones"), InputKind::TextArea)
                        .required()
                        .hint(ctx.t("council.milestones_hint")),
                ),
        ];
    };
    let mut out = Vec::new();
    let open: Vec<(String, String)> = ms
        .iter()
        .filter(|m| m.done_on.is_none())
        .map(|m| (m.id.to_string(), format!("{}. {}", m.seq, m.title)))
        .collect();
    if !open.is_empty() {
        out.push(
            Form::new(ctx.t("council.milestone_done"), action("milestones"), ctx.t("common.save"))
                .input(Input::new("milestone_id", ctx.t("council.milestone"), InputKind::Select(open)).required())
                .input(Input::new("done_on", ctx.t("council.done_on"), InputKind::Date).required().value(d.today))
                .input(Input::new("note", ctx.t("council.note"), InputKind::TextArea)),
        );
    }
    out.push(
        Form::new(ctx.t("council.add_milestone"), format!("{}?add=1", action("milestones")), ctx.t("common.save"))
            .input(Input::new("title", ctx.t("council.milestone"), InputKind::Text).required())
            .input(Input::new("note", ctx.t("council.note"), InputKind::TextArea))
            .folded(),
    );
    out
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let d = load(state, actor, c, id).await?;
    render(&proposal_view(ctx, &c.code, &d, r))
}

pub async fn proposal_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// Runs one step of a proposal from a form, and shows the proposal again (refused or not).
async fn step<F, Fut, T>(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    code: String,
    id: i64,
    m: Map<String, Value>,
    form_action: String,
    ok: Notice,
    run: F,
) -> PageResult
where
    F: FnOnce(AppState, Actor, i64) -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let c = community(&state, &actor, &code).await?;
    match run(state.clone(), actor.clone(), c.id).await {
        Ok(_) => Ok(done(&format!("/c/{code}/council/{id}"), ok)),
        Err(e) => {
            ui::refused(e, ctx, &m, &form_action, |ctx, r| async move { show(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}

pub async fn screen(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let a = text(&m, "action");
    let form_action = format!("/c/{code}/council/{id}/screen?a={a}");
    let (merge, reason, parsed) = {
        let mut f = Fields::new(&m);
        (f.id("merge_into"), f.opt("reason"), f.checked())
    };
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        parsed?;
        store::screen(&s, &actor, c, id, &a, merge, reason.as_deref()).await
    })
    .await
}

pub async fn add_round(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let form_action = format!("/c/{code}/council/{id}/rounds");
    let (present, held, place, minutes, parsed) = {
        let mut f = Fields::new(&m);
        (f.ids("present"), f.when("held_at"), f.text("place"), f.text("minutes"), f.checked())
    };
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        parsed?;
        store::add_round(&s, &actor, c, id, held, &place, &minutes, &present).await
    })
    .await
}

pub async fn comment(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let form_action = format!("/c/{code}/council/{id}/comments");
    let body = text(&m, "body");
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        store::comment(&s, &actor, c, id, &body).await
    })
    .await
}

pub async fn open_vote(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let form_action = format!("/c/{code}/council/{id}/vote");
    let (opens, closes, parsed) = {
        let mut f = Fields::new(&m);
        (f.when("opens_at"), f.when("closes_at"), f.checked())
    };
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        parsed?;
        store::open_vote(&s, &actor, c, id, opens, closes).await
    })
    .await
}

pub async fn ballot(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let form_action = format!("/c/{code}/council/{id}/ballot");
    let choice = text(&m, "choice");
    step(state, ctx, actor, code, id, m, form_action, Notice::Voted, |s, actor, c| async move {
        store::ballot(&s, &actor, c, id, &choice).await
    })
    .await
}

pub async fn close_vote(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let form_action = format!("/c/{code}/council/{id}/close");
    let decision = text(&m, "decision");
    step(state, ctx, actor, code, id, m, form_action, Notice::Decided, |s, actor, c| async move {
        store::close_vote(&s, &actor, c, id, &decision).await
    })
    .await
}

/// Milestones typed one per line, each `title` or `title | 2027-03-31`.
pub fn milestone_lines(text: &str) -> Vec<(String, Option<chrono::NaiveDate>)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.rsplit_once(['|', '｜']) {
            Some((t, d)) => match chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
                Ok(d) => (t.trim().to_string(), Some(d)),
                Err(_) => (l.to_string(), None),
            },
            None => (l.to_string(), None),
        })
        .collect()
}

pub async fn project(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let form_action = format!("/c/{code}/council/{id}/project");
    let (title, owner, budget, line, milestones, parsed) = {
        let mut f = Fields::new(&m);
        let budget = f.int("budget_yuan").unwrap_or(0);
        let milestones = milestone_lines(&f.text("milestones"));
        (f.text("title"), f.text("owner_name"), budget, f.opt("budget_line"), milestones, f.checked())
    };
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        parsed?;
        store::make_project(&s, &actor, c, id, &title, &owner, budget, line, &milestones).await
    })
    .await
}

pub async fn milestone(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    // Marking one done names it, adding one does not: a milestone given that does not
    // parse is refused on the form that gave it.
    let (adding, mid, title, done, note, parsed) = {
        let mut f = Fields::new(&m);
        let adding = f.opt("milestone_id").is_none();
        (adding, f.id("milestone_id"), f.opt("title"), f.date("done_on"), f.opt("note"), f.checked())
    };
    let form_action = if adding {
        format!("/c/{code}/council/{id}/milestones?add=1")
    } else {
        format!("/c/{code}/council/{id}/milestones")
    };
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        parsed?;
        store::milestone(&s, &actor, c, id, mid, title, done, note).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::super::sample_proposal;
    use super::*;

    fn data(stage: Stage, me: Option<bool>, staff: bool) -> ProposalData {
        ProposalData {
            p: sample_proposal("楼顶加装晾衣架", stage),
            rounds: Vec::new(),
            comments: vec![store::Comment { id: 1, name: "王".into(), at: 0, body: "<script>x</script>".into() }],
            project: None,
            related: Vec::new(),
            open_ballots: Vec::new(),
            me,
            voted: 3,
            roster: Vec::new(),
            others: Vec::new(),
            staff,
            now: 0,
            today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        }
    }

    fn html(d: &ProposalData, r: &Refusal) -> String {
        proposal_view(crate::web::tests::ctx(), "1", d, r).render().unwrap()
    }

    #[test]
    fn a_voter_casts_one_ballot_and_then_sees_that_they_voted() {
        let before = html(&data(Stage::Voting, Some(false), false), &Refusal::none());
        assert!(before.contains("表决中"), "{before}");
        assert!(before.contains(r#"action="/c/1/council/7/ballot""#), "{before}");
        assert!(before.contains(r#"<select id="c-1-council-7-ballot-choice" name="choice">"#), "{before}");
        assert!(!before.contains("你已投票"));
        let after = html(&data(Stage::Voting, Some(true), false), &Refusal::none());
        assert!(after.contains("你已投票") && !after.contains("/ballot\""), "{after}");
        assert!(!after.contains("/close\""), "closing the vote is for staff");
    }

    #[test]
    fn what_residents_typed_stays_text() {
        let page = html(&data(Stage::Agenda, Some(false), false), &Refusal::none());
        assert!(!page.contains("<script>x"), "{page}");
        assert!(page.contains("&#60;script&#62;x") || page.contains("&lt;script&gt;x"), "{page}");
        assert!(page.contains(r#"action="/c/1/council/7/comments""#), "on the agenda, voters comment");
    }

    #[test]
    fn a_refused_decision_is_named_on_its_field_and_its_form_opens() {
        let r = Refusal {
            form_id: Form::id_for("/c/1/council/7/close"),
            errors: [("decision".to_string(), "请填写决议".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let page = proposal_view(crate::web::tests::ctx(), "1", &data(Stage::Voting, None, true), &r);
        assert_eq!(page.alert.as_deref(), Some("有几项需要修改"));
        assert!(page.steps.iter().any(|f| f.action.ends_with("/close") && !f.folded), "the refused form opens");
        let html = page.render().unwrap();
        assert!(html.contains(r#"id="e-c-1-council-7-close-decision""#) && html.contains("请填写决议"), "{html}");
    }

    #[test]
    fn milestones_are_typed_one_a_line_with_an_optional_date() {
        let m = super::milestone_lines("清淤 | 2027-01-15\n\n  砌护岸｜2027-03-01 \n验收\n路灯 | 明年");
        assert_eq!(m.len(), 4);
        assert_eq!(m[0], ("清淤".to_string(), chrono::NaiveDate::from_ymd_opt(2027, 1, 15)));
        assert_eq!(m[1].0, "砌护岸");
        assert_eq!(m[2], ("验收".to_string(), None));
        assert_eq!(m[3], ("路灯 | 明年".to_string(), None), "a line that is not a date keeps its text");
    }
}
