//! The forms to create and edit a record, built from its kind's fields, shown again with
//! inline errors when the values are refused.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use serde_json::{Map, Value};

use super::{Crumb, Opt, Target, care_tags, crumbs};
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::services::records;
use crate::services::records::model::{EntityDef, Field, Kind, Mode};
use crate::services::records::store;
use crate::web::AppState;
use crate::web::form::query_param;
use crate::web::{Notice, PageCtx, PageResult, done};

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
        let text = field_text(&raw);
        let Widget { input, options, hint } = widget(state, ctx, t, f, &raw, &text, editing).await?;
        let value = field_value(f, &raw, text);
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

/// A field's current value as plain text (lists joined with `，`), used to mark the
/// selected option and as the input's value.
fn field_text(raw: &Value) -> String {
    match raw {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("，"),
        other => other.to_string(),
    }
}

/// The value put back into the input: never a masked one, JSON for shapes and
/// questions, else the text or the field's default.
fn field_value(f: &Field, raw: &Value, text: String) -> String {
    match (f.kind, raw) {
        // Masked values are never put back into a form.
        (Kind::Phone | Kind::IdNumber, Value::String(s)) if s.contains('*') => String::new(),
        (Kind::Polygon, Value::Object(_)) | (Kind::Questions, Value::Array(_)) => {
            serde_json::to_string(raw).unwrap_or_default()
        }
        (Kind::Bool, Value::Bool(b)) => b.to_string(),
        _ if text.is_empty() => f.default.unwrap_or_default().to_string(),
        _ => text,
    }
}

/// How a field is entered: the input type, its options (selects, tags) and a hint.
struct Widget {
    input: &'static str,
    options: Vec<Opt>,
    hint: String,
}

impl Widget {
    fn plain(input: &'static str) -> Widget {
        Widget { input, options: Vec::new(), hint: String::new() }
    }

    fn hinted(input: &'static str, hint: String) -> Widget {
        Widget { input, options: Vec::new(), hint }
    }
}

/// The widget for field `f` given its current `text`; looks up the choices of
/// references, users and care tags.
async fn widget(
    state: &AppState,
    ctx: &PageCtx,
    t: &Target,
    f: &Field,
    raw: &Value,
    text: &str,
    editing: bool,
) -> AppResult<Widget> {
    let personal = |input| {
        if editing { Widget::hinted(input, ctx.t("form.personal_keep")) } else { Widget::plain(input) }
    };
    Ok(match f.kind {
        Kind::Text { .. } | Kind::Digits { .. } => Widget::plain("text"),
        Kind::LongText { .. } => Widget::plain("textarea"),
        Kind::Int { .. } | Kind::Float { .. } => Widget::plain("number"),
        Kind::Date => Widget::plain("date"),
        Kind::Bool => Widget::plain("checkbox"),
        Kind::Choice(values) => {
            let mut options =
                vec![Opt { value: String::new(), label: ctx.t("common.choose"), selected: text.is_empty() }];
            options.extend(values.iter().map(|v| Opt {
                value: v.to_string(),
                label: ctx.t(&format!("choice.{}.{}.{}", t.def.kind, f.name, v)),
                selected: *v == text,
            }));
            Widget { input: "select", options, hint: String::new() }
        }
        Kind::Ref(kind) => ref_widget(state, ctx, t, kind, text).await?,
        Kind::UserRef => {
            let choices = match t.community_id() {
                Some(c) => store::user_options(&state.db, c).await?,
                None => Vec::new(),
            };
            Widget { input: "select", options: id_options(ctx, choices, text), hint: String::new() }
        }
        Kind::Tags => {
            let current: Vec<String> = match raw {
                Value::Array(items) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
                _ => Vec::new(),
            };
            let options: Vec<Opt> = care_tags(state, t.community_id())
                .await?
                .into_iter()
                .map(|tag| Opt { selected: current.contains(&tag), value: tag.clone(), label: tag })
                .collect();
            Widget { input: "tags", options, hint: String::new() }
        }
        Kind::FreeTags => Widget::hinted("text", ctx.t("form.tags_hint")),
        Kind::Set(values) => {
            let current: Vec<&str> = match raw {
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let options = values
                .iter()
                .map(|v| Opt {
                    value: v.to_string(),
                    label: ctx.t(&format!("choice.{}.{}.{}", t.def.kind, f.name, v)),
                    selected: current.contains(v),
                })
                .collect();
            Widget { input: "tags", options, hint: String::new() }
        }
        Kind::Polygon => Widget::hinted("geojson", ctx.t("form.geojson_hint")),
        Kind::Questions => Widget::hinted("geojson", ctx.t("form.questions_hint")),
        Kind::Phone => personal("tel"),
        Kind::IdNumber => personal("idnumber"),
    })
}

/// A reference to another record: a select of the community's records of `kind`, or a
/// number input when there are more than 300 of them.
async fn ref_widget(state: &AppState, ctx: &PageCtx, t: &Target, kind: &str, text: &str) -> AppResult<Widget> {
    let target = records::by_kind(kind).expect("known kind");
    let here: Vec<i64> = t.community_id().into_iter().collect();
    let choices = store::options(&state.db, target, &here, 301).await?;
    if choices.len() > 300 {
        return Ok(Widget::hinted("number", ctx.t("form.ref_by_number")));
    }
    Ok(Widget { input: "select", options: id_options(ctx, choices, text), hint: String::new() })
}

/// Select options for `(id, label)` choices after a leading “none”; `text` is the
/// current id.
fn id_options(ctx: &PageCtx, choices: Vec<(i64, String)>, text: &str) -> Vec<Opt> {
    let mut options = vec![Opt { value: String::new(), label: ctx.t("common.none"), selected: text.is_empty() }];
    options.extend(choices.into_iter().map(|(id, label)| Opt {
        selected: id.to_string() == text,
        value: id.to_string(),
        label,
    }));
    options
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

pub(super) async fn new_form(state: AppState, ctx: PageCtx, actor: Actor, t: Target, query: String) -> PageResult {
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

pub(super) async fn create(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    t: Target,
    form: Map<String, Value>,
) -> PageResult {
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

pub(super) async fn edit_form(state: AppState, ctx: PageCtx, actor: Actor, t: Target, id: i64) -> PageResult {
    let r = store::get(&state.db, &actor, t.def, t.community_id(), id).await?;
    let url = t.record_url(id);
    form_page(&state, ctx, &t, url.clone(), url, &r.values, None, true).await
}

pub(super) async fn update(
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
