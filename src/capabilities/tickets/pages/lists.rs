//! Lists of tickets: one community's or a subdistrict's, by view and filters, and the
//! map of the open ones.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};

use super::{category_names, status_class, status_label, subdistrict_communities};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::registry::places::map;
use crate::capabilities::tickets::stats::{self, Scope};
use crate::capabilities::tickets::store::{self, Filters, Sort, Ticket, View};
use crate::capabilities::tickets::{self, Channel, Status};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::form::query_param;
use crate::web::{PageCtx, PageResult, SignedPage, fmt, render};

/// A ticket as a line of a list.
pub struct Line {
    pub href: String,
    pub id: i64,
    /// The community's name (lists over several communities), else empty.
    pub community: String,
    pub grid: String,
    pub owner: String,
    pub due: String,
    pub category: String,
    pub status: String,
    pub status_class: &'static str,
    pub overdue: bool,
    pub escalated: i64,
    pub place: String,
    pub summary: String,
    pub created: String,
}

/// The lines as shown; `many` names each line's community (a subdistrict's list).
async fn lines(
    state: &AppState,
    ctx: &PageCtx,
    items: &[Ticket],
    community_ids: &[i64],
    many: bool,
) -> AppResult<Vec<Line>> {
    let cats = category_names(state, community_ids).await?;
    let mut codes = crate::db::Builder::new("SELECT id, code, name FROM communities WHERE id IN ");
    codes.list(community_ids.iter().copied());
    // The grids of several communities are read across their shards.
    let mut conn = state.db.read_over(community_ids).await?;
    let places: HashMap<i64, (String, String)> = codes
        .build()
        .fetch_all::<(i64, String, String)>(&mut conn)
        .await?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect();
    let (grids, owners) = grid_and_owner_names(&mut conn, items).await?;
    let now = crate::db::now_ms();
    Ok(items
        .iter()
        .map(|t| {
            let (code, name) = places.get(&t.community_id).cloned().unwrap_or_default();
            Line {
                href: format!("/c/{code}/tickets/{}", t.id),
                id: t.id,
                community: if many { name } else { String::new() },
                grid: t.grid_id.and_then(|g| grids.get(&(t.community_id, g)).cloned()).unwrap_or_default(),
                owner: t.owner_user_id.and_then(|u| owners.get(&u).cloned()).unwrap_or_default(),
                due: fmt::datetime(t.due_at),
                category: cats.get(&t.category_id).cloned().unwrap_or_default(),
                status: status_label(ctx, &t.status),
                status_class: status_class(t.status()),
                overdue: t.is_overdue(now),
                escalated: t.escalation_level,
                place: t.address.clone().unwrap_or_default(),
                summary: t.description.chars().take(60).collect(),
                created: fmt::datetime(t.created_at),
            }
        })
        .collect())
}

/// The names of the grids and the owners of a page of tickets.
async fn grid_and_owner_names(
    conn: &mut impl crate::db::Exec,
    items: &[Ticket],
) -> AppResult<(HashMap<(i64, i64), String>, HashMap<i64, String>)> {
    let mut grids = HashMap::new();
    let mut owners = HashMap::new();
    let placed: Vec<&Ticket> = items.iter().filter(|t| t.grid_id.is_some()).collect();
    if !placed.is_empty() {
        let mut b = crate::db::Builder::new("SELECT community_id, id, name FROM grids WHERE community_id IN ");
        b.list(placed.iter().map(|t| t.community_id)).push(" AND id IN ").list(placed.iter().filter_map(|t| t.grid_id));
        for (c, id, name) in b.build().fetch_all::<(i64, i64, String)>(&mut *conn).await? {
            grids.insert((c, id), name);
        }
    }
    let held: Vec<i64> = items.iter().filter_map(|t| t.owner_user_id).collect();
    if !held.is_empty() {
        let mut b = crate::db::Builder::new("SELECT id, display_name FROM users WHERE id IN ");
        b.list(held);
        owners.extend(b.build().fetch_all::<(i64, String)>(&mut *conn).await?);
    }
    Ok((grids, owners))
}

