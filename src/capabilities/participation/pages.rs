//! Pages of participation: registering with the community 报到 and staff's list with
//! reminders; the needs list with its pledges, their evidence and confirmation; pairs
//! and their visits; the figures; and the public board and list of the registered.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::store::{self, Evidence, Need, NewNeed, NewPair, NewRegistration, Pledge};
use super::{NEED_KINDS, NeedStatus, PLEDGE_KINDS, stats};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission, Role};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::services::media;
use crate::web::AppState;
use crate::web::form::{CsrfForm, CsrfMultipart, date, int, list, opt, text, yes};
use crate::web::sheet::{Block, Card, Form, Input, InputKind, Item, Sheet, Stat, Table, refused};
use crate::web::ui::{Bars, bars_markup};
use crate::web::{Notice, Page, PageCtx, PageResult, SignedPage, done, fmt};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn staff(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageParticipation)
}

fn choices(ctx: &PageCtx, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| (v.to_string(), ctx.t(&format!("{prefix}.{v}")))).collect()
}

fn need_tag(ctx: &PageCtx, s: NeedStatus) -> (String, &'static str) {
    let class = match s {
        NeedStatus::Open | NeedStatus::Suggested => "tag-orange",
        NeedStatus::Pledged | NeedStatus::InProgress => "tag-blue",
        NeedStatus::Fulfilled | NeedStatus::Closed => "tag-green",
        NeedStatus::Declined | NeedStatus::Withdrawn => "tag-grey",
    };
    (ctx.t(&format!("participation.need_status.{}", s.as_str())), class)
}

fn status_tag(ctx: &PageCtx, status: &str) -> (String, &'static str) {
    let class = match status {
        "accepted" | "fulfilled" => "tag-green",
        "pending" | "submitted" => "tag-orange",
        "pledged" => "tag-blue",
        _ => "tag-grey",
    };
    (ctx.t(&format!("participation.status.{status}")), class)
}

fn progress(n: &Need) -> String {
    format!("{} / {} {}", fmt::thousands(n.pledged), fmt::thousands(n.quantity), n.unit)
}

fn need_item(ctx: &PageCtx, code: &str, n: &Need) -> Item {
    let deadline = n.deadline.map(|d| format!(" · {} {d}", ctx.t("participation.deadline"))).unwrap_or_default();
    Item {
        title: n.title.clone(),
        sub: format!(
            "{} · {} {}{deadline}",
            ctx.t(&format!("participation.need_kind.{}", n.kind)),
            ctx.t("participation.pledged"),
            progress(n)
        ),
        href: Some(format!("/c/{code}/needs/{}", n.id)),
        tag: Some(need_tag(ctx, n.status())),
    }
}

fn pledge_line(ctx: &PageCtx, p: &Pledge, unit: &str, public: bool) -> String {
    let who = if public { p.public_name() } else { p.registrant.clone() };
    format!("{who} · {} {}{unit}", ctx.t(&format!("participation.pledge_kind.{}", p.kind)), fmt::thousands(p.amount))
}

// ---------- registration ----------

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
    let kinds: Vec<&str> = if units.is_some() || unit_contact { vec!["member", "unit"] } else { vec!["member"] };
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

fn new_registration(m: &Map<String, Value>) -> NewRegistration {
    NewRegistration {
        kind: text(m, "kind"),
        name: text(m, "name"),
        party_org: text(m, "party_org"),
        relation: opt(m, "relation"),
        partner_unit_id: int(m, "partner_unit_id"),
        skills: list(m, "skills"),
        offers: opt(m, "offers"),
        contact_name: opt(m, "contact_name"),
        contact_phone: opt(m, "contact_phone"),
        show_name: yes(m, "show_name"),
    }
}

fn registration_item(ctx: &PageCtx, code: &str, r: &store::Registration, extra: &str) -> Item {
    Item {
        title: format!("{} · {}", r.name, ctx.t(&format!("participation.registration_kind.{}", r.kind))),
        sub: format!("{} · {}{extra}", r.party_org, fmt::datetime(r.registered_at)),
        href: Some(format!("/c/{code}/registrations/{}", r.id)),
        tag: Some(status_tag(ctx, &r.status)),
    }
}

async fn register_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mine = store::mine(&mut state.db.read().await?, c.id, actor.user_id).await?;
    let code = &c.code;
    let mut links = vec![
        (format!("/p/{code}/needs"), ctx.t("participation.board")),
        (format!("/c/{code}/pairs"), ctx.t("participation.pairs")),
    ];
    if staff(actor, c) {
        links.insert(0, (format!("/c/{code}/registrations"), ctx.t("participation.registrations")));
    }
    Ok(Sheet::new(ctx.clone(), ctx.t("participation.dual_registration"))
        .card(Card {
            title: c.name.clone(),
            text: Some(ctx.t("participation.register_intro")),
            links,
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("participation.my_registrations"),
            items: mine.iter().map(|r| registration_item(&ctx, code, r, "")).collect(),
            empty: Some(ctx.t("participation.not_yet_registered")),
            ..Card::default()
        })
        .form(register_form(&ctx, actor, c, &format!("/c/{code}/register"), None)))
}

pub async fn register_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    register_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn register(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::register(&state, &actor, &c, new_registration(&m)).await {
        Ok(r) => Ok(done(&format!("/c/{code}/registrations/{}", r.id), Notice::Registered)),
        Err(e) => refused(e, &m, &format!("/c/{code}/register"), || register_sheet(&state, ctx, &actor, &c)).await,
    }
}

