//! The JSON API for every record kind.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::model::{EntityDef, Mode, Tenancy};
use super::pages::list_params;
use super::store::{self, Page};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::Signed;
use crate::web::api::ApiJson;

fn community_def(path: &str) -> AppResult<&'static EntityDef> {
    super::by_path(path).filter(|d| d.tenancy == Tenancy::Community).ok_or(AppError::NotFound)
}

/// Communities are records like any other, addressed by their code.
fn community_kind() -> AppResult<&'static EntityDef> {
    super::by_kind("community").ok_or(AppError::NotFound)
}

fn global_def(path: &str) -> AppResult<&'static EntityDef> {
    super::by_path(path).filter(|d| d.tenancy == Tenancy::Global).ok_or(AppError::NotFound)
}

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn page_json(p: Page) -> Json<Value> {
    Json(json!({
        "items": p.items.iter().map(store::Record::to_json).collect::<Vec<_>>(),
        "total": p.total,
        "page": p.page,
        "per_page": p.per_page,
    }))
}

fn created(location: String, r: store::Record) -> Response {
    (StatusCode::CREATED, [(header::LOCATION, location)], Json(r.to_json())).into_response()
}

// ---------- community records ----------

pub async fn c_list(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> AppResult<Json<Value>> {
    let def = community_def(&path)?;
    let c = community(&s, a.actor(), &code).await?;
    let params = list_params(def, q.as_deref().unwrap_or(""))?;
    Ok(page_json(store::list(&s.db, &s.pii, a.actor(), def, &[c.id], &params).await?))
}

/// A body whose fields are not of their kind's JSON type is refused before anything else.
fn json_types(def: &EntityDef, body: &Map<String, Value>) -> AppResult<()> {
    let errors = crate::services::records::model::check_json_types(def, body);
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

pub async fn c_create(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> AppResult<Response> {
    let def = community_def(&path)?;
    json_types(def, &body)?;
    let c = community(&s, a.actor(), &code).await?;
    let r = store::create(&s.db, &s.pii, &s.new_community_hooks(), a.actor(), def, Some(c.id), &body).await?;
    Ok(created(format!("/api/v1/communities/{code}/{path}/{}", r.id), r))
}

pub async fn c_get(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> AppResult<Json<Value>> {
    let def = community_def(&path)?;
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::get(&s.db, a.actor(), def, Some(c.id), id).await?.to_json()))
}

pub async fn c_update(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path, id)): Path<(String, String, i64)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let def = community_def(&path)?;
    json_types(def, &body)?;
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::update(&s.db, &s.pii, a.actor(), def, Some(c.id), id, &body, Mode::Partial).await?.to_json()))
}

async fn c_set_archived(
    s: AppState,
    a: Signed,
    code: String,
    path: String,
    id: i64,
    archived: bool,
) -> AppResult<Json<Value>> {
    let def = community_def(&path)?;
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::set_archived(&s.db, a.actor(), def, Some(c.id), id, archived).await?.to_json()))
}

