//! The places browser (subdistrict → community → grid → household), the community map,
//! and the community's people pages: its users and the log of personal-data reveals.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use serde_json::{Map, Value};

use crate::auth::guard::{CommunityRef, visible_community};
use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::capabilities::registry::people::posts::Post;
use crate::capabilities::registry::people::users::{self, NewUser};
use crate::db::{Builder, query};
use crate::error::{AppError, FieldError};
use crate::services::audit::By;
use crate::web::AppState;
use crate::web::form::{CsrfForm, text};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

/// Links on a community's page and its staff's home.
pub fn community_links(ctx: &PageCtx, actor: &Actor, c: &CommunityRef) -> Vec<(String, String)> {
    let base = format!("/c/{}", c.code);
    let mut links = vec![(format!("{base}/tickets"), ctx.t("ticket.title"))];
    if actor.can(c.id, Permission::EditPlaces) {
        links.push((format!("{base}/ticket_categories"), ctx.t("entity.ticket_category")));
    }
    if actor.can(c.id, Permission::ViewRegistry) {
        links.push((format!("{base}/residents"), ctx.t("entity.resident")));
        links.push((format!("{base}/households"), ctx.t("entity.household")));
    }
    if actor.can(c.id, Permission::ViewPlaces) {
        links.push((format!("{base}/map"), ctx.t("map.title")));
        links.push((format!("{base}/buildings"), ctx.t("entity.building")));
    }
    if actor.can(c.id, Permission::ManageUsers) {
        links.push((format!("{base}/users"), ctx.t("users.title")));
    }
    if actor.can(c.id, Permission::ViewAccessLog) {
        links.push((format!("{base}/access-log"), ctx.t("pii.access_log")));
    }
    links
}

pub struct SubdistrictView {
    pub id: i64,
    pub name: String,
    pub communities: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "places/browser.html")]
struct BrowserTemplate {
    ctx: PageCtx,
    title: String,
    subdistricts: Vec<SubdistrictView>,
    can_create: bool,
}

pub async fn browser(State(state): State<AppState>, SignedPage(ctx, actor): SignedPage) -> PageResult {
    let mut b = Builder::new(
        "SELECT c.id, c.code, c.name, c.kind, s.id, s.name FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE c.archived_at IS NULL",
    );
    if let Some(ids) = actor.community_ids() {
        b.push(" AND c.id IN ").list(ids);
    }
    b.push(" ORDER BY s.code, c.code");
    let mut conn = state.db.read().await?;
    let rows: Vec<(i64, String, String, String, i64, String)> = b.build().fetch_all(&mut conn).await?;
    let mut subdistricts: Vec<SubdistrictView> = Vec::new();
    for (id, code, name, kind, sid, sname) in rows {
        if subdistricts.last().is_none_or(|s| s.id != sid) {
            subdistricts.push(SubdistrictView { id: sid, name: sname, communities: Vec::new() });
        }
        let kind = ctx.t(&format!("choice.community.kind.{kind}"));
        subdistricts.last_mut().expect("pushed").communities.push((
            format!("/communities/{id}"),
            name,
            format!("{code} · {kind}"),
        ));
    }
    let title = ctx.t("nav.places");
    render(&BrowserTemplate { title, subdistricts, can_create: actor.is_platform_admin(), ctx })
}

#[derive(Template)]
#[template(path = "places/map.html")]
struct MapTemplate {
    ctx: PageCtx,
    title: String,
    community: CommunityRef,
    svg: crate::web::ui::MapView,
    grids: Vec<(String, String, String)>,
}

pub async fn map_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    if !actor.can(c.id, Permission::ViewPlaces) {
        return Err(AppError::NotFound.into());
    }
    let shapes = super::map::grid_shapes(&state.db, c.id, None).await?;
    let svg = super::map::draw(&c.name, &shapes, &[]);
    let mut conn = state.db.read().await?;
    let mut rows: Vec<(i64, String, Option<String>)> = query(
        "SELECT g.id, g.name, u.display_name FROM grids g LEFT JOIN users u ON u.id = g.worker_user_id WHERE g.community_id = $1 AND g.archived_at IS NULL",
    )
    .bind(c.id)
    .fetch_all(&mut conn)
    .await?;
    crate::natural::sort_by_name(&mut rows, |r| r.1.as_str());
    let grids =
        rows.into_iter().map(|(id, n, w)| (format!("/c/{}/grids/{id}", c.code), n, w.unwrap_or_default())).collect();
    let title = format!("{} · {}", c.name, ctx.t("map.title"));
    render(&MapTemplate { title, community: c, svg, grids, ctx })
}

#[derive(Template)]
#[template(path = "places/access_log.html")]
struct AccessLogTemplate {
    ctx: PageCtx,
    title: String,
    rows: Vec<(String, String, String, String, String)>,
}

pub async fn access_log(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let log = crate::services::pii::store::access_log(&state.db, &actor, c.id, 500).await?;
    let rows = log
        .into_iter()
        .map(|r| {
            let href = crate::services::records::by_kind(&r.entity)
                .map(|d| format!("/c/{}/{}/{}", c.code, d.path, r.entity_id))
                .unwrap_or_default();
            (
                fmt::datetime(r.at),
                r.user_name,
                ctx.t(&format!("entity.{}", r.entity)),
                href,
                ctx.t(&format!("field.{}.{}", r.entity, r.field)),
            )
        })
        .collect();
    let title = format!("{} · {}", c.name, ctx.t("pii.access_log"));
    render(&AccessLogTemplate { title, rows, ctx })
}

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub phone: String,
    pub role: String,
    pub post: String,
    pub place: String,
}