async fn registrations_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let list = store::registrations(&mut conn, actor, c.id).await?;
    let threshold = crate::services::settings::int(&mut conn, c.id, &super::MIN_ACTIVITY).await?;
    let to_confirm = store::to_confirm(&mut conn, actor, c.id).await?;
    drop(conn);
    let units = units_of(state, c.id).await?;
    let code = &c.code;
    let below = list.iter().filter(|l| l.below).count();
    let accepted = list.iter().filter(|l| l.r.status == "accepted").count();
    let table = Table {
        title: ctx.tr("list.total", "n", list.len()),
        head: vec![
            ctx.t("participation.name"),
            ctx.t("participation.kind"),
            ctx.t("participation.party_org"),
            ctx.t("participation.state"),
            ctx.t("participation.activity"),
        ],
        rows: list
            .iter()
            .map(|l| {
                let activity = if l.below { format!("{} ⚠", l.activity) } else { l.activity.to_string() };
                vec![
                    (l.r.name.clone(), Some(format!("/c/{code}/registrations/{}", l.r.id))),
                    (ctx.t(&format!("participation.registration_kind.{}", l.r.kind)), None),
                    (l.r.party_org.clone(), None),
                    (ctx.t(&format!("participation.status.{}", l.r.status)), None),
                    (activity, None),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
    };
    let mut sheet = Sheet::new(ctx.clone(), ctx.t("participation.registrations"))
        .crumb(format!("/c/{code}/register"), ctx.t("participation.dual_registration"))
        .card(Card {
            title: c.name.clone(),
            stats: vec![
                Stat { label: ctx.t("participation.accepted"), value: accepted.to_string(), href: None },
                Stat {
                    label: ctx.t("participation.status.pending"),
                    value: (list.len() - accepted).to_string(),
                    href: None,
                },
                Stat { label: ctx.t("participation.below"), value: below.to_string(), href: None },
            ],
            links: vec![
                (format!("/c/{code}/needs"), ctx.t("participation.needs")),
                (format!("/c/{code}/participation/stats"), ctx.t("participation.stats")),
            ],
            ..Card::default()
        })
        .table(table)
        .form(
            Form::new(
                ctx.t("participation.remind"),
                format!("/c/{code}/registrations"),
                ctx.t("participation.remind_submit"),
            )
            .input(
                Input::new("threshold", ctx.t("participation.threshold"), InputKind::Number)
                    .required()
                    .value(threshold)
                    .hint(ctx.t("participation.threshold_hint")),
            ),
        );
    if !to_confirm.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.t("participation.to_confirm"),
            items: to_confirm
                .iter()
                .map(|p| Item {
                    title: p.need_title.clone(),
                    sub: pledge_line(&ctx, p, "", false),
                    href: Some(format!("/c/{code}/needs/{}", p.need_id)),
                    tag: Some(status_tag(&ctx, &p.status)),
                })
                .collect(),
            ..Card::default()
        });
    }
    Ok(sheet.form(register_form(&ctx, actor, c, &format!("/c/{code}/register"), Some(units)).folded()))
}

pub async fn registrations(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    registrations_sheet(&state, ctx, &actor, &c).await?.render()
}

/// Sets the community's threshold and reminds those below it.
pub async fn remind(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match int(&m, "threshold") {
        Some(t) => store::set_threshold(&state, &actor, c.id, t).await,
        None => Err(AppError::field("threshold", "validation.number")),
    };
    let result = match result {
        Ok(()) => store::remind(&state, &actor, c.id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(n) => Ok(done(&format!("/c/{code}/registrations?n={n}"), Notice::Reminded)),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/registrations"), || registrations_sheet(&state, ctx, &actor, &c)).await
        }
    }
}

async fn registration_sheet(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let r = store::registration_for(&mut conn, actor, c.id, id).await?;
    let pledges = store::pledges_of(&mut conn, c.id, id).await?;
    let pairs: Vec<store::PairView> = if r.kind == "member" {
        store::pairs(&mut conn, actor, c.id).await?.into_iter().filter(|p| p.pair.user_id == r.user_id).collect()
    } else {
        Vec::new()
    };
    drop(conn);
    let code = &c.code;
    let mut cells = vec![
        (ctx.t("participation.kind"), ctx.t(&format!("participation.registration_kind.{}", r.kind))),
        (ctx.t("participation.party_org"), r.party_org.clone()),
        (ctx.t("participation.skills"), crate::services::records::model::tags_from_column(&r.skills).join("、")),
        (ctx.t("participation.offers"), r.offers.clone().unwrap_or_default()),
        (ctx.t("participation.contact_name"), r.contact_name.clone().unwrap_or_default()),
        (ctx.t("participation.contact_phone"), r.contact_phone_masked.clone().unwrap_or_default()),
        (ctx.t("participation.registered_at"), fmt::datetime(r.registered_at)),
        (
            ctx.t("participation.show_name"),
            ctx.t(if r.show_name || r.kind == "unit" { "common.yes" } else { "common.no" }),
        ),
    ];
    if let Some(rel) = &r.relation {
        cells.insert(1, (ctx.t("participation.relation"), ctx.t(&format!("participation.relation.{rel}"))));
    }
    if let Some(reason) = &r.reason {
        cells.push((ctx.t("participation.reason"), reason.clone()));
    }
    let fulfilled = pledges.iter().filter(|p| p.status == "fulfilled").count();
    let visits: i64 = pairs.iter().map(|p| p.pair.visits).sum();
    let mut sheet = Sheet::new(ctx.clone(), r.name.clone())
        .crumb(
            if staff(actor, c) { format!("/c/{code}/registrations") } else { format!("/c/{code}/register") },
            ctx.t("participation.dual_registration"),
        )
        .card(Card {
            title: r.name.clone(),
            tag: Some(status_tag(&ctx, &r.status)),
            stats: vec![
                Stat { label: ctx.t("participation.pledges"), value: pledges.len().to_string(), href: None },
                Stat { label: ctx.t("participation.status.fulfilled"), value: fulfilled.to_string(), href: None },
                Stat { label: ctx.t("participation.visits"), value: visits.to_string(), href: None },
            ],
            cells,
            links: vec![(format!("/p/{code}/needs"), ctx.t("participation.board"))],
            ..Card::default()
        });
    if r.status == "pending" && staff(actor, c) {
        let action = format!("/c/{code}/registrations/{id}/decide");
        sheet = sheet
            .form(
                Form::new(ctx.t("participation.accept"), action.clone(), ctx.t("participation.accept"))
                    .input(Input::hidden("decision", "accept")),
            )
            .form(
                Form::new(
                    ctx.t("participation.decline"),
                    format!("{action}?decline=1"),
                    ctx.t("participation.decline"),
                )
                .input(Input::hidden("decision", "decline"))
                .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
                .danger()
                .folded(),
            );
    }
    sheet = sheet.card(Card {
        title: ctx.t("participation.pledged_and_done"),
        items: pledges
            .iter()
            .map(|p| Item {
                title: p.need_title.clone(),
                sub: format!("{} · {}", pledge_line(&ctx, p, "", false), fmt::datetime(p.created_at)),
                href: Some(format!("/c/{code}/needs/{}", p.need_id)),
                tag: Some(status_tag(&ctx, &p.status)),
            })
            .collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    });
    if !pairs.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.t("participation.pairs"),
            items: pairs.iter().map(|p| pair_item(&ctx, code, p)).collect(),
            ..Card::default()
        });
    }
    Ok(sheet)
}

