//! The subdistrict's pages of emergencies: its incidents with the form to prepare one over
//! some or all of its communities, and an incident's page with each community's figures
//! and the steps taken in all of them at once.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::subdistrict::{self, Group, NewGroup};
use super::super::{IncidentKind, IncidentStatus, Level, Tally, next_status};
use super::{status_tag, tally_kpis};
use crate::auth::guard;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Item, Refusal, Table};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

fn line(ctx: &PageCtx, kind: IncidentKind, level: Level) -> String {
    format!("{} · {}", ctx.t(&format!("emergency.kind.{kind}")), ctx.t(&format!("emergency.level.{level}")))
}

fn prepare_form(ctx: &PageCtx, id: i64, communities: &[(i64, String)], r: &Refusal) -> Form {
    let kinds = IncidentKind::ALL.iter().map(|k| (k.to_string(), ctx.t(&format!("emergency.kind.{k}")))).collect();
    let levels = Level::ALL.iter().map(|l| (l.to_string(), ctx.t(&format!("emergency.level.{l}")))).collect();
    let communities = communities.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    Form::new(ctx.t("emergency.prepare"), format!("/subdistricts/{id}/incidents"), ctx.t("emergency.prepare"))
        .input(Input::new("title", ctx.t("emergency.incident_title"), InputKind::Text).required())
        .input(Input::new("kind", ctx.t("emergency.incident_kind"), InputKind::Select(kinds)))
        .input(Input::new("level", ctx.t("emergency.incident_level"), InputKind::Select(levels)))
        .input(
            Input::new("communities", ctx.t("emergency.communities"), InputKind::Many(communities))
                .hint(ctx.t("emergency.communities_hint")),
        )
        .folded()
        .refused(r)
}

pub fn list_view(
    ctx: PageCtx,
    (id, name): (i64, &str),
    all: &[Group],
    communities: &[(i64, String)],
    r: &Refusal,
) -> BlocksPage {
    let items = all
        .iter()
        .map(|g| Item {
            title: g.title.clone(),
            sub: format!("{} · {}", line(&ctx, g.kind, g.level), fmt::datetime(g.created_at)),
            href: Some(format!("/subdistricts/{id}/incidents/{}", g.id)),
            tag: None,
        })
        .collect();
    let blocks = vec![
        Block::Form(prepare_form(&ctx, id, communities, r)),
        Block::List(ctx.t("emergency.incidents"), items, ctx.t("emergency.none")),
    ];
    BlocksPage::new(ctx.clone(), format!("{name} · {}", ctx.t("emergency.title")), Vec::new(), blocks, r)
}

async fn names(state: &AppState, actor: &Actor, id: i64) -> AppResult<(String, Vec<(i64, String)>)> {
    let (name, ids) = guard::subdistrict_communities(&state.db, actor, id).await?;
    let mut conn = state.db.read().await?;
    let mut out = Vec::new();
    for c in ids {
        if let Some(c) = guard::community_by_id(&mut conn, c).await? {
            out.push((c.id, c.name));
        }
    }
    Ok((name, out))
}

async fn show_list(state: &AppState, ctx: PageCtx, actor: &Actor, id: i64, r: &Refusal) -> PageResult {
    let (name, communities) = names(state, actor, id).await?;
    let all = subdistrict::groups(&mut state.db.read().await?, id).await?;
    render(&list_view(ctx, (id, &name), &all, &communities, r))
}

/// `GET /subdistricts/{id}/incidents`: its administrators.
pub async fn list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    show_list(&state, ctx, &actor, id, &Refusal::none()).await
}

fn new_group(m: &Map<String, Value>) -> AppResult<NewGroup> {
    let mut f = Fields::new(m);
    let communities = f.ids("communities");
    let kind = IncidentKind::parse(&f.text("kind")).ok_or_else(|| AppError::field("kind", "validation.choice"));
    let level = Level::parse(&f.text("level")).ok_or_else(|| AppError::field("level", "validation.choice"));
    f.checked()?;
    Ok(NewGroup { kind: kind?, level: level?, title: f.text("title"), communities })
}

