//! The JSON API of volunteer service, points, the shop and field work. Times are RFC 3339
//! (China time when no offset is given); ids are numbers; errors are the one format.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{self, NewRule, NewService, RankBy, Registration};
use super::{Period, Source, ledger, stats};
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::web::AppState;
use crate::web::api::{ApiJson, Code, CodeId, SubdistrictId, time};
use crate::web::{Signed, fmt};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod shop;

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&s.db, a.actor(), code).await
}

fn key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
}

fn volunteer_json(v: &store::Volunteer) -> Value {
    json!({
        "id": v.id, "number": v.number, "name": v.name, "user_id": v.user_id, "grid_id": v.grid_id,
        "id_number": v.id_number_masked, "skills": v.skills(), "availability": v.availability,
        "show_name": v.show_name, "joined_at": fmt::rfc3339(v.joined_at), "archived": v.archived_at.is_some(),
    })
}

fn record_json(r: &store::ServiceRecord) -> Value {
    json!({
        "id": r.id, "volunteer_id": r.volunteer_id, "volunteer": r.volunteer_name, "team_id": r.team_id, "team": r.team_name,
        "service_type": r.service_type, "content": r.content, "place": r.place,
        "started_at": fmt::rfc3339(r.started_at), "ended_at": fmt::rfc3339(r.ended_at), "minutes": r.minutes,
        "source": r.source, "source_id": r.source_id, "status": r.status, "reason": r.reason, "points": r.points,
        "decided_at": r.decided_at.map(fmt::rfc3339),
    })
}

// ---------- volunteers ----------

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolunteerBody {
    pub name: String,
    /// Staff signing someone up: their mobile number, which signs them in.
    pub phone: Option<String>,
    /// With `phone`: the initial password.
    pub password: Option<String>,
    pub id_number: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub availability: Option<String>,
    #[serde(default)]
    pub show_name: bool,
}

impl VolunteerBody {
    fn registration(&self) -> Registration {
        Registration {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            skills: self.skills.clone(),
            availability: self.availability.clone(),
            show_name: self.show_name,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Search text (name, number).
    q: Option<String>,
}

/// Volunteers (staff; q)
#[utoipa::path(get, path = "/api/v1/communities/{code}/volunteers", tag = "volunteers", params(Code, Search),
    responses((status = 200, description = "The volunteers")))]
pub async fn volunteers(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<Search>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let list = store::volunteers(&mut s.db.read().await?, a.actor(), c.id, q.q.as_deref().unwrap_or("")).await?;
    Ok(Json(json!({"items": list.iter().map(volunteer_json).collect::<Vec<_>>(), "total": list.len()})))
}

/// Sign someone up (staff): an account (phone, password) and the volunteer
#[utoipa::path(post, path = "/api/v1/communities/{code}/volunteers", tag = "volunteers", params(Code),
    request_body = VolunteerBody,
    responses((status = 201, description = "The volunteer"),
        (status = 422, description = "Invalid input", body = Problem),
        (status = 409, description = "Already a volunteer", body = Problem)))]
pub async fn sign_up(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<VolunteerBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let (Some(phone), Some(password)) = (b.phone.as_deref(), b.password.as_deref()) else {
        let mut e = Vec::new();
        if b.phone.is_none() {
            e.push(FieldError::new("phone", "validation.required"));
        }
        if b.password.is_none() {
            e.push(FieldError::new("password", "validation.required"));
        }
        return Err(AppError::Invalid(e));
    };
    let v = store::sign_up(&s, Some(a.actor()), &c, b.registration(), phone, password).await?;
    Ok((StatusCode::CREATED, Json(volunteer_json(&v))).into_response())
}

/// The signed-in volunteer, with balance and teams
#[utoipa::path(get, path = "/api/v1/communities/{code}/volunteers/me", tag = "volunteers", params(Code),
    responses((status = 200, description = "The volunteer, with balance and teams"),
        (status = 404, description = "Not a volunteer of the community", body = Problem)))]
pub async fn me(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let v = store::volunteer_of(&mut conn, c.id, a.actor().user_id).await?.ok_or(AppError::NotFound)?;
    let balance = ledger::balance(&mut conn, c.id, v.user_id).await?;
    let teams = store::teams_of(&mut conn, c.id, v.user_id).await?;
    let mut out = volunteer_json(&v);
    out["balance"] = json!(balance);
    out["teams"] = json!(teams);
    Ok(Json(out))
}

/// Register the signed-in user as a volunteer
#[utoipa::path(post, path = "/api/v1/communities/{code}/volunteers/me", tag = "volunteers", params(Code),
    request_body = VolunteerBody, operation_id = "register_volunteer",
    responses((status = 201, description = "The volunteer"),
        (status = 422, description = "Invalid input", body = Problem),
        (status = 409, description = "Already a volunteer", body = Problem)))]
