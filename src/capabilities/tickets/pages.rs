//! Ticket pages: the phone form, lists per view, a ticket with its actions and history,
//! the map of open tickets, statistics with charts, the inbox, and household plates.

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::stats::{self, Scope};
use super::store::{self, ActionInput, Filters, NewTicket, Ticket, View};
use super::{Action, Channel, Status};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::registry::places::map;
use crate::db::query;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media::{self, Media};
use crate::web::AppState;
use crate::web::form::{CsrfMultipart, Upload, query_param, text};
use crate::web::ui::{Bars, Qr};
use crate::web::{Notice, Page, PageCtx, PageResult, SignedPage, done, fmt, render};

/// Photos from a form, checked; errors name the field.
pub fn photos_of(files: Vec<Upload>) -> AppResult<Vec<(Vec<u8>, media::Checked)>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files.into_iter().filter(|f| f.field == "photos") {
        match media::check("photos", &f.bytes) {
            Ok(c) => out.push((f.bytes, c)),
            Err(e) => errors.push(e),
        }
    }
    if out.len() > 9 {
        errors.push(FieldError::new("photos", "ticket.too_many_photos").with("max", 9));
    }
    if errors.is_empty() { Ok(out) } else { Err(AppError::Invalid(errors)) }
}

fn opt_i64(m: &Map<String, Value>, k: &str) -> AppResult<Option<i64>> {
    match text(m, k).trim() {
        "" => Ok(None),
        s => s.parse().map(Some).map_err(|_| AppError::field(k.to_string(), "validation.integer")),
    }
}

fn opt_f64(m: &Map<String, Value>, k: &str) -> AppResult<Option<f64>> {
    match text(m, k).trim() {
        "" => Ok(None),
        s => s
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| AppError::field(k.to_string(), "validation.number")),
    }
}

fn opt_text(m: &Map<String, Value>, k: &str) -> Option<String> {
    Some(text(m, k)).filter(|s| !s.trim().is_empty())
}

pub fn status_label(ctx: &PageCtx, s: &str) -> String {
    ctx.t(&format!("ticket.status.{s}"))
}

/// A ticket as a line of a list.
pub struct Line {
    pub href: String,
    pub id: i64,
    pub category: String,
    pub status: String,
    pub status_class: &'static str,
    pub overdue: bool,
    pub escalated: i64,
    pub place: String,
    pub summary: String,
    pub created: String,
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Submitted | Status::Reopened => "tag-orange",
        Status::Resolved | Status::Closed => "tag-green",
        Status::Rejected | Status::Duplicate => "tag-grey",
        _ => "",
    }
}

async fn category_names(state: &AppState, community_ids: &[i64]) -> AppResult<std::collections::HashMap<i64, String>> {
    let mut b = crate::db::Builder::new("SELECT id, name FROM ticket_categories WHERE community_id IN ");
    b.list(community_ids.iter().copied());
    let mut conn = state.db.read_over(community_ids).await?;
    Ok(b.build().fetch_all::<(i64, String)>(&mut conn).await?.into_iter().collect())
}

async fn lines(state: &AppState, ctx: &PageCtx, items: &[Ticket], community_ids: &[i64]) -> AppResult<Vec<Line>> {
    let cats = category_names(state, community_ids).await?;
    let mut codes = crate::db::Builder::new("SELECT id, code FROM communities WHERE id IN ");
    codes.list(community_ids.iter().copied());
    let mut conn = state.db.read().await?;
    let codes: std::collections::HashMap<i64, String> =
        codes.build().fetch_all::<(i64, String)>(&mut conn).await?.into_iter().collect();
    let now = crate::db::now_ms();
    Ok(items
        .iter()
        .map(|t| Line {
            href: format!("/c/{}/tickets/{}", codes.get(&t.community_id).cloned().unwrap_or_default(), t.id),
            id: t.id,
            category: cats.get(&t.category_id).cloned().unwrap_or_default(),
            status: status_label(ctx, &t.status),
            status_class: status_class(t.status()),
            overdue: t.is_overdue(now),
            escalated: t.escalation_level,
            place: t.address.clone().unwrap_or_default(),
            summary: t.description.chars().take(60).collect(),
            created: fmt::datetime(t.created_at),
        })
        .collect())
}

// ---------- lists ----------

#[derive(Template)]
#[template(path = "tickets/list.html")]
struct ListTemplate {
    ctx: PageCtx,
    title: String,
    base: String,
    tabs: Vec<(String, String, bool)>,
    lines: Vec<Line>,
    total: i64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    statuses: Vec<(String, String, bool)>,
    categories: Vec<(String, String, bool)>,
    grids: Vec<(String, String, bool)>,
    q: String,
    overdue: bool,
    from: String,
    to: String,
    view: String,
    links: Vec<(String, String)>,
}

fn parse_date(s: &str, end: bool) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let d = if end { d.succ_opt()? } else { d };
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - 8 * super::HOUR_MS)
}

pub fn filters_from(query: &str) -> AppResult<Filters> {
    let q = |k: &str| query_param(query, k).filter(|v| !v.is_empty());
    let status = match q("status").as_deref() {
        None | Some("open") => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| AppError::field("status", "validation.choice"))?),
    };
    let num = |k: &str| -> AppResult<Option<i64>> {
        q(k).map(|v| v.parse::<i64>().map_err(|_| AppError::field(k.to_string(), "validation.integer"))).transpose()
    };
    let date = |k: &str, end: bool| -> AppResult<Option<i64>> {
        q(k).map(|v| parse_date(&v, end).ok_or_else(|| AppError::field(k.to_string(), "validation.date"))).transpose()
    };
    Ok(Filters {
        open: q("status").as_deref() == Some("open"),
        status,
        category_id: num("category_id")?,
        grid_id: num("grid_id")?,
        overdue: q("overdue").as_deref() == Some("1"),
        from: date("from", false)?,
        to: date("to", true)?,
        q: q("q"),
        channel: q("channel").and_then(|c| Channel::parse(&c)),
    })
}

