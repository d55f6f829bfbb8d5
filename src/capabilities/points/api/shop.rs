//! The shop's part of the points API: what it offers, redemptions and handovers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{community, key};
use crate::capabilities::points::store;
use crate::error::{AppResult, Problem};
use crate::web::AppState;
use crate::web::api::{ApiJson, Code, CodeId};
use crate::web::{Signed, fmt};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn redemption_json(d: &store::Redemption, show_code: bool) -> Value {
    json!({
        "id": d.id, "reward_id": d.reward_id, "reward": d.reward, "points": d.points, "status": d.status,
        "code": show_code.then(|| d.code.clone()), "held_at": fmt::rfc3339(d.held_at), "expires_at": fmt::rfc3339(d.expires_at),
        "decided_at": d.decided_at.map(fmt::rfc3339),
    })
}

/// What the shop offers today
#[utoipa::path(get, path = "/api/v1/communities/{code}/shop", tag = "shop", params(Code),
    responses((status = 200, description = "The rewards on offer")))]
pub async fn shop(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let items = store::shop(&mut s.db.read().await?, c.id, fmt::today()).await?;
    Ok(Json(json!({"items": items})))
}

/// Redeem one unit (Idempotency-Key): points and stock held
///
/// An `Idempotency-Key` makes a retry answer the first redemption.
#[utoipa::path(post, path = "/api/v1/communities/{code}/shop/{id}/redemptions", tag = "shop", params(CodeId),
    responses((status = 201, description = "The redemption, held, with its code"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Out of stock, or not enough points", body = Problem)))]
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

/// The signed-in user's redemptions, with their codes
#[utoipa::path(get, path = "/api/v1/communities/{code}/redemptions", tag = "shop", params(Code),
    responses((status = 200, description = "The redemptions")))]
pub async fn redemptions(State(s): State<AppState>, a: Signed, Path(code): Path<String>) -> AppResult<Json<Value>> {
    let c = community(&s, &a, &code).await?;
    let list = store::my_redemptions(&mut s.db.read().await?, c.id, a.actor().user_id).await?;
    Ok(Json(json!({"items": list.iter().map(|d| redemption_json(d, true)).collect::<Vec<_>>()})))
}

/// Cancel a held redemption: points and stock back
#[utoipa::path(post, path = "/api/v1/communities/{code}/redemptions/{id}/cancel", tag = "shop", params(CodeId),
    responses((status = 200, description = "The redemption, cancelled"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "No longer held", body = Problem)))]
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

/// Hand over against the holder's code (staff or the merchant)
#[utoipa::path(post, path = "/api/v1/communities/{code}/handovers", tag = "shop", params(Code),
    request_body = HandoverBody,
    responses((status = 200, description = "The redemption, handed over"),
        (status = 404, description = "Not there, or not yours to see", body = Problem),
        (status = 409, description = "Already handed over, or no longer held", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
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

/// The shop's routes, each with its operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shop))
        .routes(routes!(redeem))
        .routes(routes!(redemptions))
        .routes(routes!(cancel))
        .routes(routes!(handover))
}
