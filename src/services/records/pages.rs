//! Pages for every record kind: list with search and filters, record with its history,
//! forms with inline errors. Community records live under `/c/{code}/{kind}`; platform
//! records (subdistricts, communities) under `/{kind}`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use serde_json::{Map, Value};

use super::model::{EntityDef, Field, FilterKind, Kind, Mode, Tenancy};
use super::store::{self, ListParams, Record};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::input::limits;
use crate::services::audit;
use crate::web::AppState;
use crate::web::form::{CsrfForm, query_param};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// What a URL points at: a record kind, inside a community or at platform level.
#[derive(Clone)]
pub struct Target {
    pub def: &'static EntityDef,
    pub community: Option<CommunityRef>,
}

impl Target {
    pub fn base(&self) -> String {
        match &self.community {
            Some(c) => format!("/c/{}/{}", c.code, self.def.path),
            None => format!("/{}", self.def.path),
        }
    }

    fn community_id(&self) -> Option<i64> {
        self.community.as_ref().map(|c| c.id)
    }

    pub fn record_url(&self, id: i64) -> String {
        match (self.def.kind, &self.community) {
            ("community", _) => format!("/communities/{id}"),
            _ => format!("{}/{id}", self.base()),
        }
    }
}

async fn in_community(state: &AppState, actor: &Actor, code: &str, path: &str) -> AppResult<Target> {
    let def = super::by_path(path).filter(|d| d.tenancy == Tenancy::Community).ok_or(AppError::NotFound)?;
    let community = crate::auth::guard::visible_community(&state.db, actor, code).await?;
    Ok(Target { def, community: Some(community) })
}

fn global(path: &str) -> AppResult<Target> {
    let def = super::by_path(path).filter(|d| d.tenancy == Tenancy::Global).ok_or(AppError::NotFound)?;
    Ok(Target { def, community: None })
}

// ---------- how values read ----------