pub async fn register(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<VolunteerBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let v = store::register_self(&s, a.actor(), &c, b.registration()).await?;
    Ok((StatusCode::CREATED, Json(volunteer_json(&v))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipBody {
    pub team_id: i64,
    /// Staff only: someone else (default: the signed-in user).
    pub user_id: Option<i64>,
    /// false: leave the team.
    #[serde(default = "yes")]
    pub member: bool,
    #[serde(default)]
    pub leader: bool,
}

fn yes() -> bool {
    true
}

/// Join or leave a team (staff: anyone, and leaders)
#[utoipa::path(post, path = "/api/v1/communities/{code}/team-memberships", tag = "volunteers", params(Code),
    request_body = MembershipBody,
    responses((status = 204, description = "Done"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not a volunteer", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn membership(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<MembershipBody>,
) -> AppResult<StatusCode> {
    let c = community(&s, &a, &code).await?;
    store::set_membership(&s, a.actor(), c.id, b.team_id, b.user_id.unwrap_or(a.actor().user_id), b.member, b.leader)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- service records ----------

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    /// Staff entering someone's service; absent: the signed-in volunteer's own.
    pub volunteer_id: Option<i64>,
    pub team_id: Option<i64>,
    /// care, patrol, environment, errand, culture, mediation, event, other
    pub service_type: String,
    pub content: String,
    pub place: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// Minutes served (at most the span; the whole span when absent).
    pub minutes: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// pending, approved or rejected.
    status: Option<String>,
    /// true: one's own only.
    mine: Option<bool>,
}

/// Service records (status; mine=true for one's own)
#[utoipa::path(get, path = "/api/v1/communities/{code}/service-records", tag = "volunteers", params(Code, RecordQuery),
    responses((status = 200, description = "The service records")))]
pub async fn records(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<RecordQuery>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let f = store::RecordFilter {
        user_id: q.mine.unwrap_or(false).then_some(a.actor().user_id),
        status: q.status,
        team_id: None,
    };
    let list = store::records(&mut s.db.read().await?, a.actor(), c.id, &f, 500).await?;
    Ok(Json(json!({"items": list.iter().map(record_json).collect::<Vec<_>>(), "total": list.len()})))
}

/// Record a service, pending approval
#[utoipa::path(post, path = "/api/v1/communities/{code}/service-records", tag = "volunteers", params(Code),
    request_body = ServiceBody,
    responses((status = 201, description = "The service record, pending"),
        (status = 422, description = "Invalid input", body = Problem),
        (status = 409, description = "Not a volunteer", body = Problem)))]
pub async fn add_record(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ServiceBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let input = NewService {
        volunteer_id: b.volunteer_id,
        team_id: b.team_id,
        service_type: b.service_type,
        content: b.content,
        place: b.place,
        started_at: time("started_at", &b.started_at)?,
        ended_at: time("ended_at", &b.ended_at)?,
        minutes: b.minutes,
    };
    let staff = a.actor().can(c.id, crate::auth::model::Permission::ManagePoints) && input.volunteer_id.is_some();
    let r = store::submit_service(
        &s,
        a.actor(),
        c.id,
        &input,
        if staff { Source::Staff } else { Source::SelfReported },
        &[],
    )
    .await?;
    Ok((StatusCode::CREATED, Json(record_json(&r))).into_response())
}

/// A service record
#[utoipa::path(get, path = "/api/v1/communities/{code}/service-records/{id}", tag = "volunteers", params(CodeId),
    responses((status = 200, description = "The service record"),
        (status = 404, description = "Not there, or not yours to see", body = Problem)))]
pub async fn record(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let r = store::record_for(&mut s.db.read().await?, a.actor(), c.id, id).await?;
    Ok(Json(record_json(&r)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = points::DecisionBody)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub approve: bool,
    /// Required to reject.
    pub reason: Option<String>,
}

/// Approve (paying by the rules in force when served) or reject with a reason
#[utoipa::path(post, path = "/api/v1/communities/{code}/service-records/{id}/decision", tag = "volunteers",
    params(CodeId), request_body = DecisionBody,
    responses((status = 200, description = "The service record, decided"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Already decided", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn decide(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let r = store::decide(&s, a.actor(), c.id, id, b.approve, b.reason.as_deref()).await?;
    Ok(Json(record_json(&r)))
}

// ---------- rules and the ledger ----------

/// Every version of every rule
#[utoipa::path(get, path = "/api/v1/communities/{code}/points/rules", tag = "points", params(Code),
    responses((status = 200, description = "The rules, each version with whether it is in force"),
        (status = 403, description = "Not allowed", body = Problem)))]
