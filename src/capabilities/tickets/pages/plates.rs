//! Household plates 网格服务牌: their printable QR codes, and the form they open, where
//! anyone can report a problem without an account.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use super::submitting::{new_form, new_ticket};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::tickets::Channel;
use crate::capabilities::tickets::store;
use crate::db::query;
use crate::error::{AppError, FieldError};
use crate::web::AppState;
use crate::web::ui::Qr;
use crate::web::{Page, PageCtx, PageResult, SignedPage, render};

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
