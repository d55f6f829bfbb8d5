//! The registry's JSON API beyond its records: a community's users, the personal-data
//! access log, and the registry's import and export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::people::users::{self, NewUser};
use super::transfer;
use super::transfer::store::Mode as ImportMode;
use crate::auth::guard::visible_community as community;
use crate::auth::model::{Grant, Role};
use crate::error::Problem;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::By;
use crate::web::api::{ApiJson, Code};
use crate::web::{AppState, Signed};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Users holding a role in the community
#[utoipa::path(get, path = "/api/v1/communities/{code}/users", tag = "users", params(Code),
    responses((status = 200, description = "The users"), (status = 404, description = "Not a community you see", body = Problem)))]
pub async fn users(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s.db, a.actor(), &code).await?;
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

/// Create a user with a role in the community
#[utoipa::path(post, path = "/api/v1/communities/{code}/users", tag = "users", params(Code), request_body = NewUserBody,
    responses((status = 201, description = "The new user's id"), (status = 422, description = "Invalid input", body = Problem)))]
pub async fn create_user(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<NewUserBody>,
) -> AppResult<Response> {
    let c = community(&s.db, a.actor(), &code).await?;
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

/// Reveals of personal values (community secretary)
#[utoipa::path(get, path = "/api/v1/communities/{code}/access-log", tag = "users", params(Code),
    responses((status = 200, description = "Who saw which personal value, newest first"),
        (status = 404, description = "Not yours to read", body = Problem)))]
pub async fn access_log(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s.db, a.actor(), &code).await?;
    let rows = crate::services::pii::store::access_log(&s.db, a.actor(), c.id, 1000).await?;
    Ok(Json(json!({ "items": rows.into_iter().map(|r| json!({
        "at": crate::web::fmt::rfc3339(r.at), "user": r.user_name, "entity": r.entity, "entity_id": r.entity_id, "field": r.field,
    })).collect::<Vec<_>>() })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check only; every bad row is reported.
    #[serde(default)]
    dry_run: bool,
    /// Import the good rows and leave out the bad ones.
    #[serde(default)]
    skip_invalid: bool,
}

/// Import households and residents (.xlsx, or CSV in UTF-8 or GBK, as the body)
#[utoipa::path(post, path = "/api/v1/communities/{code}/import", tag = "registry", params(Code, ImportQuery),
    request_body(description = "The file", content(("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("text/csv"))),
    responses((status = 200, description = "The report: rows checked, imported, and every bad row"),
        (status = 422, description = "The file has errors; nothing was imported", body = Problem)))]
pub async fn import(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let c = community(&s.db, a.actor(), &code).await?;
    if body.is_empty() {
        return Err(AppError::field("file", "validation.required"));
    }
    let mode = match (q.dry_run, q.skip_invalid) {
        (true, _) => ImportMode::DryRun,
        (false, true) => ImportMode::SkipInvalid,
        (false, false) => ImportMode::Import,
    };
    let report =
        transfer::store::import(&s.db, &s.pii, Some(a.actor()), &By::from(a.actor()), c.id, &body, mode).await?;
    // A check that finds errors is a successful check; an import refused for them is not.
    let refused = mode != ImportMode::DryRun && !report.applied && !report.errors.is_empty();
    let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(report)).into_response())
}

/// The registry as .xlsx, masked
#[utoipa::path(get, path = "/api/v1/communities/{code}/export/residents.xlsx", tag = "registry", params(Code),
    responses((status = 200, description = "An .xlsx file"), (status = 404, description = "Not a community you see", body = Problem)))]
pub async fn export(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Response> {
    let c = community(&s.db, a.actor(), &code).await?;
    let rows = transfer::store::export_rows(&s.db, a.actor(), c.id).await?;
    let bytes = crate::services::sheets::xlsx_table("居民登记", &transfer::store::EXPORT_COLUMNS, &rows)?;
    Ok(crate::services::sheets::download(&c.name, "居民登记", bytes))
}

/// The registry's API beyond its records, each route with its operation.
pub fn routes() -> OpenApiRouter<AppState> {
    let upload = DefaultBodyLimit::max(transfer::pages::MAX_UPLOAD + 64 * 1024);
    OpenApiRouter::new()
        .routes(routes!(users, create_user))
        .routes(routes!(access_log))
        .routes(routes!(import).layer(upload))
        .routes(routes!(export))
}
