//! The pages of shelters: the list with free places (staff add one), and a shelter's page
//! where people are checked in — from a household's welfare check or by name — and out.

use axum::extract::{Path, Query, State};
use serde_json::{Map, Value};

use super::super::shelters::{self, CheckIn, NewShelter, Shelter, Stay};
use super::super::store;
use super::{community, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Form, Input, InputKind, Item, Refusal, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// `?check=`: the household being moved, from its welfare check.
#[derive(Debug, Default, serde::Deserialize)]
pub struct MoveQuery {
    pub check: Option<i64>,
}

fn room_tag(ctx: &PageCtx, s: &Shelter) -> Tag {
    if s.free() == 0 {
        Tag::new(ctx.t("emergency.shelter_is_full"), Tone::Red)
    } else {
        Tag::new(ctx.tr("emergency.free_n", "n", s.free()), Tone::Green)
    }
}

fn add_form(ctx: &PageCtx, code: &str, r: &Refusal) -> Form {
    Form::new(ctx.t("emergency.add_shelter"), format!("/c/{code}/shelters"), ctx.t("common.save"))
        .input(Input::new("name", ctx.t("emergency.shelter_name"), InputKind::Text).required())
        .input(Input::new("address", ctx.t("emergency.address"), InputKind::Text).required())
        .input(Input::new("capacity", ctx.t("emergency.capacity"), InputKind::Number).required())
        .input(Input::new("lat", ctx.t("emergency.lat"), InputKind::Text))
        .input(Input::new("lng", ctx.t("emergency.lng"), InputKind::Text))
        .input(Input::new("locate", "", InputKind::Locate).value(ctx.t("emergency.use_location")))
        .folded()
        .refused(r)
}

pub fn list_view(
    ctx: PageCtx,
    c: &CommunityRef,
    all: &[Shelter],
    moving: Option<&store::Check>,
    staff: bool,
    r: &Refusal,
) -> BlocksPage {
    let code = &c.code;
    let then = moving.map(|w| format!("?check={}", w.id)).unwrap_or_default();
    let items = all
        .iter()
        .map(|s| Item {
            title: s.name.clone(),
            sub: format!(
                "{} · {}",
                s.address,
                ctx.tr("emergency.in_of", "n", format!("{}/{}", s.occupied, s.capacity))
            ),
            href: Some(format!("/c/{code}/shelters/{}{then}", s.id)),
            tag: Some(room_tag(&ctx, s)),
        })
        .collect();
    let mut blocks = Vec::new();
    if let Some(w) = moving {
        let hint = ctx.t("emergency.choose_shelter");
        blocks.push(Block::Card(w.address.clone(), None, Vec::new(), Some(hint), Vec::new()));
    }
    blocks.push(Block::List(ctx.t("emergency.shelters"), items, ctx.t("emergency.no_shelters")));
    if staff {
        blocks.push(Block::Form(add_form(&ctx, code, r)));
    }
    let crumbs = vec![(format!("/c/{code}/incidents"), ctx.t("emergency.title"))];
    BlocksPage::new(ctx.clone(), ctx.t("emergency.shelters"), crumbs, blocks, r)
}

async fn moving(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    check: Option<i64>,
) -> AppResult<Option<store::Check>> {
    Ok(match check {
        Some(id) => Some(store::check(&mut state.db.read().await?, actor, c.id, id).await?),
        None => None,
    })
}

async fn show_list(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    check: Option<i64>,
    r: &Refusal,
) -> PageResult {
    let all = shelters::shelters(&mut state.db.read().await?, c.id).await?;
    let w = moving(state, actor, c, check).await?;
    render(&list_view(ctx, c, &all, w.as_ref(), staff(actor, c), r))
}

/// `GET /c/{code}/shelters[?check=]`: staff and grid workers.
pub async fn list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<MoveQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_list(&state, ctx, &actor, &c, q.check, &Refusal::none()).await
}

fn new_shelter(m: &Map<String, Value>) -> Result<NewShelter, AppError> {
    let mut f = Fields::new(m);
    let capacity = f.int("capacity");
    let (lat, lng) = (f.number("lat"), f.number("lng"));
    f.checked()?;
    let capacity = capacity.ok_or_else(|| AppError::field("capacity", "validation.required"))?;
    Ok(NewShelter { name: f.text("name"), address: f.text("address"), lat, lng, capacity })
}

/// `POST /c/{code}/shelters`: staff add a shelter.
pub async fn add(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match new_shelter(&m) {
        Ok(n) => shelters::add(&state, &actor, &c, &n).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(done(&format!("/c/{code}/shelters/{id}"), Notice::Created)),
        Err(e) => {
            let action = format!("/c/{code}/shelters");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_list(&state, ctx, &actor, &c, None, &r).await })
                .await
        }
    }
}

