//! The runtime: what the tickets keep while the server runs, a few seconds' cache of each
//! community's categories and grids (for routing), of community codes and of API keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use geo::Contains;
use serde_json::Value;
use sqlx::types::Json;

use super::category::{Category, categories};
use crate::capabilities::tickets;
use crate::db::{Db, query};
use crate::error::AppResult;

/// A grid as routing needs it.
pub struct GridShape {
    pub id: i64,
    pub name: String,
    pub worker: Option<i64>,
    pub area: Option<geo::MultiPolygon<f64>>,
}

/// What submitting needs of a community, read once and kept for a few seconds.
pub struct Directory {
    pub categories: Vec<Category>,
    pub grids: Vec<GridShape>,
}

impl Directory {
    /// The grid whose polygon holds the point.
    pub fn grid_at(&self, lng: f64, lat: f64) -> Option<&GridShape> {
        let p = geo::Point::new(lng, lat);
        self.grids.iter().find(|g| g.area.as_ref().is_some_and(|a| a.contains(&p)))
    }

    pub fn grid(&self, id: i64) -> Option<&GridShape> {
        self.grids.iter().find(|g| g.id == id)
    }
}

fn to_area(v: &Value) -> Option<geo::MultiPolygon<f64>> {
    let g: geojson::Geometry = serde_json::from_value(v.clone()).ok()?;
    match geo::Geometry::<f64>::try_from(g).ok()? {
        geo::Geometry::Polygon(p) => Some(geo::MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => Some(m),
        _ => None,
    }
}

/// How long a community's directory is trusted (other processes' changes show after this).
const DIRECTORY_TTL: Duration = Duration::from_secs(5);

/// The tickets capability's process-wide parts.
#[derive(Default)]
pub struct Runtime {
    /// Per community: when read, at which record generation, and what.
    directories: Mutex<HashMap<i64, (Instant, u64, Arc<Directory>)>>,
    pub(in crate::capabilities::tickets) submissions:
        tokio::sync::OnceCell<crate::db::group::Committer<tickets::open311::Submissions>>,
    /// Open311 clients name a community by its code and prove themselves by a key on
    /// every request; both are kept for a few seconds.
    communities: Mutex<HashMap<String, (Instant, u64, Option<crate::auth::guard::CommunityRef>)>>,
    keys: Mutex<HashMap<Vec<u8>, (Instant, Option<i64>)>>,
    /// Open311 listings as answered, by query.
    pub(in crate::capabilities::tickets) lists: tickets::open311::Answers,
}

impl Runtime {
    pub async fn directory(&self, db: &Db, community_id: i64) -> AppResult<Arc<Directory>> {
        let generation = crate::services::records::store::GENERATION.load(std::sync::atomic::Ordering::Relaxed);
        if let Some((at, g, d)) = self.directories.lock().expect("lock").get(&community_id)
            && at.elapsed() < DIRECTORY_TTL
            && *g == generation
        {
            return Ok(d.clone());
        }
        let mut conn = db.read().await?;
        let categories = categories(&mut conn, community_id).await?;
        let rows: Vec<(i64, String, Option<i64>, Option<Json<Value>>)> = query(
            "SELECT id, name, worker_user_id, polygon FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY id",
        )
        .bind(community_id)
        .fetch_all(&mut conn)
        .await?;
        let grids = rows
            .into_iter()
            .map(|(id, name, worker, poly)| GridShape { id, name, worker, area: poly.and_then(|p| to_area(&p.0)) })
            .collect();
        let d = Arc::new(Directory { categories, grids });
        self.directories.lock().expect("lock").insert(community_id, (Instant::now(), generation, d.clone()));
        Ok(d)
    }

    /// The community with this code.
    pub async fn community(&self, db: &Db, code: &str) -> AppResult<Option<crate::auth::guard::CommunityRef>> {
        let generation = crate::services::records::store::GENERATION.load(std::sync::atomic::Ordering::Relaxed);
        if let Some((at, g, c)) = self.communities.lock().expect("lock").get(code)
            && at.elapsed() < DIRECTORY_TTL
            && *g == generation
        {
            return Ok(c.clone());
        }
        let mut conn = db.read().await?;
        let c = crate::auth::guard::community_by_code(&mut conn, code).await?;
        self.communities.lock().expect("lock").insert(code.to_string(), (Instant::now(), generation, c.clone()));
        Ok(c)
    }

    /// The community an API key (by its hash) belongs to, if it is valid. A revoked key
    /// stops working within the cache's few seconds.
    pub async fn api_key(&self, db: &Db, hash: Vec<u8>) -> AppResult<Option<i64>> {
        if let Some((at, c)) = self.keys.lock().expect("lock").get(&hash)
            && at.elapsed() < DIRECTORY_TTL
        {
            return Ok(*c);
        }
        let mut conn = db.read().await?;
        let c: Option<i64> = query("SELECT community_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(hash.clone())
            .scalar_optional(&mut conn)
            .await?;
        self.keys.lock().expect("lock").insert(hash, (Instant::now(), c));
        Ok(c)
    }
}
