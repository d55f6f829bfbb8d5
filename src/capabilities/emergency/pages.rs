//! The pages of an emergency: the list of incidents with the form to prepare one (staff),
//! the command page with its live figures, the grid worker's list of households to check,
//! a household's check with its history, and a resident's reply to the broadcast.

pub mod field;
pub mod plans;
pub mod report;
pub mod shelters;
pub mod subdistrict;
pub mod supplies;

use axum::extract::{Path, Query, State};
use serde_json::{Map, Value};

use super::store::{self, Check, Incident, NewIncident, Outcome, Source};
use super::{CheckChange, CheckStatus, IncidentKind, IncidentStatus, Level, Need, Tally, next_status};
use crate::auth::guard::{CommunityRef, visible_community};
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::web::capability::{NavEntry, Whereabouts};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Item, Kpi, Refusal, Table, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render, see_other};

pub fn nav(actor: &Actor, w: &Whereabouts<'_>) -> Vec<NavEntry> {
    match w.community {
        Some(c) if actor.can(c.id, Permission::ManageEmergency) || actor.can(c.id, Permission::CheckWelfare) => {
            vec![NavEntry {
                order: 42,
                href: format!("/c/{}/incidents", c.code),
                label_key: "emergency.title",
                icon: "flag",
            }]
        }
        _ => Vec::new(),
    }
}

fn staff(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageEmergency)
}

fn status_tag(ctx: &PageCtx, s: IncidentStatus) -> Tag {
    let tone = match s {
        IncidentStatus::Activated => Tone::Red,
        IncidentStatus::Prepared | IncidentStatus::StoodDown => Tone::Orange,
        IncidentStatus::Closed => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("emergency.status.{}", s.as_str())), tone)
}

fn check_tag(ctx: &PageCtx, s: CheckStatus) -> Tag {
    let tone = match s {
        CheckStatus::ToCheck => Tone::Orange,
        CheckStatus::Safe | CheckStatus::Sheltered => Tone::Green,
        CheckStatus::NeedsHelp | CheckStatus::Unreachable => Tone::Red,
        CheckStatus::Refused => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("emergency.check.{}", s.as_str())), tone)
}

fn incident_line(ctx: &PageCtx, i: &Incident) -> String {
    format!(
        "{} · {}",
        ctx.t(&format!("emergency.kind.{}", i.kind.as_str())),
        ctx.t(&format!("emergency.level.{}", i.level.as_str()))
    )
}

// ---------- the list, and preparing an incident ----------

fn new_form(ctx: &PageCtx, code: &str, grids: &[(i64, String)], r: &Refusal) -> Form {
    let kinds: Vec<(String, String)> =
        IncidentKind::ALL.iter().map(|k| (k.to_string(), ctx.t(&format!("emergency.kind.{k}")))).collect();
    let levels: Vec<(String, String)> =
        Level::ALL.iter().map(|l| (l.to_string(), ctx.t(&format!("emergency.level.{l}")))).collect();
    let grids: Vec<(String, String)> = grids.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    Form::new(ctx.t("emergency.prepare"), format!("/c/{code}/incidents"), ctx.t("emergency.prepare"))
        .input(Input::new("title", ctx.t("emergency.incident_title"), InputKind::Text).required())
        .input(Input::new("kind", ctx.t("emergency.incident_kind"), InputKind::Select(kinds)))
        .input(Input::new("level", ctx.t("emergency.incident_level"), InputKind::Select(levels)))
        .input(
            Input::new("grids", ctx.t("emergency.grids"), InputKind::Many(grids)).hint(ctx.t("emergency.grids_hint")),
        )
        .folded()
        .refused(r)
}

pub fn list_view(
    ctx: PageCtx,
    c: &CommunityRef,
    all: &[Incident],
    grids: &[(i64, String)],
    staff: bool,
    r: &Refusal,
) -> BlocksPage {
    let items: Vec<Item> = all
        .iter()
        .map(|i| Item {
            title: i.title.clone(),
            sub: format!("{} · {}", incident_line(&ctx, i), fmt::datetime(i.activated_at.unwrap_or(i.created_at))),
            href: Some(format!("/c/{}/incidents/{}", c.code, i.id)),
            tag: Some(status_tag(&ctx, i.status)),
        })
        .collect();
    let mut links = vec![(format!("/c/{}/shelters", c.code), ctx.t("emergency.shelters"))];
    if staff {
        links.push((format!("/c/{}/supplies", c.code), ctx.t("emergency.supplies")));
        links.push((format!("/c/{}/incident-plans", c.code), ctx.t("entity.incident_plan")));
    }
    let mut blocks = vec![
        Block::Card(ctx.t("emergency.means"), None, Vec::new(), None, links),
        Block::List(ctx.t("emergency.incidents"), items, ctx.t("emergency.none")),
    ];
    if staff {
        blocks.insert(0, Block::Form(new_form(&ctx, &c.code, grids, r)));
    }
    BlocksPage::new(ctx.clone(), format!("{} · {}", c.name, ctx.t("emergency.title")), Vec::new(), blocks, r)
}

