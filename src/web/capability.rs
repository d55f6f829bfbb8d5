//! What a capability plugs into the house, declared in one place: its routes and API, the
//! record kinds it keeps, its part of each home page and of the navigation, who may see
//! its photos, what it gives a new community, what it does at start, its background jobs.
//! `capabilities::ALL` lists them; the router, the home page, the navigation, photos,
//! community creation and the job loop go through that list and nothing else.

use axum::Router;
use futures::future::BoxFuture;

use super::PageCtx;
use super::home::Section;
use super::state::AppState;
use crate::auth::model::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::services::media::model::Media;
use crate::services::records::model::{EntityDef, Setting};

/// A user's part of a home page, one section per role it serves.
pub type HomeFn = for<'a> fn(&'a AppState, &'a PageCtx, &'a Actor) -> BoxFuture<'a, AppResult<Vec<Section>>>;

/// Whether an actor may see the record (of one owner kind) a photo belongs to.
pub type MediaCheck = for<'a> fn(&'a AppState, &'a Actor, &'a Media) -> BoxFuture<'a, AppResult<bool>>;

pub use crate::services::records::model::NewCommunityFn;

/// Work done once when the server starts (after migrations): data the capability keeps
/// in order.
pub type StartFn = for<'a> fn(&'a Db, &'a crate::services::pii::Pii) -> BoxFuture<'a, anyhow::Result<()>>;

/// What a capability adds to the page of a record of a community: links onward, a map.
#[derive(Default)]
pub struct RecordExtras {
    pub links: Vec<(String, String)>,
    pub map: Option<super::ui::MapView>,
}

/// Its extras for the record of `kind` with `id` in the community.
pub type RecordPageFn = for<'a> fn(
    &'a AppState,
    &'a PageCtx,
    &'a Actor,
    &'a str,
    &'a crate::auth::guard::CommunityRef,
    i64,
) -> BoxFuture<'a, AppResult<RecordExtras>>;

/// A background job, run every minute; each must be safe to run in several processes.
pub struct Job {
    pub name: &'static str,
    pub run: for<'a> fn(&'a AppState, i64) -> BoxFuture<'a, anyhow::Result<()>>,
}

/// Where a user's links go: their first community (by code) and their subdistrict.
pub struct Whereabouts<'a> {
    pub community: Option<&'a crate::auth::guard::CommunityRef>,
    pub subdistrict: Option<i64>,
}

/// A capability's entries in the navigation for a user.
pub type NavFn = fn(&Actor, &Whereabouts<'_>) -> Vec<NavEntry>;

/// One navigation entry, placed by `order` among all capabilities' entries.
pub struct NavEntry {
    pub order: u8,
    pub href: String,
    pub label_key: &'static str,
    pub icon: &'static str,
}

/// Notifications about a kind of subject: the page they lead to (a path with `{code}` and
/// `{id}`) and the inbox tab they are grouped under. An entry with an `action` claims only
/// that action's lines (督办 apart from the rest of a ticket's news); the first entry that
/// matches a line wins.
pub struct SubjectLink {
    pub kind: &'static str,
    pub action: Option<&'static str>,
    pub path: &'static str,
    /// The translation key of its inbox tab.
    pub group: &'static str,
}

impl SubjectLink {
    pub const fn new(kind: &'static str, path: &'static str, group: &'static str) -> SubjectLink {
        SubjectLink { kind, action: None, path, group }
    }

    /// Only the lines of `action`.
    pub const fn of(self, action: &'static str) -> SubjectLink {
        SubjectLink { action: Some(action), ..self }
    }

    pub fn matches(&self, kind: Option<&str>, action: &str) -> bool {
        kind == Some(self.kind) && self.action.is_none_or(|a| a == action)
    }
}

/// A way into a community that a capability offers newcomers (`/c/{code}/join`).
pub struct WayIn {
    /// Where it starts, with `{code}`.
    pub path: &'static str,
    pub label: &'static str,
    /// What it asks and what follows, in a line.
    pub hint: &'static str,
}

pub struct Capability {
    /// A short name, for logs and the design notes.
    pub name: &'static str,
    /// Its pages (and the API routes the record engine documents itself).
    pub routes: fn() -> Router<AppState>,
    /// The record kinds the record engine serves for it (pages, API, OpenAPI).
    pub records: &'static [&'static EntityDef],
    /// Its settings, one value per community (`services::settings`).
    pub settings: &'static [&'static Setting],
    /// Its JSON API: each route with its OpenAPI operation, declared on the handler.
    pub api: Option<fn() -> utoipa_axum::router::OpenApiRouter<AppState>>,
    pub home: Option<HomeFn>,
    pub nav: Option<NavFn>,
    /// What it adds to records' pages.
    pub record_page: Option<RecordPageFn>,
    /// The subjects its notifications are about: where a line of the inbox leads and the
    /// inbox tab it is under.
    pub links: &'static [SubjectLink],
    /// The ways into a community it offers newcomers.
    pub ways_in: &'static [WayIn],
    /// Photo owner kinds it answers for.
    pub media: &'static [(&'static str, MediaCheck)],
    pub on_new_community: Option<NewCommunityFn>,
    pub on_start: Option<StartFn>,
    pub jobs: &'static [Job],
    /// What it keeps while the server runs (caches, group commits), put in the state's
    /// runtimes at start.
    pub runtime: Option<fn(&mut axum::http::Extensions)>,
    /// Its records that come from another capability's record (`related`).
    pub related: Option<RelatedFn>,
    /// What it hangs on a community's public board (`web::board`).
    pub board: Option<super::board::BoardFn>,
    /// Its figures in the dictionary (`web::dictionary`), how it counts them and what
    /// stands behind each.
    pub figures: Option<&'static super::dictionary::FigureSource>,
}

impl Capability {
    /// A capability that plugs in only its routes; the rest is filled in by name.
    pub const fn new(name: &'static str, routes: fn() -> Router<AppState>) -> Capability {
        Capability {
            name,
            routes,
            records: &[],
            settings: &[],
            api: None,
            home: None,
            nav: None,
            record_page: None,
            links: &[],
            ways_in: &[],
            media: &[],
            on_new_community: None,
            on_start: None,
            jobs: &[],
            runtime: None,
            related: None,
            board: None,
            figures: None,
        }
    }
}

/// A record of one capability that another's record leads to (the project that carries out
/// a council decision, or answers a need): its page, what kind of thing it is (a text
/// key), and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub href: String,
    pub kind_key: &'static str,
    pub title: String,
}

/// What a capability has that comes from another's record (`kind`, `id`), for that
/// record's pages to link to: so a link kept by one is shown both ways, and the one that
/// keeps it is never named by the other.
pub type RelatedFn = for<'a> fn(
    &'a AppState,
    &'a crate::auth::guard::CommunityRef,
    &'a str,
    i64,
) -> BoxFuture<'a, AppResult<Vec<Related>>>;

/// Every capability's records that come from this one.
pub async fn related(
    state: &AppState,
    c: &crate::auth::guard::CommunityRef,
    kind: &str,
    id: i64,
) -> AppResult<Vec<Related>> {
    let mut out = Vec::new();
    for f in state.caps.iter().filter_map(|cap| cap.related) {
        out.extend(f(state, c, kind, id).await?);
    }
    Ok(out)
}
