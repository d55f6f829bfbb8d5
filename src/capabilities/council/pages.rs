//! Pages of the council: the proposals with the rules and the roster, a proposal from
//! screening through rounds, comments and the vote to its decision and project; and the
//! public pages where anyone follows proposals, tallies and progress.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::store::{self, Proposal};
use super::{CHOICES, Stage};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::form::{CsrfForm, date, int, list, opt, text, when, yes};
use crate::web::sheet::{Card, Form, Input, InputKind, Item, Sheet, Stat, refused};
use crate::web::ui::{Bars, bars_markup};
use crate::web::{Notice, Page, PageCtx, PageResult, SignedPage, done, fmt};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn staff(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageParticipation)
}

fn stage_tag(ctx: &PageCtx, s: Stage) -> (String, &'static str) {
    let class = match s {
        Stage::Submitted | Stage::Agenda => "tag-orange",
        Stage::Voting => "tag-blue",
        Stage::Passed => "tag-green",
        _ => "tag-grey",
    };
    (ctx.t(&format!("council.stage.{}", s.as_str())), class)
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
    Item { title: p.title.clone(), sub: sub.join(" · "), href: Some(href), tag: Some(stage_tag(ctx, p.stage())) }
}

async fn scopes(state: &AppState, c: &CommunityRef) -> AppResult<Vec<(String, String)>> {
    let mut conn = state.db.read().await?;
    let rows: Vec<(String, i64, String)> = query(
        "SELECT 'grid', id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL
         UNION ALL SELECT 'compound', id, name FROM compounds WHERE community_id = $1 AND archived_at IS NULL ORDER BY 1, 3",
    )
    .bind(c.id)
    .fetch_all(&mut conn)
    .await?;
    let mut out = vec![("community".to_string(), c.name.clone())];
    out.extend(rows.into_iter().map(|(k, id, n)| (format!("{k}:{id}"), n)));
    Ok(out)
}

/// The scope a form names: `community`, `grid:ID` or `compound:ID`.
fn scope_of(m: &Map<String, Value>) -> (String, Option<i64>) {
    let s = text(m, "scope");
    match s.split_once(':') {
        Some((k, id)) => (k.to_string(), id.parse().ok()),
        None => (s, None),
    }
}