async fn show_list(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let mut conn = state.db.read().await?;
    let all = store::incidents(&mut conn, c.id).await?;
    let grids = crate::capabilities::registry::places::grid_names(&mut conn, c.id).await?;
    drop(conn);
    render(&list_view(ctx, c, &all, &grids, staff(actor, c), r))
}

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    let c = visible_community(&state.db, actor, code).await?;
    if staff(actor, &c) || actor.can(c.id, Permission::CheckWelfare) { Ok(c) } else { Err(AppError::Forbidden) }
}

/// `GET /c/{code}/incidents`: staff and grid workers.
pub async fn list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_list(&state, ctx, &actor, &c, &Refusal::none()).await
}

fn new_incident(m: &Map<String, Value>) -> AppResult<NewIncident> {
    let mut f = Fields::new(m);
    let grids = f.ids("grids");
    let kind = IncidentKind::parse(&f.text("kind")).ok_or_else(|| AppError::field("kind", "validation.choice"));
    let level = Level::parse(&f.text("level")).ok_or_else(|| AppError::field("level", "validation.choice"));
    f.checked()?;
    Ok(NewIncident { kind: kind?, level: level?, title: f.text("title"), grids, commander_id: None, group_id: None })
}

/// `POST /c/{code}/incidents`: staff prepare an incident.
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match new_incident(&m) {
        Ok(n) => store::create(&state, &actor, &c, n).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(done(&format!("/c/{code}/incidents/{id}"), Notice::Created)),
        Err(e) => {
            let action = format!("/c/{code}/incidents");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_list(&state, ctx, &actor, &c, &r).await }).await
        }
    }
}

// ---------- the command page ----------

pub struct CommandData {
    pub incident: Incident,
    pub grids: Vec<(i64, String)>,
    pub tally: Tally,
    pub by_grid: Vec<(i64, String, Tally)>,
    /// The first tier's households not yet reached.
    pub waiting: Vec<Check>,
    pub steps: Vec<(String, Option<String>, String, i64)>,
    /// The community's plans for the incident's kind, with how ready their supplies are.
    pub plans: Vec<(super::plans::Plan, Vec<super::Readiness>)>,
    /// The tasks the plans set going.
    pub tasks: Vec<super::plans::Task>,
    pub now: i64,
}

fn step_forms(ctx: &PageCtx, code: &str, i: &Incident, r: &Refusal) -> Vec<Form> {
    IncidentStatus::ALL
        .iter()
        .filter(|to| next_status(i.status, **to).is_ok())
        .map(|to| {
            let label = ctx.t(&format!("emergency.to.{}", to.as_str()));
            let f = Form::new(label.clone(), format!("/c/{code}/incidents/{}/status", i.id), label)
                .input(Input::hidden("status", to.as_str()))
                .input(Input::new("note", ctx.t("emergency.step_note"), InputKind::Text));
            match to {
                IncidentStatus::Activated => f.confirm(ctx.t("emergency.activate_confirm")),
                IncidentStatus::Closed => f.danger(ctx.t("emergency.close_confirm")),
                _ => f,
            }
            .refused(r)
        })
        .collect()
}

fn tally_kpis(ctx: &PageCtx, t: &Tally, since: Option<i64>, now: i64) -> Vec<Kpi> {
    let kpi = |label: String, value: String, tone: Tone| Kpi { label, value, tone, ..Kpi::default() };
    let mut out = vec![
        kpi(ctx.t("emergency.households"), t.total.to_string(), Tone::Blue),
        kpi(ctx.t("emergency.checked"), t.checked().to_string(), Tone::Green),
        kpi(
            ctx.t("emergency.tier_one_unreached"),
            t.tier_one_unreached.to_string(),
            if t.tier_one_unreached > 0 { Tone::Red } else { Tone::Green },
        ),
    ];
    if let Some(at) = since {
        let minutes = (now - at).max(0) / 60_000;
        out.push(kpi(ctx.t("emergency.since"), format!("{}:{:02}", minutes / 60, minutes % 60), Tone::Grey));
    }
    out
}

