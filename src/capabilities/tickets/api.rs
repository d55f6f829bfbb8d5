//! The tickets' JSON API (the Open311 API is in `open311`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::stats::{self, Scope};
use super::store::{self, ActionInput, NewTicket, Ticket, View};
use super::{Action, Channel, open311};
use crate::error::{AppError, AppResult, Problem};
use crate::web::AppState;
use crate::web::api::{ApiJson, Code, CodeId, SubdistrictId};
use crate::web::{Signed, fmt};

pub fn ticket_json(t: &Ticket) -> Value {
    json!({
        "id": t.id,
        "community_id": t.community_id,
        "category_id": t.category_id,
        "channel": t.channel,
        "status": t.status,
        "description": t.description,
        "household_id": t.household_id,
        "grid_id": t.grid_id,
        "lat": t.lat,
        "lng": t.lng,
        "address": t.address,
        "outside_grid": t.outside_grid,
        "submitter_name": t.submitter_name,
        "caller_phone": t.caller_phone_masked,
        "owner_user_id": t.owner_user_id,
        "pool_team_id": t.pool_team_id,
        "pool_unit_id": t.pool_unit_id,
        "due_at": fmt::rfc3339(t.due_at),
        "overdue": t.is_overdue(crate::db::now_ms()),
        "escalation_level": t.escalation_level,
        "reopen_count": t.reopen_count,
        "rating": t.rating,
        "rating_comment": t.rating_comment,
        "duplicate_of": t.duplicate_of,
        "five_questions": {"need": t.q_need, "cause": t.q_cause, "plan": t.q_plan, "progress": t.q_progress, "outcome": t.q_outcome},
        "created_at": fmt::rfc3339(t.created_at),
        "updated_at": fmt::rfc3339(t.updated_at),
        "accepted_at": t.accepted_at.map(fmt::rfc3339),
        "resolved_at": t.resolved_at.map(fmt::rfc3339),
        "closed_at": t.closed_at.map(fmt::rfc3339),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submit {
    pub category_id: i64,
    pub description: String,
    pub household_id: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: Option<String>,
    /// `web` (default), `hotline` (staff, for a caller) or `patrol` (grid workers).
    pub channel: Option<String>,
    /// Hotline: the caller's name and number.
    pub submitter_name: Option<String>,
    pub caller_phone: Option<String>,
}

/// Submit a ticket (Idempotency-Key: a retry answers the first)
///
/// With an `Idempotency-Key` header, a retry with the same key answers the first ticket
/// (200) instead of making another.
#[utoipa::path(post, path = "/api/v1/communities/{code}/tickets", tag = "tickets", params(Code), request_body = Submit,
    responses((status = 201, description = "The ticket (its address in Location)"),
        (status = 200, description = "A retry: the ticket the key first made"),
        (status = 422, description = "Invalid input", body = Problem),
        (status = 409, description = "The key made a ticket that changed since", body = Problem)))]
pub async fn submit(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<Submit>,
) -> AppResult<Response> {
    let c = crate::auth::guard::visible_community(&s.db, a.actor(), &code).await?;
    let channel = match b.channel.as_deref() {
        None => Channel::Web,
        Some(ch) => match Channel::parse(ch) {
            Some(c @ (Channel::Web | Channel::Hotline | Channel::Patrol)) => c,
            _ => return Err(AppError::field("channel", "validation.choice")),
        },
    };
    let new = NewTicket {
        category_id: Some(b.category_id),
        description: b.description,
        channel: Some(channel),
        household_id: b.household_id,
        lat: b.lat,
        lng: b.lng,
        address: b.address,
        submitter_name: b.submitter_name,
        caller_phone: b.caller_phone,
        attributes: None,
        idempotency_key: headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from),
    };
    let (t, created) = store::submit(&s, c.id, Some(a.actor()), new, Vec::new()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, [(header::LOCATION, format!("/api/v1/communities/{code}/tickets/{}", t.id))], Json(ticket_json(&t)))
        .into_response())
}

