//! A list of records: search, filters, paging, and the tools a kind adds above it; in one
//! community, across a subdistrict's communities, or at platform level.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};

use super::{Crumb, Opt, RowView, Target, care_tags, crumbs, global, in_community, rows};
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::input::limits;
use crate::services::records;
use crate::services::records::model::{EntityDef, FilterKind, Tenancy};
use crate::services::records::store::{self, ListParams};
use crate::web::AppState;
use crate::web::form::query_param;
use crate::web::{PageCtx, PageResult, SignedPage, fmt, render};

pub struct FilterView {
    pub name: String,
    pub label: String,
    pub options: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "entity/list.html")]
struct ListTemplate {
    ctx: PageCtx,
    title: String,
    crumbs: Vec<Crumb>,
    base: String,
    q: String,
    search_hint: String,
    filters: Vec<FilterView>,
    columns: Vec<String>,
    rows: Vec<RowView>,
    total: String,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    new_url: Option<String>,
    archived_url: String,
    include_archived: bool,
    tools: Vec<(String, String)>,
}

/// List parameters from a query string.
pub fn list_params(def: &EntityDef, query: &str) -> AppResult<ListParams> {
    let mut p = ListParams {
        q: query_param(query, "q"),
        include_archived: query_param(query, "archived").as_deref() == Some("1"),
        page: crate::web::form::query_int(query, "page", limits::PAGE, 1)? as u32,
        per_page: crate::web::form::query_int(query, "per_page", 1..=200, 30)? as u32,
        ..ListParams::default()
    };
    for f in def.filters {
        if let Some(v) = query_param(query, f.column).filter(|v| !v.is_empty()) {
            p.filters.push((f.column.to_string(), v));
        }
    }
    Ok(p)
}

fn with_param(base: &str, query: &str, name: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !value.is_empty() {
        pairs.push((name.to_string(), value.to_string()));
    }
    let qs: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    if qs.is_empty() { base.to_string() } else { format!("{base}?{qs}") }
}

async fn filter_views(
    state: &AppState,
    ctx: &PageCtx,
    t: &Target,
    communities: &[i64],
    params: &ListParams,
) -> AppResult<Vec<FilterView>> {
    let mut out = Vec::new();
    for f in t.def.filters {
        let current = params.filters.iter().find(|(c, _)| c == f.column).map(|(_, v)| v.as_str()).unwrap_or("");
        let mut options = vec![Opt { value: String::new(), label: ctx.t("common.all"), selected: current.is_empty() }];
        let choices: Vec<(String, String)> = match f.kind {
            FilterKind::Ref(kind) => {
                let target = records::by_kind(kind).expect("known kind");
                store::options(&state.db, target, communities, 500)
                    .await?
                    .into_iter()
                    .map(|(id, title)| (id.to_string(), title))
                    .collect()
            }
            FilterKind::Tag => {
                care_tags(state, t.community_id()).await?.into_iter().map(|tag| (tag.clone(), tag)).collect()
            }
            FilterKind::Bool => vec![("true".into(), ctx.t("common.yes")), ("false".into(), ctx.t("common.no"))],
        };
        options.extend(choices.into_iter().map(|(value, label)| Opt { selected: value == current, value, label }));
        let label = ctx.t(&format!("filter.{}.{}", t.def.kind, f.column));
        out.push(FilterView { name: f.column.to_string(), label, options });
    }
    Ok(out)
}

async fn list_page(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    t: Target,
    community_ids: Vec<i64>,
    query: String,
) -> PageResult {
    let params = list_params(t.def, &query)?;
    let page = store::list(&state.db, &state.pii, &actor, t.def, &community_ids, &params).await?;
    let codes = community_codes(&state, &community_ids).await?;
    let rows = rows(&ctx, &t, &page.items, &codes);
    let base = ctx.path.clone();
    let can_create = match (t.def.tenancy, &t.community) {
        (Tenancy::Community, Some(c)) => actor.can(c.id, t.def.write),
        (Tenancy::Community, None) => false,
        (Tenancy::Global, _) => {
            actor.is_platform_admin()
                || (t.def.kind == "community" && actor.has_role(crate::auth::model::Role::SubdistrictAdmin))
        }
    };
    let mut tools = Vec::new();
    if let (Some(c), "resident" | "household") = (&t.community, t.def.kind)
        && actor.can(c.id, Permission::ViewRegistry)
    {
        tools.push((format!("/c/{}/export/residents.xlsx", c.code), ctx.t("registry.export")));
        if actor.access(c.id, Permission::EditRegistry).all {
            tools.push((format!("/c/{}/import", c.code), ctx.t("registry.import")));
        }
    }
    if let (Some(c), "grid") = (&t.community, t.def.kind) {
        tools.push((format!("/c/{}/map", c.code), ctx.t("map.title")));
    }
    let tmpl = ListTemplate {
        title: ctx.t(&t.def.label_key()),
        crumbs: crumbs(&state, &ctx, &t).await,
        q: params.q.clone().unwrap_or_default(),
        search_hint: ctx.t(&format!("search.{}", t.def.kind)),
        filters: filter_views(&state, &ctx, &t, &community_ids, &params).await?,
        columns: t
            .def
            .fields
            .iter()
            .filter(|f| f.list && f.name != t.def.title)
            .map(|f| ctx.t(&t.def.field_label_key(f.name)))
            .collect(),
        total: fmt::thousands(page.total),
        page: page.page,
        pages: page.pages(),
        prev: (page.page > 1).then(|| with_param(&base, &ctx.query, "page", &(page.page - 1).to_string())),
        next: (page.page < page.pages()).then(|| with_param(&base, &ctx.query, "page", &(page.page + 1).to_string())),
        new_url: can_create.then(|| format!("{}/new", t.base())),
        archived_url: with_param(&base, &ctx.query, "archived", if params.include_archived { "" } else { "1" }),
        include_archived: params.include_archived,
        tools,
        rows,
        base,
        ctx,
    };
    render(&tmpl)
}

async fn community_codes(state: &AppState, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    let mut b = crate::db::Builder::new("SELECT id, code FROM communities WHERE id IN ");
    b.list(ids.iter().copied());
    let mut conn = state.db.read().await?;
    let rows: Vec<(i64, String)> = b.build().fetch_all(&mut conn).await?;
    Ok(rows.into_iter().collect())
}

pub async fn community_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, path)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let t = in_community(&state, &actor, &code, &path).await?;
    let ids = vec![t.community_id().expect("community target")];
    list_page(state, ctx, actor, t, ids, q.unwrap_or_default()).await
}

pub async fn global_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(path): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let t = global(&path)?;
    list_page(state, ctx, actor, t, Vec::new(), q.unwrap_or_default()).await
}

/// A community-level kind listed across every community of a subdistrict (the
/// subdistrict's registry search).
pub async fn subdistrict_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((id, path)): Path<(i64, String)>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let def = records::by_path(&path).filter(|d| d.tenancy == Tenancy::Community).ok_or(AppError::NotFound)?;
    let mut conn = state.db.read().await?;
    let ids: Vec<i64> =
        crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL ORDER BY id")
            .bind(id)
            .scalars(&mut conn)
            .await?;
    drop(conn);
    let visible: Vec<i64> = ids.into_iter().filter(|c| actor.access(*c, def.read).all).collect();
    if visible.is_empty() {
        return Err(AppError::NotFound.into());
    }
    list_page(state, ctx, actor, Target { def, community: None }, visible, q.unwrap_or_default()).await
}
