//! The registry: places (subdistricts to households), people (residents, accounts and
//! posts), organisations (party organisations, teams, partner units), import and export,
//! and the home page's sections of each role.

pub mod api;
pub mod dictionary;
pub mod home;
pub mod org;
pub mod people;
pub mod places;
pub mod transfer;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use futures::future::BoxFuture;

use crate::auth::model::{Actor, Permission, Role};
use crate::services::pii::Pii;
use crate::web::AppState;
use crate::web::capability::{Capability, NavEntry, RecordExtras, SubjectLink, WayIn, Whereabouts};

pub static CAP: Capability = Capability {
    figures: Some(&dictionary::SOURCE),
    records: &[
        &places::SUBDISTRICT,
        &places::COMMUNITY,
        &places::ZONE,
        &places::GRID,
        &places::COMPOUND,
        &places::BUILDING,
        &places::HOUSEHOLD,
        &people::RESIDENT,
        &org::PARTY_ORG,
        &org::TEAM,
        &org::PARTNER_UNIT,
    ],
    api: Some(api::routes),
    home: Some(home::sections),
    nav: Some(nav),
    record_page: Some(record_page),
    on_start: Some(on_start),
    links: &[SubjectLink::new("resident_request", "/c/{code}/resident-requests", "inbox.group.registry")],
    ways_in: &[WayIn { path: "/c/{code}/residents/join", label: "joining.resident", hint: "joining.resident_hint" }],
    ..Capability::new("registry", routes)
};

fn routes() -> Router<AppState> {
    let upload = || DefaultBodyLimit::max(transfer::pages::MAX_UPLOAD + 64 * 1024);
    Router::new()
        .route("/me/data", get(home::my_data))
        .route("/places", get(places::pages::browser))
        .route("/c/{code}/map", get(places::pages::map_page))
        .route("/c/{code}/access-log", get(places::pages::access_log))
        .route("/c/{code}/users", get(places::pages::users).post(places::pages::create_user))
        .route("/c/{code}/users/{id}/password", post(places::pages::reset_password))
        .route("/c/{code}/import", get(transfer::pages::import_page).post(transfer::pages::import).layer(upload()))
        .route("/c/{code}/export/residents.xlsx", get(transfer::pages::export))
        .route("/c/{code}/residents/join", get(people::joining_pages::join_page).post(people::joining_pages::join))
        .route("/c/{code}/resident-requests", get(people::joining_pages::requests))
        .route("/c/{code}/resident-requests/{id}/approve", post(people::joining_pages::approve))
        .route("/c/{code}/resident-requests/{id}/decline", post(people::joining_pages::decline))
}

/// Those who keep the places and the registry find them in the navigation; residents,
/// volunteers, members and units work from their home page.
fn nav(actor: &Actor, at: &Whereabouts<'_>) -> Vec<NavEntry> {
    let keeper = actor
        .roles()
        .iter()
        .any(|r| !matches!(r, Role::Resident | Role::Volunteer | Role::PartyMember | Role::PartnerUnit));
    if !keeper {
        return Vec::new();
    }
    let mut out = vec![NavEntry { order: 20, href: "/places".into(), label_key: "nav.places", icon: "map" }];
    let residents = match (at.community, at.subdistrict) {
        (Some(c), _) if actor.can(c.id, Permission::ViewRegistry) => Some(format!("/c/{}/residents", c.code)),
        (_, Some(s)) => Some(format!("/subdistricts/{s}/residents")),
        _ => None,
    };
    if let Some(href) = residents {
        out.push(NavEntry { order: 30, href, label_key: "nav.residents", icon: "people" });
    }
    out
}

/// A community's page links to what its keepers use; a community's and a grid's pages
/// draw the map.
fn record_page<'a>(
    state: &'a AppState,
    ctx: &'a crate::web::PageCtx,
    actor: &'a Actor,
    kind: &'a str,
    c: &'a crate::auth::guard::CommunityRef,
    id: i64,
) -> BoxFuture<'a, crate::error::AppResult<RecordExtras>> {
    Box::pin(async move {
        Ok(match kind {
            "community" => RecordExtras {
                links: places::pages::community_links(ctx, actor, c),
                map: Some(places::map::community_map(&state.db, &c.name, c.id, None).await?),
            },
            "grid" => RecordExtras {
                map: Some(places::map::community_map(&state.db, &c.name, c.id, Some(id)).await?),
                ..Default::default()
            },
            _ => RecordExtras::default(),
        })
    })
}

/// Data kept in order at every start: partner units' contact phones sealed, user names
/// freed of personal numbers.
fn on_start<'a>(db: &'a crate::db::Db, pii: &'a Pii) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let sealed = org::seal_contact_phones(db, pii).await?;
        if sealed > 0 {
            tracing::info!(count = sealed, "partner units' contact phones sealed");
        }
        let renamed = people::users::rename_personal_usernames(db, pii).await?;
        if renamed > 0 {
            tracing::info!(count = renamed, "user names holding a phone or ID number renamed");
        }
        Ok(())
    })
}
