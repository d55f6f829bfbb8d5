//! The grid worker's field page for bad networks: the households to check, the first tier
//! first, each with one-tap results. `assets/field.js` keeps each tap on the phone with
//! its own key and the version it was made on, and sends it to the API when the network
//! lets it (a conflict is kept and shown); a service worker of the incident's own
//! (`field-sw.js`) keeps the page and its assets, so that it opens again without network.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::super::store::{self, Check, Incident};
use super::super::{CheckStatus, Tally};
use super::{check_item, check_tag, status_tag, tally_kpis};
use crate::auth::guard::visible_community;
use crate::error::AppError;
use crate::web::ui::{Kpi, Tag};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, render};

/// A household on the list: its check, the version a tap is made on, and how it reads.
pub struct Line {
    pub id: i64,
    pub version: i64,
    pub href: String,
    pub title: String,
    pub sub: String,
    pub tag: Tag,
}

#[derive(Template)]
#[template(path = "emergency/field.html")]
pub struct FieldPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub incident: String,
    pub incident_tag: Tag,
    pub rounds: String,
    pub kpis: Vec<Kpi>,
    pub lines: Vec<Line>,
    /// The results one tap records (not "to check"), as (status, label).
    pub results: Vec<(String, String)>,
    /// Where a tap is sent: this prefix, the check's id, `/changes`.
    pub api: String,
    /// The incident's service worker.
    pub worker: String,
}

pub fn field_view(ctx: PageCtx, code: &str, incident: &Incident, checks: &[Check]) -> FieldPage {
    let mut t = Tally::default();
    for w in checks {
        t.add(w.status, w.tier, 1);
    }
    let lines = checks
        .iter()
        .map(|w| {
            let item = check_item(&ctx, code, w);
            Line {
                id: w.id,
                version: w.version,
                href: item.href.unwrap_or_default(),
                title: item.title,
                sub: item.sub,
                tag: check_tag(&ctx, w.status),
            }
        })
        .collect();
    let results = CheckStatus::ALL
        .iter()
        .skip(1)
        .map(|s| (s.as_str().to_string(), ctx.t(&format!("emergency.check.{}", s.as_str()))))
        .collect();
    let base = format!("/c/{code}/incidents/{}", incident.id);
    FieldPage {
        title: ctx.t("emergency.field"),
        crumbs: vec![(format!("/c/{code}/incidents"), ctx.t("emergency.title"))],
        alert: None,
        incident: incident.title.clone(),
        incident_tag: status_tag(&ctx, incident.status),
        rounds: format!("{base}/rounds.pdf"),
        kpis: tally_kpis(&ctx, &t, None, 0),
        lines,
        results,
        api: format!("/api/v1/communities/{code}/welfare-checks/"),
        worker: format!("{base}/field-sw.js"),
        ctx,
    }
}

/// `GET /c/{code}/incidents/{id}/field`: a grid worker's own grids and what was handed
/// to them, a helper what was handed to them, staff all.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    // Helpers too: each sees the households handed to them.
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let incident = store::incident(&mut conn, c.id, id).await?;
    let all = store::checks(&mut conn, c.id, id, &store::whose(&actor, c.id)).await?;
    drop(conn);
    render(&field_view(ctx, &code, &incident, &all))
}

/// `GET /c/{code}/incidents/{id}/field-sw.js`: the service worker, served within the
/// incident's path so that its scope is this incident's pages and no others.
pub async fn service_worker(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, _)): Path<(String, i64)>,
) -> Result<Response, crate::web::PageError> {
    visible_community(&state.db, &actor, &code).await?;
    let js = crate::web::assets::text("field-sw.js").ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], js)
        .into_response())
}