/// `POST /subdistricts/{id}/incidents`: prepared in each community chosen.
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let result = match new_group(&m) {
        Ok(n) => subdistrict::prepare(&state, &actor, id, n).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(g) => Ok(done(&format!("/subdistricts/{id}/incidents/{g}"), Notice::Created)),
        Err(e) => {
            let action = format!("/subdistricts/{id}/incidents");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_list(&state, ctx, &actor, id, &r).await }).await
        }
    }
}

async fn show_group(state: &AppState, ctx: PageCtx, actor: &Actor, (id, g): (i64, i64), r: &Refusal) -> PageResult {
    let group = subdistrict::group(&mut state.db.read().await?, id, g).await?;
    let parts = subdistrict::parts(state, actor, id, g).await?;
    let (all, each) = subdistrict::tallies(state, &parts).await?;
    let head = [
        "emergency.community",
        "emergency.status_now",
        "emergency.households",
        "emergency.checked",
        "emergency.tier_one_unreached",
    ]
    .iter()
    .map(|k| ctx.t(k))
    .collect();
    let rows = parts
        .iter()
        .zip(&each)
        .map(|((c, i), t): (&(_, super::super::store::Incident), &Tally)| {
            vec![
                Cell::link(c.name.clone(), format!("/c/{}/incidents/{}", c.code, i.id)),
                Cell::text(status_tag(&ctx, i.status).text),
                Cell::text(t.total.to_string()),
                Cell::text(t.checked().to_string()),
                Cell::text(t.tier_one_unreached.to_string()),
            ]
        })
        .collect();
    let table = Table { head, rows, empty: ctx.t("emergency.no_checks"), sort: Vec::new() };
    let since = parts.iter().filter_map(|(_, i)| i.activated_at).min();
    let mut blocks = vec![Block::Card(
        group.title.clone(),
        None,
        vec![(ctx.t("emergency.incident_kind"), line(&ctx, group.kind, group.level))],
        None,
        Vec::new(),
    )];
    for to in IncidentStatus::ALL.iter().filter(|to| parts.iter().any(|(_, i)| next_status(i.status, **to).is_ok())) {
        let label = ctx.t(&format!("emergency.to.{}", to.as_str()));
        let f = Form::new(label.clone(), format!("/subdistricts/{id}/incidents/{g}/status"), label)
            .input(Input::hidden("status", to.as_str()))
            .input(Input::new("note", ctx.t("emergency.step_note"), InputKind::Text));
        let f = match to {
            IncidentStatus::Activated => f.confirm(ctx.t("emergency.activate_all_confirm")),
            IncidentStatus::Closed => f.danger(ctx.t("emergency.close_confirm")),
            _ => f,
        };
        blocks.push(Block::Form(f.refused(r)));
    }
    blocks.push(Block::Kpis(tally_kpis(&ctx, &all, since, crate::db::now_ms())));
    blocks.push(Block::Table(ctx.t("emergency.by_community"), table));
    let crumbs = vec![(format!("/subdistricts/{id}/incidents"), ctx.t("emergency.title"))];
    render(&BlocksPage::new(ctx, group.title, crumbs, blocks, r))
}

/// `GET /subdistricts/{id}/incidents/{g}`: each community's figures, the steps for all.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((id, g)): Path<(i64, i64)>,
) -> PageResult {
    show_group(&state, ctx, &actor, (id, g), &Refusal::none()).await
}

/// `POST /subdistricts/{id}/incidents/{g}/status` `status`, `note`: in every community.
pub async fn set_status(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((id, g)): Path<(i64, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let f = Fields::new(&m);
    let note = f.opt("note");
    let result = match IncidentStatus::parse(&f.text("status")) {
        Some(to) => subdistrict::set_status(&state, &actor, id, g, to, note.as_deref()).await.map(|_| ()),
        None => Err(AppError::field("status", "validation.choice")),
    };
    match result {
        Ok(()) => Ok(done(&format!("/subdistricts/{id}/incidents/{g}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/subdistricts/{id}/incidents/{g}/status");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_group(&state, ctx, &actor, (id, g), &r).await })
                .await
        }
    }
}
