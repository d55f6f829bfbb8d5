//! What everyone sees without signing in: a community's or a whole subdistrict's warm
//! stations, each with what it has and whether it is open now, nearest first from where
//! one stands, on the offline map; readable on a rider's phone.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::super::store::{self, Station};
use super::super::{LiveState, state_now};
use super::{amenities_text, state_tag};
use crate::capabilities::registry::places::map::{self, Marker, walk_minutes};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::hours::Hours;
use crate::web::ui::{self, Block, BlocksPage, Form, Input, InputKind, Refusal};
use crate::web::{AppState, Page, PageCtx, PageResult, render};

#[derive(Debug, Default, Deserialize)]
pub struct NearQuery {
    pub lat: Option<String>,
    pub lng: Option<String>,
    pub open_now: Option<String>,
}

/// Where the asker stands, if they said (each coordinate in range, else named), and
/// whether only open stations are wanted.
pub fn near_of(q: &NearQuery) -> Result<(Option<(f64, f64)>, bool), Vec<FieldError>> {
    let from = map::point_of(q.lat.as_deref(), q.lng.as_deref())?;
    Ok((from, matches!(q.open_now.as_deref(), Some("true" | "on" | "1"))))
}

/// A station as the public map lists it.
pub struct Shown<'a> {
    pub station: &'a Station,
    pub community: String,
    pub state: LiveState,
    pub minutes: Option<f64>,
    pub hours: Hours,
}

/// The stations to show: open (or full) ones only when asked, nearest first when the
/// asker says where they are, else open first.
pub fn shown<'a>(
    stations: &'a [(Station, String)],
    open: &HashMap<(i64, i64), (bool, Hours)>,
    from: Option<(f64, f64)>,
    open_now: bool,
) -> Vec<Shown<'a>> {
    let mut out: Vec<Shown<'a>> = stations
        .iter()
        .map(|(s, community)| Shown {
            station: s,
            community: community.clone(),
            state: state_now(open.get(&(s.community_id, s.id)).is_some_and(|o| o.0), s.set_today()),
            minutes: from.zip(s.lat.zip(s.lng)).map(|(a, b)| walk_minutes(a, b)),
            hours: open.get(&(s.community_id, s.id)).map(|o| o.1.clone()).unwrap_or_default(),
        })
        .filter(|x| !open_now || x.state != LiveState::Closed)
        .collect();
    let rank = |x: &Shown<'_>| match x.state {
        LiveState::Open => 0,
        LiveState::Full => 1,
        LiveState::Closed => 2,
    };
    out.sort_by(|a, b| {
        let far = |x: &Shown<'_>| x.minutes.unwrap_or(f64::INFINITY);
        far(a).total_cmp(&far(b)).then(rank(a).cmp(&rank(b))).then(a.station.id.cmp(&b.station.id))
    });
    out
}

fn near_form(ctx: &PageCtx, action: &str, q: &NearQuery) -> Form {
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    let open = if matches!(q.open_now.as_deref(), Some("true" | "on" | "1")) { "true" } else { "" };
    Form::new(ctx.t("warm.find"), action, ctx.t("warm.find"))
        .get()
        .input(Input::new("open_now", ctx.t("warm.open_now"), InputKind::Checkbox).value(open))
        .input(Input::hidden("lat", v(&q.lat)))
        .input(Input::hidden("lng", v(&q.lng)))
        .input(Input::new("locate", "", InputKind::Locate).value(ctx.t("directory.use_location")))
}

