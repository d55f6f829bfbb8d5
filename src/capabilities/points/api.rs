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
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::api::{ApiJson, time};
use crate::web::{Signed, fmt};

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

fn redemption_json(d: &store::Redemption, show_code: bool) -> Value {
    json!({
        "id": d.id, "reward_id": d.reward_id, "reward": d.reward, "points": d.points, "status": d.status,
        "code": show_code.then(|| d.code.clone()), "held_at": fmt::rfc3339(d.held_at), "expires_at": fmt::rfc3339(d.expires_at),
        "decided_at": d.decided_at.map(fmt::rfc3339),
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

#[derive(Deserialize)]
pub struct Search {
    q: Option<String>,
}

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

/// Staff sign someone up (with `phone` and `password`).
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

/// The signed-in user as a volunteer of the community, with their balance.
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

#[derive(Deserialize)]
pub struct RecordQuery {
    status: Option<String>,
    mine: Option<bool>,
}

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
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub approve: bool,
    /// Required to reject.
    pub reason: Option<String>,
}

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

/// The signed-in user's balance and latest movements, each naming its cause.
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

/// Gives or takes points by hand. Needs an `Idempotency-Key`: a retry posts once.
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

// ---------- the shop ----------

pub async fn shop(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let items = store::shop(&mut s.db.read().await?, c.id, fmt::today()).await?;
    Ok(Json(json!({"items": items})))
}

/// Redeems one unit; an `Idempotency-Key` makes a retry answer the first redemption.
pub async fn redeem(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let d = store::redeem(&s, a.actor(), c.id, id, key(&headers)).await?;
    Ok((StatusCode::CREATED, Json(redemption_json(&d, true))).into_response())
}

pub async fn redemptions(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let list = store::my_redemptions(&mut s.db.read().await?, c.id, a.actor().user_id).await?;
    Ok(Json(json!({"items": list.iter().map(|d| redemption_json(d, true)).collect::<Vec<_>>()})))
}

pub async fn cancel(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let d = store::cancel(&s, a.actor(), c.id, id).await?;
    Ok(Json(redemption_json(&d, d.user_id == a.actor().user_id)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverBody {
    /// The code the holder shows.
    pub code: String,
}

pub async fn handover(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<HandoverBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let d = store::confirm(&s, a.actor(), c.id, &b.code).await?;
    Ok(Json(redemption_json(&d, false)))
}

// ---------- honor roll, certificates, figures ----------

#[derive(Deserialize)]
pub struct HonorQuery {
    by: Option<String>,
    period: Option<String>,
    grid_id: Option<i64>,
}

/// Public, like the honor roll page.
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

pub async fn issue_certificate(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<PeriodBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let cert = store::issue_certificate(&s, a.actor(), c.id, id, Some(b.from), Some(b.to)).await?;
    let base = super::pages::public_base(&s);
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

#[derive(Deserialize)]
pub struct StatsQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    team_id: Option<i64>,
    grid_id: Option<i64>,
}

fn period(q: &StatsQuery) -> (NaiveDate, NaiveDate) {
    let today = fmt::today();
    let from = q.from.unwrap_or_else(|| NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today));
    (from, q.to.unwrap_or(today).max(from))
}

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

/// This API, for the OpenAPI document.
pub fn endpoints() -> Vec<crate::web::openapi::Endpoint> {
    use crate::web::openapi::endpoint;
    use utoipa::PartialSchema;
    use utoipa::openapi::path::HttpMethod::{Get, Post};
    let (v, p, s) = ("volunteers", "points", "shop");
    vec![
        endpoint(Get, "/api/v1/communities/{code}/volunteers", v, "Volunteers (staff; q)"),
        endpoint(
            Post,
            "/api/v1/communities/{code}/volunteers",
            v,
            "Sign someone up (staff): an account (phone, password) and the volunteer",
        )
        .body(VolunteerBody::schema())
        .created(),
        endpoint(Get, "/api/v1/communities/{code}/volunteers/me", v, "The signed-in volunteer, with balance and teams"),
        endpoint(Post, "/api/v1/communities/{code}/volunteers/me", v, "Register the signed-in user as a volunteer")
            .body(VolunteerBody::schema())
            .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/volunteers/{id}/certificates",
            v,
            "Issue a service certificate over a period (PDF and public check)",
        )
        .body(PeriodBody::schema())
        .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/team-memberships",
            v,
            "Join or leave a team (staff: anyone, and leaders)",
        )
        .body(MembershipBody::schema()),
        endpoint(
            Get,
            "/api/v1/communities/{code}/service-records",
            v,
            "Service records (status; mine=true for one's own)",
        ),
        endpoint(Post, "/api/v1/communities/{code}/service-records", v, "Record a service, pending approval")
            .body(ServiceBody::schema())
            .created(),
        endpoint(Get, "/api/v1/communities/{code}/service-records/{id}", v, "A service record"),
        endpoint(
            Post,
            "/api/v1/communities/{code}/service-records/{id}/decision",
            v,
            "Approve (paying by the rules in force when served) or reject with a reason",
        )
        .body(DecisionBody::schema()),
        endpoint(Get, "/api/v1/communities/{code}/points/rules", p, "Every version of every rule"),
        endpoint(Post, "/api/v1/communities/{code}/points/rules", p, "A rule, or a new version of one (code)")
            .body(RuleBody::schema())
            .created(),
        endpoint(
            Get,
            "/api/v1/communities/{code}/points/statement",
            p,
            "The signed-in user's balance and movements, each with its cause",
        ),
        endpoint(
            Post,
            "/api/v1/communities/{code}/points/movements",
            p,
            "Give or take points by hand (Idempotency-Key required)",
        )
        .body(GiveBody::schema())
        .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/points/movements/{id}/reversal",
            p,
            "Correct a movement by reversing it",
        )
        .body(ReasonBody::schema())
        .created(),
        endpoint(Get, "/api/v1/communities/{code}/points/stats", p, "Figures (from, to, team_id, grid_id)"),
        endpoint(Get, "/api/v1/subdistricts/{id}/points/stats", p, "Figures of a subdistrict"),
        endpoint(
            Get,
            "/api/v1/communities/{code}/honor-roll",
            p,
            "The honor roll (by=hours|points, period=month|year|all, grid_id), public",
        ),
        endpoint(Get, "/api/v1/communities/{code}/shop", s, "What the shop offers today"),
        endpoint(
            Post,
            "/api/v1/communities/{code}/shop/{id}/redemptions",
            s,
            "Redeem one unit (Idempotency-Key): points and stock held",
        )
        .created(),
        endpoint(
            Get,
            "/api/v1/communities/{code}/redemptions",
            s,
            "The signed-in user's redemptions, with their codes",
        ),
        endpoint(
            Post,
            "/api/v1/communities/{code}/redemptions/{id}/cancel",
            s,
            "Cancel a held redemption: points and stock back",
        ),
        endpoint(
            Post,
            "/api/v1/communities/{code}/handovers",
            s,
            "Hand over against the holder's code (staff or the merchant)",
        )
        .body(HandoverBody::schema()),
    ]
}
