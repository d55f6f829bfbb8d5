//! Pages of dual registration 报到: registering, staff's list with activity and reminders,
//! one registration with its pledges and pairs, and staff's decision. Each page loads its
//! data, a plain function builds its view, and its template in `templates/participation/`
//! draws it.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value};

use super::pairing::pair_item;
use super::{choices, community, pledge_line, pledge_tag, registration_tag, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Role};
use crate::capabilities::participation::store::{self, NewRegistration};
use crate::capabilities::participation::{PledgeStatus, RegistrationKind, RegistrationStatus};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields, opt, text};
use crate::web::ui::{self, Cell, Form, Input, InputKind, Item, Refusal, Stat, Table, Tag};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

async fn units_of(state: &AppState, community_id: i64) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<(i64, String)> =
        query("SELECT id, name FROM partner_units WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
            .bind(community_id)
            .fetch_all(&mut state.db.read().await?)
            .await?;
    Ok(rows.into_iter().map(|(id, n)| (id.to_string(), n)).collect())
}

fn register_form(
    ctx: &PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    action: &str,
    units: Option<Vec<(String, String)>>,
) -> Form {
    let unit_contact = actor.grants.iter().any(|g| g.role() == Role::PartnerUnit && g.community_id == Some(c.id));
    let kinds: Vec<&str> = if units.is_some() || unit_contact {
        vec![RegistrationKind::Member.as_str(), RegistrationKind::Unit.as_str()]
    } else {
        vec![RegistrationKind::Member.as_str()]
    };
    let mut f = Form::new(ctx.t("participation.register"), action, ctx.t("participation.register_submit")).input(
        Input::new(
            "kind",
            ctx.t("participation.kind"),
            InputKind::Select(choices(ctx, "participation.registration_kind", &kinds)),
        )
        .required(),
    );
    if let Some(u) = units {
        f = f.input(
            Input::new("partner_unit_id", ctx.t("entity.partner_unit"), InputKind::Select(u))
                .hint(ctx.t("participation.unit_hint")),
        );
    }
    f.input(
        Input::new("name", ctx.t("participation.name"), InputKind::Text)
            .required()
            .value(&actor.display_name)
            .hint(ctx.t("participation.name_hint")),
    )
    .input(Input::new("party_org", ctx.t("participation.party_org"), InputKind::Text).required())
    .input(
        Input::new(
            "relation",
            ctx.t("participation.relation"),
            InputKind::Select(choices(ctx, "participation.relation", &["lives", "works"])),
        )
        .hint(ctx.t("participation.relation_hint")),
    )
    .input(Input::new("skills", ctx.t("participation.skills"), InputKind::Text).hint(ctx.t("points.skills_hint")))
    .input(Input::new("offers", ctx.t("participation.offers"), InputKind::TextArea))
    .input(Input::new("contact_name", ctx.t("participation.contact_name"), InputKind::Text))
    .input(Input::new("contact_phone", ctx.t("participation.contact_phone"), InputKind::Tel))
    .input(Input::new("show_name", ctx.t("participation.show_name"), InputKind::Checkbox))
}

/// A registration from its form; refused naming each field that does not parse.
fn new_registration(m: &Map<String, Value>) -> AppResult<NewRegistration> {
    let mut f = Fields::new(m);
    let input = NewRegistration {
        kind: f.text("kind"),
        name: f.text("name"),
        party_org: f.text("party_org"),
        relation: f.opt("relation"),
        partner_unit_id: f.id("partner_unit_id"),
        skills: f.list("skills"),
        offers: f.opt("offers"),
        contact_name: f.opt("contact_name"),
        contact_phone: f.opt("contact_phone"),
        show_name: f.yes("show_name"),
    };
    f.checked()?;
    Ok(input)
}

