//! Pages of the needs list 需求清单 and its pledges: the list, one need with its pledges,
//! evidence and history, staff actions, pledging, fulfilment and confirmation. Each page
//! loads its data, a plain function builds its view, and its template in
//! `templates/participation/` draws it.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{choices, community, need_tag, pledge_line, pledge_tag, progress, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::participation::store::{self, Evidence, Need, NewNeed};
use crate::capabilities::participation::{
    NEED_KINDS, NeedKind, NeedStatus, PLEDGE_KINDS, PledgeKind, PledgeStatus, RegistrationStatus,
};
use crate::error::{AppError, AppResult};
use crate::services::media::{self, Media};
use crate::web::form::{CsrfForm, CsrfMultipart, Fields, opt, text};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Tab, Tag};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

fn need_item(ctx: &PageCtx, code: &str, n: &Need) -> Item {
    let deadline = n.deadline.map(|d| format!(" · {} {d}", ctx.t("participation.deadline"))).unwrap_or_default();
    Item {
        title: n.title.clone(),
        sub: format!(
            "{} · {} {}{deadline}",
            ctx.t(&format!("participation.need_kind.{}", n.kind.as_str())),
            ctx.t("participation.pledged"),
            progress(n)
        ),
        href: Some(format!("/c/{code}/needs/{}", n.id)),
        tag: Some(need_tag(ctx, n.status)),
    }
}

#[derive(Deserialize)]
pub struct NeedsQuery {
    status: Option<String>,
}

fn need_form(ctx: &PageCtx, code: &str, staff: bool) -> Form {
    let (title, submit) = if staff {
        ("participation.publish_need", "participation.publish")
    } else {
        ("participation.suggest_need", "participation.suggest")
    };
    Form::new(ctx.t(title), format!("/c/{code}/needs"), ctx.t(submit))
        .input(Input::new("title", ctx.t("participation.need_title"), InputKind::Text).required())
        .input(Input::new("description", ctx.t("participation.description"), InputKind::TextArea).required())
        .input(
            Input::new(
                "kind",
                ctx.t("participation.need_kind"),
                InputKind::Select(choices(ctx, "participation.need_kind", NEED_KINDS)),
            )
            .required(),
        )
        .input(
            Input::new("quantity", ctx.t("participation.quantity"), InputKind::Number)
                .required()
                .hint(ctx.t("participation.quantity_hint")),
        )
        .input(
            Input::new("unit", ctx.t("participation.unit"), InputKind::Text)
                .hint(ctx.t("participation.unit_hint_text")),
        )
        .input(Input::new("deadline", ctx.t("participation.deadline"), InputKind::Date))
        .input(Input::new("photos", ctx.t("participation.photos"), InputKind::File))
}

// ---------- the list ----------

#[derive(Template)]
#[template(path = "participation/needs.html")]
pub struct NeedsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub community: String,
    pub links: Vec<(String, String)>,
    pub tabs: Vec<Tab>,
    pub list_title: String,
    pub needs: Vec<Item>,
    /// Publishing (staff) or suggesting (others) a need, folded.
    pub form: Form,
}

/// The needs, by state (the states staff see, or those others may), and the form to add one.
pub fn needs_view(
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    list: &[Need],
    status: Option<NeedStatus>,
    r: &Refusal,
) -> NeedsPage {
    let code = &c.code;
    let is_staff = staff(actor, c);
    let mut tabs = vec![Tab { href: format!("/c/{code}/needs"), label: ctx.t("common.all"), on: status.is_none() }];
    let shown: &[NeedStatus] =
        if is_staff { &NeedStatus::ALL } else { &[NeedStatus::Open, NeedStatus::InProgress, NeedStatus::Fulfilled] };
    tabs.extend(shown.iter().map(|&s| Tab {
        href: format!("/c/{code}/needs?status={}", s.as_str()),
        label: ctx.t(&format!("participation.need_status.{}", s.as_str())),
        on: status == Some(s),
    }));
    let form = need_form(&ctx, code, is_staff).folded().refused(r);
    NeedsPage {
        title: ctx.t("participation.needs"),
        alert: r.alert_for(&[&form]),
        community: c.name.clone(),
        links: vec![
            (format!("/p/{code}/needs"), ctx.t("participation.board")),
            (format!("/c/{code}/register"), ctx.t("participation.dual_registration")),
        ],
        tabs,
        list_title: ctx.tr("list.total", "n", list.len()),
        needs: list.iter().map(|n| need_item(&ctx, code, n)).collect(),
        form,
        ctx,
    }
}

