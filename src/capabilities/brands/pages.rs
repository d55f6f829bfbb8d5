//! Brands' pages: a community's brands (staff add one), a brand's page (staff edit it and
//! tag what belongs to it), its public page, its logo, and a subdistrict's showcase of its
//! communities' brands. Views take plain data; handlers read it.

use axum::extract::{Path, State};

use super::store::{self, Brand, Gathered, Line};
use super::{Draft, FIGURES};
use crate::auth::guard::{CommunityRef, public_community, visible_community};
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::services::media::{self, Media};
use crate::web::dictionary::{self, Values};
use crate::web::form::{CsrfForm, CsrfMultipart, Fields};
use crate::web::ui::{self, Block, BlocksPage, Form, Input, InputKind, Item, Kpi, Photo, Refusal};
use crate::web::{AppState, Notice as Saved, Page, PageCtx, PageResult, SignedPage, done, render};

fn brand_form(ctx: &PageCtx, action: String, b: Option<&Brand>, r: &Refusal) -> Form {
    let (title, submit) = match b {
        Some(_) => (ctx.t("brands.edit"), ctx.t("brands.save")),
        None => (ctx.t("brands.new"), ctx.t("brands.new")),
    };
    let shown = b.map(|b| (b.name.as_str(), b.story.as_str(), b.people.as_str())).unwrap_or_default();
    let form = draft_inputs(ctx, Form::new(title, action, submit), shown).input(Input::new(
        "photos",
        ctx.t("brands.logo"),
        InputKind::File,
    ));
    if b.is_some() { form.folded().refused(r) } else { form.refused(r) }
}

/// A brand's name, story and people in its form (a community's or a subdistrict's),
/// filled in with what it has.
pub(super) fn draft_inputs(ctx: &PageCtx, form: Form, (name, story, people): (&str, &str, &str)) -> Form {
    form.input(Input::new("name", ctx.t("brands.name"), InputKind::Text).value(name).required())
        .input(Input::new("story", ctx.t("brands.story"), InputKind::TextArea).value(story).required())
        .input(
            Input::new("people", ctx.t("brands.people"), InputKind::TextArea)
                .value(people)
                .hint(ctx.t("brands.people_hint")),
        )
}

pub fn list_view(ctx: PageCtx, c: &CommunityRef, brands: &[Brand], manages: bool, r: &Refusal) -> BlocksPage {
    let items = brands
        .iter()
        .map(|b| {
            Item::link(
                b.name.clone(),
                b.story.chars().take(60).collect::<String>(),
                format!("/c/{}/brands/{}", c.code, b.id),
            )
        })
        .collect();
    let mut blocks = vec![Block::List(ctx.t("brands.title"), items, ctx.t("brands.none"))];
    if manages {
        blocks.push(Block::Form(brand_form(&ctx, format!("/c/{}/brands", c.code), None, r)));
    }
    BlocksPage::new(ctx.clone(), format!("{} · {}", c.name, ctx.t("brands.title")), Vec::new(), blocks, r)
}

/// The brand's figures, as the dictionary writes them.
pub(super) fn kpis(ctx: &PageCtx, all: &[(&'static str, &'static dictionary::FigureDef)], v: &Values) -> Vec<Kpi> {
    all.iter()
        .filter(|(_, f)| FIGURES.contains(&f.code))
        .map(|(_, f)| dictionary::kpi(ctx, f, v.get(f.code).copied().unwrap_or_default()))
        .collect()
}

fn lines(title: String, lines: &[Line], empty: String, linked: bool) -> Block {
    let items = lines
        .iter()
        .map(|l| Item {
            title: l.title.clone(),
            sub: l.detail.clone(),
            href: linked.then(|| l.href.clone()),
            tag: None,
        })
        .collect();
    Block::List(title, items, empty)
}

/// What a brand's page shows, to staff (`public` false) or to anyone.
pub struct Shown<'a> {
    pub c: &'a CommunityRef,
    pub brand: &'a Brand,
    pub gathered: &'a Gathered,
    pub figures: Vec<Kpi>,
    pub logo: Option<Photo>,
}

