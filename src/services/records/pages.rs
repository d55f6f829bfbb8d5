//! Pages for every record kind: list with search and filters, record with its history,
//! forms with inline errors. Community records live under `/c/{code}/{kind}`; platform
//! records (subdistricts, communities) under `/{kind}`.
//!
//! This file holds what the pages share (the target of a URL, how values read, the
//! crumbs, rows of records); the list is in `list`, the forms in `forms`, a record's own
//! page in `record`, and the handlers the routes name in `routes`.

mod forms;
mod list;
mod record;
mod routes;

use std::collections::HashMap;

use serde_json::Value;

use super::model::{EntityDef, Field, Kind, Tenancy};
use super::store::Record;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::web::{AppState, PageCtx};

pub use forms::FormField;
pub use list::{FilterView, community_list, global_list, list_params, subdistrict_list};
pub use record::{AuditView, ChildView, ShowField, audit_views};
pub use routes::{
    c_archive, c_create, c_edit, c_home, c_new, c_reveal, c_show, c_unarchive, c_update, g_archive, g_create, g_edit,
    g_new, g_show, g_unarchive, g_update, subdistrict_archive, subdistrict_unarchive,
};

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
        (Kind::Set(_), Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|v| ctx.t(&format!("choice.{}.{}.{}", def.kind, f.name, v)))
            .collect::<Vec<_>>()
            .join("、"),
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
