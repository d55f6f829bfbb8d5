//! What everyone sees, without signing in: the directory of a community searched by need,
//! open now, and within a walk of where one is (the phone's location, or one's compound),
//! nearest first on the offline map; and a listing with its week of hours ahead.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::listing_cells;
use crate::auth::guard::CommunityRef;
use crate::capabilities::directory::store::{self, Which};
use crate::capabilities::directory::{Ask, Found, HOURS_OWNER, Listing, NEEDS, find, is_fresh};
use crate::capabilities::registry::places;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::hours::view::{hours_text, week_table};
use crate::services::hours::{Calendar, Hours};
use crate::web::ui::{self, Block, BlocksPage, Form, Input, InputKind, Item, Refusal, Tag, Tone};
use crate::web::{AppState, Page, PageCtx, PageResult, render};

/// The search as the address bar carries it.
#[derive(Debug, Default, Deserialize)]
pub struct AskQuery {
    pub need: Option<String>,
    pub q: Option<String>,
    pub open_now: Option<String>,
    pub walk: Option<String>,
    pub lat: Option<String>,
    pub lng: Option<String>,
    /// A compound to walk from, for those who do not share their location.
    pub from: Option<String>,
}

/// The walks one may ask for, in minutes.
pub const WALKS: [u32; 4] = [5, 10, 15, 30];

fn empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The ask, each bad value named: a need of the list, words without control characters,
/// a walk of 5, 10, 15 or 30 minutes, a point on the Earth, a compound of the community
/// (`compound`: where the one named by `from` is, if it is one of the community's).
pub fn ask_of(q: &AskQuery, compound: Option<(f64, f64)>) -> Result<Ask, Vec<FieldError>> {
    let mut errors = Vec::new();
    let need = empty(&q.need).map(String::from);
    if need.as_deref().is_some_and(|n| !NEEDS.contains(&n)) {
        errors.push(FieldError::new("need", "validation.choice"));
    }
    let words = q.q.clone().unwrap_or_default();
    crate::input::check_text(&mut errors, "q", &words, 30, false);
    let walk = match empty(&q.walk) {
        None => None,
        Some(w) => match w.parse::<u32>() {
            Ok(w) if WALKS.contains(&w) => Some(w),
            _ => {
                errors.push(FieldError::new("walk", "validation.choice"));
                None
            }
        },
    };
    let mut from = places::map::point_of(q.lat.as_deref(), q.lng.as_deref()).unwrap_or_else(|e| {
        errors.extend(e);
        None
    });
    if empty(&q.from).is_some() {
        match compound {
            Some(c) if from.is_none() => from = Some(c),
            Some(_) => {}
            None => errors.push(FieldError::new("from", "validation.reference")),
        }
    }
    let open_now = matches!(empty(&q.open_now), Some("true" | "on" | "1"));
    if errors.is_empty() {
        Ok(Ask { need, words: words.trim().to_string(), open_now, from, walk })
    } else {
        Err(errors)
    }
}

/// How a listing stands now (a short tag), and until when or from when (a line).
pub fn state_of(ctx: &PageCtx, f: &Found<'_>, now: NaiveDateTime) -> (Tag, Option<String>) {
    let open = Tag::new(ctx.t("directory.open"), Tone::Green);
    let closed = Tag::new(ctx.t("directory.closed"), Tone::Grey);
    match (f.open, f.closes, f.next_open) {
        (true, Some(c), _) => (open, Some(ctx.tr("directory.open_until", "time", when_short(c, now)))),
        (true, None, _) => (open, None),
        (false, _, Some(n)) => (closed, Some(ctx.tr("directory.opens_at", "time", when_short(n, now)))),
        (false, _, None) => (closed, Some(ctx.t("directory.no_hours"))),
    }
}

/// `17:30` today, `12-02 08:30` another day.
fn when_short(t: NaiveDateTime, now: NaiveDateTime) -> String {
    if t.date() == now.date() { t.format("%H:%M").to_string() } else { t.format("%m-%d %H:%M").to_string() }
}