#[derive(Template)]
#[template(path = "places/users.html")]
struct UsersTemplate {
    ctx: PageCtx,
    title: String,
    code: String,
    /// What a password reset gave, shown once to the staff who did it.
    said: Option<String>,
    /// Whether the viewer manages the community's users (and may reset passwords).
    manages: bool,
    users: Vec<UserRow>,
    roles: Vec<(String, String)>,
    grids: Vec<(i64, String)>,
    posts: Vec<(&'static str, String)>,
    zones: Vec<(i64, String)>,
    compounds: Vec<(i64, String)>,
    form: Map<String, Value>,
    errors: std::collections::BTreeMap<String, String>,
}

impl UsersTemplate {
    fn value(&self, name: &str) -> String {
        text(&self.form, name)
    }

    fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }
}

async fn users_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    form: Map<String, Value>,
    err: Option<&AppError>,
    said: Option<String>,
) -> PageResult {
    let list = users::list_for_community(&state.db, actor, c.id).await?;
    let grids = crate::services::records::store::options(&state.db, &super::GRID, &[c.id], 500).await?;
    let zones = crate::services::records::store::options(&state.db, &super::ZONE, &[c.id], 500).await?;
    let compounds = crate::services::records::store::options(&state.db, &super::COMPOUND, &[c.id], 500).await?;
    let grid_name = |id: Option<i64>| {
        id.and_then(|g| grids.iter().find(|(i, _)| *i == g)).map(|(_, n)| n.clone()).unwrap_or_default()
    };
    let users = list
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            place: if u.grid_id.is_some() {
                grid_name(u.grid_id)
            } else {
                u.post_place.or(u.household_id.map(|h| format!("#{h}"))).unwrap_or_default()
            },
            post: u.post.as_deref().and_then(Post::parse).map(|p| ctx.t(&p.label_key())).unwrap_or_default(),
            role: Role::parse(&u.role).map(|r| ctx.t(&r.label_key())).unwrap_or(u.role),
            username: u.username,
            display_name: u.display_name,
            phone: u.phone_masked.unwrap_or_default(),
        })
        .collect();
    let roles = users::grantable_roles(actor, c.id)
        .into_iter()
        .filter(|r| !matches!(r, Role::Resident | Role::PartnerUnit))
        .map(|r| (r.as_str().to_string(), ctx.t(&r.label_key())))
        .collect();
    let errors = err.map(|e| e.field_messages(ctx.lang)).unwrap_or_default();
    let status = if err.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let html = UsersTemplate {
        title: format!("{} · {}", c.name, ctx.t("users.title")),
        code: c.code.clone(),
        said,
        manages: actor.can(c.id, crate::auth::model::Permission::ManageUsers),
        users,
        roles,
        grids,
        posts: Post::ALL.iter().map(|p| (p.as_str(), ctx.t(&p.label_key()))).collect(),
        zones,
        compounds,
        form,
        errors,
        ctx,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn users(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    users_page(&state, ctx, &actor, &c, Map::new(), None, None).await
}

/// Staff reset a forgotten password: the page shows the temporary one once.
pub async fn reset_password(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let (name, temporary) = users::reset_by_staff(&state.db, &actor, c.id, id).await?;
    let said = crate::i18n::tr(ctx.lang, "users.reset_done", &[("name", name), ("password", temporary)]);
    users_page(&state, ctx, &actor, &c, Map::new(), None, Some(said)).await
}

/// A secretary (or the platform) creates an account with one role in the community.
pub async fn create_user(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let role = Role::parse(&text(&form, "role"));
    let grid = text(&form, "grid_id").parse::<i64>().ok();
    let grant = match role {
        Some(Role::GridWorker) => grid.map(|g| Grant::grid(c.id, g)),
        Some(r @ (Role::CommunitySecretary | Role::CommunityStaff | Role::Volunteer | Role::PartyMember)) => {
            Some(Grant::community(r, c.id))
        }
        _ => None,
    };
    let result = match grant {
        None => Err(AppError::Invalid(vec![FieldError::new(
            if role == Some(Role::GridWorker) { "grid_id" } else { "role" },
            "validation.required",
        )])),
        Some(g) => {
            let new = NewUser {
                username: text(&form, "username").trim().to_string(),
                display_name: text(&form, "display_name"),
                password: text(&form, "password"),
                phone: Some(text(&form, "phone")),
                grants: vec![g],
                post: Some(text(&form, "post")),
                post_place_id: text(&form, "post_place_id").parse().ok(),
                ..Default::default()
            };
            users::create(&state.db, &state.pii, Some(&actor), &By::from(&actor), new).await
        }
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{}/users", c.code), Notice::UserCreated)),
        Err(e @ AppError::Invalid(_)) => users_page(&state, ctx, &actor, &c, form, Some(&e), None).await,
        Err(e) => Err(e.into()),
    }
}
