//! Photos served to those who may see what they belong to.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::{Format, Media};
use crate::auth::model::Actor;
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::{AppState, PageResult, SignedPage};

pub fn routes() -> Router<AppState> {
    Router::new().route("/c/{code}/media/{id}", get(photo)).route("/c/{code}/media/{id}/thumb", get(thumbnail))
}

/// Whether the actor may see the record a photo belongs to: the capability that keeps
/// photos of that kind answers.
async fn may_view(state: &AppState, actor: &Actor, m: &Media) -> AppResult<bool> {
    match state.caps.iter().flat_map(|c| c.media.iter()).find(|(kind, _)| *kind == m.owner_kind) {
        Some((_, check)) => check(state, actor, m).await,
        None => Ok(false),
    }
}

async fn serve(state: AppState, actor: Actor, code: String, id: i64, thumb: bool) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let m = find(&mut state.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)?;
    if !may_view(&state, &actor, &m).await? {
        return Err(AppError::NotFound.into());
    }
    respond(&state, &m, thumb, "private, max-age=86400").await
}

/// The photo's (or its thumbnail's) bytes, for a capability that decided it may be seen
/// (a public page's photos are served with `public` caching).
pub async fn respond(state: &AppState, m: &Media, thumb: bool, cache: &'static str) -> PageResult {
    let format = Format::from_mime(&m.mime).ok_or(AppError::NotFound)?;
    let name = if thumb { format!("{}.thumb.jpg", m.id) } else { format!("{}.{}", m.id, format.ext()) };
    let bytes = tokio::fs::read(super::dir(state, m.community_id).join(name)).await.map_err(|_| AppError::NotFound)?;
    let mime = if thumb { "image/jpeg" } else { format.mime() };
    // A PDF is downloaded, never shown under the site's address (a PDF may carry scripts).
    let how = if format == Format::Pdf && !thumb {
        crate::services::sheets::disposition("attachment", &format!("{}.pdf", m.id))
    } else {
        "inline".to_string()
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, cache.to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_DISPOSITION, how),
        ],
        bytes,
    )
        .into_response())
}

/// One photo of a community by its id.
pub async fn find(ex: &mut impl crate::db::Exec, community_id: i64, id: i64) -> AppResult<Option<Media>> {
    Ok(query(
        "SELECT community_id, id, owner_kind, owner_id, mime, bytes, width, height, created_at FROM media WHERE community_id = $1 AND id = $2",
    )
    .bind(community_id)
    .bind(id)
    .fetch_optional(ex)
    .await?)
}

async fn photo(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    serve(s, a, code, id, false).await
}

async fn thumbnail(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    serve(s, a, code, id, true).await
}
