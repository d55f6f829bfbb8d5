//! Pages of pairing 结对: the pairs with households left uncovered, one pair with its
//! visits, logging a visit and raising a ticket from what it found. Each page loads its
//! data, a plain function builds its view, and its template in `templates/participation/`
//! draws it.

use askama::Template;
use axum::extract::{Path, State};

use super::{choices, community, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::participation::PairKind;
use crate::capabilities::participation::store::{self, NewPair};
use crate::db::query;
use crate::error::AppResult;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Stat, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

fn overdue_tag(ctx: &PageCtx, p: &store::PairView) -> Option<Tag> {
    p.overdue_days.map(|d| Tag::new(ctx.tr("participation.overdue_days", "n", d), Tone::Red))
}

pub(super) fn pair_item(ctx: &PageCtx, code: &str, p: &store::PairView) -> Item {
    let households = p.households.iter().map(|h| h.1.as_str()).collect::<Vec<_>>().join("、");
    let last = p.pair.last_visit.map(|d| d.to_string()).unwrap_or_else(|| ctx.t("participation.never"));
    Item {
        title: format!("{} · {}", p.pair.name, ctx.t(&format!("participation.pair_kind.{}", p.pair.kind.as_str()))),
        sub: format!(
            "{households} · {} · {} {last}",
            ctx.tr("participation.every", "n", p.pair.every_days),
            ctx.t("participation.last_visit")
        ),
        href: Some(format!("/c/{code}/pairs/{}", p.pair.id)),
        tag: overdue_tag(ctx, p),
    }
}

// ---------- the pairs ----------

/// What staff see besides the pairs: households needing care with no pair, and who may
/// be paired (id, name, party member or volunteer).
pub struct Uncovered {
    pub households: Vec<(i64, String, String)>,
    pub people: Vec<(i64, String, String)>,
}

/// What the pairs page is drawn from.
pub struct PairsData {
    pub list: Vec<store::PairView>,
    /// For staff only.
    pub uncovered: Option<Uncovered>,
}

async fn load_pairs(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<PairsData> {
    let mut conn = state.db.read().await?;
    let list = store::pairs(&mut conn, actor, c.id).await?;
    if !staff(actor, c) {
        return Ok(PairsData { list, uncovered: None });
    }
    let households = store::uncovered(&mut conn, actor, c.id).await?;
    let people: Vec<(i64, String, String)> = query(
        "SELECT u.id, u.display_name, 'party' FROM users u WHERE EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = 'party_member' AND g.community_id = $1)
         UNION ALL SELECT v.user_id, v.name, 'volunteer' FROM volunteers v WHERE v.community_id = $1 AND v.archived_at IS NULL AND v.user_id IS NOT NULL
         ORDER BY 2 LIMIT 2000",
    )
    .bind(c.id)
    .fetch_all(&mut conn)
    .await?;
    Ok(PairsData { list, uncovered: Some(Uncovered { households, people }) })
}

#[derive(Template)]
#[template(path = "participation/pairs.html")]
pub struct PairsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub community: String,
    pub stats: Vec<Stat>,
    pub list_title: String,
    pub pairs: Vec<Item>,
    /// Staff's list of households with no pair: its title and lines.
    pub uncovered: Option<(String, Vec<Item>)>,
    pub add_pair: Option<Form>,
}

fn add_pair_form(ctx: &PageCtx, code: &str, u: &Uncovered) -> Form {
    let people = u
        .people
        .iter()
        .map(|(id, name, kind)| {
            (id.to_string(), format!("{name}（{}）", ctx.t(&format!("participation.pair_kind.{kind}"))))
        })
        .collect();
    let households = u
        .households
        .iter()
        .take(200)
        .map(|(id, address, tags)| (id.to_string(), format!("{address}（{tags}）")))
        .collect();
    Form::new(ctx.t("participation.add_pair"), format!("/c/{code}/pairs"), ctx.t("common.save"))
        .input(
            Input::new(
                "kind",
                ctx.t("participation.pair_kind"),
                InputKind::Select(choices(ctx, "participation.pair_kind", &PairKind::ALL.map(PairKind::as_str))),
            )
            .required(),
        )
        .input(Input::new("user_id", ctx.t("participation.paired_person"), InputKind::Select(people)).required())
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
        .folded()
}

/// The pairs, the overdue first; for staff, the households left uncovered and pairing.
pub fn pairs_view(ctx: PageCtx, c: &CommunityRef, d: PairsData, r: &Refusal) -> PairsPage {
    let code = &c.code;
    let mut list = d.list;
    list.sort_by_key(|p| std::cmp::Reverse(p.overdue_days.unwrap_or(-1)));
    let overdue = list.iter().filter(|p| p.overdue_days.is_some()).count();
    let uncovered = d.uncovered.as_ref().map(|u| {
        let items = u
            .households
            .iter()
            .take(100)
            .map(|(id, address, tags)| Item {
                title: address.clone(),
                sub: tags.clone(),
                href: Some(format!("/c/{code}/households/{id}")),
                tag: None,
            })
            .collect();
        (ctx.tr("participation.uncovered", "n", u.households.len()), items)
    });
    let add_pair = d.uncovered.as_ref().map(|u| add_pair_form(&ctx, code, u).refused(r));
    PairsPage {
        title: ctx.t("participation.pairs"),
        alert: r.alert_for(&add_pair.iter().collect::<Vec<_>>()),
        community: c.name.clone(),
        stats: vec![
            Stat { label: ctx.t("participation.pairs"), value: list.len().to_string(), href: None },
            Stat { label: ctx.t("participation.overdue"), value: overdue.to_string(), href: None },
        ],
        list_title: ctx.tr("list.total", "n", list.len()),
        pairs: list.iter().map(|p| pair_item(&ctx, code, p)).collect(),
        uncovered,
        add_pair,
        ctx,
    }
}

async fn show_pairs(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let d = load_pairs(state, actor, c).await?;
    render(&pairs_view(ctx, c, d, r))
}

pub async fn pairs(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_pairs(&state, ctx, &actor, &c, &Refusal::none()).await
}

pub async fn add_pair(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let mut households = f.ids("households");
    // The free field takes household numbers or addresses.
    let (ids, addresses): (Vec<String>, Vec<String>) =
        f.list("household_ids").into_iter().partition(|h| h.parse::<i64>().is_ok());
    households.extend(ids.iter().filter_map(|h| h.parse::<i64>().ok()));
    let n = NewPair {
        kind: f.text("kind"),
        user_id: f.id("user_id"),
        households,
        addresses,
        starts_on: f.date("starts_on"),
        ends_on: f.date("ends_on"),
        every_days: f.int("every_days"),
        note: f.opt("note"),
    };
    let result = match f.checked() {
        Ok(()) => store::add_pair(&state, &actor, c.id, n).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(done(&format!("/c/{code}/pairs/{}", p.pair.id), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/pairs");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_pairs(&state, ctx, &actor, &c, &r).await })
                .await
        }
    }
}

// ---------- one pair ----------

/// What one pair's page is drawn from: it, its visits, and the ticket categories (when a
/// visit found something not yet raised).
pub struct PairData {
    pub p: store::PairView,
    pub visits: Vec<store::Visit>,
    pub categories: Vec<(String, String)>,
}

/// Visits that found something no ticket was raised for yet.
fn to_raise(visits: &[store::Visit]) -> impl Iterator<Item = &store::Visit> {
    visits.iter().filter(|v| v.found.is_some() && v.ticket_id.is_none())
}

async fn load_pair(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<PairData> {
    let mut conn = state.db.read().await?;
    let p = store::pair_for(&mut conn, actor, c.id, id).await?;
    let visits = store::visits(&mut conn, c.id, id).await?;
    drop(conn);
    let categories = if to_raise(&visits).next().is_none() {
        Vec::new()
    } else {
        crate::capabilities::tickets::pages::category_options(state, c.id).await?
    };
    Ok(PairData { p, visits, categories })
}

#[derive(Template)]
#[template(path = "participation/pair.html")]
pub struct PairPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub heading: String,
    pub tag: Option<Tag>,
    pub cells: Vec<(String, String)>,
    pub visit: Form,
    pub visits_title: String,
    pub visits: Vec<Item>,
    /// One per visit that found something: raising a ticket from it.
    pub tickets: Vec<Form>,
}

fn pair_cells(ctx: &PageCtx, p: &store::PairView) -> Vec<(String, String)> {
    vec![
        (ctx.t("participation.households"), p.households.iter().map(|h| h.1.as_str()).collect::<Vec<_>>().join("、")),
        (ctx.t("participation.starts_on"), p.pair.starts_on.to_string()),
        (ctx.t("participation.ends_on"), p.pair.ends_on.map(|d| d.to_string()).unwrap_or_default()),
        (ctx.t("participation.every_days"), ctx.tr("participation.every", "n", p.pair.every_days)),
        (
            ctx.t("participation.last_visit"),
            p.pair.last_visit.map(|d| d.to_string()).unwrap_or_else(|| ctx.t("participation.never")),
        ),
        (ctx.t("participation.note"), p.pair.note.clone().unwrap_or_default()),
    ]
}

fn visit_form(ctx: &PageCtx, code: &str, p: &store::PairView) -> Form {
    let action = format!("/c/{code}/pairs/{}/visits", p.pair.id);
    let mut f = Form::new(ctx.t("participation.log_visit"), action, ctx.t("common.save"));
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
    f.input(Input::new("visited_on", ctx.t("participation.visited_on"), InputKind::Date).required().value(fmt::today()))
        .input(Input::new("done", ctx.t("participation.done"), InputKind::TextArea).required())
        .input(
            Input::new("found", ctx.t("participation.found"), InputKind::TextArea)
                .hint(ctx.t("participation.found_hint")),
        )
}

/// One pair: its facts, logging a visit, the visits, and raising tickets from them.
pub fn pair_view(ctx: PageCtx, c: &CommunityRef, d: &PairData, r: &Refusal) -> PairPage {
    let code = &c.code;
    let p = &d.p;
    let household = |h: i64| p.households.iter().find(|x| x.0 == h).map(|x| x.1.clone()).unwrap_or_default();
    let visits = d
        .visits
        .iter()
        .map(|v| Item {
            title: format!("{} · {}", v.visited_on, household(v.household_id)),
            sub: [Some(v.done.clone()), v.found.clone().map(|f| format!("{}：{f}", ctx.t("participation.found")))]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            href: v.ticket_id.map(|t| format!("/c/{code}/tickets/{t}")),
            tag: v.ticket_id.map(|_| Tag::new(ctx.t("participation.ticket_raised"), Tone::Blue)),
        })
        .collect();
    let tickets: Vec<Form> = to_raise(&d.visits)
        .map(|v| {
            Form::new(
                format!("{} · {}", v.visited_on, v.found.clone().unwrap_or_default()),
                format!("/c/{code}/visits/{}/ticket", v.id),
                ctx.t("participation.to_ticket"),
            )
            .input(
                Input::new("category_id", ctx.t("ticket.category"), InputKind::Select(d.categories.clone())).required(),
            )
            .folded()
            .refused(r)
        })
        .collect();
    let visit = visit_form(&ctx, code, p).refused(r);
    let mut forms = vec![&visit];
    forms.extend(tickets.iter());
    PairPage {
        title: p.pair.name.clone(),
        crumbs: vec![(format!("/c/{code}/pairs"), ctx.t("participation.pairs"))],
        alert: r.alert_for(&forms),
        heading: format!("{} · {}", p.pair.name, ctx.t(&format!("participation.pair_kind.{}", p.pair.kind.as_str()))),
        tag: overdue_tag(&ctx, p),
        cells: pair_cells(&ctx, p),
        visits_title: ctx.tr("participation.n_visits", "n", d.visits.len()),
        visits,
        tickets,
        visit,
        ctx,
    }
}

async fn show_pair(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let d = load_pair(state, actor, c, id).await?;
    render(&pair_view(ctx, c, &d, r))
}

pub async fn pair_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_pair(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

pub async fn add_visit(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (household, visited) = (f.id("household_id"), f.date("visited_on"));
    let result = match f.checked() {
        Ok(()) => store::add_visit(&state, &actor, c.id, id, household, visited, &f.text("done"), f.opt("found")).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/pairs/{id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/pairs/{id}/visits");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_pair(&state, ctx, &actor, &c, id, &r).await })
                .await
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
    // The form holds only a choice of category; one that does not parse is refused on
    // the error page, naming the field.
    let mut f = Fields::new(&m);
    let category = f.id("category_id");
    f.checked()?;
    let t = store::visit_to_ticket(&state, &actor, c.id, id, category).await?;
    Ok(done(&format!("/c/{code}/tickets/{t}"), Notice::Created))
}