pub async fn registration_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    registration_sheet(&state, ctx, &actor, &c, id).await?.render()
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
            refused(e, &m, &action, || registration_sheet(&state, ctx, &actor, &c, id)).await
        }
    }
}

// ---------- needs ----------

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

async fn needs_sheet(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    status: Option<&str>,
) -> AppResult<Sheet> {
    let list = store::needs(&mut state.db.read().await?, Some(actor), c.id, status).await?;
    let code = &c.code;
    let is_staff = staff(actor, c);
    let mut tabs = vec![(format!("/c/{code}/needs"), ctx.t("common.all"), status.is_none())];
    let shown: &[NeedStatus] =
        if is_staff { &NeedStatus::ALL } else { &[NeedStatus::Open, NeedStatus::InProgress, NeedStatus::Fulfilled] };
    tabs.extend(shown.iter().map(|s| {
        (
            format!("/c/{code}/needs?status={}", s.as_str()),
            ctx.t(&format!("participation.need_status.{}", s.as_str())),
            status == Some(s.as_str()),
        )
    }));
    Ok(Sheet::new(ctx.clone(), ctx.t("participation.needs"))
        .card(Card {
            title: c.name.clone(),
            text: Some(ctx.t("participation.needs_intro")),
            links: vec![
                (format!("/p/{code}/needs"), ctx.t("participation.board")),
                (format!("/c/{code}/register"), ctx.t("participation.dual_registration")),
            ],
            ..Card::default()
        })
        .block(Block::Tabs(tabs))
        .card(Card {
            title: ctx.tr("list.total", "n", list.len()),
            items: list.iter().map(|n| need_item(&ctx, code, n)).collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .form(need_form(&ctx, code, is_staff).folded()))
}

pub async fn needs(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<NeedsQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    needs_sheet(&state, ctx, &actor, &c, q.status.as_deref().filter(|s| NeedStatus::parse(s).is_some())).await?.render()
}

pub async fn add_need(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let m = form.fields;
    let n = NewNeed {
        title: text(&m, "title"),
        description: text(&m, "description"),
        kind: text(&m, "kind"),
        quantity: int(&m, "quantity"),
        unit: opt(&m, "unit"),
        deadline: date(&m, "deadline"),
    };
    let result = match media::check_uploads(&form.files) {
        Ok(photos) => store::add_need(&state, &actor, c.id, n, &photos).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(n) => Ok(done(&format!("/c/{code}/needs/{}", n.id), Notice::Saved)),
        Err(e) => refused(e, &m, &format!("/c/{code}/needs"), || needs_sheet(&state, ctx, &actor, &c, None)).await,
    }
}

async fn need_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let n =
        store::need(&mut conn, c.id, id).await?.filter(|n| store::may_see(Some(actor), n)).ok_or(AppError::NotFound)?;
    let pledges = store::pledges_of_need(&mut conn, c.id, id).await?;
    let history = store::history(&mut conn, c.id, id).await?;
    let photos = media::of(&mut conn, c.id, "need", id).await?;
    let mine: Vec<store::Registration> =
        store::mine(&mut conn, c.id, actor.user_id).await?.into_iter().filter(|r| r.status == "accepted").collect();
    let mut evidence = Vec::new();
    for p in pledges.iter().filter(|p| p.status != "pledged" && p.status != "cancelled") {
        evidence.extend(media::of(&mut conn, c.id, "pledge", p.id).await?);
    }
    drop(conn);
    let code = &c.code;
    let is_staff = staff(actor, c);
    let status = n.status();
    let mut cells = vec![
        (ctx.t("participation.need_kind"), ctx.t(&format!("participation.need_kind.{}", n.kind))),
        (ctx.t("participation.pledged"), progress(&n)),
        (ctx.t("participation.status.fulfilled"), format!("{} {}", fmt::thousands(n.fulfilled), n.unit)),
    ];
    if let Some(d) = n.deadline {
        cells.push((ctx.t("participation.deadline"), d.to_string()));
    }
    if let Some(r) = &n.reason {
        cells.push((ctx.t("participation.reason"), r.clone()));
    }
    let mut sheet = Sheet::new(ctx.clone(), n.title.clone())
        .crumb(format!("/c/{code}/needs"), ctx.t("participation.needs"))
        .card(Card {
            title: n.title.clone(),
            tag: Some(need_tag(&ctx, status)),
            text: Some(n.description.clone()),
            cells,
            html: media::gallery(&photos, code),
            ..Card::default()
        });
    sheet = sheet.card(Card {
        title: ctx.t("participation.pledges"),
        items: pledges
            .iter()
            .map(|p| Item {
                title: pledge_line(&ctx, p, &n.unit, !is_staff && p.user_id != actor.user_id),
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
                tag: Some(status_tag(&ctx, &p.status)),
            })
            .collect(),
        html: media::gallery(&evidence, code),
        empty: Some(ctx.t("participation.no_pledges")),
        ..Card::default()
    });
    if status.takes_pledges() && !mine.is_empty() {
        let default_kind = match n.kind.as_str() {
            "money" | "item" => "sponsor",
            "place" => "adopt",
            _ => "claim",
        };
        let mut f = Form::new(
            ctx.t("participation.pledge"),
            format!("/c/{code}/needs/{id}/pledges"),
            ctx.t("participation.pledge_submit"),
        );
        if mine.len() > 1 {
            f = f.input(Input::new(
                "registration_id",
                ctx.t("participation.as"),
                InputKind::Select(mine.iter().map(|r| (r.id.to_string(), r.name.clone())).collect()),
            ));
        }
        sheet = sheet.form(
            f.input(
                Input::new(
                    "kind",
                    ctx.t("participation.pledge_kind"),
                    InputKind::Select(choices(&ctx, "participation.pledge_kind", PLEDGE_KINDS)),
                )
                .required()
                .value(default_kind),
            )
            .input(
                Input::new("amount", format!("{}（{}）", ctx.t("participation.amount"), n.unit), InputKind::Number)
                    .required()
                    .value(n.quantity - n.pledged)
                    .hint(ctx.tr("participation.left", "n", format!("{} {}", n.quantity - n.pledged, n.unit))),
            )
            .input(Input::new("trim", ctx.t("participation.trim"), InputKind::Checkbox))
            .input(Input::new("note", ctx.t("participation.note"), InputKind::TextArea)),
        );
    } else if status.takes_pledges() {
        sheet = sheet.card(Card {
            text: Some(ctx.t("participation.register_to_pledge")),
            links: vec![(format!("/c/{code}/register"), ctx.t("participation.register"))],
            ..Card::default()
        });
    }
    for p in pledges.iter().filter(|p| p.user_id == actor.user_id && p.status == "pledged") {
        sheet = sheet.form(
            Form::new(
                format!("{} · {}", ctx.t("participation.fulfil"), pledge_line(&ctx, p, &n.unit, false)),
                format!("/c/{code}/pledges/{}/fulfil", p.id),
                ctx.t("participation.fulfil_submit"),
            )
            .input(Input::new("note", ctx.t("participation.evidence"), InputKind::TextArea).required())
            .input(
                Input::new(
                    "amount",
                    format!("{}（{}）", ctx.t("participation.amount_done"), n.unit),
                    InputKind::Number,
                )
                .value(p.amount),
            )
            .input(Input::new("served_on", ctx.t("participation.served_on"), InputKind::Date).value(fmt::today()))
            .input(
                Input::new("minutes", ctx.t("points.minutes"), InputKind::Number)
                    .hint(ctx.t("participation.minutes_hint")),
            )
            .input(Input::new("photos", ctx.t("participation.photos"), InputKind::File)),
        );
    }
    if is_staff {
        for p in pledges.iter().filter(|p| p.status == "submitted") {
            let action = format!("/c/{code}/pledges/{}/confirm", p.id);
            sheet = sheet
                .form(
                    Form::new(
                        format!("{} · {}", ctx.t("participation.confirm"), pledge_line(&ctx, p, &n.unit, false)),
                        action.clone(),
                        ctx.t("participation.confirm"),
                    )
                    .input(Input::hidden("decision", "accept")),
                )
                .form(
                    Form::new(
                        ctx.t("participation.return"),
                        format!("{action}?return=1"),
                        ctx.t("participation.return"),
                    )
                    .input(Input::hidden("decision", "return"))
                    .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
                    .danger()
                    .folded(),
                );
        }
        for action in ["approve", "decline", "start", "close", "withdraw"] {
            if super::staff_step(status, action).is_ok() {
                let mut f = Form::new(
                    ctx.t(&format!("participation.act.{action}")),
                    format!("/c/{code}/needs/{id}/act?a={action}"),
                    ctx.t(&format!("participation.act.{action}")),
                )
                .input(Input::hidden("action", action));
                if matches!(action, "decline" | "withdraw") {
                    f = f
                        .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
                        .danger()
                        .folded();
                }
                sheet = sheet.form(f);
            }
        }
    }
    Ok(sheet.card(Card {
        title: ctx.t("participation.history"),
        items: history
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
                    sub: [Some(fmt::datetime(h.at)), h.note.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · "),
                    ..Item::default()
                }
            })
            .collect(),
        ..Card::default()
    }))
}

