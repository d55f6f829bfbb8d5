//! Demo data from the seeds: the subdistricts, communities, teams, partner units and party
//! organisations the five reports name, with invented households and residents, and the
//! demo accounts. Loading is idempotent: what is there is reused, nothing duplicated.

mod accounts;
mod city;
pub mod generate;
mod residents;
mod seeds;

pub use accounts::{ACCOUNTS, PASSWORD, actor_named, actor_of, invented_accounts, invented_staff};

use std::time::Instant;

use accounts::accounts;
// `city` calls this as `super::registry`.
use crate::db::query;
use crate::web::AppState;
use residents::{fill_subdistrict, registry};
use seeds::{seeds, subdistrict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// The seed communities, a few hundred residents each.
    Seeds,
    /// Also fill 洲心街道 to full size: 22 communities, about 240,000 residents.
    Subdistrict,
    /// Also a city for benchmarks: 50 more subdistricts of 20 communities, 5,000
    /// residents each (1,000 communities and 5 million residents).
    City,
}

/// What a community's generated registry holds, for later steps (accounts, other
/// capabilities' demo data).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub community_id: i64,
    pub grids: Vec<i64>,
    pub households: Vec<(i64, i64)>,
    pub residents: Vec<i64>,
    pub teams: Vec<i64>,
    pub units: Vec<i64>,
}

/// Loads the demo once. Answers whether anything was written.
pub async fn load(state: &AppState, scale: Scale) -> anyhow::Result<bool> {
    let mut wrote = false;
    let mut conn = state.db.read().await?;
    let present: Option<i64> =
        query("SELECT id FROM subdistricts WHERE code = $1").bind("440804003").scalar_optional(&mut conn).await?;
    drop(conn);
    if present.is_none() {
        let started = Instant::now();
        let mut tx = state.db.begin().await?;
        let mut loaded = Vec::new();
        for (i, s) in seeds().iter().enumerate() {
            loaded.extend(subdistrict(&mut tx, state, s, i as u64).await?);
        }
        tx.commit().await?;
        accounts(state, &loaded).await?;
        crate::capabilities::tickets::demo::load(state).await?;
        crate::capabilities::points::demo::load(state).await?;
        crate::capabilities::fieldwork::demo::load(state).await?;
        crate::capabilities::participation::demo::load(state).await?;
        crate::capabilities::council::demo::load(state).await?;
        crate::capabilities::events::demo::load(state).await?;
        crate::capabilities::money::demo::load(state).await?;
        crate::capabilities::directory::demo::load(state).await?;
        crate::capabilities::warm_stations::demo::load(state).await?;
        crate::capabilities::appointments::demo::load(state).await?;
        crate::capabilities::emergency::demo::load(state).await?;
        crate::capabilities::notices::demo::load(state).await?;
        crate::capabilities::brands::demo::load(state).await?;
        crate::capabilities::points::demo::paper_ledger(state).await?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "demo data loaded");
        wrote = true;
    }
    if scale == Scale::Subdistrict {
        wrote |= fill_subdistrict(state).await?;
    }
    if scale == Scale::City {
        wrote |= city::fill(state, city::Size::CITY).await?;
    }
    Ok(wrote)
}

/// A seed community's id by its code, if it is loaded.
pub async fn community_id(state: &AppState, code: &str) -> anyhow::Result<Option<i64>> {
    Ok(query("SELECT id FROM communities WHERE code = $1")
        .bind(code)
        .scalar_optional(&mut state.db.read().await?)
        .await?)
}
