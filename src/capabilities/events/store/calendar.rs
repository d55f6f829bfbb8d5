//! What calendars and figures read: the feeds (the community's, a brand's, a station's, and
//! a person's private one behind a revocable token), a person's own sign-ups, and the lines
//! the figures are summed from.

use sha2::{Digest, Sha256};

use super::{SIGNUP, Signup};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::events::feed::Entry;
use crate::capabilities::events::figures::Line;
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::web::AppState;

/// Whose sessions a feed carries.
pub enum FeedOf<'a> {
    Community,
    Brand(&'a str),
    Station(i64),
    /// The sessions a person signed up for (and those called off under them).
    Person(i64),
}

/// The sessions of the community's events (drafts aside) that start after `from`, of one
/// feed; the most a feed carries is 5,000.
pub async fn feed(ex: &mut impl Exec, community_id: i64, from: i64, of: FeedOf<'_>) -> AppResult<Vec<Entry>> {
    let filter = match of {
        FeedOf::Community => "",
        FeedOf::Brand(_) => " AND e.brand = $3",
        FeedOf::Station(_) => " AND s.station_id = $3",
        FeedOf::Person(_) => {
            " AND s.id IN (SELECT u.session_id FROM event_signups u
                 JOIN event_sessions us ON us.community_id = u.community_id AND us.id = u.session_id
               WHERE u.community_id = $1 AND u.user_id = $3 AND (u.status <> 'cancelled' OR us.status = 'cancelled'))"
        }
    };
    let q = query(format!(
        "SELECT s.id AS session_id, s.event_id, e.title, st.name AS station, st.address, s.starts_at, s.ends_at,
           (s.status = 'cancelled' OR e.status = 'cancelled') AS cancelled
         FROM event_sessions s
         JOIN events e ON e.community_id = s.community_id AND e.id = s.event_id
         JOIN stations st ON st.community_id = s.community_id AND st.id = s.station_id
         WHERE s.community_id = $1 AND s.starts_at >= $2 AND e.status <> 'draft'{filter}
         ORDER BY s.starts_at, s.id LIMIT 5000"
    ))
    .bind(community_id)
    .bind(from);
    let q = match of {
        FeedOf::Community => q,
        FeedOf::Brand(b) => q.bind(b.to_string()),
        FeedOf::Station(id) | FeedOf::Person(id) => q.bind(id),
    };
    Ok(q.fetch_all(ex).await?)
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Makes the actor a new private feed address (the old one stops working); answers the
/// token, which is kept only as its digest: it is shown this once.
pub async fn new_feed_token(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<String> {
    let token = crate::services::codes::url_secret();
    let mut tx = state.db.begin().await?;
    revoke(&mut tx, c.id, actor.user_id).await?;
    query("INSERT INTO event_feed_tokens (community_id, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(c.id)
        .bind(digest(&token))
        .bind(actor.user_id)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(token)
}

async fn revoke(tx: &mut crate::db::Tx, community_id: i64, user_id: i64) -> AppResult<u64> {
    Ok(query(
        "UPDATE event_feed_tokens SET revoked_at = $1 WHERE community_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(community_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?)
}

/// Stops the actor's private feed address.
pub async fn revoke_feed_token(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<u64> {
    let mut tx = state.db.begin().await?;
    let n = revoke(&mut tx, c.id, actor.user_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// Whose private feed a token opens: refused naming `token` when it is unknown or revoked.
pub async fn feed_person(ex: &mut impl Exec, community_id: i64, token: &str) -> AppResult<i64> {
    let found: Option<(i64, Option<i64>)> =
        query("SELECT user_id, revoked_at FROM event_feed_tokens WHERE community_id = $1 AND token_hash = $2")
            .bind(community_id)
            .bind(digest(token))
            .fetch_optional(ex)
            .await?;
    match found {
        Some((user, None)) => Ok(user),
        Some((_, Some(_))) => Err(AppError::field("token", "events.feed_revoked")),
        None => Err(AppError::field("token", "events.feed_unknown")),
    }
}

/// The actor's sign-ups in the community (given up ones aside), latest session first.
pub async fn my_signups(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Signup>> {
    Ok(query(format!(
        "{SIGNUP} WHERE u.community_id = $1 AND u.user_id = $2 AND u.status <> 'cancelled'
         ORDER BY s.starts_at DESC, u.id DESC LIMIT 300"
    ))
    .bind(community_id)
    .bind(actor.user_id)
    .fetch_all(ex)
    .await?)
}

/// Which sessions' lines the figures sum.
pub enum Lines {
    /// Those starting in `[from, to)`.
    Between(i64, i64),
    Event(i64),
}

/// The lines the figures sum, of the sessions of published or finished events.
pub async fn figure_lines(ex: &mut impl Exec, community_id: i64, of: Lines) -> AppResult<Vec<Line>> {
    let filter = match of {
        Lines::Between(..) => "s.starts_at >= $2 AND s.starts_at < $3",
        Lines::Event(_) => "s.event_id = $2",
    };
    let q = query(format!(
        "SELECT s.event_id, e.title, e.brand, s.station_id, st.name AS station, s.id AS session_id, s.starts_at,
           s.ends_at, COALESCE(CAST(u.user_id AS TEXT), 'signup-' || CAST(u.id AS TEXT), '') AS person,
           COALESCE(u.role = 'volunteer', FALSE) AS volunteer, COALESCE(u.status = 'seated', FALSE) AS seated,
           u.checked_in_at, u.checked_out_at, COALESCE(u.no_show, FALSE) AS no_show,
           COALESCE(u.promoted, FALSE) AS promoted, u.rating,
           (s.status = 'scheduled' AND e.status <> 'cancelled') AS held
         FROM event_sessions s
         JOIN events e ON e.community_id = s.community_id AND e.id = s.event_id
         JOIN stations st ON st.community_id = s.community_id AND st.id = s.station_id
         LEFT JOIN event_signups u ON u.community_id = s.community_id AND u.session_id = s.id
         WHERE s.community_id = $1 AND {filter} AND e.status IN ('published', 'finished')
         ORDER BY s.starts_at, s.id LIMIT 200000"
    ))
    .bind(community_id);
    let q = match of {
        Lines::Between(from, to) => q.bind(from).bind(to),
        Lines::Event(id) => q.bind(id),
    };
    Ok(q.fetch_all(ex).await?)
}

/// When the actor's private feed address was made, if they have one that works.
pub async fn feed_since(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Option<i64>> {
    Ok(query(
        "SELECT MAX(created_at) FROM event_feed_tokens WHERE community_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(community_id)
    .bind(actor.user_id)
    .scalar::<Option<i64>>(ex)
    .await?)
}