pub async fn need_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    need_sheet(&state, ctx, &actor, &c, id).await?.render()
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
            refused(e, &m, &format!("/c/{code}/needs/{id}/act?a={action}"), || need_sheet(&state, ctx, &actor, &c, id))
                .await
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
    match store::make_pledge(
        &state,
        &actor,
        c.id,
        id,
        int(&m, "registration_id"),
        &text(&m, "kind"),
        int(&m, "amount"),
        yes(&m, "trim"),
        opt(&m, "note"),
    )
    .await
    {
        Ok(_) => Ok(done(&format!("/c/{code}/needs/{id}"), Notice::Pledged)),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/needs/{id}/pledges"), || need_sheet(&state, ctx, &actor, &c, id)).await
        }
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
    let ev = Evidence {
        note: text(&m, "note"),
        amount: int(&m, "amount"),
        served_on: date(&m, "served_on"),
        minutes: int(&m, "minutes"),
    };
    let result = match media::check_uploads(&form.files) {
        Ok(photos) => store::fulfil(&state, &actor, c.id, id, ev, &photos).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/needs/{need_id}"), Notice::Sent)),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/pledges/{id}/fulfil"), || need_sheet(&state, ctx, &actor, &c, need_id))
                .await
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
            refused(e, &m, &action, || need_sheet(&state, ctx, &actor, &c, need_id)).await
        }
    }
}

