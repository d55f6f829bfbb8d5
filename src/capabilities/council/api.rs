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
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::api::{ApiJson, time};
use crate::web::{Signed, fmt};

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

/// A proposal with its rounds, comments, project and whether the caller may vote.
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
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The decision 决议 as published with the tally.
    pub decision: String,
}

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

pub async fn milestone(
    State(s): State<AppState>,
    a: Signed,
    Path((code, id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<MilestoneBody>,
) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    Ok(Json(json!(store::milestone(&s, a.actor(), c.id, id, b.milestone_id, b.title, b.done_on, b.note).await?)))
}

/// Public (no sign-in): the proposals past screening, with their stage, tallies, rounds and projects.
pub async fn public_proposals(State(s): State<AppState>, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = crate::auth::guard::public_community(&s.db, &code).await?;
    let list = store::proposals(&mut s.db.read().await?, None, c.id).await?;
    let mut out = Vec::new();
    for p in &list {
        out.push(full(&s, None, &c, p.id).await?);
    }
    Ok(Json(json!({"community": c.name, "items": out})))
}

pub fn endpoints() -> Vec<crate::web::openapi::Endpoint> {
    use crate::web::openapi::endpoint;
    use utoipa::PartialSchema;
    use utoipa::openapi::path::HttpMethod::{Get, Post};
    let t = "council";
    vec![
        endpoint(Get, "/api/v1/communities/{code}/proposals", t, "Proposals 议题 of the council"),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals",
            t,
            "Raise a proposal for the community, a grid or a compound",
        )
        .body(ProposalBody::schema())
        .created(),
        endpoint(
            Get,
            "/api/v1/communities/{code}/proposals/{id}",
            t,
            "A proposal with rounds, comments, project, and whether the caller may vote",
        ),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/screening",
            t,
            "Screen: accept onto the agenda, merge, or decline (staff)",
        )
        .body(ScreeningBody::schema()),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/rounds",
            t,
            "Record a round 协商: meeting, those present, minutes (staff)",
        )
        .body(RoundBody::schema())
        .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/comments",
            t,
            "Comment between meetings (eligible voters)",
        )
        .body(CommentBody::schema())
        .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/vote",
            t,
            "Open the vote 表决 under the community's rules (staff)",
        )
        .body(VoteBody::schema()),
        endpoint(Post, "/api/v1/communities/{code}/proposals/{id}/ballots", t, "Cast one's vote, once")
            .body(BallotBody::schema())
            .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/decision",
            t,
            "Close the vote and publish the decision 决议 with the tally (staff)",
        )
        .body(DecisionBody::schema()),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/project",
            t,
            "Carry a decision out as a project with milestones (staff)",
        )
        .body(ProjectBody::schema())
        .created(),
        endpoint(
            Post,
            "/api/v1/communities/{code}/proposals/{id}/milestones",
            t,
            "Mark a milestone done, or add one (staff)",
        )
        .body(MilestoneBody::schema()),
        endpoint(
            Get,
            "/api/v1/public/{code}/proposals",
            t,
            "Public: proposals, tallies and project progress (no sign-in)",
        ),
    ]
}