pub async fn rules(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    guard::require(a.actor(), c.id, crate::auth::model::Permission::ManagePoints)?;
    let all = store::all_rules(&mut s.db.read().await?, c.id).await?;
    let now = crate::db::now_ms();
    let items: Vec<Value> = all
        .iter()
        .map(|r| {
            let mut v = json!(r);
            v["effective_from"] = json!(fmt::rfc3339(r.effective_from));
            v["effective_to"] = json!(r.effective_to.map(fmt::rfc3339));
            v["in_force"] = json!(r.in_force(now));
            v
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// The rule a new version is of; absent: a new rule.
    pub code: Option<String>,
    pub name: String,
    /// per_hour, per_activity, bonus, deduction
    pub kind: String,
    /// For per_hour and per_activity: a service type, or `*` for any.
    pub service_type: Option<String>,
    pub points: i64,
    pub daily_cap: Option<i64>,
    pub monthly_cap: Option<i64>,
    /// When the version takes over (now when absent, never in the past).
    pub effective_from: Option<String>,
}

/// A rule, or a new version of one (code)
#[utoipa::path(post, path = "/api/v1/communities/{code}/points/rules", tag = "points", params(Code),
    request_body = RuleBody,
    responses((status = 201, description = "The rule version"),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn add_rule(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<RuleBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let input = NewRule {
        code: b.code,
        name: b.name,
        kind: b.kind,
        service_type: b.service_type,
        points: b.points,
        daily_cap: b.daily_cap,
        monthly_cap: b.monthly_cap,
        effective_from: time("effective_from", &b.effective_from)?,
    };
    let r = store::add_rule(&s, a.actor(), c.id, input).await?;
    Ok((StatusCode::CREATED, Json(json!(r))).into_response())
}

/// The signed-in user's balance and movements, each with its cause
#[utoipa::path(get, path = "/api/v1/communities/{code}/points/statement", tag = "points", params(Code),
    responses((status = 200, description = "The balance and the latest movements")))]
pub async fn statement(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let mut conn = s.db.read().await?;
    let balance = ledger::balance(&mut conn, c.id, a.actor().user_id).await?;
    let lines = ledger::statement(&mut conn, c.id, a.actor().user_id, 200).await?;
    let items: Vec<Value> = lines
        .iter()
        .map(|l| {
            let mut v = json!(l);
            v["at"] = json!(fmt::rfc3339(l.at));
            v
        })
        .collect();
    Ok(Json(json!({"balance": balance, "items": items})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiveBody {
    /// To (or from) a person …
    pub user_id: Option<i64>,
    /// … or a team, or a partner unit.
    pub team_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    /// A bonus or deduction rule (its points) …
    pub rule_id: Option<i64>,
    /// … or an adjustment: positive gives, negative takes.
    pub amount: Option<i64>,
    pub reason: String,
}

/// Give or take points by hand (Idempotency-Key required)
///
/// A retry with the same `Idempotency-Key` posts once.
#[utoipa::path(post, path = "/api/v1/communities/{code}/points/movements", tag = "points", params(Code),
    request_body = GiveBody,
    responses((status = 201, description = "The movement"),
        (status = 422, description = "Invalid input", body = Problem),
        (status = 409, description = "Refused as things are (e.g. not enough points)", body = Problem)))]
pub async fn give(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<GiveBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let Some(k) = key(&headers) else {
        return Err(AppError::Invalid(vec![FieldError::new("idempotency_key", "points.key_required")]));
    };
    let g = store::ByHand {
        user_id: b.user_id,
        team_id: b.team_id,
        partner_unit_id: b.partner_unit_id,
        rule_id: b.rule_id,
        amount: b.amount,
        reason: b.reason,
        key: format!("api:{k}"),
    };
    let id = store::give(&s, a.actor(), c.id, g).await?;
    let m = ledger::movement(&mut s.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(json!(m))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// Correct a movement by reversing it
#[utoipa::path(post, path = "/api/v1/communities/{code}/points/movements/{id}/reversal", tag = "points", params(CodeId),
    request_body = ReasonBody,
    responses((status = 201, description = "The reversing movement"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Refused as things are (e.g. already reversed)", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn reverse(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let rid = store::correct(&s, a.actor(), c.id, id, &b.reason).await?;
    let m = ledger::movement(&mut s.db.read().await?, c.id, rid).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(json!(m))).into_response())
}

// ---------- honor roll, certificates, figures ----------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HonorQuery {
    /// hours (default) or points.
    by: Option<String>,
    /// month (default), year or all.
    period: Option<String>,
    /// One grid's volunteers only.
    grid_id: Option<i64>,
}

/// The honor roll (by=hours|points, period=month|year|all, grid_id), public
///
/// Public, like the honor roll page.
#[utoipa::path(get, path = "/api/v1/communities/{code}/honor-roll", tag = "points", params(Code, HonorQuery),
    responses((status = 200, description = "The ranking and the commendations"),
        (status = 404, description = "No such community", body = Problem),
        (status = 422, description = "by or period not one of the choices", body = Problem)))]
