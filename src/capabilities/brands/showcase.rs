//! A subdistrict's pages of brands: its communities' brands side by side, each with its
//! figures (seed 004's "showcase and incubation" of cases), the subdistrict's own brands
//! with the form to make one over some of them, a subdistrict brand's page where they
//! change it, and its public page with its logo.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value};

use super::joint::{self, Joint};
use super::pages::{draft_inputs, draft_of, kpis};
use super::{FIGURES, store};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::services::media;
use crate::web::dictionary::{self, FigureDef, Values};
use crate::web::form::{CsrfMultipart, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Item, Photo, Refusal, Table};
use crate::web::{AppState, Notice, Page, PageCtx, PageResult, SignedPage, done, render};

/// A community's brand on the showcase with its figures.
pub struct Shown {
    pub community: CommunityRef,
    pub brand: store::Brand,
    pub values: Values,
}

/// A community's brand as the form offers it to choose.
fn choice(c: &CommunityRef, b: &store::Brand) -> (String, String) {
    (joint::member_key(c.id, b.id), format!("{} · {}", c.name, b.name))
}

/// The form that makes a subdistrict brand, or changes `j` (its members' keys checked).
fn joint_form(
    ctx: &PageCtx,
    id: i64,
    choices: Vec<(String, String)>,
    j: Option<(&Joint, Vec<String>)>,
    r: &Refusal,
) -> Form {
    let (title, action, submit) = match &j {
        Some((j, _)) => (ctx.t("brands.edit"), format!("/subdistricts/{id}/brands/{}", j.id), ctx.t("brands.save")),
        None => (ctx.t("brands.joint_new"), format!("/subdistricts/{id}/brands"), ctx.t("brands.joint_new")),
    };
    let shown = j.as_ref().map(|(j, _)| (j.name.as_str(), j.story.as_str(), j.people.as_str())).unwrap_or_default();
    draft_inputs(ctx, Form::new(title, action, submit), shown)
        .input(
            Input::new("members", ctx.t("brands.members"), InputKind::Many(choices))
                .values(j.map(|(_, keys)| keys).unwrap_or_default())
                .hint(ctx.t("brands.members_hint"))
                .required(),
        )
        .input(Input::new("photos", ctx.t("brands.logo"), InputKind::File))
        .folded()
        .refused(r)
}

/// Brands side by side: each leads to its public page, with its community and the
/// dictionary's figures a brand shows.
fn brands_table(ctx: &PageCtx, all: &[(&'static str, &'static FigureDef)], brands: &[Shown]) -> Table {
    let shown: Vec<&FigureDef> = all.iter().filter(|(_, f)| FIGURES.contains(&f.code)).map(|(_, f)| *f).collect();
    let mut head = vec![ctx.t("brands.name"), ctx.t("dashboard.community")];
    head.extend(shown.iter().map(|f| dictionary::heading(ctx, f)));
    let rows = brands
        .iter()
        .map(|s| {
            let mut row = vec![
                Cell::link(s.brand.name.clone(), format!("/p/{}/brands/{}", s.community.code, s.brand.id)),
                Cell::text(s.community.name.clone()),
            ];
            row.extend(shown.iter().map(|f| Cell::text(f.show(s.values.get(f.code).copied().unwrap_or_default()))));
            row
        })
        .collect();
    Table { head, rows, empty: ctx.t("brands.none"), sort: Vec::new() }
}

pub fn showcase_view(
    ctx: PageCtx,
    (id, name): (i64, &str),
    (all, brands): (&[(&'static str, &'static FigureDef)], &[Shown]),
    joints: &[Joint],
    r: &Refusal,
) -> BlocksPage {
    let table = brands_table(&ctx, all, brands);
    let own = joints
        .iter()
        .map(|j| {
            Item::link(
                j.name.clone(),
                j.story.chars().take(60).collect::<String>(),
                format!("/subdistricts/{id}/brands/{}", j.id),
            )
        })
        .collect();
    let blocks = vec![
        Block::List(ctx.t("brands.joint"), own, ctx.t("brands.joint_none")),
        Block::Form(joint_form(&ctx, id, brands.iter().map(|s| choice(&s.community, &s.brand)).collect(), None, r)),
        Block::Table(ctx.t("brands.showcase_hint"), table),
    ];
    BlocksPage::new(ctx.clone(), format!("{name} · {}", ctx.t("brands.showcase")), Vec::new(), blocks, r)
}