/// The views this actor has in a community, the first being the default.
async fn views(state: &AppState, actor: &Actor, community_id: i64) -> AppResult<Vec<View>> {
    let staff = actor.grants.iter().any(|g| {
        matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(community_id)
    });
    let overseer = actor.is_platform_admin()
        || (actor.has_role(Role::SubdistrictAdmin) && actor.can(community_id, Permission::ViewPlaces));
    let grid = actor.grants.iter().any(|g| g.role() == Role::GridWorker && g.community_id == Some(community_id));
    let mut conn = state.db.read().await?;
    let pool = !store::my_teams(&mut conn, community_id, actor.user_id).await?.is_empty()
        || actor.grants.iter().any(|g| g.role() == Role::PartnerUnit && g.community_id == Some(community_id));
    let mut out = Vec::new();
    if staff || overseer {
        out.push(View::All);
    }
    if grid {
        out.push(View::Grid);
    }
    if staff || grid || pool {
        out.push(View::Work);
    }
    if pool {
        out.push(View::Pool);
    }
    out.push(View::Mine);
    Ok(out)
}

fn with(base: &str, query: &str, key: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != key && k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !value.is_empty() {
        pairs.push((key.into(), value.into()));
    }
    let qs: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    if qs.is_empty() { base.to_string() } else { format!("{base}?{qs}") }
}

async fn list_page(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    communities: Vec<CommunityRef>,
    base: String,
    qs: String,
    views: Vec<View>,
) -> PageResult {
    let ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
    let view =
        query_param(&qs, "view").and_then(|v| views.iter().find(|x| x.as_str() == v).copied()).unwrap_or(views[0]);
    let f = filters_from(&qs)?;
    let page = crate::web::form::query_int(&qs, "page", crate::input::limits::PAGE, 1)? as u32;
    let per_page = 20;
    let result = store::list(&state.db, &actor, &ids, view, &f, page, per_page).await?;
    let pages = ((result.total.max(0) as u32).div_ceil(per_page)).max(1);
    let tabs = views
        .iter()
        .map(|v| (with(&base, "", "view", v.as_str()), ctx.t(&format!("ticket.view.{}", v.as_str())), *v == view))
        .collect();
    let current_status = query_param(&qs, "status").unwrap_or_default();
    let mut statuses = vec![
        (String::new(), ctx.t("common.all"), current_status.is_empty()),
        ("open".into(), ctx.t("ticket.open"), current_status == "open"),
    ];
    statuses.extend(
        Status::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), status_label(&ctx, s.as_str()), current_status == s.as_str())),
    );
    let cur_cat = query_param(&qs, "category_id").unwrap_or_default();
    let mut categories = vec![(String::new(), ctx.t("common.all"), cur_cat.is_empty())];
    let mut grids = Vec::new();
    if let [c] = communities.as_slice() {
        let mut conn = state.db.read().await?;
        for cat in store::categories(&mut conn, c.id).await? {
            categories.push((cat.id.to_string(), cat.name.clone(), cur_cat == cat.id.to_string()));
        }
        let cur_grid = query_param(&qs, "grid_id").unwrap_or_default();
        grids.push((String::new(), ctx.t("common.all"), cur_grid.is_empty()));
        let rows: Vec<(i64, String)> =
            query("SELECT id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
                .bind(c.id)
                .fetch_all(&mut conn)
                .await?;
        grids.extend(rows.into_iter().map(|(id, n)| (id.to_string(), n, cur_grid == id.to_string())));
    }
    let mut links = Vec::new();
    if let [c] = communities.as_slice() {
        links.push((format!("/c/{}/tickets/new", c.code), format!("+ {}", ctx.t("ticket.new"))));
        links.push((format!("/c/{}/tickets/map", c.code), ctx.t("map.title")));
        if stats::may_see(&actor, &Scope { community_ids: vec![c.id], grid_id: None }) {
            links.push((format!("/c/{}/tickets/stats", c.code), ctx.t("ticket.stats")));
            links.push((format!("/c/{}/tickets.xlsx", c.code), ctx.t("ticket.ledger")));
        }
    } else if let Some(s) = communities.first().map(|c| c.subdistrict_id) {
        links.push((format!("/subdistricts/{s}/tickets/stats"), ctx.t("ticket.stats")));
        links.push((format!("/subdistricts/{s}/tickets.xlsx"), ctx.t("ticket.ledger")));
    }
    let tmpl = ListTemplate {
        title: ctx.t("ticket.title"),
        lines: lines(&state, &ctx, &result.items, &ids).await?,
        total: result.total,
        page,
        pages,
        prev: (page > 1).then(|| with(&ctx.path, &ctx.query, "page", &(page - 1).to_string())),
        next: (page < pages).then(|| with(&ctx.path, &ctx.query, "page", &(page + 1).to_string())),
        statuses,
        categories,
        grids,
        q: f.q.clone().unwrap_or_default(),
        overdue: f.overdue,
        from: query_param(&qs, "from").unwrap_or_default(),
        to: query_param(&qs, "to").unwrap_or_default(),
        view: view.as_str().into(),
        tabs,
        links,
        base,
        ctx,
    };
    render(&tmpl)
}

pub async fn list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let v = views(&state, &actor, c.id).await?;
    list_page(state, ctx, actor, vec![c.clone()], format!("/c/{}/tickets", c.code), q.unwrap_or_default(), v).await
}

async fn subdistrict_communities(state: &AppState, actor: &Actor, id: i64) -> AppResult<Vec<CommunityRef>> {
    let mut conn = state.db.read().await?;
    let all: Vec<CommunityRef> =
        query("SELECT id, code, name, subdistrict_id, kind FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL ORDER BY code").bind(id).fetch_all(&mut conn).await?;
    if !actor.manages_subdistrict(id) || all.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(all)
}

pub async fn subdistrict_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let communities = subdistrict_communities(&state, &actor, id).await?;
    list_page(
        state,
        ctx,
        actor,
        communities,
        format!("/subdistricts/{id}/tickets"),
        q.unwrap_or_default(),
        vec![View::All],
    )
    .await
}

// ---------- submitting ----------

#[derive(Template)]
#[template(path = "tickets/new.html")]
struct NewTemplate {
    ctx: PageCtx,
    title: String,
    action: String,
    community: String,
    categories: Vec<(String, String, bool)>,
    households: Vec<(String, String, bool)>,
    household_hint: String,
    form: Map<String, Value>,
    errors: std::collections::BTreeMap<String, String>,
    hotline: bool,
    public: bool,
    channel: String,
}

