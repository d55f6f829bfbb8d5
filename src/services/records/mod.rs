//! The generic record engine: definitions and validation (`model`), queries (`store`),
//! pages and API handlers for every record kind the capabilities declare (places, people
//! and organisation; ticket categories; rewards and commendations).

pub mod api;
pub mod model;
pub mod pages;
pub mod store;

use std::sync::OnceLock;

use axum::Router;
use axum::routing::{get, post};
use model::EntityDef;

use crate::web::AppState;

static KINDS: OnceLock<Vec<&'static EntityDef>> = OnceLock::new();

/// Makes the record kinds of the capabilities known (at start; the same list every
/// time, as the capabilities are compiled in).
pub fn register(defs: impl IntoIterator<Item = &'static EntityDef>) {
    KINDS.get_or_init(|| defs.into_iter().collect());
}

/// Every record kind the engine serves.
pub fn all() -> &'static [&'static EntityDef] {
    KINDS.get().map(Vec::as_slice).unwrap_or_default()
}

pub fn by_kind(kind: &str) -> Option<&'static EntityDef> {
    all().iter().copied().find(|d| d.kind == kind)
}

pub fn by_path(path: &str) -> Option<&'static EntityDef> {
    all().iter().copied().find(|d| d.path == path)
}

/// The pages and the JSON API of every record kind, by its path segment.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/c/{code}", get(pages::c_home))
        .route("/c/{code}/{path}", get(pages::community_list).post(pages::c_create))
        .route("/c/{code}/{path}/new", get(pages::c_new))
        .route("/c/{code}/{path}/{id}", get(pages::c_show).post(pages::c_update))
        .route("/c/{code}/{path}/{id}/edit", get(pages::c_edit))
        .route("/c/{code}/{path}/{id}/archive", post(pages::c_archive))
        .route("/c/{code}/{path}/{id}/unarchive", post(pages::c_unarchive))
        .route("/c/{code}/{path}/{id}/reveal/{field}", post(pages::c_reveal))
        .route("/subdistricts/{id}/{path}", get(pages::subdistrict_list))
        .route("/subdistricts/{id}/archive", post(pages::subdistrict_archive))
        .route("/subdistricts/{id}/unarchive", post(pages::subdistrict_unarchive))
        .route("/{path}", get(pages::global_list).post(pages::g_create))
        .route("/{path}/new", get(pages::g_new))
        .route("/{path}/{id}", get(pages::g_show).post(pages::g_update))
        .route("/{path}/{id}/edit", get(pages::g_edit))
        .route("/{path}/{id}/archive", post(pages::g_archive))
        .route("/{path}/{id}/unarchive", post(pages::g_unarchive))
        .route("/api/v1/communities/{code}/{path}", get(api::c_list).post(api::c_create))
        .route("/api/v1/communities/{code}/{path}/{id}", get(api::c_get).patch(api::c_update))
        .route("/api/v1/communities/{code}/{path}/{id}/archive", post(api::c_archive))
        .route("/api/v1/communities/{code}/{path}/{id}/unarchive", post(api::c_unarchive))
        .route("/api/v1/communities/{code}/{path}/{id}/reveal", post(api::c_reveal))
        .route("/api/v1/subdistricts/{id}/{path}", get(api::subdistrict_list))
        .route("/api/v1/subdistricts/{id}/archive", post(api::subdistrict_archive))
        .route("/api/v1/subdistricts/{id}/unarchive", post(api::subdistrict_unarchive))
        .route("/api/v1/communities/{code}", get(api::community_get).patch(api::community_update))
        .route("/api/v1/communities/{code}/archive", post(api::community_archive))
        .route("/api/v1/communities/{code}/unarchive", post(api::community_unarchive))
        .route("/api/v1/{path}", get(api::g_list).post(api::g_create))
        .route("/api/v1/{path}/{id}", get(api::g_get).patch(api::g_update))
        .route("/api/v1/{path}/{id}/archive", post(api::g_archive))
        .route("/api/v1/{path}/{id}/unarchive", post(api::g_unarchive))
}