// ---------- pairs ----------

fn pair_item(ctx: &PageCtx, code: &str, p: &store::PairView) -> Item {
    let households = p.households.iter().map(|h| h.1.as_str()).collect::<Vec<_>>().join("、");
    let last = p.pair.last_visit.map(|d| d.to_string()).unwrap_or_else(|| ctx.t("participation.never"));
    Item {
        title: format!("{} · {}", p.pair.name, ctx.t(&format!("participation.pair_kind.{}", p.pair.kind))),
        sub: format!(
            "{households} · {} · {} {last}",
            ctx.tr("participation.every", "n", p.pair.every_days),
            ctx.t("participation.last_visit")
        ),
        href: Some(format!("/c/{code}/pairs/{}", p.pair.id)),
        tag: p.overdue_days.map(|d| (ctx.tr("participation.overdue_days", "n", d), "tag-red")),
    }
}

async fn pairs_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let mut list = store::pairs(&mut conn, actor, c.id).await?;
    let is_staff = staff(actor, c);
    let code = &c.code;
    list.sort_by_key(|p| std::cmp::Reverse(p.overdue_days.unwrap_or(-1)));
    let overdue = list.iter().filter(|p| p.overdue_days.is_some()).count();
    let mut sheet = Sheet::new(ctx.clone(), ctx.t("participation.pairs")).card(Card {
        title: c.name.clone(),
        text: Some(ctx.t("participation.pairs_intro")),
        stats: vec![
            Stat { label: ctx.t("participation.pairs"), value: list.len().to_string(), href: None },
            Stat { label: ctx.t("participation.overdue"), value: overdue.to_string(), href: None },
        ],
        ..Card::default()
    });
    sheet = sheet.card(Card {
        title: ctx.tr("list.total", "n", list.len()),
        items: list.iter().map(|p| pair_item(&ctx, code, p)).collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    });
    if is_staff {
        let uncovered = store::uncovered(&mut conn, actor, c.id).await?;
        let people: Vec<(i64, String, String)> = query(
            "SELECT u.id, u.display_name, 'party' FROM users u WHERE EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = 'party_member' AND g.community_id = $1)
             UNION ALL SELECT v.user_id, v.name, 'volunteer' FROM volunteers v WHERE v.community_id = $1 AND v.archived_at IS NULL AND v.user_id IS NOT NULL
             ORDER BY 2 LIMIT 2000",
        )
        .bind(c.id)
        .fetch_all(&mut conn)
        .await?;
        drop(conn);
        sheet = sheet.card(Card {
            title: ctx.tr("participation.uncovered", "n", uncovered.len()),
            items: uncovered
                .iter()
                .take(100)
                .map(|(id, address, tags)| Item {
                    title: address.clone(),
                    sub: tags.clone(),
                    href: Some(format!("/c/{code}/households/{id}")),
                    tag: None,
                })
                .collect(),
            empty: Some(ctx.t("participation.all_covered")),
            ..Card::default()
        });
        let people = people
            .into_iter()
            .map(|(id, name, kind)| {
                (id.to_string(), format!("{name}（{}）", ctx.t(&format!("participation.pair_kind.{kind}"))))
            })
            .collect();
        let households = uncovered
            .iter()
            .take(200)
            .map(|(id, address, tags)| (id.to_string(), format!("{address}（{tags}）")))
            .collect();
        sheet = sheet.form(
            Form::new(ctx.t("participation.add_pair"), format!("/c/{code}/pairs"), ctx.t("common.save"))
                .input(
                    Input::new(
                        "kind",
                        ctx.t("participation.pair_kind"),
                        InputKind::Select(choices(&ctx, "participation.pair_kind", &["party", "volunteer"])),
                    )
                    .required(),
                )
                .input(
                    Input::new("user_id", ctx.t("participation.paired_person"), InputKind::Select(people)).required(),
                )
                .input(
                    Input::new("households", ctx.t("participation.households"), InputKind::Many(households))
                        .required()
                        .hint(ctx.t("participation.households_hint")),
                )
                .input(
                    Input::new("household_ids", ctx.t("participation.more_households"), InputKind::Text)
                        .hint(ctx.t("participation.household_ids_hint")),
                )
                .input(Input::new("starts_on", ctx.t("participation.starts_on"), InputKind::Date).value(fmt::today()))
                .input(Input::new("ends_on", ctx.t("participation.ends_on"), InputKind::Date))
                .input(Input::new("every_days", ctx.t("participation.every_days"), InputKind::Number).value(7))
                .input(Input::new("note", ctx.t("participation.note"), InputKind::TextArea))
                .folded(),
        );
    }
    Ok(sheet)
}

