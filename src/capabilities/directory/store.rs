//! The directory's reads and writes: listings with their provider and location, their
//! hours (kept by `services::hours`), verification, and the staff's list of stale ones.

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::{HOURS_OWNER, Listing, STALE_AFTER_DAYS};
use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::{RewardKind, may_redeem};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
pub use crate::services::hours::store::Change;
use crate::services::hours::{self, Hours};
use crate::web::AppState;

const LISTING: &str = "SELECT l.id, l.name, l.need, l.price, l.price_note, l.eligibility, l.bring, l.languages, \
     l.description, l.provider_id, p.name AS provider, p.kind AS provider_kind, p.phone, l.location_id, \
     s.name AS location, s.address, s.lat, s.lng, l.verified_at, u.display_name AS verified_by, l.created_at, \
     l.appointment_type_id, l.reward_id \
     FROM listings l \
     JOIN providers p ON p.community_id = l.community_id AND p.id = l.provider_id \
     JOIN service_locations s ON s.community_id = l.community_id AND s.id = l.location_id \
     LEFT JOIN users u ON u.id = l.verified_by";

/// Which listings to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// What the public sees: not archived (nor its provider or location) and fresh.
    Public,
    /// Not archived, verified or not.
    Current,
    /// Not archived and not verified for 180 days: staff's list to check.
    Stale,
}

/// What narrows the public's search in the database: one need, and a circle around where
/// the asker stands (latitude, longitude, metres).
#[derive(Debug, Clone, Copy, Default)]
pub struct Narrow<'a> {
    pub need: Option<&'a str>,
    pub within: Option<(f64, f64, f64)>,
}

pub async fn listings(
    ex: &mut impl Exec,
    community_id: i64,
    which: Which,
    now: i64,
    narrow: Narrow<'_>,
) -> AppResult<Vec<Listing>> {
    let mut b = Builder::new(LISTING);
    b.push(" WHERE l.community_id = ").arg(community_id);
    if let Some(need) = narrow.need {
        b.push(" AND l.need = ").arg(need);
    }
    if let Some((lat, lng, metres)) = narrow.within {
        // In degrees of latitude, a degree of longitude shrunk by the latitude's cosine: the
        // box lets the index-free range checks go first, the circle then keeps its inside.
        let (r, k) = (metres / 111_000.0, lat.to_radians().cos().max(0.01));
        b.push(" AND s.lat BETWEEN ").arg(lat - r).push(" AND ").arg(lat + r);
        b.push(" AND s.lng BETWEEN ").arg(lng - r / k).push(" AND ").arg(lng + r / k);
        b.push(" AND (s.lat - ").arg(lat).push(") * (s.lat - ").arg(lat).push(") + (s.lng - ").arg(lng);
        b.push(") * (s.lng - ").arg(lng).push(") * ").arg(k * k).push(" <= ").arg(r * r);
    }
    b.push(" AND l.archived_at IS NULL AND p.archived_at IS NULL AND s.archived_at IS NULL");
    let since = now - STALE_AFTER_DAYS * crate::time::DAY_MS;
    match which {
        Which::Public => b.push(" AND COALESCE(l.verified_at, l.created_at) > ").arg(since),
        Which::Stale => b.push(" AND COALESCE(l.verified_at, l.created_at) <= ").arg(since),
        Which::Current => &mut b,
    };
    b.push(" ORDER BY l.id");
    Ok(b.build().fetch_all(ex).await?)
}

pub async fn listing(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Listing>> {
    let mut b = Builder::new(LISTING);
    b.push(" WHERE l.community_id = ").arg(community_id).push(" AND l.id = ").arg(id);
    b.push(" AND l.archived_at IS NULL");
    Ok(b.build().fetch_optional(ex).await?)
}

/// The hours of the listings (all of a community, or those given), exceptions from today.
pub async fn hours_of(ex: &mut impl Exec, community_id: i64, ids: Option<&[i64]>) -> AppResult<HashMap<i64, Hours>> {
    hours::store::hours_of(ex, community_id, HOURS_OWNER, ids, crate::web::fmt::today()).await
}

/// A listing staff may change: it exists and they run the directory.
async fn for_staff(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Listing> {
    require(actor, c.id, Permission::ManageServices)?;
    listing(&mut state.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)
}

/// Staff change a listing's hours: a weekly rule, a day's exception, or all cleared.
pub async fn change_hours(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, change: Change) -> AppResult<()> {
    for_staff(state, actor, c, id).await?;
    hours::store::change(state, actor, c.id, (HOURS_OWNER, id), change).await
}

/// Staff confirm a listing is still true: it is fresh again for 180 days, with their name.
pub async fn verify(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<()> {
    for_staff(state, actor, c, id).await?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    query("UPDATE listings SET verified_at = $1, verified_by = $2 WHERE community_id = $3 AND id = $4")
        .bind(now)
        .bind(actor.user_id)
        .bind(c.id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let after = json!({"verified_at": now});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "listing", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(())
}

/// How many listings a community has, by need and by freshness.
pub async fn counts(ex: &mut impl Exec, community_id: i64, now: i64) -> AppResult<Vec<(String, i64, i64)>> {
    let since = now - STALE_AFTER_DAYS * crate::time::DAY_MS;
    let rows: Vec<(String, i64, i64)> = query(
        "SELECT need, COUNT(*), SUM(CASE WHEN COALESCE(verified_at, created_at) > $2 THEN 1 ELSE 0 END) \
         FROM listings WHERE community_id = $1 AND archived_at IS NULL GROUP BY need ORDER BY need",
    )
    .bind(community_id)
    .bind(since)
    .fetch_all(ex)
    .await?;
    Ok(rows)
}

/// The points a listing's reward costs while the shop offers it today (in stock, in its
/// dates, not archived).
pub async fn points_price(ex: &mut impl Exec, community_id: i64, reward_id: Option<i64>) -> AppResult<Option<i64>> {
    let Some(id) = reward_id else { return Ok(None) };
    let reward = crate::capabilities::points::store::reward(ex, community_id, id).await?;
    let today = crate::web::fmt::today();
    Ok(reward.filter(|r| may_redeem(&r.offer(), today, 0, i64::MAX).is_ok()).map(|r| r.price))
}

/// A listing's reward is a service given by the listing's own provider (its partner unit,
/// or the community for its own services): what the shop hands over is what is listed.
pub fn listing_rules<'a>(
    tx: &'a mut Tx,
    community_id: Option<i64>,
    _: Option<i64>,
    merged: &'a Map<String, Value>,
) -> BoxFuture<'a, AppResult<Vec<FieldError>>> {
    Box::pin(async move {
        let reward = merged.get("reward_id").and_then(Value::as_i64);
        let provider = merged.get("provider_id").and_then(Value::as_i64);
        let (Some(c), Some(reward), Some(provider)) = (community_id, reward, provider) else {
            return Ok(Vec::new());
        };
        // Either missing is told by the reference check.
        let row: Option<(String, Option<i64>, Option<i64>)> = query(
            "SELECT r.kind, r.provider_unit_id, p.partner_unit_id FROM rewards r \
             JOIN providers p ON p.community_id = r.community_id AND p.id = $3 \
             WHERE r.community_id = $1 AND r.id = $2",
        )
        .bind(c)
        .bind(reward)
        .bind(provider)
        .fetch_optional(tx)
        .await?;
        Ok(match row {
            Some((kind, unit, own)) if kind != RewardKind::Service.as_str() || unit != own => {
                vec![FieldError::new("reward_id", "directory.reward_not_theirs")]
            }
            _ => Vec::new(),
        })
    })
}
