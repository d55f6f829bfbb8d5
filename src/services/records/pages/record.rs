//! A record's own page: its values (personal ones revealed on request, and logged), the
//! records under it, its history, and what the capabilities add; archiving it.

use std::collections::HashMap;

use askama::Template;
use serde_json::Value;

use super::{Crumb, RowView, Target, crumbs, display, rows};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::services::audit;
use crate::services::records;
use crate::services::records::model::{EntityDef, Kind, Tenancy};
use crate::services::records::store::{self, ListParams, Record};
use crate::web::AppState;
use crate::web::{Notice, PageCtx, PageResult, done, fmt, render};

pub struct ShowField {
    pub label: String,
    pub value: String,
    pub reveal_url: Option<String>,
}

pub struct ChildView {
    pub title: String,
    pub rows: Vec<RowView>,
    pub total: i64,
    pub more_url: String,
    pub new_url: Option<String>,
}

pub struct AuditView {
    pub at: String,
    pub who: String,
    pub action: String,
    pub changes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "entity/show.html")]
struct ShowTemplate {
    ctx: PageCtx,
    title: String,
    crumbs: Vec<Crumb>,
    kind_label: String,
    fields: Vec<ShowField>,
    archived: bool,
    edit_url: Option<String>,
    archive_url: Option<String>,
    unarchive_url: Option<String>,
    children: Vec<ChildView>,
    audit: Vec<AuditView>,
    map_svg: Option<crate::web::ui::MapView>,
    links: Vec<(String, String)>,
}

pub fn audit_views(ctx: &PageCtx, def: &EntityDef, entries: Vec<audit::Entry>) -> Vec<AuditView> {
    entries
        .into_iter()
        .map(|e| AuditView {
            at: fmt::datetime(e.at),
            who: ctx.who(&e.actor_name),
            action: ctx.t(&format!("audit.{}", e.action)),
            changes: e
                .changes()
                .into_iter()
                .map(|(field, before, after)| {
                    let label = if def.field(&field).is_some() { ctx.t(&def.field_label_key(&field)) } else { field };
                    (label, before, after)
                })
                .collect(),
        })
        .collect()
}

pub(super) async fn show(state: AppState, ctx: PageCtx, actor: Actor, t: Target, id: i64) -> PageResult {
    let r = store::get(&state.db, &actor, t.def, t.community_id(), id).await?;
    let inner = record_community(&state, &t, id).await?;
    let community_id = inner.as_ref().map(|c| c.id);
    let mut children = child_views(&state, &ctx, &actor, &t, inner.as_ref(), id).await;
    if t.def.kind == "subdistrict" {
        children.extend(subdistrict_communities(&state, &ctx, &actor, id).await?);
    }
    let audit = audit_entries(&state, &ctx, &actor, &t, &r, community_id, id).await?;
    let (map_svg, links) = capability_extras(&state, &ctx, &actor, &t, inner.as_ref(), id).await?;
    let crumbs = crumbs(&state, &ctx, &t).await;
    let loaded = ShowLoaded { community_id, crumbs, children, audit, map_svg, links };
    render(&show_view(ctx, &actor, &t, &r, id, loaded))
}

/// The community a record's page is inside: the record itself for a community (whose
/// own records are under it), else the target's.
async fn record_community(state: &AppState, t: &Target, id: i64) -> AppResult<Option<CommunityRef>> {
    Ok(match (t.def.kind, &t.community) {
        ("community", _) => {
            let mut conn = state.db.read().await?;
            crate::auth::guard::community_by_id(&mut conn, id).await?
        }
        (_, c) => c.clone(),
    })
}

/// The first rows of each kind of record under this one that the actor may read
/// (a list that fails to load is left out).
async fn child_views(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    t: &Target,
    inner: Option<&CommunityRef>,
    id: i64,
) -> Vec<ChildView> {
    let mut children = Vec::new();
    for child in t.def.children {
        let def = records::by_kind(child.entity).expect("known kind");
        let Some(c) = inner else { continue };
        if def.tenancy != Tenancy::Community && t.def.kind != "subdistrict" {
            continue;
        }
        let (child_target, ids) = match def.tenancy {
            Tenancy::Community => (Target { def, community: Some(c.clone()) }, vec![c.id]),
            Tenancy::Global => (Target { def, community: None }, Vec::new()),
        };
        if def.tenancy == Tenancy::Community && actor.access(c.id, def.read).is_none() {
            continue;
        }
        let params = ListParams {
            parent: (child.column != "community_id").then_some((child.column, id)),
            per_page: 10,
            ..ListParams::default()
        };
        let Ok(page) = store::list(&state.db, &state.pii, actor, def, &ids, &params).await else { continue };
        let mut more = child_target.base();
        if child.column != "community_id" && def.filters.iter().any(|f| f.column == child.column) {
            more = format!("{more}?{}={id}", child.column);
        }
        let new_url = (def.tenancy == Tenancy::Community && actor.can(c.id, def.write)).then(|| {
            if child.column == "community_id" {
                format!("{}/new", child_target.base())
            } else {
                format!("{}/new?{}={id}", child_target.base(), child.column)
            }
        });
        children.push(ChildView {
            title: ctx.t(&def.label_key()),
            rows: rows(ctx, &child_target, &page.items, &HashMap::new()),
            total: page.total,
            more_url: more,
            new_url,
        });
    }
    children
}

