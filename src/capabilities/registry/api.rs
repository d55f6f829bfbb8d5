//! The registry's JSON API beyond its records: a community's users, the personal-data
//! access log, and the registry's import and export.

use axum::Json;
use axum::body::Bytes;
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
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::By;
use crate::web::api::ApiJson;
use crate::web::openapi::{body, invalid, item, ok, op, path_param, query_param};
use crate::web::{AppState, Signed};
use utoipa::openapi::path::{HttpMethod, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Paths, Required};

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

pub async fn access_log(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s.db, a.actor(), &code).await?;
    let rows = crate::services::pii::store::access_log(&s.db, a.actor(), c.id, 1000).await?;
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

pub async fn export(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Response> {
    let c = community(&s.db, a.actor(), &code).await?;
    let rows = transfer::store::export_rows(&s.db, a.actor(), c.id).await?;
    let bytes = transfer::xlsx_table("居民登记", &transfer::store::EXPORT_COLUMNS, &rows)?;
    Ok(transfer::pages::xlsx_download(&format!("{}-居民登记.xlsx", c.name), bytes))
}

/// The OpenAPI paths of the registry's API beyond its records.
pub fn document(paths: &mut Paths) {
    use utoipa::PartialSchema;
    let code = path_param("code", false);
    paths.paths.insert(
        "/api/v1/communities/{code}/users".into(),
        item(vec![
            (
                HttpMethod::Get,
                op("users", "Users holding a role in the community")
                    .parameter(code.clone())
                    .response("200", ok(ObjectBuilder::new().schema_type(Type::Object))),
            ),
            (
                HttpMethod::Post,
                op("users", "Create a user with a role in the community")
                    .parameter(code.clone())
                    .request_body(Some(body(NewUserBody::schema())))
                    .response("201", ok(ObjectBuilder::new().schema_type(Type::Object)))
                    .response("422", invalid()),
            ),
        ]),
    );
    paths.paths.insert(
        "/api/v1/communities/{code}/access-log".into(),
        PathItem::new(
            HttpMethod::Get,
            op("users", "Reveals of personal values (community secretary)")
                .parameter(code.clone())
                .response("200", ok(ObjectBuilder::new().schema_type(Type::Object))),
        ),
    );
    let import = op("registry", "Import households and residents (.xlsx, or CSV in UTF-8 or GBK, as the body)")
        .parameter(code.clone())
        .parameter(query_param("dry_run", Type::Boolean, "check only; every bad row is reported"))
        .parameter(query_param("skip_invalid", Type::Boolean, "import the good rows and leave out the bad ones"))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ContentBuilder::new().build(),
                )
                .content("text/csv", ContentBuilder::new().build())
                .build(),
        ))
        .response("200", ok(ObjectBuilder::new().schema_type(Type::Object)))
        .response("422", ResponseBuilder::new().description("The file has errors; nothing was imported").build());
    paths.paths.insert("/api/v1/communities/{code}/import".into(), PathItem::new(HttpMethod::Post, import));
    paths.paths.insert(
        "/api/v1/communities/{code}/export/residents.xlsx".into(),
        PathItem::new(
            HttpMethod::Get,
            op("registry", "The registry as .xlsx, masked")
                .parameter(code)
                .response("200", ResponseBuilder::new().description("An .xlsx file").build()),
        ),
    );
}