fn by_grid_table(ctx: &PageCtx, rows: &[(i64, String, Tally)]) -> Table {
    let mut head = vec![ctx.t("emergency.grid"), ctx.t("emergency.households")];
    head.extend(CheckStatus::ALL.iter().map(|s| ctx.t(&format!("emergency.check.{}", s.as_str()))));
    head.push(ctx.t("emergency.tier_one_unreached"));
    let rows = rows
        .iter()
        .map(|(_, name, t)| {
            let mut row = vec![Cell::text(name.clone()), Cell::text(t.total.to_string())];
            row.extend(t.by_status.iter().map(|n| Cell::text(n.to_string())));
            row.push(Cell::text(t.tier_one_unreached.to_string()));
            row
        })
        .collect();
    Table { head, rows, empty: ctx.t("emergency.no_checks"), sort: Vec::new() }
}

fn check_item(ctx: &PageCtx, code: &str, w: &Check) -> Item {
    let mut sub = vec![w.grid.clone(), ctx.tr("emergency.tier_n", "n", w.tier)];
    let tags = crate::services::records::model::tags_from_column(&w.tags);
    if !tags.is_empty() {
        sub.push(tags.join("、"));
    }
    if w.conflicts > 0 {
        sub.push(ctx.tr("emergency.conflicts_n", "n", w.conflicts));
    }
    Item {
        title: w.address.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/c/{code}/welfare-checks/{}", w.id)),
        tag: Some(check_tag(ctx, w.status)),
    }
}

/// The command page: the incident and its steps, the live figures (fetched again while
/// the page is open), the timeline.
#[derive(askama::Template)]
#[template(path = "emergency/command.html")]
pub struct CommandPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub head: Vec<Block>,
    pub live: Vec<Block>,
    pub live_href: String,
    pub tail: Vec<Block>,
}

pub fn command_view(ctx: PageCtx, c: &CommunityRef, d: &CommandData, r: &Refusal) -> CommandPage {
    let i = &d.incident;
    let code = &c.code;
    let grids: Vec<String> = d.grids.iter().map(|g| g.1.clone()).collect();
    let cells =
        vec![(ctx.t("emergency.incident_kind"), incident_line(&ctx, i)), (ctx.t("emergency.grids"), grids.join("、"))];
    let links = vec![
        (format!("/c/{code}/incidents/{}/field", i.id), ctx.t("emergency.field")),
        (format!("/c/{code}/incidents/{}/rounds.pdf", i.id), ctx.t("emergency.rounds")),
        (format!("/c/{code}/shelters"), ctx.t("emergency.shelters")),
        (format!("/c/{code}/incidents/{}/report", i.id), ctx.t("emergency.report")),
    ];
    let forms = step_forms(&ctx, code, i, r);
    let alert = r.alert_for(&forms.iter().collect::<Vec<_>>());
    let mut head = vec![Block::Card(i.title.clone(), Some(status_tag(&ctx, i.status)), cells, None, links)];
    head.extend(forms.into_iter().map(Block::Form));
    head.extend(plans::blocks(&ctx, code, i.id, (&d.plans, &d.tasks), r));
    let mut live = Vec::new();
    if i.activated_at.is_some() {
        live.push(Block::Kpis(tally_kpis(&ctx, &d.tally, i.activated_at.filter(|_| i.closed_at.is_none()), d.now)));
        live.push(Block::Table(ctx.t("emergency.by_grid"), by_grid_table(&ctx, &d.by_grid)));
        let waiting = d.waiting.iter().map(|w| check_item(&ctx, code, w)).collect();
        live.push(Block::List(ctx.t("emergency.tier_one_waiting"), waiting, ctx.t("emergency.tier_one_all_reached")));
    }
    let steps = d
        .steps
        .iter()
        .map(|(status, note, who, at)| ui::Step {
            title: ctx.t(&format!("emergency.status.{status}")),
            at: fmt::datetime(*at),
            note: [Some(who.clone()), note.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            state: ui::StepState::Done,
        })
        .collect();
    let crumbs = vec![(format!("/c/{code}/incidents"), ctx.t("emergency.title"))];
    CommandPage {
        title: i.title.clone(),
        crumbs,
        alert,
        head,
        live,
        live_href: format!("/c/{code}/incidents/{}", i.id),
        tail: vec![Block::Timeline(ctx.t("emergency.timeline"), steps)],
        ctx,
    }
}

async fn show_command(state: &AppState, ctx: PageCtx, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let mut conn = state.db.read().await?;
    let incident = store::incident(&mut conn, c.id, id).await?;
    let grids = store::grids_of(&mut conn, c.id, id).await?;
    let (tally, by_grid) = store::tally(&mut conn, c.id, id).await?;
    let waiting = store::tier_one_waiting(&mut conn, c.id, id).await?;
    let steps = store::steps(&mut conn, c.id, id).await?;
    let plans = super::plans::with_readiness(&mut conn, c.id, incident.kind).await?;
    let tasks = super::plans::tasks(&mut conn, c.id, id).await?;
    drop(conn);
    let d = CommandData { incident, grids, tally, by_grid, waiting, steps, plans, tasks, now: crate::db::now_ms() };
    render(&command_view(ctx, c, &d, r))
}

/// `GET /c/{code}/incidents/{id}`: staff's command page; a grid worker goes to the field
/// list, anyone else (a resident told by the broadcast) to the reply.
pub async fn command(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    if staff(&actor, &c) {
        show_command(&state, ctx, &c, id, &Refusal::none()).await
    } else if actor.can(c.id, Permission::CheckWelfare) {
        Ok(see_other(&format!("/c/{code}/incidents/{id}/field")))
    } else {
        Ok(see_other(&format!("/c/{code}/incidents/{id}/reply")))
    }
}

/// `POST /c/{code}/incidents/{id}/status` `status`, `note`: staff move it on.
pub async fn set_status(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let f = Fields::new(&m);
    let note = f.opt("note");
    let result = match IncidentStatus::parse(&f.text("status")) {
        Some(to) => store::set_status(&state, &actor, &c, id, to, note.as_deref()).await.map(|_| ()),
        None => Err(AppError::field("status", "validation.choice")),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/incidents/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/incidents/{id}/status");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_command(&state, ctx, &c, id, &r).await }).await
        }
    }
}