impl NewTemplate {
    fn channel_label(&self) -> String {
        self.ctx.t(&format!("ticket.channel.{}", self.channel))
    }

    fn value(&self, k: &str) -> String {
        text(&self.form, k)
    }

    fn error(&self, k: &str) -> Option<&String> {
        self.errors.get(k)
    }
}

/// The channel a signed-in person submits by: staff take hotline calls, grid workers
/// are on patrol, everyone else on the phone page.
fn channel_for(actor: &Actor, community_id: i64, asked: Option<&str>) -> Channel {
    let staff = actor.grants.iter().any(|g| {
        matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(community_id)
    });
    let grid = actor.grants.iter().any(|g| g.role() == Role::GridWorker && g.community_id == Some(community_id));
    match asked.and_then(Channel::parse) {
        Some(Channel::Hotline) if staff => Channel::Hotline,
        Some(Channel::Patrol) if grid || staff => Channel::Patrol,
        _ if grid => Channel::Patrol,
        _ => Channel::Web,
    }
}

async fn new_form(
    state: &AppState,
    ctx: PageCtx,
    c: &CommunityRef,
    actor: Option<&Actor>,
    form: Map<String, Value>,
    err: Option<&AppError>,
    action: String,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let cats = store::categories(&mut conn, c.id).await?;
    let cur = text(&form, "category_id");
    let mut categories = vec![(String::new(), ctx.t("common.choose"), cur.is_empty())];
    categories.extend(cats.iter().map(|k| (k.id.to_string(), k.name.clone(), cur == k.id.to_string())));
    // A resident picks from their own household(s); others type a number or use the map.
    let own: Vec<i64> = actor
        .map(|a| {
            a.grants
                .iter()
                .filter(|g| g.role() == Role::Resident && g.community_id == Some(c.id))
                .filter_map(|g| g.household_id)
                .collect()
        })
        .unwrap_or_default();
    let cur_h = text(&form, "household_id");
    let mut households = Vec::new();
    for h in &own {
        let addr: Option<String> = query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(*h)
            .scalar_optional(&mut conn)
            .await?;
        households.push((h.to_string(), addr.unwrap_or_default(), cur_h == h.to_string() || own.len() == 1));
    }
    let household_hint = if let Ok(h) = cur_h.parse::<i64>() {
        query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(h)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default()
    } else {
        String::new()
    };
    drop(conn);
    let channel = match actor {
        Some(a) => channel_for(a, c.id, opt_text(&form, "channel").as_deref()),
        None => Channel::Plate,
    };
    let errors = err.map(|e| e.field_messages(ctx.lang)).unwrap_or_default();
    let status = if err.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let html = NewTemplate {
        title: ctx.t("ticket.new"),
        community: c.name.clone(),
        categories,
        households,
        household_hint,
        hotline: channel == Channel::Hotline,
        public: actor.is_none(),
        channel: channel.as_str().into(),
        form,
        errors,
        action,
        ctx,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn new_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let mut form = Map::new();
    for k in ["household_id", "channel", "category_id", "lat", "lng"] {
        if let Some(v) = query_param(q.as_deref().unwrap_or(""), k) {
            form.insert(k.into(), Value::String(v));
        }
    }
    new_form(&state, ctx, &c, Some(&actor), form, None, format!("/c/{}/tickets", c.code)).await
}

fn new_ticket(form: &Map<String, Value>, channel: Channel) -> AppResult<NewTicket> {
    Ok(NewTicket {
        category_id: opt_i64(form, "category_id")?,
        description: text(form, "description"),
        channel: Some(channel),
        household_id: opt_i64(form, "household_id")?,
        lat: opt_f64(form, "lat")?,
        lng: opt_f64(form, "lng")?,
        address: opt_text(form, "address"),
        submitter_name: opt_text(form, "submitter_name"),
        caller_phone: opt_text(form, "caller_phone"),
        attributes: None,
        idempotency_key: opt_text(form, "idempotency_key"),
    })
}

pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfMultipart { fields, files }: CsrfMultipart,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let channel = channel_for(&actor, c.id, opt_text(&fields, "channel").as_deref());
    let result = async {
        let mut new = new_ticket(&fields, channel)?;
        if channel == Channel::Hotline && new.submitter_name.is_none() {
            return Err(AppError::field("submitter_name", "validation.required"));
        }
        if channel != Channel::Hotline {
            new.submitter_name = None;
            new.caller_phone = None;
        }
        let photos = photos_of(files)?;
        store::submit(&state, c.id, Some(&actor), new, photos).await
    }
    .await;
    match result {
        Ok((t, _)) => Ok(done(&format!("/c/{}/tickets/{}", c.code, t.id), Notice::TicketSubmitted)),
        Err(e @ AppError::Invalid(_)) => {
            new_form(&state, ctx, &c, Some(&actor), fields, Some(&e), format!("/c/{}/tickets", c.code)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- one ticket ----------

pub struct ActionView {
    pub action: String,
    pub label: String,
    /// Which inputs the form shows.
    pub inputs: Vec<&'static str>,
    pub danger: bool,
}

impl ActionView {
    fn has(&self, input: &str) -> bool {
        self.inputs.contains(&input)
    }
}

#[derive(Template)]
#[template(path = "tickets/show.html")]
struct ShowTemplate {
    ctx: PageCtx,
    title: String,
    code: String,
    t: Ticket,
    category: String,
    status: String,
    status_class: &'static str,
    overdue: bool,
    owner: String,
    pool: String,
    submitter: String,
    grid: String,
    due: String,
    created: String,
    photos: Vec<Media>,
    map: crate::web::ui::MapView,
    questions: Vec<(String, String, String)>,
    can_edit_questions: bool,
    actions: Vec<ActionView>,
    whistles: Vec<store::Whistle>,
    history: Vec<(String, String, String, String)>,
    people: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    units: Vec<(String, String)>,
    errors: std::collections::BTreeMap<String, String>,
}

impl ShowTemplate {
    fn channel_label(&self) -> String {
        self.ctx.t(&format!("ticket.channel.{}", self.t.channel))
    }

    fn time(&self, ms: &i64) -> String {
        fmt::datetime(*ms)
    }
}

fn action_views(ctx: &PageCtx, t: &Ticket, s: super::Standing) -> Vec<ActionView> {
    let candidates: [(Action, &[&str], bool); 13] = [
        (Action::Accept, &[], false),
        (Action::Start, &[], false),
        (Action::Resolve, &["note", "photos"], false),
        (Action::Dispatch, &["target"], false),
        (Action::Reassign, &["owner"], false),
        (Action::Rate, &["rating", "note"], false),
        (Action::FollowUp, &["satisfied", "note"], false),
        (Action::Close, &[], false),
        (Action::Whistle, &["unit", "department", "note"], false),
        (Action::Respond, &["note"], false),
        (Action::Reopen, &["note"], true),
        (Action::Duplicate, &["duplicate_of", "note"], true),
        (Action::Reject, &["note"], true),
    ];
    candidates
        .into_iter()
        .filter(|(a, _, _)| s.may(*a) && super::next_status(t.status(), *a).is_ok())
        // Phone and patrol tickets are followed up by staff rather than rated.
        .filter(|(a, _, _)| *a != Action::FollowUp || t.submitter_user_id.is_none())
        .map(|(a, inputs, danger)| ActionView {
            action: a.as_str().into(),
            label: ctx.t(&format!("ticket.action.{}", a.as_str())),
            inputs: inputs.to_vec(),
            danger,
        })
        .collect()
}

async fn show_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    err: Option<&AppError>,
) -> PageResult {
    let (t, standing) = store::get(&state.db, actor, c.id, id).await?;
    let mut conn = state.db.read().await?;
    let category: String = query("SELECT name FROM ticket_categories WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(t.category_id)
        .scalar(&mut conn)
        .await?;
    let name_of = |u: Option<i64>| async move {
        match u {
            Some(u) => query("SELECT display_name FROM users WHERE id = $1")
                .bind(u)
                .scalar_optional::<String>(&mut state.db.read().await?)
                .await
                .map_err(AppError::from),
            None => Ok(None),
        }
    };
    let owner = name_of(t.owner_user_id).await?.unwrap_or_default();
    let pool = match (t.pool_team_id, t.pool_unit_id) {
        (Some(team), _) => query("SELECT name FROM teams WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(team)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default(),
        (_, Some(u)) => query("SELECT name FROM partner_units WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(u)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default(),
        _ => String::new(),
    };
    let grid = match t.grid_id {
        Some(g) => query("SELECT name FROM grids WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(g)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default(),
        None if t.outside_grid => ctx.t("ticket.outside_grid"),
        None => String::new(),
    };
    // Names are personal: staff and owners see who asked, others a masked name.
    let submitter_name = t.submitter_name.clone().unwrap_or_default();
    let submitter = if standing.staff || standing.owner || standing.submitter {
        submitter_name
    } else {
        crate::services::pii::mask_name(&submitter_name)
    };
    let photos = media::of(&mut conn, c.id, "ticket", t.id).await?;
    let point = match (t.lat, t.lng, t.household_id) {
        (Some(lat), Some(lng), _) => Some((lat, lng)),
        (_, _, Some(h)) => query("SELECT lat, lng FROM households WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(h)
            .fetch_optional::<(Option<f64>, Option<f64>)>(&mut conn)
            .await?
            .and_then(|(a, b)| a.zip(b)),
        _ => None,
    };
    let shapes = map::grid_shapes(&state.db, c.id, t.grid_id).await?;
    let markers: Vec<map::Marker> = point
        .map(|(lat, lng)| map::Marker {
            lat,
            lng,
            title: format!("#{}", t.id),
            href: format!("/c/{}/tickets/{}", c.code, t.id),
            class: "open",
        })
        .into_iter()
        .collect();
    let map = map::draw(&ctx.t("ticket.map"), &shapes, &markers);
    let questions = [
        ("q_need", &t.q_need),
        ("q_cause", &t.q_cause),
        ("q_plan", &t.q_plan),
        ("q_progress", &t.q_progress),
        ("q_outcome", &t.q_outcome),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), ctx.t(&format!("ticket.{k}")), v.clone().unwrap_or_default()))
    .collect();
    let whistles = store::whistles(&mut conn, c.id, t.id).await?;
    let history = store::history(&mut conn, c.id, t.id)
        .await?
        .into_iter()
        .map(|e| {
            (
                fmt::datetime(e.at),
                e.actor_name,
                ctx.t(&format!("ticket.action.{}", e.action)),
                e.note.unwrap_or_default(),
            )
        })
        .collect();
    let actions = action_views(&ctx, &t, standing);
    let needs_targets = actions.iter().any(|a| a.inputs.iter().any(|i| matches!(*i, "target" | "owner" | "unit")));
    let (mut people, mut teams, mut units) = (Vec::new(), Vec::new(), Vec::new());
    if needs_targets {
        people = query(
            "SELECT DISTINCT u.id, u.display_name FROM users u JOIN grants g ON g.user_id = u.id
             WHERE g.community_id = $1 AND g.role IN ('grid_worker', 'community_staff', 'community_secretary', 'volunteer', 'party_member') AND u.disabled_at IS NULL ORDER BY u.display_name",
        )
        .bind(c.id)
        .fetch_all::<(i64, String)>(&mut conn)
        .await?
        .into_iter()
        .map(|(i, n)| (i.to_string(), n))
        .collect();
        teams = query("SELECT id, name FROM teams WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
            .bind(c.id)
            .fetch_all::<(i64, String)>(&mut conn)
            .await?
            .into_iter()
            .map(|(i, n)| (i.to_string(), n))
            .collect();
        units =
            query("SELECT id, name FROM partner_units WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
                .bind(c.id)
                .fetch_all::<(i64, String)>(&mut conn)
                .await?
                .into_iter()
                .map(|(i, n)| (i.to_string(), n))
                .collect();
    }
    let errors = err.map(|e| e.field_messages(ctx.lang)).unwrap_or_default();
    let status = err.map(AppError::status).unwrap_or(StatusCode::OK);
    let now = crate::db::now_ms();
    let html = ShowTemplate {
        title: format!("{} #{}", ctx.t("ticket.one"), t.id),
        code: c.code.clone(),
        category,
        status: status_label(&ctx, &t.status),
        status_class: status_class(t.status()),
        overdue: t.is_overdue(now),
        owner,
        pool,
        submitter,
        grid,
        due: fmt::datetime(t.due_at),
        created: fmt::datetime(t.created_at),
        photos,
        map,
        questions,
        can_edit_questions: (standing.owner || standing.staff) && t.status().is_open(),
        actions,
        whistles,
        history,
        people,
        teams,
        units,
        errors,
        t,
        ctx,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    show_page(&state, ctx, &actor, &c, id, None).await
}

/// The action forms on a ticket's page.
pub async fn act(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfMultipart { fields, files }: CsrfMultipart,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let result = async {
        let action =
            Action::parse(&text(&fields, "action")).ok_or_else(|| AppError::field("action", "validation.choice"))?;
        let target = text(&fields, "target");
        let (mut owner, mut team, mut unit) = (opt_i64(&fields, "owner_user_id")?, None, opt_i64(&fields, "unit_id")?);
        // The dispatch form's one select says "user:1", "team:2" or "unit:3".
        if let Some((kind, id)) = target.split_once(':') {
            let id = id.parse::<i64>().map_err(|_| AppError::field("target", "validation.reference"))?;
            match kind {
                "user" => owner = Some(id),
                "team" => team = Some(id),
                "unit" => unit = Some(id),
                _ => return Err(AppError::field("target", "validation.reference")),
            }
        }
        let input = ActionInput {
            note: opt_text(&fields, "note"),
            owner_user_id: owner,
            team_id: team,
            unit_id: unit,
            rating: opt_i64(&fields, "rating")?,
            duplicate_of: opt_i64(&fields, "duplicate_of")?,
            department: opt_text(&fields, "department"),
            satisfied: opt_text(&fields, "satisfied").map(|s| s == "true"),
            q_need: fields.get("q_need").map(|_| text(&fields, "q_need")),
            q_cause: fields.get("q_cause").map(|_| text(&fields, "q_cause")),
            q_plan: fields.get("q_plan").map(|_| text(&fields, "q_plan")),
            q_progress: fields.get("q_progress").map(|_| text(&fields, "q_progress")),
            q_outcome: fields.get("q_outcome").map(|_| text(&fields, "q_outcome")),
        };
        let photos = photos_of(files)?;
        store::act(&state, &actor, c.id, id, action, input, photos).await
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/c/{}/tickets/{id}", c.code), Notice::TicketUpdated)),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            show_page(&state, ctx, &actor, &c, id, Some(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- the map ----------

#[derive(Template)]
#[template(path = "tickets/map.html")]
struct MapTemplate {
    ctx: PageCtx,
    title: String,
    code: String,
    map: crate::web::ui::MapView,
    open: usize,
    overdue: usize,
    unplaced: usize,
}

pub async fn map_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let views = views(&state, &actor, c.id).await?;
    let f = Filters { open: true, ..Filters::default() };
    let page = store::list(&state.db, &actor, &[c.id], views[0], &f, 1, 500).await?;
    let mut conn = state.db.read().await?;
    let households: std::collections::HashMap<i64, (f64, f64)> =
        query("SELECT id, lat, lng FROM households WHERE community_id = $1 AND lat IS NOT NULL AND lng IS NOT NULL")
            .bind(c.id)
            .fetch_all::<(i64, f64, f64)>(&mut conn)
            .await?
            .into_iter()
            .map(|(id, a, b)| (id, (a, b)))
            .collect();
    let now = crate::db::now_ms();
    let mut markers = Vec::new();
    let mut unplaced = 0;
    for t in &page.items {
        let point = match (t.lat, t.lng) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => t.household_id.and_then(|h| households.get(&h).copied()),
        };
        match point {
            Some((lat, lng)) => markers.push(map::Marker {
                lat,
                lng,
                title: format!("#{} {}", t.id, t.description.chars().take(20).collect::<String>()),
                href: format!("/c/{}/tickets/{}", c.code, t.id),
                class: if t.is_overdue(now) { "overdue" } else { "open" },
            }),
            None => unplaced += 1,
        }
    }
    let overdue = page.items.iter().filter(|t| t.is_overdue(now)).count();
    let map = map::draw(&ctx.t("ticket.map"), &map::grid_shapes(&state.db, c.id, None).await?, &markers);
    render(&MapTemplate {
        title: format!("{} · {}", c.name, ctx.t("ticket.map")),
        code: c.code.clone(),
        map,
        open: page.items.len(),
        overdue,
        unplaced,
        ctx,
    })
}

// ---------- statistics and the ledger ----------

#[derive(Template)]
#[template(path = "tickets/stats.html")]
struct StatsTemplate {
    ctx: PageCtx,
    title: String,
    f: stats::Figures,
    completion: String,
    on_time: String,
    satisfaction: String,
    response: String,
    resolution: String,
    status_chart: Bars,
    category_chart: Bars,
    place_chart: Bars,
    place_label: String,
    grids: Vec<(String, String, bool)>,
    export: String,
}

async fn stats_page(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    scope: Scope,
    name: String,
    base: String,
    export: String,
) -> PageResult {
    let f = stats::figures(&state.db, &actor, &scope).await?;
    let place_label = ctx.t(if scope.community_ids.len() > 1 { "entity.community" } else { "entity.grid" });
    let status_chart = Bars::new(
        ctx.t("ticket.by_status"),
        &Status::ALL
            .iter()
            .filter_map(|s| f.by_status.get(s.as_str()).map(|n| (status_label(&ctx, s.as_str()), *n as f64)))
            .collect::<Vec<_>>(),
        "",
    );
    let totals = |rows: &[stats::Row]| rows.iter().map(|r| (r.name.clone(), r.total as f64)).collect::<Vec<_>>();
    let category_chart = Bars::new(ctx.t("ticket.by_category"), &totals(&f.by_category), "");
    let place_chart = Bars::new(place_label.clone(), &totals(&f.by_place), "");
    let mut grids = Vec::new();
    if let [c] = scope.community_ids.as_slice() {
        let mut conn = state.db.read().await?;
        grids.push((base.clone(), ctx.t("common.all"), scope.grid_id.is_none()));
        let rows: Vec<(i64, String)> =
            query("SELECT id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
                .bind(*c)
                .fetch_all(&mut conn)
                .await?;
        grids.extend(rows.into_iter().map(|(id, n)| (format!("{base}?grid_id={id}"), n, scope.grid_id == Some(id))));
    }
    let tmpl = StatsTemplate {
        title: format!("{name} · {}", ctx.t("ticket.stats")),
        completion: stats::percent(f.completion_rate),
        on_time: stats::percent(f.on_time_rate),
        satisfaction: stats::percent(f.satisfaction_rate),
        response: stats::human_duration(f.median_response_ms),
        resolution: stats::human_duration(f.median_resolution_ms),
        status_chart,
        category_chart,
        place_chart,
        place_label,
        grids,
        export,
        f,
        ctx,
    };
    render(&tmpl)
}

#[derive(Deserialize)]
pub struct GridQuery {
    grid_id: Option<i64>,
}

pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<GridQuery>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let scope = Scope { community_ids: vec![c.id], grid_id: q.grid_id };
    stats_page(
        state,
        ctx,
        actor,
        scope,
        c.name.clone(),
        format!("/c/{}/tickets/stats", c.code),
        format!("/c/{}/tickets.xlsx", c.code),
    )
    .await
}

pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let communities = subdistrict_communities(&state, &actor, id).await?;
    let mut conn = state.db.read().await?;
    let name: String = query("SELECT name FROM subdistricts WHERE id = $1").bind(id).scalar(&mut conn).await?;
    drop(conn);
    let scope = Scope { community_ids: communities.iter().map(|c| c.id).collect(), grid_id: None };
    stats_page(
        state,
        ctx,
        actor,
        scope,
        name,
        format!("/subdistricts/{id}/tickets/stats"),
        format!("/subdistricts/{id}/tickets.xlsx"),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct LedgerRow {
    id: i64,
    community: String,
    category: String,
    channel: String,
    status: String,
    description: String,
    address: Option<String>,
    grid: Option<String>,
    owner: Option<String>,
    created_at: i64,
    due_at: i64,
    accepted_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    rating: Option<i64>,
    escalation_level: i64,
    reopen_count: i64,
}

/// The ticket ledger 工单台账 as rows (staff and overseers only).
pub async fn ledger_rows(state: &AppState, actor: &Actor, community_ids: &[i64]) -> AppResult<Vec<Vec<String>>> {
    if !stats::may_see(actor, &Scope { community_ids: community_ids.to_vec(), grid_id: None }) {
        return Err(AppError::NotFound);
    }
    let mut b = crate::db::Builder::new(
        "SELECT t.id, c.name AS community, k.name AS category, t.channel, t.status, t.description, t.address, g.name AS grid, u.display_name AS owner, t.created_at, t.due_at, t.accepted_at, t.resolved_at, t.closed_at, t.rating, t.escalation_level, t.reopen_count
         FROM tickets t JOIN communities c ON c.id = t.community_id
         JOIN ticket_categories k ON k.community_id = t.community_id AND k.id = t.category_id
         LEFT JOIN grids g ON g.community_id = t.community_id AND g.id = t.grid_id
         LEFT JOIN users u ON u.id = t.owner_user_id WHERE t.community_id IN ",
    );
    b.list(community_ids.iter().copied()).push(" ORDER BY t.created_at, t.id");
    let mut conn = state.db.read().await?;
    let rows: Vec<LedgerRow> = b.build().fetch_all(&mut conn).await?;
    let zh = crate::i18n::Lang::Zh;
    let t = |ms: Option<i64>| ms.map(fmt::datetime).unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.community,
                r.category,
                crate::i18n::t(zh, &format!("ticket.channel.{}", r.channel)),
                crate::i18n::t(zh, &format!("ticket.status.{}", r.status)),
                super::mask_numbers(&r.description),
                r.address.unwrap_or_default(),
                r.grid.unwrap_or_default(),
                r.owner.unwrap_or_default(),
                fmt::datetime(r.created_at),
                fmt::datetime(r.due_at),
                t(r.accepted_at),
                t(r.resolved_at),
                t(r.closed_at),
                r.rating.map(|x| x.to_string()).unwrap_or_default(),
                if r.escalation_level > 0 { format!("{}级", r.escalation_level) } else { String::new() },
                r.reopen_count.to_string(),
            ]
        })
        .collect())
}

pub const LEDGER_COLUMNS: [&str; 17] = [
    "编号",
    "社区",
    "类别",
    "来源",
    "状态",
    "诉求内容",
    "地点",
    "网格",
    "承办人",
    "受理时间",
    "办理时限",
    "接单时间",
    "办结时间",
    "关闭时间",
    "评价",
    "督办",
    "重办次数",
];

async fn ledger(state: &AppState, actor: &Actor, community_ids: &[i64], name: &str) -> PageResult {
    let rows = ledger_rows(state, actor, community_ids).await?;
    let bytes = crate::capabilities::registry::transfer::xlsx_table("工单台账", &LEDGER_COLUMNS, &rows)?;
    Ok(crate::capabilities::registry::transfer::pages::xlsx_download(&format!("{name}-工单台账.xlsx"), bytes))
}

pub async fn community_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    ledger(&state, &actor, &[c.id], &c.name).await
}

pub async fn subdistrict_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let communities = subdistrict_communities(&state, &actor, id).await?;
    let ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
    ledger(&state, &actor, &ids, "街道").await
}

// ---------- inbox ----------

// ---------- household plates 网格服务牌 ----------

/// What someone who reported from a plate (no account) sees.
#[derive(Template)]
#[template(
    source = r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ msg }}</title><link rel="stylesheet" href="/assets/app.css?v={{ crate::web::assets::VERSION.as_str() }}"></head><body><main class="main narrow"><div class="result"><div class="result-code">✓</div><h1>{{ msg }}</h1><p class="muted">{{ community }}</p></div></main></body></html>"#,
    ext = "html"
)]
struct PlateThanks {
    msg: String,
    community: String,
}

