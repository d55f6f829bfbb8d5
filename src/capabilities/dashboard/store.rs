//! Whose figures the viewer asks for, checked where they are read: a subdistrict's
//! communities for its administrators, a community's grids for its staff (a grid worker:
//! their own grids only), and the places' figures from the dictionary.

use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Access, Actor, Permission};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::dictionary::{self, Period, Values};

use super::{Area, Place};

/// A community whose figures the actor may read, and how far.
pub async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<(CommunityRef, Access)> {
    let c = guard::visible_community(&state.db, actor, code).await?;
    let access = actor.access(c.id, Permission::ViewFigures);
    if access.is_none() {
        return Err(AppError::NotFound);
    }
    Ok((c, access))
}

/// A community whose figures the actor may read as a whole (its report, its trend).
pub async fn whole_community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    match community(state, actor, code).await? {
        (c, access) if access.all => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// How many communities are counted at once (SQLite has four readers).
pub const AT_ONCE: usize = 4;

/// `count` for each community, several at once, in their order. Each community is handed
/// over owned: a borrowed one makes the future too general for the compiler to prove it
/// `Send`.
pub async fn each<T, F, Fut>(cs: &[CommunityRef], count: F) -> AppResult<Vec<T>>
where
    F: FnMut(CommunityRef) -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    use futures::stream::{self, StreamExt, TryStreamExt};
    stream::iter(cs.iter().cloned()).map(count).buffered(AT_ONCE).try_collect().await
}

/// Each community's figures of the month, a row each (several counted at once).
pub async fn communities(state: &AppState, cs: &[CommunityRef], p: &Period) -> AppResult<Vec<Place>> {
    each(cs, |c| async move {
        let values = dictionary::community(state, &c, p).await?;
        Ok(Place {
            id: c.id,
            href: Some(format!("/c/{}/dashboard", c.code)),
            area: Area::parse(&c.kind),
            name: c.name,
            values,
        })
    })
    .await
}

/// A community's grids (those the access reaches) with their figures of the month, and
/// the row of what is in no grid (the community's own: funds, pledges) for those who
/// see the whole community; and the community's total.
pub async fn grids(state: &AppState, c: &CommunityRef, access: &Access, p: &Period) -> AppResult<(Vec<Place>, Values)> {
    let mut values = dictionary::by_grid(state, c, p).await?;
    let names: Vec<(i64, String)> = query("SELECT id, name FROM grids WHERE community_id = $1 ORDER BY id")
        .bind(c.id)
        .fetch_all(&mut state.db.read().await?)
        .await?;
    let reaches = |g: i64| access.all || access.grids.contains(&g);
    let mut out: Vec<Place> = names
        .into_iter()
        .filter(|(g, _)| reaches(*g))
        .map(|(id, name)| Place { id, name, href: None, area: None, values: values.remove(&id).unwrap_or_default() })
        .collect();
    if access.all {
        let rest = values.remove(&0).unwrap_or_default();
        out.push(Place {
            id: 0,
            name: crate::i18n::t(crate::i18n::current(), "dashboard.no_grid"),
            href: None,
            area: None,
            values: rest,
        });
    }
    let total = dictionary::total(state, out.iter().map(|p| &p.values));
    Ok((out, total))
}

/// A grid's name (`0`: what is in no grid).
pub async fn grid_name(state: &AppState, c: &CommunityRef, g: i64) -> AppResult<String> {
    if g == 0 {
        return Ok(crate::i18n::t(crate::i18n::current(), "dashboard.no_grid"));
    }
    query("SELECT name FROM grids WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(g)
        .scalar_optional(&mut state.db.read().await?)
        .await?
        .ok_or(AppError::NotFound)
}