/// A subdistrict brand's page: its logo, story and people, its figures (its members'
/// added up) and each member with its own; for its administrators, the link to the public
/// page and the form that changes it.
pub fn joint_view(
    ctx: PageCtx,
    (sub, j): (&str, &Joint),
    figures: &[(&'static str, &'static FigureDef)],
    (members, total): (&[Shown], &Values),
    (manage, r): (Option<Form>, &Refusal),
) -> BlocksPage {
    let mut blocks = Vec::new();
    let public = format!("/p/subdistricts/{}/brands/{}", j.subdistrict_id, j.id);
    if manage.is_some() {
        let link = vec![(public.clone(), ctx.t("brands.public_page"))];
        blocks.push(Block::Card(
            ctx.t("brands.public_page"),
            None,
            Vec::new(),
            Some(ctx.t("brands.figures_hint")),
            link,
        ));
    }
    if let Some(at) = j.logo_at {
        let logo = format!("{public}/logo?v={at}");
        blocks.push(Block::Photos(ctx.t("brands.logo"), vec![Photo { href: logo.clone(), thumb: logo }]));
    }
    blocks.push(Block::Card(j.name.clone(), None, Vec::new(), Some(j.story.clone()), Vec::new()));
    if !j.people.is_empty() {
        blocks.push(Block::Card(ctx.t("brands.people"), None, Vec::new(), Some(j.people.clone()), Vec::new()));
    }
    blocks.push(Block::Kpis(kpis(&ctx, figures, total)));
    blocks.push(Block::Table(ctx.t("brands.members"), brands_table(&ctx, figures, members)));
    let mut crumbs = Vec::new();
    if let Some(form) = manage {
        blocks.push(Block::Form(form));
        crumbs.push((format!("/subdistricts/{}/brands", j.subdistrict_id), ctx.t("brands.showcase")));
    }
    BlocksPage::new(ctx.clone(), format!("{sub} · {}", j.name), crumbs, blocks, r)
}

/// The brands of some communities, community by community.
async fn brands_of(state: &AppState, cs: Vec<CommunityRef>) -> AppResult<Vec<(CommunityRef, store::Brand)>> {
    let mut out = Vec::new();
    for c in cs {
        let brands = store::list(&mut state.db.read().await?, c.id).await?;
        out.extend(brands.into_iter().map(|b| (c.clone(), b)));
    }
    Ok(out)
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, id: i64, r: &Refusal) -> PageResult {
    let (name, cs) = guard::subdistrict_community_refs(&state.db, actor, id).await?;
    let mut brands = Vec::new();
    for (community, brand) in brands_of(state, cs).await? {
        let values = store::figures_of(state, &community, &brand).await?;
        brands.push(Shown { community, brand, values });
    }
    let joints = joint::list(&mut state.db.read().await?, id).await?;
    render(&showcase_view(ctx, (id, &name), (&dictionary::all(state), &brands), &joints, r))
}

/// `GET /subdistricts/{id}/brands`: its administrators.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    show(&state, ctx, &actor, id, &Refusal::none()).await
}

fn asked(m: &Map<String, Value>) -> (super::Draft, Vec<String>) {
    let f = Fields::new(m);
    (draft_of(&f), f.list("members"))
}