pub fn public_view(
    ctx: PageCtx,
    title: String,
    action: &str,
    q: &NearQuery,
    list: &[Shown<'_>],
    r: &Refusal,
) -> BlocksPage {
    // A card each: riders read the amenities and the way there at a glance.
    let cards: Vec<Block> = list
        .iter()
        .map(|x| {
            let s = x.station;
            let mut cells = vec![
                (ctx.t("warm.community"), x.community.clone()),
                (ctx.t("field.warm_station.address"), s.address.clone()),
                (ctx.t("directory.hours"), crate::services::hours::view::hours_text(&ctx, &x.hours)),
                (ctx.t("field.warm_station.amenities"), amenities_text(&ctx, s)),
            ];
            if let Some(m) = x.minutes {
                cells.insert(0, (ctx.t("directory.walk"), ctx.tr("directory.walk_minutes", "n", m.ceil() as i64)));
            }
            if let Some(p) = &s.phone {
                cells.push((ctx.t("field.warm_station.phone"), p.clone()));
            }
            Block::Card(s.name.clone(), Some(state_tag(&ctx, x.state)), cells, None, Vec::new())
        })
        .collect();
    let markers: Vec<Marker> = list
        .iter()
        .filter_map(|x| {
            Some(Marker {
                lat: x.station.lat?,
                lng: x.station.lng?,
                title: format!("{} · {}", x.station.name, ctx.t(&format!("warm.state.{}", x.state.as_str()))),
                href: action.to_string(),
                class: if x.state == LiveState::Closed { "closed" } else { "open" },
            })
        })
        .collect();
    let mut blocks = vec![
        Block::Card(title.clone(), None, Vec::new(), Some(ctx.t("warm.public_hint")), Vec::new()),
        Block::Form(near_form(&ctx, action, q).refused(r)),
        Block::List(
            ctx.tr("warm.found", "n", cards.len()),
            Vec::new(),
            if cards.is_empty() { ctx.t("warm.none_found") } else { String::new() },
        ),
    ];
    blocks.extend(cards);
    // One point alone is no map.
    if markers.len() > 1 {
        blocks.push(Block::Map(map::draw(&ctx.t("warm.map"), &[], &markers)));
    }
    BlocksPage::new(ctx, title, Vec::new(), blocks, r)
}

/// Whether each station is open by its hours now.
async fn open_by_hours(
    state: &AppState,
    stations: &[(Station, String)],
) -> AppResult<HashMap<(i64, i64), (bool, Hours)>> {
    let calendar = state.holidays.calendar(&state.db).await?;
    let now = crate::web::fmt::to_cst(crate::db::now_ms()).naive_local();
    let mut communities: Vec<i64> = stations.iter().map(|(s, _)| s.community_id).collect();
    communities.dedup();
    let mut out = HashMap::new();
    for c in communities {
        let mut hours: HashMap<i64, Hours> = store::hours_of(&mut state.db.read().await?, c, None).await?;
        for (s, _) in stations.iter().filter(|(s, _)| s.community_id == c) {
            let h = hours.remove(&s.id).unwrap_or_default();
            out.insert((c, s.id), (h.open_at(&calendar, now), h));
        }
    }
    Ok(out)
}

async fn answer(
    state: &AppState,
    ctx: PageCtx,
    title: String,
    action: String,
    q: NearQuery,
    stations: Vec<(Station, String)>,
) -> PageResult {
    let open = open_by_hours(state, &stations).await?;
    match near_of(&q) {
        Ok((from, open_now)) => {
            render(&public_view(ctx, title, &action, &q, &shown(&stations, &open, from, open_now), &Refusal::none()))
        }
        Err(e) => {
            let form = action.clone();
            let page = |ctx: PageCtx, r: Refusal| async move { render(&public_view(ctx, title, &action, &q, &[], &r)) };
            ui::refused(AppError::Invalid(e), ctx, &serde_json::Map::new(), &form, page).await
        }
    }
}

/// `GET /p/{code}/warm-stations`: a community's stations, for anyone.
pub async fn public_community(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    Query(q): Query<NearQuery>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let stations = store::stations(&mut state.db.read().await?, &[c.id]).await?;
    let stations = stations.into_iter().map(|s| (s, c.name.clone())).collect();
    let title = format!("{} · {}", c.name, ctx.t("warm.title"));
    answer(&state, ctx, title, format!("/p/{code}/warm-stations"), q, stations).await
}

/// `GET /p/subdistricts/{id}/warm-stations`: every station of a subdistrict, for anyone.
pub async fn public_subdistrict(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(id): Path<i64>,
    Query(q): Query<NearQuery>,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let name: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(id)
        .scalar_optional(&mut conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let communities: Vec<(i64, String)> =
        crate::db::query("SELECT id, name FROM communities WHERE subdistrict_id = $1")
            .bind(id)
            .fetch_all(&mut conn)
            .await?;
    drop(conn);
    let ids: Vec<i64> = communities.iter().map(|c| c.0).collect();
    let stations = store::stations(&mut state.db.read_over(&ids).await?, &ids).await?;
    let named = |c: i64| communities.iter().find(|x| x.0 == c).map(|x| x.1.clone()).unwrap_or_default();
    let stations = stations
        .into_iter()
        .map(|s| {
            let n = named(s.community_id);
            (s, n)
        })
        .collect();
    let title = format!("{name} · {}", ctx.t("warm.title"));
    answer(&state, ctx, title, format!("/p/subdistricts/{id}/warm-stations"), q, stations).await
}
