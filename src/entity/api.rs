//! The JSON API for every record kind, and for a community's users, access log and
//! registry import/export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::model::{EntityDef, Mode, Tenancy};
use super::pages::list_params;
use super::store::{self, Page};
use crate::api::ApiJson;
use crate::app::AppState;
use crate::audit::By;
use crate::auth::model::{Actor, Grant, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::people::users::{self, NewUser};
use crate::places::{self, CommunityRef};
use crate::transfer::store::Mode as ImportMode;
use crate::web::Signed;

fn community_def(path: &str) -> AppResult<&'static EntityDef> {
    super::by_path(path).filter(|d| d.tenancy == Tenancy::Community).ok_or(AppError::NotFound)
}

fn global_def(path: &str) -> AppResult<&'static EntityDef> {
    super::by_path(path).filter(|d| d.tenancy == Tenancy::Global).ok_or(AppError::NotFound)
}

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    places::visible_community(&state.db, actor, code).await
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
    let errors = crate::entity::model::check_json_types(def, body);
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
    let r = store::create(&s.db, &s.pii, a.actor(), def, Some(c.id), &body).await?;
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
    let r = store::create(&s.db, &s.pii, a.actor(), def, None, &body).await?;
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

// Communities are addressed by their code.

pub async fn community_get(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::get(&s.db, a.actor(), &places::COMMUNITY, None, c.id).await?.to_json()))
}

pub async fn community_update(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    json_types(&places::COMMUNITY, &body)?;
    let c = community(&s, a.actor(), &code).await?;
    if body.remove("subdistrict_id").is_some_and(|v| v.as_i64() != Some(c.subdistrict_id)) {
        return Err(AppError::field("subdistrict_id", "validation.fixed"));
    }
    Ok(Json(
        store::update(&s.db, &s.pii, a.actor(), &places::COMMUNITY, None, c.id, &body, Mode::Partial).await?.to_json(),
    ))
}

pub async fn community_archive(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::set_archived(&s.db, a.actor(), &places::COMMUNITY, None, c.id, true).await?.to_json()))
}

pub async fn community_unarchive(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(store::set_archived(&s.db, a.actor(), &places::COMMUNITY, None, c.id, false).await?.to_json()))
}

// ---------- people of a community ----------

pub async fn users(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    Ok(Json(json!({ "items": users::list_for_community(&s.db, a.actor(), c.id).await? })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub phone: Option<String>,
    /// community_staff, grid_worker, volunteer, party_member, resident, partner_unit (and
    /// community_secretary for platform administrators).
    pub role: String,
    /// For grid workers.
    pub grid_id: Option<i64>,
    /// For residents.
    pub household_id: Option<i64>,
    /// For partner units.
    pub partner_unit_id: Option<i64>,
    /// For staff: compound_secretary (with the compound's id in `post_place_id`),
    /// zone_secretary (with the zone's id), or field_worker.
    pub post: Option<String>,
    pub post_place_id: Option<i64>,
}

pub async fn create_user(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<NewUserBody>,
) -> AppResult<Response> {
    let c = community(&s, a.actor(), &code).await?;
    let role = Role::parse(&b.role).ok_or_else(|| AppError::field("role", "validation.choice"))?;
    let grant = match role {
        Role::GridWorker => b.grid_id.map(|g| Grant::grid(c.id, g)),
        Role::Resident => b.household_id.map(|h| Grant::household(c.id, h)),
        Role::PartnerUnit => b.partner_unit_id.map(|u| Grant::partner_unit(c.id, u)),
        Role::PlatformAdmin | Role::SubdistrictAdmin => return Err(AppError::field("role", "validation.choice")),
        r => Some(Grant::community(r, c.id)),
    };
    let Some(grant) = grant else {
        let field = match role {
            Role::GridWorker => "grid_id",
            Role::Resident => "household_id",
            _ => "partner_unit_id",
        };
        return Err(AppError::Invalid(vec![FieldError::new(field, "validation.required")]));
    };
    let new = NewUser {
        username: b.username,
        display_name: b.display_name,
        password: b.password,
        phone: b.phone,
        grants: vec![grant],
        post: b.post,
        post_place_id: b.post_place_id,
        ..Default::default()
    };
    let id = users::create(&s.db, &s.pii, Some(a.actor()), &By::from(a.actor()), new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

pub async fn access_log(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, a.actor(), &code).await?;
    let rows = crate::pii::store::access_log(&s.db, a.actor(), c.id, 1000).await?;
    Ok(Json(json!({ "items": rows.into_iter().map(|r| json!({
        "at": crate::web::fmt::rfc3339(r.at), "user": r.user_name, "entity": r.entity, "entity_id": r.entity_id, "field": r.field,
    })).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    skip_invalid: bool,
}

/// The file is the body (`.xlsx`, or CSV in UTF-8 or GBK).
pub async fn import(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let c = community(&s, a.actor(), &code).await?;
    if body.is_empty() {
        return Err(AppError::field("file", "validation.required"));
    }
    let mode = match (q.dry_run, q.skip_invalid) {
        (true, _) => ImportMode::DryRun,
        (false, true) => ImportMode::SkipInvalid,
        (false, false) => ImportMode::Import,
    };
    let report =
        crate::transfer::store::import(&s.db, &s.pii, Some(a.actor()), &By::from(a.actor()), c.id, &body, mode).await?;
    // A check that finds errors is a successful check; an import refused for them is not.
    let refused = mode != ImportMode::DryRun && !report.applied && !report.errors.is_empty();
    let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(report)).into_response())
}

pub async fn export(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Response> {
    let c = community(&s, a.actor(), &code).await?;
    let rows = crate::transfer::store::export_rows(&s.db, a.actor(), c.id).await?;
    let bytes = crate::transfer::xlsx_table("居民登记", &crate::transfer::store::EXPORT_COLUMNS, &rows)?;
    Ok(crate::transfer::pages::xlsx_download(&format!("{}-居民登记.xlsx", c.name), bytes))
}
