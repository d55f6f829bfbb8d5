//! Residents' requests 诉求/工单: 群众点单 submit → 平台派单 dispatch → 接单 accept →
//! 办理 progress → 办结 resolve → 群众评单 rate, with a designated owner, deadlines and
//! escalation 督办, whistles 吹哨 that call units in, follow-up visits 回访, and the 五连问.
//!
//! This module registers the capability; the rules (plain types and functions, no I/O)
//! are in `lifecycle`, `tally` and `categories`, re-exported here.

pub mod api;
pub mod demo;
pub mod dictionary;
pub mod jobs;
pub mod open311;
pub mod pages;
pub mod stats;
pub mod store;

mod categories;
mod lifecycle;
mod tally;

pub use categories::{CATEGORY, DEFAULT_CATEGORIES, DefaultCategory};
pub use lifecycle::{Action, Channel, Handler, Standing, Status, after_rating, escalation_due, next_status};
pub use tally::{
    DURATION_BUCKETS, Facts, bucket_range, bucket_starts, duration_bucket, locate, median_ranks, tally_delta,
};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use futures::future::BoxFuture;

use crate::error::AppResult;
use crate::services::settings::Setting;
use crate::web::AppState;
use crate::web::capability::{Capability, Job, NavEntry, RecordExtras, SubjectLink, Whereabouts};

/// Ticket forms carry photos: up to nine at the photo limit.
const UPLOAD_LIMIT: usize = 9 * crate::services::media::MAX_BYTES + 64 * 1024;

pub static CAP: Capability = Capability {
    figures: Some(&dictionary::SOURCE),
    api: Some(api::routes),
    records: &[&CATEGORY],
    settings: &[&REOPEN_LIMIT, &AUTOCLOSE_DAYS],
    home: Some(pages::home),
    nav: Some(nav),
    record_page: Some(record_page),
    links: &[
        SubjectLink::new("ticket", "/c/{code}/tickets/{id}", "inbox.group.escalate").of("escalate"),
        SubjectLink::new("ticket", "/c/{code}/tickets/{id}", "inbox.group.tickets"),
    ],
    media: &[("ticket", store::media_check)],
    on_new_community: Some(new_community),
    on_start: Some(on_start),
    jobs: &[Job { name: "tickets: escalation and closing", run: run_jobs }],
    runtime: Some(|r| {
        r.insert(std::sync::Arc::new(store::Runtime::default()));
    }),
    ..Capability::new("tickets", routes)
};

/// How often a resident may reopen a ticket by a low rating.
pub static REOPEN_LIMIT: Setting = Setting::int("tickets:reopen_limit", "ticket_reopen_limit", 0, 10, "2").on_record();
/// Days after which a resolved ticket nobody rated closes itself.
pub static AUTOCLOSE_DAYS: Setting =
    Setting::int("tickets:autoclose_days", "ticket_autoclose_days", 1, 90, "7").on_record();

/// A ticket as the subject of a notification.
pub fn subject(id: i64) -> crate::services::notify::Subject {
    crate::services::notify::Subject { kind: "ticket", id }
}

/// What the tickets keep while the server runs.
pub fn runtime(state: &AppState) -> &store::Runtime {
    state.runtime::<std::sync::Arc<store::Runtime>>()
}

fn nav(actor: &crate::auth::model::Actor, at: &Whereabouts<'_>) -> Vec<NavEntry> {
    let href = match (at.community, at.subdistrict) {
        (Some(c), _) => format!("/c/{}/tickets", c.code),
        (None, Some(s)) => format!("/subdistricts/{s}/tickets"),
        _ => return Vec::new(),
    };
    // Residents ask and the office works tickets: each reads the tab in their own words.
    let asks_only = at.community.is_some_and(|c| {
        let mut here = actor.grants.iter().filter(|g| g.community_id == Some(c.id)).peekable();
        here.peek().is_some() && here.all(|g| g.role() == crate::auth::model::Role::Resident)
    });
    let label_key = if asks_only { "nav.my_requests" } else { "nav.tickets" };
    vec![NavEntry { order: 10, href, label_key, icon: "list" }]
}