async fn proposals_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let list = store::proposals(&mut conn, Some(actor), c.id).await?;
    let roster = store::roster(&mut conn, c.id).await?;
    let (voters, quorum, majority, secret) = store::rules(&mut conn, c.id).await?;
    drop(conn);
    let code = &c.code;
    let mut sheet = Sheet::new(ctx.clone(), ctx.t("council.title"))
        .card(Card {
            title: c.name.clone(),
            text: Some(ctx.t("council.intro")),
            cells: vec![
                (ctx.t("council.voters"), ctx.t(&format!("council.voters.{voters}"))),
                (ctx.t("council.quorum"), format!("{quorum}%")),
                (ctx.t("council.majority"), format!("> {majority}%")),
                (ctx.t("council.secret"), ctx.t(if secret { "common.yes" } else { "common.no" })),
            ],
            links: vec![(format!("/p/{code}/council"), ctx.t("council.public"))],
            ..Card::default()
        })
        .card(Card {
            title: ctx.tr("list.total", "n", list.len()),
            items: list
                .iter()
                .map(|p| proposal_item(&ctx, format!("/c/{code}/council/{}", p.id), p, None, false))
                .collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .form(
            Form::new(ctx.t("council.raise"), format!("/c/{code}/council"), ctx.t("council.raise_submit"))
                .input(Input::new("title", ctx.t("council.proposal_title"), InputKind::Text).required())
                .input(Input::new("body", ctx.t("council.body"), InputKind::TextArea).required())
                .input(
                    Input::new("scope", ctx.t("council.scope"), InputKind::Select(scopes(state, c).await?))
                        .required()
                        .value("community"),
                ),
        );
    if staff(actor, c) {
        let voter_options = ["household", "resident", "council"]
            .iter()
            .map(|v| (v.to_string(), ctx.t(&format!("council.voters.{v}"))))
            .collect();
        sheet = sheet
            .card(Card {
                title: ctx.tr("council.roster", "n", roster.len()),
                items: roster
                    .iter()
                    .map(|m| Item {
                        title: m.name.clone(),
                        sub: m.title.clone().unwrap_or_default(),
                        ..Item::default()
                    })
                    .collect(),
                empty: Some(ctx.t("list.empty")),
                ..Card::default()
            })
            .form(
                Form::new(ctx.t("council.rules"), format!("/c/{code}/council/settings"), ctx.t("common.save"))
                    .input(
                        Input::new("voters", ctx.t("council.voters"), InputKind::Select(voter_options))
                            .required()
                            .value(&voters),
                    )
                    .input(
                        Input::new("quorum_pct", ctx.t("council.quorum"), InputKind::Number)
                            .required()
                            .value(quorum)
                            .hint(ctx.t("council.quorum_hint")),
                    )
                    .input(
                        Input::new("majority_pct", ctx.t("council.majority"), InputKind::Number)
                            .required()
                            .value(majority)
                            .hint(ctx.t("council.majority_hint")),
                    )
                    .input(Input::new("secret", ctx.t("council.secret"), InputKind::Checkbox).value(secret))
                    .folded(),
            )
            .form(
                Form::new(ctx.t("council.member"), format!("/c/{code}/council/members"), ctx.t("common.save"))
                    .input(
                        Input::new("user", ctx.t("council.member_login"), InputKind::Text)
                            .required()
                            .hint(ctx.t("council.member_hint")),
                    )
                    .input(Input::new("title", ctx.t("council.member_title"), InputKind::Text))
                    .input(Input::new("remove", ctx.t("council.remove_member"), InputKind::Checkbox))
                    .folded(),
            );
    }
    Ok(sheet)
}

pub async fn proposals(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    proposals_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn raise(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let (kind, id) = scope_of(&m);
    match store::raise(&state, &actor, c.id, &text(&m, "title"), &text(&m, "body"), &kind, id).await {
        Ok(p) => Ok(done(&format!("/c/{code}/council/{}", p.id), Notice::Raised)),
        Err(e) => refused(e, &m, &format!("/c/{code}/council"), || proposals_sheet(&state, ctx, &actor, &c)).await,
    }
}

pub async fn settings(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match (int(&m, "quorum_pct"), int(&m, "majority_pct")) {
        (Some(q), Some(mj)) => {
            store::set_rules(&state, &actor, c.id, &text(&m, "voters"), q, mj, yes(&m, "secret")).await
        }
        (q, _) => Err(AppError::field(if q.is_none() { "quorum_pct" } else { "majority_pct" }, "validation.number")),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/council"), Notice::Saved)),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/council/settings"), || proposals_sheet(&state, ctx, &actor, &c)).await
        }
    }
}

/// Adds (or removes) a council member by their sign-in name or mobile number.
pub async fn members(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let login = text(&m, "user");
    let user = store::user_in(&mut state.db.read().await?, c.id, login.trim()).await?;
    let result = match user {
        Some(u) => store::set_member(&state, &actor, c.id, u, opt(&m, "title"), !yes(&m, "remove")).await,
        None => Err(AppError::field("user", "validation.reference")),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/council"), Notice::Saved)),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/council/members"), || proposals_sheet(&state, ctx, &actor, &c)).await
        }
    }
}

/// What everyone sees of a proposal: its text, rounds, decision and project.
fn public_blocks(
    ctx: &PageCtx,
    mut sheet: Sheet,
    p: &Proposal,
    rounds: &[store::Round],
    project: &Option<(store::Project, Vec<store::Milestone>)>,
) -> Sheet {
    let scope = match p.scope_kind.as_str() {
        "community" => ctx.t("council.scope.community"),
        k => ctx.t(&format!("council.scope.{k}")),
    };
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
    sheet = sheet.card(Card {
        title: p.title.clone(),
        tag: Some(stage_tag(ctx, p.stage())),
        text: Some(p.body.clone()),
        cells,
        ..Card::default()
    });
    for r in rounds {
        sheet = sheet.card(Card {
            title: ctx.tr("council.round_n", "n", r.seq),
            text: Some(r.minutes.clone()),
            cells: vec![
                (ctx.t("council.held_at"), fmt::datetime(r.held_at)),
                (ctx.t("council.place"), r.place.clone()),
                (ctx.t("council.present"), r.present.join("、")),
            ],
            ..Card::default()
        });
    }
    if let Some(o) = p.outcome() {
        let bars = bars_markup(&Bars::new(
            String::new(),
            &CHOICES
                .iter()
                .zip([p.votes_for, p.votes_against, p.votes_abstain])
                .map(|(c, n)| (ctx.t(&format!("council.choice.{c}")), n.unwrap_or(0) as f64))
                .collect::<Vec<_>>(),
            "",
        ));
        sheet = sheet.card(Card {
            title: ctx.t("council.decision"),
            tag: Some(stage_tag(ctx, p.stage())),
            text: p.decision.clone(),
            stats: vec![
                Stat { label: ctx.t("council.choice.for"), value: p.votes_for.unwrap_or(0).to_string(), href: None },
                Stat {
                    label: ctx.t("council.choice.against"),
                    value: p.votes_against.unwrap_or(0).to_string(),
                    href: None,
                },
                Stat {
                    label: ctx.t("council.choice.abstain"),
                    value: p.votes_abstain.unwrap_or(0).to_string(),
                    href: None,
                },
                Stat { label: ctx.t("council.turnout"), value: pct(o.turnout), href: None },
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
            html: Some(bars),
            ..Card::default()
        });
    }
    if let Some((pr, ms)) = project {
        let done = ms.iter().filter(|m| m.done_on.is_some()).count();
        sheet = sheet.card(Card {
            title: format!("{} · {}", ctx.t("council.project"), pr.title),
            stats: vec![Stat {
                label: ctx.t("council.progress"),
                value: format!("{}%", super::progress(done, ms.len())),
                href: None,
            }],
            cells: vec![
                (ctx.t("council.owner"), pr.owner_name.clone()),
                (ctx.t("council.budget"), format!("{} 元", fmt::thousands(pr.budget_yuan))),
                (ctx.t("council.budget_line"), pr.budget_line.clone().unwrap_or_default()),
            ],
            items: ms
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
                        (ctx.t("council.done"), "tag-green")
                    } else {
                        (ctx.t("council.pending"), "tag-grey")
                    }),
                })
                .collect(),
            ..Card::default()
        });
    }
    sheet
}