/// A subdistrict's communities (the first 50 the actor sees), when they load.
async fn subdistrict_communities(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<ChildView>> {
    let params = ListParams { filters: Vec::new(), per_page: 50, ..ListParams::default() };
    let def = records::by_kind("community").ok_or(AppError::NotFound)?;
    let Ok(page) = store::list(&state.db, &state.pii, actor, def, &[], &params).await else { return Ok(None) };
    let items: Vec<Record> =
        page.items.into_iter().filter(|c| c.values.get("subdistrict_id").and_then(Value::as_i64) == Some(id)).collect();
    let ct = Target { def, community: None };
    Ok(Some(ChildView {
        title: ctx.t(&def.label_key()),
        total: items.len() as i64,
        rows: rows(ctx, &ct, &items, &HashMap::new()),
        more_url: "/communities".into(),
        new_url: actor.manages_subdistrict(id).then(|| format!("/communities/new?subdistrict_id={id}")),
    }))
}

/// The record's history, when the actor may see it (empty otherwise).
async fn audit_entries(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    t: &Target,
    r: &Record,
    community_id: Option<i64>,
    id: i64,
) -> AppResult<Vec<AuditView>> {
    let audit_community = community_id.filter(|_| t.def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    let can_audit = match community_id {
        Some(c) => {
            actor.access(c, Permission::ViewAudit).covers(r.grid_id, r.household_id)
                || actor.access(c, Permission::ViewAudit).all
        }
        None => actor.is_platform_admin() || (t.def.kind == "subdistrict" && actor.manages_subdistrict(id)),
    };
    if !can_audit {
        return Ok(Vec::new());
    }
    let mut conn = state.db.read().await?;
    Ok(audit_views(ctx, t.def, audit::history(&mut conn, audit_community, t.def.kind, id).await?))
}

/// What the capabilities add to this record's page: links onward, a map (the first
/// one offered).
async fn capability_extras(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    t: &Target,
    inner: Option<&CommunityRef>,
    id: i64,
) -> AppResult<(Option<crate::web::ui::MapView>, Vec<(String, String)>)> {
    let (mut map_svg, mut links) = (None, Vec::new());
    if let Some(c) = inner {
        for extras in state.caps.iter().filter_map(|cap| cap.record_page) {
            let e = extras(state, ctx, actor, t.def.kind, c, id).await?;
            links.extend(e.links);
            map_svg = map_svg.or(e.map);
        }
    }
    Ok((map_svg, links))
}

/// What `show` loaded for the page besides the record itself.
struct ShowLoaded {
    community_id: Option<i64>,
    crumbs: Vec<Crumb>,
    children: Vec<ChildView>,
    audit: Vec<AuditView>,
    map_svg: Option<crate::web::ui::MapView>,
    links: Vec<(String, String)>,
}

/// Builds the record's page from what was loaded: its values (with reveal links where
/// the actor may see personal data) and the edit/archive links when it may write.
fn show_view(ctx: PageCtx, actor: &Actor, t: &Target, r: &Record, id: i64, loaded: ShowLoaded) -> ShowTemplate {
    let ShowLoaded { community_id, crumbs, children, audit, map_svg, links } = loaded;
    let reveal_ok =
        community_id.is_some_and(|c| actor.access(c, Permission::RevealPii).covers(r.grid_id, r.household_id));
    let fields = t
        .def
        .all_fields()
        .filter(|f| f.kind != Kind::Polygon)
        .map(|f| {
            let value = display(&ctx, t.def, f, r);
            ShowField {
                label: ctx.t(&t.def.field_label_key(f.name)),
                reveal_url: (f.kind.is_personal() && reveal_ok && !value.is_empty())
                    .then(|| format!("{}/reveal/{}", t.record_url(id), f.name)),
                value,
            }
        })
        .collect();
    let writable = match (t.def.tenancy, community_id) {
        (Tenancy::Community, Some(c)) => {
            let a = actor.access(c, t.def.write);
            a.all || (t.def.grid_column.is_some() && a.covers(r.grid_id, r.household_id))
        }
        (_, _) => match t.def.kind {
            "subdistrict" => actor.manages_subdistrict(id),
            _ => actor.can(id, Permission::ManageCommunity),
        },
    };
    let url = t.record_url(id);
    ShowTemplate {
        title: r.title(t.def),
        crumbs,
        kind_label: ctx.t(&t.def.label_key()),
        fields,
        archived: r.archived_at.is_some(),
        edit_url: writable.then(|| format!("{url}/edit")),
        archive_url: (writable && r.archived_at.is_none()).then(|| format!("{url}/archive")),
        unarchive_url: (writable && r.archived_at.is_some()).then(|| format!("{url}/unarchive")),
        children,
        audit,
        map_svg,
        links,
        ctx,
    }
}

pub(super) async fn archive(state: AppState, actor: Actor, t: Target, id: i64, archived: bool) -> PageResult {
    store::set_archived(&state.db, &actor, t.def, t.community_id(), id, archived).await?;
    Ok(done(&t.record_url(id), if archived { Notice::Archived } else { Notice::Unarchived }))
}

/// The full value of a masked field, as a fragment that replaces the masked one.
pub(super) async fn reveal(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    t: Target,
    id: i64,
    field: String,
) -> PageResult {
    let community = t.community_id().ok_or(AppError::NotFound)?;
    let value = store::reveal(&state.db, &state.pii, &actor, t.def, community, id, &field).await?;
    render(&Revealed { value: value.unwrap_or_default(), note: ctx.t("pii.revealed_logged") })
}

/// A revealed value, swapped in for the masked one.
#[derive(Template)]
#[template(source = r#"<span class="revealed" title="{{ note }}">{{ value }}</span>"#, ext = "html")]
struct Revealed {
    value: String,
    note: String,
}