fn registration_item(ctx: &PageCtx, code: &str, r: &store::Registration, extra: &str) -> Item {
    Item {
        title: format!("{} · {}", r.name, ctx.t(&format!("participation.registration_kind.{}", r.kind.as_str()))),
        sub: format!("{} · {}{extra}", r.party_org, fmt::datetime(r.registered_at)),
        href: Some(format!("/c/{code}/registrations/{}", r.id)),
        tag: Some(registration_tag(ctx, r.status)),
    }
}

// ---------- registering ----------

#[derive(Template)]
#[template(path = "participation/register.html")]
pub struct RegisterPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub community: String,
    pub links: Vec<(String, String)>,
    pub mine: Vec<Item>,
    pub form: Form,
}

/// Registering: the community, the user's registrations, and the form.
pub fn register_view(
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    mine: &[store::Registration],
    r: &Refusal,
) -> RegisterPage {
    let code = &c.code;
    let mut links = vec![
        (format!("/p/{code}/needs"), ctx.t("participation.board")),
        (format!("/c/{code}/pairs"), ctx.t("participation.pairs")),
    ];
    if staff(actor, c) {
        links.insert(0, (format!("/c/{code}/registrations"), ctx.t("participation.registrations")));
    }
    let form = register_form(&ctx, actor, c, &format!("/c/{code}/register"), None).refused(r);
    RegisterPage {
        title: ctx.t("participation.dual_registration"),
        alert: r.alert_for(&[&form]),
        community: c.name.clone(),
        links,
        mine: mine.iter().map(|x| registration_item(&ctx, code, x, "")).collect(),
        form,
        ctx,
    }
}

async fn show_register(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let mine = store::mine(&mut state.db.read().await?, c.id, actor.user_id).await?;
    render(&register_view(ctx, actor, c, &mine, r))
}

pub async fn register_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_register(&state, ctx, &actor, &c, &Refusal::none()).await
}

pub async fn register(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match new_registration(&m) {
        Ok(input) => store::register(&state, &actor, &c, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(done(&format!("/c/{code}/registrations/{}", r.id), Notice::Registered)),
        Err(e) => {
            let action = format!("/c/{code}/register");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_register(&state, ctx, &actor, &c, &r).await })
                .await
        }
    }
}

// ---------- staff's list ----------

/// What staff's list of registrations is drawn from.
pub struct RegistrationsData {
    pub list: Vec<store::Listed>,
    pub threshold: i64,
    pub to_confirm: Vec<store::Pledge>,
    pub units: Vec<(String, String)>,
}

async fn load_registrations(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<RegistrationsData> {
    let mut conn = state.db.read().await?;
    let list = store::registrations(&mut conn, actor, c.id).await?;
    let threshold = crate::services::settings::int(&mut conn, c.id, &super::super::MIN_ACTIVITY).await?;
    let to_confirm = store::to_confirm(&mut conn, actor, c.id).await?;
    drop(conn);
    let units = units_of(state, c.id).await?;
    Ok(RegistrationsData { list, threshold, to_confirm, units })
}

#[derive(Template)]
#[template(path = "participation/registrations.html")]
pub struct RegistrationsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub community: String,
    pub stats: Vec<Stat>,
    pub links: Vec<(String, String)>,
    pub table_title: String,
    pub table: Table,
    pub remind: Form,
    pub to_confirm: Vec<Item>,
    pub register: Form,
}

crate::text_enum! {
    /// How staff's registrations are sorted: those waiting first (oldest first), by name,
    /// the least active first (to remind), or newest first.
    pub enum RegistrationSort {
        Status = "status",
        Name = "name",
        Activity = "activity",
        Registered = "registered",
    }
}

fn waiting_rank(s: RegistrationStatus) -> u8 {
    match s {
        RegistrationStatus::Pending => 0,
        RegistrationStatus::Accepted => 1,
        RegistrationStatus::Declined => 2,
    }
}