/// The desktop table's head: each column's label, and for those it can be sorted by, the
/// address that sorts it and, for the one sorted now, which way (`aria-sort`).
fn columns(ctx: &PageCtx, many: bool, sort: Sort) -> Vec<(String, String, &'static str)> {
    let by = |s: Sort| with(&ctx.path, &ctx.query, "sort", if s == Sort::Newest { "" } else { s.as_str() });
    let plain = |key: &str| (String::new(), ctx.t(key), "");
    let mut out = vec![(String::new(), "#".to_string(), ""), plain("ticket.category"), plain("ticket.status")];
    if many {
        out.push(plain("entity.community"));
    }
    for (s, key) in [
        (Sort::Grid, "entity.grid"),
        (Sort::Owner, "ticket.owner"),
        (Sort::Due, "ticket.due"),
        (Sort::Newest, "ticket.created"),
    ] {
        let way = match (sort == s, s) {
            (false, _) => "",
            (true, Sort::Newest) => "descending",
            (true, _) => "ascending",
        };
        out.push((by(s), ctx.t(key), way));
    }
    out
}

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
    /// The communities to pick one out of, over a subdistrict.
    places: Vec<(String, String, bool)>,
    /// Picking lines of the desktop table to dispatch them together (staff).
    dispatch: Option<super::dispatching::Dispatch>,
    q: String,
    overdue: bool,
    from: String,
    to: String,
    view: String,
    links: Vec<(String, String)>,
    /// The desktop table's head (sorting address, label, which way it is sorted now).
    columns: Vec<(String, String, &'static str)>,
    /// Over several communities: the table names each line's.
    many: bool,
    /// Only their own requests (a resident): the list in their words, with few choices
    /// and the way to ask first.
    asker: bool,
    /// Where a new request is made, when there is one community.
    ask: Option<String>,
}

fn parse_date(s: &str, end: bool) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let d = if end { d.succ_opt()? } else { d };
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - 8 * tickets::HOUR_MS)
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
        sort: match q("sort") {
            None => Sort::Newest,
            Some(s) => Sort::parse(&s).ok_or_else(|| AppError::field("sort", "validation.choice"))?,
        },
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
    // Over a subdistrict, one community can be picked out (`?community=` its code).
    let picked = query_param(&qs, "community").unwrap_or_default();
    let mut places = Vec::new();
    if communities.len() > 1 {
        places.push((String::new(), ctx.t("common.all"), picked.is_empty()));
        places.extend(communities.iter().map(|c| (c.code.clone(), c.name.clone(), c.code == picked)));
    }
    let ids: Vec<i64> = match communities.iter().find(|c| c.code == picked) {
        Some(c) => vec![c.id],
        None => communities.iter().map(|c| c.id).collect(),
    };
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
    let asker = views == [View::Mine];
    let mut statuses = vec![
        (String::new(), ctx.t("common.all"), current_status.is_empty()),
        ("open".into(), ctx.t("ticket.open"), current_status == "open"),
    ];
    // A resident tells apart what is being done, what waits for their rating and what is done.
    let shown: &[Status] = if asker { &[Status::Resolved, Status::Closed] } else { &Status::ALL };
    statuses.extend(
        shown.iter().map(|s| (s.as_str().to_string(), status_label(&ctx, s.as_str()), current_status == s.as_str())),
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
        let rows = crate::capabilities::registry::places::grid_names(&mut conn, c.id).await?;
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
    let ask = match communities.as_slice() {
        [c] => Some(format!("/c/{}/tickets/new", c.code)),
        _ => None,
    };
    let many = communities.len() > 1;
    let dispatch = match communities.as_slice() {
        [c] if super::dispatching::dispatches(&actor, c.id) => Some(super::dispatching::Dispatch {
            action: format!("/c/{}/tickets/dispatch", c.code),
            people: super::detail::dispatch_people(&mut state.db.read().await?, c.id).await?,
        }),
        _ => None,
    };
    let tmpl = ListTemplate {
        dispatch,
        places,
        columns: columns(&ctx, many, f.sort),
        many,
        title: ctx.t(if asker { "nav.my_requests" } else { "ticket.title" }),
        asker,
        ask,
        lines: lines(&state, &ctx, &result.items, &ids, many).await?,
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
