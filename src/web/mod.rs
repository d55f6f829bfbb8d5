//! What every page and API handler shares: the session and language of the request,
//! cookies, protection of form posts, the page frame, errors as pages, static assets.

pub mod api;
pub mod assets;
pub mod board;
pub mod capability;
pub mod dictionary;
pub mod figures;
pub mod fmt;
pub mod form;
pub mod home;
pub mod joining;
pub mod openapi;
pub mod ops;
pub mod state;
pub mod ui;

pub use state::AppState;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::auth::model::Actor;
use crate::auth::session::{self, COOKIE, Session};
use crate::error::{AppError, AppResult};
use crate::i18n::{self, Lang};

pub const LANG_COOKIE: &str = "linli_lang";
/// `large` when the reader chose large text (for elderly eyes), on this device.
pub const TEXT_COOKIE: &str = "linli_text";

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"))
        .expect("cookie values are ASCII")
}

/// Whether the request came over TLS (directly or through a proxy that says so).
pub fn is_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies() || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

/// What the session middleware found, for extractors further down.
#[derive(Clone)]
pub struct RequestInfo {
    pub session: Option<Session>,
    pub token: Option<String>,
    pub lang: Lang,
    pub large_text: bool,
}

/// Loads the session once per request, settles the language, and runs the rest of the
/// request in that language.
pub async fn session_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = cookie(req.headers(), COOKIE).map(str::to_string);
    let session = match &token {
        Some(t) => match session::load(&state.db, t).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let lang = cookie(req.headers(), LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| session.as_ref().and_then(|s| s.lang))
        // Pages are Chinese until someone picks English; API clients may ask by header.
        .or_else(|| {
            let api = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/open311/");
            let header = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
            header.filter(|_| api).and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    let large_text = cookie(req.headers(), TEXT_COOKIE) == Some("large");
    req.extensions_mut().insert(RequestInfo { session, token, lang, large_text });
    i18n::scope(lang, next.run(req)).await
}

/// Refuses cross-site writes: an unsafe method whose `Origin` (or `Referer`) names
/// another host. Forms also carry a per-session token (see `form::CsrfForm`), and
/// the session cookie is SameSite=Lax.
pub async fn origin_guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let source = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    if let Some(source) = source {
        let source_host = source.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
        if source == "null" || source_host != host {
            return AppError::Forbidden.into_response();
        }
    }
    next.run(req).await
}

/// Refuses a control character in the path or in a query value before any handler sees
/// it (422 naming the query key, or `path`). Forms and JSON bodies are checked by their
/// extractors; `next` is left to the sign-in redirect, which sends anything odd home.
pub async fn input_guard(req: Request, next: Next) -> Response {
    let mut errors = Vec::new();
    let decoded = form_urlencoded::parse(req.uri().path().as_bytes());
    if decoded.into_iter().any(|(k, v)| k.chars().chain(v.chars()).any(crate::input::is_refused)) {
        errors.push(crate::error::FieldError::new("path", "validation.control_chars"));
    }
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        if let Some(e) = crate::input::check_chars(&k, &k) {
            errors.push(e);
        } else if k != "next"
            && let Some(e) = crate::input::check_chars(&k, &v)
        {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/open311/");
    if api { AppError::Invalid(errors).into_response() } else { PageError(AppError::Invalid(errors)).into_response() }
}

/// The signed-in user (API handlers): 401 when there is none.
pub struct Signed(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let info = parts.extensions.get::<RequestInfo>().ok_or(AppError::Unauthorized)?;
        info.session.clone().map(Signed).ok_or(AppError::Unauthorized)
    }
}

impl Signed {
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }
}

/// One entry of the navigation (bottom tab bar on phones, side bar on desktops).
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: String,
    pub label: String,
    pub icon: &'static str,
    pub active: bool,
}