/// Tickets in view (view, status, category_id, grid_id, overdue, from, to, q, page)
#[utoipa::path(get, path = "/api/v1/communities/{code}/tickets", tag = "tickets", params(Code),
    responses((status = 200, description = "A page of tickets"),
        (status = 422, description = "A filter out of range", body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::visible_community(&s.db, a.actor(), &code).await?;
    let q = q.unwrap_or_default();
    let f = super::pages::filters_from(&q)?;
    let view = match crate::web::form::query_param(&q, "view").as_deref() {
        None => View::All,
        Some(v) => View::ALL
            .into_iter()
            .find(|x| x.as_str() == v)
            .ok_or_else(|| AppError::field("view", "validation.choice"))?,
    };
    let page = crate::web::form::query_int(&q, "page", crate::input::limits::PAGE, 1)? as u32;
    let per_page = crate::web::form::query_int(&q, "per_page", 1..=500, 50)? as u32;
    let r = store::list(&s.db, a.actor(), &[c.id], view, &f, page, per_page).await?;
    Ok(Json(json!({"items": r.items.iter().map(ticket_json).collect::<Vec<_>>(), "total": r.total, "page": page})))
}

/// A ticket with its history, whistles and photos
#[utoipa::path(get, path = "/api/v1/communities/{code}/tickets/{id}", tag = "tickets", params(CodeId),
    responses((status = 200, description = "The ticket, and the actions the caller may take"),
        (status = 404, description = "Not there, or not yours to see", body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::visible_community(&s.db, a.actor(), &code).await?;
    let (t, standing) = store::get(&s.db, a.actor(), c.id, id).await?;
    let mut conn = s.db.read().await?;
    let history = store::history(&mut conn, c.id, id).await?;
    let whistles = store::whistles(&mut conn, c.id, id).await?;
    let photos = crate::services::media::of(&mut conn, c.id, "ticket", id).await?;
    let mut out = ticket_json(&t);
    out["history"] = json!(history.iter().map(|e| json!({"at": fmt::rfc3339(e.at), "by": e.actor_name, "action": e.action, "from": e.from_status, "to": e.to_status, "note": e.note})).collect::<Vec<_>>());
    out["whistles"] = json!(whistles);
    out["photos"] = json!(
        photos.iter().map(|m| json!({"url": m.url(&c.code), "thumbnail": m.thumb_url(&c.code)})).collect::<Vec<_>>()
    );
    out["allowed_actions"] = json!(
        [
            Action::Dispatch,
            Action::Accept,
            Action::Start,
            Action::Resolve,
            Action::Rate,
            Action::Close,
            Action::Reopen,
            Action::Reject,
            Action::Duplicate,
            Action::Reassign,
            Action::Whistle,
            Action::Respond,
            Action::FollowUp,
            Action::Note
        ]
        .into_iter()
        .filter(|x| standing.may(*x) && super::next_status(t.status(), *x).is_ok())
        .map(Action::as_str)
        .collect::<Vec<_>>()
    );
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// dispatch, accept, start, resolve, rate, close, reopen, reject, duplicate, reassign,
    /// note, whistle, respond, follow_up.
    pub action: String,
    pub note: Option<String>,
    pub owner_user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub rating: Option<i64>,
    pub duplicate_of: Option<i64>,
    pub department: Option<String>,
    pub satisfied: Option<bool>,
    pub q_need: Option<String>,
    pub q_cause: Option<String>,
    pub q_plan: Option<String>,
    pub q_progress: Option<String>,
    pub q_outcome: Option<String>,
}

/// Dispatch, accept, start, resolve, rate, reopen, whistle, respond, follow up …
#[utoipa::path(post, path = "/api/v1/communities/{code}/tickets/{id}/actions", tag = "tickets", params(CodeId),
    request_body = ActionBody,
    responses((status = 200, description = "The ticket after the action"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not a step the ticket can take now, or taken by someone else", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn act(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<ActionBody>,
) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::visible_community(&s.db, a.actor(), &code).await?;
    let action = Action::parse(&b.action).ok_or_else(|| AppError::field("action", "validation.choice"))?;
    let input = ActionInput {
        note: b.note,
        owner_user_id: b.owner_user_id,
        team_id: b.team_id,
        unit_id: b.unit_id,
        rating: b.rating,
        duplicate_of: b.duplicate_of,
        department: b.department,
        satisfied: b.satisfied,
        q_need: b.q_need,
        q_cause: b.q_cause,
        q_plan: b.q_plan,
        q_progress: b.q_progress,
        q_outcome: b.q_outcome,
    };
    let t = store::act(&s, a.actor(), c.id, id, action, input, Vec::new()).await?;
    Ok(Json(ticket_json(&t)))
}

/// Add a photo (the image as the body)
///
/// The image (JPEG, PNG or WebP) is the body; a note in the history says so.
#[utoipa::path(post, path = "/api/v1/communities/{code}/tickets/{id}/photos", tag = "tickets", params(CodeId),
    request_body(description = "The image", content(("image/jpeg"), ("image/png"), ("image/webp"))),
    responses((status = 200, description = "The ticket with the photo"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 422, description = "Not an image this takes", body = Problem)))]
pub async fn add_photo(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::visible_community(&s.db, a.actor(), &code).await?;
    let checked = crate::services::media::check("photo", &body).map_err(|e| AppError::Invalid(vec![e]))?;
    let input = ActionInput { note: Some("添加照片".into()), ..ActionInput::default() };
    let t = store::act(&s, a.actor(), c.id, id, Action::Note, input, vec![(body.to_vec(), checked)]).await?;
    Ok(Json(ticket_json(&t)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// One grid's figures only.
    grid_id: Option<i64>,
}

/// Figures of a community (or grid_id): counts, rates, medians
#[utoipa::path(get, path = "/api/v1/communities/{code}/tickets/stats", tag = "tickets", params(Code, StatsQuery),
    operation_id = "tickets_community_stats", responses((status = 200, description = "The figures")))]
