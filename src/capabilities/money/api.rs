//! The JSON API of money and projects: the funds with their money, recording a gift,
//! deciding an expense, and the disclosure as data (public).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{disclosure, donations, expenses, funds, projects, stats};
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

/// The funds with their money in fen: received, paid, balance.
#[utoipa::path(get, path = "/api/v1/communities/{code}/funds", tag = "money", params(Code),
    responses((status = 200, description = "Funds and their money")))]
async fn list_funds(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!({"items": funds::list(&mut s.db.read().await?, c.id).await?})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonationBody {
    /// person, party_member, unit or anonymous.
    pub donor_kind: String,
    #[serde(default)]
    pub donor_name: String,
    pub donor_user_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    /// The donor agreed to be named in public.
    #[serde(default)]
    pub named: bool,
    /// Yuan as text, at most two decimals: "59100", "0.50".
    pub amount: String,
    pub given_on: NaiveDate,
    /// cash, transfer or box.
    pub channel: String,
    /// The 认捐 pledge this gift pays.
    pub pledge_id: Option<i64>,
    pub note: Option<String>,
    /// The client's key for this gift: sent again, it answers the gift recorded the first time.
    pub key: Option<String>,
}

/// Record a gift of money to a fund (staff); answers it with its receipt number.
#[utoipa::path(post, path = "/api/v1/communities/{code}/funds/{id}/donations", tag = "money", params(CodeId), request_body = DonationBody,
    responses((status = 201, description = "The gift"), (status = 422, description = "Invalid input", body = Problem)))]
async fn record_gift(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<DonationBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let d = donations::NewDonation {
        donor_kind: b.donor_kind,
        donor_name: b.donor_name,
        donor_user_id: b.donor_user_id,
        partner_unit_id: b.partner_unit_id,
        named: b.named,
        amount: b.amount,
        given_on: Some(b.given_on),
        channel: b.channel,
        pledge_id: b.pledge_id,
        note: b.note,
        key: b.key,
    };
    let out = donations::donate(&s, a.actor(), &c, id, d).await?;
    Ok((StatusCode::CREATED, Json(json!(out))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub approve: bool,
    /// Why (required to refuse).
    pub note: Option<String>,
}

/// Decide the next step of an expense: the last approval pays it.
#[utoipa::path(post, path = "/api/v1/communities/{code}/expenses/{id}/decision", tag = "money", params(CodeId), request_body = DecisionBody,
    responses((status = 200, description = "The expense"), (status = 409, description = "Decided already, or the fund cannot pay", body = Problem)))]
async fn decide_expense(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let e = expenses::decide(&s, a.actor(), &c, id, b.approve, b.note.as_deref()).await?;
    Ok(Json(json!(e)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalBody {
    /// Why the gift was recorded by mistake (shown in public beside it).
    pub reason: String,
}

/// Reverse a gift recorded by mistake (staff): its movement is posted backwards while the
/// fund still holds the money; the gift keeps its line, marked, and no longer counts.
#[utoipa::path(post, path = "/api/v1/communities/{code}/donations/{id}/reversal", tag = "money", params(CodeId),
    request_body = ReversalBody,
    responses((status = 200, description = "The gift, reversed"),
        (status = 409, description = "Reversed already, paid a pledge, or the fund no longer holds the money", body = Problem)))]
async fn reverse_gift(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<ReversalBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!(donations::reverse(&s, a.actor(), &c, id, &b.reason).await?)))
}

/// The disclosure as data, for anyone: funds with their money, projects with budget,
/// spending and progress, disclosures, and the ledger chain's head.
#[utoipa::path(get, path = "/api/v1/communities/{code}/money/public", tag = "money", params(Code),
    responses((status = 200, description = "The community's money in public")))]
async fn public_money(State(s): State<AppState>, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::public_community(&s.db, &code).await?;
    let mut conn = s.db.read().await?;
    let list: Vec<Value> = projects::list_with_progress(&mut conn, c.id, crate::web::fmt::today())
        .await?
        .into_iter()
        .map(|(p, progress, timing)| {
            json!({"id": p.id, "title": p.title, "status": p.status, "budget_fen": p.budget_fen,
                "funded_fen": p.funded_fen, "spent_fen": p.spent_fen, "progress": progress,
                "timing": timing.as_str()})
        })
        .collect();
    let funds = funds::list(&mut conn, c.id).await?;
    let disclosures = disclosure::list(&mut conn, c.id).await?;
    drop(conn);
    let (length, head) = crate::db::chain::head(&s.db, c.id, crate::services::ledger::CHAIN.chain).await?;
    Ok(Json(json!({"funds": funds, "projects": list, "disclosures": disclosures,
        "chain": {"length": length, "head": head.map(hex::encode)}})))
}

/// Money's figures of a community, for its keepers and the subdistrict over it: gifts by
/// who gave and how, gifts in kind, income, each fund's money, each project's budget,
/// spending, progress and `timing` (on_time, late, unplanned).
#[utoipa::path(get, path = "/api/v1/communities/{code}/money/stats", tag = "money", params(Code),
    operation_id = "money_community_stats",
    responses((status = 200, description = "The figures: `total` and each community's")))]
async fn community_stats(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let scope = stats::community_scope(&s, a.actor(), &code).await?;
    let (total, communities) = stats::figures_of(&s, &scope).await?;
    Ok(Json(json!({"total": total, "communities": communities})))
}

/// Money's figures of a subdistrict: the total and each community's.
#[utoipa::path(get, path = "/api/v1/subdistricts/{id}/money/stats", tag = "money", params(SubdistrictId),
    operation_id = "money_subdistrict_stats",
    responses((status = 200, description = "The figures: `total` and each community's"),
        (status = 404, description = "Not a subdistrict you manage", body = Problem)))]
async fn subdistrict_stats(State(s): State<AppState>, a: Signed, Path(id): Path<i64>) -> AppResult<Json<Value>> {
    let scope = stats::subdistrict_scope(&s, a.actor(), id).await?;
    let (total, communities) = stats::figures_of(&s, &scope).await?;
    Ok(Json(json!({"total": total, "communities": communities})))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_funds))
        .routes(routes!(record_gift))
        .routes(routes!(decide_expense))
        .routes(routes!(reverse_gift))
        .routes(routes!(public_money))
        .routes(routes!(community_stats))
        .routes(routes!(subdistrict_stats))
}
