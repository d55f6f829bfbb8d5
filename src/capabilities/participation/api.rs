//! The JSON API of registrations, needs and pledges, pairs and visits, and their figures.
//! The same store functions as the pages, so the same rules and the same errors.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::stats;
use super::store::{self, Evidence, NewNeed, NewPair, NewRegistration};
use crate::auth::guard::CommunityRef;
use crate::error::{AppResult, Problem};
use crate::web::AppState;
use crate::web::Signed;
use crate::web::api::{ApiJson, Code, CodeId, SubdistrictId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&s.db, a.actor(), code).await
}

fn created(v: impl serde::Serialize) -> Response {
    (StatusCode::CREATED, Json(json!(v))).into_response()
}

fn items<T: serde::Serialize>(list: &[T]) -> Json<Value> {
    Json(json!({"items": list, "total": list.len()}))
}

// ---------- registrations ----------

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    /// unit or member
    pub kind: String,
    /// The unit's or member's name.
    pub name: String,
    /// The party organisation (the unit's, or the member's own branch).
    pub party_org: String,
    /// A member: lives or works (in the community).
    pub relation: Option<String>,
    /// Staff registering a unit: which partner unit.
    pub partner_unit_id: Option<i64>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub offers: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// Agrees to be named on the public pages (units always are).
    #[serde(default)]
    pub show_name: bool,
}

/// Registrations 报到 with this year's activity (staff)
#[utoipa::path(get, path = "/api/v1/communities/{code}/registrations", tag = "registrations", params(Code),
    responses((status = 200, description = "The registrations")))]
pub async fn registrations(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(items(&store::registrations(&mut s.db.read().await?, a.actor(), c.id).await?))
}

/// Register a unit or an employed party member 双报到
#[utoipa::path(post, path = "/api/v1/communities/{code}/registrations", tag = "registrations", params(Code),
    request_body = RegistrationBody, operation_id = "register_participant",
    responses((status = 201, description = "The registration, waiting for staff"),
        (status = 409, description = "Already registered", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn register(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<RegistrationBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let r = NewRegistration {
        kind: b.kind,
        name: b.name,
        party_org: b.party_org,
        relation: b.relation,
        partner_unit_id: b.partner_unit_id,
        skills: b.skills,
        offers: b.offers,
        contact_name: b.contact_name,
        contact_phone: b.contact_phone,
        show_name: b.show_name,
    };
    Ok(created(store::register(&s, a.actor(), &c, r).await?))
}

/// A registration and everything pledged under it
#[utoipa::path(get, path = "/api/v1/communities/{code}/registrations/{id}", tag = "registrations", params(CodeId),
    responses((status = 200, description = "The registration and its pledges"),
        (status = 404, description = "Not there, or not yours to see", body = Problem)))]
pub async fn registration(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let r = store::registration_for(&mut conn, a.actor(), c.id, id).await?;
    let pledges = store::pledges_of(&mut conn, c.id, id).await?;
    let mut out = json!(r);
    out["pledges"] = json!(pledges);
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = participation::DecisionBody)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub accept: bool,
    /// Required when declining or sending back.
    pub reason: Option<String>,
}

/// Accept or decline a registration (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/registrations/{id}/decision", tag = "registrations",
    params(CodeId), request_body = DecisionBody,
    responses((status = 200, description = "The registration, decided"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Already decided", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn decide_registration(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!(store::decide(&s, a.actor(), c.id, id, b.accept, b.reason.as_deref()).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderBody {
    /// Sets the community's threshold first (activities a year).
    pub threshold: Option<i64>,
}

/// Remind registrants below the activity threshold (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/registrations/reminders", tag = "registrations", params(Code),
    request_body = ReminderBody,
    responses((status = 200, description = "How many were reminded"),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn remind(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ReminderBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    if let Some(t) = b.threshold {
        store::set_threshold(&s, a.actor(), c.id, t).await?;
    }
    Ok(Json(json!({"reminded": store::remind(&s, a.actor(), c.id).await?})))
}

// ---------- needs and pledges ----------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedsQuery {
    /// Only needs in this status.
    status: Option<String>,
}

/// The needs list 需求清单 (status)
#[utoipa::path(get, path = "/api/v1/communities/{code}/needs", tag = "needs", params(Code, NeedsQuery),
    responses((status = 200, description = "The needs the caller may see")))]