// ---------- the field list, and one household's check ----------

/// `GET /c/{code}/incidents/{id}/rounds.pdf`: the list for door-to-door rounds, printed;
/// a grid worker's own grids, staff all.
pub async fn rounds(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let incident = store::incident(&mut conn, c.id, id).await?;
    let mut all = store::checks(&mut conn, c.id, id, &store::whose(&actor, c.id)).await?;
    drop(conn);
    all.sort_by(|a, b| a.grid_id.cmp(&b.grid_id).then(a.tier.cmp(&b.tier)).then(a.address.cmp(&b.address)));
    let bytes = super::rounds::pdf(&c.name, &incident.title, &all, |w| {
        ctx.t(&format!("emergency.check.{}", w.status.as_str()))
    })?;
    Ok(crate::services::pdf::answer("inline", &format!("入户排查表-{}.pdf", incident.title), bytes))
}

fn check_form(ctx: &PageCtx, code: &str, w: &Check, r: &Refusal) -> Form {
    let statuses: Vec<(String, String)> = CheckStatus::ALL
        .iter()
        .skip(1)
        .map(|s| (s.as_str().to_string(), ctx.t(&format!("emergency.check.{}", s.as_str()))))
        .collect();
    let needs: Vec<(String, String)> =
        Need::ALL.iter().map(|n| (n.as_str().to_string(), ctx.t(&format!("emergency.need.{}", n.as_str())))).collect();
    let key = format!("{}-{}-{}", w.id, w.version, crate::db::now_ms());
    Form::new(
        ctx.t("emergency.record_check"),
        format!("/c/{code}/welfare-checks/{}", w.id),
        ctx.t("emergency.record_check"),
    )
    .input(Input::new("status", ctx.t("emergency.check_status"), InputKind::Select(statuses)).required())
    .input(Input::new("needs", ctx.t("emergency.needs"), InputKind::Many(needs)))
    .input(Input::new("note", ctx.t("emergency.note"), InputKind::Text))
    .refused(r)
    // After the refusal, so a record kept as a conflict is made again on the check as it
    // now stands, under a key of its own.
    .input(Input::hidden("seen", w.version))
    .input(Input::hidden("key", key))
}