/// The code on a household's plate: community, household and a keyed hash, so that
/// plates cannot be guessed from one another.
pub fn plate_token(state: &AppState, community_id: i64, household_id: i64) -> String {
    let tag = state.pii.blind_index("plate", &format!("{community_id}:{household_id}"));
    format!("{community_id}-{household_id}-{}", hex::encode(&tag[..8]))
}

fn read_plate_token(state: &AppState, token: &str) -> Option<(i64, i64)> {
    let mut parts = token.splitn(3, '-');
    let c: i64 = parts.next()?.parse().ok()?;
    let h: i64 = parts.next()?.parse().ok()?;
    (plate_token(state, c, h) == token).then_some((c, h))
}

pub struct Plate {
    pub address: String,
    pub grid: String,
    pub worker: String,
    pub qr: Option<crate::web::ui::Qr>,
    pub url: String,
}

#[derive(Template)]
#[template(path = "tickets/plates.html")]
struct PlatesTemplate {
    ctx: PageCtx,
    title: String,
    community: String,
    hotline: String,
    plates: Vec<Plate>,
}

/// Where phones reach this server: the configured public address, else the host asked for.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if crate::web::is_tls(state, headers) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

async fn plates(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    household_ids: Vec<i64>,
    base: String,
) -> PageResult {
    if !actor.can(c.id, Permission::ViewRegistry) {
        return Err(AppError::NotFound.into());
    }
    let reach = actor.access(c.id, Permission::ViewRegistry);
    let mut b = crate::db::Builder::new(
        "SELECT h.id, h.address, h.grid_id, g.name, u.display_name FROM households h LEFT JOIN grids g ON g.community_id = h.community_id AND g.id = h.grid_id
         LEFT JOIN users u ON u.id = g.worker_user_id WHERE h.community_id = ",
    );
    b.arg(c.id).push(" AND h.archived_at IS NULL AND h.id IN ").list(household_ids).push(" ORDER BY h.address");
    let mut conn = state.db.read().await?;
    let rows: Vec<(i64, String, Option<i64>, Option<String>, Option<String>)> = b.build().fetch_all(&mut conn).await?;
    let hotline: Option<String> =
        query("SELECT office_phone FROM communities WHERE id = $1").bind(c.id).scalar(&mut conn).await?;
    let plates: Vec<Plate> = rows
        .into_iter()
        .filter(|(id, _, g, _, _)| reach.covers(*g, Some(*id)))
        .map(|(id, address, _, grid, worker)| {
            let url = format!("{base}/plate/{}", plate_token(state, c.id, id));
            let qr = Qr::new(address.clone(), &url);
            Plate { address, grid: grid.unwrap_or_default(), worker: worker.unwrap_or_default(), qr, url }
        })
        .collect();
    if plates.is_empty() {
        return Err(AppError::NotFound.into());
    }
    render(&PlatesTemplate {
        title: ctx.t("ticket.plate"),
        community: c.name.clone(),
        hotline: hotline.unwrap_or_default(),
        plates,
        ctx,
    })
}

