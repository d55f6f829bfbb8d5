//! Pages of figures share their shape: a year (`?year=`), a community's own staff or a
//! subdistrict's administrators community by community, and the page's ledger in Excel
//! beside it (`…/stats.xlsx`). A capability says what it counts; the four routes are here.

use std::future::Future;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;

use super::fmt::{YearQuery, year_of};
use super::ui::BlocksPage;
use super::{AppState, PageCtx, PageResult, SignedPage, render};
use crate::auth::guard::{self, CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Whose figures are asked for, as the address names them.
pub enum Over {
    /// `/c/{code}/…`
    Community(String),
    /// `/subdistricts/{id}/…`
    Subdistrict(i64),
}

/// The communities a page of figures covers, its title's place and its address.
pub struct Scope {
    pub place: String,
    pub communities: Vec<CommunityRef>,
    /// The page's address without `.xlsx` or the query (`/c/{code}/directory/stats`).
    pub base: String,
}

/// What the actor may read: a community where they hold `permission`, or every community
/// of a subdistrict they administer (else "not found", as for any page).
pub async fn scope(db: &Db, actor: &Actor, over: Over, permission: Permission, what: &str) -> AppResult<Scope> {
    match over {
        Over::Community(code) => {
            let c = guard::visible_community(db, actor, &code).await?;
            require(actor, c.id, permission)?;
            Ok(Scope { place: c.name.clone(), base: format!("/c/{code}/{what}/stats"), communities: vec![c] })
        }
        Over::Subdistrict(id) => {
            let (place, ids) = guard::subdistrict_communities(db, actor, id).await?;
            let mut communities = Vec::new();
            let mut conn = db.read().await?;
            for id in ids {
                communities.extend(guard::community_by_id(&mut conn, id).await?);
            }
            Ok(Scope { place, communities, base: format!("/subdistricts/{id}/{what}/stats") })
        }
    }
}

/// What a capability counts for its page of figures.
pub trait Figures: 'static {
    /// The address's part: `directory` in `/c/{code}/directory/stats`.
    const WHAT: &'static str;
    /// Who in a community reads them.
    const PERMISSION: Permission;
    /// The page's title (a translation key).
    const TITLE: &'static str;
    /// The ledger's name in Excel (its sheet and its file).
    const LEDGER: &'static str;
    /// The ledger's head (in Chinese, as offices file it).
    const HEAD: &'static [&'static str];
    type Row: Send;

    /// The rows of the communities in scope for the year `from..to` (ms).
    fn read(
        state: &AppState,
        scope: &Scope,
        from: i64,
        to: i64,
    ) -> impl Future<Output = AppResult<Vec<Self::Row>>> + Send;
    /// The page.
    fn view(ctx: PageCtx, title: String, base: &str, year: i32, rows: &[Self::Row]) -> BlocksPage;
    /// The ledger's lines, under `HEAD`.
    fn ledger(rows: &[Self::Row]) -> Vec<Vec<String>>;
}

async fn page<F: Figures>(state: &AppState, ctx: PageCtx, actor: &Actor, over: Over, q: &YearQuery) -> PageResult {
    let scope = scope(&state.db, actor, over, F::PERMISSION, F::WHAT).await?;
    let (year, from, to) = year_of(q)?;
    let rows = F::read(state, &scope, from, to).await?;
    let title = format!("{} · {}", scope.place, ctx.t(F::TITLE));
    render(&F::view(ctx, title, &scope.base, year, &rows))
}

async fn file<F: Figures>(state: &AppState, actor: &Actor, over: Over, q: &YearQuery) -> PageResult {
    let scope = scope(&state.db, actor, over, F::PERMISSION, F::WHAT).await?;
    let (_, from, to) = year_of(q)?;
    let lines = F::ledger(&F::read(state, &scope, from, to).await?);
    let bytes = crate::services::sheets::xlsx_table(F::LEDGER, F::HEAD, &lines).map_err(AppError::from)?;
    Ok(crate::services::sheets::download(&scope.place, F::LEDGER, bytes))
}

async fn community_page<F: Figures>(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    page::<F>(&state, ctx, &actor, Over::Community(code), &q).await
}

async fn community_file<F: Figures>(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    file::<F>(&state, &actor, Over::Community(code), &q).await
}

async fn subdistrict_page<F: Figures>(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    page::<F>(&state, ctx, &actor, Over::Subdistrict(id), &q).await
}

async fn subdistrict_file<F: Figures>(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    file::<F>(&state, &actor, Over::Subdistrict(id), &q).await
}

/// The four routes: `/c/{code}/{what}/stats[.xlsx]` and `/subdistricts/{id}/{what}/stats[.xlsx]`.
pub fn routes<F: Figures>(router: Router<AppState>) -> Router<AppState> {
    let (c, s) = (format!("/c/{{code}}/{}/stats", F::WHAT), format!("/subdistricts/{{id}}/{}/stats", F::WHAT));
    router
        .route(&c, get(community_page::<F>))
        .route(&format!("{c}.xlsx"), get(community_file::<F>))
        .route(&s, get(subdistrict_page::<F>))
        .route(&format!("{s}.xlsx"), get(subdistrict_file::<F>))
}