/// A household's page leads to a new request for it and its plate; a grid's to its
/// requests, their figures and its plates.
fn record_page<'a>(
    _: &'a AppState,
    ctx: &'a crate::web::PageCtx,
    _: &'a crate::auth::model::Actor,
    kind: &'a str,
    c: &'a crate::auth::guard::CommunityRef,
    id: i64,
) -> BoxFuture<'a, AppResult<RecordExtras>> {
    let code = &c.code;
    let links = match kind {
        "household" => vec![
            (format!("/c/{code}/tickets/new?household_id={id}"), ctx.t("ticket.new")),
            (format!("/c/{code}/plates/household/{id}"), ctx.t("ticket.plate")),
        ],
        "grid" => vec![
            (format!("/c/{code}/tickets?view=all&grid_id={id}"), ctx.t("ticket.title")),
            (format!("/c/{code}/tickets/stats?grid_id={id}"), ctx.t("ticket.stats")),
            (format!("/c/{code}/plates/grid/{id}"), ctx.t("ticket.plate")),
        ],
        _ => Vec::new(),
    };
    Box::pin(std::future::ready(Ok(RecordExtras { links, map: None })))
}

/// A new community starts with the usual categories.
fn new_community(tx: &mut crate::db::Tx, id: i64) -> BoxFuture<'_, AppResult<()>> {
    Box::pin(store::ensure_categories(tx, id))
}

/// Every community has categories (those made before tickets existed get theirs).
fn on_start<'a>(db: &'a crate::db::Db, _: &'a crate::services::pii::Pii) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move { store::ensure_all_categories(db).await.map_err(|e| anyhow::anyhow!("{e}")) })
}

fn run_jobs(state: &AppState, now: i64) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move { jobs::run_once(state, now).await.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}")) })
}

fn routes() -> Router<AppState> {
    let upload = || DefaultBodyLimit::max(UPLOAD_LIMIT);
    Router::new()
        .route("/c/{code}/tickets", get(pages::list).post(pages::create).layer(upload()))
        .route("/c/{code}/tickets/dispatch", post(pages::dispatch_picked))
        .route("/c/{code}/tickets/new", get(pages::new_page))
        .route("/c/{code}/tickets/map", get(pages::map_page))
        .route("/c/{code}/tickets/stats", get(pages::community_stats))
        .route("/c/{code}/tickets.xlsx", get(pages::community_ledger))
        .route("/c/{code}/tickets/{id}", get(pages::show))
        .route("/c/{code}/tickets/{id}/act", post(pages::act).layer(upload()))
        .route("/c/{code}/plates/household/{id}", get(pages::household_plate))
        .route("/c/{code}/plates/grid/{id}", get(pages::grid_plates))
        .route("/subdistricts/{id}/tickets", get(pages::subdistrict_list))
        .route("/subdistricts/{id}/tickets/stats", get(pages::subdistrict_stats))
        .route("/subdistricts/{id}/tickets.xlsx", get(pages::subdistrict_ledger))
        .route("/plate/{token}", get(pages::plate_form).post(pages::plate_submit))
        // The API and Open311 are in `api::routes`; this alias of a request is not documented.
        .route("/open311/v2/request/{file}", get(open311::one))
}

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Hides phone and ID numbers inside free text before it is shown publicly.
pub fn mask_numbers(text: &str) -> String {
    static RE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\d{17}[\dXx]|1[3-9]\d{9}").expect("valid pattern"));
    RE.replace_all(text, |c: &regex::Captures| {
        let m = &c[0];
        if m.len() == 11 { crate::services::pii::mask_phone(m) } else { crate::services::pii::mask_id_number(m) }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_public_text_are_masked() {
        let text = "我是13812345678，身份证11010519491231002X，楼道灯坏了3天";
        assert_eq!(mask_numbers(text), "我是138****5678，身份证110***********002X，楼道灯坏了3天");
    }
}