async fn show_check(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let w = store::check(&mut conn, actor, c.id, id).await?;
    let history = store::history(&mut conn, c.id, id).await?;
    let stores = super::supplies::stores(&mut conn, c.id).await?;
    let items = super::supplies::items(&mut conn, c.id).await?;
    drop(conn);
    let needs: Vec<String> = w.needs().iter().map(|n| ctx.t(&format!("emergency.need.{}", n.as_str()))).collect();
    let mut cells = vec![
        (ctx.t("emergency.grid"), w.grid.clone()),
        (ctx.t("emergency.tier"), ctx.tr("emergency.tier_n", "n", w.tier)),
        (ctx.t("emergency.tags"), crate::services::records::model::tags_from_column(&w.tags).join("、")),
        (ctx.t("emergency.attempts"), w.attempts.to_string()),
    ];
    if !needs.is_empty() {
        cells.push((ctx.t("emergency.needs"), needs.join("、")));
    }
    if let Some(n) = &w.note {
        cells.push((ctx.t("emergency.note"), n.clone()));
    }
    let rows = history
        .iter()
        .map(|(status, note, applied, who, at)| {
            let how = if *applied { ctx.t("emergency.applied") } else { ctx.t("emergency.conflict") };
            vec![
                Cell::text(fmt::datetime(*at)),
                Cell::text(who.clone()),
                Cell::text(ctx.t(&format!("emergency.check.{status}"))),
                Cell::text(note.clone().unwrap_or_default()),
                Cell::text(how),
            ]
        })
        .collect();
    let table = Table {
        head: ["emergency.at", "emergency.by", "emergency.check_status", "emergency.note", "emergency.kept_as"]
            .iter()
            .map(|k| ctx.t(k))
            .collect(),
        rows,
        empty: ctx.t("emergency.no_history"),
        sort: Vec::new(),
    };
    let helpers =
        if may_hand(actor, c, &w) { store::helpers(&mut state.db.read().await?, c.id, &w).await? } else { Vec::new() };
    let mut links = vec![(format!("/c/{}/shelters?check={}", c.code, w.id), ctx.t("emergency.move_to_shelter"))];
    if let Some(t) = w.ticket_id {
        links.push((format!("/c/{}/tickets/{t}", c.code), ctx.t("emergency.its_ticket")));
    }
    let mut blocks = vec![
        Block::Card(w.address.clone(), Some(check_tag(&ctx, w.status)), cells, None, links),
        Block::Form(check_form(&ctx, &c.code, &w, r)),
    ];
    if staff(actor, c) && !stores.is_empty() && !items.is_empty() {
        blocks.push(Block::Form(supplies::hand_out_form(&ctx, &c.code, &w, (&stores, &items), r)));
    }
    if !helpers.is_empty() {
        blocks.push(Block::Form(hand_form(&ctx, &c.code, &w, &helpers, r)));
    }
    if w.ticket_id.is_none() && w.status == CheckStatus::NeedsHelp {
        let action = format!("/c/{}/welfare-checks/{}/ticket", c.code, w.id);
        let raise =
            Form::new("", action, ctx.t("emergency.raise_ticket")).confirm(ctx.t("emergency.raise_ticket_confirm"));
        blocks.insert(2, Block::Form(raise));
    }
    blocks.push(Block::Table(ctx.t("emergency.history"), table));
    let crumbs = vec![(format!("/c/{}/incidents", c.code), ctx.t("emergency.title"))];
    render(&BlocksPage::new(ctx, w.address.clone(), crumbs, blocks, r))
}

/// Staff, and the worker of the household's grid, may hand its check to a helper.
fn may_hand(actor: &Actor, c: &CommunityRef, w: &Check) -> bool {
    staff(actor, c) || actor.access(c.id, Permission::CheckWelfare).covers(Some(w.grid_id), None)
}

fn hand_form(ctx: &PageCtx, code: &str, w: &Check, helpers: &[(i64, String)], r: &Refusal) -> Form {
    let people = helpers.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    Form::new(ctx.t("emergency.hand"), format!("/c/{code}/welfare-checks/{}/assignee", w.id), ctx.t("emergency.hand"))
        .input(
            Input::new("assignee_id", ctx.t("emergency.helper"), InputKind::Select(people))
                .required()
                .hint(ctx.t("emergency.hand_hint")),
        )
        .folded()
        .refused(r)
}