/// Sorts the registrations as asked; names in natural order, ties by registration.
pub fn sort_registrations(list: &mut [store::Listed], by: RegistrationSort) {
    let first =
        |a: &store::Listed, b: &store::Listed| a.r.registered_at.cmp(&b.r.registered_at).then(a.r.id.cmp(&b.r.id));
    match by {
        RegistrationSort::Status => {
            list.sort_by(|a, b| waiting_rank(a.r.status).cmp(&waiting_rank(b.r.status)).then(first(a, b)))
        }
        RegistrationSort::Name => list.sort_by(|a, b| crate::natural::cmp(&a.r.name, &b.r.name).then(first(a, b))),
        RegistrationSort::Activity => list.sort_by(|a, b| a.activity.cmp(&b.activity).then(first(a, b))),
        RegistrationSort::Registered => list.sort_by(|a, b| first(b, a)),
    }
}

fn registrations_table(ctx: &PageCtx, code: &str, list: &[store::Listed], by: RegistrationSort) -> Table {
    let key = |s: RegistrationSort| Some(s.as_str());
    Table {
        head: vec![
            ctx.t("participation.name"),
            ctx.t("participation.kind"),
            ctx.t("participation.party_org"),
            ctx.t("participation.state"),
            ctx.t("participation.activity"),
            ctx.t("participation.registered_at"),
        ],
        rows: list
            .iter()
            .map(|l| {
                let activity = if l.below { format!("{} ⚠", l.activity) } else { l.activity.to_string() };
                vec![
                    Cell::link(&l.r.name, format!("/c/{code}/registrations/{}", l.r.id)),
                    Cell::text(ctx.t(&format!("participation.registration_kind.{}", l.r.kind.as_str()))),
                    Cell::text(&l.r.party_org),
                    Cell::text(ctx.t(&format!("participation.status.{}", l.r.status.as_str()))),
                    Cell::text(activity),
                    Cell::text(fmt::to_cst(l.r.registered_at).format("%Y-%m-%d").to_string()),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
        sort: ui::sort_heads(
            &[
                key(RegistrationSort::Name),
                None,
                None,
                key(RegistrationSort::Status),
                key(RegistrationSort::Activity),
                key(RegistrationSort::Registered),
            ],
            by.as_str(),
            &[RegistrationSort::Registered.as_str()],
            |k| format!("/c/{code}/registrations?sort={k}"),
        ),
    }
}

/// Staff's list: the counts, each registration with its activity, the reminder, the
/// fulfilments to confirm, and registering someone (folded).
pub fn registrations_view(
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    d: RegistrationsData,
    by: RegistrationSort,
    r: &Refusal,
) -> RegistrationsPage {
    let code = &c.code;
    let below = d.list.iter().filter(|l| l.below).count();
    let count = |s: RegistrationStatus| d.list.iter().filter(|l| l.r.status == s).count();
    let stat = |label: String, value: usize| Stat { label, value: value.to_string(), href: None };
    let remind = Form::new(
        ctx.t("participation.remind"),
        format!("/c/{code}/registrations"),
        ctx.t("participation.remind_submit"),
    )
    .input(
        Input::new("threshold", ctx.t("participation.threshold"), InputKind::Number)
            .required()
            .value(d.threshold)
            .hint(ctx.t("participation.threshold_hint")),
    )
    .refused(r);
    let register = register_form(&ctx, actor, c, &format!("/c/{code}/register"), Some(d.units)).folded().refused(r);
    let to_confirm = d
        .to_confirm
        .iter()
        .map(|p| Item {
            title: p.need_title.clone(),
            sub: pledge_line(&ctx, p, "", false),
            href: Some(format!("/c/{code}/needs/{}", p.need_id)),
            tag: Some(pledge_tag(&ctx, p.status)),
        })
        .collect();
    RegistrationsPage {
        title: ctx.t("participation.registrations"),
        crumbs: vec![(format!("/c/{code}/register"), ctx.t("participation.dual_registration"))],
        alert: r.alert_for(&[&remind, &register]),
        community: c.name.clone(),
        stats: vec![
            stat(ctx.t("participation.accepted"), count(RegistrationStatus::Accepted)),
            stat(ctx.t("participation.status.pending"), count(RegistrationStatus::Pending)),
            stat(ctx.t("participation.below"), below),
        ],
        links: vec![
            (format!("/c/{code}/needs"), ctx.t("participation.needs")),
            (format!("/c/{code}/participation/stats"), ctx.t("participation.stats")),
        ],
        table_title: ctx.tr("list.total", "n", d.list.len()),
        table: registrations_table(&ctx, code, &d.list, by),
        remind,
        to_confirm,
        register,
        ctx,
    }
}

async fn show_registrations(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    by: RegistrationSort,
    r: &Refusal,
) -> PageResult {
    let mut d = load_registrations(state, actor, c).await?;
    sort_registrations(&mut d.list, by);
    render(&registrations_view(ctx, actor, c, d, by, r))
}

#[derive(serde::Deserialize)]
pub struct SortQuery {
    sort: Option<String>,
}

pub async fn registrations(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<SortQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let by = match q.sort.as_deref().filter(|s| !s.is_empty()) {
        None => RegistrationSort::Status,
        Some(s) => RegistrationSort::parse(s).ok_or_else(|| AppError::field("sort", "validation.choice"))?,
    };
    show_registrations(&state, ctx, &actor, &c, by, &Refusal::none()).await
}

/// Sets the community's threshold and reminds those below it.
pub async fn remind(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let threshold = f.int("threshold");
    let result = match (f.checked(), threshold) {
        (Err(e), _) => Err(e),
        (Ok(()), Some(t)) => store::set_threshold(&state, &actor, c.id, t).await,
        (Ok(()), None) => Err(AppError::field("threshold", "validation.required")),
    };
    let result = match result {
        Ok(()) => store::remind(&state, &actor, c.id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(n) => Ok(done(&format!("/c/{code}/registrations?n={n}"), Notice::Reminded)),
        Err(e) => {
            let action = format!("/c/{code}/registrations");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                show_registrations(&state, ctx, &actor, &c, RegistrationSort::Status, &r).await
            })
            .await
        }
    }
}

// ---------- one registration ----------

/// What one registration's page is drawn from: it, its pledges, and (a member's) pairs.
pub struct RegistrationData {
    pub r: store::Registration,
    pub pledges: Vec<store::Pledge>,
    pub pairs: Vec<store::PairView>,
}

async fn load_registration(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<RegistrationData> {
    let mut conn = state.db.read().await?;
    let r = store::registration_for(&mut conn, actor, c.id, id).await?;
    let pledges = store::pledges_of(&mut conn, c.id, id).await?;
    let pairs: Vec<store::PairView> = if r.kind == RegistrationKind::Member {
        store::pairs(&mut conn, actor, c.id).await?.into_iter().filter(|p| p.pair.user_id == r.user_id).collect()
    } else {
        Vec::new()
    };
    Ok(RegistrationData { r, pledges, pairs })
}

#[derive(Template)]
#[template(path = "participation/registration.html")]
pub struct RegistrationPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub tag: Option<Tag>,
    pub stats: Vec<Stat>,
    pub cells: Vec<(String, String)>,
    pub links: Vec<(String, String)>,
    /// Staff's accept and decline, while it waits.
    pub decide: Vec<Form>,
    pub pledges: Vec<Item>,
    pub pairs: Vec<Item>,
}

fn registration_cells(ctx: &PageCtx, r: &store::Registration) -> Vec<(String, String)> {
    let mut cells = vec![
        (ctx.t("participation.kind"), ctx.t(&format!("participation.registration_kind.{}", r.kind.as_str()))),
        (ctx.t("participation.party_org"), r.party_org.clone()),
        (ctx.t("participation.skills"), crate::services::records::model::tags_from_column(&r.skills).join("、")),
        (ctx.t("participation.offers"), r.offers.clone().unwrap_or_default()),
        (ctx.t("participation.contact_name"), r.contact_name.clone().unwrap_or_default()),
        (ctx.t("participation.contact_phone"), r.contact_phone_masked.clone().unwrap_or_default()),
        (ctx.t("participation.registered_at"), fmt::datetime(r.registered_at)),
        (
            ctx.t("participation.show_name"),
            ctx.t(if r.show_name || r.kind == RegistrationKind::Unit { "common.yes" } else { "common.no" }),
        ),
    ];
    if let Some(rel) = &r.relation {
        cells.insert(1, (ctx.t("participation.relation"), ctx.t(&format!("participation.relation.{rel}"))));
    }
    if let Some(reason) = &r.reason {
        cells.push((ctx.t("participation.reason"), reason.clone()));
    }
    cells
}

fn decide_forms(ctx: &PageCtx, code: &str, id: i64, r: &Refusal) -> Vec<Form> {
    let action = format!("/c/{code}/registrations/{id}/decide");
    vec![
        Form::new(ctx.t("participation.accept"), action.clone(), ctx.t("participation.accept"))
            .input(Input::hidden("decision", "accept"))
            .refused(r),
        Form::new(ctx.t("participation.decline"), format!("{action}?decline=1"), ctx.t("participation.decline"))
            .input(Input::hidden("decision", "decline"))
            .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
            .danger(ctx.t("participation.decline_confirm"))
            .folded()
            .refused(r),
    ]
}

/// One registration: its facts and counts, staff's decision while it waits, its pledges
/// and its pairs.
pub fn registration_view(
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    d: &RegistrationData,
    r: &Refusal,
) -> RegistrationPage {
    let code = &c.code;
    let reg = &d.r;
    let fulfilled = d.pledges.iter().filter(|p| p.status == PledgeStatus::Fulfilled).count();
    let visits: i64 = d.pairs.iter().map(|p| p.pair.visits).sum();
    let stat = |label: String, value: String| Stat { label, value, href: None };
    let decide = if reg.status == RegistrationStatus::Pending && staff(actor, c) {
        decide_forms(&ctx, code, reg.id, r)
    } else {
        Vec::new()
    };
    let pledges = d
        .pledges
        .iter()
        .map(|p| Item {
            title: p.need_title.clone(),
            sub: format!("{} · {}", pledge_line(&ctx, p, "", false), fmt::datetime(p.created_at)),
            href: Some(format!("/c/{code}/needs/{}", p.need_id)),
            tag: Some(pledge_tag(&ctx, p.status)),
        })
        .collect();
    let back = if staff(actor, c) { format!("/c/{code}/registrations") } else { format!("/c/{code}/register") };
    RegistrationPage {
        title: reg.name.clone(),
        crumbs: vec![(back, ctx.t("participation.dual_registration"))],
        alert: r.alert_for(&decide.iter().collect::<Vec<_>>()),
        tag: Some(registration_tag(&ctx, reg.status)),
        stats: vec![
            stat(ctx.t("participation.pledges"), d.pledges.len().to_string()),
            stat(ctx.t("participation.status.fulfilled"), fulfilled.to_string()),
            stat(ctx.t("participation.visits"), visits.to_string()),
        ],
        cells: registration_cells(&ctx, reg),
        links: vec![(format!("/p/{code}/needs"), ctx.t("participation.board"))],
        decide,
        pledges,
        pairs: d.pairs.iter().map(|p| pair_item(&ctx, code, p)).collect(),
        ctx,
    }
}

async fn show_registration(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let d = load_registration(state, actor, c, id).await?;
    render(&registration_view(ctx, actor, c, &d, r))
}

pub async fn registration_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_registration(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

pub async fn decide_registration(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let accept = text(&m, "decision") == "accept";
    match store::decide(&state, &actor, c.id, id, accept, opt(&m, "reason").as_deref()).await {
        Ok(_) => Ok(done(&format!("/c/{code}/registrations/{id}"), Notice::Saved)),
        Err(e) => {
            let action = if accept {
                format!("/c/{code}/registrations/{id}/decide")
            } else {
                format!("/c/{code}/registrations/{id}/decide?decline=1")
            };
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                show_registration(&state, ctx, &actor, &c, id, &r).await
            })
            .await
        }
    }
}
