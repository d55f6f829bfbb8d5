//! Ticket pages: the phone form, lists per view, a ticket with its actions and history,
//! the map of open tickets, statistics with charts, the inbox, and household plates.

mod detail;
mod dispatching;
mod homepage;
mod lists;
mod plates;
mod statistics;
mod submitting;

pub use detail::{ActionView, act, show};
pub use dispatching::dispatch_picked;
pub use homepage::home;
pub use lists::{Line, filters_from, list, map_page, subdistrict_list};
pub use plates::{Plate, grid_plates, household_plate, plate_form, plate_submit, plate_token};
pub use statistics::{
    GridQuery, LEDGER_COLUMNS, community_ledger, community_stats, ledger_rows, subdistrict_ledger, subdistrict_stats,
};
pub use submitting::{create, new_page};

use serde_json::{Map, Value};

use super::Status;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media;
use crate::web::form::{Upload, text};
use crate::web::{AppState, PageCtx};

/// Photos from a form, checked; errors name the field.
pub fn photos_of(files: Vec<Upload>) -> AppResult<Vec<(Vec<u8>, media::Checked)>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files.into_iter().filter(|f| f.field == "photos") {
        match media::check("photos", &f.bytes) {
            Ok(c) => out.push((f.bytes, c)),
            Err(e) => errors.push(e),
        }
    }
    if out.len() > 9 {
        errors.push(FieldError::new("photos", "ticket.too_many_photos").with("max", 9));
    }
    if errors.is_empty() { Ok(out) } else { Err(AppError::Invalid(errors)) }
}

fn opt_i64(m: &Map<String, Value>, k: &str) -> AppResult<Option<i64>> {
    match text(m, k).trim() {
        "" => Ok(None),
        s => s.parse().map(Some).map_err(|_| AppError::field(k.to_string(), "validation.integer")),
    }
}

fn opt_f64(m: &Map<String, Value>, k: &str) -> AppResult<Option<f64>> {
    match text(m, k).trim() {
        "" => Ok(None),
        s => s
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| AppError::field(k.to_string(), "validation.number")),
    }
}

fn opt_text(m: &Map<String, Value>, k: &str) -> Option<String> {
    Some(text(m, k)).filter(|s| !s.trim().is_empty())
}

pub fn status_label(ctx: &PageCtx, s: &str) -> String {
    ctx.t(&format!("ticket.status.{s}"))
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Submitted | Status::Reopened => "tag-orange",
        Status::Resolved | Status::Closed => "tag-green",
        Status::Rejected | Status::Duplicate => "tag-grey",
        _ => "",
    }
}

async fn category_names(state: &AppState, community_ids: &[i64]) -> AppResult<std::collections::HashMap<i64, String>> {
    let mut b = crate::db::Builder::new("SELECT id, name FROM ticket_categories WHERE community_id IN ");
    b.list(community_ids.iter().copied());
    let mut conn = state.db.read_over(community_ids).await?;
    Ok(b.build().fetch_all::<(i64, String)>(&mut conn).await?.into_iter().collect())
}

async fn subdistrict_communities(state: &AppState, actor: &Actor, id: i64) -> AppResult<Vec<CommunityRef>> {
    match crate::auth::guard::subdistrict_community_refs(&state.db, actor, id).await? {
        (_, all) if all.is_empty() => Err(AppError::NotFound),
        (_, all) => Ok(all),
    }
}

/// The community's ticket categories as a select's options.
pub async fn category_options(state: &AppState, community_id: i64) -> AppResult<Vec<(String, String)>> {
    let dir = super::runtime(state).directory(&state.db, community_id).await?;
    Ok(dir.categories.iter().map(|c| (c.id.to_string(), format!("{} {}", c.code, c.name))).collect())
}