/// What every page template gets: language, user, navigation, the form token.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub user: Option<Actor>,
    pub path: String,
    pub query: String,
    pub nav: Vec<NavItem>,
    pub notice: Option<String>,
    /// Unread messages in the user's inbox.
    pub unread: i64,
    /// Pages drawn larger, as the reader chose.
    pub large_text: bool,
    /// The deployment's tile server and its credit, when maps have a base map.
    pub tiles: Option<(String, String)>,
}

impl PageCtx {
    /// The context of what is written away from a request (a report a job archives).
    pub fn plain(lang: Lang) -> PageCtx {
        PageCtx {
            lang,
            csrf: String::new(),
            user: None,
            path: String::new(),
            query: String::new(),
            nav: Vec::new(),
            notice: None,
            unread: 0,
            large_text: false,
            tiles: None,
        }
    }

    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// Who did something in a history: a user's name, or what the operator's commands are
    /// called in this language.
    pub fn who(&self, actor_name: &str) -> String {
        match crate::services::audit::who(actor_name) {
            Ok(name) => name.to_string(),
            Err(key) => self.t(key),
        }
    }

    pub fn tr(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        i18n::tr(self.lang, key, &[(name, value.to_string())])
    }

    pub fn actor(&self) -> AppResult<&Actor> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }

    pub fn role_names(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.roles().iter().map(|r| self.t(&r.label_key())).collect::<Vec<_>>().join("、"))
            .unwrap_or_default()
    }

    /// Link to this page in the other language.
    pub fn lang_switch(&self) -> String {
        let next = self.here();
        format!("/lang/{}?next={}", self.lang.other().code(), fmt::urlencode(&next))
    }

    /// This page's address, to come back to.
    fn here(&self) -> String {
        if self.query.is_empty() { self.path.clone() } else { format!("{}?{}", self.path, self.query) }
    }

    /// Where the large-text switch leads: to the other size, then back here.
    pub fn text_switch(&self) -> String {
        let next = self.here();
        let size = if self.large_text { "normal" } else { "large" };
        format!("/text/{size}?next={}", fmt::urlencode(&next))
    }

    pub fn other_lang_label(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "EN",
            Lang::En => "中文",
        }
    }
}

/// Pages: the context, with or without a signed-in user.
pub struct Page(pub PageCtx);

impl FromRequestParts<AppState> for Page {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let info = parts.extensions.get::<RequestInfo>().cloned().ok_or(PageError(AppError::Unauthorized))?;
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        // `?ok=saved` after a form: a known notice only (`?ok=` is anyone's to type), with
        // its count `n` when it has one.
        let n = form::query_param(&query, "n").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let notice = form::query_param(&query, "ok")
            .and_then(|k| Notice::parse(&k))
            .map(|k| i18n::tr(info.lang, &k.key(), &[("n", n.unwrap_or_default())]));
        let (csrf, user) = match info.session {
            Some(s) => (s.csrf, Some(s.actor)),
            None => (String::new(), None),
        };
        let (nav, unread) = match &user {
            Some(u) => (
                navigation(state, u, info.lang, &path).await,
                crate::services::notify::unread(&state.db, u).await.unwrap_or(0),
            ),
            None => (Vec::new(), 0),
        };
        let large_text = info.large_text;
        let tiles =
            state.config.map_tiles.clone().map(|t| (t, state.config.map_attribution.clone().unwrap_or_default()));
        Ok(Page(PageCtx { lang: info.lang, csrf, user, path, query, nav, notice, unread, large_text, tiles }))
    }
}

/// Pages that need a signed-in user: without one, a redirect to the sign-in page.
pub struct SignedPage(pub PageCtx, pub Actor);

impl FromRequestParts<AppState> for SignedPage {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Page(ctx) = Page::from_request_parts(parts, state).await?;
        let actor = ctx.user.clone().ok_or(PageError(AppError::Unauthorized))?;
        Ok(SignedPage(ctx, actor))
    }
}

