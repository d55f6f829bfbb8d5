//! The JSON API of the council: proposals, screening, rounds, comments, the vote, the
//! decision and its project; and the public list of proposals.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{self, Proposal};
use crate::auth::guard::CommunityRef;
use crate::error::{AppResult, Problem};
use crate::web::AppState;
use crate::web::api::{ApiJson, Code, CodeId, time};
use crate::web::{Signed, fmt};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

async fn community(s: &AppState, a: &Signed, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&s.db, a.actor(), code).await
}

/// A proposal as the API shows it: the tally and turnout once decided, never before.
fn proposal_json(p: &Proposal) -> Value {
    let o = p.outcome();
    json!({
        "id": p.id, "title": p.title, "body": p.body, "scope_kind": p.scope_kind, "scope_id": p.scope_id,
        "raised_by": crate::services::pii::mask_name(&p.raised_by_name), "stage": p.stage, "merged_into": p.merged_into, "reason": p.reason,
        "voters": p.voters, "quorum_pct": p.quorum_pct, "majority_pct": p.majority_pct, "secret": p.secret, "eligible": p.eligible,
        "opens_at": p.opens_at.map(fmt::rfc3339), "closes_at": p.closes_at.map(fmt::rfc3339),
        "tally": o.map(|o| json!({
            "for": p.votes_for, "against": p.votes_against, "abstain": p.votes_abstain, "cast": o.cast,
            "turnout": o.turnout, "quorum_met": o.quorum_met, "share_for": o.share_for, "passed": o.passed,
        })),
        "decision": p.decision, "decided_at": p.decided_at.map(fmt::rfc3339), "created_at": fmt::rfc3339(p.created_at),
    })
}

async fn full(s: &AppState, a: Option<&crate::auth::model::Actor>, c: &CommunityRef, id: i64) -> AppResult<Value> {
    let mut conn = s.db.read().await?;
    let p = store::proposal_for(&mut conn, a, c.id, id).await?;
    let mut out = proposal_json(&p);
    out["rounds"] = json!(store::rounds(&mut conn, c.id, id).await?);
    out["project"] =
        json!(store::project(&mut conn, c.id, id).await?.map(|(p, m)| json!({"project": p, "milestones": m})));
    if let Some(a) = a {
        out["comments"] = json!(store::comments(&mut conn, c.id, id).await?);
        out["open_ballots"] = json!(store::open_ballots(&mut conn, &p).await?);
        out["me"] = json!(match store::voter_state(&mut conn, a, &p).await? {
            None => "not_eligible",
            Some(true) => "voted",
            Some(false) => "may_vote",
        });
    }
    Ok(out)
}

/// Proposals 议题 of the council
#[utoipa::path(get, path = "/api/v1/communities/{code}/proposals", tag = "council", params(Code),
    responses((status = 200, description = "The proposals the caller may see")))]