async fn proposal_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let p = store::proposal_for(&mut conn, Some(actor), c.id, id).await?;
    let rounds = store::rounds(&mut conn, c.id, id).await?;
    let comments = store::comments(&mut conn, c.id, id).await?;
    let project = store::project(&mut conn, c.id, id).await?;
    let open_ballots = if p.stage().is_decided() { store::open_ballots(&mut conn, &p).await? } else { Vec::new() };
    let me = store::voter_state(&mut conn, actor, &p).await?;
    let (_, _, _, voted) =
        if p.stage() == Stage::Voting { store::tally(&mut conn, c.id, id).await? } else { (0, 0, 0, 0) };
    let roster = store::roster(&mut conn, c.id).await?;
    let others: Vec<Proposal> =
        if staff(actor, c) { store::proposals(&mut conn, Some(actor), c.id).await? } else { Vec::new() };
    drop(conn);
    let code = &c.code;
    let is_staff = staff(actor, c);
    let stage = p.stage();
    let mut sheet =
        Sheet::new(ctx.clone(), p.title.clone()).crumb(format!("/c/{code}/council"), ctx.t("council.title"));
    sheet = public_blocks(&ctx, sheet, &p, &rounds, &project);
    let action = |a: &str| format!("/c/{code}/council/{id}/{a}");
    if stage == Stage::Voting {
        let mut card = Card {
            title: ctx.t("council.vote"),
            stats: vec![Stat {
                label: ctx.t("council.voted"),
                value: format!("{voted} / {}", p.eligible.unwrap_or(0)),
                href: None,
            }],
            text: Some(ctx.t(if p.secret.unwrap_or(true) { "council.secret_note" } else { "council.open_note" })),
            ..Card::default()
        };
        match me {
            Some(true) => card.tag = Some((ctx.t("council.you_voted"), "tag-green")),
            None => card.tag = Some((ctx.t("council.not_eligible_tag"), "tag-grey")),
            Some(false) => {}
        }
        sheet = sheet.card(card);
        if me == Some(false) {
            let choices = CHOICES.iter().map(|c| (c.to_string(), ctx.t(&format!("council.choice.{c}")))).collect();
            sheet = sheet.form(
                Form::new(ctx.t("council.cast"), action("ballot"), ctx.t("council.cast_submit"))
                    .input(Input::new("choice", ctx.t("council.choice"), InputKind::Select(choices)).required()),
            );
        }
    }
    if !open_ballots.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.t("council.open_ballots"),
            items: open_ballots
                .iter()
                .map(|(name, choice)| Item {
                    title: crate::services::pii::mask_name(name),
                    sub: ctx.t(&format!("council.choice.{choice}")),
                    ..Item::default()
                })
                .collect(),
            ..Card::default()
        });
    }
    if stage == Stage::Agenda || !comments.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.tr("council.comments", "n", comments.len()),
            items: comments
                .iter()
                .map(|m| Item {
                    title: m.body.clone(),
                    sub: format!("{} · {}", m.name, fmt::datetime(m.at)),
                    ..Item::default()
                })
                .collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        });
    }
    if stage == Stage::Agenda && (me.is_some() || is_staff) {
        sheet = sheet.form(
            Form::new(ctx.t("council.comment"), action("comments"), ctx.t("council.comment_submit"))
                .input(Input::new("body", ctx.t("council.comment"), InputKind::TextArea).required()),
        );
    }
    if !is_staff {
        return Ok(sheet);
    }
    if stage == Stage::Submitted || stage == Stage::Agenda {
        let targets: Vec<(String, String)> = others
            .iter()
            .filter(|o| o.id != id && matches!(o.stage(), Stage::Submitted | Stage::Agenda))
            .map(|o| (o.id.to_string(), o.title.clone()))
            .collect();
        if stage == Stage::Submitted {
            sheet = sheet
                .form(
                    Form::new(
                        ctx.t("council.accept"),
                        format!("{}?a=accept", action("screen")),
                        ctx.t("council.accept"),
                    )
                    .input(Input::hidden("action", "accept")),
                )
                .form(
                    Form::new(
                        ctx.t("council.decline"),
                        format!("{}?a=decline", action("screen")),
                        ctx.t("council.decline"),
                    )
                    .input(Input::hidden("action", "decline"))
                    .input(Input::new("reason", ctx.t("council.reason"), InputKind::TextArea).required())
                    .danger()
                    .folded(),
                );
        }
        if !targets.is_empty() {
            sheet = sheet.form(
                Form::new(ctx.t("council.merge"), format!("{}?a=merge", action("screen")), ctx.t("council.merge"))
                    .input(Input::hidden("action", "merge"))
                    .input(Input::new("merge_into", ctx.t("council.merge_into"), InputKind::Select(targets)).required())
                    .input(Input::new("reason", ctx.t("council.reason"), InputKind::TextArea))
                    .folded(),
            );
        }
    }
    if stage == Stage::Agenda {
        let now = crate::db::now_ms();
        let present = roster.iter().map(|m| (m.user_id.to_string(), m.name.clone())).collect();
        sheet = sheet
            .form(
                Form::new(ctx.tr("council.add_round", "n", rounds.len() + 1), action("rounds"), ctx.t("common.save"))
                    .input(
                        Input::new("held_at", ctx.t("council.held_at"), InputKind::DateTime)
                            .required()
                            .value(fmt::local_input(now)),
                    )
                    .input(Input::new("place", ctx.t("council.place"), InputKind::Text).required())
                    .input(Input::new("present", ctx.t("council.present"), InputKind::Many(present)))
                    .input(Input::new("minutes", ctx.t("council.minutes"), InputKind::TextArea).required())
                    .folded(),
            )
            .form(
                Form::new(ctx.t("council.open_vote"), action("vote"), ctx.t("council.open_vote"))
                    .input(
                        Input::new("opens_at", ctx.t("council.opens_at"), InputKind::DateTime)
                            .value(fmt::local_input(now)),
                    )
                    .input(
                        Input::new("closes_at", ctx.t("council.closes_at"), InputKind::DateTime)
                            .required()
                            .value(fmt::local_input(now + 7 * 24 * 3_600_000)),
                    )
                    .folded(),
            );
    }
    if stage == Stage::Voting {
        sheet = sheet.form(
            Form::new(ctx.t("council.close_vote"), action("close"), ctx.t("council.close_vote"))
                .input(
                    Input::new("decision", ctx.t("council.decision_text"), InputKind::TextArea)
                        .required()
                        .hint(ctx.t("council.decision_hint")),
                )
                .folded(),
        );
    }
    if stage == Stage::Passed {
        match &project {
            None => {
                sheet = sheet.form(
                    Form::new(ctx.t("council.make_project"), action("project"), ctx.t("common.save"))
                        .input(
                            Input::new("title", ctx.t("council.project_title"), InputKind::Text)
                                .required()
                                .value(&p.title),
                        )
                        .input(Input::new("owner_name", ctx.t("council.owner"), InputKind::Text).required())
                        .input(Input::new("budget_yuan", ctx.t("council.budget"), InputKind::Number).value(0))
                        .input(Input::new("budget_line", ctx.t("council.budget_line"), InputKind::Text))
                        .input(
                            Input::new("milestones", ctx.t("council.milestones"), InputKind::TextArea)
                                .required()
                                .hint(ctx.t("council.milestones_hint")),
                        ),
                );
            }
            Some((_, ms)) => {
                let open: Vec<(String, String)> = ms
                    .iter()
                    .filter(|m| m.done_on.is_none())
                    .map(|m| (m.id.to_string(), format!("{}. {}", m.seq, m.title)))
                    .collect();
                if !open.is_empty() {
                    sheet = sheet.form(
                        Form::new(ctx.t("council.milestone_done"), action("milestones"), ctx.t("common.save"))
                            .input(
                                Input::new("milestone_id", ctx.t("council.milestone"), InputKind::Select(open))
                                    .required(),
                            )
                            .input(
                                Input::new("done_on", ctx.t("council.done_on"), InputKind::Date)
                                    .required()
                                    .value(fmt::today()),
                            )
                            .input(Input::new("note", ctx.t("council.note"), InputKind::TextArea)),
                    );
                }
                sheet = sheet.form(
                    Form::new(
                        ctx.t("council.add_milestone"),
                        format!("{}?add=1", action("milestones")),
                        ctx.t("common.save"),
                    )
                    .input(Input::new("title", ctx.t("council.milestone"), InputKind::Text).required())
                    .input(Input::new("note", ctx.t("council.note"), InputKind::TextArea))
                    .folded(),
                );
            }
        }
    }
    Ok(sheet)
}

