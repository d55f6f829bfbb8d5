//! Pages of the directory: staff's desk (listings by need and freshness, the stale ones
//! to check), a listing's page where staff set its hours and verify it, and the public
//! pages (`public`).

mod public;

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::store::{self, Which};
use super::{Listing, NEEDS, is_fresh};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::services::hours::view::{self, Edit};
use crate::services::hours::{Calendar, Hours};
use crate::web::capability::{NavEntry, Whereabouts};
use crate::web::form::CsrfForm;
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Item, Kpi, Refusal, Table, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

pub use public::{AskQuery, ask_of, now_local, public, public_listing, search};

pub fn nav(actor: &Actor, w: &Whereabouts<'_>) -> Vec<NavEntry> {
    match w.community {
        Some(c) if actor.can(c.id, Permission::ManageServices) => vec![NavEntry {
            order: 45,
            href: format!("/c/{}/directory", c.code),
            label_key: "directory.title",
            icon: "map",
        }],
        _ => Vec::new(),
    }
}

/// A listing's facts, as the public and staff read them (who verified it by name for
/// staff only; the public reads that the community did).
pub fn listing_cells(ctx: &PageCtx, l: &Listing, public: bool) -> Vec<(String, String)> {
    let mut cells = vec![
        (ctx.t("field.listing.provider_id"), l.provider.clone()),
        (ctx.t("field.listing.need"), ctx.t(&format!("choice.listing.need.{}", l.need))),
        (ctx.t("field.listing.price"), {
            let price = ctx.t(&format!("choice.listing.price.{}", l.price));
            match &l.price_note {
                Some(n) => format!("{price}（{n}）"),
                None => price,
            }
        }),
        (ctx.t("field.service_location.address"), format!("{} · {}", l.location, l.address)),
    ];
    for (key, v) in [
        ("field.listing.eligibility", &l.eligibility),
        ("field.listing.bring", &l.bring),
        ("field.listing.languages", &l.languages),
        ("field.provider.phone", &l.phone),
    ] {
        if let Some(v) = v {
            cells.push((ctx.t(key), v.clone()));
        }
    }
    let verified = match (l.verified_at, &l.verified_by) {
        (Some(at), _) if public => format!("{} · {}", fmt::datetime(at), ctx.t("directory.verified_by_community")),
        (Some(at), Some(by)) => format!("{} · {by}", fmt::datetime(at)),
        (Some(at), None) => fmt::datetime(at),
        (None, _) => ctx.tr("directory.entered_on", "date", fmt::datetime(l.created_at)),
    };
    cells.push((ctx.t("directory.verified"), verified));
    cells
}

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    let c = crate::auth::guard::visible_community(&state.db, actor, code).await?;
    require(actor, c.id, Permission::ManageServices)?;
    Ok(c)
}

pub struct DeskData {
    pub listings: Vec<Listing>,
    pub stale: Vec<Listing>,
    pub counts: Vec<(String, i64, i64)>,
}

pub fn desk_view(ctx: PageCtx, c: &CommunityRef, d: &DeskData) -> BlocksPage {
    let code = &c.code;
    let fresh: i64 = d.counts.iter().map(|r| r.2).sum();
    let kpis = vec![
        Kpi { label: ctx.t("directory.listings"), value: d.listings.len().to_string(), ..Kpi::default() },
        Kpi { label: ctx.t("directory.fresh"), value: fresh.to_string(), tone: Tone::Green, ..Kpi::default() },
        Kpi {
            label: ctx.t("directory.stale"),
            value: d.stale.len().to_string(),
            tone: if d.stale.is_empty() { Tone::Grey } else { Tone::Orange },
            ..Kpi::default()
        },
    ];
    let item =
        |l: &Listing| Item::link(l.name.clone(), l.provider.clone(), format!("/c/{code}/directory/listings/{}", l.id));
    let by_need = Table {
        head: vec![ctx.t("field.listing.need"), ctx.t("directory.listings"), ctx.t("directory.fresh")],
        rows: NEEDS
            .iter()
            .filter_map(|n| d.counts.iter().find(|r| r.0 == *n))
            .map(|(n, all, fresh)| {
                vec![
                    Cell::text(ctx.t(&format!("choice.listing.need.{n}"))),
                    Cell::text(all.to_string()),
                    Cell::text(fresh.to_string()),
                ]
            })
            .collect(),
        empty: ctx.t("directory.none"),
        sort: Vec::new(),
    };
    let links = vec![
        (format!("/c/{code}/providers"), ctx.t("directory.providers")),
        (format!("/c/{code}/service-locations"), ctx.t("directory.locations")),
        (format!("/c/{code}/listings/new"), ctx.t("directory.add_listing")),
        (format!("/p/{code}/services"), ctx.t("directory.public_page")),
        (format!("/c/{code}/directory/stats"), ctx.t("directory.stats")),
    ];
    let blocks = vec![
        Block::Card(ctx.t("directory.title"), None, Vec::new(), Some(ctx.t("directory.desk_hint")), links),
        Block::Kpis(kpis),
        Block::List(ctx.t("directory.to_verify"), d.stale.iter().map(item).collect(), ctx.t("directory.none_stale")),
        Block::Table(ctx.t("directory.by_need"), by_need),
        Block::List(ctx.t("directory.listings"), d.listings.iter().map(item).collect(), ctx.t("directory.none")),
    ];
    let title = format!("{} · {}", c.name, ctx.t("directory.title"));
    BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none())
}