pub async fn needs(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<NeedsQuery>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(items(&store::needs(&mut s.db.read().await?, Some(a.actor()), c.id, q.status.as_deref()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedBody {
    pub title: String,
    pub description: String,
    /// service, item, money or place
    pub kind: String,
    /// How many (people-times, items, yuan; a place is 1).
    pub quantity: Option<i64>,
    pub unit: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<NaiveDate>,
}

/// Publish a need (staff) or suggest one (residents)
#[utoipa::path(post, path = "/api/v1/communities/{code}/needs", tag = "needs", params(Code), request_body = NeedBody,
    responses((status = 201, description = "The need"), (status = 422, description = "Invalid input", body = Problem)))]
pub async fn add_need(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<NeedBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let n = NewNeed {
        title: b.title,
        description: b.description,
        kind: b.kind,
        quantity: b.quantity,
        unit: b.unit,
        deadline: b.deadline,
    };
    Ok(created(store::add_need(&s, a.actor(), c.id, n, &[]).await?))
}

/// A need with its pledges and history
#[utoipa::path(get, path = "/api/v1/communities/{code}/needs/{id}", tag = "needs", params(CodeId),
    responses((status = 200, description = "The need, its pledges and history"),
        (status = 404, description = "Not there, or not yours to see", body = Problem)))]