/// `POST /c/{code}/welfare-checks/{id}/assignee` `assignee_id`: handed to a helper.
pub async fn hand(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let to = f.id("assignee_id");
    let result = match (f.checked(), to) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::field("assignee_id", "validation.required")),
        (Ok(()), Some(to)) => store::hand(&state, &actor, &c, id, to).await,
    };
    let action = format!("/c/{code}/welfare-checks/{id}/assignee");
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/welfare-checks/{id}"), Notice::Saved)),
        Err(e) => {
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_check(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}

/// `POST /c/{code}/welfare-checks/{id}/ticket`: the household's needs become a ticket.
pub async fn raise_ticket(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let ticket = store::raise_ticket(&state, &actor, &c, id).await?;
    Ok(done(&format!("/c/{code}/tickets/{ticket}"), Notice::Created))
}

/// The change a form or a body sends: `status`, `needs`, `note`, `seen` (the version).
pub fn change_of(m: &Map<String, Value>) -> AppResult<(CheckChange, String)> {
    let mut f = Fields::new(m);
    let status = CheckStatus::parse(&f.text("status")).filter(|s| *s != CheckStatus::ToCheck);
    let needs: Vec<Need> = f.list("needs").iter().filter_map(|n| Need::parse(n)).collect();
    let bad_need = f.list("needs").len() != needs.len();
    let seen = f.int("seen");
    f.checked()?;
    let status = status.ok_or_else(|| AppError::field("status", "validation.choice"))?;
    if bad_need {
        return Err(AppError::field("needs", "validation.choice"));
    }
    let seen = seen.ok_or_else(|| AppError::field("seen", "validation.required"))?;
    Ok((CheckChange { status, needs, note: f.opt("note"), seen }, f.text("key")))
}

/// `POST /c/{code}/welfare-checks/{id}`: a check recorded (a conflict kept and said so).
pub async fn check(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    // Helpers too: the check itself says who may see it.
    let c = visible_community(&state.db, &actor, &code).await?;
    let result = match change_of(&m) {
        Ok((ch, key)) => store::change(&state, &actor, &c, id, &ch, &key, Source::Field).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(Outcome::Applied(_) | Outcome::Repeated(true)) => {
            Ok(done(&format!("/c/{code}/welfare-checks/{id}"), Notice::Saved))
        }
        Ok(Outcome::Conflict(_) | Outcome::Repeated(false)) => {
            let e = AppError::Conflict("emergency.kept_as_conflict");
            let action = format!("/c/{code}/welfare-checks/{id}");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_check(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
        Err(e) => {
            let action = format!("/c/{code}/welfare-checks/{id}");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_check(&state, ctx, &actor, &c, id, &r).await })
                .await
        }
    }
}

/// `GET /c/{code}/welfare-checks/{id}`: a household's check, its form and history.
pub async fn check_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    // Helpers too: the check itself says who may see it.
    let c = visible_community(&state.db, &actor, &code).await?;
    show_check(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

// ---------- a resident's reply ----------

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReplyQuery {
    pub ok: Option<String>,
}

/// `GET /c/{code}/incidents/{id}/reply`: "I am safe" or "I need help", in two taps.
pub async fn reply_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    Query(_): Query<ReplyQuery>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let i = store::incident(&mut state.db.read().await?, c.id, id).await?;
    let action = format!("/c/{code}/incidents/{id}/reply");
    let safe = Form::new("", action.clone(), ctx.t("emergency.i_am_safe")).input(Input::hidden("safe", "true"));
    let help = Form::new("", action, ctx.t("emergency.i_need_help"))
        .input(Input::hidden("safe", "false"))
        .confirm(ctx.t("emergency.help_confirm"));
    let blocks = vec![
        Block::Card(
            i.title.clone(),
            Some(status_tag(&ctx, i.status)),
            Vec::new(),
            Some(ctx.t("emergency.reply_hint")),
            Vec::new(),
        ),
        Block::Form(safe),
        Block::Form(help),
    ];
    render(&BlocksPage::new(ctx.clone(), ctx.t("emergency.reply"), Vec::new(), blocks, &Refusal::none()))
}

/// `POST /c/{code}/incidents/{id}/reply` `safe`: the household's check follows the reply.
pub async fn reply(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let safe = crate::web::form::yes(&m, "safe");
    store::reply(&state, &actor, &c, id, safe).await?;
    Ok(done(&format!("/c/{code}/incidents/{id}/reply"), Notice::Saved))
}