fn check_in_form(ctx: &PageCtx, code: &str, s: &Shelter, moving: Option<&store::Check>, r: &Refusal) -> Form {
    let f = Form::new(
        ctx.t("emergency.check_in"),
        format!("/c/{code}/shelters/{}/stays", s.id),
        ctx.t("emergency.check_in"),
    );
    let f = match moving {
        Some(w) => f.input(Input::hidden("check_id", w.id)),
        None => f.input(Input::new("name", ctx.t("emergency.who"), InputKind::Text).required()),
    };
    f.input(Input::new("people", ctx.t("emergency.people"), InputKind::Number).required().value(1))
        .input(Input::new("note", ctx.t("emergency.note"), InputKind::Text))
        .refused(r)
}

fn stay_form(ctx: &PageCtx, code: &str, s: &Stay) -> Form {
    let title =
        format!("{} · {} · {}", s.name, ctx.tr("emergency.people_n", "n", s.people), fmt::datetime(s.checked_in_at));
    Form::new(title, format!("/c/{code}/shelter-stays/{}/out", s.id), ctx.t("emergency.check_out")).confirm(ctx.tr(
        "emergency.check_out_confirm",
        "name",
        &s.name,
    ))
}

pub fn shelter_view(
    ctx: PageCtx,
    c: &CommunityRef,
    s: &Shelter,
    stays: &[Stay],
    moving: Option<&store::Check>,
    r: &Refusal,
) -> BlocksPage {
    let code = &c.code;
    let cells = vec![
        (ctx.t("emergency.address"), s.address.clone()),
        (ctx.t("emergency.capacity"), s.capacity.to_string()),
        (ctx.t("emergency.occupied"), s.occupied.to_string()),
        (ctx.t("emergency.free"), s.free().to_string()),
    ];
    let mut blocks = vec![Block::Card(s.name.clone(), Some(room_tag(&ctx, s)), cells, None, Vec::new())];
    if let Some(w) = moving {
        blocks.push(Block::Card(w.address.clone(), None, Vec::new(), Some(ctx.t("emergency.moving_hint")), Vec::new()));
    }
    blocks.push(Block::Form(check_in_form(&ctx, code, s, moving, r)));
    if stays.is_empty() {
        blocks.push(Block::List(ctx.t("emergency.in_shelter"), Vec::new(), ctx.t("emergency.nobody_in")));
    }
    blocks.extend(stays.iter().map(|st| Block::Form(stay_form(&ctx, code, st))));
    let crumbs = vec![
        (format!("/c/{code}/incidents"), ctx.t("emergency.title")),
        (format!("/c/{code}/shelters"), ctx.t("emergency.shelters")),
    ];
    BlocksPage::new(ctx, s.name.clone(), crumbs, blocks, r)
}

async fn show_shelter(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    (id, check): (i64, Option<i64>),
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let s = shelters::shelter(&mut conn, c.id, id).await?;
    let stays = shelters::stays(&mut conn, c.id, id).await?;
    drop(conn);
    let w = moving(state, actor, c, check).await?;
    render(&shelter_view(ctx, c, &s, &stays, w.as_ref(), r))
}

/// `GET /c/{code}/shelters/{id}[?check=]`: who is in, and the check-in.
pub async fn shelter(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<MoveQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_shelter(&state, ctx, &actor, &c, (id, q.check), &Refusal::none()).await
}

fn check_in_of(m: &Map<String, Value>) -> Result<CheckIn, AppError> {
    let mut f = Fields::new(m);
    let check_id = f.id("check_id");
    let people = f.int("people");
    f.checked()?;
    let people = people.ok_or_else(|| AppError::field("people", "validation.required"))?;
    Ok(CheckIn { check_id, name: f.text("name"), people, note: f.opt("note") })
}

/// `POST /c/{code}/shelters/{id}/stays`: people checked in (a full shelter refused, naming
/// the nearest with room); from a check, back to the household's check.
pub async fn check_in(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let input = check_in_of(&m);
    let check = input.as_ref().ok().and_then(|n| n.check_id);
    let result = match input {
        Ok(n) => shelters::check_in(&state, &actor, &c, id, &n).await,
        Err(e) => Err(e),
    };
    match (result, check) {
        (Ok(_), Some(w)) => Ok(done(&format!("/c/{code}/welfare-checks/{w}"), Notice::Saved)),
        (Ok(_), None) => Ok(done(&format!("/c/{code}/shelters/{id}"), Notice::Saved)),
        (Err(e), _) => {
            let action = format!("/c/{code}/shelters/{id}/stays");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                show_shelter(&state, ctx, &actor, &c, (id, check), &r).await
            })
            .await
        }
    }
}

/// `POST /c/{code}/shelter-stays/{id}/out`: people leave; their places are free again.
pub async fn check_out(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let shelter = shelters::check_out(&state, &actor, &c, id).await?;
    Ok(done(&format!("/c/{code}/shelters/{shelter}"), Notice::Saved))
}