pub async fn c_archive(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> AppResult<Json<Value>> {
    c_set_archived(s, a, code, path, id, true).await
}

pub async fn c_unarchive(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> AppResult<Json<Value>> {
    c_set_archived(s, a, code, path, id, false).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    /// The personal field to show in full: `phone` or `id_number`.
    pub field: String,
}

pub async fn c_reveal(
    State(s): State<AppState>,
    a: Signed,
    Path((code, path, id)): Path<(String, String, i64)>,
    ApiJson(body): ApiJson<RevealBody>,
) -> AppResult<Json<Value>> {
    let def = community_def(&path)?;
    let c = community(&s, a.actor(), &code).await?;
    let value = store::reveal(&s.db, &s.pii, a.actor(), def, c.id, id, &body.field).await?;
    Ok(Json(json!({ "field": body.field, "value": value, "logged": true })))
}

/// A community-level kind across the communities of a subdistrict.
pub async fn subdistrict_list(
    State(s): State<AppState>,
    a: Signed,
    Path((id, path)): Path<(i64, String)>,
    RawQuery(q): RawQuery,
) -> AppResult<Json<Value>> {
    let def = community_def(&path)?;
    let mut conn = s.db.read().await?;
    let ids: Vec<i64> =
        crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL")
            .bind(id)
            .scalars(&mut conn)
            .await?;
    drop(conn);
    let ids: Vec<i64> = ids.into_iter().filter(|c| a.actor().access(*c, def.read).all).collect();
    if ids.is_empty() {
        return Err(AppError::NotFound);
    }
    let params = list_params(def, q.as_deref().unwrap_or(""))?;
    Ok(page_json(store::list(&s.db, &s.pii, a.actor(), def, &ids, &params).await?))
}

// ---------- platform records ----------

pub async fn g_list(
    State(s): State<AppState>,
    a: Signed,
    Path(path): Path<String>,
    RawQuery(q): RawQuery,
) -> AppResult<Json<Value>> {
    let def = global_def(&path)?;
    let params = list_params(def, q.as_deref().unwrap_or(""))?;
    Ok(page_json(store::list(&s.db, &s.pii, a.actor(), def, &[], &params).await?))
}

pub async fn g_create(
    State(s): State<AppState>,
    a: Signed,
    Path(path): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> AppResult<Response> {
    let def = global_def(&path)?;
    json_types(def, &body)?;
    let r = store::create(&s.db, &s.pii, &s.new_community_hooks(), a.actor(), def, None, &body).await?;
    let key = if def.kind == "community" {
        r.values.get("code").and_then(Value::as_str).unwrap_or_default().to_string()
    } else {
        r.id.to_string()
    };
    Ok(created(format!("/api/v1/{path}/{key}"), r))
}

pub async fn g_get(
    State(s): State<AppState>,
    a: Signed,
    Path((path, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let def = global_def(&path)?;
    Ok(Json(store::get(&s.db, a.actor(), def, None, id).await?.to_json()))
}

pub async fn g_update(
    State(s): State<AppState>,
    a: Signed,
    Path((path, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let def = global_def(&path)?;
    json_types(def, &body)?;
    Ok(Json(store::update(&s.db, &s.pii, a.actor(), def, None, id, &body, Mode::Partial).await?.to_json()))
}

pub async fn g_archive(
    State(s): State<AppState>,
    a: Signed,
    Path((path, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let def = global_def(&path)?;
    Ok(Json(store::set_archived(&s.db, a.actor(), def, None, id, true).await?.to_json()))
}

pub async fn g_unarchive(
    State(s): State<AppState>,
    a: Signed,
    Path((path, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let def = global_def(&path)?;
    Ok(Json(store::set_archived(&s.db, a.actor(), def, None, id, false).await?.to_json()))
}

/// A subdistrict's own archive and unarchive (its path's second segment would otherwise
/// read as a kind of record listed under it).
pub async fn subdistrict_archive(State(s): State<AppState>, a: Signed, Path(id): Path<i64>) -> AppResult<Json<Value>> {
    Ok(Json(store::set_archived(&s.db, a.actor(), global_def("subdistricts")?, None, id, true).await?.to_json()))
}

pub async fn subdistrict_unarchive(
    State(s): State<AppState>,
    a: Signed,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    Ok(Json(store::set_archived(&s.db, a.actor(), global_def("subdistricts")?, None, id, false).await?.to_json()))
}

// Communities are addressed by their code.

pub async fn community_get(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::get(&s.db, a.actor(), community_kind()?, None, c.id).await?.to_json()))
}

pub async fn community_update(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    json_types(community_kind()?, &body)?;
    let c = community(&s, a.actor(), &code).await?;
    if body.remove("subdistrict_id").is_some_and(|v| v.as_i64() != Some(c.subdistrict_id)) {
        return Err(AppError::field("subdistrict_id", "validation.fixed"));
    }
    Ok(Json(
        store::update(&s.db, &s.pii, a.actor(), community_kind()?, None, c.id, &body, Mode::Partial).await?.to_json(),
    ))
}

pub async fn community_archive(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::set_archived(&s.db, a.actor(), community_kind()?, None, c.id, true).await?.to_json()))
}

pub async fn community_unarchive(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::set_archived(&s.db, a.actor(), community_kind()?, None, c.id, false).await?.to_json()))
}
