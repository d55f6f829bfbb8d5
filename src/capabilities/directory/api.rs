//! The JSON API of the directory: the public search (no sign-in), as the public page
//! answers it. Providers, locations and listings themselves are records, served by the
//! record engine's API (`/api/v1/communities/{code}/listings`…).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Listing;
use super::pages::{AskQuery, now_local, search};
use crate::error::{AppError, AppResult, Problem};
use crate::web::AppState;
use crate::web::api::Code;

/// The directory of a community, searched (no sign-in)
///
/// Fresh listings (verified within 180 days) that answer the search: by `need`, words in
/// `q`, `open_now=true`, and within `walk` minutes (5, 10, 15 or 30) of `lat`,`lng` or
/// of the compound `from`; nearest first when a place is given. Times are China time.
#[utoipa::path(get, path = "/api/v1/public/{code}/services", tag = "directory", params(Code),
    responses((status = 200, description = "The listings found, with whether each is open now"),
        (status = 422, description = "A search field out of range, named", body = Problem),
        (status = 404, description = "No such community", body = Problem)))]
pub async fn search_services(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<AskQuery>,
) -> AppResult<Response> {
    let c = crate::auth::guard::public_community(&s.db, &code).await?;
    let (ask, listings, hours) = search(&s, &c, &q).await?.map_err(AppError::Invalid)?;
    let calendar = s.holidays.calendar(&s.db).await?;
    let now = now_local();
    let found: Vec<Answer<'_>> = super::find(&listings, &hours, &calendar, now, &ask)
        .iter()
        .map(|f| Answer {
            listing: f.listing,
            open_now: f.open,
            closes_at: f.closes.map(china_time),
            next_open: f.next_open.map(china_time),
            walk_minutes: f.minutes.map(|m| m.ceil() as i64),
            verified: f.listing.verified_at.map(crate::web::fmt::rfc3339),
        })
        .collect();
    // Serialized here, while the listings it borrows are at hand.
    Ok(Json(Answers { community: c.name, total: found.len(), items: found }).into_response())
}

/// The search's answer, serialized as it is (no JSON tree built first).
#[derive(Serialize)]
struct Answers<'a> {
    community: String,
    total: usize,
    items: Vec<Answer<'a>>,
}

fn china_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:00+08:00").to_string()
}

/// A listing found, as the API answers it: its own fields, then how it stands now. Written
/// straight from the listing (no map of each answer built first: the search answers many).
#[derive(Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    listing: &'a Listing,
    open_now: bool,
    closes_at: Option<String>,
    next_open: Option<String>,
    walk_minutes: Option<i64>,
    #[serde(rename = "verified_at")]
    verified: Option<String>,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_services))
}