pub async fn proposal_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    proposal_sheet(&state, ctx, &actor, &c, id).await?.render()
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
        Err(e) => refused(e, &m, &form_action, || proposal_sheet(&state, ctx, &actor, &c, id)).await,
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
    let (merge, reason) = (int(&m, "merge_into"), opt(&m, "reason"));
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
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
    let present: Vec<i64> = list(&m, "present").iter().filter_map(|v| v.parse().ok()).collect();
    let (held, place, minutes) = (when(&m, "held_at"), text(&m, "place"), text(&m, "minutes"));
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
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
    let (opens, closes) = (when(&m, "opens_at"), when(&m, "closes_at"));
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
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
    let (title, owner, budget, line) =
        (text(&m, "title"), text(&m, "owner_name"), int(&m, "budget_yuan").unwrap_or(0), opt(&m, "budget_line"));
    let milestones = milestone_lines(&text(&m, "milestones"));
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
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
    let adding = int(&m, "milestone_id").is_none();
    let form_action = if adding {
        format!("/c/{code}/council/{id}/milestones?add=1")
    } else {
        format!("/c/{code}/council/{id}/milestones")
    };
    let (mid, title, done, note) = (int(&m, "milestone_id"), opt(&m, "title"), date(&m, "done_on"), opt(&m, "note"));
    step(state, ctx, actor, code, id, m, form_action, Notice::Saved, |s, actor, c| async move {
        store::milestone(&s, &actor, c, id, mid, title, done, note).await
    })
    .await
}