/// Home, each capability's entries for this user (by their `order`), and "me".
async fn navigation(state: &AppState, actor: &Actor, lang: Lang, path: &str) -> Vec<NavItem> {
    let home = state.home_community(actor).await;
    let at = capability::Whereabouts {
        community: home.as_ref(),
        subdistrict: actor.grants.iter().find_map(|g| g.subdistrict_id),
    };
    let mut entries: Vec<capability::NavEntry> =
        state.caps.iter().filter_map(|c| c.nav).flat_map(|nav| nav(actor, &at)).collect();
    if actor.is_platform_admin() {
        // The national calendar every schedule follows is the platform's to keep.
        entries.push(capability::NavEntry {
            order: 90,
            href: "/admin/holidays".into(),
            label_key: "hours.holidays",
            icon: "clock",
        });
    }
    entries.sort_by_key(|e| e.order);
    let first = capability::NavEntry { order: 0, href: "/".into(), label_key: "nav.home", icon: "home" };
    let last = capability::NavEntry { order: u8::MAX, href: "/me".into(), label_key: "nav.me", icon: "user" };
    std::iter::once(first)
        .chain(entries)
        .chain(std::iter::once(last))
        .map(|e| NavItem {
            active: if e.href == "/" { path == "/" } else { path.starts_with(e.href.as_str()) },
            label: i18n::t(lang, e.label_key),
            href: e.href,
            icon: e.icon,
        })
        .collect()
}

/// An error shown as a page (or, for a missing session, a redirect to sign in).
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError(e.into())
    }
}

impl From<std::io::Error> for PageError {
    fn from(e: std::io::Error) -> Self {
        PageError(e.into())
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        PageError(e.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError(e.into())
    }
}

pub type PageResult = Result<Response, PageError>;

#[cfg(test)]
pub(crate) mod tests {
    use super::{PageCtx, same_site};
    use crate::i18n::Lang;

    /// A page's context as views are tested without a server.
    pub fn ctx() -> PageCtx {
        PageCtx { csrf: "csrf".into(), path: "/".into(), ..PageCtx::plain(Lang::Zh) }
    }

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for ok in ["/", "/c/440804003001/tickets?view=mine", "/me#x"] {
            assert_eq!(same_site(ok), ok);
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "/\\/evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/x\r\nSet-Cookie: a=b",
            "https://evil.example/",
            "evil.example",
            "",
            "/ /evil",
        ] {
            assert_eq!(same_site(bad), "/", "{bad:?}");
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    lang: Lang,
    title: String,
    message: String,
    /// Each refused field and why, when the error is about input.
    fields: Vec<(String, String)>,
    status: u16,
}

impl ErrorTemplate {
    fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, AppError::Unauthorized) {
            return Redirect::to("/login").into_response();
        }
        self.0.log();
        let lang = i18n::current();
        let status = self.0.status();
        let page = ErrorTemplate {
            lang,
            title: i18n::t(lang, &format!("error.title.{}", status.as_u16())),
            message: self.0.message(lang),
            fields: self.0.field_messages(lang).into_iter().collect(),
            status: status.as_u16(),
        };
        match askama::Template::render(&page) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.0.message(lang)).into_response(),
        }
    }
}

/// Renders a template into a page.
pub fn render(t: &impl askama::Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// A place to go next, if it is a path on this site; anything else is home. Browsers drop
/// tabs and newlines from addresses and read `\` as `/`, so `/\evil.example` and
/// `/<TAB>/evil.example` would leave the site: a path holding either, or starting `//`,
/// is not followed.
pub fn same_site(next: &str) -> &str {
    let odd = |c: char| c == '\\' || c.is_control() || c.is_whitespace();
    if next.starts_with('/') && !next.starts_with("//") && !next.chars().any(odd) { next } else { "/" }
}

/// What a page says after a form did its work (`?ok=` in the address it goes to next).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Saved,
    Created,
    Archived,
    Unarchived,
    PasswordChanged,
    UserCreated,
    Registered,
    RecordSent,
    Approved,
    ApprovedPicked,
    ApprovedSome,
    Rejected,
    Redeemed,
    Cancelled,
    SignedUp,
    Started,
    Ended,
    Submitted,
    TicketSubmitted,
    TicketUpdated,
    Raised,
    Voted,
    Decided,
    Pledged,
    Sent,
    Reminded,
    AllRead,
    Applied,
    Bound,
    Declined,
    DispatchedPicked,
    DispatchedSome,
    SessionsAdded,
    Published,
    EventCancelled,
    Queued,
    EventSignedUp,
    SeatClaimed,
    SignupCancelled,
}

