//! `POST /api/v1/session` signs in (sets the session cookie); `DELETE` signs out;
//! `GET /api/v1/me` tells who is signed in.

use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::session::{self, COOKIE};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::api::ApiJson;
use crate::web::{RequestInfo, Signed, is_tls, set_cookie};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Username or mainland mobile number.
    pub username: String,
    pub password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    ApiJson(body): ApiJson<SignIn>,
) -> AppResult<Response> {
    let address = super::pages::client_address(&headers, peer.map(|c| c.0.0));
    let (token, s) =
        session::sign_in(&state.db, &state.pii, &body.username, &body.password, address.as_deref()).await?;
    let cookie = set_cookie(COOKIE, &token, 30 * 24 * 3600, is_tls(&state, &headers));
    Ok((StatusCode::CREATED, [(SET_COOKIE, cookie)], Json(me_json(&s.actor, &s.csrf))).into_response())
}

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = &info.token {
        session::sign_out(&state.db, token).await?;
    }
    let cookie = set_cookie(COOKIE, "", 0, is_tls(&state, &headers));
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response())
}

pub async fn me(s: Signed) -> Json<serde_json::Value> {
    Json(me_json(s.actor(), &s.0.csrf))
}

fn me_json(a: &crate::auth::model::Actor, csrf: &str) -> serde_json::Value {
    json!({
        "id": a.user_id,
        "username": a.username,
        "display_name": a.display_name,
        "roles": a.grants,
        "csrf_token": csrf,
    })
}