fn brand_blocks(ctx: &PageCtx, s: &Shown<'_>, public: bool) -> Vec<Block> {
    let g = s.gathered;
    let none = ctx.t("brands.nothing_yet");
    let mut blocks = Vec::new();
    if let Some(logo) = &s.logo {
        blocks.push(Block::Photos(ctx.t("brands.logo"), vec![logo.clone()]));
    }
    let people = (!s.brand.people.is_empty()).then(|| s.brand.people.clone());
    blocks.push(Block::Card(s.brand.name.clone(), None, Vec::new(), Some(s.brand.story.clone()), Vec::new()));
    if let Some(p) = people {
        blocks.push(Block::Card(ctx.t("brands.people"), None, Vec::new(), Some(p), Vec::new()));
    }
    blocks.push(Block::Kpis(s.figures.clone()));
    // The public sees what the brand is made of, never residents' requests themselves.
    blocks.push(lines(ctx.t("brands.teams"), &g.teams, none.clone(), !public));
    blocks.push(lines(ctx.t("brands.events"), &g.events, none.clone(), !public));
    blocks.push(lines(ctx.t("brands.needs"), &g.needs, none.clone(), !public));
    blocks.push(lines(ctx.t("brands.projects"), &g.projects, none.clone(), !public));
    if !public {
        blocks.push(lines(ctx.t("brands.tickets"), &g.tickets, none, true));
    }
    blocks
}

pub fn page_view(ctx: PageCtx, s: &Shown<'_>, manages: bool, r: &Refusal) -> BlocksPage {
    let (code, id) = (&s.c.code, s.brand.id);
    let mut blocks = vec![Block::Card(
        ctx.t("brands.public_page"),
        None,
        Vec::new(),
        Some(ctx.t("brands.figures_hint")),
        vec![(format!("/p/{code}/brands/{id}"), ctx.t("brands.public_page"))],
    )];
    blocks.extend(brand_blocks(&ctx, s, false));
    if manages {
        let kinds = super::TagKind::TEXTS.iter().map(|k| (k.to_string(), ctx.t(&format!("brands.kind.{k}")))).collect();
        let tag = Form::new(ctx.t("brands.tag"), format!("/c/{code}/brands/{id}/tags"), ctx.t("brands.tag"))
            .input(Input::new("kind", ctx.t("brands.kind"), InputKind::Select(kinds)))
            .input(
                Input::new("subject", ctx.t("brands.subject"), InputKind::Number)
                    .hint(ctx.t("brands.subject_hint"))
                    .required(),
            )
            .refused(r);
        blocks.push(Block::Form(tag));
        blocks.push(Block::Form(brand_form(&ctx, format!("/c/{code}/brands/{id}"), Some(s.brand), r)));
    }
    let crumbs = vec![(format!("/c/{code}/brands"), ctx.t("brands.title"))];
    BlocksPage::new(ctx.clone(), s.brand.name.clone(), crumbs, blocks, r)
}

pub fn public_view(ctx: PageCtx, s: &Shown<'_>) -> BlocksPage {
    let blocks = brand_blocks(&ctx, s, true);
    BlocksPage::new(ctx.clone(), format!("{} · {}", s.c.name, s.brand.name), Vec::new(), blocks, &Refusal::none())
}

fn logo_photo(code: &str, id: i64, logo: &Option<Media>) -> Option<Photo> {
    logo.as_ref().map(|_| Photo {
        href: format!("/p/{code}/brands/{id}/logo"),
        thumb: format!("/p/{code}/brands/{id}/logo?thumb=1"),
    })
}