/// `POST /subdistricts/{id}/brands`: its administrators make a brand of some of its
/// communities' brands, with its logo.
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    form: CsrfMultipart,
) -> PageResult {
    let result = async {
        let (d, members) = asked(&form.fields);
        let logo = media::check_uploads(&form.files)?;
        joint::create(&state, &actor, id, (&d, &members), &logo).await
    }
    .await;
    match result {
        Ok(b) => Ok(done(&format!("/subdistricts/{id}/brands/{b}"), Notice::Created)),
        Err(e) => {
            let action = format!("/subdistricts/{id}/brands");
            ui::refused(e, ctx, &form.fields, &action, |ctx, r| async move { show(&state, ctx, &actor, id, &r).await })
                .await
        }
    }
}

/// A subdistrict brand and its members with their figures.
async fn joint_parts(state: &AppState, id: i64, brand: i64) -> AppResult<(Joint, Vec<Shown>, Values)> {
    let mut conn = state.db.read().await?;
    let j = joint::get(&mut conn, id, brand).await?;
    let members = joint::members(&mut conn, &j).await?;
    drop(conn);
    let (each, total) = joint::figures(state, &members).await?;
    let shown = members
        .into_iter()
        .zip(each)
        .map(|(m, values)| Shown { community: m.community, brand: m.brand, values })
        .collect();
    Ok((j, shown, total))
}

async fn show_joint(state: &AppState, ctx: PageCtx, actor: &Actor, (id, brand): (i64, i64), r: &Refusal) -> PageResult {
    let (sub, cs) = guard::subdistrict_community_refs(&state.db, actor, id).await?;
    let (j, members, total) = joint_parts(state, id, brand).await?;
    let choices = brands_of(state, cs).await?.iter().map(|(c, b)| choice(c, b)).collect();
    let keys = members.iter().map(|m| joint::member_key(m.community.id, m.brand.id)).collect();
    let form = joint_form(&ctx, id, choices, Some((&j, keys)), r);
    render(&joint_view(ctx, (&sub, &j), &dictionary::all(state), (&members, &total), (Some(form), r)))
}

/// `GET /subdistricts/{id}/brands/{brand}`: its administrators see it and change it.
pub async fn joint_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((id, brand)): Path<(i64, i64)>,
) -> PageResult {
    show_joint(&state, ctx, &actor, (id, brand), &Refusal::none()).await
}

/// `POST /subdistricts/{id}/brands/{brand}`: its administrators change it.
pub async fn joint_edit(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((id, brand)): Path<(i64, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let result = async {
        let (d, members) = asked(&form.fields);
        let logo = media::check_uploads(&form.files)?;
        joint::update(&state, &actor, (id, brand), (&d, &members), &logo).await
    }
    .await;
    let action = format!("/subdistricts/{id}/brands/{brand}");
    match result {
        Ok(()) => Ok(done(&action, Notice::Saved)),
        Err(e) => {
            ui::refused(e, ctx, &form.fields, &action, |ctx, r| async move {
                show_joint(&state, ctx, &actor, (id, brand), &r).await
            })
            .await
        }
    }
}

/// `GET /p/subdistricts/{id}/brands/{brand}`: anyone, no sign-in.
pub async fn public(State(state): State<AppState>, Page(ctx): Page, Path((id, brand)): Path<(i64, i64)>) -> PageResult {
    let sub = guard::subdistrict_name(&mut state.db.read().await?, id).await?;
    let (j, members, total) = joint_parts(&state, id, brand).await?;
    render(&joint_view(ctx, (&sub, &j), &dictionary::all(&state), (&members, &total), (None, &Refusal::none())))
}

/// `GET /p/subdistricts/{id}/brands/{brand}/logo`: its logo, a JPEG; its address changes
/// with it (`?v=`), so it may be kept a day.
pub async fn logo(State(state): State<AppState>, Path((id, brand)): Path<(i64, i64)>) -> PageResult {
    let jpeg = joint::logo(&mut state.db.read().await?, id, brand).await?.ok_or(AppError::NotFound)?;
    let headers = [
        (header::CONTENT_TYPE, "image/jpeg"),
        (header::CACHE_CONTROL, "public, max-age=86400"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, jpeg).into_response())
}