pub async fn pairs(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    pairs_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn add_pair(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut households: Vec<i64> = list(&m, "households").iter().filter_map(|h| h.parse().ok()).collect();
    // The free field takes household numbers or addresses.
    let (ids, addresses): (Vec<String>, Vec<String>) =
        list(&m, "household_ids").into_iter().partition(|h| h.parse::<i64>().is_ok());
    households.extend(ids.iter().filter_map(|h| h.parse::<i64>().ok()));
    let n = NewPair {
        kind: text(&m, "kind"),
        user_id: int(&m, "user_id"),
        households,
        addresses,
        starts_on: date(&m, "starts_on"),
        ends_on: date(&m, "ends_on"),
        every_days: int(&m, "every_days"),
        note: opt(&m, "note"),
    };
    match store::add_pair(&state, &actor, c.id, n).await {
        Ok(p) => Ok(done(&format!("/c/{code}/pairs/{}", p.pair.id), Notice::Saved)),
        Err(e) => refused(e, &m, &format!("/c/{code}/pairs"), || pairs_sheet(&state, ctx, &actor, &c)).await,
    }
}

async fn pair_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let p = store::pair_for(&mut conn, actor, c.id, id).await?;
    let visits = store::visits(&mut conn, c.id, id).await?;
    drop(conn);
    let code = &c.code;
    let household = |h: i64| p.households.iter().find(|x| x.0 == h).map(|x| x.1.clone()).unwrap_or_default();
    let mut sheet = Sheet::new(ctx.clone(), p.pair.name.clone())
        .crumb(format!("/c/{code}/pairs"), ctx.t("participation.pairs"))
        .card(Card {
            title: format!("{} · {}", p.pair.name, ctx.t(&format!("participation.pair_kind.{}", p.pair.kind))),
            tag: p.overdue_days.map(|d| (ctx.tr("participation.overdue_days", "n", d), "tag-red")),
            cells: vec![
                (
                    ctx.t("participation.households"),
                    p.households.iter().map(|h| h.1.as_str()).collect::<Vec<_>>().join("、"),
                ),
                (ctx.t("participation.starts_on"), p.pair.starts_on.to_string()),
                (ctx.t("participation.ends_on"), p.pair.ends_on.map(|d| d.to_string()).unwrap_or_default()),
                (ctx.t("participation.every_days"), ctx.tr("participation.every", "n", p.pair.every_days)),
                (
                    ctx.t("participation.last_visit"),
                    p.pair.last_visit.map(|d| d.to_string()).unwrap_or_else(|| ctx.t("participation.never")),
                ),
                (ctx.t("participation.note"), p.pair.note.clone().unwrap_or_default()),
            ],
            ..Card::default()
        });
    let mut f =
        Form::new(ctx.t("participation.log_visit"), format!("/c/{code}/pairs/{id}/visits"), ctx.t("common.save"));
    if p.households.len() > 1 {
        f = f.input(
            Input::new(
                "household_id",
                ctx.t("entity.household"),
                InputKind::Select(p.households.iter().map(|h| (h.0.to_string(), h.1.clone())).collect()),
            )
            .required(),
        );
    }
    sheet = sheet.form(
        f.input(
            Input::new("visited_on", ctx.t("participation.visited_on"), InputKind::Date).required().value(fmt::today()),
        )
        .input(Input::new("done", ctx.t("participation.done"), InputKind::TextArea).required())
        .input(
            Input::new("found", ctx.t("participation.found"), InputKind::TextArea)
                .hint(ctx.t("participation.found_hint")),
        ),
    );
    sheet = sheet.card(Card {
        title: ctx.tr("participation.n_visits", "n", visits.len()),
        items: visits
            .iter()
            .map(|v| Item {
                title: format!("{} · {}", v.visited_on, household(v.household_id)),
                sub: [Some(v.done.clone()), v.found.clone().map(|f| format!("{}：{f}", ctx.t("participation.found")))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                href: v.ticket_id.map(|t| format!("/c/{code}/tickets/{t}")),
                tag: v.ticket_id.map(|_| (ctx.t("participation.ticket_raised"), "tag-blue")),
            })
            .collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    });
    let open: Vec<&store::Visit> = visits.iter().filter(|v| v.found.is_some() && v.ticket_id.is_none()).collect();
    let categories = if open.is_empty() {
        Vec::new()
    } else {
        crate::capabilities::tickets::pages::category_options(state, c.id).await?
    };
    for v in open {
        sheet = sheet.form(
            Form::new(
                format!("{} · {}", v.visited_on, v.found.clone().unwrap_or_default()),
                format!("/c/{code}/visits/{}/ticket", v.id),
                ctx.t("participation.to_ticket"),
            )
            .input(
                Input::new("category_id", ctx.t("ticket.category"), InputKind::Select(categories.clone())).required(),
            )
            .folded(),
        );
    }
    Ok(sheet)
}

pub async fn pair_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    pair_sheet(&state, ctx, &actor, &c, id).await?.render()
}

pub async fn add_visit(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::add_visit(
        &state,
        &actor,
        c.id,
        id,
        int(&m, "household_id"),
        date(&m, "visited_on"),
        &text(&m, "done"),
        opt(&m, "found"),
    )
    .await
    {
        Ok(_) => Ok(done(&format!("/c/{code}/pairs/{id}"), Notice::Saved)),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/pairs/{id}/visits"), || pair_sheet(&state, ctx, &actor, &c, id)).await
        }
    }
}

pub async fn visit_ticket(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let t = store::visit_to_ticket(&state, &actor, c.id, id, int(&m, "category_id")).await?;
    Ok(done(&format!("/c/{code}/tickets/{t}"), Notice::Created))
}