fn search_form(ctx: &PageCtx, code: &str, q: &AskQuery, compounds: &[(i64, String)]) -> Form {
    let mut needs = vec![(String::new(), ctx.t("directory.any_need"))];
    needs.extend(NEEDS.iter().map(|n| (n.to_string(), ctx.t(&format!("choice.listing.need.{n}")))));
    let mut walks = vec![(String::new(), ctx.t("directory.any_distance"))];
    walks.extend(WALKS.iter().map(|w| (w.to_string(), ctx.tr("directory.walk_within", "n", w))));
    let mut froms = vec![(String::new(), ctx.t("directory.from_here"))];
    froms.extend(compounds.iter().map(|c| (c.0.to_string(), c.1.clone())));
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    let open_now = if matches!(empty(&q.open_now), Some("true" | "on" | "1")) { "true" } else { "" };
    let asked = [&q.need, &q.q, &q.open_now, &q.walk, &q.lat, &q.from].iter().any(|v| empty(v).is_some());
    let form = Form::new(ctx.t("directory.search"), format!("/p/{code}/services"), ctx.t("directory.search"));
    // Once asked, the answers come first on a phone; the search folds above them.
    if asked { form.folded() } else { form }
        .get()
        .input(Input::new("need", ctx.t("field.listing.need"), InputKind::Select(needs)).value(v(&q.need)))
        .input(Input::new("q", ctx.t("directory.words"), InputKind::Text).value(v(&q.q)))
        .input(Input::new("open_now", ctx.t("directory.open_now"), InputKind::Checkbox).value(open_now))
        .input(Input::new("walk", ctx.t("directory.walk"), InputKind::Select(walks)).value(v(&q.walk)))
        .input(Input::new("from", ctx.t("directory.from"), InputKind::Select(froms)).value(v(&q.from)))
        .input(Input::hidden("lat", v(&q.lat)))
        .input(Input::hidden("lng", v(&q.lng)))
        .input(Input::new("locate", "", InputKind::Locate).value(ctx.t("directory.use_location")))
}

/// One listing found, as a line.
pub fn found_item(ctx: &PageCtx, code: &str, f: &Found<'_>, now: NaiveDateTime) -> Item {
    let l = f.listing;
    let (tag, when) = state_of(ctx, f, now);
    let mut sub: Vec<String> = when.into_iter().collect();
    if let Some(m) = f.minutes {
        sub.push(ctx.tr("directory.walk_minutes", "n", m.ceil() as i64));
    }
    sub.extend([l.provider.clone(), ctx.t(&format!("choice.listing.price.{}", l.price)), l.address.clone()]);
    Item {
        title: l.name.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/p/{code}/services/{}", l.id)),
        tag: Some(tag),
    }
}

pub struct PublicData<'a> {
    pub found: Vec<Found<'a>>,
    pub compounds: Vec<(i64, String)>,
    pub now: NaiveDateTime,
    pub map: crate::web::ui::MapView,
}

pub fn public_view(ctx: PageCtx, c: &CommunityRef, q: &AskQuery, d: &PublicData<'_>, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let items: Vec<Item> = d.found.iter().map(|f| found_item(&ctx, code, f, d.now)).collect();
    let title = format!("{} · {}", c.name, ctx.t("directory.title"));
    let mut blocks = vec![
        Block::Form(search_form(&ctx, code, q, &d.compounds).refused(r)),
        Block::List(ctx.tr("directory.found", "n", items.len()), items, ctx.t("directory.none_found")),
    ];
    if !d.map.markers.is_empty() {
        blocks.push(Block::Map(d.map.clone()));
    }
    BlocksPage::new(ctx, title, Vec::new(), blocks, r)
}