pub async fn household_plate(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    headers: HeaderMap,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let base = public_base(&state, &headers);
    plates(&state, ctx, &actor, &c, vec![id], base).await
}

pub async fn grid_plates(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    headers: HeaderMap,
    Path((code, grid)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let ids: Vec<i64> =
        query("SELECT id FROM households WHERE community_id = $1 AND grid_id = $2 AND archived_at IS NULL")
            .bind(c.id)
            .bind(grid)
            .scalars(&mut conn)
            .await?;
    drop(conn);
    let base = public_base(&state, &headers);
    plates(&state, ctx, &actor, &c, ids, base).await
}

/// The form a plate's QR code opens: no sign-in, the household filled in; the caller
/// leaves a name and number so that staff can follow up.
pub async fn plate_form(State(state): State<AppState>, Page(ctx): Page, Path(token): Path<String>) -> PageResult {
    let (c, h) = read_plate_token(&state, &token).ok_or(AppError::NotFound)?;
    let mut conn = state.db.read().await?;
    let community = crate::auth::guard::community_by_id(&mut conn, c).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    let mut form = Map::new();
    form.insert("household_id".into(), Value::String(h.to_string()));
    new_form(&state, ctx, &community, None, form, None, format!("/plate/{token}")).await
}

pub async fn plate_submit(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(token): Path<String>,
    crate::web::form::PlainForm(form): crate::web::form::PlainForm,
) -> PageResult {
    let (c, h) = read_plate_token(&state, &token).ok_or(AppError::NotFound)?;
    let mut conn = state.db.read().await?;
    let community = crate::auth::guard::community_by_id(&mut conn, c).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    let result = async {
        let mut new = new_ticket(&form, Channel::Plate)?;
        new.household_id = Some(h);
        let mut errors = Vec::new();
        if new.submitter_name.is_none() {
            errors.push(FieldError::new("submitter_name", "validation.required"));
        }
        if new.caller_phone.is_none() {
            errors.push(FieldError::new("caller_phone", "validation.required"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        store::submit(&state, c, None, new, Vec::new()).await
    }
    .await;
    match result {
        Ok((t, _)) => {
            render(&PlateThanks { msg: ctx.tr("ticket.plate_thanks", "id", t.id), community: community.name.clone() })
        }
        Err(e @ AppError::Invalid(_)) => {
            new_form(&state, ctx, &community, None, form, Some(&e), format!("/plate/{token}")).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- on the home page ----------

fn item(
    t: &Ticket,
    code: &str,
    cats: &std::collections::HashMap<i64, String>,
    ctx: &PageCtx,
) -> crate::web::home::Item {
    crate::web::home::Item {
        title: format!("#{} {}", t.id, cats.get(&t.category_id).cloned().unwrap_or_default()),
        sub: format!("{} · {}", status_label(ctx, &t.status), t.description.chars().take(16).collect::<String>()),
        href: format!("/c/{code}/tickets/{}", t.id),
    }
}

/// What each role has to do with tickets, for the home page.
/// This capability's part of a user's home page.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::home::Section>>> {
    Box::pin(home_sections(state, ctx, actor))
}

async fn home_sections(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<crate::web::home::Section>> {
    use crate::web::home::Section;
    let mut out = Vec::new();
    let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let open = Filters { open: true, ..Filters::default() };
    for cid in communities {
        let mut conn = state.db.read().await?;
        let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
        drop(conn);
        let cats = category_names(state, &[cid]).await?;
        let staff = actor.grants.iter().any(|g| {
            matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(cid)
        });
        let base = format!("/c/{}/tickets", c.code);
        if staff {
            let all = store::list(&state.db, actor, &[cid], View::All, &open, 1, 200).await?;
            let escalated: Vec<&Ticket> = all.items.iter().filter(|t| t.escalation_level > 0).take(10).collect();
            if !escalated.is_empty() {
                out.push(Section {
                    title: format!("{} · {}", c.name, ctx.t("home.escalated")),
                    items: escalated.iter().map(|t| item(t, &c.code, &cats, ctx)).collect(),
                    links: vec![(format!("{base}?view=all&overdue=1"), ctx.t("ticket.overdue"))],
                    ..Section::default()
                });
            }
            let waiting = store::list(
                &state.db,
                actor,
                &[cid],
                View::All,
                &Filters { status: Some(Status::Submitted), ..Filters::default() },
                1,
                10,
            )
            .await?;
            if waiting.total > 0 {
                out.push(Section {
                    title: format!("{} · {} {}", c.name, ctx.t("ticket.status.submitted"), waiting.total),
                    items: waiting.items.iter().map(|t| item(t, &c.code, &cats, ctx)).collect(),
                    links: vec![(format!("{base}?view=all&status=submitted"), ctx.t("common.more"))],
                    ..Section::default()
                });
            }
        }
        let work = store::list(&state.db, actor, &[cid], View::Work, &open, 1, 10).await?;
        if work.total > 0 {
            out.push(Section {
                title: format!("{} · {} {}", c.name, ctx.t("home.my_work"), work.total),
                items: work.items.iter().map(|t| item(t, &c.code, &cats, ctx)).collect(),
                links: vec![(format!("{base}?view=work"), ctx.t("common.more"))],
                ..Section::default()
            });
        }
        if let Ok(pool) = store::list(&state.db, actor, &[cid], View::Pool, &Filters::default(), 1, 10).await
            && pool.total > 0
        {
            out.push(Section {
                title: format!("{} · {} {}", c.name, ctx.t("home.pool"), pool.total),
                items: pool.items.iter().map(|t| item(t, &c.code, &cats, ctx)).collect(),
                links: vec![(format!("{base}?view=pool"), ctx.t("common.more"))],
                ..Section::default()
            });
        }
        let units: Vec<i64> = actor
            .grants
            .iter()
            .filter(|g| g.role() == Role::PartnerUnit && g.community_id == Some(cid))
            .filter_map(|g| g.partner_unit_id)
            .collect();
        if !units.is_empty() {
            let mut b = crate::db::Builder::new(
                "SELECT t.id, t.description FROM ticket_whistles w JOIN tickets t ON t.community_id = w.community_id AND t.id = w.ticket_id WHERE w.community_id = ",
            );
            b.arg(cid)
                .push(" AND w.responded_at IS NULL AND w.unit_id IN ")
                .list(units)
                .push(" ORDER BY w.called_at DESC LIMIT 20");
            let mut conn = state.db.read().await?;
            let rows: Vec<(i64, String)> = b.build().fetch_all(&mut conn).await?;
            if !rows.is_empty() {
                out.push(Section {
                    title: format!("{} · {}", c.name, ctx.t("home.whistled")),
                    items: rows
                        .into_iter()
                        .map(|(id, d)| crate::web::home::Item {
                            title: format!("#{id}"),
                            sub: d.chars().take(20).collect(),
                            href: format!("{base}/{id}"),
                        })
                        .collect(),
                    ..Section::default()
                });
            }
        }
        let mine = store::list(&state.db, actor, &[cid], View::Mine, &Filters::default(), 1, 5).await?;
        let resident = actor.grants.iter().any(|g| g.role() == Role::Resident && g.community_id == Some(cid));
        if mine.total > 0 || resident {
            out.push(Section {
                title: format!("{} · {}", c.name, ctx.t("home.my_tickets")),
                items: mine.items.iter().map(|t| item(t, &c.code, &cats, ctx)).collect(),
                links: vec![
                    (format!("{base}/new"), format!("+ {}", ctx.t("ticket.new"))),
                    (format!("{base}?view=mine"), ctx.t("common.more")),
                ],
                ..Section::default()
            });
        }
    }
    for s in actor.grants.iter().filter(|g| g.role() == Role::SubdistrictAdmin).filter_map(|g| g.subdistrict_id) {
        let Ok(communities) = subdistrict_communities(state, actor, s).await else { continue };
        let ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
        let all = store::list(&state.db, actor, &ids, View::All, &open, 1, 500).await?;
        let escalated: Vec<&Ticket> = all.items.iter().filter(|t| t.escalation_level >= 2).take(10).collect();
        let cats = category_names(state, &ids).await?;
        let code_of: std::collections::HashMap<i64, String> =
            communities.iter().map(|c| (c.id, c.code.clone())).collect();
        out.push(Section {
            title: format!("{} · {}", ctx.t("home.escalated"), escalated.len()),
            items: escalated
                .iter()
                .map(|t| item(t, code_of.get(&t.community_id).map(String::as_str).unwrap_or(""), &cats, ctx))
                .collect(),
            links: vec![
                (format!("/subdistricts/{s}/tickets/stats"), ctx.t("ticket.stats")),
                (format!("/subdistricts/{s}/tickets?overdue=1"), ctx.t("ticket.overdue")),
            ],
            ..Section::default()
        });
    }
    Ok(out)
}

/// The community's ticket categories as a select's options.
pub async fn category_options(state: &AppState, community_id: i64) -> AppResult<Vec<(String, String)>> {
    let dir = super::runtime(state).directory(&state.db, community_id).await?;
    Ok(dir.categories.iter().map(|c| (c.id.to_string(), format!("{} {}", c.code, c.name))).collect())
}