pub async fn community_stats(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> AppResult<Json<stats::Figures>> {
    let c = crate::auth::guard::visible_community(&s.db, a.actor(), &code).await?;
    Ok(Json(stats::figures(&s.db, a.actor(), &Scope { community_ids: vec![c.id], grid_id: q.grid_id }).await?))
}

/// Figures of a subdistrict's communities
#[utoipa::path(get, path = "/api/v1/subdistricts/{id}/tickets/stats", tag = "tickets", params(SubdistrictId),
    operation_id = "tickets_subdistrict_stats",
    responses((status = 200, description = "The figures"),
        (status = 404, description = "Not a subdistrict you manage", body = Problem)))]
pub async fn subdistrict_stats(
    State(s): State<AppState>,
    a: Signed,
    Path(id): Path<i64>,
) -> AppResult<Json<stats::Figures>> {
    let mut conn = s.db.read().await?;
    let ids: Vec<i64> =
        crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL")
            .bind(id)
            .scalars(&mut conn)
            .await?;
    drop(conn);
    if !a.actor().manages_subdistrict(id) {
        return Err(AppError::NotFound);
    }
    Ok(Json(stats::figures(&s.db, a.actor(), &Scope { community_ids: ids, grid_id: None }).await?))
}

// ---------- Open311 (GeoReport v2 has its own spec; its routes are declared here too) ----------

/// GeoReport v2 discovery, services (of a jurisdiction_id) and service requests
///
/// `{file}` is `discovery`, `services` or `requests`, as `.json` or `.xml`; the
/// jurisdiction is a community's code. Requests take service_request_id, service_code,
/// start_date, end_date, status and page.
#[utoipa::path(get, path = "/open311/v2/{file}", tag = "open311",
    params(("file" = String, Path, description = "discovery, services or requests, with .json or .xml")),
    responses((status = 200, description = "The list, as JSON or XML"),
        (status = 400, description = "A parameter missing or wrong (in the file's format)"),
        (status = 404, description = "No such file, or no such jurisdiction")))]
async fn open311_lists(
    state: State<AppState>,
    file: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    method: Method,
    body: Bytes,
) -> Response {
    open311::root(state, file, query, headers, method, body).await
}

/// Submit a service request (form body, api_key)
#[utoipa::path(post, path = "/open311/v2/{file}", tag = "open311",
    params(("file" = String, Path, description = "requests.json or requests.xml")),
    request_body(description = "The request's fields, with api_key and jurisdiction_id",
        content(("application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The new request's service_request_id and notice"),
        (status = 400, description = "A field missing or wrong (in the file's format)"),
        (status = 403, description = "No api_key, or not this jurisdiction's")))]
async fn open311_submit(
    state: State<AppState>,
    file: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    method: Method,
    body: Bytes,
) -> Response {
    open311::root(state, file, query, headers, method, body).await
}

/// A service definition with its attributes
#[utoipa::path(get, path = "/open311/v2/services/{file}", tag = "open311",
    params(("file" = String, Path, description = "The service code, with .json or .xml")),
    responses((status = 200, description = "The definition, as JSON or XML"),
        (status = 404, description = "No such service in the jurisdiction")))]
async fn open311_definition(state: State<AppState>, file: Path<String>, query: RawQuery) -> Response {
    open311::definition(state, file, query).await
}

/// One service request
#[utoipa::path(get, path = "/open311/v2/requests/{file}", tag = "open311",
    params(("file" = String, Path, description = "The service_request_id, with .json or .xml")),
    responses((status = 200, description = "The request, as JSON or XML"),
        (status = 404, description = "No such request in the jurisdiction")))]
async fn open311_request(state: State<AppState>, file: Path<String>, query: RawQuery) -> Response {
    open311::one(state, file, query).await
}

/// The request behind a token
#[utoipa::path(get, path = "/open311/v2/tokens/{file}", tag = "open311",
    params(("file" = String, Path, description = "The token, with .json or .xml")),
    responses((status = 200, description = "The token and its service_request_id, as JSON or XML"),
        (status = 404, description = "No such token")))]
async fn open311_token(state: State<AppState>, file: Path<String>) -> Response {
    open311::token(state, file).await
}

/// The routes of this API and of Open311, each with its operation. (The Open311 alias
/// `/open311/v2/request/{file}` stays with the pages' routes, undocumented.)
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, submit))
        .routes(routes!(community_stats))
        .routes(routes!(get))
        .routes(routes!(act))
        .routes(routes!(add_photo).layer(DefaultBodyLimit::max(crate::services::media::MAX_BYTES + 1024)))
        .routes(routes!(subdistrict_stats))
        .routes(routes!(open311_lists, open311_submit))
        .routes(routes!(open311_definition))
        .routes(routes!(open311_request))
        .routes(routes!(open311_token))
}