/// A brand with what it gathered and its figures.
async fn shown_parts(
    state: &AppState,
    ctx: &PageCtx,
    c: &CommunityRef,
    id: i64,
) -> AppResult<(Brand, Gathered, Vec<Kpi>, Option<Photo>)> {
    let mut conn = state.db.read().await?;
    let brand = store::get(&mut conn, c.id, id).await?;
    let gathered = store::gathered(&mut conn, c, &brand).await?;
    let logo = store::logo(&mut conn, c.id, id).await?;
    drop(conn);
    let values = store::figures(state, c, &brand, &gathered).await?;
    let figures = kpis(ctx, &dictionary::all(state), &values);
    Ok((brand, gathered, figures, logo_photo(&c.code, id, &logo)))
}

async fn show_list(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let brands = store::list(&mut state.db.read().await?, c.id).await?;
    render(&list_view(ctx, c, &brands, actor.can(c.id, Permission::ManageCommunity), r))
}

/// `GET /c/{code}/brands`.
pub async fn list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    show_list(&state, ctx, &actor, &c, &Refusal::none()).await
}

pub(super) fn draft_of(f: &Fields<'_>) -> Draft {
    Draft { name: f.text("name"), story: f.text("story"), people: f.text("people") }
}

/// `POST /c/{code}/brands`: staff add a brand (with its logo).
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    form: CsrfMultipart,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let result = async {
        let d = draft_of(&Fields::new(&form.fields));
        let logo = media::check_uploads(&form.files)?;
        store::create(&state, &actor, &c, &d, &logo).await
    }
    .await;
    match result {
        Ok(id) => Ok(done(&format!("/c/{code}/brands/{id}"), Saved::Created)),
        Err(e) => {
            let action = format!("/c/{code}/brands");
            ui::refused(
                e,
                ctx,
                &form.fields,
                &action,
                |ctx, r| async move { show_list(&state, ctx, &actor, &c, &r).await },
            )
            .await
        }
    }
}

async fn show_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let (brand, gathered, figures, logo) = shown_parts(state, &ctx, c, id).await?;
    let s = Shown { c, brand: &brand, gathered: &gathered, figures, logo };
    render(&page_view(ctx, &s, actor.can(c.id, Permission::ManageCommunity), r))
}

/// `GET /c/{code}/brands/{id}`.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    show_page(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// `POST /c/{code}/brands/{id}`: staff change it.
pub async fn edit(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let result = async {
        let d = draft_of(&Fields::new(&form.fields));
        let logo = media::check_uploads(&form.files)?;
        store::update(&state, &actor, &c, id, &d, &logo).await
    }
    .await;
    let action = format!("/c/{code}/brands/{id}");
    match result {
        Ok(()) => Ok(done(&action, Saved::Saved)),
        Err(e) => {
            ui::refused(e, ctx, &form.fields, &action, |ctx, r| async move {
                show_page(&state, ctx, &actor, &c, id, &r).await
            })
            .await
        }
    }
}

/// `POST /c/{code}/brands/{id}/tags`: staff tag a need, project or ticket with it.
pub async fn tag(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&form);
        let subject = f.id("subject");
        f.checked()?;
        store::tag(&state, &actor, &c, id, &f.text("kind"), subject).await
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/brands/{id}"), Saved::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/brands/{id}/tags");
            ui::refused(
                e,
                ctx,
                &form,
                &action,
                |ctx, r| async move { show_page(&state, ctx, &actor, &c, id, &r).await },
            )
            .await
        }
    }
}

/// `GET /p/{code}/brands/{id}`: anyone, no sign-in.
pub async fn public(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let (brand, gathered, figures, logo) = shown_parts(&state, &ctx, &c, id).await?;
    render(&public_view(ctx, &Shown { c: &c, brand: &brand, gathered: &gathered, figures, logo }))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Thumb {
    pub thumb: Option<String>,
}

/// `GET /p/{code}/brands/{id}/logo[?thumb=1]`.
pub async fn logo(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    axum::extract::Query(t): axum::extract::Query<Thumb>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let m = store::logo(&mut state.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)?;
    media::pages::respond(&state, &m, t.thumb.is_some(), "public, max-age=86400").await
}
