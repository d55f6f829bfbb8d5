//! A subdistrict's pages of brands: its communities' brands side by side, each with its
//! figures (seed 004's "showcase and incubation" of cases), the subdistrict's own brands
//! with the form to make one over some of them, and a subdistrict brand's public page.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::joint::{self, Joint};
use super::pages::{draft_of, kpis};
use super::{FIGURES, store};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::error::AppError;
use crate::web::dictionary::{self, FigureDef, Values};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Item, Refusal, Table};
use crate::web::{AppState, Notice, Page, PageCtx, PageResult, SignedPage, done, render};

/// A community's brand on the showcase with its figures.
pub struct Shown {
    pub community: CommunityRef,
    pub brand: store::Brand,
    pub values: Values,
}

fn joint_form(ctx: &PageCtx, id: i64, brands: &[Shown], r: &Refusal) -> Form {
    let choices = brands
        .iter()
        .map(|s| (joint::member_key(s.community.id, s.brand.id), format!("{} · {}", s.community.name, s.brand.name)))
        .collect();
    Form::new(ctx.t("brands.joint_new"), format!("/subdistricts/{id}/brands"), ctx.t("brands.joint_new"))
        .input(Input::new("name", ctx.t("brands.name"), InputKind::Text).required())
        .input(Input::new("story", ctx.t("brands.story"), InputKind::TextArea).required())
        .input(Input::new("people", ctx.t("brands.people"), InputKind::TextArea).hint(ctx.t("brands.people_hint")))
        .input(
            Input::new("members", ctx.t("brands.members"), InputKind::Many(choices))
                .hint(ctx.t("brands.members_hint"))
                .required(),
        )
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
                format!("/p/subdistricts/{id}/brands/{}", j.id),
            )
        })
        .collect();
    let blocks = vec![
        Block::List(ctx.t("brands.joint"), own, ctx.t("brands.joint_none")),
        Block::Form(joint_form(&ctx, id, brands, r)),
        Block::Table(ctx.t("brands.showcase_hint"), table),
    ];
    BlocksPage::new(ctx.clone(), format!("{name} · {}", ctx.t("brands.showcase")), Vec::new(), blocks, r)
}

/// A subdistrict brand's public page: its story and people, its figures (its members'
/// added up) and each member with its own.
pub fn joint_view(
    ctx: PageCtx,
    (sub, j): (&str, &Joint),
    figures: &[(&'static str, &'static FigureDef)],
    (members, total): (&[Shown], &Values),
) -> BlocksPage {
    let mut blocks = vec![Block::Card(j.name.clone(), None, Vec::new(), Some(j.story.clone()), Vec::new())];
    if !j.people.is_empty() {
        blocks.push(Block::Card(ctx.t("brands.people"), None, Vec::new(), Some(j.people.clone()), Vec::new()));
    }
    blocks.push(Block::Kpis(kpis(&ctx, figures, total)));
    blocks.push(Block::Table(ctx.t("brands.members"), brands_table(&ctx, figures, members)));
    BlocksPage::new(ctx.clone(), format!("{sub} · {}", j.name), Vec::new(), blocks, &Refusal::none())
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, id: i64, r: &Refusal) -> PageResult {
    let (name, ids) = guard::subdistrict_communities(&state.db, actor, id).await?;
    let mut brands = Vec::new();
    for cid in ids {
        let mut conn = state.db.read().await?;
        let Some(c) = guard::community_by_id(&mut conn, cid).await? else { continue };
        for b in store::list(&mut conn, c.id).await? {
            let g = store::gathered(&mut conn, &c, &b).await?;
            let values = store::figures(state, &c, &b, &g).await?;
            brands.push(Shown { community: c.clone(), brand: b, values });
        }
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
/// communities' brands.
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let (d, members) = asked(&m);
    match joint::create(&state, &actor, id, &d, &members).await {
        Ok(b) => Ok(done(&format!("/p/subdistricts/{id}/brands/{b}"), Notice::Created)),
        Err(e) => {
            let action = format!("/subdistricts/{id}/brands");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show(&state, ctx, &actor, id, &r).await }).await
        }
    }
}

/// `GET /p/subdistricts/{id}/brands/{brand}`: anyone, no sign-in.
pub async fn public(State(state): State<AppState>, Page(ctx): Page, Path((id, brand)): Path<(i64, i64)>) -> PageResult {
    let mut conn = state.db.read().await?;
    let j = joint::get(&mut conn, id, brand).await?;
    let sub: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(id)
        .scalar_optional(&mut conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = joint::members(&mut conn, &j).await?;
    drop(conn);
    let (each, total) = joint::figures(&state, &members).await?;
    let shown: Vec<Shown> = members
        .into_iter()
        .zip(each)
        .map(|(m, values)| Shown { community: m.community, brand: m.brand, values })
        .collect();
    render(&joint_view(ctx, (&sub, &j), &dictionary::all(&state), (&shown, &total)))
}