// ---------- figures ----------

async fn stats_sheet(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    ids: &[i64],
    title: String,
    export: String,
) -> AppResult<Sheet> {
    let (f, each) = stats::figures(&state.db, actor, ids).await?;
    let pct = |v: Option<f64>| v.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into());
    let needs: Vec<(String, f64)> = f
        .needs
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (ctx.t(&format!("participation.need_status.{k}")), *n as f64))
        .collect();
    let pledges: Vec<(String, f64)> = PLEDGE_KINDS
        .iter()
        .map(|k| {
            (ctx.t(&format!("participation.pledge_kind.{k}")), f.pledges.get(*k).map(|p| p.count).unwrap_or(0) as f64)
        })
        .collect();
    let stages: Vec<(String, f64)> = f
        .proposals
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (ctx.t(&format!("council.stage.{k}")), *n as f64))
        .collect();
    let yuan: i64 = f.pledges.values().map(|p| p.yuan).sum();
    let mut sheet = Sheet::new(ctx.clone(), title)
        .card(Card {
            title: ctx.t("participation.overview"),
            stats: vec![
                Stat {
                    label: ctx.t("participation.registrations"),
                    value: fmt::thousands(f.registrations),
                    href: None,
                },
                Stat { label: ctx.t("participation.units"), value: fmt::thousands(f.units), href: None },
                Stat { label: ctx.t("participation.members"), value: fmt::thousands(f.members), href: None },
                Stat { label: ctx.t("participation.active"), value: fmt::thousands(f.active), href: None },
                Stat { label: ctx.t("participation.fulfilment_rate"), value: pct(f.fulfilment_pct), href: None },
                Stat { label: ctx.t("participation.yuan"), value: fmt::thousands(yuan), href: None },
                Stat { label: ctx.t("participation.pairs"), value: fmt::thousands(f.pairs), href: None },
                Stat { label: ctx.t("participation.compliance"), value: pct(f.compliance_pct), href: None },
                Stat { label: ctx.t("participation.visits"), value: fmt::thousands(f.visits), href: None },
                Stat { label: ctx.t("council.turnout"), value: pct(f.turnout_pct), href: None },
            ],
            links: vec![(export, ctx.t("participation.export"))],
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("participation.needs_by_state"),
            html: Some(bars_markup(&Bars::new(String::new(), &needs, ""))),
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("participation.pledges_by_kind"),
            html: Some(bars_markup(&Bars::new(String::new(), &pledges, ""))),
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("council.by_stage"),
            html: Some(bars_markup(&Bars::new(String::new(), &stages, ""))),
            ..Card::default()
        });
    if each.len() > 1 {
        let cols = [0, 1, 5, 6, 9, 14, 15, 19, 20, 22];
        sheet = sheet.table(Table {
            title: ctx.t("participation.by_community"),
            head: cols.iter().map(|i| stats::COLUMNS[*i].to_string()).collect(),
            rows: each
                .iter()
                .map(|c| {
                    let r = stats::row(c);
                    cols.iter().map(|i| (r[*i].clone(), None)).collect()
                })
                .collect(),
            empty: ctx.t("list.empty"),
        });
    }
    Ok(sheet)
}

pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let title = format!("{} · {}", c.name, ctx.t("participation.stats"));
    stats_sheet(&state, ctx, &actor, &[c.id], title, format!("/c/{code}/participation.xlsx")).await?.render()
}

pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let (name, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    let title = format!("{name} · {}", ctx.t("participation.stats"));
    stats_sheet(&state, ctx, &actor, &ids, title, format!("/subdistricts/{id}/participation.xlsx")).await?.render()
}

async fn export(state: &AppState, actor: &Actor, ids: &[i64], name: &str) -> AppResult<Response> {
    let (total, each) = stats::figures(&state.db, actor, ids).await?;
    let mut rows: Vec<Vec<String>> = each.iter().map(stats::row).collect();
    if each.len() > 1 {
        let mut t = stats::row(&total);
        t[0] = "合计".into();
        rows.push(t);
    }
    let mut registered = Vec::new();
    let mut conn = state.db.read().await?;
    for c in ids {
        for l in store::registrations(&mut conn, actor, *c).await? {
            let community = each.iter().find(|f| f.community_id == *c).map(|f| f.name.clone()).unwrap_or_default();
            registered.push(vec![
                community,
                if l.r.kind == "unit" { "单位".into() } else { "党员".into() },
                l.r.name.clone(),
                l.r.party_org.clone(),
                crate::i18n::t(crate::i18n::Lang::Zh, &format!("participation.status.{}", l.r.status)),
                l.r.contact_phone_masked.clone().unwrap_or_default(),
                l.activity.to_string(),
            ]);
        }
    }
    let bytes = crate::capabilities::registry::transfer::xlsx_book(&[
        ("参与统计", stats::COLUMNS, &rows),
        ("报到台账", &["社区", "类别", "名称", "党组织", "状态", "联系电话", "今年参与次数"], &registered),
    ])?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"participation-{name}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}

pub async fn community_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    Ok(export(&state, &actor, &[c.id], &c.code).await?)
}

pub async fn subdistrict_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let (_, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    Ok(export(&state, &actor, &ids, &id.to_string()).await?)
}

// ---------- public pages ----------

fn public_links(ctx: &PageCtx, code: &str) -> Vec<(String, String)> {
    vec![
        (format!("/p/{code}/needs"), ctx.t("participation.board")),
        (format!("/p/{code}/registered"), ctx.t("participation.registered_list")),
        (format!("/p/{code}/council"), ctx.t("council.public")),
        (format!("/p/{code}/honor"), ctx.t("points.honor_roll")),
    ]
}

