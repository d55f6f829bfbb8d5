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
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::Signed;
use crate::web::api::ApiJson;

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

pub async fn registrations(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(items(&store::registrations(&mut s.db.read().await?, a.actor(), c.id).await?))
}

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

/// A registration with everything pledged under it.
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
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub accept: bool,
    /// Required when declining or sending back.
    pub reason: Option<String>,
}

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

#[derive(Deserialize)]
pub struct NeedsQuery {
    status: Option<String>,
}

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

/// Staff publish a need; anyone else of the community suggests one.
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

/// A need with its pledges and history.
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

pub async fn community_stats(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(figures_json(stats::figures(&s.db, a.actor(), &[c.id]).await?))
}

pub async fn subdistrict_stats(State(s): State<AppState>, a: Signed, Path(id): Path<i64>) -> AppResult<Json<Value>> {
    let (_, ids) = crate::auth::guard::subdistrict_communities(&s.db, a.actor(), id).await?;
    Ok(figures_json(stats::figures(&s.db, a.actor(), &ids).await?))
}

/// The public board (no sign-in): open needs and who took them, named as they agreed.
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

pub fn endpoints() -> Vec<crate::web::openapi::Endpoint> {
    use crate::web::openapi::endpoint;
    use utoipa::PartialSchema;
    use utoipa::openapi::path::HttpMethod::{Get, Post};
    let (r, n, p) = ("registrations", "needs", "pairs");
    vec![
        endpoint(
            Get,
            "/api/v1/communities/{code}/registrations",
            r,
            "Registrations 报到 with this year's activity (staff)",
        ),
        endpoint(
            Post,
            "/api/v1/communities/{code}/registrations",
            r,
            "Register a unit or an employed party member 双报到",
        )
        .body(RegistrationBody::schema())
        .created(),
        endpoint(
            Get,
            "/api/v1/communities/{code}/registrations/{id}",
            r,
            "A registration and everything pledged under it",
        ),
        endpoint(
            Post,
            "/api/v1/communities/{code}/registrations/{id}/decision",
            r,
            "Accept or decline a registration (staff)",
        )
        .body(DecisionBody::schema()),
        endpoint(
            Post,
            "/api/v1/communities/{code}/registrations/reminders",
            r,
            "Remind registrants below the activity threshold (staff)",
        )
        .body(ReminderBody::schema()),
        endpoint(Get, "/api/v1/communities/{code}/needs", n, "The needs list 需求清单 (status)"),
        endpoint(Post, "/api/v1/communities/{code}/needs", n, "Publish a need (staff) or suggest one (residents)")
            .body(NeedBody::schema())
            .created(),
        endpoint(Get, "/api/v1/communities/{code}/needs/{id}", n, "A need with its pledges and history"),
        endpoint(
            Post,
            "/api/v1/communities/{code}/needs/{id}/actions",
            n,
            "Approve, decline, start, close or withdraw a need (staff)",
        )
        .body(NeedActionBody::schema()),
        endpoint(
            Post,
            "/api/v1/communities/{code}/needs/{id}/pledges",
            n,
            "Pledge: claim 认领, sponsor 认捐, take charge 认管, adopt 认养; never over-fills",
        )
        .body(PledgeBody::schema())
        .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/pledges/{id}/fulfilment",
            n,
            "Report one's own pledge done, with evidence",
        )
        .body(FulfilmentBody::schema()),
        endpoint(
            Post,
            "/api/v1/communities/{code}/pledges/{id}/confirmation",
            n,
            "Confirm a fulfilled pledge or send it back (staff)",
        )
        .body(DecisionBody::schema()),
        endpoint(Get, "/api/v1/communities/{code}/pairs", p, "Pairs 结对 with households and overdue visits"),
        endpoint(
            Post,
            "/api/v1/communities/{code}/pairs",
            p,
            "Pair a party member or volunteer with households (staff)",
        )
        .body(PairBody::schema())
        .created(),
        endpoint(Post, "/api/v1/communities/{code}/pairs/{id}/visits", p, "Log a visit")
            .body(VisitBody::schema())
            .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/visits/{id}/ticket",
            p,
            "Turn what a visit found into a ticket (once)",
        )
        .body(VisitTicketBody::schema())
        .created(),
        endpoint(Get, "/api/v1/communities/{code}/participation/stats", r, "Participation figures of a community"),
        endpoint(
            Get,
            "/api/v1/subdistricts/{id}/participation/stats",
            r,
            "Participation figures per community of a subdistrict, and their total",
        ),
        endpoint(
            Get,
            "/api/v1/public/{code}/needs",
            n,
            "The public needs board and the registered who agreed to be listed (no sign-in)",
        ),
    ]
}