/// A value as people read it.
pub fn display(ctx: &PageCtx, def: &EntityDef, f: &Field, r: &Record) -> String {
    let v = r.values.get(f.name).unwrap_or(&Value::Null);
    match (f.kind, v) {
        (_, Value::Null) => String::new(),
        (Kind::Choice(_), Value::String(s)) => ctx.t(&format!("choice.{}.{}.{}", def.kind, f.name, s)),
        (Kind::Bool, Value::Bool(b)) => ctx.t(if *b { "common.yes" } else { "common.no" }),
        (Kind::Ref(_) | Kind::UserRef, Value::Number(n)) => {
            r.refs.get(f.name).cloned().unwrap_or_else(|| format!("#{n}"))
        }
        (Kind::Tags | Kind::FreeTags, Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("、")
        }
        (Kind::Polygon, _) => ctx.t("common.drawn"),
        (Kind::Questions, Value::Array(items)) => ctx.tr("form.questions_n", "n", items.len()),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

pub struct Crumb {
    pub label: String,
    pub href: String,
}

async fn crumbs(state: &AppState, ctx: &PageCtx, t: &Target) -> Vec<Crumb> {
    let mut out = vec![Crumb { label: ctx.t("nav.places"), href: "/places".into() }];
    if let Some(c) = &t.community {
        if let Ok(mut conn) = state.db.read().await
            && let Ok(Some(name)) = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
                .bind(c.subdistrict_id)
                .scalar_optional::<String>(&mut conn)
                .await
        {
            out.push(Crumb { label: name, href: format!("/subdistricts/{}", c.subdistrict_id) });
        }
        out.push(Crumb { label: c.name.clone(), href: format!("/communities/{}", c.id) });
    }
    out.push(Crumb { label: ctx.t(&t.def.label_key()), href: t.base() });
    out
}

// ---------- list ----------

pub struct RowView {
    pub href: String,
    pub title: String,
    pub cells: Vec<(String, String)>,
    pub archived: bool,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

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
                let target = super::by_kind(kind).expect("known kind");
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

async fn care_tags(state: &AppState, community_id: Option<i64>) -> AppResult<Vec<String>> {
    let Some(c) = community_id else { return Ok(Vec::new()) };
    let mut conn = state.db.read().await?;
    let tags: String =
        crate::db::query("SELECT care_tags FROM communities WHERE id = $1").bind(c).scalar(&mut conn).await?;
    Ok(super::model::tags_from_column(&tags))
}

pub fn rows(ctx: &PageCtx, t: &Target, items: &[Record], codes: &HashMap<i64, String>) -> Vec<RowView> {
    items
        .iter()
        .map(|r| {
            let href = match (r.community_id, &t.community) {
                (Some(c), None) => {
                    format!("/c/{}/{}/{}", codes.get(&c).map(String::as_str).unwrap_or(""), t.def.path, r.id)
                }
                _ => t.record_url(r.id),
            };
            RowView {
                href,
                title: r.title(t.def),
                cells: t
                    .def
                    .fields
                    .iter()
                    .filter(|f| f.list && f.name != t.def.title)
                    .map(|f| (ctx.t(&t.def.field_label_key(f.name)), display(ctx, t.def, f, r)))
                    .collect(),
                archived: r.archived_at.is_some(),
            }
        })
        .collect()
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
    let def = super::by_path(&path).filter(|d| d.tenancy == Tenancy::Community).ok_or(AppError::NotFound)?;
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

// ---------- forms ----------

pub struct FormField {
    pub name: String,
    pub label: String,
    /// text, textarea, number, date, select, checkbox, tags, geojson, tel, idnumber
    pub input: &'static str,
    pub value: String,
    pub options: Vec<Opt>,
    pub error: Option<String>,
    pub required: bool,
    pub hint: String,
}

#[derive(Template)]
#[template(path = "entity/form.html")]
struct FormTemplate {
    ctx: PageCtx,
    title: String,
    crumbs: Vec<Crumb>,
    action: String,
    fields: Vec<FormField>,
    cancel: String,
    has_errors: bool,
}

/// Builds the form's fields from current values (a record or what was posted).
async fn form_fields(
    state: &AppState,
    ctx: &PageCtx,
    t: &Target,
    values: &Map<String, Value>,
    errors: &HashMap<String, String>,
    editing: bool,
) -> AppResult<Vec<FormField>> {
    let mut out = Vec::new();
    for f in t.def.all_fields() {
        // A community's subdistrict is fixed once created.
        if editing && t.def.kind == "community" && f.name == "subdistrict_id" {
            continue;
        }
        let raw = values.get(f.name).cloned().unwrap_or(Value::Null);
        let text = match &raw {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("，"),
            other => other.to_string(),
        };
        let mut options = Vec::new();
        let mut hint = String::new();
        let input = match f.kind {
            Kind::Text { .. } | Kind::Digits { .. } => "text",
            Kind::LongText { .. } => "textarea",
            Kind::Int { .. } | Kind::Float { .. } => "number",
            Kind::Date => "date",
            Kind::Bool => "checkbox",
            Kind::Choice(values) => {
                options.push(Opt { value: String::new(), label: ctx.t("common.choose"), selected: text.is_empty() });
                options.extend(values.iter().map(|v| Opt {
                    value: v.to_string(),
                    label: ctx.t(&format!("choice.{}.{}.{}", t.def.kind, f.name, v)),
                    selected: *v == text,
                }));
                "select"
            }
            Kind::Ref(kind) => {
                let target = super::by_kind(kind).expect("known kind");
                let here: Vec<i64> = t.community_id().into_iter().collect();
                let choices = store::options(&state.db, target, &here, 301).await?;
                if choices.len() > 300 {
                    hint = ctx.t("form.ref_by_number");
                    "number"
                } else {
                    options.push(Opt { value: String::new(), label: ctx.t("common.none"), selected: text.is_empty() });
                    options.extend(choices.into_iter().map(|(id, title)| Opt {
                        selected: id.to_string() == text,
                        value: id.to_string(),
                        label: title,
                    }));
                    "select"
                }
            }
            Kind::UserRef => {
                let choices = match t.community_id() {
                    Some(c) => store::user_options(&state.db, c).await?,
                    None => Vec::new(),
                };
                options.push(Opt { value: String::new(), label: ctx.t("common.none"), selected: text.is_empty() });
                options.extend(choices.into_iter().map(|(id, name)| Opt {
                    selected: id.to_string() == text,
                    value: id.to_string(),
                    label: name,
                }));
                "select"
            }
            Kind::Tags => {
                let current: Vec<String> = match &raw {
                    Value::Array(items) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
                    _ => Vec::new(),
                };
                options = care_tags(state, t.community_id())
                    .await?
                    .into_iter()
                    .map(|tag| Opt { selected: current.contains(&tag), value: tag.clone(), label: tag })
                    .collect();
                "tags"
            }
            Kind::FreeTags => {
                hint = ctx.t("form.tags_hint");
                "text"
            }
            Kind::Polygon => {
                hint = ctx.t("form.geojson_hint");
                "geojson"
            }
            Kind::Questions => {
                hint = ctx.t("form.questions_hint");
                "geojson"
            }
            Kind::Phone => {
                if editing {
                    hint = ctx.t("form.personal_keep");
                }
                "tel"
            }
            Kind::IdNumber => {
                if editing {
                    hint = ctx.t("form.personal_keep");
                }
                "idnumber"
            }
        };
        let value = match (f.kind, &raw) {
            // Masked values are never put back into a form.
            (Kind::Phone | Kind::IdNumber, Value::String(s)) if s.contains('*') => String::new(),
            (Kind::Polygon, Value::Object(_)) | (Kind::Questions, Value::Array(_)) => {
                serde_json::to_string(&raw).unwrap_or_default()
            }
            (Kind::Bool, Value::Bool(b)) => b.to_string(),
            _ if text.is_empty() => f.default.unwrap_or_default().to_string(),
            _ => text,
        };
        out.push(FormField {
            name: f.name.to_string(),
            label: ctx.t(&t.def.field_label_key(f.name)),
            input,
            value,
            options,
            error: errors.get(f.name).cloned(),
            required: f.required,
            hint,
        });
    }
    Ok(out)
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    t: &Target,
    action: String,
    cancel: String,
    values: &Map<String, Value>,
    err: Option<&AppError>,
    editing: bool,
) -> PageResult {
    let errors: HashMap<String, String> =
        err.map(|e| e.field_messages(ctx.lang).into_iter().collect()).unwrap_or_default();
    let title = if editing {
        ctx.tr("form.edit", "what", ctx.t(&t.def.label_key()))
    } else {
        ctx.tr("form.new", "what", ctx.t(&t.def.label_key()))
    };
    let tmpl = FormTemplate {
        title,
        crumbs: crumbs(state, &ctx, t).await,
        fields: form_fields(state, &ctx, t, values, &errors, editing).await?,
        action,
        cancel,
        has_errors: err.is_some(),
        ctx,
    };
    let html = tmpl.render()?;
    let status = if err.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(html)).into_response())
}

fn can_write_here(actor: &Actor, t: &Target) -> bool {
    match &t.community {
        Some(c) => actor.can(c.id, t.def.write),
        None => {
            actor.is_platform_admin()
                || (t.def.kind == "community" && actor.has_role(crate::auth::model::Role::SubdistrictAdmin))
        }
    }
}

async fn new_form(state: AppState, ctx: PageCtx, actor: Actor, t: Target, query: String) -> PageResult {
    if !can_write_here(&actor, &t) {
        return Err(AppError::Forbidden.into());
    }
    // Prefill from the query (e.g. `?household_id=12` from a household's page).
    let mut values = Map::new();
    for f in t.def.all_fields() {
        if let Some(v) = query_param(&query, f.name) {
            values.insert(f.name.to_string(), Value::String(v));
        }
    }
    let base = t.base();
    form_page(&state, ctx, &t, base.clone(), base, &values, None, false).await
}

async fn create(state: AppState, ctx: PageCtx, actor: Actor, t: Target, form: Map<String, Value>) -> PageResult {
    match store::create(&state.db, &state.pii, &state.new_community_hooks(), &actor, t.def, t.community_id(), &form)
        .await
    {
        Ok(r) => Ok(done(&t.record_url(r.id), Notice::Created)),
        Err(e @ AppError::Invalid(_)) => {
            let base = t.base();
            form_page(&state, ctx, &t, base.clone(), base, &form, Some(&e), false).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(state: AppState, ctx: PageCtx, actor: Actor, t: Target, id: i64) -> PageResult {
    let r = store::get(&state.db, &actor, t.def, t.community_id(), id).await?;
    let url = t.record_url(id);
    form_page(&state, ctx, &t, url.clone(), url, &r.values, None, true).await
}

async fn update(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    t: Target,
    id: i64,
    form: Map<String, Value>,
) -> PageResult {
    let mut form = form;
    if t.def.kind == "community" {
        form.remove("subdistrict_id");
    }
    let mode = if t.def.kind == "community" { Mode::Partial } else { Mode::Full };
    let form = if mode == Mode::Partial { fill_unsent(t.def, form) } else { form };
    match store::update(&state.db, &state.pii, &actor, t.def, t.community_id(), id, &form, mode).await {
        Ok(_) => Ok(done(&t.record_url(id), Notice::Saved)),
        Err(e @ AppError::Invalid(_)) => {
            let url = t.record_url(id);
            form_page(&state, ctx, &t, url.clone(), url, &form, Some(&e), true).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A form leaves empty fields out only for checkboxes; in partial mode the other shown
/// fields must still count as sent (empty).
fn fill_unsent(def: &EntityDef, mut form: Map<String, Value>) -> Map<String, Value> {
    for f in def.all_fields().filter(|f| f.name != "subdistrict_id") {
        form.entry(f.name.to_string()).or_insert(Value::String(String::new()));
    }
    form
}

// ---------- a record ----------

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
            who: e.actor_name.clone(),
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

async fn show(state: AppState, ctx: PageCtx, actor: Actor, t: Target, id: i64) -> PageResult {
    let r = store::get(&state.db, &actor, t.def, t.community_id(), id).await?;
    // The community's own records are under it.
    let inner = match (t.def.kind, &t.community) {
        ("community", _) => {
            let mut conn = state.db.read().await?;
            crate::auth::guard::community_by_id(&mut conn, id).await?
        }
        (_, c) => c.clone(),
    };
    let community_id = inner.as_ref().map(|c| c.id);
    let reveal_ok =
        community_id.is_some_and(|c| actor.access(c, Permission::RevealPii).covers(r.grid_id, r.household_id));
    let fields = t
        .def
        .all_fields()
        .filter(|f| f.kind != Kind::Polygon)
        .map(|f| {
            let value = display(&ctx, t.def, f, &r);
            ShowField {
                label: ctx.t(&t.def.field_label_key(f.name)),
                reveal_url: (f.kind.is_personal() && reveal_ok && !value.is_empty())
                    .then(|| format!("{}/reveal/{}", t.record_url(id), f.name)),
                value,
            }
        })
        .collect();
    let mut children = Vec::new();
    for child in t.def.children {
        let def = super::by_kind(child.entity).expect("known kind");
        let Some(c) = &inner else { continue };
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
        let Ok(page) = store::list(&state.db, &state.pii, &actor, def, &ids, &params).await else { continue };
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
            rows: rows(&ctx, &child_target, &page.items, &HashMap::new()),
            total: page.total,
            more_url: more,
            new_url,
        });
    }
    if t.def.kind == "subdistrict" {
        let params = ListParams { filters: Vec::new(), per_page: 50, ..ListParams::default() };
        let def = super::by_kind("community").ok_or(AppError::NotFound)?;
        if let Ok(page) = store::list(&state.db, &state.pii, &actor, def, &[], &params).await {
            let items: Vec<Record> = page
                .items
                .into_iter()
                .filter(|c| c.values.get("subdistrict_id").and_then(Value::as_i64) == Some(id))
                .collect();
            let ct = Target { def, community: None };
            children.push(ChildView {
                title: ctx.t(&def.label_key()),
                total: items.len() as i64,
                rows: rows(&ctx, &ct, &items, &HashMap::new()),
                more_url: "/communities".into(),
                new_url: actor.manages_subdistrict(id).then(|| format!("/communities/new?subdistrict_id={id}")),
            });
        }
    }
    let audit_community = community_id.filter(|_| t.def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    let can_audit = match community_id {
        Some(c) => {
            actor.access(c, Permission::ViewAudit).covers(r.grid_id, r.household_id)
                || actor.access(c, Permission::ViewAudit).all
        }
        None => actor.is_platform_admin() || (t.def.kind == "subdistrict" && actor.manages_subdistrict(id)),
    };
    let audit = if can_audit {
        let mut conn = state.db.read().await?;
        audit_views(&ctx, t.def, audit::history(&mut conn, audit_community, t.def.kind, id).await?)
    } else {
        Vec::new()
    };
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
    // What the capabilities add to this record's page: links onward, a map.
    let (mut map_svg, mut links) = (None, Vec::new());
    if let Some(c) = &inner {
        for extras in state.caps.iter().filter_map(|cap| cap.record_page) {
            let e = extras(&state, &ctx, &actor, t.def.kind, c, id).await?;
            links.extend(e.links);
            map_svg = map_svg.or(e.map);
        }
    }
    let tmpl = ShowTemplate {
        title: r.title(t.def),
        crumbs: crumbs(&state, &ctx, &t).await,
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
    };
    render(&tmpl)
}

async fn archive(state: AppState, actor: Actor, t: Target, id: i64, archived: bool) -> PageResult {
    store::set_archived(&state.db, &actor, t.def, t.community_id(), id, archived).await?;
    Ok(done(&t.record_url(id), if archived { Notice::Archived } else { Notice::Unarchived }))
}

/// The full value of a masked field, as a fragment that replaces the masked one.
async fn reveal(state: AppState, ctx: PageCtx, actor: Actor, t: Target, id: i64, field: String) -> PageResult {
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

// ---------- routes: community records ----------

pub async fn c_new(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    new_form(s, ctx, a, t, q.unwrap_or_default()).await
}

pub async fn c_create(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path)): Path<(String, String)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    create(s, ctx, a, t, form).await
}

pub async fn c_show(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    show(s, ctx, a, t, id).await
}

pub async fn c_edit(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    edit_form(s, ctx, a, t, id).await
}

pub async fn c_update(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    update(s, ctx, a, t, id, form).await
}

pub async fn c_archive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    archive(s, a, t, id, true).await
}

pub async fn c_unarchive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    archive(s, a, t, id, false).await
}

pub async fn c_reveal(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id, field)): Path<(String, String, i64, String)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    reveal(s, ctx, a, t, id, field).await
}

/// `/c/{code}`: the community's page.
pub async fn c_home(State(s): State<AppState>, SignedPage(_, a): SignedPage, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::visible_community(&s.db, &a, &code).await?;
    Ok(Redirect::to(&format!("/communities/{}", c.id)).into_response())
}

// ---------- routes: platform records ----------

pub async fn g_new(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path(path): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    new_form(s, ctx, a, global(&path)?, q.unwrap_or_default()).await
}

pub async fn g_create(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path(path): Path<String>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    create(s, ctx, a, global(&path)?, form).await
}

pub async fn g_show(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
) -> PageResult {
    show(s, ctx, a, global(&path)?, id).await
}

pub async fn g_edit(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
) -> PageResult {
    edit_form(s, ctx, a, global(&path)?, id).await
}

pub async fn g_update(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    update(s, ctx, a, global(&path)?, id, form).await
}

pub async fn g_archive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global(&path)?, id, true).await
}

/// A subdistrict's own archive and unarchive (see `api::subdistrict_archive`).
pub async fn subdistrict_archive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global("subdistricts")?, id, true).await
}

pub async fn subdistrict_unarchive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global("subdistricts")?, id, false).await
}

pub async fn g_unarchive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global(&path)?, id, false).await
}