/// The map of what was found over the community's grids (green open, grey closed), each
/// marker a link to its listing, and where the asker stands.
fn found_map(
    ctx: &PageCtx,
    code: &str,
    found: &[Found<'_>],
    grids: &[places::map::Shape],
    from: Option<(f64, f64)>,
) -> crate::web::ui::MapView {
    let mut markers: Vec<places::map::Marker> = found
        .iter()
        .filter_map(|f| {
            let l = f.listing;
            Some(places::map::Marker {
                lat: l.lat?,
                lng: l.lng?,
                title: format!("{} · {}", l.name, l.location),
                href: format!("/p/{code}/services/{}", l.id),
                class: if f.open { "open" } else { "closed" },
            })
        })
        .collect();
    if let Some((lat, lng)) = from {
        let title = ctx.t("directory.from_here");
        markers.push(places::map::Marker { lat, lng, title, href: format!("/p/{code}/services"), class: "here" });
    }
    places::map::draw(&ctx.t("directory.map"), grids, &markers)
}

/// What the public asked, read and narrowed in the database (the need, a box around
/// where the asker stands when a walk is asked), with the hours of what may answer; or
/// the fields that are wrong.
pub async fn search(
    state: &AppState,
    c: &CommunityRef,
    q: &AskQuery,
) -> AppResult<Result<(Ask, Vec<Listing>, Arc<HashMap<i64, Hours>>), Vec<FieldError>>> {
    let mut conn = state.db.read().await?;
    let compound = match empty(&q.from).map(str::parse::<i64>) {
        Some(Ok(id)) => places::compound_centre(&mut conn, c.id, id).await?,
        _ => None,
    };
    let ask = match ask_of(q, compound) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    // Streets are longer than the straight line: the circle holds everything within the walk
    // (and a little more: `find` measures each exactly).
    let within = ask.from.zip(ask.walk).map(|((lat, lng), w)| (lat, lng, f64::from(w) * 70.0 / 1.3 + 50.0));
    let narrow = store::Narrow { need: ask.need.as_deref(), within };
    let listings = store::listings(&mut conn, c.id, Which::Public, crate::db::now_ms(), narrow).await?;
    drop(conn);
    // Kept between requests: the search is asked often, hours change seldom.
    let hours = state.hours.hours(&state.db, c.id, HOURS_OWNER, crate::web::fmt::today()).await?;
    Ok(Ok((ask, listings, hours)))
}

/// Now, in China.
pub fn now_local() -> NaiveDateTime {
    crate::web::fmt::to_cst(crate::db::now_ms()).naive_local()
}

/// `GET /p/{code}/services`: anyone.
pub async fn public(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    Query(q): Query<AskQuery>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let compounds = places::compound_names(&mut state.db.read().await?, c.id).await?;
    let calendar: std::sync::Arc<Calendar> = state.holidays.calendar(&state.db).await?;
    let now = now_local();
    match search(&state, &c, &q).await? {
        Ok((ask, listings, hours)) => {
            let found = find(&listings, &hours, &calendar, now, &ask);
            // The grids' own pages are staff's: on the public map they are only drawn.
            let grids: Vec<places::map::Shape> = places::map::grid_shapes(&state.db, c.id, None)
                .await?
                .into_iter()
                .map(|g| places::map::Shape { href: String::new(), ..g })
                .collect();
            let map = found_map(&ctx, &c.code, &found, &grids, ask.from);
            render(&public_view(ctx, &c, &q, &PublicData { found, compounds, now, map }, &Refusal::none()))
        }
        Err(e) => {
            let action = format!("/p/{code}/services");
            let page = |ctx: PageCtx, r: Refusal| async move {
                let map = crate::web::ui::MapView::default();
                render(&public_view(ctx, &c, &q, &PublicData { found: Vec::new(), compounds, now, map }, &r))
            };
            ui::refused(AppError::Invalid(e), ctx, &serde_json::Map::new(), &action, page).await
        }
    }
}

/// `GET /p/{code}/services/{id}`: a listing, while it is fresh.
pub async fn public_listing(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let l = store::listing(&mut conn, c.id, id)
        .await?
        .filter(|l| is_fresh(l.verified_at, l.created_at, crate::db::now_ms()))
        .ok_or(AppError::NotFound)?;
    let hours = store::hours_of(&mut conn, c.id, Some(&[id])).await?.remove(&id).unwrap_or_default();
    let points = store::points_price(&mut conn, c.id, l.reward_id).await?;
    drop(conn);
    let calendar = state.holidays.calendar(&state.db).await?;
    let today = crate::web::fmt::today();
    let mut cells = listing_cells(&ctx, &l, true);
    cells.push((ctx.t("directory.hours"), hours_text(&ctx, &hours)));
    let marker = l.lat.zip(l.lng).map(|(lat, lng)| places::map::Marker {
        lat,
        lng,
        title: l.location.clone(),
        href: format!("/p/{code}/services/{id}"),
        class: "open",
    });
    // A bookable service leads to its booking (which asks to sign in).
    let mut links: Vec<(String, String)> = l
        .appointment_type_id
        .map(|t| (format!("/c/{code}/appointments/types/{t}"), ctx.t("directory.book")))
        .into_iter()
        .collect();
    // A partner unit's service offered in the points shop (which asks to sign in).
    if let Some(n) = points {
        cells.push((ctx.t("directory.for_points"), ctx.tr("directory.points_price", "n", n)));
        links.push((format!("/c/{code}/shop"), ctx.t("directory.redeem")));
    }
    let mut blocks = vec![
        Block::Card(l.name.clone(), None, cells, l.description.clone(), links),
        Block::Table(ctx.t("directory.week_ahead"), week_table(&ctx, &hours, &calendar, today)),
    ];
    if let Some(m) = marker {
        blocks.push(Block::Map(places::map::draw(&l.address, &[], &[m])));
    }
    let crumbs = vec![(format!("/p/{code}/services"), ctx.t("directory.title"))];
    render(&BlocksPage::new(ctx, l.name.clone(), crumbs, blocks, &Refusal::none()))
}