pub async fn proposals(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let list = store::proposals(&mut s.db.read().await?, Some(a.actor()), c.id).await?;
    Ok(Json(json!({"items": list.iter().map(proposal_json).collect::<Vec<_>>(), "total": list.len()})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalBody {
    pub title: String,
    pub body: String,
    /// community, grid or compound
    #[serde(default = "community_scope")]
    pub scope_kind: String,
    /// The grid or compound.
    pub scope_id: Option<i64>,
}

fn community_scope() -> String {
    "community".into()
}

/// Raise a proposal for the community, a grid or a compound
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals", tag = "council", params(Code),
    request_body = ProposalBody,
    responses((status = 201, description = "The proposal, waiting to be screened"),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn raise(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ProposalBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let p = store::raise(&s, a.actor(), c.id, &b.title, &b.body, &b.scope_kind, b.scope_id).await?;
    Ok((StatusCode::CREATED, Json(proposal_json(&p))).into_response())
}

/// A proposal with rounds, comments, project, and whether the caller may vote
#[utoipa::path(get, path = "/api/v1/communities/{code}/proposals/{id}", tag = "council", params(CodeId),
    responses((status = 200, description = "The proposal"),
        (status = 404, description = "Not there, or not yours to see", body = Problem)))]
pub async fn proposal(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(full(&s, Some(a.actor()), &c, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningBody {
    /// accept, merge or decline
    pub action: String,
    pub merge_into: Option<i64>,
    pub reason: Option<String>,
}

/// Screen: accept onto the agenda, merge, or decline (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/screening", tag = "council", params(CodeId),
    request_body = ScreeningBody,
    responses((status = 200, description = "The proposal, screened"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Already screened, or changed meanwhile", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn screen(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<ScreeningBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(proposal_json(
        &store::screen(&s, a.actor(), c.id, id, &b.action, b.merge_into, b.reason.as_deref()).await?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundBody {
    pub held_at: String,
    pub place: String,
    pub minutes: String,
    /// Council members present (user ids from the roster).
    #[serde(default)]
    pub present: Vec<i64>,
}

/// Record a round 协商: meeting, those present, minutes (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/rounds", tag = "council", params(CodeId),
    request_body = RoundBody,
    responses((status = 201, description = "The round"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not in deliberation", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn add_round(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<RoundBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let held = time("held_at", &Some(b.held_at))?;
    let r = store::add_round(&s, a.actor(), c.id, id, held, &b.place, &b.minutes, &b.present).await?;
    Ok((StatusCode::CREATED, Json(json!(r))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
}

/// Comment between meetings (eligible voters)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/comments", tag = "council", params(CodeId),
    request_body = CommentBody,
    responses((status = 201, description = "The comment"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not in deliberation, or not eligible", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn comment(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<CommentBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    Ok((StatusCode::CREATED, Json(json!(store::comment(&s, a.actor(), c.id, id, &b.body).await?))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// Default: now.
    pub opens_at: Option<String>,
    pub closes_at: String,
}

/// Open the vote 表决 under the community's rules (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/vote", tag = "council", params(CodeId),
    request_body = VoteBody,
    responses((status = 200, description = "The proposal, put to the vote"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not in deliberation", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn open_vote(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<VoteBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let (opens, closes) = (time("opens_at", &b.opens_at)?, time("closes_at", &Some(b.closes_at))?);
    Ok(Json(proposal_json(&store::open_vote(&s, a.actor(), c.id, id, opens, closes).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BallotBody {
    /// for, against or abstain
    pub choice: String,
}

/// Cast one's vote, once
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/ballots", tag = "council", params(CodeId),
    request_body = BallotBody,
    responses((status = 201, description = "Counted"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not voting now, not eligible, or already voted", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn ballot(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<BallotBody>,
) -> AppResult<StatusCode> {
    let c = community(&s, &a, &code).await?;
    store::ballot(&s, a.actor(), c.id, id, &b.choice).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = council::DecisionBody)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The decision 决议 as published with the tally.
    pub decision: String,
}

/// Close the vote and publish the decision 决议 with the tally (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/decision", tag = "council", params(CodeId),
    request_body = DecisionBody,
    responses((status = 200, description = "The proposal, decided, with its tally"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not voting", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn close_vote(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(proposal_json(&store::close_vote(&s, a.actor(), c.id, id, &b.decision).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneItem {
    pub title: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<NaiveDate>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    pub title: String,
    pub owner_name: String,
    #[serde(default)]
    pub budget_yuan: i64,
    pub budget_line: Option<String>,
    #[serde(default)]
    pub milestones: Vec<MilestoneItem>,
}

/// Carry a decision out as a project with milestones (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/project", tag = "council", params(CodeId),
    request_body = ProjectBody,
    responses((status = 201, description = "The project and its milestones"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Not passed, or already a project", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn project(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<ProjectBody>,
) -> AppResult<Response> {
    let c = community(&s, &a, &code).await?;
    let ms: Vec<(String, Option<NaiveDate>)> = b.milestones.into_iter().map(|m| (m.title, m.due_on)).collect();
    let (p, m) =
        store::make_project(&s, a.actor(), c.id, id, &b.title, &b.owner_name, b.budget_yuan, b.budget_line, &ms)
            .await?;
    Ok((StatusCode::CREATED, Json(json!({"project": p, "milestones": m}))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneBody {
    /// A milestone to mark done; absent: add a new one with `title`.
    pub milestone_id: Option<i64>,
    pub title: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub done_on: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Mark a milestone done, or add one (staff)
#[utoipa::path(post, path = "/api/v1/communities/{code}/proposals/{id}/milestones", tag = "council", params(CodeId),
    request_body = MilestoneBody,
    responses((status = 200, description = "The milestone"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
pub async fn milestone(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<MilestoneBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!(store::milestone(&s, a.actor(), c.id, id, b.milestone_id, b.title, b.done_on, b.note).await?)))
}

/// Public: proposals, tallies and project progress (no sign-in)
///
/// The proposals past screening, with their stage, tallies, rounds and projects.
#[utoipa::path(get, path = "/api/v1/public/{code}/proposals", tag = "council", params(Code),
    responses((status = 200, description = "The community's public proposals"),
        (status = 404, description = "No such community", body = Problem)))]
pub async fn public_proposals(State(s): State<AppState>, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::public_community(&s.db, &code).await?;
    let list = store::proposals(&mut s.db.read().await?, None, c.id).await?;
    let mut out = Vec::new();
    for p in &list {
        out.push(full(&s, None, &c, p.id).await?);
    }
    Ok(Json(json!({"community": c.name, "items": out})))
}

/// The routes of this API, each with its operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(proposals, raise))
        .routes(routes!(proposal))
        .routes(routes!(screen))
        .routes(routes!(add_round))
        .routes(routes!(comment))
        .routes(routes!(open_vote))
        .routes(routes!(ballot))
        .routes(routes!(close_vote))
        .routes(routes!(project))
        .routes(routes!(milestone))
        .routes(routes!(public_proposals))
}