// ---------- public pages ----------

/// Open proposals and their stage, and decisions with their tallies and progress.
pub async fn public_council(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let list = store::proposals(&mut conn, None, c.id).await?;
    let mut open = Vec::new();
    let mut decided = Vec::new();
    for p in &list {
        let href = format!("/p/{code}/council/{}", p.id);
        if p.stage().is_decided() {
            let progress = store::project(&mut conn, c.id, p.id)
                .await?
                .map(|(_, ms)| super::progress(ms.iter().filter(|m| m.done_on.is_some()).count(), ms.len()));
            decided.push(proposal_item(&ctx, href, p, progress, true));
        } else {
            open.push(proposal_item(&ctx, href, p, None, true));
        }
    }
    Sheet::new(ctx.clone(), format!("{} · {}", c.name, ctx.t("council.public")))
        .card(Card {
            title: c.name.clone(),
            text: Some(ctx.t("council.public_intro")),
            links: vec![
                (format!("/p/{code}/needs"), ctx.t("participation.board")),
                (format!("/p/{code}/registered"), ctx.t("participation.registered_list")),
            ],
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("council.open_proposals"),
            items: open,
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("council.decisions"),
            items: decided,
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .render()
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
    let sheet = Sheet::new(ctx.clone(), p.title.clone()).crumb(format!("/p/{code}/council"), ctx.t("council.public"));
    let mut sheet = public_blocks(&ctx, sheet, &p, &rounds, &project);
    if p.stage() == Stage::Voting || p.stage() == Stage::Agenda {
        sheet = sheet.card(Card {
            text: Some(ctx.t("council.sign_in_to_take_part")),
            links: vec![(format!("/c/{code}/council/{id}"), ctx.t("council.take_part"))],
            ..Card::default()
        });
    }
    sheet.render()
}

#[cfg(test)]
mod tests {
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
