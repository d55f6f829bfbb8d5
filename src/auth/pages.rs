//! Sign-in and sign-out pages, the user's own page, password change, language switch.

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::{self, COOKIE};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::form::{CsrfForm, PlainForm, text};
use crate::web::{
    LANG_COOKIE, Notice, Page, PageCtx, PageResult, RequestInfo, SignedPage, done, is_tls, render, set_cookie,
};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginTemplate {
    ctx: PageCtx,
    title: String,
    username: String,
    error: Option<String>,
    next: String,
}

fn safe_next(next: &str) -> String {
    crate::web::same_site(next).to_string()
}

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotTemplate {
    ctx: PageCtx,
    title: String,
}

/// What to do about a forgotten password: staff reset it, after checking who asks.
pub async fn forgot_page(Page(ctx): Page) -> PageResult {
    render(&ForgotTemplate { title: ctx.t("auth.forgot_title"), ctx })
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(Page(ctx): Page, Query(q): Query<NextQuery>) -> PageResult {
    if ctx.user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let title = ctx.t("auth.sign_in");
    render(&LoginTemplate {
        title,
        username: String::new(),
        error: None,
        next: safe_next(q.next.as_deref().unwrap_or("/")),
        ctx,
    })
}

/// The client's address, for sign-in throttling. A proxy on the same machine (nginx in
/// front, docs/deployment.md) passes it in `X-Forwarded-For`, whose last entry is the one
/// that proxy saw. From anyone else the header could be made up, so their own address counts.
pub fn client_address(headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> Option<String> {
    let forwarded = || {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    match peer {
        Some(p) if p.ip().is_loopback() => forwarded().or_else(|| Some(p.ip().to_string())),
        Some(p) => Some(p.ip().to_string()),
        // Served without a socket (in-process tests).
        None => forwarded(),
    }
}

/// Goes on to `to` (a path on this site, else home) with cookie `name` set to `value`
/// for `days` (0 forgets it).
fn set_and_go(state: &AppState, headers: &HeaderMap, (name, value, days): (&str, &str, i64), to: &str) -> Response {
    let cookie = set_cookie(name, value, days * 24 * 3600, is_tls(state, headers));
    (StatusCode::SEE_OTHER, [(SET_COOKIE, cookie)], [(axum::http::header::LOCATION, safe_next(to))]).into_response()
}

/// Goes on to `to` with the session's cookie set.
fn with_session(state: &AppState, headers: &HeaderMap, token: &str, to: &str) -> Response {
    set_and_go(state, headers, (COOKIE, token, 30), to)
}

/// Signs in a user who has just set their own credentials (signing up), and goes on to `to`.
pub async fn signed_in_to(state: &AppState, headers: &HeaderMap, user_id: i64, to: &str) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let (token, _) = session::open(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(with_session(state, headers, &token, to))
}

pub async fn login(
    State(state): State<AppState>,
    Page(ctx): Page,
    headers: HeaderMap,
    peer: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    PlainForm(form): PlainForm,
) -> PageResult {
    let username = text(&form, "username");
    let next = safe_next(&text(&form, "next"));
    let address = client_address(&headers, peer.map(|c| c.0.0));
    match session::sign_in(&state.db, &state.pii, &username, &text(&form, "password"), address.as_deref()).await {
        Ok((token, _)) => Ok(with_session(&state, &headers, &token, &next)),
        Err(e @ (AppError::Invalid(_) | AppError::TooManyRequests)) => {
            let status = e.status();
            let error = match &e {
                AppError::Invalid(_) => e.field_messages(ctx.lang).into_values().next(),
                _ => Some(e.message(ctx.lang)),
            };
            let title = ctx.t("auth.sign_in");
            let html = LoginTemplate { title, username, error, next, ctx }.render()?;
            Ok((status, Html(html)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    axum::Extension(info): axum::Extension<RequestInfo>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    if let Some(token) = &info.token {
        session::sign_out(&state.db, token).await?;
    }
    Ok(set_and_go(&state, &headers, (COOKIE, "", 0), "/login"))
}

pub async fn switch_lang(
    State(state): State<AppState>,
    axum::Extension(info): axum::Extension<RequestInfo>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    if let Some(s) = &info.session {
        session::set_lang(&state.db, s.actor.user_id, lang).await?;
    }
    Ok(set_and_go(&state, &headers, (LANG_COOKIE, lang.code(), 365), q.next.as_deref().unwrap_or("/")))
}

/// Large text or normal, kept on this device for a year; then back to the page.
pub async fn switch_text(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(size): Path<String>,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let value = match size.as_str() {
        "large" => "large",
        "normal" => "normal",
        _ => return Err(AppError::NotFound.into()),
    };
    Ok(set_and_go(&state, &headers, (crate::web::TEXT_COOKIE, value, 365), q.next.as_deref().unwrap_or("/")))
}

#[derive(Template)]
#[template(path = "auth/me.html")]
struct MeTemplate {
    ctx: PageCtx,
    title: String,
    username: String,
    display_name: String,
    grants: Vec<(String, String)>,
    errors: std::collections::BTreeMap<String, String>,
}

impl MeTemplate {
    fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }
}

async fn me_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &crate::auth::model::Actor,
    err: Option<&AppError>,
) -> PageResult {
    let mut grants = Vec::new();
    let mut conn = state.db.read().await?;
    for g in &actor.grants {
        let place = match (g.subdistrict_id, g.community_id) {
            (Some(s), _) => {
                crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
                    .bind(s)
                    .scalar_optional::<String>(&mut conn)
                    .await?
            }
            (_, Some(c)) => {
                crate::db::query("SELECT name FROM communities WHERE id = $1")
                    .bind(c)
                    .scalar_optional::<String>(&mut conn)
                    .await?
            }
            _ => Some(ctx.t("role.place_platform")),
        };
        grants.push((ctx.t(&g.role().label_key()), place.unwrap_or_default()));
    }
    let errors = err.map(|e| e.field_messages(ctx.lang)).unwrap_or_default();
    let status = if err.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let html = MeTemplate {
        title: ctx.t("nav.me"),
        username: actor.username.clone(),
        display_name: actor.display_name.clone(),
        grants,
        errors,
        ctx,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn me(State(state): State<AppState>, SignedPage(ctx, actor): SignedPage) -> PageResult {
    me_page(&state, ctx, &actor, None).await
}

pub async fn change_password(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    axum::Extension(info): axum::Extension<RequestInfo>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let token = info.token.clone().unwrap_or_default();
    match session::change_password(
        &state.db,
        &actor,
        &token,
        &text(&form, "current_password"),
        &text(&form, "new_password"),
        &text(&form, "confirm_password"),
    )
    .await
    {
        Ok(()) => Ok(done("/me", Notice::PasswordChanged)),
        Err(e @ AppError::Invalid(_)) => me_page(&state, ctx, &actor, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_proxy_is_believed_about_the_client_address() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        let local = "127.0.0.1:50000".parse().ok();
        let remote = "198.51.100.2:50000".parse().ok();
        assert_eq!(client_address(&headers, local).as_deref(), Some("203.0.113.7"), "the entry the proxy added");
        assert_eq!(client_address(&headers, remote).as_deref(), Some("198.51.100.2"), "a made-up header");
        assert_eq!(client_address(&HeaderMap::new(), local).as_deref(), Some("127.0.0.1"));
    }
}