pub async fn need(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let n = store::need(&mut conn, c.id, id)
        .await?
        .filter(|n| store::may_see(Some(a.actor()), n))
        .ok_or(crate::error::AppError::NotFound)?;
    let mut out = json!(n);
    let staff = a.actor().can(c.id, crate::auth::model::Permission::ManageParticipation);
    let mut pledges = store::pledges_of_need(&mut conn, c.id, id).await?;
    // Members who did not agree to be named are masked to everyone but staff and themselves.
    for p in pledges.iter_mut().filter(|p| !staff && p.user_id != a.actor().user_id) {
        p.registrant = p.public_name();
    }
    out["pledges"] = json!(pledges);
    out["history"] = json!(store::history(&mut conn, c.id, id).await?);
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedActionBody {
    /// approve, decline, start, close or withdraw
    pub action: String,
    pub reason: Option<String>,
}

/// Approve, decline, start, close or withdraw a need (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/needs/{id}/actions", tag = "needs", params(CodeId),
    request_body = NeedActionBody,
    responses((status = 200, description = "The need after the action"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not a step the need can take now", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn need_act(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<NeedActionBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!(store::need_act(&s, a.actor(), c.id, id, &b.action, b.reason.as_deref()).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeBody {
    /// claim, sponsor, take_charge or adopt
    pub kind: String,
    /// How much of the need (its unit); a place: 1.
    pub amount: Option<i64>,
    /// Take what is left when asking for more, instead of being refused.
    #[serde(default)]
    pub trim: bool,
    /// Which of one's registrations pledges (default: the first accepted).
    pub registration_id: Option<i64>,
    pub note: Option<String>,
}

/// Pledge: claim 认领, sponsor 认捐, take charge 认管, adopt 认养; never over-fills
#[utoipa::path(post, path = "/api/v1/communities/{code}/needs/{id}/pledges", tag = "needs", params(CodeId),
    request_body = PledgeBody,
    responses((status = 201, description = "The pledge"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not registered, or the need is taken or closed", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn pledge(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<PledgeBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    Ok(created(
        store::make_pledge(&s, a.actor(), c.id, id, b.registration_id, &b.kind, b.amount, b.trim, b.note).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilmentBody {
    /// What was done.
    pub note: String,
    /// What was given (yuan, items), if any.
    pub amount: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub served_on: Option<NaiveDate>,
    /// A volunteer's minutes of service, which become a service record once confirmed.
    pub minutes: Option<i64>,
}

/// Report one's own pledge done, with evidence
#[utoipa::path(post, path = "/api/v1/communities/{code}/pledges/{id}/fulfilment", tag = "needs", params(CodeId),
    request_body = FulfilmentBody,
    responses((status = 200, description = "The pledge, reported done"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not yours, or not pledged", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn fulfil(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<FulfilmentBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let ev = Evidence { note: b.note, amount: b.amount, served_on: b.served_on, minutes: b.minutes };
    Ok(Json(json!(store::fulfil(&s, a.actor(), c.id, id, ev, &[]).await?)))
}

/// Confirm a fulfilled pledge or send it back (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/pledges/{id}/confirmation", tag = "needs", params(CodeId),
    request_body = DecisionBody,
    responses((status = 200, description = "The pledge, decided"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not reported done", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn confirm_pledge(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!(store::confirm(&s, a.actor(), c.id, id, b.accept, b.reason.as_deref()).await?)))
}

// ---------- pairs ----------

/// Pairs 结对 with households and overdue visits
#[utoipa::path(get, path = "/api/v1/communities/{code}/pairs", tag = "pairs", params(Code),
    responses((status = 200, description = "The pairs")))]
pub async fn pairs(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(items(&store::pairs(&mut s.db.read().await?, a.actor(), c.id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairBody {
    /// party (党群1+1) or volunteer
    pub kind: String,
    /// The party member's or volunteer's account.
    pub user_id: i64,
    /// Households by id…
    #[serde(default)]
    pub households: Vec<i64>,
    /// …or by address (门牌), each matching one household of the community.
    #[serde(default)]
    pub addresses: Vec<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<NaiveDate>,
    /// A visit every so many days (default 7).
    pub every_days: Option<i64>,
    pub note: Option<String>,
}

/// Pair a party member or volunteer with households (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/pairs", tag = "pairs", params(Code), request_body = PairBody,
    responses((status = 201, description = "The pair"), (status = 422, description = "Invalid input", body = Problem)))]
pub async fn add_pair(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<PairBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let n = NewPair {
        kind: b.kind,
        user_id: Some(b.user_id),
        households: b.households,
        addresses: b.addresses,
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        every_days: b.every_days,
        note: b.note,
    };
    Ok(created(store::add_pair(&s, a.actor(), c.id, n).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    /// Which of the pair's households (needed when it has several).
    pub household_id: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub visited_on: Option<NaiveDate>,
    pub done: String,
    pub found: Option<String>,
}

/// Log a visit
#[utoipa::path(post, path = "/api/v1/communities/{code}/pairs/{id}/visits", tag = "pairs", params(CodeId),
    request_body = VisitBody,
    responses((status = 201, description = "The visit"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn add_visit(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<VisitBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    Ok(created(store::add_visit(&s, a.actor(), c.id, id, b.household_id, b.visited_on, &b.done, b.found).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitTicketBody {
    pub category_id: Option<i64>,
}

/// Turn what a visit found into a ticket (once)
#[utoipa::path(post, path = "/api/v1/communities/{code}/visits/{id}/ticket", tag = "pairs", params(CodeId),
    request_body = VisitTicketBody,
    responses((status = 201, description = "The ticket made"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Already a ticket", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn visit_ticket(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<VisitTicketBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    Ok(created(json!({"ticket_id": store::visit_to_ticket(&s, a.actor(), c.id, id, b.category_id).await?})))
}

// ---------- figures and the public board ----------

fn figures_json((total, each): (stats::Figures, Vec<stats::Figures>)) -> Json<Value> {
    Json(json!({"total": total, "communities": each}))
}

/// Participation figures of a community
#[utoipa::path(get, path = "/api/v1/communities/{code}/participation/stats", tag = "registrations", params(Code),
    operation_id = "participation_community_stats", responses((status = 200, description = "The figures")))]
pub async fn community_stats(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(figures_json(stats::figures(&s.db, a.actor(), &[c.id]).await?))
}

/// Participation figures per community of a subdistrict, and their total
#[utoipa::path(get, path = "/api/v1/subdistricts/{id}/participation/stats", tag = "registrations",
    params(SubdistrictId), operation_id = "participation_subdistrict_stats",
    responses((status = 200, description = "The total and each community's figures"),
        (status = 404, description = "Not a subdistrict you manage", body = Problem)))]
pub async fn subdistrict_stats(State(s): State<AppState>, a: Signed, Path(id): Path<i64>) -> AppResult<Json<Value>> {
    let (_, ids) = crate::auth::guard::subdistrict_communities(&s.db, a.actor(), id).await?;
    Ok(figures_json(stats::figures(&s.db, a.actor(), &ids).await?))
}

/// The public needs board and the registered who agreed to be listed (no sign-in)
///
/// Open needs and who took them, named as they agreed.
#[utoipa::path(get, path = "/api/v1/public/{code}/needs", tag = "needs", params(Code),
    responses((status = 200, description = "The board"),
        (status = 404, description = "No such community", body = Problem)))]
pub async fn public_board(State(s): State<AppState>, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::public_community(&s.db, &code).await?;
    let mut conn = s.db.read().await?;
    let mut out = Vec::new();
    for (n, pledges) in store::board(&mut conn, c.id).await? {
        let pledges: Vec<Value> = pledges
            .iter()
            .map(|p| json!({"by": p.public_name(), "kind": p.kind, "amount": p.amount, "status": p.status}))
            .collect();
        out.push(json!({
            "id": n.id, "title": n.title, "description": n.description, "kind": n.kind, "quantity": n.quantity, "unit": n.unit,
            "pledged": n.pledged, "fulfilled": n.fulfilled, "deadline": n.deadline, "status": n.status, "pledges": pledges,
        }));
    }
    let registered: Vec<Value> = store::listed_publicly(&mut conn, c.id)
        .await?
        .iter()
        .map(|r| json!({"name": r.public_name(), "kind": r.kind, "party_org": r.party_org}))
        .collect();
    Ok(Json(json!({"community": c.name, "needs": out, "registered": registered})))
}

/// The routes of this API, each with its operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(registrations, register))
        .routes(routes!(registration))
        .routes(routes!(decide_registration))
        .routes(routes!(remind))
        .routes(routes!(needs, add_need))
        .routes(routes!(need))
        .routes(routes!(need_act))
        .routes(routes!(pledge))
        .routes(routes!(fulfil))
        .routes(routes!(confirm_pledge))
        .routes(routes!(pairs, add_pair))
        .routes(routes!(add_visit))
        .routes(routes!(visit_ticket))
        .routes(routes!(community_stats))
        .routes(routes!(subdistrict_stats))
        .routes(routes!(public_board))
}