impl Notice {
    pub const ALL: [Notice; 39] = [
        Notice::Saved,
        Notice::Created,
        Notice::Archived,
        Notice::Unarchived,
        Notice::PasswordChanged,
        Notice::UserCreated,
        Notice::Registered,
        Notice::RecordSent,
        Notice::Approved,
        Notice::ApprovedPicked,
        Notice::ApprovedSome,
        Notice::Rejected,
        Notice::Redeemed,
        Notice::Cancelled,
        Notice::SignedUp,
        Notice::Started,
        Notice::Ended,
        Notice::Submitted,
        Notice::TicketSubmitted,
        Notice::TicketUpdated,
        Notice::Raised,
        Notice::Voted,
        Notice::Decided,
        Notice::Pledged,
        Notice::Sent,
        Notice::Reminded,
        Notice::AllRead,
        Notice::Applied,
        Notice::Bound,
        Notice::Declined,
        Notice::DispatchedPicked,
        Notice::DispatchedSome,
        Notice::SessionsAdded,
        Notice::Published,
        Notice::EventCancelled,
        Notice::Queued,
        Notice::EventSignedUp,
        Notice::SeatClaimed,
        Notice::SignupCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Saved => "saved",
            Notice::Created => "created",
            Notice::Archived => "archived",
            Notice::Unarchived => "unarchived",
            Notice::PasswordChanged => "password_changed",
            Notice::UserCreated => "user_created",
            Notice::Registered => "registered",
            Notice::RecordSent => "record_sent",
            Notice::Approved => "approved",
            Notice::ApprovedPicked => "approved_picked",
            Notice::ApprovedSome => "approved_some",
            Notice::Rejected => "rejected",
            Notice::Redeemed => "redeemed",
            Notice::Cancelled => "cancelled",
            Notice::SignedUp => "signed_up",
            Notice::Started => "started",
            Notice::Ended => "ended",
            Notice::Submitted => "submitted",
            Notice::TicketSubmitted => "ticket_submitted",
            Notice::TicketUpdated => "ticket_updated",
            Notice::Raised => "raised",
            Notice::Voted => "voted",
            Notice::Decided => "decided",
            Notice::Pledged => "pledged",
            Notice::Sent => "sent",
            Notice::Reminded => "reminded",
            Notice::AllRead => "all_read",
            Notice::Applied => "applied",
            Notice::Bound => "bound",
            Notice::Declined => "declined",
            Notice::DispatchedPicked => "dispatched_picked",
            Notice::DispatchedSome => "dispatched_some",
            Notice::SessionsAdded => "sessions_added",
            Notice::Published => "published",
            Notice::EventCancelled => "event_cancelled",
            Notice::Queued => "queued",
            Notice::EventSignedUp => "event_signed_up",
            Notice::SeatClaimed => "seat_claimed",
            Notice::SignupCancelled => "signup_cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|n| n.as_str() == s)
    }

    pub fn key(self) -> String {
        format!("notice.{}", self.as_str())
    }
}

/// After a form did its work: see `to` (303, so that reloading does not post again), with
/// the notice that says what happened.
pub fn done(to: &str, notice: Notice) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    see_other(&format!("{to}{sep}ok={}", notice.as_str()))
}

/// After a successful form post: see the result (303 so that reload does not repost).
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}