async fn show_needs(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    status: Option<NeedStatus>,
    r: &Refusal,
) -> PageResult {
    let list = store::needs(&mut state.db.read().await?, Some(actor), c.id, status.map(NeedStatus::as_str)).await?;
    render(&needs_view(ctx, actor, c, &list, status, r))
}

pub async fn needs(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<NeedsQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let status = q.status.as_deref().and_then(NeedStatus::parse);
    show_needs(&state, ctx, &actor, &c, status, &Refusal::none()).await
}

pub async fn add_need(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let m = form.fields;
    let mut f = Fields::new(&m);
    let n = NewNeed {
        title: f.text("title"),
        description: f.text("description"),
        kind: f.text("kind"),
        quantity: f.int("quantity"),
        unit: f.opt("unit"),
        deadline: f.date("deadline"),
    };
    let result = match (f.checked(), media::check_uploads(&form.files)) {
        (Ok(()), Ok(photos)) => store::add_need(&state, &actor, c.id, n, &photos).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(n) => Ok(done(&format!("/c/{code}/needs/{}", n.id), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/needs");
            ui::refused(
                e,
                ctx,
                &m,
                &action,
                |ctx, r| async move { show_needs(&state, ctx, &actor, &c, None, &r).await },
            )
            .await
        }
    }
}

// ---------- one need ----------

/// What one need's page is drawn from.
pub struct NeedData {
    pub n: Need,
    pub pledges: Vec<store::Pledge>,
    pub history: Vec<store::NeedEvent>,
    pub photos: Vec<Media>,
    /// The photos of the pledges' evidence.
    pub evidence: Vec<Media>,
    /// The user's accepted registrations (those they may pledge as).
    pub mine: Vec<store::Registration>,
    /// What other capabilities keep that comes from it (the project it became).
    pub related: Vec<crate::web::capability::Related>,
}

async fn load_need(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<NeedData> {
    let mut conn = state.db.read().await?;
    let n =
        store::need(&mut conn, c.id, id).await?.filter(|n| store::may_see(Some(actor), n)).ok_or(AppError::NotFound)?;
    let pledges = store::pledges_of_need(&mut conn, c.id, id).await?;
    let history = store::history(&mut conn, c.id, id).await?;
    let photos = media::of(&mut conn, c.id, "need", id).await?;
    let mine: Vec<store::Registration> = store::mine(&mut conn, c.id, actor.user_id)
        .await?
        .into_iter()
        .filter(|r| r.status == RegistrationStatus::Accepted)
        .collect();
    let mut evidence = Vec::new();
    for p in pledges.iter().filter(|p| !matches!(p.status, PledgeStatus::Pledged | PledgeStatus::Cancelled)) {
        evidence.extend(media::of(&mut conn, c.id, "pledge", p.id).await?);
    }
    drop(conn);
    let related = crate::web::capability::related(state, c, "need", id).await?;
    Ok(NeedData { n, pledges, history, photos, evidence, mine, related })
}

#[derive(Template)]
#[template(path = "participation/need.html")]
pub struct NeedPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub tag: Option<Tag>,
    pub description: String,
    pub cells: Vec<(String, String)>,
    pub photos: Vec<ui::Photo>,
    pub pledges: Vec<Item>,
    pub evidence: Vec<ui::Photo>,
    /// Pledging, for those registered while the need takes pledges.
    pub pledge: Option<Form>,
    /// Where to register, for those not registered while it takes pledges.
    pub register: Vec<(String, String)>,
    /// Reporting the user's own pledges done.
    pub fulfil: Vec<Form>,
    /// Staff's confirmations and steps.
    pub staff: Vec<Form>,
    pub history: Vec<Item>,
    /// Other capabilities' records that come from it: (page, what it is · its title).
    pub related: Vec<(String, String)>,
}

fn need_cells(ctx: &PageCtx, n: &Need) -> Vec<(String, String)> {
    let mut cells = vec![
        (ctx.t("participation.need_kind"), ctx.t(&format!("participation.need_kind.{}", n.kind.as_str()))),
        (ctx.t("participation.pledged"), progress(n)),
        (ctx.t("participation.status.fulfilled"), format!("{} {}", fmt::thousands(n.fulfilled), n.unit)),
    ];
    if let Some(d) = n.deadline {
        cells.push((ctx.t("participation.deadline"), d.to_string()));
    }
    if let Some(r) = &n.reason {
        cells.push((ctx.t("participation.reason"), r.clone()));
    }
    cells
}

/// The pledges; others' names as the public board shows them, unless staff.
fn pledge_items(ctx: &PageCtx, actor: &Actor, is_staff: bool, d: &NeedData) -> Vec<Item> {
    d.pledges
        .iter()
        .map(|p| Item {
            title: pledge_line(ctx, p, &d.n.unit, !is_staff && p.user_id != actor.user_id),
            sub: [
                Some(fmt::datetime(p.created_at)),
                p.note.clone(),
                p.evidence.clone().map(|e| format!("{}：{e}", ctx.t("participation.evidence"))),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
            href: None,
            tag: Some(pledge_tag(ctx, p.status)),
        })
        .collect()
}

fn pledge_form(ctx: &PageCtx, code: &str, n: &Need, mine: &[store::Registration]) -> Form {
    let default_kind = match n.kind {
        NeedKind::Money | NeedKind::Item => PledgeKind::Sponsor,
        NeedKind::Place => PledgeKind::Adopt,
        NeedKind::Service => PledgeKind::Claim,
    };
    let mut f = Form::new(
        ctx.t("participation.pledge"),
        format!("/c/{code}/needs/{}/pledges", n.id),
        ctx.t("participation.pledge_submit"),
    );
    if mine.len() > 1 {
        f = f.input(Input::new(
            "registration_id",
            ctx.t("participation.as"),
            InputKind::Select(mine.iter().map(|r| (r.id.to_string(), r.name.clone())).collect()),
        ));
    }
    f.input(
        Input::new(
            "kind",
            ctx.t("participation.pledge_kind"),
            InputKind::Select(choices(ctx, "participation.pledge_kind", PLEDGE_KINDS)),
        )
        .required()
        .value(default_kind.as_str()),
    )
    .input(
        Input::new("amount", format!("{}（{}）", ctx.t("participation.amount"), n.unit), InputKind::Number)
            .required()
            .value(n.quantity - n.pledged)
            .hint(ctx.tr("participation.left", "n", format!("{} {}", n.quantity - n.pledged, n.unit))),
    )
    .input(Input::new("trim", ctx.t("participation.trim"), InputKind::Checkbox))
    .input(Input::new("note", ctx.t("participation.note"), InputKind::TextArea))
}

/// Reporting each of the user's pledges not yet done.
fn fulfil_forms(ctx: &PageCtx, actor: &Actor, code: &str, d: &NeedData) -> Vec<Form> {
    let unit = &d.n.unit;
    d.pledges
        .iter()
        .filter(|p| p.user_id == actor.user_id && p.status == PledgeStatus::Pledged)
        .map(|p| {
            Form::new(
                format!("{} · {}", ctx.t("participation.fulfil"), pledge_line(ctx, p, unit, false)),
                format!("/c/{code}/pledges/{}/fulfil", p.id),
                ctx.t("participation.fulfil_submit"),
            )
            .input(Input::new("note", ctx.t("participation.evidence"), InputKind::TextArea).required())
            .input(
                Input::new("amount", format!("{}（{}）", ctx.t("participation.amount_done"), unit), InputKind::Number)
                    .value(p.amount),
            )
            .input(Input::new("served_on", ctx.t("participation.served_on"), InputKind::Date).value(fmt::today()))
            .input(
                Input::new("minutes", ctx.t("points.minutes"), InputKind::Number)
                    .hint(ctx.t("participation.minutes_hint")),
            )
            .input(Input::new("photos", ctx.t("participation.photos"), InputKind::File))
        })
        .collect()
}

/// Staff's forms: confirming or returning each fulfilment reported, then the need's steps
/// its state allows.
fn staff_forms(ctx: &PageCtx, code: &str, d: &NeedData) -> Vec<Form> {
    let mut out = Vec::new();
    for p in d.pledges.iter().filter(|p| p.status == PledgeStatus::Submitted) {
        let action = format!("/c/{code}/pledges/{}/confirm", p.id);
        out.push(
            Form::new(
                format!("{} · {}", ctx.t("participation.confirm"), pledge_line(ctx, p, &d.n.unit, false)),
                action.clone(),
                ctx.t("participation.confirm"),
            )
            .input(Input::hidden("decision", "accept")),
        );
        out.push(
            Form::new(ctx.t("participation.return"), format!("{action}?return=1"), ctx.t("participation.return"))
                .input(Input::hidden("decision", "return"))
                .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
                .danger(ctx.t("participation.return_confirm"))
                .folded(),
        );
    }
    for action in ["approve", "decline", "start", "close", "withdraw"] {
        if super::super::staff_step(d.n.status, action).is_ok() {
            let mut f = Form::new(
                ctx.t(&format!("participation.act.{action}")),
                format!("/c/{code}/needs/{}/act?a={action}", d.n.id),
                ctx.t(&format!("participation.act.{action}")),
            )
            .input(Input::hidden("action", action));
            if matches!(action, "decline" | "withdraw") {
                f = f
                    .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
                    .danger(ctx.t(&format!("participation.confirm.{action}")))
                    .folded();
            }
            out.push(f);
        }
    }
    out
}

fn history_items(ctx: &PageCtx, history: &[store::NeedEvent]) -> Vec<Item> {
    history
        .iter()
        .map(|h| {
            let what = h.what.strip_prefix("pledge:").map(|k| {
                format!("{} · {}", ctx.t("participation.pledge"), ctx.t(&format!("participation.pledge_kind.{k}")))
            });
            Item {
                title: format!(
                    "{} · {}",
                    h.actor_name,
                    what.unwrap_or_else(|| ctx.t(&format!("participation.event.{}", h.what)))
                ),
                sub: [Some(fmt::datetime(h.at)), h.note.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
                ..Item::default()
            }
        })
        .collect()
}

/// One need: what it is, its pledges and their evidence, pledging (or where to register),
/// reporting one's pledges done, staff's forms, and its history.
pub fn need_view(ctx: PageCtx, actor: &Actor, c: &CommunityRef, d: &NeedData, r: &Refusal) -> NeedPage {
    let code = &c.code;
    let is_staff = staff(actor, c);
    let status = d.n.status;
    let takes = status.takes_pledges();
    let pledging = (takes && !d.mine.is_empty()).then(|| pledge_form(&ctx, code, &d.n, &d.mine).refused(r));
    let register = if takes && d.mine.is_empty() {
        vec![(format!("/c/{code}/register"), ctx.t("participation.register"))]
    } else {
        Vec::new()
    };
    let fulfil: Vec<Form> = fulfil_forms(&ctx, actor, code, d).into_iter().map(|f| f.refused(r)).collect();
    let steps: Vec<Form> =
        if is_staff { staff_forms(&ctx, code, d).into_iter().map(|f| f.refused(r)).collect() } else { Vec::new() };
    let forms: Vec<&Form> = pledging.iter().chain(fulfil.iter()).chain(steps.iter()).collect();
    NeedPage {
        title: d.n.title.clone(),
        crumbs: vec![(format!("/c/{code}/needs"), ctx.t("participation.needs"))],
        alert: r.alert_for(&forms),
        tag: Some(need_tag(&ctx, status)),
        description: d.n.description.clone(),
        cells: need_cells(&ctx, &d.n),
        photos: media::thumbnails(&d.photos, code),
        pledges: pledge_items(&ctx, actor, is_staff, d),
        evidence: media::thumbnails(&d.evidence, code),
        pledge: pledging,
        register,
        fulfil,
        staff: steps,
        history: history_items(&ctx, &d.history),
        related: d.related.iter().map(|r| (r.href.clone(), format!("{} · {}", ctx.t(r.kind_key), r.title))).collect(),
        ctx,
    }
}

async fn show_need(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let d = load_need(state, actor, c, id).await?;
    render(&need_view(ctx, actor, c, &d, r))
}

/// A form of a need's page refused: the page again, the form filled in.
async fn refused_on_need(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    need_id: i64,
    e: AppError,
    m: &serde_json::Map<String, serde_json::Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { show_need(state, ctx, actor, c, need_id, &r).await }).await
}

pub async fn need_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_need(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

pub async fn need_act(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let action = text(&m, "action");
    match store::need_act(&state, &actor, c.id, id, &action, opt(&m, "reason").as_deref()).await {
        Ok(_) => Ok(done(&format!("/c/{code}/needs/{id}"), Notice::Saved)),
        Err(e) => {
            let form = format!("/c/{code}/needs/{id}/act?a={action}");
            refused_on_need(&state, ctx, &actor, &c, id, e, &m, &form).await
        }
    }
}

pub async fn pledge(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (registration, amount) = (f.id("registration_id"), f.int("amount"));
    let (kind, trim, note) = (f.text("kind"), f.yes("trim"), f.opt("note"));
    let result = match f.checked() {
        Ok(()) => store::make_pledge(&state, &actor, c.id, id, registration, &kind, amount, trim, note).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/needs/{id}"), Notice::Pledged)),
        Err(e) => refused_on_need(&state, ctx, &actor, &c, id, e, &m, &format!("/c/{code}/needs/{id}/pledges")).await,
    }
}

async fn need_of_pledge(state: &AppState, c: &CommunityRef, pledge_id: i64) -> AppResult<i64> {
    Ok(store::pledge(&mut state.db.read().await?, c.id, pledge_id).await?.ok_or(AppError::NotFound)?.need_id)
}

pub async fn fulfil(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let need_id = need_of_pledge(&state, &c, id).await?;
    let m = form.fields;
    let mut f = Fields::new(&m);
    let ev = Evidence {
        note: f.text("note"),
        amount: f.int("amount"),
        served_on: f.date("served_on"),
        minutes: f.int("minutes"),
    };
    let result = match (f.checked(), media::check_uploads(&form.files)) {
        (Ok(()), Ok(photos)) => store::fulfil(&state, &actor, c.id, id, ev, &photos).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/needs/{need_id}"), Notice::Sent)),
        Err(e) => {
            let action = format!("/c/{code}/pledges/{id}/fulfil");
            refused_on_need(&state, ctx, &actor, &c, need_id, e, &m, &action).await
        }
    }
}

pub async fn confirm_pledge(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let need_id = need_of_pledge(&state, &c, id).await?;
    let accept = text(&m, "decision") == "accept";
    match store::confirm(&state, &actor, c.id, id, accept, opt(&m, "reason").as_deref()).await {
        Ok(_) => Ok(done(&format!("/c/{code}/needs/{need_id}"), Notice::Saved)),
        Err(e) => {
            let action = if accept {
                format!("/c/{code}/pledges/{id}/confirm")
            } else {
                format!("/c/{code}/pledges/{id}/confirm?return=1")
            };
            refused_on_need(&state, ctx, &actor, &c, need_id, e, &m, &action).await
        }
    }
}