pub async fn honor_roll(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<HonorQuery>,
) -> AppResult<Json<Value>> {
    let mut conn = s.db.read().await?;
    let c = crate::auth::guard::community_by_code(&mut conn, &code).await?.ok_or(AppError::NotFound)?;
    let by = match q.by.as_deref() {
        None | Some("hours") => RankBy::Hours,
        Some("points") => RankBy::Points,
        Some(_) => return Err(AppError::field("by", "validation.choice")),
    };
    let period = match q.period.as_deref() {
        None => Period::Month,
        Some(p) => Period::parse(p).ok_or(AppError::field("period", "validation.choice"))?,
    };
    let ranked = store::honor_roll(&mut conn, &[c.id], q.grid_id, by, period, 100).await?;
    let commendations = store::commendations(&mut conn, &[c.id], 100).await?;
    Ok(Json(
        json!({"by": if by == RankBy::Hours { "hours" } else { "points" }, "period": period.as_str(), "ranking": ranked, "commendations": commendations}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodBody {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
}

/// Issue a service certificate over a period (PDF and public check)
#[utoipa::path(post, path = "/api/v1/communities/{code}/volunteers/{id}/certificates", tag = "volunteers",
    params(CodeId), request_body = PeriodBody,
    responses((status = 201, description = "The certificate, with its PDF and where to check it"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn issue_certificate(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<PeriodBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let cert = store::issue_certificate(&s, a.actor(), c.id, id, Some(b.from), Some(b.to)).await?;
    let base = s.config.public_base();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": cert.id, "code": cert.code, "records": cert.records, "minutes": cert.minutes,
            "period_from": cert.period_from, "period_to": cert.period_to,
            "pdf_url": format!("/c/{code}/certificates/{}.pdf", cert.id),
            "verify_url": format!("{base}/p/{code}/certificates/{}", cert.code),
        })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// From this day (default: the first of the year).
    from: Option<NaiveDate>,
    /// To this day (default: today).
    to: Option<NaiveDate>,
    /// One team only (a community's figures).
    team_id: Option<i64>,
    /// One grid only (a community's figures).
    grid_id: Option<i64>,
}

fn period(q: &StatsQuery) -> (NaiveDate, NaiveDate) {
    let today = fmt::today();
    let from = q.from.unwrap_or_else(|| NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today));
    (from, q.to.unwrap_or(today).max(from))
}

/// Figures (from, to, team_id, grid_id)
#[utoipa::path(get, path = "/api/v1/communities/{code}/points/stats", tag = "points", params(Code, StatsQuery),
    operation_id = "points_community_stats", responses((status = 200, description = "The figures")))]
pub async fn community_stats(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let (from, to) = period(&q);
    let f = stats::figures(
        &s.db,
        a.actor(),
        &stats::Scope { community_ids: vec![c.id], team_id: q.team_id, grid_id: q.grid_id, from, to },
    )
    .await?;
    Ok(Json(json!(f)))
}

/// Figures of a subdistrict
#[utoipa::path(get, path = "/api/v1/subdistricts/{id}/points/stats", tag = "points", params(SubdistrictId, StatsQuery),
    operation_id = "points_subdistrict_stats",
    responses((status = 200, description = "The figures"),
        (status = 404, description = "Not a subdistrict you manage", body = Problem)))]
pub async fn subdistrict_stats(
    State(s): State<AppState>,
    a: Signed,
    Path(id): Path<i64>,
    Query(q): Query<StatsQuery>,
) -> AppResult<Json<Value>> {
    if !a.actor().manages_subdistrict(id) {
        return Err(AppError::NotFound);
    }
    let ids = crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL")
        .bind(id)
        .scalars(&mut s.db.read().await?)
        .await?;
    let (from, to) = period(&q);
    let f =
        stats::figures(&s.db, a.actor(), &stats::Scope { community_ids: ids, team_id: None, grid_id: None, from, to })
            .await?;
    Ok(Json(json!(f)))
}

/// The routes of this API, each with its operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(volunteers, sign_up))
        .routes(routes!(me, register))
        .routes(routes!(issue_certificate))
        .routes(routes!(membership))
        .routes(routes!(records, add_record))
        .routes(routes!(record))
        .routes(routes!(decide))
        .routes(routes!(rules, add_rule))
        .routes(routes!(statement))
        .routes(routes!(give))
        .routes(routes!(reverse))
        .routes(routes!(community_stats))
        .routes(routes!(honor_roll))
        .routes(routes!(subdistrict_stats))
        .merge(shop::routes())
}