/// The needs board: open needs and who took which, for anyone.
pub async fn public_board(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let all = store::board(&mut conn, c.id).await?;
    drop(conn);
    let mut sheet = Sheet::new(ctx.clone(), format!("{} · {}", c.name, ctx.t("participation.board"))).card(Card {
        title: c.name.clone(),
        text: Some(ctx.t("participation.board_intro")),
        links: public_links(&ctx, &code),
        ..Card::default()
    });
    let live: Vec<&(Need, Vec<Pledge>)> = all
        .iter()
        .filter(|(n, _)| matches!(n.status(), NeedStatus::Open | NeedStatus::Pledged | NeedStatus::InProgress))
        .collect();
    let done: Vec<&(Need, Vec<Pledge>)> =
        all.iter().filter(|(n, _)| matches!(n.status(), NeedStatus::Fulfilled | NeedStatus::Closed)).take(30).collect();
    if live.is_empty() {
        sheet = sheet.card(Card { text: Some(ctx.t("participation.no_open_needs")), ..Card::default() });
    }
    for (group, needs) in [(None, live), (Some(ctx.t("participation.done_needs")), done)] {
        if let Some(g) = group.filter(|_| !needs.is_empty()) {
            sheet = sheet.card(Card { title: g, ..Card::default() });
        }
        for (n, pledges) in needs {
            sheet = sheet.card(Card {
                title: n.title.clone(),
                tag: Some(need_tag(&ctx, n.status())),
                text: Some(n.description.clone()),
                cells: vec![
                    (ctx.t("participation.need_kind"), ctx.t(&format!("participation.need_kind.{}", n.kind))),
                    (ctx.t("participation.pledged"), progress(n)),
                    (ctx.t("participation.deadline"), n.deadline.map(|d| d.to_string()).unwrap_or_default()),
                ],
                items: pledges
                    .iter()
                    .map(|p| Item {
                        title: pledge_line(&ctx, p, &n.unit, true),
                        tag: Some(status_tag(&ctx, &p.status)),
                        ..Item::default()
                    })
                    .collect(),
                links: vec![(format!("/c/{code}/needs/{}", n.id), ctx.t("participation.take_it"))],
                ..Card::default()
            });
        }
    }
    sheet.render()
}

/// The units and members who registered and agreed to be listed.
pub async fn public_registered(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let list = store::listed_publicly(&mut state.db.read().await?, c.id).await?;
    let item = |r: &store::Registration| Item { title: r.public_name(), sub: r.party_org.clone(), ..Item::default() };
    Sheet::new(ctx.clone(), format!("{} · {}", c.name, ctx.t("participation.registered_list")))
        .card(Card {
            title: c.name.clone(),
            text: Some(ctx.t("participation.registered_intro")),
            links: public_links(&ctx, &code),
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("participation.units"),
            items: list.iter().filter(|r| r.kind == "unit").map(item).collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("participation.members"),
            items: list.iter().filter(|r| r.kind == "member").map(item).collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .render()
}

// ---------- home ----------

/// What the home page shows of participation: for staff the registrations waiting, pledges
/// to confirm and overdue pairs; for everyone the needs board, registering, their pairs.
/// This capability's part of a user's home page.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::home::Section>>> {
    Box::pin(home_sections(state, ctx, actor))
}

async fn home_sections(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<crate::web::home::Section>> {
    use crate::web::home::{Section, Stat as HomeStat};
    let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let mut out = Vec::new();
    for cid in communities {
        let mut conn = state.db.read().await?;
        let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
        let code = &c.code;
        let mut stats = Vec::new();
        let mut links = vec![
            (format!("/c/{code}/needs"), ctx.t("participation.needs")),
            (format!("/c/{code}/council"), ctx.t("council.title")),
        ];
        if actor.can(cid, Permission::ManageParticipation) {
            let pending: i64 =
                query("SELECT COUNT(*) FROM registrations WHERE community_id = $1 AND status = 'pending'")
                    .bind(cid)
                    .scalar(&mut conn)
                    .await?;
            let submitted: i64 = query("SELECT COUNT(*) FROM pledges WHERE community_id = $1 AND status = 'submitted'")
                .bind(cid)
                .scalar(&mut conn)
                .await?;
            let overdue = store::overdue_pairs(&mut conn, actor, cid).await?;
            stats.push(HomeStat {
                label: ctx.t("participation.registrations_waiting"),
                value: pending.to_string(),
                href: Some(format!("/c/{code}/registrations")),
            });
            stats.push(HomeStat {
                label: ctx.t("participation.to_confirm"),
                value: submitted.to_string(),
                href: Some(format!("/c/{code}/registrations")),
            });
            stats.push(HomeStat {
                label: ctx.t("participation.overdue"),
                value: overdue.to_string(),
                href: Some(format!("/c/{code}/pairs")),
            });
            links.push((format!("/c/{code}/registrations"), ctx.t("participation.registrations")));
            links.push((format!("/c/{code}/pairs"), ctx.t("participation.pairs")));
            links.push((format!("/c/{code}/participation/stats"), ctx.t("participation.stats")));
        } else {
            links.push((format!("/c/{code}/register"), ctx.t("participation.dual_registration")));
            if !store::pairs(&mut conn, actor, cid).await?.is_empty() {
                links.push((format!("/c/{code}/pairs"), ctx.t("participation.my_pairs")));
            }
        }
        links.push((format!("/p/{code}/needs"), ctx.t("participation.board")));
        out.push(Section {
            title: format!("{} · {}", c.name, ctx.t("participation.title")),
            stats,
            links,
            ..Section::default()
        });
    }
    Ok(out)
}