/// `GET /c/{code}/directory`: staff's desk.
pub async fn staff(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let now = crate::db::now_ms();
    let mut conn = state.db.read().await?;
    let d = DeskData {
        listings: store::listings(&mut conn, c.id, Which::Current, now, Default::default()).await?,
        stale: store::listings(&mut conn, c.id, Which::Stale, now, Default::default()).await?,
        counts: store::counts(&mut conn, c.id, now).await?,
    };
    render(&desk_view(ctx, &c, &d))
}

pub fn listing_view(
    ctx: PageCtx,
    c: &CommunityRef,
    l: &Listing,
    h: &Hours,
    calendar: &Calendar,
    r: &Refusal,
) -> BlocksPage {
    let code = &c.code;
    let now = crate::db::now_ms();
    let fresh = is_fresh(l.verified_at, l.created_at, now);
    let tag = if fresh {
        ui::Tag::new(ctx.t("directory.fresh"), Tone::Green)
    } else {
        ui::Tag::new(ctx.t("directory.stale"), Tone::Orange)
    };
    let mut links = vec![(format!("/c/{code}/listings/{}", l.id), ctx.t("directory.edit_listing"))];
    if fresh {
        links.push((format!("/p/{code}/services/{}", l.id), ctx.t("directory.public_page")));
    }
    if let Some(reward) = l.reward_id {
        links.push((format!("/c/{code}/rewards/{reward}"), ctx.t("field.listing.reward_id")));
    }
    let rules: Vec<Item> = h
        .rules
        .iter()
        .map(|x| Item { title: view::rule_text(&ctx, x), sub: String::new(), href: None, tag: None })
        .collect();
    let exceptions: Vec<Item> = h
        .exceptions
        .iter()
        .map(|x| Item {
            title: x.day.to_string(),
            sub: [x.span.map(|s| view::spans_text(&[s])).unwrap_or_else(|| ctx.t("hours.closed")), x.note.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            href: None,
            tag: None,
        })
        .collect();
    let verify = Form::new(
        ctx.t("directory.verify"),
        format!("/c/{code}/directory/listings/{}/verify", l.id),
        ctx.t("directory.verify"),
    )
    .confirm(ctx.t("directory.verify_confirm"))
    .refused(r);
    let mut blocks = vec![
        Block::Card(l.name.clone(), Some(tag), listing_cells(&ctx, l, false), l.description.clone(), links),
        Block::Form(verify),
        Block::Table(ctx.t("directory.week_ahead"), view::week_table(&ctx, h, calendar, fmt::today())),
        Block::List(ctx.t("hours.rules"), rules, ctx.t("directory.no_hours")),
        Block::List(ctx.t("hours.exceptions"), exceptions, ctx.t("hours.no_exceptions")),
    ];
    blocks.extend(
        view::hours_forms(&ctx, &format!("/c/{code}/directory/listings/{}", l.id), r).into_iter().map(Block::Form),
    );
    let crumbs = vec![(format!("/c/{code}/directory"), ctx.t("directory.title"))];
    BlocksPage::new(ctx, l.name.clone(), crumbs, blocks, r)
}

async fn show_listing(state: &AppState, ctx: PageCtx, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let mut conn = state.db.read().await?;
    let l = store::listing(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let h = store::hours_of(&mut conn, c.id, Some(&[id])).await?.remove(&id).unwrap_or_default();
    drop(conn);
    let calendar = state.holidays.calendar(&state.db).await?;
    render(&listing_view(ctx, c, &l, &h, &calendar, r))
}

/// `GET /c/{code}/directory/listings/{id}`: a listing with its hours, for staff.
pub async fn listing(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_listing(&state, ctx, &c, id, &Refusal::none()).await
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    c: CommunityRef,
    id: i64,
    action: &str,
    m: &Map<String, Value>,
    result: AppResult<()>,
) -> PageResult {
    match result {
        Ok(()) => Ok(done(&format!("/c/{}/directory/listings/{id}", c.code), Notice::Saved)),
        Err(e) => {
            ui::refused(e, ctx, m, action, |ctx, r| async move { show_listing(state, ctx, &c, id, &r).await }).await
        }
    }
}

/// One of the hours forms of a listing, for staff.
async fn edit_hours(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    code: String,
    id: i64,
    m: Map<String, Value>,
    edit: Edit,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match edit.read(&m) {
        Ok(change) => store::change_hours(&state, &actor, &c, id, change).await,
        Err(e) => Err(e),
    };
    after(&state, ctx, c, id, &format!("/c/{code}/directory/listings/{id}/{}", edit.path()), &m, result).await
}

/// `POST /c/{code}/directory/listings/{id}/hours`: staff add a weekly rule.
pub async fn add_rule(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Rule).await
}

/// `POST /c/{code}/directory/listings/{id}/exceptions`: staff add a day's exception.
pub async fn add_exception(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Exception).await
}

/// `POST /c/{code}/directory/listings/{id}/hours/clear`: staff clear the hours to set them anew.
pub async fn clear_hours(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    edit_hours(state, ctx, actor, code, id, m, Edit::Clear).await
}

/// `POST /c/{code}/directory/listings/{id}/verify`: staff confirm the listing is still true.
pub async fn verify(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = store::verify(&state, &actor, &c, id).await;
    after(&state, ctx, c, id, &format!("/c/{code}/directory/listings/{id}/verify"), &m, result).await
}
